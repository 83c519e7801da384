//! `render` / `project`: the projection walk over Python objects (docs/engine.md), the
//! same algorithm as the reference's `projection.Walk`: an explicit stack of open
//! containers (no recursion, so depth costs nothing but the bound), containers iterated
//! lazily and abandoned at their cap, output written straight into one `Vec<u8>`.
//!
//! Speed (docs/performance.md, *Engine*):
//! - the exact common types (`None`, `bool`, `str`, `int`, `float`, `dict`, `list`,
//!   `tuple`) are handled through borrowed pointers, with no reference counting: no
//!   Python code runs while one is in use. Anything that can run Python code (a
//!   non-`str` key's `__str__`, `classify`, `isinstance` checks, value patterns run
//!   by Python) first takes a strong reference; open containers hold one too;
//! - the output buffer, the frame stack and the entry lists live in a [`Scratch`]
//!   reused by the next call (behind the engine's mutex, `try_lock`: a concurrent or
//!   re-entrant call simply uses a fresh one);
//! - key decisions are memoised per engine by object identity ([`KeyMemo`]).

use crate::host::AttachedHost;
use crate::text::{full_text, window_text, Text};
use crate::Inner;
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::{PyIterator, PyString, PyTuple};
use sec_audit_engine::json_writer::{
    compact_separators, push_bytes, write_float, write_i64, write_str,
};
use sec_audit_engine::projection::{
    dedupe_entries, key_flags, past_depth, write_item_overflow, write_overflow_entry, Entry,
    EntryRule, Frame, Member, MemberKey, Path, Separators, COMPACT_SEPARATORS, DEFAULT_SEPARATORS,
    Q_REDACTED, Q_TRUNCATED,
};
use sec_audit_engine::Limits;
use std::sync::TryLockError;

type Obj = *mut ffi::PyObject;

// Kinds returned by the Python `classify` helper for the rare types.
const K_TEXT: i64 = 0;
const K_ENUM: i64 = 1;
const K_MAPPING: i64 = 2;
const K_MARKER: i64 = 3;
const K_SEQUENCE: i64 = 4;

// The key memo keeps, beside the engine's `key_flags`, the key's [`MemberKey`].
const M_ATTRIBUTES: u8 = 1 << 6;
const M_BODY: u8 = 1 << 7;

fn member_bits(m: MemberKey) -> u8 {
    match m {
        MemberKey::Attributes => M_ATTRIBUTES,
        MemberKey::Body => M_BODY,
        MemberKey::Own => 0,
    }
}

fn member_key(flags: u8) -> MemberKey {
    if flags & M_ATTRIBUTES != 0 {
        MemberKey::Attributes
    } else if flags & M_BODY != 0 {
        MemberKey::Body
    } else {
        MemberKey::Own
    }
}

// --- the key memo ------------------------------------------------------------------------

/// Sets of `MEMO_WAYS` slots: the keys of a line rarely evict each other.
const MEMO_SETS: usize = 128;
const MEMO_WAYS: usize = 4;
/// Longest memoised key JSON (quotes and escapes included).
const MEMO_JSON: usize = 46;

#[derive(Clone, Copy)]
struct Slot {
    flags: u8,
    len: u8,
    json: [u8; MEMO_JSON],
}

/// Decisions for exact `str` keys by identity: the quoted output key and its flags.
/// Keys in code are the same interned objects on every event, so a hit costs a few
/// pointer comparisons. Set-associative and bounded (`MEMO_SETS * MEMO_WAYS` short keys
/// at most; a new key evicts one of its set round-robin): attacker-chosen keys can
/// churn it but never grow it.
#[derive(Default)]
pub struct KeyMemo {
    /// Off for the fresh scratch of a concurrent call (nothing would reuse it).
    enabled: bool,
    /// Strong references (so an address cannot be reused by another object), or null;
    /// `keys[set * MEMO_WAYS + way]` goes with `slots[...]`.
    keys: Vec<Obj>,
    slots: Vec<Slot>,
    /// Next way to evict, per set.
    victim: Vec<u8>,
}

impl KeyMemo {
    #[inline]
    fn set(key: Obj) -> usize {
        let addr = key as usize as u64;
        ((addr >> 4).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32) as usize & (MEMO_SETS - 1)
    }

    #[inline]
    fn get(&self, key: Obj) -> Option<&Slot> {
        let base = Self::set(key) * MEMO_WAYS;
        let ways = self.keys.get(base..base + MEMO_WAYS)?;
        let way = ways.iter().position(|&k| k == key)?;
        Some(&self.slots[base + way])
    }

    /// Needs the GIL (reference counts).
    fn put(&mut self, key: Obj, json: &[u8], flags: u8) {
        if !self.enabled || json.len() > MEMO_JSON {
            return;
        }
        if self.keys.is_empty() {
            let n = MEMO_SETS * MEMO_WAYS;
            self.keys = vec![std::ptr::null_mut(); n];
            self.slots = vec![
                Slot {
                    flags: 0,
                    len: 0,
                    json: [0; MEMO_JSON],
                };
                n
            ];
            self.victim = vec![0; MEMO_SETS];
        }
        let set = Self::set(key);
        let base = set * MEMO_WAYS;
        let way = match self.keys[base..base + MEMO_WAYS]
            .iter()
            .position(|k| k.is_null())
        {
            Some(free) => free,
            None => {
                let v = self.victim[set] as usize;
                self.victim[set] = ((v + 1) % MEMO_WAYS) as u8;
                v
            }
        };
        let i = base + way;
        unsafe {
            ffi::Py_IncRef(key);
            if !self.keys[i].is_null() {
                ffi::Py_DecRef(self.keys[i]);
            }
        }
        self.keys[i] = key;
        let slot = &mut self.slots[i];
        slot.flags = flags;
        slot.len = json.len() as u8;
        slot.json[..json.len()].copy_from_slice(json);
    }
}

impl Drop for KeyMemo {
    fn drop(&mut self) {
        // The engine (or a call's fresh scratch) is dropped with the GIL held.
        for &key in &self.keys {
            if !key.is_null() {
                unsafe { ffi::Py_DecRef(key) };
            }
        }
    }
}

// --- scratch -----------------------------------------------------------------------------

enum Kind {
    /// An exact `dict`: `PyDict_Next`.
    Dict,
    /// An exact `list` / `tuple`: by index.
    List,
    Tuple,
    /// Anything else: `iter(m.items())` or `iter(seq)` in `Frame::iter`.
    Iter,
}

/// An open container: the Python side of it (what to iterate, where it stands) and the
/// engine's [`Frame`] (the rules of its walk).
struct Open {
    /// Strong references: the container, and its iterator for `Kind::Iter`.
    obj: Obj,
    iter: Obj,
    kind: Kind,
    pos: ffi::Py_ssize_t,
    rules: Frame,
    start: usize,
    entries: Vec<Entry>,
    suspicious: bool,
    pending: (usize, usize),
}

/// What one call needs and the next can reuse: output buffer, frame stack, entry lists,
/// the cycle path, and the key memo.
#[derive(Default)]
pub struct Scratch {
    out: Vec<u8>,
    stack: Vec<Open>,
    pool: Vec<Vec<Entry>>,
    path: Path,
    keys: KeyMemo,
}

impl Scratch {
    /// The engine's own scratch (its key memo is on).
    pub fn shared() -> Self {
        let mut s = Scratch::default();
        s.keys.enabled = true;
        s
    }
}

// SAFETY: the object pointers a `Scratch` holds between calls (the memo's strong
// references; the stack is always empty then) are only used with the GIL held, and the
// engine's mutex gives one call at a time exclusive access.
unsafe impl Send for Scratch {}

/// Past these, what a call grew is given back after it (a hostile 100,000-deep value
/// must not leave its frames' memory behind in the engine).
const KEEP_OUT: usize = 1 << 20;
const KEEP_FRAMES: usize = 256;

/// Run `f` with the engine's scratch, or a fresh one if it is in use (another thread
/// while this one runs Python code, or a re-entrant call).
pub fn with_scratch<R>(inner: &Inner, f: impl FnOnce(&mut Scratch) -> R) -> R {
    let mut guard = match inner.scratch.try_lock() {
        Ok(g) => g,
        Err(TryLockError::Poisoned(p)) => {
            inner.scratch.clear_poison();
            p.into_inner()
        }
        Err(TryLockError::WouldBlock) => return f(&mut Scratch::default()),
    };
    let r = f(&mut guard);
    if guard.out.capacity() > KEEP_OUT {
        guard.out = Vec::new();
    }
    if guard.stack.capacity() > KEEP_FRAMES {
        guard.stack = Vec::new();
    }
    if guard.pool.len() > KEEP_FRAMES {
        guard.pool.truncate(KEEP_FRAMES);
        guard.pool.shrink_to_fit();
    }
    guard.path.shrink(KEEP_FRAMES);
    r
}

// --- the walk ----------------------------------------------------------------------------

pub struct Walk<'a, 'py> {
    py: Python<'py>,
    inner: &'a Inner,
    /// Taken from the scratch for the call (one indirection less), given back on drop.
    out: Vec<u8>,
    stack: Vec<Open>,
    s: &'a mut Scratch,
    sep: Separators,
    compact: bool,
    /// The limits in force: the engine's, or none at all while writing the envelope's
    /// own members (`verbatim`: no truncation of strings or keys either).
    limits: &'a Limits,
    verbatim: bool,
    host: AttachedHost<'a, 'py>,
}

impl Drop for Walk<'_, '_> {
    fn drop(&mut self) {
        // Normally empty; after an error, release what the open frames hold.
        while let Some(frame) = self.stack.pop() {
            unsafe {
                ffi::Py_DecRef(frame.obj);
                if !frame.iter.is_null() {
                    ffi::Py_DecRef(frame.iter);
                }
            }
            let mut entries = frame.entries;
            entries.clear();
            self.s.pool.push(entries);
        }
        self.s.path.clear();
        self.s.out = std::mem::take(&mut self.out);
        self.s.stack = std::mem::take(&mut self.stack);
    }
}

enum Next<'py> {
    End,
    /// Borrowed pointers, plus the owner when the iterator gave new references.
    Item(Obj, Option<Bound<'py, PyAny>>),
    Pair(Obj, Obj, Option<(Bound<'py, PyAny>, Bound<'py, PyAny>)>),
}

/// `None`, `bool`, exact `str`/`int`/`float`/`dict`/`list`/`tuple`: handling them runs
/// no Python code.
#[inline]
fn is_exact_plain(v: Obj) -> bool {
    unsafe {
        v == ffi::Py_None()
            || v == ffi::Py_True()
            || v == ffi::Py_False()
            || ffi::PyUnicode_CheckExact(v) != 0
            || ffi::PyLong_CheckExact(v) != 0
            || ffi::PyDict_CheckExact(v) != 0
            || ffi::PyList_CheckExact(v) != 0
            || ffi::PyFloat_CheckExact(v) != 0
            || ffi::PyTuple_CheckExact(v) != 0
    }
}

/// The UTF-8 buffer CPython keeps for a `str` (no copy for ASCII), or None (lone
/// surrogates: the caller takes the slow path).
#[inline]
unsafe fn utf8<'x>(s: Obj) -> Option<&'x [u8]> {
    let mut size: ffi::Py_ssize_t = 0;
    let p = ffi::PyUnicode_AsUTF8AndSize(s, &mut size);
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

impl<'a, 'py> Walk<'a, 'py> {
    pub fn new(py: Python<'py>, inner: &'a Inner, s: &'a mut Scratch, compact: bool) -> Self {
        let mut out = std::mem::take(&mut s.out);
        out.clear();
        Walk {
            py,
            inner,
            out,
            stack: std::mem::take(&mut s.stack),
            s,
            sep: if compact {
                COMPACT_SEPARATORS
            } else {
                DEFAULT_SEPARATORS
            },
            compact,
            limits: &inner.core.limits,
            verbatim: false,
            host: AttachedHost {
                py,
                patterns: &inner.py_patterns,
                err: None,
            },
        }
    }

    /// The finished line as a Python `str`.
    pub fn finish(&self) -> PyResult<Bound<'py, PyString>> {
        let out = &self.out;
        debug_assert!(out.is_ascii());
        unsafe {
            let o = ffi::PyUnicode_FromStringAndSize(
                out.as_ptr() as *const std::os::raw::c_char,
                out.len() as ffi::Py_ssize_t,
            );
            Ok(Bound::from_owned_ptr_or_err(self.py, o)?.cast_into_unchecked())
        }
    }

    #[inline]
    pub fn push(&mut self, b: u8) {
        self.out.push(b);
    }

    fn host_err(&mut self) -> PyErr {
        self.host
            .err
            .take()
            .unwrap_or_else(|| pyo3::exceptions::PyRuntimeError::new_err("value pattern failed"))
    }

    // --- strings ---------------------------------------------------------------------

    /// The string rule on a `str` (raw text of a subclass). `v` must stay alive: a
    /// borrowed exact `str` (no Python code runs here unless value patterns go to
    /// Python, and then a reference is taken) or an object the caller owns.
    fn string(&mut self, v: Obj, scan: bool) -> PyResult<()> {
        let text = match unsafe { utf8(v) } {
            Some(t) => t,
            None => return self.string_slow(v, scan),
        };
        if self.verbatim {
            write_str(&mut self.out, text);
            return Ok(());
        }
        // At most as many code points as bytes: a text this short is its own window.
        if text.len() > self.inner.core.window_len() {
            return self.string_slow(v, scan);
        }
        let _keep = (scan && self.inner.host_patterns)
            .then(|| unsafe { Bound::from_borrowed_ptr(self.py, v) });
        let core = &self.inner.core;
        if core
            .write_string(&mut self.out, text, false, scan, &mut self.host)
            .is_err()
        {
            return Err(self.host_err());
        }
        Ok(())
    }

    /// Long texts (only the window is read) and texts with lone surrogates.
    fn string_slow(&mut self, v: Obj, scan: bool) -> PyResult<()> {
        let s = unsafe { Bound::from_borrowed_ptr(self.py, v) };
        if self.verbatim {
            let t = full_text(&s)?;
            write_str(&mut self.out, t.bytes());
            return Ok(());
        }
        let (text, beyond) = window_text(&s, self.inner.core.window_len())?;
        let core = &self.inner.core;
        if core
            .write_string(&mut self.out, text.bytes(), beyond, scan, &mut self.host)
            .is_err()
        {
            return Err(self.host_err());
        }
        Ok(())
    }

    // --- fragments -------------------------------------------------------------------

    pub fn fragment(&mut self, frag: &Bound<'py, PyAny>) -> PyResult<()> {
        let json = frag.getattr(pyo3::intern!(self.py, "json"))?;
        let text = full_text(&json)?;
        if self.compact {
            compact_separators(&mut self.out, text.bytes());
        } else {
            self.out.extend_from_slice(text.bytes());
        }
        Ok(())
    }

    pub fn is_fragment(&self, v: &Bound<'py, PyAny>) -> PyResult<bool> {
        let r = unsafe { ffi::PyObject_IsInstance(v.as_ptr(), self.inner.fragment_cls.as_ptr()) };
        if r < 0 {
            return Err(PyErr::fetch(self.py));
        }
        Ok(r == 1)
    }

    fn is_mapping(&self, v: &Bound<'py, PyAny>) -> PyResult<bool> {
        if unsafe { ffi::PyDict_CheckExact(v.as_ptr()) } != 0 {
            return Ok(true);
        }
        let r = unsafe { ffi::PyObject_IsInstance(v.as_ptr(), self.inner.mapping_cls.as_ptr()) };
        if r < 0 {
            return Err(PyErr::fetch(self.py));
        }
        Ok(r == 1)
    }

    // --- numbers ---------------------------------------------------------------------

    fn int_exact(&mut self, v: Obj) -> PyResult<()> {
        let mut overflow: std::os::raw::c_int = 0;
        let x = unsafe { ffi::PyLong_AsLongLongAndOverflow(v, &mut overflow) };
        if overflow == 0 {
            if x == -1 && unsafe { !ffi::PyErr_Occurred().is_null() } {
                return Err(PyErr::fetch(self.py));
            }
            write_i64(&mut self.out, x);
            return Ok(());
        }
        // Beyond 64 bits: `int.__repr__` (raises past the int-digits limit).
        let r = unsafe { Bound::from_owned_ptr_or_err(self.py, ffi::PyObject_Repr(v))? };
        let t = full_text(&r)?;
        self.out.extend_from_slice(t.bytes());
        Ok(())
    }

    fn float(&mut self, v: Obj) -> PyResult<()> {
        let x = unsafe { ffi::PyFloat_AsDouble(v) };
        if x == -1.0 && unsafe { !ffi::PyErr_Occurred().is_null() } {
            return Err(PyErr::fetch(self.py));
        }
        let out = &mut self.out;
        if x.is_nan() {
            out.extend_from_slice(b"\"nan\"");
        } else if x.is_infinite() {
            out.extend_from_slice(if x > 0.0 {
                b"\"inf\"" as &[u8]
            } else {
                b"\"-inf\""
            });
        } else {
            write_float(out, x);
        }
        Ok(())
    }

    // --- one value -------------------------------------------------------------------

    /// Write a scalar, or open a container frame. Returns whether a frame was opened.
    /// `v` is borrowed: alive now; it is owned before any Python code runs.
    #[inline]
    pub fn emit(&mut self, v: Obj, depth: usize, scan: bool, redact: bool) -> PyResult<bool> {
        if past_depth(self.limits, depth) {
            self.out.extend_from_slice(Q_TRUNCATED);
            return Ok(false);
        }
        match self.emit_exact(v, depth, scan, redact)? {
            Some(opened) => Ok(opened),
            None => self.emit_other(v, depth, scan, redact),
        }
    }

    /// The exact common types (None if `v` is not one).
    #[inline]
    fn emit_exact(
        &mut self,
        v: Obj,
        depth: usize,
        scan: bool,
        redact: bool,
    ) -> PyResult<Option<bool>> {
        unsafe {
            if v == ffi::Py_None() {
                self.out.extend_from_slice(b"null");
            } else if ffi::PyUnicode_CheckExact(v) != 0 {
                self.string(v, scan)?;
            } else if ffi::PyLong_CheckExact(v) != 0 {
                self.int_exact(v)?;
            } else if v == ffi::Py_True() {
                self.out.extend_from_slice(b"true");
            } else if v == ffi::Py_False() {
                self.out.extend_from_slice(b"false");
            } else if ffi::PyDict_CheckExact(v) != 0 {
                let frame = Frame::mapping(self.limits, depth, scan, redact);
                return Ok(Some(self.open(v, Kind::Dict, frame)));
            } else if ffi::PyList_CheckExact(v) != 0 {
                let frame = Frame::sequence(self.limits, depth, scan, redact);
                return Ok(Some(self.open(v, Kind::List, frame)));
            } else if ffi::PyFloat_CheckExact(v) != 0 {
                self.float(v)?;
            } else if ffi::PyTuple_CheckExact(v) != 0 {
                let frame = Frame::sequence(self.limits, depth, scan, redact);
                return Ok(Some(self.open(v, Kind::Tuple, frame)));
            } else {
                return Ok(None);
            }
        }
        Ok(Some(false))
    }

    /// Subclasses and the rare types (steps 3-12 of docs/engine.md), with a strong
    /// reference held throughout: Python code may run from here on.
    fn emit_other(&mut self, v: Obj, depth: usize, scan: bool, redact: bool) -> PyResult<bool> {
        let mut cur = unsafe { Bound::from_borrowed_ptr(self.py, v) };
        let mut enums_seen: Vec<usize> = Vec::new();
        loop {
            let p = cur.as_ptr();
            if let Some(opened) = self.emit_exact(p, depth, scan, redact)? {
                return Ok(opened);
            }
            unsafe {
                if ffi::PyLong_Check(p) != 0 {
                    let r = self.inner.int_repr.bind(self.py).call1((&cur,))?;
                    let t = full_text(&r)?;
                    self.out.extend_from_slice(t.bytes());
                } else if ffi::PyFloat_Check(p) != 0 {
                    self.float(p)?;
                } else if ffi::PyUnicode_Check(p) != 0 {
                    self.string(p, scan)?;
                } else if ffi::PyBytes_Check(p) != 0 || ffi::PyByteArray_Check(p) != 0 {
                    self.out.extend_from_slice(Q_REDACTED);
                } else {
                    let r = self.inner.classify.bind(self.py).call1((&cur,))?;
                    let r = r.cast_into::<PyTuple>().map_err(PyErr::from)?;
                    let kind: i64 = r.get_item(0)?.extract()?;
                    let payload = r.get_item(1)?;
                    match kind {
                        K_TEXT => {
                            if ffi::PyUnicode_Check(payload.as_ptr()) == 0 {
                                return Err(pyo3::exceptions::PyTypeError::new_err(
                                    "classify: text kind needs a str",
                                ));
                            }
                            self.string(payload.as_ptr(), scan)?
                        }
                        K_ENUM => {
                            let id = p as usize;
                            if enums_seen.contains(&id) {
                                self.out.extend_from_slice(Q_REDACTED);
                                return Ok(false);
                            }
                            enums_seen.push(id);
                            cur = payload;
                            continue;
                        }
                        K_MAPPING => {
                            let items = cur
                                .call_method0(pyo3::intern!(self.py, "items"))?
                                .try_iter()?;
                            let frame = Frame::mapping(self.limits, depth, scan, redact);
                            return Ok(self.open_iter(&cur, items, frame));
                        }
                        K_SEQUENCE => {
                            let items = cur.try_iter()?;
                            let frame = Frame::sequence(self.limits, depth, scan, redact);
                            return Ok(self.open_iter(&cur, items, frame));
                        }
                        K_MARKER => {
                            let t = full_text(&payload)?;
                            write_str(&mut self.out, t.bytes());
                        }
                        _ => {
                            return Err(pyo3::exceptions::PyRuntimeError::new_err(
                                "classify: unknown kind",
                            ));
                        }
                    }
                }
            }
            return Ok(false);
        }
    }

    // --- containers ------------------------------------------------------------------

    /// Open a container (or write the cycle marker). Returns whether a frame was opened.
    /// Takes a strong reference to `obj` (and owns `iter`, if not null).
    fn push_frame(&mut self, obj: Obj, iter: Obj, kind: Kind, rules: Frame) -> bool {
        if !self.s.path.enter(obj as usize) {
            self.out.extend_from_slice(Q_REDACTED);
            if !iter.is_null() {
                unsafe { ffi::Py_DecRef(iter) };
            }
            return false;
        }
        unsafe { ffi::Py_IncRef(obj) };
        let start = self.out.len();
        let suspicious = matches!(kind, Kind::Iter);
        self.out.push(if rules.is_map { b'{' } else { b'[' });
        let entries = self.s.pool.pop().unwrap_or_default();
        self.stack.push(Open {
            obj,
            iter,
            kind,
            pos: 0,
            rules,
            start,
            entries,
            suspicious,
            pending: (0, 0),
        });
        true
    }

    #[inline]
    fn open(&mut self, obj: Obj, kind: Kind, rules: Frame) -> bool {
        self.push_frame(obj, std::ptr::null_mut(), kind, rules)
    }

    fn open_iter(
        &mut self,
        container: &Bound<'py, PyAny>,
        items: Bound<'py, PyIterator>,
        rules: Frame,
    ) -> bool {
        self.push_frame(container.as_ptr(), items.into_ptr(), Kind::Iter, rules)
    }

    // --- entry points ----------------------------------------------------------------

    /// The attribute walk: depth 0, cap max_attributes, top-level exemptions.
    fn attributes(&mut self, attrs: &Bound<'py, PyAny>) -> PyResult<()> {
        let frame = Frame::attributes(self.limits);
        if unsafe { ffi::PyDict_CheckExact(attrs.as_ptr()) } != 0 {
            self.open(attrs.as_ptr(), Kind::Dict, frame);
        } else {
            let items = attrs
                .call_method0(pyo3::intern!(self.py, "items"))?
                .try_iter()?;
            self.open_iter(attrs, items, frame);
        }
        self.run()
    }

    /// Project one value at `depth` (`v` alive for the call).
    pub fn value(&mut self, v: Obj, depth: usize, scan: bool, redact: bool) -> PyResult<()> {
        self.emit(v, depth, scan, redact)?;
        self.run()
    }

    /// `project(value)`: a top-level attribute value (depth 1), no key exemptions.
    pub fn project(&mut self, value: &Bound<'py, PyAny>) -> PyResult<()> {
        if !is_exact_plain(value.as_ptr()) && self.is_fragment(value)? {
            return self.fragment(value);
        }
        self.value(value.as_ptr(), 1, true, true)
    }

    /// One envelope member (docs/engine.md, clarifications 1-2). `k`/`v` borrowed from
    /// the envelope.
    pub fn member(&mut self, k: Obj, v: Obj, first: bool) -> PyResult<()> {
        if !first {
            push_bytes(&mut self.out, self.sep.item);
        }
        // Python code may run below for anything but the plain types: own them first.
        let key_plain = unsafe { ffi::PyUnicode_CheckExact(k) } != 0;
        let _hold = (!key_plain || !is_exact_plain(v)).then(|| unsafe {
            (
                Bound::from_borrowed_ptr(self.py, k),
                Bound::from_borrowed_ptr(self.py, v),
            )
        });
        let (flags, _) = self.key(k, false)?;
        push_bytes(&mut self.out, self.sep.kv);
        let member = member_key(flags).rule(|| {
            let value = unsafe { Bound::from_borrowed_ptr(self.py, v) };
            self.is_mapping(&value)
        })?;
        match member {
            Member::Attributes => {
                let value = unsafe { Bound::from_borrowed_ptr(self.py, v) };
                self.attributes(&value)
            }
            // A `body` string: the string rule, no depth check.
            Member::Scrubbed if unsafe { ffi::PyUnicode_Check(v) } != 0 => self.string(v, true),
            Member::Scrubbed => self.value(v, 1, true, true),
            Member::Verbatim => self.verbatim_member(v),
        }
    }

    /// Our own members: no limits, no scrubbing; cycles and markers kept. Timestamps,
    /// severity and event name first, without setting up a walk.
    fn verbatim_member(&mut self, v: Obj) -> PyResult<()> {
        if unsafe { ffi::PyLong_CheckExact(v) } != 0 {
            return self.int_exact(v);
        }
        if unsafe { ffi::PyUnicode_CheckExact(v) } != 0 {
            if let Some(text) = unsafe { utf8(v) } {
                write_str(&mut self.out, text);
                return Ok(());
            }
        }
        self.limits = &Limits::UNBOUNDED;
        self.verbatim = true;
        let r = self.value(v, 0, false, false);
        self.limits = &self.inner.core.limits;
        self.verbatim = false;
        r
    }

    // --- keys ------------------------------------------------------------------------

    /// Write the output key of `k` (truncated unless `verbatim` or not `truncate`).
    /// Returns its flags and whether the output key may collide with another one (cut,
    /// or not an exact `str`). `k` must be owned by the caller unless an exact `str`.
    #[inline(always)]
    fn key(&mut self, k: Obj, truncate: bool) -> PyResult<(u8, bool)> {
        let exact = unsafe { ffi::PyUnicode_CheckExact(k) } != 0;
        if exact {
            if let Some(slot) = self.s.keys.get(k) {
                push_bytes(&mut self.out, &slot.json[..slot.len as usize]);
                return Ok((slot.flags, false));
            }
        }
        self.key_slow(k, exact, truncate)
    }

    #[inline(never)]
    fn key_slow(&mut self, k: Obj, exact: bool, truncate: bool) -> PyResult<(u8, bool)> {
        let is_str = exact || unsafe { ffi::PyUnicode_Check(k) } != 0;
        let owner;
        let text: Text<'py> = if is_str {
            owner = unsafe { Bound::from_borrowed_ptr(self.py, k) };
            full_text(&owner)?
        } else {
            let s = unsafe { Bound::from_owned_ptr_or_err(self.py, ffi::PyObject_Str(k))? };
            let t = full_text(&s)?;
            Text::owned(s, t)
        };
        let kb = text.bytes();
        let flags = key_flags(&self.inner.core.keys, kb) | member_bits(MemberKey::of(kb, is_str));
        let ks = self.out.len();
        let cut = if self.verbatim || !truncate {
            write_str(&mut self.out, kb);
            false
        } else {
            self.inner.core.write_key(&mut self.out, kb)
        };
        // Memoise short exact keys that no limit cuts (the same output in every mode).
        if exact && kb.len() <= self.inner.core.limits.max_string_length {
            let json = &self.out[ks..];
            self.s.keys.put(k, json, flags);
        }
        Ok((flags, cut || !exact))
    }

    // --- the loop over open frames ---------------------------------------------------

    #[inline(always)]
    fn next(&mut self) -> PyResult<Next<'py>> {
        let py = self.py;
        let frame = self.stack.last_mut().expect("open frame");
        unsafe {
            match frame.kind {
                // Walked by `dict_entries` / `seq_items`.
                Kind::Dict | Kind::List | Kind::Tuple => unreachable!("exact containers"),
                Kind::Iter => {
                    let is_map = frame.rules.is_map;
                    let item = ffi::PyIter_Next(frame.iter);
                    if item.is_null() {
                        if !ffi::PyErr_Occurred().is_null() {
                            return Err(PyErr::fetch(py));
                        }
                        return Ok(Next::End);
                    }
                    let item = Bound::from_owned_ptr(py, item);
                    if is_map {
                        let (k, v): (Bound<'py, PyAny>, Bound<'py, PyAny>) = item.extract()?;
                        Ok(Next::Pair(k.as_ptr(), v.as_ptr(), Some((k, v))))
                    } else {
                        Ok(Next::Item(item.as_ptr(), Some(item)))
                    }
                }
            }
        }
    }

    fn run(&mut self) -> PyResult<()> {
        while let Some(frame) = self.stack.last() {
            match frame.kind {
                Kind::Dict => {
                    self.dict_entries()?;
                    continue;
                }
                Kind::List | Kind::Tuple => {
                    self.seq_items()?;
                    continue;
                }
                Kind::Iter => {}
            }
            let height = self.stack.len();
            let is_map = frame.rules.is_map;
            let advanced = if is_map {
                self.map_step()?
            } else {
                self.seq_step()?
            };
            if !advanced {
                self.close();
            } else if is_map && self.stack.len() == height {
                self.finish_entry();
            }
        }
        Ok(())
    }

    fn close(&mut self) {
        let mut frame = self.stack.pop().expect("open frame");
        self.s.path.leave();
        unsafe {
            ffi::Py_DecRef(frame.obj);
            if !frame.iter.is_null() {
                ffi::Py_DecRef(frame.iter);
            }
        }
        let out = &mut self.out;
        if frame.rules.is_map {
            if frame.suspicious {
                dedupe_entries(out, frame.start, &frame.entries, self.sep);
            }
            out.push(b'}');
        } else {
            out.push(b']');
        }
        frame.entries.clear();
        self.s.pool.push(std::mem::take(&mut frame.entries));
        if self.stack.last().is_some_and(|f| f.rules.is_map) {
            self.finish_entry();
        }
    }

    #[inline]
    fn finish_entry(&mut self) {
        let end = self.out.len();
        let frame = self.stack.last_mut().expect("open frame");
        let (ks, ke) = frame.pending;
        frame.entries.push(Entry {
            key_start: ks,
            key_end: ke,
            val_end: end,
        });
    }

    fn seq_step(&mut self) -> PyResult<bool> {
        let (item, _hold) = match self.next()? {
            Next::End => return Ok(false),
            Next::Item(i, hold) => (i, hold),
            Next::Pair(..) => unreachable!(),
        };
        let sep = self.sep;
        let rules = &mut self.stack.last_mut().expect("open frame").rules;
        let Some(first) = rules.advance() else {
            write_item_overflow(&mut self.out, sep);
            return Ok(false);
        };
        let (d, scan, redact) = (rules.item_depth(), rules.scan, rules.redact);
        if !first {
            push_bytes(&mut self.out, sep.item);
        }
        self.emit(item, d, scan, redact)?;
        Ok(true)
    }

    fn map_step(&mut self) -> PyResult<bool> {
        let (k, v, mut hold) = match self.next()? {
            Next::End => return Ok(false),
            Next::Pair(k, v, hold) => (k, v, hold),
            Next::Item(..) => unreachable!(),
        };
        let fi = self.stack.len() - 1;
        let Some(first) = self.stack[fi].rules.advance() else {
            self.overflow_key();
            return Ok(false);
        };
        if hold.is_none() && unsafe { ffi::PyUnicode_CheckExact(k) } == 0 {
            // `str(key)` runs Python code: own both before it.
            hold = Some(unsafe {
                (
                    Bound::from_borrowed_ptr(self.py, k),
                    Bound::from_borrowed_ptr(self.py, v),
                )
            });
        }
        self.map_entry(fi, k, v, first)?;
        drop(hold);
        Ok(true)
    }

    /// The exact `dict` on top of the stack: its entries in one loop, until a value
    /// opens a frame (the loop resumes when that one closes) or the dict ends.
    fn dict_entries(&mut self) -> PyResult<()> {
        let fi = self.stack.len() - 1;
        let obj = self.stack[fi].obj;
        loop {
            let f = &mut self.stack[fi];
            let mut k: Obj = std::ptr::null_mut();
            let mut v: Obj = std::ptr::null_mut();
            if unsafe { ffi::PyDict_Next(obj, &mut f.pos, &mut k, &mut v) } == 0 {
                self.close();
                return Ok(());
            }
            let Some(first) = f.rules.advance() else {
                self.overflow_key();
                self.close();
                return Ok(());
            };
            // `str(key)` runs Python code: own both before it.
            let hold = (unsafe { ffi::PyUnicode_CheckExact(k) } == 0).then(|| unsafe {
                (
                    Bound::from_borrowed_ptr(self.py, k),
                    Bound::from_borrowed_ptr(self.py, v),
                )
            });
            let opened = self.map_entry(fi, k, v, first)?;
            drop(hold);
            if opened {
                return Ok(());
            }
            self.finish_entry();
        }
    }

    /// The exact `list`/`tuple` on top of the stack, like `dict_entries`.
    fn seq_items(&mut self) -> PyResult<()> {
        let fi = self.stack.len() - 1;
        let f = &self.stack[fi];
        let obj = f.obj;
        let (depth, scan, redact) = (f.rules.item_depth(), f.rules.scan, f.rules.redact);
        let is_list = matches!(f.kind, Kind::List);
        let sep = self.sep;
        loop {
            let f = &mut self.stack[fi];
            let item = unsafe {
                let len = if is_list {
                    ffi::PyList_Size(obj)
                } else {
                    ffi::PyTuple_Size(obj)
                };
                if f.pos >= len {
                    self.close();
                    return Ok(());
                }
                let item = if is_list {
                    ffi::PyList_GetItem(obj, f.pos)
                } else {
                    ffi::PyTuple_GetItem(obj, f.pos)
                };
                if item.is_null() {
                    return Err(PyErr::fetch(self.py));
                }
                item
            };
            f.pos += 1;
            let Some(first) = f.rules.advance() else {
                write_item_overflow(&mut self.out, sep);
                self.close();
                return Ok(());
            };
            if !first {
                push_bytes(&mut self.out, sep.item);
            }
            if self.emit(item, depth, scan, redact)? {
                return Ok(());
            }
        }
    }

    /// The overflow entry of the mapping on top; overwritten in place if present
    /// (dedupe).
    fn overflow_key(&mut self) {
        let frame = self.stack.last_mut().expect("open frame");
        let e = write_overflow_entry(&mut self.out, self.sep, frame.rules.index == 0);
        frame.pending = (e.key_start, e.key_end);
        frame.suspicious = true;
        frame.entries.push(e);
    }

    /// One entry of mapping frame `fi`: separator, output key, value (or its frame).
    /// `k`/`v` alive for the call (owned by the caller unless `k` is an exact `str`).
    /// Returns whether the value opened a frame.
    #[inline(always)]
    fn map_entry(&mut self, fi: usize, k: Obj, v: Obj, first: bool) -> PyResult<bool> {
        let sep = self.sep;
        if !first {
            push_bytes(&mut self.out, sep.item);
        }
        let ks = self.out.len();
        let (flags, suspicious) = self.key(k, true)?;
        let ke = self.out.len();
        push_bytes(&mut self.out, sep.kv);
        let frame = &mut self.stack[fi];
        frame.pending = (ks, ke);
        frame.suspicious |= suspicious;
        let rules = frame.rules;
        let (depth, scan) = match rules.entry_rule(self.limits, flags) {
            EntryRule::Marker(marker) => {
                self.out.extend_from_slice(marker);
                return Ok(false);
            }
            EntryRule::Project { depth, scan } => (depth, scan),
        };
        if rules.top && !is_exact_plain(v) {
            let value = unsafe { Bound::from_borrowed_ptr(self.py, v) };
            if self.is_fragment(&value)? {
                self.fragment(&value)?;
                return Ok(false);
            }
            return self.emit(value.as_ptr(), depth, scan, rules.redact);
        }
        self.emit(v, depth, scan, rules.redact)
    }
}
