//! 837P (005010X222A1) and 837I (005010X223A2) → claims as received, one per CLM.
//!
//! Streaming: the extractor keeps only the claim being read and the loop context it needs (the
//! billing provider, the subscriber), so a 200 MB file of 500,000 claims takes the same memory
//! as a small one. Each claim comes out as soon as the segment after it (the next CLM or HL,
//! or SE) arrives.
//!
//! What is read, by loop:
//! - 2010AA billing provider: NM109 when NM108 = XX (its NPI);
//! - 2000B/2010BA subscriber: NM109, the member ID (a 2000C patient's claim is filed under the
//!   subscriber's ID, as Medicaid does: the patient loop is only used when the patient has no ID
//!   of their own, and then the plan knows the claim by the subscriber);
//! - 2010BB payer: REF*G2, the billing provider's ID as the plan assigned it (atypical providers
//!   without an NPI send only this);
//! - 2300: CLM01 patient control number, CLM02 total charge, CLM05 (837I bill type: facility
//!   type CLM05-1 and frequency CLM05-3), DTP*434 statement dates (837I);
//! - 2400: DTP*472 service dates of the lines (min of starts, max of ends).

use time::Date;

use super::{Envelope, Event, SetPosition, date_range, lex_all, opt_text, text};
use crate::x12::lexer::Lexeme;
use crate::x12::segment::Segment;

/// Which 837.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ClaimKind {
    #[default]
    Professional,
    Institutional,
}

/// One claim (CLM) as submitted, before it is stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReceivedClaim {
    /// 1-based position of this CLM among all CLMs of the payload, counting those of every set
    /// (accepted or not), so that it is the same each time the same payload is read; the payer
    /// claim number is made from it ([`payer_claim_number`]).
    pub ordinal: u64,
    /// The transaction set it came from.
    pub set: SetPosition,
    pub kind: ClaimKind,
    /// CLM01.
    pub patient_control_number: String,
    /// CLM02 in cents; `None` when it is not a number (validation rejects such a set).
    pub billed_cents: Option<i64>,
    /// 2010AA NM109 when NM108 = XX.
    pub billing_npi: Option<String>,
    /// 2010BB REF*G2: the billing provider's plan-assigned ID.
    pub billing_secondary_id: Option<String>,
    /// 2010BA NM109: the subscriber's member ID.
    pub member_id: String,
    /// First and last date of service: the 837I statement dates (DTP*434) when given, else the
    /// span of the service lines' DTP*472; `None` when neither can be read.
    pub service: Option<(Date, Date)>,
    /// 837I: CLM05-1 facility type + CLM05-3 frequency code (e.g. `111`); empty for 837P.
    pub bill_type: String,
}

/// The payer claim control number of the claim at `ordinal` in the submission
/// `tracking_number`: the tracking number followed by the ordinal on 7 digits (e.g.
/// `2611220000000042` + `0000001`). Seven digits, not five: a 200 MB file holds about 500,000
/// claims. Deterministic, so processing the same submission again names the same claims (and
/// the store inserts nothing twice); unique, because tracking numbers are unique and of one
/// fixed width (an ordinal beyond 9,999,999 simply gets more digits).
pub fn payer_claim_number(tracking_number: &str, ordinal: u64) -> String {
    format!("{tracking_number}{ordinal:07}")
}

/// Where in an 837 the segments being read belong.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Place {
    /// Header (1000A/B) or a level this extractor does not read.
    #[default]
    Other,
    /// 2000A, before or in 2010AA.
    BillingProvider,
    /// 2000A, in 2010AB/2010AC (pay-to): their NM1s are not the billing provider.
    PayTo,
    /// 2000B and 2010BA.
    Subscriber,
    /// 2010BB.
    Payer,
    /// 2000C/2010CA.
    Patient,
    /// 2300 and its 2310/2320/2330 loops.
    Claim,
    /// 2400 and below.
    Line,
}

/// Reads claims from 837 sets, fed the payload's lexemes in order (see the module docs).
#[derive(Debug, Default)]
pub struct ClaimExtractor {
    env: Envelope,
    /// The open set is an 837, and which.
    reading: Option<ClaimKind>,
    place: Place,
    billing_npi: Option<String>,
    billing_secondary_id: Option<String>,
    member_id: String,
    claims: u64,
    open: Option<OpenClaim>,
}

#[derive(Debug)]
struct OpenClaim {
    claim: ReceivedClaim,
    statement: Option<(Date, Date)>,
    lines: Option<(Date, Date)>,
}

impl OpenClaim {
    fn done(mut self) -> ReceivedClaim {
        self.claim.service = match self.claim.kind {
            ClaimKind::Institutional => self.statement.or(self.lines),
            ClaimKind::Professional => self.lines.or(self.statement),
        };
        self.claim
    }
}

impl ClaimExtractor {
    pub fn new() -> Self {
        Self::default()
    }

    /// Claims begun so far (the ordinal of the last one).
    pub fn claims_seen(&self) -> u64 {
        self.claims
    }

    /// Takes the next lexeme of the payload; returns the claim it completed, if any.
    pub fn push(&mut self, lexeme: &Lexeme<'_>) -> Option<ReceivedClaim> {
        match self.env.lexeme(lexeme) {
            Event::Outside => None,
            Event::SetEnd => {
                self.reading = None;
                self.take()
            }
            Event::SetStart(st) => {
                let done = self.take();
                self.start_set(&st);
                done
            }
            Event::Body(seg) if self.reading.is_some() => self.body(&seg),
            Event::Body(_) => None,
        }
    }

    /// Ends the payload: the claim still open, if the last set had no SE.
    pub fn finish(&mut self) -> Option<ReceivedClaim> {
        self.reading = None;
        self.take()
    }

    fn take(&mut self) -> Option<ReceivedClaim> {
        self.open.take().map(OpenClaim::done)
    }

    fn start_set(&mut self, st: &Segment<'_>) {
        self.place = Place::Other;
        self.billing_npi = None;
        self.billing_secondary_id = None;
        self.member_id.clear();
        self.reading = (st.element(1) == b"837").then(|| {
            // ST03 names the guide; GS08 when ST03 is missing.
            let guide = match st.element(3) {
                b"" => self.env.gs08(),
                v => v,
            };
            if contains(guide, b"X223") {
                ClaimKind::Institutional
            } else {
                ClaimKind::Professional
            }
        });
    }

    fn body(&mut self, seg: &Segment<'_>) -> Option<ReceivedClaim> {
        match seg.id() {
            b"HL" => {
                let done = self.take();
                match seg.element(3) {
                    b"20" => {
                        self.place = Place::BillingProvider;
                        self.billing_npi = None;
                        self.billing_secondary_id = None;
                        self.member_id.clear();
                    }
                    b"22" => {
                        self.place = Place::Subscriber;
                        self.billing_secondary_id = None;
                        self.member_id.clear();
                    }
                    b"23" => self.place = Place::Patient,
                    _ => self.place = Place::Other,
                }
                return done;
            }
            b"CLM" => {
                let done = self.take();
                self.open_claim(seg);
                return done;
            }
            _ => {}
        }
        match (self.place, seg.id()) {
            (Place::BillingProvider | Place::PayTo, b"NM1") => {
                if seg.element(1) == b"85" {
                    self.place = Place::BillingProvider;
                    self.billing_npi = (seg.element(8) == b"XX")
                        .then(|| opt_text(seg.element(9)))
                        .flatten();
                } else {
                    self.place = Place::PayTo;
                }
            }
            (Place::Subscriber | Place::Payer, b"NM1") => match seg.element(1) {
                b"IL" => {
                    self.place = Place::Subscriber;
                    self.member_id = text(seg.element(9));
                }
                b"PR" => self.place = Place::Payer,
                _ => {}
            },
            (Place::Payer, b"REF") if seg.element(1) == b"G2" => {
                self.billing_secondary_id = opt_text(seg.element(2));
            }
            (Place::Claim | Place::Line, b"LX") => self.place = Place::Line,
            (Place::Claim, b"DTP") if seg.element(1) == b"434" => {
                if let Some(open) = &mut self.open {
                    open.statement = date_range(seg.element(2), seg.element(3));
                }
            }
            (Place::Claim | Place::Line, b"DTP") if seg.element(1) == b"472" => {
                if let (Some(open), Some((from, to))) =
                    (&mut self.open, date_range(seg.element(2), seg.element(3)))
                {
                    open.lines = Some(match open.lines {
                        Some((a, b)) => (a.min(from), b.max(to)),
                        None => (from, to),
                    });
                }
            }
            _ => {}
        }
        None
    }

    fn open_claim(&mut self, clm: &Segment<'_>) {
        let Some(kind) = self.reading else { return };
        self.claims += 1;
        self.place = Place::Claim;
        let bill_type = match kind {
            ClaimKind::Institutional => {
                let mut t = text(clm.component(5, 1));
                t.push_str(&text(clm.component(5, 3)));
                t
            }
            ClaimKind::Professional => String::new(),
        };
        self.open = Some(OpenClaim {
            claim: ReceivedClaim {
                ordinal: self.claims,
                set: self.env.position(),
                kind,
                patient_control_number: text(clm.element(1)),
                billed_cents: amount_cents(clm.element(2)),
                billing_npi: self.billing_npi.clone(),
                billing_secondary_id: self.billing_secondary_id.clone(),
                member_id: self.member_id.clone(),
                service: None,
                bill_type,
            },
            statement: None,
            lines: None,
        });
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// An X12 decimal (R) amount in cents: `150`, `75.5`, `-12.25`, `.5`; a third decimal and
/// beyond round half away from zero. `None` when it is not a number or does not fit.
pub(crate) fn amount_cents(v: &[u8]) -> Option<i64> {
    let v = v.trim_ascii();
    let (negative, digits) = match v.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, v),
    };
    let (whole, frac) = match digits.iter().position(|&b| b == b'.') {
        Some(i) => (&digits[..i], &digits[i + 1..]),
        None => (digits, &[][..]),
    };
    if (whole.is_empty() && frac.is_empty())
        || whole.len() > 15
        || !whole.iter().chain(frac).all(u8::is_ascii_digit)
    {
        return None;
    }
    let mut cents: i64 = 0;
    for &d in whole {
        cents = cents.checked_mul(10)?.checked_add(i64::from(d - b'0'))?;
    }
    let digit = |i: usize| frac.get(i).map_or(0, |d| i64::from(d - b'0'));
    cents = cents
        .checked_mul(100)?
        .checked_add(digit(0) * 10 + digit(1))?;
    if digit(2) >= 5 {
        cents = cents.checked_add(1)?;
    }
    Some(if negative { -cents } else { cents })
}

/// Every claim of a payload held in memory (small files and tests; the worker streams large
/// ones through [`ClaimExtractor`] and [`super::LexemeFeed`]).
pub fn claims_in(payload: &[u8]) -> Vec<ReceivedClaim> {
    let mut ex = ClaimExtractor::new();
    let mut out = Vec::new();
    lex_all(payload, |l| out.extend(ex.push(&l)));
    out.extend(ex.finish());
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::payer::intake::LexemeFeed;
    use crate::payer::parse_date;
    use crate::x12::sample::{Sample837, npi, write_837p};

    fn d(s: &str) -> Date {
        parse_date(s).unwrap()
    }

    const TWO_CLAIMS: &[u8] = include_bytes!("../../../fixtures/x12/837P_two_claims.x12");
    const INSTITUTIONAL: &[u8] = include_bytes!("../../../fixtures/x12/837I_three_claims.x12");

    #[test]
    fn professional_fixture() {
        let claims = claims_in(TWO_CLAIMS);
        assert_eq!(claims.len(), 2);
        let (a, b) = (&claims[0], &claims[1]);
        assert_eq!(a.ordinal, 1);
        assert_eq!(a.kind, ClaimKind::Professional);
        assert_eq!(a.patient_control_number, "PCN1001");
        assert_eq!(a.billed_cents, Some(15_000));
        assert_eq!(a.billing_npi.as_deref(), Some("1234567893"));
        assert_eq!(a.billing_secondary_id, None);
        assert_eq!(a.member_id, "100200300");
        assert_eq!(a.service, Some((d("2026-11-01"), d("2026-11-01"))));
        assert_eq!(a.bill_type, "");
        assert_eq!(
            a.set,
            SetPosition {
                interchange: 0,
                group: 0,
                set: 0,
                ordinal: 0
            }
        );
        // The 2000C patient's claim is filed under the subscriber's ID; RD8 line dates.
        assert_eq!(b.ordinal, 2);
        assert_eq!(b.patient_control_number, "PCN1002");
        assert_eq!(b.billed_cents, Some(7_550));
        assert_eq!(b.member_id, "100200400");
        assert_eq!(b.service, Some((d("2026-11-02"), d("2026-11-03"))));
    }

    #[test]
    fn institutional_fixture() {
        let report = crate::x12::validate(INSTITUTIONAL);
        assert!(report.accepted(), "{}", report.verdict_line());
        let claims = claims_in(INSTITUTIONAL);
        assert_eq!(claims.len(), 3);
        assert!(claims.iter().all(|c| c.kind == ClaimKind::Institutional));
        let c = &claims[0];
        assert_eq!(c.patient_control_number, "INST-0001");
        assert_eq!(c.billed_cents, Some(125_075));
        assert_eq!(c.bill_type, "111");
        assert_eq!(c.member_id, "100000000001");
        assert_eq!(c.billing_npi.as_deref(), Some("1234567893"));
        assert_eq!(c.billing_secondary_id.as_deref(), Some("110048577A"));
        // Statement dates win over the lines' dates.
        assert_eq!(c.service, Some((d("2026-05-10"), d("2026-05-12"))));
        assert_eq!(claims[1].bill_type, "131");
        assert_eq!(claims[1].service, Some((d("2026-05-20"), d("2026-05-20"))));
        // The second set, the third claim: ordinals run through the file.
        assert_eq!(claims[2].ordinal, 3);
        assert_eq!(claims[2].set.set, 1);
        assert_eq!(claims[2].set.ordinal, 1);
        assert_eq!(claims[2].member_id, "100000000004");
        for c in &claims {
            assert!(c.set.accepted_in(&report));
        }
    }

    #[test]
    fn many_generated_claims_streamed() {
        let mut bytes = Vec::new();
        let shape = Sample837 {
            claims: 2_345,
            claims_per_set: 500,
            sets_per_interchange: 2,
        };
        write_837p(shape, &mut bytes).unwrap();
        let whole = claims_in(&bytes);
        assert_eq!(whole.len(), 2_345);
        let provider = npi(123_456_789);
        for (i, c) in whole.iter().enumerate() {
            let n = i + 1;
            assert_eq!(c.ordinal, n as u64);
            assert_eq!(c.patient_control_number, format!("PCN{n}"));
            assert_eq!(c.member_id, format!("1{n:08}"));
            assert_eq!(c.billing_npi.as_deref(), Some(provider.as_str()));
            assert!(c.billed_cents.is_some_and(|b| b > 0));
            assert!(c.service.is_some());
            assert_eq!(c.set.ordinal, i / 500);
            assert_eq!(c.set.interchange, i / 1000);
            assert_eq!(c.set.set, (i / 500) % 2);
        }
        // Fed in chunks, as the worker reads a stored payload: the same claims.
        let mut feed = LexemeFeed::new();
        let mut ex = ClaimExtractor::new();
        let mut streamed = Vec::new();
        for chunk in bytes.chunks(65_536 + 17) {
            feed.feed(chunk, |l| streamed.extend(ex.push(&l)));
        }
        feed.finish(|l| streamed.extend(ex.push(&l)));
        streamed.extend(ex.finish());
        assert_eq!(streamed, whole);
    }

    #[test]
    fn rejected_sets_are_identified() {
        // Break the first set's SE count: its claims are in a rejected set.
        let text = String::from_utf8_lossy(TWO_CLAIMS).replace("SE*45*0001", "SE*44*0001");
        let report = crate::x12::validate(text.as_bytes());
        let claims = claims_in(text.as_bytes());
        assert_eq!(claims.len(), 2);
        assert!(claims.iter().all(|c| !c.set.accepted_in(&report)));
    }

    #[test]
    fn not_an_837_and_truncated() {
        assert!(claims_in(include_bytes!("../../../fixtures/x12/270_jane_doe.x12")).is_empty());
        // Cut inside the second claim's last line: both claims still come out.
        let last = TWO_CLAIMS.len() - 60;
        let claims = claims_in(&TWO_CLAIMS[..last]);
        assert_eq!(claims.len(), 2);
        assert_eq!(claims[1].patient_control_number, "PCN1002");
        assert!(claims_in(b"").is_empty());
        assert!(claims_in(b"garbage CLM*1*2~").is_empty());
    }

    #[test]
    fn amounts() {
        for (v, c) in [
            ("150", Some(15_000)),
            ("75.5", Some(7_550)),
            ("0.01", Some(1)),
            (".5", Some(50)),
            ("-12.25", Some(-1_225)),
            ("1.005", Some(101)),
            ("1.004", Some(100)),
            ("", None),
            (".", None),
            ("1e3", None),
            ("12.3.4", None),
            ("9999999999999999", None),
        ] {
            assert_eq!(amount_cents(v.as_bytes()), c, "{v}");
        }
    }

    #[test]
    fn claim_numbers() {
        assert_eq!(
            payer_claim_number("2611220000000042", 1),
            "26112200000000420000001"
        );
        assert_eq!(
            payer_claim_number("2611220000000042", 500_000),
            "26112200000000420500000"
        );
    }
}
