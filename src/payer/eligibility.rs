//! 270 → 271 (005010X279A1): find the member, check the dates, and answer with coverage,
//! managed care, other insurance and QMB status, or with AAA rejections at the loop at fault.
//!
//! AAA codes and where they go follow the guide's per-loop code lists (see
//! specs/271.005010X279A1.spec); the choice of code for each rule is documented on [`Reject`].

use std::fmt::Write as _;
use std::sync::Arc;

use time::{Date, Duration};

use super::model::{
    Gender, Member, MemberQuery, Provider, Span, SpanKind, Spans, name_key, name_key_chars,
    name_key_is_empty, same_name_key,
};
use super::write::{
    Hl, Scratch, echo, echo_as, element_text, hhmm, text, write_date, write_trn, x12_date,
};
use super::{PlanData, ResponseContext, parse_x12_date};
use crate::store::StoreError;
use crate::x12::Delimiters;
use crate::x12::segment::Segment;
use crate::x12::tree::TransactionSet;
use crate::x12::writer::{Digits, SegmentWriter};

/// Longest inquiry span, in days counted inclusively (DESIGN.md §2).
pub const MAX_INQUIRY_DAYS: i64 = 31;
/// How far back an inquiry may reach.
pub const MAX_YEARS_BACK: i32 = 4;

/// The message a Qualified Medicare Beneficiary's coverage carries (MassHealth practice).
pub const QMB_MESSAGE: &str = "611 Member is Qualified Medicare Beneficiary";

// ---------------------------------------------------------------------------------------------
// The request, as read from the 270: views into the set's segments, nothing copied.

/// One HL of the request: its level code (HL03), the segments after it up to the next HL,
/// and everything after those (where its children are).
#[derive(Clone, Copy, Debug)]
struct Node<'s, 'a> {
    code: &'a [u8],
    segments: &'s [Segment<'a>],
    rest: &'s [Segment<'a>],
}

/// The HLs in `segments`, in order (segments before the first HL belong to none).
fn nodes<'s, 'a>(segments: &'s [Segment<'a>]) -> impl Iterator<Item = Node<'s, 'a>> + Clone {
    let mut rest = segments;
    std::iter::from_fn(move || {
        let at = rest.iter().position(|s| s.id() == b"HL")?;
        let hl = &rest[at];
        let after = &rest[at + 1..];
        let len = after
            .iter()
            .position(|s| s.id() == b"HL")
            .unwrap_or(after.len());
        let (segments, next) = after.split_at(len);
        rest = next;
        Some(Node {
            code: hl.element(3),
            segments,
            rest: next,
        })
    })
}

impl<'s, 'a> Node<'s, 'a> {
    /// The levels `code` under this one: those that follow it before the next level of any of
    /// `above` (this one's own level or a higher one). Levels with codes the 270 does not use
    /// are skipped, their segments ignored.
    fn children(
        &self,
        code: &'static [u8],
        above: &'static [&'static [u8]],
    ) -> impl Iterator<Item = Node<'s, 'a>> + Clone + use<'s, 'a> {
        nodes(self.rest)
            .take_while(move |n| !above.contains(&n.code))
            .filter(move |n| n.code == code)
    }

    /// The last NM1 of this level.
    fn nm1(&self) -> Option<Segment<'a>> {
        self.segments
            .iter()
            .rev()
            .find(|s| s.id() == b"NM1")
            .copied()
    }
}

const SOURCE: &[u8] = b"20";
const RECEIVER: &[u8] = b"21";
const SUBSCRIBER: &[u8] = b"22";
const DEPENDENT: &[u8] = b"23";

fn sources<'s, 'a>(set: &'s TransactionSet<'a>) -> impl Iterator<Item = Node<'s, 'a>> + Clone {
    nodes(set.body()).filter(|n| n.code == SOURCE)
}

fn receivers<'s, 'a>(source: &Node<'s, 'a>) -> impl Iterator<Item = Node<'s, 'a>> + Clone {
    source.children(RECEIVER, &[SOURCE])
}

fn subscribers<'s, 'a>(receiver: &Node<'s, 'a>) -> impl Iterator<Item = Node<'s, 'a>> + Clone {
    receiver.children(SUBSCRIBER, &[SOURCE, RECEIVER])
}

/// One person asked about (2000C subscriber or 2000D dependent).
#[derive(Clone, Copy, Debug)]
struct Person<'s, 'a> {
    node: Node<'s, 'a>,
    /// The person's own segments (2100C/D): those before the first EQ.
    head: &'s [Segment<'a>],
    /// The 2110C/D loops: from the first EQ on (AMT, III, REF there are not used).
    inquiries: &'s [Segment<'a>],
    nm1: Option<Segment<'a>>,
    dmg: Option<Segment<'a>>,
    /// DTP*291 of the person.
    dtp: Option<Segment<'a>>,
}

impl<'s, 'a> Person<'s, 'a> {
    fn new(node: Node<'s, 'a>) -> Self {
        let segs = node.segments;
        let (head, inquiries) = segs.split_at(
            segs.iter()
                .position(|s| s.id() == b"EQ")
                .unwrap_or(segs.len()),
        );
        let last = |id: &[u8]| head.iter().rev().find(|s| s.id() == id).copied();
        Self {
            node,
            head,
            inquiries,
            nm1: last(b"NM1"),
            dmg: last(b"DMG"),
            dtp: head
                .iter()
                .rev()
                .find(|s| s.id() == b"DTP" && s.element(1) == b"291")
                .copied(),
        }
    }

    fn trn(&self) -> impl Iterator<Item = Segment<'a>> + use<'s, 'a> {
        self.head.iter().filter(|s| s.id() == b"TRN").copied()
    }

    fn refs(&self) -> impl Iterator<Item = &'s Segment<'a>> + use<'s, 'a> {
        self.head.iter().filter(|s| s.id() == b"REF")
    }

    /// The EQ segments, in order.
    fn eqs(&self) -> impl Iterator<Item = &'s Segment<'a>> + use<'s, 'a> {
        self.inquiries.iter().filter(|s| s.id() == b"EQ")
    }

    /// The DTP of the first EQ loop that has one.
    fn eq_dtp(&self) -> Option<Segment<'a>> {
        self.inquiries.iter().find(|s| s.id() == b"DTP").copied()
    }

    /// A subscriber's dependents (2000D).
    fn dependents(&self) -> impl Iterator<Item = Person<'s, 'a>> + Clone + use<'s, 'a> {
        self.node
            .children(DEPENDENT, &[SOURCE, RECEIVER, SUBSCRIBER])
            .map(Person::new)
    }
}

// ---------------------------------------------------------------------------------------------
// Decisions.

/// An AAA: why the request cannot be answered at one loop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reject {
    /// AAA01: `N` when the request's data is invalid, `Y` when it is valid but cannot be
    /// answered (not found, several found, not authorized).
    pub valid_request: bool,
    /// AAA03 (901).
    pub reason: &'static str,
    /// AAA04 (889).
    pub follow_up: &'static str,
}

const fn reject(valid_request: bool, reason: &'static str, follow_up: &'static str) -> Reject {
    Reject {
        valid_request,
        reason,
        follow_up,
    }
}

/// Subscriber (2100C) or dependent (2100D): the guide gives each loop its own reject codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Level {
    Subscriber,
    Dependent,
}

impl Level {
    fn id_invalid(self) -> Reject {
        match self {
            Self::Subscriber => reject(false, "72", "C"), // Invalid/Missing Subscriber/Insured ID
            Self::Dependent => reject(false, "64", "C"),  // Invalid/Missing Patient ID
        }
    }
    fn name_invalid(self) -> Reject {
        match self {
            Self::Subscriber => reject(false, "73", "C"), // Invalid/Missing Subscriber/Insured Name
            Self::Dependent => reject(false, "65", "C"),  // Invalid/Missing Patient Name
        }
    }
    fn gender_invalid(self) -> Reject {
        match self {
            Self::Subscriber => reject(false, "74", "C"), // Invalid/Missing Subscriber/Insured Gender Code
            Self::Dependent => reject(false, "66", "C"),  // Invalid/Missing Patient Gender Code
        }
    }
    fn not_found(self) -> Reject {
        match self {
            Self::Subscriber => reject(true, "75", "C"), // Subscriber/Insured Not Found
            Self::Dependent => reject(true, "77", "C"),  // Subscriber Found, Patient Not Found
        }
    }
    fn several_found(self) -> Reject {
        match self {
            Self::Subscriber => reject(true, "76", "C"), // Duplicate Subscriber/Insured ID Number
            Self::Dependent => reject(true, "68", "C"),  // Duplicate Patient ID Number
        }
    }
}

const BIRTH_DATE_INVALID: Reject = reject(false, "58", "C"); // Invalid/Missing Date-of-Birth
const BIRTH_DATE_MISMATCH: Reject = reject(false, "71", "C"); // Birth Date Does Not Match
const BORN_AFTER_SERVICE: Reject = reject(false, "60", "C"); // Date of Birth Follows Date(s) of Service
const DIED_BEFORE_SERVICE: Reject = reject(true, "61", "N"); // Date of Death Precedes Date(s) of Service
const DATES_INVALID: Reject = reject(false, "57", "C"); // Invalid/Missing Date(s) of Service
const DATES_OUT_OF_PERIOD: Reject = reject(false, "62", "C"); // Not Within Allowable Inquiry Period
const DATES_IN_FUTURE: Reject = reject(false, "63", "C"); // Date of Service in Future
const PROVIDER_ID_INVALID: Reject = reject(false, "43", "C"); // Invalid/Missing Provider Identification
const PROVIDER_NOT_ON_FILE: Reject = reject(true, "51", "C"); // Provider Not on File
const PROVIDER_INELIGIBLE: Reject = reject(true, "50", "N"); // Provider Ineligible for Inquiries
const PROVIDER_NOT_AUTHORIZED: Reject = reject(true, "41", "N"); // Authorization/Access Restrictions
const PAYER_ID_MISSING: Reject = reject(false, "T4", "C"); // Payer Name or Identifier Missing
const PAYER_ID_WRONG: Reject = reject(false, "79", "C"); // Invalid Participant Identification

/// The dates an inquiry asks about: DTP*291 of the person, else of its first EQ loop, else
/// today. Returns the inclusive range.
fn inquiry_dates(p: &Person<'_, '_>, today: Date) -> Result<(Date, Date), Reject> {
    let dtp = p.dtp.or_else(|| p.eq_dtp());
    let Some(dtp) = dtp else {
        return Ok((today, today));
    };
    let value = dtp.element(3);
    let (from, to) = match dtp.element(2) {
        b"D8" => {
            let d = parse_x12_date(value).ok_or(DATES_INVALID)?;
            (d, d)
        }
        b"RD8" => {
            let dash = value.iter().position(|&b| b == b'-').ok_or(DATES_INVALID)?;
            let from = parse_x12_date(&value[..dash]).ok_or(DATES_INVALID)?;
            let to = parse_x12_date(&value[dash + 1..]).ok_or(DATES_INVALID)?;
            (from, to)
        }
        _ => return Err(DATES_INVALID),
    };
    if to < from {
        return Err(DATES_INVALID);
    }
    if to > today {
        return Err(DATES_IN_FUTURE);
    }
    if from < years_before(today, MAX_YEARS_BACK) || (to - from).whole_days() >= MAX_INQUIRY_DAYS {
        return Err(DATES_OUT_OF_PERIOD);
    }
    Ok((from, to))
}

/// The same calendar date `years` earlier (29 February becomes 28 February).
fn years_before(d: Date, years: i32) -> Date {
    let year = d.year() - years;
    d.replace_year(year)
        .or_else(|_| Date::from_calendar_date(year, d.month(), 28))
        .unwrap_or(d)
}

/// The member found in a lookup's results (shared with the cache).
#[derive(Debug)]
struct Found {
    members: Arc<[Member]>,
    index: usize,
}

impl std::ops::Deref for Found {
    type Target = Member;

    fn deref(&self) -> &Member {
        &self.members[self.index]
    }
}

/// Finds the one member a person names, or says why not.
async fn find_member<D: PlanData>(
    data: &D,
    p: &Person<'_, '_>,
    level: Level,
) -> Result<Result<Found, Reject>, StoreError> {
    let Some(nm1) = p.nm1 else {
        return Ok(Err(level.name_invalid()));
    };
    let last = element_text(&nm1, 3);
    let first = element_text(&nm1, 4);
    let id = element_text(&nm1, 9);
    let ssn = p
        .refs()
        .find(|r| r.element(1) == b"SY")
        .map(|r| element_text(r, 2))
        .filter(|s| !s.is_empty());
    let birth = match p.dmg.map(|d| (d.element(1), d.element(2))) {
        Some((b"D8", v)) => Some(parse_x12_date(v).ok_or(BIRTH_DATE_INVALID)),
        Some((_, v)) if !v.is_empty() => Some(Err(BIRTH_DATE_INVALID)),
        _ => None,
    };
    let birth = match birth.transpose() {
        Ok(b) => b,
        Err(r) => return Ok(Err(r)),
    };
    let gender = p
        .dmg
        .map(|d| d.element(3))
        .filter(|g| !g.is_empty())
        .map(|g| Gender::from_code(&text(g)).ok_or(level.gender_invalid()))
        .transpose();
    let gender = match gender {
        Ok(g) => g,
        Err(r) => return Ok(Err(r)),
    };

    let (members, mut candidates) = if !id.is_empty() {
        let mut found = data.members(&MemberQuery::MemberId(&id)).await?;
        if found.is_empty() {
            found = data.members(&MemberQuery::AgencyId(&id)).await?;
        }
        if found.is_empty() {
            return Ok(Err(level.id_invalid()));
        }
        (found, None)
    } else if let Some(ssn) = ssn {
        (data.members(&MemberQuery::Ssn(&ssn)).await?, None)
    } else {
        // Demographic search: all four are needed.
        if name_key_is_empty(&last) || name_key_is_empty(&first) {
            return Ok(Err(level.name_invalid()));
        }
        let Some(birth_date) = birth else {
            return Ok(Err(BIRTH_DATE_INVALID));
        };
        if gender.is_none() {
            return Ok(Err(level.gender_invalid()));
        }
        let found = data
            .members(&MemberQuery::NameAndBirth {
                name_key: &name_key(&last),
                birth_date,
            })
            .await?;
        let matching = |m: &Member| {
            first_names_match(&m.first_name, &first) && genders_match(m.gender, gender)
        };
        (found, Some(matching))
    };
    // The candidates: every member found, or those matching the demographics.
    let mut indices =
        (0..members.len()).filter(|&i| candidates.as_mut().is_none_or(|f| f(&members[i])));
    let index = match (indices.next(), indices.next()) {
        (None, _) => return Ok(Err(level.not_found())),
        (Some(i), None) => i,
        (Some(_), Some(_)) => return Ok(Err(level.several_found())),
    };
    let member = Found { members, index };
    // Whatever else the request says about the person must agree with the file.
    if birth.is_some_and(|b| b != member.birth_date) {
        return Ok(Err(BIRTH_DATE_MISMATCH));
    }
    if !name_key_is_empty(&last) && !same_name_key(&last, &member.last_name) {
        return Ok(Err(level.name_invalid()));
    }
    if !name_key_is_empty(&first) && !first_names_match(&member.first_name, &first) {
        return Ok(Err(level.name_invalid()));
    }
    if !genders_match(member.gender, gender) {
        return Ok(Err(level.gender_invalid()));
    }
    Ok(Ok(member))
}

/// First names match when one normalized name starts with the other ("ROB" and "ROBERT"):
/// front desks abbreviate, but a different name is a different person.
fn first_names_match(on_file: &str, asked: &str) -> bool {
    let (mut a, mut b) = (name_key_chars(on_file), name_key_chars(asked));
    let (Some(a0), Some(b0)) = (a.next(), b.next()) else {
        return false;
    };
    // One is a prefix of the other: equal as far as the shorter goes.
    a0 == b0 && a.zip(b).all(|(x, y)| x == y)
}

fn genders_match(on_file: Gender, asked: Option<Gender>) -> bool {
    match asked {
        None | Some(Gender::Unknown) => true,
        Some(g) => on_file == Gender::Unknown || on_file == g,
    }
}

/// Checks the information receiver (2100B).
async fn check_receiver<D: PlanData>(
    data: &D,
    nm1: Option<&Segment<'_>>,
    ctx: &ResponseContext,
) -> Result<Result<(), Reject>, StoreError> {
    let Some(nm1) = nm1 else {
        return Ok(Err(PROVIDER_ID_INVALID));
    };
    let id = element_text(nm1, 9);
    Ok(match nm1.element(8) {
        b"XX" if !id.is_empty() => receiver_verdict(&data.providers_by_npi(&id).await?, ctx),
        b"SV" if !id.is_empty() => {
            let found = data.provider(&id).await?;
            receiver_verdict(
                found
                    .as_deref()
                    .map(std::slice::from_ref)
                    .unwrap_or_default(),
                ctx,
            )
        }
        _ => Err(PROVIDER_ID_INVALID),
    })
}

/// The verdict on an information receiver resolved to `providers` (its service locations).
pub(crate) fn receiver_verdict(
    providers: &[Provider],
    ctx: &ResponseContext,
) -> Result<(), Reject> {
    if providers.is_empty() {
        return Err(PROVIDER_NOT_ON_FILE);
    }
    let mut active = providers.iter().filter(|p| p.active);
    if active.clone().next().is_none() {
        return Err(PROVIDER_INELIGIBLE);
    }
    if let Some(allowed) = &ctx.authorized_providers
        && !active.any(|p| allowed.contains(&p.provider_id))
    {
        return Err(PROVIDER_NOT_AUTHORIZED);
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The answer.

/// Writes the 271 answering `set` (a 270) into `w`, ST through SE.
pub async fn answer<D: PlanData>(
    set: &TransactionSet<'_>,
    data: &D,
    ctx: &ResponseContext,
    w: &mut SegmentWriter,
) -> Result<(), StoreError> {
    let st02 = text(set.segments.first().map_or(&[][..], |s| s.element(2)));
    w.start_count();
    w.segment("ST", &["271", &st02, "005010X279A1"]);
    w.segment(
        "BHT",
        &[
            "0022",
            "11",
            &text(set.first(b"BHT", 3)),
            x12_date(ctx.today).as_str(),
            hhmm(ctx).as_str(),
        ],
    );
    let mut hl = Hl::default();
    for source in sources(set) {
        let asked_payer = source
            .nm1()
            .map(|s| element_text(&s, 9))
            .unwrap_or_default();
        let payer_reject = if asked_payer.is_empty() {
            Some(PAYER_ID_MISSING)
        } else if asked_payer != ctx.plan.payer_id.as_str() {
            Some(PAYER_ID_WRONG)
        } else {
            None
        };
        // A request sent to another payer: nothing below the source can be answered.
        let answered = payer_reject.is_none() && receivers(&source).next().is_some();
        let source_hl = hl.open(None, "20", Some(answered), w);
        w.segment(
            "NM1",
            &[
                "PR",
                "2",
                ctx.plan.name.as_str(),
                "",
                "",
                "",
                "",
                "PI",
                &ctx.plan.payer_id,
            ],
        );
        if let Some(r) = payer_reject {
            write_aaa(w, r);
            continue;
        }
        for receiver in receivers(&source) {
            let receiver_hl = hl.open(
                Some(source_hl),
                "21",
                Some(subscribers(&receiver).next().is_some()),
                w,
            );
            let nm1 = receiver.nm1();
            if let Some(nm1) = &nm1 {
                echo(w, nm1);
            }
            let verdict = check_receiver(data, nm1.as_ref(), ctx).await?;
            if let Err(r) = verdict {
                write_aaa(w, r);
            }
            for sub in subscribers(&receiver) {
                let sub = Person::new(sub);
                answer_subscriber(data, ctx, w, &mut hl, receiver_hl, &sub, verdict.is_ok())
                    .await?;
            }
        }
    }
    let count = Digits::new(u64::from(w.counted()) + 1);
    w.segment("SE", &[count.as_str(), &st02]);
    Ok(())
}

/// Writes the 2000C (and 2000D) loops answering one 2000C of the request.
async fn answer_subscriber<D: PlanData>(
    data: &D,
    ctx: &ResponseContext,
    w: &mut SegmentWriter,
    hl: &mut Hl,
    parent: usize,
    sub: &Person<'_, '_>,
    receiver_ok: bool,
) -> Result<(), StoreError> {
    if !receiver_ok {
        // The receiver's AAA says why; echo who was asked about so the answer can be matched.
        hl.open(Some(parent), "22", Some(false), w);
        write_trn(w, sub.trn());
        echo_person(w, sub, "IL");
        return Ok(());
    }
    let found = find_member(data, sub, Level::Subscriber).await?;
    let member = match found {
        Err(r) => {
            hl.open(Some(parent), "22", Some(false), w);
            write_trn(w, sub.trn());
            echo_person(w, sub, "IL");
            write_aaa(w, r);
            return Ok(());
        }
        Ok(m) => m,
    };
    if sub.dependents().next().is_none() || !sub.inquiries.is_empty() {
        write_member(data, ctx, w, hl, parent, sub, &member).await?;
    }
    for dep in sub.dependents() {
        match find_member(data, &dep, Level::Dependent).await? {
            // A dependent with an ID of their own is a subscriber in their own right: the guide
            // has the answer name them in 2100C, carrying the dependent loop's trace numbers.
            Ok(m) => write_member(data, ctx, w, hl, parent, &dep, &m).await?,
            Err(r) => {
                let sub_hl = hl.open(Some(parent), "22", Some(true), w);
                write_trn(w, sub.trn());
                write_member_name(w, &member);
                hl.open(Some(sub_hl), "23", Some(false), w);
                write_trn(w, dep.trn());
                echo_person(w, &dep, "03");
                write_aaa(w, r);
            }
        }
    }
    Ok(())
}

/// Writes a 2000C loop for a found member: name, demographics, then the benefits for the dates
/// asked, or the AAA that says why the dates cannot be answered.
async fn write_member<D: PlanData>(
    data: &D,
    ctx: &ResponseContext,
    w: &mut SegmentWriter,
    hl: &mut Hl,
    parent: usize,
    person: &Person<'_, '_>,
    member: &Member,
) -> Result<(), StoreError> {
    hl.open(Some(parent), "22", Some(false), w);
    write_trn(w, person.trn());
    write_member_name(w, member);
    let dates = inquiry_dates(person, ctx.today).and_then(|(from, to)| {
        if member.birth_date > to {
            Err(BORN_AFTER_SERVICE)
        } else if member.death_date.is_some_and(|d| d < from) {
            Err(DIED_BEFORE_SERVICE)
        } else {
            Ok((from, to))
        }
    });
    let (from, to) = match dates {
        Err(r) => {
            write_aaa(w, r);
            write_dmg(w, member);
            return Ok(());
        }
        Ok(d) => d,
    };
    write_dmg(w, member);
    write_date(w, "291", from, to);
    let spans = data.spans(member.key, from, to).await?;
    let types = service_types(person, w.delimiters());
    write_benefits(w, &spans, types.as_str(), from, to);
    Ok(())
}

/// EB03: the EQ01 service types asked for, in order, without repeats, joined with the
/// repetition separator (as `SegmentWriter::repeated` does); `30` (health benefit plan
/// coverage) when only procedures were asked about.
fn service_types(p: &Person<'_, '_>, d: Delimiters) -> Scratch {
    let asked = || {
        p.eqs()
            .flat_map(|q| q.repetitions(1))
            .map(text)
            .filter(|st| !st.is_empty())
    };
    let mut out = Scratch::default();
    let mut written = 0;
    for (i, st) in asked().enumerate() {
        if asked().take(i).any(|earlier| earlier == st) {
            continue;
        }
        if written > 0 {
            let _ = out.write_char(char::from(d.repetition.unwrap_or(b'^')));
        }
        // Each value cleaned as the writer cleans a repetition: any separator or byte that is
        // not printable ASCII becomes a space.
        for b in st.bytes() {
            let separator =
                b == d.element || b == d.segment || b == d.component || Some(b) == d.repetition;
            let keep = !separator && (0x20..0x7F).contains(&b);
            let _ = out.write_char(if keep { char::from(b) } else { ' ' });
        }
        written += 1;
    }
    if written == 0 {
        let _ = out.write_str("30");
    }
    out
}

/// The 2110C loops: coverage (active and inactive, gaps as inactive), managed care and primary
/// care provider, other insurance; the QMB message rides on the coverage it applies to.
fn write_benefits(w: &mut SegmentWriter, spans: &Spans, types: &str, from: Date, to: Date) {
    let qmb = || spans.iter().filter(|s| s.kind == SpanKind::Qmb);
    let mut qmb_written = qmb().next().is_none();
    coverage_periods(spans, from, to, |active, span, start, end| {
        let plan_name = span.map_or("", |s| s.plan_name.as_str());
        if active {
            let ins = span
                .map(|s| s.insurance_type.as_str())
                .filter(|t| !t.is_empty())
                .unwrap_or("MC");
            w.segment("EB", &["1", "IND", types, ins, plan_name]);
            if let Some(s) = span.filter(|s| !s.plan_code.is_empty()) {
                w.segment("REF", &["18", s.plan_code.as_str(), s.plan_name.as_str()]);
            }
        } else {
            w.segment("EB", &["6", "IND", types]);
        }
        write_date(w, "307", start, end);
        if !qmb_written && active && qmb().any(|q| q.start <= end && q.end >= start) {
            w.segment("MSG", &[QMB_MESSAGE]);
            qmb_written = true;
        }
    });
    if let Some(q) = qmb().next().filter(|_| !qmb_written) {
        // QMB on file without active coverage on these dates: still say so, on its own loop.
        w.segment("EB", &["D", "IND", "30"]);
        write_date(w, "307", q.start.max(from), q.end.min(to));
        w.segment("MSG", &[QMB_MESSAGE]);
    }
    for s in spans.iter().filter(|s| s.kind == SpanKind::ManagedCare) {
        w.segment("EB", &["MC", "IND", "30", "HM", s.plan_name.as_str()]);
        write_date(w, "292", s.start.max(from), s.end.min(to));
        w.segment("LS", &["2120"]);
        w.segment(
            "NM1",
            &[
                "Y2",
                "2",
                s.plan_name.as_str(),
                "",
                "",
                "",
                "",
                "PI",
                &s.plan_code,
            ],
        );
        w.segment("LE", &["2120"]);
        write_pcp(w, s, from, to);
    }
    for s in spans.iter().filter(|s| s.kind == SpanKind::Pcc) {
        write_pcp(w, s, from, to);
    }
    for s in spans.iter().filter(|s| s.kind == SpanKind::OtherInsurance) {
        let ins = if s.insurance_type.is_empty() {
            "OT"
        } else {
            s.insurance_type.as_str()
        };
        w.segment("EB", &["R", "IND", "30", ins, s.plan_name.as_str()]);
        if !s.policy_number.is_empty() {
            w.segment("REF", &["IG", s.policy_number.as_str()]);
        }
        write_date(w, "290", s.start.max(from), s.end.min(to));
        w.segment("LS", &["2120"]);
        w.segment(
            "NM1",
            &[
                "PRP",
                "2",
                s.carrier_name.as_str(),
                "",
                "",
                "",
                "",
                "PI",
                &s.carrier_code,
            ],
        );
        w.segment("LE", &["2120"]);
    }
}

/// EB*L with the primary care provider in 2120C.
fn write_pcp(w: &mut SegmentWriter, s: &Span, from: Date, to: Date) {
    let Some(pcp) = &s.pcp else { return };
    let description = if s.kind == SpanKind::Pcc {
        s.plan_name.as_str()
    } else {
        ""
    };
    w.segment("EB", &["L", "IND", "30", "", description]);
    write_date(w, "292", s.start.max(from), s.end.min(to));
    w.segment("LS", &["2120"]);
    let (qual, id) = match &pcp.npi {
        Some(npi) => ("XX", npi.as_str()),
        None => ("SV", pcp.provider_id.as_str()),
    };
    w.segment(
        "NM1",
        &[
            "P3",
            pcp.entity.code(),
            pcp.name.as_str(),
            &pcp.first_name,
            "",
            "",
            "",
            qual,
            id,
        ],
    );
    w.segment("LE", &["2120"]);
}

/// Splits `from..=to` into consecutive periods, passed to `period` in order: covered by an
/// active span, by an inactive one, or by nothing (inactive). Overlapping spans: active wins.
fn coverage_periods<'s>(
    spans: &'s Spans,
    from: Date,
    to: Date,
    mut period: impl FnMut(bool, Option<&'s Span>, Date, Date),
) {
    let coverage = || {
        spans
            .iter()
            .filter(|s| s.kind == SpanKind::Coverage && s.overlaps(from, to))
    };
    let status = |d: Date| -> (bool, Option<&'s Span>) {
        let covers = |s: &&Span| s.start <= d && d <= s.end;
        let active = coverage().filter(|s| s.active).find(covers);
        let inactive = coverage().filter(|s| !s.active).find(covers);
        match (active, inactive) {
            (Some(s), _) => (true, Some(s)),
            (None, Some(s)) => (false, Some(s)),
            (None, None) => (false, None),
        }
    };
    let mut current: Option<(bool, Option<&'s Span>, Date, Date)> = None;
    let mut day = from;
    // At most 31 days: walking them is simpler than interval arithmetic and just as fast.
    loop {
        let (active, span) = status(day);
        match &mut current {
            Some(last) if last.0 == active && same_span(last.1, span) => last.3 = day,
            _ => {
                if let Some((a, s, start, end)) = current.take() {
                    period(a, s, start, end);
                }
                current = Some((active, span, day, day));
            }
        }
        if day >= to {
            break;
        }
        day += Duration::days(1);
    }
    if let Some((a, s, start, end)) = current {
        period(a, s, start, end);
    }
}

fn same_span(a: Option<&Span>, b: Option<&Span>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => std::ptr::eq(a, b),
        (None, None) => true,
        _ => false,
    }
}

fn write_aaa(w: &mut SegmentWriter, r: Reject) {
    w.segment(
        "AAA",
        &[
            if r.valid_request { "Y" } else { "N" },
            "",
            r.reason,
            r.follow_up,
        ],
    );
}

fn write_member_name(w: &mut SegmentWriter, m: &Member) {
    w.segment(
        "NM1",
        &[
            "IL",
            "1",
            m.last_name.as_str(),
            &m.first_name,
            &m.middle_name,
            "",
            "",
            "MI",
            &m.member_id,
        ],
    );
    if !m.address_line.is_empty() {
        w.segment("N3", &[m.address_line.as_str()]);
    }
    if !m.city.is_empty() {
        w.segment("N4", &[m.city.as_str(), &m.state, &m.zip]);
    }
}

fn write_dmg(w: &mut SegmentWriter, m: &Member) {
    w.segment(
        "DMG",
        &["D8", x12_date(m.birth_date).as_str(), m.gender.code()],
    );
}

/// Echoes who the request asked about (a rejected or unanswerable person).
fn echo_person(w: &mut SegmentWriter, p: &Person<'_, '_>, entity: &str) {
    match &p.nm1 {
        Some(nm1) => echo_as(w, "NM1", nm1, Some(entity)),
        None => {
            w.segment("NM1", &[entity, "1", "UNKNOWN"]);
        }
    }
}
