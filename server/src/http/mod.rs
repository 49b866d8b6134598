//! The HTTP layer around the Leptos app: the refusal of cross-site state changes and the
//! health endpoints.

pub mod cross_site;
pub mod health;
