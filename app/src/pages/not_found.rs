//! The page for an unknown address.

use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn NotFound() -> impl IntoView {
    answer_not_found();
    view! {
        <Title text="Not found · itsm-bridge"/>
        <h1>"Page not found"</h1>
        <p>"There is no page at this address. Use the navigation above."</p>
    }
}

/// Makes the page being rendered answer 404, for the browser and for a link checker: an
/// unknown address, or a known one naming something that does not exist (`/scans/9999`).
pub fn answer_not_found() {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
}
