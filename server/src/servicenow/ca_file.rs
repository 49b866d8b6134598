//! The extra CA certificates to trust for the ServiceNow instance (`--servicenow-ca-file`).
//! Read at start as well as by every client: a missing or wrong file stops the server at
//! once, naming the flag, instead of surfacing at the first Test connection or engine run.

use std::path::Path;

/// The certificates of the PEM file at `path`; an error in words when it cannot be read or
/// holds no certificate.
pub fn read_ca_file(path: &Path) -> Result<Vec<reqwest::Certificate>, String> {
    let pem = std::fs::read(path)
        .map_err(|e| format!("cannot read the CA file {}: {e}", path.display()))?;
    let certificates = reqwest::Certificate::from_pem_bundle(&pem)
        .map_err(|e| format!("the CA file {} is not PEM: {e}", path.display()))?;
    if certificates.is_empty() {
        return Err(format!(
            "the CA file {} holds no PEM certificate (-----BEGIN CERTIFICATE-----)",
            path.display()
        ));
    }
    Ok(certificates)
}

/// Checked as the server (or `run-once`) starts: refuses a configured CA file that cannot
/// be used, naming the flag and its variable.
pub fn check_ca_file(path: Option<&Path>) -> anyhow::Result<()> {
    let Some(path) = path else { return Ok(()) };
    read_ca_file(path).map(|_| ()).map_err(|reason| {
        anyhow::anyhow!(
            "--servicenow-ca-file (ITSM_BRIDGE_SERVICENOW_CA_FILE): {reason}; give a readable \
             PEM file of the CA certificates to trust, or leave the flag out"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_empty_or_non_pem_file_is_refused_naming_the_flag() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.pem");
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "").unwrap();
        let garbage = dir.path().join("garbage.pem");
        std::fs::write(&garbage, "not a certificate\n").unwrap();
        for path in [&missing, &empty, &garbage] {
            let error = check_ca_file(Some(path)).unwrap_err().to_string();
            assert!(
                error.starts_with("--servicenow-ca-file (ITSM_BRIDGE_SERVICENOW_CA_FILE): ")
                    && error.contains(&path.display().to_string()),
                "{error}"
            );
        }
        assert!(check_ca_file(None).is_ok());
    }
}
