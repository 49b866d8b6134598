//! What the scanner API leaves behind, run as the real binary and read from its standard
//! error in both log formats: each refusal (401, 400, 413, 415) is logged with the client's
//! address (the one `--trusted-proxy-header` names), the token's prefix and the reason,
//! never the token's secret part; a stored scan's line names the token and the address; an
//! unknown token is audited once per address and window, with its address in the log too;
//! a 401 says how to authenticate (RFC 6750).

use crate::log_capture::LoggedServer;

const SECRET_KEY: &str = "c2VjcmV0LWtleS1vZi10aGUtdGVzdC0zMi1ieXRlcyE=";

/// A token shaped like this server's, that it never made.
const UNKNOWN_TOKEN: &str = "itsmb_Unknown0Token1That2Nobody3Ever4Made5Here6xy";

const NATIVE_SCAN: &str = r#"{"source": "nightly-prowler", "findings": [
    {"control": {"id": "c1"}, "resource": {"id": "r1"}, "status": "fail", "severity": "high"}]}"#;

async fn post(
    server: &LoggedServer,
    from: &str,
    query: &str,
    token: Option<&str>,
    body: &str,
) -> reqwest::Response {
    let mut request = reqwest::Client::new()
        .post(format!("{}/api/v1/scans{query}", server.url))
        .header("X-Forwarded-For", from)
        .body(body.to_string());
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.expect("the server answers")
}

/// The line with `message` whose address is `address`, whichever the format.
fn line_of<'a>(lines: &'a [String], message: &str, address: &str) -> &'a String {
    lines
        .iter()
        .find(|l| l.contains(message) && has(l, "address", address))
        .unwrap_or_else(|| panic!("no {message:?} line from {address}: {lines:#?}"))
}

/// Whether `line` holds the field `key` with `value`, as text (`key=value`,
/// `key="value"`) or as JSON (`"key":"value"`, `"key":value`).
fn has(line: &str, key: &str, value: &str) -> bool {
    [
        format!("{key}={value}"),
        format!("{key}=\"{value}\""),
        format!("\"{key}\":\"{value}\""),
        format!("\"{key}\":{value}"),
    ]
    .iter()
    .any(|form| line.contains(form.as_str()))
}

fn assert_has(line: &str, key: &str, value: &str) {
    assert!(has(line, key, value), "no {key}={value} in {line}");
}

/// Sends each refusal and a good scan, then reads the log of it all.
async fn refusals_and_a_scan_are_logged(log_format: &str) {
    let folder = tempfile::tempdir().unwrap();
    let server = LoggedServer::start(
        folder.path(),
        log_format,
        "info",
        SECRET_KEY,
        &[
            "--trusted-proxy-header",
            "X-Forwarded-For",
            "--max-scan-bytes",
            "1024",
        ],
    );
    let pool = sqlx::SqlitePool::connect(&format!(
        "sqlite:{}",
        folder.path().join("data/itsm-bridge.db").display()
    ))
    .await
    .unwrap();
    let (_, token) = server::ingest::tokens::create(&pool, "nightly prowler", 0)
        .await
        .unwrap();
    let (prefix, secret) = token.split_at(12);

    let none = post(&server, "203.0.113.1", "", None, NATIVE_SCAN).await;
    assert_eq!(none.status(), 401);
    assert_eq!(
        none.headers()["www-authenticate"],
        r#"Bearer realm="itsm-bridge""#
    );
    for _ in 0..3 {
        let wrong = post(&server, "203.0.113.2", "", Some(UNKNOWN_TOKEN), NATIVE_SCAN).await;
        assert_eq!(wrong.status(), 401);
        assert_eq!(
            wrong.headers()["www-authenticate"],
            r#"Bearer realm="itsm-bridge", error="invalid_token""#
        );
    }
    let bad_format = post(&server, "203.0.113.3", "?format=xml", Some(&token), "{}").await;
    assert_eq!(bad_format.status(), 400);
    let too_large = post(&server, "203.0.113.4", "", Some(&token), &"x".repeat(2048)).await;
    assert_eq!(too_large.status(), 413);
    let not_a_scan = post(&server, "203.0.113.5", "", Some(&token), "<html></html>").await;
    assert_eq!(not_a_scan.status(), 415);
    let stored = post(
        &server,
        "203.0.113.6",
        "?source=nightly-prowler",
        Some(&token),
        NATIVE_SCAN,
    )
    .await;
    assert_eq!(stored.status(), 201);

    let audited: Vec<(String, Option<String>)> =
        sqlx::query_as("SELECT action, address FROM audit_log WHERE action = 'token.refused'")
            .fetch_all(&pool)
            .await
            .unwrap();
    pool.close().await;
    let lines = server.stop();

    assert_eq!(
        audited,
        [("token.refused".to_string(), Some("203.0.113.2".to_string()))],
        "three refusals from one address, audited once"
    );
    let line = line_of(&lines, "scan refused", "203.0.113.1");
    assert_has(line, "status", "401");
    assert_has(line, "token_prefix", "none sent");
    let refused: Vec<_> = lines
        .iter()
        .filter(|l| l.contains("scan refused") && has(l, "address", "203.0.113.2"))
        .collect();
    assert_eq!(refused.len(), 3, "each refusal is logged: {lines:#?}");
    assert_has(refused[0], "token_prefix", &UNKNOWN_TOKEN[..12]);
    assert_has(refused[0], "audited", "true");
    assert_has(refused[1], "audited", "false");
    let audit_line = line_of(&lines, "token.refused", "203.0.113.2");
    assert!(audit_line.contains(&UNKNOWN_TOKEN[..12]), "{audit_line}");
    for (address, status, reason) in [
        ("203.0.113.3", "400", "xml"),
        ("203.0.113.4", "413", "larger than the limit of 1024 bytes"),
        ("203.0.113.5", "415", "none of the formats"),
    ] {
        let line = line_of(&lines, "scan refused", address);
        assert_has(line, "status", status);
        assert_has(line, "token_prefix", prefix);
        assert_has(line, "token", "nightly prowler");
        assert!(line.contains(reason), "{reason:?} missing from {line}");
    }
    let line = line_of(&lines, "scan stored", "203.0.113.6");
    assert_has(line, "token", "nightly prowler");
    assert_has(line, "token_prefix", prefix);
    for line in &lines {
        assert!(
            !line.contains(secret),
            "a token's secret part was logged: {line}"
        );
        assert!(
            !line.contains(&UNKNOWN_TOKEN[12..]),
            "a sent token's secret part was logged: {line}"
        );
        if log_format == "json" {
            assert!(
                serde_json::from_str::<serde_json::Value>(line).is_ok(),
                "not JSON: {line}"
            );
        }
    }
}

#[tokio::test]
async fn refusals_and_stored_scans_are_logged_with_token_prefix_and_address_as_text() {
    refusals_and_a_scan_are_logged("text").await;
}

#[tokio::test]
async fn refusals_and_stored_scans_are_logged_with_token_prefix_and_address_as_json() {
    refusals_and_a_scan_are_logged("json").await;
}
