//! Findings ingestion: one code path for the scanner API and the `ingest` command. The body
//! is read as a stream by a parser on a blocking thread, which hands findings in batches to
//! the writer. The writer stores them in chunks, each a short transaction, into a scan that
//! nothing sees until a last short transaction makes it its source's latest; a refused or
//! broken upload has its chunks deleted. So a scan is stored whole or not at all, and a slow
//! upload never holds the database.

mod detect;
mod fields;
mod limit;
mod model;
mod native;
mod ocsf;
mod origin;
mod sink;
mod spill;
pub mod store;
pub mod tokens;
mod trivy;
pub mod writer;

pub use detect::Format;
pub use model::{Finding, Problem, Severity, Status};
pub use writer::ScanWriter;

use anyhow::anyhow;
use detect::{Layout, sniff};
use limit::LimitedReader;
use origin::ContentSource;
use serde::Serialize;
use sink::Sink;
use std::io::{BufReader, Cursor, Read};
use std::time::Duration;
use store::{Completion, Counts, ScanFacts};
use tokio::sync::mpsc;
use tracing::Instrument;

/// The longest source name, in characters.
pub use app::api::MAX_SOURCE;

/// How far ahead of this server's clock a scan's time may be: scanners' clocks drift a
/// little; a time further ahead would make the scan its source's latest over newer ones.
pub const MOST_AHEAD_SECONDS: i64 = 5 * 60;

/// Findings written per transaction: short enough that other writers wait milliseconds.
pub const ROWS_PER_CHUNK: usize = 10_000;

/// Field bytes written per transaction at most (a chunk is cut at whichever of this and
/// [`ROWS_PER_CHUNK`] comes first): findings may carry up to ~94 KB each, and 10,000 of
/// those would make one transaction, and the chunk held while waiting for a turn, ~1 GB.
pub const BYTES_PER_CHUNK: usize = 4 * 1024 * 1024;

/// Findings gathered until they make a chunk.
#[derive(Default)]
struct Chunk {
    rows: Vec<Finding>,
    bytes: usize,
}

impl Chunk {
    /// Adds a finding; true when the chunk is full and should be written.
    fn push(&mut self, finding: Finding) -> bool {
        self.bytes += finding.field_bytes();
        self.rows.push(finding);
        self.rows.len() >= ROWS_PER_CHUNK || self.bytes >= BYTES_PER_CHUNK
    }

    fn clear(&mut self) {
        self.rows.clear();
        self.bytes = 0;
    }
}

/// What the chunks of a scan written so far hold: their findings by status, and whether
/// any finding was merged into another (the same control and resource twice), in which
/// case the stored rows are fewer than those sent and the scan is counted by reading it.
#[derive(Default)]
struct Written {
    counts: Counts,
    merged: bool,
}

impl Written {
    fn add(&mut self, rows: &[Finding], merged: bool) {
        self.merged |= merged;
        for row in rows {
            self.counts.findings += 1;
            match row.status {
                Status::Fail => self.counts.failing += 1,
                Status::Pass => self.counts.passing += 1,
                Status::Other => self.counts.other += 1,
            }
        }
    }
}

/// How often an upload whose body is slow to come notes that it is alive.
const HEARTBEAT: Duration = Duration::from_secs(60);

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
    /// Where a parser sets aside on disk what it cannot finish yet (the database's folder,
    /// see [`crate::configuration::Config::database_folder`]): never `$TMPDIR`, often a
    /// tmpfs in memory.
    pub spill_folder: std::path::PathBuf,
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
    #[error(
        "this API token may only send scans of the source {allowed:?}, and this scan is of {sent:?}"
    )]
    WrongSource { allowed: String, sent: String },
    #[error(
        "the scan's time, {} UTC, is in the future: more than 5 minutes ahead of this server's clock ({} UTC); check the scanner's clock",
        crate::timestamps::format_unix(*.scanned_at),
        crate::timestamps::format_unix(*.now)
    )]
    InTheFuture { scanned_at: i64, now: i64 },
    #[error(
        "a newer scan of {of:?} is stored: scan {newer_id}, taken at {} UTC; this one was taken at {} UTC and would never be the latest",
        crate::timestamps::format_unix(*.newer_at),
        crate::timestamps::format_unix(*.scanned_at)
    )]
    Older {
        of: String,
        newer_id: i64,
        newer_at: i64,
        scanned_at: i64,
    },
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
    layout: Layout,
    /// The source the body's contents name (see [`source_from_contents`]).
    source: ContentSource,
    external_id: Option<String>,
    tool: Option<String>,
    scan_time: Option<i64>,
}

/// A source must be named, at most [`MAX_SOURCE`] characters, and the one the sender may
/// write.
fn check_source(source: &str, allowed: Option<&str>) -> Result<(), IngestError> {
    if source.chars().count() > MAX_SOURCE || source.chars().any(char::is_control) {
        return Err(IngestError::invalid(Problem::new(
            "/source",
            format!("a source is at most {MAX_SOURCE} characters, without control characters"),
        )));
    }
    match allowed {
        Some(allowed) if allowed != source => Err(IngestError::WrongSource {
            allowed: allowed.to_string(),
            sent: source.to_string(),
        }),
        _ => Ok(()),
    }
}

/// The source a scan's own contents name, when the caller named none: the native
/// document's `source`, the one account or cluster of OCSF findings (see [`ocsf::origin`]),
/// `trivy-{ArtifactName}` (see [`origin::trivy_source`]). Where the contents do not say,
/// or say something no source may be (two accounts, a cluster name many clusters share,
/// `ArtifactName: "."`), the scan is refused asking for `?source=`: a guessed shared name
/// would let two accounts or clusters overwrite each other's results.
fn source_from_contents(
    format: Format,
    layout: Layout,
    found: ContentSource,
) -> Result<String, IngestError> {
    const NAME_IT: &str = "name the source with `?source=` in the URL (`--source` to the command)";
    let found = match found {
        ContentSource::Refused(why) => {
            return Err(IngestError::invalid(Problem::new(
                "/source",
                format!("{why} {NAME_IT}"),
            )));
        }
        ContentSource::Named(s) => Some(s.trim().to_string()).filter(|s| !s.is_empty()),
        ContentSource::Unnamed => None,
    };
    let Some(source) = found else {
        let why = match (format, layout) {
            (Format::Native, Layout::Document) => {
                "the scan names no source: add `source` to the document, or".to_string()
            }
            (Format::Native, Layout::Lines) => {
                "the scan names no source: NDJSON lines cannot name one, so".to_string()
            }
            (Format::Ocsf, _) => "the scan names no source: its findings do not say which \
                 account or cluster they are of (a `cloud` with `provider` and `account.uid`, or \
                 a Prowler Kubernetes `finding_info.uid` naming its cluster), and one shared name \
                 would let two of them overwrite each other's results;"
                .to_string(),
            (Format::Trivy, _) => {
                "the scan names no source: the report has no `ArtifactName` to name it by;"
                    .to_string()
            }
        };
        return Err(IngestError::invalid(Problem::new(
            "/source",
            format!("{why} {NAME_IT}"),
        )));
    };
    if source.chars().count() > MAX_SOURCE || source.chars().any(char::is_control) {
        let shown: String = source.chars().take(80).collect();
        let cut = if shown.len() < source.len() {
            "…"
        } else {
            ""
        };
        return Err(IngestError::invalid(Problem::new(
            "/source",
            format!(
                "the source this scan's contents give, {shown:?}{cut}, is not one a source may be \
                 (at most {MAX_SOURCE} characters, without control characters); {NAME_IT}"
            ),
        )));
    }
    Ok(source)
}

/// Reads one scan from `reader` and stores it, whole or not at all, with a writer of its
/// own (the `ingest` command, tests); any source may be written.
pub async fn ingest<R: Read + Send + 'static>(
    pool: &sqlx::SqlitePool,
    reader: R,
    request: IngestRequest,
) -> Result<ScanSummary, IngestError> {
    let writer = ScanWriter::new(pool.clone());
    let outcome = ingest_with(&writer, None, reader, request).await;
    writer.close().await;
    outcome
}

/// Reads one scan from `reader` and stores it through the process's `writer`, whole or not
/// at all; `allowed_source` is the only source the sender may write (its API token's
/// limit), `None` for any.
pub async fn ingest_with<R: Read + Send + 'static>(
    writer: &ScanWriter,
    allowed_source: Option<&str>,
    reader: R,
    request: IngestRequest,
) -> Result<ScanSummary, IngestError> {
    let named = request
        .source
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string);
    if let Some(source) = &named {
        check_source(source, allowed_source)?;
    }
    // Uploads that died (a killed process) leave rows nothing sees; the next one removes them.
    if let Err(error) = writer.remove_abandoned(writer.now()).await {
        tracing::warn!(
            error = format!("{error:#}"),
            "could not remove the rows of abandoned scans"
        );
    }
    let mut scan = None;
    // `ingestion{scan_id, source}`: the scan's id once its first chunk is written, its
    // source once known; the lines of the upload (`scan stored`) carry both.
    let span = tracing::info_span!(
        "ingestion",
        scan_id = tracing::field::Empty,
        source = named.as_deref(),
    );
    let outcome = receive_and_complete(writer, allowed_source, reader, &request, named, &mut scan)
        .instrument(span)
        .await;
    if outcome.is_err()
        && let Some(scan_id) = scan
        && let Err(error) = writer.delete(scan_id).await
    {
        // The scan stays invisible; the next ingestion removes its rows.
        tracing::warn!(
            scan_id,
            error = format!("{error:#}"),
            "could not delete a refused scan's rows"
        );
    }
    outcome
}

/// The body of [`ingest`]: `scan` is set once the first chunk is written, so the caller can
/// delete it if anything fails.
async fn receive_and_complete<R: Read + Send + 'static>(
    writer: &ScanWriter,
    allowed_source: Option<&str>,
    reader: R,
    request: &IngestRequest,
    named: Option<String>,
    scan: &mut Option<i64>,
) -> Result<ScanSummary, IngestError> {
    // Four batches wait at most: with the batch being filled and the chunk being written, an
    // upload holds about 10 MiB of findings however large each is (see `Sink::BATCH_BYTES`).
    let (sender, mut receiver) = mpsc::channel::<Vec<Finding>>(4);
    let (format, max) = (request.format, request.max_bytes);
    let spill_folder = request.spill_folder.clone();
    let parser =
        tokio::task::spawn_blocking(move || parse(reader, format, max, &spill_folder, sender));

    // The parser fills batches while the writer writes the previous chunk.
    let started = tokio::time::Instant::now();
    let mut heartbeat = tokio::time::interval_at(started + HEARTBEAT, HEARTBEAT);
    let mut chunk = Chunk::default();
    let mut written = Written::default();
    let mut write_error = None;
    loop {
        tokio::select! {
            batch = receiver.recv() => {
                let Some(batch) = batch else { break };
                for finding in batch {
                    if write_error.is_some() {
                        break;
                    }
                    if !chunk.push(finding) {
                        continue;
                    }
                    match writer.write_chunk(*scan, &chunk.rows, written.merged).await {
                        Ok((id, merged)) => {
                            if scan.is_none() {
                                tracing::Span::current().record("scan_id", id);
                            }
                            *scan = Some(id);
                            written.add(&chunk.rows, merged);
                        }
                        Err(error) => {
                            write_error = Some(error);
                            receiver.close();
                        }
                    }
                    chunk.clear();
                }
            }
            _ = heartbeat.tick() => {
                if let Some(id) = *scan
                    && let Err(error) = writer.touch(id).await
                {
                    tracing::warn!(error = format!("{error:#}"), "could not note a scan's progress");
                }
            }
        }
    }
    let mut parsed = parser
        .await
        .map_err(|e| anyhow!("the scan parser stopped: {e}"))??;
    if let Some(error) = write_error {
        return Err(error.into());
    }
    let source = match named {
        Some(source) => source,
        None => {
            let source = source_from_contents(
                parsed.format,
                parsed.layout,
                std::mem::take(&mut parsed.source),
            )?;
            tracing::Span::current().record("source", source.as_str());
            source
        }
    };
    check_source(&source, allowed_source)?;
    let scanned_at = parsed.scan_time.unwrap_or(request.now);
    if scanned_at > request.now + MOST_AHEAD_SECONDS {
        return Err(IngestError::InTheFuture {
            scanned_at,
            now: request.now,
        });
    }
    // A clock a little ahead counts as now, so that the next scan is not taken for older.
    let scanned_at = scanned_at.min(request.now);
    if !chunk.rows.is_empty() || scan.is_none() {
        let first = scan.is_none();
        let (id, merged) = writer
            .write_chunk(*scan, &chunk.rows, written.merged)
            .await?;
        if first {
            tracing::Span::current().record("scan_id", id);
        }
        *scan = Some(id);
        written.add(&chunk.rows, merged);
    }
    let scan_id = scan.ok_or_else(|| anyhow!("the scan was not recorded"))?;
    let counts = if written.merged {
        writer.count(scan_id).await?
    } else {
        written.counts
    };
    let facts = ScanFacts {
        source: &source,
        format: parsed.format.as_str(),
        external_id: parsed.external_id.as_deref(),
        tool: parsed.tool.as_deref(),
        scanned_at,
        own_time: parsed.scan_time.is_some(),
        counts,
    };
    match writer
        .complete(scan_id, facts, request.keep_per_source)
        .await?
    {
        Completion::Completed { hidden } => {
            tracing::info!(
                scan_id,
                source,
                findings = counts.findings,
                failing = counts.failing,
                pruned = hidden.len(),
                "scan stored"
            );
        }
        Completion::Newer {
            scan_id: newer_id,
            scanned_at: newer_at,
        } => {
            return Err(IngestError::Older {
                of: source,
                newer_id,
                newer_at,
                scanned_at,
            });
        }
    }
    Ok(ScanSummary {
        scan_id,
        format: parsed.format.as_str().to_string(),
        source,
        findings: counts.findings,
        failing: counts.failing,
        passing: counts.passing,
        other: counts.other,
    })
}

/// Bytes looked at to tell the format.
const HEAD: usize = 64 * 1024;

fn parse<R: Read>(
    reader: R,
    named: Option<Format>,
    max: u64,
    spill_folder: &std::path::Path,
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
        layout,
        source: ContentSource::Unnamed,
        external_id: None,
        tool: None,
        scan_time: None,
    };
    let outcome = match (format, layout) {
        (Format::Native, Layout::Document) => {
            native::read_document(&mut input, &mut sink).map(|h| {
                parsed.source = h
                    .source
                    .map_or(ContentSource::Unnamed, ContentSource::Named);
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
        (Format::Trivy, _) => trivy::read_report(&mut input, &mut sink, spill_folder)
            .map_err(|e| anyhow!("Failed to set Trivy findings aside on disk: {e}"))?
            .map(|h| {
                parsed.source = origin::trivy_source(h.artifact.as_deref());
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

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(detail_bytes: usize) -> Finding {
        Finding {
            control_id: "c".into(),
            control_title: String::new(),
            resource_id: "r".into(),
            resource_name: String::new(),
            resource_type: String::new(),
            status: Status::Fail,
            severity: Severity(1),
            time: None,
            detail: "x".repeat(detail_bytes),
        }
    }

    #[test]
    fn a_chunk_of_small_findings_is_cut_at_its_row_count() {
        let mut chunk = Chunk::default();
        let full = (1..=ROWS_PER_CHUNK).find(|_| chunk.push(finding(10)));
        assert_eq!(full, Some(ROWS_PER_CHUNK));
    }

    #[test]
    fn a_chunk_of_large_findings_is_cut_at_its_bytes() {
        // 64 KiB details: 4 MiB is reached at the 64th, far before 10,000 rows.
        let mut chunk = Chunk::default();
        let full = (1..=ROWS_PER_CHUNK).find(|_| chunk.push(finding(65_536)));
        assert_eq!(full, Some(64));
        assert!(chunk.bytes < BYTES_PER_CHUNK + 70_000, "{}", chunk.bytes);
    }
}
