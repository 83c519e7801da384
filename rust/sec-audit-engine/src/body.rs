//! Request bodies: bytes in, (status, scrubbed bounded JSON fragment) out, in one
//! streaming pass (docs/engine.md, `capture_body`). Nothing is built for the parts past
//! the bounds; they are only validated, as `json.loads` would.
//!
//! Where streaming could disagree with the reference (`json.loads` into a `dict`, then
//! the projection), the result is [`BodyOutcome::Fallback`] and the host runs the
//! reference for that body: a repeated key in an object whose content is written, an
//! output key collision (truncated keys, `_truncated`), a lone surrogate escape, an
//! integer with very many digits.

use crate::json_writer::{write_float, write_str};
use crate::patterns::{HostError, HostPatterns};
use crate::projection::Entry;
use crate::strings::cp_offset;
use crate::{Engine, MAX_BODY_NESTING, REDACTED, TRUNCATED, TRUNCATED_KEY};
use memchr::memchr2;

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

#[derive(Default)]
struct Level {
    /// decoded keys of the object being written, for the repeated-key check
    arena: Vec<u8>,
    keys: Vec<(u64, usize, usize)>,
    entries: Vec<Entry>,
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
}

#[inline]
fn hash_bytes(b: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf29ce484222325;
    for &x in b {
        h ^= x as u64;
        h = h.wrapping_mul(0x100000001b3);
    }
    h
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
    #[inline]
    fn ws(&mut self) {
        while self.i < self.s.len() {
            match self.s[self.i] {
                b' ' | b'\t' | b'\n' | b'\r' => self.i += 1,
                _ => break,
            }
        }
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
    fn string(&mut self, decode: bool) -> R<Str> {
        let start = self.i;
        let s = self.s;
        // Fast run up to the first quote or backslash.
        let j = match memchr2(b'"', b'\\', &s[self.i..]) {
            Some(j) => self.i + j,
            None => return Err(Stop::Invalid),
        };
        if s[start..j].iter().any(|&b| b < 0x20) {
            return Err(Stop::Invalid);
        }
        if s[j] == b'"' {
            self.i = j + 1;
            return Ok(Str::Src(start, j));
        }
        // Slow path with escapes.
        if decode {
            self.scratch.clear();
            self.scratch.extend_from_slice(&s[start..j]);
        }
        self.i = j;
        loop {
            let b = match s.get(self.i) {
                Some(&b) => b,
                None => return Err(Stop::Invalid),
            };
            match b {
                b'"' => {
                    self.i += 1;
                    return Ok(Str::Scratch);
                }
                b'\\' => {
                    let e = *s.get(self.i + 1).ok_or(Stop::Invalid)?;
                    self.i += 2;
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
                            let mut cp = self.read_hex4(self.i)?;
                            self.i += 4;
                            if (0xd800..0xdc00).contains(&cp) {
                                // A pair needs `\uDC00-\uDFFF` right after.
                                let mut paired = false;
                                if s.get(self.i) == Some(&b'\\') && s.get(self.i + 1) == Some(&b'u')
                                {
                                    let lo = self.read_hex4(self.i + 2)?;
                                    if (0xdc00..0xe000).contains(&lo) {
                                        cp = 0x10000 + (((cp - 0xd800) << 10) | (lo - 0xdc00));
                                        self.i += 6;
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
                            continue;
                        }
                        _ => return Err(Stop::Invalid),
                    };
                    if decode {
                        self.scratch.push(c);
                    }
                }
                _ => {
                    let j = match memchr2(b'"', b'\\', &s[self.i..]) {
                        Some(j) => self.i + j,
                        None => return Err(Stop::Invalid),
                    };
                    if s[self.i..j].iter().any(|&b| b < 0x20) {
                        return Err(Stop::Invalid);
                    }
                    if decode {
                        self.scratch.extend_from_slice(&s[self.i..j]);
                    }
                    self.i = j;
                }
            }
        }
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

    /// Validate one value without writing anything.
    fn skip_value(&mut self) -> R<()> {
        match self.peek() {
            Some(b'"') => {
                self.i += 1;
                self.string(false)?;
            }
            Some(b'{') => {
                self.i += 1;
                self.ws();
                if self.peek() == Some(b'}') {
                    self.i += 1;
                    return Ok(());
                }
                loop {
                    if self.peek() != Some(b'"') {
                        return Err(Stop::Invalid);
                    }
                    self.i += 1;
                    self.string(false)?;
                    self.colon()?;
                    self.skip_value()?;
                    if self.after_member(b'}')? {
                        return Ok(());
                    }
                }
            }
            Some(b'[') => {
                self.i += 1;
                self.ws();
                if self.peek() == Some(b']') {
                    self.i += 1;
                    return Ok(());
                }
                loop {
                    self.skip_value()?;
                    if self.after_member(b']')? {
                        return Ok(());
                    }
                }
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
                    if float {
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

    #[inline]
    fn truncated_marker(&mut self) {
        self.out.push(b'"');
        self.out.extend_from_slice(TRUNCATED.as_bytes());
        self.out.push(b'"');
    }

    /// Project one value at depth `d` (docs/engine.md, *Projection of one value*).
    fn value(&mut self, d: usize) -> R<()> {
        if d >= self.eng.limits.max_depth {
            self.truncated_marker();
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
                self.object(d, false).map(|_| ())
            }
            Some(b'[') => {
                self.i += 1;
                self.array(d)
            }
            _ => self.scalar(Some(())),
        }
    }

    fn array(&mut self, d: usize) -> R<()> {
        self.out.push(b'[');
        self.ws();
        if self.peek() == Some(b']') {
            self.i += 1;
            self.out.push(b']');
            return Ok(());
        }
        let cap = self.eng.limits.max_sequence_length;
        let mut n = 0usize;
        loop {
            if n < cap {
                if n > 0 {
                    self.out.extend_from_slice(b", ");
                }
                self.value(d + 1)?;
            } else {
                if n == cap {
                    self.out.extend_from_slice(b", ");
                    self.truncated_marker();
                }
                self.skip_value()?;
            }
            n += 1;
            if self.after_member(b']')? {
                break;
            }
        }
        self.out.push(b']');
        Ok(())
    }

    /// Record a decoded key of the object at nesting `lv`; Err(Fallback) if repeated.
    fn note_key(&mut self, lv: usize, st: Str) -> R<()> {
        let text: &[u8] = match st {
            Str::Src(a, b) => &self.s[a..b],
            Str::Scratch => &self.scratch,
        };
        let h = hash_bytes(text);
        let level = &mut self.levels[lv];
        for &(kh, a, b) in &level.keys {
            if kh == h && &level.arena[a..b] == text {
                return Err(Stop::Fallback);
            }
        }
        let a = level.arena.len();
        level.arena.extend_from_slice(text);
        level.keys.push((h, a, level.arena.len()));
        Ok(())
    }

    /// Does the output key just written at `out[ks..ke]` equal an earlier one?
    fn out_key_collides(&self, lv: usize, ks: usize, ke: usize) -> bool {
        let key = &self.out[ks..ke];
        self.levels[lv]
            .entries
            .iter()
            .any(|e| &self.out[e.key_start..e.key_end] == key)
    }

    /// An object at depth `d` (d < max_depth); `self.i` is past `{`. Returns the number
    /// of entries kept (after the body allowlist when `top`).
    fn object(&mut self, d: usize, top: bool) -> R<usize> {
        let lv = self.nest;
        self.nest += 1;
        if self.levels.len() <= lv {
            self.levels.push(Level::default());
        }
        {
            let level = &mut self.levels[lv];
            level.arena.clear();
            level.keys.clear();
            level.entries.clear();
        }
        let eng = self.eng;
        let cap = eng.limits.max_mapping_entries;
        let filter = top && !eng.body_field_allowlist.is_empty();
        self.out.push(b'{');
        self.ws();
        let mut kept = 0usize;
        let mut stopped = false;
        if self.peek() == Some(b'}') {
            self.i += 1;
        } else {
            loop {
                if self.peek() != Some(b'"') {
                    return Err(Stop::Invalid);
                }
                self.i += 1;
                let st = self.string(true)?;
                self.note_key(lv, st)?;
                self.colon()?;
                let skip = stopped
                    || (filter
                        && !eng
                            .body_field_allowlist
                            .iter()
                            .any(|k| k.as_slice() == self.text(st)));
                if skip {
                    self.skip_value()?;
                } else if kept == cap {
                    // `_truncated` is set, the rest is never visited.
                    if kept > 0 {
                        self.out.extend_from_slice(b", ");
                    }
                    let ks = self.out.len();
                    write_str(&mut self.out, TRUNCATED_KEY.as_bytes());
                    let ke = self.out.len();
                    if self.out_key_collides(lv, ks, ke) {
                        return Err(Stop::Fallback);
                    }
                    self.out.extend_from_slice(b": ");
                    self.truncated_marker();
                    stopped = true;
                    kept += 1;
                    self.skip_value()?;
                } else {
                    if kept > 0 {
                        self.out.extend_from_slice(b", ");
                    }
                    let ks = self.out.len();
                    let key_text: &[u8] = match st {
                        Str::Src(a, b) => &self.s[a..b],
                        Str::Scratch => &self.scratch,
                    };
                    let sensitive = eng.keys.is_sensitive(key_text);
                    let cut = eng.write_key(&mut self.out, key_text);
                    let ke = self.out.len();
                    if (cut || key_text == TRUNCATED_KEY.as_bytes())
                        && self.out_key_collides(lv, ks, ke)
                    {
                        return Err(Stop::Fallback);
                    }
                    self.out.extend_from_slice(b": ");
                    if sensitive {
                        self.redacted_marker(d + 1);
                        self.skip_value()?;
                    } else {
                        self.value(d + 1)?;
                    }
                    let ve = self.out.len();
                    self.levels[lv].entries.push(Entry {
                        key_start: ks,
                        key_end: ke,
                        val_end: ve,
                    });
                    kept += 1;
                }
                if self.after_member(b'}')? {
                    break;
                }
            }
        }
        self.out.push(b'}');
        self.nest -= 1;
        Ok(kept)
    }

    /// The key-redaction marker, projected at depth `d`.
    fn redacted_marker(&mut self, d: usize) {
        if d >= self.eng.limits.max_depth {
            self.truncated_marker();
        } else {
            self.out.push(b'"');
            self.out.extend_from_slice(REDACTED.as_bytes());
            self.out.push(b'"');
        }
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
        if too_deep(data) {
            return Ok(BodyOutcome::TooDeep);
        }
        if std::str::from_utf8(data).is_err() || data.starts_with(b"\xef\xbb\xbf") {
            return Ok(BodyOutcome::InvalidJson);
        }
        let mut p = Parser {
            s: data,
            i: 0,
            eng: self,
            host,
            out: Vec::with_capacity(data.len().min(1 << 16) + 64),
            scratch: Vec::new(),
            levels: Vec::new(),
            nest: 0,
        };
        p.ws();
        let result: R<BodyOutcome> = (|| {
            if p.peek() == Some(b'{') {
                p.i += 1;
                let kept = p.object(1, true)?;
                p.ws();
                if p.i != p.s.len() {
                    return Err(Stop::Invalid);
                }
                if kept == 0 {
                    return Ok(BodyOutcome::Empty);
                }
                if 1 >= self.limits.max_depth {
                    return Ok(BodyOutcome::Ok(format!("\"{TRUNCATED}\"").into_bytes()));
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
        match result {
            Ok(o) => Ok(o),
            Err(Stop::Invalid) => Ok(BodyOutcome::InvalidJson),
            Err(Stop::Fallback) => Ok(BodyOutcome::Fallback),
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
