//! Findings ingestion: one code path for the scanner API and the `ingest` command. The body
//! is read as a stream by a parser on a blocking thread, which hands findings in batches to
//! the writer; the writer keeps them in one transaction that is committed only if the whole
//! input was good, so a scan is stored whole or not at all.

mod detect;
mod fields;
mod limit;
mod model;
mod native;
mod ocsf;
mod sink;
mod spill;
pub mod store;
pub mod tokens;
mod trivy;

pub use detect::Format;
pub use model::{Finding, Problem, Severity, Status};

use anyhow::anyhow;
use detect::{Layout, sniff};
use limit::LimitedReader;
use serde::Serialize;
use sink::Sink;
use sqlx::SqlitePool;
use std::io::{BufReader, Cursor, Read};
use tokio::sync::mpsc;

/// What the caller says about a scan besides its body.
#[derive(Clone, Debug)]
pub struct IngestRequest {
    /// `?format=`; `None` tells it from the body.
    pub format: Option<Format>,
    /// `?source=` or `--source`: wins over the body's own.
    pub source: Option<String>,
    pub max_bytes: u64,
    /// Unix seconds: the upload's time.
    pub now: i64,
    /// Scans kept per source; older ones are deleted.
    pub keep_per_source: u32,
}

/// What a stored scan holds.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ScanSummary {
    pub scan_id: i64,
    pub source: String,
    pub format: String,
    pub findings: i64,
    pub failing: i64,
    pub passing: i64,
    pub other: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("the scan was refused: {}", describe(.problems, *.total))]
    Invalid {
        problems: Vec<Problem>,
        total: usize,
    },
    #[error("the body is larger than the limit of {limit} bytes")]
    TooLarge { limit: u64 },
    #[error("the body is none of the formats this accepts (native JSON, OCSF, Trivy JSON){}", .0)]
    UnsupportedFormat(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

fn describe(problems: &[Problem], total: usize) -> String {
    let listed: Vec<String> = problems
        .iter()
        .map(|p| format!("{}: {}", p.at, p.message))
        .collect();
    let more = total.saturating_sub(problems.len());
    let tail = if more > 0 {
        format!(" (and {more} more)")
    } else {
        String::new()
    };
    format!("{}{tail}", listed.join("; "))
}

impl IngestError {
    fn invalid(problem: Problem) -> Self {
        IngestError::Invalid {
            problems: vec![problem],
            total: 1,
        }
    }
}

/// What the parser learnt besides the findings.
struct Parsed {
    format: Format,
    source: Option<String>,
    external_id: Option<String>,
    tool: Option<String>,
    scan_time: Option<i64>,
}

/// Reads one scan from `reader` and stores it, whole or not at all.
pub async fn ingest<R: Read + Send + 'static>(
    pool: &SqlitePool,
    reader: R,
    request: IngestRequest,
) -> Result<ScanSummary, IngestError> {
    let (sender, mut receiver) = mpsc::channel::<Vec<Finding>>(4);
    let (named, max) = (request.format, request.max_bytes);
    let parser = tokio::task::spawn_blocking(move || parse(reader, named, max, sender));

    let (mut tx, scan_id) = store::begin_scan(pool, request.now).await?;
    let mut write_error = None;
    while let Some(batch) = receiver.recv().await {
        if write_error.is_none()
            && let Err(error) = store::insert_findings(&mut tx, scan_id, &batch).await
        {
            write_error = Some(error);
            receiver.close();
        }
    }
    // Dropping `tx` on any early return rolls the scan back.
    let parsed = parser
        .await
        .map_err(|e| anyhow!("the scan parser stopped: {e}"))??;
    if let Some(error) = write_error {
        return Err(error.into());
    }
    let source = request
        .source
        .clone()
        .filter(|s| !s.trim().is_empty())
        .or(parsed.source)
        .ok_or_else(|| {
            IngestError::invalid(Problem::new(
                "/source",
                "the scan names no source: add `source` to it or `?source=` to the URL",
            ))
        })?;
    let facts = store::ScanFacts {
        source: source.trim(),
        format: parsed.format.as_str(),
        external_id: parsed.external_id.as_deref(),
        tool: parsed.tool.as_deref(),
        // A scanner's clock ahead of ours must not date a scan in the future: it would stay
        // the source's latest over real newer scans and defeat the engine's stale-evidence
        // guard.
        scanned_at: parsed.scan_time.unwrap_or(request.now).min(request.now),
    };
    let (findings, failing, passing, other) = store::finish_scan(tx, scan_id, facts).await?;
    let pruned = store::prune(pool, source.trim(), request.keep_per_source).await?;
    tracing::info!(
        scan_id,
        source = source.trim(),
        findings,
        failing,
        pruned,
        "scan stored"
    );
    Ok(ScanSummary {
        scan_id,
        source: source.trim().to_string(),
        format: parsed.format.as_str().to_string(),
        findings,
        failing,
        passing,
        other,
    })
}

/// Bytes looked at to tell the format.
const HEAD: usize = 64 * 1024;

fn parse<R: Read>(
    reader: R,
    named: Option<Format>,
    max: u64,
    sender: mpsc::Sender<Vec<Finding>>,
) -> Result<Parsed, IngestError> {
    let mut limited = LimitedReader::new(reader, max);
    let exceeded = limited.exceeded_flag();
    let mut head = Vec::with_capacity(HEAD);
    let read_head = (&mut limited).take(HEAD as u64).read_to_end(&mut head);
    if exceeded.get() {
        return Err(IngestError::TooLarge { limit: max });
    }
    read_head.map_err(|e| anyhow!("Failed to read the body: {e}"))?;
    let Some((format, layout)) = sniff(&head, named) else {
        let hint = match named {
            Some(f) => format!(": it does not look like {}", f.as_str()),
            None => String::new(),
        };
        return Err(IngestError::UnsupportedFormat(hint));
    };
    let mut input = BufReader::with_capacity(HEAD, Cursor::new(head).chain(limited));
    let mut sink = Sink::new(sender);
    let mut parsed = Parsed {
        format,
        source: None,
        external_id: None,
        tool: None,
        scan_time: None,
    };
    let outcome = match (format, layout) {
        (Format::Native, Layout::Document) => {
            native::read_document(&mut input, &mut sink).map(|h| {
                parsed.source = h.source;
                parsed.external_id = h.scan_id;
                parsed.tool = h.tool;
                parsed.scan_time = h.scan_time;
            })
        }
        (Format::Native, Layout::Lines) => native::read_lines(&mut input, &mut sink),
        (Format::Ocsf, Layout::Document) => ocsf::read_array(&mut input, &mut sink).map(|s| {
            parsed.source = s;
            parsed.tool = Some("ocsf".into());
        }),
        (Format::Ocsf, Layout::Lines) => ocsf::read_lines(&mut input, &mut sink).map(|s| {
            parsed.source = s;
            parsed.tool = Some("ocsf".into());
        }),
        (Format::Trivy, _) => trivy::read_report(&mut input, &mut sink)
            .map_err(|e| anyhow!("Failed to set Trivy findings aside on disk: {e}"))?
            .map(|h| {
                parsed.source = h.artifact.map(|a| format!("trivy-{a}"));
                parsed.scan_time = h.created_at;
                parsed.tool = Some("trivy".into());
            }),
    };
    if outcome.is_err() {
        // A parser stops at the first problem it cannot read past (a syntax error, a finding
        // over the cap). The rest of the body, up to the limit, is read and dropped so the
        // answer reaches an HTTP client still sending it: closing a connection on unread
        // data resets it, and the client would see that instead of the 400. Time, no memory.
        let _ = std::io::copy(&mut input, &mut std::io::sink());
    }
    if exceeded.get() {
        return Err(IngestError::TooLarge { limit: max });
    }
    if let Err(problem) = outcome {
        sink.problem(problem);
    }
    if sink.findings() == 0 && sink_is_clean(&sink) {
        sink.problem(Problem::new(
            "/findings",
            "the scan holds no findings; an empty scan would mark everything of its source as passing",
        ));
    }
    sink.flush();
    let (problems, total) = sink.into_problems();
    if total > 0 {
        return Err(IngestError::Invalid { problems, total });
    }
    Ok(parsed)
}

fn sink_is_clean(sink: &Sink) -> bool {
    sink.problem_count() == 0
}
