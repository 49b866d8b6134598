//! The Exceptions page: an admin accepts a risk or marks a false positive for a control, a
//! resource, or one (control, resource) pair, with a reason and a last day at most a year
//! ahead. While one holds, the engine opens and notes nothing for what it covers; End now
//! stops it at once. Ended and expired ones stay listed, marked.

use super::widgets::{NoticeBanner, TextField, current_notice, load_failed};
use crate::api::{
    AddException, EndException, ExceptionView, ExceptionsPageData, error_text, load_exceptions,
};
use crate::forms::{ExceptionForm, ExceptionKind, FieldErrors, Notice};
use crate::page_resource::page_resource;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos::web_sys::SubmitEvent;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[component]
pub fn ExceptionsPage() -> impl IntoView {
    let add = ServerAction::<AddException>::new();
    let end = ServerAction::<EndException>::new();
    let query = use_query_map();
    let data = page_resource(
        move || {
            (
                add.version().get(),
                end.version().get(),
                query.with(|q| q.get("flash")),
            )
        },
        |(_, _, flash)| load_exceptions(flash),
    );
    view! {
        <Title text="Exceptions · itsm-bridge"/>
        <h1>"Exceptions"</h1>
        <p class="lead">
            "Accept a risk or mark a false positive: while an exception holds, the ticket \
             engine opens and notes nothing for the findings it covers (they count as absent, \
             and never resolve a ticket). When it expires, or you end it, they count again."
        </p>
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            <ErrorBoundary fallback=load_failed>
                {move || Suspend::new(async move {
                    data.await.map(|data| view! { <ExceptionsView data add end/> })
                })}
            </ErrorBoundary>
        </Transition>
    }
}

#[component]
fn ExceptionsView(
    data: ExceptionsPageData,
    add: ServerAction<AddException>,
    end: ServerAction<EndException>,
) -> impl IntoView {
    let ExceptionsPageData {
        exceptions,
        today,
        latest_expiry,
        flash,
    } = data;
    let flashed = flash.clone().map(|f| f.notice);
    let values = match &flash {
        Some(f) if matches!(f.notice, Notice::Invalid(_) | Notice::Failed(_)) => f.form.clone(),
        _ => ExceptionForm {
            scope: "pair".into(),
            kind: "accepted_risk".into(),
            ..ExceptionForm::default()
        },
    };
    let client_errors = RwSignal::new(None::<FieldErrors>);
    let add_notice = current_notice(client_errors, move || add.value().get(), None);
    // The latest answer of either form (with JavaScript), else what the redirect carried.
    let notice = Signal::derive(move || {
        if let Some(answer) = end.value().get() {
            return Some(match answer {
                Ok(message) => Notice::Done(message),
                Err(error) => Notice::Failed(error_text(&error)),
            });
        }
        add_notice.get().or_else(|| flashed.clone())
    });
    let errors = Signal::derive(move || notice.get().map(|n| n.errors()).unwrap_or_default());
    // A form the page cannot read is left to the browser, which posts it as without
    // JavaScript, for the server to answer.
    let on_add = move |ev: SubmitEvent| {
        if let Ok(input) = AddException::from_event(&ev) {
            ev.prevent_default();
            client_errors.set(None);
            add.dispatch(input);
        }
    };
    let scope = values.scope.clone();
    let kind = values.kind.clone();
    view! {
        <NoticeBanner notice/>
        {if exceptions.is_empty() {
            view! { <p class="empty">"No exception yet: every failing finding counts."</p> }.into_any()
        } else {
            view! { <ExceptionsTable exceptions end/> }.into_any()
        }}
        <h2>"New exception"</h2>
        <form
            class="settings-form exception-form"
            method="post"
            action=AddException::url()
            novalidate
            on:submit=on_add
        >
            <fieldset class="choices">
                <legend>"What it covers"</legend>
                {[
                    ("pair", "One control on one resource"),
                    ("control", "A control, on every resource"),
                    ("resource", "A resource, for every control"),
                ]
                    .into_iter()
                    .map(|(value, label)| {
                        let id = format!("scope-{value}");
                        let label_for = id.clone();
                        view! {
                            <label class="choice" for=label_for>
                                <input id=id type="radio" name="form[scope]" value=value checked=scope == value/>
                                <span class="choice-label">{label}</span>
                            </label>
                        }
                    })
                    .collect_view()}
                <TextField name="control_id" label="Control id" help="The control's id as the scans name it (for a control, or a pair)." errors value=values.control_id.clone()/>
                <TextField name="resource_id" label="Resource id" help="The resource's id as the scans name it (for a resource, or a pair)." errors value=values.resource_id.clone()/>
            </fieldset>
            <fieldset class="choices">
                <legend>"Why"</legend>
                {ExceptionKind::ALL
                    .into_iter()
                    .map(|k| {
                        let id = format!("kind-{}", k.value());
                        let label_for = id.clone();
                        view! {
                            <label class="choice" for=label_for>
                                <input id=id type="radio" name="form[kind]" value=k.value() checked=kind == k.value()/>
                                <span class="choice-label">{k.label()}</span>
                            </label>
                        }
                    })
                    .collect_view()}
                <TextField
                    name="reason"
                    label="Reason"
                    help=format!("Required; at most {} characters. It shows in the preview and the audit log.", ExceptionForm::MAX_REASON)
                    errors
                    value=values.reason.clone()
                />
                <TextField
                    name="expires_on"
                    label="Holds until (last day, UTC)"
                    help=format!("From today ({today}) to at most a year ahead ({latest_expiry}); it holds through that day.")
                    errors
                    kind="date"
                    min=today.clone()
                    max=latest_expiry.clone()
                    value=values.expires_on.clone()
                />
            </fieldset>
            <div class="actions">
                <button type="submit" disabled=move || add.pending().get()>"Add exception"</button>
            </div>
        </form>
    }
}

#[component]
fn ExceptionsTable(
    exceptions: Vec<ExceptionView>,
    end: ServerAction<EndException>,
) -> impl IntoView {
    view! {
        <div class="table-wrap">
            <table class="audit exceptions">
                <thead>
                    <tr>
                        <th>"Covers"</th>
                        <th>"Kind"</th>
                        <th>"Reason"</th>
                        <th>"Until"</th>
                        <th>"Granted"</th>
                        <th>"Status"</th>
                        <th></th>
                    </tr>
                </thead>
                <tbody>
                    {exceptions.into_iter().map(|e| view! { <ExceptionRow e end/> }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

#[component]
fn ExceptionRow(e: ExceptionView, end: ServerAction<EndException>) -> impl IntoView {
    let id = e.id;
    let status = match (e.status.as_str(), &e.ended_by, &e.ended_at) {
        ("ended", Some(by), Some(at)) => format!("ended by {by} at {at} UTC"),
        ("expired", _, _) => format!("expired at the end of {}", e.expires_on),
        ("holds", _, _) => "holds".to_string(),
        (other, _, _) => other.to_string(),
    };
    let action = e.holds().then(|| {
        view! {
            <form
                method="post"
                action=EndException::url()
                on:submit=move |ev: SubmitEvent| {
                    ev.prevent_default();
                    end.dispatch(EndException { id });
                }
            >
                <input type="hidden" name="id" value=id.to_string()/>
                <button type="submit" class="secondary">"End now"</button>
            </form>
        }
    });
    let over = !e.holds();
    let status_key = e.status.clone();
    view! {
        <tr data-exception-id=id.to_string() data-status=status_key class:over=over>
            <td>{e.scope}</td>
            <td>{e.kind}</td>
            <td>{e.reason}</td>
            <td class="nowrap">{e.expires_on}</td>
            <td class="nowrap">{format!("{} by {}", e.created_at, e.created_by)}</td>
            <td class=format!("status status-{}", e.status)>{status}</td>
            <td>{action}</td>
        </tr>
    }
}
