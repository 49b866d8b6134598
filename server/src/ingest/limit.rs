//! Readers that refuse to read past a size limit, and say so: the body's, and one finding's.

use super::model::Problem;
use std::cell::{Cell, RefCell};
use std::io::{self, Read};
use std::rc::Rc;

pub struct LimitedReader<R> {
    inner: R,
    left: u64,
    exceeded: Rc<Cell<bool>>,
}

impl<R: Read> LimitedReader<R> {
    pub fn new(inner: R, limit: u64) -> Self {
        Self {
            inner,
            left: limit,
            exceeded: Rc::new(Cell::new(false)),
        }
    }

    /// Becomes true once the input went past the limit.
    pub fn exceeded_flag(&self) -> Rc<Cell<bool>> {
        self.exceeded.clone()
    }
}

impl<R: Read> Read for LimitedReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.left == 0 {
            // One byte more tells a body of exactly the limit from a longer one.
            let mut probe = [0u8; 1];
            return match self.inner.read(&mut probe)? {
                0 => Ok(0),
                _ => {
                    self.exceeded.set(true);
                    Err(io::Error::other("the body is over the size limit"))
                }
            };
        }
        let want = buf
            .len()
            .min(usize::try_from(self.left).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..want])?;
        self.left -= n as u64;
        Ok(n)
    }
}

/// The most one finding may take in the body, in bytes: an OCSF element, an NDJSON line, a
/// Trivy vulnerability or misconfiguration. A real Prowler finding is a few KB and the
/// longest fields a finding keeps come to 94 KB (565 KB if written all in `\u` escapes),
/// so 1 MiB refuses nothing real while bounding what one finding can make the parser hold.
pub const MAX_FINDING_BYTES: u64 = 1024 * 1024;

/// What the JSON parser has read, and the start of the finding it is reading, shared
/// between a [`CappedReader`] and the parser's visitors (which open and close findings).
#[derive(Default)]
pub struct FindingCap {
    read: Cell<u64>,
    /// Where the open finding started; `None` between findings.
    open: Cell<Option<u64>>,
    tripped: Cell<bool>,
    /// The problem to answer with, set by the visitor of the finding that went over.
    problem: RefCell<Option<Problem>>,
}

impl FindingCap {
    pub fn new() -> Rc<Self> {
        Rc::new(Self::default())
    }

    /// What follows is one finding (or a value the parser keeps): at most
    /// [`MAX_FINDING_BYTES`] are read until [`FindingCap::close`].
    pub fn open(&self) {
        self.open.set(Some(self.read.get()));
    }

    /// What follows is skipped without being kept: no cap.
    pub fn close(&self) {
        self.open.set(None);
    }

    /// Reads one finding (or kept value) with `read`; if the cap stopped it, the answer
    /// names `at`, the finding's JSON pointer.
    pub fn finding<T, E>(
        &self,
        what: &str,
        at: impl FnOnce() -> String,
        read: impl FnOnce() -> Result<T, E>,
    ) -> Result<T, E> {
        self.open();
        let result = read();
        self.close();
        if result.is_err() && self.tripped.get() && self.problem.borrow().is_none() {
            *self.problem.borrow_mut() = Some(over_the_cap(at(), what));
        }
        result
    }

    /// The problem to answer with when the cap stopped the parser.
    pub fn take_problem(&self) -> Option<Problem> {
        self.problem.borrow_mut().take()
    }
}

/// The problem of a finding over the cap: where it is, and the cap.
pub fn over_the_cap(at: impl Into<String>, what: &str) -> Problem {
    Problem::new(
        at,
        format!("{what} is larger than the limit of {MAX_FINDING_BYTES} bytes for one finding"),
    )
}

/// How deep arrays and objects may nest, as serde_json allows when it builds values. What
/// the parsers skip is skipped by serde_json without its limit, keeping one byte per level
/// open: this bounds that too.
pub const MAX_DEPTH: u32 = 128;

/// What the cap may be off by: the parser reads through a buffer of this size (see
/// [`capped`]), so what has reached it is up to this many bytes ahead of what it has parsed.
pub const READ_AHEAD: usize = 16 * 1024;

/// The reader a JSON parser of a body reads: [`CappedReader`] under a buffer. serde_json
/// reads a byte at a time, and std serves a byte from a `BufReader`'s buffer without a call
/// further down, so parsing runs at the speed of the buffer while the cap and the nesting
/// count see every byte, a buffer at a time.
pub fn capped<R: Read>(inner: R, cap: Rc<FindingCap>) -> io::BufReader<CappedReader<R>> {
    io::BufReader::with_capacity(READ_AHEAD, CappedReader::new(inner, cap))
}

/// The JSON parser of a whole body, reading through [`capped`].
pub type CappedJson<R> =
    serde_json::Deserializer<serde_json::de::IoRead<io::BufReader<CappedReader<R>>>>;

/// Reads one JSON document from `reader` with `read` (a reader's seed, given the parser and
/// the cap its visitors open and close findings on), and checks that nothing follows it. A
/// failure is the cap's problem if a finding went over it, else the parser's, at its line
/// and column: the three readers of whole documents (native, OCSF array, Trivy) share this.
pub fn read_capped<R: Read, T>(
    reader: R,
    read: impl FnOnce(&mut CappedJson<R>, &FindingCap) -> serde_json::Result<T>,
) -> Result<T, Problem> {
    let cap = FindingCap::new();
    let mut parser = serde_json::Deserializer::from_reader(capped(reader, cap.clone()));
    read(&mut parser, &cap)
        .and_then(|value| parser.end().map(|()| value))
        .map_err(|e| {
            cap.take_problem()
                .unwrap_or_else(|| super::native::json_problem(&e))
        })
}

/// Counts the bytes read and refuses more than [`MAX_FINDING_BYTES`] to an open finding, or
/// nesting deeper than [`MAX_DEPTH`]. It sits under the parser's buffer ([`capped`]), so
/// what it has counted is at most [`READ_AHEAD`] bytes ahead of what the parser took: it
/// refuses a finding only once the finding is certainly over the cap (a finding of exactly
/// the cap always passes), and one up to `2 × READ_AHEAD` bytes over it may pass.
pub struct CappedReader<R> {
    inner: R,
    cap: Rc<FindingCap>,
    nesting: Nesting,
}

impl<R: Read> CappedReader<R> {
    pub fn new(inner: R, cap: Rc<FindingCap>) -> Self {
        Self {
            inner,
            cap,
            nesting: Nesting::default(),
        }
    }
}

/// How deep the JSON read so far nests, brackets inside strings not counted, and on which
/// line it is.
#[derive(Default)]
pub struct Nesting {
    depth: u32,
    in_string: bool,
    escaped: bool,
    /// Newlines seen; the line is one more.
    newlines: u64,
}

impl Nesting {
    /// Follows one byte; false once the nesting is deeper than [`MAX_DEPTH`].
    pub fn follow(&mut self, byte: u8) -> bool {
        if self.in_string {
            match byte {
                _ if self.escaped => self.escaped = false,
                b'\\' => self.escaped = true,
                b'"' => self.in_string = false,
                _ => {}
            }
            return true;
        }
        match byte {
            b'"' => self.in_string = true,
            b'[' | b'{' => self.depth += 1,
            b']' | b'}' => self.depth = self.depth.saturating_sub(1),
            b'\n' => self.newlines += 1,
            _ => {}
        }
        self.depth <= MAX_DEPTH
    }

    /// Follows `bytes`; false once the nesting is deeper than [`MAX_DEPTH`]. Inside a
    /// string only a quote or a backslash matters, so it jumps to the next of those.
    pub fn follow_all(&mut self, bytes: &[u8]) -> bool {
        let mut at = 0;
        while at < bytes.len() {
            if self.in_string && !self.escaped {
                match memchr::memchr2(b'"', b'\\', &bytes[at..]) {
                    Some(skip) => at += skip,
                    None => return true,
                }
            }
            if !self.follow(bytes[at]) {
                return false;
            }
            at += 1;
        }
        true
    }

    /// The line of the last byte followed, counting from 1.
    pub fn line(&self) -> u64 {
        self.newlines + 1
    }
}

impl<R: Read> Read for CappedReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let read = self.cap.read.get();
        let mut want = buf.len();
        if let Some(start) = self.cap.open.get() {
            // The finding began at most READ_AHEAD bytes before `start`; past this, the
            // parser has certainly taken more than the cap for it.
            let limit = MAX_FINDING_BYTES + READ_AHEAD as u64;
            let left = limit.saturating_sub(read - start);
            if left == 0 {
                self.cap.tripped.set(true);
                return Err(io::Error::other("one finding is over the size limit"));
            }
            want = want.min(usize::try_from(left).unwrap_or(usize::MAX));
        }
        let n = self.inner.read(&mut buf[..want])?;
        self.cap.read.set(read + n as u64);
        if !self.nesting.follow_all(&buf[..n]) {
            let at = format!("line {}", self.nesting.line());
            let message =
                format!("the JSON is nested deeper than {MAX_DEPTH} levels (the recursion limit)");
            self.cap
                .problem
                .borrow_mut()
                .get_or_insert(Problem::new(at, message));
            return Err(io::Error::other("the JSON is nested too deep"));
        }
        Ok(n)
    }
}
