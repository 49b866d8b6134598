//! Which format a body is in: named by the caller, or told from its first bytes.

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

/// Tells the format and layout from the first bytes of a body. `None`: none of ours.
pub fn sniff(head: &[u8], named: Option<Format>) -> Option<(Format, Layout)> {
    let text = String::from_utf8_lossy(head);
    let trimmed = text.trim_start_matches(|c: char| c.is_whitespace() || c == '\u{feff}');
    let first = trimmed.chars().next()?;
    let has = |key: &str| trimmed.contains(&format!("\"{key}\""));
    let lines = first == '{' && looks_like_lines(trimmed);
    let layout = if lines {
        Layout::Lines
    } else {
        Layout::Document
    };
    if let Some(format) = named {
        return match (format, first) {
            (Format::Ocsf, '[') => Some((format, Layout::Document)),
            (_, '{') => Some((format, layout)),
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
        '{' if has("SchemaVersion") || has("ArtifactName") => {
            Some((Format::Trivy, Layout::Document))
        }
        '{' if lines && (has("class_uid") || has("finding_info")) => {
            Some((Format::Ocsf, Layout::Lines))
        }
        '{' if has("findings") || has("schema_version") => Some((Format::Native, Layout::Document)),
        '{' if lines && has("control") => Some((Format::Native, Layout::Lines)),
        '{' if has("class_uid") => Some((Format::Ocsf, Layout::Lines)),
        _ => None,
    }
}

/// NDJSON: the first line is a whole object by itself and another object follows.
fn looks_like_lines(text: &str) -> bool {
    let mut lines = text.lines();
    let Some(first) = lines.next() else {
        return false;
    };
    serde_json::from_str::<serde_json::Value>(first).is_ok_and(|v| v.is_object())
        && (lines.any(|l| l.trim_start().starts_with('{')) || text.trim_end() == first.trim_end())
        && !first.contains("\"findings\"")
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
}
