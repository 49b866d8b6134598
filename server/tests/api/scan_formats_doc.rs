//! `docs/SCAN-FORMATS.md`'s native examples, read from the document at test time and sent
//! through the `ingest` command: the document cannot show a scan the program refuses.

use serde_json::Value;
use std::path::Path;

/// The first fenced block of `language` in `text`, without its fences.
fn block(text: &str, language: &str) -> String {
    let fence = format!("```{language}\n");
    let start = text
        .find(&fence)
        .unwrap_or_else(|| panic!("no ```{language} block in docs/SCAN-FORMATS.md"))
        + fence.len();
    let length = text[start..].find("\n```").expect("the block's end");
    text[start..start + length].to_string()
}

fn ingest(database: &Path, file: &Path, extra: &[&str]) -> Value {
    let mut args = extra.to_vec();
    args.push(file.to_str().expect("a UTF-8 path"));
    let output = crate::helpers::ingest_command(database, &args);
    assert!(
        output.status.success(),
        "the example was refused: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

#[tokio::test]
async fn the_native_examples_of_the_scan_formats_document_are_accepted() {
    let document = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/SCAN-FORMATS.md"),
    )
    .unwrap();
    let folder = tempfile::tempdir().unwrap();
    let database = folder.path().join("docs.db");
    // The command needs the database the server creates.
    crate::helpers::create_database(&database).await;

    let native = folder.path().join("native.json");
    std::fs::write(&native, block(&document, "json")).unwrap();
    let summary = ingest(&database, &native, &[]);
    assert_eq!(summary["format"], "native");
    assert_eq!(summary["source"], "aws-prod-config");
    assert_eq!(
        (
            &summary["findings"],
            &summary["failing"],
            &summary["passing"]
        ),
        (&Value::from(2), &Value::from(1), &Value::from(1))
    );

    let lines = folder.path().join("findings.ndjson");
    std::fs::write(&lines, block(&document, "ndjson")).unwrap();
    let summary = ingest(&database, &lines, &["--source", "ssh-baseline"]);
    assert_eq!(summary["format"], "native");
    assert_eq!(summary["source"], "ssh-baseline");
    assert_eq!(
        (&summary["findings"], &summary["failing"]),
        (&Value::from(2), &Value::from(1))
    );
}
