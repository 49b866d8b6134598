//! `PlanPreview`: what the next run would do, per group, with the reason from the rules.
//! Shown on the ITSM settings page (for the form's values, saved or not) and on the Runs
//! page (for the saved settings). Computed on the server by the run's own planner on the
//! ticket states stored by the last refresh; nothing is sent to ServiceNow.
//!
//! The preview itself (`PreviewBody`) is rendered on the server only, by
//! [`preview_html`]; the page asks for that HTML (`preview_itsm_settings_html`) and puts
//! it in place, in the browser as in the page the server sends. Its view code and data
//! types are therefore not in the site's wasm.

use super::widgets::load_failed;
use crate::api::preview_itsm_settings_html;
#[cfg(feature = "ssr")]
use crate::api::{PlanPreview as Preview, PreviewOutcome, PreviewRow};
use crate::forms::ItsmForm;
use crate::page_resource::page_resource;
use leptos::prelude::*;

/// The preview, worked out while the page is rendered (the ITSM settings page; the Runs
/// page at `/runs?preview=show`).
/// `what_if`: the form's values to preview instead of the saved settings, when set.
/// `refresh`: a count bumped when the preview must be worked out again (a run ended: it
/// changed what the next would do).
#[component]
pub fn PlanPreview(
    #[prop(optional, into)] what_if: Option<Signal<Option<ItsmForm>>>,
    #[prop(optional, into)] refresh: Option<Signal<u64>>,
) -> impl IntoView {
    let preview = page_resource(
        move || (what_if.and_then(|w| w.get()), refresh.map(|r| r.get())),
        |(form, _)| preview_itsm_settings_html(form),
    );
    preview_section(|| view! { <p>"Working out the preview…"</p> }, preview)
}

/// The preview for the Runs page (of the saved settings), not worked out while the page
/// is rendered on the server (a preview reads every tracked ticket) but once the page runs
/// in the browser; without JavaScript a link shows it (`/runs?preview=show`, where the
/// page shows [`PlanPreview`] instead). `refresh` as for [`PlanPreview`].
#[component]
pub fn DeferredPlanPreview(#[prop(into)] refresh: Signal<u64>) -> impl IntoView {
    let preview = LocalResource::new(move || {
        refresh.track();
        preview_itsm_settings_html(None)
    });
    let fallback = || {
        view! {
            <p class="preview-deferred">
                <a href="/runs?preview=show#plan-preview">"Show what the next run would do"</a>
                " (worked out from the latest scans and every tracked ticket)."
            </p>
        }
    };
    preview_section(fallback, preview)
}

/// The preview's section: `fallback` until `preview` (a resource of its HTML) has loaded,
/// then that HTML, put in place. Generic, so that each page carries the kind it uses only.
fn preview_section<R, V>(fallback: impl FnOnce() -> V + Send + 'static, preview: R) -> impl IntoView
where
    R: IntoFuture<Output = Result<String, ServerFnError>> + Copy + Send + Sync + 'static,
    R::IntoFuture: Send,
    V: IntoView + 'static,
{
    view! {
        <section class="plan-preview" id="plan-preview" aria-labelledby="plan-preview-heading">
            <h2 id="plan-preview-heading">"What the next run would do"</h2>
            <Transition fallback>
                <ErrorBoundary fallback=load_failed>
                    {move || Suspend::new(async move {
                        preview.await.map(|html| view! { <div class="preview-body" inner_html=html></div> })
                    })}
                </ErrorBoundary>
            </Transition>
        </section>
    }
}

/// The preview's HTML, as the pages show it: `unsaved` when it is for the form's values.
#[cfg(feature = "ssr")]
pub fn preview_html(outcome: PreviewOutcome, unsaved: bool) -> String {
    view! { <PreviewBody outcome unsaved/> }.to_html()
}

#[cfg(feature = "ssr")]
#[component]
fn PreviewBody(outcome: PreviewOutcome, unsaved: bool) -> impl IntoView {
    let preview = match outcome {
        PreviewOutcome::Preview(preview) => preview,
        PreviewOutcome::Invalid(errors) => {
            let messages: Vec<String> = errors
                .fields()
                .filter_map(|f| errors.get(f).map(str::to_string))
                .collect();
            return view! {
                <p class="notice notice-failed preview-invalid" role="alert">
                    "No preview: the values in the form are not valid settings. "
                    {messages.join(" ")}
                </p>
            }
            .into_any();
        }
    };
    let Preview {
        connected,
        settings,
        states_read_at,
        states_age,
        run_would_fail,
        counts,
        rows,
        more,
    } = preview;
    let basis = if unsaved {
        "For the values in the form, not saved: "
    } else {
        "For the saved settings: "
    };
    let what = format!(
        "{basis}{}, {} from {}.",
        settings.grouping.label(),
        settings.describe_severity(),
        settings.describe_sources()
    );
    let basis = view! { <p class="preview-basis" data-unsaved=unsaved.to_string()>{what}</p> };
    if !connected {
        return view! {
            {basis}
            <p class="preview-state" data-connected="false">
                "No ServiceNow connection is saved, so no run does anything yet. "
                <a href="/settings/connection">"Connect ServiceNow first"</a>
                "."
            </p>
        }
        .into_any();
    }
    if let Some(why) = run_would_fail {
        return view! {
            {basis}
            <p class="notice notice-failed preview-fails" role="alert">
                "The next run would fail before doing anything: " {why}
            </p>
        }
        .into_any();
    }
    let states = match (states_read_at, states_age) {
        (Some(at), Some(age)) => format!(
            "Computed on the ticket states stored by the last refresh, {at} UTC ({age} ago): \
             the next run reads them again first, so a ticket changed in ServiceNow since \
             then may be decided otherwise. Nothing is sent to ServiceNow."
        ),
        _ => "No ticket is tracked yet; nothing is read from or sent to ServiceNow.".to_string(),
    };
    let summary = if counts.is_empty() {
        "Nothing fails and no ticket is tracked: the next run has nothing to do.".to_string()
    } else {
        counts
            .iter()
            .map(|(action, n)| format!("{action}: {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    view! {
        {basis}
        <p class="preview-state" data-connected="true">{states}</p>
        <p class="preview-summary">{summary}</p>
        {(!rows.is_empty()).then(|| view! { <PreviewTable rows/> })}
        {(more > 0).then(|| view! { <p class="preview-more">{format!("and {more} more groups")}</p> })}
    }
    .into_any()
}

#[cfg(feature = "ssr")]
#[component]
fn PreviewTable(rows: Vec<PreviewRow>) -> impl IntoView {
    view! {
        <div class="table-wrap">
            <table class="audit preview">
                <thead>
                    <tr>
                        <th>"Group"</th>
                        <th>"Would"</th>
                        <th>"Ticket"</th>
                        <th>"Why"</th>
                    </tr>
                </thead>
                <tbody>
                    {rows
                        .into_iter()
                        .map(|r| {
                            let (group, action) = (r.group.clone(), r.action.clone());
                            view! {
                                <tr data-group=group data-action=action>
                                    <td>{r.group}</td>
                                    <td class=format!("action action-{}", r.action)>{r.action.clone()}</td>
                                    <td>{r.ticket.unwrap_or_default()}</td>
                                    <td class="reason">{r.reason}</td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
    }
}
