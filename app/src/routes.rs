//! The pages as routes' views. In a release site (scripts/build-release builds the wasm
//! with `--split` and the `split` feature) each page is a lazy route: its code is a wasm
//! file of its own, fetched when the page is first shown (the server names the page's
//! files in `<link rel="modulepreload">`), so the first load of a page brings the shared
//! code and that page's only.
//!
//! A lazy route links to wasm imports that only `cargo leptos build --split` provides: a
//! wasm built without it cannot even start. So without the `split` feature (`cargo leptos
//! build`, as for development) the browser's pages are ordinary routes. The server renders
//! a lazy route and an ordinary one alike (both end as the same view), so either wasm
//! hydrates what it sends; a browser without JavaScript gets every page whole.

use crate::pages::{
    AuditPage, ConnectionPage, ExceptionsPage, ItsmPage, LoginPage, OverviewPage, RunPage,
    RunsPage, ScanPage, ScansPage, SetupPage, TicketsPage, TokensPage,
};
use leptos_router::ChooseView;

/// `$view()`: the route view of `$page`, lazy (`$route`, its code split off).
#[cfg(any(not(feature = "hydrate"), feature = "split"))]
macro_rules! page {
    ($view:ident, $route:ident, $page:ident) => {
        #[doc = concat!("The view of [`", stringify!($page), "`]'s route: a lazy one.")]
        pub fn $view() -> impl ChooseView {
            leptos_router::Lazy::<$route>::new()
        }

        #[doc = concat!("[`", stringify!($page), "`] as a lazy route.")]
        pub struct $route;

        #[leptos_router::lazy_route]
        impl leptos_router::LazyRoute for $route {
            fn data() -> Self {
                $route
            }

            fn view(_this: Self) -> leptos::prelude::AnyView {
                use leptos::prelude::IntoAny;
                leptos::view! { <$page/> }.into_any()
            }
        }
    };
}

/// `$view()`: the route view of `$page`, an ordinary one (a wasm built without `--split`).
#[cfg(all(feature = "hydrate", not(feature = "split")))]
macro_rules! page {
    ($view:ident, $route:ident, $page:ident) => {
        #[doc = concat!("The view of [`", stringify!($page), "`]'s route.")]
        pub fn $view() -> impl ChooseView {
            $page
        }
    };
}

page!(connection, ConnectionRoute, ConnectionPage);
page!(itsm, ItsmRoute, ItsmPage);
page!(tokens, TokensRoute, TokensPage);
page!(scans, ScansRoute, ScansPage);
page!(scan, ScanRoute, ScanPage);
page!(overview, OverviewRoute, OverviewPage);
page!(runs, RunsRoute, RunsPage);
page!(run, RunRoute, RunPage);
page!(tickets, TicketsRoute, TicketsPage);
page!(audit, AuditRoute, AuditPage);
page!(exceptions, ExceptionsRoute, ExceptionsPage);
page!(login, LoginRoute, LoginPage);
page!(setup, SetupRoute, SetupPage);
