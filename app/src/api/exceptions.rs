//! Server functions of the Exceptions page: the list, granting one, and End now.

use super::FormFlash;
use crate::forms::{ExceptionForm, SaveOutcome};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// One exception as the page lists it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExceptionView {
    pub id: i64,
    /// "Accepted risk" or "False positive".
    pub kind: String,
    /// "control C1", "resource r-1", "control C1 on resource r-1".
    pub scope: String,
    pub reason: String,
    /// The last day it holds, `YYYY-MM-DD` (UTC).
    pub expires_on: String,
    pub created_by: String,
    /// "YYYY-MM-DD HH:MM:SS" UTC.
    pub created_at: String,
    pub ended_by: Option<String>,
    pub ended_at: Option<String>,
    /// "holds", "expired" or "ended".
    pub status: String,
}

impl ExceptionView {
    pub fn holds(&self) -> bool {
        self.status == "holds"
    }
}

/// Everything the Exceptions page needs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExceptionsPageData {
    /// Those that hold first (soonest expiry first), then the ended and expired, newest first.
    pub exceptions: Vec<ExceptionView>,
    /// The server's date and the last day an exception granted today may hold.
    pub today: String,
    pub latest_expiry: String,
    pub flash: Option<FormFlash<ExceptionForm>>,
}

#[server(endpoint = "load_exceptions")]
pub async fn load_exceptions(flash: Option<String>) -> Result<ExceptionsPageData, ServerFnError> {
    use super::plumbing::*;
    require_admin()?;
    let rules = engine_rules()?;
    let today = rules.today();
    Ok(ExceptionsPageData {
        exceptions: rules
            .exceptions()
            .await
            .map_err(internal("list the exceptions"))?,
        today: today.to_string(),
        latest_expiry: today.plus_days(ExceptionForm::MAX_DAYS_AHEAD).to_string(),
        flash: take_flash(flash),
    })
}

#[server(endpoint = "add_exception")]
pub async fn add_exception(form: ExceptionForm) -> Result<SaveOutcome, ServerFnError> {
    use super::plumbing::*;
    let admin = require_admin()?;
    let result = async {
        let rules = engine_rules()?;
        match form.validate(rules.today()) {
            Ok(new) => {
                let id = rules
                    .add_exception(&new, &admin.username)
                    .await
                    .map_err(internal("save the exception"))?;
                audit(
                    &admin,
                    "exception.add",
                    &format!(
                        "exception {id}: {} for {} until {}: {}",
                        new.kind.label(),
                        new.describe_scope(),
                        new.expires_on,
                        new.reason
                    ),
                )
                .await;
                Ok(SaveOutcome::Saved)
            }
            Err(errors) => Ok(SaveOutcome::Invalid(errors)),
        }
    }
    .await;
    redirect_plain_form_post("/exceptions", form.clone(), &result);
    result
}

/// End now: the exception stops holding at once; it stays listed, marked ended.
#[server(endpoint = "end_exception")]
pub async fn end_exception(id: i64) -> Result<String, ServerFnError> {
    use super::plumbing::*;
    use crate::forms::Notice;
    let admin = require_admin()?;
    let result = match engine_rules()?.end_exception(id, &admin.username).await {
        Ok(Some(ended)) => {
            audit(
                &admin,
                "exception.end",
                &format!("exception {id}: {} for {}", ended.kind, ended.scope),
            )
            .await;
            Ok(format!(
                "Exception {id} ({}) ended; its findings count again from the next run.",
                ended.scope
            ))
        }
        Ok(None) => Err(format!(
            "Exception {id} does not hold (ended or expired already, or no such exception); nothing changed."
        )),
        Err(error) => Err(super::error_text(&internal("end the exception")(error))),
    };
    if plain_form_post() {
        let notice = match &result {
            Ok(message) => Notice::Done(message.clone()),
            Err(message) => Notice::Failed(message.clone()),
        };
        redirect_with_flash("/exceptions", ExceptionForm::default(), notice);
    } else if result.is_err()
        && let Some(response) = use_context::<leptos_axum::ResponseOptions>()
    {
        response.set_status(http::StatusCode::CONFLICT);
    }
    result.map_err(ServerFnError::new)
}
