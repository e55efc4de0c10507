//! What an accepted batch submission changes in the plan's data (issue #5): claims stored as
//! received (837P/837I) and enrollment changes applied to members (834). The worker extracts
//! them with [`crate::payer::intake`], keeps those of accepted sets, and calls these.

use std::collections::{BTreeMap, BTreeSet};

use sqlx::{QueryBuilder, Row};
use time::{Date, OffsetDateTime};

use super::{Store, StoreError, on_pool, timestamp};
use crate::payer::date_text;
use crate::payer::intake::{
    Coverage, Maintenance, MemberChange, ReceivedClaim, payer_claim_number,
};
use crate::payer::model::{ClaimStatus, name_key};

/// Claims per INSERT statement: 15 parameters each keeps a statement under both backends'
/// parameter limits (SQLite 32,766; PostgreSQL 65,535) with a wide margin.
const CLAIMS_PER_STATEMENT: usize = 500;

/// Status code (external code list 508) of a claim received and not yet adjudicated: the
/// 277 answers it as `STC*A2:20` (accepted for processing).
const RECEIVED_STATUS_CODE: &str = "20";

/// The end date of open-ended coverage, as the members loader writes it.
const OPEN_END: Date = time::macros::date!(2099 - 12 - 31);

/// What [`Store::apply_enrollment`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EnrollmentOutcome {
    /// The submission had been applied before: nothing changed now, and the counts are those
    /// recorded then (`skipped` is empty).
    pub already_applied: bool,
    /// Members inserted.
    pub members_added: u64,
    /// Members on file updated (changes, additions and audits of known members, reinstatements).
    pub members_changed: u64,
    /// Members terminated (INS03 = 024).
    pub members_terminated: u64,
    /// INS loops not applied at all (see `skipped` for why).
    pub members_skipped: u64,
    /// Every change, or part of one (a coverage loop), that could not be applied, and why.
    pub skipped: Vec<SkippedChange>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SkippedChange {
    /// [`MemberChange::ordinal`].
    pub ordinal: u64,
    pub member_id: String,
    pub reason: String,
}

impl Store {
    /// Stores claims of submission `tracking_number` as received on `received_date`, all or
    /// none, and returns how many were new. Each claim's payer claim number is
    /// [`payer_claim_number`]`(tracking_number, claim.ordinal)`, and one already on file is left
    /// as it is: processing a submission again (after a crash, say) inserts nothing twice.
    /// Call it with batches of a few hundred claims as they are extracted.
    ///
    /// The provider ID stored is the billing provider as the plan knows it: the provider on
    /// file with the claim's 2010AA NPI (several service locations sharing the NPI: the one
    /// named by the 2010BB REF*G2, else the first by provider ID; a 276 naming the NPI
    /// searches all of them anyway); else the 2010BB REF*G2 (the ID the plan assigned, which
    /// providers without an NPI send); else the NPI itself, so that the claim is still found once the provider is
    /// added. A claim without readable service dates (only in a set validation rejected) is
    /// dated `received_date`; an unreadable charge is stored as zero.
    pub async fn insert_received_claims(
        &self,
        claims: &[ReceivedClaim],
        tracking_number: &str,
        received_date: Date,
    ) -> Result<u64, StoreError> {
        check_tracking_number(tracking_number)?;
        if claims.is_empty() {
            return Ok(0);
        }
        let providers = self.billing_providers(claims).await?;
        let received = date_text(received_date);
        on_pool!(self, |pool| {
            let mut tx = pool.begin().await?;
            let mut inserted = 0;
            for chunk in claims.chunks(CLAIMS_PER_STATEMENT) {
                let mut qb = QueryBuilder::new(
                    "INSERT INTO claims (payer_claim_number, patient_control_number, \
                       provider_id, member_id, service_from, service_to, billed_cents, status, \
                       received_date, status_code, bill_type) ",
                );
                qb.push_values(chunk, |mut row, c| {
                    let (from, to) = c.service.unwrap_or((received_date, received_date));
                    row.push_bind(payer_claim_number(tracking_number, c.ordinal))
                        .push_bind(c.patient_control_number.clone())
                        .push_bind(providers.resolve(c))
                        .push_bind(c.member_id.clone())
                        .push_bind(date_text(from))
                        .push_bind(date_text(to))
                        .push_bind(c.billed_cents.unwrap_or(0))
                        .push_bind(ClaimStatus::Received.name())
                        .push_bind(received.clone())
                        .push_bind(RECEIVED_STATUS_CODE)
                        .push_bind(c.bill_type.clone());
                });
                qb.push(" ON CONFLICT (payer_claim_number) DO NOTHING");
                inserted += qb.build().execute(&mut *tx).await?.rows_affected();
            }
            tx.commit().await?;
            Ok(inserted)
        })
    }

    /// The providers on file with the claims' billing NPIs.
    async fn billing_providers(
        &self,
        claims: &[ReceivedClaim],
    ) -> Result<BillingProviders, StoreError> {
        let npis: BTreeSet<&str> = claims
            .iter()
            .filter_map(|c| c.billing_npi.as_deref())
            .collect();
        let npis: Vec<&str> = npis.into_iter().collect();
        let mut found = BillingProviders::default();
        for chunk in npis.chunks(CLAIMS_PER_STATEMENT) {
            on_pool!(self, |pool| {
                let mut qb =
                    QueryBuilder::new("SELECT provider_id, npi FROM providers WHERE npi IN (");
                let mut list = qb.separated(", ");
                for v in chunk {
                    list.push_bind(v.to_string());
                }
                qb.push(")");
                for row in qb.build().fetch_all(pool).await? {
                    let id: String = row.try_get(0)?;
                    let npi: String = row.try_get(1)?;
                    found.by_npi.entry(npi).or_default().insert(id);
                }
            });
        }
        Ok(found)
    }

    /// Applies the enrollment changes of submission `tracking_number` (an 834's INS loops from
    /// its accepted sets, in file order) in one transaction that also records the submission
    /// as applied and moves the plan generation (so eligibility caches drop what they hold).
    /// A submission applied before changes nothing and says so (`already_applied`); the check
    /// is made inside the transaction, so two workers applying it at once cannot both succeed.
    ///
    /// Per INS loop: 021 add, 001 change, 030 audit and 025 reinstate upsert the member (by
    /// member ID; fields the 834 leaves out keep their values on file) and, for each HD loop,
    /// its coverage span (by plan code and start date: DTP*348, else the member's DTP*356 or
    /// DTP*303; ending at DTP*349 or open-ended; active). A reinstatement without a begin date
    /// reopens the plan's latest span. 024 terminates: coverage of the plans named by its HD
    /// loops (all coverage when none) ends on DTP*349 (else the member's DTP*357 or DTP*303);
    /// spans starting after that date are marked inactive. An HD loop with HD01 = 024 ends
    /// that one plan for a member otherwise changed. Loops that cannot be applied (no member
    /// ID; a new member without name or birth date; a termination of a member not on file or
    /// without a date) are skipped and reported, not fatal: one bad member must not hold back
    /// a file's worth of enrollment.
    pub async fn apply_enrollment(
        &self,
        tracking_number: &str,
        changes: &[MemberChange],
    ) -> Result<EnrollmentOutcome, StoreError> {
        check_tracking_number(tracking_number)?;
        let now = timestamp(OffsetDateTime::now_utc());
        on_pool!(self, |pool| {
            let mut tx = pool.begin().await?;
            let claimed = sqlx::query(
                "INSERT INTO enrollment_applications (submission_tracking_number, applied_at) \
                 VALUES ($1, $2) ON CONFLICT (submission_tracking_number) DO NOTHING",
            )
            .bind(tracking_number)
            .bind(&now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if claimed == 0 {
                let row = sqlx::query(
                    "SELECT members_added, members_changed, members_terminated, members_skipped \
                     FROM enrollment_applications WHERE submission_tracking_number = $1",
                )
                .bind(tracking_number)
                .fetch_one(&mut *tx)
                .await?;
                let count = |i: usize| -> Result<u64, StoreError> {
                    Ok(u64::try_from(row.try_get::<i64, _>(i)?).unwrap_or(0))
                };
                let outcome = EnrollmentOutcome {
                    already_applied: true,
                    members_added: count(0)?,
                    members_changed: count(1)?,
                    members_terminated: count(2)?,
                    members_skipped: count(3)?,
                    skipped: Vec::new(),
                };
                tx.rollback().await?;
                return Ok(outcome);
            }
            let mut out = EnrollmentOutcome::default();
            for ch in changes {
                let mut skip = |reason: String| {
                    out.skipped.push(SkippedChange {
                        ordinal: ch.ordinal,
                        member_id: ch.member_id.clone(),
                        reason,
                    });
                };
                if ch.member_id.is_empty() {
                    skip("no member ID (REF*0F for a subscriber; NM109 with NM108 = ZZ or REF*23 for a dependent)".into());
                    out.members_skipped += 1;
                    continue;
                }
                let existing: Option<i64> =
                    sqlx::query("SELECT id FROM members WHERE member_id = $1")
                        .bind(&ch.member_id)
                        .fetch_optional(&mut *tx)
                        .await?
                        .map(|r| r.try_get(0))
                        .transpose()?;
                let terminating = ch.maintenance == Maintenance::Terminate;
                let (key, added) = match existing {
                    Some(key) => {
                        let address = ch.address.as_ref();
                        sqlx::query(
                            "UPDATE members SET last_name = COALESCE($2, last_name), \
                               name_key = COALESCE($3, name_key), \
                               first_name = COALESCE($4, first_name), \
                               middle_name = COALESCE($5, middle_name), \
                               ssn = COALESCE($6, ssn), birth_date = COALESCE($7, birth_date), \
                               gender = COALESCE($8, gender), \
                               address_line = COALESCE($9, address_line), \
                               city = COALESCE($10, city), state = COALESCE($11, state), \
                               zip = COALESCE($12, zip), death_date = COALESCE($13, death_date) \
                             WHERE id = $1",
                        )
                        .bind(key)
                        .bind(&ch.last_name)
                        .bind(ch.last_name.as_deref().map(name_key))
                        .bind(&ch.first_name)
                        .bind(&ch.middle_name)
                        .bind(&ch.ssn)
                        .bind(ch.birth_date.map(date_text))
                        .bind(ch.gender.map(|g| g.code()))
                        .bind(address.map(|a| a.line.clone()))
                        .bind(address.map(|a| a.city.clone()))
                        .bind(address.map(|a| a.state.clone()))
                        .bind(address.map(|a| a.zip.clone()))
                        .bind(ch.death_date.map(date_text))
                        .execute(&mut *tx)
                        .await?;
                        (key, false)
                    }
                    None if terminating => {
                        skip("termination of a member not on file".into());
                        out.members_skipped += 1;
                        continue;
                    }
                    None => {
                        let (Some(last), Some(birth)) = (&ch.last_name, ch.birth_date) else {
                            skip(
                                "a new member needs a last name (NM103) and a birth date (DMG02)"
                                    .into(),
                            );
                            out.members_skipped += 1;
                            continue;
                        };
                        let address = ch.address.clone().unwrap_or_default();
                        let key: i64 = sqlx::query(
                            "INSERT INTO members (member_id, ssn, last_name, first_name, \
                               middle_name, name_key, birth_date, gender, address_line, city, \
                               state, zip, death_date) \
                             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
                             RETURNING id",
                        )
                        .bind(&ch.member_id)
                        .bind(&ch.ssn)
                        .bind(last)
                        .bind(ch.first_name.clone().unwrap_or_default())
                        .bind(ch.middle_name.clone().unwrap_or_default())
                        .bind(name_key(last))
                        .bind(date_text(birth))
                        .bind(ch.gender.map_or("U", |g| g.code()))
                        .bind(address.line)
                        .bind(address.city)
                        .bind(address.state)
                        .bind(address.zip)
                        .bind(ch.death_date.map(date_text))
                        .fetch_one(&mut *tx)
                        .await?
                        .try_get(0)?;
                        (key, true)
                    }
                };
                if terminating && ch.coverages.is_empty() {
                    match ch.end_date(None) {
                        Some(end) => {
                            let sql = terminate_sql(false);
                            for q in sql {
                                sqlx::query(q)
                                    .bind(key)
                                    .bind(date_text(end))
                                    .execute(&mut *tx)
                                    .await?;
                            }
                        }
                        None => skip("termination without a date (DTP*357 or DTP*303)".into()),
                    }
                }
                for cov in &ch.coverages {
                    let plan = cov.plan_code().to_string();
                    let action = if terminating {
                        Maintenance::Terminate
                    } else {
                        cov.maintenance
                    };
                    match action {
                        Maintenance::Terminate => match ch.end_date(Some(cov)) {
                            Some(end) => {
                                let mut ended = 0;
                                for q in terminate_sql(true) {
                                    ended += sqlx::query(q)
                                        .bind(key)
                                        .bind(date_text(end))
                                        .bind(&plan)
                                        .execute(&mut *tx)
                                        .await?
                                        .rows_affected();
                                }
                                // Said, because the member keeps whatever coverage it has: the
                                // sender may name the plan differently than the file does.
                                if ended == 0 {
                                    skip(format!(
                                        "plan {plan}: no coverage on file running past {end} to terminate"
                                    ));
                                }
                            }
                            None => skip(format!(
                                "termination of plan {plan} without a date (DTP*349, DTP*357 or DTP*303)"
                            )),
                        },
                        _ => {
                            let begin = ch.begin_date(cov);
                            let end = cov.end.unwrap_or(OPEN_END);
                            match begin {
                                Some(begin) if begin > end => skip(format!(
                                    "plan {plan}: benefit begin {begin} is after its end {end}"
                                )),
                                Some(begin) => {
                                    let span = SpanValues::of(cov, begin, end);
                                    let updated = sqlx::query(
                                        "UPDATE member_spans SET end_date = $3, status = 'active', \
                                           plan_name = $4, insurance_type = $5, policy_number = $6 \
                                         WHERE member = $1 AND kind = 'coverage' AND plan_code = $2 \
                                           AND start_date = $7",
                                    )
                                    .bind(key)
                                    .bind(&plan)
                                    .bind(&span.end)
                                    .bind(&span.plan_name)
                                    .bind(span.insurance_type)
                                    .bind(&span.policy_number)
                                    .bind(&span.start)
                                    .execute(&mut *tx)
                                    .await?
                                    .rows_affected();
                                    if updated == 0 {
                                        sqlx::query(
                                            "INSERT INTO member_spans (member, kind, start_date, \
                                               end_date, status, plan_code, plan_name, \
                                               insurance_type, policy_number) \
                                             VALUES ($1, 'coverage', $2, $3, 'active', $4, $5, $6, $7)",
                                        )
                                        .bind(key)
                                        .bind(&span.start)
                                        .bind(&span.end)
                                        .bind(&plan)
                                        .bind(&span.plan_name)
                                        .bind(span.insurance_type)
                                        .bind(&span.policy_number)
                                        .execute(&mut *tx)
                                        .await?;
                                    }
                                }
                                None if action == Maintenance::Reinstate => {
                                    // The latest span of the plan runs again, to DTP*349 or
                                    // open-ended.
                                    let reopened = sqlx::query(
                                        "UPDATE member_spans SET end_date = $3, status = 'active' \
                                         WHERE member = $1 AND kind = 'coverage' AND plan_code = $2 \
                                           AND start_date <= $3 AND start_date = \
                                             (SELECT MAX(start_date) FROM member_spans \
                                              WHERE member = $1 AND kind = 'coverage' AND plan_code = $2)",
                                    )
                                    .bind(key)
                                    .bind(&plan)
                                    .bind(date_text(end))
                                    .execute(&mut *tx)
                                    .await?
                                    .rows_affected();
                                    if reopened == 0 {
                                        skip(format!(
                                            "reinstatement of plan {plan} without a begin date (DTP*348), and no span of it on file to reopen"
                                        ));
                                    }
                                }
                                None => skip(format!(
                                    "plan {plan} without a begin date (DTP*348, DTP*356 or DTP*303)"
                                )),
                            }
                        }
                    }
                }
                if added {
                    out.members_added += 1;
                } else if terminating {
                    out.members_terminated += 1;
                } else {
                    out.members_changed += 1;
                }
            }
            let count = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
            sqlx::query(
                "UPDATE enrollment_applications SET members_added = $2, members_changed = $3, \
                   members_terminated = $4, members_skipped = $5 \
                 WHERE submission_tracking_number = $1",
            )
            .bind(tracking_number)
            .bind(count(out.members_added))
            .bind(count(out.members_changed))
            .bind(count(out.members_terminated))
            .bind(count(out.members_skipped))
            .execute(&mut *tx)
            .await?;
            sqlx::query("UPDATE plan_generation SET generation = generation + 1 WHERE id = 1")
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(out)
        })
    }

    /// Whether the enrollment of submission `tracking_number` has been applied.
    pub async fn enrollment_applied(&self, tracking_number: &str) -> Result<bool, StoreError> {
        on_pool!(self, |pool| {
            let row = sqlx::query(
                "SELECT 1 FROM enrollment_applications WHERE submission_tracking_number = $1",
            )
            .bind(tracking_number)
            .fetch_optional(pool)
            .await?;
            Ok(row.is_some())
        })
    }
}

/// Tracking numbers are the store's (`YYMMDD` + 10 digits); claim numbers are built on them,
/// so an empty or odd one would make numbers that collide across submissions.
fn check_tracking_number(t: &str) -> Result<(), StoreError> {
    if t.is_empty() || t.len() > 30 || !t.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(StoreError::misuse(format!(
            "{t:?} is not a submission tracking number"
        )));
    }
    Ok(())
}

/// The two statements that end coverage at `$2` for member `$1` (and plan `$3` when
/// `by_plan`): spans running past the date end on it; spans starting after it never take
/// effect and are marked inactive (their dates stay, so the history is kept).
fn terminate_sql(by_plan: bool) -> [&'static str; 2] {
    if by_plan {
        [
            "UPDATE member_spans SET end_date = $2 WHERE member = $1 AND kind = 'coverage' \
               AND plan_code = $3 AND start_date <= $2 AND end_date > $2",
            "UPDATE member_spans SET status = 'inactive' WHERE member = $1 \
               AND kind = 'coverage' AND plan_code = $3 AND start_date > $2",
        ]
    } else {
        [
            "UPDATE member_spans SET end_date = $2 WHERE member = $1 AND kind = 'coverage' \
               AND start_date <= $2 AND end_date > $2",
            "UPDATE member_spans SET status = 'inactive' WHERE member = $1 \
               AND kind = 'coverage' AND start_date > $2",
        ]
    }
}

/// Column values of a coverage span from an HD loop.
struct SpanValues {
    start: String,
    end: String,
    plan_name: String,
    insurance_type: &'static str,
    policy_number: String,
}

impl SpanValues {
    fn of(cov: &Coverage, begin: Date, end: Date) -> Self {
        Self {
            start: date_text(begin),
            end: date_text(end),
            plan_name: cov.description.clone(),
            insurance_type: cov.insurance_type(),
            policy_number: cov.policy_number.clone().unwrap_or_default(),
        }
    }
}

/// Providers on file by NPI (provider IDs in order).
#[derive(Debug, Default)]
struct BillingProviders {
    by_npi: BTreeMap<String, BTreeSet<String>>,
}

impl BillingProviders {
    /// The provider ID to store for `claim` (see [`Store::insert_received_claims`]).
    fn resolve(&self, claim: &ReceivedClaim) -> String {
        let secondary = claim.billing_secondary_id.as_deref();
        let npi = claim.billing_npi.as_deref();
        if let Some(locations) = npi.and_then(|n| self.by_npi.get(n)) {
            if let Some(id) = secondary.filter(|s| locations.contains(*s)) {
                return id.to_string();
            }
            if let Some(first) = locations.first() {
                return first.clone();
            }
        }
        secondary.or(npi).unwrap_or_default().to_string()
    }
}
