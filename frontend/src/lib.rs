//! The browser entry point: hydrates the server-rendered pages.

use wasm_bindgen::prelude::wasm_bindgen;

#[wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // Asynchronous hydration: in a split build a page is a lazy route (app/src/routes.rs),
    // whose wasm file is fetched before the page the server rendered can be hydrated.
    wasm_bindgen_futures::spawn_local(async {
        let Some(body) = leptos::prelude::document().body() else {
            return;
        };
        let owner = leptos::mount::hydrate_from_async(body.clone(), app::App).await;
        owner.forget();
        // End-to-end tests wait for this before they click: until now a button has no handler.
        let _ = body.set_attribute("data-hydrated", "true");
    });
}
