//! The native format (FORMATS.md): one document with `source`, `scan`, `tool` and a
//! `findings` array, read as a stream one finding at a time; or NDJSON, one finding a line.

use super::model::{Finding, Problem, Severity, Status, parse_time};
use super::sink::Sink;
use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use std::fmt;

/// What the document says besides its findings.
#[derive(Debug, Default)]
pub struct NativeHeader {
    pub source: Option<String>,
    pub scan_id: Option<String>,
    pub scan_time: Option<i64>,
    pub tool: Option<String>,
}

/// Reads one native document from `reader`, passing each finding to `sink`.
pub fn read_document<R: std::io::Read>(
    reader: R,
    sink: &mut Sink,
) -> Result<NativeHeader, Problem> {
    let mut deserializer = serde_json::Deserializer::from_reader(reader);
    let header = DocumentSeed { sink }
        .deserialize(&mut deserializer)
        .map_err(|e| json_problem(&e))?;
    deserializer.end().map_err(|e| json_problem(&e))?;
    Ok(header)
}

pub fn json_problem(error: &serde_json::Error) -> Problem {
    if error.line() == 0 {
        return Problem::new("input", error.to_string());
    }
    let message = error.to_string();
    let message = message
        .split(" at line ")
        .next()
        .unwrap_or(&message)
        .to_string();
    Problem::new(
        format!("line {}, column {}", error.line(), error.column()),
        message,
    )
}

struct DocumentSeed<'a> {
    sink: &'a mut Sink,
}

impl<'de> DeserializeSeed<'de> for DocumentSeed<'_> {
    type Value = NativeHeader;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for DocumentSeed<'_> {
    type Value = NativeHeader;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a scan object with `source` and `findings`")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut header = NativeHeader::default();
        let mut saw_findings = false;
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "source" => header.source = Some(map.next_value::<String>()?),
                "scan" => {
                    let scan: Value = map.next_value()?;
                    header.scan_id = scan.get("id").and_then(Value::as_str).map(String::from);
                    header.scan_time = scan.get("time").and_then(parse_time);
                }
                "tool" => {
                    let tool: Value = map.next_value()?;
                    header.tool = tool.get("name").and_then(Value::as_str).map(String::from);
                }
                "findings" => {
                    saw_findings = true;
                    map.next_value_seed(FindingsSeed {
                        sink: &mut *self.sink,
                    })?;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        if !saw_findings {
            self.sink
                .problem(Problem::new("/findings", "the `findings` array is missing"));
        }
        Ok(header)
    }
}

struct FindingsSeed<'a> {
    sink: &'a mut Sink,
}

impl<'de> DeserializeSeed<'de> for FindingsSeed<'_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for FindingsSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of findings")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut index = 0usize;
        // One finding in memory at a time.
        while let Some(value) = seq.next_element::<Value>()? {
            let pointer = format!("/findings/{index}");
            match finding(&value, &pointer) {
                Ok(finding) => self.sink.finding(finding),
                Err(problem) => self.sink.problem(problem),
            }
            index += 1;
        }
        Ok(())
    }
}

/// One native finding; `at` is its JSON pointer (or line) for messages.
pub fn finding(value: &Value, at: &str) -> Result<Finding, Problem> {
    let object = value
        .as_object()
        .ok_or_else(|| Problem::new(at, "a finding must be an object"))?;
    let text = |path: &[&str]| -> Option<&str> {
        let mut v = value;
        for key in path {
            v = v.get(key)?;
        }
        v.as_str()
    };
    let required = |path: &[&str]| -> Result<String, Problem> {
        let pointer = format!("{at}/{}", path.join("/"));
        let mut v = value;
        for key in path {
            v = v
                .get(key)
                .ok_or_else(|| Problem::new(&pointer, "required field is missing"))?;
        }
        match v.as_str() {
            Some(s) if !s.trim().is_empty() => Ok(s.to_string()),
            Some(_) => Err(Problem::new(&pointer, "must not be empty")),
            None => Err(Problem::new(&pointer, "must be a string")),
        }
    };
    let control_id = required(&["control", "id"])?;
    let resource_id = required(&["resource", "id"])?;
    let status_raw = required(&["status"])?;
    let status = match status_raw.as_str() {
        "fail" => Status::Fail,
        "pass" => Status::Pass,
        "manual" | "error" | "skipped" => Status::Other,
        other => {
            return Err(Problem::new(
                format!("{at}/status"),
                format!("unknown status {other:?}; use fail, pass, manual, error or skipped"),
            ));
        }
    };
    let severity_raw = required(&["severity"])?;
    let severity = Severity::parse(&severity_raw).ok_or_else(|| {
        Problem::new(
            format!("{at}/severity"),
            format!(
                "unknown severity {severity_raw:?}; use informational, low, medium, high, critical or unknown"
            ),
        )
    })?;
    let _ = object;
    Finding {
        control_title: text(&["control", "title"]).unwrap_or_default().to_string(),
        resource_name: text(&["resource", "name"]).unwrap_or_default().to_string(),
        resource_type: text(&["resource", "type"]).unwrap_or_default().to_string(),
        detail: text(&["detail"]).unwrap_or_default().to_string(),
        time: value.get("time").and_then(parse_time),
        control_id,
        resource_id,
        status,
        severity,
    }
    .within_limits(at)
}

/// Reads NDJSON, one native finding a line; blank lines are skipped.
pub fn read_lines<R: std::io::BufRead>(reader: R, sink: &mut Sink) -> Result<(), Problem> {
    super::sink::read_ndjson(reader, sink, finding)
}
