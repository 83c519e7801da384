//! Typed access to the Python objects the walk reads (render.rs), so the invariant the
//! speed depends on is held by a type instead of by every call site:
//!
//! A [`Borrowed`] is an object pointer used without a reference of its own. It is made
//! only by [`Borrowed::of`] (from a `Bound`, alive while that is) or by
//! [`Borrowed::new`], whose contract — *the object stays alive while the value is used:
//! a container or owner the walk holds keeps it, and no Python code runs in between* —
//! is stated at each of its few call sites. Everything that can run Python code (a
//! `__str__`, an `isinstance` against an ABC, a value pattern run by Python) first takes
//! a strong reference with [`Borrowed::bind`].
//!
//! What the type does not (yet) check: that a `Borrowed` is not used after its holder
//! is gone. It carries no lifetime because open frames keep theirs in the scratch that
//! is reused across calls; every frame holds a strong reference beside it (`Open`), and
//! the walk's other `Borrowed` values live within one step of it.
//!
//! [`Exact`] is the one type dispatch: the exact built-in types the walk handles without
//! running Python code, decided from the object's type pointer.

use pyo3::ffi;
use pyo3::prelude::*;
use std::ptr::NonNull;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Borrowed(NonNull<ffi::PyObject>);

/// The exact types handled without running Python code; `Other` is anything else
/// (subclasses included).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Exact {
    None,
    True,
    False,
    Str,
    Int,
    Float,
    Dict,
    List,
    Tuple,
    Other,
}

impl Borrowed {
    /// # Safety
    /// `p` is a live object that stays alive for as long as the value (and anything
    /// read from it) is used: held by a container or owner the caller keeps, with no
    /// Python code running in between.
    #[inline]
    pub unsafe fn new(p: *mut ffi::PyObject) -> Option<Borrowed> {
        NonNull::new(p).map(Borrowed)
    }

    /// The object of `b` (alive while `b` is).
    #[inline]
    pub fn of(b: &Bound<'_, PyAny>) -> Borrowed {
        // SAFETY: a `Bound` is a live, non-null strong reference.
        unsafe { Borrowed(NonNull::new_unchecked(b.as_ptr())) }
    }

    #[inline]
    pub fn ptr(self) -> *mut ffi::PyObject {
        self.0.as_ptr()
    }

    /// Identity, for the cycle path and the key memo.
    #[inline]
    pub fn id(self) -> usize {
        self.ptr() as usize
    }

    /// A strong reference (before anything that may run Python code).
    #[inline]
    pub fn bind<'py>(self, py: Python<'py>) -> Bound<'py, PyAny> {
        // SAFETY: live by the contract of `new`; this takes a new reference.
        unsafe { Bound::from_borrowed_ptr(py, self.ptr()) }
    }

    /// The one type dispatch.
    #[inline]
    pub fn exact(self) -> Exact {
        let v = self.ptr();
        // SAFETY: `v` is live (contract of `new`); the singletons are compared by
        // address and the checks only read its type pointer: no Python code runs.
        unsafe {
            if v == ffi::Py_None() {
                Exact::None
            } else if ffi::PyUnicode_CheckExact(v) != 0 {
                Exact::Str
            } else if ffi::PyLong_CheckExact(v) != 0 {
                Exact::Int
            } else if v == ffi::Py_True() {
                Exact::True
            } else if v == ffi::Py_False() {
                Exact::False
            } else if ffi::PyDict_CheckExact(v) != 0 {
                Exact::Dict
            } else if ffi::PyList_CheckExact(v) != 0 {
                Exact::List
            } else if ffi::PyFloat_CheckExact(v) != 0 {
                Exact::Float
            } else if ffi::PyTuple_CheckExact(v) != 0 {
                Exact::Tuple
            } else {
                Exact::Other
            }
        }
    }

    /// Handling it runs no Python code.
    #[inline]
    pub fn is_plain(self) -> bool {
        self.exact() != Exact::Other
    }

    /// A `str` or a subclass.
    #[inline]
    pub fn is_str(self) -> bool {
        // SAFETY: live (contract of `new`); reads the type's flags only.
        unsafe { ffi::PyUnicode_Check(self.ptr()) != 0 }
    }

    /// An `int` or a subclass.
    #[inline]
    pub fn is_int(self) -> bool {
        // SAFETY: as `is_str`.
        unsafe { ffi::PyLong_Check(self.ptr()) != 0 }
    }

    /// A `float` or a subclass.
    #[inline]
    pub fn is_float(self) -> bool {
        // SAFETY: as `is_str`.
        unsafe { ffi::PyFloat_Check(self.ptr()) != 0 }
    }

    /// `bytes` or `bytearray` (or subclasses).
    #[inline]
    pub fn is_bytes_like(self) -> bool {
        // SAFETY: as `is_str`.
        unsafe { ffi::PyBytes_Check(self.ptr()) != 0 || ffi::PyByteArray_Check(self.ptr()) != 0 }
    }

    /// The length of a `str` in code points (O(1): no encoding, nothing cached), or
    /// None when CPython reports an error (cleared). Only for `str` objects.
    #[inline]
    pub fn char_len(&self) -> Option<usize> {
        debug_assert!(self.is_str());
        // SAFETY: a live `str` (contract of `new`); reads its length, runs no Python
        // code; a failure only sets an error, cleared here.
        unsafe {
            let n = ffi::PyUnicode_GetLength(self.ptr());
            if n < 0 {
                ffi::PyErr_Clear();
                return None;
            }
            Some(n as usize)
        }
    }

    /// The UTF-8 buffer CPython keeps for a `str` (no copy for ASCII), or None (lone
    /// surrogates: the caller takes the slow path). Only for `str` objects.
    #[inline]
    pub fn utf8(&self) -> Option<&[u8]> {
        debug_assert!(self.is_str());
        let mut size: ffi::Py_ssize_t = 0;
        // SAFETY: a live `str` (contract of `new`); CPython caches the UTF-8 form in
        // the object, so the slice lives as long as the object, which outlives `self`'s
        // use; the call runs no Python code (a failed encoding only sets an error,
        // cleared here).
        unsafe {
            let p = ffi::PyUnicode_AsUTF8AndSize(self.ptr(), &mut size);
            if p.is_null() {
                ffi::PyErr_Clear();
                return None;
            }
            Some(if size == 0 {
                &[]
            } else {
                std::slice::from_raw_parts(p as *const u8, size as usize)
            })
        }
    }

    /// The next entry of an exact `dict` from position `pos`, borrowed.
    #[inline]
    pub fn dict_next(self, pos: &mut ffi::Py_ssize_t) -> Option<(Borrowed, Borrowed)> {
        debug_assert_eq!(self.exact(), Exact::Dict);
        let mut k: *mut ffi::PyObject = std::ptr::null_mut();
        let mut v: *mut ffi::PyObject = std::ptr::null_mut();
        // SAFETY: a live exact dict; `PyDict_Next` runs no Python code and returns
        // borrowed references kept alive by the dict, which the walk holds (a strong
        // reference in its open frame) while the entry is used; entries that may run
        // Python code are bound first (render.rs `dict_entries`).
        unsafe {
            if ffi::PyDict_Next(self.ptr(), pos, &mut k, &mut v) == 0 {
                return None;
            }
            Some((Borrowed::new(k)?, Borrowed::new(v)?))
        }
    }

    /// Item `i` of an exact `list` or `tuple` (None past its end), borrowed.
    #[inline]
    pub fn seq_item(self, i: ffi::Py_ssize_t, is_list: bool) -> Option<Borrowed> {
        // SAFETY: a live exact list/tuple; the size is read just before the item, with no
        // Python code in between, so `i` is in range; the item is a borrowed reference
        // kept alive by the container the walk holds (its open frame). A list can only
        // change when Python code runs, and the walk takes a strong reference to an item
        // before anything that may run Python code.
        unsafe {
            let p = self.ptr();
            if is_list {
                if i >= ffi::PyList_Size(p) {
                    return None;
                }
                Borrowed::new(ffi::PyList_GetItem(p, i))
            } else {
                if i >= ffi::PyTuple_Size(p) {
                    return None;
                }
                Borrowed::new(ffi::PyTuple_GetItem(p, i))
            }
        }
    }
}
