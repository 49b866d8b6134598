//! Which format a body is in: named by the caller, or told from its first bytes.

use serde::de::{IgnoredAny, MapAccess, Visitor};
use std::fmt;
use std::str::FromStr;

/// The formats a scan may come in, as `?format=` names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Native,
    Ocsf,
    Trivy,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Native => "native",
            Format::Ocsf => "ocsf",
            Format::Trivy => "trivy",
        }
    }
}

impl FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "native" => Ok(Format::Native),
            "ocsf" => Ok(Format::Ocsf),
            "trivy" => Ok(Format::Trivy),
            other => Err(format!(
                "unknown format {other:?}; use native, ocsf or trivy"
            )),
        }
    }
}

/// How the body is laid out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// One JSON document (an object, or for OCSF an array).
    Document,
    /// NDJSON: one JSON object a line.
    Lines,
}

/// The top-level keys that make a native body one document rather than NDJSON lines.
const NATIVE_DOCUMENT_KEYS: [&str; 5] = ["findings", "schema_version", "source", "scan", "tool"];

/// Tells the format and layout from the first bytes of a body. `None`: none of ours.
///
/// A body that starts with `{` is told by the top-level keys of its first object, never by
/// a key anywhere in it: a Prowler finding holds a nested `"findings"` (in its resource's
/// data), which is no native document's. An OCSF body that starts with `{` is NDJSON, one
/// finding a line, whatever its first line holds: OCSF's one document is an array.
pub fn sniff(head: &[u8], named: Option<Format>) -> Option<(Format, Layout)> {
    let text = String::from_utf8_lossy(head);
    let trimmed = text.trim_start_matches(|c: char| c.is_whitespace() || c == '\u{feff}');
    let first = trimmed.chars().next()?;
    let has = |key: &str| trimmed.contains(&format!("\"{key}\""));
    let keys = if first == '{' {
        top_level_keys(trimmed.as_bytes())
    } else {
        Vec::new()
    };
    let key = |name: &str| keys.iter().any(|k| k == name);
    let native_document = NATIVE_DOCUMENT_KEYS.iter().any(|k| key(k));
    let native_layout = if native_document {
        Layout::Document
    } else {
        Layout::Lines
    };
    if let Some(format) = named {
        return match (format, first) {
            (Format::Ocsf, '[') => Some((format, Layout::Document)),
            (Format::Ocsf, '{') => Some((format, Layout::Lines)),
            (Format::Trivy, '{') => Some((format, Layout::Document)),
            (Format::Native, '{') => Some((format, native_layout)),
            _ => None,
        };
    }
    match first {
        '[' if has("class_uid")
            || has("finding_info")
            || has("metadata")
            || trimmed[1..].trim_start().starts_with(']') =>
        {
            Some((Format::Ocsf, Layout::Document))
        }
        '{' if key("SchemaVersion") || key("ArtifactName") || key("Results") => {
            Some((Format::Trivy, Layout::Document))
        }
        '{' if native_document => Some((Format::Native, Layout::Document)),
        '{' if key("class_uid") || key("finding_info") || key("metadata") => {
            Some((Format::Ocsf, Layout::Lines))
        }
        '{' if key("control") => Some((Format::Native, Layout::Lines)),
        // A first object longer than the head: its keys are known only up to the cut.
        '{' if has("SchemaVersion") || has("ArtifactName") => {
            Some((Format::Trivy, Layout::Document))
        }
        '{' if has("class_uid") || has("finding_info") => Some((Format::Ocsf, Layout::Lines)),
        _ => None,
    }
}

/// The keys of the first JSON object of `json`, in order; those read before the object (or
/// the head it was cut at) ends, or before a syntax error.
fn top_level_keys(json: &[u8]) -> Vec<String> {
    struct Keys<'a>(&'a mut Vec<String>);
    impl<'de> Visitor<'de> for Keys<'_> {
        type Value = ();
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("an object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
            while let Some(key) = map.next_key::<String>()? {
                self.0.push(key);
                map.next_value::<IgnoredAny>()?;
            }
            Ok(())
        }
    }
    let mut keys = Vec::new();
    let mut deserializer = serde_json::Deserializer::from_slice(json);
    // An error (the cut, bad JSON) ends the list; what was read before it stays.
    let _ = serde::Deserializer::deserialize_map(&mut deserializer, Keys(&mut keys));
    keys
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_format_is_told_from_its_start() {
        assert_eq!(
            sniff(
                br#"{"schema_version":"1","source":"x","findings":[]}"#,
                None
            ),
            Some((Format::Native, Layout::Document))
        );
        assert_eq!(
            sniff(
                b"{\"control\":{\"id\":\"a\"}}\n{\"control\":{\"id\":\"b\"}}\n",
                None
            ),
            Some((Format::Native, Layout::Lines))
        );
        assert_eq!(
            sniff(br#"[{"class_uid":2004,"metadata":{}}]"#, None),
            Some((Format::Ocsf, Layout::Document))
        );
        assert_eq!(
            sniff(b"{\"class_uid\":2004}\n{\"class_uid\":2004}\n", None),
            Some((Format::Ocsf, Layout::Lines))
        );
        assert_eq!(
            sniff(
                br#"{"SchemaVersion":2,"ArtifactName":"x","Results":[]}"#,
                None
            ),
            Some((Format::Trivy, Layout::Document))
        );
    }

    /// docs/SCAN-FORMATS.md's detection table, row by row: its example is read as it says.
    #[test]
    fn each_row_of_the_documented_table_reads_its_example() {
        let doc = include_str!("../../../docs/SCAN-FORMATS.md");
        let rows: Vec<&str> = doc
            .lines()
            .skip_while(|line| !line.starts_with("| # | starts with"))
            .skip(2)
            .take_while(|line| line.starts_with('|'))
            .collect();
        assert_eq!(rows.len(), 7, "the table has a row per rule of `sniff`");
        for (n, row) in rows.iter().enumerate() {
            let cells: Vec<&str> = row.split(" | ").map(str::trim).collect();
            let read_as = match cells[3] {
                "OCSF, a JSON array" => (Format::Ocsf, Layout::Document),
                "OCSF, NDJSON" => (Format::Ocsf, Layout::Lines),
                "Trivy" => (Format::Trivy, Layout::Document),
                "native, one document" => (Format::Native, Layout::Document),
                "native, NDJSON" => (Format::Native, Layout::Lines),
                other => panic!("row {}: unknown {other:?}", n + 1),
            };
            assert_eq!(cells[0], format!("| {}", n + 1));
            let example = cells[4].trim_end_matches('|').trim().trim_matches('`');
            assert_eq!(
                sniff(example.as_bytes(), None),
                Some(read_as),
                "row {}: {example}",
                n + 1
            );
        }
    }

    #[test]
    fn other_bodies_are_none_of_ours() {
        assert_eq!(sniff(b"<html></html>", None), None);
        assert_eq!(sniff(b"", None), None);
        assert_eq!(sniff(br#"{"hello":"world"}"#, None), None);
        assert_eq!(sniff(b"[1,2,3]", None), None);
    }

    #[test]
    fn a_named_format_is_trusted_for_the_layout_only() {
        assert_eq!(
            sniff(br#"{"x":1}"#, Some(Format::Native)),
            Some((Format::Native, Layout::Lines))
        );
        assert_eq!(sniff(b"[", Some(Format::Trivy)), None);
    }

    #[test]
    fn an_ocsf_line_with_a_nested_findings_key_is_ocsf_ndjson() {
        // Prowler's AWS example: the resource's data holds `"findings": []`.
        let line = br#"{"message":"m","metadata":{"event_code":"c"},"resources":[{"data":{"metadata":{"findings":[]}}}],"class_uid":2004}"#;
        let body = [&line[..], b"\n", &line[..], b"\n"].concat();
        for named in [None, Some(Format::Ocsf)] {
            assert_eq!(
                sniff(&body, named),
                Some((Format::Ocsf, Layout::Lines)),
                "{named:?}"
            );
            assert_eq!(
                sniff(line, named),
                Some((Format::Ocsf, Layout::Lines)),
                "one line, {named:?}"
            );
        }
    }

    #[test]
    fn a_first_object_cut_by_the_head_is_told_by_the_keys_before_the_cut() {
        let head = br#"{"message":"m","metadata":{"event_code":"c"},"resources":[{"data":"xxxx"#;
        assert_eq!(sniff(head, None), Some((Format::Ocsf, Layout::Lines)));
        let head = br#"{"source":"s","findings":[{"control":{"id":"c"},"detail":"xxx"#;
        assert_eq!(sniff(head, None), Some((Format::Native, Layout::Document)));
    }
}
