//! The connection page (docs/SETTINGS.md, "The connection page").

use super::settings_save::{SaveButton, SettingsSave};
use super::widgets::{Field, NoticeBanner, TextField, load_failed};
use crate::api::{
    ConnectionPageData, ConnectionStep, SaveConnectionSettings, TestConnection, error_text,
    load_connection_settings,
};
use crate::forms::{Notice, SecretsStored};
use crate::page_resource::page_resource;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos::web_sys::SubmitEvent;
use leptos_meta::Title;

#[component]
pub fn ConnectionPage() -> impl IntoView {
    let save = SettingsSave::<SaveConnectionSettings>::new();
    let test = ServerAction::<TestConnection>::new();
    let data = page_resource(
        move || {
            (
                save.reload_key(),
                test.version().get(),
                save.query_value("tested"),
            )
        },
        |((_, flash), _, tested)| load_connection_settings(flash, tested),
    );

    view! {
        <Title text="ITSM integrations · itsm-bridge"/>
        <h1>"ITSM integrations"</h1>
        <p class="lead">
            "To facilitate remediation, connect itsm-bridge to your business' ServiceNow \
             system. Failing findings then become ServiceNow incidents."
        </p>
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            <ErrorBoundary fallback=load_failed>
                {move || Suspend::new(async move {
                    data.await
                        .map(|data| {
                            let tested = data.tested.clone();
                            view! {
                                <ConnectionForm data save/>
                                <ConnectionTest test tested/>
                            }
                        })
                })}
            </ErrorBoundary>
        </Transition>
    }
}

#[component]
fn ConnectionForm(
    data: ConnectionPageData,
    save: SettingsSave<SaveConnectionSettings>,
) -> impl IntoView {
    let ConnectionPageData {
        view: stored,
        flash,
        ..
    } = data;
    let secrets = stored.stored;
    // What the browser checks a submit against, as the server will.
    let current = stored.clone();
    let offered = stored.states.clone();
    // A refused no-JavaScript submit comes back with what was typed (secrets excepted).
    let values = match &flash {
        Some(flash) if !matches!(flash.notice, Notice::Saved) => flash.form.clone(),
        _ => stored.values.clone(),
    };
    let (notice, errors) = save.notice(flash.map(|f| f.notice));
    let on_submit = save.on_submit(move |input| input.form.validate(&current).map(|_| ()));
    let secret_status = move |stored: bool, what: &str| {
        if stored && secrets.unreadable {
            format!("A {what} is stored but cannot be read with this server's key: enter it again.")
        } else if stored {
            format!(
                "A {what} is stored; it is never shown. Leave this blank to keep it, unless you \
                 change the URL, client ID or user ID: it is only ever sent to the instance, \
                 client and user it was entered for."
            )
        } else {
            format!("No {what} is stored yet.")
        }
    };
    let status = values.duplicate_status.clone();

    view! {
        <NoticeBanner notice/>
        {secrets
            .unreadable
            .then(|| {
                view! {
                    <div class="notice notice-failed" role="alert" id="secrets-unreadable">
                        {SecretsStored::UNREADABLE}
                    </div>
                }
            })}
        <form
            class="settings-form"
            method="post"
            action=SaveConnectionSettings::url()
            novalidate
            on:submit=on_submit
        >
            <fieldset>
                <legend>"ServiceNow instance"</legend>
                <TextField
                    name="instance_url"
                    label="ServiceNow URL"
                    help="The address of your instance, e.g. https://acme.service-now.com."
                    errors
                    kind="url"
                    inputmode="url"
                    autocomplete="off"
                    placeholder="https://acme.service-now.com"
                    value=values.instance_url.clone()
                />
                <TextField
                    name="client_id"
                    label="Client ID"
                    help="The client ID of the OAuth application registered on your instance."
                    errors
                    autocomplete="off"
                    value=values.client_id.clone()
                />
                <TextField
                    name="client_secret"
                    label="Client secret"
                    help=secret_status(secrets.client_secret, "client secret")
                    errors
                    kind="password"
                    autocomplete="new-password"
                    value=""
                />
                <TextField
                    name="group_sys_id"
                    label="Group SYS ID"
                    help="The sys_id of the assignment group that receives the tickets (32 hexadecimal characters)."
                    errors
                    autocomplete="off"
                    spellcheck="false"
                    value=values.group_sys_id.clone()
                />
                <TextField
                    name="user_sys_id"
                    label="User SYS ID"
                    help="The sys_id of the user the tickets are opened for, the caller (32 hexadecimal characters)."
                    errors
                    autocomplete="off"
                    spellcheck="false"
                    value=values.user_sys_id.clone()
                />
                <TextField
                    name="user_id"
                    label="User ID"
                    help="Your ServiceNow user name; itsm-bridge signs in with it and its password."
                    errors
                    autocomplete="off"
                    value=values.user_id.clone()
                />
                <TextField
                    name="password"
                    label="Password"
                    help=secret_status(secrets.password, "password")
                    errors
                    kind="password"
                    autocomplete="new-password"
                    value=""
                />
            </fieldset>
            <fieldset>
                <legend>"Duplicate tickets"</legend>
                <Field
                    name="duplicate_status"
                    label="Status before a duplicate ticket is opened"
                    help="The status an existing ticket must reach before the same problem opens a new ticket. Say it must be Resolved: a vulnerability flagged on Tuesday opens a ticket, and daily scans open no other while it stays open. You fix it and resolve the ticket on Thursday; when the same problem is flagged again on Friday, a new ticket is opened."
                    errors
                >
                    <select id="duplicate_status" name="form[duplicate_status]">
                        {offered
                            .into_iter()
                            .map(|state| {
                                let selected = status == state.value;
                                view! {
                                    <option value=state.value selected=selected>
                                        {state.label}
                                    </option>
                                }
                            })
                            .collect_view()}
                    </select>
                </Field>
                <TextField
                    name="duplicate_days"
                    label="Days before a new ticket is opened while one is still open"
                    help="Opens a new ticket when the existing one has stayed open this many days, whatever its status, so critical issues do not get lost in a group of old tickets. This overrides the status above. 0 turns it off."
                    errors
                    kind="number"
                    inputmode="numeric"
                    min="0"
                    max="3650"
                    step="1"
                    value=values.duplicate_days.clone()
                />
            </fieldset>
            <div class="actions">
                <SaveButton pending=save.action.pending() label="Save" busy="Saving…"/>
                {stored
                    .updated_at
                    .map(|at| view! { <span class="saved-at">"Last saved " {at} " (UTC)"</span> })}
            </div>
        </form>
    }
}

/// The Test connection button and the steps of the last run.
#[component]
fn ConnectionTest(
    test: ServerAction<TestConnection>,
    tested: Option<Vec<ConnectionStep>>,
) -> impl IntoView {
    let steps = move || match test.value().get() {
        Some(result) => Some(result.map_err(|e| error_text(&e))),
        None => tested.clone().map(Ok),
    };
    view! {
        <section class="connection-test" aria-labelledby="test-heading">
            <h2 id="test-heading">"Test connection"</h2>
            <p class="help">
                "Checks the saved settings step by step: the token request, the group, the \
                 user, and reading the incident states (which the status choice then offers)."
            </p>
            <form
                method="post"
                action=TestConnection::url()
                on:submit=move |ev: SubmitEvent| {
                    ev.prevent_default();
                    test.dispatch(TestConnection {});
                }
            >
                <button type="submit" class="secondary" disabled=move || test.pending().get()>
                    {move || if test.pending().get() { "Testing…" } else { "Test connection" }}
                </button>
            </form>
            {move || {
                steps()
                    .map(|result| match result {
                        Ok(steps) => {
                            view! {
                                <ol class="steps">
                                    {steps
                                        .into_iter()
                                        .map(|s| {
                                            let verdict = if s.passed { "passed" } else { "failed" };
                                            view! {
                                                <li class=format!("step step-{verdict}")>
                                                    <strong>{s.name}</strong>
                                                    {format!(" \u{2014} {verdict}: ")}
                                                    {s.detail}
                                                </li>
                                            }
                                        })
                                        .collect_view()}
                                </ol>
                            }
                                .into_any()
                        }
                        Err(message) => {
                            view! { <div class="notice notice-failed" role="alert">{message}</div> }
                                .into_any()
                        }
                    })
            }}
        </section>
    }
}
