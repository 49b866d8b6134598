//! The Tickets page and `load_tickets`: newest first, 50 a page by cursor, filters by state
//! and grouping; right on an empty database, at the paging edges and at 100,000 tickets;
//! each ticket linked to its own instance and marked frozen or not tracked as it is.

use crate::engine_support::post_scan;
use crate::helpers::*;
use serde_json::{Value, json};
use sqlx::SqlitePool;

/// The instance the tests' connection names (`connection_form`'s).
const ACME: &str = "https://acme.service-now.com";

/// A ticket's state class in the seeded list: 1 in 1,000 a create not confirmed, else by
/// `i % 5`: resolved, closed, canceled (counts as closed), open, open.
fn seeded_class(i: i64) -> &'static str {
    if i % 1000 == 0 {
        return "unconfirmed";
    }
    match i % 5 {
        0 => "resolved",
        1 | 2 => "closed",
        _ => "open",
    }
}

fn seeded_grouping(i: i64) -> &'static str {
    if i % 4 == 0 { "controls" } else { "resources" }
}

/// Writes tickets 1..=n straight into the database, in one statement: what n engine runs
/// would have left, without n creates.
async fn seed_tickets(pool: &SqlitePool, n: i64) {
    sqlx::query(
        "INSERT INTO engine_tickets (id, grouping, group_key, generation, correlation_id, \
            instance_url, phase, tracked, sys_id, number, state, state_seen_at, opened_at, \
            created_at, refreshed_at) \
         WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < ?) \
         SELECT i, CASE WHEN i % 4 = 0 THEN 'controls' ELSE 'resources' END, 'key-' || i, 1, \
            'corr-' || i, ?, CASE WHEN i % 1000 = 0 THEN 'intent' ELSE 'open' END, 1, \
            CASE WHEN i % 1000 = 0 THEN NULL ELSE printf('%032x', i) END, \
            CASE WHEN i % 1000 = 0 THEN NULL ELSE 'INC' || printf('%07d', i) END, \
            CASE WHEN i % 1000 = 0 THEN NULL \
                 WHEN i % 5 = 0 THEN '6' WHEN i % 5 = 1 THEN '7' WHEN i % 5 = 2 THEN '8' \
                 ELSE '1' END, \
            1700000000 + i, 1700000000 + i, 1700000000 + i, 1700000100 + i \
         FROM seq",
    )
    .bind(n)
    .bind(ACME)
    .execute(pool)
    .await
    .unwrap();
}

/// `load_tickets` with the query string's values, as the page sends them.
async fn tickets(app: &TestApp, fields: &[(&str, &str)]) -> Value {
    app.call_json("load_tickets", fields).await
}

fn ids(page: &Value) -> Vec<i64> {
    page["page"]["tickets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_i64().unwrap())
        .collect()
}

fn cursor(page: &Value, which: &str) -> Option<(String, String)> {
    let value = &page["page"][which];
    if value.is_null() {
        return None;
    }
    let (kind, id) = value.as_object().unwrap().iter().next().unwrap();
    let name = if kind == "After" { "after" } else { "before" };
    Some((name.to_string(), id.to_string()))
}

/// Follows "Next" from the first page with these filters to the end; every id seen.
async fn walk_forward(app: &TestApp, filters: &[(&str, &str)]) -> Vec<i64> {
    let mut seen = Vec::new();
    let mut page = tickets(app, filters).await;
    assert!(
        cursor(&page, "previous").is_none(),
        "the first page has no previous"
    );
    loop {
        let these = ids(&page);
        assert!(these.len() <= 50, "a page holds at most 50");
        seen.extend(these);
        let Some((name, id)) = cursor(&page, "next") else {
            return seen;
        };
        let mut fields = filters.to_vec();
        fields.push((name.as_str(), id.as_str()));
        page = tickets(app, &fields).await;
    }
}

#[tokio::test]
async fn an_empty_database_lists_no_ticket_and_no_page_link() {
    let app = spawn_app().await;
    let page = tickets(&app, &[]).await;
    assert_eq!(page["page"]["total"], 0);
    assert_eq!(ids(&page), Vec::<i64>::new());
    assert!(page["page"]["next"].is_null() && page["page"]["previous"].is_null());
    assert_eq!(page["page"]["grouping_in_use"], "resources");
    assert!(page["page"]["instance_url"].is_null());

    let (status, html) = app.get_text("/tickets").await;
    assert_eq!(status, 200);
    assert!(html.contains("No ticket matches."), "{html}");
    assert!(!html.contains("rel=\"next\""));
}

#[tokio::test]
async fn a_hundred_thousand_tickets_page_by_fifty_newest_first_with_filters() {
    let app = spawn_app().await;
    app.save_connection(&connection_form(&[])).await;
    let n = 100_000;
    seed_tickets(&app.database().await, n).await;

    let first = tickets(&app, &[]).await;
    assert_eq!(first["page"]["total"], n);
    assert_eq!(ids(&first), (n - 49..=n).rev().collect::<Vec<_>>());
    assert_eq!(
        cursor(&first, "next"),
        Some(("after".into(), (n - 49).to_string()))
    );
    assert!(cursor(&first, "previous").is_none());

    // The last page, from a cursor deep in the list: the 50 oldest, no next.
    let last = tickets(&app, &[("after", "51")]).await;
    assert_eq!(ids(&last), (1..=50).rev().collect::<Vec<_>>());
    assert!(cursor(&last, "next").is_none());
    assert_eq!(
        cursor(&last, "previous"),
        Some(("before".into(), "50".into()))
    );
    // Previous from there: the 50 just newer, still newest first.
    let back = tickets(&app, &[("before", "50")]).await;
    assert_eq!(ids(&back), (51..=100).rev().collect::<Vec<_>>());
    assert_eq!(cursor(&back, "next"), Some(("after".into(), "51".into())));
    assert_eq!(
        cursor(&back, "previous"),
        Some(("before".into(), "100".into()))
    );

    // A rare class, walked page by page to its end: every ticket of it once, in order.
    let unconfirmed = [("state", "unconfirmed")];
    let expected: Vec<i64> = (1..=n)
        .rev()
        .filter(|i| seeded_class(*i) == "unconfirmed")
        .collect();
    assert_eq!(expected.len(), 100);
    assert_eq!(tickets(&app, &unconfirmed).await["page"]["total"], 100);
    assert_eq!(walk_forward(&app, &unconfirmed).await, expected);

    // Both filters at once, first page and a page from deep inside.
    let filters = [("state", "resolved"), ("grouping", "controls")];
    let matching: Vec<i64> = (1..=n)
        .rev()
        .filter(|i| seeded_class(*i) == "resolved" && seeded_grouping(*i) == "controls")
        .collect();
    let page = tickets(&app, &filters).await;
    assert_eq!(page["page"]["total"], matching.len());
    assert_eq!(ids(&page), matching[..50]);
    for ticket in page["page"]["tickets"].as_array().unwrap() {
        assert_eq!(ticket["state_class"], "resolved");
        assert_eq!(ticket["state"], "Resolved");
        assert_eq!(ticket["grouping"], "controls");
        assert_eq!(
            ticket["tracking"], "frozen",
            "controls is not the grouping in use"
        );
    }
    let deep = tickets(&app, &[filters[0], filters[1], ("after", "2000")]).await;
    let below: Vec<i64> = matching
        .iter()
        .copied()
        .filter(|i| *i < 2000)
        .take(50)
        .collect();
    assert_eq!(below.len(), 50);
    assert_eq!(ids(&deep), below);

    let closed = tickets(&app, &[("state", "closed"), ("grouping", "resources")]).await;
    let closed_count = (1..=n)
        .filter(|i| seeded_class(*i) == "closed" && seeded_grouping(*i) == "resources")
        .count();
    assert_eq!(closed["page"]["total"], closed_count);
    let labels: Vec<&str> = closed["page"]["tickets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["state"].as_str().unwrap())
        .collect();
    assert!(
        labels.contains(&"Closed") && labels.contains(&"Canceled"),
        "{labels:?}"
    );

    // The page itself, without JavaScript: the filters chosen, 50 rows, a next link.
    let (status, html) = app.get_text("/tickets?state=open&grouping=resources").await;
    assert_eq!(status, 200);
    assert_eq!(html.matches("data-ticket-id=").count(), 50);
    assert!(
        html.contains("<option value=\"open\" selected"),
        "the state filter shows"
    );
    assert!(html.contains("rel=\"next\""));
    assert!(html.contains("/tickets?state=open&amp;grouping=resources&amp;after="));
}

#[tokio::test]
async fn the_paging_edges_fifty_fifty_one_and_cursors_past_the_end() {
    let app = spawn_app().await;
    let pool = app.database().await;
    seed_tickets(&pool, 50).await;
    let only = tickets(&app, &[]).await;
    assert_eq!(ids(&only).len(), 50);
    assert!(cursor(&only, "next").is_none() && cursor(&only, "previous").is_none());

    sqlx::query("DELETE FROM engine_tickets")
        .execute(&pool)
        .await
        .unwrap();
    seed_tickets(&pool, 51).await;
    let first = tickets(&app, &[]).await;
    assert_eq!(ids(&first), (2..=51).rev().collect::<Vec<_>>());
    assert_eq!(cursor(&first, "next"), Some(("after".into(), "2".into())));
    let second = tickets(&app, &[("after", "2")]).await;
    assert_eq!(ids(&second), vec![1]);
    assert!(cursor(&second, "next").is_none());
    assert_eq!(
        cursor(&second, "previous"),
        Some(("before".into(), "1".into()))
    );

    // A cursor past the oldest ticket: an empty page that leads back, and says why.
    let past = tickets(&app, &[("after", "1")]).await;
    assert_eq!(ids(&past), Vec::<i64>::new());
    assert_eq!(
        cursor(&past, "previous"),
        Some(("before".into(), "1".into()))
    );
    assert!(cursor(&past, "next").is_none());
    let (status, html) = app.get_text("/tickets?after=1").await;
    assert_eq!(status, 200);
    assert!(
        html.contains("the list changed since the link was made"),
        "{html}"
    );
    assert!(html.contains("rel=\"first\""));
    // Past the newest: the newest page again, from its own end.
    let future = tickets(&app, &[("before", "51")]).await;
    assert_eq!(ids(&future), Vec::<i64>::new());
    assert_eq!(cursor(&future, "next"), Some(("after".into(), "51".into())));
}

#[tokio::test]
async fn unknown_filters_and_cursors_are_refused_with_a_reason() {
    let app = spawn_app().await;
    for (fields, words) in [
        (
            vec![("state", "opened")],
            "There is no state filter \"opened\"",
        ),
        (vec![("grouping", "both")], "There is no grouping \"both\""),
        (vec![("after", "abc")], "is not a ticket number"),
        (vec![("after", "3"), ("before", "9")], "not both"),
    ] {
        let response = app.call("load_tickets", &fields).await;
        assert_eq!(response.status(), 400, "{fields:?}");
        let text = response.text().await.unwrap();
        assert!(text.contains(words), "{fields:?}: {text}");
    }
    let (status, html) = app.get_text("/tickets?state=bogus").await;
    assert_eq!(status, 400);
    assert!(html.contains("There is no state filter"), "{html}");
}

#[tokio::test]
async fn each_ticket_links_to_its_own_instance_and_says_whether_it_is_followed() {
    let app = spawn_app().await;
    app.save_connection(&connection_form(&[])).await;
    let pool = app.database().await;
    let old = "https://old.service-now.com";
    for (id, grouping, key, generation, instance, tracked, state, replaces) in [
        (1, "resources", "web-1", 1, ACME, 0, "6", None),
        (2, "resources", "web-1", 2, ACME, 1, "2", Some(1)),
        (3, "controls", "ctl-9", 1, ACME, 1, "1", None),
        (4, "resources", "web-2", 1, old, 1, "1", None),
    ] {
        sqlx::query(
            "INSERT INTO engine_tickets (id, grouping, group_key, generation, correlation_id, \
                instance_url, phase, tracked, sys_id, number, state, opened_at, created_at, \
                replaces, refreshed_at) \
             VALUES (?, ?, ?, ?, ?, ?, 'open', ?, ?, ?, ?, 1700000000, 1700000000, ?, 1700000500)",
        )
        .bind(id)
        .bind(grouping)
        .bind(key)
        .bind(generation)
        .bind(format!("corr-{id}"))
        .bind(instance)
        .bind(tracked)
        .bind(format!("{id:032x}"))
        .bind(format!("INC000000{id}"))
        .bind(state)
        .bind(replaces)
        .execute(&pool)
        .await
        .unwrap();
    }
    // Ticket 2 lists two failing findings (one critical, one high, both in the latest scan)
    // and one that passed before.
    for (control, failing) in [("c1", 1), ("c2", 1), ("c3", 0)] {
        sqlx::query(
            "INSERT INTO engine_ticket_members (ticket_id, source, control_id, resource_id, \
                first_seen, failing) VALUES (2, 'src-a', ?, 'web-1', 1700000000, ?)",
        )
        .bind(control)
        .bind(failing)
        .execute(&pool)
        .await
        .unwrap();
    }
    let token = app.api_token().await;
    post_scan(
        &app,
        &token,
        "src-a",
        crate::engine_support::now() - 60,
        &[
            ("c1", "web-1", "fail", "high"),
            ("c2", "web-1", "fail", "critical"),
            ("c3", "web-1", "pass", "low"),
        ],
    )
    .await;

    let page = tickets(&app, &[]).await;
    let by_id = |id: i64| -> Value {
        page["page"]["tickets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["id"] == id)
            .cloned()
            .unwrap()
    };
    let successor = by_id(2);
    assert_eq!(successor["number"], "INC0000002");
    assert_eq!(
        successor["link"],
        format!("{ACME}/nav_to.do?uri=incident.do?sys_id={:032x}", 2)
    );
    assert_eq!(successor["state"], "In Progress");
    assert_eq!(successor["findings"], 2);
    assert_eq!(successor["highest_severity"], "critical");
    assert_eq!(successor["generation"], 2);
    assert_eq!(successor["tracking"], "tracked");
    assert_eq!(
        successor["replaces"],
        json!({"number": "INC0000001", "link": format!("{ACME}/nav_to.do?uri=incident.do?sys_id={:032x}", 1)})
    );
    assert_eq!(by_id(1)["tracking"], "replaced");
    assert_eq!(by_id(1)["highest_severity"], "unknown");
    assert_eq!(by_id(3)["tracking"], "frozen");
    let elsewhere = by_id(4);
    assert_eq!(elsewhere["tracking"], "elsewhere");
    assert_eq!(
        elsewhere["link"],
        format!("{old}/nav_to.do?uri=incident.do?sys_id={:032x}", 4)
    );

    // The connection moves to the old instance: its ticket is followed again, and the
    // others still link to the instance they were opened on.
    app.save_connection(&connection_form(&[(
        "instance_url",
        "https://old.service-now.com/",
    )]))
    .await;
    let page = tickets(&app, &[]).await;
    let tracking: Vec<(i64, String)> = page["page"]["tickets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["id"].as_i64().unwrap(),
                t["tracking"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        tracking,
        [
            (4, "tracked".to_string()),
            (3, "elsewhere".to_string()),
            (2, "elsewhere".to_string()),
            (1, "replaced".to_string()),
        ]
    );
    assert!(
        page["page"]["tickets"][2]["link"]
            .as_str()
            .unwrap()
            .starts_with(ACME)
    );

    let (status, html) = app.get_text("/tickets").await;
    assert_eq!(status, 200);
    assert!(html.contains(&format!(
        "href=\"{ACME}/nav_to.do?uri=incident.do?sys_id={:032x}\"",
        2
    )));
    assert!(html.contains("not tracked: opened on another instance"));
}
