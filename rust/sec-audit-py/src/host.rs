//! `HostPatterns` for the core: the Python `ValuePattern`s
//! (`sec_audit.core.engine.python.patterns`), called with the GIL. A `ValuePattern`
//! bounds its own work where it can and answers a hit bound as fail-closed.

use crate::text::{cp_to_byte, py_str_from_wtf8};
use pyo3::prelude::*;
use sec_audit_engine::{HostError, HostPatterns};

fn search(py: Python<'_>, pat: &Py<PyAny>, window: &[u8]) -> PyResult<bool> {
    let s = py_str_from_wtf8(py, window)?;
    pat.bind(py)
        .call_method1(pyo3::intern!(py, "search"), (s,))?
        .is_truthy()
}

fn find_spans(
    py: Python<'_>,
    pat: &Py<PyAny>,
    window: &[u8],
    spans: &mut Vec<(usize, usize)>,
) -> PyResult<bool> {
    let s = py_str_from_wtf8(py, window)?;
    let ascii = window.is_ascii();
    let found = pat
        .bind(py)
        .call_method1(pyo3::intern!(py, "spans"), (s,))?;
    if found.is_none() {
        return Ok(false);
    }
    for span in found.try_iter()? {
        let (a, b): (usize, usize) = span?.extract()?;
        if ascii {
            spans.push((a, b));
        } else {
            spans.push((cp_to_byte(window, a), cp_to_byte(window, b)));
        }
    }
    Ok(true)
}

/// Report a step-limit hit through the pattern's own `report_limit` (never raises
/// into the walk: a failing report is the operator's problem, not the request's).
fn limit_hit(py: Python<'_>, pat: &Py<PyAny>) {
    if let Err(e) = pat.bind(py).call_method0(pyo3::intern!(py, "report_limit")) {
        e.write_unraisable(py, Some(pat.bind(py)));
    }
}

/// With the GIL held (render).
pub struct AttachedHost<'a, 'py> {
    pub py: Python<'py>,
    pub patterns: &'a [Py<PyAny>],
    pub err: Option<PyErr>,
}

impl HostPatterns for AttachedHost<'_, '_> {
    fn search(&mut self, idx: usize, window: &[u8]) -> Result<bool, HostError> {
        search(self.py, &self.patterns[idx], window).map_err(|e| {
            self.err = Some(e);
            HostError
        })
    }
    fn find_spans(
        &mut self,
        idx: usize,
        window: &[u8],
        spans: &mut Vec<(usize, usize)>,
    ) -> Result<bool, HostError> {
        find_spans(self.py, &self.patterns[idx], window, spans).map_err(|e| {
            self.err = Some(e);
            HostError
        })
    }
    fn limit_hit(&mut self, idx: usize) {
        limit_hit(self.py, &self.patterns[idx]);
    }
}

/// Without the GIL (body capture): attach only for the pattern call.
pub struct DetachedHost<'a> {
    pub patterns: &'a [Py<PyAny>],
    pub err: Option<PyErr>,
}

impl HostPatterns for DetachedHost<'_> {
    fn search(&mut self, idx: usize, window: &[u8]) -> Result<bool, HostError> {
        let r = Python::attach(|py| search(py, &self.patterns[idx], window));
        r.map_err(|e| {
            self.err = Some(e);
            HostError
        })
    }
    fn find_spans(
        &mut self,
        idx: usize,
        window: &[u8],
        spans: &mut Vec<(usize, usize)>,
    ) -> Result<bool, HostError> {
        let r = Python::attach(|py| find_spans(py, &self.patterns[idx], window, spans));
        r.map_err(|e| {
            self.err = Some(e);
            HostError
        })
    }
    fn limit_hit(&mut self, idx: usize) {
        Python::attach(|py| limit_hit(py, &self.patterns[idx]));
    }
}
