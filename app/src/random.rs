//! Random bytes from the operating system's generator: the one place itsm-bridge's own
//! code draws them (the ServiceNow simulator, a separate crate, uses `rand`'s own). The server's tokens, session ids, nonces, keys and salts come from here through
//! `server::random` (which adds the URL-safe encoding and SHA-256); it lives in `app`
//! because the server depends on `app`, and the flash ids are made in `app`.

use rand::rngs::OsRng;
use rand::{Rng, RngCore};

/// `N` random bytes: a key, a nonce, a salt.
pub fn bytes<const N: usize>() -> [u8; N] {
    let mut buffer = [0u8; N];
    fill(&mut buffer);
    buffer
}

/// Fills `buffer` with random bytes.
pub fn fill(buffer: &mut [u8]) {
    OsRng.fill_bytes(buffer);
}

/// `bytes` random bytes as lowercase hexadecimal: short ids.
pub fn hex(bytes: usize) -> String {
    let mut buffer = vec![0u8; bytes];
    fill(&mut buffer);
    buffer.iter().map(|b| format!("{b:02x}")).collect()
}

/// `count` characters drawn evenly from `alphabet` (ASCII): a password to show once.
pub fn chosen_from(alphabet: &[u8], count: usize) -> String {
    (0..count)
        .map(|_| char::from(alphabet[OsRng.gen_range(0..alphabet.len())]))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_alphabets_and_no_repeats() {
        let id = hex(8);
        assert_eq!(id.len(), 16);
        assert!(
            id.chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
        assert_ne!(id, hex(8));
        assert_ne!(bytes::<16>(), bytes::<16>());
        let password = chosen_from(b"ab", 64);
        assert_eq!(password.len(), 64);
        assert!(password.contains('a') && password.contains('b'));
        assert!(password.chars().all(|c| c == 'a' || c == 'b'));
    }
}
