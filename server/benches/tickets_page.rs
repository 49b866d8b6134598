//! Tickets page benchmark (not a test): the server's time per page request with 100,000
//! tracked tickets.
//!
//! Starts the real server on a fresh database, signs in, writes 100,000 tickets straight
//! into the engine's table (both groupings, every state class, each with 3 members), then
//! sends REQUESTS requests (2,000 by default) one after another over loopback, each timed
//! from send to the last byte of the answer, in five kinds:
//!
//! - `first`: the first page, no filter (`GET /tickets`, the whole server-rendered page);
//! - `deep`: a page from a random cursor anywhere in the list (`?after=N`);
//! - `back`: a "Previous" page from a random cursor (`?before=N`);
//! - `filtered`: a random state and grouping filter from a random cursor;
//! - `function`: the `load_tickets` server function a hydrated page calls (JSON).
//!
//! It prints p50, p99 and the maximum per kind and over all. Run:
//! `cargo bench -p server --bench tickets_page` (`REQUESTS=5000` for more).

// A benchmark that cannot build its input has nothing to report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

const TICKETS: i64 = 100_000;
const INSTANCE: &str = "https://bench.service-now.com";

#[tokio::main]
async fn main() {
    let requests = common::count_from_env("REQUESTS", 2_000);
    println!(
        "tickets page benchmark: {TICKETS} tickets, {requests} requests, {} cores",
        common::cores()
    );
    let signed_in = common::start_and_sign_in().await;
    let (address, pool, client) = (&signed_in.address, &signed_in.pool, &signed_in.client);

    common::seed_timed(&format!("{TICKETS} tickets"), seed(pool)).await;

    let kinds = ["first", "deep", "back", "filtered", "function"];
    let mut timings: Vec<Vec<Duration>> = vec![Vec::new(); kinds.len()];
    let mut random = Lcg(0x5eed);
    // A few requests first, so the first timed one does not pay for cold caches.
    for _ in 0..20 {
        get(client, &format!("{address}/tickets")).await;
    }
    for n in 0..requests {
        let kind = n % kinds.len();
        let cursor = 1 + random.next() % TICKETS as u64;
        let started = Instant::now();
        match kinds[kind] {
            "first" => get(client, &format!("{address}/tickets")).await,
            "deep" => get(client, &format!("{address}/tickets?after={cursor}")).await,
            "back" => get(client, &format!("{address}/tickets?before={cursor}")).await,
            "filtered" => {
                let state =
                    ["open", "resolved", "closed", "unconfirmed"][random.next() as usize % 4];
                let grouping = ["resources", "controls"][random.next() as usize % 2];
                get(
                    client,
                    &format!("{address}/tickets?state={state}&grouping={grouping}&after={cursor}"),
                )
                .await
            }
            _ => {
                let answer = client
                    .post(format!("{address}/api/load_tickets"))
                    .form(&[("after", cursor.to_string())])
                    .send()
                    .await
                    .unwrap();
                assert_eq!(answer.status(), 200);
                answer.bytes().await.unwrap();
            }
        }
        timings[kind].push(started.elapsed());
    }

    println!("| kind | requests | p50 | p99 | max |");
    println!("|---|---|---|---|---|");
    let mut all = Vec::new();
    for (kind, times) in kinds.iter().zip(&mut timings) {
        all.extend(times.iter().copied());
        print_row(kind, times);
    }
    print_row("all", &mut all);

    signed_in.stop().await;
}

/// 100,000 tickets: a quarter By controls; states spread over every class (1 in 1,000 a
/// create not confirmed); 3 members each, two failing, and those in a latest scan.
async fn seed(pool: &sqlx::SqlitePool) {
    sqlx::query(
        "INSERT INTO engine_tickets (id, grouping, group_key, generation, correlation_id, \
            instance_url, phase, tracked, sys_id, number, state, state_seen_at, opened_at, \
            created_at, refreshed_at) \
         WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < ?) \
         SELECT i, CASE WHEN i % 4 = 0 THEN 'controls' ELSE 'resources' END, 'key-' || i, 1, \
            'corr-' || i, ?, CASE WHEN i % 1000 = 0 THEN 'intent' ELSE 'open' END, 1, \
            printf('%032x', i), 'INC' || printf('%07d', i), \
            CASE WHEN i % 5 = 0 THEN '6' WHEN i % 5 = 1 THEN '7' WHEN i % 5 = 2 THEN '8' \
                 ELSE '1' END, \
            1795932000 + i, 1795932000 + i, 1795932000 + i, 1795932100 + i \
         FROM seq",
    )
    .bind(TICKETS)
    .bind(INSTANCE)
    .execute(pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO engine_ticket_members (ticket_id, source, control_id, resource_id, \
            first_seen, failing) \
         SELECT t.id, 'bench', 'control-' || c.n, t.group_key, 1795932000, c.n < 3 \
         FROM engine_tickets t, (SELECT 1 AS n UNION ALL SELECT 2 UNION ALL SELECT 3) c",
    )
    .execute(pool)
    .await
    .unwrap();
    // The latest scan of the members' source, listing the failing ones: each page looks
    // their severities up in it.
    sqlx::query(
        "INSERT INTO scans (id, source, format, scanned_at, received_at, findings, failing, \
            passing, other, completed_at, written_at) \
         VALUES (1, 'bench', 'native', 1795932000, 1795932000, ?, ?, 0, 0, 1795932000, 1795932000)",
    )
    .bind(TICKETS * 2)
    .bind(TICKETS * 2)
    .execute(pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO findings (scan_id, control_id, control_title, resource_id, resource_name, \
            resource_type, status, severity, observed_at, detail) \
         SELECT 1, control_id, control_id, resource_id, resource_id, 'vm', 2, \
            (ticket_id + length(control_id)) % 5, NULL, '' \
         FROM engine_ticket_members WHERE failing = 1",
    )
    .execute(pool)
    .await
    .unwrap();
}

async fn get(client: &reqwest::Client, url: &str) {
    let answer = client.get(url).send().await.unwrap();
    assert_eq!(answer.status(), 200, "{url}");
    answer.bytes().await.unwrap();
}

fn print_row(kind: &str, times: &mut [Duration]) {
    times.sort();
    let at = |q: f64| times[((times.len() as f64 * q).ceil() as usize).clamp(1, times.len()) - 1];
    let ms = |d: Duration| format!("{:.1} ms", d.as_secs_f64() * 1000.0);
    println!(
        "| {kind} | {} | {} | {} | {} |",
        times.len(),
        ms(at(0.50)),
        ms(at(0.99)),
        ms(*times.last().unwrap())
    );
}

/// A small deterministic generator: the same cursors on every run, no extra crate.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
}
