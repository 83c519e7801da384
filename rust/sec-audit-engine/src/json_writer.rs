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

static DIGIT_PAIRS: &[u8; 200] = b"\
0001020304050607080910111213141516171819\
2021222324252627282930313233343536373839\
4041424344454647484950515253545556575859\
6061626364656667686970717273747576777879\
8081828384858687888990919293949596979899";

/// An integer as `int.__repr__` writes it (two digits per step).
#[inline]
pub fn write_i64(out: &mut Vec<u8>, x: i64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    let mut u = x.unsigned_abs();
    while u >= 100 {
        let r = (u % 100) as usize * 2;
        u /= 100;
        i -= 2;
        buf[i] = DIGIT_PAIRS[r];
        buf[i + 1] = DIGIT_PAIRS[r + 1];
    }
    if u >= 10 {
        let r = u as usize * 2;
        i -= 2;
        buf[i] = DIGIT_PAIRS[r];
        buf[i + 1] = DIGIT_PAIRS[r + 1];
    } else {
        i -= 1;
        buf[i] = b'0' + u as u8;
    }
    if x < 0 {
        out.push(b'-');
    }
    push_bytes(out, &buf[i..]);
}

/// `out.extend_from_slice(s)`, without a `memcpy` call for the short pieces (keys,
/// separators, small values) that make up most of a line.
#[inline(always)]
pub fn push_bytes(out: &mut Vec<u8>, s: &[u8]) {
    let n = s.len();
    if n > 32 {
        out.extend_from_slice(s);
        return;
    }
    out.reserve(n);
    // SAFETY: `n` bytes are reserved; overlapping unaligned reads/writes stay within
    // `s[..n]` and `dst[..n]`.
    unsafe {
        let src = s.as_ptr();
        let dst = out.as_mut_ptr().add(out.len());
        if n >= 16 {
            let a = std::ptr::read_unaligned(src as *const u128);
            let b = std::ptr::read_unaligned(src.add(n - 16) as *const u128);
            std::ptr::write_unaligned(dst as *mut u128, a);
            std::ptr::write_unaligned(dst.add(n - 16) as *mut u128, b);
        } else if n >= 8 {
            let a = std::ptr::read_unaligned(src as *const u64);
            let b = std::ptr::read_unaligned(src.add(n - 8) as *const u64);
            std::ptr::write_unaligned(dst as *mut u64, a);
            std::ptr::write_unaligned(dst.add(n - 8) as *mut u64, b);
        } else if n >= 4 {
            let a = std::ptr::read_unaligned(src as *const u32);
            let b = std::ptr::read_unaligned(src.add(n - 4) as *const u32);
            std::ptr::write_unaligned(dst as *mut u32, a);
            std::ptr::write_unaligned(dst.add(n - 4) as *mut u32, b);
        } else {
            for i in 0..n {
                *dst.add(i) = *src.add(i);
            }
        }
        out.set_len(out.len() + n);
    }
}

/// Whether none of the 8 bytes of `w` needs an escape (all in 0x20..0x7F, none of `"`
/// and `\\`). Exact: the "has a byte below n" / "has a zero byte" tricks never miss one.
#[inline(always)]
fn plain_word(w: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let below_space = w.wrapping_sub(0x20 * ONES) & !w;
    let quote = w ^ (b'"' as u64 * ONES);
    let backslash = w ^ (b'\\' as u64 * ONES);
    let del = w ^ (0x7f * ONES);
    let zeros = quote.wrapping_sub(ONES) & !quote
        | backslash.wrapping_sub(ONES) & !backslash
        | del.wrapping_sub(ONES) & !del;
    (below_space | zeros | w) & HIGH == 0
}

/// Length of the leading run of `s` that needs no escape.
#[inline]
pub fn plain_prefix(s: &[u8]) -> usize {
    let n = s.len();
    let mut i = 0;
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::*;
        // SAFETY: SSE2 is part of x86_64 (always available); each unaligned load reads
        // `s[i..i + 16]`, inside the slice by the loop condition `i + 16 <= n`.
        unsafe {
            let quote = _mm_set1_epi8(b'"' as i8);
            let backslash = _mm_set1_epi8(b'\\' as i8);
            let ctl = _mm_set1_epi8(0x1f);
            let del = _mm_set1_epi8(0x7f);
            while i + 16 <= n {
                let v = _mm_loadu_si128(s.as_ptr().add(i) as *const __m128i);
                let stop = _mm_or_si128(
                    _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)),
                    _mm_or_si128(
                        // <= 0x1f, and >= 0x7f (unsigned)
                        _mm_cmpeq_epi8(_mm_max_epu8(v, ctl), ctl),
                        _mm_cmpeq_epi8(_mm_max_epu8(v, del), v),
                    ),
                );
                let m = _mm_movemask_epi8(stop) as u32;
                if m != 0 {
                    return i + m.trailing_zeros() as usize;
                }
                i += 16;
            }
        }
    }
    while i + 8 <= n {
        let w = u64::from_le_bytes([
            s[i],
            s[i + 1],
            s[i + 2],
            s[i + 3],
            s[i + 4],
            s[i + 5],
            s[i + 6],
            s[i + 7],
        ]);
        if !plain_word(w) {
            break;
        }
        i += 8;
    }
    while i < n && PLAIN[s[i] as usize] {
        i += 1;
    }
    i
}

/// The escaped text of a string, without the quotes.
pub fn write_str_body(out: &mut Vec<u8>, s: &[u8]) {
    let n = s.len();
    let mut i = plain_prefix(s);
    if i == n {
        // The common case: nothing to escape, one copy.
        push_bytes(out, s);
        return;
    }
    out.reserve(n + 16);
    let mut start = 0;
    while i < n {
        out.extend_from_slice(&s[start..i]);
        let b = s[i];
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
        i += plain_prefix(&s[i..]);
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
/// notation for decimal exponents in [-4, 16), otherwise `d.ddde+XX`. No allocation:
/// `ryu` gives the shortest digits, the layout is Python's.
pub fn write_float(out: &mut Vec<u8>, x: f64) {
    debug_assert!(x.is_finite());
    let mut buf = ryu::Buffer::new();
    // ryu writes `[-]digits[.digits][e[-]exp]` (e.g. "1e16", "0.0001", "1.5e300").
    let text = buf.format_finite(x).as_bytes();
    let (neg, rest) = match text.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, text),
    };
    let mut digits = [0u8; 24];
    let mut nd = 0usize;
    // Digits before the decimal point (so the value is 0.DIGITS x 10^point).
    let mut point: i32 = 0;
    let mut seen_point = false;
    let mut exp: i32 = 0;
    let mut i = 0;
    while i < rest.len() {
        let c = rest[i];
        match c {
            b'0'..=b'9' => {
                if nd == 0 && c == b'0' {
                    // A leading zero: only moves the point.
                    if seen_point {
                        point -= 1;
                    }
                } else {
                    digits[nd] = c;
                    nd += 1;
                    if !seen_point {
                        point += 1;
                    }
                }
            }
            b'.' => seen_point = true,
            b'e' | b'E' => {
                let (eneg, etext) = match rest[i + 1..].split_first() {
                    Some((b'-', t)) => (true, t),
                    _ => (false, &rest[i + 1..]),
                };
                let mut e: i32 = 0;
                for &d in etext {
                    e = e * 10 + (d - b'0') as i32;
                }
                exp = if eneg { -e } else { e };
                break;
            }
            _ => {}
        }
        i += 1;
    }
    if neg {
        out.push(b'-');
    }
    while nd > 0 && digits[nd - 1] == b'0' {
        nd -= 1;
    }
    if nd == 0 {
        out.extend_from_slice(b"0.0");
        return;
    }
    let digits = &digits[..nd];
    // Scientific exponent: the value is d.ddd x 10^sci.
    let sci = point + exp - 1;
    let nd = nd as i32;
    if !(-4..16).contains(&sci) {
        out.push(digits[0]);
        if nd > 1 {
            out.push(b'.');
            out.extend_from_slice(&digits[1..]);
        }
        out.push(b'e');
        out.push(if sci < 0 { b'-' } else { b'+' });
        let a = sci.unsigned_abs();
        if a >= 100 {
            out.push(b'0' + (a / 100) as u8);
        }
        out.push(b'0' + (a / 10 % 10) as u8);
        out.push(b'0' + (a % 10) as u8);
    } else if sci < 0 {
        out.extend_from_slice(b"0.");
        for _ in 0..(-sci - 1) {
            out.push(b'0');
        }
        out.extend_from_slice(digits);
    } else {
        let int_len = sci + 1;
        if nd <= int_len {
            out.extend_from_slice(digits);
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
        assert_eq!(f(9999999999999998.0), "9999999999999998.0");
        assert_eq!(f(1e-4), "0.0001");
        assert_eq!(f(0.00012), "0.00012");
        assert_eq!(f(1.5e-5), "1.5e-05");
        assert_eq!(f(-2.5e-310), "-2.5e-310");
        assert_eq!(f(1e100), "1e+100");
        assert_eq!(f(1e22), "1e+22");
        assert_eq!(f(100.0), "100.0");
        assert_eq!(f(0.30000000000000004), "0.30000000000000004");
        assert_eq!(f(2.0_f64.powi(60)), "1.152921504606847e+18");
    }

    #[test]
    fn integers() {
        for x in [
            0,
            7,
            10,
            99,
            100,
            101,
            12345,
            -1,
            -10,
            -100,
            i64::MAX,
            i64::MIN,
        ] {
            let mut v = Vec::new();
            write_i64(&mut v, x);
            assert_eq!(String::from_utf8(v).unwrap(), x.to_string());
        }
        let mut x: i64 = 1;
        while let Some(y) = x.checked_mul(3) {
            for z in [y, y - 1, -y] {
                let mut v = Vec::new();
                write_i64(&mut v, z);
                assert_eq!(String::from_utf8(v).unwrap(), z.to_string());
            }
            x = y;
        }
    }

    #[test]
    fn push_bytes_every_length() {
        let src: Vec<u8> = (0..40u8).collect();
        for n in 0..=40 {
            let mut out = vec![9u8];
            push_bytes(&mut out, &src[..n]);
            assert_eq!(&out[1..], &src[..n]);
            assert_eq!(out[0], 9);
        }
    }

    #[test]
    fn escape_fast_path_agrees_with_byte_loop() {
        // Every byte value at every offset of a 37-byte string (chunk edges).
        for b in 0u8..=0xff {
            for at in 0..37 {
                let mut s = vec![b'a'; 37];
                s[at] = b;
                assert_eq!(plain_prefix(&s), if PLAIN[b as usize] { 37 } else { at });
                if b >= 0x80 {
                    continue; // not WTF-8 alone
                }
                let mut got = Vec::new();
                write_str_body(&mut got, &s);
                let mut want = Vec::new();
                for &c in &s {
                    if PLAIN[c as usize] {
                        want.push(c);
                    } else {
                        write_str_body(&mut want, &[c]);
                    }
                }
                assert_eq!(got, want, "byte {b:#x} at {at}");
            }
        }
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
