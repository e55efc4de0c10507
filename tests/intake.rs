//! Batch intake on SQLite and PostgreSQL: 837 claims stored as received and answered by the
//! 276 responder; 834 enrollment applied and answered by the 270 responder.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use hts_gateway::payer::cache::CachedPlan;
use hts_gateway::payer::intake::{
    ClaimExtractor, LexemeFeed, Maintenance, MemberChange, claims_in, enrollment_in,
    payer_claim_number,
};
use hts_gateway::payer::model::{ClaimQuery, ClaimStatus, MemberQuery};
use hts_gateway::payer::{
    AnswerKind, PlanData, PlanIdentity, ResponseContext, parse_date, respond,
};
use hts_gateway::store::Store;
use hts_gateway::x12::sample::{Sample837, write_837p};
use time::{Date, Time};

const TRACKING: &str = "2606140000000042";
const HOSPITAL: &str = "NM1*1P*2*DEMO COMMUNITY HOSPITAL*****XX*1234567893~";

fn d(s: &str) -> Date {
    parse_date(s).unwrap()
}

fn context() -> ResponseContext {
    let mut ctx = ResponseContext::now(PlanIdentity::default());
    ctx.today = d("2026-06-15");
    ctx.now = Time::from_hms(12, 0, 0).unwrap();
    ctx.interchange_control = 1;
    ctx.group_control = 1;
    ctx
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(common::root().join("fixtures/x12").join(name)).unwrap()
}

/// ISA/GS/ST/BHT … SE/GE/IEA around `body`, with correct counts.
fn envelope(gs01: &str, st01: &str, version: &str, bht: &str, body: &str) -> Vec<u8> {
    let segs: Vec<&str> = body.split('~').filter(|s| !s.trim().is_empty()).collect();
    let mut s = String::new();
    s.push_str("ISA*00*          *00*          *ZZ*110048577A     *ZZ*DEMOPLAN       *260615*1200*^*00501*000000101*0*T*:~");
    s.push_str(&format!(
        "GS*{gs01}*110048577A*DEMOPLAN*20260615*1200*101*X*{version}~"
    ));
    s.push_str(&format!("ST*{st01}*0001*{version}~{bht}~"));
    for seg in &segs {
        s.push_str(seg.trim());
        s.push('~');
    }
    s.push_str(&format!(
        "SE*{}*0001~GE*1*101~IEA*1*000000101~",
        segs.len() + 3
    ));
    s.into_bytes()
}

/// A 270 from the demo hospital about one subscriber (`subscriber`: NM1, DMG, DTP, EQ).
fn request_270(subscriber: &str) -> Vec<u8> {
    envelope(
        "HS",
        "270",
        "005010X279A1",
        "BHT*0022*13*REQ0001*20260615*1200",
        &format!(
            "HL*1**20*1~NM1*PR*2*DEMO HEALTH PLAN*****PI*DEMOPLAN~HL*2*1*21*1~{HOSPITAL}\
             HL*3*2*22*0~TRN*1*TRACE0001*9876543210~{subscriber}"
        ),
    )
}

/// A 276 from the demo hospital: `subscriber` is DMG and NM1, `claim` the 2200D after TRN.
fn request_276(subscriber: &str, claim: &str) -> Vec<u8> {
    envelope(
        "HR",
        "276",
        "005010X212",
        "BHT*0010*13*REQ0002*20260615*1200",
        &format!(
            "HL*1**20*1~NM1*PR*2*DEMO HEALTH PLAN*****PI*DEMOPLAN~HL*2*1*21*1~\
             NM1*41*2*DEMO COMMUNITY HOSPITAL*****46*110048577A~HL*3*2*19*1~{HOSPITAL}\
             HL*4*3*22*0~{subscriber}TRN*1*CLAIMTRACE1~{claim}"
        ),
    )
}

/// The answer to `request`, on one line, checked to be of `kind` and valid X12.
async fn answer<D: PlanData + Sync>(data: &D, request: &[u8], kind: AnswerKind) -> String {
    let report = hts_gateway::x12::validate(request);
    assert!(report.accepted(), "bad request: {}", report.verdict_line());
    let a = respond(request, data, &context()).await.unwrap();
    let text = String::from_utf8(a.bytes.clone()).unwrap();
    assert_eq!(a.kind, kind, "{text}");
    let check = hts_gateway::x12::validate(&a.bytes);
    assert!(check.accepted(), "{}\n{text}", check.verdict_line());
    text
}

fn assert_in_order(text: &str, expect: &[&str]) {
    let mut from = 0;
    for e in expect {
        match text[from..].find(e) {
            Some(i) => from += i + e.len(),
            None => panic!("missing (in order) {e:?}\n{text}"),
        }
    }
}

async fn claim_count(store: &Store) -> i64 {
    store.plan_counts().await.unwrap().claims
}

on_both_backends!(claims_answered_by_276, |store: Store| async move {
    common::db::load_demo(&store).await;
    let before = claim_count(&store).await;
    let institutional = claims_in(&fixture("837I_three_claims.x12"));
    let professional = claims_in(&fixture("837P_two_claims.x12"));
    let received = d("2026-06-14");
    assert_eq!(
        store
            .insert_received_claims(&institutional, TRACKING, received)
            .await
            .unwrap(),
        3
    );
    assert_eq!(
        store
            .insert_received_claims(&professional, "2606140000000043", received)
            .await
            .unwrap(),
        2
    );
    assert_eq!(claim_count(&store).await, before + 5);

    // Jane's institutional claim: received, not adjudicated; the payer's number, bill type,
    // statement dates.
    let jane = "DMG*D8*19850312*F~NM1*IL*1*DOE*JANE****MI*100000000001~";
    let text = answer(
        &store,
        &request_276(jane, "REF*EJ*INST-0001~"),
        AnswerKind::ClaimStatus,
    )
    .await;
    let pcn = format!("REF*1K*{}~", payer_claim_number(TRACKING, 1));
    assert_in_order(
        &text,
        &[
            "TRN*2*CLAIMTRACE1~",
            "STC*A2:20*20260614**1250.75~",
            &pcn,
            "REF*BLT*111~",
            "REF*EJ*INST-0001~",
            "DTP*472*RD8*20260510-20260512~",
        ],
    );
    // Found by the payer claim number too.
    let by_number = format!("REF*1K*{}~", payer_claim_number(TRACKING, 2));
    let text = answer(
        &store,
        &request_276(jane, &by_number),
        AnswerKind::ClaimStatus,
    )
    .await;
    assert_in_order(
        &text,
        &[
            "STC*A2:20*20260614**300~",
            "REF*BLT*131~",
            "REF*EJ*INST-0002~",
        ],
    );

    // The 837P's second claim is for a 2000C patient, filed under the subscriber's ID.
    let john = "DMG*D8*19790303*M~NM1*IL*1*SAMPLE*JOHN****MI*100200400~";
    let text = answer(
        &store,
        &request_276(john, "REF*EJ*PCN1002~DTP*472*D8*20261102~"),
        AnswerKind::ClaimStatus,
    )
    .await;
    assert_in_order(
        &text,
        &[
            "STC*A2:20*20260614**75.5~",
            "REF*EJ*PCN1002~",
            "DTP*472*RD8*20261102-20261103~",
        ],
    );
    assert!(!text.contains("REF*BLT"), "{text}");

    // The stored rows, as the 276 lookup reads them: provider resolved from the NPI.
    let stored = store
        .claims(&ClaimQuery {
            member_id: "100000000004".into(),
            patient_control_number: Some("INST-0003".into()),
            ..ClaimQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(stored.len(), 1);
    let c = &stored[0];
    assert_eq!(c.provider_id, "110048577A");
    assert_eq!(c.status, ClaimStatus::Received);
    assert_eq!(c.status_code, "20");
    assert_eq!(c.billed_cents, 98_000);
    assert_eq!(
        (c.service_from, c.service_to),
        (d("2026-06-01"), d("2026-06-03"))
    );
    assert_eq!(c.received_date, received);
    assert_eq!(c.payer_claim_number, payer_claim_number(TRACKING, 3));
});

on_both_backends!(claims_inserted_once, |store: Store| async move {
    common::db::load_demo(&store).await;
    let claims = claims_in(&fixture("837I_three_claims.x12"));
    let day = d("2026-06-14");
    // A worker that crashed after the first batch, then ran the submission again.
    assert_eq!(
        store
            .insert_received_claims(&claims[..1], TRACKING, day)
            .await
            .unwrap(),
        1
    );
    let before = claim_count(&store).await;
    assert_eq!(
        store
            .insert_received_claims(&claims, TRACKING, day)
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        store
            .insert_received_claims(&claims, TRACKING, day)
            .await
            .unwrap(),
        0
    );
    assert_eq!(claim_count(&store).await, before + 2);
    assert_eq!(
        store
            .insert_received_claims(&[], TRACKING, day)
            .await
            .unwrap(),
        0
    );
    // A tracking number claim numbers cannot be built on is refused.
    assert!(
        store
            .insert_received_claims(&claims, "", day)
            .await
            .is_err()
    );
    assert!(
        store
            .insert_received_claims(&claims, "26-06", day)
            .await
            .is_err()
    );
});

on_both_backends!(large_file_streamed_in_batches, |store: Store| async move {
    let mut bytes = Vec::new();
    let shape = Sample837 {
        claims: 2_600,
        claims_per_set: 1_000,
        sets_per_interchange: 2,
    };
    write_837p(shape, &mut bytes).unwrap();
    let report = hts_gateway::x12::validate(&bytes);
    // As the worker does: stored chunks in, batches of 500 out, accepted sets only.
    let run = |store: Store, bytes: Vec<u8>, report: hts_gateway::x12::Report| async move {
        let mut feed = LexemeFeed::new();
        let mut ex = ClaimExtractor::new();
        let mut batch = Vec::new();
        let mut inserted = 0;
        let mut largest = 0;
        // Small chunks so that the file takes many (stored blobs use 1 MiB).
        for chunk in bytes.chunks(64 * 1024) {
            feed.feed(chunk, |l| {
                batch.extend(ex.push(&l).filter(|c| c.set.accepted_in(&report)));
            });
            largest = largest.max(batch.len());
            for part in batch.chunks(500) {
                inserted += store
                    .insert_received_claims(part, TRACKING, d("2026-06-14"))
                    .await
                    .unwrap();
            }
            batch.clear();
        }
        feed.finish(|l| batch.extend(ex.push(&l).filter(|c| c.set.accepted_in(&report))));
        batch.extend(ex.finish().filter(|c| c.set.accepted_in(&report)));
        inserted += store
            .insert_received_claims(&batch, TRACKING, d("2026-06-14"))
            .await
            .unwrap();
        assert!(largest < 2_600, "claims are not all held at once");
        inserted
    };
    assert_eq!(
        run(store.clone(), bytes.clone(), report.clone()).await,
        2_600
    );
    assert_eq!(claim_count(&store).await, 2_600);
    assert_eq!(run(store.clone(), bytes, report).await, 0);
    assert_eq!(claim_count(&store).await, 2_600);
    let last = store
        .claims(&ClaimQuery {
            member_id: "100002600".into(),
            ..ClaimQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(last.len(), 1);
    assert_eq!(
        last[0].payer_claim_number,
        payer_claim_number(TRACKING, 2_600)
    );
    assert_eq!(last[0].patient_control_number, "PCN2600");
    // No provider file loaded: the NPI stands in for the provider ID.
    assert_eq!(last[0].provider_id.len(), 10);
});

fn nora() -> Vec<u8> {
    request_270("NM1*IL*1*NEWMAN*NORA****MI*300000000001~EQ*30~")
}

fn leo(date: &str) -> Vec<u8> {
    request_270(&format!(
        "NM1*IL*1*CORBECK*LEO****MI*200000000002~DTP*291*D8*{date}~EQ*30~"
    ))
}

on_both_backends!(enrollment_applied, |store: Store| async move {
    common::db::load_demo(&store).await;
    let changes = enrollment_in(&fixture("834_enrollment_changes.x12")).unwrap();
    let members_before = store.plan_counts().await.unwrap().members;
    let generation = store.generation().await.unwrap();
    // Checks the generation on every call, as the gateway's cache does at most once a second.
    let cached = CachedPlan::with_limits(store.clone(), Duration::ZERO, 1000);
    answer(&cached, &nora(), AnswerKind::Eligibility).await;
    let text = answer(&cached, &leo("20260615"), AnswerKind::Eligibility).await;
    assert!(text.contains("EB*1*IND*30*MC*STANDARD PLAN~"), "{text}");

    let outcome = store.apply_enrollment(TRACKING, &changes).await.unwrap();
    assert!(!outcome.already_applied);
    assert_eq!(
        (
            outcome.members_added,
            outcome.members_changed,
            outcome.members_terminated,
            outcome.members_skipped
        ),
        (3, 2, 1, 0),
        "{outcome:?}"
    );
    assert!(outcome.skipped.is_empty(), "{outcome:?}");
    assert_eq!(store.generation().await.unwrap(), generation + 1);
    assert_eq!(
        store.plan_counts().await.unwrap().members,
        members_before + 3
    );
    assert!(store.enrollment_applied(TRACKING).await.unwrap());

    // The new member has active coverage from the benefit begin date.
    let text = answer(&cached, &nora(), AnswerKind::Eligibility).await;
    assert_in_order(
        &text,
        &[
            "NM1*IL*1*NEWMAN*NORA*Q***MI*300000000001~",
            "N3*5 HARBOR WAY UNIT 2~",
            "N4*LOWELL*MA*01852~",
            "DMG*D8*19920401*F~",
            "EB*1*IND*30*MC*STANDARD PLAN~",
            "REF*18*STD*STANDARD PLAN~",
        ],
    );
    let found = store.members(&MemberQuery::Ssn("900000099")).await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].member_id, "300000000001");
    // Found by name too: the name key is the loaders' normalization.
    let found = store
        .members(&MemberQuery::NameAndBirth {
            name_key: &hts_gateway::payer::model::name_key("Newman"),
            birth_date: d("1992-04-01"),
        })
        .await
        .unwrap();
    assert_eq!(found.len(), 1);

    // Terminated on 2026-06-10: active before, inactive after.
    let text = answer(&cached, &leo("20260615"), AnswerKind::Eligibility).await;
    assert!(text.contains("EB*6*IND*30~"), "{text}");
    assert!(!text.contains("EB*1*"), "{text}");
    let text = answer(&cached, &leo("20260610"), AnswerKind::Eligibility).await;
    assert!(text.contains("EB*1*IND*30*MC*STANDARD PLAN~"), "{text}");

    // Reinstated: active again from 2026-06-01.
    let richard = request_270("NM1*IL*1*ROE*RICHARD****MI*100000000002~EQ*30~");
    let text = answer(&cached, &richard, AnswerKind::Eligibility).await;
    assert!(text.contains("EB*1*IND*30*MC*REINSTATED PLAN~"), "{text}");

    // The dependent, under its own ID, in an HMO line until the end of the year.
    let nick = request_270("NM1*IL*1*NEWMAN*NICK****MI*300000000002~EQ*30~");
    let text = answer(&cached, &nick, AnswerKind::Eligibility).await;
    assert!(text.contains("EB*1*IND*30*HM*DEMO MCO PLAN~"), "{text}");

    // Jane moved; everything else about her is as it was.
    let jane = store
        .members(&MemberQuery::MemberId("100000000001"))
        .await
        .unwrap();
    assert_eq!(jane[0].address_line, "77 NEW STREET");
    assert_eq!(jane[0].zip, "02116");
    assert_eq!(jane[0].ssn.as_deref(), Some("900000001"));
    assert_eq!(jane[0].middle_name, "A");

    // Applying the same submission again changes nothing.
    let counts = store.plan_counts().await.unwrap();
    let again = store.apply_enrollment(TRACKING, &changes).await.unwrap();
    assert!(again.already_applied);
    assert_eq!(
        (
            again.members_added,
            again.members_changed,
            again.members_terminated
        ),
        (3, 2, 1)
    );
    assert_eq!(store.plan_counts().await.unwrap(), counts);
    assert_eq!(store.generation().await.unwrap(), generation + 1);
});

on_both_backends!(
    enrollment_skips_what_it_cannot_apply,
    |store: Store| async move {
        common::db::load_demo(&store).await;
        let changes = enrollment_in(&fixture("834_enrollment_changes.x12")).unwrap();
        let template = changes[0].clone();
        let unknown_termination = MemberChange {
            member_id: "999999999999".into(),
            maintenance: Maintenance::Terminate,
            ..template.clone()
        };
        let no_id = MemberChange {
            member_id: String::new(),
            subscriber: false,
            ..template.clone()
        };
        let no_birth = MemberChange {
            member_id: "300000000009".into(),
            birth_date: None,
            ..template.clone()
        };
        let mut no_begin = template.clone();
        no_begin.member_id = "300000000010".into();
        no_begin.eligibility_begin = None;
        no_begin.coverages[0].begin = None;
        // Jane has plan STD, not DEN: nothing of hers ends, and the outcome says so.
        let mut other_plan = changes[2].clone();
        other_plan.member_id = "100000000001".into();
        (other_plan.last_name, other_plan.first_name) = (None, None);
        other_plan.coverages[0].class_of_contract = Some("DEN".into());
        let batch = [unknown_termination, no_id, no_birth, no_begin, other_plan];
        let outcome = store
            .apply_enrollment("2606140000000077", &batch)
            .await
            .unwrap();
        assert_eq!(outcome.members_skipped, 3, "{outcome:?}");
        // The member without a coverage begin date is added; only the coverage is skipped.
        assert_eq!(outcome.members_added, 1, "{outcome:?}");
        assert_eq!(outcome.members_terminated, 1, "{outcome:?}");
        assert_eq!(outcome.skipped.len(), 5, "{outcome:?}");
        assert!(outcome.skipped[0].reason.contains("not on file"));
        assert!(outcome.skipped[3].reason.contains("begin date"));
        assert!(outcome.skipped[4].reason.contains("plan DEN: no coverage"));
        let jane = request_270("NM1*IL*1*DOE*JANE****MI*100000000001~EQ*30~");
        let text = answer(&store, &jane, AnswerKind::Eligibility).await;
        assert!(text.contains("EB*1*IND*30*MC*STANDARD PLAN~"), "{text}");
        // A tracking number that cannot name a submission is refused.
        assert!(store.apply_enrollment("", &changes).await.is_err());
    }
);
