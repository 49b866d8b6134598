//! The Runs page: whether the engine can run, when it runs next, Run now, and the latest
//! runs with what each did. With JavaScript it follows a run under way until it ends.
//! A run's page (`/runs/{id}`) lists what the run did per group.

use super::not_found::answer_not_found;
use super::pager::Pager;
use super::preview::{DeferredPlanPreview, PlanPreview};
use super::widgets::{id_and_page, load_failed};
use crate::api::{RunDetail, RunNow, RunView, RunsPageData, error_text, load_run, load_runs};
use crate::forms::Notice;
use crate::page_resource::page_resource;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos::web_sys::SubmitEvent;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use std::time::Duration;

/// How often the page reloads its data while a run is under way.
const POLL_EVERY: Duration = Duration::from_secs(1);
/// Polls after Run now before giving up on seeing the started run listed.
const MAX_POLLS_UNSEEN: u32 = 10;

#[component]
pub fn RunsPage() -> impl IntoView {
    let run_now = ServerAction::<RunNow>::new();
    let query = use_query_map();
    // Bumped to reload the data while a run is under way.
    let tick = RwSignal::new(0u64);
    let data = page_resource(
        move || {
            (
                run_now.version().get(),
                tick.get(),
                query.with(|q| q.get("flash")),
            )
        },
        |(_, _, flash)| load_runs(flash),
    );
    // Effects run in the browser only: without JavaScript a reload shows progress instead.
    // The value carried between runs counts the polls spent waiting for a started run to
    // be listed, so a run that never shows up cannot keep the page polling for ever.
    Effect::new(move |unseen: Option<u32>| {
        let unseen = unseen.unwrap_or(0);
        let Some(Ok(current)) = data.get() else {
            return unseen;
        };
        let awaited = match run_now.value().get() {
            Some(Ok(started)) => Some(started.run_id),
            _ => None,
        };
        let running = current.runs.iter().any(RunView::is_running);
        let not_yet_listed = awaited
            .is_some_and(|id| current.runs.first().is_none_or(|newest| newest.id < id))
            && unseen < MAX_POLLS_UNSEEN;
        if running || not_yet_listed {
            let reload = move || {
                tick.try_update(|t| *t += 1);
            };
            if let Ok(handle) = set_timeout_with_handle(reload, POLL_EVERY) {
                on_cleanup(move || handle.clear());
            }
        }
        if not_yet_listed { unseen + 1 } else { 0 }
    });
    // The preview follows the runs: once a run has ended that the page did not show ended
    // yet (Run now, the schedule), what the next run would do is worked out again.
    let runs_ended = RwSignal::new(0u64);
    let shown_ended = StoredValue::new(None::<Option<i64>>);
    Effect::new(move |_| {
        let Some(Ok(current)) = data.get() else {
            return;
        };
        let newest = current
            .runs
            .iter()
            .filter(|r| !r.is_running())
            .map(|r| r.id)
            .max();
        let before = shown_ended.get_value();
        shown_ended.set_value(Some(newest));
        if before.is_some_and(|b| b != newest) {
            runs_ended.update(|n| *n += 1);
        }
    });
    // Without JavaScript the preview is shown on request only (it reads every tracked
    // ticket); with it, it is loaded once the page runs.
    let deferred = query.with_untracked(|q| q.get("preview").as_deref() != Some("show"));

    view! {
        <Title text="Runs · itsm-bridge"/>
        <h1>"Runs"</h1>
        <p class="lead">
            "The ticket engine opens, updates and resolves ServiceNow incidents from the latest \
             scans. The scheduler runs it at the interval set on ITSM settings; Run now starts \
             a run at once. Never two runs at once."
        </p>
        <form
            class="run-now"
            method="post"
            action=RunNow::url()
            on:submit=move |ev: SubmitEvent| {
                ev.prevent_default();
                run_now.dispatch(RunNow {});
            }
        >
            <button type="submit" disabled=move || run_now.pending().get()>
                {move || if run_now.pending().get() { "Starting…" } else { "Run now" }}
            </button>
        </form>
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            <ErrorBoundary fallback=load_failed>
                {move || Suspend::new(async move {
                    data.await.map(|data| view! { <RunsView data run_now/> })
                })}
            </ErrorBoundary>
        </Transition>
        {if deferred {
            view! { <DeferredPlanPreview refresh=runs_ended/> }.into_any()
        } else {
            view! { <PlanPreview refresh=runs_ended/> }.into_any()
        }}
    }
}

#[component]
fn RunsView(data: RunsPageData, run_now: ServerAction<RunNow>) -> impl IntoView {
    let RunsPageData {
        runs,
        next_due,
        connected,
        flash,
    } = data;
    let flashed = flash.map(|f| f.notice);
    // The answer to Run now with JavaScript, else what the redirect carried without.
    let notice = move || match run_now.value().get() {
        Some(Ok(started)) => Some(Notice::Done(started.message())),
        Some(Err(error)) => Some(Notice::Failed(error_text(&error))),
        None => flashed.clone(),
    };
    let state = if connected {
        view! {
            <p class="engine-state" data-connected="true">
                {match next_due {
                    Some(at) => format!("Next scheduled run: {at} UTC."),
                    None => "No run is scheduled.".to_string(),
                }}
            </p>
        }
        .into_any()
    } else {
        view! {
            <p class="engine-state" data-connected="false">
                "No ServiceNow connection is saved, so the engine does nothing. "
                <a href="/settings/connection">"Save the connection on ITSM integrations"</a>
                "."
            </p>
        }
        .into_any()
    };
    view! {
        {move || notice().map(|notice| match notice {
            Notice::Done(message) => view! {
                <div class="notice notice-saved run-notice" role="status">{message}</div>
            }.into_any(),
            Notice::Failed(message) => view! {
                <div class="notice notice-failed run-notice" role="alert">{message}</div>
            }.into_any(),
            // Run now answers neither; a flash of another kind is shown as nothing.
            Notice::Saved | Notice::Invalid(_) => ().into_any(),
        })}
        {state}
        {if runs.is_empty() {
            view! { <p class="empty">"No run yet."</p> }.into_any()
        } else {
            view! { <RunsTable runs/> }.into_any()
        }}
    }
}

/// The counts of a run, in the table's order, each with the key a test reads it by.
fn counts(run: &RunView) -> [(&'static str, i64); 8] {
    [
        ("groups", run.groups),
        ("opened", run.opened),
        ("noted", run.noted),
        ("resolved", run.resolved),
        ("unchanged", run.unchanged),
        ("set_aside", run.set_aside),
        ("skipped", run.skipped),
        ("failed", run.failed),
    ]
}

#[component]
fn RunsTable(runs: Vec<RunView>) -> impl IntoView {
    view! {
        <div class="table-wrap wide">
            <table class="audit runs">
                <thead>
                    <tr>
                        <th>"Run"</th>
                        <th>"Trigger"</th>
                        <th>"Started (UTC)"</th>
                        <th>"Duration"</th>
                        <th>"Outcome"</th>
                        <th class="count">"Groups"</th>
                        <th class="count">"Opened"</th>
                        <th class="count">"Noted"</th>
                        <th class="count">"Resolved"</th>
                        <th class="count">"Unchanged"</th>
                        <th class="count" title="Every failing finding left out by the filters or covered by an exception">"Set aside"</th>
                        <th class="count">"Skipped"</th>
                        <th class="count">"Failed"</th>
                    </tr>
                </thead>
                <tbody>
                    {runs.into_iter().map(|run| view! { <RunRow run/> }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

#[component]
fn RunRow(run: RunView) -> impl IntoView {
    let duration = match run.duration_seconds {
        Some(seconds) => describe_duration(seconds),
        None if run.is_running() => "under way".to_string(),
        None => "\u{2014}".to_string(),
    };
    let cells = counts(&run)
        .into_iter()
        .map(|(key, n)| view! { <td class="count" data-count=key>{n}</td> })
        .collect_view();
    let errors = (!run.errors.is_empty()).then(|| {
        view! {
            <tr class="run-errors" data-errors-of=run.id.to_string()>
                <td colspan="13">
                    <ul>{run.errors.iter().map(|e| view! { <li>{e.clone()}</li> }).collect_view()}</ul>
                </td>
            </tr>
        }
    });
    view! {
        <tr data-run-id=run.id.to_string() data-outcome=run.outcome.clone()>
            <td><a href=format!("/runs/{}", run.id)>{run.id}</a></td>
            <td>{trigger_name(&run.trigger)}</td>
            <td class="nowrap">{run.started_at.clone()}</td>
            <td class="nowrap">{duration}</td>
            <td class=format!("outcome outcome-{}", run.outcome)>{run.outcome.clone()}</td>
            {cells}
        </tr>
        {errors}
    }
}

/// The trigger as the pages name it: "schedule", "Run now", "command".
pub(super) fn trigger_name(trigger: &str) -> String {
    match trigger {
        "run now" => "Run now".to_string(),
        other => other.to_string(),
    }
}

/// "42 s", "3 min 5 s", "2 h 10 min": the length of a run, to the second while short.
pub(super) fn describe_duration(seconds: i64) -> String {
    let seconds = seconds.max(0);
    match seconds {
        0..60 => format!("{seconds} s"),
        60..3600 => format!("{} min {} s", seconds / 60, seconds % 60),
        _ => format!("{} h {} min", seconds / 3600, seconds % 3600 / 60),
    }
}

/// A run's page: its trigger, start, duration, outcome and counts, then what it did per
/// group, 100 a page. An unknown run is a 404.
#[component]
pub fn RunPage() -> impl IntoView {
    let detail = page_resource(id_and_page(), |(id, page)| load_run(id, page));
    view! {
        <Title text="Run · itsm-bridge"/>
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            <ErrorBoundary fallback=load_failed>
                {move || Suspend::new(async move {
                    detail.await.map(|found| match found {
                        None => {
                            answer_not_found();
                            view! { <h1>"No such run"</h1><p><a href="/runs">"All runs"</a></p> }.into_any()
                        }
                        Some(detail) => view! { <RunDetailView detail/> }.into_any(),
                    })
                })}
            </ErrorBoundary>
        </Transition>
    }
}

/// What an action on a group reads as on a run's page.
fn action_words(action: &str, number: Option<&str>) -> String {
    let number = number.unwrap_or("a ticket");
    match action {
        "opened" => format!("opened {number}"),
        "noted" => format!("noted on {number}"),
        "resolved" => format!("resolved {number}"),
        // "failed", "set aside" and the rest read as they are.
        other => other.to_string(),
    }
}

#[component]
fn RunDetailView(detail: RunDetail) -> impl IntoView {
    let RunDetail {
        run,
        groups,
        listed,
        page,
        pages,
    } = detail;
    let id = run.id;
    let duration = match run.duration_seconds {
        Some(seconds) => describe_duration(seconds),
        None if run.is_running() => "under way".to_string(),
        None => "\u{2014}".to_string(),
    };
    let summary = format!(
        "Started by {} at {} UTC; took {duration}. {} groups: {} opened, {} noted, {} resolved, {} unchanged, {} set aside, {} skipped, {} failed.",
        trigger_name(&run.trigger),
        run.started_at,
        run.groups,
        run.opened,
        run.noted,
        run.resolved,
        run.unchanged,
        run.set_aside,
        run.skipped,
        run.failed,
    );
    let errors = (!run.errors.is_empty()).then(|| {
        view! {
            <div class="notice notice-failed run-errors" role="alert">
                <ul>{run.errors.iter().map(|e| view! { <li>{e.clone()}</li> }).collect_view()}</ul>
            </div>
        }
    });
    let list = if groups.is_empty() {
        let text = if run.is_running() {
            "Nothing done yet; reload to follow the run."
        } else {
            "This run opened, noted, resolved, set aside and failed nothing."
        };
        view! { <p class="empty">{text}</p> }.into_any()
    } else {
        view! {
            <div class="table-wrap">
                <table class="audit run-groups">
                    <thead><tr><th>"Group"</th><th>"What the run did"</th><th>"Why, or the error"</th></tr></thead>
                    <tbody>
                        {groups.into_iter().map(|g| view! {
                            <tr data-action=g.action.clone() data-key=g.key.clone()>
                                <td>{format!("{}: ", g.grouping)}<code>{g.key.clone()}</code></td>
                                <td class=format!("action action-{}", g.action.replace(' ', "-"))>{action_words(&g.action, g.number.as_deref())}</td>
                                <td>{g.detail.clone()}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
            <Pager path=format!("/runs/{id}") page pages more=format!(" ({listed} groups listed)")/>
        }
        .into_any()
    };
    view! {
        <h1>{format!("Run {id}")}</h1>
        <p class="lead run-summary" data-outcome=run.outcome.clone()>
            <span class=format!("outcome outcome-{}", run.outcome)>{run.outcome.clone()}</span>
            ". " {summary} " "
            <a href="/runs">"All runs"</a>
        </p>
        {errors}
        <p class="help">
            "The groups a run left unchanged are counted, not listed. A group set aside has \
             every failing finding left out by the filters (ITSM settings) or covered by an \
             exception, and no ticket: it is listed with the reason."
        </p>
        {list}
    }
}

#[cfg(test)]
mod tests {
    use super::describe_duration;

    #[test]
    fn durations_read_at_each_scale() {
        assert_eq!(describe_duration(0), "0 s");
        assert_eq!(describe_duration(59), "59 s");
        assert_eq!(describe_duration(60), "1 min 0 s");
        assert_eq!(describe_duration(3599), "59 min 59 s");
        assert_eq!(describe_duration(3600), "1 h 0 min");
        assert_eq!(describe_duration(7_805), "2 h 10 min");
        assert_eq!(describe_duration(-3), "0 s");
    }
}
