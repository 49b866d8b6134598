//! Server functions of the connection page.

use super::FormFlash;
use crate::forms::{ConnectionForm, ConnectionView, SaveOutcome};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// Everything the connection page needs to render.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConnectionPageData {
    pub view: ConnectionView,
    pub flash: Option<FormFlash<ConnectionForm>>,
    /// The steps of a Test connection run without JavaScript.
    pub tested: Option<Vec<ConnectionStep>>,
}

/// One step of Test connection.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConnectionStep {
    pub name: String,
    pub passed: bool,
    /// What happened, in words a person can act on.
    pub detail: String,
}

/// Runs Test connection on the saved settings: the token request, the group sys_id, the
/// user sys_id, and reading the incident states (kept for the status choice).
#[server(endpoint = "test_connection")]
pub async fn test_connection() -> Result<Vec<ConnectionStep>, ServerFnError> {
    use super::plumbing::*;
    use crate::backend::SharedConnectionTester;
    let admin = require_admin()?;
    let tester = use_context::<SharedConnectionTester>()
        .ok_or_else(|| internal("reach ServiceNow")(anyhow::anyhow!("no tester in context")))?;
    let steps = tester
        .test_connection()
        .await
        .map_err(internal("test the connection"))?;
    let passed = steps.iter().all(|s| s.passed);
    audit(
        &admin,
        "connection.tested",
        if passed {
            "all steps passed"
        } else {
            "a step failed"
        },
    )
    .await;
    if plain_form_post() {
        redirect_with_flash_param("/settings/connection", "tested", &steps);
    }
    Ok(steps)
}

#[server(endpoint = "load_connection_settings")]
pub async fn load_connection_settings(
    flash: Option<String>,
    #[server(default)] tested: Option<String>,
) -> Result<ConnectionPageData, ServerFnError> {
    use super::plumbing::*;
    require_admin()?;
    let view = settings_store()?
        .connection()
        .await
        .map_err(internal("load the connection settings"))?;
    let tested = tested.and_then(|id| {
        use_context::<std::sync::Arc<crate::flash::FlashStore>>().and_then(|store| store.take(&id))
    });
    Ok(ConnectionPageData {
        view,
        flash: take_flash(flash),
        tested,
    })
}

#[server(endpoint = "save_connection_settings")]
pub async fn save_connection_settings(form: ConnectionForm) -> Result<SaveOutcome, ServerFnError> {
    use super::plumbing::*;
    let admin = require_admin()?;
    let result = async {
        let store = settings_store()?;
        let current = store
            .connection()
            .await
            .map_err(internal("load the connection settings"))?;
        match form.validate(&current) {
            Ok(update) => {
                let changed = update.changed_fields(&current);
                store
                    .save_connection(update)
                    .await
                    .map_err(internal("save the connection settings"))?;
                let detail = if changed.is_empty() {
                    "saved without changes".to_string()
                } else {
                    format!("changed: {}", changed.join(", "))
                };
                audit(&admin, "settings.connection", &detail).await;
                Ok(SaveOutcome::Saved)
            }
            Err(errors) => Ok(SaveOutcome::Invalid(errors)),
        }
    }
    .await;
    redirect_plain_form_post("/settings/connection", form.without_secrets(), &result);
    result
}
