//! Memory benchmark (not a test): what one oversized finding costs. For each format a body of
//! 256 MiB made of one finding padded with a field no format uses (after one small finding
//! for NDJSON, whose format is told from its first line) is ingested into a fresh
//! SQLite file, and the process's peak resident memory (VmHWM) is reported, as medians.
//!
//! Each measurement runs in a process of its own (this program started again with
//! `INGEST_MEMORY_CASE` set), since a process's high-water mark never goes down. The body is
//! generated as it is read: this program never holds it.
//!
//! Run: `cargo bench -p server --bench ingest_memory` (RUNS=3 by default).

// A benchmark that cannot start its runs has nothing to report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use server::ingest::{IngestRequest, ingest};
use std::io::Read;
use std::process::Command;

/// The allocator of the `itsm-bridge` binary, so what is measured is what it would hold.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The body's size: the default `--max-scan-bytes`.
const BODY: u64 = 256 * 1024 * 1024;

/// Each case: its name, and the body before and after the padding.
const CASES: [(&str, &str, &str); 5] = [
    (
        "native document",
        r#"{"source":"bench","findings":[{"control":{"id":"c"},"resource":{"id":"r"},"status":"fail","severity":"low","padding":""#,
        r#""}]}"#,
    ),
    (
        "native NDJSON",
        // A first line whole, as a scanner writes it: the format is told from it.
        concat!(
            r#"{"control":{"id":"c"},"resource":{"id":"r"},"status":"fail","severity":"low"}"#,
            "\n",
            r#"{"control":{"id":"c"},"resource":{"id":"r"},"status":"fail","severity":"low","padding":""#
        ),
        "\"}\n",
    ),
    (
        "OCSF array",
        r#"[{"class_uid":2004,"metadata":{"event_code":"c"},"status_code":"FAIL","resources":[{"uid":"r"}],"unmapped":{"padding":""#,
        r#""}}]"#,
    ),
    (
        "OCSF NDJSON",
        concat!(
            r#"{"class_uid":2004,"metadata":{"event_code":"c"},"status_code":"FAIL","resources":[{"uid":"r"}]}"#,
            "\n",
            r#"{"class_uid":2004,"metadata":{"event_code":"c"},"status_code":"FAIL","resources":[{"uid":"r"}],"unmapped":{"padding":""#
        ),
        "\"}}\n",
    ),
    (
        "Trivy",
        r#"{"SchemaVersion":2,"ArtifactName":"bench","Results":[{"Target":"t","Type":"alpine","Vulnerabilities":[{"VulnerabilityID":"CVE-1","PkgName":"p","Severity":"LOW","Padding":""#,
        r#""}]}]}"#,
    ),
];

fn main() {
    if let Ok(case) = std::env::var("INGEST_MEMORY_CASE") {
        return measure(case.parse().expect("a case number"));
    }
    let runs: usize = std::env::var("RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    println!("input: one finding padded to 256 MiB; peak resident memory (VmHWM) per run");
    for (case, (name, _, _)) in CASES.iter().enumerate() {
        let mut peaks = Vec::new();
        let mut outcome = String::new();
        for _ in 0..runs {
            let output = Command::new(std::env::current_exe().unwrap())
                .env("INGEST_MEMORY_CASE", case.to_string())
                .output()
                .expect("the benchmark starts itself");
            assert!(
                output.status.success(),
                "{name}: {}",
                String::from_utf8_lossy(&output.stderr)
            );
            let text = String::from_utf8_lossy(&output.stdout).into_owned();
            let (kib, said) = text.trim().split_once(' ').expect("a peak and an outcome");
            peaks.push(kib.parse::<u64>().unwrap());
            outcome = said.to_string();
        }
        let runs_mib: Vec<String> = peaks
            .iter()
            .map(|k| format!("{:.1}", *k as f64 / 1024.0))
            .collect();
        peaks.sort_unstable();
        println!(
            "{name}: median peak {:.1} MiB (runs: {} MiB); {outcome}",
            peaks[peaks.len() / 2] as f64 / 1024.0,
            runs_mib.join(" · ")
        );
    }
}

/// One measurement: ingests the case's body into a fresh database, then prints the peak
/// resident memory in KiB and what became of the scan.
fn measure(case: usize) {
    let (_, before, after) = CASES[case];
    let folder = tempfile::tempdir().expect("a temporary folder");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let outcome = runtime.block_on(async {
        let pool = server::database::open(&folder.path().join("bench.db"))
            .await
            .expect("the database");
        let request = IngestRequest {
            format: None,
            source: Some("bench".into()),
            max_bytes: BODY,
            now: 1_780_000_000,
            keep_per_source: 10,
            spill_folder: folder.path().to_path_buf(),
        };
        match ingest(&pool, Padded::new(before, after), request).await {
            Ok(summary) => format!("stored ({} finding)", summary.findings),
            Err(error) => {
                let text = error.to_string();
                format!("refused: {}", text.chars().take(160).collect::<String>())
            }
        }
    });
    println!("{} {outcome}", peak_kib());
}

/// The body `before`, padding, `after`, exactly `BODY` bytes, made as it is read.
struct Padded {
    before: &'static [u8],
    after: &'static [u8],
    at: u64,
}

impl Padded {
    fn new(before: &'static str, after: &'static str) -> Self {
        Self {
            before: before.as_bytes(),
            after: after.as_bytes(),
            at: 0,
        }
    }
}

impl Read for Padded {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let padding_end = BODY - self.after.len() as u64;
        // The part the next byte is in, from that byte on.
        let (part, left): (&[u8], u64) = if self.at < self.before.len() as u64 {
            (&self.before[self.at as usize..], 0)
        } else if self.at < padding_end {
            (&[], padding_end - self.at)
        } else {
            (&self.after[(self.at - padding_end) as usize..], 0)
        };
        let n = if part.is_empty() {
            let n = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
            buf[..n].fill(b'x');
            n
        } else {
            let n = buf.len().min(part.len());
            buf[..n].copy_from_slice(&part[..n]);
            n
        };
        self.at += n as u64;
        Ok(n)
    }
}

/// This process's peak resident memory so far, in KiB.
fn peak_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .expect("/proc/self/status")
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .expect("a VmHWM line")
}
