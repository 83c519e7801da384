//! `HostPatterns` for the core: the compiled Python patterns, called with the GIL.

use crate::text::{cp_to_byte, py_str_from_wtf8};
use pyo3::prelude::*;
use sec_audit_engine::{HostError, HostPatterns};

fn search(py: Python<'_>, pat: &Py<PyAny>, window: &[u8]) -> PyResult<bool> {
    let s = py_str_from_wtf8(py, window)?;
    Ok(!pat
        .bind(py)
        .call_method1(pyo3::intern!(py, "search"), (s,))?
        .is_none())
}

fn find_spans(
    py: Python<'_>,
    pat: &Py<PyAny>,
    window: &[u8],
    spans: &mut Vec<(usize, usize)>,
) -> PyResult<()> {
    let s = py_str_from_wtf8(py, window)?;
    let ascii = window.is_ascii();
    let it = pat
        .bind(py)
        .call_method1(pyo3::intern!(py, "finditer"), (s,))?;
    for m in it.try_iter()? {
        let (a, b): (usize, usize) = m?.call_method0(pyo3::intern!(py, "span"))?.extract()?;
        if b > a {
            if ascii {
                spans.push((a, b));
            } else {
                spans.push((cp_to_byte(window, a), cp_to_byte(window, b)));
            }
        }
    }
    Ok(())
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
    ) -> Result<(), HostError> {
        find_spans(self.py, &self.patterns[idx], window, spans).map_err(|e| {
            self.err = Some(e);
            HostError
        })
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
    ) -> Result<(), HostError> {
        let r = Python::attach(|py| find_spans(py, &self.patterns[idx], window, spans));
        r.map_err(|e| {
            self.err = Some(e);
            HostError
        })
    }
}
