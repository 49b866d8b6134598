//! `FieldErrors`: one message per invalid form field, keyed by the field's name.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldErrors(BTreeMap<String, String>);

impl FieldErrors {
    pub fn insert(&mut self, field: &str, message: impl Into<String>) {
        self.0.insert(field.to_string(), message.into());
    }

    pub fn get(&self, field: &str) -> Option<&str> {
        self.0.get(field).map(String::as_str)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn fields(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }

    /// Records the error of `result`, if any, under `field`, and passes the value on.
    pub fn check<T>(&mut self, field: &str, result: Result<T, String>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(message) => {
                self.insert(field, message);
                None
            }
        }
    }
}
