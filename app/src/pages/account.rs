//! The first-run setup page and the sign-in page. Both post plain forms: the server answers
//! with a redirect (to the next page, or back here with what went wrong), with or without
//! JavaScript.

use super::widgets::{TextField, load_failed};
use crate::api::{Login, SetupAdmin, load_login_page, load_setup_page};
use crate::forms::{FieldErrors, LoginForm, Notice, SetupForm};
use crate::page_resource::page_resource;
use leptos::form::FromFormData;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos::web_sys::SubmitEvent;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// The message of a refused account form.
fn refusal(notice: &Option<Notice>) -> Option<String> {
    match notice {
        Some(Notice::Failed(message)) => Some(message.clone()),
        Some(Notice::Invalid(_)) => Some("Correct the fields marked below.".to_string()),
        _ => None,
    }
}

#[component]
pub fn LoginPage() -> impl IntoView {
    let query = use_query_map();
    let data = page_resource(move || query.with(|q| q.get("flash")), load_login_page);
    let info = move || {
        query.with(|q| {
            if q.get("created").is_some() {
                Some("The admin account was created. Sign in with it.")
            } else if q.get("signed_out").is_some() {
                Some("You are signed out.")
            } else {
                None
            }
        })
    };
    view! {
        <Title text="Sign in · itsm-bridge"/>
        <div class="account">
            <h1>"Sign in"</h1>
            {move || info().map(|text| view! { <div class="notice notice-saved" role="status">{text}</div> })}
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                <ErrorBoundary fallback=load_failed>
                    {move || Suspend::new(async move {
                        data.await
                            .map(|data| {
                                if !data.admin_exists {
                                    // The access guard sends a page load to /setup; this is
                                    // for a page reached inside the app.
                                    return view! {
                                        <p class="lead">
                                            "There is no admin account yet, so nobody can sign in. "
                                            <a href="/setup">"Create the admin account"</a>
                                            " first."
                                        </p>
                                    }
                                        .into_any();
                                }
                                let next = query.with_untracked(|q| q.get("next")).unwrap_or_default();
                                let (values, notice) = match data.flash {
                                    Some(flash) => (flash.form, Some(flash.notice)),
                                    None => (LoginForm { next, ..LoginForm::default() }, None),
                                };
                                view! {
                                    {refusal(&notice)
                                        .map(|m| view! { <div class="notice notice-failed" role="alert">{m}</div> })}
                                    <form class="settings-form" method="post" action=Login::url()>
                                        <input type="hidden" name="form[next]" value=values.next/>
                                        <fieldset>
                                            <div class="field">
                                                <label for="username">"User name"</label>
                                                <input id="username" name="form[username]" type="text" autocomplete="username" value=values.username/>
                                            </div>
                                            <div class="field">
                                                <label for="password">"Password"</label>
                                                <input id="password" name="form[password]" type="password" autocomplete="current-password"/>
                                            </div>
                                        </fieldset>
                                        <div class="actions">
                                            <button type="submit">"Sign in"</button>
                                        </div>
                                    </form>
                                }
                                    .into_any()
                            })
                    })}
                </ErrorBoundary>
            </Transition>
        </div>
    }
}

#[component]
pub fn SetupPage() -> impl IntoView {
    let query = use_query_map();
    let data = page_resource(move || query.with(|q| q.get("flash")), load_setup_page);
    let client_errors = RwSignal::new(None::<FieldErrors>);
    view! {
        <Title text="First-run setup · itsm-bridge"/>
        <div class="account">
            <h1>"Create the admin account"</h1>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                <ErrorBoundary fallback=load_failed>
                    {move || Suspend::new(async move {
                        data.await.map(|data| {
                            let Some(token_file) = data.setup_token_file.filter(|_| !data.admin_exists) else {
                                // The access guard sends a page load to /login; this is for
                                // a page reached inside the app.
                                return view! {
                                    <p class="lead">
                                        "The admin account exists already. "
                                        <a href="/login">"Sign in"</a>
                                        " with it (a forgotten password is reset on the server: see the README)."
                                    </p>
                                }
                                    .into_any();
                            };
                            let (values, flashed) = match data.flash {
                                Some(flash) => (flash.form, Some(flash.notice)),
                                None => (SetupForm::default(), None),
                            };
                            let notice = Signal::derive(move || match client_errors.get() {
                                Some(errors) => Some(Notice::Invalid(errors)),
                                None => flashed.clone(),
                            });
                            let errors = Signal::derive(move || {
                                notice.get().map(|n| n.errors()).unwrap_or_default()
                            });
                            // With JavaScript, refuse a bad form before it is sent; a good one
                            // is posted as usual.
                            let on_submit = move |ev: SubmitEvent| {
                                if let Ok(input) = SetupAdmin::from_event(&ev)
                                    && let Err(found) = input.form.validate()
                                {
                                    ev.prevent_default();
                                    client_errors.set(Some(found));
                                }
                            };
                            view! {
                                <p class="lead">
                                    "itsm-bridge has no admin yet. The server printed a one-time setup token in its \
                                     log when it started, and wrote it to the file "
                                    <code>{token_file}</code>
                                    " (beside its database). Enter it with the account you want."
                                </p>
                                {move || refusal(&notice.get())
                                    .map(|m| view! { <div class="notice notice-failed" role="alert">{m}</div> })}
                                <form class="settings-form" method="post" action=SetupAdmin::url() novalidate on:submit=on_submit>
                                    <fieldset>
                                        <TextField name="setup_token" label="Setup token" help="From the server log or the setup-token file; it works once." errors autocomplete="off" spellcheck="false"/>
                                        <TextField name="username" label="User name" help="Letters, digits, '.', '_', '-' and '@'." errors autocomplete="username" value=values.username/>
                                        <TextField name="password" label="Password" help="At least 12 characters." errors kind="password" autocomplete="new-password"/>
                                        <TextField name="password_confirm" label="Password again" help="The same password, to rule out a typing mistake." errors kind="password" autocomplete="new-password"/>
                                    </fieldset>
                                    <div class="actions">
                                        <button type="submit">"Create the account"</button>
                                    </div>
                                </form>
                            }
                                .into_any()
                        })
                    })}
                </ErrorBoundary>
            </Transition>
        </div>
    }
}
