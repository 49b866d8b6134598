//! The browser entry point: hydrates the server-rendered pages.

use wasm_bindgen::prelude::wasm_bindgen;

#[wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // Asynchronous hydration: a page is a lazy route, whose code (its own wasm file in a
    // split release build) is fetched before the page it rendered can be hydrated.
    wasm_bindgen_futures::spawn_local(async {
        let body = leptos::prelude::document().body();
        if let Some(body) = body {
            let owner = leptos::mount::hydrate_from_async(body.clone(), app::App).await;
            owner.forget();
            // End-to-end tests wait for this before they click: until now a button has no handler.
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });
}
