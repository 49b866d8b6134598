//! The scans pages: every kept scan per source with its counts, and one scan's failing
//! findings, paged.

use super::widgets::load_failed;
use crate::api::{load_scan_findings, load_scans};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

#[component]
pub fn ScansPage() -> impl IntoView {
    let scans = Resource::new(|| (), |_| load_scans());
    view! {
        <Title text="Scans · itsm-bridge"/>
        <h1>"Scans"</h1>
        <p class="lead">"The latest scan of each source decides what is failing; older ones are kept for reference."</p>
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            <ErrorBoundary fallback=load_failed>
                {move || Suspend::new(async move {
                    scans.await.map(|scans| {
                        if scans.is_empty() {
                            return view! { <p class="empty">"No scan has arrived yet. Create an API token and point a scanner at /api/v1/scans, or run itsm-bridge ingest."</p> }.into_any();
                        }
                        view! {
                            <div class="table-wrap">
                                <table class="audit">
                                    <thead><tr><th>"Source"</th><th>"Scanned (UTC)"</th><th>"Format"</th><th>"Findings"</th><th>"Failing"</th><th>"Passing"</th><th>"Other"</th></tr></thead>
                                    <tbody>
                                        {scans.into_iter().map(|s| view! {
                                            <tr class:latest=s.latest>
                                                <td>{s.source}{s.latest.then_some(" (latest)")}</td>
                                                <td class="nowrap"><a href=format!("/scans/{}", s.id)>{s.scanned_at}</a></td>
                                                <td>{s.format}</td>
                                                <td>{s.findings}</td>
                                                <td><a href=format!("/scans/{}", s.id)>{s.failing}</a></td>
                                                <td>{s.passing}</td>
                                                <td>{s.other}</td>
                                            </tr>
                                        }).collect_view()}
                                    </tbody>
                                </table>
                            </div>
                        }.into_any()
                    })
                })}
            </ErrorBoundary>
        </Transition>
    }
}

#[component]
pub fn ScanPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let page = Resource::new(
        move || {
            let id = params
                .with(|p| p.get("id").and_then(|v| v.parse::<i64>().ok()))
                .unwrap_or(0);
            let page = query
                .with(|q| q.get("page").and_then(|v| v.parse::<u32>().ok()))
                .unwrap_or(1);
            (id, page)
        },
        |(id, page)| load_scan_findings(id, page),
    );
    view! {
        <Title text="Scan · itsm-bridge"/>
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            <ErrorBoundary fallback=load_failed>
                {move || Suspend::new(async move {
                    page.await.map(|found| match found {
                        None => {
                            // A missing scan is a 404, for the browser and for a link checker.
                            #[cfg(feature = "ssr")]
                            if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
                                response.set_status(http::StatusCode::NOT_FOUND);
                            }
                            view! { <h1>"No such scan"</h1><p><a href="/scans">"All scans"</a></p> }.into_any()
                        }
                        Some(p) => {
                            let scan = p.scan;
                            let previous = (p.page > 1).then(|| format!("/scans/{}?page={}", scan.id, p.page - 1));
                            let next = (p.page < p.pages).then(|| format!("/scans/{}?page={}", scan.id, p.page + 1));
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
                                <nav class="pager" aria-label="Pages">
                                    {previous.map(|href| view! { <a href=href rel="prev">"Previous"</a> })}
                                    <span>{format!("Page {} of {}", p.page, p.pages)}</span>
                                    {next.map(|href| view! { <a href=href rel="next">"Next"</a> })}
                                </nav>
                            }.into_any()
                        }
                    })
                })}
            </ErrorBoundary>
        </Transition>
    }
}
