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
        r"-----BEGIN (?:[A-Z0-9]+ ){0,3}PRIVATE KEY-----",
        false,
    ),
    (
        "http_credentials",
        r"(?:[Bb]earer|[Bb]asic) [A-Za-z0-9._~+/-]{16,}=*",
        false,
    ),
    ("payment_card", r"[0-9](?:[ -]?[0-9]){12,18}", true),
];

struct Detector {
    re: Regex,
    card: bool,
}

pub struct Detectors {
    list: Vec<Detector>,
    /// The literal prefixes of the chosen non-card detectors (None: no such detector).
    gate: Option<AhoCorasick>,
    card: bool,
}

fn is_alnum(b: u8) -> bool {
    b.is_ascii_alphanumeric()
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
        let mut card_on = false;
        for name in names {
            let (_, src, card) = CATALOGUE
                .iter()
                .find(|(n, _, _)| n == name)
                .ok_or_else(|| format!("unknown secret detector {name:?}"))?;
            list.push(Detector {
                re: Regex::new(&format!("(?-u){src}")).map_err(|e| e.to_string())?,
                card: *card,
            });
            lits.extend_from_slice(literals(name));
            card_on |= *card;
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
        })
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// Every hit (byte spans) in `window`; with `first_only`, stop at the first one.
    /// Returns whether there was any hit.
    pub fn hits(&self, window: &[u8], spans: &mut Vec<(usize, usize)>, first_only: bool) -> bool {
        // Necessary conditions only, so the answer is unchanged: a literal prefix for
        // the token detectors, 13 digits for a card.
        let literal = self.gate.as_ref().is_some_and(|g| g.is_match(window));
        let digits = self.card && window.len() >= CARD_MIN_DIGITS && {
            window.iter().filter(|b| b.is_ascii_digit()).count() >= CARD_MIN_DIGITS
        };
        if !literal && !digits {
            return false;
        }
        let mut any = false;
        for det in &self.list {
            if (det.card && !digits) || (!det.card && !literal) {
                continue;
            }
            let mut pos = 0;
            while pos <= window.len() {
                let m = match det.re.find_at(window, pos) {
                    Some(m) => m,
                    None => break,
                };
                let (s, e) = (m.start(), m.end());
                let left = s == 0 || !is_alnum(window[s - 1]);
                let right = e == window.len() || !is_alnum(window[e]);
                if left && right && (!det.card || valid_card(&window[s..e])) {
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

    fn all() -> Detectors {
        Detectors::new(
            &CATALOGUE
                .iter()
                .map(|(n, _, _)| n.to_string())
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
