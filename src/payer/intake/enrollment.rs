//! 834 (005010X220A1) → the enrollment changes it asks for, one per INS loop (2000).
//!
//! 834 files are rarely large (a plan's daily changes), and applying one is a single
//! transaction anyway, so the changes of one file are held in memory: about 1 KB per member.
//! [`MAX_MEMBER_CHANGES`] bounds that; a file beyond it is refused as a whole, with an error
//! saying so, rather than applied in part.
//!
//! What is read, by loop:
//! - 2000: INS01 (subscriber or dependent), INS03 maintenance type, INS11/INS12 death date;
//!   REF*0F subscriber ID, REF*23 client number, REF*1L policy number; DTP*356/357/303
//!   eligibility begin/end and maintenance effective dates;
//! - 2100A (NM1*IL or NM1*74, the corrected name): name, NM109 (SSN when NM108 = 34, the
//!   member's own ID when ZZ), N3/N4 residence address, DMG birth date and gender. The other
//!   2100 loops (incorrect name, mailing address, employer, school, parents, responsible
//!   persons, drop-off location) describe someone or somewhere else and are skipped;
//! - 2300: HD01 maintenance type, HD03 insurance line, HD04 plan description; REF*CE class of
//!   contract, REF*1L policy number; DTP*348 benefit begin, DTP*349 benefit end. Its 2310
//!   providers and 2320/2330 coordination of benefits are not read.
//!
//! Who a change is about: a subscriber (INS01 = Y) by REF*0F, as a Medicaid plan's members are
//! all subscribers with their own IDs. A dependent (INS01 = N) carries the subscriber's ID in
//! REF*0F, so its own ID comes from NM109 with NM108 = ZZ, else REF*23 (client number); the TR3
//! leaves the dependent's identifier to trading-partner agreement, and these are the two places
//! it allows. A dependent with neither has no member ID and is skipped when applied.

use time::Date;

use super::{Envelope, Event, SetPosition, date_range, lex_all, opt_text, text};
use crate::payer::model::Gender;
use crate::payer::parse_x12_date;
use crate::x12::lexer::Lexeme;
use crate::x12::segment::Segment;

/// Most INS loops one 834 payload may carry (see the module docs).
pub const MAX_MEMBER_CHANGES: usize = 1_000_000;

/// Coverage loops (HD) kept per member: the TR3 allows 99.
const MAX_COVERAGES: usize = 99;

/// INS03 / HD01 (875).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Maintenance {
    /// 001 change (also 026 correction).
    Change,
    /// 021 addition.
    Add,
    /// 024 cancellation or termination (also HD 002 delete: coverage is ended, never erased, so
    /// that eligibility for past dates is still answered).
    Terminate,
    /// 025 reinstatement.
    Reinstate,
    /// 030 audit or compare: the member and coverage as they should be. Applied as an upsert;
    /// members missing from an audit file are left alone (the file may be partial).
    Audit,
}

impl Maintenance {
    /// Codes outside the TR3's lists (validation rejects them) read as a change.
    fn from_code(code: &[u8]) -> Self {
        match code {
            b"021" => Self::Add,
            b"024" | b"002" => Self::Terminate,
            b"025" => Self::Reinstate,
            b"030" => Self::Audit,
            _ => Self::Change,
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Address {
    /// N301 and N302, joined by a space.
    pub line: String,
    pub city: String,
    pub state: String,
    pub zip: String,
}

/// One HD loop (2300).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Coverage {
    pub maintenance: Maintenance,
    /// HD03 (1205), e.g. HLT, HMO, DEN.
    pub insurance_line: String,
    /// HD04, free text.
    pub description: String,
    /// REF*CE in 2300.
    pub class_of_contract: Option<String>,
    /// REF*1L in 2300, else the member's REF*1L.
    pub policy_number: Option<String>,
    /// DTP*348.
    pub begin: Option<Date>,
    /// DTP*349.
    pub end: Option<Date>,
}

impl Coverage {
    /// The span's plan code: the class of contract when sent (plans use it for the benefit
    /// plan), else the insurance line (so that a member's health and dental lines stay apart).
    pub fn plan_code(&self) -> &str {
        self.class_of_contract
            .as_deref()
            .unwrap_or(&self.insurance_line)
    }

    /// The X12 insurance type (1336) the 271 reports for this line. Managed-care lines map to
    /// their 1336 counterparts; everything else is the plan's own (Medicaid) coverage, `MC`,
    /// as the members loader defaults it.
    pub fn insurance_type(&self) -> &'static str {
        match self.insurance_line.as_str() {
            "HMO" => "HM",
            "PPO" => "PR",
            "POS" => "PS",
            "EPO" => "EP",
            _ => "MC",
        }
    }
}

/// One INS loop: what to do to one member.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemberChange {
    /// 1-based position of the INS among all INS loops of the payload.
    pub ordinal: u64,
    pub set: SetPosition,
    /// INS01 = Y.
    pub subscriber: bool,
    pub maintenance: Maintenance,
    /// The member's own ID (see the module docs); empty when none was sent.
    pub member_id: String,
    /// REF*0F.
    pub subscriber_id: String,
    pub last_name: Option<String>,
    pub first_name: Option<String>,
    pub middle_name: Option<String>,
    /// NM109 when NM108 = 34.
    pub ssn: Option<String>,
    pub birth_date: Option<Date>,
    pub gender: Option<Gender>,
    pub address: Option<Address>,
    /// INS12 when INS11 = D8.
    pub death_date: Option<Date>,
    /// DTP*356.
    pub eligibility_begin: Option<Date>,
    /// DTP*357.
    pub eligibility_end: Option<Date>,
    /// DTP*303.
    pub effective: Option<Date>,
    pub coverages: Vec<Coverage>,
}

impl MemberChange {
    /// When a termination takes effect for `coverage` (or for the member, `None`): the benefit
    /// end date, else the eligibility end date, else the maintenance effective date.
    pub fn end_date(&self, coverage: Option<&Coverage>) -> Option<Date> {
        coverage
            .and_then(|c| c.end)
            .or(self.eligibility_end)
            .or(self.effective)
    }

    /// When an added or reinstated coverage starts: the benefit begin date, else the
    /// eligibility begin date, else the maintenance effective date.
    pub fn begin_date(&self, coverage: &Coverage) -> Option<Date> {
        coverage.begin.or(self.eligibility_begin).or(self.effective)
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EnrollmentError {
    #[error(
        "the 834 has more than {limit} member loops (INS); split it into smaller files \
         (one submission is applied in one transaction)"
    )]
    TooManyMembers { limit: usize },
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Place {
    /// Header, or a loop this extractor does not read.
    #[default]
    Other,
    /// 2000 before any 2100 loop.
    Member,
    /// 2100A.
    MemberName,
    /// Another 2100 loop.
    OtherName,
    /// 2300 (HD and its own segments).
    Coverage,
    /// 2310, 2320, 2330, 2700: below the coverage, not read.
    CoverageDetail,
}

/// Reads the INS loops of 834 sets, fed the payload's lexemes in order.
#[derive(Debug)]
pub struct EnrollmentExtractor {
    env: Envelope,
    reading: bool,
    place: Place,
    member_ids: MemberIds,
    open: Option<MemberChange>,
    changes: Vec<MemberChange>,
    seen: u64,
    limit: usize,
}

/// The identifiers of the open INS loop, resolved into `member_id` when it closes.
#[derive(Debug, Default)]
struct MemberIds {
    own_nm109: Option<String>,
    client_number: Option<String>,
    member_policy: Option<String>,
}

impl Default for EnrollmentExtractor {
    fn default() -> Self {
        Self::with_limit(MAX_MEMBER_CHANGES)
    }
}

impl EnrollmentExtractor {
    pub fn new() -> Self {
        Self::default()
    }

    /// An extractor that refuses more than `limit` INS loops.
    pub fn with_limit(limit: usize) -> Self {
        Self {
            env: Envelope::default(),
            reading: false,
            place: Place::Other,
            member_ids: MemberIds::default(),
            open: None,
            changes: Vec::new(),
            seen: 0,
            limit,
        }
    }

    /// Takes the next lexeme of the payload.
    pub fn push(&mut self, lexeme: &Lexeme<'_>) -> Result<(), EnrollmentError> {
        match self.env.lexeme(lexeme) {
            Event::Outside => {}
            Event::SetEnd => {
                self.close();
                self.reading = false;
            }
            Event::SetStart(st) => {
                self.close();
                self.reading = st.element(1) == b"834";
                self.place = Place::Other;
            }
            Event::Body(seg) if self.reading => return self.body(&seg),
            Event::Body(_) => {}
        }
        Ok(())
    }

    /// Ends the payload: every change, in file order.
    pub fn finish(mut self) -> Result<Vec<MemberChange>, EnrollmentError> {
        self.close();
        Ok(self.changes)
    }

    fn close(&mut self) {
        let Some(mut change) = self.open.take() else {
            return;
        };
        let ids = std::mem::take(&mut self.member_ids);
        change.member_id = if change.subscriber {
            change.subscriber_id.clone()
        } else {
            ids.own_nm109.or(ids.client_number).unwrap_or_default()
        };
        for c in &mut change.coverages {
            if c.policy_number.is_none() {
                c.policy_number.clone_from(&ids.member_policy);
            }
        }
        self.changes.push(change);
    }

    fn body(&mut self, seg: &Segment<'_>) -> Result<(), EnrollmentError> {
        if seg.id() == b"INS" {
            self.close();
            if self.changes.len() >= self.limit {
                return Err(EnrollmentError::TooManyMembers { limit: self.limit });
            }
            self.seen += 1;
            self.place = Place::Member;
            self.open = Some(MemberChange {
                ordinal: self.seen,
                set: self.env.position(),
                subscriber: seg.element(1) == b"Y",
                maintenance: Maintenance::from_code(seg.element(3)),
                member_id: String::new(),
                subscriber_id: String::new(),
                last_name: None,
                first_name: None,
                middle_name: None,
                ssn: None,
                birth_date: None,
                gender: None,
                address: None,
                death_date: (seg.element(11) == b"D8")
                    .then(|| parse_x12_date(seg.element(12)))
                    .flatten(),
                eligibility_begin: None,
                eligibility_end: None,
                effective: None,
                coverages: Vec::new(),
            });
            return Ok(());
        }
        let Some(m) = &mut self.open else {
            return Ok(());
        };
        let place = self.place;
        match (place, seg.id()) {
            (Place::Member, b"REF") => match seg.element(1) {
                b"0F" => m.subscriber_id = text(seg.element(2)),
                b"23" => self.member_ids.client_number = opt_text(seg.element(2)),
                b"1L" => self.member_ids.member_policy = opt_text(seg.element(2)),
                _ => {}
            },
            (Place::Member, b"DTP") => {
                let date = || date_range(seg.element(2), seg.element(3)).map(|r| r.0);
                match seg.element(1) {
                    b"356" => m.eligibility_begin = date(),
                    b"357" => m.eligibility_end = date(),
                    b"303" => m.effective = date(),
                    _ => {}
                }
            }
            (Place::Member | Place::MemberName | Place::OtherName, b"NM1") => {
                if matches!(seg.element(1), b"IL" | b"74") {
                    self.place = Place::MemberName;
                    m.last_name = opt_text(seg.element(3));
                    m.first_name = opt_text(seg.element(4));
                    m.middle_name = opt_text(seg.element(5));
                    match seg.element(8) {
                        b"34" => m.ssn = opt_text(seg.element(9)),
                        b"ZZ" => self.member_ids.own_nm109 = opt_text(seg.element(9)),
                        _ => {}
                    }
                } else {
                    self.place = Place::OtherName;
                }
            }
            (Place::MemberName, b"N3") => {
                let a = m.address.get_or_insert_with(Address::default);
                a.line = [text(seg.element(1)), text(seg.element(2))]
                    .into_iter()
                    .filter(|s| !s.is_empty())
                    .collect::<Vec<_>>()
                    .join(" ");
            }
            (Place::MemberName, b"N4") => {
                let a = m.address.get_or_insert_with(Address::default);
                a.city = text(seg.element(1));
                a.state = text(seg.element(2));
                a.zip = text(seg.element(3));
            }
            (Place::MemberName, b"DMG") => {
                if seg.element(1) == b"D8" {
                    m.birth_date = parse_x12_date(seg.element(2));
                }
                m.gender = Gender::from_code(&text(seg.element(3)));
            }
            (_, b"HD") if place != Place::Other => {
                self.place = Place::Coverage;
                if m.coverages.len() < MAX_COVERAGES {
                    m.coverages.push(Coverage {
                        maintenance: Maintenance::from_code(seg.element(1)),
                        insurance_line: text(seg.element(3)),
                        description: text(seg.element(4)),
                        class_of_contract: None,
                        policy_number: None,
                        begin: None,
                        end: None,
                    });
                } else {
                    // Beyond the TR3's 99: its dates must not land on the last one kept.
                    self.place = Place::CoverageDetail;
                }
            }
            (Place::Coverage, b"DTP") => {
                let range = date_range(seg.element(2), seg.element(3));
                if let (Some(c), Some((from, to))) = (m.coverages.last_mut(), range) {
                    match seg.element(1) {
                        b"348" => c.begin = Some(from),
                        b"349" => c.end = Some(to),
                        _ => {}
                    }
                }
            }
            (Place::Coverage, b"REF") => {
                if let Some(c) = m.coverages.last_mut() {
                    match seg.element(1) {
                        b"CE" => c.class_of_contract = opt_text(seg.element(2)),
                        b"1L" => c.policy_number = opt_text(seg.element(2)),
                        _ => {}
                    }
                }
            }
            (Place::Coverage | Place::CoverageDetail, b"LX" | b"COB" | b"NM1") => {
                self.place = Place::CoverageDetail;
            }
            (_, b"LS") => self.place = Place::Other,
            _ => {}
        }
        Ok(())
    }
}

/// Every change of a payload held in memory, in file order.
pub fn enrollment_in(payload: &[u8]) -> Result<Vec<MemberChange>, EnrollmentError> {
    let mut ex = EnrollmentExtractor::new();
    let mut result = Ok(());
    lex_all(payload, |l| {
        if result.is_ok() {
            result = ex.push(&l);
        }
    });
    result?;
    ex.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::payer::parse_date;

    const FIXTURE: &[u8] = include_bytes!("../../../fixtures/x12/834_enrollment_changes.x12");

    fn d(s: &str) -> Date {
        parse_date(s).unwrap()
    }

    #[test]
    fn fixture_is_valid() {
        let report = crate::x12::validate(FIXTURE);
        assert!(report.accepted(), "{}", report.verdict_line());
    }

    #[test]
    fn fixture_changes() {
        let changes = enrollment_in(FIXTURE).unwrap();
        let kinds: Vec<(Maintenance, &str)> = changes
            .iter()
            .map(|c| (c.maintenance, c.member_id.as_str()))
            .collect();
        assert_eq!(
            kinds,
            vec![
                (Maintenance::Add, "300000000001"),
                (Maintenance::Change, "100000000001"),
                (Maintenance::Terminate, "200000000002"),
                (Maintenance::Reinstate, "100000000002"),
                (Maintenance::Add, "300000000002"),
                (Maintenance::Audit, "300000000003"),
            ]
        );
        assert!(
            changes
                .iter()
                .enumerate()
                .all(|(i, c)| c.ordinal == i as u64 + 1)
        );

        let add = &changes[0];
        assert!(add.subscriber);
        assert_eq!(add.subscriber_id, "300000000001");
        assert_eq!(add.last_name.as_deref(), Some("NEWMAN"));
        assert_eq!(add.first_name.as_deref(), Some("NORA"));
        assert_eq!(add.middle_name.as_deref(), Some("Q"));
        assert_eq!(add.ssn.as_deref(), Some("900000099"));
        assert_eq!(add.birth_date, Some(d("1992-04-01")));
        assert_eq!(add.gender, Some(Gender::Female));
        assert_eq!(
            add.address,
            Some(Address {
                line: "5 HARBOR WAY UNIT 2".into(),
                city: "LOWELL".into(),
                state: "MA".into(),
                zip: "01852".into(),
            })
        );
        assert_eq!(add.coverages.len(), 1);
        let c = &add.coverages[0];
        assert_eq!(c.maintenance, Maintenance::Add);
        assert_eq!(c.insurance_line, "HLT");
        assert_eq!(c.description, "STANDARD PLAN");
        assert_eq!(c.plan_code(), "STD");
        assert_eq!(c.insurance_type(), "MC");
        assert_eq!(c.begin, Some(d("2026-06-01")));
        assert_eq!(c.end, None);
        assert_eq!(add.begin_date(c), Some(d("2026-06-01")));

        // The mailing address (2100C) is not the residence.
        let change = &changes[1];
        assert_eq!(change.address.as_ref().unwrap().line, "77 NEW STREET");
        assert!(change.coverages.is_empty());
        assert_eq!(change.birth_date, Some(d("1985-03-12")));

        let term = &changes[2];
        assert_eq!(term.coverages[0].end, Some(d("2026-06-10")));
        assert_eq!(term.end_date(term.coverages.first()), Some(d("2026-06-10")));
        assert_eq!(term.end_date(None), Some(d("2026-06-10")));

        let reinstate = &changes[3];
        assert_eq!(reinstate.coverages[0].maintenance, Maintenance::Reinstate);
        assert_eq!(reinstate.coverages[0].begin, Some(d("2026-06-01")));

        // A dependent: the subscriber's ID in REF*0F, its own in NM109 (ZZ).
        let dependent = &changes[4];
        assert!(!dependent.subscriber);
        assert_eq!(dependent.subscriber_id, "300000000001");
        assert_eq!(dependent.member_id, "300000000002");
        assert_eq!(dependent.coverages[0].insurance_type(), "HM");
        assert_eq!(dependent.coverages[0].plan_code(), "MCO01");
        assert_eq!(
            dependent.coverages[0].policy_number.as_deref(),
            Some("GRP77")
        );
        // Coordination-of-benefits dates (2320) do not land on the coverage.
        assert_eq!(dependent.coverages[0].end, Some(d("2026-12-31")));
    }

    #[test]
    fn bounded() {
        let mut ex = EnrollmentExtractor::with_limit(3);
        let mut result = Ok(());
        lex_all(FIXTURE, |l| {
            if result.is_ok() {
                result = ex.push(&l);
            }
        });
        let err = result.unwrap_err();
        assert_eq!(err, EnrollmentError::TooManyMembers { limit: 3 });
        assert!(err.to_string().contains("more than 3 member loops"));
    }

    #[test]
    fn other_payloads() {
        assert!(enrollment_in(b"").unwrap().is_empty());
        let claims = include_bytes!("../../../fixtures/x12/837P_two_claims.x12");
        assert!(enrollment_in(claims).unwrap().is_empty());
    }
}
