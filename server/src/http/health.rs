//! `GET /healthz` (the process answers) and `GET /readyz` (the database answers).

use axum::http::StatusCode;
use sqlx::SqlitePool;

pub async fn healthz() -> &'static str {
    "ok"
}

pub async fn readyz(pool: SqlitePool) -> (StatusCode, &'static str) {
    match sqlx::query("SELECT 1").execute(&pool).await {
        Ok(_) => (StatusCode::OK, "ready"),
        Err(error) => {
            tracing::error!(error = %error, "readiness check: the database does not answer");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "the database does not answer",
            )
        }
    }
}
