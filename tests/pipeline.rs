//! The batch pipeline end to end, over TLS against the running gateway with its workers, on
//! both backends: submissions by SOAP, MTOM and MIME, their 999s retrieved by PayloadID or
//! tracking number, batch 270 results, the file list and pickups, confirmations,
//! certification by test files, negative-only acknowledgements, published files, and another
//! partner seeing none of it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::gateway::{ALICE, Gateway, ORGANIZATION, Options, SENDER, start_with};
use hts_gateway::auth::HashedPassword;
use hts_gateway::core::envelope::Operation;
use hts_gateway::core::multipart::Limits as MultipartLimits;
use hts_gateway::core::request::{self, CoreReply, Reply, Request};
use hts_gateway::core::soap::PayloadStyle;
use hts_gateway::store::Store;
use hts_gateway::store::files::PartnerSettings;
use hts_gateway::worker::WorkerConfig;

const CLAIMS: &str = "X12_837_Request_005010X222A1";
const ACK_REQUEST: &str = "X12_999_RetrievalRequest_005010X231A1";
const RESULTS_271_REQUEST: &str = "X12_005010_Request_Batch_Results_271";

#[derive(Clone, Copy, Debug)]
enum Wire {
    Soap,
    Mtom,
    Mime,
}

struct Partner {
    user: (String, String),
    sender: String,
}

fn alice() -> Partner {
    Partner {
        user: (ALICE.0.into(), ALICE.1.into()),
        sender: SENDER.into(),
    }
}

fn request(who: &Partner, op: Operation, payload_type: &str, payload: Vec<u8>) -> Request {
    let mut r = Request::new(op, payload_type, payload);
    r.metadata.sender_id = Some(who.sender.clone());
    r.metadata.receiver_id = Some("DEMOPLAN".into());
    r.credentials = Some(who.user.clone());
    r
}

/// Sends a request on a wire and reads the CORE answer (a fault fails the test).
async fn exchange(http: &reqwest::Client, gw: &Gateway, wire: Wire, r: &Request) -> CoreReply {
    let (ct, body) = match wire {
        Wire::Soap => (
            request::soap_content_type(r.operation),
            request::encode_soap_request(r, PayloadStyle::Base64),
        ),
        Wire::Mtom => request::encode_mtom_request(r, "mtom-boundary"),
        Wire::Mime => request::encode_mime_request(r, "mime-boundary"),
    };
    let response = http
        .post(&gw.core)
        .header("content-type", ct)
        .body(body)
        .send()
        .await
        .unwrap();
    let ct = response
        .headers()
        .get("content-type")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    let bytes = response.bytes().await.unwrap();
    let limits = MultipartLimits::default();
    let stream = || futures_util::stream::iter([Ok::<_, std::io::Error>(bytes.clone())]);
    let reply = if ct.starts_with("multipart/related") {
        let (root, att) = hts_gateway::core::multipart::read_mtom(&ct, stream(), &limits)
            .await
            .unwrap();
        request::decode_soap_reply(&root, |cid| {
            att.get(cid)
                .and_then(hts_gateway::core::payload::Payload::in_memory)
        })
        .unwrap()
    } else if ct.starts_with("multipart/form-data") {
        Reply::Core(
            request::read_mime_reply(&ct, stream(), &limits)
                .await
                .unwrap(),
        )
    } else {
        request::decode_soap_reply(&bytes, |_| None).unwrap()
    };
    match reply {
        Reply::Core(c) => c,
        Reply::Fault(f) => panic!("{wire:?} {}: fault {f:?}", r.operation),
    }
}

fn tracking_number(reply: &CoreReply) -> String {
    let message = reply.error_message.clone().unwrap_or_default();
    message
        .split("Tracking number ")
        .nth(1)
        .unwrap_or_else(|| panic!("no tracking number: {reply:?}"))
        .trim_end_matches('.')
        .to_string()
}

/// Asks for a submission's acknowledgement (or results) until it is ready.
async fn retrieve(
    http: &reqwest::Client,
    gw: &Gateway,
    who: &Partner,
    op: Operation,
    payload_type: &str,
    payload_id: &str,
    payload: &[u8],
) -> CoreReply {
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let mut r = request(who, op, payload_type, payload.to_vec());
        r.metadata.payload_id = Some(payload_id.into());
        let reply = exchange(http, gw, Wire::Soap, &r).await;
        if reply.error_code.as_deref() != Some("NotReady") {
            return reply;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "not processed within 60 s: {reply:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn production(test_file: &str) -> String {
    test_file.replacen("*1*T*:~", "*1*P*:~", 1)
}

on_both_backends_with_url!(batches_end_to_end, |url: String, store: Store| async move {
    // The workers' log lines show in a failing test's output.
    let _ = tracing_subscriber::fmt()
        .with_env_filter("hts_gateway=info")
        .with_test_writer()
        .try_init();
    let gw = start_with(
        &url,
        &store,
        Options {
            workers: 2,
            worker: WorkerConfig {
                poll: Duration::from_millis(100),
                ..WorkerConfig::default()
            },
            ..Options::default()
        },
    )
    .await;
    let http = gw.https();
    let a = alice();
    let claims = common::fixture("837P_two_claims.x12");

    // Production before certification: refused at once, clearly.
    let r = request(
        &a,
        Operation::BatchSubmit,
        CLAIMS,
        production(&claims).into_bytes(),
    );
    let reply = exchange(&http, &gw, Wire::Mtom, &r).await;
    assert_eq!(
        reply.error_code.as_deref(),
        Some("NotCertified"),
        "{reply:?}"
    );

    // The test file, on each wire: a receipt, then a positive 999 that says "test".
    let mut first = None;
    for wire in [Wire::Soap, Wire::Mtom, Wire::Mime] {
        let r = request(
            &a,
            Operation::BatchSubmit,
            CLAIMS,
            claims.clone().into_bytes(),
        );
        let receipt = exchange(&http, &gw, wire, &r).await;
        assert!(receipt.is_success(), "{wire:?}: {receipt:?}");
        let tracking = tracking_number(&receipt);
        let payload_id = r.metadata.payload_id.clone().unwrap();
        let ack = retrieve(
            &http,
            &gw,
            &a,
            Operation::BatchSubmitAckRetrieval,
            ACK_REQUEST,
            &payload_id,
            b"",
        )
        .await;
        assert!(ack.is_success(), "{wire:?}: {ack:?}");
        assert_eq!(
            ack.metadata.payload_type.as_deref(),
            Some("X12_999_Response_005010X231A1")
        );
        let x12 = text(&ack.payload);
        assert!(x12.starts_with("ISA*"), "{x12}");
        assert!(
            x12.contains("*T*"),
            "a test file's 999 is a test interchange: {x12}"
        );
        assert!(x12.contains("ST*999*"), "{x12}");
        assert!(x12.contains("AK9*A*1*1*1"), "accepted: {x12}");
        first.get_or_insert((tracking, payload_id, ack.payload.clone()));
    }
    let (tracking, _, first_ack) = first.unwrap();

    // The same 999 by tracking number (a fresh PayloadID, the tracking number as payload).
    let by_tracking = retrieve(
        &http,
        &gw,
        &a,
        Operation::BatchSubmitAckRetrieval,
        ACK_REQUEST,
        &uuid::Uuid::new_v4().to_string(),
        tracking.as_bytes(),
    )
    .await;
    assert_eq!(by_tracking.payload, first_ack);

    // Certified by the accepted test file: production 837s are now taken.
    let r = request(
        &a,
        Operation::BatchSubmit,
        CLAIMS,
        production(&claims).into_bytes(),
    );
    let receipt = exchange(&http, &gw, Wire::Mtom, &r).await;
    assert!(receipt.is_success(), "{receipt:?}");
    let prod_ack = retrieve(
        &http,
        &gw,
        &a,
        Operation::BatchSubmitAckRetrieval,
        ACK_REQUEST,
        r.metadata.payload_id.as_deref().unwrap(),
        b"",
    )
    .await;
    assert!(text(&prod_ack.payload).contains("*P*"), "{prod_ack:?}");

    // A broken file: a negative 999 naming the problem.
    let broken = claims.replacen("CLM*", "CLM**", 1);
    let r = request(&a, Operation::BatchSubmit, CLAIMS, broken.into_bytes());
    assert!(exchange(&http, &gw, Wire::Mime, &r).await.is_success());
    let bad = retrieve(
        &http,
        &gw,
        &a,
        Operation::BatchSubmitAckRetrieval,
        ACK_REQUEST,
        r.metadata.payload_id.as_deref().unwrap(),
        b"",
    )
    .await;
    let x12 = text(&bad.payload);
    assert!(x12.contains("IK5*R") && x12.contains("AK9*R"), "{x12}");

    // A file that is not X12 (a provider directory): stored and tracked, nothing to
    // acknowledge, and the answer says why.
    let r = request(
        &a,
        Operation::GenericBatchSubmission,
        "PROVIDER_DIRECTORY",
        b"npi,name\n1234567893,Riverside\n".to_vec(),
    );
    let receipt = exchange(&http, &gw, Wire::Mime, &r).await;
    assert!(receipt.is_success(), "{receipt:?}");
    let directory = retrieve(
        &http,
        &gw,
        &a,
        Operation::BatchSubmitAckRetrieval,
        ACK_REQUEST,
        r.metadata.payload_id.as_deref().unwrap(),
        b"",
    )
    .await;
    assert!(
        directory
            .error_message
            .as_deref()
            .unwrap_or("")
            .contains("not X12"),
        "{directory:?}"
    );
    let events = store
        .submission_events(&tracking_number(&receipt))
        .await
        .unwrap();
    assert!(
        events
            .iter()
            .any(|e| e.0 == "done" && e.2.starts_with("stored")),
        "{events:?}"
    );

    // A batch 270: its 271 results file.
    let inquiry = common::fixture("270_jane_doe.x12");
    let r = request(
        &a,
        Operation::BatchSubmit,
        "X12_270_Request_005010X279A1",
        inquiry.into_bytes(),
    );
    assert!(exchange(&http, &gw, Wire::Soap, &r).await.is_success());
    let inquiry_id = r.metadata.payload_id.clone().unwrap();
    let results = retrieve(
        &http,
        &gw,
        &a,
        Operation::BatchResultsRetrieval,
        RESULTS_271_REQUEST,
        &inquiry_id,
        b"",
    )
    .await;
    assert!(results.is_success(), "{results:?}");
    let x12 = text(&results.payload);
    assert!(x12.contains("ST*271*") && x12.contains("EB*1*"), "{x12}");
    // A claims file has no results, and says so.
    let none = retrieve(
        &http,
        &gw,
        &a,
        Operation::BatchResultsRetrieval,
        RESULTS_271_REQUEST,
        &tracking,
        b"",
    )
    .await;
    assert_eq!(
        none.error_code.as_deref(),
        Some("PayloadIDIllegal"),
        "{none:?}"
    );

    // A file the plan published for this partner.
    let blob = store.put_blob_bytes(b"ISA*00*remittance~").await.unwrap();
    let published = store
        .publish_file(
            ORGANIZATION,
            SENDER,
            "835",
            "X12_835_Response_005010X221A1",
            "WEB",
            &blob,
        )
        .await
        .unwrap();
    assert!(
        published.file_name.starts_with("110048577A835.WEB."),
        "{published:?}"
    );

    // The file list: the acknowledgements, the results, the published 835.
    let mut r = request(&a, Operation::GenericBatchRetrieval, "FILELIST", Vec::new());
    r.metadata.payload_id = Some("FILELIST".into());
    let list = exchange(&http, &gw, Wire::Mime, &r).await;
    assert!(list.is_success(), "{list:?}");
    let xml = text(&list.payload);
    assert_eq!(
        xml.matches("<File>").count(),
        8,
        "6 acks (the 270's too), 1 results, 1 835: {xml}"
    );
    assert!(xml.contains(&published.payload_id), "{xml}");
    assert!(
        xml.contains("<TransactionType>271</TransactionType>"),
        "{xml}"
    );

    // A search: by transaction type and date; by tracking number; a typo is refused.
    let today = time::OffsetDateTime::now_utc().date().to_string();
    for (criteria, expect) in [
        (format!("TransactionType=271&From={today}&To={today}"), 1),
        (format!("TrackingNumber={tracking}"), 1),
        ("ProviderID=110048577A\nTransactionType=999".to_string(), 6),
        ("From=2001-01-01&To=2001-12-31".to_string(), 0),
    ] {
        let mut r = request(
            &a,
            Operation::GenericBatchRetrieval,
            "FILELIST",
            criteria.clone().into_bytes(),
        );
        r.metadata.payload_id = Some("FILELIST".into());
        let list = exchange(&http, &gw, Wire::Soap, &r).await;
        assert!(list.is_success(), "{criteria}: {list:?}");
        assert_eq!(
            text(&list.payload).matches("<File>").count(),
            expect,
            "{criteria}"
        );
    }
    let mut r = request(
        &a,
        Operation::GenericBatchRetrieval,
        "FILELIST",
        b"Provider=1".to_vec(),
    );
    r.metadata.payload_id = Some("FILELIST".into());
    let typo = exchange(&http, &gw, Wire::Mime, &r).await;
    assert_eq!(
        typo.error_code.as_deref(),
        Some("PayloadIllegal"),
        "{typo:?}"
    );

    // Pickup by PayloadID on MTOM sets the date last downloaded; then a confirmation.
    let mut r = request(
        &a,
        Operation::GenericBatchRetrieval,
        "X12_835_Response_005010X221A1",
        Vec::new(),
    );
    r.metadata.payload_id = Some(published.payload_id.clone());
    let picked = exchange(&http, &gw, Wire::Mtom, &r).await;
    assert_eq!(picked.payload, b"ISA*00*remittance~");
    let after = store
        .file_by_payload_id(ORGANIZATION, &published.payload_id)
        .await
        .unwrap()
        .unwrap();
    assert!(after.last_downloaded_at.is_some());
    let mut r = request(
        &a,
        Operation::GenericBatchReceiptConfirmation,
        "X12_835_Response_005010X221A1",
        Vec::new(),
    );
    r.metadata.payload_id = Some(published.payload_id.clone());
    assert!(exchange(&http, &gw, Wire::Soap, &r).await.is_success());
    let confirmed = store
        .file_by_payload_id(ORGANIZATION, &published.payload_id)
        .await
        .unwrap()
        .unwrap();
    assert!(confirmed.confirmed_at.is_some());

    // Another partner sees none of it, whatever it names.
    let hash = HashedPassword::new("other password").unwrap();
    store
        .add_organization("Other Clinic", "olga", &hash)
        .await
        .unwrap();
    store.add_sender_id("olga", "2200000000").await.unwrap();
    let olga = Partner {
        user: ("olga".into(), "other password".into()),
        sender: "2200000000".into(),
    };
    for (op, payload_type, id, payload) in [
        (
            Operation::BatchSubmitAckRetrieval,
            ACK_REQUEST,
            uuid::Uuid::new_v4().to_string(),
            tracking.clone(),
        ),
        (
            Operation::BatchResultsRetrieval,
            RESULTS_271_REQUEST,
            inquiry_id.clone(),
            String::new(),
        ),
        (
            Operation::GenericBatchRetrieval,
            "X12_835_Response_005010X221A1",
            published.payload_id.clone(),
            String::new(),
        ),
        (
            Operation::GenericBatchReceiptConfirmation,
            "X12_835_Response_005010X221A1",
            published.payload_id.clone(),
            String::new(),
        ),
    ] {
        let mut r = request(&olga, op, payload_type, payload.into_bytes());
        r.metadata.payload_id = Some(id);
        let reply = exchange(&http, &gw, Wire::Soap, &r).await;
        assert_eq!(
            reply.error_code.as_deref(),
            Some("PayloadIDIllegal"),
            "{op}: {reply:?}"
        );
        assert!(reply.payload.is_empty());
    }
    let mut r = request(
        &olga,
        Operation::GenericBatchRetrieval,
        "FILELIST",
        Vec::new(),
    );
    r.metadata.payload_id = Some("FILELIST".into());
    let list = exchange(&http, &gw, Wire::Soap, &r).await;
    assert_eq!(text(&list.payload).matches("<File>").count(), 0);

    // Negative acknowledgements only: a clean file gets none, a broken one gets its 999.
    let settings = PartnerSettings {
        ack_policy: "negative_only".into(),
        require_certification: true,
    };
    assert!(
        store
            .set_partner_settings(ORGANIZATION, &settings)
            .await
            .unwrap()
    );
    let r = request(
        &a,
        Operation::BatchSubmit,
        CLAIMS,
        claims.clone().into_bytes(),
    );
    assert!(exchange(&http, &gw, Wire::Soap, &r).await.is_success());
    let quiet = retrieve(
        &http,
        &gw,
        &a,
        Operation::BatchSubmitAckRetrieval,
        ACK_REQUEST,
        r.metadata.payload_id.as_deref().unwrap(),
        b"",
    )
    .await;
    assert_eq!(
        quiet.error_code.as_deref(),
        Some("PayloadIDIllegal"),
        "{quiet:?}"
    );
    assert!(
        quiet
            .error_message
            .as_deref()
            .unwrap_or_default()
            .contains("negative acknowledgements only"),
        "{quiet:?}"
    );

    gw.running.shutdown().await;
    // Every state change is on record: queued → processing → done, once each.
    let events = store.submission_events(&tracking).await.unwrap();
    let statuses: Vec<&str> = events.iter().map(|e| e.0.as_str()).collect();
    assert_eq!(statuses, ["processing", "done"], "{events:?}");
    let certified = store.certifications(ORGANIZATION).await.unwrap();
    assert_eq!(certified.len(), 2, "837P and 270: {certified:?}");
});

/// A real-time request (270 or 276) and its answer's X12.
async fn real_time(
    http: &reqwest::Client,
    gw: &Gateway,
    payload_type: &str,
    x12: String,
) -> String {
    let r = request(
        &alice(),
        Operation::RealTime,
        payload_type,
        x12.into_bytes(),
    );
    let reply = exchange(http, gw, Wire::Soap, &r).await;
    assert!(reply.is_success(), "{reply:?}");
    text(&reply.payload)
}

/// Submits a batch and waits for its acknowledgement.
async fn submit_and_wait(
    http: &reqwest::Client,
    gw: &Gateway,
    payload_type: &str,
    x12: String,
) -> (String, String) {
    let a = alice();
    let r = request(&a, Operation::BatchSubmit, payload_type, x12.into_bytes());
    let receipt = exchange(http, gw, Wire::Mtom, &r).await;
    assert!(receipt.is_success(), "{receipt:?}");
    let ack = retrieve(
        http,
        gw,
        &a,
        Operation::BatchSubmitAckRetrieval,
        ACK_REQUEST,
        r.metadata.payload_id.as_deref().unwrap(),
        b"",
    )
    .await;
    assert!(ack.is_success(), "{ack:?}");
    (tracking_number(&receipt), text(&ack.payload))
}

on_both_backends_with_url!(
    claims_and_enrollment_take_effect,
    |url: String, store: Store| async move {
        let gw = start_with(
            &url,
            &store,
            Options {
                workers: 1,
                worker: WorkerConfig {
                    poll: Duration::from_millis(100),
                    ..WorkerConfig::default()
                },
                ..Options::default()
            },
        )
        .await;
        let settings = PartnerSettings {
            ack_policy: "always".into(),
            require_certification: false,
        };
        assert!(
            store
                .set_partner_settings(ORGANIZATION, &settings)
                .await
                .unwrap()
        );
        let http = gw.https();
        let nora_270 = common::fixture("270_jane_doe.x12")
            .replace(
                "DOE*JANE****MI*100000000001",
                "NEWMAN*NORA****MI*300000000001",
            )
            .replace("DMG*D8*19850312*F~", "")
            .replace("SE*13*", "SE*12*")
            .replace("DTP*291*D8*20260610", "DTP*291*D8*20260615");
        let before = store.plan_counts().await.unwrap();

        // In test mode an 834 and an 837 are acknowledged but change nothing.
        let enrollment = common::fixture("834_enrollment_changes.x12");
        let (_, ack) = submit_and_wait(
            &http,
            &gw,
            "X12_834_Request_005010X220A1",
            enrollment.clone(),
        )
        .await;
        assert!(ack.contains("AK9*A"), "{ack}");
        let claims = common::fixture("837P_two_claims.x12");
        submit_and_wait(&http, &gw, CLAIMS, claims.clone()).await;
        assert_eq!(
            store.plan_counts().await.unwrap(),
            before,
            "test files leave plan data alone"
        );
        let answer = real_time(&http, &gw, "X12_270_Request_005010X279A1", nora_270.clone()).await;
        assert!(
            answer.contains("AAA*"),
            "Nora is not a member yet: {answer}"
        );

        // In production the 834 adds Nora (a 270 now finds her covered) and the 837's claims
        // are stored as received (a 276 by payer claim number finds them: A2:20).
        submit_and_wait(
            &http,
            &gw,
            "X12_834_Request_005010X220A1",
            enrollment.replacen("*0*T*:~", "*0*P*:~", 1),
        )
        .await;
        // Real-time answers may lag plan changes by the eligibility cache's bound.
        tokio::time::sleep(hts_gateway::payer::cache::DEFAULT_MAX_STALENESS * 2).await;
        let answer = real_time(&http, &gw, "X12_270_Request_005010X279A1", nora_270).await;
        assert!(answer.contains("EB*1*"), "Nora is covered: {answer}");
        let (tracking, _) = submit_and_wait(&http, &gw, CLAIMS, production(&claims)).await;
        let after = store.plan_counts().await.unwrap();
        assert_eq!(after.claims, before.claims + 2, "{after:?}");
        // The same file processed again (a crash before completion) stores nothing twice.
        let again = store
            .insert_received_claims(
                &hts_gateway::payer::intake::claims_in(production(&claims).as_bytes()),
                &tracking,
                time::OffsetDateTime::now_utc().date(),
            )
            .await
            .unwrap();
        assert_eq!(again, 0);
        let pccn = hts_gateway::payer::intake::payer_claim_number(&tracking, 1);
        // Asked as the 837 named it: the patient, the claim's number, its service date.
        let status_276 = common::fixture("276_paid_claim.x12")
            .replace("PCN0000003", &pccn)
            .replace("DOE*JANE****MI*100000000001", "SAMPLE*JANE****MI*100200300")
            .replace("DMG*D8*19850312*F", "DMG*D8*19800214*F")
            .replace("RD8*20260410-20260412", "RD8*20261101-20261101");
        let answer = real_time(&http, &gw, "X12_276_Request_005010X212", status_276).await;
        assert!(
            answer.contains("STC*A2:20"),
            "received, not yet adjudicated: {answer}"
        );
        gw.running.shutdown().await;
    }
);
