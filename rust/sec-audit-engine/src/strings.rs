//! The string rule (docs/engine.md, *String rule*): value patterns and detectors on a
//! window of `max_string_length + 1024` code points, then truncation by code points.

use crate::json_writer::write_str_body;
use crate::patterns::{HostError, HostPatterns};
use crate::{Engine, ScrubMode, REDACTED, TRUNCATED};

/// Byte offset of code point `n` in WTF-8 `s` (or `s.len()` if it has fewer), and
/// whether text remains after it.
#[inline]
pub fn cp_offset(s: &[u8], n: usize) -> (usize, bool) {
    if s.len() <= n {
        return (s.len(), false);
    }
    // Fast path: the first n bytes are ASCII.
    if s[..n].is_ascii() {
        return (n, true);
    }
    let mut count = 0;
    for (i, &b) in s.iter().enumerate() {
        if (b & 0xc0) != 0x80 {
            if count == n {
                return (i, true);
            }
            count += 1;
        }
    }
    (s.len(), false)
}

/// Number of code points in WTF-8 `s`.
#[inline]
pub fn cp_len(s: &[u8]) -> usize {
    s.iter().filter(|&&b| (b & 0xc0) != 0x80).count()
}

impl Engine {
    /// The window length in code points: `max_string_length + 1024`.
    #[inline]
    pub fn window_len(&self) -> usize {
        self.limits.max_string_length.saturating_add(1024)
    }

    /// Write one projected string (quoted). `window` is the first `window_len()` code
    /// points of the value (all of it when shorter); `beyond` says text follows the
    /// window. `scan` = run value patterns and detectors.
    pub fn write_string<H: HostPatterns>(
        &self,
        out: &mut Vec<u8>,
        window: &[u8],
        beyond: bool,
        scan: bool,
        host: &mut H,
    ) -> Result<(), HostError> {
        let l = self.limits.max_string_length;
        if scan && (!self.patterns.is_empty() || !self.detectors.is_empty()) {
            // Only user patterns care (a `rust` plan runs on ASCII windows only).
            let ascii = !self.patterns.is_empty() && window.is_ascii();
            match self.mode {
                ScrubMode::Value => {
                    if self.patterns.any(window, ascii, host)?
                        || self.detectors.hits(window, &mut Vec::new(), true)
                    {
                        out.extend_from_slice(b"\"[REDACTED]\"");
                        return Ok(());
                    }
                }
                ScrubMode::Match => {
                    let mut spans: Vec<(usize, usize)> = Vec::new();
                    if !self.patterns.spans(window, ascii, host, &mut spans)? {
                        // A pattern hit its bound: fail closed.
                        out.extend_from_slice(b"\"[REDACTED]\"");
                        return Ok(());
                    }
                    self.detectors.hits(window, &mut spans, false);
                    if !spans.is_empty() {
                        self.write_match_mode(out, window, beyond, &mut spans, l);
                        return Ok(());
                    }
                }
            }
        }
        out.push(b'"');
        let (l_end, more) = cp_offset(window, l);
        write_str_body(out, &window[..l_end]);
        if more || beyond {
            out.extend_from_slice(TRUNCATED.as_bytes());
        }
        out.push(b'"');
        Ok(())
    }

    fn write_match_mode(
        &self,
        out: &mut Vec<u8>,
        window: &[u8],
        beyond: bool,
        spans: &mut [(usize, usize)],
        l: usize,
    ) {
        spans.sort_unstable();
        let (l_end, _) = cp_offset(window, l);
        out.push(b'"');
        let mut pos = 0usize;
        let mut i = 0;
        while i < spans.len() {
            let (s, mut e) = spans[i];
            i += 1;
            while i < spans.len() && spans[i].0 <= e {
                e = e.max(spans[i].1);
                i += 1;
            }
            if s >= l_end {
                break;
            }
            write_str_body(out, &window[pos..s]);
            out.extend_from_slice(REDACTED.as_bytes());
            pos = e;
        }
        if pos < l_end {
            write_str_body(out, &window[pos..l_end]);
            pos = l_end;
        }
        if pos < window.len() || beyond {
            out.extend_from_slice(TRUNCATED.as_bytes());
        }
        out.push(b'"');
    }

    /// A mapping key as output: the key text truncated (no patterns on keys).
    pub fn write_key(&self, out: &mut Vec<u8>, key: &[u8]) -> bool {
        let (l_end, more) = cp_offset(key, self.limits.max_string_length);
        out.push(b'"');
        write_str_body(out, &key[..l_end]);
        if more {
            out.extend_from_slice(TRUNCATED.as_bytes());
        }
        out.push(b'"');
        more
    }
}
