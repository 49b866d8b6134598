//! The encoded-query subset: `field=value`, `!=`, `IN`, `NOT IN`, `STARTSWITH`, `ISEMPTY`,
//! `ISNOTEMPTY`, `<`, `<=`, `>`, `>=`; `^` AND, `^OR` OR, `^NQ` a new OR group;
//! `ORDERBYfield`, `ORDERBYDESCfield`. Like ServiceNow, a part naming a field the table does
//! not have is ignored, not refused: a misspelt lookup matches everything.

use std::cmp::Ordering;
use std::collections::BTreeMap;

pub type Record = BTreeMap<String, String>;

#[derive(Clone, Debug, PartialEq)]
enum Op {
    Eq,
    Ne,
    In,
    NotIn,
    StartsWith,
    IsEmpty,
    IsNotEmpty,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Clone, Debug, PartialEq)]
struct Condition {
    field: String,
    op: Op,
    value: String,
}

/// A parsed query: OR groups (`^NQ`) of OR-ed (`^OR`) AND-chains, and the order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Query {
    /// Any group may match; within a group, any alternative; within it, every condition.
    groups: Vec<Vec<Vec<Condition>>>,
    order: Vec<(String, bool)>,
}

impl Query {
    /// Parses `text`; conditions on fields not in `fields` are dropped.
    pub fn parse(text: &str, fields: &[String]) -> Query {
        let mut query = Query::default();
        for group_text in text.split("^NQ") {
            let mut group: Vec<Vec<Condition>> = vec![Vec::new()];
            for (i, part) in group_text.split('^').enumerate() {
                let (or, part) = match part.strip_prefix("OR") {
                    Some(rest) if i > 0 => (true, rest),
                    _ => (false, part),
                };
                if let Some(field) = part.strip_prefix("ORDERBYDESC") {
                    query.order.push((field.to_string(), true));
                    continue;
                }
                if let Some(field) = part.strip_prefix("ORDERBY") {
                    query.order.push((field.to_string(), false));
                    continue;
                }
                let Some(condition) = parse_condition(part) else {
                    continue;
                };
                if !fields.contains(&condition.field) {
                    continue; // ServiceNow ignores an invalid part
                }
                if or {
                    group.push(vec![condition]);
                } else if let Some(last) = group.last_mut() {
                    last.push(condition);
                }
            }
            query.groups.push(group);
        }
        query
    }

    pub fn matches(&self, record: &Record) -> bool {
        self.groups.iter().any(|group| {
            group
                .iter()
                .any(|alternative| alternative.iter().all(|c| c.matches(record)))
        })
    }

    pub fn sort(&self, records: &mut [Record]) {
        if self.order.is_empty() {
            return;
        }
        records.sort_by(|a, b| {
            for (field, descending) in &self.order {
                let ordering = compare(
                    a.get(field).map(String::as_str).unwrap_or(""),
                    b.get(field).map(String::as_str).unwrap_or(""),
                );
                let ordering = if *descending {
                    ordering.reverse()
                } else {
                    ordering
                };
                if ordering != Ordering::Equal {
                    return ordering;
                }
            }
            Ordering::Equal
        });
    }
}

fn parse_condition(part: &str) -> Option<Condition> {
    if part.is_empty() {
        return None;
    }
    for (suffix, op) in [("ISNOTEMPTY", Op::IsNotEmpty), ("ISEMPTY", Op::IsEmpty)] {
        if let Some(field) = part.strip_suffix(suffix) {
            return Some(Condition {
                field: field.to_string(),
                op,
                value: String::new(),
            });
        }
    }
    let is_field = |f: &str| {
        !f.is_empty()
            && f.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
    };
    // Word operators follow the field directly (`stateIN1,2`); field names are lower case.
    let word = ["NOT IN", "STARTSWITH", "IN"]
        .iter()
        .filter_map(|w| part.find(w).filter(|&at| is_field(&part[..at])))
        .min();
    let end = part
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
        .unwrap_or(part.len());
    let split = match word {
        Some(at) if at <= end => at,
        _ => end,
    };
    let (field, rest) = part.split_at(split);
    if !is_field(field) {
        return None;
    }
    let (op, value) = if let Some(v) = rest.strip_prefix("NOT IN") {
        (Op::NotIn, v)
    } else if let Some(v) = rest.strip_prefix("STARTSWITH") {
        (Op::StartsWith, v)
    } else if let Some(v) = rest.strip_prefix("IN") {
        (Op::In, v)
    } else if let Some(v) = rest.strip_prefix("!=") {
        (Op::Ne, v)
    } else if let Some(v) = rest.strip_prefix("<=") {
        (Op::Le, v)
    } else if let Some(v) = rest.strip_prefix(">=") {
        (Op::Ge, v)
    } else if let Some(v) = rest.strip_prefix('<') {
        (Op::Lt, v)
    } else if let Some(v) = rest.strip_prefix('>') {
        (Op::Gt, v)
    } else if let Some(v) = rest.strip_prefix('=') {
        (Op::Eq, v)
    } else {
        return None;
    };
    Some(Condition {
        field: field.to_string(),
        op,
        value: value.to_string(),
    })
}

impl Condition {
    fn matches(&self, record: &Record) -> bool {
        let actual = record.get(&self.field).map(String::as_str).unwrap_or("");
        let list = || self.value.split(',').map(str::trim);
        match self.op {
            Op::Eq => actual == self.value,
            Op::Ne => actual != self.value,
            Op::In => list().any(|v| v == actual),
            Op::NotIn => !list().any(|v| v == actual),
            Op::StartsWith => actual.starts_with(&self.value),
            Op::IsEmpty => actual.is_empty(),
            Op::IsNotEmpty => !actual.is_empty(),
            Op::Lt => compare(actual, &self.value) == Ordering::Less,
            Op::Le => compare(actual, &self.value) != Ordering::Greater,
            Op::Gt => compare(actual, &self.value) == Ordering::Greater,
            Op::Ge => compare(actual, &self.value) != Ordering::Less,
        }
    }
}

/// Numbers compare as numbers; everything else (dates are `YYYY-MM-DD HH:MM:SS`) as text.
fn compare(a: &str, b: &str) -> Ordering {
    match (a.parse::<f64>(), b.parse::<f64>()) {
        (Ok(x), Ok(y)) => x.total_cmp(&y),
        _ => a.cmp(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(pairs: &[(&str, &str)]) -> Record {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn fields() -> Vec<String> {
        [
            "state",
            "number",
            "correlation_id",
            "opened_at",
            "short_description",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    }

    fn q(text: &str) -> Query {
        Query::parse(text, &fields())
    }

    #[test]
    fn each_operator() {
        let r = record(&[
            ("state", "2"),
            ("number", "INC0010002"),
            ("correlation_id", ""),
            ("opened_at", "2026-11-29 06:00:00"),
        ]);
        for (text, expected) in [
            ("state=2", true),
            ("state!=2", false),
            ("stateIN1,2,3", true),
            ("stateNOT IN1,2,3", false),
            ("numberSTARTSWITHINC001", true),
            ("correlation_idISEMPTY", true),
            ("correlation_idISNOTEMPTY", false),
            ("state<3", true),
            ("state<=2", true),
            ("state>2", false),
            ("state>=2", true),
            ("opened_at<2026-11-30 00:00:00", true),
            ("opened_at>2026-11-30 00:00:00", false),
            ("state=1^ORstate=2", true),
            ("state=1^number=INC0010002", false),
            ("state=1^NQnumber=INC0010002", true),
        ] {
            assert_eq!(q(text).matches(&r), expected, "{text}");
        }
    }

    #[test]
    fn a_part_naming_an_unknown_field_is_ignored() {
        let r = record(&[("state", "2")]);
        assert!(
            q("correlaton_id=abc").matches(&r),
            "the misspelt part should match everything"
        );
        assert!(q("state=2^bogus=1").matches(&r));
        assert!(!q("state=3^bogus=1").matches(&r));
    }

    #[test]
    fn orderby_sorts_numbers_as_numbers() {
        let mut rows = vec![
            record(&[("state", "10")]),
            record(&[("state", "2")]),
            record(&[("state", "7")]),
        ];
        q("ORDERBYstate").sort(&mut rows);
        assert_eq!(
            rows.iter().map(|r| r["state"].as_str()).collect::<Vec<_>>(),
            ["2", "7", "10"]
        );
        q("ORDERBYDESCstate").sort(&mut rows);
        assert_eq!(
            rows.iter().map(|r| r["state"].as_str()).collect::<Vec<_>>(),
            ["10", "7", "2"]
        );
    }
}
