//! Passwords (argon2id), API tokens (random, stored as SHA-256) and
//! sealed secrets (XChaCha20-Poly1305 with a random nonce per value).

use argon2::Argon2;
use argon2::password_hash::rand_core::{OsRng, RngCore};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use sha2::{Digest, Sha256};
use std::path::Path;

pub fn hash_password(password: &str) -> String {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 with default parameters hashes any password")
        .to_string()
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// Spends about as long as a real check, so a wrong username answers no
/// faster than a wrong password.
pub fn verify_nothing(password: &str) {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let hash = DUMMY.get_or_init(|| hash_password("not a password anyone has"));
    let _ = verify_password(password, hash);
}

pub const TOKEN_PREFIX: &str = "swt_";

/// A new API token: `swt_` and 256 random bits in hex.
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    format!("{TOKEN_PREFIX}{}", hex::encode(bytes))
}

/// A webhook's token or signing key: `whsec_` and 256 random bits in hex.
pub fn new_webhook_secret() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    format!("whsec_{}", hex::encode(bytes))
}

/// What is stored for a token (tokens are random, so a plain hash is enough).
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Seals and opens secret values with the instance key.
#[derive(Clone)]
pub struct Sealer {
    cipher: XChaCha20Poly1305,
    fingerprint: String,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer(..)")
    }
}

impl Sealer {
    pub fn new(key: [u8; 32]) -> Self {
        let mut h = Sha256::new();
        h.update(b"stepwise secret key fingerprint\0");
        h.update(key);
        Sealer {
            cipher: XChaCha20Poly1305::new(&key.into()),
            fingerprint: hex::encode(&h.finalize()[..8]),
        }
    }

    /// 16 hex digits that name the key without revealing it (a hash), so a
    /// backup can say which key it needs and a restore which one it got.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// The key from the environment or an existing `file`; unlike
    /// [`Sealer::load`] it never makes a new key up.
    pub fn load_existing(env_key: Option<&str>, file: &Path) -> Result<Self, String> {
        if env_key.is_none_or(|k| k.trim().is_empty()) && !file.exists() {
            return Err(format!(
                "there is no secret key file at {} (and STEPWISE_SECRET_KEY is not set): give the key the instance runs with (--secret-key-file or STEPWISE_SECRET_KEY)",
                file.display()
            ));
        }
        Sealer::load(env_key, file)
    }

    /// The key from `STEPWISE_SECRET_KEY` (64 hex digits) when given, else
    /// from `file`, which is created on first start, readable by the owner only.
    pub fn load(env_key: Option<&str>, file: &Path) -> Result<Self, String> {
        if let Some(k) = env_key.filter(|k| !k.trim().is_empty()) {
            return parse_key(k.trim()).map(Sealer::new);
        }
        match std::fs::read_to_string(file) {
            Ok(text) => parse_key(text.trim())
                .map(Sealer::new)
                .map_err(|e| format!("{}: {e}", file.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut key = [0u8; 32];
                OsRng.fill_bytes(&mut key);
                write_private(file, &hex::encode(key)).map_err(|e| {
                    format!("cannot create the secret key file {}: {e}", file.display())
                })?;
                Ok(Sealer::new(key))
            }
            Err(e) => Err(format!(
                "cannot read the secret key file {}: {e}",
                file.display()
            )),
        }
    }

    pub fn seal(&self, plain: &str) -> Vec<u8> {
        let mut nonce = [0u8; 24];
        OsRng.fill_bytes(&mut nonce);
        let mut out = nonce.to_vec();
        out.extend(
            self.cipher
                .encrypt(XNonce::from_slice(&nonce), plain.as_bytes())
                .expect("encryption of a string cannot fail"),
        );
        out
    }

    pub fn open(&self, sealed: &[u8]) -> Result<String, String> {
        if sealed.len() < 24 {
            return Err("the sealed value is too short".into());
        }
        let (nonce, body) = sealed.split_at(24);
        let plain = self
            .cipher
            .decrypt(XNonce::from_slice(nonce), body)
            .map_err(|_| {
                "the secret cannot be opened with this key (was the key file replaced?)".to_string()
            })?;
        String::from_utf8(plain).map_err(|e| e.to_string())
    }
}

fn parse_key(hex_key: &str) -> Result<[u8; 32], String> {
    let bytes = hex::decode(hex_key).map_err(|_| "the secret key is not hex".to_string())?;
    bytes
        .try_into()
        .map_err(|_| "the secret key must be 64 hex digits (32 bytes)".to_string())
}

fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut f = options.open(path)?;
    f.write_all(text.as_bytes())?;
    f.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_tokens_and_sealing() {
        let h = hash_password("correct horse battery");
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &h));
        assert!(!verify_password("wrong", &h));
        assert!(!verify_password("x", "not a hash"));

        let t = new_token();
        assert!(t.starts_with(TOKEN_PREFIX) && t.len() == 68);
        assert_ne!(t, new_token());
        assert_eq!(token_hash(&t).len(), 64);

        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("keys/secret.key");
        let a = Sealer::load(None, &file).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&file).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "only the owner may read the key");
        }
        let sealed = a.seal("s3cret value");
        assert!(
            !sealed.windows(6).any(|w| w == b"s3cret"),
            "nothing readable is stored"
        );
        let b = Sealer::load(None, &file).unwrap();
        assert_eq!(
            b.open(&sealed).unwrap(),
            "s3cret value",
            "the same key is read back"
        );
        let other = Sealer::load(Some(&"ab".repeat(32)), &file).unwrap();
        assert!(
            other
                .open(&sealed)
                .unwrap_err()
                .contains("cannot be opened")
        );
        assert!(Sealer::load(Some("zz"), &file).is_err());
    }
}
