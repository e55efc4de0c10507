//! The plan store and its CSV loaders, on SQLite and PostgreSQL: one suite, both backends.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use hts_gateway::payer::PlanData;
use hts_gateway::payer::load::{FileKind, LoadError, load_claims, load_members, load_providers};
use hts_gateway::payer::model::{ClaimQuery, ClaimStatus, MemberQuery, SpanKind, name_key};
use hts_gateway::payer::parse_date;
use hts_gateway::store::Store;

const PROVIDERS: &str = "\
provider_id,npi,entity_type,name,first_name,status
110048577A,1234567893,2,DEMO COMMUNITY HOSPITAL,,active
220011223B,1111111112,1,WELBY,MARCUS,active
";

const MEMBERS: &str = "\
record,member_id,last_name,first_name,middle_name,birth_date,gender,ssn,dcf_id,dys_id,address,city,state,zip,death_date,start_date,end_date,status,plan_code,plan_name,insurance_type,carrier_code,carrier_name,policy_number,pcp_provider_id
member,100000000001,DOE,JANE,A,1985-03-12,F,900000001,,,1 MAIN ST,BOSTON,MA,02101,,,,,,,,,,,
coverage,100000000001,,,,,,,,,,,,,,2020-01-01,2099-12-31,active,STD,STANDARD PLAN,,,,,
managed_care,100000000001,,,,,,,,,,,,,,2024-01-01,2099-12-31,,MCO01,DEMO MCO PLAN,,,,,220011223B
member,100000000010,AGENCY,ALEX,,2005-09-09,M,,DCF0000123,,,,,,,,,,,,,,,,
";

/// Expands a CSV written with only the columns a test cares about to the full header the
/// loaders require (missing columns empty). Test data has no quoted commas.
fn full(kind: FileKind, text: &str) -> String {
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let columns = kind.columns();
    let mut out = columns.join(",") + "\n";
    for line in lines {
        let values: Vec<&str> = line.split(',').collect();
        let row: Vec<&str> = columns
            .iter()
            .map(|c| {
                header
                    .iter()
                    .position(|h| h == c)
                    .and_then(|i| values.get(i).copied())
                    .unwrap_or("")
            })
            .collect();
        out.push_str(&row.join(","));
        out.push('\n');
    }
    out
}

fn d(s: &str) -> time::Date {
    parse_date(s).unwrap()
}

async fn load_small(store: &Store) {
    load_providers(store, full(FileKind::Providers, PROVIDERS).as_bytes())
        .await
        .unwrap();
    load_members(store, MEMBERS.as_bytes()).await.unwrap();
}

fn problems(e: LoadError) -> Vec<(u64, String)> {
    match e {
        LoadError::Invalid { problems, .. } => {
            problems.into_iter().map(|p| (p.line, p.message)).collect()
        }
        LoadError::Store(e) => panic!("store error: {e}"),
    }
}

on_both_backends!(demo_data_loads, |store: Store| async move {
    common::db::load_demo(&store).await;
    let c = store.plan_counts().await.unwrap();
    assert!(c.providers >= 40, "{c:?}");
    assert!(c.members >= 300, "{c:?}");
    assert!(c.claims >= 500, "{c:?}");
    // Loading the same files again changes nothing (upserts; spans replaced, not added).
    common::db::load_demo(&store).await;
    assert_eq!(store.plan_counts().await.unwrap(), c);
});

on_both_backends!(member_lookups, |store: Store| async move {
    load_small(&store).await;
    let by_id = store
        .members(&MemberQuery::MemberId("100000000001"))
        .await
        .unwrap();
    assert_eq!(by_id.len(), 1);
    let jane = &by_id[0];
    assert_eq!(
        (jane.last_name.as_str(), jane.middle_name.as_str()),
        ("DOE", "A")
    );
    assert_eq!(jane.birth_date, d("1985-03-12"));
    let by_ssn = store.members(&MemberQuery::Ssn("900000001")).await.unwrap();
    assert_eq!(by_ssn[0].member_id, "100000000001");
    let by_agency = store
        .members(&MemberQuery::AgencyId("DCF0000123"))
        .await
        .unwrap();
    assert_eq!(by_agency[0].member_id, "100000000010");
    let by_name = store
        .members(&MemberQuery::NameAndBirth {
            name_key: &name_key("Doe"),
            birth_date: d("1985-03-12"),
        })
        .await
        .unwrap();
    assert_eq!(by_name.len(), 1);
    let none = store.members(&MemberQuery::MemberId("nope")).await.unwrap();
    assert!(none.is_empty());

    // Spans overlapping a range, with the PCP resolved from the provider file.
    let spans = store
        .spans(jane.key, d("2023-06-01"), d("2024-02-01"))
        .await
        .unwrap()
        .to_vec();
    let kinds: Vec<SpanKind> = spans.iter().map(|s| s.kind).collect();
    assert_eq!(kinds, [SpanKind::Coverage, SpanKind::ManagedCare]);
    let pcp = spans[1].pcp.as_ref().expect("PCP resolved");
    assert_eq!(
        (pcp.name.as_str(), pcp.npi.as_deref()),
        ("WELBY", Some("1111111112"))
    );
    let early = store
        .spans(jane.key, d("2019-01-01"), d("2019-12-31"))
        .await
        .unwrap();
    assert!(early.is_empty());
});

on_both_backends!(members_file_replaces_spans, |store: Store| async move {
    load_small(&store).await;
    let replacement = "\
record,member_id,last_name,first_name,birth_date,gender,start_date,end_date,status
member,100000000001,DOE,JANE,1985-03-12,F,,,
coverage,100000000001,,,,,2020-01-01,2025-12-31,inactive
";
    let loaded = load_members(&store, full(FileKind::Members, replacement).as_bytes())
        .await
        .unwrap();
    assert_eq!((loaded.records, loaded.spans), (1, 1));
    let jane = &store
        .members(&MemberQuery::MemberId("100000000001"))
        .await
        .unwrap()[0];
    let spans = store
        .spans(jane.key, d("2020-01-01"), d("2099-12-31"))
        .await
        .unwrap()
        .to_vec();
    assert_eq!(spans.len(), 1, "{spans:?}");
    assert!(!spans[0].active);
    // Columns left out of the file are cleared, as the file is the member's whole record.
    assert_eq!(jane.middle_name, "");
});

on_both_backends!(
    bad_members_file_changes_nothing,
    |store: Store| async move {
        load_small(&store).await;
        let before = store.plan_counts().await.unwrap();
        let bad = "\
record,member_id,last_name,first_name,birth_date,gender,ssn,start_date,end_date,status,pcp_provider_id
member,100000000077,NEW,NANCY,1990-02-30,F,,,,,
member,100000000078,NEWER,NED,1990-02-01,X,12-34,,,,
coverage,100000000078,,,,,,2020-01-01,2019-01-01,active,
coverage,100000000079,,,,,,2020-01-01,2099-12-31,active,
pcc,100000000001,,,,,,2020-01-01,2099-12-31,,999999999Z
member,100000000080,OK,OKAY,1990-02-01,F,,,,,
member,100000000080,OK,OKAY,1990-02-01,F,,,,,
member,100000000081,X,Y,1990-02-01,F,,,,active,
bogus,100000000001,,,,,,,,,
member,X,ODD,ONE,1850-01-01,F,,,,,
";
        let got = problems(
            load_members(&store, full(FileKind::Members, bad).as_bytes())
                .await
                .unwrap_err(),
        );
        let lines: Vec<u64> = got.iter().map(|p| p.0).collect();
        let text = format!("{got:#?}");
        for (line, fragment) in [
            (2, "birth_date \"1990-02-30\" is not a date"),
            (3, "gender \"X\""),
            (3, "ssn must be 9 digits"),
            (4, "end_date is before start_date"),
            (5, "no member record for 100000000079"),
            (6, "pcp_provider_id 999999999Z is not a provider on file"),
            (8, "member 100000000080 appears twice"),
            (9, "status does not apply to a member record"),
            (10, "record \"bogus\""),
        ] {
            assert!(
                got.iter().any(|(l, m)| *l == line && m.contains(fragment)),
                "line {line}: {fragment:?} not reported in {text}"
            );
        }
        assert!(lines.iter().all(|&l| l >= 2), "{text}");
        assert!(
            lines.windows(2).all(|w| w[0] <= w[1]),
            "in file order: {text}"
        );
        // The span of a member whose own row is wrong is not blamed for it again.
        assert!(
            !got.iter()
                .any(|(l, m)| *l == 4 && m.contains("no member record")),
            "line 4 belongs to a rejected member: {text}"
        );
        assert_eq!(
            store.plan_counts().await.unwrap(),
            before,
            "nothing written"
        );
    }
);

on_both_backends!(header_problems, |store: Store| async move {
    let got = problems(
        load_providers(
            &store,
            "provider_id,npi,colour\n110048577A,1234567893,red\n".as_bytes(),
        )
        .await
        .unwrap_err(),
    );
    assert!(got[0].1.contains("unknown column \"colour\""), "{got:?}");
    let got = problems(
        load_providers(
            &store,
            "provider_id,npi\n110048577A,1234567893\n".as_bytes(),
        )
        .await
        .unwrap_err(),
    );
    assert!(
        got.iter()
            .any(|p| p.1.contains("column entity_type is missing")),
        "{got:?}"
    );
    let got = problems(
        load_providers(
            &store,
            "provider_id,npi,entity_type,name,first_name,status\n110048577A,,2,A,,active,extra\n"
                .as_bytes(),
        )
        .await
        .unwrap_err(),
    );
    assert_eq!(got[0].0, 2, "{got:?}");
    assert!(got[0].1.contains("7 fields, the header has 6"), "{got:?}");
    let got = problems(load_providers(&store, "".as_bytes()).await.unwrap_err());
    assert!(!got.is_empty());
});

on_both_backends!(bad_providers_file, |store: Store| async move {
    let bad = "\
provider_id,npi,entity_type,name,status
SHORT,1234567893,2,A,active
110048577A,1234567890,2,B,active
220011223B,,3,,closed
";
    let got = problems(
        load_providers(&store, full(FileKind::Providers, bad).as_bytes())
            .await
            .unwrap_err(),
    );
    let text = format!("{got:#?}");
    for (line, fragment) in [
        (2, "must be 10 letters or digits"),
        (3, "not a valid NPI"),
        (4, "entity_type \"3\""),
        (4, "name is required"),
        (4, "status \"closed\""),
    ] {
        assert!(
            got.iter().any(|(l, m)| *l == line && m.contains(fragment)),
            "line {line}: {fragment:?} not in {text}"
        );
    }
    assert_eq!(store.plan_counts().await.unwrap().providers, 0);
});

on_both_backends!(claims_load_and_query, |store: Store| async move {
    load_small(&store).await;
    let claims = "\
payer_claim_number,patient_control_number,provider_id,member_id,service_from,service_to,billed,paid,status,received_date,adjudication_date,payment_number,payment_date,status_code,bill_type
PCN0000001,RECV-0001,110048577A,100000000001,2026-05-01,,150.00,,received,2026-05-03,,,,,
PCN0000003,PAID-0003,110048577A,100000000001,2026-04-10,2026-04-12,1200.50,980.25,paid,2026-04-15,2026-04-20,CHK000123,2026-04-22,,
PCN0000004,DENY-0004,220011223B,100000000001,2026-03-05,,75,,denied,2026-03-07,2026-03-10,,,88,
";
    let loaded = load_claims(&store, full(FileKind::Claims, claims).as_bytes())
        .await
        .unwrap();
    assert_eq!(loaded.records, 3);
    let all = store
        .claims(&ClaimQuery {
            member_id: "100000000001".into(),
            ..ClaimQuery::default()
        })
        .await
        .unwrap();
    let numbers: Vec<&str> = all.iter().map(|c| c.payer_claim_number.as_str()).collect();
    assert_eq!(numbers, ["PCN0000004", "PCN0000003", "PCN0000001"]);
    let paid = &all[1];
    assert_eq!(paid.status, ClaimStatus::Paid);
    assert_eq!((paid.billed_cents, paid.paid_cents), (120050, 98025));
    assert_eq!(paid.payment_number.as_deref(), Some("CHK000123"));
    assert_eq!(
        all[2].service_to,
        d("2026-05-01"),
        "service_to defaults to service_from"
    );

    let by_provider = store
        .claims(&ClaimQuery {
            member_id: "100000000001".into(),
            provider_ids: vec!["220011223B".into()],
            ..ClaimQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(by_provider.len(), 1);
    let by_dates = store
        .claims(&ClaimQuery {
            member_id: "100000000001".into(),
            service: Some((d("2026-04-12"), d("2026-05-01"))),
            ..ClaimQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(by_dates.len(), 2);
    let by_pcn = store
        .claims(&ClaimQuery {
            member_id: "100000000001".into(),
            patient_control_number: Some("DENY-0004".into()),
            payer_claim_number: Some("PCN0000004".into()),
            ..ClaimQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(by_pcn.len(), 1);
    let wrong_member = store
        .claims(&ClaimQuery {
            member_id: "100000000010".into(),
            payer_claim_number: Some("PCN0000004".into()),
            ..ClaimQuery::default()
        })
        .await
        .unwrap();
    assert!(wrong_member.is_empty());
});

on_both_backends!(bad_claims_file_changes_nothing, |store: Store| async move {
    load_small(&store).await;
    let bad = "\
payer_claim_number,patient_control_number,provider_id,member_id,service_from,billed,paid,status,received_date,adjudication_date,payment_number,payment_date,status_code
PCN1,A,110048577A,100000000001,2026-05-01,12.345,,received,2026-05-03,,,,
PCN2,B,110048577A,100000000099,2026-05-01,10,,received,2026-05-03,,,,
PCN3,C,999999999Z,100000000001,2026-05-01,10,,received,2026-05-03,,,,
PCN4,D,110048577A,100000000001,2026-05-01,10,5,paid,2026-05-03,2026-05-04,,,
PCN5,E,110048577A,100000000001,2026-05-01,10,,denied,2026-05-03,,,,
PCN6,F,110048577A,100000000001,2026-05-01,10,3,received,2026-05-03,,,,
PCN7,G,110048577A,100000000001,2026-05-01,10,,pending,2026-05-03,,,,
PCN8,H,110048577A,100000000001,2026-05-01,10,,received,2026-04-01,2026-05-05,,,
PCN9,I,110048577A,100000000001,2026-05-01,10,20,paid,2026-05-03,2026-05-04,CHK1,2026-05-02,
";
    let got = problems(
        load_claims(&store, full(FileKind::Claims, bad).as_bytes())
            .await
            .unwrap_err(),
    );
    let text = format!("{got:#?}");
    for (line, fragment) in [
        (2, "billed \"12.345\" is not an amount"),
        (3, "member_id 100000000099 is not a member on file"),
        (4, "provider_id 999999999Z is not a provider on file"),
        (5, "payment_number (check or EFT number) is required"),
        (5, "payment_date is required"),
        (6, "adjudication_date is required"),
        (6, "status_code (the denial reason"),
        (7, "apply only to paid claims"),
        (8, "status \"pending\""),
        (9, "received_date is before service_from"),
        (9, "adjudication_date applies only to paid or denied claims"),
        (10, "paid is more than billed"),
        (10, "payment_date is before adjudication_date"),
    ] {
        assert!(
            got.iter().any(|(l, m)| *l == line && m.contains(fragment)),
            "line {line}: {fragment:?} not in {text}"
        );
    }
    assert_eq!(store.plan_counts().await.unwrap().claims, 0);
});

#[tokio::test]
async fn unsupported_url_is_a_configuration_error() {
    let e = Store::open("mysql://localhost/x").await.unwrap_err();
    assert!(e.is_config(), "{e}");
    assert!(e.to_string().contains("sqlite:PATH or postgres://"), "{e}");
}

#[tokio::test]
async fn unreachable_postgres_is_retryable() {
    // Nothing listens on port 1: the store says "try later", not "misconfigured".
    let e = Store::open("postgres://postgres@127.0.0.1:1/test")
        .await
        .unwrap_err();
    assert!(e.is_retryable(), "{e}");
}
