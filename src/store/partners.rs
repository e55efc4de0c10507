//! Trading partners: organizations, their users, what each user may act for (SenderIDs,
//! provider IDs), client certificates; and the per-user failure counters behind lockout.
//!
//! Users are added to an organization named by the operator (`add_user(organization, ...)`):
//! the operator's CLI knows organizations by name, and a Primary User acting for their
//! organization (a later portal) resolves to the same call. User names are unique ignoring case
//! (a lower-cased key is stored beside the name as written). Passwords arrive only as
//! [`HashedPassword`], so nothing but argon2id hashes can be stored.
//!
//! A client certificate belongs to an organization and acts as one of its users: the user it
//! names, or, when it names none, the organization's Primary User (whose links then define what
//! the certificate may do). Failure counting is one `UPDATE` per attempt, so gateway instances
//! sharing PostgreSQL never lose a count.

use sqlx::{ColumnIndex, Decode, Row, Type};
use time::{Duration, OffsetDateTime};

use super::{Store, StoreError, on_pool, parse_timestamp, timestamp};
use crate::auth::HashedPassword;

const MAX_USER_NAME_CHARS: usize = 64;
const MAX_ORGANIZATION_NAME_CHARS: usize = 200;
const MAX_SENDER_ID_CHARS: usize = 80;
/// Provider ID / service location: exactly this many characters (ISA06 carries them).
pub const PROVIDER_ID_CHARS: usize = 10;

/// A failed admin operation.
#[derive(Debug, thiserror::Error)]
pub enum PartnerError {
    /// The named organization, user or certificate is not on file.
    #[error("no {0} on file")]
    NotFound(String),
    /// A name or fingerprint that must be unique is already taken.
    #[error("{0} already exists")]
    Duplicate(String),
    /// A value breaks the rules (length, characters).
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for PartnerError {
    fn from(e: sqlx::Error) -> Self {
        Self::Store(e.into())
    }
}

/// Whom a client certificate acts as.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CertificateOwner {
    /// The organization's Primary User.
    Organization(String),
    /// This user (of whatever organization they belong to).
    User(String),
}

/// What authentication needs to know about one user.
#[derive(Clone)]
pub struct UserRecord {
    pub id: i64,
    pub organization: String,
    /// The name as the operator wrote it.
    pub user_name: String,
    /// argon2id PHC string.
    pub password_hash: String,
    pub user_active: bool,
    pub organization_active: bool,
    pub failed_count: i64,
    pub locked_until: Option<OffsetDateTime>,
    pub last_failure: Option<OffsetDateTime>,
    pub sender_ids: Vec<String>,
    pub provider_ids: Vec<String>,
}

impl UserRecord {
    /// Both the user and their organization are active.
    pub fn is_active(&self) -> bool {
        self.user_active && self.organization_active
    }

    /// Locked out at `now`.
    pub fn is_locked(&self, now: OffsetDateTime) -> bool {
        self.locked_until.is_some_and(|t| t > now)
    }
}

impl std::fmt::Debug for UserRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The hash stays out of logs.
        f.debug_struct("UserRecord")
            .field("id", &self.id)
            .field("organization", &self.organization)
            .field("user_name", &self.user_name)
            .field("user_active", &self.user_active)
            .field("organization_active", &self.organization_active)
            .field("failed_count", &self.failed_count)
            .field("locked_until", &self.locked_until)
            .field("sender_ids", &self.sender_ids)
            .field("provider_ids", &self.provider_ids)
            .finish_non_exhaustive()
    }
}

/// A certificate found by fingerprint, with the user it acts as (`None`: the organization has
/// no Primary User, which [`Store::add_organization`] never allows).
#[derive(Clone, Debug)]
pub struct CertificateRecord {
    pub active: bool,
    pub user: Option<UserRecord>,
}

/// The counters after a failed attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FailureState {
    pub failed_count: i64,
    pub locked_until: Option<OffsetDateTime>,
}

/// An organization with its users, for operators.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrganizationInfo {
    pub name: String,
    pub active: bool,
    pub created: OffsetDateTime,
    /// Primary User first, then by name.
    pub users: Vec<UserInfo>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserInfo {
    pub name: String,
    pub primary: bool,
    pub active: bool,
    pub failed_count: i64,
    pub locked_until: Option<OffsetDateTime>,
    pub sender_ids: Vec<String>,
    pub provider_ids: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertificateInfo {
    pub fingerprint: String,
    pub organization: String,
    /// `None`: acts as the organization's Primary User.
    pub user: Option<String>,
    pub subject: String,
    pub active: bool,
    pub created: OffsetDateTime,
}

/// The key a user name is unique by.
pub fn user_key(user_name: &str) -> String {
    user_name.to_lowercase()
}

/// A SHA-256 fingerprint as stored (64 lower-case hex digits), from hex in either case with or
/// without `:` separators; `None` if it is not one.
pub fn normalize_fingerprint(text: &str) -> Option<String> {
    let hex: String = text
        .chars()
        .filter(|c| *c != ':' && !c.is_whitespace())
        .map(|c| c.to_ascii_lowercase())
        .collect();
    (hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit())).then_some(hex)
}

impl Store {
    /// Adds an organization and its Primary User, both active, all or none.
    pub async fn add_organization(
        &self,
        name: &str,
        primary_user: &str,
        password: &HashedPassword,
    ) -> Result<(), PartnerError> {
        check_organization_name(name)?;
        check_user_name(primary_user)?;
        let now = timestamp(OffsetDateTime::now_utc());
        on_pool!(self, |pool| {
            let mut tx = pool.begin().await?;
            let org: i64 = sqlx::query(
                "INSERT INTO organizations (name, created) VALUES ($1, $2) RETURNING id",
            )
            .bind(name)
            .bind(&now)
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| unique(e, format!("organization {name:?}")))?
            .try_get(0)?;
            sqlx::query(
                "INSERT INTO users (organization, user_name, user_key, password_hash, \
                   is_primary, created) VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(org)
            .bind(primary_user)
            .bind(user_key(primary_user))
            .bind(password.as_phc())
            .bind(true)
            .bind(&now)
            .execute(&mut *tx)
            .await
            .map_err(|e| unique(e, format!("user {primary_user:?}")))?;
            tx.commit().await?;
            Ok(())
        })
    }

    /// Adds a subordinate (non-primary) user to the organization named `organization`.
    pub async fn add_user(
        &self,
        organization: &str,
        user: &str,
        password: &HashedPassword,
    ) -> Result<(), PartnerError> {
        check_user_name(user)?;
        let now = timestamp(OffsetDateTime::now_utc());
        let added = on_pool!(self, |pool| {
            sqlx::query(
                "INSERT INTO users (organization, user_name, user_key, password_hash, created) \
                 SELECT id, $2, $3, $4, $5 FROM organizations WHERE name = $1",
            )
            .bind(organization)
            .bind(user)
            .bind(user_key(user))
            .bind(password.as_phc())
            .bind(&now)
            .execute(pool)
            .await
            .map_err(|e| unique(e, format!("user {user:?}")))?
            .rows_affected()
        });
        if added == 0 {
            return Err(PartnerError::NotFound(format!(
                "organization {organization:?}"
            )));
        }
        Ok(())
    }

    /// Replaces a user's password and clears their failure count and lock.
    pub async fn set_password(
        &self,
        user: &str,
        password: &HashedPassword,
    ) -> Result<(), PartnerError> {
        let changed = on_pool!(self, |pool| {
            sqlx::query(
                "UPDATE users SET password_hash = $2, failed_count = 0, locked_until = NULL \
                 WHERE user_key = $1",
            )
            .bind(user_key(user))
            .bind(password.as_phc())
            .execute(pool)
            .await?
            .rows_affected()
        });
        found(changed, "user", user)
    }

    /// Deactivates (`false`) or reactivates (`true`) a user. Reactivating also clears a lock.
    pub async fn set_user_active(&self, user: &str, active: bool) -> Result<(), PartnerError> {
        let changed = on_pool!(self, |pool| {
            let sql = if active {
                "UPDATE users SET active = $2, failed_count = 0, locked_until = NULL \
                 WHERE user_key = $1"
            } else {
                "UPDATE users SET active = $2 WHERE user_key = $1"
            };
            sqlx::query(sql)
                .bind(user_key(user))
                .bind(active)
                .execute(pool)
                .await?
                .rows_affected()
        });
        found(changed, "user", user)
    }

    /// Lets `user` put `sender_id` in the envelope. `Ok(false)`: it already could.
    pub async fn add_sender_id(&self, user: &str, sender_id: &str) -> Result<bool, PartnerError> {
        check_sender_id(sender_id)?;
        self.link(Link::Sender, user, sender_id).await
    }

    /// `Ok(false)`: the user was not linked to `sender_id`.
    pub async fn remove_sender_id(
        &self,
        user: &str,
        sender_id: &str,
    ) -> Result<bool, PartnerError> {
        self.unlink(Link::Sender, user, sender_id).await
    }

    /// Lets `user` inquire and submit for `provider_id`. `Ok(false)`: they already could.
    pub async fn add_provider_id(
        &self,
        user: &str,
        provider_id: &str,
    ) -> Result<bool, PartnerError> {
        check_provider_id(provider_id)?;
        self.link(Link::Provider, user, provider_id).await
    }

    /// `Ok(false)`: the user was not linked to `provider_id`.
    pub async fn remove_provider_id(
        &self,
        user: &str,
        provider_id: &str,
    ) -> Result<bool, PartnerError> {
        self.unlink(Link::Provider, user, provider_id).await
    }

    async fn link(&self, link: Link, user: &str, value: &str) -> Result<bool, PartnerError> {
        let id = self.user_id(user).await?;
        let sql = format!(
            "INSERT INTO {} (user_id, {}) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            link.table(),
            link.column()
        );
        let added = on_pool!(self, |pool| {
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(id)
                .bind(value)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(added > 0)
    }

    async fn unlink(&self, link: Link, user: &str, value: &str) -> Result<bool, PartnerError> {
        let id = self.user_id(user).await?;
        let sql = format!(
            "DELETE FROM {} WHERE user_id = $1 AND {} = $2",
            link.table(),
            link.column()
        );
        let removed = on_pool!(self, |pool| {
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(id)
                .bind(value)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(removed > 0)
    }

    async fn user_id(&self, user: &str) -> Result<i64, PartnerError> {
        let id: Option<i64> = on_pool!(self, |pool| {
            sqlx::query_scalar("SELECT id FROM users WHERE user_key = $1")
                .bind(user_key(user))
                .fetch_optional(pool)
                .await?
        });
        id.ok_or_else(|| PartnerError::NotFound(format!("user {user:?}")))
    }

    /// Registers a client certificate by the SHA-256 fingerprint of its DER (any case, `:`
    /// separators allowed). `subject` is a description for operators.
    pub async fn add_certificate(
        &self,
        owner: &CertificateOwner,
        fingerprint: &str,
        subject: &str,
    ) -> Result<(), PartnerError> {
        let fp = normalize_fingerprint(fingerprint).ok_or_else(|| {
            PartnerError::Invalid(format!(
                "{fingerprint:?} is not a SHA-256 fingerprint (64 hex digits)"
            ))
        })?;
        let now = timestamp(OffsetDateTime::now_utc());
        let (sql, name, what) = match owner {
            CertificateOwner::Organization(name) => (
                "INSERT INTO client_certificates (organization, fingerprint, subject, created) \
                 SELECT id, $2, $3, $4 FROM organizations WHERE name = $1",
                name.clone(),
                format!("organization {name:?}"),
            ),
            CertificateOwner::User(name) => (
                "INSERT INTO client_certificates (organization, user_id, fingerprint, subject, \
                   created) \
                 SELECT organization, id, $2, $3, $4 FROM users WHERE user_key = $1",
                user_key(name),
                format!("user {name:?}"),
            ),
        };
        let added = on_pool!(self, |pool| {
            sqlx::query(sql)
                .bind(name)
                .bind(&fp)
                .bind(subject)
                .bind(&now)
                .execute(pool)
                .await
                .map_err(|e| unique(e, format!("certificate {fp}")))?
                .rows_affected()
        });
        if added == 0 {
            return Err(PartnerError::NotFound(what));
        }
        Ok(())
    }

    /// Stops a certificate from authenticating (kept on file for the record).
    pub async fn deactivate_certificate(&self, fingerprint: &str) -> Result<(), PartnerError> {
        let fp = normalize_fingerprint(fingerprint).ok_or_else(|| {
            PartnerError::Invalid(format!(
                "{fingerprint:?} is not a SHA-256 fingerprint (64 hex digits)"
            ))
        })?;
        let changed = on_pool!(self, |pool| {
            sqlx::query("UPDATE client_certificates SET active = $2 WHERE fingerprint = $1")
                .bind(&fp)
                .bind(false)
                .execute(pool)
                .await?
                .rows_affected()
        });
        found(changed, "certificate", &fp)
    }

    /// Every certificate on file, by organization then fingerprint.
    pub async fn certificates(&self) -> Result<Vec<CertificateInfo>, StoreError> {
        on_pool!(self, |pool| {
            let rows = sqlx::query(
                "SELECT c.fingerprint, o.name AS organization, u.user_name, c.subject, c.active, \
                        c.created \
                 FROM client_certificates c \
                 JOIN organizations o ON o.id = c.organization \
                 LEFT JOIN users u ON u.id = c.user_id \
                 ORDER BY o.name, c.fingerprint",
            )
            .fetch_all(pool)
            .await?;
            rows.iter()
                .map(|r| {
                    Ok(CertificateInfo {
                        fingerprint: r.try_get("fingerprint")?,
                        organization: r.try_get("organization")?,
                        user: r.try_get("user_name")?,
                        subject: r.try_get("subject")?,
                        active: r.try_get("active")?,
                        created: time_column(r, "created")?,
                    })
                })
                .collect()
        })
    }

    /// Every organization with its users and their links, by name.
    pub async fn organizations(&self) -> Result<Vec<OrganizationInfo>, StoreError> {
        on_pool!(self, |pool| {
            let mut orgs = Vec::new();
            let mut org_ids = Vec::new();
            for r in
                sqlx::query("SELECT id, name, active, created FROM organizations ORDER BY name")
                    .fetch_all(pool)
                    .await?
            {
                org_ids.push(r.try_get::<i64, _>("id")?);
                orgs.push(OrganizationInfo {
                    name: r.try_get("name")?,
                    active: r.try_get("active")?,
                    created: time_column(&r, "created")?,
                    users: Vec::new(),
                });
            }
            let users = sqlx::query(
                "SELECT id, organization, user_name, is_primary, active, failed_count, \
                        locked_until \
                 FROM users ORDER BY organization, is_primary DESC, user_key",
            )
            .fetch_all(pool)
            .await?;
            let senders: Vec<(i64, String)> = sqlx::query_as(
                "SELECT user_id, sender_id FROM user_sender_ids ORDER BY user_id, sender_id",
            )
            .fetch_all(pool)
            .await?;
            let providers: Vec<(i64, String)> = sqlx::query_as(
                "SELECT user_id, provider_id FROM user_provider_ids ORDER BY user_id, provider_id",
            )
            .fetch_all(pool)
            .await?;
            let links = |rows: &[(i64, String)], id: i64| -> Vec<String> {
                rows.iter()
                    .filter(|(u, _)| *u == id)
                    .map(|(_, v)| v.clone())
                    .collect()
            };
            for u in &users {
                let id: i64 = u.try_get("id")?;
                let org: i64 = u.try_get("organization")?;
                let Some(i) = org_ids.iter().position(|o| *o == org) else {
                    continue;
                };
                orgs[i].users.push(UserInfo {
                    name: u.try_get("user_name")?,
                    primary: u.try_get("is_primary")?,
                    active: u.try_get("active")?,
                    failed_count: u.try_get("failed_count")?,
                    locked_until: opt_time_column(u, "locked_until")?,
                    sender_ids: links(&senders, id),
                    provider_ids: links(&providers, id),
                });
            }
            Ok(orgs)
        })
    }

    /// The user named `user_name` (any case) with what authentication needs, or `None`.
    pub async fn user_for_auth(&self, user_name: &str) -> Result<Option<UserRecord>, StoreError> {
        self.auth_user(UserBy::Key(user_key(user_name))).await
    }

    /// The certificate with this fingerprint (64 lower-case hex digits) and the user it acts
    /// as, or `None`.
    pub async fn certificate_for_auth(
        &self,
        fingerprint: &str,
    ) -> Result<Option<CertificateRecord>, StoreError> {
        let found: Option<(bool, Option<i64>)> = on_pool!(self, |pool| {
            let row = sqlx::query(
                "SELECT c.active, COALESCE(c.user_id, p.id) AS acting_user \
                 FROM client_certificates c \
                 LEFT JOIN users p ON p.organization = c.organization AND p.is_primary \
                 WHERE c.fingerprint = $1",
            )
            .bind(fingerprint)
            .fetch_optional(pool)
            .await?;
            match row {
                Some(r) => Some((r.try_get("active")?, r.try_get("acting_user")?)),
                None => None,
            }
        });
        let Some((active, user)) = found else {
            return Ok(None);
        };
        let user = match user {
            Some(id) => self.auth_user(UserBy::Id(id)).await?,
            None => None,
        };
        Ok(Some(CertificateRecord { active, user }))
    }

    async fn auth_user(&self, by: UserBy) -> Result<Option<UserRecord>, StoreError> {
        let condition = match by {
            UserBy::Key(_) => "u.user_key = $1",
            UserBy::Id(_) => "u.id = $1",
        };
        let sql = format!(
            "SELECT u.id, o.name AS organization, u.user_name, u.password_hash, u.active, \
                    o.active AS organization_active, u.failed_count, u.locked_until, \
                    u.last_failure \
             FROM users u JOIN organizations o ON o.id = u.organization WHERE {condition}"
        );
        on_pool!(self, |pool| {
            let query = sqlx::query(sqlx::AssertSqlSafe(sql));
            let query = match by {
                UserBy::Key(key) => query.bind(key),
                UserBy::Id(id) => query.bind(id),
            };
            let Some(r) = query.fetch_optional(pool).await? else {
                return Ok(None);
            };
            let id: i64 = r.try_get("id")?;
            let sender_ids = sqlx::query_scalar(
                "SELECT sender_id FROM user_sender_ids WHERE user_id = $1 ORDER BY sender_id",
            )
            .bind(id)
            .fetch_all(pool)
            .await?;
            let provider_ids = sqlx::query_scalar(
                "SELECT provider_id FROM user_provider_ids WHERE user_id = $1 \
                 ORDER BY provider_id",
            )
            .bind(id)
            .fetch_all(pool)
            .await?;
            Ok(Some(UserRecord {
                id,
                organization: r.try_get("organization")?,
                user_name: r.try_get("user_name")?,
                password_hash: r.try_get("password_hash")?,
                user_active: r.try_get("active")?,
                organization_active: r.try_get("organization_active")?,
                failed_count: r.try_get("failed_count")?,
                locked_until: opt_time_column(&r, "locked_until")?,
                last_failure: opt_time_column(&r, "last_failure")?,
                sender_ids,
                provider_ids,
            }))
        })
    }

    /// Counts a failed password check for user `id`, in one statement: the count goes up (or
    /// restarts at 1 when an earlier lock has expired); reaching `max_failures` locks the user
    /// for `lockout` from now; a lock in force is never extended, so attempts during it cannot
    /// keep the owner out for ever. `max_failures` 0 never locks.
    pub async fn record_auth_failure(
        &self,
        id: i64,
        max_failures: u32,
        lockout: std::time::Duration,
    ) -> Result<FailureState, StoreError> {
        let now = OffsetDateTime::now_utc();
        let until = now.saturating_add(Duration::try_from(lockout).unwrap_or(Duration::MAX));
        let max = if max_failures == 0 {
            i64::MAX
        } else {
            i64::from(max_failures)
        };
        on_pool!(self, |pool| {
            let row = sqlx::query(
                "UPDATE users SET \
                   failed_count = CASE WHEN locked_until IS NOT NULL AND locked_until <= $1 \
                                       THEN 1 ELSE failed_count + 1 END, \
                   locked_until = CASE \
                       WHEN locked_until > $1 THEN locked_until \
                       WHEN (CASE WHEN locked_until IS NOT NULL AND locked_until <= $1 \
                                  THEN 1 ELSE failed_count + 1 END) >= $2 THEN $3 \
                       ELSE NULL END, \
                   last_failure = $1 \
                 WHERE id = $4 \
                 RETURNING failed_count, locked_until",
            )
            .bind(timestamp(now))
            .bind(max)
            .bind(timestamp(until))
            .bind(id)
            .fetch_one(pool)
            .await?;
            Ok(FailureState {
                failed_count: row.try_get("failed_count")?,
                locked_until: opt_time_column(&row, "locked_until")?,
            })
        })
    }

    /// Clears user `id`'s failure count after a successful check, unless a lock came into force
    /// meanwhile (another instance counted the last failure).
    pub async fn record_auth_success(&self, id: i64) -> Result<(), StoreError> {
        let now = timestamp(OffsetDateTime::now_utc());
        on_pool!(self, |pool| {
            sqlx::query(
                "UPDATE users SET failed_count = 0, locked_until = NULL \
                 WHERE id = $1 AND (locked_until IS NULL OR locked_until <= $2)",
            )
            .bind(id)
            .bind(now)
            .execute(pool)
            .await?;
        });
        Ok(())
    }
}

enum UserBy {
    Key(String),
    Id(i64),
}

#[derive(Clone, Copy)]
enum Link {
    Sender,
    Provider,
}

impl Link {
    fn table(self) -> &'static str {
        match self {
            Self::Sender => "user_sender_ids",
            Self::Provider => "user_provider_ids",
        }
    }

    fn column(self) -> &'static str {
        match self {
            Self::Sender => "sender_id",
            Self::Provider => "provider_id",
        }
    }
}

fn found(rows: u64, what: &str, name: &str) -> Result<(), PartnerError> {
    if rows == 0 {
        Err(PartnerError::NotFound(format!("{what} {name:?}")))
    } else {
        Ok(())
    }
}

/// A unique-constraint violation is the operator's mistake (`what` exists); anything else is
/// the store's.
fn unique(e: sqlx::Error, what: String) -> PartnerError {
    match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => PartnerError::Duplicate(what),
        _ => e.into(),
    }
}

fn check_user_name(name: &str) -> Result<(), PartnerError> {
    let n = name.chars().count();
    if n == 0 || n > MAX_USER_NAME_CHARS {
        return Err(PartnerError::Invalid(format!(
            "a user name has 1 to {MAX_USER_NAME_CHARS} characters"
        )));
    }
    if name.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(PartnerError::Invalid(format!(
            "user name {name:?}: no spaces or control characters"
        )));
    }
    Ok(())
}

fn check_organization_name(name: &str) -> Result<(), PartnerError> {
    let n = name.chars().count();
    if n == 0 || n > MAX_ORGANIZATION_NAME_CHARS || name.trim() != name {
        return Err(PartnerError::Invalid(format!(
            "an organization name has 1 to {MAX_ORGANIZATION_NAME_CHARS} characters and no \
             leading or trailing spaces"
        )));
    }
    if name.chars().any(char::is_control) {
        return Err(PartnerError::Invalid(format!(
            "organization name {name:?}: no control characters"
        )));
    }
    Ok(())
}

fn check_sender_id(id: &str) -> Result<(), PartnerError> {
    let ok = !id.is_empty()
        && id.len() <= MAX_SENDER_ID_CHARS
        && id.trim() == id
        && id.bytes().all(|b| b == b' ' || b.is_ascii_graphic());
    if ok {
        Ok(())
    } else {
        Err(PartnerError::Invalid(format!(
            "SenderID {id:?}: 1 to {MAX_SENDER_ID_CHARS} printable ASCII characters"
        )))
    }
}

fn check_provider_id(id: &str) -> Result<(), PartnerError> {
    if id.len() == PROVIDER_ID_CHARS && id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        Ok(())
    } else {
        Err(PartnerError::Invalid(format!(
            "provider ID {id:?}: exactly {PROVIDER_ID_CHARS} letters or digits"
        )))
    }
}

fn time_column<'r, R>(row: &'r R, column: &str) -> Result<OffsetDateTime, StoreError>
where
    R: Row,
    for<'c> &'c str: ColumnIndex<R>,
    String: Decode<'r, R::Database> + Type<R::Database>,
{
    parse_timestamp(column, &row.try_get::<String, _>(column)?)
}

fn opt_time_column<'r, R>(row: &'r R, column: &str) -> Result<Option<OffsetDateTime>, StoreError>
where
    R: Row,
    for<'c> &'c str: ColumnIndex<R>,
    String: Decode<'r, R::Database> + Type<R::Database>,
{
    row.try_get::<Option<String>, _>(column)?
        .map(|t| parse_timestamp(column, &t))
        .transpose()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn timestamps_round_trip_and_sort() {
        let t = OffsetDateTime::from_unix_timestamp_nanos(1_700_000_000_123_456_000).unwrap();
        let s = timestamp(t);
        assert_eq!(s, "2023-11-14T22:13:20.123456Z");
        assert_eq!(parse_timestamp("t", &s).unwrap(), t);
        assert!(timestamp(t) < timestamp(t + Duration::milliseconds(1)));
    }

    #[test]
    fn fingerprints() {
        let hex = "AB".repeat(32);
        assert_eq!(normalize_fingerprint(&hex), Some("ab".repeat(32)));
        let colons = vec!["ab"; 32].join(":");
        assert_eq!(normalize_fingerprint(&colons), Some("ab".repeat(32)));
        assert_eq!(normalize_fingerprint("abc"), None);
        assert_eq!(normalize_fingerprint(&"zz".repeat(32)), None);
    }
}
