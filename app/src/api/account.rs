//! Server functions of the account pages: first-run setup, sign-in, sign-out, and who is
//! signed in. Setup, sign-in and sign-out are plain form posts answered with a redirect.

use super::FormFlash;
use crate::forms::{LoginForm, SetupForm};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// What the login and setup pages need to render.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AccountPageData<F> {
    pub flash: Option<FormFlash<F>>,
}

/// The signed-in admin's name, or `None`. Open to everyone: it tells only a visitor's own.
#[server(endpoint = "current_admin")]
pub async fn current_admin() -> Result<Option<String>, ServerFnError> {
    Ok(super::plumbing::signed_in().map(|admin| admin.username))
}

#[server(endpoint = "load_login_page")]
pub async fn load_login_page(
    flash: Option<String>,
) -> Result<AccountPageData<LoginForm>, ServerFnError> {
    Ok(AccountPageData {
        flash: super::plumbing::take_flash(flash),
    })
}

#[server(endpoint = "load_setup_page")]
pub async fn load_setup_page(
    flash: Option<String>,
) -> Result<AccountPageData<SetupForm>, ServerFnError> {
    Ok(AccountPageData {
        flash: super::plumbing::take_flash(flash),
    })
}

#[server(endpoint = "setup_admin")]
pub async fn setup_admin(form: SetupForm) -> Result<(), ServerFnError> {
    use super::plumbing::*;
    use crate::auth::AccountError;
    use crate::forms::Notice;
    let result = match form.validate() {
        Err(errors) => Err(Notice::Invalid(errors)),
        Ok(admin) => match accounts()?.setup_admin(admin, &request_info()).await {
            Ok(()) => Ok(()),
            Err(AccountError::Invalid(errors)) => Err(Notice::Invalid(errors)),
            Err(AccountError::Refused(message)) => Err(Notice::Failed(message)),
            Err(AccountError::Internal(error)) => Err(Notice::Failed(super::error_text(
                &internal("create the admin account")(error),
            ))),
        },
    };
    match result {
        Ok(()) => {
            leptos_axum::redirect("/login?created=1");
            Ok(())
        }
        Err(notice) => answer_refusal("/setup", form.without_secrets(), notice),
    }
}

#[server(endpoint = "login")]
pub async fn login(form: LoginForm) -> Result<(), ServerFnError> {
    use super::plumbing::*;
    use crate::auth::AccountError;
    use crate::forms::{Notice, safe_next};
    let result = accounts()?
        .login(&form.username, &form.password, &request_info())
        .await;
    match result {
        Ok(cookie) => {
            set_cookie(&cookie);
            leptos_axum::redirect(&safe_next(&form.next));
            Ok(())
        }
        Err(AccountError::Invalid(errors)) => {
            answer_refusal("/login", form.without_secrets(), Notice::Invalid(errors))
        }
        Err(AccountError::Refused(message)) => {
            answer_refusal("/login", form.without_secrets(), Notice::Failed(message))
        }
        Err(AccountError::Internal(error)) => Err(internal("sign you in")(error)),
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
