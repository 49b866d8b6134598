//! The ITSM settings page, "Settings > Settings" (PRODUCT.md §1.2).

use super::widgets::{Field, NoticeBanner, current_notice, load_failed};
use crate::api::{ItsmPageData, SaveItsmSettings, load_itsm_settings};
use crate::domain::Grouping;
use crate::forms::{FieldErrors, ItsmForm, ItsmSettings, Notice, SaveOutcome};
use leptos::form::FromFormData;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos::web_sys::SubmitEvent;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[component]
pub fn ItsmPage() -> impl IntoView {
    let save = ServerAction::<SaveItsmSettings>::new();
    let query = use_query_map();
    let saved_version = RwSignal::new(0usize);
    Effect::new(move |_| {
        if let Some(Ok(SaveOutcome::Saved)) = save.value().get() {
            saved_version.set(save.version().get_untracked());
        }
    });
    let data = Resource::new(
        move || (saved_version.get(), query.with(|q| q.get("flash"))),
        |(_, flash)| load_itsm_settings(flash),
    );
    let client_errors = RwSignal::new(None::<FieldErrors>);

    view! {
        <Title text="ITSM settings · itsm-bridge"/>
        <h1>"ITSM settings"</h1>
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            <ErrorBoundary fallback=load_failed>
                {move || Suspend::new(async move {
                    data.await.map(|data| view! { <ItsmSettingsForm data save client_errors/> })
                })}
            </ErrorBoundary>
        </Transition>
    }
}

#[component]
fn ItsmSettingsForm(
    data: ItsmPageData,
    save: ServerAction<SaveItsmSettings>,
    client_errors: RwSignal<Option<FieldErrors>>,
) -> impl IntoView {
    let ItsmPageData { settings, flash } = data;
    let values = match &flash {
        Some(flash) if !matches!(flash.notice, Notice::Saved) => flash.form.clone(),
        _ => ItsmForm::from(settings),
    };
    let notice = current_notice(
        client_errors,
        move || save.value().get(),
        flash.map(|f| f.notice),
    );
    let errors = Signal::derive(move || notice.get().map(|n| n.errors()).unwrap_or_default());

    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        match SaveItsmSettings::from_event(&ev) {
            Ok(input) => match input.form.validate() {
                Ok(_) => {
                    client_errors.set(None);
                    save.dispatch(input);
                }
                Err(errors) => client_errors.set(Some(errors)),
            },
            Err(error) => leptos::logging::error!("could not read the form: {error}"),
        }
    };
    let grouping = values.grouping.clone();
    let grouping_error = move || errors.with(|e| e.get("grouping").map(str::to_string));

    view! {
        <NoticeBanner notice/>
        <form
            class="settings-form"
            method="post"
            action=SaveItsmSettings::url()
            novalidate
            on:submit=on_submit
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
                <Field
                    name="scheduler_interval_minutes"
                    label="Run the ticket engine every (minutes)"
                    help=format!(
                        "How often the scheduler runs the ticket engine: {} to {} minutes. Default 60.",
                        ItsmSettings::MIN_INTERVAL,
                        ItsmSettings::MAX_INTERVAL,
                    )
                    errors
                >
                    <input
                        id="scheduler_interval_minutes"
                        name="form[scheduler_interval_minutes]"
                        type="number"
                        inputmode="numeric"
                        min=ItsmSettings::MIN_INTERVAL.to_string()
                        max=ItsmSettings::MAX_INTERVAL.to_string()
                        step="1"
                        value=values.scheduler_interval_minutes.clone()
                    />
                </Field>
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
            <div class="actions">
                <button type="submit" disabled=move || save.pending().get()>
                    {move || if save.pending().get() { "Updating…" } else { "Update" }}
                </button>
            </div>
        </form>
    }
}
