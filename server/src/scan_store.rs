//! The scans and API tokens pages' store over SQLite.

use crate::audit;
use crate::ingest::{store, tokens};
use crate::timestamps::{format_unix, now_unix};
use anyhow::Context;
use app::api::{FindingView, ScanFindingsPage, ScanView, TokenView};
use app::backend::ScanStore;
use app::domain::Severity;
use async_trait::async_trait;
use sqlx::{Row, SqlitePool};

pub struct SqliteScanStore {
    pool: SqlitePool,
}

impl SqliteScanStore {
    pub fn new(pool: SqlitePool) -> Self {
        Self { pool }
    }

    async fn scan(&self, scan_id: i64) -> anyhow::Result<Option<ScanView>> {
        let rows = self.scan_rows(Some(scan_id)).await?;
        Ok(rows.into_iter().next())
    }

    async fn scan_rows(&self, only: Option<i64>) -> anyhow::Result<Vec<ScanView>> {
        let rows = sqlx::query(
            "SELECT s.id, s.source, s.format, s.tool, s.scanned_at, s.received_at, s.findings, \
                    s.failing, s.passing, s.other, \
                    s.id = (SELECT l.id FROM scans l \
                            WHERE l.source = s.source AND l.completed_at IS NOT NULL \
                            ORDER BY l.scanned_at DESC, l.id DESC LIMIT 1) AS latest \
             FROM scans s WHERE s.completed_at IS NOT NULL AND (?1 IS NULL OR s.id = ?1) \
             ORDER BY s.source, s.scanned_at DESC, s.id DESC",
        )
        .bind(only)
        .fetch_all(&self.pool)
        .await
        .context("Failed to list the scans")?;
        Ok(rows
            .into_iter()
            .map(|r| ScanView {
                id: r.get("id"),
                source: r.get("source"),
                format: r.get("format"),
                tool: r.get("tool"),
                scanned_at: format_unix(r.get("scanned_at")),
                received_at: format_unix(r.get("received_at")),
                findings: r.get("findings"),
                failing: r.get("failing"),
                passing: r.get("passing"),
                other: r.get("other"),
                latest: r.get("latest"),
            })
            .collect())
    }
}

#[async_trait]
impl ScanStore for SqliteScanStore {
    async fn tokens(&self) -> anyhow::Result<Vec<TokenView>> {
        Ok(tokens::list(&self.pool)
            .await?
            .into_iter()
            .map(|t| TokenView {
                id: t.id,
                name: t.name,
                prefix: t.prefix,
                source: t.source,
                created_at: format_unix(t.created_at),
                last_used_at: t.last_used_at.map(format_unix),
                revoked_at: t.revoked_at.map(format_unix),
            })
            .collect())
    }

    async fn create_token(&self, name: &str, source: Option<&str>) -> anyhow::Result<String> {
        Ok(tokens::create_limited(&self.pool, name, source, now_unix())
            .await?
            .1)
    }

    async fn revoke_token(&self, id: i64) -> anyhow::Result<Option<String>> {
        let name: Option<String> = sqlx::query_scalar("SELECT name FROM api_tokens WHERE id = ?")
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .context("Failed to read an API token")?;
        let revoked = tokens::revoke(&self.pool, id, now_unix()).await?;
        Ok(name.filter(|_| revoked))
    }

    async fn scans(&self) -> anyhow::Result<Vec<ScanView>> {
        self.scan_rows(None).await
    }

    async fn retire_source(
        &self,
        source: &str,
        actor: &str,
        address: Option<String>,
    ) -> anyhow::Result<Option<u64>> {
        let mut conn = self.pool.acquire().await.context("Failed to connect")?;
        // One transaction hides the scans (gone from every page and from what the engine
        // reads at once) and audits it: either both happen or neither does.
        let mut tx = sqlx::Connection::begin_with(&mut *conn, "BEGIN IMMEDIATE")
            .await
            .context("Failed to begin retiring the source")?;
        let hidden = store::hide_source(&mut tx, source).await?;
        if hidden.is_empty() {
            return Ok(None);
        }
        let scans = hidden.len() as u64;
        let plural = if scans == 1 { "" } else { "s" };
        let detail = format!("retired source {source:?}: deleted its {scans} scan{plural}");
        audit::record(
            &mut *tx,
            now_unix(),
            Some(actor),
            "source.retired",
            &detail,
            address,
        )
        .await?;
        tx.commit()
            .await
            .context("Failed to commit retiring the source")?;
        drop(conn);
        // The rows go a chunk per transaction, in a task of their own: a client that hangs
        // up does not stop it. If it fails, the scans stay hidden and claimed, and a later
        // cleanup deletes them.
        let pool = self.pool.clone();
        let deletion = tokio::spawn(async move {
            let mut conn = pool.acquire().await.context("Failed to connect")?;
            for scan_id in hidden {
                while !store::delete_claimed_chunk(&mut conn, scan_id).await? {}
            }
            anyhow::Ok(())
        });
        match deletion.await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => tracing::warn!(
                source,
                error = format!("{error:#}"),
                "could not delete a retired source's rows; a later cleanup will"
            ),
            Err(error) => {
                tracing::warn!(source, %error, "the deletion of a retired source's rows stopped")
            }
        }
        Ok(Some(scans))
    }

    async fn failing_findings(
        &self,
        scan_id: i64,
        page: u32,
        per_page: u32,
    ) -> anyhow::Result<Option<ScanFindingsPage>> {
        let Some(scan) = self.scan(scan_id).await? else {
            return Ok(None);
        };
        let pages = u32::try_from(scan.failing.max(0))
            .unwrap_or(u32::MAX)
            .div_ceil(per_page)
            .max(1);
        let page = page.clamp(1, pages);
        let rows = sqlx::query(
            "SELECT f.control_id, f.control_title, f.resource_id, f.resource_name, f.resource_type, \
                    f.severity, coalesce(f.observed_at, s.scanned_at) AS observed_at, f.detail \
             FROM findings f JOIN scans s ON s.id = f.scan_id \
             WHERE f.scan_id = ? AND f.status = 2 AND s.completed_at IS NOT NULL \
             ORDER BY f.severity DESC, f.control_id, f.resource_id LIMIT ? OFFSET ?",
        )
        .bind(scan_id)
        .bind(i64::from(per_page))
        .bind(i64::from((page - 1) * per_page))
        .fetch_all(&self.pool)
        .await
        .context("Failed to read the failing findings")?;
        let findings = rows
            .into_iter()
            .map(|r| FindingView {
                control_id: r.get("control_id"),
                control_title: r.get("control_title"),
                resource_id: r.get("resource_id"),
                resource_name: r.get("resource_name"),
                resource_type: r.get("resource_type"),
                severity: Severity::name_of_rank(r.get("severity")).to_string(),
                observed_at: r
                    .get::<Option<i64>, _>("observed_at")
                    .map(format_unix)
                    .unwrap_or_default(),
                detail: r.get("detail"),
            })
            .collect();
        Ok(Some(ScanFindingsPage {
            scan,
            findings,
            page,
            pages,
        }))
    }
}
