//! 276 → 277 (005010X212): find each claim asked about and report where it stands.
//!
//! Status codes (STC01): category (external code list 507) : status (list 508) [: entity].
//! - received, not yet adjudicated: `A2:20` (accepted into the adjudication system: accepted
//!   for processing);
//! - suspended (pended): `P2:<code on file>` (pending review; loaders default the code to 46,
//!   internal review/audit);
//! - paid: `F1:65` (claim/line has been paid) with amount, remittance date and check/EFT number;
//! - denied: `F2:<reason on file>` (e.g. 88, not eligible on the dates of service);
//! - not on file: `A4:35` (claim/encounter not found), one per claim asked about;
//! - provider not on file or inactive: `E0:562:1P` (error in the request: the provider's NPI);
//!   not one the partner may ask for: `E4:562:1P` (trading partner agreement not met).
//!
//! Several claims matching one request come back as several 2200D loops, each echoing the
//! request's trace number.

use std::borrow::Cow;

use time::Date;

use super::eligibility::receiver_verdict;
use super::model::{Claim, ClaimQuery, ClaimStatus, Gender, MemberQuery, name_key, same_name_key};
use super::write::{Hl, amount, echo, element_text, hhmm, text, write_date, x12_date};
use super::{PlanData, ResponseContext, parse_x12_date};
use crate::store::StoreError;
use crate::x12::segment::Segment;
use crate::x12::tree::{HlStep, TransactionSet};
use crate::x12::writer::{Digits, SegmentWriter};

/// Status codes that the code list says need an entity identifier (STC01-3).
const CODES_NEEDING_ENTITY: [&str; 4] = ["19", "88", "97", "109"];

/// One claim asked about (2200D / 2200E).
#[derive(Debug)]
struct ClaimAsk<'a> {
    trn: Segment<'a>,
    payer_claim_number: Option<Cow<'a, str>>,
    patient_control_number: Option<Cow<'a, str>>,
    bill_type: Option<Cow<'a, str>>,
    service: Option<Result<(Date, Date), ()>>,
}

/// A subscriber (2000D) or dependent (2000E) with the claims asked about.
#[derive(Debug, Default)]
struct Patient<'a> {
    nm1: Option<Segment<'a>>,
    dmg: Option<Segment<'a>>,
    claims: Vec<ClaimAsk<'a>>,
    dependents: Vec<Patient<'a>>,
}

#[derive(Debug, Default)]
struct ServiceProvider<'a> {
    nm1: Option<Segment<'a>>,
    subscribers: Vec<Patient<'a>>,
}

#[derive(Debug, Default)]
struct Receiver<'a> {
    nm1: Option<Segment<'a>>,
    providers: Vec<ServiceProvider<'a>>,
}

#[derive(Debug)]
struct Request<'a> {
    bht03: Cow<'a, str>,
    receivers: Vec<Receiver<'a>>,
}

fn read_request<'a>(set: &TransactionSet<'a>) -> Request<'a> {
    let mut req = Request {
        bht03: text(set.first(b"BHT", 3)),
        receivers: Vec::new(),
    };
    // Levels: 20 payer, 21 receiver, 19 service provider, 22 subscriber, 23 dependent.
    for step in set.hl_walk() {
        match step {
            HlStep::Open(b"21") => req.receivers.push(Receiver::default()),
            HlStep::Open(b"19") => {
                if let Some(r) = req.receivers.last_mut() {
                    r.providers.push(ServiceProvider::default());
                }
            }
            HlStep::Open(b"22") => {
                if let Some(p) = provider(&mut req) {
                    p.subscribers.push(Patient::default());
                }
            }
            HlStep::Open(b"23") => {
                if let Some(s) = subscriber(&mut req) {
                    s.dependents.push(Patient::default());
                }
            }
            HlStep::Open(_) => {}
            HlStep::Segment(b"21", seg) if seg.id() == b"NM1" => {
                if let Some(r) = req.receivers.last_mut() {
                    r.nm1 = Some(*seg);
                }
            }
            HlStep::Segment(b"19", seg) if seg.id() == b"NM1" => {
                if let Some(p) = provider(&mut req) {
                    p.nm1.get_or_insert(*seg);
                }
            }
            HlStep::Segment(b"22", seg) => {
                if let Some(p) = subscriber(&mut req) {
                    add_to_patient(p, seg);
                }
            }
            HlStep::Segment(b"23", seg) => {
                if let Some(p) = subscriber(&mut req).and_then(|s| s.dependents.last_mut()) {
                    add_to_patient(p, seg);
                }
            }
            HlStep::Segment(..) => {}
        }
    }
    req
}

fn provider<'r, 'a>(req: &'r mut Request<'a>) -> Option<&'r mut ServiceProvider<'a>> {
    req.receivers.last_mut()?.providers.last_mut()
}

fn subscriber<'r, 'a>(req: &'r mut Request<'a>) -> Option<&'r mut Patient<'a>> {
    provider(req)?.subscribers.last_mut()
}

fn add_to_patient<'a>(p: &mut Patient<'a>, seg: &Segment<'a>) {
    let value = || Some(element_text(seg, 2)).filter(|v| !v.is_empty());
    match (seg.id(), p.claims.last_mut()) {
        (b"DMG", _) => p.dmg = Some(*seg),
        (b"NM1", _) => p.nm1 = Some(*seg),
        (b"TRN", _) => p.claims.push(ClaimAsk {
            trn: *seg,
            payer_claim_number: None,
            patient_control_number: None,
            bill_type: None,
            service: None,
        }),
        (b"REF", Some(c)) => match seg.element(1) {
            b"1K" => c.payer_claim_number = value(),
            b"EJ" => c.patient_control_number = value(),
            b"BLT" => c.bill_type = value(),
            _ => {}
        },
        // The first DTP*472 after the TRN is the claim's; later ones belong to service lines.
        (b"DTP", Some(c)) if seg.element(1) == b"472" && c.service.is_none() => {
            c.service = Some(service_dates(seg));
        }
        _ => {}
    }
}

fn service_dates(dtp: &Segment<'_>) -> Result<(Date, Date), ()> {
    let v = dtp.element(3);
    match dtp.element(2) {
        b"D8" => parse_x12_date(v).map(|d| (d, d)).ok_or(()),
        b"RD8" => {
            let dash = v.iter().position(|&b| b == b'-').ok_or(())?;
            let from = parse_x12_date(&v[..dash]).ok_or(())?;
            let to = parse_x12_date(&v[dash + 1..]).ok_or(())?;
            if to < from { Err(()) } else { Ok((from, to)) }
        }
        _ => Err(()),
    }
}

/// Writes the 277 answering `set` (a 276) into `w`, ST through SE.
pub async fn answer<D: PlanData>(
    set: &TransactionSet<'_>,
    data: &D,
    ctx: &ResponseContext,
    w: &mut SegmentWriter,
) -> Result<(), StoreError> {
    let req = read_request(set);
    let st02 = text(set.segments.first().map_or(&[][..], |s| s.element(2)));
    w.start_count();
    w.segment("ST", &["277", &st02, "005010X212"]);
    w.segment(
        "BHT",
        &[
            "0010",
            "08",
            &req.bht03,
            x12_date(ctx.today).as_str(),
            hhmm(ctx).as_str(),
            "DG",
        ],
    );
    let mut hl = Hl::default();
    // 2000A must announce children, and the guide requires a 2000B below it.
    let source_hl = hl.open(None, "20", Some(true), w);
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
    for receiver in &req.receivers {
        hl_receiver(data, ctx, w, &mut hl, source_hl, receiver).await?;
    }
    let count = Digits::new(u64::from(w.counted()) + 1);
    w.segment("SE", &[count.as_str(), &st02]);
    Ok(())
}

async fn hl_receiver<D: PlanData>(
    data: &D,
    ctx: &ResponseContext,
    w: &mut SegmentWriter,
    hl: &mut Hl,
    parent: usize,
    receiver: &Receiver<'_>,
) -> Result<(), StoreError> {
    let receiver_hl = hl.open(Some(parent), "21", Some(!receiver.providers.is_empty()), w);
    match receiver.nm1 {
        Some(nm1) => echo(w, &nm1),
        None => {
            w.segment(
                "NM1",
                &["41", "2", "UNKNOWN", "", "", "", "", "46", "UNKNOWN"],
            );
        }
    }
    for sp in &receiver.providers {
        let provider_hl = hl.open(Some(receiver_hl), "19", Some(!sp.subscribers.is_empty()), w);
        if let Some(nm1) = sp.nm1 {
            echo(w, &nm1);
        }
        let (provider_ids, verdict) = resolve_provider(data, sp.nm1.as_ref(), ctx).await?;
        for sub in &sp.subscribers {
            let sub_hl = hl.open(Some(provider_hl), "22", Some(!sub.dependents.is_empty()), w);
            match sub.nm1 {
                Some(nm1) => echo(w, &nm1),
                None => {
                    w.segment(
                        "NM1",
                        &["IL", "1", "UNKNOWN", "", "", "", "", "MI", "UNKNOWN"],
                    );
                }
            }
            let member_id = sub.nm1.map(|n| element_text(&n, 9)).unwrap_or_default();
            for ask in &sub.claims {
                answer_claim(data, ctx, w, ask, &member_id, &provider_ids, verdict).await?;
            }
            for dep in &sub.dependents {
                hl.open(Some(sub_hl), "23", None, w);
                if let Some(nm1) = dep.nm1 {
                    echo(w, &nm1);
                }
                // A patient with an ID of their own has claims under it; otherwise under the
                // subscriber's.
                let patient_id = dependent_member_id(data, dep)
                    .await?
                    .unwrap_or_else(|| member_id.to_string());
                for ask in &dep.claims {
                    answer_claim(data, ctx, w, ask, &patient_id, &provider_ids, verdict).await?;
                }
            }
        }
    }
    Ok(())
}

/// What a provider's claims can be answered with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ProviderVerdict {
    Ok,
    /// Not on file, inactive or not identified: an error in the request.
    Unknown,
    /// On file but not one the partner may ask about.
    NotAuthorized,
}

async fn resolve_provider<D: PlanData>(
    data: &D,
    nm1: Option<&Segment<'_>>,
    ctx: &ResponseContext,
) -> Result<(Vec<String>, ProviderVerdict), StoreError> {
    let Some(nm1) = nm1 else {
        return Ok((Vec::new(), ProviderVerdict::Unknown));
    };
    let id = element_text(nm1, 9);
    let providers: Vec<_> = match nm1.element(8) {
        b"XX" if !id.is_empty() => data.providers_by_npi(&id).await?.to_vec(),
        b"SV" if !id.is_empty() => data
            .provider(&id)
            .await?
            .as_deref()
            .cloned()
            .into_iter()
            .collect(),
        _ => Vec::new(),
    };
    let verdict = match receiver_verdict(&providers, ctx) {
        Ok(()) => ProviderVerdict::Ok,
        Err(r) if r.reason == "41" => ProviderVerdict::NotAuthorized,
        Err(_) => ProviderVerdict::Unknown,
    };
    // Only the locations the partner may see are searched.
    let ids = providers
        .into_iter()
        .filter(|p| {
            ctx.authorized_providers
                .as_ref()
                .is_none_or(|a| a.contains(&p.provider_id))
        })
        .map(|p| p.provider_id)
        .collect();
    Ok((ids, verdict))
}

async fn dependent_member_id<D: PlanData>(
    data: &D,
    dep: &Patient<'_>,
) -> Result<Option<String>, StoreError> {
    let Some(nm1) = dep.nm1 else { return Ok(None) };
    let id = element_text(&nm1, 9);
    if !id.is_empty() {
        return Ok(Some(id.into_owned()));
    }
    let birth = dep.dmg.and_then(|d| parse_x12_date(d.element(2)));
    let gender = dep
        .dmg
        .and_then(|d| Gender::from_code(&element_text(&d, 3)));
    let (Some(birth_date), last) = (birth, name_key(&element_text(&nm1, 3))) else {
        return Ok(None);
    };
    let first = element_text(&nm1, 4);
    let found = data
        .members(&MemberQuery::NameAndBirth {
            name_key: &last,
            birth_date,
        })
        .await?;
    let mut matching = found
        .iter()
        .filter(|m| same_name_key(&m.first_name, &first))
        .filter(|m| gender.is_none_or(|g| g == m.gender));
    Ok(match (matching.next(), matching.next()) {
        (Some(one), None) => Some(one.member_id.clone()),
        _ => None,
    })
}

/// Writes the 2200D/E loops answering one claim asked about: one per claim found, or one saying
/// why none can be reported.
async fn answer_claim<D: PlanData>(
    data: &D,
    ctx: &ResponseContext,
    w: &mut SegmentWriter,
    ask: &ClaimAsk<'_>,
    member_id: &str,
    provider_ids: &[String],
    verdict: ProviderVerdict,
) -> Result<(), StoreError> {
    let trace = element_text(&ask.trn, 2);
    let today = x12_date(ctx.today);
    let today = today.as_str();
    let not_answerable = match verdict {
        ProviderVerdict::Ok => None,
        ProviderVerdict::Unknown => Some("E0:562:1P"),
        ProviderVerdict::NotAuthorized => Some("E4:562:1P"),
    };
    let claims = match (not_answerable, &ask.service) {
        (None, Some(Err(()))) => None,
        (None, service) if !member_id.is_empty() => {
            let query = ClaimQuery {
                member_id: member_id.to_string(),
                provider_ids: provider_ids.to_vec(),
                payer_claim_number: ask.payer_claim_number.as_deref().map(str::to_string),
                patient_control_number: ask.patient_control_number.as_deref().map(str::to_string),
                service: service.as_ref().and_then(|s| s.ok()),
            };
            Some(data.claims(&query).await?)
        }
        _ => None,
    };
    match claims {
        Some(claims) if !claims.is_empty() => {
            for c in &claims {
                w.segment("TRN", &["2", &trace]);
                write_status(w, c);
                w.segment("REF", &["1K", c.payer_claim_number.as_str()]);
                if !c.bill_type.is_empty() {
                    w.segment("REF", &["BLT", c.bill_type.as_str()]);
                }
                w.segment("REF", &["EJ", c.patient_control_number.as_str()]);
                write_date(w, "472", c.service_from, c.service_to);
            }
        }
        _ => {
            // Not found (or not searchable): say so, echoing what identified the claim. The
            // payer's claim number is not sent for a claim the payer does not have.
            w.segment("TRN", &["2", &trace]);
            let stc01 = not_answerable.unwrap_or(if matches!(ask.service, Some(Err(()))) {
                "E0:187"
            } else {
                "A4:35"
            });
            let stc01 = w.composite(&stc01.split(':').collect::<Vec<_>>());
            w.segment("STC", &[stc01.as_str(), today]);
            if let Some(b) = &ask.bill_type {
                w.segment("REF", &["BLT", b]);
            }
            if let Some(p) = &ask.patient_control_number {
                w.segment("REF", &["EJ", p]);
            }
            if let Some(Ok((from, to))) = ask.service {
                write_date(w, "472", from, to);
            }
        }
    }
    Ok(())
}

fn write_status(w: &mut SegmentWriter, c: &Claim) {
    let (category, default_code) = match c.status {
        ClaimStatus::Received => ("A2", "20"),
        ClaimStatus::Suspended => ("P2", "46"),
        ClaimStatus::Paid => ("F1", "65"),
        ClaimStatus::Denied => ("F2", "88"),
    };
    let code = if c.status_code.is_empty() {
        default_code
    } else {
        c.status_code.as_str()
    };
    let entity = if CODES_NEEDING_ENTITY.contains(&code) {
        "IL"
    } else {
        ""
    };
    let stc01 = w.composite(&[category, code, entity]);
    let effective = c
        .adjudication_date
        .filter(|_| matches!(c.status, ClaimStatus::Paid | ClaimStatus::Denied))
        .unwrap_or(c.received_date);
    let billed = amount(c.billed_cents);
    let (billed, effective) = (billed.as_str(), x12_date(effective));
    let effective = effective.as_str();
    let adjudicated = c.adjudication_date.map(x12_date).unwrap_or_default();
    match c.status {
        ClaimStatus::Received | ClaimStatus::Suspended => {
            w.segment("STC", &[stc01.as_str(), effective, "", billed]);
        }
        ClaimStatus::Denied => {
            w.segment(
                "STC",
                &[
                    stc01.as_str(),
                    effective,
                    "",
                    billed,
                    "0",
                    adjudicated.as_str(),
                ],
            );
        }
        ClaimStatus::Paid => {
            let paid_on = c.payment_date.map(x12_date).unwrap_or_default();
            w.segment(
                "STC",
                &[
                    stc01.as_str(),
                    effective,
                    "",
                    billed,
                    amount(c.paid_cents).as_str(),
                    adjudicated.as_str(),
                    "",
                    paid_on.as_str(),
                    c.payment_number.as_deref().unwrap_or_default(),
                ],
            );
        }
    }
}
