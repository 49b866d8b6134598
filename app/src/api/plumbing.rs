//! Server-side helpers shared by the server functions: reaching the backend, hiding internal
//! errors, and answering plain (JavaScript-less) form posts.

use super::FormFlash;
use crate::auth::{CurrentAdmin, RequestInfo, SharedAccountBackend};
use crate::backend::{
    SharedEngineControl, SharedEngineRules, SharedScanStore, SharedSettingsStore,
};
use crate::flash::{FlashStore, Visitor};
use crate::forms::{Notice, SaveOutcome};
use leptos::prelude::*;
use serde::{Serialize, de::DeserializeOwned};
use std::sync::Arc;

pub fn settings_store() -> Result<SharedSettingsStore, ServerFnError> {
    use_context::<SharedSettingsStore>()
        .ok_or_else(|| internal("reach the settings store")(anyhow::anyhow!("not in context")))
}

pub fn scan_store() -> Result<SharedScanStore, ServerFnError> {
    use_context::<SharedScanStore>()
        .ok_or_else(|| internal("reach the scan store")(anyhow::anyhow!("not in context")))
}

pub fn engine_control() -> Result<SharedEngineControl, ServerFnError> {
    use_context::<SharedEngineControl>()
        .ok_or_else(|| internal("reach the ticket engine")(anyhow::anyhow!("not in context")))
}

pub fn engine_rules() -> Result<SharedEngineRules, ServerFnError> {
    use_context::<SharedEngineRules>()
        .ok_or_else(|| internal("reach the engine's rules")(anyhow::anyhow!("not in context")))
}

pub fn accounts() -> Result<SharedAccountBackend, ServerFnError> {
    use_context::<SharedAccountBackend>()
        .ok_or_else(|| internal("reach the account store")(anyhow::anyhow!("not in context")))
}

fn request_parts() -> Option<http::request::Parts> {
    use_context::<http::request::Parts>()
}

/// What the access guard learnt about this request.
pub fn request_info() -> RequestInfo {
    request_parts()
        .and_then(|parts| parts.extensions.get::<RequestInfo>().cloned())
        .unwrap_or_default()
}

/// The signed-in admin, if any.
pub fn signed_in() -> Option<CurrentAdmin> {
    request_parts().and_then(|parts| parts.extensions.get::<CurrentAdmin>().cloned())
}

/// The signed-in admin, or a 401 refusal. The access guard refuses such requests before
/// they get here; this keeps a server function safe should a route ever slip past it.
pub fn require_admin() -> Result<CurrentAdmin, ServerFnError> {
    signed_in().ok_or_else(|| {
        if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
            response.set_status(http::StatusCode::UNAUTHORIZED);
        }
        ServerFnError::new("Sign in first.")
    })
}

/// Records an action of the signed-in admin; a failure to record is logged, not shown.
pub async fn audit(admin: &CurrentAdmin, action: &str, detail: &str) {
    if let Ok(accounts) = accounts()
        && let Err(error) = accounts
            .audit(Some(admin), action, detail, &request_info())
            .await
    {
        tracing::error!(
            error = format!("{error:#}"),
            "failed to write the audit log"
        );
    }
}

pub fn set_cookie(value: &str) {
    if let (Some(response), Ok(value)) = (
        use_context::<leptos_axum::ResponseOptions>(),
        http::HeaderValue::from_str(value),
    ) {
        response.append_header(http::header::SET_COOKIE, value);
    }
}

/// Logs the whole error chain and gives the browser a 500 whose message says nothing of
/// the internals.
pub fn internal(action: &'static str) -> impl Fn(anyhow::Error) -> ServerFnError {
    move |error| {
        tracing::error!(error = format!("{error:#}"), "failed to {action}");
        set_status(http::StatusCode::INTERNAL_SERVER_ERROR);
        ServerFnError::new(format!(
            "Could not {action}: an internal error occurred; the server log has the details."
        ))
    }
}

/// An expected refusal (a wrong password, an invalid name, setup done already): its status
/// (4xx) and its message for the person. A plain form post keeps the redirect's 302, or
/// the browser would stay on the refusal instead of going back to the form.
pub fn refuse(status: http::StatusCode, message: impl Into<String>) -> ServerFnError {
    if !plain_form_post() {
        set_status(status);
    }
    ServerFnError::new(message.into())
}

fn set_status(status: http::StatusCode) {
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(status);
    }
}

/// A plain form post (no JavaScript) accepts HTML; the client of a hydrated page does not.
pub fn plain_form_post() -> bool {
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
    if plain_form_post() {
        let notice = Notice::from_result(&result.clone().map_err(|e| super::error_text(&e)));
        redirect_with_flash(page, form, notice);
    }
}

/// A refused account form: a plain form post goes back to `page` with the notice; a script
/// gets `status` and the notice's message (each invalid field's message, in field order).
pub fn answer_refusal<F: Serialize>(
    page: &str,
    form: F,
    notice: Notice,
    status: http::StatusCode,
) -> Result<(), ServerFnError> {
    let message = match &notice {
        Notice::Failed(message) => message.clone(),
        Notice::Invalid(errors) => errors
            .fields()
            .filter_map(|field| errors.get(field))
            .collect::<Vec<_>>()
            .join(" "),
        Notice::Saved | Notice::Done(_) => String::new(),
    };
    if plain_form_post() {
        redirect_with_flash(page, form, notice);
        return Ok(());
    }
    Err(refuse(status, message))
}

/// Whose flash this request's is: a signed-in admin's, or anyone's.
fn flash_visitor() -> Visitor {
    match signed_in() {
        Some(_) => Visitor::Admin,
        None => Visitor::Anonymous,
    }
}

/// Keeps `value` as a flash and redirects to `page?{param}=ID`.
pub fn redirect_with_flash_param<T: Serialize>(page: &str, param: &str, value: &T) {
    let location = use_context::<Arc<FlashStore>>()
        .and_then(|store| store.put(value, flash_visitor()))
        .map(|id| format!("{page}?{param}={id}"))
        .unwrap_or_else(|| page.to_string());
    leptos_axum::redirect(&location);
}

pub fn redirect_with_flash<F: Serialize>(page: &str, form: F, notice: Notice) {
    let location = use_context::<Arc<FlashStore>>()
        .and_then(|store| store.put(&FormFlash { form, notice }, flash_visitor()))
        .map(|id| format!("{page}?flash={id}"))
        .unwrap_or_else(|| page.to_string());
    leptos_axum::redirect(&location);
}

/// Sets aside room for a flash as large as `placeholder`'s, before an outcome that must not
/// be lost (see [`FlashStore::reserve`]); `None` when there is none.
pub fn reserve_flash<T: Serialize>(placeholder: &T) -> Option<String> {
    let bytes = serde_json::to_string(placeholder).ok()?.len();
    use_context::<Arc<FlashStore>>()?.reserve(bytes, flash_visitor())
}

/// Fills the flash reserved under `id` and redirects to `page?flash=ID`.
pub fn redirect_with_reserved_flash<F: Serialize>(page: &str, id: &str, form: F, notice: Notice) {
    if let Some(store) = use_context::<Arc<FlashStore>>() {
        store.fill(id, &FormFlash { form, notice });
    }
    leptos_axum::redirect(&format!("{page}?flash={id}"));
}

/// Takes the flash named in a page's query, if it is still there.
pub fn take_flash<F: DeserializeOwned>(id: Option<String>) -> Option<FormFlash<F>> {
    let store = use_context::<Arc<FlashStore>>()?;
    store.take(&id?)
}
