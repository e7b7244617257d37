//! Secrets we hand out and check: random tokens (sessions, API keys,
//! visitor and channel keys), their stored SHA-256 hashes, and password
//! hashes (argon2id). Used by the HTTP auth, the engine and the CLI.

use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// API keys start with this, so a bearer token is recognised as one.
pub const API_KEY_PREFIX: &str = "fdk_";

pub fn hash_password(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("hashing the password failed: {e}"))
}

/// A hash of a random password that nobody knows, made once per process with
/// exactly the algorithm and cost of [`hash_password`]. Sign-in verifies the
/// password against it when the email is unknown, so an unknown email takes
/// as long as a known one (the time does not tell which emails exist).
/// Computed when the server starts so the first unknown email is not slower.
pub fn dummy_password_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    // Hashing a fresh random password fails only if the system has no
    // randomness, when nothing else would work either.
    DUMMY.get_or_init(|| hash_password(&random_token("")).unwrap_or_default())
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
}

/// A random URL-safe token of 32 bytes, with an optional prefix.
pub fn random_token(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    format!("{prefix}{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

/// Tokens are stored as SHA-256 hashes: they are random, so a fast hash is enough.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_only_with_the_right_password() {
        let h = hash_password("correct horse").unwrap();
        assert!(verify_password("correct horse", &h));
        assert!(!verify_password("wrong horse", &h));
        assert!(!verify_password("x", "not a hash"));
    }

    #[test]
    fn the_dummy_hash_has_the_algorithm_and_cost_of_real_ones() {
        let real = hash_password("correct horse").unwrap();
        let (real, dummy) = (PasswordHash::new(&real).unwrap(), PasswordHash::new(dummy_password_hash()).unwrap());
        assert_eq!(dummy.algorithm, real.algorithm);
        assert_eq!(dummy.version, real.version);
        assert_eq!(dummy.params, real.params);
        assert!(!verify_password("", dummy_password_hash()));
    }

    #[test]
    fn tokens_are_random_and_stored_as_hashes() {
        let t = random_token("fdk_");
        assert!(t.starts_with("fdk_") && t.len() == 4 + 43);
        assert_eq!(token_hash(&t).len(), 64);
        assert_ne!(random_token(""), random_token(""));
    }
}
