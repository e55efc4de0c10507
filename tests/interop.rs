//! Interop with third-party clients (issue #4): the real server over TLS on SQLite and
//! PostgreSQL, with the demo data and a partner, called by programs the gateway's authors did not
//! write:
//!
//! * zeep (Python, in the test venv scripts/test creates; `HTS_PYX12_PYTHON` names its python)
//!   imports the published WSDL and calls RealTimeTransaction with a WS-Security UsernameToken,
//!   by tests/interop/zeep_realtime.py: a 270, a 276, and a wrong password (a SOAP fault);
//! * curl sends the MIME multipart/form-data real-time request with OpenEMR's field names
//!   (`PayloadId`, `SenderId`, `ReceiverId`), the X12 as a text field (`-F 'Payload=<file'`);
//! * curl sends an MTOM batch submission shaped like the MassHealth HTS client's.
//!
//! The zeep parts are skipped (saying SKIPPED) when `HTS_PYX12_PYTHON` is unset; the curl parts
//! always run.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::gateway::{ALICE, Gateway, SENDER, start};
use hts_gateway::server::Limits;
use hts_gateway::store::Store;
use sha1::{Digest, Sha1};

const PYTHON_VAR: &str = "HTS_PYX12_PYTHON";

fn fixture_path(name: &str) -> PathBuf {
    common::root().join("fixtures/x12").join(name)
}

fn now() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::macros::format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second]Z"
        ))
        .unwrap()
}

/// Runs a client program off the runtime's worker threads (the server shares them).
async fn run(mut command: Command) -> Output {
    let shown = format!("{command:?}");
    tokio::task::spawn_blocking(move || command.output())
        .await
        .unwrap()
        .unwrap_or_else(|e| panic!("cannot run {shown}: {e}"))
}

/// What a failed client run printed, for the assertion message.
fn transcript(what: &str, out: &Output) -> String {
    format!(
        "{what}: {}\n--- stdout:\n{}\n--- stderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

// ---- zeep ------------------------------------------------------------------------------------

/// tests/interop/zeep_realtime.py in the test venv; `Err` holds the transcript of a failure.
async fn zeep(
    python: &Path,
    gw: &Gateway,
    password: &str,
    payload: &str,
    payload_type: &str,
    expect: &[&str],
    expect_fault: Option<&str>,
) -> Result<(), String> {
    let mut c = Command::new(python);
    c.arg(common::root().join("tests/interop/zeep_realtime.py"))
        .arg("--url")
        .arg(&gw.core)
        .arg("--ca")
        .arg(&gw.ca)
        .args([
            "--user",
            ALICE.0,
            "--password",
            password,
            "--sender",
            SENDER,
        ])
        .arg("--payload")
        .arg(fixture_path(payload))
        .args(["--payload-type", payload_type]);
    for e in expect {
        c.args(["--expect", e]);
    }
    if let Some(f) = expect_fault {
        c.args(["--expect-fault", f]);
    }
    let what = format!("zeep {payload} (expect fault: {expect_fault:?})");
    let out = run(c).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if out.status.success() && stdout.contains("zeep_realtime: OK") {
        Ok(())
    } else {
        Err(transcript(&what, &out))
    }
}

// ---- curl ------------------------------------------------------------------------------------

const CURL_TRAILER: &str = "\n@@CURL-STATUS@@";

/// curl against the test CA only (`--cacert` replaces any CURL_CA_BUNDLE), printing after the
/// body a trailer with the status and Content-Type.
fn curl(gw: &Gateway) -> Command {
    let mut c = Command::new("curl");
    c.args(["--silent", "--show-error", "--max-time", "60"])
        .arg("--cacert")
        .arg(&gw.ca)
        .args([
            "--write-out",
            &format!("{CURL_TRAILER} %{{http_code}} %{{content_type}}"),
        ]);
    c
}

/// (status, Content-Type, body) of a curl run; `Err` when curl itself failed.
fn curl_response(what: &str, out: &Output) -> Result<(u16, String, String), String> {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let Some((body, trailer)) = stdout.rsplit_once(CURL_TRAILER) else {
        return Err(transcript(what, out));
    };
    if !out.status.success() {
        return Err(transcript(what, out));
    }
    let trailer = trailer.trim();
    let (status, content_type) = trailer.split_once(' ').unwrap_or((trailer, ""));
    Ok((
        status.parse().unwrap_or(0),
        content_type.to_string(),
        body.to_string(),
    ))
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

/// OpenEMR's MIME real-time request (src/Billing/EDI270.php), exactly as curl -F sends it: the
/// X12 is read from the file into a text field (`Payload=<file`), as OpenEMR posts it.
async fn openemr_mime(gw: &Gateway) -> Result<(), String> {
    let payload_id = uuid::Uuid::new_v4().to_string();
    let mut c = curl(gw);
    for field in [
        "PayloadType=X12_270_Request_005010X279A1".to_string(),
        "ProcessingMode=RealTime".to_string(),
        format!("PayloadId={payload_id}"),
        format!("TimeStamp={}", now()),
        format!("SenderId={SENDER}"),
        "ReceiverId=DEMOPLAN".to_string(),
        "CORERuleVersion=2.2.0".to_string(),
        format!("UserName={}", ALICE.0),
        format!("Password={}", ALICE.1),
        format!("Payload=<{}", fixture_path("270_jane_doe.x12").display()),
    ] {
        c.arg("-F").arg(field);
    }
    c.arg(&gw.core);
    let what = "curl MIME (OpenEMR field names)";
    let out = run(c).await;
    let (status, content_type, body) = curl_response(what, &out)?;
    let fail = |why: String| Err(format!("{what}: {why}\n{}", transcript(what, &out)));
    if status != 200 {
        return fail(format!("HTTP {status}"));
    }
    if !content_type.starts_with("multipart/form-data") {
        return fail(format!("response Content-Type {content_type:?}"));
    }
    if form_field(&body, "ErrorCode") != "Success" {
        return fail("ErrorCode is not Success".into());
    }
    if form_field(&body, "PayloadType") != "X12_271_Response_005010X279A1" {
        return fail("PayloadType is not X12_271_Response_005010X279A1".into());
    }
    let payload = form_field(&body, "Payload");
    if !payload.contains("EB*1*IND*30*MC*STANDARD PLAN~") {
        return fail("the 271 has no EB*1*IND*30*MC*STANDARD PLAN~".into());
    }
    Ok(())
}

/// A batch submission shaped like the MassHealth HTS client's (MTOM/XOP): Content-IDs without
/// angle brackets, the X12 as an application/xml attachment, PayloadLength and the SHA-1 hex
/// CheckSum of the attachment; sent by curl --data-binary with the multipart/related type.
async fn masshealth_mtom_batch(gw: &Gateway) -> Result<(), String> {
    let x12 = std::fs::read(fixture_path("270_jane_doe.x12")).unwrap();
    let checksum: String = Sha1::digest(&x12)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let payload_id = uuid::Uuid::new_v4();
    let root = format!(
        r#"<soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope" xmlns:cor="http://www.caqh.org/SOAP/WSDL/CORERule2.2.0.xsd">
<soap:Header><wsse:Security soap:mustUnderstand="true" xmlns:wsse="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd">
<wsse:UsernameToken><wsse:Username>{user}</wsse:Username><wsse:Password>{password}</wsse:Password></wsse:UsernameToken></wsse:Security></soap:Header>
<soap:Body><cor:COREEnvelopeBatchSubmission>
<PayloadType>X12_270_Request_005010X279A1</PayloadType><ProcessingMode>Batch</ProcessingMode><PayloadID>{payload_id}</PayloadID>
<PayloadLength>{length}</PayloadLength><TimeStamp>{timestamp}</TimeStamp><SenderID>{SENDER}</SenderID><ReceiverID>DEMOPLAN</ReceiverID>
<CORERuleVersion>2.2.0</CORERuleVersion><CheckSum>{checksum}</CheckSum>
<Payload><xop:Include href="cid:attachment" xmlns:xop="http://www.w3.org/2004/08/xop/include"/></Payload>
</cor:COREEnvelopeBatchSubmission></soap:Body></soap:Envelope>"#,
        user = ALICE.0,
        password = ALICE.1,
        length = x12.len(),
        timestamp = now(),
    );
    let b = format!("Part-{}", uuid::Uuid::new_v4());
    let mut body = format!(
        "--{b}\r\nContent-Type: application/xop+xml; charset=UTF-8; type=\"application/soap+xml\"; action=\"BatchSubmitTransaction\"\r\nContent-Transfer-Encoding: binary\r\nContent-ID: rootpart\r\n\r\n{root}\r\n--{b}\r\nContent-Type: application/xml\r\nContent-Transfer-Encoding: binary\r\nContent-ID: attachment\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(&x12);
    body.extend_from_slice(format!("\r\n--{b}--\r\n").as_bytes());
    let file = gw.certs.path().join("masshealth_batch.mtom");
    std::fs::write(&file, &body).unwrap();

    let mut c = curl(gw);
    c.arg("-H")
        .arg(format!(
            "Content-Type: multipart/related; type=\"application/xop+xml\"; start=\"rootpart\"; start-info=\"application/soap+xml\"; action=\"BatchSubmitTransaction\"; boundary=\"{b}\""
        ))
        .arg("--data-binary")
        .arg(format!("@{}", file.display()))
        .arg(&gw.core);
    let what = "curl MTOM batch submission (MassHealth shape)";
    let out = run(c).await;
    let (status, content_type, body) = curl_response(what, &out)?;
    // The batch is stored with a tracking number before the receipt comes back: an MTOM
    // COREEnvelopeBatchSubmissionResponse (the request was MTOM) with ErrorCode Success.
    if status != 200
        || !content_type.starts_with("multipart/related")
        || !body.contains("COREEnvelopeBatchSubmissionResponse")
        || !body.contains("<ErrorCode>Success</ErrorCode>")
        || !body.contains("X12_BatchReceiptConfirmation")
        || !body.contains("Tracking number ")
    {
        return Err(format!(
            "{what}: expected HTTP 200 with an MTOM batch receipt, got HTTP {status}\n{}",
            transcript(what, &out)
        ));
    }
    Ok(())
}

on_both_backends_with_url!(
    third_party_clients,
    |url: String, store: Store| async move {
        let gw = start(&url, &store, Limits::default()).await;
        let mut failures: Vec<String> = Vec::new();
        let mut check = |r: Result<(), String>| {
            if let Err(e) = r {
                eprintln!("{e}\n");
                failures.push(e);
            }
        };

        match std::env::var_os(PYTHON_VAR) {
            Some(python) => {
                let python = PathBuf::from(python);
                check(
                    zeep(
                        &python,
                        &gw,
                        ALICE.1,
                        "270_jane_doe.x12",
                        "X12_270_Request_005010X279A1",
                        &["EB*1*IND*30*MC*STANDARD PLAN~"],
                        None,
                    )
                    .await,
                );
                check(
                    zeep(
                        &python,
                        &gw,
                        ALICE.1,
                        "276_paid_claim.x12",
                        "X12_276_Request_005010X212",
                        &["STC*F1:65"],
                        None,
                    )
                    .await,
                );
                check(
                    zeep(
                        &python,
                        &gw,
                        "wrong password!",
                        "270_jane_doe.x12",
                        "X12_270_Request_005010X279A1",
                        &[],
                        Some("password"),
                    )
                    .await,
                );
            }
            None => eprintln!(
                "SKIPPED zeep interop: {PYTHON_VAR} (the test venv's python) is not set; scripts/test sets it"
            ),
        }
        check(openemr_mime(&gw).await);
        check(masshealth_mtom_batch(&gw).await);

        gw.running.shutdown().await;
        assert!(
            failures.is_empty(),
            "{} interop check(s) failed:\n\n{}",
            failures.len(),
            failures.join("\n\n")
        );
    }
);
