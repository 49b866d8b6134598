//! What a scan's contents say about its source, when the upload names none. Two accounts,
//! clusters or repositories must never share a source: the latest scan of a source decides
//! what fails, so one would overwrite the other's results. Where the contents cannot tell
//! them apart, the scan is refused asking for `?source=`.

/// The source a scan's contents give.
#[derive(Debug, Default, PartialEq, Eq)]
pub enum ContentSource {
    /// The contents do not say.
    #[default]
    Unnamed,
    Named(String),
    /// The contents say something no source may be named after: why, as the start of a
    /// sentence that asks for `?source=`.
    Refused(String),
}

/// Kubernetes cluster names that many clusters share, so never a source (compared without
/// regard to case): `in-cluster` (Prowler run inside a cluster), `kubernetes` (kubeadm's
/// default), `kind-kind` (kind), `minikube`, `docker-desktop`, `default` (k3s),
/// `k3d-k3s-default` (k3d), `microk8s-cluster`, `rancher-desktop`, `colima` and `orbstack`.
pub const SHARED_CLUSTER_NAMES: [&str; 11] = [
    "in-cluster",
    "kubernetes",
    "kind-kind",
    "minikube",
    "docker-desktop",
    "default",
    "k3d-k3s-default",
    "microk8s-cluster",
    "rancher-desktop",
    "colima",
    "orbstack",
];

/// Whether `cluster` is one of the [`SHARED_CLUSTER_NAMES`], in any case.
pub fn is_shared_cluster_name(cluster: &str) -> bool {
    SHARED_CLUSTER_NAMES
        .iter()
        .any(|shared| shared.eq_ignore_ascii_case(cluster))
}

/// Where one finding says it comes from.
#[derive(Debug, PartialEq, Eq)]
pub enum Origin {
    /// It does not say.
    Unknown,
    /// An account or cluster, as a source name.
    Named(String),
    /// A cluster by one of the [`SHARED_CLUSTER_NAMES`].
    SharedCluster(String),
}

/// The origins of a file's findings, gathered one finding at a time: the first two distinct
/// ones are kept, nothing more (a file of a million findings costs two strings).
#[derive(Debug, Default)]
pub struct Origins {
    first: Option<String>,
    second: Option<String>,
    shared_cluster: Option<String>,
    /// Some finding did not say where it comes from.
    some_unknown: bool,
}

impl Origins {
    pub fn add(&mut self, origin: Origin) {
        match origin {
            Origin::Unknown => self.some_unknown = true,
            Origin::SharedCluster(cluster) => {
                self.shared_cluster.get_or_insert(cluster);
            }
            Origin::Named(name) => match &self.first {
                None => self.first = Some(name),
                Some(first) if self.second.is_none() && *first != name => self.second = Some(name),
                Some(_) => {}
            },
        }
    }

    /// The one origin every finding that says names; refused when they name two or more, or
    /// a cluster by a name many clusters share.
    pub fn source(self) -> ContentSource {
        if let (Some(first), Some(second)) = (&self.first, &self.second) {
            return ContentSource::Refused(format!(
                "the findings are of more than one account or cluster ({first:?} and \
                 {second:?}, at least), and a file is stored under one source: send one file \
                 per account or cluster, or"
            ));
        }
        if let (Some(first), true) = (&self.first, self.some_unknown) {
            return ContentSource::Refused(format!(
                "some findings are of {first:?} and others do not say which account or \
                 cluster they are of, so the file may hold more than one: send one file per \
                 account or cluster, or"
            ));
        }
        if let Some(cluster) = self.shared_cluster {
            return ContentSource::Refused(format!(
                "the findings name the cluster {cluster:?}, a default name that many clusters \
                 share (one of {}), so it cannot tell this cluster from another:",
                SHARED_CLUSTER_NAMES.join(", ")
            ));
        }
        match self.first {
            Some(name) => ContentSource::Named(name),
            None => ContentSource::Unnamed,
        }
    }
}

/// The source a Trivy report's `ArtifactName` gives: `trivy-{ArtifactName}` when it names
/// something distinctive (a container image, an absolute path, a repository URL, a name);
/// refused when it is empty, `.`, `..` or a path starting with `./` or `../`, which `trivy fs
/// .` and `trivy config .` write for every repository they scan.
pub fn trivy_source(artifact: Option<&str>) -> ContentSource {
    let Some(artifact) = artifact.map(str::trim) else {
        return ContentSource::Unnamed;
    };
    let relative = artifact.is_empty()
        || artifact == "."
        || artifact == ".."
        || artifact.starts_with("./")
        || artifact.starts_with("../");
    if relative {
        return ContentSource::Refused(format!(
            "the report's `ArtifactName` is {artifact:?}, which every repository scanned from \
             its own folder shares (`trivy fs .`, `trivy config .`), so it cannot name a source:"
        ));
    }
    ContentSource::Named(format!("trivy-{artifact}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named(s: &str) -> Origin {
        Origin::Named(s.to_string())
    }

    #[test]
    fn one_origin_named_by_every_finding_is_the_source() {
        let mut origins = Origins::default();
        for origin in [named("a"), named("a")] {
            origins.add(origin);
        }
        assert_eq!(origins.source(), ContentSource::Named("a".into()));
        assert_eq!(Origins::default().source(), ContentSource::Unnamed);
        let mut origins = Origins::default();
        origins.add(Origin::Unknown);
        assert_eq!(origins.source(), ContentSource::Unnamed);
    }

    #[test]
    fn findings_of_one_account_mixed_with_findings_that_do_not_say_are_refused() {
        let mut origins = Origins::default();
        for origin in [Origin::Unknown, named("a"), named("a")] {
            origins.add(origin);
        }
        let ContentSource::Refused(why) = origins.source() else {
            panic!("a file that may hold two accounts makes no source")
        };
        assert!(why.contains("\"a\"") && why.contains("do not say"), "{why}");
    }

    #[test]
    fn shared_cluster_names_are_known_in_any_case() {
        assert!(is_shared_cluster_name("In-Cluster"));
        assert!(is_shared_cluster_name("MINIKUBE"));
        assert!(is_shared_cluster_name("k3d-k3s-default"));
        assert!(!is_shared_cluster_name("prod-eu-1"));
    }

    #[test]
    fn two_origins_or_a_shared_cluster_name_are_refused_naming_them() {
        let mut origins = Origins::default();
        for origin in [named("a"), named("a"), named("b"), named("c")] {
            origins.add(origin);
        }
        let ContentSource::Refused(why) = origins.source() else {
            panic!("two accounts make no source")
        };
        assert!(why.contains("\"a\" and \"b\""), "{why}");
        let mut origins = Origins::default();
        origins.add(Origin::SharedCluster("in-cluster".into()));
        let ContentSource::Refused(why) = origins.source() else {
            panic!("in-cluster makes no source")
        };
        assert!(why.contains("\"in-cluster\""), "{why}");
    }

    #[test]
    fn a_trivy_artifact_names_a_source_only_when_it_is_distinctive() {
        for artifact in ["", " ", ".", "..", "./src", "../repo"] {
            assert!(
                matches!(trivy_source(Some(artifact)), ContentSource::Refused(_)),
                "{artifact:?}"
            );
        }
        for (artifact, source) in [
            ("alpine:3.19", "trivy-alpine:3.19"),
            ("/srv/repo", "trivy-/srv/repo"),
            (
                "ghcr.io/org/app@sha256:ab",
                "trivy-ghcr.io/org/app@sha256:ab",
            ),
            ("testdata/fixtures/repo", "trivy-testdata/fixtures/repo"),
        ] {
            assert_eq!(
                trivy_source(Some(artifact)),
                ContentSource::Named(source.into())
            );
        }
        assert_eq!(trivy_source(None), ContentSource::Unnamed);
    }
}
