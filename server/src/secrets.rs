//! Secrets at rest. The client secret and the password are sealed with XChaCha20-Poly1305
//! (RustCrypto) under a key kept outside the database: a key file created with mode 0600
//! beside the database on first start, or ITSM_BRIDGE_SECRET_KEY. The field's name is bound
//! in as associated data, so a sealed password cannot be passed off as the client secret.

use anyhow::{Context, bail};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use secrecy::{ExposeSecret, SecretString};
use std::fmt;
use std::path::Path;

const KEY_LENGTH: usize = 32;
const NONCE_LENGTH: usize = 24;
/// The first byte of every sealed value: lets a later format or key rotation be told apart.
const FORMAT_VERSION: u8 = 1;

pub struct SecretCipher {
    cipher: XChaCha20Poly1305,
}

impl SecretCipher {
    /// The key from the environment when given, else from `key_file`, created if missing.
    pub fn load(environment_key: Option<&SecretString>, key_file: &Path) -> anyhow::Result<Self> {
        if let Some(key) = environment_key {
            return Self::from_base64(key.expose_secret())
                .context("ITSM_BRIDGE_SECRET_KEY is not a usable key");
        }
        if key_file.exists() {
            return Self::read_key_file(key_file);
        }
        Self::create_key_file(key_file)
    }

    /// A key given as base64 text of 32 bytes (`openssl rand -base64 32` makes one).
    pub fn from_base64(text: &str) -> anyhow::Result<Self> {
        let bytes = BASE64.decode(text.trim()).map_err(|_| {
            anyhow::anyhow!("the key must be base64 text (openssl rand -base64 32)")
        })?;
        if bytes.len() != KEY_LENGTH {
            bail!(
                "the key must be {KEY_LENGTH} bytes; this one has {}",
                bytes.len()
            );
        }
        let cipher = XChaCha20Poly1305::new_from_slice(&bytes)
            .map_err(|_| anyhow::anyhow!("the key has the wrong length"))?;
        Ok(Self { cipher })
    }

    fn read_key_file(path: &Path) -> anyhow::Result<Self> {
        warn_if_readable_by_others(path);
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("Failed to read the key file {}", path.display()))?;
        Self::from_base64(&text)
            .with_context(|| format!("The key file {} holds no usable key", path.display()))
    }

    fn create_key_file(path: &Path) -> anyhow::Result<Self> {
        let key = XChaCha20Poly1305::generate_key(&mut OsRng);
        crate::private_file::create(path, &BASE64.encode(key))
            .context("Failed to create the key file for secrets at rest")?;
        tracing::info!(path = %path.display(), "created the key file for secrets at rest; back it up with the database");
        Ok(Self {
            cipher: XChaCha20Poly1305::new(&key),
        })
    }

    /// Seals `secret` for the database column `field`.
    pub fn seal(&self, field: &str, secret: &SecretString) -> anyhow::Result<Vec<u8>> {
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let payload = Payload {
            msg: secret.expose_secret().as_bytes(),
            aad: field.as_bytes(),
        };
        let sealed = self
            .cipher
            .encrypt(&nonce, payload)
            .map_err(|_| anyhow::anyhow!("Failed to encrypt the {field}"))?;
        let mut out = Vec::with_capacity(1 + NONCE_LENGTH + sealed.len());
        out.push(FORMAT_VERSION);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    /// Opens a value sealed by [`seal`](Self::seal) for the same `field`.
    pub fn open(&self, field: &str, sealed: &[u8]) -> anyhow::Result<SecretString> {
        let Some((&FORMAT_VERSION, rest)) = sealed.split_first() else {
            bail!("The stored {field} is not in a known format");
        };
        if rest.len() < NONCE_LENGTH {
            bail!("The stored {field} is truncated");
        }
        let (nonce, ciphertext) = rest.split_at(NONCE_LENGTH);
        let payload = Payload {
            msg: ciphertext,
            aad: field.as_bytes(),
        };
        let plain = self
            .cipher
            .decrypt(XNonce::from_slice(nonce), payload)
            .map_err(|_| {
                anyhow::anyhow!(
                    "The stored {field} cannot be decrypted with this key: was the key file or \
                     ITSM_BRIDGE_SECRET_KEY changed? Enter the {field} again to store it anew."
                )
            })?;
        let text = String::from_utf8(plain)
            .map_err(|_| anyhow::anyhow!("The stored {field} is not valid text"))?;
        Ok(SecretString::from(text))
    }
}

impl fmt::Debug for SecretCipher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretCipher { key: [redacted] }")
    }
}

#[cfg(unix)]
fn warn_if_readable_by_others(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(meta) = std::fs::metadata(path) {
        let mode = meta.permissions().mode();
        if mode & 0o077 != 0 {
            tracing::warn!(path = %path.display(), mode = format!("{:o}", mode & 0o777), "the key file is readable by other users; chmod 600 it");
        }
    }
}

#[cfg(not(unix))]
fn warn_if_readable_by_others(_path: &Path) {}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(text: &str) -> SecretString {
        SecretString::from(text.to_string())
    }

    fn cipher() -> SecretCipher {
        SecretCipher::from_base64(&BASE64.encode([7u8; KEY_LENGTH])).unwrap()
    }

    #[test]
    fn sealed_text_opens_back_and_hides_the_plain_text() {
        let cipher = cipher();
        let sealed = cipher.seal("password", &secret("hunter2 hunter2")).unwrap();
        assert!(!sealed.windows(7).any(|w| w == b"hunter2"));
        assert_eq!(
            cipher.open("password", &sealed).unwrap().expose_secret(),
            "hunter2 hunter2"
        );
    }

    #[test]
    fn the_same_secret_seals_differently_each_time() {
        let cipher = cipher();
        let a = cipher.seal("password", &secret("same")).unwrap();
        let b = cipher.seal("password", &secret("same")).unwrap();
        assert_ne!(a, b);
    }

    #[test]
    fn a_value_sealed_for_one_field_does_not_open_as_another() {
        let cipher = cipher();
        let sealed = cipher.seal("password", &secret("x")).unwrap();
        assert!(cipher.open("client_secret", &sealed).is_err());
    }

    #[test]
    fn another_key_or_a_flipped_bit_is_refused_without_showing_the_secret() {
        let sealed = cipher().seal("password", &secret("top secret")).unwrap();
        let other = SecretCipher::from_base64(&BASE64.encode([8u8; KEY_LENGTH])).unwrap();
        let err = other.open("password", &sealed).unwrap_err().to_string();
        assert!(err.contains("cannot be decrypted") && !err.contains("top secret"));
        let mut flipped = sealed.clone();
        *flipped.last_mut().unwrap() ^= 1;
        assert!(cipher().open("password", &flipped).is_err());
        assert!(cipher().open("password", &[FORMAT_VERSION, 1, 2]).is_err());
        assert!(cipher().open("password", &[]).is_err());
    }

    #[test]
    fn keys_of_the_wrong_size_or_encoding_are_refused() {
        assert!(SecretCipher::from_base64(&BASE64.encode([1u8; 31])).is_err());
        assert!(SecretCipher::from_base64(&BASE64.encode([1u8; 33])).is_err());
        assert!(SecretCipher::from_base64("not base64 !").is_err());
    }

    #[test]
    fn a_key_file_is_created_once_with_mode_0600_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/itsm-bridge.key");
        let first = SecretCipher::load(None, &path).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        let sealed = first.seal("password", &secret("kept")).unwrap();
        let second = SecretCipher::load(None, &path).unwrap();
        assert_eq!(
            second.open("password", &sealed).unwrap().expose_secret(),
            "kept"
        );
    }

    #[test]
    fn an_environment_key_wins_over_the_key_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("itsm-bridge.key");
        let env_key = secret(&BASE64.encode([9u8; KEY_LENGTH]));
        let cipher = SecretCipher::load(Some(&env_key), &path).unwrap();
        assert!(
            !path.exists(),
            "a key file was written although the key came from the environment"
        );
        let sealed = cipher.seal("password", &secret("x")).unwrap();
        let same = SecretCipher::from_base64(env_key.expose_secret()).unwrap();
        assert!(same.open("password", &sealed).is_ok());
    }

    #[test]
    fn debug_output_hides_the_key() {
        assert_eq!(
            format!("{:?}", cipher()),
            "SecretCipher { key: [redacted] }"
        );
    }
}
