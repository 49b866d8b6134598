//! The pages' resources, whose data the server sends inside the page as JSON for the
//! browser to pick up when it hydrates.
//!
//! Why not `Resource::new`: its codec decodes that JSON with `serde_json::from_str`, while a
//! server function decodes its answer, the same type, with `serde_json::from_slice`. Each
//! reader is a type of its own, so the browser's wasm held every answer type's decoder
//! twice. Reading the page's JSON as bytes too leaves one decoder per type, and a smaller
//! wasm for each page (README, "Site size").

use leptos::prelude::*;
use leptos::server::codee::{Decoder, Encoder};
use serde::{Serialize, de::DeserializeOwned};

/// JSON written as text and read as bytes, as server functions read their answers.
pub struct JsonReadAsBytes;

impl<T: Serialize> Encoder<T> for JsonReadAsBytes {
    type Error = serde_json::Error;
    type Encoded = String;

    fn encode(value: &T) -> Result<String, serde_json::Error> {
        serde_json::to_string(value)
    }
}

impl<T: DeserializeOwned> Decoder<T> for JsonReadAsBytes {
    type Error = serde_json::Error;
    type Encoded = str;

    fn decode(json: &str) -> Result<T, serde_json::Error> {
        serde_json::from_slice(json.as_bytes())
    }
}

/// A resource (like `Resource::new`) whose data reaches the browser in [`JsonReadAsBytes`].
#[track_caller]
pub fn page_resource<T, S, Fut>(
    source: impl Fn() -> S + Send + Sync + 'static,
    fetcher: impl Fn(S) -> Fut + Send + Sync + 'static,
) -> Resource<T, JsonReadAsBytes>
where
    T: Serialize + DeserializeOwned + Send + Sync + 'static,
    S: PartialEq + Clone + Send + Sync + 'static,
    Fut: Future<Output = T> + Send + 'static,
{
    Resource::new_with_options(source, fetcher, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_the_server_writes_the_browser_reads_back() {
        let answer: Result<Vec<(String, usize)>, String> =
            Ok(vec![("open \"r-1\" é".to_string(), 2)]);
        let json = <JsonReadAsBytes as Encoder<_>>::encode(&answer).expect("encodes");
        let read: Result<Vec<(String, usize)>, String> =
            <JsonReadAsBytes as Decoder<_>>::decode(&json).expect("decodes");
        assert_eq!(read, answer);
    }

    #[test]
    fn json_that_is_not_the_type_is_an_error() {
        let read: Result<Vec<u8>, _> = <JsonReadAsBytes as Decoder<_>>::decode("{\"a\": 1}");
        assert!(read.is_err());
    }
}
