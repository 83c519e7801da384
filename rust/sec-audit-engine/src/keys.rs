//! Key redaction: `normalise(k)` then "not allowlisted and some denylist entry is a
//! substring" (docs/engine.md, *Keys*).

use crate::json_writer::decode_cp;
use aho_corasick::{AhoCorasick, AhoCorasickKind};
use std::collections::HashSet;

/// `"".join(c for c in k.lower() if c in "a-z0-9")` over WTF-8 text. The only non-ASCII
/// code points whose full lower-casing contains an ASCII letter or digit are U+0130
/// (`İ` -> `i̇`) and U+212A (Kelvin sign -> `k`); every other one vanishes.
pub fn normalise_into(key: &[u8], out: &mut Vec<u8>) {
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
            match cp {
                0x130 => out.push(b'i'),
                0x212a => out.push(b'k'),
                _ => {}
            }
            i += len;
        }
    }
}

pub struct KeyMatcher {
    deny: Option<AhoCorasick>,
    allow: HashSet<Vec<u8>>,
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
        }
    }

    /// Is this key (full text, WTF-8) sensitive?
    pub fn is_sensitive(&self, key: &[u8]) -> bool {
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
    fn normalises_like_python() {
        let mut v = Vec::new();
        normalise_into("X-Api_Key\u{212a}\u{130}é1".as_bytes(), &mut v);
        assert_eq!(v, b"xapikeyki1");
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
