//! Trivy JSON reports: misconfigurations and vulnerabilities, read one at a
//! time; the rest of a report (its packages, metadata, summaries) is skipped as it is read.
//!
//! A finding's resource id starts with the report's `ArtifactName`, and a misconfiguration's
//! names its result's `Target`; its type is the result's `Type`. Trivy writes these before
//! `Results` and before the findings of a result, so findings normally go straight to the
//! writer. A report rewritten by another tool may have them after (`jq -S` sorts
//! `Misconfigurations` before `Target`): the findings read before what they need are then
//! put aside in a temporary file ([`Spill`]), not in memory, and finished once it is known:
//! at the end of their result, or at the end of the report. The writer cannot be asked to
//! fix rows it was already sent, and dropping the artifact from resource ids would merge the
//! same package of two images into one ticket, so waiting on disk is the cheap way.

use super::fields::{Object, Text, Time};
use super::limit::{FindingCap, read_capped};
use super::model::{Finding, Problem, Severity, Status};
use super::sink::Sink;
use super::spill::Spill;
use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::io;

#[derive(Debug, Default)]
pub struct TrivyHeader {
    pub artifact: Option<String>,
    pub created_at: Option<i64>,
}

/// One misconfiguration: the fields ingestion uses.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default, rename_all = "PascalCase")]
struct Misconfiguration {
    #[serde(rename = "AVDID")]
    avd_id: Text,
    #[serde(rename = "ID")]
    id: Text,
    title: Text,
    status: Text,
    severity: Text,
    message: Text,
    cause_metadata: Object<Cause>,
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default, rename_all = "PascalCase")]
struct Cause {
    resource: Text,
}

/// One vulnerability: the fields ingestion uses.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default, rename_all = "PascalCase")]
struct Vulnerability {
    #[serde(rename = "VulnerabilityID")]
    vulnerability_id: Text,
    #[serde(rename = "PkgID")]
    pkg_id: Text,
    pkg_name: Text,
    installed_version: Text,
    title: Text,
    severity: Text,
    description: Text,
}

#[derive(Debug, Deserialize, Serialize)]
enum Element {
    Misconfiguration(Misconfiguration),
    Vulnerability(Vulnerability),
}

/// A finding read, with where it is and what is known of its result.
#[derive(Debug, Deserialize, Serialize)]
struct Pending {
    at: String,
    target: String,
    kind: String,
    element: Element,
}

#[derive(Deserialize)]
#[serde(field_identifier)]
enum ReportKey {
    ArtifactName,
    CreatedAt,
    Results,
    #[serde(other)]
    Other,
}

#[derive(Deserialize)]
#[serde(field_identifier)]
enum ResultKey {
    Target,
    Type,
    Misconfigurations,
    Vulnerabilities,
    #[serde(other)]
    Other,
}

/// What the parser knows while it reads a report.
struct Report<'a> {
    sink: &'a mut Sink,
    cap: &'a FindingCap,
    artifact: Option<String>,
    /// Findings whose result is known, waiting for the artifact (the caller's: drained
    /// once the whole report is read).
    for_artifact: &'a mut Spill<Pending>,
    /// Findings of the current result, waiting for its end (its target and type).
    for_result: Spill<Pending>,
    /// The first error of the disk the findings set aside are written to (the caller's).
    disk_error: &'a mut Option<io::Error>,
}

impl Report<'_> {
    /// A finding whose result's target and type are known: to the sink, or aside until
    /// the artifact is named.
    fn ready(&mut self, read: Pending) -> io::Result<()> {
        match &self.artifact {
            Some(artifact) => {
                emit(self.sink, artifact, read);
                Ok(())
            }
            None => self.for_artifact.push(&read),
        }
    }

    /// Keeps a disk error for the caller; the parser stops with a generic error.
    fn failed<E: serde::de::Error>(&mut self, error: io::Error) -> E {
        *self.disk_error = Some(error);
        E::custom("a finding could not be set aside")
    }
}

/// Reads a Trivy report. The outer error is the disk's (findings set aside could not be
/// written or read back); the inner one the report's.
/// Findings are set aside in `spill_folder` (the database's) until what they lack comes.
pub fn read_report<R: std::io::Read>(
    reader: R,
    sink: &mut Sink,
    spill_folder: &std::path::Path,
) -> io::Result<Result<TrivyHeader, Problem>> {
    let mut for_artifact = Spill::in_folder(spill_folder);
    let mut disk_error = None;
    let read = read_capped(reader, |parser, cap| {
        let mut report = Report {
            sink: &mut *sink,
            cap,
            artifact: None,
            for_artifact: &mut for_artifact,
            for_result: Spill::in_folder(spill_folder),
            disk_error: &mut disk_error,
        };
        ReportSeed {
            report: &mut report,
        }
        .deserialize(parser)
    });
    if let Some(error) = disk_error {
        return Err(error);
    }
    let header = match read {
        Ok(header) => header,
        Err(problem) => return Ok(Err(problem)),
    };
    // The whole report is read: what waited for the artifact gets it (or none, as before).
    let artifact = header.artifact.clone().unwrap_or_default();
    for_artifact.drain(|read| {
        emit(sink, &artifact, read);
        Ok(())
    })?;
    Ok(Ok(header))
}

struct ReportSeed<'r, 'a> {
    report: &'r mut Report<'a>,
}

impl<'de> DeserializeSeed<'de> for ReportSeed<'_, '_> {
    type Value = TrivyHeader;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ReportSeed<'_, '_> {
    type Value = TrivyHeader;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a Trivy report object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let cap = self.report.cap;
        let mut header = TrivyHeader::default();
        let input = || "input".to_string();
        while let Some(key) = cap.finding("a field name", input, || map.next_key::<ReportKey>())? {
            match key {
                ReportKey::ArtifactName => {
                    let at = || "/ArtifactName".to_string();
                    let name: String = cap.finding("the artifact name", at, || map.next_value())?;
                    self.report.artifact = Some(name.clone());
                    header.artifact = Some(name);
                }
                ReportKey::CreatedAt => {
                    let at = || "/CreatedAt".to_string();
                    let time: Time = cap.finding("the time", at, || map.next_value())?;
                    header.created_at = time.0;
                }
                ReportKey::Results => map.next_value_seed(ResultsSeed {
                    report: &mut *self.report,
                })?,
                ReportKey::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(header)
    }
}

struct ResultsSeed<'r, 'a> {
    report: &'r mut Report<'a>,
}

impl<'de> DeserializeSeed<'de> for ResultsSeed<'_, '_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for ResultsSeed<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of results")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut index = 0;
        // One result at a time; within it, one finding at a time.
        while seq
            .next_element_seed(ResultSeed {
                report: &mut *self.report,
                at: format!("/Results/{index}"),
            })?
            .is_some()
        {
            index += 1;
        }
        Ok(())
    }
}

struct ResultSeed<'r, 'a> {
    report: &'r mut Report<'a>,
    at: String,
}

impl<'de> DeserializeSeed<'de> for ResultSeed<'_, '_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ResultSeed<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a Trivy result object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let report = self.report;
        let cap = report.cap;
        let at = &self.at;
        let mut target: Option<String> = None;
        let mut kind: Option<String> = None;
        let here = || at.clone();
        while let Some(key) = cap.finding("a field name", here, || map.next_key::<ResultKey>())? {
            match key {
                ResultKey::Target => {
                    let place = || format!("{at}/Target");
                    let value: Text = cap.finding("the target", place, || map.next_value())?;
                    target = Some(value.or_empty());
                }
                ResultKey::Type => {
                    let place = || format!("{at}/Type");
                    let value: Text = cap.finding("the type", place, || map.next_value())?;
                    kind = Some(value.or_empty());
                }
                ResultKey::Misconfigurations | ResultKey::Vulnerabilities => {
                    let misconfigurations = matches!(key, ResultKey::Misconfigurations);
                    map.next_value_seed(ElementsSeed {
                        report: &mut *report,
                        at: if misconfigurations {
                            format!("{at}/Misconfigurations")
                        } else {
                            format!("{at}/Vulnerabilities")
                        },
                        misconfigurations,
                        target: target.as_deref(),
                        kind: kind.as_deref(),
                    })?;
                }
                ResultKey::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        // The result is read: what waited for its target and type gets them.
        let (target, kind) = (target.unwrap_or_default(), kind.unwrap_or_default());
        let mut waiting = report.for_result.take();
        let drained = waiting.drain(|read| {
            report.ready(Pending {
                target: target.clone(),
                kind: kind.clone(),
                ..read
            })
        });
        report.for_result = waiting;
        drained.map_err(|e| report.failed(e))
    }
}

struct ElementsSeed<'r, 'a, 'k> {
    report: &'r mut Report<'a>,
    at: String,
    misconfigurations: bool,
    /// The result's target and type, if read yet.
    target: Option<&'k str>,
    kind: Option<&'k str>,
}

impl<'de> DeserializeSeed<'de> for ElementsSeed<'_, '_, '_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ElementsSeed<'_, '_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of misconfigurations or vulnerabilities")
    }

    /// `null`: none (as `[]`).
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let report = self.report;
        let cap = report.cap;
        let what = if self.misconfigurations {
            "the misconfiguration"
        } else {
            "the vulnerability"
        };
        let mut index = 0usize;
        loop {
            let at = || format!("{}/{index}", self.at);
            let element = if self.misconfigurations {
                cap.finding(what, at, || seq.next_element::<Misconfiguration>())?
                    .map(Element::Misconfiguration)
            } else {
                cap.finding(what, at, || seq.next_element::<Vulnerability>())?
                    .map(Element::Vulnerability)
            };
            let Some(element) = element else { break };
            let read = Pending {
                at: at(),
                target: self.target.unwrap_or_default().to_string(),
                kind: self.kind.unwrap_or_default().to_string(),
                element,
            };
            let done = if self.target.is_some() && self.kind.is_some() {
                report.ready(read)
            } else {
                report.for_result.push(&read)
            };
            done.map_err(|e| report.failed(e))?;
            index += 1;
        }
        Ok(())
    }
}

/// Makes the finding of `read` and hands it (or its problem) to the sink.
fn emit(sink: &mut Sink, artifact: &str, read: Pending) {
    let outcome = match &read.element {
        Element::Misconfiguration(m) => {
            misconfiguration(m, artifact, &read.target, &read.kind, &read.at)
        }
        Element::Vulnerability(v) => vulnerability(v, artifact, &read.kind, &read.at),
    };
    match outcome {
        Ok(f) => sink.finding(f),
        Err(p) => sink.problem(p),
    }
}

fn severity(raw: &Text, at: &str) -> Result<Severity, Problem> {
    let raw = raw.non_empty().unwrap_or("UNKNOWN");
    Severity::parse(raw).ok_or_else(|| {
        Problem::new(
            format!("{at}/Severity"),
            format!("unknown severity {raw:?}"),
        )
    })
}

fn misconfiguration(
    m: &Misconfiguration,
    artifact: &str,
    target: &str,
    kind: &str,
    at: &str,
) -> Result<Finding, Problem> {
    let id = m
        .avd_id
        .non_empty()
        .or_else(|| m.id.non_empty())
        .ok_or_else(|| Problem::new(format!("{at}/ID"), "the check id is missing"))?;
    let mut resource_id = format!("{artifact}:{target}");
    if let Some(cause) = m.cause_metadata.get().and_then(|c| c.resource.non_empty()) {
        resource_id = format!("{resource_id}:{cause}");
    }
    let status = match m.status.non_empty() {
        Some("FAIL") => Status::Fail,
        Some("PASS") => Status::Pass,
        _ => Status::Other,
    };
    Finding {
        control_id: id.to_string(),
        control_title: m.title.non_empty().unwrap_or_default().to_string(),
        resource_id,
        resource_name: target.to_string(),
        resource_type: kind.to_string(),
        status,
        severity: severity(&m.severity, at)?,
        time: None,
        detail: m.message.non_empty().unwrap_or_default().to_string(),
    }
    .within_limits(at)
}

fn vulnerability(
    v: &Vulnerability,
    artifact: &str,
    kind: &str,
    at: &str,
) -> Result<Finding, Problem> {
    let id = v.vulnerability_id.non_empty().ok_or_else(|| {
        Problem::new(
            format!("{at}/VulnerabilityID"),
            "the vulnerability id is missing",
        )
    })?;
    let package = v.pkg_id.non_empty().map(String::from).or_else(|| {
        Some(format!(
            "{}@{}",
            v.pkg_name.non_empty()?,
            v.installed_version.non_empty().unwrap_or("")
        ))
    });
    let package =
        package.ok_or_else(|| Problem::new(format!("{at}/PkgName"), "the package is missing"))?;
    Finding {
        control_id: id.to_string(),
        control_title: v.title.non_empty().unwrap_or_default().to_string(),
        resource_id: format!("{artifact}:{package}"),
        resource_name: v.pkg_name.non_empty().unwrap_or_default().to_string(),
        resource_type: kind.to_string(),
        status: Status::Fail,
        severity: severity(&v.severity, at)?,
        time: None,
        detail: v.description.non_empty().unwrap_or_default().to_string(),
    }
    .within_limits(at)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::limit::{MAX_FINDING_BYTES, READ_AHEAD};
    use crate::ingest::sink::collect;
    use serde_json::{Value, json};

    fn misconfiguration(
        m: &Value,
        artifact: &str,
        target: &str,
        kind: &str,
        at: &str,
    ) -> Result<Finding, Problem> {
        let m = serde_json::from_value(m.clone()).unwrap();
        super::misconfiguration(&m, artifact, target, kind, at)
    }

    fn vulnerability(v: &Value, artifact: &str, kind: &str, at: &str) -> Result<Finding, Problem> {
        super::vulnerability(
            &serde_json::from_value(v.clone()).unwrap(),
            artifact,
            kind,
            at,
        )
    }

    fn read(body: &str) -> (Result<TrivyHeader, Problem>, Vec<Finding>, Vec<Problem>) {
        let folder = tempfile::tempdir().unwrap();
        let (outcome, findings, problems) =
            collect(|sink| read_report(body.as_bytes(), sink, folder.path()).unwrap());
        (outcome, findings, problems)
    }

    /// Findings that wait for their artifact go to the folder the caller names: with none
    /// to write in, the report fails on the disk, not in /tmp.
    #[test]
    fn findings_are_set_aside_in_the_folder_given() {
        let body = r#"{"Results":[{"Target":"x","Type":"alpine","Vulnerabilities":[{"VulnerabilityID":"CVE-1","PkgName":"p"}]}],"ArtifactName":"img"}"#;
        let (outcome, _, _) = collect(|sink| {
            read_report(
                body.as_bytes(),
                sink,
                std::path::Path::new("/nonexistent/itsm-bridge"),
            )
        });
        assert!(outcome.is_err(), "the spill did not use the folder given");
        assert!(read(body).0.is_ok());
    }
    #[test]
    fn an_older_report_prefers_avdid_and_names_the_cause() {
        let m = json!({"ID": "DS002", "AVDID": "AVD-DS-0002", "Status": "FAIL", "Severity": "HIGH", "CauseMetadata": {"Resource": "aws_s3_bucket.logs"}});
        let f = misconfiguration(
            &m,
            "repo",
            "main.tf",
            "terraform",
            "/Results/0/Misconfigurations/0",
        )
        .unwrap();
        assert_eq!(f.control_id, "AVD-DS-0002");
        assert_eq!(f.resource_id, "repo:main.tf:aws_s3_bucket.logs");
        assert_eq!(f.severity, Severity(3));
    }

    #[test]
    fn a_passing_or_excepted_check_is_not_failing() {
        let pass = json!({"ID": "DS-0001", "Status": "PASS", "Severity": "LOW"});
        assert_eq!(
            misconfiguration(&pass, "a", "t", "k", "/").unwrap().status,
            Status::Pass
        );
        let exception = json!({"ID": "DS-0001", "Status": "EXCEPTION", "Severity": "LOW"});
        assert_eq!(
            misconfiguration(&exception, "a", "t", "k", "/")
                .unwrap()
                .status,
            Status::Other
        );
    }

    #[test]
    fn a_listed_vulnerability_fails_on_its_package() {
        let v = json!({"VulnerabilityID": "CVE-2024-1", "PkgName": "openssl", "InstalledVersion": "3.0.1", "Severity": "CRITICAL"});
        let f = vulnerability(&v, "alpine:3.18", "alpine", "/").unwrap();
        assert_eq!(
            (f.control_id.as_str(), f.resource_id.as_str(), f.status),
            ("CVE-2024-1", "alpine:3.18:openssl@3.0.1", Status::Fail)
        );
        let with_id = json!({"VulnerabilityID": "CVE-2024-1", "PkgID": "openssl@3.0.1-r0", "Severity": "LOW"});
        assert_eq!(
            vulnerability(&with_id, "img", "alpine", "/")
                .unwrap()
                .resource_id,
            "img:openssl@3.0.1-r0"
        );
    }

    /// The same findings as Trivy writes them, and with `ArtifactName` after `Results` and
    /// `Misconfigurations` before `Target` and `Type` (keys sorted, as `jq -S` writes them).
    #[test]
    fn findings_read_before_their_artifact_or_target_are_finished_when_those_come() {
        let misconfiguration =
            r#"{"ID":"DS-1","Severity":"LOW","Status":"FAIL","CauseMetadata":{"Resource":"c"}}"#;
        let vulnerability =
            r#"{"VulnerabilityID":"CVE-1","PkgName":"p","InstalledVersion":"1","Severity":"HIGH"}"#;
        let trivy_order = format!(
            r#"{{"SchemaVersion":2,"ArtifactName":"img","Results":[{{"Target":"Dockerfile","Type":"dockerfile","Misconfigurations":[{misconfiguration}],"Vulnerabilities":[{vulnerability}]}},{{"Target":"x","Type":"alpine","Vulnerabilities":[{vulnerability}]}}]}}"#
        );
        let sorted = format!(
            r#"{{"Results":[{{"Class":"config","Misconfigurations":[{misconfiguration}],"Target":"Dockerfile","Type":"dockerfile","Vulnerabilities":[{vulnerability}]}},{{"Target":"x","Type":"alpine","Vulnerabilities":[{vulnerability}]}}],"ArtifactName":"img","SchemaVersion":2}}"#
        );
        let (header, mut expected, problems) = read(&trivy_order);
        assert_eq!(header.unwrap().artifact.as_deref(), Some("img"));
        assert!(problems.is_empty());
        assert_eq!(expected.len(), 3);
        let (header, mut findings, problems) = read(&sorted);
        assert_eq!(header.unwrap().artifact.as_deref(), Some("img"));
        assert!(problems.is_empty());
        expected.sort_by(|a, b| {
            (&a.resource_id, &a.resource_type).cmp(&(&b.resource_id, &b.resource_type))
        });
        findings.sort_by(|a, b| {
            (&a.resource_id, &a.resource_type).cmp(&(&b.resource_id, &b.resource_type))
        });
        assert_eq!(findings, expected);
        assert_eq!(findings[0].resource_id, "img:Dockerfile:c");
        assert_eq!(findings[0].resource_name, "Dockerfile");
    }

    #[test]
    fn a_finding_over_the_cap_is_refused_and_the_parts_skipped_are_not_capped() {
        let big = "q".repeat(MAX_FINDING_BYTES as usize);
        let report = |description: &str| {
            json!({"ArtifactName": "a", "Metadata": {"blob": big}, "Results": [{"Target": "t", "Type": "alpine",
                "Packages": [{"Name": big}], "Vulnerabilities": [
                    {"VulnerabilityID": "CVE-1", "PkgName": "p", "Severity": "LOW"},
                    {"VulnerabilityID": "CVE-2", "PkgName": "p", "Description": description}]}]})
            .to_string()
        };
        let (header, findings, problems) = read(&report("short"));
        assert!(header.is_ok() && problems.is_empty());
        assert_eq!(findings.len(), 2);
        let (header, _, _) = read(&report(&"q".repeat(big.len() + 2 * READ_AHEAD)));
        let problem = header.unwrap_err();
        assert_eq!(problem.at, "/Results/0/Vulnerabilities/1");
        assert!(problem.message.contains("1048576"), "{}", problem.message);
    }
}
