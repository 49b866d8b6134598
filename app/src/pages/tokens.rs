//! The API tokens page: create a named token (shown once, in full), list, revoke.

use super::widgets::{TextField, load_failed};
use crate::api::{
    CreateApiToken, CreatedToken, RevokeApiToken, TokensPageData, error_text, load_api_tokens,
};
use crate::forms::{FieldErrors, Notice};
use crate::page_resource::page_resource;
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[component]
pub fn TokensPage() -> impl IntoView {
    let create = ServerAction::<CreateApiToken>::new();
    let revoke = ServerAction::<RevokeApiToken>::new();
    let query = use_query_map();
    let data = page_resource(
        move || {
            (
                create.version().get(),
                revoke.version().get(),
                query.with(|q| q.get("flash")),
            )
        },
        |(_, _, flash)| load_api_tokens(flash),
    );
    view! {
        <Title text="API tokens · itsm-bridge"/>
        <h1>"API tokens"</h1>
        <p class="lead">
            "Scanners send their results to " <code>"POST /api/v1/scans"</code> " with "
            <code>"Authorization: Bearer <token>"</code> ". A token is shown once, when it is \
             created; only a hash of it is kept. A token limited to a source can send scans of \
             that source only, so a leaked scanner token cannot rewrite what other scanners \
             report."
        </p>
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            <ErrorBoundary fallback=load_failed>
                {move || Suspend::new(async move {
                    data.await.map(|data| view! { <TokensView data create revoke/> })
                })}
            </ErrorBoundary>
        </Transition>
    }
}

#[component]
fn TokensView(
    data: TokensPageData,
    create: ServerAction<CreateApiToken>,
    revoke: ServerAction<RevokeApiToken>,
) -> impl IntoView {
    let flashed = data.flash;
    // The field errors: the browser's own check, else what the redirect carried.
    let flashed_errors = match flashed.as_ref().map(|f| &f.notice) {
        Some(Notice::Invalid(errors)) => errors.clone(),
        _ => FieldErrors::default(),
    };
    let client_errors = RwSignal::new(None::<FieldErrors>);
    let errors = Signal::derive(move || {
        client_errors
            .get()
            .unwrap_or_else(|| flashed_errors.clone())
    });
    // The token just created: from the answer with JavaScript, from the redirect without.
    let created = move || -> Option<Result<CreatedToken, String>> {
        match create.value().get() {
            Some(result) => Some(result.map_err(|e| error_text(&e))),
            None => flashed.clone().and_then(|f| match (f.form, f.notice) {
                (Some(token), _) => Some(Ok(token)),
                (None, Notice::Failed(message)) => Some(Err(message)),
                _ => None,
            }),
        }
    };
    // Checked here first, by the same code as on the server; only a valid form is sent.
    // A form the page cannot read is left to the browser, which posts it as without
    // JavaScript, for the server to answer.
    let on_create = move |ev: SubmitEvent| {
        if let Ok(input) = CreateApiToken::from_event(&ev) {
            ev.prevent_default();
            match input.form.validate() {
                Ok(_) => {
                    client_errors.set(Some(FieldErrors::default()));
                    create.dispatch(input);
                }
                Err(invalid) => client_errors.set(Some(invalid)),
            }
        }
    };
    view! {
        {move || created().map(|result| match result {
            Ok(token) => view! {
                <div class="notice notice-saved token-created" role="status">
                    <p>{format!(
                        "Token \u{201c}{}\u{201d} created ({}). Copy it now: it is not shown again.",
                        token.name,
                        source_limit(token.source.as_deref()),
                    )}</p>
                    <code class="token" id="new-token">{token.token}</code>
                </div>
            }.into_any(),
            Err(message) => view! { <div class="notice notice-failed" role="alert">{message}</div> }.into_any(),
        })}
        <form
            class="settings-form inline-form"
            method="post"
            action=CreateApiToken::url()
            novalidate
            on:submit=on_create
        >
            <fieldset>
                <TextField name="token-name" field="name" label="Name" help="What will use it, so you know which to revoke." errors placeholder="prowler-aws-prod" autocomplete="off"/>
                <TextField name="token-source" field="source" label="Source (optional)" help="The only source this token may send scans of; blank for any source." errors placeholder="prowler-aws-123456789012" autocomplete="off"/>
            </fieldset>
            <div class="actions"><button type="submit">"Create token"</button></div>
        </form>
        <div class="table-wrap">
            <table class="audit tokens">
                <thead>
                    <tr><th>"Name"</th><th>"Token"</th><th>"Source"</th><th>"Created (UTC)"</th><th>"Last used"</th><th>"State"</th><th></th></tr>
                </thead>
                <tbody>
                    {data.tokens.into_iter().map(|t| {
                        let live = t.revoked_at.is_none();
                        view! {
                            <tr>
                                <td>{t.name}</td>
                                <td><code>{format!("{}…", t.prefix)}</code></td>
                                <td>{source_limit(t.source.as_deref())}</td>
                                // Times may wrap between date and time: seven columns fit the page.
                                <td>{t.created_at}</td>
                                <td>{t.last_used_at.unwrap_or_else(|| "never".into())}</td>
                                <td>{t.revoked_at.map(|at| format!("revoked {at}")).unwrap_or_else(|| "active".into())}</td>
                                <td>
                                    {live.then(|| view! {
                                        <form method="post" action=RevokeApiToken::url() on:submit=move |ev| {
                                            ev.prevent_default();
                                            revoke.dispatch(RevokeApiToken { id: t.id });
                                        }>
                                            <input type="hidden" name="id" value=t.id.to_string()/>
                                            <button type="submit" class="link-button">"Revoke"</button>
                                        </form>
                                    })}
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

/// What a token may send, in words.
fn source_limit(source: Option<&str>) -> String {
    match source {
        Some(source) => format!("only {source}"),
        None => "any source".to_string(),
    }
}
