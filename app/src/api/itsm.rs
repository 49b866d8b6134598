//! Server functions of the ITSM settings page.

use super::FormFlash;
use crate::forms::{ItsmForm, ItsmSettings, SaveOutcome};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// Everything the ITSM settings page needs to render.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ItsmPageData {
    pub settings: ItsmSettings,
    pub flash: Option<FormFlash<ItsmForm>>,
}

#[server(endpoint = "load_itsm_settings")]
pub async fn load_itsm_settings(flash: Option<String>) -> Result<ItsmPageData, ServerFnError> {
    use super::plumbing::*;
    require_admin()?;
    let settings = settings_store()?
        .itsm_settings()
        .await
        .map_err(internal("load the ITSM settings"))?;
    Ok(ItsmPageData {
        settings,
        flash: take_flash(flash),
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
                store
                    .save_itsm_settings(settings)
                    .await
                    .map_err(internal("save the ITSM settings"))?;
                let detail = settings.describe_changes(&before);
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
