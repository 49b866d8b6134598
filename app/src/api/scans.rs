//! Server functions of the API tokens page and the scans pages.

use super::FormFlash;
use crate::forms::TokenForm;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// One API token as the list shows it; never the token itself.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TokenView {
    pub id: i64,
    pub name: String,
    /// The first characters, to tell tokens apart.
    pub prefix: String,
    /// The only source the token may send; `None` for any.
    pub source: Option<String>,
    pub created_at: String,
    pub last_used_at: Option<String>,
    pub revoked_at: Option<String>,
}

/// A token just created: shown this once.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CreatedToken {
    pub name: String,
    /// The only source it may send; `None` for any.
    pub source: Option<String>,
    pub token: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TokensPageData {
    pub tokens: Vec<TokenView>,
    /// After a plain (JavaScript-less) post: what happened, and a created token.
    pub flash: Option<FormFlash<Option<CreatedToken>>>,
}

/// One stored scan.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScanView {
    pub id: i64,
    pub source: String,
    pub format: String,
    pub tool: Option<String>,
    pub scanned_at: String,
    pub received_at: String,
    pub findings: i64,
    pub failing: i64,
    pub passing: i64,
    pub other: i64,
    /// Whether this is the latest scan of its source: the one that decides what fails.
    pub latest: bool,
}

/// One failing finding of a scan.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FindingView {
    pub control_id: String,
    pub control_title: String,
    pub resource_id: String,
    pub resource_name: String,
    pub resource_type: String,
    pub severity: String,
    pub observed_at: String,
    pub detail: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScanFindingsPage {
    pub scan: ScanView,
    pub findings: Vec<FindingView>,
    /// 1-based.
    pub page: u32,
    pub pages: u32,
}

/// Failing findings per page of the scan page.
pub const FINDINGS_PER_PAGE: u32 = 50;
/// The longest source name, in characters: the scanner API refuses longer ones.
pub const MAX_SOURCE: usize = TokenForm::MAX_SOURCE;
/// The `flash` a plain post of the create form comes back with when no room could be set
/// aside to show the new token: nothing was created, and the page says why.
pub const NO_ROOM_FOR_TOKEN: &str = "no-room";
/// Room set aside for a token in its flash: a token is far shorter.
#[cfg(feature = "ssr")]
const TOKEN_ROOM: usize = 256;

#[server(endpoint = "load_api_tokens")]
pub async fn load_api_tokens(flash: Option<String>) -> Result<TokensPageData, ServerFnError> {
    use super::plumbing::*;
    require_admin()?;
    let tokens = scan_store()?
        .tokens()
        .await
        .map_err(internal("list the API tokens"))?;
    let flash = match flash.as_deref() {
        Some(NO_ROOM_FOR_TOKEN) => Some(FormFlash {
            form: None,
            notice: crate::forms::Notice::Failed(
                "The token was not created: this server holds too many messages not yet shown \
                 to be sure to show you a new token. Try again in a few minutes, or with \
                 JavaScript on."
                    .into(),
            ),
        }),
        _ => take_flash(flash),
    };
    Ok(TokensPageData { tokens, flash })
}

/// The token store's refusal of a name a live token has; answered 409 in these words.
#[derive(Debug)]
pub struct TokenNameTaken(pub String);

impl std::fmt::Display for TokenNameTaken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "A live token is named {:?} already; give this one another name, or revoke that one first.",
            self.0
        )
    }
}

impl std::error::Error for TokenNameTaken {}

/// An invalid token form: 422 with its messages, and back to the tokens page with them
/// beside their fields when the form was posted without JavaScript.
#[cfg(feature = "ssr")]
fn refuse_token_form(errors: crate::forms::FieldErrors) -> ServerFnError {
    use super::plumbing::*;
    let message = errors
        .fields()
        .filter_map(|field| errors.get(field))
        .collect::<Vec<_>>()
        .join(" ");
    if plain_form_post() {
        redirect_with_flash(
            "/settings/tokens",
            None::<CreatedToken>,
            crate::forms::Notice::Invalid(errors),
        );
    }
    refuse(http::StatusCode::UNPROCESSABLE_ENTITY, message)
}

#[server(endpoint = "create_api_token")]
pub async fn create_api_token(form: TokenForm) -> Result<CreatedToken, ServerFnError> {
    use super::plumbing::*;
    use crate::forms::Notice;
    let admin = require_admin()?;
    let crate::forms::NewToken { name, source } = form.validate().map_err(refuse_token_form)?;
    // A token is shown once: without JavaScript, in a flash. Room for it is set aside before
    // the token is made, so that a token is never made and then not shown.
    let reserved = if plain_form_post() {
        let placeholder = FormFlash {
            form: Some(CreatedToken {
                name: name.clone(),
                source: source.clone(),
                token: "x".repeat(TOKEN_ROOM),
            }),
            notice: Notice::Saved,
        };
        match reserve_flash(&placeholder) {
            Some(id) => Some(id),
            None => {
                leptos_axum::redirect(&format!("/settings/tokens?flash={NO_ROOM_FOR_TOKEN}"));
                return Err(refuse(
                    http::StatusCode::SERVICE_UNAVAILABLE,
                    "The token was not created: too many messages wait to be shown. Try again in a few minutes.",
                ));
            }
        }
    } else {
        None
    };
    let token = match scan_store()?.create_token(&name, source.as_deref()).await {
        Ok(token) => token,
        Err(error) => {
            let Some(taken) = error.downcast_ref::<TokenNameTaken>() else {
                return Err(internal("create the API token")(error));
            };
            let message = taken.to_string();
            if let Some(id) = &reserved {
                redirect_with_reserved_flash(
                    "/settings/tokens",
                    id,
                    None::<CreatedToken>,
                    Notice::Failed(message.clone()),
                );
            }
            return Err(refuse(http::StatusCode::CONFLICT, message));
        }
    };
    let limit = match &source {
        Some(source) => format!(", limited to source {source:?}"),
        None => ", for any source".to_string(),
    };
    audit(
        &admin,
        "token.created",
        &format!("created API token {name:?}{limit}"),
    )
    .await;
    let created = CreatedToken {
        name,
        source,
        token,
    };
    if let Some(id) = reserved {
        redirect_with_reserved_flash(
            "/settings/tokens",
            &id,
            Some(created.clone()),
            Notice::Saved,
        );
    }
    Ok(created)
}

#[server(endpoint = "revoke_api_token")]
pub async fn revoke_api_token(id: i64) -> Result<(), ServerFnError> {
    use super::plumbing::*;
    let admin = require_admin()?;
    let revoked = scan_store()?
        .revoke_token(id)
        .await
        .map_err(internal("revoke the API token"))?;
    let Some(name) = revoked else {
        let message = format!("There is no live API token {id}: unknown, or revoked already.");
        if plain_form_post() {
            use crate::forms::Notice;
            redirect_with_flash(
                "/settings/tokens",
                None::<CreatedToken>,
                Notice::Failed(message.clone()),
            );
        }
        return Err(refuse(http::StatusCode::NOT_FOUND, message));
    };
    audit(
        &admin,
        "token.revoked",
        &format!("revoked API token {name:?}"),
    )
    .await;
    if plain_form_post() {
        leptos_axum::redirect("/settings/tokens");
    }
    Ok(())
}

#[server(endpoint = "load_scans")]
pub async fn load_scans() -> Result<Vec<ScanView>, ServerFnError> {
    use super::plumbing::*;
    require_admin()?;
    scan_store()?
        .scans()
        .await
        .map_err(internal("list the scans"))
}

/// What the Scans page shows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScansPageData {
    pub scans: Vec<ScanView>,
    /// After a plain (JavaScript-less) Retire: what happened.
    pub flash: Option<FormFlash<()>>,
}

/// A source retired: how many of its scans were deleted.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SourceRetired {
    pub source: String,
    pub scans: u64,
}

impl SourceRetired {
    /// What retiring did, in words.
    pub fn message(&self) -> String {
        let scans = if self.scans == 1 {
            "its 1 scan was".to_string()
        } else {
            format!("its {} scans were", self.scans)
        };
        format!(
            "Source \u{201c}{}\u{201d} retired: {scans} deleted. Its findings no longer fail, and \
             the engine treats the findings of its tickets as absent. A new scan of it brings it back.",
            self.source
        )
    }
}

#[server(endpoint = "load_scans_page")]
pub async fn load_scans_page(flash: Option<String>) -> Result<ScansPageData, ServerFnError> {
    use super::plumbing::*;
    require_admin()?;
    let scans = scan_store()?
        .scans()
        .await
        .map_err(internal("list the scans"))?;
    Ok(ScansPageData {
        scans,
        flash: take_flash(flash),
    })
}

/// Retires a source no longer sent: deletes its scans, so its last scan stops deciding what
/// fails. A scan of it being received at that moment is not touched: it completes whole and
/// brings the source back (it is sent after all), or fails whole.
#[server(endpoint = "retire_source")]
pub async fn retire_source(source: String) -> Result<SourceRetired, ServerFnError> {
    use super::plumbing::*;
    use crate::forms::Notice;
    let admin = require_admin()?;
    let address = request_info().address.map(|a| a.to_string());
    // The store audits the retire in the transaction that hides the scans: a failure or a
    // client hanging up afterwards cannot leave a source retired without its audit entry.
    let result = match scan_store()?
        .retire_source(&source, &admin.username, address)
        .await
    {
        Ok(Some(scans)) => Ok(SourceRetired { source, scans }),
        Ok(None) => Err(refuse(
            http::StatusCode::NOT_FOUND,
            format!(
                "No scan of the source {source:?} is stored: it is retired already, or was never sent. Nothing was deleted."
            ),
        )),
        Err(error) => Err(internal("retire the source")(error)),
    };
    if plain_form_post() {
        let notice = match &result {
            Ok(retired) => Notice::Done(retired.message()),
            Err(error) => Notice::Failed(super::error_text(error)),
        };
        redirect_with_flash("/scans", (), notice);
    }
    result
}

#[server(endpoint = "load_scan_findings")]
pub async fn load_scan_findings(
    scan_id: i64,
    page: u32,
) -> Result<Option<ScanFindingsPage>, ServerFnError> {
    use super::plumbing::*;
    require_admin()?;
    scan_store()?
        .failing_findings(scan_id, page.max(1), FINDINGS_PER_PAGE)
        .await
        .map_err(internal("read the scan's findings"))
}
