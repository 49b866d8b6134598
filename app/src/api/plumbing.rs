//! Server-side helpers shared by the server functions: reaching the backend, hiding internal
//! errors, and answering plain (JavaScript-less) form posts.

use super::FormFlash;
use crate::backend::SharedSettingsStore;
use crate::flash::FlashStore;
use crate::forms::{Notice, SaveOutcome};
use leptos::prelude::*;
use serde::{Serialize, de::DeserializeOwned};
use std::sync::Arc;

pub fn settings_store() -> Result<SharedSettingsStore, ServerFnError> {
    use_context::<SharedSettingsStore>()
        .ok_or_else(|| internal("reach the settings store")(anyhow::anyhow!("not in context")))
}

/// Logs the whole error chain and gives the browser a message without internals.
pub fn internal(action: &'static str) -> impl Fn(anyhow::Error) -> ServerFnError {
    move |error| {
        tracing::error!(error = format!("{error:#}"), "failed to {action}");
        ServerFnError::new(format!(
            "Could not {action}: an internal error occurred; the server log has the details."
        ))
    }
}

/// A plain form post (no JavaScript) accepts HTML; the client of a hydrated page does not.
fn is_plain_form_post() -> bool {
    use_context::<http::request::Parts>()
        .and_then(|parts| {
            parts
                .headers
                .get(http::header::ACCEPT)
                .and_then(|v| v.to_str().ok())
                .map(|v| v.contains("text/html"))
        })
        .unwrap_or(false)
}

/// For a plain form post, keeps the outcome as a flash and redirects back to `page` with its
/// id; the hydrated page reads the result from the response instead.
pub fn redirect_plain_form_post<F: Serialize>(
    page: &str,
    form: F,
    result: &Result<SaveOutcome, ServerFnError>,
) {
    if !is_plain_form_post() {
        return;
    }
    let notice = Notice::from_result(&result.clone().map_err(|e| super::error_text(&e)));
    let location = use_context::<Arc<FlashStore>>()
        .and_then(|store| store.put(&FormFlash { form, notice }))
        .map(|id| format!("{page}?flash={id}"))
        .unwrap_or_else(|| page.to_string());
    leptos_axum::redirect(&location);
}

/// Takes the flash named in a page's query, if it is still there.
pub fn take_flash<F: DeserializeOwned>(id: Option<String>) -> Option<FormFlash<F>> {
    let store = use_context::<Arc<FlashStore>>()?;
    store.take(&id?)
}
