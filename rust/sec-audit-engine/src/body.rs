//! Request bodies: bytes in, (status, scrubbed bounded JSON fragment) out, in one
//! streaming pass (docs/engine.md, `capture_body`). Nothing is built for the parts past
//! the bounds; they are only validated, as `json.loads` would.
//!
//! Where streaming could disagree with the reference (`json.loads` into a `dict`, then
//! the projection), the result is [`BodyOutcome::Fallback`] and the host runs the
//! reference for that body: a repeated key in an object whose content is written, an
//! output key collision (truncated keys, `_truncated`), a lone surrogate escape, an
//! integer with very many digits.

use crate::json_writer::write_float;
use crate::patterns::{HostError, HostPatterns};
use crate::projection::{
    key_flags, past_depth, write_item_overflow, write_overflow_entry, Entry, EntryRule, Frame,
    DEFAULT_SEPARATORS, Q_TRUNCATED,
};
use crate::strings::cp_offset;
use crate::{Engine, MAX_BODY_NESTING, TRUNCATED_KEY};
use memchr::memchr2;
use std::cell::Cell;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyOutcome {
    TooLarge,
    Empty,
    TooDeep,
    InvalidJson,
    UnsupportedShape,
    /// The fragment JSON (pure ASCII, default separators).
    Ok(Vec<u8>),
    /// Run the reference for this body.
    Fallback,
}

impl BodyOutcome {
    pub fn status(&self) -> &'static str {
        match self {
            BodyOutcome::TooLarge => "too_large",
            BodyOutcome::Empty => "empty",
            BodyOutcome::TooDeep => "too_deep",
            BodyOutcome::InvalidJson => "invalid_json",
            BodyOutcome::UnsupportedShape => "unsupported_shape",
            BodyOutcome::Ok(_) => "ok",
            BodyOutcome::Fallback => "fallback",
        }
    }
}

/// Integers with more digits than this go to the reference (CPython refuses more than
/// `sys.get_int_max_str_digits()`, 4300 by default; the reference knows the setting).
const MAX_FAST_INT_DIGITS: usize = 4000;

/// Deepest `[`/`{` nesting outside strings (escapes inside strings respected), stopping
/// early once past `MAX_BODY_NESTING`.
pub fn too_deep(data: &[u8]) -> bool {
    // A plain counter, never clamped (as the reference's pre-scan).
    let mut depth: isize = 0;
    let mut in_str = false;
    let mut i = 0;
    let n = data.len();
    while i < n {
        let b = data[i];
        if in_str {
            match memchr2(b'"', b'\\', &data[i..]) {
                None => return false,
                Some(j) => {
                    i += j;
                    if data[i] == b'\\' {
                        i += 2;
                    } else {
                        in_str = false;
                        i += 1;
                    }
                    continue;
                }
            }
        }
        match b {
            b'"' => in_str = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > MAX_BODY_NESTING as isize {
                    return true;
                }
            }
            b']' | b'}' => depth -= 1,
            _ => {}
        }
        i += 1;
    }
    false
}

enum Stop {
    Invalid,
    /// Nesting past `MAX_BODY_NESTING` (as the pre-scan would have found).
    TooDeep,
    Fallback,
    Host,
}

type R<T> = Result<T, Stop>;

/// Where a decoded string lives: a slice of the input (no escapes) or the scratch.
#[derive(Clone, Copy)]
enum Str {
    Src(usize, usize),
    Scratch,
}

/// No key (end of a chain).
const NONE: usize = usize::MAX;
/// Objects with more keys than this find repeated keys through a hash index.
const LINEAR_KEYS: usize = 16;

#[derive(Default)]
struct Level {
    /// decoded keys of the object being written, for the repeated-key check:
    /// (hash, start, end in `arena`, previous key with the same hash when indexed)
    arena: Vec<u8>,
    keys: Vec<(u64, usize, usize, usize)>,
    /// hash -> last key with that hash (only past `LINEAR_KEYS` keys).
    index: std::collections::HashMap<u64, usize>,
    entries: Vec<Entry>,
}

impl Level {
    fn clear(&mut self) {
        self.arena.clear();
        self.keys.clear();
        self.index.clear();
        self.entries.clear();
    }
}

struct Parser<'a, H: HostPatterns> {
    s: &'a [u8],
    i: usize,
    eng: &'a Engine,
    host: &'a mut H,
    out: Vec<u8>,
    scratch: Vec<u8>,
    levels: Vec<Level>,
    nest: usize,
    /// Open containers (objects and arrays, written or skipped).
    depth: usize,
    keys: KeyMemo,
    /// The skip's last window of the body.
    window: Window,
}

/// A fast hash of a key (8 bytes per step); only used to find equal keys faster.
#[inline]
fn hash_bytes(b: &[u8]) -> u64 {
    const K: u64 = 0x517c_c1b7_2722_0a95;
    let mut h = b.len() as u64;
    let mut chunks = b.chunks_exact(8);
    for c in &mut chunks {
        let w = u64::from_le_bytes(c.try_into().expect("8 bytes"));
        h = (h.rotate_left(5) ^ w).wrapping_mul(K);
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut last = [0u8; 8];
        last[..rest.len()].copy_from_slice(rest);
        h = (h.rotate_left(5) ^ u64::from_le_bytes(last)).wrapping_mul(K);
    }
    h ^ (h >> 29)
}

const MEMO_SLOTS: usize = 64;
/// Past this much memoised key text, a body stops adding keys (it keeps using them).
const MEMO_ARENA: usize = 1 << 14;

#[derive(Clone, Copy, Default)]
struct MemoSlot {
    hash: u64,
    /// `arena[key.0..key.1]` the key, `arena[key.1..out]` its quoted output key.
    key: (u32, u32),
    out: u32,
    /// bit 0: in use, bit 1: cut; `key` its [`key_flags`]
    flags: u8,
    key_flags: u8,
}

/// Key decisions (keys repeat in every object of a list, and an API's bodies repeat
/// their keys from request to request): the output key and whether it is sensitive
/// or cut, all functions of the key and the engine. Bounded by `MEMO_SLOTS` and
/// `MEMO_ARENA`; kept per thread between bodies of one engine (`KEY_MEMO`).
struct KeyMemo {
    slots: [MemoSlot; MEMO_SLOTS],
    arena: Vec<u8>,
}

thread_local! {
    /// This thread's memo and the id of the engine it belongs to (no lock: a body
    /// may be captured without the GIL, on any thread).
    static KEY_MEMO: Cell<Option<(u64, KeyMemo)>> = const { Cell::new(None) };
}

impl KeyMemo {
    fn new() -> Self {
        KeyMemo {
            slots: [MemoSlot::default(); MEMO_SLOTS],
            arena: Vec::new(),
        }
    }

    /// This thread's memo for `eng`, or a new one (another engine's, or one whose
    /// arena is half used: bodies with ever new keys start afresh now and then).
    fn take(eng: &Engine) -> Self {
        match KEY_MEMO.with(Cell::take) {
            Some((id, memo)) if id == eng.id && memo.arena.len() <= MEMO_ARENA / 2 => memo,
            _ => KeyMemo::new(),
        }
    }

    /// Keep this memo for the thread's next body of `eng`.
    fn keep(self, eng: &Engine) {
        KEY_MEMO.with(|m| m.set(Some((eng.id, self))));
    }

    /// Write the output key of `key` (hash `h`); returns ([`key_flags`], cut).
    #[inline]
    fn write(&mut self, eng: &Engine, out: &mut Vec<u8>, key: &[u8], h: u64) -> (u8, bool) {
        let slot = &mut self.slots[(h as usize) & (MEMO_SLOTS - 1)];
        if slot.flags & 1 != 0
            && slot.hash == h
            && &self.arena[slot.key.0 as usize..slot.key.1 as usize] == key
        {
            out.extend_from_slice(&self.arena[slot.key.1 as usize..slot.out as usize]);
            return (slot.key_flags, slot.flags & 2 != 0);
        }
        let flags = key_flags(&eng.keys, key);
        let ks = out.len();
        let cut = eng.write_key(out, key);
        if self.arena.len() + key.len() + (out.len() - ks) <= MEMO_ARENA {
            let a = self.arena.len() as u32;
            self.arena.extend_from_slice(key);
            let b = self.arena.len() as u32;
            self.arena.extend_from_slice(&out[ks..]);
            *slot = MemoSlot {
                hash: h,
                key: (a, b),
                out: self.arena.len() as u32,
                flags: 1 | (cut as u8) << 1,
                key_flags: flags,
            };
        }
        (flags, cut)
    }
}

/// Index of the first `"`, `\\` or control character of `s` at or after `i` (or
/// `s.len()`); sets `high` if a byte >= 0x80 comes before it.
#[inline]
fn scan_string(s: &[u8], mut i: usize, high: &mut bool) -> usize {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::*;
        // SAFETY: SSE2 is part of x86_64 (always available); every 16-byte unaligned
        // load reads `s[i..i + 16]`, inside the slice by the loop condition.
        unsafe {
            let quote = _mm_set1_epi8(b'"' as i8);
            let backslash = _mm_set1_epi8(b'\\' as i8);
            let ctl = _mm_set1_epi8(0x1f);
            while i + 16 <= s.len() {
                let v = _mm_loadu_si128(s.as_ptr().add(i) as *const __m128i);
                let stop = _mm_or_si128(
                    _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)),
                    _mm_cmpeq_epi8(_mm_max_epu8(v, ctl), ctl),
                );
                let m = _mm_movemask_epi8(stop) as u32;
                let hi = _mm_movemask_epi8(v) as u32;
                if m != 0 {
                    let k = m.trailing_zeros();
                    *high |= hi & ((1u32 << k) - 1) != 0;
                    return i + k as usize;
                }
                *high |= hi != 0;
                i += 16;
            }
        }
    }
    while i < s.len() {
        let b = s[i];
        if b == b'"' || b == b'\\' || b < 0x20 {
            return i;
        }
        *high |= b >= 0x80;
        i += 1;
    }
    i
}

/// 64 bytes of the body seen at once by the skip: bit k of `stops` is set if byte
/// `base + k` stops a run of plain string text (`"`, `\\`, a control byte, or the end of
/// the body), `high` if one of the 64 bytes is >= 0x80.
#[derive(Clone, Copy)]
struct Window {
    base: usize,
    stops: u64,
    high: bool,
}

impl Window {
    /// No window: `i - base` (wrapping) is >= 64 for every index `i`.
    const NONE: Window = Window {
        base: usize::MAX - 63,
        stops: 0,
        high: false,
    };

    fn at(s: &[u8], base: usize) -> Window {
        let rest = &s[base.min(s.len())..];
        // The tail of the body is padded with NUL, a stop.
        let mut padded = [0u8; 64];
        let block: &[u8; 64] = match rest.first_chunk::<64>() {
            Some(block) => block,
            None => {
                padded[..rest.len()].copy_from_slice(rest);
                &padded
            }
        };
        let (stops, high) = stops64(block);
        Window { base, stops, high }
    }
}

/// (stop bits, any byte >= 0x80) of 64 bytes: see [`Window`].
#[inline]
fn stops64(block: &[u8; 64]) -> (u64, bool) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::*;
        // SAFETY: SSE2 is part of x86_64 (always available); the four 16-byte unaligned
        // loads read `block[16 * k..16 * k + 16]`, k < 4, inside the 64-byte array.
        unsafe {
            let quote = _mm_set1_epi8(b'"' as i8);
            let backslash = _mm_set1_epi8(b'\\' as i8);
            let ctl = _mm_set1_epi8(0x1f);
            let mut stops = 0u64;
            let mut high = 0u32;
            for k in 0..4 {
                let v = _mm_loadu_si128(block.as_ptr().add(16 * k) as *const __m128i);
                let stop = _mm_or_si128(
                    _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)),
                    _mm_cmpeq_epi8(_mm_max_epu8(v, ctl), ctl),
                );
                stops |= (_mm_movemask_epi8(stop) as u32 as u64) << (16 * k);
                high |= _mm_movemask_epi8(v) as u32;
            }
            (stops, high != 0)
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let mut stops = 0u64;
        let mut high = false;
        for (k, &b) in block.iter().enumerate() {
            stops |= u64::from(b == b'"' || b == b'\\' || b < 0x20) << k;
            high |= b >= 0x80;
        }
        (stops, high)
    }
}

/// The end of the number at `i` if it is a plain `-?int(.frac)?` with at most 18
/// integer digits, exactly where [`Parser::number`] would end it; else None (the
/// caller then runs the full rules).
#[inline]
fn plain_number_end(s: &[u8], mut i: usize) -> Option<usize> {
    if s.get(i) == Some(&b'-') {
        i += 1;
    }
    let int_start = i;
    match s.get(i) {
        Some(b'0') => i += 1,
        Some(b'1'..=b'9') => {
            i += 1;
            while let Some(b'0'..=b'9') = s.get(i) {
                i += 1;
            }
            if i - int_start > 18 {
                return None;
            }
        }
        _ => return None,
    }
    if s.get(i) == Some(&b'.') && matches!(s.get(i + 1), Some(b'0'..=b'9')) {
        i += 2;
        while let Some(b'0'..=b'9') = s.get(i) {
            i += 1;
        }
    }
    if let Some(b'e' | b'E') = s.get(i) {
        return None;
    }
    Some(i)
}

/// `float.__repr__` of a plain decimal token (`-?int.frac`, no exponent) with at most
/// 15 significant digits and a magnitude in [1e-4, 1e16), written without parsing:
/// such a decimal is its own shortest round-trip form (DBL_DIG = 15), so the repr is
/// the token without the fraction's trailing zeros (one digit kept). Else false.
fn write_plain_decimal(out: &mut Vec<u8>, tok: &[u8]) -> bool {
    let (neg, t) = match tok.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, tok),
    };
    let Some(dot) = t.iter().position(|&c| c == b'.') else {
        return false;
    };
    let (int, frac) = (&t[..dot], &t[dot + 1..]);
    if !int.iter().all(u8::is_ascii_digit) || !frac.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let frac = &frac[..frac.iter().rposition(|&c| c != b'0').map_or(0, |p| p + 1)];
    // JSON: the integer part has no leading zero unless it is `0`.
    let significant = if int != b"0" {
        int.len() + frac.len()
    } else if frac.is_empty() {
        0
    } else {
        let zeros = frac.iter().take_while(|&&c| c == b'0').count();
        if zeros > 3 {
            return false; // below 1e-4: Python writes an exponent
        }
        frac.len() - zeros
    };
    if significant > 15 {
        return false;
    }
    if neg {
        out.push(b'-');
    }
    out.extend_from_slice(int);
    out.push(b'.');
    if frac.is_empty() {
        out.push(b'0');
    } else {
        out.extend_from_slice(frac);
    }
    true
}

/// The index of the first non-whitespace byte of `s` at or after `i` (or `s.len()`).
#[inline]
fn skip_ws(s: &[u8], mut i: usize) -> usize {
    while let Some(b' ' | b'\t' | b'\n' | b'\r') = s.get(i) {
        i += 1;
    }
    i
}

#[inline]
fn hex_val(b: u8) -> Option<u32> {
    match b {
        b'0'..=b'9' => Some((b - b'0') as u32),
        b'a'..=b'f' => Some((b - b'a' + 10) as u32),
        b'A'..=b'F' => Some((b - b'A' + 10) as u32),
        _ => None,
    }
}

impl<'a, H: HostPatterns> Parser<'a, H> {
    /// A parser at the start of `s`, outside any container.
    fn new(s: &'a [u8], eng: &'a Engine, host: &'a mut H, out: Vec<u8>, keys: KeyMemo) -> Self {
        Parser {
            s,
            i: 0,
            eng,
            host,
            out,
            scratch: Vec::new(),
            levels: Vec::new(),
            nest: 0,
            depth: 0,
            keys,
            window: Window::NONE,
        }
    }

    #[inline]
    fn ws(&mut self) {
        self.i = skip_ws(self.s, self.i);
    }

    #[inline]
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    #[inline]
    fn lit(&mut self, word: &[u8]) -> R<()> {
        if self.s[self.i..].starts_with(word) {
            self.i += word.len();
            Ok(())
        } else {
            Err(Stop::Invalid)
        }
    }

    fn read_hex4(&self, at: usize) -> R<u32> {
        if at + 4 > self.s.len() {
            return Err(Stop::Invalid);
        }
        let mut v = 0;
        for k in 0..4 {
            v = (v << 4) | hex_val(self.s[at + k]).ok_or(Stop::Invalid)?;
        }
        Ok(v)
    }

    /// A string; `self.i` is just past the opening quote. With `decode`, the text is
    /// made available (escapes resolved into the scratch); lone surrogates -> Fallback.
    /// Its raw bytes must be strict UTF-8 (checked here, so the body needs no separate
    /// pass: outside strings any non-ASCII byte is invalid JSON anyway).
    fn string(&mut self, decode: bool) -> R<Str> {
        let start = self.i;
        let s = self.s;
        let mut high = false;
        let mut escaped = false;
        // Start of the raw text not yet copied to the scratch (escaped strings only).
        let mut seg = start;
        let mut j = scan_string(s, start, &mut high);
        loop {
            let b = *s.get(j).ok_or(Stop::Invalid)?;
            if b == b'"' {
                break;
            }
            if b != b'\\' {
                return Err(Stop::Invalid); // a raw control character
            }
            if decode {
                if !escaped {
                    self.scratch.clear();
                }
                self.scratch.extend_from_slice(&s[seg..j]);
            }
            escaped = true;
            let e = *s.get(j + 1).ok_or(Stop::Invalid)?;
            j += 2;
            let c: u8 = match e {
                b'"' => b'"',
                b'\\' => b'\\',
                b'/' => b'/',
                b'b' => 0x08,
                b'f' => 0x0c,
                b'n' => b'\n',
                b'r' => b'\r',
                b't' => b'\t',
                b'u' => {
                    let mut cp = self.read_hex4(j)?;
                    j += 4;
                    if (0xd800..0xdc00).contains(&cp) {
                        // A pair needs `\uDC00-\uDFFF` right after.
                        let mut paired = false;
                        if s.get(j) == Some(&b'\\') && s.get(j + 1) == Some(&b'u') {
                            let lo = self.read_hex4(j + 2)?;
                            if (0xdc00..0xe000).contains(&lo) {
                                cp = 0x10000 + (((cp - 0xd800) << 10) | (lo - 0xdc00));
                                j += 6;
                                paired = true;
                            }
                        }
                        if !paired && decode {
                            return Err(Stop::Fallback);
                        }
                    } else if (0xdc00..0xe000).contains(&cp) && decode {
                        return Err(Stop::Fallback);
                    }
                    if decode {
                        if let Some(ch) = char::from_u32(cp) {
                            let mut buf = [0u8; 4];
                            self.scratch
                                .extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                        }
                    }
                    seg = j;
                    j = scan_string(s, j, &mut high);
                    continue;
                }
                _ => return Err(Stop::Invalid),
            };
            if decode {
                self.scratch.push(c);
            }
            seg = j;
            j = scan_string(s, j, &mut high);
        }
        if high && std::str::from_utf8(&s[start..j]).is_err() {
            return Err(Stop::Invalid);
        }
        self.i = j + 1;
        if !escaped {
            return Ok(Str::Src(start, j));
        }
        if decode {
            self.scratch.extend_from_slice(&s[seg..j]);
        }
        Ok(Str::Scratch)
    }

    /// One more open container; `TooDeep` past `MAX_BODY_NESTING`.
    #[inline]
    fn enter(&mut self) -> R<()> {
        self.depth += 1;
        if self.depth > MAX_BODY_NESTING {
            return Err(Stop::TooDeep);
        }
        Ok(())
    }

    #[inline]
    fn text(&self, st: Str) -> &[u8] {
        match st {
            Str::Src(a, b) => &self.s[a..b],
            Str::Scratch => &self.scratch,
        }
    }

    /// A number token starting at `self.i`; returns (is_float, start, end).
    fn number(&mut self) -> R<(bool, usize, usize)> {
        let s = self.s;
        let start = self.i;
        let mut i = self.i;
        if s.get(i) == Some(&b'-') {
            i += 1;
        }
        match s.get(i) {
            Some(b'0') => i += 1,
            Some(b'1'..=b'9') => {
                while matches!(s.get(i), Some(b'0'..=b'9')) {
                    i += 1;
                }
            }
            _ => return Err(Stop::Invalid),
        }
        let int_end = i;
        let mut float = false;
        if s.get(i) == Some(&b'.') && matches!(s.get(i + 1), Some(b'0'..=b'9')) {
            i += 1;
            while matches!(s.get(i), Some(b'0'..=b'9')) {
                i += 1;
            }
            float = true;
        }
        if matches!(s.get(i), Some(b'e' | b'E')) {
            let mut k = i + 1;
            if matches!(s.get(k), Some(b'+' | b'-')) {
                k += 1;
            }
            if matches!(s.get(k), Some(b'0'..=b'9')) {
                while matches!(s.get(k), Some(b'0'..=b'9')) {
                    k += 1;
                }
                i = k;
                float = true;
            }
        }
        if !float && int_end - start > MAX_FAST_INT_DIGITS {
            return Err(Stop::Fallback);
        }
        self.i = i;
        Ok((float, start, i))
    }

    /// Validate one value without writing anything (what `json.loads` would accept:
    /// the same statuses as [`Self::value`] would stop with, in document order).
    ///
    /// One loop with an explicit stack of open containers rather than recursion: most
    /// of a large body lies past the bounds and only goes through here. Strings without
    /// escapes are scanned in place and their UTF-8 is checked once over the whole span
    /// (UTF-8 validity is local: strings are delimited by ASCII, and outside strings any
    /// byte >= 0x80 is a syntax error anyway); escaped strings and scalars go through
    /// [`Self::string`] and [`Self::scalar`], the one copy of those rules.
    fn skip_value(&mut self) -> R<()> {
        let start = self.i;
        let mut high = false;
        let r = self.skip_span(&mut high);
        // A non-UTF-8 string ahead of where the span stopped is the first error; an
        // `Invalid` stop needs no check (the outcome is the same).
        if high
            && !matches!(r, Err(Stop::Invalid))
            && std::str::from_utf8(&self.s[start..self.i]).is_err()
        {
            return Err(Stop::Invalid);
        }
        r
    }

    /// [`Self::skip_value`] without the UTF-8 check of its escape-free strings (`high`
    /// is set if one holds a byte >= 0x80). On `Fallback`/`TooDeep`, `self.i` is where
    /// the span stopped, past complete strings only.
    #[inline]
    fn skip_span(&mut self, high: &mut bool) -> R<()> {
        let s = self.s;
        let mut i = self.i;
        let base = self.depth;
        let mut depth = base;
        // bit (depth - base - 1): is the container open at that depth an object?
        let mut objects = [0u64; MAX_BODY_NESTING.div_ceil(64)];
        'value: loop {
            // A value starts at `i`.
            match s.get(i) {
                Some(b'"') => i = self.skip_string(i + 1, high)?,
                Some(&open @ (b'{' | b'[')) => {
                    depth += 1;
                    if depth > MAX_BODY_NESTING {
                        self.i = i + 1;
                        return Err(Stop::TooDeep);
                    }
                    let is_obj = open == b'{';
                    let bit = depth - base - 1;
                    if is_obj {
                        objects[bit / 64] |= 1 << (bit % 64);
                    } else {
                        objects[bit / 64] &= !(1 << (bit % 64));
                    }
                    i = skip_ws(s, i + 1);
                    let close = if is_obj { b'}' } else { b']' };
                    if s.get(i) == Some(&close) {
                        i += 1;
                        depth -= 1;
                    } else if is_obj {
                        i = self.skip_key(i, high)?;
                        continue 'value;
                    } else {
                        continue 'value;
                    }
                }
                _ => match plain_number_end(s, i) {
                    Some(end) => i = end,
                    None => {
                        self.i = i;
                        self.scalar(None)?;
                        i = self.i;
                    }
                },
            }
            // After a value, while inside the span: `ws (',' ws | close)`.
            while depth > base {
                let bit = depth - base - 1;
                let is_obj = objects[bit / 64] & (1 << (bit % 64)) != 0;
                self.i = i;
                let closed = self.after_member(if is_obj { b'}' } else { b']' })?;
                i = self.i;
                if !closed {
                    if is_obj {
                        i = self.skip_key(i, high)?;
                    }
                    continue 'value;
                }
                depth -= 1;
            }
            self.i = i;
            return Ok(());
        }
    }

    /// `"key" ws ':' ws` of a skipped object, the key at `i`; returns where its value
    /// starts.
    #[inline(always)]
    fn skip_key(&mut self, i: usize, high: &mut bool) -> R<usize> {
        if self.s.get(i) != Some(&b'"') {
            return Err(Stop::Invalid);
        }
        self.i = self.skip_string(i + 1, high)?;
        self.colon()?;
        Ok(self.i)
    }

    /// A skipped string, `i` just past its opening quote; returns the index past its
    /// closing quote. Escape-free strings are handled here (their UTF-8 left to the
    /// caller through `high`), others by [`Self::string`].
    #[inline(always)]
    fn skip_string(&mut self, i: usize, high: &mut bool) -> R<usize> {
        let j = self.next_stop(i, high);
        if self.s.get(j) == Some(&b'"') {
            return Ok(j + 1);
        }
        self.i = i;
        self.string(false)?;
        Ok(self.i)
    }

    /// The first string stop (see [`Window`]) at or after `i`, through `self.window`.
    #[inline(always)]
    fn next_stop(&mut self, mut i: usize, high: &mut bool) -> usize {
        loop {
            let off = i.wrapping_sub(self.window.base);
            if off >= 64 {
                self.window = Window::at(self.s, i);
                continue;
            }
            *high |= self.window.high;
            let m = self.window.stops >> off;
            if m != 0 {
                return i + m.trailing_zeros() as usize;
            }
            i = self.window.base + 64;
        }
    }

    /// The recursive skip this replaced, kept as the tests' oracle for [`Self::skip_value`].
    #[cfg(test)]
    fn skip_value_oracle(&mut self) -> R<()> {
        match self.peek() {
            Some(b'"') => {
                self.i += 1;
                self.string(false)?;
            }
            Some(b'{') => {
                self.i += 1;
                self.enter()?;
                self.ws();
                if self.peek() == Some(b'}') {
                    self.i += 1;
                } else {
                    loop {
                        if self.peek() != Some(b'"') {
                            return Err(Stop::Invalid);
                        }
                        self.i += 1;
                        self.string(false)?;
                        self.colon()?;
                        self.skip_value_oracle()?;
                        if self.after_member(b'}')? {
                            break;
                        }
                    }
                }
                self.depth -= 1;
            }
            Some(b'[') => {
                self.i += 1;
                self.enter()?;
                self.ws();
                if self.peek() == Some(b']') {
                    self.i += 1;
                } else {
                    loop {
                        self.skip_value_oracle()?;
                        if self.after_member(b']')? {
                            break;
                        }
                    }
                }
                self.depth -= 1;
            }
            _ => {
                self.scalar(None)?;
            }
        }
        Ok(())
    }

    /// `ws ':' ws` after a key.
    #[inline]
    fn colon(&mut self) -> R<()> {
        self.ws();
        if self.peek() != Some(b':') {
            return Err(Stop::Invalid);
        }
        self.i += 1;
        self.ws();
        Ok(())
    }

    /// After a member/item: `ws (',' ws | close)`. Returns true at the close.
    #[inline]
    fn after_member(&mut self, close: u8) -> R<bool> {
        self.ws();
        match self.peek() {
            Some(b',') => {
                self.i += 1;
                self.ws();
                Ok(false)
            }
            Some(c) if c == close => {
                self.i += 1;
                Ok(true)
            }
            _ => Err(Stop::Invalid),
        }
    }

    /// null/true/false/NaN/Infinity/-Infinity/number; writes it when `emit` is set.
    fn scalar(&mut self, emit: Option<()>) -> R<()> {
        let c = self.peek().ok_or(Stop::Invalid)?;
        let text: &[u8] = match c {
            b'n' => {
                self.lit(b"null")?;
                b"null"
            }
            b't' => {
                self.lit(b"true")?;
                b"true"
            }
            b'f' => {
                self.lit(b"false")?;
                b"false"
            }
            b'N' => {
                self.lit(b"NaN")?;
                b"\"nan\""
            }
            b'I' => {
                self.lit(b"Infinity")?;
                b"\"inf\""
            }
            b'-' if self.s.get(self.i + 1) == Some(&b'I') => {
                self.lit(b"-Infinity")?;
                b"\"-inf\""
            }
            b'-' | b'0'..=b'9' => {
                let (float, a, b) = self.number()?;
                if emit.is_some() {
                    let tok = &self.s[a..b];
                    if float && write_plain_decimal(&mut self.out, tok) {
                        // `12.5`-style decimals: already Python's repr.
                    } else if float {
                        // JSON number syntax is a subset of Rust's float syntax.
                        let x: f64 = std::str::from_utf8(tok)
                            .ok()
                            .and_then(|t| t.parse().ok())
                            .ok_or(Stop::Fallback)?;
                        if x.is_finite() {
                            write_float(&mut self.out, x);
                        } else if x > 0.0 {
                            self.out.extend_from_slice(b"\"inf\"");
                        } else {
                            self.out.extend_from_slice(b"\"-inf\"");
                        }
                    } else if tok == b"-0" {
                        self.out.push(b'0');
                    } else {
                        self.out.extend_from_slice(tok);
                    }
                }
                return Ok(());
            }
            _ => return Err(Stop::Invalid),
        };
        if emit.is_some() {
            self.out.extend_from_slice(text);
        }
        Ok(())
    }

    /// Project one value at depth `d` (projection.py `_emit`: the depth rule first).
    fn value(&mut self, d: usize) -> R<()> {
        if past_depth(&self.eng.limits, d) {
            self.out.extend_from_slice(Q_TRUNCATED);
            return self.skip_value();
        }
        match self.peek() {
            Some(b'"') => {
                self.i += 1;
                let st = self.string(true)?;
                let eng = self.eng;
                let (wend, beyond) = cp_offset(self.text(st), eng.window_len());
                // Split borrows: the text lives in `s` or `scratch`, output goes to `out`.
                let text: &[u8] = match st {
                    Str::Src(a, _) => &self.s[a..a + wend],
                    Str::Scratch => &self.scratch[..wend],
                };
                eng.write_string(&mut self.out, text, beyond, true, self.host)
                    .map_err(|HostError| Stop::Host)
            }
            Some(b'{') => {
                self.i += 1;
                self.enter()?;
                self.object(Frame::mapping(&self.eng.limits, d, true, true), false)?;
                self.depth -= 1;
                Ok(())
            }
            Some(b'[') => {
                self.i += 1;
                self.enter()?;
                self.array(Frame::sequence(&self.eng.limits, d, true, true))?;
                self.depth -= 1;
                Ok(())
            }
            _ => self.scalar(Some(())),
        }
    }

    /// An array (`_seq_step`): items up to the cap, the rest only validated.
    fn array(&mut self, mut frame: Frame) -> R<()> {
        self.out.push(b'[');
        self.ws();
        if self.peek() == Some(b']') {
            self.i += 1;
            self.out.push(b']');
            return Ok(());
        }
        let mut open = true;
        loop {
            if open {
                match frame.advance() {
                    Some(first) => {
                        if !first {
                            self.out.extend_from_slice(DEFAULT_SEPARATORS.item);
                        }
                        self.value(frame.item_depth())?;
                    }
                    None => {
                        write_item_overflow(&mut self.out, DEFAULT_SEPARATORS);
                        open = false;
                        self.skip_value()?;
                    }
                }
            } else {
                self.skip_value()?;
            }
            if self.after_member(b']')? {
                break;
            }
        }
        self.out.push(b']');
        Ok(())
    }

    /// Record a decoded key of the object at nesting `lv`; Err(Fallback) if repeated.
    /// Returns the key's hash.
    fn note_key(&mut self, lv: usize, st: Str) -> R<u64> {
        let text: &[u8] = match st {
            Str::Src(a, b) => &self.s[a..b],
            Str::Scratch => &self.scratch,
        };
        let h = hash_bytes(text);
        let level = &mut self.levels[lv];
        let indexed = level.keys.len() >= LINEAR_KEYS;
        let repeated = if !indexed {
            level
                .keys
                .iter()
                .any(|&(kh, a, b, _)| kh == h && &level.arena[a..b] == text)
        } else {
            if level.index.is_empty() {
                for (i, k) in level.keys.iter_mut().enumerate() {
                    k.3 = level.index.insert(k.0, i).unwrap_or(NONE);
                }
            }
            let mut at = level.index.get(&h).copied().unwrap_or(NONE);
            let mut found = false;
            while at != NONE {
                let (kh, a, b, prev) = level.keys[at];
                if kh == h && &level.arena[a..b] == text {
                    found = true;
                    break;
                }
                at = prev;
            }
            found
        };
        if repeated {
            return Err(Stop::Fallback);
        }
        let a = level.arena.len();
        level.arena.extend_from_slice(text);
        let prev = if indexed {
            level.index.insert(h, level.keys.len()).unwrap_or(NONE)
        } else {
            NONE
        };
        level.keys.push((h, a, level.arena.len(), prev));
        Ok(h)
    }

    /// Does the output key just written at `out[ks..ke]` equal an earlier one?
    fn out_key_collides(&self, lv: usize, ks: usize, ke: usize) -> bool {
        let key = &self.out[ks..ke];
        self.levels[lv]
            .entries
            .iter()
            .any(|e| &self.out[e.key_start..e.key_end] == key)
    }

    /// An object (`_map_step`), `self.i` past `{`: entries up to the cap, then the
    /// overflow entry, the rest only validated. Returns the number of entries kept
    /// (after the body allowlist when `top`: the body's own object).
    fn object(&mut self, mut frame: Frame, top: bool) -> R<usize> {
        let lv = self.nest;
        self.nest += 1;
        if self.levels.len() <= lv {
            self.levels.push(Level::default());
        }
        self.levels[lv].clear();
        let eng = self.eng;
        let filter = top && !eng.body_field_allowlist.is_empty();
        self.out.push(b'{');
        self.ws();
        let mut open = true;
        if self.peek() == Some(b'}') {
            self.i += 1;
        } else {
            loop {
                if self.peek() != Some(b'"') {
                    return Err(Stop::Invalid);
                }
                self.i += 1;
                let st = self.string(true)?;
                let h = self.note_key(lv, st)?;
                self.colon()?;
                let skip = !open
                    || (filter
                        && !eng
                            .body_field_allowlist
                            .iter()
                            .any(|k| k.as_slice() == self.text(st)));
                if skip {
                    self.skip_value()?;
                } else if let Some(first) = frame.advance() {
                    if !first {
                        self.out.extend_from_slice(DEFAULT_SEPARATORS.item);
                    }
                    let ks = self.out.len();
                    let key_text: &[u8] = match st {
                        Str::Src(a, b) => &self.s[a..b],
                        Str::Scratch => &self.scratch,
                    };
                    let (flags, cut) = self.keys.write(eng, &mut self.out, key_text, h);
                    let ke = self.out.len();
                    if (cut || key_text == TRUNCATED_KEY.as_bytes())
                        && self.out_key_collides(lv, ks, ke)
                    {
                        return Err(Stop::Fallback);
                    }
                    self.out.extend_from_slice(DEFAULT_SEPARATORS.kv);
                    match frame.entry_rule(&eng.limits, flags) {
                        EntryRule::Marker(marker) => {
                            self.out.extend_from_slice(marker);
                            self.skip_value()?;
                        }
                        EntryRule::Project { depth, .. } => self.value(depth)?,
                    }
                    let ve = self.out.len();
                    self.levels[lv].entries.push(Entry {
                        key_start: ks,
                        key_end: ke,
                        val_end: ve,
                    });
                } else {
                    // `_truncated` is set, the rest is never visited.
                    let e =
                        write_overflow_entry(&mut self.out, DEFAULT_SEPARATORS, frame.index == 0);
                    if self.out_key_collides(lv, e.key_start, e.key_end) {
                        return Err(Stop::Fallback);
                    }
                    open = false;
                    self.skip_value()?;
                }
                if self.after_member(b'}')? {
                    break;
                }
            }
        }
        self.out.push(b'}');
        self.nest -= 1;
        Ok(frame.index + usize::from(!open))
    }
}

impl Engine {
    /// `capture_body` (docs/engine.md). `Err` only when a host pattern raised.
    pub fn capture_body<H: HostPatterns>(
        &self,
        data: &[u8],
        host: &mut H,
    ) -> Result<BodyOutcome, HostError> {
        if data.len() > self.max_body_bytes {
            return Ok(BodyOutcome::TooLarge);
        }
        if data.is_empty() {
            return Ok(BodyOutcome::Empty);
        }
        // `too_deep` comes before `invalid_json`: the pre-scan only runs when the single
        // pass stops early (a body it parsed whole has the nesting it counted).
        let invalid = || {
            if too_deep(data) {
                BodyOutcome::TooDeep
            } else {
                BodyOutcome::InvalidJson
            }
        };
        if data.starts_with(b"\xef\xbb\xbf") {
            return Ok(invalid());
        }
        let out = Vec::with_capacity(data.len().min(1 << 16) + 64);
        let mut p = Parser::new(data, self, host, out, KeyMemo::take(self));
        p.ws();
        let result: R<BodyOutcome> = (|| {
            if p.peek() == Some(b'{') {
                p.i += 1;
                p.enter()?;
                let kept = p.object(Frame::mapping(&self.limits, 1, true, true), true)?;
                p.ws();
                if p.i != p.s.len() {
                    return Err(Stop::Invalid);
                }
                if kept == 0 {
                    return Ok(BodyOutcome::Empty);
                }
                if past_depth(&self.limits, 1) {
                    return Ok(BodyOutcome::Ok(Q_TRUNCATED.to_vec()));
                }
                Ok(BodyOutcome::Ok(std::mem::take(&mut p.out)))
            } else {
                p.skip_value()?;
                p.ws();
                if p.i != p.s.len() {
                    return Err(Stop::Invalid);
                }
                Ok(BodyOutcome::UnsupportedShape)
            }
        })();
        p.keys.keep(self);
        match result {
            Ok(o) => Ok(o),
            Err(Stop::Invalid) => Ok(invalid()),
            Err(Stop::TooDeep) => Ok(BodyOutcome::TooDeep),
            Err(Stop::Fallback) => Ok(BodyOutcome::Fallback),
            // A pattern raised; a body the pre-scan rejects never ran one.
            Err(Stop::Host) if too_deep(data) => Ok(BodyOutcome::TooDeep),
            Err(Stop::Host) => Err(HostError),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{EngineSpec, NoHost};

    fn engine() -> Engine {
        Engine::new(&EngineSpec {
            sensitive_keys: vec!["password".into()],
            detectors: vec!["aws_access_key_id".into()],
            ..EngineSpec::default()
        })
        .unwrap()
    }

    fn run(data: &[u8]) -> BodyOutcome {
        engine().capture_body(data, &mut NoHost).unwrap()
    }

    /// (result, end) of the new skip and of the recursive oracle over `data` from 0,
    /// starting inside `depth` open containers: `Ok(end)` or the stop's name.
    fn skip_both(data: &[u8], depth: usize) -> [Result<usize, &'static str>; 2] {
        thread_local! {
            static ENGINE: &'static Engine = Box::leak(Box::new(engine()));
        }
        let eng: &Engine = ENGINE.with(|e| *e);
        [false, true].map(|oracle| {
            let mut host = NoHost;
            let mut p = Parser::new(data, eng, &mut host, Vec::new(), KeyMemo::new());
            p.depth = depth;
            let r = if oracle {
                p.skip_value_oracle()
            } else {
                p.skip_value()
            };
            match r {
                Ok(()) => {
                    assert_eq!(p.depth, depth);
                    Ok(p.i)
                }
                Err(Stop::Invalid) => Err("invalid"),
                Err(Stop::TooDeep) => Err("too_deep"),
                Err(Stop::Fallback) => Err("fallback"),
                Err(Stop::Host) => Err("host"),
            }
        })
    }

    fn assert_same_skip(data: &[u8]) {
        for depth in [0, 1, 254, 255, 256] {
            let [new, old] = skip_both(data, depth);
            assert_eq!(
                new,
                old,
                "depth {depth}: {:?}",
                String::from_utf8_lossy(data)
            );
        }
    }

    /// A list like the benchmark's line items, with an odd one in the middle.
    fn items(odd: &str) -> Vec<u8> {
        let item = r#"{"sku": "SKU-00042", "qty": 3, "note": "gift wrap please", "price": 12.5}"#;
        let mut v = vec![item; 6];
        v.insert(3, odd);
        format!("[{}]", v.join(", ")).into_bytes()
    }

    const ODD: &[&str] = &[
        r#"{"a": "caf\u00e9 \ud800 \udc00 \"x\" \\ \/ \b\f\n\r\t"}"#,
        "{\"a\": \"Z\u{fc}rich \u{1f600}\"}",
        "{\"a\": \"\\u12\"}",
        "{\"a\": \"\\x\"}",
        "{\"a\": \"\x01\"}",
        "{\"a\": \"tab\there\"}",
        "[NaN, Infinity, -Infinity, -Inf, nan, true, false, null, nul, tru]",
        "[0, -0, 1.5, -1.5e10, 1E+2, 1e-2, 01, 1., .5, -, 1e, 1e+, 0x10, 00]",
        "[123456789012345678, 1234567890123456789, 12345678901234567890.5]",
        "{\"a\" 1}",
        "{\"a\": 1,}",
        "[1,]",
        "[1 2]",
        "{1: 2}",
        "{\"a\": 1 \"b\": 2}",
        "[]",
        "{}",
        "[ ]",
        "{ }",
        " [ {\t\"a\"\r:\n[ ] } ] ",
        "[}",
        "{]",
        "\"unterminated",
    ];

    #[test]
    fn skip_matches_the_oracle_on_odd_items() {
        let big = "9".repeat(MAX_FAST_INT_DIGITS + 1);
        let deep = "[".repeat(MAX_BODY_NESTING + 2) + &"]".repeat(MAX_BODY_NESTING + 2);
        let mut odd: Vec<String> = ODD.iter().map(|s| s.to_string()).collect();
        odd.push(big.clone());
        odd.push(format!("-{big}"));
        odd.push(format!("{big}.5"));
        odd.push(format!("{big}e5"));
        odd.push(deep.clone());
        odd.push(format!("{{\"a\": {deep}}}"));
        odd.push(format!("[\"\u{e9}\", {big}]"));
        odd.push(format!("[\"\u{e9}\", {deep}]"));
        for o in &odd {
            assert_same_skip(o.as_bytes());
            let body = items(o);
            assert_same_skip(&body);
            // Every truncation, and every byte replaced by a few troublemakers.
            for cut in 0..body.len() {
                assert_same_skip(&body[..cut]);
            }
            for at in (0..body.len()).step_by(3) {
                for b in [
                    b'"', b'\\', b'{', b']', b',', 0x01, 0x80, 0xc3, 0xff, b'9', b'N',
                ] {
                    let mut d = body.clone();
                    d[at] = b;
                    assert_same_skip(&d);
                }
            }
        }
        // Invalid UTF-8 inside a skipped string, before a later stop of each kind.
        for bad in [
            &b"\xc3("[..],
            b"\xed\xa0\x80",
            b"\xf0\x9f\x98",
            b"\xff",
            b"\xc0\xaf",
        ] {
            for tail in [big.as_bytes(), deep.as_bytes(), b"1", b"x"] {
                let mut d = b"[\"".to_vec();
                d.extend_from_slice(bad);
                d.extend_from_slice(b"\", ");
                d.extend_from_slice(tail);
                d.push(b']');
                assert_same_skip(&d);
            }
        }
    }

    #[test]
    fn skip_long_strings_cross_windows() {
        for n in [0, 1, 15, 16, 17, 62, 63, 64, 65, 127, 128, 129, 200] {
            for fill in ["a", "\u{e9}", "\\n", "\\u00e9"] {
                let s = fill.repeat(n);
                assert_same_skip(format!("[\"{s}\", \"{s}\"]").as_bytes());
                assert_same_skip(format!("\"{s}").as_bytes());
                assert_same_skip(format!("{{\"{s}\": [\"{s}\"]}}").as_bytes());
            }
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig {
            cases: 4096, ..proptest::prelude::ProptestConfig::default()
        })]

        /// Arbitrary sequences of JSON-ish fragments: the new skip stops with the
        /// oracle's status at the oracle's end.
        #[test]
        fn skip_matches_the_oracle(parts in proptest::collection::vec(
            proptest::sample::select(vec![
                "{", "}", "[", "]", ",", ":", " ", "\n", "\"", "\"k\"", "\"v\": ", "\\",
                "\\u", "d83d", "\\ude00", "\\ud800", "0", "1", "-", ".", "5", "e", "E+",
                "12.5", "true", "null", "NaN", "-Infinity", "Infinity", "\u{e9}", "\x01",
                "\u{1f600}",
            ]),
            0..40,
        ), bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..4)) {
            let mut d: Vec<u8> = parts.concat().into_bytes();
            assert_same_skip(&d);
            d.extend_from_slice(&bytes);
            assert_same_skip(&d);
            let mut wrapped = items(&String::from_utf8_lossy(&d));
            assert_same_skip(&wrapped);
            wrapped.truncate(wrapped.len() / 2);
            assert_same_skip(&wrapped);
        }
    }

    #[test]
    fn statuses() {
        assert_eq!(run(b""), BodyOutcome::Empty);
        assert_eq!(run(b"{}"), BodyOutcome::Empty);
        assert_eq!(run(b"[1]"), BodyOutcome::UnsupportedShape);
        assert_eq!(run(b"{\"a\": 1,}"), BodyOutcome::InvalidJson);
        assert_eq!(run(b"\xef\xbb\xbf{}"), BodyOutcome::InvalidJson);
        assert_eq!(run(b"{\"a\": \"\x01\"}"), BodyOutcome::InvalidJson);
        assert_eq!(run(&[b'['; 300]), BodyOutcome::TooDeep);
        assert_eq!(run(b"{\"a\": 1, \"a\": 2}"), BodyOutcome::Fallback);
        assert_eq!(run(b"{\"a\": \"\\ud800\"}"), BodyOutcome::Fallback);
    }

    #[test]
    fn wide_objects_and_late_errors() {
        let keys: Vec<String> = (0..100).map(|i| format!("\"k{i}\": {i}")).collect();
        let wide = format!("{{{}}}", keys.join(", "));
        let eng = Engine::new(&EngineSpec {
            limits: crate::Limits {
                max_mapping_entries: 1000,
                ..crate::Limits::default()
            },
            ..EngineSpec::default()
        })
        .unwrap();
        let run = |d: &[u8]| eng.capture_body(d, &mut NoHost).unwrap();
        assert_eq!(
            run(wide.as_bytes()),
            BodyOutcome::Ok(wide.clone().into_bytes())
        );
        let repeated = format!("{}, \"k3\": 0}}", &wide[..wide.len() - 1]);
        assert_eq!(run(repeated.as_bytes()), BodyOutcome::Fallback);
        let deep = "[".repeat(300) + &"]".repeat(300);
        assert_eq!(
            run(format!("{{\"a\": x, \"b\": {deep}}}").as_bytes()),
            BodyOutcome::TooDeep
        );
        assert_eq!(run(b"{\"a\": \"\xc3(\"}"), BodyOutcome::InvalidJson);
        assert_eq!(run(b"{\"a\": 1} \xff"), BodyOutcome::InvalidJson);
    }

    #[test]
    fn plain_decimals() {
        let f = |t: &str| {
            let mut v = Vec::new();
            write_plain_decimal(&mut v, t.as_bytes()).then(|| String::from_utf8(v).unwrap())
        };
        assert_eq!(f("12.50").as_deref(), Some("12.5"));
        assert_eq!(f("-0.000").as_deref(), Some("-0.0"));
        assert_eq!(f("0.0001").as_deref(), Some("0.0001"));
        assert_eq!(f("0.00001"), None);
        assert_eq!(f("1234567890123456.0"), None);
        assert_eq!(f("123456789012345.0").as_deref(), Some("123456789012345.0"));
        assert_eq!(f("1e5"), None);
        assert_eq!(f("1.5e5"), None);
    }

    #[test]
    fn key_memo_is_per_engine_and_survives_bodies() {
        use crate::Limits;
        // Two engines that decide the same keys differently, used alternately on one
        // thread: each body's output is the one a fresh memo gives.
        let plain = engine();
        let strict = Engine::new(&EngineSpec {
            sensitive_keys: vec!["password".into(), "sku".into()],
            limits: Limits {
                max_string_length: 4,
                ..Limits::default()
            },
            ..EngineSpec::default()
        })
        .unwrap();
        let body = br#"{"sku":"A-1","password":"p","quantity":2,"items":[{"sku":"B-2"}]}"#;
        let fresh = |eng: &Engine| {
            let mut host = NoHost;
            let mut p = Parser::new(body, eng, &mut host, Vec::new(), KeyMemo::new());
            p.i = 1;
            assert!(p
                .object(Frame::mapping(&eng.limits, 1, true, true), true)
                .is_ok());
            p.out
        };
        let (want_plain, want_strict) = (fresh(&plain), fresh(&strict));
        assert_ne!(want_plain, want_strict);
        for _ in 0..3 {
            for (eng, want) in [
                (&plain, &want_plain),
                (&strict, &want_strict),
                (&strict, &want_strict),
            ] {
                let BodyOutcome::Ok(got) = eng.capture_body(body, &mut NoHost).unwrap() else {
                    panic!("not ok")
                };
                assert_eq!(&got, want);
            }
        }
        // Kept between bodies: the thread's memo now belongs to the last engine.
        let kept = KEY_MEMO.with(Cell::take).expect("kept");
        assert_eq!(kept.0, strict.id);
        assert!(!kept.1.arena.is_empty());
    }

    #[test]
    fn scrubs_and_formats() {
        let out = run(b"{\"Password\":\"x\",\"k\":\"AKIAABCDEFGHIJKLMNOP\",\"n\":[-0,1.50,1e400,NaN],\"e\":\"\\u00e9\\ud83d\\ude00\"}");
        let BodyOutcome::Ok(json) = out else {
            panic!("{out:?}")
        };
        assert_eq!(
            String::from_utf8(json).unwrap(),
            r#"{"Password": "[REDACTED]", "k": "[REDACTED]", "n": [0, 1.5, "inf", "nan"], "e": "\u00e9\ud83d\ude00"}"#
        );
    }
}
