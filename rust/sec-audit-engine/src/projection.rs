//! The projection rules, written once for every walk (docs/engine.md), in the order and
//! under the names of the reference `core/engine/python/projection.py`:
//!
//! - [`MemberKey`]: which envelope member is walked how (`Engine.render`);
//! - [`past_depth`]: `_emit`'s first rule, the depth bound;
//! - [`Frame`]: an open mapping or sequence (`_Frame`, `_open`): its cap, depth, the
//!   `scan`/`redact` switches of its subtree and whether it is the attribute mapping;
//!   [`Frame::advance`] is the cap rule of `_seq_step`/`_map_step`,
//!   [`Frame::entry_rule`] the key decision of `_map_step` (redaction, its marker at the
//!   depth bound, the top-level exemptions);
//! - [`write_item_overflow`] / [`write_overflow_entry`]: the overflow markers;
//! - [`Path`]: the open containers, for the cycle rule (`_open`);
//! - [`dedupe_entries`]: output keys with `dict` semantics (`_finish_entry`: a repeated
//!   output key keeps its first position and takes the last value).
//!
//! The walks only traverse their input and ask these: the streaming body tokenizer
//! ([`crate::body`]) and the Python-object adaptor of the binding (`sec-audit-py`
//! render.rs); `tests/walk.rs` drives them over a plain tree.

use crate::keys::KeyMatcher;
use crate::{Limits, REDACTED, TRUNCATED, TRUNCATED_KEY};
use std::collections::{HashMap, HashSet};

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

/// The markers as JSON strings.
pub const Q_REDACTED: &[u8] = b"\"[REDACTED]\"";
pub const Q_TRUNCATED: &[u8] = b"\"[TRUNCATED]\"";
const _: () = {
    assert!(REDACTED.len() + 2 == Q_REDACTED.len());
    assert!(TRUNCATED.len() + 2 == Q_TRUNCATED.len());
};

/// What an envelope member's key says about its walk (`Engine.render`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberKey {
    /// A `str` key `attributes`.
    Attributes,
    /// A `str` key `body`.
    Body,
    /// Any other key: one of our own members.
    Own,
}

/// How `Engine.render` writes one envelope member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Member {
    /// `attributes` holding a mapping: the attribute walk ([`Frame::attributes`]).
    Attributes,
    /// `attributes` (not a mapping) or `body`: a `str` takes the string rule (no depth
    /// check), anything else is projected at depth 1 with scanning and redaction.
    Scrubbed,
    /// Our own members: verbatim, with [`Limits::UNBOUNDED`], no scanning, no key
    /// redaction; cycles and the type markers still apply.
    Verbatim,
}

impl MemberKey {
    /// The key text of a member (`str_key`: the key is a `str`, or a subclass).
    #[inline]
    pub fn of(key: &[u8], str_key: bool) -> MemberKey {
        match (str_key, key) {
            (true, b"attributes") => MemberKey::Attributes,
            (true, b"body") => MemberKey::Body,
            _ => MemberKey::Own,
        }
    }

    /// The member's rule, given whether its value is a mapping (only asked for
    /// `attributes`).
    #[inline]
    pub fn rule<E>(self, is_mapping: impl FnOnce() -> Result<bool, E>) -> Result<Member, E> {
        Ok(match self {
            MemberKey::Attributes if is_mapping()? => Member::Attributes,
            MemberKey::Attributes | MemberKey::Body => Member::Scrubbed,
            MemberKey::Own => Member::Verbatim,
        })
    }
}

/// `_emit`'s first rule: a value at `depth` past the bound is `[TRUNCATED]` (and never
/// visited).
#[inline]
pub fn past_depth(limits: &Limits, depth: usize) -> bool {
    depth >= limits.max_depth
}

/// What the key text decides, computed once per key (so it can be memoised).
pub const F_SENSITIVE: u8 = 1;
pub const F_KEY_EXEMPT: u8 = 2;
pub const F_VALUE_EXEMPT: u8 = 4;

/// The flags of one key text: sensitive (the key matcher), and in [`KEY_EXEMPT`] /
/// [`VALUE_EXEMPT`] (which only count in the attribute mapping, see
/// [`Frame::entry_rule`]).
pub fn key_flags(keys: &KeyMatcher, text: &[u8]) -> u8 {
    let mut f = 0;
    if keys.is_sensitive(text) {
        f |= F_SENSITIVE;
    }
    if KEY_EXEMPT.iter().any(|k| k.as_bytes() == text) {
        f |= F_KEY_EXEMPT;
    }
    if VALUE_EXEMPT.iter().any(|k| k.as_bytes() == text) {
        f |= F_VALUE_EXEMPT;
    }
    f
}

/// An open mapping or sequence: where its walk stands (projection.py `_Frame`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame {
    pub is_map: bool,
    /// Items (entries) written before the overflow marker.
    pub cap: usize,
    /// The container's own depth (its items are at `depth + 1`).
    pub depth: usize,
    /// Value patterns and detectors run on this subtree's strings.
    pub scan: bool,
    /// Sensitive keys of this subtree are redacted.
    pub redact: bool,
    /// The attribute mapping: [`KEY_EXEMPT`] / [`VALUE_EXEMPT`] apply to its keys.
    pub top: bool,
    /// Items (entries) written so far.
    pub index: usize,
}

/// The value of one mapping entry (projection.py `_map_step`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryRule {
    /// A redacted key: this marker, the value is never visited.
    Marker(&'static [u8]),
    /// Project the value at `depth` (a body fragment in the attribute mapping is
    /// embedded instead: `top`).
    Project { depth: usize, scan: bool },
}

impl Frame {
    /// A mapping at `depth` (`_open` with `max_mapping_entries`).
    #[inline]
    pub fn mapping(limits: &Limits, depth: usize, scan: bool, redact: bool) -> Frame {
        Frame::new(true, limits.max_mapping_entries, depth, scan, redact, false)
    }

    /// A sequence at `depth` (`_open` with `max_sequence_length`).
    #[inline]
    pub fn sequence(limits: &Limits, depth: usize, scan: bool, redact: bool) -> Frame {
        Frame::new(
            false,
            limits.max_sequence_length,
            depth,
            scan,
            redact,
            false,
        )
    }

    /// The attribute walk (`Walk.attributes`): depth 0, cap `max_attributes`, top-level
    /// exemptions.
    #[inline]
    pub fn attributes(limits: &Limits) -> Frame {
        Frame::new(true, limits.max_attributes, 0, true, true, true)
    }

    #[inline]
    fn new(is_map: bool, cap: usize, depth: usize, scan: bool, redact: bool, top: bool) -> Self {
        Frame {
            is_map,
            cap,
            depth,
            scan,
            redact,
            top,
            index: 0,
        }
    }

    /// The cap rule, asked when the container has one more item: `Some(first)` to write
    /// it (`first`: no separator before it), `None` when it is past the cap — write the
    /// overflow marker and visit no more items.
    #[inline]
    pub fn advance(&mut self) -> Option<bool> {
        if self.index == self.cap {
            return None;
        }
        self.index += 1;
        Some(self.index == 1)
    }

    /// The depth of this container's items.
    #[inline]
    pub fn item_depth(&self) -> usize {
        self.depth + 1
    }

    /// The key decision of `_map_step` for a key with [`key_flags`] `flags`: a
    /// sensitive key (unless exempt at the top) becomes `[REDACTED]` — the marker only
    /// meets the depth bound, it is never scanned or cut; otherwise the value is
    /// projected one level deeper, unscanned under a [`VALUE_EXEMPT`] top-level key.
    #[inline]
    pub fn entry_rule(&self, limits: &Limits, flags: u8) -> EntryRule {
        let depth = self.depth + 1;
        if self.redact && flags & F_SENSITIVE != 0 && !(self.top && flags & F_KEY_EXEMPT != 0) {
            return EntryRule::Marker(if past_depth(limits, depth) {
                Q_TRUNCATED
            } else {
                Q_REDACTED
            });
        }
        let scan = self.scan && !(self.top && flags & F_VALUE_EXEMPT != 0);
        EntryRule::Project { depth, scan }
    }
}

/// A sequence past its cap: `, "[TRUNCATED]"` after its last written item.
#[inline]
pub fn write_item_overflow(out: &mut Vec<u8>, sep: Separators) {
    out.extend_from_slice(sep.item);
    out.extend_from_slice(Q_TRUNCATED);
}

/// A mapping past its cap: the entry `"_truncated": "[TRUNCATED]"` (after a separator
/// unless it is the first). Returns it; the caller dedupes it like any other entry (an
/// earlier `_truncated` key is overwritten in place, G12).
#[inline]
pub fn write_overflow_entry(out: &mut Vec<u8>, sep: Separators, first: bool) -> Entry {
    if !first {
        out.extend_from_slice(sep.item);
    }
    let key_start = out.len();
    crate::json_writer::write_str(out, TRUNCATED_KEY.as_bytes());
    let key_end = out.len();
    out.extend_from_slice(sep.kv);
    out.extend_from_slice(Q_TRUNCATED);
    Entry {
        key_start,
        key_end,
        val_end: out.len(),
    }
}

/// Containers on the path are compared one by one up to this depth; deeper ones also go
/// into a set, so 100,000 open containers stay linear.
const SHORT: usize = 32;

/// The open containers by identity, for the cycle rule of `_open`: a container that is
/// already open above is `[REDACTED]` (G13); shared subtrees elsewhere are walked again.
#[derive(Debug, Default)]
pub struct Path {
    ids: Vec<usize>,
    deep: HashSet<usize>,
}

impl Path {
    /// Enter container `id`; false (and nothing entered) if it is already open.
    #[inline]
    pub fn enter(&mut self, id: usize) -> bool {
        let n = self.ids.len();
        if self.ids[..n.min(SHORT)].contains(&id) || (n > SHORT && self.deep.contains(&id)) {
            return false;
        }
        if n >= SHORT {
            self.deep.insert(id);
        }
        self.ids.push(id);
        true
    }

    /// Leave the innermost open container.
    #[inline]
    pub fn leave(&mut self) {
        if let Some(id) = self.ids.pop() {
            if self.ids.len() >= SHORT {
                self.deep.remove(&id);
            }
        }
    }

    pub fn clear(&mut self) {
        self.ids.clear();
        self.deep.clear();
    }

    /// Give back what a hostile deep value grew (past `keep` containers).
    pub fn shrink(&mut self, keep: usize) {
        if self.ids.capacity() > keep {
            self.ids = Vec::new();
        }
        if self.deep.capacity() > keep {
            self.deep = HashSet::new();
        }
    }
}

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
