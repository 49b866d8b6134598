//! The ITSM settings page (docs/SETTINGS.md, "The ITSM settings page"): the grouping, the
//! schedule, auto-resolve, the filters (which sources and severities become tickets), and
//! the preview of what the next run would do with the values in the form, saved or not.

use super::preview::PlanPreview;
use super::settings_save::{SaveButton, SettingsSave};
use super::widgets::{Field, NoticeBanner, TextField, load_failed};
use crate::api::{ItsmPageData, PreviewItsmSettings, SaveItsmSettings, load_itsm_settings};
use crate::domain::{Grouping, MinSeverity};
use crate::forms::{FieldErrors, ItsmForm, ItsmSettings, Notice};
use crate::page_resource::page_resource;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use std::time::Duration;

/// How long the form must be still before its values are previewed.
const WHAT_IF_AFTER: Duration = Duration::from_millis(400);

#[component]
pub fn ItsmPage() -> impl IntoView {
    let save = SettingsSave::<SaveItsmSettings>::new();
    let data = page_resource(
        move || (save.reload_key(), save.query_value("preview")),
        |((_, flash), preview)| load_itsm_settings(flash, preview),
    );

    view! {
        <Title text="ITSM settings · itsm-bridge"/>
        <h1>"ITSM settings"</h1>
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            <ErrorBoundary fallback=load_failed>
                {move || Suspend::new(async move {
                    data.await.map(|data| view! { <ItsmSettingsForm data save/> })
                })}
            </ErrorBoundary>
        </Transition>
    }
}

#[component]
fn ItsmSettingsForm(data: ItsmPageData, save: SettingsSave<SaveItsmSettings>) -> impl IntoView {
    let ItsmPageData {
        settings,
        flash,
        sources_seen,
        what_if: posted_what_if,
    } = data;
    let values = match (&flash, &posted_what_if) {
        (Some(flash), _) if !matches!(flash.notice, Notice::Saved) => flash.form.clone(),
        (_, Some(what_if)) => what_if.clone(),
        _ => ItsmForm::from(settings),
    };
    // The values the preview shows when they are not the saved ones: those posted by the
    // Preview button without JavaScript, then those of the form as it changes.
    let what_if = RwSignal::new(posted_what_if);
    let form_ref = NodeRef::<leptos::html::Form>::new();
    // `try_`: a change may come as the form goes (a save reloads the page's data).
    let read_form = move || read_itsm_form(&form_ref.try_get_untracked().flatten()?);
    // The what-if follows the form once it has been still for a moment, so that typing
    // or clicking through the choices asks for one preview, not one per keystroke.
    // A wait still going when the form goes is cleared with it.
    let waiting = StoredValue::new(None::<TimeoutHandle>);
    let stop_waiting = move || {
        if let Some(Some(handle)) = waiting.try_get_value() {
            handle.clear();
        }
    };
    on_cleanup(stop_waiting);
    let on_change = move |_: leptos::ev::Event| {
        stop_waiting();
        let preview_form = move || {
            if let Some(form) = read_form() {
                what_if.try_set(Some(form));
            }
        };
        waiting.try_set_value(set_timeout_with_handle(preview_form, WHAT_IF_AFTER).ok());
    };
    let on_preview = move |ev: leptos::ev::MouseEvent| {
        ev.prevent_default();
        stop_waiting();
        if let Some(form) = read_form() {
            what_if.set(Some(form));
        }
    };
    let (notice, errors) = save.notice(flash.map(|f| f.notice));
    let on_submit = save.on_submit_read(
        move |_| read_form().map(|form| SaveItsmSettings { form }),
        |input| input.form.validate().map(|_| ()),
    );
    let grouping = values.grouping.clone();
    let filter_values = values.clone();
    let grouping_error = move || errors.with(|e| e.get("grouping").map(str::to_string));

    view! {
        <NoticeBanner notice/>
        <form
            class="settings-form"
            method="post"
            action=SaveItsmSettings::url()
            novalidate
            on:submit=on_submit
            on:change=on_change
            on:input=on_change
            node_ref=form_ref
        >
            <fieldset class="choices" class:invalid=move || grouping_error().is_some()>
                <legend>"Ticket grouping"</legend>
                <p class="help">
                    "Open tickets in ServiceNow per resource or per control. Say a password \
                     check fails on two resources: By resources opens two tickets, one per \
                     resource; By controls opens one ticket for the control, listing both \
                     resources. A change applies from the next engine run."
                </p>
                {Grouping::ALL
                    .into_iter()
                    .map(|g| {
                        let id = format!("grouping-{}", g.value());
                        let label_for = id.clone();
                        view! {
                            <label class="choice" for=label_for>
                                <input
                                    id=id
                                    type="radio"
                                    name="form[grouping]"
                                    value=g.value()
                                    checked=grouping == g.value()
                                />
                                <span class="choice-label">{g.label()}</span>
                                <span class="choice-help">{g.help()}</span>
                            </label>
                        }
                    })
                    .collect_view()}
                {move || {
                    grouping_error()
                        .map(|message| {
                            view! {
                                <p class="field-error" id="grouping-error" data-error-for="grouping">
                                    {message}
                                </p>
                            }
                        })
                }}
            </fieldset>
            <fieldset>
                <legend>"Engine"</legend>
                <TextField
                    name="scheduler_interval_minutes"
                    label="Run the ticket engine every (minutes)"
                    help=format!(
                        "How often the scheduler runs the ticket engine: {} to {} minutes. Default 60.",
                        ItsmSettings::MIN_INTERVAL,
                        ItsmSettings::MAX_INTERVAL,
                    )
                    errors
                    kind="number"
                    inputmode="numeric"
                    min=ItsmSettings::MIN_INTERVAL.to_string()
                    max=ItsmSettings::MAX_INTERVAL.to_string()
                    step="1"
                    value=values.scheduler_interval_minutes.clone()
                />
                <Field
                    name="auto_resolve"
                    label="Auto-resolve"
                    help="When every finding of a ticket's group passes again, resolve its ticket with a note naming the scan. Off by default."
                    errors
                >
                    <label class="checkbox" for="auto_resolve">
                        <input
                            id="auto_resolve"
                            name="form[auto_resolve]"
                            type="checkbox"
                            value="true"
                            checked=values.auto_resolve.is_some()
                        />
                        " Resolve tickets whose findings all pass again"
                    </label>
                </Field>
            </fieldset>
            <Filters values=filter_values sources_seen errors/>
            <div class="actions">
                <SaveButton pending=save.action.pending() label="Update" busy="Updating…"/>
                <button
                    type="submit"
                    class="secondary"
                    formaction=PreviewItsmSettings::url()
                    on:click=on_preview
                >
                    "Preview"
                </button>
            </div>
        </form>
        <PlanPreview what_if/>
    }
}

/// The form's values as the browser would post them, read with [`ItsmForm::from_fields`]
/// (not Leptos's `from_form_data`, whose parser would be a tenth of this page's wasm).
fn read_itsm_form(form: &leptos::web_sys::HtmlFormElement) -> Option<ItsmForm> {
    use leptos::wasm_bindgen::JsCast;
    use leptos::web_sys::js_sys::Array;
    let data = leptos::web_sys::FormData::new_with_form(form).ok()?;
    let mut fields = Vec::new();
    for entry in data.entries() {
        let entry = entry.ok()?.dyn_into::<Array>().ok()?;
        // A file input's value is a File, not text: this form has none.
        if let (Some(name), Some(value)) = (entry.get(0).as_string(), entry.get(1).as_string()) {
            fields.push((name, value));
        }
    }
    ItsmForm::from_fields(fields.iter().map(|(n, v)| (n.as_str(), v.as_str())))
}

/// Which findings become tickets: all sources or those ticked, and the lowest severity.
#[component]
fn Filters(
    values: ItsmForm,
    sources_seen: Vec<String>,
    errors: Signal<FieldErrors>,
) -> impl IntoView {
    let chosen: Vec<String> = values.sources.values().cloned().collect();
    let mut choices = sources_seen;
    choices.extend(chosen.iter().cloned());
    choices.sort();
    choices.dedup();
    let only = values.sources_mode == "chosen";
    let sources_error = move || errors.with(|e| e.get("sources").map(str::to_string));
    let boxes = if choices.is_empty() {
        view! {
            <p class="help">"No scan received yet: the sources appear here once scans come in."</p>
        }
        .into_any()
    } else {
        choices
            .into_iter()
            .enumerate()
            .map(|(i, source)| {
                let id = format!("source-{i}");
                let label_for = id.clone();
                let checked = chosen.contains(&source);
                view! {
                    <label class="checkbox" for=label_for>
                        <input
                            id=id
                            type="checkbox"
                            name=format!("form[sources][{i}]")
                            value=source.clone()
                            checked=checked
                        />
                        " "
                        {source}
                    </label>
                }
            })
            .collect_view()
            .into_any()
    };
    let severity = values.min_severity.clone();
    view! {
        <fieldset class="choices filters" class:invalid=move || sources_error().is_some()>
            <legend>"Which findings become tickets"</legend>
            <p class="help">
                "Findings left out count as absent: they open and note nothing, and never \
                 resolve a ticket (they still fail). The preview below shows their effect."
            </p>
            <label class="choice" for="sources-all">
                <input id="sources-all" type="radio" name="form[sources_mode]" value="all" checked=!only/>
                <span class="choice-label">"All sources"</span>
            </label>
            <label class="choice" for="sources-chosen">
                <input id="sources-chosen" type="radio" name="form[sources_mode]" value="chosen" checked=only/>
                <span class="choice-label">"Only the sources ticked"</span>
            </label>
            <div class="source-choices">{boxes}</div>
            {move || {
                sources_error()
                    .map(|message| {
                        view! {
                            <p class="field-error" id="sources-error" data-error-for="sources">{message}</p>
                        }
                    })
            }}
            <Field
                name="min_severity"
                label="Lowest severity"
                help="Findings below it open no ticket. A finding of unknown severity always does. Default: every severity."
                errors
            >
                <select id="min_severity" name="form[min_severity]">
                    <option value="" selected=severity.is_empty()>"Every severity"</option>
                    {MinSeverity::ALL
                        .into_iter()
                        .map(|s| {
                            view! {
                                <option value=s.value() selected=severity == s.value()>{s.label()}</option>
                            }
                        })
                        .collect_view()}
                </select>
            </Field>
        </fieldset>
    }
}
