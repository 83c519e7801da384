//! JSON text exactly as CPython's `json.dumps(..., ensure_ascii=True)` writes it.
//!
//! Strings arrive as WTF-8 (UTF-8 that may also hold surrogate code points, each encoded
//! on its own as three bytes, as Python's `"surrogatepass"` error handler produces).

const HEX: &[u8; 16] = b"0123456789abcdef";

/// 0 = copy as is; otherwise the byte needs an escape (or starts a multi-byte char).
static PLAIN: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0x20;
    while i < 0x7f {
        t[i] = true;
        i += 1;
    }
    t[b'"' as usize] = false;
    t[b'\\' as usize] = false;
    t
};

#[inline]
fn write_u_escape(out: &mut Vec<u8>, cp: u32) {
    out.extend_from_slice(&[
        b'\\',
        b'u',
        HEX[((cp >> 12) & 0xf) as usize],
        HEX[((cp >> 8) & 0xf) as usize],
        HEX[((cp >> 4) & 0xf) as usize],
        HEX[(cp & 0xf) as usize],
    ]);
}

/// Decode one code point of WTF-8 at `i` (caller guarantees well-formedness);
/// returns (code point, byte length).
#[inline]
pub fn decode_cp(s: &[u8], i: usize) -> (u32, usize) {
    let b0 = s[i] as u32;
    if b0 < 0x80 {
        (b0, 1)
    } else if b0 < 0xe0 {
        (((b0 & 0x1f) << 6) | (s[i + 1] as u32 & 0x3f), 2)
    } else if b0 < 0xf0 {
        (
            ((b0 & 0x0f) << 12) | ((s[i + 1] as u32 & 0x3f) << 6) | (s[i + 2] as u32 & 0x3f),
            3,
        )
    } else {
        (
            ((b0 & 0x07) << 18)
                | ((s[i + 1] as u32 & 0x3f) << 12)
                | ((s[i + 2] as u32 & 0x3f) << 6)
                | (s[i + 3] as u32 & 0x3f),
            4,
        )
    }
}

/// The escaped text of a string, without the quotes.
pub fn write_str_body(out: &mut Vec<u8>, s: &[u8]) {
    let mut start = 0;
    let mut i = 0;
    let n = s.len();
    while i < n {
        let b = s[i];
        if PLAIN[b as usize] {
            i += 1;
            continue;
        }
        out.extend_from_slice(&s[start..i]);
        if b < 0x80 {
            match b {
                b'"' => out.extend_from_slice(b"\\\""),
                b'\\' => out.extend_from_slice(b"\\\\"),
                b'\n' => out.extend_from_slice(b"\\n"),
                b'\r' => out.extend_from_slice(b"\\r"),
                b'\t' => out.extend_from_slice(b"\\t"),
                0x08 => out.extend_from_slice(b"\\b"),
                0x0c => out.extend_from_slice(b"\\f"),
                _ => write_u_escape(out, b as u32),
            }
            i += 1;
        } else {
            let (cp, len) = decode_cp(s, i);
            if cp >= 0x10000 {
                let v = cp - 0x10000;
                write_u_escape(out, 0xd800 | (v >> 10));
                write_u_escape(out, 0xdc00 | (v & 0x3ff));
            } else {
                write_u_escape(out, cp);
            }
            i += len;
        }
        start = i;
    }
    out.extend_from_slice(&s[start..]);
}

/// A quoted JSON string.
#[inline]
pub fn write_str(out: &mut Vec<u8>, s: &[u8]) {
    out.push(b'"');
    write_str_body(out, s);
    out.push(b'"');
}

/// A finite float as Python's `float.__repr__`: shortest round-trip digits, fixed
/// notation for decimal exponents in [-4, 16), otherwise `d.ddde+XX`.
pub fn write_float(out: &mut Vec<u8>, x: f64) {
    debug_assert!(x.is_finite());
    // `{:e}` gives the shortest round-trip digits: "-1.2345e-7", "1e16", "0e0".
    let sci = format!("{:e}", x);
    let bytes = sci.as_bytes();
    let (neg, rest) = if bytes[0] == b'-' {
        (true, &bytes[1..])
    } else {
        (false, bytes)
    };
    let epos = rest.iter().position(|&c| c == b'e').unwrap_or(rest.len());
    let mant = &rest[..epos];
    let exp: i32 = std::str::from_utf8(&rest[epos + 1..])
        .ok()
        .and_then(|e| e.parse().ok())
        .unwrap_or(0);
    let mut digits: Vec<u8> = Vec::with_capacity(20);
    for &c in mant {
        if c != b'.' {
            digits.push(c);
        }
    }
    if neg {
        out.push(b'-');
    }
    let nd = digits.len() as i32;
    if !(-4..16).contains(&exp) {
        out.push(digits[0]);
        if nd > 1 {
            out.push(b'.');
            out.extend_from_slice(&digits[1..]);
        }
        out.push(b'e');
        out.push(if exp < 0 { b'-' } else { b'+' });
        let a = exp.unsigned_abs();
        if a < 10 {
            out.push(b'0');
        }
        out.extend_from_slice(a.to_string().as_bytes());
    } else if exp < 0 {
        out.extend_from_slice(b"0.");
        for _ in 0..(-exp - 1) {
            out.push(b'0');
        }
        out.extend_from_slice(&digits);
    } else {
        let int_len = exp + 1;
        if nd <= int_len {
            out.extend_from_slice(&digits);
            for _ in 0..(int_len - nd) {
                out.push(b'0');
            }
            out.extend_from_slice(b".0");
        } else {
            out.extend_from_slice(&digits[..int_len as usize]);
            out.push(b'.');
            out.extend_from_slice(&digits[int_len as usize..]);
        }
    }
}

/// Remove the single space after each `,` and `:` outside strings (default separators ->
/// compact) of JSON text that this module wrote.
pub fn compact_separators(out: &mut Vec<u8>, json: &[u8]) {
    let mut in_str = false;
    let mut i = 0;
    let n = json.len();
    out.reserve(n);
    while i < n {
        let b = json[i];
        out.push(b);
        if in_str {
            if b == b'\\' && i + 1 < n {
                out.push(json[i + 1]);
                i += 2;
                continue;
            }
            if b == b'"' {
                in_str = false;
            }
        } else if b == b'"' {
            in_str = true;
        } else if (b == b',' || b == b':') && i + 1 < n && json[i + 1] == b' ' {
            i += 1;
        }
        i += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(x: f64) -> String {
        let mut v = Vec::new();
        write_float(&mut v, x);
        String::from_utf8(v).unwrap()
    }

    #[test]
    fn floats_like_python_repr() {
        assert_eq!(f(1.0), "1.0");
        assert_eq!(f(0.1), "0.1");
        assert_eq!(f(1e16), "1e+16");
        assert_eq!(f(1e-5), "1e-05");
        assert_eq!(f(-0.0), "-0.0");
        assert_eq!(f(0.0), "0.0");
        assert_eq!(f(1e15), "1000000000000000.0");
        assert_eq!(f(123.456), "123.456");
        assert_eq!(f(0.0001), "0.0001");
        assert_eq!(f(1.5e300), "1.5e+300");
        assert_eq!(f(5e-324), "5e-324");
        assert_eq!(f(1.7976931348623157e308), "1.7976931348623157e+308");
        assert_eq!(f(12345678901234567.0), "1.2345678901234568e+16");
    }

    #[test]
    fn strings_like_json_dumps() {
        let mut v = Vec::new();
        write_str(&mut v, "a\"\\\n\u{7f}é😀\u{1}".as_bytes());
        assert_eq!(
            String::from_utf8(v).unwrap(),
            "\"a\\\"\\\\\\n\\u007f\\u00e9\\ud83d\\ude00\\u0001\""
        );
        let mut v = Vec::new();
        write_str(&mut v, &[0xed, 0xb2, 0x80]);
        assert_eq!(String::from_utf8(v).unwrap(), "\"\\udc80\"");
    }

    #[test]
    fn compacts_outside_strings() {
        let mut v = Vec::new();
        compact_separators(&mut v, br#"{"a, b": 1, "c\": d": [1, 2]}"#);
        assert_eq!(
            String::from_utf8(v).unwrap(),
            r#"{"a, b":1,"c\": d":[1,2]}"#
        );
    }
}
