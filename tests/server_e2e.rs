//! The gateway as a hospital's system meets it: the real server over TLS (HTTP/1.1 and HTTP/2),
//! real envelopes, a real database (SQLite and PostgreSQL), the demo data and partners.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::gateway::{ALICE, ORGANIZATION, SENDER};
use hts_gateway::auth::HashedPassword;
use hts_gateway::server::{self, Limits};
use hts_gateway::store::Store;
use reqwest::header::CONTENT_TYPE;

const BOB: (&str, &str) = ("bob", "another long passphrase");
const PAYLOAD_ID: &str = "f81d4fae-7dec-11d0-a765-00a0c91e6bf6";
const SOAP12: &str = "application/soap+xml; charset=utf-8; action=\"RealTimeTransaction\"";

/// The shared test gateway plus HTTP/1.1 and HTTP/2 clients that trust its CA, and Bob, a
/// second user of the same organization whose SenderID is not alice's.
struct Gateway {
    url: String,
    http1: reqwest::Client,
    http2: reqwest::Client,
    running: server::Running,
    _certs: tempfile::TempDir,
}

async fn start(database: &str, store: &Store, limits: Limits) -> Gateway {
    let common::gateway::Gateway {
        url,
        ca,
        running,
        certs,
        ..
    } = common::gateway::start(database, store, limits).await;
    let hash = HashedPassword::new(BOB.1).unwrap();
    store.add_user(ORGANIZATION, BOB.0, &hash).await.unwrap();
    store.add_sender_id(BOB.0, "BOBSENDER1").await.unwrap();
    let ca = reqwest::Certificate::from_pem(&std::fs::read(&ca).unwrap()).unwrap();
    let client = |h2: bool| {
        let b = reqwest::Client::builder()
            .tls_certs_only([ca.clone()])
            .timeout(Duration::from_secs(30));
        let b = if h2 {
            b.http2_prior_knowledge()
        } else {
            b.http1_only()
        };
        b.build().unwrap()
    };
    Gateway {
        url,
        http1: client(false),
        http2: client(true),
        running,
        _certs: certs,
    }
}

fn fixture(name: &str) -> String {
    std::fs::read_to_string(common::root().join("fixtures/x12").join(name)).unwrap()
}

/// A SOAP 1.2 RealTimeTransaction as the CORE examples write it.
fn soap_request(user: (&str, &str), sender: &str, payload_type: &str, x12: &str) -> String {
    format!(
        r#"<soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope" xmlns:cor="http://www.caqh.org/SOAP/WSDL/CORERule2.2.0.xsd">
<soap:Header><wsse:Security soap:mustUnderstand="true" xmlns:wsse="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd">
<wsse:UsernameToken><wsse:Username>{}</wsse:Username><wsse:Password Type="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordText">{}</wsse:Password></wsse:UsernameToken></wsse:Security></soap:Header>
<soap:Body><cor:COREEnvelopeRealTimeRequest>
<PayloadType>{payload_type}</PayloadType><ProcessingMode>RealTime</ProcessingMode><PayloadID>{PAYLOAD_ID}</PayloadID>
<TimeStamp>2026-06-15T12:00:00Z</TimeStamp><SenderID>{sender}</SenderID><ReceiverID>DEMOPLAN</ReceiverID>
<CORERuleVersion>2.2.0</CORERuleVersion><Payload><![CDATA[{x12}]]></Payload>
</cor:COREEnvelopeRealTimeRequest></soap:Body></soap:Envelope>"#,
        user.0, user.1
    )
}

fn request_270() -> String {
    soap_request(
        ALICE,
        SENDER,
        "X12_270_Request_005010X279A1",
        &fixture("270_jane_doe.x12"),
    )
}

/// Element text from a response (namespace prefixes ignored).
fn element(xml: &str, name: &str) -> String {
    let open = format!("<{name}>");
    let start = xml.find(&open).map(|i| i + open.len());
    let end = xml.find(&format!("</{name}>"));
    match (start, end) {
        (Some(s), Some(e)) if e >= s => xml[s..e].to_string(),
        _ => String::new(),
    }
}

async fn post(
    client: &reqwest::Client,
    url: &str,
    content_type: &str,
    body: impl Into<reqwest::Body>,
) -> (u16, String, String) {
    let r = client
        .post(format!("{url}/core"))
        .header(CONTENT_TYPE, content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let correlation = r
        .headers()
        .get("x-correlation-id")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, r.text().await.unwrap(), correlation)
}

on_both_backends_with_url!(
    real_time_over_soap,
    |url: String, store: Store| async move {
        let gw = start(&url, &store, Limits::default()).await;
        for client in [&gw.http1, &gw.http2] {
            let (status, body, correlation) = post(client, &gw.url, SOAP12, request_270()).await;
            assert_eq!(status, 200, "{body}");
            assert_eq!(correlation.len(), 36, "a correlation ID on every response");
            assert_eq!(element(&body, "ErrorCode"), "Success", "{body}");
            assert_eq!(
                element(&body, "PayloadType"),
                "X12_271_Response_005010X279A1"
            );
            assert_eq!(element(&body, "PayloadID"), PAYLOAD_ID);
            assert_eq!(element(&body, "SenderID"), "DEMOPLAN");
            assert_eq!(element(&body, "ReceiverID"), SENDER);
            let payload = element(&body, "Payload");
            assert!(
                payload.contains("EB*1*IND*30*MC*STANDARD PLAN~"),
                "{payload}"
            );
            assert!(payload.contains("NM1*IL*1*DOE*JANE*A***MI*100000000001~"));
        }
        // text/xml with a SOAPAction header (the MassHealth client's style) and a 276.
        let claim = soap_request(
            ALICE,
            SENDER,
            "X12_276_Request_005010X212",
            &fixture("276_paid_claim.x12"),
        );
        let r = gw
            .http1
            .post(format!("{}/core", gw.url))
            .header(CONTENT_TYPE, "text/xml; charset=utf-8")
            .header("SOAPAction", "RealTimeTransaction")
            .body(claim)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
        let body = r.text().await.unwrap();
        assert_eq!(element(&body, "PayloadType"), "X12_277_Response_005010X212");
        assert!(element(&body, "Payload").contains("STC*F1:65*"), "{body}");
        gw.running.shutdown().await;

        // Every exchange is in the audit log once the server has stopped (CORE §4.3.4).
        let rows = store.messages_by_payload_id(PAYLOAD_ID).await.unwrap();
        assert_eq!(rows.len(), 3, "{rows:#?}");
        let first = &rows[0];
        assert_eq!(first.operation.as_deref(), Some("RealTimeTransaction"));
        assert_eq!(
            first.organization.as_deref(),
            Some("Demo Community Hospital")
        );
        assert_eq!(first.user_name.as_deref(), Some(ALICE.0));
        assert_eq!(first.sender_id.as_deref(), Some(SENDER));
        assert_eq!(first.receiver_id.as_deref(), Some("DEMOPLAN"));
        assert_eq!(
            first.response_payload_type.as_deref(),
            Some("X12_271_Response_005010X279A1")
        );
        assert_eq!(
            (
                first.isa13.as_deref(),
                first.gs06.as_deref(),
                first.st02.as_deref()
            ),
            (Some("000000101"), Some("101"), Some("0001"))
        );
        assert!(first.test_mode, "ISA15 = T");
        assert_eq!(first.http_status, Some(200));
        assert_eq!(first.error_code.as_deref(), Some("Success"));
        assert!(first.response_isa13.is_some() && first.response_sha1.is_some());
        assert!(first.answered_at.unwrap() >= first.received_at);
        assert_eq!(
            rows[2].response_payload_type.as_deref(),
            Some("X12_277_Response_005010X212")
        );
    }
);

/// ISA13 (checked to be 9 digits) and GS06 of an X12 answer.
fn control_numbers(x12: &str) -> (u32, u32) {
    let element = |id: &str, n: usize| {
        // The first segment may follow `<![CDATA[`.
        let segment = x12
            .split('~')
            .find_map(|s| s.find(id).map(|i| &s[i..]))
            .unwrap_or_else(|| panic!("no {id} in {x12}"));
        segment.split('*').nth(n).unwrap().to_string()
    };
    let isa13 = element("ISA*", 13);
    assert_eq!(isa13.len(), 9, "{isa13}");
    (isa13.parse().unwrap(), element("GS*", 6).parse().unwrap())
}

// Receivers reject an interchange whose ISA13 they have seen (TA1 note 025). Real-time answers
// given at once, after a restart on the same database, and the batch workers' acknowledgements
// must never share control numbers.
on_both_backends_with_url!(
    real_time_control_numbers_are_never_reused,
    |url: String, store: Store| async move {
        let gw = start(&url, &store, Limits::default()).await;
        let bad = fixture("270_jane_doe.x12").replace("SE*13*0001", "SE*99*0001");
        let bad = soap_request(ALICE, SENDER, "X12_270_Request_005010X279A1", &bad);
        // 271s and a 999 at the same moment, on several connections.
        let requests = (0..6).map(|i| {
            let body = if i == 5 { bad.clone() } else { request_270() };
            let client = if i % 2 == 0 { &gw.http1 } else { &gw.http2 };
            post(client, &gw.url, SOAP12, body)
        });
        let mut seen = std::collections::HashSet::new();
        for (status, body, _) in futures_util::future::join_all(requests).await {
            assert_eq!(status, 200, "{body}");
            let (isa13, gs06) = control_numbers(&element(&body, "Payload"));
            assert!(
                seen.insert(("ISA13", isa13)) && seen.insert(("GS06", gs06)),
                "{seen:?}"
            );
        }

        // The same database after a restart.
        gw.running.shutdown().await;
        let dev = server::tls::ensure_dev_certificates(gw._certs.path(), &[]).unwrap();
        let again = server::start(server::Settings::local(dev.cert, dev.key, url.clone()))
            .await
            .unwrap();
        let again_url = format!("https://localhost:{}", again.addr.port());
        let (status, body, _) = post(&gw.http1, &again_url, SOAP12, request_270()).await;
        assert_eq!(status, 200, "{body}");
        let (isa13, gs06) = control_numbers(&element(&body, "Payload"));
        assert!(
            seen.insert(("ISA13", isa13)) && seen.insert(("GS06", gs06)),
            "{seen:?}"
        );
        again.shutdown().await;

        // The batch workers number from the same counters: past every block taken.
        for (name, kind) in [("isa13", "ISA13"), ("gs06", "GS06")] {
            let next = store.next_sequence(name).await.unwrap();
            let next = hts_gateway::x12::writer::control_number(next);
            assert!(!seen.contains(&(kind, next)), "{kind} {next}");
        }
    }
);

on_both_backends_with_url!(bad_x12_gets_a_999, |url: String, store: Store| async move {
    let gw = start(&url, &store, Limits::default()).await;
    let broken = fixture("270_jane_doe.x12").replace("SE*13*0001", "SE*99*0001");
    let req = soap_request(ALICE, SENDER, "X12_270_Request_005010X279A1", &broken);
    let (status, body, _) = post(&gw.http2, &gw.url, SOAP12, req).await;
    assert_eq!(status, 200);
    assert_eq!(element(&body, "ErrorCode"), "Success");
    assert_eq!(
        element(&body, "PayloadType"),
        "X12_999_Response_005010X231A1"
    );
    assert!(element(&body, "Payload").contains("IK5*R*4"), "{body}");
    // A 276 sent as a 270: the payload does not hold what PayloadType says.
    let mislabeled = soap_request(
        ALICE,
        SENDER,
        "X12_270_Request_005010X279A1",
        &fixture("276_paid_claim.x12"),
    );
    let (status, body, _) = post(&gw.http2, &gw.url, SOAP12, mislabeled).await;
    assert_eq!(status, 200);
    assert_eq!(element(&body, "ErrorCode"), "PayloadIllegal", "{body}");
    assert_eq!(element(&body, "PayloadType"), "CoreEnvelopeError");
    gw.running.shutdown().await;
});

on_both_backends_with_url!(
    authentication_and_authorization,
    |url: String, store: Store| async move {
        let gw = start(&url, &store, Limits::default()).await;
        let x12 = fixture("270_jane_doe.x12");
        let cases: Vec<(String, u16, &str)> = vec![
            // Wrong password, unknown user: the same answer.
            (
                soap_request(
                    (ALICE.0, "wrong password!"),
                    SENDER,
                    "X12_270_Request_005010X279A1",
                    &x12,
                ),
                401,
                "UnAuthorized",
            ),
            (
                soap_request(
                    ("nobody", "whatever password"),
                    SENDER,
                    "X12_270_Request_005010X279A1",
                    &x12,
                ),
                401,
                "UnAuthorized",
            ),
            // Bob signs in, but the SenderID is not his.
            (
                soap_request(BOB, SENDER, "X12_270_Request_005010X279A1", &x12),
                403,
                "SenderIDIllegal",
            ),
            // PasswordDigest is refused clearly.
            (
                soap_request(ALICE, SENDER, "X12_270_Request_005010X279A1", &x12)
                    .replace("#PasswordText", "#PasswordDigest"),
                401,
                "PasswordDigest is not supported",
            ),
            // No credentials at all.
            (
                soap_request(ALICE, SENDER, "X12_270_Request_005010X279A1", &x12)
                    .replace("<soap:Header>", "<soap:Header><x>")
                    .replace("</soap:Header>", "</x></soap:Header>")
                    .replace("wsse:Security", "wsse:Nothing")
                    .replace("UsernameToken", "NotAToken"),
                401,
                "credentials are required",
            ),
        ];
        for (req, status, text) in cases {
            let (got, body, correlation) = post(&gw.http1, &gw.url, SOAP12, req).await;
            assert_eq!(got, status, "{body}");
            assert!(body.contains(text), "{text:?} not in {body}");
            if status == 401 {
                assert!(
                    body.contains("<env:Fault>") && body.contains(&correlation),
                    "{body}"
                );
            }
        }
        // Alice signs in (remembered for a while), then someone guesses her password: after
        // five failures she is locked out, and the right password no longer gets in either.
        let (status, _, _) = post(&gw.http1, &gw.url, SOAP12, request_270()).await;
        assert_eq!(status, 200);
        let wrong = soap_request(
            (ALICE.0, "guess guess guess"),
            SENDER,
            "X12_270_Request_005010X279A1",
            &x12,
        );
        for _ in 0..5 {
            let (status, _, _) = post(&gw.http1, &gw.url, SOAP12, wrong.clone()).await;
            assert_eq!(status, 401);
        }
        let (status, body, _) = post(&gw.http1, &gw.url, SOAP12, request_270()).await;
        assert_eq!(status, 401, "{body}");
        assert!(body.contains("locked out"), "{body}");
        gw.running.shutdown().await;
    }
);

on_both_backends_with_url!(envelope_errors, |url: String, store: Store| async move {
    let limits = Limits {
        max_inline_bytes: 64 * 1024,
        ..Limits::default()
    };
    let gw = start(&url, &store, limits).await;
    let good = request_270();
    let cases: Vec<(String, &str, u16, &str)> = vec![
        (
            good.replace(PAYLOAD_ID, "not-a-uuid"),
            SOAP12,
            200,
            "PayloadIDIllegal",
        ),
        (
            good.replace(&format!("<PayloadID>{PAYLOAD_ID}</PayloadID>"), ""),
            SOAP12,
            200,
            "PayloadIDRequired",
        ),
        (
            good.replace("<CORERuleVersion>2.2.0", "<CORERuleVersion>v2.2.0"),
            SOAP12,
            200,
            "VersionMismatch",
        ),
        (
            good.replace("<ProcessingMode>RealTime", "<ProcessingMode>Batch"),
            SOAP12,
            200,
            "ProcessingModeIllegal",
        ),
        (
            good.replace(
                "X12_270_Request_005010X279A1",
                "X12_837_Request_005010X222A1",
            ),
            SOAP12,
            200,
            "PayloadTypeIllegal",
        ),
        (
            good.replace("<TimeStamp>2026-06-15T12:00:00Z", "<TimeStamp>yesterday"),
            SOAP12,
            200,
            "TimeStampIllegal",
        ),
        (
            good.replace("<ReceiverID>DEMOPLAN", "<ReceiverID>SOMEONEELSE"),
            SOAP12,
            200,
            "ReceiverIDIllegal",
        ),
        (
            good.replace(
                "http://www.w3.org/2003/05/soap-envelope",
                "http://schemas.xmlsoap.org/soap/envelope/",
            ),
            "text/xml",
            415,
            "VersionMismatch",
        ),
        (
            format!("<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]>{good}"),
            SOAP12,
            400,
            "DTDs and entity",
        ),
        (
            good.replace("<SenderID>110048577A", "<SenderID>&e;"),
            SOAP12,
            400,
            "entity reference",
        ),
        (
            good.replace("<![CDATA[", "%%%").replace("]]>", "%%%"),
            SOAP12,
            400,
            "PayloadIllegal",
        ),
        (
            good.replace("</soap:Envelope>", ""),
            SOAP12,
            400,
            "MalformedXML",
        ),
        (
            good.clone(),
            "application/json",
            415,
            "UnsupportedMediaType",
        ),
        (
            good.replace("COREEnvelopeRealTimeRequest", "SomethingElse"),
            SOAP12,
            400,
            "UnknownOperation",
        ),
        (
            format!("{good}<!-- {} -->", "x".repeat(100 * 1024)),
            SOAP12,
            413,
            "send larger payloads as an MTOM or MIME attachment",
        ),
    ];
    for (req, content_type, status, text) in cases {
        let (got, body, _) = post(&gw.http2, &gw.url, content_type, req).await;
        assert_eq!(got, status, "{text}: {body}");
        assert!(body.contains(text), "{text:?} not in {body}");
    }
    // A CORE-level error is a normal CORE response: the full element set.
    let (_, body, _) = post(&gw.http2, &gw.url, SOAP12, good.replace(PAYLOAD_ID, "x")).await;
    assert_eq!(element(&body, "PayloadType"), "CoreEnvelopeError");
    assert_eq!(element(&body, "ReceiverID"), SENDER);
    gw.running.shutdown().await;
    // Refused requests are audited too, with the error code they got.
    let rows = store.recent_messages(None, 100).await.unwrap();
    assert_eq!(rows.len(), 16, "every request, whatever its fate");
    let refused = rows
        .iter()
        .find(|r| r.error_code.as_deref() == Some("PayloadIDIllegal"))
        .expect("the bad PayloadID exchange");
    assert_eq!(refused.http_status, Some(200));
    assert_eq!(
        refused.response_payload_type.as_deref(),
        Some("CoreEnvelopeError")
    );
    assert!(rows.iter().any(|r| r.http_status == Some(413)));
});

on_both_backends_with_url!(
    contract_and_operations,
    |url: String, store: Store| async move {
        let gw = start(&url, &store, Limits::default()).await;
        let get = |path: &str| {
            let client = gw.http1.clone();
            let url = format!("{}{path}", gw.url);
            async move {
                let r = client.get(url).send().await.unwrap();
                (r.status().as_u16(), r.text().await.unwrap())
            }
        };
        let (status, wsdl) = get("/core?wsdl").await;
        assert_eq!(status, 200);
        assert!(
            wsdl.contains(&format!("location=\"{}/core\"", gw.url)),
            "the service address is the host the client used"
        );
        assert!(wsdl.contains("schemaLocation=\"CORERule2.2.0.xsd\""));
        let (status, xsd) = get("/CORERule2.2.0.xsd").await;
        assert_eq!(status, 200);
        assert!(xsd.contains("COREEnvelopeRealTimeRequest"));
        assert_eq!(get("/live").await.0, 200);
        assert_eq!(get("/ready").await.0, 200);
        assert_eq!(get("/nowhere").await.0, 404);
        gw.running.shutdown().await;
    }
);

/// A multipart/form-data body as OpenEMR builds its MIME real-time request.
fn mime_request(fields: &[(&str, &str)], boundary: &str) -> String {
    let mut body = String::new();
    for (name, value) in fields {
        body.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
        ));
    }
    body.push_str(&format!("--{boundary}--\r\n"));
    body
}

/// The value of a form field in a multipart/form-data response.
fn form_field(body: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\"");
    let Some(at) = body.find(&marker) else {
        return String::new();
    };
    let rest = &body[at..];
    let start = rest.find("\r\n\r\n").map_or(rest.len(), |i| i + 4);
    let value = &rest[start..];
    value[..value.find("\r\n--").unwrap_or(value.len())].to_string()
}

on_both_backends_with_url!(
    real_time_over_mime_and_mtom,
    |url: String, store: Store| async move {
        let gw = start(&url, &store, Limits::default()).await;
        let x12 = fixture("270_jane_doe.x12");
        // OpenEMR's field names: PayloadId, SenderId and ReceiverId with a lower-case d.
        let boundary = "----OpenEMRBoundary7MA4YWxkTrZu0gW";
        let fields = [
            ("PayloadType", "X12_270_Request_005010X279A1"),
            ("ProcessingMode", "RealTime"),
            ("PayloadId", PAYLOAD_ID),
            ("TimeStamp", "2026-06-15T12:00:00Z"),
            ("SenderId", SENDER),
            ("ReceiverId", "DEMOPLAN"),
            ("CORERuleVersion", "2.2.0"),
            ("UserName", ALICE.0),
            ("Password", ALICE.1),
            ("Payload", x12.as_str()),
        ];
        let ct = format!("multipart/form-data; boundary={boundary}");
        let (status, body, _) =
            post(&gw.http1, &gw.url, &ct, mime_request(&fields, boundary)).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(form_field(&body, "ErrorCode"), "Success", "{body}");
        assert_eq!(
            form_field(&body, "PayloadType"),
            "X12_271_Response_005010X279A1"
        );
        assert!(form_field(&body, "Payload").contains("EB*1*IND*30*MC*STANDARD PLAN~"));
        // A wrong password over MIME: form fields, not a SOAP fault.
        let mut bad = fields;
        bad[8] = ("Password", "not the password");
        let (status, body, _) = post(&gw.http1, &gw.url, &ct, mime_request(&bad, boundary)).await;
        assert_eq!(status, 401);
        assert_eq!(form_field(&body, "ErrorCode"), "UnAuthorized", "{body}");
        // Truncated multipart.
        let cut = mime_request(&fields, boundary);
        let (status, body, _) =
            post(&gw.http1, &gw.url, &ct, cut[..cut.len() / 2].to_string()).await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(
            form_field(&body, "ErrorCode"),
            "MalformedMultipart",
            "{body}"
        );

        // MTOM: the SOAP envelope in a multipart/related root part, the X12 as an XOP attachment
        // (Content-IDs without angle brackets, as the MassHealth client writes them).
        let root = request_270().replace(
        &format!("<![CDATA[{x12}]]>"),
        r#"<xop:Include href="cid:attachment" xmlns:xop="http://www.w3.org/2004/08/xop/include"/>"#,
    );
        let b = "Part-6f0d7c1e";
        let mtom = format!(
            "--{b}\r\nContent-Type: application/xop+xml; charset=UTF-8; type=\"application/soap+xml\"; action=\"RealTimeTransaction\"\r\nContent-Transfer-Encoding: binary\r\nContent-ID: rootpart\r\n\r\n{root}\r\n--{b}\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: binary\r\nContent-ID: attachment\r\n\r\n{x12}\r\n--{b}--\r\n"
        );
        let ct = format!(
            "multipart/related; type=\"application/xop+xml\"; start=\"rootpart\"; start-info=\"application/soap+xml\"; action=\"RealTimeTransaction\"; boundary=\"{b}\""
        );
        let r = gw
            .http2
            .post(format!("{}/core", gw.url))
            .header(CONTENT_TYPE, ct)
            .body(mtom)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
        let response_type = r.headers()[CONTENT_TYPE].to_str().unwrap().to_string();
        assert!(
            response_type.starts_with("multipart/related"),
            "{response_type}"
        );
        let body = r.text().await.unwrap();
        assert!(
            body.contains("<xop:Include"),
            "the answer is MTOM too: {body}"
        );
        assert_eq!(element(&body, "ErrorCode"), "Success");
        assert!(body.contains("EB*1*IND*30*MC*STANDARD PLAN~"), "{body}");
        gw.running.shutdown().await;
    }
);

/// An MTOM batch submission in the MassHealth client's shape.
fn mtom_batch(
    action: &str,
    payload_type: &str,
    payload_id: &str,
    payload: &[u8],
    length: usize,
    checksum: &str,
) -> (String, Vec<u8>) {
    let root = format!(
        r#"<soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope" xmlns:cor="http://www.caqh.org/SOAP/WSDL/CORERule2.2.0.xsd">
<soap:Header><wsse:Security xmlns:wsse="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"><wsse:UsernameToken><wsse:Username>{}</wsse:Username><wsse:Password>{}</wsse:Password></wsse:UsernameToken></wsse:Security></soap:Header>
<soap:Body><cor:COREEnvelopeBatchSubmission><PayloadType>{payload_type}</PayloadType><ProcessingMode>Batch</ProcessingMode><PayloadID>{payload_id}</PayloadID><PayloadLength>{length}</PayloadLength><TimeStamp>2026-06-15T12:00:00Z</TimeStamp><SenderID>{SENDER}</SenderID><ReceiverID>DEMOPLAN</ReceiverID><CORERuleVersion>2.2.0</CORERuleVersion><CheckSum>{checksum}</CheckSum><Payload><xop:Include href="cid:attachment" xmlns:xop="http://www.w3.org/2004/08/xop/include"/></Payload></cor:COREEnvelopeBatchSubmission></soap:Body></soap:Envelope>"#,
        ALICE.0, ALICE.1
    );
    let b = "Part-2b5e9c1f-0000";
    let mut body = format!(
        "--{b}\r\nContent-Type: application/xop+xml; charset=UTF-8; type=\"application/soap+xml\"; action=\"{action}\"\r\nContent-Transfer-Encoding: binary\r\nContent-ID: rootpart\r\n\r\n{root}\r\n--{b}\r\nContent-Type: application/xml\r\nContent-Transfer-Encoding: binary\r\nContent-ID: attachment\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(payload);
    body.extend_from_slice(format!("\r\n--{b}--\r\n").as_bytes());
    let ct = format!(
        "multipart/related; type=\"application/xop+xml\"; start=\"rootpart\"; start-info=\"application/soap+xml\"; action=\"{action}\"; boundary=\"{b}\""
    );
    (ct, body)
}

on_both_backends_with_url!(
    batch_submission_receipts,
    |url: String, store: Store| async move {
        let gw = start(&url, &store, Limits::default()).await;
        let claim = std::fs::read(common::root().join("fixtures/x12/837P_two_claims.x12")).unwrap();
        let sha = hts_gateway::core::validate::sha1_hex(&claim);
        let id = "3f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f";
        let send = |ct: String, body: Vec<u8>| {
            let client = gw.http2.clone();
            let url = format!("{}/core", gw.url);
            async move {
                let r = client
                    .post(url)
                    .header(CONTENT_TYPE, ct)
                    .body(body)
                    .send()
                    .await
                    .unwrap();
                (r.status().as_u16(), r.text().await.unwrap())
            }
        };
        let (ct, body) = mtom_batch(
            "BatchSubmitTransaction",
            "X12_837_Request_005010X222A1",
            id,
            &claim,
            claim.len(),
            &sha.to_uppercase(),
        );
        let (status, reply) = send(ct.clone(), body.clone()).await;
        assert_eq!(status, 200, "{reply}");
        assert_eq!(element(&reply, "ErrorCode"), "Success", "{reply}");
        assert_eq!(
            element(&reply, "PayloadType"),
            "X12_BatchReceiptConfirmation"
        );
        let message = element(&reply, "ErrorMessage");
        let tracking = message
            .split("Tracking number ")
            .nth(1)
            .unwrap()
            .trim_end_matches('.')
            .to_string();
        assert_eq!(tracking.len(), 16, "{message}");
        assert!(
            reply.contains(&tracking),
            "the receipt's payload is the tracking number"
        );
        // Durable before the receipt: the row and its payload are in the database.
        let stored = store.submission(&tracking).await.unwrap().unwrap();
        let payload = store.read_blob(stored.payload_blob, 1 << 20).await.unwrap();
        assert_eq!(payload, claim);
        assert_eq!(stored.payload_bytes, claim.len() as u64);
        assert_eq!(stored.payload_sha1, sha);
        assert_eq!(stored.status, "queued");
        assert!(stored.test_mode, "ISA15 = T is recorded on the row");
        assert_eq!(stored.organization, "Demo Community Hospital");
        assert_eq!(stored.payload_type, "X12_837_Request_005010X222A1");
        // A retransmission gets the same receipt, and nothing is stored twice.
        let (_, again) = send(ct, body).await;
        assert!(
            element(&again, "ErrorMessage").contains(&tracking),
            "{again}"
        );
        // The same PayloadID with another payload is refused.
        let other = [&claim[..], b"\n"].concat();
        let (ct, body) = mtom_batch(
            "BatchSubmitTransaction",
            "X12_837_Request_005010X222A1",
            id,
            &other,
            other.len(),
            &hts_gateway::core::validate::sha1_hex(&other),
        );
        let (_, reply) = send(ct, body).await;
        assert_eq!(element(&reply, "ErrorCode"), "PayloadIDIllegal", "{reply}");
        // Wrong length, wrong checksum.
        let id2 = "9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b";
        let (ct, body) = mtom_batch(
            "BatchSubmitTransaction",
            "X12_837_Request_005010X222A1",
            id2,
            &claim,
            claim.len() + 1,
            &sha,
        );
        let (_, reply) = send(ct, body).await;
        assert_eq!(
            element(&reply, "ErrorCode"),
            "PayloadLengthIllegal",
            "{reply}"
        );
        let (ct, body) = mtom_batch(
            "BatchSubmitTransaction",
            "X12_837_Request_005010X222A1",
            id2,
            &claim,
            claim.len(),
            "00ff",
        );
        let (_, reply) = send(ct, body).await;
        assert_eq!(element(&reply, "ErrorCode"), "CheckSumIllegal", "{reply}");
        // A non-X12 file: refused on BatchSubmit, accepted on GenericBatchSubmission.
        let file = b"provider directory,ACO 1\n".to_vec();
        let file_sha = hts_gateway::core::validate::sha1_hex(&file);
        let (ct, body) = mtom_batch(
            "BatchSubmitTransaction",
            "ACO_PROVIDER_DIRECTORY",
            id2,
            &file,
            file.len(),
            &file_sha,
        );
        let (_, reply) = send(ct, body).await;
        assert_eq!(
            element(&reply, "ErrorCode"),
            "PayloadTypeIllegal",
            "{reply}"
        );
        let (ct, body) = mtom_batch(
            "GenericBatchSubmissionTransaction",
            "ACO_PROVIDER_DIRECTORY",
            id2,
            &file,
            file.len(),
            &file_sha,
        );
        let (status, reply) = send(ct, body).await;
        assert_eq!(status, 200, "{reply}");
        assert_eq!(element(&reply, "ErrorCode"), "Success", "{reply}");
        gw.running.shutdown().await;
    }
);

/// The value of the metric line that starts with `series` (name and labels as written), if any.
fn metric(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .map(|v| v.trim().parse().unwrap())
}

on_both_backends_with_url!(
    metrics_count_exchanges_and_audit_records,
    |url: String, store: Store| async move {
        let gw = common::gateway::start_with(
            &url,
            &store,
            common::gateway::Options {
                metrics_listen: Some(std::net::SocketAddr::from(([127, 0, 0, 1], 0))),
                ..Default::default()
            },
        )
        .await;
        let admin = format!("http://{}", gw.running.metrics_addr.unwrap());
        let https = gw.https();
        for _ in 0..2 {
            let (status, body, _) = post(&https, &gw.url, SOAP12, request_270()).await;
            assert_eq!(status, 200, "{body}");
        }
        let wrong = soap_request(
            (ALICE.0, "not the password"),
            SENDER,
            "X12_270_Request_005010X279A1",
            &fixture("270_jane_doe.x12"),
        );
        assert_eq!(post(&https, &gw.url, SOAP12, wrong).await.0, 401);
        assert_eq!(post(&https, &gw.url, "text/plain", "hello").await.0, 415);

        // The audit rows are written after the answers: wait for the writer to report them.
        let plain = reqwest::Client::new();
        let scrape = || async {
            let r = plain.get(format!("{admin}/metrics")).send().await.unwrap();
            assert_eq!(r.status().as_u16(), 200);
            let ct = r.headers()[CONTENT_TYPE].to_str().unwrap().to_string();
            assert!(ct.starts_with("text/plain; version=0.0.4"), "{ct}");
            r.text().await.unwrap()
        };
        let deadline = std::time::Instant::now() + Duration::from_secs(15);
        let text = loop {
            let text = scrape().await;
            if metric(&text, "hts_audit_records_written_total") == Some(4.0) {
                break text;
            }
            assert!(std::time::Instant::now() < deadline, "{text}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        let expect = [
            (
                r#"hts_core_requests_total{operation="RealTimeTransaction",wire="soap",error_code="Success"}"#,
                2.0,
            ),
            (
                r#"hts_core_requests_total{operation="RealTimeTransaction",wire="soap",error_code="UnAuthorized"}"#,
                1.0,
            ),
            (
                r#"hts_core_requests_total{operation="unknown",wire="unknown",error_code="UnsupportedMediaType"}"#,
                1.0,
            ),
            (
                r#"hts_core_request_duration_seconds_count{operation="RealTimeTransaction"}"#,
                3.0,
            ),
            (
                r#"hts_core_request_duration_seconds_bucket{le="16.384",operation="RealTimeTransaction"}"#,
                3.0,
            ),
            ("hts_audit_records_lost_total", 0.0),
            ("hts_audit_write_retries_total", 0.0),
            ("hts_audit_records_queued", 0.0),
        ];
        for (series, value) in expect {
            assert_eq!(metric(&text, series), Some(value), "{series} in\n{text}");
        }
        // No partner is named in the metrics.
        assert!(
            !text.contains(ORGANIZATION) && !text.contains(ALICE.0),
            "{text}"
        );

        let get = |path: &'static str| {
            let plain = plain.clone();
            let admin = admin.clone();
            async move {
                let r = plain.get(format!("{admin}{path}")).send().await.unwrap();
                (r.status().as_u16(), r.text().await.unwrap())
            }
        };
        assert_eq!(get("/live").await, (200, "live\n".to_string()));
        assert_eq!(get("/ready").await, (200, "ready\n".to_string()));
        assert_eq!(get("/core").await.0, 404);
        // Partners, on the TLS port, do not get the metrics.
        let r = https
            .get(format!("{}/metrics", gw.url))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 404);
        gw.running.shutdown().await;
    }
);
