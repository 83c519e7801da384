//! Text of Python `str` objects as WTF-8 bytes, without copying when CPython already
//! holds UTF-8 (every ASCII string), and without touching more than the window.

use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::PyString;

/// Bytes owned by (a view into) a Python object kept alive here.
pub struct Text<'py> {
    _owner: Option<Bound<'py, PyAny>>,
    ptr: *const u8,
    len: usize,
}

impl Text<'_> {
    #[inline]
    pub fn bytes(&self) -> &[u8] {
        if self.len == 0 {
            return &[];
        }
        // SAFETY: ptr/len point into a buffer owned by `_owner` (or by the caller's
        // object, which outlives this value), immutable while we hold it.
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }
}

/// The whole text of a `str` (or subclass: its raw data). Lone surrogates are kept
/// (encoded on their own, `"surrogatepass"`).
pub fn full_text<'py>(s: &Bound<'py, PyAny>) -> PyResult<Text<'py>> {
    let py = s.py();
    // SAFETY: `s` is a live `str` (callers check); the UTF-8 cache lives as long as
    // the object, which outlives the `Text` (the caller holds it); on failure the error
    // is cleared and the text is encoded into a bytes object the `Text` then owns. No
    // Python code runs (the codec is the built-in one).
    unsafe {
        let mut size: ffi::Py_ssize_t = 0;
        let p = ffi::PyUnicode_AsUTF8AndSize(s.as_ptr(), &mut size);
        if !p.is_null() {
            return Ok(Text {
                _owner: None,
                ptr: p as *const u8,
                len: size as usize,
            });
        }
        ffi::PyErr_Clear();
        let b = ffi::PyUnicode_AsEncodedString(
            s.as_ptr(),
            c"utf-8".as_ptr(),
            c"surrogatepass".as_ptr(),
        );
        let b = Bound::from_owned_ptr_or_err(py, b)?;
        let mut len: ffi::Py_ssize_t = 0;
        let mut ptr: *mut std::os::raw::c_char = std::ptr::null_mut();
        if ffi::PyBytes_AsStringAndSize(b.as_ptr(), &mut ptr, &mut len) != 0 {
            return Err(PyErr::fetch(py));
        }
        Ok(Text {
            _owner: Some(b),
            ptr: ptr as *const u8,
            len: len as usize,
        })
    }
}

/// The first `w` code points of `s` and whether more follow.
pub fn window_text<'py>(s: &Bound<'py, PyAny>, w: usize) -> PyResult<(Text<'py>, bool)> {
    // SAFETY: a live `str` (callers check); reads its length, runs no Python code.
    let n = unsafe { ffi::PyUnicode_GetLength(s.as_ptr()) };
    if n < 0 {
        return Err(PyErr::fetch(s.py()));
    }
    if (n as usize) <= w {
        return Ok((full_text(s)?, false));
    }
    // SAFETY: `0..w` is within the `n > w` code points; the new reference is owned.
    let sub = unsafe {
        Bound::from_owned_ptr_or_err(
            s.py(),
            ffi::PyUnicode_Substring(s.as_ptr(), 0, w as ffi::Py_ssize_t),
        )?
    };
    let t = full_text(&sub)?;
    // keep `sub` alive with the text
    Ok((
        Text {
            ptr: t.ptr,
            len: t.len,
            _owner: Some(match t._owner {
                Some(o) => o,
                None => sub,
            }),
        },
        true,
    ))
}

/// A Python `str` from WTF-8 (surrogates come back as lone surrogates).
pub fn py_str_from_wtf8<'py>(py: Python<'py>, b: &[u8]) -> PyResult<Bound<'py, PyString>> {
    // SAFETY: `b` is a valid buffer of `len` bytes that CPython copies; the result is
    // a new reference to a `str` (or null with an error set, turned into `Err`).
    unsafe {
        let o = ffi::PyUnicode_DecodeUTF8(
            b.as_ptr() as *const std::os::raw::c_char,
            b.len() as ffi::Py_ssize_t,
            c"surrogatepass".as_ptr(),
        );
        Ok(Bound::from_owned_ptr_or_err(py, o)?.cast_into_unchecked())
    }
}

/// Byte offsets of code points `cps` (ascending or not) in WTF-8 `s`.
pub fn cp_to_byte(s: &[u8], cp: usize) -> usize {
    if s.len() == cp && s.is_ascii() {
        return cp;
    }
    let mut count = 0;
    for (i, &b) in s.iter().enumerate() {
        if (b & 0xc0) != 0x80 {
            if count == cp {
                return i;
            }
            count += 1;
        }
    }
    s.len()
}

impl<'py> Text<'py> {
    /// `t` borrowed from `owner`'s buffer: keep `owner` alive with it.
    pub fn owned(owner: Bound<'py, PyAny>, t: Text<'py>) -> Text<'py> {
        Text {
            ptr: t.ptr,
            len: t.len,
            _owner: Some(t._owner.unwrap_or(owner)),
        }
    }
}
