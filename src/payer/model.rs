//! The plan's records as the responders see them, whatever store holds them.

use std::sync::Arc;

use time::Date;

/// A provider or service location that may send inquiries and bill claims.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Provider {
    /// Provider ID / service location (the 10 characters that start ISA06).
    pub provider_id: String,
    pub npi: Option<String>,
    pub entity: EntityType,
    /// Last name of a person, or the organization's name.
    pub name: String,
    pub first_name: String,
    pub active: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntityType {
    Person,
    Organization,
}

impl EntityType {
    /// NM102 (1065).
    pub fn code(self) -> &'static str {
        match self {
            Self::Person => "1",
            Self::Organization => "2",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Gender {
    Female,
    Male,
    Unknown,
}

impl Gender {
    /// DMG03 (1068) and the loaders' column.
    pub fn code(self) -> &'static str {
        match self {
            Self::Female => "F",
            Self::Male => "M",
            Self::Unknown => "U",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        match code {
            "F" => Some(Self::Female),
            "M" => Some(Self::Male),
            "U" => Some(Self::Unknown),
            _ => None,
        }
    }
}

/// A member (in Medicaid every member is a subscriber with an ID of their own).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    /// Store key, used to fetch spans.
    pub key: i64,
    pub member_id: String,
    pub ssn: Option<String>,
    pub dcf_id: Option<String>,
    pub dys_id: Option<String>,
    pub last_name: String,
    pub first_name: String,
    pub middle_name: String,
    pub birth_date: Date,
    pub gender: Gender,
    pub address_line: String,
    pub city: String,
    pub state: String,
    pub zip: String,
    pub death_date: Option<Date>,
}

/// What a member span records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SpanKind {
    /// Eligibility under a plan, active or inactive.
    Coverage,
    /// Insurance with another carrier (coordination of benefits).
    OtherInsurance,
    /// Qualified Medicare Beneficiary.
    Qmb,
    /// Enrollment in a managed-care organization.
    ManagedCare,
    /// Enrollment in the Primary Care Clinician plan.
    Pcc,
}

impl SpanKind {
    pub const ALL: [Self; 5] = [
        Self::Coverage,
        Self::OtherInsurance,
        Self::Qmb,
        Self::ManagedCare,
        Self::Pcc,
    ];

    /// The store's and the loaders' name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Coverage => "coverage",
            Self::OtherInsurance => "other_insurance",
            Self::Qmb => "qmb",
            Self::ManagedCare => "managed_care",
            Self::Pcc => "pcc",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.name() == name)
    }
}

/// One dated fact about a member; which fields matter depends on `kind`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Span {
    pub kind: SpanKind,
    pub start: Date,
    pub end: Date,
    /// Coverage only: active (`true`) or inactive.
    pub active: bool,
    pub plan_code: String,
    pub plan_name: String,
    /// X12 insurance type code (1336), e.g. `MC` Medicaid, `HM` HMO, `MB` Medicare Part B.
    pub insurance_type: String,
    pub carrier_code: String,
    pub carrier_name: String,
    pub policy_number: String,
    /// Primary care provider (managed care and PCC), resolved from the provider file.
    pub pcp: Option<Provider>,
}

impl Span {
    pub fn overlaps(&self, from: Date, to: Date) -> bool {
        self.start <= to && self.end >= from
    }
}

/// A member's spans overlapping the dates asked, as [`super::PlanData::spans`] gives them:
/// shared with the cache (all of the member's spans) and filtered as they are read, so that an
/// answer copies none.
#[derive(Clone)]
pub struct Spans {
    all: Arc<[Span]>,
    from: Date,
    to: Date,
}

impl Spans {
    /// The spans of `all` that overlap `from..=to`.
    pub fn new(all: impl Into<Arc<[Span]>>, from: Date, to: Date) -> Self {
        Self {
            all: all.into(),
            from,
            to,
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = &Span> + Clone {
        let (from, to) = (self.from, self.to);
        self.all.iter().filter(move |s| s.overlaps(from, to))
    }

    pub fn len(&self) -> usize {
        self.iter().count()
    }

    pub fn is_empty(&self) -> bool {
        self.iter().next().is_none()
    }

    pub fn to_vec(&self) -> Vec<Span> {
        self.iter().cloned().collect()
    }
}

impl std::fmt::Debug for Spans {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// Where a claim stands in adjudication.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClaimStatus {
    /// Received, not yet adjudicated.
    Received,
    /// Suspended (pended) for review.
    Suspended,
    Paid,
    Denied,
}

impl ClaimStatus {
    pub const ALL: [Self; 4] = [Self::Received, Self::Suspended, Self::Paid, Self::Denied];

    pub fn name(self) -> &'static str {
        match self {
            Self::Received => "received",
            Self::Suspended => "suspended",
            Self::Paid => "paid",
            Self::Denied => "denied",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.name() == name)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Claim {
    pub payer_claim_number: String,
    pub patient_control_number: String,
    pub provider_id: String,
    pub member_id: String,
    pub service_from: Date,
    pub service_to: Date,
    pub billed_cents: i64,
    pub paid_cents: i64,
    pub status: ClaimStatus,
    pub received_date: Date,
    pub adjudication_date: Option<Date>,
    /// Check or EFT trace number of the payment.
    pub payment_number: Option<String>,
    pub payment_date: Option<Date>,
    /// Claim status code (external code list 508): the detail, e.g. the denial reason.
    pub status_code: String,
    pub bill_type: String,
}

/// How a 270 or 276 names a member (borrowed from the request: a lookup copies nothing).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MemberQuery<'a> {
    MemberId(&'a str),
    Ssn(&'a str),
    /// A DCF or DYS identifier.
    AgencyId(&'a str),
    /// Normalized last name (see [`name_key`]) and date of birth; first name and gender are
    /// compared by the caller, so that it can tell "not found" from "does not match".
    NameAndBirth {
        name_key: &'a str,
        birth_date: Date,
    },
}

/// What a 276 gives to find claims; a claim must match every field given.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClaimQuery {
    pub member_id: String,
    pub provider_ids: Vec<String>,
    pub payer_claim_number: Option<String>,
    pub patient_control_number: Option<String>,
    /// Service dates overlapping this range.
    pub service: Option<(Date, Date)>,
}

/// The comparable form of a name: upper-case letters and digits only, and a trailing
/// generational suffix dropped, so that "O'Brien", "OBRIEN JR" and "o brien" match (the spirit
/// of CAQH CORE's rule for normalizing last names).
pub fn name_key(name: &str) -> String {
    name_key_chars(name).collect()
}

/// The characters of [`name_key`]`(name)`, without building it: the responders compare keys
/// on every lookup.
pub fn name_key_chars(name: &str) -> impl Iterator<Item = char> + Clone + '_ {
    const SUFFIXES: [&str; 7] = ["JR", "SR", "II", "III", "IV", "V", "2ND"];
    let b = name.as_bytes();
    // Words are runs of letters, digits and apostrophes (other bytes, non-ASCII included,
    // separate them); only words with a letter or digit count. Found from the end: the last
    // one is dropped when it is a suffix and another word precedes it.
    let last = words_from_end(b).next();
    let kept = match last {
        Some((start, end))
            if words_from_end(&b[..start]).next().is_some()
                && SUFFIXES.iter().any(|s| {
                    b[start..end]
                        .iter()
                        .filter(|c| c.is_ascii_alphanumeric())
                        .map(u8::to_ascii_uppercase)
                        .eq(s.bytes())
                }) =>
        {
            &b[..start]
        }
        _ => b,
    };
    kept.iter()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| char::from(c.to_ascii_uppercase()))
}

/// The byte ranges of the words of `b` with a letter or digit in them, last first.
fn words_from_end(b: &[u8]) -> impl Iterator<Item = (usize, usize)> + '_ {
    let in_word = |c: &u8| c.is_ascii_alphanumeric() || *c == b'\'';
    let mut end = b.len();
    std::iter::from_fn(move || {
        loop {
            end = b[..end].iter().rposition(in_word)? + 1;
            let start = b[..end]
                .iter()
                .rposition(|c| !in_word(c))
                .map_or(0, |i| i + 1);
            let word = (start, end);
            end = start;
            if b[word.0..word.1].iter().any(u8::is_ascii_alphanumeric) {
                return Some(word);
            }
        }
    })
}

/// Whether the name has no key (no letters or digits).
pub fn name_key_is_empty(name: &str) -> bool {
    name_key_chars(name).next().is_none()
}

/// Whether two names have the same key.
pub fn same_name_key(a: &str, b: &str) -> bool {
    name_key_chars(a).eq(name_key_chars(b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The first implementation, kept as the reference for [`name_key`].
    fn name_key_reference(name: &str) -> String {
        const SUFFIXES: [&str; 7] = ["JR", "SR", "II", "III", "IV", "V", "2ND"];
        let mut words: Vec<String> = name
            .split(|c: char| !c.is_ascii_alphanumeric() && c != '\'')
            .map(|w| {
                w.chars()
                    .filter(char::is_ascii_alphanumeric)
                    .map(|c| c.to_ascii_uppercase())
                    .collect::<String>()
            })
            .filter(|w| !w.is_empty())
            .collect();
        if words.len() > 1 && words.last().is_some_and(|w| SUFFIXES.contains(&w.as_str())) {
            words.pop();
        }
        words.concat()
    }

    #[test]
    fn name_keys() {
        for (name, key) in [
            ("O'Brien", "OBRIEN"),
            ("obrien jr", "OBRIEN"),
            ("o brien", "OBRIEN"),
            ("Jr", "JR"),
            ("Smith, J.R.", "SMITHJR"),
            ("King III.", "KING"),
            ("King 'iii'", "KING"),
            ("  ", ""),
            ("'", ""),
            ("Li V ''", "LI"),
            ("Müller 2nd", "MLLER"),
        ] {
            assert_eq!(name_key(name), key, "{name}");
            assert_eq!(name_key_reference(name), key, "{name}");
        }
        assert!(same_name_key("O'Brien Jr", "OBRIEN"));
        assert!(name_key_is_empty(" - '"));
    }

    proptest! {
        #[test]
        fn name_key_matches_reference(name in "[a-zA-Z0-9' .,\\-é]{0,20}|(JR|SR|II|III|IV|V|2ND|jr|v|[a-z']{1,4}|[ ,.'-]){0,6}") {
            prop_assert_eq!(name_key(&name), name_key_reference(&name));
        }
    }
}
