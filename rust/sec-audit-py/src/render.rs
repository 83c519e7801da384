//! `render` / `project`: the projection walk over Python objects (docs/engine.md), the
//! same algorithm as the reference's `projection.Walk`: an explicit stack of open
//! containers (no recursion, so depth costs nothing but the bound), containers iterated
//! lazily and abandoned at their cap, output written straight into one `Vec<u8>`.

use crate::host::AttachedHost;
use crate::text::{full_text, window_text};
use crate::Inner;
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::{PyIterator, PyTuple};
use sec_audit_engine::json_writer::{compact_separators, write_float, write_str};
use sec_audit_engine::projection::{
    dedupe_entries, Entry, Separators, COMPACT_SEPARATORS, DEFAULT_SEPARATORS,
};
use sec_audit_engine::{Limits, REDACTED, TRUNCATED, TRUNCATED_KEY};

const Q_REDACTED: &[u8] = b"\"[REDACTED]\"";
const Q_TRUNCATED: &[u8] = b"\"[TRUNCATED]\"";

const UNBOUNDED: Limits = Limits {
    max_depth: usize::MAX,
    max_mapping_entries: usize::MAX,
    max_sequence_length: usize::MAX,
    max_string_length: usize::MAX,
    max_attributes: usize::MAX,
};

const KEY_EXEMPT: &[&[u8]] = &[
    b"event_type",
    b"schema_version",
    b"request_id",
    b"session.id",
    b"source.address",
    b"url.full",
    b"url.path",
    b"http.request.method",
    b"action.method",
];
const VALUE_EXEMPT: &[&[u8]] = &[
    b"event_type",
    b"schema_version",
    b"request_id",
    b"session.id",
    b"source.address",
];

// Kinds returned by the Python `classify` helper for the rare types.
const K_TEXT: i64 = 0;
const K_ENUM: i64 = 1;
const K_MAPPING: i64 = 2;
const K_MARKER: i64 = 3;
const K_SEQUENCE: i64 = 4;

enum Items<'py> {
    /// An exact `dict`: `PyDict_Next`.
    Dict(Bound<'py, PyAny>, ffi::Py_ssize_t),
    /// An exact `list` or `tuple`: by index.
    List(Bound<'py, PyAny>, ffi::Py_ssize_t),
    Tuple(Bound<'py, PyAny>, ffi::Py_ssize_t),
    /// Anything else: `iter(m.items())` or `iter(seq)`.
    Iter(Bound<'py, PyIterator>),
}

struct Frame<'py> {
    items: Items<'py>,
    is_map: bool,
    cap: usize,
    depth: usize,
    oid: usize,
    scan: bool,
    redact: bool,
    top: bool,
    index: usize,
    start: usize,
    entries: Vec<Entry>,
    suspicious: bool,
    pending: (usize, usize),
}

pub struct Walk<'a, 'py> {
    py: Python<'py>,
    inner: &'a Inner,
    pub out: Vec<u8>,
    sep: Separators,
    compact: bool,
    /// The limits in force: the engine's, or none at all while writing the envelope's
    /// own members (`verbatim`: no truncation of strings or keys either).
    limits: Limits,
    verbatim: bool,
    host: AttachedHost<'a, 'py>,
    path: Path,
    stack: Vec<Frame<'py>>,
    /// Entry lists of closed mappings, reused by the next ones.
    pool: Vec<Vec<Entry>>,
}

/// The containers open from the root to here (identity): a short path is scanned, the
/// part past `SHORT` lives in a set, so 100,000 open containers stay linear.
#[derive(Default)]
struct Path {
    open: Vec<usize>,
    deep: std::collections::HashSet<usize>,
}

const SHORT: usize = 32;

impl Path {
    #[inline]
    fn contains(&self, oid: usize) -> bool {
        let n = self.open.len();
        self.open[..n.min(SHORT)].contains(&oid) || (n > SHORT && self.deep.contains(&oid))
    }
    #[inline]
    fn push(&mut self, oid: usize) {
        if self.open.len() >= SHORT {
            self.deep.insert(oid);
        }
        self.open.push(oid);
    }
    #[inline]
    fn pop(&mut self) -> Option<usize> {
        let oid = self.open.pop()?;
        if self.open.len() >= SHORT {
            self.deep.remove(&oid);
        }
        Some(oid)
    }
}

enum Next<'py> {
    End,
    Item(Bound<'py, PyAny>),
    Pair(Bound<'py, PyAny>, Bound<'py, PyAny>),
}

#[inline]
fn is_ptr(o: &Bound<'_, PyAny>, p: *mut ffi::PyObject) -> bool {
    o.as_ptr() == p
}

impl<'a, 'py> Walk<'a, 'py> {
    pub fn new(py: Python<'py>, inner: &'a Inner, compact: bool) -> Self {
        Walk {
            py,
            inner,
            out: Vec::with_capacity(1024),
            sep: if compact {
                COMPACT_SEPARATORS
            } else {
                DEFAULT_SEPARATORS
            },
            compact,
            limits: inner.core.limits,
            verbatim: false,
            host: AttachedHost {
                py,
                patterns: &inner.py_patterns,
                err: None,
            },
            path: Path::default(),
            stack: Vec::new(),
            pool: Vec::new(),
        }
    }

    fn host_err(&mut self) -> PyErr {
        self.host
            .err
            .take()
            .unwrap_or_else(|| pyo3::exceptions::PyRuntimeError::new_err("value pattern failed"))
    }

    /// The string rule on a `str` (raw text of a subclass).
    fn string(&mut self, s: &Bound<'py, PyAny>, scan: bool) -> PyResult<()> {
        if self.verbatim {
            let text = full_text(s)?;
            write_str(&mut self.out, text.bytes());
            return Ok(());
        }
        let (text, beyond) = window_text(s, self.inner.core.window_len())?;
        let core = &self.inner.core;
        if core
            .write_string(&mut self.out, text.bytes(), beyond, scan, &mut self.host)
            .is_err()
        {
            return Err(self.host_err());
        }
        Ok(())
    }

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

    pub fn is_mapping(&self, v: &Bound<'py, PyAny>) -> PyResult<bool> {
        if unsafe { ffi::PyDict_CheckExact(v.as_ptr()) } != 0 {
            return Ok(true);
        }
        let r = unsafe { ffi::PyObject_IsInstance(v.as_ptr(), self.inner.mapping_cls.as_ptr()) };
        if r < 0 {
            return Err(PyErr::fetch(self.py));
        }
        Ok(r == 1)
    }

    fn write_int(&mut self, v: &Bound<'py, PyAny>, exact: bool) -> PyResult<()> {
        if exact {
            let mut overflow: std::os::raw::c_int = 0;
            let x = unsafe { ffi::PyLong_AsLongLongAndOverflow(v.as_ptr(), &mut overflow) };
            if overflow == 0 {
                if x == -1 && unsafe { !ffi::PyErr_Occurred().is_null() } {
                    return Err(PyErr::fetch(self.py));
                }
                let mut buf = itoa_buf(x);
                self.out.extend_from_slice(buf.as_bytes_mut());
                return Ok(());
            }
            let r =
                unsafe { Bound::from_owned_ptr_or_err(self.py, ffi::PyObject_Repr(v.as_ptr()))? };
            let t = full_text(&r)?;
            self.out.extend_from_slice(t.bytes());
            return Ok(());
        }
        let r = self.inner.int_repr.bind(self.py).call1((v,))?;
        let t = full_text(&r)?;
        self.out.extend_from_slice(t.bytes());
        Ok(())
    }

    fn write_float(&mut self, v: &Bound<'py, PyAny>) -> PyResult<()> {
        let x = unsafe { ffi::PyFloat_AsDouble(v.as_ptr()) };
        if x == -1.0 && unsafe { !ffi::PyErr_Occurred().is_null() } {
            return Err(PyErr::fetch(self.py));
        }
        if x.is_nan() {
            self.out.extend_from_slice(b"\"nan\"");
        } else if x.is_infinite() {
            self.out.extend_from_slice(if x > 0.0 {
                b"\"inf\"" as &[u8]
            } else {
                b"\"-inf\""
            });
        } else {
            write_float(&mut self.out, x);
        }
        Ok(())
    }

    /// Write a scalar, or open a container frame. Returns whether a frame was opened.
    pub fn emit(
        &mut self,
        value: &Bound<'py, PyAny>,
        depth: usize,
        scan: bool,
        redact: bool,
    ) -> PyResult<bool> {
        if depth >= self.limits.max_depth {
            self.out.extend_from_slice(Q_TRUNCATED);
            return Ok(false);
        }
        let mut v = value.clone();
        let mut enums_seen: Vec<usize> = Vec::new();
        loop {
            let p = v.as_ptr();
            unsafe {
                if p == ffi::Py_None() {
                    self.out.extend_from_slice(b"null");
                } else if p == ffi::Py_True() {
                    self.out.extend_from_slice(b"true");
                } else if p == ffi::Py_False() {
                    self.out.extend_from_slice(b"false");
                } else if ffi::PyUnicode_CheckExact(p) != 0 {
                    self.string(&v, scan)?;
                } else if ffi::PyDict_CheckExact(p) != 0 {
                    let cap = self.limits.max_mapping_entries;
                    return Ok(self.open(
                        Items::Dict(v.clone(), 0),
                        &v,
                        true,
                        cap,
                        depth,
                        scan,
                        redact,
                        false,
                    ));
                } else if ffi::PyLong_CheckExact(p) != 0 {
                    self.write_int(&v, true)?;
                } else if ffi::PyList_CheckExact(p) != 0 {
                    let cap = self.limits.max_sequence_length;
                    return Ok(self.open(
                        Items::List(v.clone(), 0),
                        &v,
                        false,
                        cap,
                        depth,
                        scan,
                        redact,
                        false,
                    ));
                } else if ffi::PyFloat_CheckExact(p) != 0 {
                    self.write_float(&v)?;
                } else if ffi::PyTuple_CheckExact(p) != 0 {
                    let cap = self.limits.max_sequence_length;
                    return Ok(self.open(
                        Items::Tuple(v.clone(), 0),
                        &v,
                        false,
                        cap,
                        depth,
                        scan,
                        redact,
                        false,
                    ));
                } else if ffi::PyLong_Check(p) != 0 {
                    self.write_int(&v, false)?;
                } else if ffi::PyFloat_Check(p) != 0 {
                    self.write_float(&v)?;
                } else if ffi::PyUnicode_Check(p) != 0 {
                    self.string(&v, scan)?;
                } else if ffi::PyBytes_Check(p) != 0 || ffi::PyByteArray_Check(p) != 0 {
                    self.out.extend_from_slice(Q_REDACTED);
                } else {
                    let r = self.inner.classify.bind(self.py).call1((&v,))?;
                    let r = r.cast_into::<PyTuple>().map_err(PyErr::from)?;
                    let kind: i64 = r.get_item(0)?.extract()?;
                    let payload = r.get_item(1)?;
                    match kind {
                        K_TEXT => self.string(&payload, scan)?,
                        K_ENUM => {
                            let id = p as usize;
                            if enums_seen.contains(&id) {
                                self.out.extend_from_slice(Q_REDACTED);
                                return Ok(false);
                            }
                            enums_seen.push(id);
                            v = payload;
                            continue;
                        }
                        K_MAPPING => {
                            let items = v
                                .call_method0(pyo3::intern!(self.py, "items"))?
                                .try_iter()?;
                            let cap = self.limits.max_mapping_entries;
                            return Ok(self.open(
                                Items::Iter(items),
                                &v,
                                true,
                                cap,
                                depth,
                                scan,
                                redact,
                                false,
                            ));
                        }
                        K_SEQUENCE => {
                            let items = v.try_iter()?;
                            let cap = self.limits.max_sequence_length;
                            return Ok(self.open(
                                Items::Iter(items),
                                &v,
                                false,
                                cap,
                                depth,
                                scan,
                                redact,
                                false,
                            ));
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

    /// Open a container (or write the cycle marker). Returns whether a frame was opened.
    #[allow(clippy::too_many_arguments)]
    fn open(
        &mut self,
        items: Items<'py>,
        container: &Bound<'py, PyAny>,
        is_map: bool,
        cap: usize,
        depth: usize,
        scan: bool,
        redact: bool,
        top: bool,
    ) -> bool {
        let oid = container.as_ptr() as usize;
        if self.path.contains(oid) {
            self.out.extend_from_slice(Q_REDACTED);
            return false;
        }
        self.path.push(oid);
        let start = self.out.len();
        let suspicious = matches!(items, Items::Iter(_));
        self.out.push(if is_map { b'{' } else { b'[' });
        self.stack.push(Frame {
            items,
            is_map,
            cap,
            depth,
            oid,
            scan,
            redact,
            top,
            index: 0,
            start,
            entries: self.pool.pop().unwrap_or_default(),
            suspicious,
            pending: (0, 0),
        });
        true
    }

    /// The attribute walk: depth 0, cap max_attributes, top-level exemptions.
    pub fn attributes(&mut self, attrs: &Bound<'py, PyAny>) -> PyResult<()> {
        let items = if unsafe { ffi::PyDict_CheckExact(attrs.as_ptr()) } != 0 {
            Items::Dict(attrs.clone(), 0)
        } else {
            Items::Iter(
                attrs
                    .call_method0(pyo3::intern!(self.py, "items"))?
                    .try_iter()?,
            )
        };
        let cap = self.limits.max_attributes;
        self.open(items, attrs, true, cap, 0, true, true, true);
        self.run()
    }

    /// Project one value at `depth`.
    pub fn value(
        &mut self,
        v: &Bound<'py, PyAny>,
        depth: usize,
        scan: bool,
        redact: bool,
    ) -> PyResult<()> {
        self.emit(v, depth, scan, redact)?;
        self.run()
    }

    /// One envelope member (docs/engine.md, clarifications 1-2).
    pub fn member(
        &mut self,
        key: &Bound<'py, PyAny>,
        value: &Bound<'py, PyAny>,
        first: bool,
    ) -> PyResult<()> {
        if !first {
            self.out.extend_from_slice(self.sep.item);
        }
        let kp = key.as_ptr();
        let is_str_key = unsafe { ffi::PyUnicode_Check(kp) } != 0;
        let kt = if unsafe { ffi::PyUnicode_CheckExact(kp) } != 0 {
            full_text(key)?
        } else {
            let s = unsafe { Bound::from_owned_ptr_or_err(self.py, ffi::PyObject_Str(kp))? };
            let t = full_text(&s)?;
            crate::text::Text::owned(s, t)
        };
        let kb = kt.bytes();
        write_str(&mut self.out, kb);
        self.out.extend_from_slice(self.sep.kv);
        if is_str_key && kb == b"attributes" && self.is_mapping(value)? {
            self.attributes(value)
        } else if is_str_key && (kb == b"attributes" || kb == b"body") {
            if unsafe { ffi::PyUnicode_Check(value.as_ptr()) } != 0 {
                self.body_string(value)
            } else {
                self.value(value, 1, true, true)
            }
        } else {
            // Our own members: verbatim (no limits, no scrubbing), cycles and markers kept.
            self.limits = UNBOUNDED;
            self.verbatim = true;
            let r = self.value(value, 0, false, false);
            self.limits = self.inner.core.limits;
            self.verbatim = false;
            r
        }
    }

    /// A top-level `body` string: the string rule, no depth check.
    pub fn body_string(&mut self, v: &Bound<'py, PyAny>) -> PyResult<()> {
        self.string(v, true)
    }

    fn next(&mut self) -> PyResult<Next<'py>> {
        let py = self.py;
        let frame = self.stack.last_mut().expect("open frame");
        unsafe {
            match &mut frame.items {
                Items::Dict(d, pos) => {
                    let mut k: *mut ffi::PyObject = std::ptr::null_mut();
                    let mut v: *mut ffi::PyObject = std::ptr::null_mut();
                    if ffi::PyDict_Next(d.as_ptr(), pos, &mut k, &mut v) == 0 {
                        return Ok(Next::End);
                    }
                    Ok(Next::Pair(
                        Bound::from_borrowed_ptr(py, k),
                        Bound::from_borrowed_ptr(py, v),
                    ))
                }
                Items::List(l, i) => {
                    if *i >= ffi::PyList_Size(l.as_ptr()) {
                        return Ok(Next::End);
                    }
                    let item = ffi::PyList_GetItem(l.as_ptr(), *i);
                    *i += 1;
                    Ok(Next::Item(Bound::from_borrowed_ptr_or_err(py, item)?))
                }
                Items::Tuple(t, i) => {
                    if *i >= ffi::PyTuple_Size(t.as_ptr()) {
                        return Ok(Next::End);
                    }
                    let item = ffi::PyTuple_GetItem(t.as_ptr(), *i);
                    *i += 1;
                    Ok(Next::Item(Bound::from_borrowed_ptr_or_err(py, item)?))
                }
                Items::Iter(it) => match it.next() {
                    None => Ok(Next::End),
                    Some(Err(e)) => Err(e),
                    Some(Ok(item)) => {
                        if frame.is_map {
                            let (k, v): (Bound<'py, PyAny>, Bound<'py, PyAny>) = item.extract()?;
                            Ok(Next::Pair(k, v))
                        } else {
                            Ok(Next::Item(item))
                        }
                    }
                },
            }
        }
    }

    fn run(&mut self) -> PyResult<()> {
        while !self.stack.is_empty() {
            let height = self.stack.len();
            let is_map = self.stack[height - 1].is_map;
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
        if frame.is_map {
            if frame.suspicious {
                dedupe_entries(&mut self.out, frame.start, &frame.entries, self.sep);
            }
            self.out.push(b'}');
        } else {
            self.out.push(b']');
        }
        frame.entries.clear();
        self.pool.push(std::mem::take(&mut frame.entries));
        let popped = self.path.pop();
        debug_assert_eq!(popped, Some(frame.oid));
        if self.stack.last().is_some_and(|f| f.is_map) {
            self.finish_entry();
        }
    }

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
        let item = match self.next()? {
            Next::End => return Ok(false),
            Next::Item(i) => i,
            Next::Pair(..) => unreachable!(),
        };
        let frame = self.stack.last_mut().expect("open frame");
        if frame.index == frame.cap {
            self.out.extend_from_slice(self.sep.item);
            self.out.extend_from_slice(Q_TRUNCATED);
            return Ok(false);
        }
        if frame.index > 0 {
            self.out.extend_from_slice(self.sep.item);
        }
        frame.index += 1;
        let (d, scan, redact) = (frame.depth + 1, frame.scan, frame.redact);
        self.emit(&item, d, scan, redact)?;
        Ok(true)
    }

    fn map_step(&mut self) -> PyResult<bool> {
        let (key, value) = match self.next()? {
            Next::End => return Ok(false),
            Next::Pair(k, v) => (k, v),
            Next::Item(_) => unreachable!(),
        };
        let sep = self.sep;
        let frame = self.stack.last_mut().expect("open frame");
        if frame.index == frame.cap {
            // The overflow key, a literal; overwritten in place if present (dedupe).
            if frame.index > 0 {
                self.out.extend_from_slice(sep.item);
            }
            let ks = self.out.len();
            write_str(&mut self.out, TRUNCATED_KEY.as_bytes());
            let ke = self.out.len();
            self.out.extend_from_slice(sep.kv);
            self.out.extend_from_slice(Q_TRUNCATED);
            frame.pending = (ks, ke);
            frame.suspicious = true;
            let end = self.out.len();
            frame.entries.push(Entry {
                key_start: ks,
                key_end: ke,
                val_end: end,
            });
            return Ok(false);
        }
        let first = frame.index == 0;
        frame.index += 1;
        let (depth, scan, redact, top) = (frame.depth + 1, frame.scan, frame.redact, frame.top);
        let kp = key.as_ptr();
        let exact_key = unsafe { ffi::PyUnicode_CheckExact(kp) } != 0;
        let key_text = if exact_key || unsafe { ffi::PyUnicode_Check(kp) } != 0 {
            full_text(&key)?
        } else {
            let s = unsafe { Bound::from_owned_ptr_or_err(self.py, ffi::PyObject_Str(kp))? };
            // keep the str alive through the Text owner
            let t = full_text(&s)?;
            crate::text::Text::owned(s, t)
        };
        let kb = key_text.bytes();
        if !first {
            self.out.extend_from_slice(sep.item);
        }
        let ks = self.out.len();
        let cut = if self.verbatim {
            write_str(&mut self.out, kb);
            false
        } else {
            self.inner.core.write_key(&mut self.out, kb)
        };
        let ke = self.out.len();
        self.out.extend_from_slice(sep.kv);
        let frame = self.stack.last_mut().expect("open frame");
        frame.pending = (ks, ke);
        if cut || !exact_key {
            frame.suspicious = true;
        }
        if redact && !(top && KEY_EXEMPT.contains(&kb)) && self.inner.core.keys.is_sensitive(kb) {
            self.out
                .extend_from_slice(if depth >= self.limits.max_depth {
                    Q_TRUNCATED
                } else {
                    Q_REDACTED
                });
            return Ok(true);
        }
        if top && !is_plain(&value) && self.is_fragment(&value)? {
            self.fragment(&value)?;
            return Ok(true);
        }
        let scan = scan && !(top && VALUE_EXEMPT.contains(&kb));
        self.emit(&value, depth, scan, redact)?;
        Ok(true)
    }
}

/// Types that can never be a `BodyFragment`.
fn is_plain(v: &Bound<'_, PyAny>) -> bool {
    let p = v.as_ptr();
    unsafe {
        is_ptr(v, ffi::Py_None())
            || ffi::PyUnicode_CheckExact(p) != 0
            || ffi::PyLong_CheckExact(p) != 0
            || ffi::PyDict_CheckExact(p) != 0
            || ffi::PyList_CheckExact(p) != 0
            || ffi::PyFloat_CheckExact(p) != 0
    }
}

struct ItoaBuf {
    buf: [u8; 24],
    start: usize,
}

impl ItoaBuf {
    fn as_bytes_mut(&mut self) -> &[u8] {
        &self.buf[self.start..]
    }
}

fn itoa_buf(x: i64) -> ItoaBuf {
    let mut buf = [0u8; 24];
    let mut i = buf.len();
    let neg = x < 0;
    let mut u = x.unsigned_abs();
    loop {
        i -= 1;
        buf[i] = b'0' + (u % 10) as u8;
        u /= 10;
        if u == 0 {
            break;
        }
    }
    if neg {
        i -= 1;
        buf[i] = b'-';
    }
    ItoaBuf { buf, start: i }
}

// Keep the markers' text in one place (the quoted forms above must match).
const _: () = {
    assert!(REDACTED.len() + 2 == Q_REDACTED.len());
    assert!(TRUNCATED.len() + 2 == Q_TRUNCATED.len());
};
