//! Operators' CSV files: members (with their spans), providers, claims.
//!
//! A file is checked completely before anything is written; every problem is reported with its
//! line number, and a file with any problem changes nothing (all or nothing per file). Columns
//! are documented in docs/plan-data.md.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::io::Read;

use time::Date;

use super::model::{Claim, ClaimStatus, EntityType, Gender, Member, Provider, Span, SpanKind};
use super::parse_date;
use crate::store::plan::MemberRecord;
use crate::store::{Store, StoreError};
use crate::x12::validate::rules::is_valid_npi;

/// Problems reported before the list is cut short.
pub const MAX_REPORTED: usize = 100;

/// What an operator can load.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    Members,
    Providers,
    Claims,
}

impl FileKind {
    /// Every column of the file, in the documented order.
    pub fn columns(self) -> &'static [&'static str] {
        match self {
            Self::Members => MEMBER_COLUMNS,
            Self::Providers => PROVIDER_COLUMNS,
            Self::Claims => CLAIM_COLUMNS,
        }
    }
}

const MEMBER_COLUMNS: &[&str] = &[
    "record",
    "member_id",
    "last_name",
    "first_name",
    "middle_name",
    "birth_date",
    "gender",
    "ssn",
    "dcf_id",
    "dys_id",
    "address",
    "city",
    "state",
    "zip",
    "death_date",
    "start_date",
    "end_date",
    "status",
    "plan_code",
    "plan_name",
    "insurance_type",
    "carrier_code",
    "carrier_name",
    "policy_number",
    "pcp_provider_id",
];

const PROVIDER_COLUMNS: &[&str] = &[
    "provider_id",
    "npi",
    "entity_type",
    "name",
    "first_name",
    "status",
];

const CLAIM_COLUMNS: &[&str] = &[
    "payer_claim_number",
    "patient_control_number",
    "provider_id",
    "member_id",
    "service_from",
    "service_to",
    "billed",
    "paid",
    "status",
    "received_date",
    "adjudication_date",
    "payment_number",
    "payment_date",
    "status_code",
    "bill_type",
];

/// Columns of each member-file record type besides `record` and `member_id` (others must be
/// empty, so a value in the wrong column is caught rather than ignored).
fn record_columns(kind: Option<SpanKind>) -> &'static [&'static str] {
    match kind {
        None => &[
            "last_name",
            "first_name",
            "middle_name",
            "birth_date",
            "gender",
            "ssn",
            "dcf_id",
            "dys_id",
            "address",
            "city",
            "state",
            "zip",
            "death_date",
        ],
        Some(SpanKind::Coverage) => &[
            "start_date",
            "end_date",
            "status",
            "plan_code",
            "plan_name",
            "insurance_type",
        ],
        Some(SpanKind::OtherInsurance) => &[
            "start_date",
            "end_date",
            "plan_name",
            "insurance_type",
            "carrier_code",
            "carrier_name",
            "policy_number",
        ],
        Some(SpanKind::Qmb) => &["start_date", "end_date"],
        Some(SpanKind::ManagedCare) => &[
            "start_date",
            "end_date",
            "plan_code",
            "plan_name",
            "pcp_provider_id",
        ],
        Some(SpanKind::Pcc) => &["start_date", "end_date", "plan_name", "pcp_provider_id"],
    }
}

/// One problem in a file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// 1-based line in the file (0: the file as a whole).
    pub line: u64,
    pub message: String,
}

/// Why a file was not loaded.
#[derive(Debug)]
pub enum LoadError {
    /// The file has problems; nothing was written. At most [`MAX_REPORTED`] are listed.
    Invalid {
        problems: Vec<Problem>,
        more: usize,
    },
    Store(StoreError),
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Invalid { problems, more } => {
                writeln!(f, "file not loaded (nothing was changed):")?;
                for p in problems {
                    if p.line == 0 {
                        writeln!(f, "  {}", p.message)?;
                    } else {
                        writeln!(f, "  line {}: {}", p.line, p.message)?;
                    }
                }
                if *more > 0 {
                    writeln!(f, "  … and {more} more")?;
                }
                Ok(())
            }
            Self::Store(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for LoadError {}

impl From<StoreError> for LoadError {
    fn from(e: StoreError) -> Self {
        Self::Store(e)
    }
}

/// What a load wrote.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Loaded {
    pub records: usize,
    pub spans: usize,
}

/// Collects problems, keeping the first [`MAX_REPORTED`].
#[derive(Debug, Default)]
struct Problems {
    list: Vec<Problem>,
    more: usize,
}

impl Problems {
    fn add(&mut self, line: u64, message: impl Into<String>) {
        if self.list.len() < MAX_REPORTED {
            self.list.push(Problem {
                line,
                message: message.into(),
            });
        } else {
            self.more += 1;
        }
    }

    fn into_result(mut self) -> Result<(), LoadError> {
        if self.list.is_empty() {
            Ok(())
        } else {
            // Checks run in passes (rows, then references): report in file order.
            self.list.sort_by_key(|p| p.line);
            Err(LoadError::Invalid {
                problems: self.list,
                more: self.more,
            })
        }
    }
}

/// A row with named access and problem reporting.
struct Row<'a> {
    line: u64,
    record: &'a csv::StringRecord,
    index: &'a ColumnIndex,
}

impl Row<'_> {
    fn get(&self, column: &str) -> &str {
        self.index
            .get(column)
            .and_then(|&i| self.record.get(i))
            .map_or("", str::trim)
    }

    fn opt(&self, column: &str) -> Option<String> {
        Some(self.get(column).to_string()).filter(|v| !v.is_empty())
    }

    fn required(&self, column: &str, p: &mut Problems) -> String {
        let v = self.get(column);
        if v.is_empty() {
            p.add(self.line, format!("{column} is required"));
        }
        v.to_string()
    }

    fn date(&self, column: &str, required: bool, p: &mut Problems) -> Option<Date> {
        let v = self.get(column);
        if v.is_empty() {
            if required {
                p.add(self.line, format!("{column} is required (YYYY-MM-DD)"));
            }
            return None;
        }
        let d = parse_date(v);
        if d.is_none() {
            p.add(
                self.line,
                format!("{column} {v:?} is not a date (YYYY-MM-DD)"),
            );
        }
        d
    }

    fn money(&self, column: &str, required: bool, p: &mut Problems) -> Option<i64> {
        let v = self.get(column);
        if v.is_empty() {
            if required {
                p.add(self.line, format!("{column} is required (e.g. 125.50)"));
            }
            return None;
        }
        let c = cents(v);
        if c.is_none() {
            p.add(
                self.line,
                format!("{column} {v:?} is not an amount (digits, at most 2 decimals)"),
            );
        }
        c
    }

    fn must_be_empty(&self, allowed: &[&str], p: &mut Problems) {
        for (&name, _) in self.index.iter() {
            if name != "record"
                && name != "member_id"
                && !allowed.contains(&name)
                && !self.get(name).is_empty()
            {
                p.add(
                    self.line,
                    format!(
                        "{name} does not apply to a {} record: leave it empty",
                        self.get("record")
                    ),
                );
            }
        }
    }
}

/// The date loaded data is judged against (UTC; a birth date cannot be after it).
fn today() -> Date {
    time::OffsetDateTime::now_utc().date()
}

/// `125`, `125.5`, `125.50` → cents.
fn cents(v: &str) -> Option<i64> {
    let (whole, frac) = v.split_once('.').unwrap_or((v, ""));
    if whole.is_empty()
        || whole.len() > 12
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || frac.len() > 2
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let f: i64 = format!("{frac:0<2}").parse().ok()?;
    Some(whole.parse::<i64>().ok()? * 100 + f)
}

/// Column name → position in the file.
type ColumnIndex = HashMap<&'static str, usize>;
/// Non-blank rows with their line numbers.
type Rows = Vec<(u64, csv::StringRecord)>;

/// Reads the rows of a CSV file of `kind`, checking the header.
fn read_rows(input: impl Read, kind: FileKind) -> Result<(ColumnIndex, Rows), LoadError> {
    let mut problems = Problems::default();
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .trim(csv::Trim::All)
        .from_reader(input);
    let known = kind.columns();
    let mut index = HashMap::new();
    match reader.headers() {
        Ok(h) => {
            for (i, name) in h.iter().enumerate() {
                let name = name.trim().trim_start_matches('\u{feff}');
                match known.iter().find(|k| k.eq_ignore_ascii_case(name)) {
                    Some(k) if index.contains_key(k) => {
                        problems.add(1, format!("column {name} appears twice"))
                    }
                    Some(k) => {
                        index.insert(*k, i);
                    }
                    None => problems.add(
                        1,
                        format!(
                            "unknown column {name:?}; the columns are: {}",
                            known.join(", ")
                        ),
                    ),
                }
            }
        }
        Err(e) => problems.add(1, format!("cannot read the header: {e}")),
    }
    // Every column must be named: a column left out would silently clear what is on file,
    // because a row replaces the whole record.
    for column in known {
        if !index.contains_key(column) && !problems.list.iter().any(|p| p.line == 1) {
            problems.add(
                1,
                format!(
                    "column {column} is missing: the header must name every column (any order), \
                     values may be empty"
                ),
            );
        }
    }
    let mut rows = Vec::new();
    for result in reader.records() {
        match result {
            Ok(r) => {
                let line = r.position().map_or(0, |p| p.line());
                if r.iter().all(|f| f.trim().is_empty()) {
                    continue;
                }
                rows.push((line, r));
            }
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                let why = match e.kind() {
                    csv::ErrorKind::UnequalLengths {
                        expected_len, len, ..
                    } => format!("{len} fields, the header has {expected_len}"),
                    csv::ErrorKind::Utf8 { .. } => "not UTF-8 text".to_string(),
                    _ => e.to_string(),
                };
                problems.add(line, why);
            }
        }
    }
    if rows.is_empty() && problems.list.is_empty() {
        problems.add(0, "the file has no rows");
    }
    problems.into_result()?;
    Ok((index, rows))
}

/// Loads a providers file (insert or update by provider_id).
pub async fn load_providers(store: &Store, input: impl Read) -> Result<Loaded, LoadError> {
    let (index, rows) = read_rows(input, FileKind::Providers)?;
    let mut p = Problems::default();
    let mut seen = HashSet::new();
    let mut providers = Vec::new();
    for (line, record) in &rows {
        let row = Row {
            line: *line,
            record,
            index: &index,
        };
        let provider_id = row.required("provider_id", &mut p);
        if !provider_id.is_empty()
            && (provider_id.len() != 10 || !provider_id.bytes().all(|b| b.is_ascii_alphanumeric()))
        {
            p.add(
                *line,
                format!(
                    "provider_id {provider_id:?} must be 10 letters or digits (provider ID and service location)"
                ),
            );
        }
        if !provider_id.is_empty() && !seen.insert(provider_id.clone()) {
            p.add(*line, format!("provider_id {provider_id} appears twice"));
        }
        let npi = row.opt("npi");
        if let Some(n) = &npi
            && !is_valid_npi(n.as_bytes())
        {
            p.add(
                *line,
                format!("npi {n:?} is not a valid NPI (10 digits, Luhn check digit)"),
            );
        }
        let entity = match row.get("entity_type") {
            "1" => EntityType::Person,
            "2" => EntityType::Organization,
            other => {
                p.add(
                    *line,
                    format!("entity_type {other:?} must be 1 (person) or 2 (organization)"),
                );
                EntityType::Organization
            }
        };
        let name = row.required("name", &mut p);
        let active = match row.get("status") {
            "" | "active" => true,
            "inactive" => false,
            other => {
                p.add(
                    *line,
                    format!("status {other:?} must be active or inactive"),
                );
                true
            }
        };
        providers.push(Provider {
            provider_id,
            npi,
            entity,
            name,
            first_name: row.get("first_name").to_string(),
            active,
        });
    }
    p.into_result()?;
    store.upsert_providers(&providers).await?;
    Ok(Loaded {
        records: providers.len(),
        spans: 0,
    })
}

/// Loads a members file: each member listed is inserted or updated, and its spans are replaced
/// by the ones in the file.
pub async fn load_members(store: &Store, input: impl Read) -> Result<Loaded, LoadError> {
    let (index, rows) = read_rows(input, FileKind::Members)?;
    let mut p = Problems::default();
    let mut records: Vec<MemberRecord> = Vec::new();
    let mut by_id: HashMap<String, usize> = HashMap::new();
    let mut spans: Vec<(u64, String, Span, String)> = Vec::new();
    // Members whose own row is in error: their span rows are not reported again for it.
    let mut rejected: HashSet<String> = HashSet::new();
    for (line, record) in &rows {
        let row = Row {
            line: *line,
            record,
            index: &index,
        };
        let member_id = row.required("member_id", &mut p);
        let kind = match row.get("record") {
            "member" => None,
            other => match SpanKind::from_name(other) {
                Some(k) => Some(k),
                None => {
                    p.add(
                        *line,
                        format!(
                            "record {other:?} must be member, coverage, other_insurance, qmb, managed_care or pcc"
                        ),
                    );
                    continue;
                }
            },
        };
        row.must_be_empty(record_columns(kind), &mut p);
        match kind {
            None => {
                let m = member_row(&row, member_id.clone(), &mut p);
                if m.is_none() {
                    rejected.insert(member_id.clone());
                }
                if let Some(m) = m {
                    match by_id.entry(member_id) {
                        Entry::Occupied(e) => {
                            p.add(*line, format!("member {} appears twice", e.key()))
                        }
                        Entry::Vacant(e) => {
                            e.insert(records.len());
                            records.push(MemberRecord {
                                member: m,
                                spans: Vec::new(),
                            });
                        }
                    }
                }
            }
            Some(kind) => {
                if let Some((span, pcp)) = span_row(&row, kind, &mut p) {
                    spans.push((*line, member_id, span, pcp));
                }
            }
        }
    }
    // PCPs must be providers on file.
    let pcps: Vec<String> = spans
        .iter()
        .map(|s| s.3.clone())
        .filter(|s| !s.is_empty())
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let known: HashSet<String> = store
        .existing_provider_ids(&pcps)
        .await?
        .into_iter()
        .collect();
    let span_count = spans.len();
    for (line, member_id, span, pcp) in spans {
        if !pcp.is_empty() && !known.contains(&pcp) {
            p.add(
                line,
                format!("pcp_provider_id {pcp} is not a provider on file (load providers first)"),
            );
        }
        match by_id.get(&member_id) {
            Some(&i) => records[i].spans.push((span, pcp)),
            None if rejected.contains(&member_id) => {}
            None => p.add(
                line,
                format!(
                    "no member record for {member_id} in this file: a file replaces the spans of the members it lists, so each needs its member row"
                ),
            ),
        }
    }
    p.into_result()?;
    store.replace_members(&records).await?;
    Ok(Loaded {
        records: records.len(),
        spans: span_count,
    })
}

/// Member IDs: 2 to 20 letters or digits (NM109 carries them; the guide's minimum is 2).
fn check_member_id(row: &Row<'_>, id: &str, p: &mut Problems) {
    if !id.is_empty() && !(2..=20).contains(&id.len())
        || !id.bytes().all(|b| b.is_ascii_alphanumeric())
    {
        p.add(
            row.line,
            format!("member_id {id:?} must be 2 to 20 letters or digits"),
        );
    }
}

fn member_row(row: &Row<'_>, member_id: String, p: &mut Problems) -> Option<Member> {
    let before = p.list.len() + p.more;
    check_member_id(row, &member_id, p);
    let last_name = row.required("last_name", p);
    let first_name = row.required("first_name", p);
    let birth_date = row.date("birth_date", true, p);
    let gender = Gender::from_code(row.get("gender"));
    if gender.is_none() {
        p.add(
            row.line,
            format!("gender {:?} must be F, M or U", row.get("gender")),
        );
    }
    let ssn = row.opt("ssn");
    if let Some(s) = &ssn
        && (s.len() != 9 || !s.bytes().all(|b| b.is_ascii_digit()))
    {
        p.add(row.line, "ssn must be 9 digits, no dashes");
    }
    let death_date = row.date("death_date", false, p);
    if let Some(b) = birth_date {
        if b.year() < 1880 || b > today() {
            p.add(
                row.line,
                format!("birth_date {} is not plausible", super::date_text(b)),
            );
        }
        if death_date.is_some_and(|d| d < b) {
            p.add(row.line, "death_date is before birth_date");
        }
    }
    if before != p.list.len() + p.more {
        return None;
    }
    Some(Member {
        key: 0,
        member_id,
        ssn,
        dcf_id: row.opt("dcf_id"),
        dys_id: row.opt("dys_id"),
        last_name,
        first_name,
        middle_name: row.get("middle_name").to_string(),
        birth_date: birth_date?,
        gender: gender?,
        address_line: row.get("address").to_string(),
        city: row.get("city").to_string(),
        state: row.get("state").to_string(),
        zip: row.get("zip").to_string(),
        death_date,
    })
}

fn span_row(row: &Row<'_>, kind: SpanKind, p: &mut Problems) -> Option<(Span, String)> {
    let before = p.list.len() + p.more;
    let start = row.date("start_date", true, p);
    let end = row.date("end_date", true, p);
    if let (Some(s), Some(e)) = (start, end)
        && e < s
    {
        p.add(row.line, "end_date is before start_date");
    }
    let active = match (kind, row.get("status")) {
        (SpanKind::Coverage, "active") => true,
        (SpanKind::Coverage, "inactive") => false,
        (SpanKind::Coverage, other) => {
            p.add(
                row.line,
                format!("status {other:?} must be active or inactive"),
            );
            false
        }
        _ => false,
    };
    let mut plan_name = row.get("plan_name").to_string();
    let plan_code = row.get("plan_code").to_string();
    let mut insurance_type = row.get("insurance_type").to_string();
    match kind {
        SpanKind::OtherInsurance => {
            row.required("carrier_code", p);
            row.required("carrier_name", p);
        }
        SpanKind::ManagedCare => {
            row.required("plan_code", p);
            row.required("plan_name", p);
        }
        SpanKind::Pcc => {
            row.required("pcp_provider_id", p);
            if plan_name.is_empty() {
                plan_name = "PRIMARY CARE CLINICIAN PLAN".into();
            }
        }
        SpanKind::Coverage if insurance_type.is_empty() => insurance_type = "MC".into(),
        _ => {}
    }
    if !insurance_type.is_empty()
        && (insurance_type.len() > 3 || !insurance_type.bytes().all(|b| b.is_ascii_alphanumeric()))
    {
        p.add(
            row.line,
            format!("insurance_type {insurance_type:?} must be an X12 insurance type code (e.g. MC, HM, MB)"),
        );
    }
    if before != p.list.len() + p.more {
        return None;
    }
    Some((
        Span {
            kind,
            start: start?,
            end: end?,
            active,
            plan_code,
            plan_name,
            insurance_type,
            carrier_code: row.get("carrier_code").to_string(),
            carrier_name: row.get("carrier_name").to_string(),
            policy_number: row.get("policy_number").to_string(),
            pcp: None,
        },
        row.get("pcp_provider_id").to_string(),
    ))
}

/// Loads a claims file (insert or update by payer_claim_number).
pub async fn load_claims(store: &Store, input: impl Read) -> Result<Loaded, LoadError> {
    let (index, rows) = read_rows(input, FileKind::Claims)?;
    let mut p = Problems::default();
    let mut seen = HashSet::new();
    let mut claims: Vec<(u64, Claim)> = Vec::new();
    for (line, record) in &rows {
        let row = Row {
            line: *line,
            record,
            index: &index,
        };
        if let Some(c) = claim_row(&row, &mut p) {
            if !seen.insert(c.payer_claim_number.clone()) {
                p.add(
                    *line,
                    format!("payer_claim_number {} appears twice", c.payer_claim_number),
                );
            }
            claims.push((*line, c));
        }
    }
    let ids = |f: fn(&Claim) -> &String| -> Vec<String> {
        claims
            .iter()
            .map(|(_, c)| f(c).clone())
            .collect::<HashSet<_>>()
            .into_iter()
            .collect()
    };
    let members: HashSet<String> = store
        .existing_member_ids(&ids(|c| &c.member_id))
        .await?
        .into_iter()
        .collect();
    let providers: HashSet<String> = store
        .existing_provider_ids(&ids(|c| &c.provider_id))
        .await?
        .into_iter()
        .collect();
    for (line, c) in &claims {
        if !members.contains(&c.member_id) {
            p.add(
                *line,
                format!("member_id {} is not a member on file", c.member_id),
            );
        }
        if !providers.contains(&c.provider_id) {
            p.add(
                *line,
                format!("provider_id {} is not a provider on file", c.provider_id),
            );
        }
    }
    p.into_result()?;
    let claims: Vec<Claim> = claims.into_iter().map(|(_, c)| c).collect();
    store.upsert_claims(&claims).await?;
    Ok(Loaded {
        records: claims.len(),
        spans: 0,
    })
}

fn claim_row(row: &Row<'_>, p: &mut Problems) -> Option<Claim> {
    let before = p.list.len() + p.more;
    let payer_claim_number = row.required("payer_claim_number", p);
    let patient_control_number = row.required("patient_control_number", p);
    let provider_id = row.required("provider_id", p);
    let member_id = row.required("member_id", p);
    check_member_id(row, &member_id, p);
    let service_from = row.date("service_from", true, p);
    let service_to = row.date("service_to", false, p).or(service_from);
    if let (Some(f), Some(t)) = (service_from, service_to)
        && t < f
    {
        p.add(row.line, "service_to is before service_from");
    }
    let billed = row.money("billed", true, p);
    let status = ClaimStatus::from_name(row.get("status"));
    if status.is_none() {
        p.add(
            row.line,
            format!(
                "status {:?} must be received, suspended, paid or denied",
                row.get("status")
            ),
        );
    }
    let finalized = matches!(status, Some(ClaimStatus::Paid | ClaimStatus::Denied));
    let paid_status = status == Some(ClaimStatus::Paid);
    let paid = row.money("paid", paid_status, p).unwrap_or(0);
    let received_date = row.date("received_date", true, p);
    let adjudication_date = row.date("adjudication_date", finalized, p);
    let payment_number = row.opt("payment_number");
    let payment_date = row.date("payment_date", paid_status, p);
    if paid_status && payment_number.is_none() {
        p.add(
            row.line,
            "payment_number (check or EFT number) is required for a paid claim",
        );
    }
    if !paid_status && (paid != 0 || payment_number.is_some() || payment_date.is_some()) {
        p.add(
            row.line,
            "paid, payment_number and payment_date apply only to paid claims",
        );
    }
    if !finalized && adjudication_date.is_some() {
        p.add(
            row.line,
            "adjudication_date applies only to paid or denied claims",
        );
    }
    let order = [
        ("received_date", received_date, "service_from", service_from),
        (
            "adjudication_date",
            adjudication_date,
            "received_date",
            received_date,
        ),
        (
            "payment_date",
            payment_date,
            "adjudication_date",
            adjudication_date,
        ),
    ];
    for (later, a, earlier, b) in order {
        if let (Some(a), Some(b)) = (a, b)
            && a < b
        {
            p.add(row.line, format!("{later} is before {earlier}"));
        }
    }
    if let Some(b) = billed
        && paid > b
    {
        p.add(row.line, "paid is more than billed");
    }
    let mut status_code = row.get("status_code").to_string();
    if status_code.is_empty() {
        // Stored explicitly, so the database says what the 277 will report.
        status_code = match status {
            Some(ClaimStatus::Received) => "20",
            Some(ClaimStatus::Suspended) => "46",
            Some(ClaimStatus::Paid) => "65",
            _ => "",
        }
        .to_string();
    }
    if status == Some(ClaimStatus::Denied) && status_code.is_empty() {
        p.add(
            row.line,
            "status_code (the denial reason, X12 claim status code) is required for a denied claim",
        );
    }
    if !status_code.is_empty()
        && (status_code.len() > 5 || !status_code.bytes().all(|b| b.is_ascii_digit()))
    {
        p.add(
            row.line,
            format!("status_code {status_code:?} must be an X12 claim status code (digits)"),
        );
    }
    if before != p.list.len() + p.more {
        return None;
    }
    Some(Claim {
        payer_claim_number,
        patient_control_number,
        provider_id,
        member_id,
        service_from: service_from?,
        service_to: service_to?,
        billed_cents: billed?,
        paid_cents: paid,
        status: status?,
        received_date: received_date?,
        adjudication_date,
        payment_number,
        payment_date,
        status_code,
        bill_type: row.get("bill_type").to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::cents;

    #[test]
    fn amounts_in_cents() {
        assert_eq!(cents("125"), Some(12500));
        assert_eq!(cents("125.5"), Some(12550));
        assert_eq!(cents("0.07"), Some(7));
        assert_eq!(cents("1.234"), None);
        assert_eq!(cents("-1"), None);
        assert_eq!(cents(".5"), None);
        assert_eq!(cents("1e3"), None);
    }
}
