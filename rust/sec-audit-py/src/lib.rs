//! `sec_audit._native`: thin PyO3 bindings over the pure-Rust core `sec-audit-engine`.
//!
//! `Engine` is compiled once from plain data that `sec_audit.core.engine.native` takes
//! from `EngineConfig`. `render`/`project` walk the Python objects directly (render.rs);
//! `capture_body` works on the bytes with the GIL released. A Rust panic never crosses
//! the boundary: it becomes `RuntimeError("sec_audit native engine panic: ...")`.

mod host;
mod obj;
mod render;
mod text;

use host::DetachedHost;
use obj::Borrowed;
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyFrozenSet, PyString, PyTuple};
use render::{with_scratch, Scratch, Walk};
use sec_audit_engine::body::BodyOutcome;
use sec_audit_engine::projection::{KEY_EXEMPT, VALUE_EXEMPT};
use sec_audit_engine::{EngineSpec, Limits, PatternSpec, ScrubMode};
use std::panic::{catch_unwind, AssertUnwindSafe};

/// Everything `Engine` holds (shared read-only by every call).
pub struct Inner {
    pub core: sec_audit_engine::Engine,
    pub py_patterns: Vec<Py<PyAny>>,
    pub classify: Py<PyAny>,
    pub fragment_cls: Py<PyAny>,
    pub mapping_cls: Py<PyAny>,
    pub int_repr: Py<PyAny>,
    pub body_fallback: Py<PyAny>,
    /// Some user pattern may be evaluated by Python (render takes references then).
    pub host_patterns: bool,
    /// Reused by `render`/`project` calls (render.rs).
    pub scratch: std::sync::Mutex<Scratch>,
}

fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".to_string()
    }
}

/// Run `f`, turning a Rust panic into a Python `RuntimeError`.
fn guarded<T>(f: impl FnOnce() -> PyResult<T>) -> PyResult<T> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(p) => Err(PyRuntimeError::new_err(format!(
            "sec_audit native engine panic: {}",
            panic_message(&*p)
        ))),
    }
}

fn ascii_str<'py>(py: Python<'py>, out: &[u8]) -> Bound<'py, PyString> {
    debug_assert!(out.is_ascii());
    // The writer only produces ASCII.
    PyString::new(py, std::str::from_utf8(out).unwrap_or(""))
}

/// A plan from `plan_pattern` ("rust" / "fancy" with the translation, "python").
fn pattern_spec(plan: &str, source: Option<&str>) -> PyResult<PatternSpec> {
    match (plan, source) {
        ("rust", Some(s)) => Ok(PatternSpec::Linear(s.to_string())),
        ("fancy", Some(s)) => Ok(PatternSpec::Backtracking(s.to_string())),
        ("python", _) => Ok(PatternSpec::Host),
        _ => Err(PyValueError::new_err(format!(
            "bad pattern plan {plan:?} (source given: {})",
            source.is_some()
        ))),
    }
}

#[pyclass(frozen, module = "sec_audit._native", name = "Engine")]
pub struct Engine {
    inner: Inner,
}

/// The three members of `render_event`'s `trace`, which must be a 3-tuple.
fn trace_members<'py>(
    trace: &Bound<'py, PyAny>,
) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyAny>, Bound<'py, PyAny>)> {
    match trace.cast::<PyTuple>() {
        Ok(t) if t.is_exact_instance_of::<PyTuple>() && t.len() == 3 => {
            Ok((t.get_item(0)?, t.get_item(1)?, t.get_item(2)?))
        }
        _ => Err(pyo3::exceptions::PyTypeError::new_err(
            "trace must be None or a (trace_id, span_id, trace_flags) tuple",
        )),
    }
}

#[pymethods]
impl Engine {
    #[new]
    #[pyo3(signature = (
        *, sensitive_keys, key_allowlist, patterns, detectors, mode, limits,
        max_body_bytes, body_field_allowlist, classify, fragment_cls, mapping_cls,
        int_repr, body_fallback, key_tokens = Vec::new()
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        sensitive_keys: Vec<String>,
        key_allowlist: Vec<String>,
        patterns: Vec<(String, Option<String>, Py<PyAny>)>,
        detectors: Vec<String>,
        mode: &str,
        limits: (usize, usize, usize, usize, usize),
        max_body_bytes: usize,
        body_field_allowlist: Vec<String>,
        classify: Py<PyAny>,
        fragment_cls: Py<PyAny>,
        mapping_cls: Py<PyAny>,
        int_repr: Py<PyAny>,
        body_fallback: Py<PyAny>,
        key_tokens: Vec<String>,
    ) -> PyResult<Self> {
        let mode = match mode {
            "value" => ScrubMode::Value,
            "match" => ScrubMode::Match,
            other => {
                return Err(PyValueError::new_err(format!(
                    "unknown value_scrub_mode {other:?}"
                )))
            }
        };
        let (
            max_depth,
            max_mapping_entries,
            max_sequence_length,
            max_string_length,
            max_attributes,
        ) = limits;
        let spec = EngineSpec {
            sensitive_keys,
            key_allowlist,
            key_tokens,
            patterns: patterns
                .iter()
                .map(|(plan, src, _)| pattern_spec(plan, src.as_deref()))
                .collect::<PyResult<_>>()?,
            detectors,
            mode,
            limits: Limits {
                max_depth,
                max_mapping_entries,
                max_sequence_length,
                max_string_length,
                max_attributes,
            },
            max_body_bytes,
            body_field_allowlist,
        };
        let core = sec_audit_engine::Engine::new(&spec).map_err(PyValueError::new_err)?;
        Ok(Engine {
            inner: Inner {
                core,
                host_patterns: !patterns.is_empty(),
                scratch: std::sync::Mutex::new(Scratch::shared()),
                py_patterns: patterns.into_iter().map(|(_, _, p)| p).collect(),
                classify,
                fragment_cls,
                mapping_cls,
                int_repr,
                body_fallback,
            },
        })
    }

    /// One JSON line (no newline) for the formatter's envelope.
    #[pyo3(signature = (envelope, compact = false))]
    fn render<'py>(
        &self,
        py: Python<'py>,
        envelope: &Bound<'py, PyAny>,
        compact: bool,
    ) -> PyResult<Bound<'py, PyString>> {
        guarded(|| {
            with_scratch(&self.inner, |scratch| {
                let mut w = Walk::new(py, &self.inner, scratch, compact);
                w.push(b'{');
                if envelope.is_exact_instance_of::<PyDict>() {
                    let env = Borrowed::of(envelope);
                    let mut pos: pyo3::ffi::Py_ssize_t = 0;
                    let mut first = true;
                    // Borrowed entries; `member` binds them before any Python code runs.
                    while let Some((k, v)) = env.dict_next(&mut pos) {
                        w.member(k, v, first)?;
                        first = false;
                    }
                } else {
                    let items = envelope.call_method0(pyo3::intern!(py, "items"))?;
                    for (index, item) in items.try_iter()?.enumerate() {
                        let (key, value): (Bound<'py, PyAny>, Bound<'py, PyAny>) =
                            item?.extract()?;
                        w.member(Borrowed::of(&key), Borrowed::of(&value), index == 0)?;
                    }
                }
                w.push(b'}');
                w.finish()
            })
        })
    }

    /// One JSON line for an audit event: the envelope's members in the line's order
    /// (docs/events.md), the same bytes `render` writes for the envelope dict the
    /// reference's `render_event` builds; the formatter makes no dict. `trace` is None
    /// or a `(trace_id, span_id, trace_flags)` tuple.
    #[pyo3(signature = (
        timestamp, observed_timestamp, severity_text, severity_number, body, service,
        scope, attributes, event_name, trace = None, compact = false
    ))]
    #[allow(clippy::too_many_arguments)]
    fn render_event<'py>(
        &self,
        py: Python<'py>,
        timestamp: &Bound<'py, PyAny>,
        observed_timestamp: &Bound<'py, PyAny>,
        severity_text: &Bound<'py, PyAny>,
        severity_number: &Bound<'py, PyAny>,
        body: &Bound<'py, PyAny>,
        service: &Bound<'py, PyAny>,
        scope: &Bound<'py, PyAny>,
        attributes: &Bound<'py, PyAny>,
        event_name: &Bound<'py, PyAny>,
        trace: Option<&Bound<'py, PyAny>>,
        compact: bool,
    ) -> PyResult<Bound<'py, PyString>> {
        let trace = match trace {
            Some(t) if !t.is_none() => Some(trace_members(t)?),
            _ => None,
        };
        guarded(|| {
            with_scratch(&self.inner, |scratch| {
                let mut w = Walk::new(py, &self.inner, scratch, compact);
                let member =
                    |w: &mut Walk<'_, 'py>, key: &Bound<'py, PyString>, v: &Bound<'py, PyAny>| {
                        w.member(Borrowed::of(key.as_any()), Borrowed::of(v), false)
                    };
                w.push(b'{');
                w.member(
                    Borrowed::of(pyo3::intern!(py, "timestamp").as_any()),
                    Borrowed::of(timestamp),
                    true,
                )?;
                member(
                    &mut w,
                    pyo3::intern!(py, "observed_timestamp"),
                    observed_timestamp,
                )?;
                member(&mut w, pyo3::intern!(py, "severity_text"), severity_text)?;
                member(
                    &mut w,
                    pyo3::intern!(py, "severity_number"),
                    severity_number,
                )?;
                member(&mut w, pyo3::intern!(py, "body"), body)?;
                w.resource_member(
                    Borrowed::of(pyo3::intern!(py, "resource").as_any()),
                    Borrowed::of(pyo3::intern!(py, "service.name").as_any()),
                    Borrowed::of(service),
                )?;
                member(&mut w, pyo3::intern!(py, "instrumentation_scope"), scope)?;
                member(&mut w, pyo3::intern!(py, "attributes"), attributes)?;
                member(&mut w, pyo3::intern!(py, "event_name"), event_name)?;
                if let Some((trace_id, span_id, flags)) = &trace {
                    member(&mut w, pyo3::intern!(py, "trace_id"), trace_id)?;
                    member(&mut w, pyo3::intern!(py, "span_id"), span_id)?;
                    member(&mut w, pyo3::intern!(py, "trace_flags"), flags)?;
                }
                w.push(b'}');
                w.finish()
            })
        })
    }

    /// One value as a top-level attribute value (depth 1), without key exemptions.
    #[pyo3(signature = (value, compact = false))]
    fn project<'py>(
        &self,
        py: Python<'py>,
        value: &Bound<'py, PyAny>,
        compact: bool,
    ) -> PyResult<Bound<'py, PyString>> {
        guarded(|| {
            with_scratch(&self.inner, |scratch| {
                let mut w = Walk::new(py, &self.inner, scratch, compact);
                w.project(value)?;
                w.finish()
            })
        })
    }

    /// bytes -> (status, BodyFragment | None); the GIL is released while parsing.
    fn capture_body<'py>(
        &self,
        py: Python<'py>,
        data: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyTuple>> {
        guarded(|| {
            let owned;
            let bytes: &Bound<'py, PyBytes> = match data.cast::<PyBytes>() {
                Ok(b) => b,
                Err(_) => {
                    owned = py
                        .get_type::<PyBytes>()
                        .call1((data,))?
                        .cast_into::<PyBytes>()?;
                    &owned
                }
            };
            let slice: &[u8] = bytes.as_bytes();
            let inner = &self.inner;
            let (outcome, err) = py.detach(|| {
                let mut host = DetachedHost {
                    patterns: &inner.py_patterns,
                    err: None,
                };
                let r = inner.core.capture_body(slice, &mut host);
                (r, host.err)
            });
            let outcome = match outcome {
                Ok(o) => o,
                Err(_) => {
                    return Err(
                        err.unwrap_or_else(|| PyRuntimeError::new_err("value pattern failed"))
                    );
                }
            };
            let none = py.None().into_bound(py);
            let pair = match outcome {
                BodyOutcome::Ok(json) => {
                    let frag = inner.fragment_cls.bind(py).call1((ascii_str(py, &json),))?;
                    PyTuple::new(py, [PyString::intern(py, "ok").into_any(), frag])?
                }
                BodyOutcome::Fallback => {
                    return inner
                        .body_fallback
                        .bind(py)
                        .call1((bytes,))?
                        .cast_into::<PyTuple>()
                        .map_err(PyErr::from);
                }
                other => PyTuple::new(py, [PyString::intern(py, other.status()).into_any(), none])?,
            };
            Ok(pair)
        })
    }

    /// (index, reason) of `rust`/`fancy` plans the Rust compilers refused.
    fn demoted_patterns(&self) -> Vec<(usize, String)> {
        self.inner.core.patterns.demoted.clone()
    }

    /// Whether this body would be handed to the reference (tests and benches).
    fn body_needs_fallback(&self, py: Python<'_>, data: &[u8]) -> PyResult<bool> {
        guarded(|| {
            let inner = &self.inner;
            let r = py.detach(|| {
                let mut host = DetachedHost {
                    patterns: &inner.py_patterns,
                    err: None,
                };
                inner.core.capture_body(data, &mut host)
            });
            Ok(matches!(r, Ok(BodyOutcome::Fallback)))
        })
    }
}

/// Test hook (feature `test-hooks`, the test build only): a Rust panic inside the same
/// boundary guard `render` uses. Set as a plain attribute, outside `__all__`, so the
/// stub and stubtest are the same for the test and the release build.
#[cfg(feature = "test-hooks")]
#[pyfunction]
fn _panic_for_tests() -> PyResult<()> {
    guarded(|| -> PyResult<()> { panic!("forced by _panic_for_tests") })
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_class::<Engine>()?;
    // The exemption tables the walk uses (defined once, in the engine crate), for the
    // test that they equal the reference's `KEY_EXEMPT` / `VALUE_EXEMPT`.
    m.add("KEY_EXEMPT", PyFrozenSet::new(m.py(), KEY_EXEMPT)?)?;
    m.add("VALUE_EXEMPT", PyFrozenSet::new(m.py(), VALUE_EXEMPT)?)?;
    #[cfg(feature = "test-hooks")]
    m.setattr("_panic_for_tests", wrap_pyfunction!(_panic_for_tests, m)?)?;
    Ok(())
}
