//! The audit page: who did what, and when, a page at a time. The pages are plain links
//! (`/audit?page=N`), so paging works with and without JavaScript.

use super::pager::Pager;
use super::widgets::load_failed;
use crate::api::{AUDIT_PAGE_SIZE, load_audit_log};
use crate::page_resource::page_resource;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[component]
pub fn AuditPage() -> impl IntoView {
    let query = use_query_map();
    let log = page_resource(
        move || query.with(|q| q.get("page").and_then(|v| v.parse::<u32>().ok())),
        load_audit_log,
    );
    view! {
        <Title text="Audit log · itsm-bridge"/>
        <h1>"Audit log"</h1>
        <p class="lead">
            {format!("Sign-ins, settings changes and account events, newest first, {AUDIT_PAGE_SIZE} a page.")}
        </p>
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            <ErrorBoundary fallback=load_failed>
                {move || Suspend::new(async move {
                    log.await.map(|log| {
                        view! {
                            <div class="table-wrap">
                                <table class="audit">
                                    <thead>
                                        <tr><th>"When (UTC)"</th><th>"Who"</th><th>"What"</th><th>"Detail"</th><th>"From"</th></tr>
                                    </thead>
                                    <tbody>
                                        {log.entries.into_iter().map(|e| view! {
                                            <tr>
                                                <td class="nowrap">{e.at}</td>
                                                <td>{e.actor.unwrap_or_default()}</td>
                                                <td class="nowrap">{e.action}</td>
                                                <td>{e.detail}</td>
                                                <td>{e.address.unwrap_or_default()}</td>
                                            </tr>
                                        }).collect_view()}
                                    </tbody>
                                </table>
                            </div>
                            <Pager path="/audit" page=log.page pages=log.pages previous="Newer" next="Older"/>
                        }
                    })
                })}
            </ErrorBoundary>
        </Transition>
    }
}
