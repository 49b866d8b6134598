//! Where a parser puts what it reads: findings go to the database writer in batches, while
//! the first problems are kept for the error answer.

use super::limit::{MAX_DEPTH, MAX_FINDING_BYTES, Nesting, over_the_cap};
use super::model::{Finding, Problem};
use serde::de::DeserializeOwned;
use std::io::{BufRead, Read};
use tokio::sync::mpsc::Sender;

pub struct Sink {
    batch: Vec<Finding>,
    batch_bytes: usize,
    sender: Sender<Vec<Finding>>,
    problems: Vec<Problem>,
    problem_count: usize,
    findings: usize,
}

impl Sink {
    /// Rows per batch sent to the writer, at most.
    pub const BATCH: usize = 2000;
    /// Bytes of fields per batch, at most: 2,000 findings with long details would otherwise
    /// be over 100 MiB, and an upload holds several batches (the writer's queue) at once.
    pub const BATCH_BYTES: usize = 1024 * 1024;
    /// Problems named in an error answer; the rest are only counted.
    pub const PROBLEMS_KEPT: usize = 10;

    pub fn new(sender: Sender<Vec<Finding>>) -> Self {
        Self {
            batch: Vec::with_capacity(Self::BATCH),
            batch_bytes: 0,
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
        self.batch_bytes += finding.field_bytes();
        self.batch.push(finding);
        if self.batch.len() >= Self::BATCH || self.batch_bytes >= Self::BATCH_BYTES {
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
            self.batch_bytes = 0;
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
/// place (`line N`) to `each`, which says what finding it is. A line is read whole, so it
/// is refused past [`MAX_FINDING_BYTES`] before it is held, and past [`MAX_DEPTH`] levels of
/// nesting before it is parsed: serde_json skips an unknown field without its own limit.
pub fn read_ndjson<R: BufRead, T: DeserializeOwned>(
    mut reader: R,
    sink: &mut Sink,
    mut each: impl FnMut(T, &str) -> Result<Finding, Problem>,
) -> Result<(), Problem> {
    let mut line = Vec::new();
    let mut number = 0usize;
    loop {
        number += 1;
        let at = format!("line {number}");
        line.clear();
        let read = (&mut reader)
            .take(MAX_FINDING_BYTES + 1)
            .read_until(b'\n', &mut line)
            .map_err(|e| Problem::new(&at, format!("unreadable: {e}")))?;
        if read == 0 {
            return Ok(());
        }
        if line.last() != Some(&b'\n') && line.len() as u64 > MAX_FINDING_BYTES {
            return Err(over_the_cap(at, "the line"));
        }
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        if nested_too_deep(&line) {
            return Err(Problem::new(
                &at,
                format!("the JSON is nested deeper than {MAX_DEPTH} levels (the recursion limit)"),
            ));
        }
        let value: T = serde_json::from_slice(&line).map_err(|e| {
            let message = super::native::json_problem(&e).message;
            Problem::new(
                &at,
                format!("not one JSON object on one line ({message}): NDJSON holds a whole finding a line"),
            )
        })?;
        match each(value, &at) {
            Ok(finding) => sink.finding(finding),
            Err(problem) => sink.problem(problem),
        }
    }
}

/// Whether `json` nests arrays and objects deeper than [`MAX_DEPTH`], brackets inside strings
/// not counted: the same count as the readers of whole documents make.
fn nested_too_deep(json: &[u8]) -> bool {
    !Nesting::default().follow_all(json)
}

/// Runs a parser on a sink of its own; gives what it returned, the findings it sent and
/// the problems it reported.
#[cfg(test)]
pub fn collect<T>(read: impl FnOnce(&mut Sink) -> T) -> (T, Vec<Finding>, Vec<Problem>) {
    let (sender, mut receiver) = tokio::sync::mpsc::channel(1024);
    let mut sink = Sink::new(sender);
    let outcome = read(&mut sink);
    sink.flush();
    let (problems, _) = sink.into_problems();
    let mut findings = Vec::new();
    while let Ok(batch) = receiver.try_recv() {
        findings.extend(batch);
    }
    (outcome, findings, problems)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::model::{Severity, Status};

    fn finding_with_detail(bytes: usize) -> Finding {
        Finding {
            control_id: "c".into(),
            control_title: String::new(),
            resource_id: "r".into(),
            resource_name: String::new(),
            resource_type: String::new(),
            status: Status::Fail,
            severity: Severity::UNKNOWN,
            time: None,
            detail: "x".repeat(bytes),
        }
    }

    #[test]
    fn a_batch_of_large_findings_is_sent_once_it_holds_a_mebibyte() {
        let (sender, mut receiver) = tokio::sync::mpsc::channel(1024);
        let mut sink = Sink::new(sender);
        for _ in 0..100 {
            sink.finding(finding_with_detail(Finding::MAX_DETAIL));
        }
        sink.flush();
        let mut batches = Vec::new();
        while let Ok(batch) = receiver.try_recv() {
            batches.push(batch);
        }
        let sizes: Vec<usize> = batches.iter().map(Vec::len).collect();
        // 64 KiB and 32 bytes each: the 16th brings a batch past 1 MiB.
        assert_eq!(sizes, [16, 16, 16, 16, 16, 16, 4]);
        for batch in &batches {
            let bytes: usize = batch.iter().map(Finding::field_bytes).sum();
            assert!(
                bytes < Sink::BATCH_BYTES + Finding::MAX_DETAIL + 64,
                "{bytes}"
            );
        }
    }

    #[test]
    fn small_findings_go_in_batches_of_two_thousand() {
        let (sender, mut receiver) = tokio::sync::mpsc::channel(1024);
        let mut sink = Sink::new(sender);
        for _ in 0..4500 {
            sink.finding(finding_with_detail(10));
        }
        sink.flush();
        let mut sizes = Vec::new();
        while let Ok(batch) = receiver.try_recv() {
            sizes.push(batch.len());
        }
        assert_eq!(sizes, [2000, 2000, 500]);
    }
}
