//! Authentication: a user name and password (WS-Security UsernameToken `PasswordText`, or the
//! MIME `UserName`/`Password` fields) or a TLS client certificate, turned into a [`Principal`]:
//! who is calling and what they may act for.
//!
//! Password checks resist guessing: a user that does not exist costs the same argon2 work as
//! one that does (checked against a fixed dummy hash), failures are counted in the store (so
//! every gateway instance sees them), a user is locked out after [`LockoutPolicy::max_failures`]
//! consecutive failures, and every failure asks the caller to wait ([`AuthError::delay`]) before
//! answering. Whatever the failure, the answer to the client must be the same; the kinds are for
//! logs and metrics.
//!
//! Certificates: the TLS handshake has already proved possession of the private key, so the
//! fingerprint is looked up, not guessed; there is no delay or lockout for them. A certificate
//! acts as the user it was registered for, or as its organization's Primary User.

pub mod cache;
mod password;

use std::fmt;
use std::time::Duration;

use time::OffsetDateTime;

use crate::store::partners::{UserRecord, normalize_fingerprint};
use crate::store::{Store, StoreError};

pub use password::{
    HashedPassword, MAX_PASSWORD_CHARS, MIN_PASSWORD_CHARS, PasswordError, check_new_password,
    generate_password,
};

/// Who is calling, and what they may act for (later checks restrict reads and submissions to
/// these).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal {
    pub organization: String,
    pub user: String,
    /// SenderIDs the user may put in the CORE envelope.
    pub sender_ids: Vec<String>,
    /// Provider IDs / service locations the user may inquire or submit for.
    pub provider_ids: Vec<String>,
    pub via: AuthMethod,
}

impl Principal {
    fn of(user: UserRecord, via: AuthMethod) -> Self {
        Self {
            organization: user.organization,
            user: user.user_name,
            sender_ids: user.sender_ids,
            provider_ids: user.provider_ids,
            via,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthMethod {
    Password,
    ClientCertificate,
}

/// Longest wait asked of the caller after a failure, however many failures came before.
pub const MAX_FAILURE_DELAY: Duration = Duration::from_secs(2);

/// How password failures are answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LockoutPolicy {
    /// Consecutive failures that lock a user out (0: never).
    pub max_failures: u32,
    /// How long a lock lasts.
    pub lockout: Duration,
    /// Wait per consecutive failure before answering (capped at [`MAX_FAILURE_DELAY`]).
    pub delay_per_failure: Duration,
}

impl Default for LockoutPolicy {
    fn default() -> Self {
        Self {
            max_failures: 5,
            lockout: Duration::from_secs(15 * 60),
            delay_per_failure: Duration::from_millis(250),
        }
    }
}

impl LockoutPolicy {
    /// The wait after the `failures`-th consecutive failure.
    pub fn delay_after(&self, failures: i64) -> Duration {
        let n = u32::try_from(failures.max(1)).unwrap_or(u32::MAX);
        self.delay_per_failure
            .saturating_mul(n)
            .min(MAX_FAILURE_DELAY)
    }
}

/// Why authentication failed. Opaque on purpose: it never says whether the user exists
/// (an unknown user and a wrong password are both [`AuthErrorKind::BadCredentials`]).
#[derive(Debug)]
pub struct AuthError {
    kind: AuthErrorKind,
    delay: Duration,
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

/// For logs and metrics; clients get one answer for all but [`AuthErrorKind::Unavailable`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthErrorKind {
    /// Unknown user or certificate, or wrong password.
    BadCredentials,
    /// The user, their organization or the certificate is deactivated (the password was right).
    Inactive,
    /// Too many failures: refused until the lock expires, even with the right password.
    LockedOut,
    /// The store could not be asked: retry later.
    Unavailable,
}

impl AuthError {
    fn new(kind: AuthErrorKind, delay: Duration) -> Self {
        Self {
            kind,
            delay,
            source: None,
        }
    }

    fn unavailable(e: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self {
            kind: AuthErrorKind::Unavailable,
            delay: Duration::ZERO,
            source: Some(e.into()),
        }
    }

    pub fn kind(&self) -> AuthErrorKind {
        self.kind
    }

    /// How long the server should wait before answering (slows guessing down).
    pub fn delay(&self) -> Duration {
        self.delay
    }

    pub fn is_locked_out(&self) -> bool {
        self.kind == AuthErrorKind::LockedOut
    }

    /// The store is down or busy: the credentials were not judged; retrying may succeed.
    pub fn is_unavailable(&self) -> bool {
        self.kind == AuthErrorKind::Unavailable
    }

    pub fn is_bad_credentials(&self) -> bool {
        self.kind == AuthErrorKind::BadCredentials
    }

    pub fn is_inactive(&self) -> bool {
        self.kind == AuthErrorKind::Inactive
    }
}

impl fmt::Display for AuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            AuthErrorKind::BadCredentials => f.write_str("authentication failed: bad credentials"),
            AuthErrorKind::Inactive => f.write_str("authentication failed: account inactive"),
            AuthErrorKind::LockedOut => f.write_str("authentication failed: account locked out"),
            AuthErrorKind::Unavailable => match &self.source {
                Some(e) => write!(f, "authentication unavailable: {e}"),
                None => f.write_str("authentication unavailable"),
            },
        }
    }
}

impl std::error::Error for AuthError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

impl From<StoreError> for AuthError {
    fn from(e: StoreError) -> Self {
        Self::unavailable(e)
    }
}

/// Checks `user` (any case) and `password`. On failure, wait [`AuthError::delay`] before
/// answering.
pub async fn authenticate_password(
    store: &Store,
    user: &str,
    password: &str,
    policy: &LockoutPolicy,
) -> Result<Principal, AuthError> {
    let record = store.user_for_auth(user).await?;
    // Always one argon2 verification, whether the user exists, is locked or inactive: the time
    // taken says nothing about the account.
    let phc = record.as_ref().map_or_else(
        || password::DUMMY_HASH.to_owned(),
        |r| r.password_hash.clone(),
    );
    let verified = verify_off_thread(phc, password.to_owned()).await?;
    let Some(record) = record else {
        return Err(AuthError::new(
            AuthErrorKind::BadCredentials,
            policy.delay_after(1),
        ));
    };
    let now = OffsetDateTime::now_utc();
    if record.is_locked(now) {
        return Err(AuthError::new(AuthErrorKind::LockedOut, MAX_FAILURE_DELAY));
    }
    if !verified {
        let state = store
            .record_auth_failure(record.id, policy.max_failures, policy.lockout)
            .await?;
        if state.locked_until.is_some_and(|t| t > now) {
            return Err(AuthError::new(AuthErrorKind::LockedOut, MAX_FAILURE_DELAY));
        }
        return Err(AuthError::new(
            AuthErrorKind::BadCredentials,
            policy.delay_after(state.failed_count),
        ));
    }
    if !record.is_active() {
        return Err(AuthError::new(
            AuthErrorKind::Inactive,
            policy.delay_after(1),
        ));
    }
    // Only write when there is something to clear: most logins have no failures behind them.
    if record.failed_count > 0 || record.locked_until.is_some() {
        store.record_auth_success(record.id).await?;
    }
    Ok(Principal::of(record, AuthMethod::Password))
}

/// Identifies the caller by the SHA-256 of their TLS client certificate's DER (hex, any case,
/// `:` separators allowed). Lockout does not apply: it guards passwords against guessing.
pub async fn authenticate_certificate(
    store: &Store,
    der_sha256_hex: &str,
) -> Result<Principal, AuthError> {
    let bad = || AuthError::new(AuthErrorKind::BadCredentials, Duration::ZERO);
    let inactive = || AuthError::new(AuthErrorKind::Inactive, Duration::ZERO);
    let fingerprint = normalize_fingerprint(der_sha256_hex).ok_or_else(bad)?;
    let certificate = store
        .certificate_for_auth(&fingerprint)
        .await?
        .ok_or_else(bad)?;
    if !certificate.active {
        return Err(inactive());
    }
    match certificate.user {
        Some(user) if user.is_active() => Ok(Principal::of(user, AuthMethod::ClientCertificate)),
        _ => Err(inactive()),
    }
}

/// argon2 takes tens of milliseconds of CPU: keep it off the async workers.
async fn verify_off_thread(phc: String, password: String) -> Result<bool, AuthError> {
    tokio::task::spawn_blocking(move || password::verify(&phc, &password))
        .await
        .map_err(AuthError::unavailable)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_and_are_capped() {
        let p = LockoutPolicy::default();
        assert_eq!(p.delay_after(0), Duration::from_millis(250));
        assert_eq!(p.delay_after(1), Duration::from_millis(250));
        assert_eq!(p.delay_after(3), Duration::from_millis(750));
        assert_eq!(p.delay_after(100), MAX_FAILURE_DELAY);
        assert_eq!(p.delay_after(i64::MAX), MAX_FAILURE_DELAY);
    }
}
