//! Shared pieces of the projection walk: markers, separators and the mapping output,
//! which behaves like a Python `dict` (a repeated output key keeps its first position
//! and takes the last value; docs/engine.md, *Mapping rule*).

use std::collections::HashMap;

/// Fix B1: our own top-level attributes are never key-redacted (projection.py
/// `KEY_EXEMPT`; `tests/unit/test_native_tables.py` asserts the two are equal)...
pub const KEY_EXEMPT: &[&str] = &[
    "event_type",
    "schema_version",
    "request_id",
    "session.id",
    "source.address",
    "url.full",
    "url.path",
    "http.request.method",
    "action.method",
];
/// ...and these identifiers are not scanned by value patterns/detectors either
/// (projection.py `VALUE_EXEMPT`, = pipeline.py `PROTECTED_KEYS`).
pub const VALUE_EXEMPT: &[&str] = &[
    "event_type",
    "schema_version",
    "request_id",
    "session.id",
    "source.address",
];

/// Item and key separators: `", "`/`": "` by default, `","`/`":"` compact.
#[derive(Debug, Clone, Copy)]
pub struct Separators {
    pub item: &'static [u8],
    pub kv: &'static [u8],
}

pub const DEFAULT_SEPARATORS: Separators = Separators {
    item: b", ",
    kv: b": ",
};
pub const COMPACT_SEPARATORS: Separators = Separators {
    item: b",",
    kv: b":",
};

/// One written mapping entry: the quoted key is `out[key_start..key_end]`, the value
/// starts after the key separator and ends at `val_end`.
#[derive(Debug, Clone, Copy)]
pub struct Entry {
    pub key_start: usize,
    pub key_end: usize,
    pub val_end: usize,
}

/// If two entries of the object being written (it starts at `out[start] == b'{'`, the
/// closing brace is not written yet) share an output key, rewrite it with `dict`
/// semantics. Returns whether it rewrote.
pub fn dedupe_entries(out: &mut Vec<u8>, start: usize, entries: &[Entry], sep: Separators) -> bool {
    if entries.len() < 2 {
        return false;
    }
    let mut first: HashMap<&[u8], usize> = HashMap::with_capacity(entries.len());
    let mut dup = false;
    // slot of each output key -> index of the entry that provides its value
    let mut order: Vec<(usize, usize)> = Vec::with_capacity(entries.len());
    for (i, e) in entries.iter().enumerate() {
        let key = &out[e.key_start..e.key_end];
        match first.get(key) {
            Some(&slot) => {
                order[slot].1 = i;
                dup = true;
            }
            None => {
                first.insert(key, order.len());
                order.push((i, i));
            }
        }
    }
    if !dup {
        return false;
    }
    let mut rebuilt: Vec<u8> = Vec::with_capacity(out.len() - start);
    rebuilt.push(b'{');
    for (n, &(ki, vi)) in order.iter().enumerate() {
        if n > 0 {
            rebuilt.extend_from_slice(sep.item);
        }
        let k = entries[ki];
        let v = entries[vi];
        rebuilt.extend_from_slice(&out[k.key_start..k.key_end]);
        rebuilt.extend_from_slice(sep.kv);
        rebuilt.extend_from_slice(&out[v.key_end + sep.kv.len()..v.val_end]);
    }
    out.truncate(start);
    out.extend_from_slice(&rebuilt);
    true
}
