//! Every row of the error table (src/core/error.rs) reached over the wire: a request a real
//! client could send (or a database a real operator could lose) for each failure kind, sent
//! over TLS to the running gateway, checked for the row's HTTP status, SOAP fault code or CORE
//! response, ErrorCode and message. A row added to the table without a case here fails
//! `the_cases_cover_the_table`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::HashSet;
use std::time::Duration;

use common::gateway::{ALICE, Gateway, SENDER, start};
use hts_gateway::auth::HashedPassword;
use hts_gateway::core::envelope::Operation;
use hts_gateway::core::error::{Answer, Kind, TABLE};
use hts_gateway::core::request::{self, Request};
use hts_gateway::core::soap::{PayloadStyle, escape};
use hts_gateway::server::Limits;
use hts_gateway::store::{BackendKind, Store};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

const SOAP12: &str = "application/soap+xml; charset=utf-8";
const CLAIMS: &str = "X12_837_Request_005010X222A1";

/// Kinds reached by the tests in this file.
fn covered() -> HashSet<Kind> {
    let mut kinds: HashSet<Kind> = envelope_cases().iter().map(|c| c.0).collect();
    kinds.extend([
        Kind::NotReady,
        Kind::NotCertified,
        Kind::BodyTimeout,
        Kind::LockedOut,
        Kind::Unavailable,
        Kind::Internal,
        Kind::DeadlineExceeded,
    ]);
    kinds
}

#[test]
fn the_cases_cover_the_table() {
    let table: HashSet<Kind> = TABLE.iter().map(|r| r.kind).collect();
    let covered = covered();
    let missing: Vec<_> = table.difference(&covered).collect();
    assert!(
        missing.is_empty(),
        "rows not reached by any test: {missing:?}"
    );
}

fn realtime() -> Request {
    let x12 = common::fixture("270_jane_doe.x12").into_bytes();
    let mut r = Request::new(Operation::RealTime, "X12_270_Request_005010X279A1", x12);
    r.metadata.sender_id = Some(SENDER.into());
    r.metadata.receiver_id = Some("DEMOPLAN".into());
    r.credentials = Some((ALICE.0.into(), ALICE.1.into()));
    r
}

fn batch() -> Request {
    batch_of(common::fixture("837P_two_claims.x12"))
}

fn batch_of(x12: String) -> Request {
    let mut r = Request::new(Operation::BatchSubmit, CLAIMS, x12.into_bytes());
    r.metadata.sender_id = Some(SENDER.into());
    r.metadata.receiver_id = Some("DEMOPLAN".into());
    r.credentials = Some((ALICE.0.into(), ALICE.1.into()));
    r
}

/// A batch in plain SOAP, base64 inline (byte-exact, so PayloadLength and CheckSum hold).
fn batch_soap() -> String {
    batch_soap_of(&batch())
}

fn batch_soap_of(r: &Request) -> String {
    String::from_utf8(request::encode_soap_request(r, PayloadStyle::Base64)).unwrap()
}

fn soap(r: &Request) -> String {
    String::from_utf8(request::encode_soap_request(r, PayloadStyle::Text)).unwrap()
}

/// The request with one CORE element's text replaced, or the element removed (`None`).
fn with(xml: &str, name: &str, value: Option<&str>) -> String {
    let (open, close) = (format!("<{name}>"), format!("</{name}>"));
    let start = xml
        .find(&open)
        .unwrap_or_else(|| panic!("no {name} in {xml}"));
    let end = xml[start..].find(&close).unwrap() + start + close.len();
    let replacement = value.map_or(String::new(), |v| format!("{open}{v}{close}"));
    format!("{}{replacement}{}", &xml[..start], &xml[end..])
}

/// (kind, Content-Type, body) of each failure a request alone can provoke.
fn envelope_cases() -> Vec<(Kind, String, Vec<u8>)> {
    let rt = soap(&realtime());
    let bt = batch_soap();
    let s = |kind, xml: String| (kind, SOAP12.to_string(), xml.into_bytes());
    let mut cases = vec![
        (
            Kind::UnsupportedMediaType,
            "application/json".into(),
            rt.clone().into_bytes(),
        ),
        (
            Kind::Soap11,
            "text/xml".into(),
            rt.replace(
                "http://www.w3.org/2003/05/soap-envelope",
                "http://schemas.xmlsoap.org/soap/envelope/",
            )
            .into_bytes(),
        ),
        s(
            Kind::BodyTooLarge,
            format!("{rt}<!-- {} -->", "x".repeat(300 * 1024)),
        ),
        s(Kind::MalformedXml, rt.replace("</soap:Envelope>", "")),
        s(
            Kind::DtdOrEntity,
            format!("<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]>{rt}").replacen(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>",
                "",
                1,
            ),
        ),
        s(
            Kind::UnknownOperation,
            rt.replace("COREEnvelopeRealTimeRequest", "COREEnvelopeSomethingElse"),
        ),
        s(
            Kind::AuthenticationRequired,
            soap(&Request {
                credentials: None,
                ..realtime()
            }),
        ),
        s(Kind::AuthenticationFailed, {
            let mut r = realtime();
            r.credentials = Some((ALICE.0.into(), "wrong password".into()));
            soap(&r)
        }),
        s(
            Kind::PasswordDigest,
            rt.replace("#PasswordText", "#PasswordDigest"),
        ),
        s(
            Kind::SenderNotAuthorized,
            with(&rt, "SenderID", Some("BOBSENDER1")),
        ),
        s(Kind::PayloadTypeRequired, with(&rt, "PayloadType", None)),
        s(
            Kind::PayloadTypeIllegal,
            with(&rt, "PayloadType", Some(CLAIMS)),
        ),
        s(
            Kind::ProcessingModeRequired,
            with(&rt, "ProcessingMode", None),
        ),
        s(
            Kind::ProcessingModeIllegal,
            with(&rt, "ProcessingMode", Some("Batch")),
        ),
        s(Kind::PayloadIdRequired, with(&rt, "PayloadID", None)),
        s(Kind::PayloadIdIllegal, with(&rt, "PayloadID", Some("42"))),
        s(Kind::TimeStampRequired, with(&rt, "TimeStamp", None)),
        s(
            Kind::TimeStampIllegal,
            with(&rt, "TimeStamp", Some("yesterday")),
        ),
        s(Kind::SenderIdRequired, with(&rt, "SenderID", None)),
        s(
            Kind::SenderIdIllegal,
            with(&rt, "SenderID", Some(&"S".repeat(81))),
        ),
        s(Kind::ReceiverIdRequired, with(&rt, "ReceiverID", None)),
        s(
            Kind::ReceiverIdIllegal,
            with(&rt, "ReceiverID", Some("SOMEONEELSE")),
        ),
        s(
            Kind::CoreRuleVersionRequired,
            with(&rt, "CORERuleVersion", None),
        ),
        s(
            Kind::VersionMismatch,
            with(&rt, "CORERuleVersion", Some("2.1.0")),
        ),
        s(Kind::PayloadRequired, with(&rt, "Payload", None)),
        s(
            Kind::PayloadIllegal,
            with(
                &rt,
                "Payload",
                // Valid base64, but of a letter, not X12.
                Some("RGVhciBwbGFuLCBpcyBKYW5lIGNvdmVyZWQ/"),
            ),
        ),
        s(
            Kind::PayloadLengthRequired,
            with(&bt, "PayloadLength", None),
        ),
        s(
            Kind::PayloadLengthIllegal,
            with(&bt, "PayloadLength", Some("7")),
        ),
        s(Kind::CheckSumRequired, with(&bt, "CheckSum", None)),
        s(
            Kind::CheckSumIllegal,
            with(&bt, "CheckSum", Some(&"0".repeat(40))),
        ),
    ];
    // Multipart framing.
    let (ct, body) = request::encode_mime_request(&realtime(), "form-boundary");
    cases.push((
        Kind::MalformedMultipart,
        ct,
        body[..body.len() - 30].to_vec(),
    ));
    let (ct, body) = request::encode_mtom_request(&batch(), "mtom-boundary");
    let text = String::from_utf8(body).unwrap();
    cases.push((
        Kind::MissingAttachment,
        ct.clone(),
        text.replace("cid:attachment", "cid:elsewhere").into_bytes(),
    ));
    cases.push((
        Kind::BadBase64,
        ct,
        text.replace(
            "Content-Transfer-Encoding: binary\r\nContent-ID: <attachment>",
            "Content-Transfer-Encoding: base64\r\nContent-ID: <attachment>",
        )
        .into_bytes(),
    ));
    // Retrieval of something this partner never sent.
    let mut r = Request::new(
        Operation::BatchSubmitAckRetrieval,
        "X12_999_RetrievalRequest_005010X231A1",
        Vec::new(),
    );
    r.metadata.sender_id = Some(SENDER.into());
    r.metadata.receiver_id = Some("DEMOPLAN".into());
    r.credentials = Some((ALICE.0.into(), ALICE.1.into()));
    cases.push((
        Kind::NotFound,
        request::soap_content_type(r.operation),
        request::encode_soap_request(&r, PayloadStyle::Text),
    ));
    cases
}

async fn send(http: &reqwest::Client, gw: &Gateway, ct: &str, body: Vec<u8>) -> (u16, String) {
    let r = http
        .post(&gw.core)
        .header("content-type", ct)
        .body(body)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

/// The answer is the row's: status, fault or CORE response, ErrorCode, message. A MIME request
/// is answered with the CORE form fields whatever the row.
fn assert_row(kind: Kind, status: u16, body: &str) {
    let row = kind.row();
    assert_eq!(status, row.http_status, "{kind:?}: {body}");
    if body.starts_with("--") {
        for (field, value) in [
            ("ErrorCode", row.error_code.to_string()),
            ("PayloadType", "CoreEnvelopeError".into()),
            ("ErrorMessage", row.message.to_string()),
        ] {
            let marker = format!("name=\"{field}\"\r\n\r\n{value}");
            assert!(body.contains(&marker), "{kind:?}: {marker:?} not in {body}");
        }
        return;
    }
    assert!(
        body.contains(&format!("<ErrorCode>{}</ErrorCode>", row.error_code)),
        "{kind:?}: ErrorCode {} not in {body}",
        row.error_code
    );
    assert!(
        body.contains(&escape(row.message)),
        "{kind:?}: message {:?} not in {body}",
        row.message
    );
    match row.answer {
        Answer::Fault(code) => assert!(
            body.contains(&format!("<env:Value>{}</env:Value>", code.value())),
            "{kind:?}: a {} fault expected: {body}",
            code.value()
        ),
        Answer::CoreResponse => assert!(
            body.contains("<PayloadType>CoreEnvelopeError</PayloadType>"),
            "{kind:?}: a CORE response expected: {body}"
        ),
    }
}

on_both_backends_with_url!(
    every_row_over_the_wire,
    |url: String, store: Store| async move {
        let limits = Limits {
            max_inline_bytes: 256 * 1024,
            idle_timeout: Duration::from_secs(1),
            ..Limits::default()
        };
        let gw = start(&url, &store, limits).await;
        // Bob may sign in but not use Alice's SenderID; Carol will be locked out.
        let hash = HashedPassword::new("bob's password").unwrap();
        store
            .add_user(common::gateway::ORGANIZATION, "bob", &hash)
            .await
            .unwrap();
        store.add_sender_id("bob", "BOBSENDER1").await.unwrap();
        store
            .add_user(common::gateway::ORGANIZATION, "carol", &hash)
            .await
            .unwrap();
        let http = gw.https();

        for (kind, ct, body) in envelope_cases() {
            let (status, text) = send(&http, &gw, &ct, body).await;
            assert_row(kind, status, &text);
        }

        // A submission not processed yet (this gateway runs no workers): its 999 is not ready.
        let submitted = batch();
        let (status, text) = send(&http, &gw, SOAP12, batch_soap_of(&submitted).into_bytes()).await;
        assert_eq!(status, 200, "{text}");
        let mut ask = Request::new(
            Operation::BatchSubmitAckRetrieval,
            "X12_999_RetrievalRequest_005010X231A1",
            Vec::new(),
        );
        ask.metadata.payload_id = submitted.metadata.payload_id.clone();
        ask.metadata.sender_id = Some(SENDER.into());
        ask.metadata.receiver_id = Some("DEMOPLAN".into());
        ask.credentials = Some((ALICE.0.into(), ALICE.1.into()));
        let (status, text) = send(&http, &gw, SOAP12, soap(&ask).into_bytes()).await;
        assert_row(Kind::NotReady, status, &text);

        // A production file before any test file of its type was accepted.
        let production =
            batch_of(common::fixture("837P_two_claims.x12").replacen("*1*T*:~", "*1*P*:~", 1));
        let (status, text) =
            send(&http, &gw, SOAP12, batch_soap_of(&production).into_bytes()).await;
        assert_row(Kind::NotCertified, status, &text);

        // Locked out: five wrong passwords, then even the right one is refused.
        let mut wrong = realtime();
        wrong.credentials = Some(("carol".into(), "guess".into()));
        let wrong = soap(&wrong).into_bytes();
        let attempts = (0..5).map(|_| send(&http, &gw, SOAP12, wrong.clone()));
        for (status, _) in futures_util::future::join_all(attempts).await {
            assert_eq!(status, 401);
        }
        let mut right = realtime();
        right.credentials = Some(("carol".into(), "bob's password".into()));
        let (status, text) = send(&http, &gw, SOAP12, soap(&right).into_bytes()).await;
        assert_row(Kind::LockedOut, status, &text);

        // A client that stops sending mid-body.
        let (ct, body) = request::encode_mtom_request(&batch(), "stall");
        let mut tls = common::gateway::raw_tls(&gw).await;
        let head = format!(
            "POST /core HTTP/1.1\r\nHost: localhost\r\nContent-Type: {ct}\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        tls.write_all(head.as_bytes()).await.unwrap();
        tls.write_all(&body[..body.len() / 2]).await.unwrap();
        tls.flush().await.unwrap();
        let mut answer = Vec::new();
        tokio::time::timeout(Duration::from_secs(20), tls.read_to_end(&mut answer))
            .await
            .expect("answered and closed")
            .unwrap();
        let answer = String::from_utf8_lossy(&answer);
        let status: u16 = answer[9..12].parse().unwrap();
        assert_row(Kind::BodyTimeout, status, &answer);

        // The database is busy past the lock timeout: unavailable, retry later.
        let lock = hold_write_lock(&url, store.kind()).await;
        let (status, text) = send(&http, &gw, SOAP12, batch_soap().into_bytes()).await;
        assert_row(Kind::Unavailable, status, &text);
        drop(lock);
        let (status, text) = send(&http, &gw, SOAP12, batch_soap().into_bytes()).await;
        assert_eq!(status, 200, "{text}");

        // The database is broken (a table missing): the gateway's fault, not the client's.
        break_database(&url, store.kind()).await;
        let (status, text) = send(&http, &gw, SOAP12, batch_soap().into_bytes()).await;
        assert_row(Kind::Internal, status, &text);
        gw.running.shutdown().await;
    }
);

on_both_backends_with_url!(
    the_real_time_deadline,
    |url: String, store: Store| async move {
        let limits = Limits {
            // No time at all: the deadline runs from the request's arrival, so it has passed
            // before any lookup starts (and is not raced against one).
            realtime_deadline: Duration::ZERO,
            ..Limits::default()
        };
        let gw = start(&url, &store, limits).await;
        // Past the eligibility cache's staleness bound the answer must ask the database (is
        // the plan data still current?), so it cannot be ready at once.
        tokio::time::sleep(hts_gateway::payer::cache::DEFAULT_MAX_STALENESS * 2).await;
        let (status, text) = send(&gw.https(), &gw, SOAP12, soap(&realtime()).into_bytes()).await;
        assert_row(Kind::DeadlineExceeded, status, &text);
        gw.running.shutdown().await;
    }
);

/// Another connection holding the database's write lock until dropped.
async fn hold_write_lock(url: &str, kind: BackendKind) -> Box<dyn std::any::Any + Send> {
    use sqlx::Connection as _;
    match kind {
        BackendKind::Sqlite => {
            let mut c = sqlx::SqliteConnection::connect(url).await.unwrap();
            sqlx::query("BEGIN EXCLUSIVE")
                .execute(&mut c)
                .await
                .unwrap();
            Box::new(c)
        }
        BackendKind::Postgres => {
            let mut c = sqlx::PgConnection::connect(url).await.unwrap();
            sqlx::query("BEGIN").execute(&mut c).await.unwrap();
            sqlx::query("LOCK TABLE blobs, submissions IN ACCESS EXCLUSIVE MODE")
                .execute(&mut c)
                .await
                .unwrap();
            Box::new(c)
        }
    }
}

/// Drops the submissions table behind the gateway's back.
async fn break_database(url: &str, kind: BackendKind) {
    use sqlx::Connection as _;
    match kind {
        BackendKind::Sqlite => {
            let mut c = sqlx::SqliteConnection::connect(url).await.unwrap();
            sqlx::query("DROP TABLE submissions")
                .execute(&mut c)
                .await
                .unwrap();
        }
        BackendKind::Postgres => {
            let mut c = sqlx::PgConnection::connect(url).await.unwrap();
            sqlx::query("DROP TABLE submissions CASCADE")
                .execute(&mut c)
                .await
                .unwrap();
        }
    }
}
