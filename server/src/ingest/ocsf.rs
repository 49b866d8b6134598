//! OCSF findings: Prowler's Detection Findings (class 2004) and Compliance
//! Findings (class 2003), as a JSON array or NDJSON.

use super::fields::{First, Int, Object, Text, Time};
use super::limit::{FindingCap, read_capped};
use super::model::{Finding, Problem, Severity, Status};
use super::origin::{ContentSource, Origin, Origins, is_shared_cluster_name};
use super::sink::Sink;
use serde::Deserialize;
use serde::de::{DeserializeSeed, SeqAccess, Visitor};
use std::fmt;
use std::io::BufRead;

/// One OCSF finding: the fields ingestion uses, nothing else (a Prowler finding's
/// `raw_data`, `resources[].data`, `unmapped` but its `cloud`… are skipped as they are read).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct OcsfFinding {
    class_uid: Int,
    compliance: Object<Compliance>,
    metadata: Object<Metadata>,
    resources: First<Object<Resource>>,
    status_id: Int,
    status_code: Text,
    severity_id: Int,
    finding_info: Object<FindingInfo>,
    time: Time,
    time_dt: Time,
    status_detail: Text,
    cloud: Object<Cloud>,
    unmapped: Object<Unmapped>,
}

/// What Prowler puts outside the OCSF schema: its Compliance Findings carry their
/// account here, not in a `cloud` object.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Unmapped {
    cloud: Object<Cloud>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Compliance {
    checks: First<Object<Check>>,
    control: Text,
    status_id: Int,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Check {
    uid: Text,
    name: Text,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Metadata {
    event_code: Text,
    product: Object<Product>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Product {
    name: Text,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Resource {
    uid: Text,
    name: Text,
    #[serde(rename = "type")]
    kind: Text,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct FindingInfo {
    title: Text,
    uid: Text,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Cloud {
    provider: Text,
    account: Object<Account>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Account {
    uid: Text,
}

/// Where an OCSF finding comes from, as a source name, when the upload names none; `None`
/// when the finding does not say. Two accounts or clusters must never share a source: the
/// latest scan of a source decides what fails, so one would overwrite the other's results.
///
/// - `prowler-{provider}-{account}` from the finding's `cloud` (Detection Findings), or
///   from `unmapped.cloud` (where Prowler's Compliance Findings put it);
/// - `prowler-kubernetes-{cluster}` for a Prowler Kubernetes finding, which has no `cloud`:
///   its cluster is only in `finding_info.uid`, which Prowler writes as
///   `prowler-kubernetes-{check}-{cluster}-namespace: {namespace}-{resource}` (a Compliance
///   Finding adds `-{requirement}`); a cluster by one of the [`SHARED_CLUSTER_NAMES`]
///   (`in-cluster`…) is [`Origin::SharedCluster`], never a source.
///
/// Never the bare product name: every Prowler scan would share it.
pub fn origin(value: &OcsfFinding) -> Origin {
    let unmapped_cloud = value.unmapped.get().and_then(|u| u.cloud.get());
    for cloud in [value.cloud.get(), unmapped_cloud].into_iter().flatten() {
        let provider = cloud.provider.as_str().map(str::trim);
        let account = cloud
            .account
            .get()
            .and_then(|a| a.uid.as_str())
            .map(str::trim);
        if let (Some(provider), Some(account)) = (provider, account)
            && !provider.is_empty()
            && !account.is_empty()
        {
            return Origin::Named(format!("prowler-{provider}-{account}"));
        }
    }
    match kubernetes_cluster(value) {
        None => Origin::Unknown,
        Some(cluster) if is_shared_cluster_name(cluster) => {
            Origin::SharedCluster(cluster.to_string())
        }
        Some(cluster) => Origin::Named(format!("prowler-kubernetes-{cluster}")),
    }
}

/// The cluster a Prowler Kubernetes finding names in its `finding_info.uid`.
fn kubernetes_cluster(value: &OcsfFinding) -> Option<&str> {
    let check = value.metadata.get()?.event_code.as_str()?;
    let uid = value.finding_info.get()?.uid.as_str()?;
    let rest = uid.strip_prefix(&format!("prowler-kubernetes-{check}-"))?;
    let (cluster, _) = rest.split_once("-namespace: ")?;
    Some(cluster.trim()).filter(|c| !c.is_empty())
}

/// Reads a JSON array of OCSF findings; returns the source their origins give.
pub fn read_array<R: std::io::Read>(reader: R, sink: &mut Sink) -> Result<ContentSource, Problem> {
    read_capped(reader, |parser, cap| {
        ArraySeed { sink, cap }.deserialize(parser)
    })
}

/// Reads NDJSON, one OCSF finding a line; blank lines are skipped. Returns the source their
/// origins give.
pub fn read_lines<R: BufRead>(reader: R, sink: &mut Sink) -> Result<ContentSource, Problem> {
    let mut origins = Origins::default();
    super::sink::read_ndjson(reader, sink, |value: Object<OcsfFinding>, at| {
        let Object::Found(value) = value else {
            return Err(Problem::new(at, "a finding must be a JSON object"));
        };
        origins.add(origin(&value));
        finding(value, at)
    })?;
    Ok(origins.source())
}

struct ArraySeed<'a> {
    sink: &'a mut Sink,
    cap: &'a FindingCap,
}

impl<'de> DeserializeSeed<'de> for ArraySeed<'_> {
    type Value = ContentSource;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for ArraySeed<'_> {
    type Value = ContentSource;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of OCSF findings")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut origins = Origins::default();
        let mut index = 0usize;
        loop {
            let at = || format!("/{index}");
            let next = self.cap.finding("the finding", at, || {
                seq.next_element::<Object<OcsfFinding>>()
            })?;
            let Some(value) = next else { break };
            let value = value.fields();
            origins.add(origin(&value));
            match finding(value, &at()) {
                Ok(f) => self.sink.finding(f),
                Err(p) => self.sink.problem(p),
            }
            index += 1;
        }
        Ok(origins.source())
    }
}

/// One OCSF finding of class 2004 or 2003.
pub fn finding(value: OcsfFinding, at: &str) -> Result<Finding, Problem> {
    let class = value.class_uid.0;
    let compliance = class == Some(2003) || value.compliance.is_present() && class != Some(2004);
    let details = value.compliance.fields();
    let check = details.checks.0.map(Object::fields).unwrap_or_default();
    let metadata = value.metadata.fields();
    let resource = value.resources.0.map(Object::fields).unwrap_or_default();
    let control_id = if compliance {
        check.uid.as_str().or_else(|| details.control.as_str())
    } else {
        metadata.event_code.as_str()
    };
    let control_id = control_id.filter(|s| !s.is_empty()).ok_or_else(|| {
        let pointer = if compliance {
            "compliance/control"
        } else {
            "metadata/event_code"
        };
        Problem::new(format!("{at}/{pointer}"), "the control id is missing")
    })?;
    let resource_id = resource.uid.non_empty().ok_or_else(|| {
        Problem::new(
            format!("{at}/resources/0/uid"),
            "the resource id is missing",
        )
    })?;
    // The top-level status_id is the triage state: 3 = Suppressed (muted), never failing.
    let muted = value.status_id.0 == Some(3);
    let status = if compliance {
        match details.status_id.0 {
            Some(3) => Status::Fail,
            Some(1) => Status::Pass,
            _ => Status::Other,
        }
    } else {
        match value.status_code.as_str() {
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
        .severity_id
        .0
        .map(Severity::from_ocsf_id)
        .unwrap_or(Severity::UNKNOWN);
    let info = value.finding_info.fields();
    let title = if compliance {
        check.name.as_str().or_else(|| info.title.as_str())
    } else {
        info.title.as_str()
    };
    Finding {
        control_id: control_id.to_string(),
        control_title: title.unwrap_or_default().to_string(),
        resource_id: resource_id.to_string(),
        resource_name: resource.name.or_empty(),
        resource_type: resource.kind.or_empty(),
        status,
        severity,
        time: value.time.0.or(value.time_dt.0),
        detail: value.status_detail.or_empty(),
    }
    .within_limits(at)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::limit::{MAX_FINDING_BYTES, READ_AHEAD};
    use crate::ingest::sink::collect;
    use serde_json::{Value, json};

    fn finding(value: &Value, at: &str) -> Result<Finding, Problem> {
        super::finding(serde_json::from_value(value.clone()).unwrap(), at)
    }
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

    fn origin_of(value: Value) -> Option<String> {
        match super::origin(&serde_json::from_value(value).unwrap()) {
            Origin::Named(name) => Some(name),
            Origin::Unknown => None,
            Origin::SharedCluster(cluster) => Some(format!("shared {cluster}")),
        }
    }

    #[test]
    fn the_origin_names_the_account_or_the_cluster() {
        let detection = json!({"cloud": {"provider": "aws", "account": {"uid": "123456789012"}},
            "metadata": {"product": {"name": "Prowler"}}});
        assert_eq!(
            origin_of(detection).as_deref(),
            Some("prowler-aws-123456789012")
        );
        let compliance = json!({"class_uid": 2003,
            "unmapped": {"cloud": {"provider": "azure", "account": {"uid": "sub-1"}}}});
        assert_eq!(
            origin_of(compliance).as_deref(),
            Some("prowler-azure-sub-1")
        );
        for (uid, cluster) in [
            (
                "prowler-kubernetes-apiserver_x-prod-eu-namespace: kube-system-pod-1",
                Some("prod-eu"),
            ),
            (
                "prowler-kubernetes-apiserver_x-prod-eu-namespace: kube-system-pod-1-1.2.11",
                Some("prod-eu"),
            ),
            (
                "prowler-kubernetes-apiserver_x--namespace: kube-system-pod-1",
                None,
            ),
            ("<finding_uid>", None),
            (
                "prowler-kubernetes-apiserver_x-in-cluster-namespace: kube-system-pod-1",
                Some("shared in-cluster"),
            ),
            (
                "prowler-kubernetes-apiserver_x-kind-kind-namespace: kube-system-pod-1",
                Some("shared kind-kind"),
            ),
        ] {
            let value = json!({"metadata": {"event_code": "apiserver_x", "product": {"name": "Prowler"}},
                "finding_info": {"uid": uid}, "resources": [{"namespace": "kube-system"}]});
            let expected = cluster.map(|c| match c.strip_prefix("shared ") {
                Some(_) => c.to_string(),
                None => format!("prowler-kubernetes-{c}"),
            });
            assert_eq!(origin_of(value), expected, "{uid}");
        }
        let anonymous = json!({"metadata": {"product": {"name": "Prowler"}},
            "cloud": {"provider": "aws", "account": {"uid": ""}}});
        assert_eq!(origin_of(anonymous), None, "never the bare product name");
    }

    #[test]
    fn an_element_over_the_cap_is_refused_by_pointer() {
        let small = json!({"class_uid": 2004, "metadata": {"event_code": "x", "product": {"name": "Prowler"}},
            "status_code": "FAIL", "resources": [{"uid": "r", "data": {"a": [1, {"b": null}]}}, {"uid": "second"}],
            "unmapped": {"k": "v"}});
        let body = json!([small, small]).to_string();
        let (source, findings, problems) = collect(|sink| read_array(body.as_bytes(), sink));
        assert_eq!(
            source.unwrap(),
            ContentSource::Unnamed,
            "a finding that does not say where it comes from names no source"
        );
        assert_eq!((findings.len(), problems.len()), (2, 0));
        assert_eq!(
            findings[0].resource_id, "r",
            "the first resource is the finding's"
        );

        let big = json!({"class_uid": 2004, "raw_data": "w".repeat(MAX_FINDING_BYTES as usize + 2 * READ_AHEAD)});
        let body = json!([small, big]).to_string();
        let (outcome, _, _) = collect(|sink| read_array(body.as_bytes(), sink));
        let problem = outcome.unwrap_err();
        assert_eq!(problem.at, "/1");
        assert!(problem.message.contains("1048576"), "{}", problem.message);

        let body = format!("{small}\n{big}\n");
        let (outcome, _, _) = collect(|sink| read_lines(body.as_bytes(), sink));
        assert_eq!(outcome.unwrap_err().at, "line 2");
    }
}
