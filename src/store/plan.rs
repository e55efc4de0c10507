//! The plan's data: providers, members and their spans, claims. Lookups for the responders and
//! whole-file writes for the loaders.

use std::sync::Arc;

use sqlx::{ColumnIndex, Decode, QueryBuilder, Row, Type};
use time::Date;

use super::{Store, StoreError, on_pool};
use crate::payer::model::{
    Claim, ClaimQuery, ClaimStatus, EntityType, Gender, Member, MemberQuery, Provider, Span,
    SpanKind, Spans,
};
use crate::payer::{PlanData, date_text, parse_date};

const PROVIDER_COLUMNS: &str = "provider_id, npi, entity_type, name, first_name, status";
const MEMBER_COLUMNS: &str = "id, member_id, ssn, dcf_id, dys_id, last_name, first_name, \
     middle_name, birth_date, gender, address_line, city, state, zip, death_date";
const CLAIM_COLUMNS: &str = "payer_claim_number, patient_control_number, provider_id, \
     member_id, service_from, service_to, billed_cents, paid_cents, status, received_date, \
     adjudication_date, payment_number, payment_date, status_code, bill_type";

/// One member as a members file gives it: the record and all of its spans (which replace the
/// spans on file). `Span::pcp` is ignored here; `pcp_provider_id` names the provider.
#[derive(Clone, Debug)]
pub struct MemberRecord {
    pub member: Member,
    pub spans: Vec<(Span, String)>,
}

impl PlanData for Store {
    async fn providers_by_npi(&self, npi: &str) -> Result<Arc<[Provider]>, StoreError> {
        let sql = format!("SELECT {PROVIDER_COLUMNS} FROM providers WHERE npi = $1");
        on_pool!(self, |pool| {
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(npi)
                .fetch_all(pool)
                .await?;
            rows.iter().map(|r| provider_from_row(r, "")).collect()
        })
    }

    async fn provider(&self, provider_id: &str) -> Result<Option<Arc<Provider>>, StoreError> {
        on_pool!(self, |pool| {
            let row = sqlx::query(
                "SELECT provider_id, npi, entity_type, name, first_name, status \
                 FROM providers WHERE provider_id = $1",
            )
            .bind(provider_id)
            .fetch_optional(pool)
            .await?;
            row.as_ref()
                .map(|r| provider_from_row(r, "").map(Arc::new))
                .transpose()
        })
    }

    async fn members(&self, query: &MemberQuery<'_>) -> Result<Arc<[Member]>, StoreError> {
        let (condition, a, b) = match *query {
            MemberQuery::MemberId(id) => ("member_id = $1", id.to_string(), None),
            MemberQuery::Ssn(ssn) => ("ssn = $1", ssn.to_string(), None),
            MemberQuery::AgencyId(id) => ("(dcf_id = $1 OR dys_id = $1)", id.to_string(), None),
            MemberQuery::NameAndBirth {
                name_key,
                birth_date,
            } => (
                "name_key = $1 AND birth_date = $2",
                name_key.to_string(),
                Some(date_text(birth_date)),
            ),
        };
        // At most a page of candidates: more than one is already "several matches".
        let sql = format!(
            "SELECT {MEMBER_COLUMNS} FROM members WHERE {condition} ORDER BY member_id LIMIT 20"
        );
        on_pool!(self, |pool| {
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(a);
            if let Some(b) = b {
                q = q.bind(b);
            }
            let rows = q.fetch_all(pool).await?;
            rows.iter().map(member_from_row).collect()
        })
    }

    async fn spans(&self, member: i64, from: Date, to: Date) -> Result<Spans, StoreError> {
        on_pool!(self, |pool| {
            let rows = sqlx::query(
                "SELECT s.kind, s.start_date, s.end_date, s.status, s.plan_code, s.plan_name, \
                        s.insurance_type, s.carrier_code, s.carrier_name, s.policy_number, \
                        s.pcp_provider_id, p.provider_id AS pcp_provider_id_found, \
                        p.npi AS pcp_npi, p.entity_type AS pcp_entity_type, \
                        p.name AS pcp_name, p.first_name AS pcp_first_name, \
                        p.status AS pcp_status \
                 FROM member_spans s \
                 LEFT JOIN providers p ON p.provider_id = s.pcp_provider_id \
                 WHERE s.member = $1 AND s.start_date <= $2 AND s.end_date >= $3 \
                 ORDER BY s.start_date, s.kind",
            )
            .bind(member)
            .bind(date_text(to))
            .bind(date_text(from))
            .fetch_all(pool)
            .await?;
            let all: Arc<[Span]> = rows.iter().map(span_from_row).collect::<Result<_, _>>()?;
            Ok(Spans::new(all, from, to))
        })
    }

    async fn generation(&self) -> Result<i64, StoreError> {
        on_pool!(self, |pool| {
            let row = sqlx::query("SELECT generation FROM plan_generation WHERE id = 1")
                .fetch_one(pool)
                .await?;
            Ok(row.try_get(0)?)
        })
    }

    async fn claims(&self, query: &ClaimQuery) -> Result<Vec<Claim>, StoreError> {
        on_pool!(self, |pool| {
            let mut qb = QueryBuilder::new(format!(
                "SELECT {CLAIM_COLUMNS} FROM claims WHERE member_id = "
            ));
            qb.push_bind(query.member_id.clone());
            if !query.provider_ids.is_empty() {
                qb.push(" AND provider_id IN (");
                let mut list = qb.separated(", ");
                for id in &query.provider_ids {
                    list.push_bind(id.clone());
                }
                qb.push(")");
            }
            if let Some(n) = &query.payer_claim_number {
                qb.push(" AND payer_claim_number = ").push_bind(n.clone());
            }
            if let Some(n) = &query.patient_control_number {
                qb.push(" AND patient_control_number = ")
                    .push_bind(n.clone());
            }
            if let Some((from, to)) = query.service {
                qb.push(" AND service_from <= ").push_bind(date_text(to));
                qb.push(" AND service_to >= ").push_bind(date_text(from));
            }
            qb.push(" ORDER BY service_from, payer_claim_number LIMIT 100");
            let rows = qb.build().fetch_all(pool).await?;
            rows.iter().map(claim_from_row).collect()
        })
    }
}

impl Store {
    /// Inserts or updates providers, all or none.
    pub async fn upsert_providers(&self, providers: &[Provider]) -> Result<(), StoreError> {
        on_pool!(self, |pool| {
            let mut tx = pool.begin().await?;
            for p in providers {
                sqlx::query(
                    "INSERT INTO providers (provider_id, npi, entity_type, name, first_name, status) \
                     VALUES ($1, $2, $3, $4, $5, $6) \
                     ON CONFLICT (provider_id) DO UPDATE SET npi = excluded.npi, \
                       entity_type = excluded.entity_type, name = excluded.name, \
                       first_name = excluded.first_name, status = excluded.status",
                )
                .bind(&p.provider_id)
                .bind(&p.npi)
                .bind(p.entity.code())
                .bind(&p.name)
                .bind(&p.first_name)
                .bind(if p.active { "active" } else { "inactive" })
                .execute(&mut *tx)
                .await?;
            }
            sqlx::query("UPDATE plan_generation SET generation = generation + 1 WHERE id = 1")
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(())
        })
    }

    /// Inserts or updates members and replaces all of their spans, all or none.
    pub async fn replace_members(&self, records: &[MemberRecord]) -> Result<(), StoreError> {
        on_pool!(self, |pool| {
            let mut tx = pool.begin().await?;
            for rec in records {
                let m = &rec.member;
                let key: i64 = sqlx::query(
                    "INSERT INTO members (member_id, ssn, dcf_id, dys_id, last_name, first_name, \
                       middle_name, name_key, birth_date, gender, address_line, city, state, zip, \
                       death_date) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) \
                     ON CONFLICT (member_id) DO UPDATE SET ssn = excluded.ssn, \
                       dcf_id = excluded.dcf_id, dys_id = excluded.dys_id, \
                       last_name = excluded.last_name, first_name = excluded.first_name, \
                       middle_name = excluded.middle_name, name_key = excluded.name_key, \
                       birth_date = excluded.birth_date, gender = excluded.gender, \
                       address_line = excluded.address_line, city = excluded.city, \
                       state = excluded.state, zip = excluded.zip, death_date = excluded.death_date \
                     RETURNING id",
                )
                .bind(&m.member_id)
                .bind(&m.ssn)
                .bind(&m.dcf_id)
                .bind(&m.dys_id)
                .bind(&m.last_name)
                .bind(&m.first_name)
                .bind(&m.middle_name)
                .bind(crate::payer::model::name_key(&m.last_name))
                .bind(date_text(m.birth_date))
                .bind(m.gender.code())
                .bind(&m.address_line)
                .bind(&m.city)
                .bind(&m.state)
                .bind(&m.zip)
                .bind(m.death_date.map(date_text))
                .fetch_one(&mut *tx)
                .await?
                .try_get(0)?;
                sqlx::query("DELETE FROM member_spans WHERE member = $1")
                    .bind(key)
                    .execute(&mut *tx)
                    .await?;
                for (s, pcp) in &rec.spans {
                    sqlx::query(
                        "INSERT INTO member_spans (member, kind, start_date, end_date, status, \
                           plan_code, plan_name, insurance_type, carrier_code, carrier_name, \
                           policy_number, pcp_provider_id) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
                    )
                    .bind(key)
                    .bind(s.kind.name())
                    .bind(date_text(s.start))
                    .bind(date_text(s.end))
                    .bind(span_status(s))
                    .bind(&s.plan_code)
                    .bind(&s.plan_name)
                    .bind(&s.insurance_type)
                    .bind(&s.carrier_code)
                    .bind(&s.carrier_name)
                    .bind(&s.policy_number)
                    .bind(pcp)
                    .execute(&mut *tx)
                    .await?;
                }
            }
            sqlx::query("UPDATE plan_generation SET generation = generation + 1 WHERE id = 1")
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(())
        })
    }

    /// Inserts or updates claims (by payer claim control number), all or none.
    pub async fn upsert_claims(&self, claims: &[Claim]) -> Result<(), StoreError> {
        on_pool!(self, |pool| {
            let mut tx = pool.begin().await?;
            for c in claims {
                sqlx::query(
                    "INSERT INTO claims (payer_claim_number, patient_control_number, provider_id, \
                       member_id, service_from, service_to, billed_cents, paid_cents, status, \
                       received_date, adjudication_date, payment_number, payment_date, \
                       status_code, bill_type) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) \
                     ON CONFLICT (payer_claim_number) DO UPDATE SET \
                       patient_control_number = excluded.patient_control_number, \
                       provider_id = excluded.provider_id, member_id = excluded.member_id, \
                       service_from = excluded.service_from, service_to = excluded.service_to, \
                       billed_cents = excluded.billed_cents, paid_cents = excluded.paid_cents, \
                       status = excluded.status, received_date = excluded.received_date, \
                       adjudication_date = excluded.adjudication_date, \
                       payment_number = excluded.payment_number, \
                       payment_date = excluded.payment_date, status_code = excluded.status_code, \
                       bill_type = excluded.bill_type",
                )
                .bind(&c.payer_claim_number)
                .bind(&c.patient_control_number)
                .bind(&c.provider_id)
                .bind(&c.member_id)
                .bind(date_text(c.service_from))
                .bind(date_text(c.service_to))
                .bind(c.billed_cents)
                .bind(c.paid_cents)
                .bind(c.status.name())
                .bind(date_text(c.received_date))
                .bind(c.adjudication_date.map(date_text))
                .bind(&c.payment_number)
                .bind(c.payment_date.map(date_text))
                .bind(&c.status_code)
                .bind(&c.bill_type)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            Ok(())
        })
    }

    /// Which of `ids` are members on file (the claims loader checks references with it).
    pub async fn existing_member_ids(&self, ids: &[String]) -> Result<Vec<String>, StoreError> {
        self.existing("members", "member_id", ids).await
    }

    /// Which of `ids` are providers on file.
    pub async fn existing_provider_ids(&self, ids: &[String]) -> Result<Vec<String>, StoreError> {
        self.existing("providers", "provider_id", ids).await
    }

    async fn existing(
        &self,
        table: &str,
        column: &str,
        ids: &[String],
    ) -> Result<Vec<String>, StoreError> {
        let mut found = Vec::new();
        // Chunks keep the statement under every backend's parameter limit.
        for chunk in ids.chunks(500) {
            on_pool!(self, |pool| {
                let mut qb =
                    QueryBuilder::new(format!("SELECT {column} FROM {table} WHERE {column} IN ("));
                let mut list = qb.separated(", ");
                for id in chunk {
                    list.push_bind(id.clone());
                }
                qb.push(")");
                for row in qb.build().fetch_all(pool).await? {
                    found.push(row.try_get::<String, _>(0)?);
                }
            });
        }
        Ok(found)
    }

    /// Row counts of the plan tables, for operators (`admin load` prints them).
    pub async fn plan_counts(&self) -> Result<PlanCounts, StoreError> {
        on_pool!(self, |pool| {
            let row = sqlx::query(
                "SELECT (SELECT COUNT(*) FROM providers), (SELECT COUNT(*) FROM members), \
                        (SELECT COUNT(*) FROM member_spans), (SELECT COUNT(*) FROM claims)",
            )
            .fetch_one(pool)
            .await?;
            Ok(PlanCounts {
                providers: row.try_get(0)?,
                members: row.try_get(1)?,
                spans: row.try_get(2)?,
                claims: row.try_get(3)?,
            })
        })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PlanCounts {
    pub providers: i64,
    pub members: i64,
    pub spans: i64,
    pub claims: i64,
}

fn span_status(s: &Span) -> &'static str {
    match (s.kind, s.active) {
        (SpanKind::Coverage, true) => "active",
        (SpanKind::Coverage, false) => "inactive",
        _ => "",
    }
}

fn text<'r, R>(row: &'r R, column: &str) -> Result<String, StoreError>
where
    R: Row,
    for<'c> &'c str: ColumnIndex<R>,
    String: Decode<'r, R::Database> + Type<R::Database>,
{
    Ok(row.try_get::<String, _>(column)?)
}

fn opt_text<'r, R>(row: &'r R, column: &str) -> Result<Option<String>, StoreError>
where
    R: Row,
    for<'c> &'c str: ColumnIndex<R>,
    String: Decode<'r, R::Database> + Type<R::Database>,
{
    Ok(row
        .try_get::<Option<String>, _>(column)?
        .filter(|s| !s.is_empty()))
}

fn date<'r, R>(row: &'r R, column: &str) -> Result<Date, StoreError>
where
    R: Row,
    for<'c> &'c str: ColumnIndex<R>,
    String: Decode<'r, R::Database> + Type<R::Database>,
{
    let v = text(row, column)?;
    parse_date(&v).ok_or_else(|| StoreError::corrupt(format!("{column} is not a date: {v:?}")))
}

fn opt_date<'r, R>(row: &'r R, column: &str) -> Result<Option<Date>, StoreError>
where
    R: Row,
    for<'c> &'c str: ColumnIndex<R>,
    String: Decode<'r, R::Database> + Type<R::Database>,
{
    match opt_text(row, column)? {
        None => Ok(None),
        Some(v) => parse_date(&v)
            .map(Some)
            .ok_or_else(|| StoreError::corrupt(format!("{column} is not a date: {v:?}"))),
    }
}

/// Reads a provider from columns named `<prefix>provider_id` etc.
fn provider_from_row<'r, R>(row: &'r R, prefix: &str) -> Result<Provider, StoreError>
where
    R: Row,
    for<'c> &'c str: ColumnIndex<R>,
    String: Decode<'r, R::Database> + Type<R::Database>,
{
    let col = |c: &str| format!("{prefix}{c}");
    let entity = match text(row, &col("entity_type"))?.as_str() {
        "1" => EntityType::Person,
        _ => EntityType::Organization,
    };
    Ok(Provider {
        provider_id: text(row, &col("provider_id"))?,
        npi: opt_text(row, &col("npi"))?,
        entity,
        name: text(row, &col("name"))?,
        first_name: text(row, &col("first_name"))?,
        active: text(row, &col("status"))? == "active",
    })
}

fn member_from_row<'r, R>(row: &'r R) -> Result<Member, StoreError>
where
    R: Row,
    for<'c> &'c str: ColumnIndex<R>,
    String: Decode<'r, R::Database> + Type<R::Database>,
    i64: Decode<'r, R::Database> + Type<R::Database>,
{
    let gender = text(row, "gender")?;
    Ok(Member {
        key: row.try_get("id")?,
        member_id: text(row, "member_id")?,
        ssn: opt_text(row, "ssn")?,
        dcf_id: opt_text(row, "dcf_id")?,
        dys_id: opt_text(row, "dys_id")?,
        last_name: text(row, "last_name")?,
        first_name: text(row, "first_name")?,
        middle_name: text(row, "middle_name")?,
        birth_date: date(row, "birth_date")?,
        gender: Gender::from_code(&gender)
            .ok_or_else(|| StoreError::corrupt(format!("gender {gender:?}")))?,
        address_line: text(row, "address_line")?,
        city: text(row, "city")?,
        state: text(row, "state")?,
        zip: text(row, "zip")?,
        death_date: opt_date(row, "death_date")?,
    })
}

fn span_from_row<'r, R>(row: &'r R) -> Result<Span, StoreError>
where
    R: Row,
    for<'c> &'c str: ColumnIndex<R>,
    String: Decode<'r, R::Database> + Type<R::Database>,
{
    let kind = text(row, "kind")?;
    let pcp = match opt_text(row, "pcp_provider_id_found")? {
        Some(_) => Some(provider_from_row(row, "pcp_")?),
        None => None,
    };
    Ok(Span {
        kind: SpanKind::from_name(&kind)
            .ok_or_else(|| StoreError::corrupt(format!("span kind {kind:?}")))?,
        start: date(row, "start_date")?,
        end: date(row, "end_date")?,
        active: text(row, "status")? == "active",
        plan_code: text(row, "plan_code")?,
        plan_name: text(row, "plan_name")?,
        insurance_type: text(row, "insurance_type")?,
        carrier_code: text(row, "carrier_code")?,
        carrier_name: text(row, "carrier_name")?,
        policy_number: text(row, "policy_number")?,
        pcp,
    })
}

fn claim_from_row<'r, R>(row: &'r R) -> Result<Claim, StoreError>
where
    R: Row,
    for<'c> &'c str: ColumnIndex<R>,
    String: Decode<'r, R::Database> + Type<R::Database>,
    i64: Decode<'r, R::Database> + Type<R::Database>,
{
    let status = text(row, "status")?;
    Ok(Claim {
        payer_claim_number: text(row, "payer_claim_number")?,
        patient_control_number: text(row, "patient_control_number")?,
        provider_id: text(row, "provider_id")?,
        member_id: text(row, "member_id")?,
        service_from: date(row, "service_from")?,
        service_to: date(row, "service_to")?,
        billed_cents: row.try_get("billed_cents")?,
        paid_cents: row.try_get("paid_cents")?,
        status: ClaimStatus::from_name(&status)
            .ok_or_else(|| StoreError::corrupt(format!("claim status {status:?}")))?,
        received_date: date(row, "received_date")?,
        adjudication_date: opt_date(row, "adjudication_date")?,
        payment_number: opt_text(row, "payment_number")?,
        payment_date: opt_date(row, "payment_date")?,
        status_code: text(row, "status_code")?,
        bill_type: text(row, "bill_type")?,
    })
}
