//! The scans pages: every kept scan per source with its counts, and one scan's failing
//! findings, paged.

use super::not_found::answer_not_found;
use super::pager::Pager;
use super::widgets::{id_and_page, load_failed};
use crate::api::{
    RetireSource, ScanView, ScansPageData, error_text, load_scan_findings, load_scans_page,
};
use crate::forms::Notice;
use crate::page_resource::page_resource;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos::web_sys::SubmitEvent;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[component]
pub fn ScansPage() -> impl IntoView {
    let retire = ServerAction::<RetireSource>::new();
    let query = use_query_map();
    let data = page_resource(
        move || (retire.version().get(), query.with(|q| q.get("flash"))),
        |(_, flash)| load_scans_page(flash),
    );
    view! {
        <Title text="Scans · itsm-bridge"/>
        <h1>"Scans"</h1>
        <p class="lead">
            "The latest scan of each source decides what is failing; older ones are kept for \
             reference. A source no longer sent can be retired, so that its last scan stops \
             deciding."
        </p>
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            <ErrorBoundary fallback=load_failed>
                {move || Suspend::new(async move {
                    data.await.map(|data| view! { <ScansView data retire/> })
                })}
            </ErrorBoundary>
        </Transition>
    }
}

#[component]
fn ScansView(data: ScansPageData, retire: ServerAction<RetireSource>) -> impl IntoView {
    let ScansPageData { scans, flash } = data;
    let flashed = flash.map(|f| f.notice);
    // The answer to Retire with JavaScript, else what the redirect carried without.
    let notice = move || match retire.value().get() {
        Some(Ok(retired)) => Some(Notice::Done(retired.message())),
        Some(Err(error)) => Some(Notice::Failed(error_text(&error))),
        None => flashed.clone(),
    };
    let notice = move || {
        notice().map(|notice| match notice {
            Notice::Done(message) => view! {
                <div class="notice notice-saved retire-notice" role="status">{message}</div>
            }
            .into_any(),
            Notice::Failed(message) => view! {
                <div class="notice notice-failed retire-notice" role="alert">{message}</div>
            }
            .into_any(),
            Notice::Saved | Notice::Invalid(_) => ().into_any(),
        })
    };
    if scans.is_empty() {
        return view! {
            {notice}
            <p class="empty">"No scan has arrived yet. Create an API token and point a scanner at /api/v1/scans, or run itsm-bridge ingest."</p>
        }
        .into_any();
    }
    let kept = |source: &str| scans.iter().filter(|s| s.source == source).count();
    let rows: Vec<(ScanView, usize)> = scans.iter().map(|s| (s.clone(), kept(&s.source))).collect();
    view! {
        {notice}
        <div class="table-wrap">
            <table class="audit">
                <thead><tr><th>"Source"</th><th>"Scanned (UTC)"</th><th>"Format"</th><th>"Findings"</th><th>"Failing"</th><th>"Passing"</th><th>"Other"</th><th></th></tr></thead>
                <tbody>
                    {rows.into_iter().map(|(s, kept)| view! {
                        <tr class:latest=s.latest>
                            <td>{s.source.clone()}{s.latest.then_some(" (latest)")}</td>
                            // The time may wrap after its date, so the Retire column fits the page.
                            <td><a href=format!("/scans/{}", s.id)>{s.scanned_at}</a></td>
                            <td>{s.format}</td>
                            <td>{s.findings}</td>
                            <td><a href=format!("/scans/{}", s.id)>{s.failing}</a></td>
                            <td>{s.passing}</td>
                            <td>{s.other}</td>
                            <td>{s.latest.then(|| view! { <RetireForm source=s.source kept retire/> }.into_any())}</td>
                        </tr>
                    }.into_any()).collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}

/// Retire, behind a disclosure that says first what it does: a plain form post without
/// JavaScript, the server function's answer in place with it.
#[component]
fn RetireForm(source: String, kept: usize, retire: ServerAction<RetireSource>) -> impl IntoView {
    let scans = if kept == 1 {
        "its 1 kept scan".to_string()
    } else {
        format!("its {kept} kept scans")
    };
    let explanation = format!(
        "Retiring {source} deletes {scans}. Its findings then no longer fail, and the engine \
         treats the findings of its tickets as absent (with auto-resolve on, it resolves them). \
         Do it for a source no longer sent; a new scan of it brings it back."
    );
    let posted = source.clone();
    view! {
        <details class="retire">
            <summary>"Retire…"</summary>
            <p>{explanation}</p>
            <form method="post" action=RetireSource::url() on:submit=move |ev: SubmitEvent| {
                ev.prevent_default();
                retire.dispatch(RetireSource { source: posted.clone() });
            }>
                <input type="hidden" name="source" value=source.clone()/>
                <button type="submit" class="link-button">{format!("Retire {source}")}</button>
            </form>
        </details>
    }
}

#[component]
pub fn ScanPage() -> impl IntoView {
    let page = page_resource(id_and_page(), |(id, page)| load_scan_findings(id, page));
    view! {
        <Title text="Scan · itsm-bridge"/>
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            <ErrorBoundary fallback=load_failed>
                {move || Suspend::new(async move {
                    page.await.map(|found| match found {
                        None => {
                            answer_not_found();
                            view! { <h1>"No such scan"</h1><p><a href="/scans">"All scans"</a></p> }.into_any()
                        }
                        Some(p) => {
                            let scan = p.scan;
                            view! {
                                <h1>{format!("Scan of {}", scan.source)}</h1>
                                <p class="lead">
                                    {format!("Scanned {} UTC ({}): {} findings, {} failing, {} passing, {} other.",
                                        scan.scanned_at, scan.format, scan.findings, scan.failing, scan.passing, scan.other)}
                                    " " <a href="/scans">"All scans"</a>
                                </p>
                                <div class="table-wrap">
                                    <table class="audit">
                                        <thead><tr><th>"Severity"</th><th>"Control"</th><th>"Resource"</th><th>"Detail"</th></tr></thead>
                                        <tbody>
                                            {p.findings.into_iter().map(|f| view! {
                                                <tr>
                                                    <td>{f.severity}</td>
                                                    <td><strong>{f.control_id}</strong><br/>{f.control_title}</td>
                                                    <td>{f.resource_id}<br/><small>{f.resource_type}</small></td>
                                                    <td>{f.detail}</td>
                                                </tr>
                                            }).collect_view()}
                                        </tbody>
                                    </table>
                                </div>
                                <Pager path=format!("/scans/{}", scan.id) page=p.page pages=p.pages/>
                            }.into_any()
                        }
                    })
                })}
            </ErrorBoundary>
        </Transition>
    }
}
