//! Where a parser puts what it reads: findings go to the database writer in batches, while
//! the first problems are kept for the error answer.

use super::model::{Finding, Problem};
use tokio::sync::mpsc::Sender;

pub struct Sink {
    batch: Vec<Finding>,
    sender: Sender<Vec<Finding>>,
    problems: Vec<Problem>,
    problem_count: usize,
    findings: usize,
}

impl Sink {
    /// Rows per batch sent to the writer.
    pub const BATCH: usize = 2000;
    /// Problems named in an error answer; the rest are only counted.
    pub const PROBLEMS_KEPT: usize = 10;

    pub fn new(sender: Sender<Vec<Finding>>) -> Self {
        Self {
            batch: Vec::with_capacity(Self::BATCH),
            sender,
            problems: Vec::new(),
            problem_count: 0,
            findings: 0,
        }
    }

    pub fn finding(&mut self, finding: Finding) {
        self.findings += 1;
        // Once the scan is known to be refused there is no point in writing more of it.
        if self.problem_count > 0 {
            return;
        }
        self.batch.push(finding);
        if self.batch.len() >= Self::BATCH {
            self.flush();
        }
    }

    pub fn problem(&mut self, problem: Problem) {
        self.problem_count += 1;
        if self.problems.len() < Self::PROBLEMS_KEPT {
            self.problems.push(problem);
        }
    }

    pub fn flush(&mut self) {
        if !self.batch.is_empty() {
            let batch = std::mem::replace(&mut self.batch, Vec::with_capacity(Self::BATCH));
            // A closed channel means the writer failed; it reports why.
            let _ = self.sender.blocking_send(batch);
        }
    }

    pub fn problem_count(&self) -> usize {
        self.problem_count
    }

    pub fn findings(&self) -> usize {
        self.findings
    }

    /// The problems found, with how many there were in all.
    pub fn into_problems(self) -> (Vec<Problem>, usize) {
        (self.problems, self.problem_count)
    }
}

/// Reads NDJSON, one JSON object a line (blank lines skipped), handing each value and its
/// place (`line N`) to `each`, which says what finding it is.
pub fn read_ndjson<R: std::io::BufRead>(
    reader: R,
    sink: &mut Sink,
    mut each: impl FnMut(&serde_json::Value, &str) -> Result<Finding, Problem>,
) -> Result<(), Problem> {
    for (index, line) in reader.lines().enumerate() {
        let at = format!("line {}", index + 1);
        let line = line.map_err(|e| Problem::new(&at, format!("unreadable: {e}")))?;
        if line.trim().is_empty() {
            continue;
        }
        let value: serde_json::Value = serde_json::from_str(&line)
            .map_err(|e| Problem::new(&at, super::native::json_problem(&e).message))?;
        match each(&value, &at) {
            Ok(finding) => sink.finding(finding),
            Err(problem) => sink.problem(problem),
        }
    }
    Ok(())
}
