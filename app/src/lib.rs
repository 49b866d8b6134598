//! The itsm-bridge web UI, shared by the browser (hydrate) and the server (ssr): the pages,
//! the types they show, field validation and the server functions.

pub mod api;
#[cfg(feature = "ssr")]
pub mod auth;
#[cfg(feature = "ssr")]
pub mod backend;
pub mod domain;
#[cfg(feature = "ssr")]
pub mod flash;
pub mod forms;
mod page_resource;
mod pages;
#[cfg(feature = "ssr")]
pub mod random;
mod routes;

use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::{HashedStylesheet, MetaTags, Title, provide_meta_context};
use leptos_router::{
    SsrMode,
    components::{A, Route, Router, Routes},
    path,
};
use page_resource::page_resource;
use pages::NotFound;

/// The HTML document around the app, rendered on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <link rel="icon" type="image/svg+xml" href="/favicon.svg"/>
                // The stylesheet under its hashed name when the site was built with hashes.
                <HashedStylesheet options=options.clone() id="leptos"/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The bar on every page: the navigation and the signed-in admin, once there is one.
#[component]
fn TopBar() -> impl IntoView {
    let admin = page_resource(|| (), |_| api::current_admin());
    view! {
        <header class="topbar">
            <a class="brand" href="/">"itsm-bridge"</a>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    admin.await.ok().flatten().map(|name| view! {
                        <nav aria-label="Main">
                            <A href="/" exact=true>"Overview"</A>
                            <A href="/settings/connection">"ITSM integrations"</A>
                            <A href="/settings/itsm">"ITSM settings"</A>
                            <A href="/scans">"Scans"</A>
                            <A href="/runs">"Runs"</A>
                            <A href="/tickets">"Tickets"</A>
                            <A href="/exceptions">"Exceptions"</A>
                            <A href="/settings/tokens">"API tokens"</A>
                            <A href="/audit">"Audit log"</A>
                        </nav>
                        <form class="signout" method="post" action=api::Logout::url()>
                            <span class="who">{name}</span>
                            <button type="submit">"Sign out"</button>
                        </form>
                    })
                })}
            </Transition>
        </header>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Title text="itsm-bridge"/>
        <Router>
            <TopBar/>
            <main class="page">
                // Async: a browser without JavaScript gets the whole page, not a fallback.
                <Routes fallback=NotFound>
                    <Route path=path!("/settings/connection") view=routes::connection() ssr=SsrMode::Async/>
                    <Route path=path!("/settings/itsm") view=routes::itsm() ssr=SsrMode::Async/>
                    <Route path=path!("/settings/tokens") view=routes::tokens() ssr=SsrMode::Async/>
                    <Route path=path!("/scans") view=routes::scans() ssr=SsrMode::Async/>
                    <Route path=path!("/scans/:id") view=routes::scan() ssr=SsrMode::Async/>
                    <Route path=path!("/") view=routes::overview() ssr=SsrMode::Async/>
                    <Route path=path!("/runs") view=routes::runs() ssr=SsrMode::Async/>
                    <Route path=path!("/runs/:id") view=routes::run() ssr=SsrMode::Async/>
                    <Route path=path!("/tickets") view=routes::tickets() ssr=SsrMode::Async/>
                    <Route path=path!("/audit") view=routes::audit() ssr=SsrMode::Async/>
                    <Route path=path!("/exceptions") view=routes::exceptions() ssr=SsrMode::Async/>
                    <Route path=path!("/login") view=routes::login() ssr=SsrMode::Async/>
                    <Route path=path!("/setup") view=routes::setup() ssr=SsrMode::Async/>
                </Routes>
            </main>
        </Router>
    }
}
