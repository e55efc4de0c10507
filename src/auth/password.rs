//! Passwords: the rules for new ones, argon2id hashing, verification, generation.
//!
//! Only [`HashedPassword`] reaches the store, so a password can never be stored as text.

use std::fmt;

use argon2::Argon2;
use argon2::password_hash::rand_core::{OsRng, RngCore};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Shortest password accepted for a new or reset password.
pub const MIN_PASSWORD_CHARS: usize = 12;
/// Longest password accepted (bounds the work a single request can ask of the hasher).
pub const MAX_PASSWORD_CHARS: usize = 1024;
/// Fewest distinct characters: rejects `aaaaaaaaaaaa`, `abababababab` and the like.
const MIN_DISTINCT_CHARS: usize = 5;

/// An argon2id hash of a password that passed [`check_new_password`], as a PHC string.
#[derive(Clone, PartialEq, Eq)]
pub struct HashedPassword(String);

impl HashedPassword {
    /// Checks the rules for new passwords, then hashes with a fresh random salt.
    pub fn new(password: &str) -> Result<Self, PasswordError> {
        check_new_password(password)?;
        let salt = SaltString::generate(&mut OsRng);
        let hash = Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map_err(|e| PasswordError::Hash(e.to_string()))?;
        Ok(Self(hash.to_string()))
    }

    /// The PHC string (`$argon2id$v=19$...`) to store.
    pub fn as_phc(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for HashedPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A hash is still an offline-guessing target: keep it out of logs.
        f.write_str("HashedPassword(..)")
    }
}

/// Why a new password was refused (or could not be hashed).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    #[error("the password must have at least {MIN_PASSWORD_CHARS} characters")]
    TooShort,
    #[error("the password must have at most {MAX_PASSWORD_CHARS} characters")]
    TooLong,
    #[error("the password is too simple: use at least {MIN_DISTINCT_CHARS} different characters")]
    TooSimple,
    #[error("the password contains control characters")]
    ControlCharacter,
    #[error("cannot hash the password: {0}")]
    Hash(String),
}

/// The rules for a new or reset password. Existing passwords are never re-checked.
pub fn check_new_password(password: &str) -> Result<(), PasswordError> {
    let count = password.chars().count();
    if count < MIN_PASSWORD_CHARS {
        return Err(PasswordError::TooShort);
    }
    if count > MAX_PASSWORD_CHARS {
        return Err(PasswordError::TooLong);
    }
    if password.chars().any(char::is_control) {
        return Err(PasswordError::ControlCharacter);
    }
    let mut distinct: Vec<char> = password.chars().collect();
    distinct.sort_unstable();
    distinct.dedup();
    if distinct.len() < MIN_DISTINCT_CHARS {
        return Err(PasswordError::TooSimple);
    }
    Ok(())
}

/// A strong random password: 144 bits from the OS generator, 24 URL-safe characters.
pub fn generate_password() -> String {
    loop {
        let mut bytes = [0u8; 18];
        OsRng.fill_bytes(&mut bytes);
        let candidate = URL_SAFE_NO_PAD.encode(bytes);
        // A draw with fewer than five distinct characters is astronomically rare; retry anyway.
        if check_new_password(&candidate).is_ok() {
            return candidate;
        }
    }
}

/// An argon2id hash (default parameters) of a password nobody knows. Unknown users are verified
/// against it so that they cost the same time as known ones and cannot be told apart.
pub(crate) const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$Tp9Jmw516hHW2dqePsGXpQ$RNsSgFMYGWOoWANl/2JEL4LeSCv8RpoZRLkfH0ISndA";

/// Whether `password` matches the PHC string `phc`. An unreadable hash never matches. The
/// comparison of the derived key is constant-time (password-hash's `Output` uses `subtle`).
pub(crate) fn verify(phc: &str, password: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => {
            // Spend the same time as a real check even on a corrupt stored hash.
            if let Ok(dummy) = PasswordHash::new(DUMMY_HASH) {
                let _ = Argon2::default().verify_password(password.as_bytes(), &dummy);
            }
            false
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn dummy_hash_costs_what_a_real_hash_costs() {
        let dummy = PasswordHash::new(DUMMY_HASH).unwrap();
        let real_phc = HashedPassword::new("correct horse battery").unwrap();
        let real = PasswordHash::new(real_phc.as_phc()).unwrap();
        assert_eq!(dummy.algorithm, real.algorithm);
        assert_eq!(dummy.version, real.version);
        assert_eq!(dummy.params, real.params);
    }

    #[test]
    fn rules() {
        assert_eq!(check_new_password("short"), Err(PasswordError::TooShort));
        assert_eq!(
            check_new_password("aaaaaaaaaaaaaaaa"),
            Err(PasswordError::TooSimple)
        );
        assert_eq!(
            check_new_password("abababababababab"),
            Err(PasswordError::TooSimple)
        );
        assert_eq!(
            check_new_password("tab\there-and-more"),
            Err(PasswordError::ControlCharacter)
        );
        assert!(check_new_password("correct horse battery").is_ok());
        assert!(check_new_password(&generate_password()).is_ok());
    }

    #[test]
    fn verify_matches_only_the_password() {
        let h = HashedPassword::new("correct horse battery").unwrap();
        assert!(h.as_phc().starts_with("$argon2id$"));
        assert!(verify(h.as_phc(), "correct horse battery"));
        assert!(!verify(h.as_phc(), "correct horse batterY"));
        assert!(!verify("not a hash", "correct horse battery"));
        assert!(format!("{h:?}").find("argon2").is_none());
    }
}
