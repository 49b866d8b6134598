//! The native format: one document with `source`, `scan`, `tool` and a
//! `findings` array, read as a stream one finding at a time; or NDJSON, one finding a line.

use super::fields::{Object, Text, Time};
use super::limit::{FindingCap, read_capped};
use super::model::{Finding, Problem, Severity, Status};
use super::sink::Sink;
use serde::Deserialize;
use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::fmt;

/// What the document says besides its findings.
#[derive(Debug, Default)]
pub struct NativeHeader {
    pub source: Option<String>,
    pub scan_id: Option<String>,
    pub scan_time: Option<i64>,
    pub tool: Option<String>,
}

/// One native finding: the fields ingestion uses, nothing else.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct NativeFinding {
    control: Object<Control>,
    resource: Object<Resource>,
    status: Text,
    severity: Text,
    time: Time,
    detail: Text,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Control {
    id: Text,
    title: Text,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Resource {
    id: Text,
    name: Text,
    #[serde(rename = "type")]
    kind: Text,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Scan {
    id: Text,
    time: Time,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Tool {
    name: Text,
}

/// The document's keys this reads; any other is skipped.
#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "lowercase")]
enum Key {
    Source,
    Scan,
    Tool,
    Findings,
    #[serde(other)]
    Other,
}

/// Reads one native document from `reader`, passing each finding to `sink`.
pub fn read_document<R: std::io::Read>(
    reader: R,
    sink: &mut Sink,
) -> Result<NativeHeader, Problem> {
    read_capped(reader, |parser, cap| {
        DocumentSeed { sink, cap }.deserialize(parser)
    })
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
    cap: &'a FindingCap,
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
        let cap = self.cap;
        let mut header = NativeHeader::default();
        let mut saw_findings = false;
        // Every value kept is read under the cap; the findings one at a time.
        while let Some(key) = cap.finding("a field name", input, || map.next_key::<Key>())? {
            match key {
                Key::Source => {
                    let at = || "/source".to_string();
                    header.source = Some(cap.finding("the source", at, || map.next_value())?);
                }
                Key::Scan => {
                    let at = || "/scan".to_string();
                    let scan: Object<Scan> = cap.finding("the scan", at, || map.next_value())?;
                    let scan = scan.fields();
                    header.scan_id = scan.id.as_str().map(String::from);
                    header.scan_time = scan.time.0;
                }
                Key::Tool => {
                    let at = || "/tool".to_string();
                    let tool: Object<Tool> = cap.finding("the tool", at, || map.next_value())?;
                    header.tool = tool.fields().name.as_str().map(String::from);
                }
                Key::Findings => {
                    saw_findings = true;
                    map.next_value_seed(FindingsSeed {
                        sink: &mut *self.sink,
                        cap,
                    })?;
                }
                Key::Other => {
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

/// Where a problem with the document's own keys is.
fn input() -> String {
    "input".to_string()
}

struct FindingsSeed<'a> {
    sink: &'a mut Sink,
    cap: &'a FindingCap,
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
        // One finding in memory at a time, of at most MAX_FINDING_BYTES.
        loop {
            let at = || format!("/findings/{index}");
            let next = self
                .cap
                .finding("the finding", at, || seq.next_element::<Object<_>>())?;
            let Some(value) = next else { break };
            match finding(value, &at()) {
                Ok(finding) => self.sink.finding(finding),
                Err(problem) => self.sink.problem(problem),
            }
            index += 1;
        }
        Ok(())
    }
}

/// One native finding; `at` is its JSON pointer (or line) for messages.
pub fn finding(value: Object<NativeFinding>, at: &str) -> Result<Finding, Problem> {
    let Object::Found(value) = value else {
        return Err(Problem::new(at, "a finding must be an object"));
    };
    // The pointer is written only for a problem: a million findings make no strings.
    let required = |text: Text, path: &str| -> Result<String, Problem> {
        let problem = |message| Problem::new(format!("{at}/{path}"), message);
        match text {
            Text::Str(s) if !s.trim().is_empty() => Ok(s),
            Text::Missing => Err(problem("required field is missing")),
            Text::Str(_) => Err(problem("must not be empty")),
            Text::NotString => Err(problem("must be a string")),
        }
    };
    let control = value.control.fields();
    let resource = value.resource.fields();
    let control_id = required(control.id, "control/id")?;
    let resource_id = required(resource.id, "resource/id")?;
    let status_raw = required(value.status, "status")?;
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
    let severity_raw = required(value.severity, "severity")?;
    let severity = Severity::parse(&severity_raw).ok_or_else(|| {
        Problem::new(
            format!("{at}/severity"),
            format!(
                "unknown severity {severity_raw:?}; use informational, low, medium, high, critical or unknown"
            ),
        )
    })?;
    Finding {
        control_title: control.title.or_empty(),
        resource_name: resource.name.or_empty(),
        resource_type: resource.kind.or_empty(),
        detail: value.detail.or_empty(),
        time: value.time.0,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::limit::{MAX_FINDING_BYTES, READ_AHEAD};
    use crate::ingest::sink::collect;

    fn document(findings: &str) -> String {
        format!(
            r#"{{"source":"s","scan":{{"id":"x","time":"2026-11-29T06:00:00Z"}},"tool":{{"name":"t"}},"findings":[{findings}]}}"#
        )
    }

    const FINDING: &str = r#"{"control":{"id":"c","title":"T"},"resource":{"id":"r","type":"k"},"status":"fail","severity":"high","extra":{"a":[1,2]}}"#;

    #[test]
    fn a_document_keeps_its_header_and_findings() {
        let body = document(&format!("{FINDING},{FINDING}"));
        let (header, findings, problems) = collect(|sink| read_document(body.as_bytes(), sink));
        let header = header.unwrap();
        assert_eq!(header.source.as_deref(), Some("s"));
        assert_eq!(header.scan_id.as_deref(), Some("x"));
        assert_eq!(header.tool.as_deref(), Some("t"));
        assert!(header.scan_time.is_some());
        assert_eq!(findings.len(), 2);
        assert_eq!(
            (
                findings[0].control_title.as_str(),
                findings[0].resource_type.as_str()
            ),
            ("T", "k")
        );
        assert!(problems.is_empty());
    }

    #[test]
    fn a_finding_of_exactly_the_cap_passes_and_one_past_the_read_ahead_is_refused() {
        // The element as the cap counts it starts after `[` and ends with its `}`.
        let base = r#"{"control":{"id":"c"},"resource":{"id":"r"},"status":"fail","severity":"low","pad":""}"#;
        let pad = MAX_FINDING_BYTES as usize - base.len();
        let exact = base.replace(r#""pad":"""#, &format!(r#""pad":"{}""#, "x".repeat(pad)));
        let (header, findings, _) =
            collect(|sink| read_document(document(&exact).as_bytes(), sink));
        assert!(header.is_ok(), "{header:?}");
        assert_eq!(findings.len(), 1);

        // What the parser has read may be READ_AHEAD bytes ahead of what it has parsed, both
        // where the finding starts and where it ends.
        let over = exact.replacen('x', &"x".repeat(2 * READ_AHEAD + 2), 1);
        let (header, _, _) = collect(|sink| read_document(document(&over).as_bytes(), sink));
        let problem = header.unwrap_err();
        assert_eq!(problem.at, "/findings/0");
        assert!(problem.message.contains("1048576"), "{}", problem.message);
    }

    #[test]
    fn a_kept_header_value_is_capped_and_a_skipped_one_is_not() {
        let big = "y".repeat(MAX_FINDING_BYTES as usize + 2 * READ_AHEAD + 10);
        let body = format!(r#"{{"source":"s","unused":"{big}","findings":[{FINDING}]}}"#);
        let (header, findings, _) = collect(|sink| read_document(body.as_bytes(), sink));
        assert!(header.is_ok());
        assert_eq!(findings.len(), 1);
        let body = format!(r#"{{"source":"{big}","findings":[{FINDING}]}}"#);
        let (header, _, _) = collect(|sink| read_document(body.as_bytes(), sink));
        assert_eq!(header.unwrap_err().at, "/source");
    }

    #[test]
    fn fields_of_the_wrong_type_are_named_where_they_are() {
        let body = document(
            r#"{"control":{"id":5},"resource":{"id":"r"},"status":"fail","severity":"low"},7"#,
        );
        let (_, findings, problems) = collect(|sink| read_document(body.as_bytes(), sink));
        assert!(findings.is_empty());
        let at: Vec<&str> = problems.iter().map(|p| p.at.as_str()).collect();
        assert_eq!(at, ["/findings/0/control/id", "/findings/1"]);
        assert_eq!(problems[0].message, "must be a string");
    }

    #[test]
    fn lines_over_the_cap_are_refused_by_number() {
        let big = format!(
            r#"{{"control":{{"id":"c"}},"resource":{{"id":"r"}},"status":"fail","severity":"low","pad":"{}"}}"#,
            "z".repeat(MAX_FINDING_BYTES as usize)
        );
        let body = format!("{FINDING}\n\n{big}\n{FINDING}\n");
        let (outcome, findings, _) = collect(|sink| read_lines(body.as_bytes(), sink));
        assert_eq!(outcome.unwrap_err().at, "line 3");
        assert_eq!(findings.len(), 1);
    }

    #[test]
    fn nesting_deeper_than_the_limit_is_refused_even_where_skipped() {
        let nested = |depth: usize| format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        let body = |depth| {
            format!(
                r#"{{"source":"s","unused":{},"findings":[{FINDING}]}}"#,
                nested(depth)
            )
        };
        let (header, findings, _) = collect(|sink| read_document(body(100).as_bytes(), sink));
        assert!(header.is_ok());
        assert_eq!(findings.len(), 1);
        let (header, _, _) = collect(|sink| read_document(body(200).as_bytes(), sink));
        let problem = header.unwrap_err();
        assert_eq!(problem.at, "line 1");
        assert!(
            problem.message.contains("recursion limit"),
            "{}",
            problem.message
        );
    }

    #[test]
    fn an_ndjson_line_nested_deeper_than_the_limit_is_refused_by_number() {
        let line = |depth: usize| {
            format!(
                r#"{{"control":{{"id":"c"}},"resource":{{"id":"r"}},"status":"fail","severity":"low","extra":{}{},"text":"{}"}}"#,
                "[".repeat(depth),
                "]".repeat(depth),
                // Brackets in a string are text, not nesting.
                "[".repeat(1000),
            )
        };
        let body = format!(
            "{}
{}
",
            line(100),
            line(100_000)
        );
        let (outcome, findings, _) = collect(|sink| read_lines(body.as_bytes(), sink));
        let problem = outcome.unwrap_err();
        assert_eq!(problem.at, "line 2");
        assert!(
            problem.message.contains("nested deeper than 128 levels"),
            "{}",
            problem.message
        );
        assert_eq!(findings.len(), 1, "the line within the limit is read");
    }
}
