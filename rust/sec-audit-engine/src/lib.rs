//! Pure-Rust core of the django-sec-audit engine (no Python here).
//!
//! One module per concern, mirroring the Python reference `sec_audit.core.engine.python`:
//! [`keys`], [`patterns`], [`detectors`], [`strings`], [`json_writer`], [`projection`]
//! and [`body`]. The contract is docs/engine.md; where this crate and the Python
//! reference disagree, the reference is right.

pub mod body;
pub mod detectors;
pub mod json_writer;
pub mod keys;
pub mod patterns;
pub mod projection;
pub mod strings;

pub use patterns::{HostError, HostPatterns, NoHost, PatternSpec};

pub const REDACTED: &str = "[REDACTED]";
pub const TRUNCATED: &str = "[TRUNCATED]";
pub const TRUNCATED_KEY: &str = "_truncated";
/// Bodies nesting deeper than this are `too_deep` (a pre-scan, before parsing).
pub const MAX_BODY_NESTING: usize = 256;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScrubMode {
    Value,
    Match,
}

/// `ProjectionLimits` (only the fields the engine uses).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_depth: usize,
    pub max_mapping_entries: usize,
    pub max_sequence_length: usize,
    pub max_string_length: usize,
    pub max_attributes: usize,
}

impl Limits {
    /// No limits at all: the envelope's own members (docs/engine.md, clarification 1).
    pub const UNBOUNDED: Limits = Limits {
        max_depth: usize::MAX,
        max_mapping_entries: usize::MAX,
        max_sequence_length: usize::MAX,
        max_string_length: usize::MAX,
        max_attributes: usize::MAX,
    };
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_depth: 8,
            max_mapping_entries: 100,
            max_sequence_length: 100,
            max_string_length: 4096,
            max_attributes: 128,
        }
    }
}

/// Plain data the engine is compiled from (the binding fills it from `EngineConfig`).
#[derive(Debug, Clone)]
pub struct EngineSpec {
    /// Normalised, non-empty.
    pub sensitive_keys: Vec<String>,
    /// Normalised, non-empty.
    pub key_allowlist: Vec<String>,
    /// One entry per user pattern, as planned by `plan_pattern`.
    pub patterns: Vec<patterns::PatternSpec>,
    pub detectors: Vec<String>,
    pub mode: ScrubMode,
    pub limits: Limits,
    pub max_body_bytes: usize,
    pub body_field_allowlist: Vec<String>,
    /// Whole-token key entries (`sensitive_key_sets`), normalised.
    pub key_tokens: Vec<String>,
}

impl Default for EngineSpec {
    fn default() -> Self {
        EngineSpec {
            sensitive_keys: vec![],
            key_allowlist: vec![],
            patterns: vec![],
            detectors: vec![],
            mode: ScrubMode::Value,
            limits: Limits::default(),
            max_body_bytes: 4096,
            body_field_allowlist: vec![],
            key_tokens: vec![],
        }
    }
}

/// The compiled engine: built once, shared by every call.
pub struct Engine {
    /// Tells engines apart (never reused): a thread keeps its last body's key
    /// decisions for the engine that made them (body.rs, `KEY_MEMO`).
    id: u64,
    pub keys: keys::KeyMatcher,
    pub patterns: patterns::Patterns,
    pub detectors: detectors::Detectors,
    pub mode: ScrubMode,
    pub limits: Limits,
    pub max_body_bytes: usize,
    pub body_field_allowlist: Vec<Vec<u8>>,
}

impl Engine {
    pub fn new(spec: &EngineSpec) -> Result<Self, String> {
        static NEXT_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        Ok(Engine {
            id: NEXT_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            keys: keys::KeyMatcher::new(&spec.sensitive_keys, &spec.key_allowlist)
                .with_tokens(&spec.key_tokens),
            patterns: patterns::Patterns::new(&spec.patterns),
            detectors: detectors::Detectors::new(&spec.detectors)?,
            mode: spec.mode,
            limits: spec.limits,
            max_body_bytes: spec.max_body_bytes,
            body_field_allowlist: spec
                .body_field_allowlist
                .iter()
                .map(|s| s.as_bytes().to_vec())
                .collect(),
        })
    }
}
