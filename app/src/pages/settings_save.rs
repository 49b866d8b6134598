//! What every settings page does around its form, written once so that a new settings page
//! is a few lines: the save action; the errors the browser finds before sending; the notice
//! after a submit; the submit itself (checked in the browser as the server will check it,
//! then sent); and when to load the stored values again.
//!
//! Without JavaScript the form posts to the same server function, which answers with a
//! redirect carrying `?flash=…`; that id is part of what the page's data is loaded with.

use super::widgets::current_notice;
use crate::forms::{FieldErrors, Notice, SaveOutcome};
use leptos::form::FromFormData;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos::web_sys::SubmitEvent;
use leptos_router::hooks::use_query_map;
use leptos_router::params::ParamsMap;

/// The save of a settings page whose server function is `S`.
pub struct SettingsSave<S>
where
    S: ServerFn + 'static,
{
    pub action: ServerAction<S>,
    /// Errors the browser found in the form; cleared by a submit that passes.
    client_errors: RwSignal<Option<FieldErrors>>,
    /// The version of the last save that succeeded.
    saved_version: RwSignal<usize>,
    query: Memo<ParamsMap>,
}

impl<S> Clone for SettingsSave<S>
where
    S: ServerFn + 'static,
{
    fn clone(&self) -> Self {
        *self
    }
}

impl<S> Copy for SettingsSave<S> where S: ServerFn + 'static {}

impl<S> SettingsSave<S>
where
    S: ServerFn<Output = SaveOutcome, Error = ServerFnError>
        + FromFormData
        + Clone
        + Send
        + Sync
        + 'static,
{
    pub fn new() -> Self {
        let action = ServerAction::<S>::new();
        let saved_version = RwSignal::new(0usize);
        Effect::new(move |_| {
            if let Some(Ok(SaveOutcome::Saved)) = action.value().get() {
                saved_version.set(action.version().get_untracked());
            }
        });
        SettingsSave {
            action,
            client_errors: RwSignal::new(None),
            saved_version,
            query: use_query_map(),
        }
    }

    /// What the page's data is loaded again on, besides what the page adds: a save that
    /// succeeded (only then: after a refusal the form keeps what the person typed), and
    /// the `flash` id of a save without JavaScript. Read it in the resource's source.
    pub fn reload_key(&self) -> (usize, Option<String>) {
        (self.saved_version.get(), self.query_value("flash"))
    }

    /// The address's query parameter `name`, tracked.
    pub fn query_value(&self, name: &str) -> Option<String> {
        self.query.with(|q| q.get(name))
    }

    /// The notice to show (see [`current_notice`]) and the errors to put next to the
    /// fields; `flashed` is the outcome a redirect carried.
    pub fn notice(&self, flashed: Option<Notice>) -> (Signal<Option<Notice>>, Signal<FieldErrors>) {
        let action = self.action;
        let notice = current_notice(self.client_errors, move || action.value().get(), flashed);
        let errors = Signal::derive(move || notice.get().map(|n| n.errors()).unwrap_or_default());
        (notice, errors)
    }

    /// The form's submit with JavaScript: `check` it as the server will; errors are shown
    /// at once and nothing is sent, else it is saved. A form the page cannot read is left to
    /// the browser, which posts it as without JavaScript, for the server to answer.
    pub fn on_submit(
        self,
        check: impl Fn(&S) -> Result<(), FieldErrors> + 'static,
    ) -> impl Fn(SubmitEvent) + 'static {
        self.on_submit_read(|ev| S::from_event(ev).ok(), check)
    }

    /// As [`Self::on_submit`], with the form read by `read` (`None`: it cannot be read)
    /// instead of Leptos's `from_event`, whose form parser (serde_qs's) is a large part of
    /// a page's wasm.
    pub fn on_submit_read(
        self,
        read: impl Fn(&SubmitEvent) -> Option<S> + 'static,
        check: impl Fn(&S) -> Result<(), FieldErrors> + 'static,
    ) -> impl Fn(SubmitEvent) + 'static {
        let (action, client_errors) = (self.action, self.client_errors);
        move |ev: SubmitEvent| {
            if let Some(input) = read(&ev) {
                ev.prevent_default();
                match check(&input) {
                    Ok(()) => {
                        client_errors.set(None);
                        action.dispatch(input);
                    }
                    Err(errors) => client_errors.set(Some(errors)),
                }
            }
        }
    }
}

/// The form's submit button: `label`, and `busy` while the save is under way (disabled).
#[component]
pub fn SaveButton(
    #[prop(into)] pending: Signal<bool>,
    label: &'static str,
    busy: &'static str,
) -> impl IntoView {
    view! {
        <button type="submit" disabled=move || pending.get()>
            {move || if pending.get() { busy } else { label }}
        </button>
    }
}
