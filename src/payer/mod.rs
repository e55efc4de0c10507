//! The plan side: answers 270 eligibility inquiries with 271s and 276 claim status requests
//! with 277s from the plan's own data, and loads that data from operators' CSV files.
//!
//! Reading and writing X12 is the engine's job ([`crate::x12`]); this module decides what to
//! answer. Lookups go through [`PlanData`], which the store implements.

pub mod cache;
pub mod claim_status;
pub mod eligibility;
pub mod intake;
pub mod load;
pub mod model;
pub mod respond;
mod write;

use std::future::Future;
use std::sync::Arc;

use time::{Date, OffsetDateTime, Time};

use crate::store::StoreError;
use model::{Claim, ClaimQuery, Member, MemberQuery, Provider, Spans};

pub use respond::{Answer, AnswerKind, respond};

/// The lookups the responders need. Records come back shared (`Arc`), so that a cache can
/// hand out what it holds without copying it for every request.
pub trait PlanData {
    /// Providers (service locations) with this NPI.
    fn providers_by_npi(
        &self,
        npi: &str,
    ) -> impl Future<Output = Result<Arc<[Provider]>, StoreError>> + Send;

    /// The provider with this provider ID / service location.
    fn provider(
        &self,
        provider_id: &str,
    ) -> impl Future<Output = Result<Option<Arc<Provider>>, StoreError>> + Send;

    /// Members matching `query` (at most a page; two or more means "not unique").
    fn members(
        &self,
        query: &MemberQuery<'_>,
    ) -> impl Future<Output = Result<Arc<[Member]>, StoreError>> + Send;

    /// The member's spans overlapping `from..=to`.
    fn spans(
        &self,
        member: i64,
        from: Date,
        to: Date,
    ) -> impl Future<Output = Result<Spans, StoreError>> + Send;

    /// A number that changes whenever providers, members or spans change (caches compare it).
    fn generation(&self) -> impl Future<Output = Result<i64, StoreError>> + Send;

    /// Claims matching every field of `query`.
    fn claims(
        &self,
        query: &ClaimQuery,
    ) -> impl Future<Output = Result<Vec<Claim>, StoreError>> + Send;
}

/// Who the plan is, as the 271/277 names it in loop 2100A.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlanIdentity {
    pub name: String,
    /// Payer identifier (NM109 with NM108 = PI).
    pub payer_id: String,
}

impl Default for PlanIdentity {
    fn default() -> Self {
        Self {
            name: "DEMO HEALTH PLAN".into(),
            payer_id: "DEMOPLAN".into(),
        }
    }
}

/// Everything a response depends on besides the request and the data: who answers, when, to
/// whom, and which control numbers to use. Fixed in tests so answers are reproducible.
#[derive(Clone, Debug)]
pub struct ResponseContext {
    pub plan: PlanIdentity,
    /// The plan's calendar date: "today" for eligibility rules and BHT04.
    pub today: Date,
    pub now: Time,
    /// ISA13 and GS06 of the response.
    pub interchange_control: u32,
    pub group_control: u32,
    /// Provider IDs the requesting partner may inquire for; `None` means any provider on file
    /// (the command line's dry runs). The gateway fills it from the partner's links.
    pub authorized_providers: Option<Vec<String>>,
    /// Write a line break after each segment.
    pub line_breaks: bool,
}

impl ResponseContext {
    /// A context for now, in UTC, with control numbers derived from the clock: fit for the
    /// command line's one-off answers only. The gateway and the batch workers replace them
    /// with numbers from the store's counters, which no other answer carries.
    pub fn now(plan: PlanIdentity) -> Self {
        let now = OffsetDateTime::now_utc();
        let seconds_today = now.time().hour() as u32 * 3600
            + now.time().minute() as u32 * 60
            + now.time().second() as u32;
        Self {
            plan,
            today: now.date(),
            now: now.time(),
            interchange_control: seconds_today + 1,
            group_control: seconds_today + 1,
            authorized_providers: None,
            line_breaks: false,
        }
    }
}

/// `YYYY-MM-DD`, the stores' and the CSV files' date form.
pub fn date_text(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// Parses `YYYY-MM-DD`.
pub fn parse_date(s: &str) -> Option<Date> {
    let b = s.as_bytes();
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    if b.len() != 10
        || b[4] != b'-'
        || b[7] != b'-'
        || !digits(0..4)
        || !digits(5..7)
        || !digits(8..10)
    {
        return None;
    }
    let num = |r: std::ops::Range<usize>| s.get(r)?.parse::<u32>().ok();
    ymd(num(0..4)?, num(5..7)?, num(8..10)?)
}

/// Parses X12 `CCYYMMDD`.
pub fn parse_x12_date(s: &[u8]) -> Option<Date> {
    if s.len() != 8 || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let s = std::str::from_utf8(s).ok()?;
    let num = |r: std::ops::Range<usize>| s.get(r)?.parse::<u32>().ok();
    ymd(num(0..4)?, num(4..6)?, num(6..8)?)
}

/// `CCYYMMDD`, owned (the writers use [`write::x12_date`], which does not allocate).
pub fn x12_date(d: Date) -> String {
    write::x12_date(d).as_str().to_owned()
}

fn ymd(y: u32, m: u32, d: u32) -> Option<Date> {
    let month = time::Month::try_from(u8::try_from(m).ok()?).ok()?;
    Date::from_calendar_date(i32::try_from(y).ok()?, month, u8::try_from(d).ok()?).ok()
}
