//! User value patterns (Python `re` syntax). A pattern planned `rust` runs here, on
//! ASCII windows, through its linear-time translation; one planned `fancy` (it needs
//! look-around, back-references, atomic groups...) runs here on every window without
//! lone surrogates through `fancy-regex` with a backtracking step limit. Everything else is answered by the
//! host (the Python binding) through [`HostPatterns`], so this crate stays Python-free.
//!
//! Where the step limit is hit the value fails closed: value mode counts it as a hit,
//! match mode redacts the whole value ([`Patterns::spans`] returns `Ok(false)`), and
//! the host is told once per hit ([`HostPatterns::limit_hit`]) so it can report it.

use regex::Regex;

/// Backtracking steps one `fancy` search may take: about 50-70 ms of work where it is
/// hit (measured: 1,000,000, the crate's default, cost 0.4-0.7 s), far more than a
/// pattern that does not backtrack catastrophically needs on a 5 KiB window.
pub const BACKTRACK_LIMIT: usize = 100_000;

/// The host could not answer (the binding keeps the real Python exception).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HostError;

/// How the host evaluates pattern `idx` on a window (WTF-8 text).
pub trait HostPatterns {
    /// Does the pattern `search` the window? A host that bounds its own work answers
    /// `true` where its bound was hit (fail closed) and reports it itself.
    fn search(&mut self, idx: usize, window: &[u8]) -> Result<bool, HostError>;
    /// Push the byte spans of every non-empty `finditer` match; `Ok(false)` when the
    /// host's bound was hit (the whole value is then redacted).
    fn find_spans(
        &mut self,
        idx: usize,
        window: &[u8],
        spans: &mut Vec<(usize, usize)>,
    ) -> Result<bool, HostError>;
    /// Pattern `idx` hit the step limit here (the value was failed closed).
    fn limit_hit(&mut self, _idx: usize) {}
}

/// A host without Python: every `python`-plan pattern is an error.
pub struct NoHost;

impl HostPatterns for NoHost {
    fn search(&mut self, _idx: usize, _window: &[u8]) -> Result<bool, HostError> {
        Err(HostError)
    }
    fn find_spans(
        &mut self,
        _idx: usize,
        _window: &[u8],
        _spans: &mut Vec<(usize, usize)>,
    ) -> Result<bool, HostError> {
        Err(HostError)
    }
}

/// One pattern as planned by `sec_audit.core.engine.patterns.plan_pattern`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PatternSpec {
    /// `rust`: the translation for the linear-time `regex` crate.
    Linear(String),
    /// `fancy`: the translation for `fancy-regex` (bounded backtracking).
    Backtracking(String),
    /// `python`: always evaluated by the host.
    Host,
}

pub enum UserPattern {
    /// The translated regex (exact on ASCII text); non-ASCII windows go to the host.
    Rust(Regex),
    /// Bounded backtracking (exact on valid UTF-8); windows with lone surrogates go to
    /// the host.
    Fancy(fancy_regex::Regex),
    /// Always evaluated by the host.
    Host,
}

pub struct Patterns {
    pub list: Vec<UserPattern>,
    /// Some pattern is `Fancy` (worth checking a non-ASCII window for UTF-8).
    fancy: bool,
    /// Why a plan was demoted to the host (index, reason): the Rust compiler refused it.
    pub demoted: Vec<(usize, String)>,
}

fn compile(spec: &PatternSpec) -> Result<UserPattern, String> {
    match spec {
        PatternSpec::Linear(s) => regex::RegexBuilder::new(s)
            .size_limit(1 << 24)
            .build()
            .map(UserPattern::Rust)
            .map_err(|e| format!("the Rust regex compiler refused it: {e}")),
        PatternSpec::Backtracking(s) => fancy_regex::RegexBuilder::new(s)
            .backtrack_limit(BACKTRACK_LIMIT)
            .delegate_size_limit(1 << 24)
            .build()
            .map(UserPattern::Fancy)
            .map_err(|e| format!("fancy-regex refused it: {e}")),
        PatternSpec::Host => Ok(UserPattern::Host),
    }
}

impl Patterns {
    pub fn new(specs: &[PatternSpec]) -> Self {
        let mut list = Vec::with_capacity(specs.len());
        let mut demoted = Vec::new();
        for (i, spec) in specs.iter().enumerate() {
            match compile(spec) {
                Ok(p) => list.push(p),
                Err(reason) => {
                    demoted.push((i, reason));
                    list.push(UserPattern::Host);
                }
            }
        }
        let fancy = list.iter().any(|p| matches!(p, UserPattern::Fancy(_)));
        Patterns {
            list,
            fancy,
            demoted,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// Value mode: does any pattern `search` the window (or hit its limit)?
    pub fn any<H: HostPatterns>(
        &self,
        window: &[u8],
        ascii: bool,
        host: &mut H,
    ) -> Result<bool, HostError> {
        let utf8 = self.utf8(window, ascii);
        for (i, p) in self.list.iter().enumerate() {
            let hit = match (p, utf8) {
                (UserPattern::Rust(re), Some(text)) if ascii => re.is_match(text),
                (UserPattern::Fancy(re), Some(text)) => match re.is_match(text) {
                    Ok(hit) => hit,
                    Err(_) => {
                        host.limit_hit(i);
                        true
                    }
                },
                _ => host.search(i, window)?,
            };
            if hit {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Match mode: push the byte spans of every non-empty match of every pattern.
    /// `Ok(false)`: a pattern hit its limit, the whole value fails closed.
    pub fn spans<H: HostPatterns>(
        &self,
        window: &[u8],
        ascii: bool,
        host: &mut H,
        spans: &mut Vec<(usize, usize)>,
    ) -> Result<bool, HostError> {
        let utf8 = self.utf8(window, ascii);
        for (i, p) in self.list.iter().enumerate() {
            match (p, utf8) {
                (UserPattern::Rust(re), Some(text)) if ascii => {
                    for m in re.find_iter(text) {
                        if m.end() > m.start() {
                            spans.push((m.start(), m.end()));
                        }
                    }
                }
                (UserPattern::Fancy(re), Some(text)) => {
                    for m in re.find_iter(text) {
                        match m {
                            Ok(m) if m.end() > m.start() => spans.push((m.start(), m.end())),
                            Ok(_) => {}
                            Err(_) => {
                                host.limit_hit(i);
                                return Ok(false);
                            }
                        }
                    }
                }
                _ => {
                    if !host.find_spans(i, window, spans)? {
                        return Ok(false);
                    }
                }
            }
        }
        Ok(true)
    }
}

impl Patterns {
    /// The window as `str` where some pattern can run on it here: ASCII windows always,
    /// other valid UTF-8 only when a `Fancy` pattern is there to use it.
    #[inline]
    fn utf8<'w>(&self, window: &'w [u8], ascii: bool) -> Option<&'w str> {
        if ascii {
            // SAFETY: `ascii` is passed only for ASCII windows; ASCII bytes are UTF-8.
            Some(unsafe { std::str::from_utf8_unchecked(window) })
        } else if self.fancy {
            std::str::from_utf8(window).ok()
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `NoHost` that records the limit hits it is told about.
    struct CountingHost(Vec<usize>);

    impl HostPatterns for CountingHost {
        fn search(&mut self, idx: usize, window: &[u8]) -> Result<bool, HostError> {
            NoHost.search(idx, window)
        }
        fn find_spans(
            &mut self,
            idx: usize,
            window: &[u8],
            spans: &mut Vec<(usize, usize)>,
        ) -> Result<bool, HostError> {
            NoHost.find_spans(idx, window, spans)
        }
        fn limit_hit(&mut self, idx: usize) {
            self.0.push(idx);
        }
    }

    fn catastrophic() -> Patterns {
        // `(a|a)*\1c` as plan_pattern translates it: exponential, and no nested
        // quantifier for the configuration-time check to refuse.
        Patterns::new(&[PatternSpec::Backtracking(
            r"(?:([\x{61}]|[\x{61}]))*(?:\1)[\x{63}]".to_string(),
        )])
    }

    #[test]
    fn the_step_limit_fails_closed_and_tells_the_host() {
        let p = catastrophic();
        assert!(p.demoted.is_empty());
        let text = format!("{}!", "a".repeat(5000));
        let mut host = CountingHost(Vec::new());
        assert_eq!(p.any(text.as_bytes(), true, &mut host), Ok(true));
        let mut spans = Vec::new();
        assert_eq!(
            p.spans(text.as_bytes(), true, &mut host, &mut spans),
            Ok(false)
        );
        assert_eq!(host.0, vec![0, 0]);
    }

    #[test]
    fn a_finished_search_answers_exactly() {
        let p = catastrophic();
        let mut host = CountingHost(Vec::new());
        assert_eq!(p.any(b"xaaac", true, &mut host), Ok(true));
        assert_eq!(p.any(b"aaab", true, &mut host), Ok(false));
        let mut spans = Vec::new();
        assert_eq!(p.spans(b"b aac", true, &mut host, &mut spans), Ok(true));
        assert_eq!(spans, vec![(2, 5)]);
        assert!(host.0.is_empty());
    }

    #[test]
    fn non_ascii_windows_run_here_and_lone_surrogates_go_to_the_host() {
        // `(?<=é)x` as plan_pattern translates it (sets over all of Unicode).
        let p = Patterns::new(&[PatternSpec::Backtracking(r"(?<=[\x{E9}])[\x{78}]".into())]);
        let mut host = CountingHost(Vec::new());
        let mut spans = Vec::new();
        let text = "caf\u{e9}x".as_bytes();
        assert_eq!(p.spans(text, false, &mut host, &mut spans), Ok(true));
        assert_eq!(spans, vec![(5, 6)]);
        // WTF-8 of a lone surrogate is not UTF-8: the host answers (here: an error).
        let wtf8 = [0xED, 0xA0, 0x80, b'x'];
        assert_eq!(p.any(&wtf8, false, &mut host), Err(HostError));
    }

    #[test]
    fn a_refused_translation_is_demoted_to_the_host() {
        let p = Patterns::new(&[PatternSpec::Backtracking("(?<=a".to_string())]);
        assert_eq!(p.demoted.len(), 1);
        assert!(matches!(p.list[0], UserPattern::Host));
    }
}
