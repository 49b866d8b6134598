//! Pieces every settings form uses: a labelled field with its help and its error (and the
//! text field, the usual case of it), the notice shown after a submit, and the list of
//! errors an error boundary caught.

use crate::api::error_text;
use crate::forms::{FieldErrors, Notice, SaveOutcome};
use leptos::prelude::*;

/// A label, the input given as children, the help text and this field's error, if any.
#[component]
pub fn Field(
    /// The field's id (the input's `id`), also the key of its error.
    name: &'static str,
    label: &'static str,
    #[prop(into)] help: String,
    errors: Signal<FieldErrors>,
    children: Children,
) -> impl IntoView {
    let error = move || errors.with(|e| e.get(name).map(str::to_string));
    view! {
        <div class="field" class:invalid=move || error().is_some()>
            <label for=name>{label}</label>
            {children()}
            <p class="help" id=format!("{name}-help")>{help}</p>
            {move || {
                error()
                    .map(|message| {
                        view! {
                            <p class="field-error" id=format!("{name}-error") data-error-for=name>
                                {message}
                            </p>
                        }
                    })
            }}
        </div>
    }
}

/// A [`Field`] whose input is one line of text (or a URL, a password, a number, a date):
/// `<input id=name name="form[name]">` with the attributes given.
#[component]
pub fn TextField(
    /// The input's `id` and the key of its error; the form field is `form[name]` unless
    /// `field` says otherwise.
    name: &'static str,
    label: &'static str,
    #[prop(into)] help: String,
    errors: Signal<FieldErrors>,
    /// The form field's name inside `form[…]`, when it is not `name`.
    #[prop(optional)]
    field: Option<&'static str>,
    /// The input's `type`.
    #[prop(default = "text")]
    kind: &'static str,
    /// The value shown; none for a field that always starts empty.
    #[prop(optional, into)]
    value: Option<String>,
    #[prop(optional)] inputmode: Option<&'static str>,
    #[prop(optional)] autocomplete: Option<&'static str>,
    #[prop(optional)] spellcheck: Option<&'static str>,
    #[prop(optional)] placeholder: Option<&'static str>,
    #[prop(optional, into)] min: Option<String>,
    #[prop(optional, into)] max: Option<String>,
    #[prop(optional)] step: Option<&'static str>,
) -> impl IntoView {
    let form_name = format!("form[{}]", field.unwrap_or(name));
    view! {
        <Field name label help errors>
            <input
                id=name
                name=form_name
                type=kind
                inputmode=inputmode
                autocomplete=autocomplete
                spellcheck=spellcheck
                placeholder=placeholder
                min=min
                max=max
                step=step
                value=value
            />
        </Field>
    }
}

/// "Saved", "Nothing was saved" or "Could not save", after a submit.
#[component]
pub fn NoticeBanner(notice: Signal<Option<Notice>>) -> impl IntoView {
    move || {
        notice.get().map(|notice| match notice {
            Notice::Saved => view! {
                <div class="notice notice-saved" role="status">"Saved."</div>
            }
            .into_any(),
            Notice::Invalid(errors) => {
                let count = errors.len();
                let noun = if count == 1 {
                    "field needs"
                } else {
                    "fields need"
                };
                view! {
                    <div class="notice notice-invalid" role="alert">
                        {format!("Nothing was saved: {count} {noun} correcting (marked below).")}
                    </div>
                }
                .into_any()
            }
            Notice::Failed(message) => view! {
                <div class="notice notice-failed" role="alert">
                    {format!("Nothing was saved. {message}")}
                </div>
            }
            .into_any(),
            Notice::Done(message) => view! {
                <div class="notice notice-saved" role="status">{message}</div>
            }
            .into_any(),
        })
    }
}

/// What an `ErrorBoundary` shows when a page could not load its data.
pub fn load_failed(errors: ArcRwSignal<Errors>) -> impl IntoView {
    view! {
        <div class="notice notice-failed" role="alert">
            <p>"This page could not load its data."</p>
            <ul>
                {move || {
                    errors
                        .get()
                        .into_iter()
                        .map(|(_, error)| {
                            let text = error.to_string();
                            let text = text
                                .strip_prefix("error running server function: ")
                                .unwrap_or(&text)
                                .to_string();
                            view! { <li>{text}</li> }
                        })
                        .collect_view()
                }}
            </ul>
        </div>
    }
}

/// The notice to show: a refusal found in the browser first, then the answer to the last
/// submit, then the outcome a redirect carried to a page loaded without JavaScript.
pub fn current_notice(
    client_errors: RwSignal<Option<FieldErrors>>,
    answer: impl Fn() -> Option<Result<SaveOutcome, ServerFnError>> + Send + Sync + 'static,
    flashed: Option<Notice>,
) -> Signal<Option<Notice>> {
    Signal::derive(move || {
        if let Some(errors) = client_errors.get() {
            return Some(Notice::Invalid(errors));
        }
        match answer() {
            Some(result) => Some(Notice::from_result(&result.map_err(|e| error_text(&e)))),
            None => flashed.clone(),
        }
    })
}

/// The route's `:id` and the address's `?page=`, for a page of one thing listed in pages
/// (0 and 1 when absent or not numbers: no such thing, the first page).
pub fn id_and_page() -> impl Fn() -> (i64, u32) + Copy + Send + Sync + 'static {
    let params = leptos_router::hooks::use_params_map();
    let query = leptos_router::hooks::use_query_map();
    move || {
        let id = params
            .with(|p| p.get("id").and_then(|v| v.parse::<i64>().ok()))
            .unwrap_or(0);
        let page = query
            .with(|q| q.get("page").and_then(|v| v.parse::<u32>().ok()))
            .unwrap_or(1);
        (id, page)
    }
}
