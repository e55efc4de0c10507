//! Remembers recent successful password sign-ins for a short time.
//!
//! Why: CORE clients send the user name and password with every request, and an argon2
//! verification costs tens of milliseconds of CPU by design; verifying each request again would
//! cap a gateway at a few dozen requests per second per core. A sign-in verified in the last
//! `ttl` is accepted again when the same password is presented. The password itself is never
//! kept: only a SHA-256 of it keyed with a random secret of this process. Failures are never
//! remembered (they always take the slow path, with its delay and lockout), and a password
//! reset, deactivation or lockout takes effect within `ttl` on every instance.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::Principal;
use crate::store::partners::user_key;

/// How long a verified sign-in is trusted, by default.
pub const DEFAULT_TTL: Duration = Duration::from_secs(30);
/// Entries kept before the cache starts over.
const CAPACITY: usize = 10_000;

#[derive(Debug)]
pub struct CredentialCache {
    ttl: Duration,
    secret: [u8; 32],
    entries: Mutex<HashMap<String, Entry>>,
}

#[derive(Debug)]
struct Entry {
    digest: [u8; 32],
    /// Shared with every request it signs in (no copy of its ID lists per request).
    principal: Arc<Principal>,
    verified: Instant,
}

impl Default for CredentialCache {
    fn default() -> Self {
        Self::new(DEFAULT_TTL)
    }
}

impl CredentialCache {
    pub fn new(ttl: Duration) -> Self {
        let mut secret = [0u8; 32];
        secret[..16].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
        secret[16..].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
        Self {
            ttl,
            secret,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// `key` is the user's [`user_key`].
    fn digest(&self, key: &str, password: &str) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(self.secret);
        h.update(key.as_bytes());
        h.update([0u8]);
        h.update(password.as_bytes());
        h.finalize().into()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The principal of a sign-in verified within the TTL with this same password.
    pub fn get(&self, user: &str, password: &str) -> Option<Arc<Principal>> {
        if self.ttl.is_zero() {
            return None;
        }
        let key = user_key(user);
        let digest = self.digest(&key, password);
        let mut entries = self.lock();
        let entry = entries.get(&key)?;
        if entry.verified.elapsed() >= self.ttl {
            entries.remove(&key);
            return None;
        }
        bool::from(entry.digest.ct_eq(&digest)).then(|| entry.principal.clone())
    }

    /// Remembers a sign-in that was just verified.
    pub fn put(&self, user: &str, password: &str, principal: &Arc<Principal>) {
        if self.ttl.is_zero() {
            return;
        }
        let key = user_key(user);
        let digest = self.digest(&key, password);
        let mut entries = self.lock();
        if entries.len() >= CAPACITY {
            entries.clear();
        }
        entries.insert(
            key,
            Entry {
                digest,
                principal: Arc::clone(principal),
                verified: Instant::now(),
            },
        );
    }

    /// Forgets a user (after a failed attempt, so a changed password is not shadowed).
    pub fn forget(&self, user: &str) {
        self.lock().remove(&user_key(user));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::AuthMethod;

    fn principal() -> Arc<Principal> {
        Arc::new(Principal {
            organization: "Org".into(),
            user: "alice".into(),
            sender_ids: vec!["S".into()],
            provider_ids: vec![],
            via: AuthMethod::Password,
        })
    }

    #[test]
    fn remembers_only_the_same_password_within_the_ttl() {
        let c = CredentialCache::new(Duration::from_secs(60));
        assert!(c.get("alice", "pw").is_none());
        c.put("alice", "pw", &principal());
        assert_eq!(c.get("ALICE", "pw"), Some(principal()));
        assert!(c.get("alice", "other").is_none());
        c.forget("alice");
        assert!(c.get("alice", "pw").is_none());
        let off = CredentialCache::new(Duration::ZERO);
        off.put("alice", "pw", &principal());
        assert!(off.get("alice", "pw").is_none());
    }
}
