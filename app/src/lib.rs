//! The itsm-bridge web UI, shared by the browser (hydrate) and the server (ssr): the pages,
//! the types they show, field validation and the server functions.

pub mod api;
#[cfg(feature = "ssr")]
pub mod backend;
pub mod domain;
#[cfg(feature = "ssr")]
pub mod flash;
pub mod forms;
mod pages;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::{
    SsrMode,
    components::{A, Route, Router, Routes},
    path,
};
use pages::{ConnectionPage, ItsmPage, NotFound};

/// The HTML document around the app, rendered on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <link rel="icon" type="image/svg+xml" href="/favicon.svg"/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Stylesheet id="leptos" href="/pkg/itsm-bridge.css"/>
        <Title text="itsm-bridge"/>
        <Router>
            <header class="topbar">
                <a class="brand" href="/settings/connection">"itsm-bridge"</a>
                <nav aria-label="Settings">
                    <A href="/settings/connection">"ITSM integrations"</A>
                    <A href="/settings/itsm">"ITSM settings"</A>
                </nav>
            </header>
            <main class="page">
                // Async: a browser without JavaScript gets the whole page, not a fallback.
                <Routes fallback=NotFound>
                    <Route path=path!("/settings/connection") view=ConnectionPage ssr=SsrMode::Async/>
                    <Route path=path!("/settings/itsm") view=ItsmPage ssr=SsrMode::Async/>
                </Routes>
            </main>
        </Router>
    }
}
