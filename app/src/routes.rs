//! Each page as a lazy route: in a release site built with `--split` (scripts/build-release)
//! a page's code is a wasm file of its own, fetched when the page is first shown, so the
//! first load of any page brings only the shared code and that page's. Without splitting
//! (`cargo leptos build`) they are ordinary routes. A browser without JavaScript gets every
//! page whole from the server either way.

use crate::pages::{
    AuditPage, ConnectionPage, ExceptionsPage, ItsmPage, LoginPage, OverviewPage, RunPage,
    RunsPage, ScanPage, ScansPage, SetupPage, TicketsPage, TokensPage,
};
use leptos::prelude::*;
use leptos_router::{LazyRoute, lazy_route};

/// A route whose view, `$page`, is split off into its own wasm file.
macro_rules! lazy_page {
    ($route:ident, $page:ident) => {
        #[doc = concat!("The route of [`", stringify!($page), "`], loaded when first shown.")]
        pub struct $route;

        #[lazy_route]
        impl LazyRoute for $route {
            fn data() -> Self {
                $route
            }

            fn view(_this: Self) -> AnyView {
                view! { <$page/> }.into_any()
            }
        }
    };
}

lazy_page!(ConnectionRoute, ConnectionPage);
lazy_page!(ItsmRoute, ItsmPage);
lazy_page!(TokensRoute, TokensPage);
lazy_page!(ScansRoute, ScansPage);
lazy_page!(ScanRoute, ScanPage);
lazy_page!(OverviewRoute, OverviewPage);
lazy_page!(RunsRoute, RunsPage);
lazy_page!(RunRoute, RunPage);
lazy_page!(TicketsRoute, TicketsPage);
lazy_page!(AuditRoute, AuditPage);
lazy_page!(ExceptionsRoute, ExceptionsPage);
lazy_page!(LoginRoute, LoginPage);
lazy_page!(SetupRoute, SetupPage);
