//! Key redaction: `normalise(k)` then "not allowlisted and some denylist entry is a
//! substring" (docs/engine.md, *Keys*).

use crate::json_writer::decode_cp;
use aho_corasick::{AhoCorasick, AhoCorasickKind};
use std::collections::HashSet;

/// The Latin look-alikes of Cyrillic and Greek letters (and the sharp s, which case
/// folding spells `ss`): a small explicit subset of Unicode TR39 confusables, the same
/// table as `_CONFUSABLES` in python/sec_audit/core/engine/python/keys.py.
pub const CONFUSABLES: &[(char, &str)] = &[
    ('ß', "ss"),
    ('ẞ', "ss"),
    // Cyrillic lower case
    ('а', "a"),
    ('в', "b"),
    ('е', "e"),
    ('к', "k"),
    ('м', "m"),
    ('н', "h"),
    ('о', "o"),
    ('р', "p"),
    ('с', "c"),
    ('т', "t"),
    ('у', "y"),
    ('х', "x"),
    ('ѕ', "s"),
    ('і', "i"),
    ('ј', "j"),
    ('ԁ', "d"),
    ('һ', "h"),
    ('ӏ', "l"),
    ('ԛ', "q"),
    ('ԝ', "w"),
    // Cyrillic upper case
    ('А', "a"),
    ('В', "b"),
    ('Е', "e"),
    ('К', "k"),
    ('М', "m"),
    ('Н', "h"),
    ('О', "o"),
    ('Р', "p"),
    ('С', "c"),
    ('Т', "t"),
    ('У', "y"),
    ('Х', "x"),
    ('Ѕ', "s"),
    ('І', "i"),
    ('Ј', "j"),
    ('Ӏ', "l"),
    // Greek lower case
    ('α', "a"),
    ('ι', "i"),
    ('κ', "k"),
    ('ν', "v"),
    ('ο', "o"),
    ('ρ', "p"),
    ('υ', "u"),
    ('χ', "x"),
    ('γ', "y"),
    // Greek upper case
    ('Α', "a"),
    ('Β', "b"),
    ('Ε', "e"),
    ('Ζ', "z"),
    ('Η', "h"),
    ('Ι', "i"),
    ('Κ', "k"),
    ('Μ', "m"),
    ('Ν', "n"),
    ('Ο', "o"),
    ('Ρ', "p"),
    ('Τ', "t"),
    ('Υ', "y"),
    ('Χ', "x"),
];

fn confusable(c: char) -> Option<&'static str> {
    CONFUSABLES.iter().find(|(k, _)| *k == c).map(|(_, v)| *v)
}

/// The key as docs/engine.md (*Keys*) folds it, over WTF-8 text: ASCII letters and
/// digits lower-cased, everything else dropped, except that a non-ASCII code point is
/// first NFKD-decomposed (compatibility forms: fullwidth letters, `ſ`, the Kelvin sign;
/// accents come apart from their letter) and of its decomposition the ASCII letters and
/// digits and the `CONFUSABLES` are kept. Combining marks, invisible and separator
/// characters and every other script vanish. Per code point decomposition equals
/// decomposing the whole text here: every kept character is a starter, so canonical
/// reordering never moves one. Python: `normalise_key`.
pub fn normalise_into(key: &[u8], out: &mut Vec<u8>) {
    use unicode_normalization::char::decompose_compatible;
    out.clear();
    let mut i = 0;
    while i < key.len() {
        let b = key[i];
        if b < 0x80 {
            if b.is_ascii_alphanumeric() {
                out.push(b.to_ascii_lowercase());
            }
            i += 1;
        } else {
            let (cp, len) = decode_cp(key, i);
            if let Some(c) = char::from_u32(cp) {
                decompose_compatible(c, |d| {
                    if d.is_ascii_alphanumeric() {
                        out.push((d as u8).to_ascii_lowercase());
                    } else if let Some(m) = confusable(d) {
                        out.extend_from_slice(m.as_bytes());
                    }
                });
            }
            i += len;
        }
    }
}

const LOWER: i8 = 0;
const UPPER: i8 = 1;
const DIGIT: i8 = 2;

/// The key's tokens (docs/configuration.md, `sensitive_key_sets`): the same algorithm
/// as `key_tokens` in python/sec_audit/core/engine/python/keys.py.
pub fn key_tokens(key: &[u8]) -> Vec<Vec<u8>> {
    use unicode_normalization::char::decompose_compatible;
    let mut chars: Vec<(u8, i8)> = Vec::with_capacity(key.len());
    let push_ascii = |chars: &mut Vec<(u8, i8)>, b: u8| {
        if b.is_ascii_lowercase() {
            chars.push((b, LOWER));
        } else if b.is_ascii_uppercase() {
            chars.push((b.to_ascii_lowercase(), UPPER));
        } else if b.is_ascii_digit() {
            chars.push((b, DIGIT));
        } else {
            chars.push((0, -1));
        }
    };
    let mut i = 0;
    while i < key.len() {
        let b = key[i];
        if b < 0x80 {
            push_ascii(&mut chars, b);
            i += 1;
        } else {
            let (cp, len) = decode_cp(key, i);
            if let Some(c) = char::from_u32(cp) {
                decompose_compatible(c, |d| {
                    if d.is_ascii() {
                        push_ascii(&mut chars, d as u8);
                    } else if let Some(m) = confusable(d) {
                        chars.extend(m.bytes().map(|x| (x, LOWER)));
                    }
                });
            }
            i += len;
        }
    }
    let mut tokens = Vec::new();
    let mut current: Vec<u8> = Vec::new();
    for (i, &(c, kind)) in chars.iter().enumerate() {
        if kind < 0 {
            if !current.is_empty() {
                tokens.push(std::mem::take(&mut current));
            }
            continue;
        }
        if !current.is_empty() {
            let prev = chars[i - 1].1;
            let camel = prev != UPPER || chars.get(i + 1).is_some_and(|n| n.1 == LOWER);
            let split = (kind == UPPER && camel) || ((kind == DIGIT) != (prev == DIGIT));
            if split {
                tokens.push(std::mem::take(&mut current));
            }
        }
        current.push(c);
    }
    if !current.is_empty() {
        tokens.push(current);
    }
    tokens
}

pub struct KeyMatcher {
    deny: Option<AhoCorasick>,
    allow: HashSet<Vec<u8>>,
    tokens: HashSet<Vec<u8>>,
    longest: usize,
}

impl KeyMatcher {
    /// `sensitive` and `allowlist` are already normalised (EngineConfig does it).
    pub fn new(sensitive: &[String], allowlist: &[String]) -> Self {
        let entries: Vec<&str> = sensitive
            .iter()
            .map(String::as_str)
            .filter(|s| !s.is_empty())
            .collect();
        let deny = if entries.is_empty() {
            None
        } else {
            Some(
                AhoCorasick::builder()
                    .kind(Some(AhoCorasickKind::DFA))
                    .prefilter(false)
                    .build(&entries)
                    .expect("aho-corasick over short literals"),
            )
        };
        KeyMatcher {
            deny,
            allow: allowlist.iter().map(|s| s.as_bytes().to_vec()).collect(),
            tokens: HashSet::new(),
            longest: 0,
        }
    }

    /// Adds whole-token entries (normalised, as `sensitive_key_sets` resolves them).
    pub fn with_tokens(mut self, tokens: &[String]) -> Self {
        self.tokens = tokens
            .iter()
            .filter(|t| !t.is_empty())
            .map(|t| t.as_bytes().to_vec())
            .collect();
        self.longest = self.tokens.iter().map(Vec::len).max().unwrap_or(0);
        self
    }

    /// Does a run of consecutive tokens of `key`, joined, equal a token entry?
    fn tokens_match(&self, key: &[u8]) -> bool {
        let tokens = key_tokens(key);
        let mut joined: Vec<u8> = Vec::with_capacity(self.longest);
        for i in 0..tokens.len() {
            joined.clear();
            for t in &tokens[i..] {
                joined.extend_from_slice(t);
                if joined.len() > self.longest {
                    break;
                }
                if self.tokens.contains(&joined) {
                    return true;
                }
            }
        }
        false
    }

    /// Is this key (full text, WTF-8) sensitive?
    pub fn is_sensitive(&self, key: &[u8]) -> bool {
        if self.deny.is_none() && self.tokens.is_empty() {
            return false;
        }
        if self.substring_match(key) {
            return true;
        }
        !self.tokens.is_empty() && !self.allowed(key) && self.tokens_match(key)
    }

    fn allowed(&self, key: &[u8]) -> bool {
        if self.allow.is_empty() {
            return false;
        }
        let mut buf = Vec::with_capacity(key.len());
        normalise_into(key, &mut buf);
        self.allow.contains(&buf)
    }

    /// Not allowlisted and some `sensitive_keys` entry is a substring.
    fn substring_match(&self, key: &[u8]) -> bool {
        let deny = match &self.deny {
            Some(d) => d,
            None => return false,
        };
        // Short ASCII keys (nearly all of them) normalise on the stack.
        if key.len() <= 64 && key.is_ascii() {
            let mut buf = [0u8; 64];
            let mut n = 0;
            for &b in key {
                if b.is_ascii_alphanumeric() {
                    buf[n] = b.to_ascii_lowercase();
                    n += 1;
                }
            }
            let norm = &buf[..n];
            if n == 0 || (!self.allow.is_empty() && self.allow.contains(norm)) {
                return false;
            }
            return deny.is_match(norm);
        }
        let mut buf: Vec<u8> = Vec::with_capacity(key.len());
        normalise_into(key, &mut buf);
        if buf.is_empty() || self.allow.contains(&buf) {
            return false;
        }
        deny.is_match(&buf[..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_spellings() {
        let mut v = Vec::new();
        for k in [
            "pässword",
            "ｐａｓｓｗｏｒｄ",
            "pаssword",
            "ΡΑSSWORD",
            "pass\u{200b}word",
        ] {
            normalise_into(k.as_bytes(), &mut v);
            assert_eq!(v, b"password", "{k}");
        }
        normalise_into("ſecret".as_bytes(), &mut v);
        assert_eq!(v, b"secret");
        normalise_into("Straße".as_bytes(), &mut v);
        assert_eq!(v, b"strasse");
    }

    #[test]
    fn normalises_like_python() {
        let mut v = Vec::new();
        normalise_into("X-Api_Key\u{212a}\u{130}é1".as_bytes(), &mut v);
        assert_eq!(v, b"xapikeykie1");
    }

    #[test]
    fn substring_and_allowlist() {
        let m = KeyMatcher::new(&["password".into(), "token".into()], &["csrftoken".into()]);
        assert!(m.is_sensitive(b"User_Password"));
        assert!(!m.is_sensitive(b"csrf-token"));
        assert!(m.is_sensitive(b"csrf-token-2"));
        assert!(!m.is_sensitive(b"name"));
        assert!(!m.is_sensitive("\u{e9}".as_bytes()));
    }
}
