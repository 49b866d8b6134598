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
#[cfg(feature = "ssr")]
pub mod site_assets;

use leptos::prelude::*;
use leptos::server::SharedValue;
use leptos::server_fn::ServerFn;
use leptos_meta::{Title, provide_meta_context};
use leptos_router::{
    SsrMode,
    components::{Route, Router, Routes},
    path,
};
use page_resource::JsonReadAsBytes;
use pages::NotFound;

/// The HTML document around the app, rendered on the server.
#[cfg(feature = "ssr")]
pub fn shell(_options: LeptosOptions) -> impl IntoView {
    use site_assets::{SiteAssetLinks, SiteAssets};
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <link rel="icon" type="image/svg+xml" href="/favicon.svg"/>
                // The server read the site's file names when it started (site_assets.rs).
                {use_context::<SiteAssets>().map(|assets| view! { <SiteAssetLinks assets/> })}
                <leptos_meta::MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The pages in the main navigation, in its order.
const NAVIGATION: [(&str, &str); 9] = [
    ("/", "Overview"),
    ("/settings/connection", "ITSM integrations"),
    ("/settings/itsm", "ITSM settings"),
    ("/scans", "Scans"),
    ("/runs", "Runs"),
    ("/tickets", "Tickets"),
    ("/exceptions", "Exceptions"),
    ("/settings/tokens", "API tokens"),
    ("/audit", "Audit log"),
];

/// The main navigation: plain links, which the router follows in the browser, the one of
/// the page shown marked `aria-current="page"`. Leptos's `<A>` does the same with a few
/// reactive nodes of its own per link, built anew for every page the server renders.
#[component]
fn MainNavigation() -> impl IntoView {
    let location = leptos_router::hooks::use_location();
    let links = NAVIGATION.map(|(href, label)| {
        let current = move || is_current(href, &location.pathname.read()).then_some("page");
        view! { <a href=href aria-current=current>{label}</a> }
    });
    view! { <nav aria-label="Main">{links}</nav> }
}

/// Whether the link to `href` is the current page's at `path`: the overview only at `/`,
/// any other for its own path and the paths under it (`/scans` for `/scans/1`).
fn is_current(href: &str, path: &str) -> bool {
    if href == "/" {
        return path == "/";
    }
    path.strip_prefix(href)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// The bar on every page: the navigation and the signed-in admin, if one is signed in.
/// The admin's name is known as the server renders the page (the access guard read the
/// session), and reaches the browser inside the page: no resource, nothing to wait for,
/// fewer reactive nodes on every page the server renders.
#[component]
fn TopBar() -> impl IntoView {
    let admin = SharedValue::<_, JsonReadAsBytes>::new_with_encoding(api::signed_in_name);
    view! {
        <header class="topbar">
            <a class="brand" href="/">"itsm-bridge"</a>
            {admin.into_inner().map(|name| view! {
                <MainNavigation/>
                <form class="signout" method="post" action=api::Logout::url()>
                    <span class="who">{name}</span>
                    <button type="submit">"Sign out"</button>
                </form>
            })}
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

#[cfg(test)]
mod tests {
    use super::is_current;

    #[test]
    fn the_current_page_s_link_is_the_one_marked() {
        assert!(is_current("/", "/"));
        assert!(!is_current("/", "/scans"));
        assert!(is_current("/scans", "/scans"));
        assert!(is_current("/scans", "/scans/12"));
        assert!(is_current("/scans", "/scans/"));
        assert!(!is_current("/scans", "/scansx"));
        assert!(!is_current("/settings/itsm", "/settings/connection"));
        assert!(!is_current("/runs", "/"));
    }
}
