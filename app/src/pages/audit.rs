//! The audit page: who did what, and when.

use super::widgets::load_failed;
use crate::api::{AUDIT_PAGE_SIZE, load_audit_log};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn AuditPage() -> impl IntoView {
    let entries = Resource::new(|| (), |_| load_audit_log());
    view! {
        <Title text="Audit log · itsm-bridge"/>
        <h1>"Audit log"</h1>
        <p class="lead">
            {format!("Sign-ins, settings changes and account events, newest first (the last {AUDIT_PAGE_SIZE}).")}
        </p>
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            <ErrorBoundary fallback=load_failed>
                {move || Suspend::new(async move {
                    entries.await.map(|entries| view! {
                        <div class="table-wrap">
                            <table class="audit">
                                <thead>
                                    <tr><th>"When (UTC)"</th><th>"Who"</th><th>"What"</th><th>"Detail"</th><th>"From"</th></tr>
                                </thead>
                                <tbody>
                                    {entries.into_iter().map(|e| view! {
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
                    })
                })}
            </ErrorBoundary>
        </Transition>
    }
}
