//! User value patterns (Python `re` syntax). A pattern planned `rust` runs here, on
//! ASCII windows, through its translation; everything else is answered by the host
//! (the Python binding) through [`HostPatterns`], so this crate stays Python-free.

use regex::Regex;

/// The host could not answer (the binding keeps the real Python exception).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HostError;

/// How the host evaluates pattern `idx` on a window (WTF-8 text).
pub trait HostPatterns {
    /// `pattern.search(window) is not None`
    fn search(&mut self, idx: usize, window: &[u8]) -> Result<bool, HostError>;
    /// Push the byte spans of every non-empty `finditer` match.
    fn find_spans(
        &mut self,
        idx: usize,
        window: &[u8],
        spans: &mut Vec<(usize, usize)>,
    ) -> Result<(), HostError>;
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
    ) -> Result<(), HostError> {
        Err(HostError)
    }
}

pub enum UserPattern {
    /// The translated regex (exact on ASCII text); non-ASCII windows go to the host.
    Rust(Regex),
    /// Always evaluated by the host.
    Host,
}

pub struct Patterns {
    pub list: Vec<UserPattern>,
    /// Why a `rust` plan was demoted (index, reason): the Rust compiler refused it.
    pub demoted: Vec<(usize, String)>,
}

impl Patterns {
    /// `sources[i]` is `Some(rust_source)` for a `rust` plan, `None` for `python`.
    pub fn new(sources: &[Option<String>]) -> Self {
        let mut list = Vec::with_capacity(sources.len());
        let mut demoted = Vec::new();
        for (i, src) in sources.iter().enumerate() {
            match src {
                Some(s) => match regex::RegexBuilder::new(s).size_limit(1 << 24).build() {
                    Ok(re) => list.push(UserPattern::Rust(re)),
                    Err(e) => {
                        demoted.push((i, format!("the Rust regex compiler refused it: {e}")));
                        list.push(UserPattern::Host);
                    }
                },
                None => list.push(UserPattern::Host),
            }
        }
        Patterns { list, demoted }
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// Value mode: does any pattern `search` the window?
    pub fn any<H: HostPatterns>(
        &self,
        window: &[u8],
        ascii: bool,
        host: &mut H,
    ) -> Result<bool, HostError> {
        for (i, p) in self.list.iter().enumerate() {
            let hit = match p {
                UserPattern::Rust(re) if ascii => {
                    // ASCII bytes are valid UTF-8.
                    re.is_match(unsafe { std::str::from_utf8_unchecked(window) })
                }
                _ => host.search(i, window)?,
            };
            if hit {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Match mode: push the byte spans of every non-empty match of every pattern.
    pub fn spans<H: HostPatterns>(
        &self,
        window: &[u8],
        ascii: bool,
        host: &mut H,
        spans: &mut Vec<(usize, usize)>,
    ) -> Result<(), HostError> {
        for (i, p) in self.list.iter().enumerate() {
            match p {
                UserPattern::Rust(re) if ascii => {
                    let text = unsafe { std::str::from_utf8_unchecked(window) };
                    for m in re.find_iter(text) {
                        if m.end() > m.start() {
                            spans.push((m.start(), m.end()));
                        }
                    }
                }
                _ => host.find_spans(i, window, spans)?,
            }
        }
        Ok(())
    }
}
