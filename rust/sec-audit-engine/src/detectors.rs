//! Secret detectors: the catalogue of docs/engine.md (*Detectors*), ASCII-only regexes
//! run as byte regexes, so they are exact on any text (non-ASCII bytes never match an
//! ASCII class and are never `[A-Za-z0-9]` for the boundary checks).

use aho_corasick::AhoCorasick;
use regex::bytes::Regex;

/// The literals every match of a (non-card) detector contains at its start: a text
/// with none of them cannot hit, so one Aho-Corasick pass gates the regexes.
fn literals(name: &str) -> &'static [&'static str] {
    match name {
        "aws_access_key_id" => &["AKIA", "ASIA", "ABIA", "ACCA"],
        "github_token" => &["ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"],
        "gitlab_token" => &["glpat-"],
        "slack_token" => &["xoxa-", "xoxb-", "xoxp-", "xoxo-", "xoxs-", "xoxr-"],
        "stripe_key" => &["sk_live_", "sk_test_", "rk_live_", "rk_test_"],
        "google_api_key" => &["AIza"],
        "jwt" => &["eyJ"],
        "private_key_block" => &["-----BEGIN "],
        "http_credentials" => &["Bearer ", "bearer ", "Basic ", "basic "],
        _ => &[],
    }
}

/// A payment-card match holds at least this many ASCII digits.
const CARD_MIN_DIGITS: usize = 13;

/// The most digits in one chain of digits joined by single `[ -]` separators: every
/// payment-card match is such a chain of 13-19 digits, so below 13 the card regex
/// cannot match (most texts with many digits - versions, dates, addresses - fail here).
fn card_chain(w: &[u8]) -> usize {
    let (mut best, mut run) = (0usize, 0usize);
    let mut after_digit = false;
    let mut after_sep = false;
    for &b in w {
        if b.is_ascii_digit() {
            run = if after_digit || after_sep { run + 1 } else { 1 };
            best = best.max(run);
            after_digit = true;
            after_sep = false;
        } else if (b == b' ' || b == b'-') && after_digit {
            after_digit = false;
            after_sep = true;
        } else {
            after_digit = false;
            after_sep = false;
        }
    }
    best
}

/// Bit masks of 16 bytes (bit i = byte i): `[A-Za-z0-9_-]`, digits, `[0-9 -]`, `-`,
/// ` `, and `[rc]` (the last letter of `bearer`/`basic`).
#[derive(Clone, Copy, Default)]
struct Masks16 {
    token: u16,
    digit: u16,
    card: u16,
    dash: u16,
    space: u16,
    rc: u16,
}

impl Masks16 {
    fn shifted(self, k: usize) -> Masks16 {
        Masks16 {
            token: self.token >> k,
            digit: self.digit >> k,
            card: self.card >> k,
            dash: self.dash >> k,
            space: self.space >> k,
            rc: self.rc >> k,
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn masks16(chunk: &[u8; 16]) -> Masks16 {
    use std::arch::x86_64::*;
    // SAFETY: SSE2 is part of x86_64 (always available); the one unaligned load reads
    // exactly the 16 bytes of `chunk`, a `&[u8; 16]`.
    unsafe {
        let v = _mm_loadu_si128(chunk.as_ptr() as *const __m128i);
        // `x in [lo, lo + n)` as one signed compare after shifting lo to -128.
        let in_range = |x: __m128i, lo: u8, n: u8| {
            let shifted = _mm_add_epi8(x, _mm_set1_epi8((128u8.wrapping_sub(lo)) as i8));
            _mm_cmplt_epi8(shifted, _mm_set1_epi8((128u8.wrapping_add(n)) as i8))
        };
        let letter = in_range(_mm_or_si128(v, _mm_set1_epi8(0x20)), b'a', 26);
        let digit = in_range(v, b'0', 10);
        let dash = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'-' as i8));
        let under = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'_' as i8));
        let space = _mm_cmpeq_epi8(v, _mm_set1_epi8(b' ' as i8));
        let token = _mm_or_si128(_mm_or_si128(letter, digit), _mm_or_si128(dash, under));
        let card = _mm_or_si128(digit, _mm_or_si128(dash, space));
        let rc = _mm_or_si128(
            _mm_cmpeq_epi8(v, _mm_set1_epi8(b'r' as i8)),
            _mm_cmpeq_epi8(v, _mm_set1_epi8(b'c' as i8)),
        );
        Masks16 {
            token: _mm_movemask_epi8(token) as u16,
            digit: _mm_movemask_epi8(digit) as u16,
            card: _mm_movemask_epi8(card) as u16,
            dash: _mm_movemask_epi8(dash) as u16,
            space: _mm_movemask_epi8(space) as u16,
            rc: _mm_movemask_epi8(rc) as u16,
        }
    }
}

/// The masks of up to 16 bytes, one byte at a time (targets without SSE2).
#[cfg(not(target_arch = "x86_64"))]
fn masks_scalar(chunk: &[u8]) -> Masks16 {
    let mut m = Masks16::default();
    for (i, &b) in chunk.iter().enumerate().take(16) {
        let bit = 1u16 << i;
        let digit = b.is_ascii_digit();
        if b.is_ascii_alphanumeric() || b == b'_' || b == b'-' {
            m.token |= bit;
        }
        if digit {
            m.digit |= bit;
        }
        if digit || b == b' ' || b == b'-' {
            m.card |= bit;
        }
        if b == b'-' {
            m.dash |= bit;
        }
        if b == b' ' {
            m.space |= bit;
        }
        if b == b'r' || b == b'c' {
            m.rc |= bit;
        }
    }
    m
}

#[cfg(not(target_arch = "x86_64"))]
#[inline(always)]
fn masks16(chunk: &[u8; 16]) -> Masks16 {
    masks_scalar(chunk)
}

/// Does `m` (continuing a run of `carry` set bits) hold a run of at least `k` set bits?
/// Updates `carry` to the run still open at the top of `m`.
#[inline(always)]
fn run_at_least(m: u64, k: usize, carry: &mut usize) -> bool {
    let mut hit = *carry + m.trailing_ones() as usize >= k;
    // A run of k inside `m` needs k set bits (most short texts stop here).
    if !hit && k <= 64 && m.count_ones() as usize >= k {
        // Bit i of r: bits i..i+n are all set (n doubles up to k).
        let (mut r, mut n) = (m, 1usize);
        while n < k {
            let s = n.min(k - n);
            r &= r >> s;
            n += s;
        }
        hit = r != 0;
    }
    *carry = if m == u64::MAX {
        *carry + 64
    } else {
        m.leading_ones() as usize
    };
    hit
}

/// What the mask pass found in a window (each a necessary condition of some detector).
#[derive(Default)]
struct Found {
    /// A run of `[A-Za-z0-9_-]` at least the shortest token detector's.
    token: bool,
    /// Such a run at least the shortest an extra detector's match holds.
    extra_run: bool,
    /// `-----` (the private-key header).
    dashes: bool,
    digits: usize,
    /// A run of `[0-9 -]` at least 13 long (a card chain is one).
    card_run: bool,
    /// A space right after `r` or `c` (`bearer `, `basic `).
    rc_space: bool,
}

fn measure(w: &[u8], token_min: usize, extra_run: usize) -> Found {
    let mut f = Found::default();
    let (mut c_token, mut c_dash, mut c_card, mut c_extra) = (0usize, 0usize, 0usize, 0usize);
    // 64-bit masks of up to four 16-byte chunks at a time.
    let (mut token, mut digit, mut card, mut dash) = (0u64, 0u64, 0u64, 0u64);
    let (mut space, mut rc, mut rc_carry) = (0u64, 0u64, 0u64);
    let chunks = w.len().div_ceil(16);
    for j in 0..chunks {
        let m = match w.get(j * 16..j * 16 + 16) {
            Some(c) => masks16(c.try_into().expect("16 bytes")),
            None if w.len() >= 16 => {
                // The last 16 bytes, shifted so that bit 0 is byte `j * 16` (the bytes
                // before it were counted with the previous chunk).
                let n = w.len();
                masks16(w[n - 16..].try_into().expect("16 bytes")).shifted(j * 16 + 16 - n)
            }
            None => {
                // Shorter than 16 bytes: zero padding is in no class.
                let mut padded = [0u8; 16];
                padded[..w.len()].copy_from_slice(w);
                masks16(&padded)
            }
        };
        let at = (j % 4) * 16;
        token |= (m.token as u64) << at;
        digit |= (m.digit as u64) << at;
        card |= (m.card as u64) << at;
        dash |= (m.dash as u64) << at;
        space |= (m.space as u64) << at;
        rc |= (m.rc as u64) << at;
        if j % 4 == 3 || j + 1 == chunks {
            f.rc_space |= space & (rc << 1 | rc_carry) != 0;
            rc_carry = rc >> 63;
            f.token |= run_at_least(token, token_min, &mut c_token);
            f.extra_run |= run_at_least(token, extra_run, &mut c_extra);
            f.dashes |= run_at_least(dash, 5, &mut c_dash);
            f.card_run |= run_at_least(card, CARD_MIN_DIGITS, &mut c_card);
            f.digits += digit.count_ones() as usize;
            (token, digit, card, dash, space, rc) = (0, 0, 0, 0, 0, 0);
        }
    }
    f
}

/// `earer `, `Basic ` or `basic ` (the http_credentials prefixes, before their space).
fn credential_prefix(w: &[u8]) -> bool {
    memchr::memchr_iter(b' ', w).any(|i| {
        let before = &w[i.saturating_sub(5)..i];
        before == b"earer" || before == b"Basic" || before == b"basic"
    })
}

/// (name, regex, validator is the payment-card check)
pub const CATALOGUE: &[(&str, &str, bool)] = &[
    (
        "aws_access_key_id",
        r"(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}",
        false,
    ),
    (
        "github_token",
        r"(?:gh[pousr]_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9_]{82})",
        false,
    ),
    ("gitlab_token", r"glpat-[A-Za-z0-9_-]{20}", false),
    ("slack_token", r"xox[abposr]-[0-9A-Za-z-]{10,250}", false),
    (
        "stripe_key",
        r"(?:sk|rk)_(?:live|test)_[0-9A-Za-z]{16,247}",
        false,
    ),
    ("google_api_key", r"AIza[0-9A-Za-z_-]{35}", false),
    (
        "jwt",
        r"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{16,}",
        false,
    ),
    (
        "private_key_block",
        concat!(
            r"-----BEGIN (?:[A-Z0-9]+ ){0,3}PRIVATE KEY-----",
            r"(?:[A-Za-z0-9+/= \t\r\n\\:,.-]*?-----END (?:[A-Z0-9]+ ){0,3}PRIVATE KEY-----",
            r"|[A-Za-z0-9+/= \t\r\n\\]*)"
        ),
        false,
    ),
    (
        "http_credentials",
        r"(?:[Bb]earer|[Bb]asic) [A-Za-z0-9._~+/-]{16,}=*",
        false,
    ),
    ("payment_card", r"[0-9](?:[ -]?[0-9]){12,18}", true),
];

/// The detectors added after the first catalogue (docs/security.md), in catalogue
/// order after `payment_card`: (name, regex, validator is the SSN check, only capture
/// group 1 is the secret, the literals one of which every match contains). They are
/// gated by their own Aho-Corasick pass (the SSN by a dash and its length), after the
/// first catalogue's search; spans are sorted and merged by the caller, so the order
/// of the two searches does not change an answer.
pub const EXTRA_CATALOGUE: &[(&str, &str, bool, bool, &[&str])] = &[
    (
        "aws_secret_access_key",
        r"(?:aws|AWS|Aws)_?(?:secret|SECRET|Secret)_?(?:access_?|ACCESS_?|Access_?)?(?:key|KEY|Key)[\x22\x27]?[ \t]*[:=]>?[ \t]*[\x22\x27]?([A-Za-z0-9/+]{40})",
        false,
        true,
        &["secret", "SECRET", "Secret"],
    ),
    (
        "url_password",
        r"[A-Za-z][A-Za-z0-9+.-]{1,30}://[A-Za-z0-9._~%!$&*+,;=-]*:([A-Za-z0-9._~%!$&*+,;=-]+)@[A-Za-z0-9\[][A-Za-z0-9.-]*",
        false,
        true,
        &["://"],
    ),
    (
        "slack_webhook",
        r"hooks\.slack\.com/(?:services/T[A-Z0-9]{8,12}/B[A-Z0-9]{8,12}/[A-Za-z0-9]{24}|workflows/T[A-Z0-9]{8,12}/A[A-Z0-9]{8,12}/[0-9]{17,20}/[A-Za-z0-9]{24})",
        false,
        false,
        &["hooks.slack.com/"],
    ),
    ("us_ssn", r"[0-9]{3}-[0-9]{2}-[0-9]{4}", true, false, &[]),
    (
        "twilio_key",
        r"(?:SK|AC)[0-9a-f]{32}",
        false,
        false,
        &["SK", "AC"],
    ),
    (
        "sendgrid_key",
        r"SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}",
        false,
        false,
        &["SG."],
    ),
    ("mailgun_key", r"key-[0-9a-f]{32}", false, false, &["key-"]),
    ("npm_token", r"npm_[A-Za-z0-9]{36}", false, false, &["npm_"]),
    (
        "pypi_token",
        r"pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,1000}",
        false,
        false,
        &["pypi-AgEIcHlwaS5vcmc"],
    ),
    (
        "docker_hub_token",
        r"dckr_pat_[A-Za-z0-9_-]{27,60}",
        false,
        false,
        &["dckr_pat_"],
    ),
    (
        "openai_key",
        r"sk-(?:(?:proj|svcacct|admin)-[A-Za-z0-9_-]{40,300}|[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20})",
        false,
        false,
        &["sk-"],
    ),
    (
        "anthropic_key",
        r"sk-ant-(?:api|admin)[0-9]{2}-[A-Za-z0-9_-]{80,120}",
        false,
        false,
        &["sk-ant-"],
    ),
    (
        "azure_storage_key",
        r"AccountKey=([A-Za-z0-9+/]{86}==)",
        false,
        true,
        &["AccountKey="],
    ),
    (
        "discord_webhook",
        r"discord(?:app)?\.com/api/webhooks/[0-9]{17,20}/[A-Za-z0-9_-]{60,68}",
        false,
        false,
        &["discord"],
    ),
    (
        "shopify_token",
        r"shp(?:at|ss|ca|pa)_[a-fA-F0-9]{32}",
        false,
        false,
        &["shpat_", "shpss_", "shpca_", "shppa_"],
    ),
    (
        "square_token",
        r"(?:sq0(?:atp|csp)-[A-Za-z0-9_-]{22,43}|EAAA[A-Za-z0-9_-]{60})",
        false,
        false,
        &["sq0atp-", "sq0csp-", "EAAA"],
    ),
    (
        "heroku_key",
        r"HRKU-[A-Za-z0-9_-]{60}",
        false,
        false,
        &["HRKU-"],
    ),
    (
        "vault_token",
        r"hv[sbr]\.[A-Za-z0-9_-]{24,255}",
        false,
        false,
        &["hvs.", "hvb.", "hvr."],
    ),
];

// `Detectors::extra_bits` gives each extra detector one bit of a u64.
const _: () = assert!(EXTRA_CATALOGUE.len() <= 64);

/// The shortest SSN match, `AAA-GG-SSSS`.
const SSN_LEN: usize = 11;

/// A dash between two digits, in a window long enough for `AAA-GG-SSSS`: what every
/// SSN match holds. Route names such as `item-detail` have a dash but no such one.
fn ssn_shape(w: &[u8]) -> bool {
    w.len() >= SSN_LEN
        && memchr::memchr_iter(b'-', w).any(|p| {
            p > 0 && w[p - 1].is_ascii_digit() && w.get(p + 1).is_some_and(u8::is_ascii_digit)
        })
}

/// `AAA-GG-SSSS` outside the never-issued ranges: area 000, 666, 9xx; group 00;
/// serial 0000.
pub fn valid_ssn(m: &[u8]) -> bool {
    let (area, group, serial) = (&m[..3], &m[4..6], &m[7..]);
    area != b"000" && area != b"666" && area[0] != b'9' && group != b"00" && serial != b"0000"
}

struct Detector {
    re: Regex,
    card: bool,
}

struct Extra {
    re: Regex,
    ssn: bool,
    group: bool,
    /// Every match holds a `:` and an `@` ([`ExtraNeed::ColonAt`]).
    at: bool,
    /// The shortest text the regex can match (a shorter window cannot hit).
    min_len: usize,
}

/// The shortest match of `src`, in bytes (regex-syntax's own analysis of the pattern).
fn regex_min_len(src: &str) -> Result<usize, String> {
    let hir = regex_syntax::ParserBuilder::new()
        .utf8(false)
        .build()
        .parse(src)
        .map_err(|e| e.to_string())?;
    Ok(hir.properties().minimum_len().unwrap_or(usize::MAX))
}

/// The next accepted hit of `det` at or after `pos`: (whole match end, secret span).
fn next_extra(det: &Extra, w: &[u8], mut pos: usize) -> Option<(usize, (usize, usize))> {
    while pos <= w.len() {
        let (s, e, span) = if det.group {
            let c = det.re.captures_at(w, pos)?;
            let m = c.get(0).expect("group 0");
            let g = c.get(1).expect("group 1 always takes part");
            (m.start(), m.end(), (g.start(), g.end()))
        } else {
            let m = det.re.find_at(w, pos)?;
            (m.start(), m.end(), (m.start(), m.end()))
        };
        let left = s == 0 || !is_alnum(w[s - 1]);
        let right = e == w.len() || !is_alnum(w[e]);
        if left && right && (!det.ssn || valid_ssn(&w[s..e])) {
            return Some((e, span));
        }
        pos = s + 1;
    }
    None
}

pub struct Detectors {
    list: Vec<Detector>,
    /// The literal prefixes of the chosen non-card detectors (None: no such detector).
    gate: Option<AhoCorasick>,
    card: bool,
    /// The shortest text any chosen detector can match.
    min_len: usize,
    /// The shortest `[A-Za-z0-9_-]` run a chosen token detector's match holds (every
    /// one but `private_key_block` and `http_credentials` is a single such run).
    token_min: usize,
    private_key: bool,
    credentials: bool,
    extra: Vec<Extra>,
    /// The literals of the chosen non-SSN extra detectors, and for each literal the bit
    /// of the detector (its index in `extra`) whose matches contain it: one pass finds
    /// which regexes can hit.
    extra_gate: Option<AhoCorasick>,
    extra_bits: Vec<u64>,
    /// Every chosen extra detector's bit (the literal pass stops once all are seen).
    extra_all: u64,
    /// The shortest text any chosen extra detector can match.
    extra_min: usize,
    /// Before the literal pass ([`extra_need`]): the shortest token run a chosen
    /// extra's match holds; the shortest match of one that needs a `:`/`=`
    /// (`usize::MAX`: none does); whether one needs a `:` and an `@`; whether one has
    /// no such condition (the pass then always runs).
    extra_run: usize,
    extra_separator_min: usize,
    extra_colon_at: bool,
    extra_always: bool,
    ssn: bool,
}

/// The run of `[A-Za-z0-9_-]` every match of a token detector is (or holds).
fn token_run(name: &str) -> Option<usize> {
    match name {
        "aws_access_key_id" => Some(20),
        "github_token" => Some(40),
        "gitlab_token" => Some(26),
        "slack_token" => Some(15),
        "stripe_key" => Some(24),
        "google_api_key" => Some(39),
        // The signature segment, `[A-Za-z0-9_-]{16,}`.
        "jwt" => Some(16),
        _ => None,
    }
}

/// What every match of an extra detector holds besides its literal, checked before
/// the extras' literal pass: most texts have neither, and that pass is the larger cost.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum ExtraNeed {
    /// A run of `[A-Za-z0-9_-]` at least this long (the token's body).
    Run(usize),
    /// A `:` or `=` (`aws_secret_access_key`'s `[:=]`, `azure_storage_key`'s
    /// `AccountKey=`); the literal pass also wants the detector's shortest match.
    Separator,
    /// A `:` and an `@` (`url_password`'s `://` and `@host`): a URL without
    /// credentials, in every HTTP event, never runs its regex.
    ColonAt,
    /// The SSN: its own gate ([`ssn_shape`]: its length, a dash between digits).
    Ssn,
}

/// None: no such condition is known (the literal pass then always runs).
fn extra_need(name: &str) -> Option<ExtraNeed> {
    Some(match name {
        "aws_secret_access_key" | "azure_storage_key" => ExtraNeed::Separator,
        "url_password" => ExtraNeed::ColonAt,
        "us_ssn" => ExtraNeed::Ssn,
        // Both forms end in `[A-Za-z0-9]{24}`.
        "slack_webhook" => ExtraNeed::Run(24),
        "twilio_key" => ExtraNeed::Run(34),
        // Its last segment, `[A-Za-z0-9_-]{43}`.
        "sendgrid_key" => ExtraNeed::Run(43),
        "mailgun_key" => ExtraNeed::Run(36),
        "npm_token" => ExtraNeed::Run(40),
        "pypi_token" => ExtraNeed::Run(70),
        "docker_hub_token" => ExtraNeed::Run(36),
        // `sk-proj-` + 40, or `sk-` + 20 + `T3BlbkFJ` + 20 (51).
        "openai_key" => ExtraNeed::Run(48),
        "anthropic_key" => ExtraNeed::Run(80),
        // The token after the last `/`, `[A-Za-z0-9_-]{60,68}`.
        "discord_webhook" => ExtraNeed::Run(60),
        "shopify_token" => ExtraNeed::Run(38),
        // `sq0atp-` + 22, or `EAAA` + 60.
        "square_token" => ExtraNeed::Run(29),
        "heroku_key" => ExtraNeed::Run(65),
        // After the dot, `[A-Za-z0-9_-]{24,255}`.
        "vault_token" => ExtraNeed::Run(24),
        _ => return None,
    })
}

/// The shortest match of each detector (its regex's minimum width).
fn min_match_len(name: &str) -> usize {
    match name {
        "aws_access_key_id" => 20,
        "github_token" => 40,
        "gitlab_token" => 26,
        "slack_token" => 15,
        "stripe_key" => 24,
        "google_api_key" => 39,
        "jwt" => 40,
        "private_key_block" => 27,
        "http_credentials" => 22,
        _ => CARD_MIN_DIGITS,
    }
}

fn is_alnum(b: u8) -> bool {
    b.is_ascii_alphanumeric()
}

/// Where the hit of candidate `w[s..e]` ends, or None for no hit (detectors.py
/// `_hit_end`): alphanumeric boundaries on both sides; a card candidate that fails is
/// cut back at its separators, longest piece first (`4111111111111111 42` holds a card).
fn hit_end(card: bool, w: &[u8], s: usize, e: usize) -> Option<usize> {
    if s > 0 && is_alnum(w[s - 1]) {
        return None;
    }
    let right = e == w.len() || !is_alnum(w[e]);
    if !card || (right && valid_card(&w[s..e])) {
        return right.then_some(e);
    }
    (s + 1..e)
        .rev()
        .find(|&cut| (w[cut] == b' ' || w[cut] == b'-') && valid_card(&w[s..cut]))
}

/// Luhn + issuer prefix + one separator kind (docs/engine.md `payment_card`).
pub fn valid_card(m: &[u8]) -> bool {
    let mut sep: Option<u8> = None;
    let mut digits: Vec<u8> = Vec::with_capacity(19);
    for &b in m {
        if b == b' ' || b == b'-' {
            match sep {
                None => sep = Some(b),
                Some(s) if s != b => return false,
                _ => {}
            }
        } else {
            digits.push(b - b'0');
        }
    }
    let n = digits.len();
    if !(13..=19).contains(&n) {
        return false;
    }
    let mut sum = 0u32;
    for (i, &d) in digits.iter().rev().enumerate() {
        let mut v = d as u32;
        if i % 2 == 1 {
            v *= 2;
            if v > 9 {
                v -= 9;
            }
        }
        sum += v;
    }
    if !sum.is_multiple_of(10) {
        return false;
    }
    let prefix = |k: usize| -> u32 { digits[..k].iter().fold(0u32, |a, &d| a * 10 + d as u32) };
    if digits[0] == 4 && (n == 13 || n == 16 || n == 19) {
        return true;
    }
    if n == 16 && ((51..=55).contains(&prefix(2)) || (2221..=2720).contains(&prefix(4))) {
        return true;
    }
    if n == 15 && (prefix(2) == 34 || prefix(2) == 37) {
        return true;
    }
    if (16..=19).contains(&n) && (prefix(4) == 6011 || prefix(2) == 65) {
        return true;
    }
    false
}

impl Detectors {
    /// `names` are validated catalogue names (EngineConfig checks them).
    pub fn new(names: &[String]) -> Result<Self, String> {
        let mut list = Vec::new();
        let mut lits: Vec<&str> = Vec::new();
        let mut min_len = usize::MAX;
        let mut card_on = false;
        let mut token_min = usize::MAX;
        let mut extra = Vec::new();
        let mut extra_lits: Vec<&str> = Vec::new();
        let mut extra_bits: Vec<u64> = Vec::new();
        let (mut extra_run, mut extra_separator_min) = (usize::MAX, usize::MAX);
        let (mut extra_colon_at, mut extra_always) = (false, false);
        for name in names {
            if let Some((_, src, ssn, group, l)) = EXTRA_CATALOGUE.iter().find(|d| d.0 == name) {
                let source = format!("(?-u){src}");
                extra_bits.extend(l.iter().map(|_| 1u64 << extra.len()));
                let need = extra_need(name);
                let min_len = regex_min_len(&source)?;
                extra.push(Extra {
                    re: Regex::new(&source).map_err(|e| e.to_string())?,
                    ssn: *ssn,
                    group: *group,
                    at: need == Some(ExtraNeed::ColonAt),
                    min_len,
                });
                extra_lits.extend_from_slice(l);
                match need {
                    Some(ExtraNeed::Run(k)) => extra_run = extra_run.min(k),
                    Some(ExtraNeed::Separator) => {
                        extra_separator_min = extra_separator_min.min(min_len);
                    }
                    Some(ExtraNeed::ColonAt) => extra_colon_at = true,
                    Some(ExtraNeed::Ssn) => {}
                    None => extra_always = true,
                }
                continue;
            }
            let (_, src, card) = CATALOGUE
                .iter()
                .find(|(n, _, _)| n == name)
                .ok_or_else(|| format!("unknown secret detector {name:?}"))?;
            list.push(Detector {
                re: Regex::new(&format!("(?-u){src}")).map_err(|e| e.to_string())?,
                card: *card,
            });
            lits.extend_from_slice(literals(name));
            min_len = min_len.min(min_match_len(name));
            card_on |= *card;
            token_min = token_min.min(token_run(name).unwrap_or(usize::MAX));
        }
        let gate = if lits.is_empty() {
            None
        } else {
            Some(AhoCorasick::new(&lits).map_err(|e| e.to_string())?)
        };
        Ok(Detectors {
            list,
            gate,
            card: card_on,
            min_len,
            token_min,
            private_key: names.iter().any(|n| n == "private_key_block"),
            credentials: names.iter().any(|n| n == "http_credentials"),
            ssn: extra.iter().any(|d| d.ssn),
            extra_min: extra.iter().map(|d| d.min_len).min().unwrap_or(usize::MAX),
            extra_run,
            extra_separator_min,
            extra_colon_at,
            extra_always,
            extra,
            extra_all: extra_bits.iter().fold(0, |a, b| a | b),
            extra_bits,
            extra_gate: if extra_lits.is_empty() {
                None
            } else {
                Some(AhoCorasick::new(&extra_lits).map_err(|e| e.to_string())?)
            },
        })
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty() && self.extra.is_empty()
    }

    /// Every hit (byte spans) in `window`; with `first_only`, stop at the first one.
    /// Returns whether there was any hit.
    pub fn hits(&self, window: &[u8], spans: &mut Vec<(usize, usize)>, first_only: bool) -> bool {
        // Necessary conditions only, so the answer is unchanged: the text is long
        // enough; then one SIMD pass of byte-class masks for both catalogues.
        if window.len() < self.min_len && window.len() < self.extra_min {
            return false; // also when nothing is chosen (both usize::MAX)
        }
        let found = if window.len() >= self.min_len || window.len() >= self.extra_run {
            measure(window, self.token_min, self.extra_run)
        } else {
            Found::default() // too short for any run an extra needs; the first catalogue skipped
        };
        let first =
            window.len() >= self.min_len && self.hits_first(window, &found, spans, first_only);
        if first && first_only {
            return true;
        }
        self.hits_extra(window, &found, spans, first_only) || first
    }

    /// The extra catalogue: its literal gate (a dash for the SSN), then each regex.
    fn hits_extra(
        &self,
        w: &[u8],
        found: &Found,
        spans: &mut Vec<(usize, usize)>,
        first_only: bool,
    ) -> bool {
        if w.len() < self.extra_min {
            return false; // also when no extra detector is chosen (usize::MAX)
        }
        // Necessary conditions only: a detector's regex runs when the window holds one
        // of its literals (short literals such as Twilio's `SK` are common in text) and
        // is at least as long as its shortest match; the SSN needs `ssn_shape`.
        // The literal pass itself only when some extra's `extra_need` holds (for a
        // separator, in a window as long as that extra's shortest match: a URL or a
        // route holds a `:` but is shorter than any `key=<40 characters>`).
        let colon_at = self.extra_colon_at
            && memchr::memchr(b':', w).is_some()
            && memchr::memchr(b'@', w).is_some();
        let mut lit = 0u64;
        let literal_pass = self.extra_always
            || found.extra_run
            || (w.len() >= self.extra_separator_min && memchr::memchr2(b':', b'=', w).is_some())
            || colon_at;
        if let (true, Some(gate)) = (literal_pass, &self.extra_gate) {
            for m in gate.find_overlapping_iter(w) {
                lit |= self.extra_bits[m.pattern().as_usize()];
                if lit == self.extra_all {
                    break;
                }
            }
        }
        let ssn = self.ssn && ssn_shape(w);
        if lit == 0 && !ssn {
            return false;
        }
        let mut any = false;
        for (i, det) in self.extra.iter().enumerate() {
            let runs = if det.ssn { ssn } else { lit & (1 << i) != 0 };
            if !runs || w.len() < det.min_len || (det.at && !colon_at) {
                continue;
            }
            let mut pos = 0;
            while let Some((end, span)) = next_extra(det, w, pos) {
                any = true;
                if first_only {
                    return true;
                }
                spans.push(span);
                pos = end;
            }
        }
        any
    }

    fn hits_first(
        &self,
        window: &[u8],
        found: &Found,
        spans: &mut Vec<(usize, usize)>,
        first_only: bool,
    ) -> bool {
        // A token detector needs its `[A-Za-z0-9_-]` run (or `-----`, or a credentials
        // prefix) and then one of the literal prefixes (one Aho-Corasick pass for all);
        // a card needs 13 digits in a run of `[0-9 -]`, then a real chain of 13 (walked).
        let tokens = found.token || (self.private_key && found.dashes);
        let credentials = self.credentials && found.rc_space;
        let cards = self.card && found.digits >= CARD_MIN_DIGITS && found.card_run;
        if !tokens && !credentials && !cards {
            return false;
        }
        self.search(window, spans, first_only, tokens, credentials, cards)
    }

    /// The exact search, for the texts the gate let through.
    #[inline(never)]
    fn search(
        &self,
        window: &[u8],
        spans: &mut Vec<(usize, usize)>,
        first_only: bool,
        tokens: bool,
        credentials: bool,
        cards: bool,
    ) -> bool {
        let literal = (tokens || (credentials && credential_prefix(window)))
            && self.gate.as_ref().is_some_and(|g| g.is_match(window));
        let card = cards && card_chain(window) >= CARD_MIN_DIGITS;
        if !literal && !card {
            return false;
        }
        let mut any = false;
        for det in &self.list {
            if (det.card && !card) || (!det.card && !literal) {
                continue;
            }
            let mut pos = 0;
            while pos <= window.len() {
                let m = match det.re.find_at(window, pos) {
                    Some(m) => m,
                    None => break,
                };
                let s = m.start();
                if let Some(e) = hit_end(det.card, window, s, m.end()) {
                    any = true;
                    if first_only {
                        return true;
                    }
                    spans.push((s, e));
                    pos = e;
                } else {
                    pos = s + 1;
                }
            }
        }
        any
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether `w` holds a run of `[A-Za-z0-9_-]` at least `k` long (plainly).
    fn has_run(w: &[u8], k: usize) -> bool {
        w.split(|&b| !(b.is_ascii_alphanumeric() || b == b'_' || b == b'-'))
            .any(|run| run.len() >= k)
    }

    #[test]
    fn every_extra_has_a_need() {
        for (name, ..) in EXTRA_CATALOGUE {
            assert!(extra_need(name).is_some(), "{name}: no pre-condition");
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig {
            cases: 512, ..proptest::prelude::ProptestConfig::default()
        })]
        /// Every text an extra detector's regex matches whole (generated from the
        /// regex itself) meets the condition `extra_need` claims for it.
        #[test]
        fn extra_needs_hold_for_generated_matches(
            (i, text) in proptest::strategy::Strategy::prop_flat_map(0..EXTRA_CATALOGUE.len(), |i| {
                let src = format!("(?-u){}", EXTRA_CATALOGUE[i].1);
                (proptest::strategy::Just(i), proptest::string::bytes_regex(&src).expect("generator"))
            })
        ) {
            let (name, src, ..) = EXTRA_CATALOGUE[i];
            let text: Vec<u8> = text;
            let re = Regex::new(&format!("(?-u)^(?:{src})$")).expect("regex");
            proptest::prop_assert!(re.is_match(&text));
            match extra_need(name).expect("listed") {
                ExtraNeed::Run(k) => proptest::prop_assert!(has_run(&text, k), "{name}: {text:?}"),
                ExtraNeed::Separator => proptest::prop_assert!(
                    text.iter().any(|&b| b == b':' || b == b'='), "{name}: {text:?}"
                ),
                ExtraNeed::ColonAt => proptest::prop_assert!(
                    text.contains(&b':') && text.contains(&b'@'), "{name}: {text:?}"
                ),
                ExtraNeed::Ssn => proptest::prop_assert!(ssn_shape(&text), "{name}: {text:?}"),
            }
        }
    }

    fn all() -> Detectors {
        Detectors::new(
            &CATALOGUE
                .iter()
                .map(|(n, _, _)| n.to_string())
                .chain(EXTRA_CATALOGUE.iter().map(|d| d.0.to_string()))
                .collect::<Vec<_>>(),
        )
        .unwrap()
    }

    #[test]
    fn finds_with_boundaries() {
        let d = all();
        let mut s = Vec::new();
        assert!(d.hits(b"key AKIAABCDEFGHIJKLMNOP end", &mut s, false));
        assert_eq!(s, vec![(4, 24)]);
        s.clear();
        assert!(!d.hits(b"xAKIAABCDEFGHIJKLMNOP", &mut s, false));
        assert!(d.hits(b"card 4111 1111 1111 1111.", &mut s, false));
        s.clear();
        assert!(!d.hits(b"card 4111 1111-1111 1111", &mut s, false));
        assert!(!d.hits(b"4111111111111112", &mut s, false));
        s.clear();
        assert!(d.hits(b"x 4111111111111111 42", &mut s, false));
        assert_eq!(s, vec![(2, 18)]);
        s.clear();
        assert!(d.hits(b"paid 4111 1111 1111 1111 42", &mut s, false));
        assert_eq!(s, vec![(5, 24)]);
        s.clear();
        assert!(!d.hits(b"41111111111111112 42", &mut s, false));
    }

    /// The same search with no gate at all: every regex on every window.
    fn hits_ungated(d: &Detectors, w: &[u8]) -> Vec<(usize, usize)> {
        let mut spans = Vec::new();
        for det in &d.list {
            let mut pos = 0;
            while let Some(m) = det.re.find_at(w, pos) {
                let s = m.start();
                if let Some(e) = hit_end(det.card, w, s, m.end()) {
                    spans.push((s, e));
                    pos = e;
                } else {
                    pos = s + 1;
                }
                if pos > w.len() {
                    break;
                }
            }
        }
        for det in &d.extra {
            let mut pos = 0;
            while let Some((end, span)) = next_extra(det, w, pos) {
                spans.push(span);
                pos = end;
            }
        }
        spans
    }

    #[test]
    fn ssn_shape_is_a_dash_between_digits() {
        for yes in [&b"123-45-6789"[..], b"ssn: 078-05-1120.", b"a1-2bcdefghij"] {
            assert!(ssn_shape(yes), "{:?}", String::from_utf8_lossy(yes));
        }
        // Route names, dates too short, a dash at either end or beside a letter.
        for no in [
            &b"item-detail"[..],
            b"order-list-2024",
            b"12-34",
            b"-1234567890",
            b"1234567890-",
        ] {
            assert!(!ssn_shape(no), "{:?}", String::from_utf8_lossy(no));
        }
        let (d, mut s) = (all(), Vec::new());
        assert!(d.hits(b"ssn 123-45-6789 on file", &mut s, false));
        assert!(!d.hits(b"customer-detail", &mut s, false));
    }

    #[test]
    fn extra_length_gate_is_the_shortest_match() {
        let d = all();
        let min = |name: &str| {
            let i = EXTRA_CATALOGUE.iter().position(|e| e.0 == name).unwrap();
            d.extra[i].min_len
        };
        assert_eq!(min("twilio_key"), 34);
        assert_eq!(min("us_ssn"), SSN_LEN);
        assert_eq!(min("mailgun_key"), 36);
        // A literal in a window too short for its detector: no regex runs, no hit.
        let mut s = Vec::new();
        assert!(!d.hits(b"SKU-00000", &mut s, false));
        assert!(d.hits(b"SK0123456789abcdef0123456789abcdef", &mut s, false));
    }

    #[test]
    fn gate_never_changes_an_answer() {
        let pieces: &[&[u8]] = &[
            b"AKIA",
            b"ABCDEFGHIJKLMNOP",
            b"ghp_",
            b"github_pat_",
            b"glpat-",
            b"xoxb-",
            b"sk_live_",
            b"rk_test_",
            b"AIza",
            b"eyJ",
            b".",
            b"-----BEGIN ",
            b"RSA ",
            b"PRIVATE KEY-----",
            b"Bearer ",
            b"basic ",
            b"Basic",
            b" ",
            b"-",
            b"--",
            b"_",
            b"4111",
            b"1111",
            b"0",
            b"9",
            b"37828224631000",
            b"6011",
            b"abcdefgh",
            b"0123456789",
            b"+/=~",
            b"\xc3\xa9",
            b"\n",
            b"x",
            b"QWxhZGRpbjpvcGVuIHNlc2FtZQ==",
            b"://",
            b"postgres",
            b":",
            b"@",
            b"db",
            b"aws_secret_access_key=",
            b"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            b"123-45-6789",
            b"000-12-3456",
            b"SG.",
            b"sk-",
            b"proj-",
            b"hvs.",
            b"AccountKey=",
            b"key-",
            b"0123456789abcdef",
            b"SK",
            b"AC",
            b"EAAA",
            b"sq0atp-",
            b"npm_",
            b"shpat_",
            b"dckr_pat_",
            b"hooks.slack.com/",
            b"discord.com/api/webhooks/",
        ];
        let d = all();
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        let mut hit = 0;
        for _ in 0..20_000 {
            let mut w = Vec::new();
            for _ in 0..next(14) {
                let p = pieces[next(pieces.len())];
                for _ in 0..=next(3) {
                    w.extend_from_slice(p);
                }
            }
            let mut got = Vec::new();
            let any = d.hits(&w, &mut got, false);
            let want = hits_ungated(&d, &w);
            assert_eq!(got, want, "{:?}", String::from_utf8_lossy(&w));
            assert_eq!(any, !want.is_empty());
            assert_eq!(d.hits(&w, &mut Vec::new(), true), any);
            hit += any as usize;
        }
        assert!((1000..19_000).contains(&hit), "{hit}");
    }

    #[test]
    fn card_rules() {
        assert!(valid_card(b"4111111111111111"));
        assert!(valid_card(b"378282246310005"));
        assert!(valid_card(b"6011111111111117"));
        assert!(valid_card(b"5555555555554444"));
        assert!(!valid_card(b"1234567812345670"));
    }
}
