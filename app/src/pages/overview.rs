//! The Overview (`/`): at a glance, whether ServiceNow is connected and tested, what the
//! last run did and when the next is due, what fails now and what is open, and which
//! sources sent scans; each figure links to its page. A first-time admin sees the steps
//! still missing, each with its link.

use super::runs::{describe_duration, trigger_name};
use super::widgets::load_failed;
use crate::api::{OverviewData, load_overview};
use crate::page_resource::page_resource;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn OverviewPage() -> impl IntoView {
    let data = page_resource(|| (), |_| load_overview());
    view! {
        <Title text="Overview · itsm-bridge"/>
        <h1>"Overview"</h1>
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            <ErrorBoundary fallback=load_failed>
                {move || Suspend::new(async move {
                    data.await.map(|data| view! { <OverviewView data/> })
                })}
            </ErrorBoundary>
        </Transition>
    }
}

#[component]
fn OverviewView(data: OverviewData) -> impl IntoView {
    let steps = data.missing_steps();
    let first_run = (!steps.is_empty()).then(|| {
        view! {
            <section class="first-steps" aria-labelledby="first-steps-title">
                <h2 id="first-steps-title">"Next steps"</h2>
                <ol>
                    {steps.into_iter().map(|step| view! {
                        <li data-step=step.href>
                            <strong>{step.title}</strong>": "{step.why}" "
                            <a href=step.href>{step.link}</a>
                        </li>
                    }).collect_view()}
                </ol>
            </section>
        }
    });
    let connection = &data.connection;
    let connection_text = if connection.saved {
        let tested = match &connection.last_test_passed {
            Some(at) => format!("Test connection last passed {at} UTC."),
            None => "Test connection has not passed for this instance yet.".to_string(),
        };
        format!(
            "Saved ({}). {tested}",
            connection.instance_url.clone().unwrap_or_default()
        )
    } else {
        "Not saved: the engine does nothing until it is.".to_string()
    };
    let last_run = match &data.last_run {
        Some(run) => {
            let took = match run.duration_seconds {
                Some(seconds) => format!(", took {}", describe_duration(seconds)),
                None => String::new(),
            };
            let text = format!(
                "Run {} ({}) started {} UTC{took}: {}. {} groups: {} opened, {} noted, {} resolved, {} unchanged, {} set aside, {} skipped, {} failed.",
                run.id,
                trigger_name(&run.trigger),
                run.started_at,
                run.outcome,
                run.groups,
                run.opened,
                run.noted,
                run.resolved,
                run.unchanged,
                run.set_aside,
                run.skipped,
                run.failed
            );
            view! { <a href=format!("/runs/{}", run.id) data-outcome=run.outcome.clone()>{text}</a> }
                .into_any()
        }
        None => view! { <a href="/runs">"No run yet."</a> }.into_any(),
    };
    let next_due = match &data.next_due {
        Some(at) => format!("{at} UTC"),
        None => "none: no connection is saved".to_string(),
    };
    let grouping = data.grouping.value();
    let sources = if data.sources.is_empty() {
        view! { <p class="empty">"No scan has arrived yet."</p> }.into_any()
    } else {
        view! {
            <div class="table-wrap">
                <table class="audit sources">
                    <thead><tr><th>"Source"</th><th class="count">"Scans in the last day"</th><th>"Latest received (UTC)"</th></tr></thead>
                    <tbody>
                        {data.sources.iter().map(|s| view! {
                            <tr data-source=s.source.clone()>
                                <td><a href="/scans">{s.source.clone()}</a></td>
                                <td class="count" data-count="last-day">{s.last_day}</td>
                                <td class="nowrap">{s.latest_received_at.clone()}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
        }
        .into_any()
    };
    view! {
        {first_run}
        <dl class="overview">
            <dt>"ServiceNow connection"</dt>
            <dd data-figure="connection" data-saved=connection.saved.to_string()>
                <a href="/settings/connection">{connection_text}</a>
            </dd>
            <dt>"Last run"</dt>
            <dd data-figure="last-run">{last_run}</dd>
            <dt>"Next run due"</dt>
            <dd data-figure="next-run"><a href="/runs">{next_due}</a></dd>
            <dt>"Failing groups now"</dt>
            <dd data-figure="failing-groups">
                <a href="/scans">{format!("{} ({})", data.failing_groups, data.grouping.label().to_lowercase())}</a>
            </dd>
            <dt>"Open tickets tracked"</dt>
            <dd data-figure="open-tickets">
                <a href=format!("/tickets?state=open&grouping={grouping}")>{data.open_tickets}</a>
            </dd>
        </dl>
        <h2>"Scans received in the last day"</h2>
        {sources}
    }
}
