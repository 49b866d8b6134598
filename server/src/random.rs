//! Random tokens and ids: session ids, API and setup tokens, the CSP nonce (URL-safe
//! base64), short ids (hexadecimal), the keys, nonces and salts of secrets and passwords
//! (bytes); and SHA-256. The random bytes themselves come from [`app::random`], the one
//! place itsm-bridge's own code reads the operating system's generator.

pub use app::random::{bytes, chosen_from, hex};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// `bytes` random bytes as URL-safe base64 without padding (fit for a cookie, a header or
/// a URL as they are).
pub fn url_safe(bytes: usize) -> String {
    let mut buffer = vec![0u8; bytes];
    app::random::fill(&mut buffer);
    URL_SAFE_NO_PAD.encode(buffer)
}

/// The SHA-256 of `data`: how tokens and session ids are stored, and how long keys are
/// shortened.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    Sha256::digest(data).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_safe_tokens_and_sha256() {
        let token = url_safe(32);
        assert_eq!(token.len(), 43);
        assert!(
            token
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        );
        assert_ne!(token, url_safe(32));
        assert_eq!(
            hex_of(&sha256(b"abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    fn hex_of(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }
}
