//! Secrets at rest. The client secret and the password are sealed with XChaCha20-Poly1305
//! (RustCrypto) under a key kept outside the database: a key file created with mode 0600
//! beside the database on first start, or ITSM_BRIDGE_SECRET_KEY. The field's name and the
//! instance URL are bound in as associated data: a sealed password cannot be passed off as
//! the client secret, nor a secret entered for one instance be opened to go to another.

use anyhow::{Context, bail};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use secrecy::{ExposeSecret, SecretString};
use std::fmt;
use std::path::Path;

const KEY_LENGTH: usize = 32;
const NONCE_LENGTH: usize = 24;
/// The first byte of every sealed value: lets a later format or key rotation be told apart.
/// 2: the field's name and the instance URL are the associated data.
const FORMAT_VERSION: u8 = 2;
/// The format of the releases before the URL was bound in: the field's name alone. Opened
/// only to seal anew at start ([`SecretCipher::open_unbound`]).
const UNBOUND_FORMAT: u8 = 1;

pub struct SecretCipher {
    cipher: XChaCha20Poly1305,
}

impl SecretCipher {
    /// The key from the environment when given, else from `key_file`, created if missing.
    /// A variable that is set but empty is refused: falling back to a key file would seal
    /// new secrets under another key and leave the stored ones unreadable without a word.
    pub fn load(environment_key: Option<&SecretString>, key_file: &Path) -> anyhow::Result<Self> {
        if let Some(key) = environment_key {
            if key.expose_secret().trim().is_empty() {
                bail!(
                    "ITSM_BRIDGE_SECRET_KEY is set but empty: set it to the key (base64 of 32 \
                     bytes, `openssl rand -base64 32`), or unset it to use the key file {}",
                    key_file.display()
                );
            }
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
        let key = Key::from(crate::random::bytes::<32>());
        crate::private_file::create(path, &BASE64.encode(key))
            .context("Failed to create the key file for secrets at rest")?;
        tracing::info!(path = %path.display(), "created the key file for secrets at rest; back it up with the database");
        Ok(Self {
            cipher: XChaCha20Poly1305::new(&key),
        })
    }

    /// Seals `secret` for the database column `field`, to be sent to `instance_url` only.
    pub fn seal(
        &self,
        field: &str,
        instance_url: &str,
        secret: &SecretString,
    ) -> anyhow::Result<Vec<u8>> {
        let nonce = XNonce::from(crate::random::bytes::<24>());
        let aad = associated_data(field, instance_url);
        let payload = Payload {
            msg: secret.expose_secret().as_bytes(),
            aad: &aad,
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

    /// Opens a value sealed by [`seal`](Self::seal) for the same `field` and `instance_url`.
    pub fn open(
        &self,
        field: &str,
        instance_url: &str,
        sealed: &[u8],
    ) -> anyhow::Result<SecretString> {
        let rest = match sealed.split_first() {
            Some((&FORMAT_VERSION, rest)) => rest,
            Some((&UNBOUND_FORMAT, _)) => bail!(
                "The stored {field} is not yet sealed to its ServiceNow URL (that is done at \
                 start); enter the {field} again to store it anew."
            ),
            _ => bail!("The stored {field} is not in a known format"),
        };
        self.decrypt(field, rest, &associated_data(field, instance_url), || {
            anyhow::anyhow!(
                "The stored {field} cannot be decrypted with this key for this ServiceNow URL: \
                 was the key file or ITSM_BRIDGE_SECRET_KEY changed? Enter the {field} again \
                 to store it anew."
            )
        })
    }

    /// Whether `sealed` is in the format of the releases before the URL was bound in.
    pub fn is_unbound(sealed: &[u8]) -> bool {
        sealed.first() == Some(&UNBOUND_FORMAT)
    }

    /// Opens a value sealed by an earlier release, bound to the field's name alone: only to
    /// seal it anew with its URL ([`seal`](Self::seal)) as the server starts.
    pub fn open_unbound(&self, field: &str, sealed: &[u8]) -> anyhow::Result<SecretString> {
        let Some((&UNBOUND_FORMAT, rest)) = sealed.split_first() else {
            bail!("The stored {field} is not in the earlier format");
        };
        self.decrypt(field, rest, field.as_bytes(), || {
            anyhow::anyhow!(
                "The stored {field} cannot be decrypted with this key: was the key file or \
                 ITSM_BRIDGE_SECRET_KEY changed? Enter the {field} again to store it anew."
            )
        })
    }

    /// Nonce and ciphertext to the secret; `refused` words a failed decryption.
    fn decrypt(
        &self,
        field: &str,
        rest: &[u8],
        aad: &[u8],
        refused: impl FnOnce() -> anyhow::Error,
    ) -> anyhow::Result<SecretString> {
        if rest.len() < NONCE_LENGTH {
            bail!("The stored {field} is truncated");
        }
        let (nonce, ciphertext) = rest.split_at(NONCE_LENGTH);
        let payload = Payload {
            msg: ciphertext,
            aad,
        };
        let plain = self
            .cipher
            .decrypt(XNonce::from_slice(nonce), payload)
            .map_err(|_| refused())?;
        let text = String::from_utf8(plain)
            .map_err(|_| anyhow::anyhow!("The stored {field} is not valid text"))?;
        Ok(SecretString::from(text))
    }
}

/// What a sealed value is bound to: its column and the instance it may be sent to. A URL
/// holds no line break (it is validated), so the two cannot run into each other.
fn associated_data(field: &str, instance_url: &str) -> Vec<u8> {
    format!("{field}\n{instance_url}").into_bytes()
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

    const URL: &str = "https://acme.service-now.com";

    fn secret(text: &str) -> SecretString {
        SecretString::from(text.to_string())
    }

    fn cipher() -> SecretCipher {
        SecretCipher::from_base64(&BASE64.encode([7u8; KEY_LENGTH])).unwrap()
    }

    #[test]
    fn sealed_text_opens_back_and_hides_the_plain_text() {
        let cipher = cipher();
        let sealed = cipher
            .seal("password", URL, &secret("hunter2 hunter2"))
            .unwrap();
        assert!(!sealed.windows(7).any(|w| w == b"hunter2"));
        assert_eq!(
            cipher
                .open("password", URL, &sealed)
                .unwrap()
                .expose_secret(),
            "hunter2 hunter2"
        );
    }

    #[test]
    fn the_same_secret_seals_differently_each_time() {
        let cipher = cipher();
        let a = cipher.seal("password", URL, &secret("same")).unwrap();
        let b = cipher.seal("password", URL, &secret("same")).unwrap();
        assert_ne!(a, b);
    }

    #[test]
    fn a_value_sealed_for_one_field_does_not_open_as_another() {
        let cipher = cipher();
        let sealed = cipher.seal("password", URL, &secret("x")).unwrap();
        assert!(cipher.open("client_secret", URL, &sealed).is_err());
    }

    #[test]
    fn a_value_sealed_for_one_instance_does_not_open_for_another() {
        let cipher = cipher();
        let sealed = cipher.seal("password", URL, &secret("x")).unwrap();
        let error = cipher
            .open("password", "https://elsewhere.example.com", &sealed)
            .unwrap_err()
            .to_string();
        assert!(error.contains("for this ServiceNow URL"), "{error}");
    }

    #[test]
    fn a_value_of_the_earlier_format_opens_only_to_be_sealed_anew() {
        let cipher = cipher();
        // The earlier format by hand: version 1, the nonce, the field's name as the only
        // associated data.
        let nonce = XNonce::from(crate::random::bytes::<24>());
        let payload = Payload {
            msg: b"old secret".as_slice(),
            aad: b"password".as_slice(),
        };
        let old = [
            &[UNBOUND_FORMAT][..],
            &nonce,
            &cipher.cipher.encrypt(&nonce, payload).unwrap(),
        ]
        .concat();
        assert!(SecretCipher::is_unbound(&old));
        assert!(cipher.open("password", URL, &old).is_err());
        let opened = cipher.open_unbound("password", &old).unwrap();
        assert_eq!(opened.expose_secret(), "old secret");
        assert!(cipher.open_unbound("client secret", &old).is_err());
        let sealed = cipher.seal("password", URL, &opened).unwrap();
        assert!(!SecretCipher::is_unbound(&sealed));
        assert!(cipher.open_unbound("password", &sealed).is_err());
    }

    #[test]
    fn another_key_or_a_flipped_bit_is_refused_without_showing_the_secret() {
        let sealed = cipher()
            .seal("password", URL, &secret("top secret"))
            .unwrap();
        let other = SecretCipher::from_base64(&BASE64.encode([8u8; KEY_LENGTH])).unwrap();
        let err = other
            .open("password", URL, &sealed)
            .unwrap_err()
            .to_string();
        assert!(err.contains("cannot be decrypted") && !err.contains("top secret"));
        let mut flipped = sealed.clone();
        *flipped.last_mut().unwrap() ^= 1;
        assert!(cipher().open("password", URL, &flipped).is_err());
        assert!(
            cipher()
                .open("password", URL, &[FORMAT_VERSION, 1, 2])
                .is_err()
        );
        assert!(cipher().open("password", URL, &[]).is_err());
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
        let sealed = first.seal("password", URL, &secret("kept")).unwrap();
        let second = SecretCipher::load(None, &path).unwrap();
        assert_eq!(
            second
                .open("password", URL, &sealed)
                .unwrap()
                .expose_secret(),
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
        let sealed = cipher.seal("password", URL, &secret("x")).unwrap();
        let same = SecretCipher::from_base64(env_key.expose_secret()).unwrap();
        assert!(same.open("password", URL, &sealed).is_ok());
    }

    #[test]
    fn an_empty_environment_key_is_refused_and_no_key_file_is_made() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("itsm-bridge.key");
        for empty in ["", "  \n"] {
            let error = SecretCipher::load(Some(&secret(empty)), &path)
                .unwrap_err()
                .to_string();
            assert!(
                error.contains("ITSM_BRIDGE_SECRET_KEY is set but empty"),
                "{error}"
            );
        }
        assert!(!path.exists(), "an empty key fell back to a new key file");
    }

    #[test]
    fn debug_output_hides_the_key() {
        assert_eq!(
            format!("{:?}", cipher()),
            "SecretCipher { key: [redacted] }"
        );
    }
}
