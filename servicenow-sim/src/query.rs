//! The encoded-query subset: `field=value`, `!=`, `IN`, `NOT IN`, `STARTSWITH`, `ISEMPTY`,
//! `ISNOTEMPTY`, `<`, `<=`, `>`, `>=`; `^` AND, `^OR` OR, `^NQ` a new OR group;
//! `ORDERBYfield`, `ORDERBYDESCfield`; `^^` is a `^` inside a value, as in ServiceNow. Like
//! ServiceNow, a part naming a field the table does not have is ignored, not refused: a
//! misspelt lookup matches everything.

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashSet};

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
    /// The values of `IN` and `NOT IN`, split once: a lookup of a hundred sys_ids is tried
    /// against every record of the table.
    values: HashSet<String>,
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
        let mut group: Vec<Vec<Condition>> = vec![Vec::new()];
        for (i, part) in split_parts(text).iter().enumerate() {
            let mut part = part.as_str();
            let mut or = false;
            if i > 0 {
                if let Some(rest) = part.strip_prefix("NQ") {
                    query
                        .groups
                        .push(std::mem::replace(&mut group, vec![Vec::new()]));
                    part = rest;
                } else if let Some(rest) = part
                    .strip_prefix("OR")
                    .filter(|_| !part.starts_with("ORDERBY"))
                {
                    or = true;
                    part = rest;
                }
            }
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
        query
    }

    pub fn matches(&self, record: &Record) -> bool {
        self.groups.iter().any(|group| {
            group
                .iter()
                .any(|alternative| alternative.iter().all(|c| c.matches(record)))
        })
    }

    /// The sys_ids the query is limited to, when every alternative names them (`sys_id=…`
    /// or `sys_idIN…`): then only those records can match, and a table of ten thousand
    /// need not be walked for a lookup of a hundred. `None` when any alternative is open.
    pub fn sys_ids(&self) -> Option<HashSet<&str>> {
        let mut ids = HashSet::new();
        for alternative in self.groups.iter().flatten() {
            let limiting = alternative
                .iter()
                .find(|c| c.field == "sys_id" && matches!(c.op, Op::Eq | Op::In))?;
            match limiting.op {
                Op::Eq => {
                    ids.insert(limiting.value.as_str());
                }
                _ => ids.extend(limiting.values.iter().map(String::as_str)),
            }
        }
        if self.groups.is_empty() {
            return None;
        }
        Some(ids)
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

/// The query's parts, split at each `^` that is not doubled; `^^` is a `^` of the value.
/// Read left to right, so `a^^^b` is `a^` and `b`.
fn split_parts(text: &str) -> Vec<String> {
    let mut parts = vec![String::new()];
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '^' if chars.peek() == Some(&'^') => {
                chars.next();
                parts.last_mut().expect("one part at least").push('^');
            }
            '^' => parts.push(String::new()),
            c => parts.last_mut().expect("one part at least").push(c),
        }
    }
    parts
}

fn parse_condition(part: &str) -> Option<Condition> {
    if part.is_empty() {
        return None;
    }
    let is_field = |f: &str| {
        !f.is_empty()
            && f.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
    };
    for (suffix, op) in [("ISNOTEMPTY", Op::IsNotEmpty), ("ISEMPTY", Op::IsEmpty)] {
        // Only a field name before it: `x=aISEMPTY` is an equality whose value ends so.
        if let Some(field) = part.strip_suffix(suffix).filter(|f| is_field(f)) {
            return Some(Condition {
                field: field.to_string(),
                op,
                value: String::new(),
                values: HashSet::new(),
            });
        }
    }
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
    let values = match op {
        Op::In | Op::NotIn => value.split(',').map(|v| v.trim().to_string()).collect(),
        _ => HashSet::new(),
    };
    Some(Condition {
        field: field.to_string(),
        op,
        value: value.to_string(),
        values,
    })
}

impl Condition {
    fn matches(&self, record: &Record) -> bool {
        let actual = record.get(&self.field).map(String::as_str).unwrap_or("");
        match self.op {
            Op::Eq => actual == self.value,
            Op::Ne => actual != self.value,
            Op::In => self.values.contains(actual),
            Op::NotIn => !self.values.contains(actual),
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
    fn a_doubled_caret_is_part_of_the_value_not_a_new_clause() {
        let odd = record(&[("correlation_id", "x^ORstate=2")]);
        let other = record(&[("correlation_id", "y"), ("state", "2")]);
        let query = q("correlation_id=x^^ORstate=2");
        assert!(query.matches(&odd));
        assert!(!query.matches(&other), "the value added an OR clause");
        // Unescaped, the same text is two clauses.
        assert!(q("correlation_id=x^ORstate=2").matches(&other));
        let looks_like_a_test = q("correlation_id=x^^ORcorrelation_idISNOTEMPTY");
        assert!(!looks_like_a_test.matches(&other));
        assert!(looks_like_a_test.matches(&record(&[(
            "correlation_id",
            "x^ORcorrelation_idISNOTEMPTY"
        )])));
        let trailing = record(&[("correlation_id", "x^"), ("state", "1")]);
        assert!(q("correlation_id=x^^^state=1").matches(&trailing));
        assert!(!q("correlation_id=x^^^NQstate=2").matches(&record(&[("state", "1")])));
        assert!(q("correlation_id=x^^^NQstate=2").matches(&other));
    }

    #[test]
    fn an_in_list_matches_any_of_its_values_spaces_aside() {
        let ids: Vec<String> = (0..100).map(|i| format!("id{i}")).collect();
        let query = q(&format!("correlation_idIN{}", ids.join(", ")));
        for id in ["id0", "id57", "id99"] {
            assert!(query.matches(&record(&[("correlation_id", id)])), "{id}");
        }
        assert!(!query.matches(&record(&[("correlation_id", "id100")])));
        let negated = q("correlation_idNOT INa, b");
        assert!(!negated.matches(&record(&[("correlation_id", "b")])));
        assert!(negated.matches(&record(&[("correlation_id", "c")])));
    }

    #[test]
    fn a_query_names_its_sys_ids_only_when_every_alternative_is_limited_to_them() {
        let fields: Vec<String> = ["sys_id", "state"].iter().map(|s| s.to_string()).collect();
        let ids = |text: &str| {
            Query::parse(text, &fields).sys_ids().map(|ids| {
                let mut ids: Vec<String> = ids.into_iter().map(str::to_string).collect();
                ids.sort();
                ids
            })
        };
        assert_eq!(
            ids("sys_idINa,b^state=1"),
            Some(vec!["a".into(), "b".into()])
        );
        assert_eq!(
            ids("sys_id=a^ORsys_id=c"),
            Some(vec!["a".into(), "c".into()])
        );
        assert_eq!(
            ids("sys_id=a^NQsys_idINb"),
            Some(vec!["a".into(), "b".into()])
        );
        for open in [
            "",
            "state=1",
            "sys_id=a^ORstate=1",
            "sys_id!=a",
            "sys_idNOT INa",
        ] {
            assert_eq!(ids(open), None, "{open}");
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
