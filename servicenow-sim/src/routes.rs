//! The simulator's HTTP surface: `/oauth_token.do`, `/api/now/table/…`, the admin API under
//! `/_sim/`, `/`, a plain list of the incidents, and `/nav_to.do?uri=incident.do?sys_id=…`,
//! one incident's page (the link form ServiceNow's own notifications use).

// A refusal here is a ready HTTP answer; boxing it would only add noise to every handler.
#![allow(clippy::result_large_err)]

use crate::Shared;
use crate::instance::{
    Fault, HourlyLimit, INCIDENT_REFERENCES, Instance, LogEntry, Token, now, stamp,
};
use crate::query::{Query, Record};
use axum::body::Bytes;
use axum::extract::{Path, Query as UrlQuery, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Map, Value, json};
use std::collections::HashMap;

pub fn router(state: Shared) -> Router {
    Router::new()
        .route("/", get(incident_list))
        .route("/nav_to.do", get(incident_page))
        .route("/oauth_token.do", post(token))
        .route("/api/now/table/{table}", get(list).post(create))
        .route("/api/now/table/{table}/{sys_id}", get(read).patch(update))
        .route("/_sim/faults", post(admin_fault))
        .route("/_sim/revoke_tokens", post(admin_revoke))
        .route("/_sim/log", get(admin_log))
        .route("/_sim/counters", get(admin_counters))
        .route("/_sim/incidents/{sys_id}", post(admin_desk))
        .with_state(state)
}

type Lock<'a> = std::sync::MutexGuard<'a, Instance>;

fn lock(state: &Shared) -> Lock<'_> {
    state.lock().unwrap_or_else(|e| e.into_inner())
}

fn error(status: StatusCode, message: &str, detail: &str) -> Response {
    (
        status,
        Json(json!({"error": {"message": message, "detail": detail}, "status": "failure"})),
    )
        .into_response()
}

fn oauth_failure() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        Json(json!({"error_description": "access_denied", "error": "server_error"})),
    )
        .into_response()
}

const HIBERNATING: &str = "<html><head><title>Instance Hibernating page</title></head><body><p>Your instance is hibernating. Sign in to the developer portal to wake it up.</p></body></html>";

fn record_log(state: &Shared, method: &Method, uri: &Uri, status: StatusCode) {
    lock(state).log.push(LogEntry {
        method: method.to_string(),
        path: uri.path().to_string(),
        status: status.as_u16(),
    });
}

pub fn set_hourly_limit(s: &mut Instance, limit: u32) {
    s.hourly = Some(HourlyLimit {
        limit,
        window_start: now(),
        used: 0,
    });
}

/// The next scripted fault, or the per-hour limit; `None` to answer normally. `uri` is the
/// request's, for a redirect's `Location`.
async fn take_fault(state: &Shared, table_api: bool, uri: &Uri) -> Option<Result<Fault, Response>> {
    let fault = {
        let mut s = lock(state);
        if table_api && let Some(hourly) = s.hourly.as_mut() {
            if now() - hourly.window_start >= 3600 {
                hourly.window_start = now();
                hourly.used = 0;
            }
            hourly.used += 1;
            if hourly.used > hourly.limit {
                let reset = hourly.window_start + 3600;
                let limit = hourly.limit;
                let mut response = error(
                    StatusCode::TOO_MANY_REQUESTS,
                    "Rate limit exceeded",
                    &format!("Rate limit of {limit} requests per hour for Table API exceeded"),
                );
                let headers = response.headers_mut();
                headers.insert(header::RETRY_AFTER, HeaderValue::from(reset - now()));
                headers.insert("x-ratelimit-limit", HeaderValue::from(limit));
                headers.insert("x-ratelimit-reset", HeaderValue::from(reset));
                headers.insert(
                    "x-ratelimit-rule",
                    HeaderValue::from_static("table-api-hourly"),
                );
                return Some(Err(response));
            }
        }
        if table_api {
            s.faults.pop_front()
        } else {
            s.token_faults.pop_front().or_else(|| s.faults.pop_front())
        }
    }?;
    match fault {
        Fault::Delay { millis } => {
            tokio::time::sleep(std::time::Duration::from_millis(millis)).await;
            None
        }
        Fault::Status { status } => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            Some(Err(error(
                status,
                "Internal server error",
                "simulated fault",
            )))
        }
        Fault::RateLimited { retry_after } => {
            let mut response = error(
                StatusCode::TOO_MANY_REQUESTS,
                "Rate limit exceeded",
                "simulated rate limit",
            );
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
            Some(Err(response))
        }
        Fault::Hibernate => Some(Err((StatusCode::OK, Html(HIBERNATING)).into_response())),
        Fault::Redirect { status, location } => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::TEMPORARY_REDIRECT);
            let target = format!(
                "{location}{}",
                uri.path_and_query().map(|p| p.as_str()).unwrap_or("/")
            );
            let mut response = status.into_response();
            if let Ok(value) = HeaderValue::from_str(&target) {
                response.headers_mut().insert(header::LOCATION, value);
            }
            Some(Err(response))
        }
        Fault::HugeBody { bytes } => {
            let mut body = String::with_capacity(bytes.max(13));
            body.push_str("{\"result\":[");
            body.extend(std::iter::repeat_n(' ', bytes.saturating_sub(13)));
            body.push_str("]}");
            let mut response = (StatusCode::OK, body).into_response();
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            Some(Err(response))
        }
        fault @ (Fault::DropAfterCreate
        | Fault::DelayAfterCreate { .. }
        | Fault::IgnoreQuery
        | Fault::ExpiresIn { .. }) => Some(Ok(fault)),
    }
}

fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let decoded = BASE64.decode(value.strip_prefix("Basic ")?.trim()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    Some((id.to_string(), secret.to_string()))
}

/// The user a request authenticates as: a live Bearer token, or Basic credentials.
fn authenticate(s: &Instance, headers: &HeaderMap) -> Result<String, Response> {
    let Some(value) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return Err(error(
            StatusCode::UNAUTHORIZED,
            "User Not Authenticated",
            "Required to provide Auth information",
        ));
    };
    if let Some(token) = value.strip_prefix("Bearer ") {
        return match s.tokens.get(token.trim()) {
            Some(t) if t.expires_at > now() => Ok(t.user.clone()),
            _ => Err(error(
                StatusCode::UNAUTHORIZED,
                "User Not Authenticated",
                "Required to provide Auth information",
            )),
        };
    }
    if let Some(encoded) = value.strip_prefix("Basic ") {
        let decoded = BASE64
            .decode(encoded.trim())
            .ok()
            .and_then(|b| String::from_utf8(b).ok());
        if let Some((user, password)) = decoded.as_deref().and_then(|d| d.split_once(':'))
            && user == crate::USER_NAME
            && password == crate::USER_PASSWORD
        {
            return Ok(user.to_string());
        }
    }
    Err(error(
        StatusCode::UNAUTHORIZED,
        "User Not Authenticated",
        "Required to provide Auth information",
    ))
}

fn wants_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/json") || v.contains("*/*"))
}

async fn token(
    State(state): State<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let response = token_answer(&state, &uri, &headers, &body).await;
    record_log(&state, &method, &uri, response.status());
    response
}

async fn token_answer(state: &Shared, uri: &Uri, headers: &HeaderMap, body: &Bytes) -> Response {
    let expires_in = match take_fault(state, false, uri).await {
        Some(Err(response)) => return response,
        Some(Ok(Fault::ExpiresIn { seconds })) => Some(seconds),
        _ => None,
    };
    let form_encoded = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !form_encoded {
        return oauth_failure();
    }
    let mut form: HashMap<String, String> =
        url::form_urlencoded::parse(body).into_owned().collect();
    // Client credentials come in the body or, as RFC 6749 allows, as HTTP Basic auth.
    if let Some((id, secret)) = basic_credentials(headers) {
        form.entry("client_id".into()).or_insert(id);
        form.entry("client_secret".into()).or_insert(secret);
    }
    let field = |k: &str| form.get(k).map(String::as_str).unwrap_or("");
    if field("client_id") != crate::CLIENT_ID || field("client_secret") != crate::CLIENT_SECRET {
        return oauth_failure();
    }
    let mut s = lock(state);
    let user = match field("grant_type") {
        "password"
            if field("username") == crate::USER_NAME
                && field("password") == crate::USER_PASSWORD =>
        {
            field("username").to_string()
        }
        "refresh_token" => match s.refresh_tokens.get(field("refresh_token")) {
            Some(user) => user.clone(),
            None => return oauth_failure(),
        },
        _ => return oauth_failure(),
    };
    let lifetime = s.token_lifetime;
    let now = now();
    // Asking again while the access token is valid returns the same token.
    let existing = s
        .tokens
        .iter()
        .find(|(_, t)| t.user == user && t.expires_at > now + 1)
        .map(|(k, t)| (k.clone(), t.expires_at));
    let (access, expires_at) = existing.unwrap_or_else(|| {
        let access = crate::instance::new_sys_id() + &crate::instance::new_sys_id();
        s.tokens.insert(
            access.clone(),
            Token {
                user: user.clone(),
                expires_at: now.saturating_add(lifetime),
            },
        );
        (access, now.saturating_add(lifetime))
    });
    let refresh = crate::instance::new_sys_id();
    s.refresh_tokens.insert(refresh.clone(), user);
    Json(json!({
        "scope": "useraccount",
        "token_type": "Bearer",
        "expires_in": expires_in.unwrap_or((expires_at - now - 1).max(0) as u64),
        "refresh_token": refresh,
        "access_token": access,
    }))
    .into_response()
}

/// Runs the common checks of a Table API request: faults, Accept, auth.
async fn table_checks(
    state: &Shared,
    uri: &Uri,
    headers: &HeaderMap,
) -> Result<Option<Fault>, Response> {
    let fault = match take_fault(state, true, uri).await {
        Some(Err(response)) => return Err(response),
        Some(Ok(fault)) => Some(fault),
        None => None,
    };
    if !wants_json(headers) {
        return Err(error(
            StatusCode::BAD_REQUEST,
            "Invalid Accept header",
            "Send Accept: application/json",
        ));
    }
    authenticate(&lock(state), headers)?;
    Ok(fault)
}

/// A record as the Table API shows it: `sysparm_fields`, reference links unless excluded,
/// and `sysparm_display_value` (`true`: display values; `all`: both).
fn present(
    s: &Instance,
    record: &Record,
    table: &str,
    params: &HashMap<String, String>,
    base: &str,
) -> Value {
    let exclude_links = params
        .get("sysparm_exclude_reference_link")
        .is_some_and(|v| v == "true");
    let display = params
        .get("sysparm_display_value")
        .map(String::as_str)
        .unwrap_or("false");
    let fields: Option<Vec<&str>> = params
        .get("sysparm_fields")
        .filter(|f| !f.is_empty())
        .map(|f| f.split(',').map(str::trim).collect());
    let mut out = Map::new();
    for (key, value) in record {
        if fields.as_ref().is_some_and(|f| !f.contains(&key.as_str())) {
            continue;
        }
        let value = if crate::instance::JOURNAL_FIELDS.contains(&key.as_str()) {
            ""
        } else {
            value.as_str()
        };
        let reference = (table == "incident")
            .then(|| INCIDENT_REFERENCES.iter().find(|(f, _)| f == key))
            .flatten();
        let shown = display_value(s, table, key, value, reference.map(|(_, t)| *t));
        let link = match reference {
            Some((_, target)) if !exclude_links && !value.is_empty() => {
                Some(format!("{base}/api/now/table/{target}/{value}"))
            }
            _ => None,
        };
        let json = match (display, link) {
            ("all", Some(link)) => json!({"display_value": shown, "link": link, "value": value}),
            ("all", None) => json!({"display_value": shown, "value": value}),
            ("true", Some(link)) => json!({"display_value": shown, "link": link}),
            ("true", None) => Value::String(shown),
            (_, Some(link)) => json!({"link": link, "value": value}),
            (_, None) => Value::String(value.to_string()),
        };
        out.insert(key.clone(), json);
    }
    Value::Object(out)
}

/// The label of a choice, the name of a referenced record, or the value itself.
fn display_value(
    s: &Instance,
    table: &str,
    field: &str,
    value: &str,
    reference: Option<&str>,
) -> String {
    if let Some(target) = reference {
        return s
            .tables
            .get(target)
            .and_then(|rows| {
                rows.iter()
                    .find(|r| r.get("sys_id").map(String::as_str) == Some(value))
            })
            .and_then(|r| r.get("name").cloned())
            .unwrap_or_else(|| value.to_string());
    }
    s.tables
        .get("sys_choice")
        .and_then(|rows| {
            rows.iter().find(|r| {
                r.get("name").map(String::as_str) == Some(table)
                    && r.get("element").map(String::as_str) == Some(field)
                    && r.get("value").map(String::as_str) == Some(value)
            })
        })
        .and_then(|r| r.get("label").cloned())
        .unwrap_or_else(|| value.to_string())
}

/// This instance's own address, as the client reached it.
fn base_url(scheme: &str, headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("localhost");
    format!("{scheme}://{host}")
}

async fn list(
    State(state): State<Shared>,
    Path(table): Path<String>,
    UrlQuery(params): UrlQuery<HashMap<String, String>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let response = list_answer(&state, &table, &params, &uri, &headers).await;
    record_log(&state, &method, &uri, response.status());
    response
}

async fn list_answer(
    state: &Shared,
    table: &str,
    params: &HashMap<String, String>,
    uri: &Uri,
    headers: &HeaderMap,
) -> Response {
    let fault = match table_checks(state, uri, headers).await {
        Err(response) => return response,
        Ok(fault) => fault,
    };
    let mut s = lock(state);
    let text = match fault {
        // As if every part of the query named a field the table does not have.
        Some(Fault::IgnoreQuery) => "",
        _ => params
            .get("sysparm_query")
            .map(String::as_str)
            .unwrap_or(""),
    };
    let query = Query::parse(text, &s.fields(table));
    let Some(mut matching) = s.matching(table, &query) else {
        return error(StatusCode::BAD_REQUEST, "Invalid table", table);
    };
    query.sort(&mut matching);
    let total = matching.len();
    let limit: usize = params
        .get("sysparm_limit")
        .and_then(|v| v.parse().ok())
        .unwrap_or(10000);
    let offset: usize = params
        .get("sysparm_offset")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let base = base_url(s.scheme, headers);
    let page: Vec<Value> = matching
        .iter()
        .skip(offset)
        .take(limit)
        .map(|r| present(&s, r, table, params, &base))
        .collect();
    let mut response = Json(json!({ "result": page })).into_response();
    let headers_out = response.headers_mut();
    headers_out.insert("x-total-count", HeaderValue::from(total));
    let link = |at: i64| {
        let mut pairs: Vec<(String, String)> = params
            .iter()
            .filter(|(k, _)| k.as_str() != "sysparm_offset" && k.as_str() != "sysparm_limit")
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        pairs.push(("sysparm_limit".into(), limit.to_string()));
        pairs.push(("sysparm_offset".into(), at.to_string()));
        let query: String = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        format!("{base}{}?{query}", uri.path())
    };
    let (limit_i, offset_i, total_i) = (limit as i64, offset as i64, total as i64);
    let last = if limit_i > 0 {
        ((total_i - 1).max(0) / limit_i) * limit_i
    } else {
        0
    };
    let mut links = vec![format!("<{}>;rel=\"first\"", link(0))];
    if offset_i > 0 || total_i > limit_i {
        links.push(format!("<{}>;rel=\"prev\"", link(offset_i - limit_i)));
    }
    if offset_i + limit_i < total_i {
        links.push(format!("<{}>;rel=\"next\"", link(offset_i + limit_i)));
    }
    links.push(format!("<{}>;rel=\"last\"", link(last)));
    if let Ok(value) = HeaderValue::from_str(&links.join(",")) {
        headers_out.insert(header::LINK, value);
    }
    response
}

async fn read(
    State(state): State<Shared>,
    Path((table, sys_id)): Path<(String, String)>,
    UrlQuery(params): UrlQuery<HashMap<String, String>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let response = match table_checks(&state, &uri, &headers).await {
        Err(response) => response,
        Ok(_) => {
            let mut s = lock(&state);
            let base = base_url(s.scheme, &headers);
            match s.record(&table, &sys_id).cloned() {
                Some(record) => {
                    Json(json!({"result": present(&s, &record, &table, &params, &base)}))
                        .into_response()
                }
                None => error(
                    StatusCode::NOT_FOUND,
                    "No Record found",
                    "Record doesn't exist or ACL restricts the record retrieval",
                ),
            }
        }
    };
    record_log(&state, &method, &uri, response.status());
    response
}

fn body_object(headers: &HeaderMap, body: &Bytes) -> Result<Map<String, Value>, Response> {
    let json_body = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !json_body {
        return Err(error(
            StatusCode::BAD_REQUEST,
            "Invalid Content-Type",
            "Send Content-Type: application/json",
        ));
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(error(
            StatusCode::BAD_REQUEST,
            "Exception while reading request",
            "The payload is not valid JSON",
        )),
    }
}

/// Resolving or closing needs a close code and close notes (a data policy).
fn data_policy(record: &Record) -> Result<(), Response> {
    let closing = matches!(record.get("state").map(String::as_str), Some("6" | "7"));
    let filled = |k: &str| record.get(k).is_some_and(|v| !v.is_empty());
    if closing && !(filled("close_code") && filled("close_notes")) {
        return Err(error(
            StatusCode::FORBIDDEN,
            "Operation Failed",
            "Data Policy Exception: the following fields are mandatory: Resolution code, Resolution notes",
        ));
    }
    Ok(())
}

async fn create(
    State(state): State<Shared>,
    Path(table): Path<String>,
    UrlQuery(params): UrlQuery<HashMap<String, String>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let fault = match table_checks(&state, &uri, &headers).await {
        Err(response) => {
            record_log(&state, &method, &uri, response.status());
            return response;
        }
        Ok(fault) => fault,
    };
    let (response, drop_connection) = match body_object(&headers, &body) {
        Err(response) => (response, false),
        Ok(_) if table != "incident" => (
            error(
                StatusCode::FORBIDDEN,
                "Operation Failed",
                &format!("Error during insert of {table}"),
            ),
            false,
        ),
        Ok(fields) => {
            let mut s = lock(&state);
            let journal = s.journal.len();
            let record = s.new_incident(&fields);
            let sys_id = record["sys_id"].clone();
            if let Err(response) = data_policy(&record) {
                // Refused: nothing of it stays, its work notes neither.
                s.journal.truncate(journal);
                (response, false)
            } else {
                s.insert_incident(record.clone());
                let base = base_url(s.scheme, &headers);
                let mut response = (
                    StatusCode::CREATED,
                    Json(json!({"result": present(&s, &record, &table, &params, &base)})),
                )
                    .into_response();
                if let Ok(location) =
                    HeaderValue::from_str(&format!("{base}/api/now/table/incident/{sys_id}"))
                {
                    response.headers_mut().insert(header::LOCATION, location);
                }
                (response, fault == Some(Fault::DropAfterCreate))
            }
        }
    };
    // Logged before any delay: the client may give up, and its connection with it, before
    // the answer goes.
    record_log(&state, &method, &uri, response.status());
    if let Some(Fault::DelayAfterCreate { millis }) = fault
        && response.status() == StatusCode::CREATED
    {
        tokio::time::sleep(std::time::Duration::from_millis(millis)).await;
    }
    if drop_connection {
        // The record exists; the client never hears: ending the connection's task without
        // an answer is what a dropped connection looks like to it.
        std::panic::resume_unwind(Box::new(
            "servicenow-sim: connection dropped after the create, as scripted",
        ));
    }
    response
}

async fn update(
    State(state): State<Shared>,
    Path((table, sys_id)): Path<(String, String)>,
    UrlQuery(params): UrlQuery<HashMap<String, String>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let response = match table_checks(&state, &uri, &headers).await {
        Err(response) => response,
        Ok(_) => {
            match body_object(&headers, &body) {
                Err(response) => response,
                Ok(fields) => {
                    let mut s = lock(&state);
                    let base = base_url(s.scheme, &headers);
                    match s
                        .incident_mut(&sys_id)
                        .filter(|_| table == "incident")
                        .cloned()
                    {
                        None => error(
                            StatusCode::NOT_FOUND,
                            "No Record found",
                            "Record doesn't exist or ACL restricts the record retrieval",
                        ),
                        Some(mut record) => {
                            let journal = s.journal.len();
                            s.apply(&mut record, &fields);
                            match data_policy(&record) {
                                Err(response) => {
                                    // Refused: nothing of it stays, its work notes neither.
                                    s.journal.truncate(journal);
                                    response
                                }
                                Ok(()) => {
                                    if let Some(stored) = s.incident_mut(&sys_id) {
                                        *stored = record.clone();
                                    }
                                    Json(json!({"result": present(&s, &record, &table, &params, &base)}))
                                    .into_response()
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    record_log(&state, &method, &uri, response.status());
    response
}

/// `{"kind": …, "times": n}`; with `"target": "token"` only token requests get it, else
/// the next Table API or token request does.
async fn admin_fault(State(state): State<Shared>, Json(body): Json<Value>) -> Response {
    let times = body.get("times").and_then(Value::as_u64).unwrap_or(1) as usize;
    let token_only = match body.get("target").and_then(Value::as_str) {
        None => false,
        Some("token") => true,
        Some(other) => {
            return (
                StatusCode::BAD_REQUEST,
                format!("unknown target {other:?}: leave it out, or say \"token\""),
            )
                .into_response();
        }
    };
    if body.get("kind").and_then(Value::as_str) == Some("hourly_limit") {
        let limit = body.get("limit").and_then(Value::as_u64).unwrap_or(500) as u32;
        set_hourly_limit(&mut lock(&state), limit);
        return StatusCode::NO_CONTENT.into_response();
    }
    match serde_json::from_value::<Fault>(body) {
        Ok(fault) => {
            let mut s = lock(&state);
            let queue = if token_only {
                &mut s.token_faults
            } else {
                &mut s.faults
            };
            (0..times).for_each(|_| queue.push_back(fault.clone()));
            StatusCode::NO_CONTENT.into_response()
        }
        Err(e) => (StatusCode::BAD_REQUEST, e.to_string()).into_response(),
    }
}

async fn admin_revoke(State(state): State<Shared>) -> StatusCode {
    let mut s = lock(&state);
    s.tokens.clear();
    s.refresh_tokens.clear();
    StatusCode::NO_CONTENT
}

async fn admin_log(State(state): State<Shared>) -> Json<Vec<LogEntry>> {
    Json(lock(&state).log.clone())
}

/// Requests counted by method, path and status: `{"GET /api/now/table/incident 200": 3}`.
async fn admin_counters(
    State(state): State<Shared>,
) -> Json<std::collections::BTreeMap<String, usize>> {
    Json(lock(&state).counters())
}

/// The service desk: `{"state": "6"}` and/or `{"opened_at": "2026-01-01 00:00:00"}`.
async fn admin_desk(
    State(state): State<Shared>,
    Path(sys_id): Path<String>,
    Json(body): Json<Value>,
) -> StatusCode {
    let mut s = lock(&state);
    if let Some(state) = body.get("state").and_then(Value::as_str)
        && !desk_set_state(&mut s, &sys_id, state)
    {
        return StatusCode::NOT_FOUND;
    }
    if let Some(opened_at) = body.get("opened_at").and_then(Value::as_str) {
        match s.incident_mut(&sys_id) {
            Some(record) => {
                record.insert("opened_at".into(), opened_at.into());
            }
            None => return StatusCode::NOT_FOUND,
        }
    }
    StatusCode::NO_CONTENT
}

pub fn desk_set_state(s: &mut Instance, sys_id: &str, state: &str) -> bool {
    let Some(mut record) = s.incident_mut(sys_id).cloned() else {
        return false;
    };
    let mut fields = Map::new();
    fields.insert("state".into(), Value::String(state.into()));
    if matches!(state, "6" | "7") {
        if record.get("close_code").is_none_or(|v| v.is_empty()) {
            fields.insert(
                "close_code".into(),
                Value::String("Solved (Permanently)".into()),
            );
        }
        if record.get("close_notes").is_none_or(|v| v.is_empty()) {
            fields.insert(
                "close_notes".into(),
                Value::String("Closed by the service desk".into()),
            );
        }
    }
    s.apply(&mut record, &fields);
    if let Some(stored) = s.incident_mut(sys_id) {
        *stored = record;
    }
    true
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// `GET /nav_to.do?uri=incident.do?sys_id=…` (the inner query may come encoded or not):
/// the incident's number, state and short description, or a 404 page.
async fn incident_page(
    State(state): State<Shared>,
    UrlQuery(params): UrlQuery<HashMap<String, String>>,
) -> Response {
    let sys_id = params
        .get("uri")
        .map(|uri| uri.trim_start_matches('/'))
        .and_then(|uri| uri.strip_prefix("incident.do?"))
        .and_then(|query| {
            url::form_urlencoded::parse(query.as_bytes())
                .find(|(key, _)| key == "sys_id")
                .map(|(_, value)| value.into_owned())
        });
    let mut s = lock(&state);
    let Some(record) = sys_id.and_then(|id| s.incident(&id).cloned()) else {
        return (
            StatusCode::NOT_FOUND,
            Html(
                "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Record not found | servicenow-sim</title></head>\
                 <body><h1>Record not found</h1><p>No incident has that sys_id.</p><p><a href=\"/\">All incidents</a></p></body></html>",
            ),
        )
            .into_response();
    };
    let field = |k: &str| record.get(k).map(String::as_str).unwrap_or("");
    let state_label = display_value(&s, "incident", "state", field("state"), None);
    Html(format!(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{number} | Incident | servicenow-sim</title></head><body>\
         <h1>Incident {number}</h1><dl>\
         <dt>Number</dt><dd id=\"number\">{number}</dd>\
         <dt>State</dt><dd id=\"state\" data-value=\"{state}\">{state_label}</dd>\
         <dt>Short description</dt><dd id=\"short_description\">{short}</dd>\
         <dt>Correlation ID</dt><dd id=\"correlation_id\">{correlation}</dd>\
         <dt>Opened</dt><dd id=\"opened_at\">{opened}</dd></dl>\
         <p><a href=\"/\">All incidents</a></p></body></html>",
        number = escape(field("number")),
        state = escape(field("state")),
        state_label = escape(&state_label),
        short = escape(field("short_description")),
        correlation = escape(field("correlation_id")),
        opened = escape(field("opened_at")),
    ))
    .into_response()
}

async fn incident_list(State(state): State<Shared>) -> Html<String> {
    let s = lock(&state);
    let rows: String = s
        .tables
        .get("incident")
        .map(|rows| {
            rows.iter()
                .map(|r| {
                    format!(
                        "<tr><td><a href=\"/nav_to.do?uri=incident.do%3Fsys_id%3D{}\">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                        escape(&r["sys_id"]),
                        escape(&r["number"]),
                        escape(&r["state"]),
                        escape(&r["opened_at"]),
                        escape(&r["correlation_id"]),
                        escape(&r["short_description"])
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    Html(format!(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>servicenow-sim</title></head><body>\
         <h1>servicenow-sim: incidents</h1><p>As of {} UTC.</p><table border=\"1\" cellpadding=\"4\">\
         <tr><th>Number</th><th>State</th><th>Opened</th><th>Correlation id</th><th>Short description</th></tr>{rows}</table></body></html>",
        stamp(now())
    ))
}
