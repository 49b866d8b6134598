//! The Tickets page: every ticket the engine opened, newest first, 50 a page, with its state
//! as last refreshed and whether the engine still follows it. The filters are a plain GET
//! form, so they work the same with and without JavaScript and a filtered page can be
//! bookmarked.

use super::widgets::load_failed;
use crate::api::{Cursor, StateClass, TicketView, TicketsPageData, Tracking, load_tickets};
use crate::domain::Grouping;
use crate::page_resource::page_resource;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[component]
pub fn TicketsPage() -> impl IntoView {
    let query = use_query_map();
    let data = page_resource(
        move || {
            query.with(|q| {
                (
                    q.get("state"),
                    q.get("grouping"),
                    q.get("after"),
                    q.get("before"),
                )
            })
        },
        |(state, grouping, after, before)| load_tickets(state, grouping, after, before),
    );
    view! {
        <Title text="Tickets · itsm-bridge"/>
        <h1>"Tickets"</h1>
        <p class="lead">
            "Every ServiceNow incident the engine opened, newest first. The state is the one the \
             last run read from the instance; the number opens the incident in the instance \
             it was opened on."
        </p>
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            <ErrorBoundary fallback=load_failed>
                {move || Suspend::new(async move {
                    data.await.map(|data| view! { <TicketsView data/> })
                })}
            </ErrorBoundary>
        </Transition>
    }
}

#[component]
fn TicketsView(data: TicketsPageData) -> impl IntoView {
    let TicketsPageData { query, page } = data;
    let state = query.state;
    let grouping = query.grouping;
    let previous = page.previous.map(|c| query.href(c));
    let next = page.next.map(|c| query.href(c));
    let first = (query.cursor != Cursor::First).then(|| query.href(Cursor::First));
    let noun = if page.total == 1 { "ticket" } else { "tickets" };
    let summary = format!(
        "{} {noun}{}. Grouping in use: {}; tickets of the other grouping are frozen.",
        page.total,
        if state.is_some() || grouping.is_some() {
            " match the filters"
        } else {
            ""
        },
        page.grouping_in_use.label().to_lowercase(),
    );
    let body = if page.tickets.is_empty() {
        let text = if page.total == 0 {
            "No ticket matches."
        } else {
            "No ticket on this page: the list changed since the link was made."
        };
        view! { <p class="empty">{text}</p> }.into_any()
    } else {
        view! {
            <div class="table-wrap">
                <table class="audit tickets">
                    <thead>
                        <tr>
                            <th>"Number"</th>
                            <th>"State"</th>
                            <th>"Grouping and key"</th>
                            <th class="count">"Findings"</th>
                            <th>"Highest severity"</th>
                            <th>"Opened (UTC)"</th>
                            <th class="count">"Generation"</th>
                            <th>"Replaced"</th>
                            <th>"Engine"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {page.tickets.into_iter().map(|ticket| view! { <TicketRow ticket/> }).collect_view()}
                    </tbody>
                </table>
            </div>
        }
        .into_any()
    };
    view! {
        <form class="filters" method="get" action="/tickets">
            <label for="state">"State"</label>
            <select id="state" name="state">
                <option value="" selected=state.is_none()>"All states"</option>
                {StateClass::ALL.into_iter().map(|c| view! {
                    <option value=c.value() selected=state == Some(c)>{c.label()}</option>
                }).collect_view()}
            </select>
            <label for="grouping">"Grouping"</label>
            <select id="grouping" name="grouping">
                <option value="" selected=grouping.is_none()>"Both groupings"</option>
                {Grouping::ALL.into_iter().map(|g| view! {
                    <option value=g.value() selected=grouping == Some(g)>{g.label()}</option>
                }).collect_view()}
            </select>
            <button type="submit">"Filter"</button>
        </form>
        <p class="tickets-summary" data-total=page.total.to_string()>{summary}</p>
        {body}
        <nav class="pager" aria-label="Pages">
            {first.map(|href| view! { <a href=href rel="first">"First page"</a> })}
            {previous.map(|href| view! { <a href=href rel="prev">"Previous"</a> })}
            {next.map(|href| view! { <a href=href rel="next">"Next"</a> })}
        </nav>
    }
}

#[component]
fn TicketRow(ticket: TicketView) -> impl IntoView {
    let number = match (&ticket.number, &ticket.link) {
        (Some(number), Some(link)) => view! {
            <a class="ticket-link" href=link.clone()>{number.clone()}</a>
        }
        .into_any(),
        (Some(number), None) => number.clone().into_any(),
        (None, _) => view! { <em>"not confirmed"</em> }.into_any(),
    };
    let refreshed = match &ticket.refreshed_at {
        Some(at) => format!("read {at}"),
        None => "not read yet".to_string(),
    };
    let replaces = ticket
        .replaces
        .as_ref()
        .map(|r| match (&r.number, &r.link) {
            (Some(number), Some(link)) => view! {
                <a href=link.clone()>{number.clone()}</a>
            }
            .into_any(),
            (Some(number), None) => number.clone().into_any(),
            (None, _) => "a ticket not confirmed".into_any(),
        });
    let tracking = ticket.tracking;
    let engine = match tracking {
        Tracking::Elsewhere => format!("{} ({})", tracking.describe(), ticket.instance_url),
        _ => tracking.describe().to_string(),
    };
    view! {
        <tr
            data-ticket-id=ticket.id.to_string()
            data-state=ticket.state_class.value()
            data-grouping=ticket.grouping.value()
            data-tracking=tracking.value()
        >
            <td class="nowrap">{number}</td>
            <td>{ticket.state.clone()}<br/><small class="nowrap">{refreshed}</small></td>
            <td>{ticket.grouping.label()}<br/><code>{ticket.key.clone()}</code></td>
            <td class="count">{ticket.findings}</td>
            <td>{ticket.highest_severity.clone()}</td>
            <td class="nowrap">{ticket.opened_at.clone()}</td>
            <td class="count">{ticket.generation}</td>
            <td>{replaces}</td>
            <td class=format!("tracking tracking-{}", tracking.value())>{engine}</td>
        </tr>
    }
}
