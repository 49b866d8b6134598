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
}

#[server(endpoint = "load_connection_settings")]
pub async fn load_connection_settings(
    flash: Option<String>,
) -> Result<ConnectionPageData, ServerFnError> {
    use super::plumbing::*;
    require_admin()?;
    let view = settings_store()?
        .connection()
        .await
        .map_err(internal("load the connection settings"))?;
    Ok(ConnectionPageData {
        view,
        flash: take_flash(flash),
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
        match form.validate(current.stored) {
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
