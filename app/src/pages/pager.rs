//! `Pager`: the links under a numbered list. They are plain links (`?page=N`), so paging
//! works with and without JavaScript.

use leptos::prelude::*;

/// Links to the page before and after this one, if there are such pages, and which page
/// this is ("Page 2 of 5", then `more`).
#[component]
pub fn Pager(
    /// The list's address, without `?page=`.
    #[prop(into)]
    path: String,
    /// This page, from 1.
    page: u32,
    pages: u32,
    /// Said after "Page 2 of 5", e.g. " (120 groups listed)".
    #[prop(optional, into)]
    more: String,
    /// The link to the page before: "Previous" unless the list says otherwise ("Newer").
    #[prop(default = "Previous")]
    previous: &'static str,
    #[prop(default = "Next")] next: &'static str,
) -> impl IntoView {
    let before = (page > 1).then(|| format!("{path}?page={}", page - 1));
    let after = (page < pages).then(|| format!("{path}?page={}", page + 1));
    view! {
        <nav class="pager" aria-label="Pages">
            {before.map(|href| view! { <a href=href rel="prev">{previous}</a> })}
            <span>{format!("Page {page} of {pages}{more}")}</span>
            {after.map(|href| view! { <a href=href rel="next">{next}</a> })}
        </nav>
    }
}
