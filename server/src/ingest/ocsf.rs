//! OCSF findings (FORMATS.md): Prowler's Detection Findings (class 2004) and Compliance
//! Findings (class 2003), as a JSON array or NDJSON.

use super::model::{Finding, Problem, Severity, Status, parse_time};
use super::native::json_problem;
use super::sink::Sink;
use serde::de::{DeserializeSeed, SeqAccess, Visitor};
use serde_json::Value;
use std::fmt;
use std::io::BufRead;

/// The default source of an OCSF finding, when the upload names none.
pub fn default_source(value: &Value) -> Option<String> {
    let provider = value.pointer("/cloud/provider").and_then(Value::as_str);
    let account = value.pointer("/cloud/account/uid").and_then(Value::as_str);
    if let (Some(provider), Some(account)) = (provider, account) {
        return Some(format!("prowler-{provider}-{account}"));
    }
    value
        .pointer("/metadata/product/name")
        .and_then(Value::as_str)
        .map(|name| name.to_lowercase())
}

/// Reads a JSON array of OCSF findings; returns the default source of the first one.
pub fn read_array<R: std::io::Read>(reader: R, sink: &mut Sink) -> Result<Option<String>, Problem> {
    let mut deserializer = serde_json::Deserializer::from_reader(reader);
    let source = ArraySeed { sink }
        .deserialize(&mut deserializer)
        .map_err(|e| json_problem(&e))?;
    deserializer.end().map_err(|e| json_problem(&e))?;
    Ok(source)
}

/// Reads NDJSON, one OCSF finding a line; blank lines are skipped.
pub fn read_lines<R: BufRead>(reader: R, sink: &mut Sink) -> Result<Option<String>, Problem> {
    let mut source = None;
    super::sink::read_ndjson(reader, sink, |value, at| {
        if source.is_none() {
            source = default_source(value);
        }
        finding(value, at)
    })?;
    Ok(source)
}

struct ArraySeed<'a> {
    sink: &'a mut Sink,
}

impl<'de> DeserializeSeed<'de> for ArraySeed<'_> {
    type Value = Option<String>;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for ArraySeed<'_> {
    type Value = Option<String>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of OCSF findings")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut source = None;
        let mut index = 0usize;
        while let Some(value) = seq.next_element::<Value>()? {
            if source.is_none() {
                source = default_source(&value);
            }
            match finding(&value, &format!("/{index}")) {
                Ok(f) => self.sink.finding(f),
                Err(p) => self.sink.problem(p),
            }
            index += 1;
        }
        Ok(source)
    }
}

/// One OCSF finding of class 2004 or 2003.
pub fn finding(value: &Value, at: &str) -> Result<Finding, Problem> {
    let text = |pointer: &str| value.pointer(pointer).and_then(Value::as_str);
    let class = value.get("class_uid").and_then(Value::as_i64);
    let compliance =
        class == Some(2003) || value.get("compliance").is_some() && class != Some(2004);
    let control_id = if compliance {
        text("/compliance/checks/0/uid").or_else(|| text("/compliance/control"))
    } else {
        text("/metadata/event_code")
    };
    let control_id = control_id.filter(|s| !s.is_empty()).ok_or_else(|| {
        let pointer = if compliance {
            "compliance/control"
        } else {
            "metadata/event_code"
        };
        Problem::new(format!("{at}/{pointer}"), "the control id is missing")
    })?;
    let resource_id = text("/resources/0/uid")
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            Problem::new(
                format!("{at}/resources/0/uid"),
                "the resource id is missing",
            )
        })?;
    // The top-level status_id is the triage state: 3 = Suppressed (muted), never failing.
    let muted = value.get("status_id").and_then(Value::as_i64) == Some(3);
    let status = if compliance {
        match value
            .pointer("/compliance/status_id")
            .and_then(Value::as_i64)
        {
            Some(3) => Status::Fail,
            Some(1) => Status::Pass,
            _ => Status::Other,
        }
    } else {
        match text("/status_code") {
            Some("FAIL") => Status::Fail,
            Some("PASS") => Status::Pass,
            Some(_) => Status::Other,
            None => {
                return Err(Problem::new(
                    format!("{at}/status_code"),
                    "the status code is missing",
                ));
            }
        }
    };
    let status = if muted && status == Status::Fail {
        Status::Other
    } else {
        status
    };
    let severity = value
        .get("severity_id")
        .and_then(Value::as_i64)
        .map(Severity::from_ocsf_id)
        .unwrap_or(Severity::UNKNOWN);
    let title = if compliance {
        text("/compliance/checks/0/name").or_else(|| text("/finding_info/title"))
    } else {
        text("/finding_info/title")
    };
    Finding {
        control_id: control_id.to_string(),
        control_title: title.unwrap_or_default().to_string(),
        resource_id: resource_id.to_string(),
        resource_name: text("/resources/0/name").unwrap_or_default().to_string(),
        resource_type: text("/resources/0/type").unwrap_or_default().to_string(),
        status,
        severity,
        time: value
            .get("time")
            .and_then(parse_time)
            .or_else(|| value.get("time_dt").and_then(parse_time)),
        detail: text("/status_detail").unwrap_or_default().to_string(),
    }
    .within_limits(at)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_compliance_finding_takes_its_check_and_compliance_status() {
        let value = json!({
            "class_uid": 2003,
            "compliance": {"control": "1.20", "checks": [{"uid": "accessanalyzer_enabled", "name": "Access Analyzer"}], "status_id": 3},
            "resources": [{"uid": "arn:aws:iam::1:root", "type": "AwsAccount"}],
            "severity_id": 6,
            "time": 1_739_539_623_000_i64,
            "status_id": 1
        });
        let f = finding(&value, "/0").unwrap();
        assert_eq!(f.control_id, "accessanalyzer_enabled");
        assert_eq!(f.control_title, "Access Analyzer");
        assert_eq!(f.status, Status::Fail);
        assert_eq!(f.severity, Severity(4), "Fatal counts as critical");
        assert_eq!(f.time, Some(1_739_539_623), "milliseconds are read as such");
    }

    #[test]
    fn a_compliance_finding_without_checks_uses_its_control() {
        let value = json!({"class_uid": 2003, "compliance": {"control": "CIS 1.20", "status_id": 1}, "resources": [{"uid": "r"}]});
        let f = finding(&value, "/0").unwrap();
        assert_eq!(
            (f.control_id.as_str(), f.status),
            ("CIS 1.20", Status::Pass)
        );
    }

    #[test]
    fn a_suppressed_detection_finding_is_not_failing() {
        let value = json!({"class_uid": 2004, "metadata": {"event_code": "x"}, "status_code": "FAIL", "status_id": 3, "resources": [{"uid": "r"}], "time": 1_739_539_623});
        let f = finding(&value, "/0").unwrap();
        assert_eq!(f.status, Status::Other);
        assert_eq!(f.time, Some(1_739_539_623), "Prowler writes seconds");
    }

    #[test]
    fn missing_ids_are_named_by_pointer() {
        let value = json!({"class_uid": 2004, "status_code": "FAIL", "resources": [{"uid": "r"}]});
        assert_eq!(
            finding(&value, "/3").unwrap_err().at,
            "/3/metadata/event_code"
        );
        let value = json!({"class_uid": 2004, "metadata": {"event_code": "x"}, "status_code": "FAIL", "resources": []});
        assert_eq!(finding(&value, "/3").unwrap_err().at, "/3/resources/0/uid");
    }
}
