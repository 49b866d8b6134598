//! Server functions of the account pages: first-run setup, sign-in, sign-out, and who is
//! signed in (also read directly, `signed_in_name`, as the server renders the top bar).
//! Setup, sign-in and sign-out are plain form posts answered with a redirect.

use super::FormFlash;
use crate::forms::{LoginForm, SetupForm};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// What the login and setup pages need to render.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AccountPageData<F> {
    pub flash: Option<FormFlash<F>>,
    /// Whether the admin account exists: before, `/login` leads to `/setup`; after,
    /// `/setup` leads to `/login`.
    pub admin_exists: bool,
    /// The setup page only: the setup-token file, as the server names it (beside its
    /// database, whatever that is called).
    pub setup_token_file: Option<String>,
}

/// The signed-in admin's name, or `None`, while the server renders a page. The browser
/// reads the name from the page while it hydrates (the only time it builds the top bar)
/// and never calls this: the server writes the name into every page it renders.
pub fn signed_in_name() -> Option<String> {
    #[cfg(feature = "ssr")]
    return super::plumbing::signed_in().map(|admin| admin.username);
    #[cfg(not(feature = "ssr"))]
    None
}

/// The signed-in admin's name, or `None`. Open to everyone: it tells only a visitor's own.
/// The pages no longer call it (the top bar gets the name with the page); it stays for
/// scripts and tools that ask whether their session is alive.
#[server(endpoint = "current_admin")]
pub async fn current_admin() -> Result<Option<String>, ServerFnError> {
    Ok(signed_in_name())
}

#[server(endpoint = "load_login_page")]
pub async fn load_login_page(
    flash: Option<String>,
) -> Result<AccountPageData<LoginForm>, ServerFnError> {
    use super::plumbing::*;
    let admin_exists = accounts()?
        .admin_exists()
        .await
        .map_err(internal("count the admins"))?;
    Ok(AccountPageData {
        flash: take_flash(flash),
        admin_exists,
        setup_token_file: None,
    })
}

#[server(endpoint = "load_setup_page")]
pub async fn load_setup_page(
    flash: Option<String>,
) -> Result<AccountPageData<SetupForm>, ServerFnError> {
    use super::plumbing::*;
    let accounts = accounts()?;
    let admin_exists = accounts
        .admin_exists()
        .await
        .map_err(internal("count the admins"))?;
    Ok(AccountPageData {
        flash: take_flash(flash),
        admin_exists,
        // Named only while it matters: once the admin exists the file is gone.
        setup_token_file: (!admin_exists).then(|| accounts.setup_token_file()),
    })
}

#[server(endpoint = "setup_admin")]
pub async fn setup_admin(form: SetupForm) -> Result<(), ServerFnError> {
    use super::plumbing::*;
    use crate::auth::AccountError;
    use crate::forms::Notice;
    use http::StatusCode;
    let result = match form.validate() {
        Err(errors) => Err(AccountError::Invalid(errors)),
        Ok(admin) => accounts()?.setup_admin(admin, &request_info()).await,
    };
    let status = match &result {
        Err(error) => StatusCode::from_u16(error.status()).unwrap_or(StatusCode::BAD_REQUEST),
        Ok(()) => StatusCode::OK,
    };
    let notice = match result {
        Ok(()) => {
            leptos_axum::redirect("/login?created=1");
            return Ok(());
        }
        Err(AccountError::Invalid(errors)) => Notice::Invalid(errors),
        Err(
            AccountError::Refused(message)
            | AccountError::Throttled(message)
            | AccountError::Exists(message),
        ) => Notice::Failed(message),
        Err(AccountError::Internal(error)) => Notice::Failed(super::error_text(&internal(
            "create the admin account",
        )(error))),
    };
    answer_refusal("/setup", form.without_secrets(), notice, status)
}

#[server(endpoint = "login")]
pub async fn login(form: LoginForm) -> Result<(), ServerFnError> {
    use super::plumbing::*;
    use crate::auth::AccountError;
    use crate::forms::{Notice, safe_next};
    use http::StatusCode;
    // Checked before anything is counted, audited, logged or kept.
    if let Err(message) = form.validate() {
        return answer_refusal(
            "/login",
            form.without_secrets(),
            Notice::Failed(message),
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    }
    let result = accounts()?
        .login(&form.username, &form.password, &request_info())
        .await;
    match result {
        Ok(cookie) => {
            set_cookie(&cookie);
            leptos_axum::redirect(&safe_next(&form.next));
            Ok(())
        }
        Err(error) => {
            let status = StatusCode::from_u16(error.status()).unwrap_or(StatusCode::BAD_REQUEST);
            let notice = match error {
                AccountError::Invalid(errors) => Notice::Invalid(errors),
                AccountError::Refused(message)
                | AccountError::Throttled(message)
                | AccountError::Exists(message) => Notice::Failed(message),
                AccountError::Internal(error) => return Err(internal("sign you in")(error)),
            };
            answer_refusal("/login", form.without_secrets(), notice, status)
        }
    }
}

#[server(endpoint = "logout")]
pub async fn logout() -> Result<(), ServerFnError> {
    use super::plumbing::*;
    let admin = require_admin()?;
    let cookie = accounts()?
        .logout(&admin, &request_info())
        .await
        .map_err(internal("sign you out"))?;
    set_cookie(&cookie);
    leptos_axum::redirect("/login?signed_out=1");
    Ok(())
}
