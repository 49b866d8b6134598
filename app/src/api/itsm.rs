//! Server functions of the ITSM settings page: the settings, and the preview of what the
//! next run would do with them (saved, or as typed in the form and not yet saved).

use super::FormFlash;
use crate::forms::{FieldErrors, ItsmForm, ItsmSettings, SaveOutcome};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// Everything the ITSM settings page needs to render.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ItsmPageData {
    pub settings: ItsmSettings,
    pub flash: Option<FormFlash<ItsmForm>>,
    /// Every source a kept scan came from, sorted: the choices of the sources filter.
    pub sources_seen: Vec<String>,
    /// After a plain (JavaScript-less) Preview post: the values previewed, not saved.
    pub what_if: Option<ItsmForm>,
}

/// What the next run would do for one group.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PreviewRow {
    /// "resource r-1" or "control C1".
    pub group: String,
    /// "open", "note", "resolve", "nothing", "skipped" or "waits".
    pub action: String,
    /// The tracked ticket it concerns, if any.
    pub ticket: Option<String>,
    /// The reason from the rules, in words.
    pub reason: String,
}

/// What the next run would do, computed by the same planner as a real run on the ticket
/// states stored by the last refresh; nothing is sent to ServiceNow.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlanPreview {
    /// Whether a ServiceNow connection is saved (without one, no run does anything).
    pub connected: bool,
    /// The settings previewed.
    pub settings: ItsmSettings,
    /// When the tracked tickets' states were last read from ServiceNow ("YYYY-MM-DD
    /// HH:MM:SS" UTC) and how long ago, in words; `None` while no ticket is tracked.
    pub states_read_at: Option<String>,
    pub states_age: Option<String>,
    /// Why the next run would fail before doing anything (the stored secrets cannot be
    /// read with this server's key), in the run's words; the rows are then empty.
    pub run_would_fail: Option<String>,
    /// (action, number of groups), in the order open, note, resolve, skipped, waits, nothing.
    pub counts: Vec<(String, usize)>,
    /// The groups, those acted on first; at most [`PREVIEW_ROWS`].
    pub rows: Vec<PreviewRow>,
    /// Groups left out of `rows`.
    pub more: usize,
}

/// The most groups a preview lists.
pub const PREVIEW_ROWS: usize = 200;

/// What a preview request answers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum PreviewOutcome {
    Preview(PlanPreview),
    /// The form's values are not valid settings: nothing could be previewed.
    Invalid(FieldErrors),
}

#[server(endpoint = "load_itsm_settings")]
pub async fn load_itsm_settings(
    flash: Option<String>,
    preview: Option<String>,
) -> Result<ItsmPageData, ServerFnError> {
    use super::plumbing::*;
    require_admin()?;
    let settings = settings_store()?
        .itsm_settings()
        .await
        .map_err(internal("load the ITSM settings"))?;
    let sources_seen = engine_rules()?
        .sources_seen()
        .await
        .map_err(internal("list the sources"))?;
    let previewed = take_flash::<ItsmForm>(preview);
    // A Preview of invalid values (without JavaScript) comes back like a refused Save: each
    // field's error next to it, the values as typed.
    let flash = take_flash(flash).or_else(|| {
        previewed
            .clone()
            .filter(|p| matches!(p.notice, crate::forms::Notice::Invalid(_)))
    });
    Ok(ItsmPageData {
        settings,
        flash,
        sources_seen,
        what_if: previewed.map(|f| f.form),
    })
}

#[server(endpoint = "save_itsm_settings")]
pub async fn save_itsm_settings(form: ItsmForm) -> Result<SaveOutcome, ServerFnError> {
    use super::plumbing::*;
    let admin = require_admin()?;
    let result = async {
        match form.validate() {
            Ok(settings) => {
                let store = settings_store()?;
                let before = store
                    .itsm_settings()
                    .await
                    .map_err(internal("load the ITSM settings"))?;
                let detail = settings.describe_changes(&before);
                store
                    .save_itsm_settings(settings)
                    .await
                    .map_err(internal("save the ITSM settings"))?;
                audit(&admin, "settings.itsm", &detail).await;
                Ok(SaveOutcome::Saved)
            }
            Err(errors) => Ok(SaveOutcome::Invalid(errors)),
        }
    }
    .await;
    redirect_plain_form_post("/settings/itsm", form.clone(), &result);
    result
}

/// The preview for the saved settings (`form` absent) or for the form's values, validated
/// by the same code as a save; nothing is saved. A plain form post (the Preview button
/// without JavaScript) goes back to the page, which shows the preview of the values posted.
#[server(endpoint = "preview_itsm_settings")]
pub async fn preview_itsm_settings(
    form: Option<ItsmForm>,
) -> Result<PreviewOutcome, ServerFnError> {
    use super::plumbing::*;
    use crate::forms::Notice;
    require_admin()?;
    // A GET that accepts HTML (an address typed or linked) is not a Preview button: only
    // a POST to this endpoint is that of a page without JavaScript.
    let posted = use_context::<http::request::Parts>()
        .is_some_and(|parts| parts.method == http::Method::POST);
    if posted && plain_form_post() {
        let form = form.unwrap_or_default();
        let notice = match form.validate() {
            Ok(_) => Notice::Done("Preview of the values below; nothing was saved.".into()),
            Err(errors) => Notice::Invalid(errors),
        };
        redirect_with_flash_param(
            "/settings/itsm",
            "preview",
            &super::FormFlash { form, notice },
        );
        return Ok(PreviewOutcome::Invalid(FieldErrors::default()));
    }
    plan_preview(form).await
}

/// The preview as the pages show it (`PlanPreview`), rendered here on the server: the page
/// puts the HTML in place, so the preview's view code and data types are not in the
/// site's wasm (about 19 KB gzipped less on each of the two pages that show it).
#[server(endpoint = "preview_itsm_settings_html")]
pub async fn preview_itsm_settings_html(form: Option<ItsmForm>) -> Result<String, ServerFnError> {
    use super::plumbing::*;
    require_admin()?;
    let unsaved = form.is_some();
    let outcome = plan_preview(form).await?;
    Ok(crate::pages::preview_html(outcome, unsaved))
}

/// What the next run would do with `form`'s values (`None`: the saved settings).
#[cfg(feature = "ssr")]
async fn plan_preview(form: Option<ItsmForm>) -> Result<PreviewOutcome, ServerFnError> {
    use super::plumbing::*;
    let settings = match form.map(|f| f.validate()).transpose() {
        Ok(settings) => settings,
        Err(errors) => return Ok(PreviewOutcome::Invalid(errors)),
    };
    engine_rules()?
        .preview(settings)
        .await
        .map(PreviewOutcome::Preview)
        .map_err(internal("preview the next run"))
}
