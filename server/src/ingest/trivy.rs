//! Trivy JSON reports (FORMATS.md): misconfigurations and vulnerabilities. Read one
//! `Results[]` entry at a time.

use super::model::{Finding, Problem, Severity, Status, parse_time};
use super::native::json_problem;
use super::sink::Sink;
use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use std::fmt;

#[derive(Debug, Default)]
pub struct TrivyHeader {
    pub artifact: Option<String>,
    pub created_at: Option<i64>,
}

pub fn read_report<R: std::io::Read>(reader: R, sink: &mut Sink) -> Result<TrivyHeader, Problem> {
    let mut deserializer = serde_json::Deserializer::from_reader(reader);
    let header = ReportSeed { sink }
        .deserialize(&mut deserializer)
        .map_err(|e| json_problem(&e))?;
    deserializer.end().map_err(|e| json_problem(&e))?;
    Ok(header)
}

struct ReportSeed<'a> {
    sink: &'a mut Sink,
}

impl<'de> DeserializeSeed<'de> for ReportSeed<'_> {
    type Value = TrivyHeader;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ReportSeed<'_> {
    type Value = TrivyHeader;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a Trivy report object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut header = TrivyHeader::default();
        // Results seen before ArtifactName (Trivy writes it first) wait for it.
        let mut waiting: Vec<(usize, Value)> = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "ArtifactName" => header.artifact = Some(map.next_value()?),
                "CreatedAt" => header.created_at = parse_time(&map.next_value::<Value>()?),
                "Results" => {
                    let results = map.next_value_seed(ResultsSeed {
                        sink: &mut *self.sink,
                        artifact: header.artifact.clone(),
                    })?;
                    waiting.extend(results);
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        let artifact = header.artifact.clone().unwrap_or_default();
        for (index, result) in waiting {
            result_findings(&result, &artifact, index, self.sink);
        }
        Ok(header)
    }
}

struct ResultsSeed<'a> {
    sink: &'a mut Sink,
    artifact: Option<String>,
}

impl<'de> DeserializeSeed<'de> for ResultsSeed<'_> {
    type Value = Vec<(usize, Value)>;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for ResultsSeed<'_> {
    type Value = Vec<(usize, Value)>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of results")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut waiting = Vec::new();
        let mut index = 0;
        while let Some(result) = seq.next_element::<Value>()? {
            match &self.artifact {
                Some(artifact) => result_findings(&result, artifact, index, self.sink),
                None => waiting.push((index, result)),
            }
            index += 1;
        }
        Ok(waiting)
    }
}

fn result_findings(result: &Value, artifact: &str, index: usize, sink: &mut Sink) {
    let target = result
        .get("Target")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let kind = result
        .get("Type")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let list = |key: &str| {
        result
            .get(key)
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    for (i, m) in list("Misconfigurations").iter().enumerate() {
        let at = format!("/Results/{index}/Misconfigurations/{i}");
        match misconfiguration(m, artifact, target, kind, &at) {
            Ok(f) => sink.finding(f),
            Err(p) => sink.problem(p),
        }
    }
    for (i, v) in list("Vulnerabilities").iter().enumerate() {
        let at = format!("/Results/{index}/Vulnerabilities/{i}");
        match vulnerability(v, artifact, kind, &at) {
            Ok(f) => sink.finding(f),
            Err(p) => sink.problem(p),
        }
    }
}

fn text<'a>(value: &'a Value, key: &str) -> Option<&'a str> {
    value
        .get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

fn severity(value: &Value, at: &str) -> Result<Severity, Problem> {
    let raw = text(value, "Severity").unwrap_or("UNKNOWN");
    Severity::parse(raw).ok_or_else(|| {
        Problem::new(
            format!("{at}/Severity"),
            format!("unknown severity {raw:?}"),
        )
    })
}

fn misconfiguration(
    m: &Value,
    artifact: &str,
    target: &str,
    kind: &str,
    at: &str,
) -> Result<Finding, Problem> {
    let id = text(m, "AVDID")
        .or_else(|| text(m, "ID"))
        .ok_or_else(|| Problem::new(format!("{at}/ID"), "the check id is missing"))?;
    let mut resource_id = format!("{artifact}:{target}");
    if let Some(cause) = m
        .pointer("/CauseMetadata/Resource")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
    {
        resource_id = format!("{resource_id}:{cause}");
    }
    let status = match text(m, "Status") {
        Some("FAIL") => Status::Fail,
        Some("PASS") => Status::Pass,
        _ => Status::Other,
    };
    Finding {
        control_id: id.to_string(),
        control_title: text(m, "Title").unwrap_or_default().to_string(),
        resource_id,
        resource_name: target.to_string(),
        resource_type: kind.to_string(),
        status,
        severity: severity(m, at)?,
        time: None,
        detail: text(m, "Message").unwrap_or_default().to_string(),
    }
    .within_limits(at)
}

fn vulnerability(v: &Value, artifact: &str, kind: &str, at: &str) -> Result<Finding, Problem> {
    let id = text(v, "VulnerabilityID").ok_or_else(|| {
        Problem::new(
            format!("{at}/VulnerabilityID"),
            "the vulnerability id is missing",
        )
    })?;
    let package = text(v, "PkgID").map(String::from).or_else(|| {
        Some(format!(
            "{}@{}",
            text(v, "PkgName")?,
            text(v, "InstalledVersion").unwrap_or("")
        ))
    });
    let package =
        package.ok_or_else(|| Problem::new(format!("{at}/PkgName"), "the package is missing"))?;
    Finding {
        control_id: id.to_string(),
        control_title: text(v, "Title").unwrap_or_default().to_string(),
        resource_id: format!("{artifact}:{package}"),
        resource_name: text(v, "PkgName").unwrap_or_default().to_string(),
        resource_type: kind.to_string(),
        status: Status::Fail,
        severity: severity(v, at)?,
        time: None,
        detail: text(v, "Description").unwrap_or_default().to_string(),
    }
    .within_limits(at)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
}
