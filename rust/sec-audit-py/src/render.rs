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

use crate::obj::{Borrowed, Exact};

type Obj = Borrowed;

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
    /// Identities of the memoised keys (0: free); `ids[set * MEMO_WAYS + way]` goes
    /// with `slots[...]` and `owners[...]`.
    ids: Vec<usize>,
    /// Strong references to them, so an address cannot be reused by another object.
    owners: Vec<Option<Py<PyAny>>>,
    slots: Vec<Slot>,
    /// Next way to evict, per set.
    victim: Vec<u8>,
}

impl KeyMemo {
    #[inline]
    fn set(id: usize) -> usize {
        let addr = id as u64;
        ((addr >> 4).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32) as usize & (MEMO_SETS - 1)
    }

    #[inline]
    fn get(&self, key: Obj) -> Option<&Slot> {
        let id = key.id();
        let base = Self::set(id) * MEMO_WAYS;
        let ways = self.ids.get(base..base + MEMO_WAYS)?;
        let way = ways.iter().position(|&k| k == id)?;
        Some(&self.slots[base + way])
    }

    fn put(&mut self, py: Python<'_>, key: Obj, json: &[u8], flags: u8) {
        if !self.enabled || json.len() > MEMO_JSON {
            return;
        }
        if self.ids.is_empty() {
            let n = MEMO_SETS * MEMO_WAYS;
            self.ids = vec![0; n];
            self.owners = (0..n).map(|_| None).collect();
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
        let id = key.id();
        let set = Self::set(id);
        let base = set * MEMO_WAYS;
        let way = match self.ids[base..base + MEMO_WAYS]
            .iter()
            .position(|&k| k == 0)
        {
            Some(free) => free,
            None => {
                let v = self.victim[set] as usize;
                self.victim[set] = ((v + 1) % MEMO_WAYS) as u8;
                v
            }
        };
        let i = base + way;
        self.ids[i] = id;
        self.owners[i] = Some(key.bind(py).unbind());
        let slot = &mut self.slots[i];
        slot.flags = flags;
        slot.len = json.len() as u8;
        slot.json[..json.len()].copy_from_slice(json);
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
    /// The container (kept alive by `_owner`), and its iterator for `Kind::Iter`.
    obj: Obj,
    _owner: Py<PyAny>,
    iter: Option<Py<PyIterator>>,
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
        // SAFETY: `out` is ASCII (the writer escapes everything else), `len` bytes of
        // valid UTF-8 that CPython copies; the new reference is owned by the `Bound`.
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
        // A text longer than the window is not encoded whole: CPython would cache its
        // UTF-8 form on the str (up to 4 bytes per character); only the window is read.
        if !self.verbatim
            && v.char_len()
                .is_none_or(|n| n > self.inner.core.window_len())
        {
            return self.string_slow(v, scan);
        }
        let text = match v.utf8() {
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
        let _keep = (scan && self.inner.host_patterns).then(|| v.bind(self.py));
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
        let s = v.bind(self.py);
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
        v.is_instance(self.inner.fragment_cls.bind(self.py))
    }

    fn is_mapping(&self, v: &Bound<'py, PyAny>) -> PyResult<bool> {
        if Borrowed::of(v).exact() == Exact::Dict {
            return Ok(true);
        }
        v.is_instance(self.inner.mapping_cls.bind(self.py))
    }

    // --- numbers ---------------------------------------------------------------------

    fn int_exact(&mut self, v: Obj) -> PyResult<()> {
        let mut overflow: std::os::raw::c_int = 0;
        // SAFETY: `v` is a live exact `int` (the caller's dispatch); the conversion runs
        // no Python code and reports failure through the error indicator, read at once.
        let (x, failed) = unsafe {
            let x = ffi::PyLong_AsLongLongAndOverflow(v.ptr(), &mut overflow);
            (x, x == -1 && !ffi::PyErr_Occurred().is_null())
        };
        if failed {
            return Err(PyErr::fetch(self.py));
        }
        if overflow == 0 {
            write_i64(&mut self.out, x);
            return Ok(());
        }
        // Beyond 64 bits: `int.__repr__` (raises past the int-digits limit).
        let r = v.bind(self.py).repr()?.into_any();
        let t = full_text(&r)?;
        self.out.extend_from_slice(t.bytes());
        Ok(())
    }

    fn float(&mut self, v: Obj) -> PyResult<()> {
        // SAFETY: `v` is a live `float` (or subclass: its stored value, as `float.__repr__`
        // reads it); no Python code runs, failure is reported through the error indicator.
        let (x, failed) = unsafe {
            let x = ffi::PyFloat_AsDouble(v.ptr());
            (x, x == -1.0 && !ffi::PyErr_Occurred().is_null())
        };
        if failed {
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
        match v.exact() {
            Exact::None => self.out.extend_from_slice(b"null"),
            Exact::Str => self.string(v, scan)?,
            Exact::Int => self.int_exact(v)?,
            Exact::True => self.out.extend_from_slice(b"true"),
            Exact::False => self.out.extend_from_slice(b"false"),
            Exact::Dict => {
                let frame = Frame::mapping(self.limits, depth, scan, redact);
                return Ok(Some(self.open(v, Kind::Dict, frame)));
            }
            Exact::List => {
                let frame = Frame::sequence(self.limits, depth, scan, redact);
                return Ok(Some(self.open(v, Kind::List, frame)));
            }
            Exact::Float => self.float(v)?,
            Exact::Tuple => {
                let frame = Frame::sequence(self.limits, depth, scan, redact);
                return Ok(Some(self.open(v, Kind::Tuple, frame)));
            }
            Exact::Other => return Ok(None),
        }
        Ok(Some(false))
    }

    /// Subclasses and the rare types (steps 3-12 of docs/engine.md), with a strong
    /// reference held throughout: Python code may run from here on.
    fn emit_other(&mut self, v: Obj, depth: usize, scan: bool, redact: bool) -> PyResult<bool> {
        let mut cur = v.bind(self.py);
        let mut enums_seen: Vec<usize> = Vec::new();
        loop {
            // `cur` is held: Python code may run while `p` is used.
            let p = Borrowed::of(&cur);
            if let Some(opened) = self.emit_exact(p, depth, scan, redact)? {
                return Ok(opened);
            }
            {
                if p.is_int() {
                    let r = self.inner.int_repr.bind(self.py).call1((&cur,))?;
                    let t = full_text(&r)?;
                    self.out.extend_from_slice(t.bytes());
                } else if p.is_float() {
                    self.float(p)?;
                } else if p.is_str() {
                    self.string(p, scan)?;
                } else if p.is_bytes_like() {
                    self.out.extend_from_slice(Q_REDACTED);
                } else {
                    let r = self.inner.classify.bind(self.py).call1((&cur,))?;
                    let r = r.cast_into::<PyTuple>().map_err(PyErr::from)?;
                    let kind: i64 = r.get_item(0)?.extract()?;
                    let payload = r.get_item(1)?;
                    match kind {
                        K_TEXT => {
                            // `payload` is held for the call.
                            let text = Borrowed::of(&payload);
                            if !text.is_str() {
                                return Err(pyo3::exceptions::PyTypeError::new_err(
                                    "classify: text kind needs a str",
                                ));
                            }
                            self.string(text, scan)?
                        }
                        K_ENUM => {
                            let id = p.id();
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
    fn push_frame(
        &mut self,
        obj: Obj,
        iter: Option<Py<PyIterator>>,
        kind: Kind,
        rules: Frame,
    ) -> bool {
        if !self.s.path.enter(obj.id()) {
            self.out.extend_from_slice(Q_REDACTED);
            return false;
        }
        let start = self.out.len();
        let suspicious = matches!(kind, Kind::Iter);
        self.out.push(if rules.is_map { b'{' } else { b'[' });
        let entries = self.s.pool.pop().unwrap_or_default();
        self.stack.push(Open {
            obj,
            _owner: obj.bind(self.py).unbind(),
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
        self.push_frame(obj, None, kind, rules)
    }

    fn open_iter(
        &mut self,
        container: &Bound<'py, PyAny>,
        items: Bound<'py, PyIterator>,
        rules: Frame,
    ) -> bool {
        self.push_frame(
            Borrowed::of(container),
            Some(items.unbind()),
            Kind::Iter,
            rules,
        )
    }

    // --- entry points ----------------------------------------------------------------

    /// The attribute walk: depth 0, cap max_attributes, top-level exemptions.
    fn attributes(&mut self, attrs: &Bound<'py, PyAny>) -> PyResult<()> {
        let frame = Frame::attributes(self.limits);
        if Borrowed::of(attrs).exact() == Exact::Dict {
            self.open(Borrowed::of(attrs), Kind::Dict, frame);
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
        if !Borrowed::of(value).is_plain() && self.is_fragment(value)? {
            return self.fragment(value);
        }
        self.value(Borrowed::of(value), 1, true, true)
    }

    /// One envelope member (docs/engine.md, clarifications 1-2). `k`/`v` borrowed from
    /// the envelope.
    pub fn member(&mut self, k: Obj, v: Obj, first: bool) -> PyResult<()> {
        if !first {
            push_bytes(&mut self.out, self.sep.item);
        }
        // Python code may run below for anything but the plain types: own them first.
        let key_plain = k.exact() == Exact::Str;
        let _hold = (!key_plain || !v.is_plain()).then(|| (k.bind(self.py), v.bind(self.py)));
        let (flags, _) = self.key(k, false)?;
        push_bytes(&mut self.out, self.sep.kv);
        let member = member_key(flags).rule(|| {
            let value = v.bind(self.py);
            self.is_mapping(&value)
        })?;
        match member {
            Member::Attributes => {
                let value = v.bind(self.py);
                self.attributes(&value)
            }
            // A `body` string: the string rule, no depth check.
            Member::Scrubbed if v.is_str() => self.string(v, true),
            Member::Scrubbed => self.value(v, 1, true, true),
            Member::Verbatim => self.verbatim_member(v),
        }
    }

    /// The `resource` member, `{"service.name": service}`, written without a dict: what
    /// `member` writes for it (both keys are ours and exact `str`s; the value verbatim).
    pub fn resource_member(&mut self, k: Obj, name: Obj, service: Obj) -> PyResult<()> {
        push_bytes(&mut self.out, self.sep.item);
        self.key(k, false)?;
        push_bytes(&mut self.out, self.sep.kv);
        self.out.push(b'{');
        self.key(name, false)?;
        push_bytes(&mut self.out, self.sep.kv);
        let _hold = (!service.is_plain()).then(|| service.bind(self.py));
        self.verbatim_member(service)?;
        self.out.push(b'}');
        Ok(())
    }

    /// Our own members: no limits, no scrubbing; cycles and markers kept. Timestamps,
    /// severity and event name first, without setting up a walk.
    fn verbatim_member(&mut self, v: Obj) -> PyResult<()> {
        if v.exact() == Exact::Int {
            return self.int_exact(v);
        }
        if v.exact() == Exact::Str {
            if let Some(text) = v.utf8() {
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
        let exact = k.exact() == Exact::Str;
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
        let is_str = exact || k.is_str();
        let owner;
        let text: Text<'py> = if is_str {
            owner = k.bind(self.py);
            full_text(&owner)?
        } else {
            let s = k.bind(self.py).str()?.into_any();
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
            self.s.keys.put(self.py, k, json, flags);
        }
        Ok((flags, cut || !exact))
    }

    // --- the loop over open frames ---------------------------------------------------

    #[inline(always)]
    fn next(&mut self) -> PyResult<Next<'py>> {
        let py = self.py;
        let frame = self.stack.last_mut().expect("open frame");
        // Walked by `dict_entries` / `seq_items`.
        debug_assert!(matches!(frame.kind, Kind::Iter), "exact containers");
        let is_map = frame.rules.is_map;
        let mut iter = frame.iter.as_ref().expect("an iterator").bind(py).clone();
        let item = match iter.next() {
            None => return Ok(Next::End),
            Some(item) => item?,
        };
        // The items are new references, held in `Next` while they are used.
        if is_map {
            let (k, v): (Bound<'py, PyAny>, Bound<'py, PyAny>) = item.extract()?;
            Ok(Next::Pair(Borrowed::of(&k), Borrowed::of(&v), Some((k, v))))
        } else {
            Ok(Next::Item(Borrowed::of(&item), Some(item)))
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
        if hold.is_none() && k.exact() != Exact::Str {
            // `str(key)` runs Python code: own both before it.
            hold = Some((k.bind(self.py), v.bind(self.py)));
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
            let Some((k, v)) = obj.dict_next(&mut f.pos) else {
                self.close();
                return Ok(());
            };
            let Some(first) = f.rules.advance() else {
                self.overflow_key();
                self.close();
                return Ok(());
            };
            // `str(key)` runs Python code: own both before it.
            let hold = (k.exact() != Exact::Str).then(|| (k.bind(self.py), v.bind(self.py)));
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
            let Some(item) = obj.seq_item(f.pos, is_list) else {
                self.close();
                return Ok(());
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
        if rules.top && !v.is_plain() {
            let value = v.bind(self.py);
            if self.is_fragment(&value)? {
                self.fragment(&value)?;
                return Ok(false);
            }
            return self.emit(Borrowed::of(&value), depth, scan, rules.redact);
        }
        self.emit(v, depth, scan, rules.redact)
    }
}
