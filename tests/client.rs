//! `hts-gateway client` against the real server over TLS, on SQLite and PostgreSQL: real-time
//! 270s in each wire (SOAP, MTOM, MIME), a wrong password, an unreachable gateway, a batch 837;
//! and the ready-made requests in fixtures/soap/ (they must not go stale).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::PathBuf;
use std::process::{Command, Output};

use common::gateway::{ALICE, Gateway, SENDER, start};
use futures_util::stream;
use hts_gateway::core::Wire;
use hts_gateway::core::multipart::{self, Limits as MultipartLimits};
use hts_gateway::core::soap::decode_soap;
use hts_gateway::core::validate::sha1_hex;
use hts_gateway::server::Limits;
use hts_gateway::store::Store;

const EB_ACTIVE: &str = "EB*1*IND*30*MC*STANDARD PLAN~";

fn x12(name: &str) -> PathBuf {
    common::root().join("fixtures/x12").join(name)
}

fn hts() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_hts-gateway"));
    // The test names every option it relies on; nothing comes from the caller's environment.
    for var in ["HTS_CLIENT_URL", "HTS_CLIENT_USER", "HTS_CLIENT_PASSWORD"] {
        c.env_remove(var);
    }
    c
}

/// `hts-gateway client MODE --url … --ca … --user alice --password PASSWORD --sender … ARGS`.
fn client(gw: &Gateway, mode: &str, password: &str, args: &[&str]) -> Command {
    let mut c = hts();
    c.args(["client", mode, "--url", &gw.core])
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
        .args(args);
    c
}

/// Runs a program off the runtime's worker threads (the server shares them).
async fn run(mut command: Command) -> Output {
    let shown = format!("{command:?}");
    tokio::task::spawn_blocking(move || command.output())
        .await
        .unwrap()
        .unwrap_or_else(|e| panic!("cannot run {shown}: {e}"))
}

fn transcript(out: &Output) -> String {
    format!(
        "{}\n--- stdout:\n{}\n--- stderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

on_both_backends_with_url!(
    client_against_the_gateway,
    |url: String, store: Store| async move {
        let gw = start(&url, &store, Limits::default()).await;
        let jane = x12("270_jane_doe.x12");
        let jane = jane.to_str().unwrap();

        // Real-time 270 in every wire: the 271 on stdout, the envelope fields on stderr.
        for wire in ["soap", "mtom", "mime"] {
            let out = run(client(&gw, "realtime", ALICE.1, &["--wire", wire, jane])).await;
            let (stdout, stderr) = (
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr),
            );
            assert_eq!(out.status.code(), Some(0), "{wire}: {}", transcript(&out));
            assert!(stdout.contains(EB_ACTIVE), "{wire}: {}", transcript(&out));
            assert!(
                stderr.contains("ErrorCode: Success")
                    && stderr.contains("PayloadType: X12_271_Response_005010X279A1"),
                "{wire}: {}",
                transcript(&out)
            );
        }

        // A wrong password: answered (a SOAP fault, or CORE fields for MIME) and refused.
        for wire in ["soap", "mime"] {
            let out = run(client(
                &gw,
                "realtime",
                "wrong password!",
                &["--wire", wire, jane],
            ))
            .await;
            assert_eq!(out.status.code(), Some(1), "{wire}: {}", transcript(&out));
            assert!(
                String::from_utf8_lossy(&out.stderr).contains("UnAuthorized"),
                "{wire}: {}",
                transcript(&out)
            );
        }

        // A batch 837P (MTOM by default; SOAP base64 and MIME file part too): the receipt, whose
        // payload is the tracking number.
        let claims = x12("837P_two_claims.x12");
        for wire in ["mtom", "soap", "mime"] {
            let out = run(client(
                &gw,
                "batch",
                ALICE.1,
                &["--wire", wire, claims.to_str().unwrap()],
            ))
            .await;
            let stdout = String::from_utf8_lossy(&out.stdout);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(0), "{wire}: {}", transcript(&out));
            assert!(
                stderr.contains("PayloadType: X12_BatchReceiptConfirmation")
                    && stderr.contains("matches the payload"),
                "{wire}: {}",
                transcript(&out)
            );
            let tracking = stdout.trim();
            assert!(
                tracking.len() == 16 && tracking.bytes().all(|b| b.is_ascii_digit()),
                "{wire}: the tracking number is printed: {}",
                transcript(&out)
            );
            assert!(stderr.contains(&format!("Tracking number: {tracking}")));
        }

        // The curl command of fixtures/soap/realtime_270_mime.txt, pointed at this gateway.
        let command = curl_fixture(&gw);
        let out = run(command).await;
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && stdout.contains(EB_ACTIVE) && stdout.contains("Success"),
            "realtime_270_mime.txt: {}",
            transcript(&out)
        );

        gw.running.shutdown().await;
    }
);

/// fixtures/soap/realtime_270_mime.txt as `sh -c`, with this gateway's URL, CA and partner in
/// place of the demo ones.
fn curl_fixture(gw: &Gateway) -> Command {
    let text = std::fs::read_to_string(common::root().join("fixtures/soap/realtime_270_mime.txt"))
        .unwrap();
    let script: String = text
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .collect::<Vec<_>>()
        .join("\n");
    for needle in [
        "https://localhost:8443/core",
        "certs/dev-ca.pem",
        "UserName=demo",
        "Password=demo-password-2026",
    ] {
        assert!(script.contains(needle), "the fixture has {needle}");
    }
    let script = script
        .replace("https://localhost:8443/core", &gw.core)
        .replace("certs/dev-ca.pem", gw.ca.to_str().unwrap())
        .replace("UserName=demo", &format!("UserName={}", ALICE.0))
        .replace(
            "Password=demo-password-2026",
            &format!("Password={}", ALICE.1),
        );
    let mut c = Command::new("sh");
    c.arg("-c").arg(script).current_dir(common::root());
    c
}

#[test]
fn transport_problems_exit_2() {
    // Nothing listens on a port just freed.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let jane = x12("270_jane_doe.x12");
    let out = hts()
        .args(["client", "realtime", "--url"])
        .arg(format!("https://127.0.0.1:{port}/core"))
        .args(["--user", "u", "--password", "p", "--timeout-secs", "5"])
        .arg(&jane)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", transcript(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot connect"));

    // Something listens but never answers the TLS handshake: the timeout.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let out = hts()
        .args(["client", "realtime", "--url"])
        .arg(format!(
            "https://127.0.0.1:{}/core",
            silent.local_addr().unwrap().port()
        ))
        .args(["--timeout-secs", "1"])
        .arg(&jane)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", transcript(&out));
    drop(silent);

    // An unreadable file; an X12 file whose PayloadType cannot be told.
    let out = hts()
        .args(["client", "realtime", "no/such/file.x12"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", transcript(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read"));
    let out = hts()
        .args(["client", "realtime"])
        .arg(x12("837P_two_claims.x12"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", transcript(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--payload-type"));
}

/// fixtures/soap/batch_837_mtom.http is a complete HTTP request whose PayloadLength and CheckSum
/// are those of fixtures/x12/837P_two_claims.x12, and which the gateway's own readers decode.
#[tokio::test]
async fn batch_fixture_matches_its_x12_file() {
    let raw = std::fs::read(common::root().join("fixtures/soap/batch_837_mtom.http")).unwrap();
    let claims = std::fs::read(x12("837P_two_claims.x12")).unwrap();
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8(raw[..split].to_vec()).unwrap();
    let body = raw[split + 4..].to_vec();
    let header = |name: &str| -> String {
        head.lines()
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
            })
            .unwrap_or_else(|| panic!("no {name} header"))
    };
    assert!(head.starts_with("POST /core HTTP/1.1\r\n"), "{head}");
    assert_eq!(header("Content-Length"), body.len().to_string());
    let content_type = header("Content-Type");
    let chunks = stream::iter([Ok::<_, std::io::Error>(bytes::Bytes::from(body))]);
    let (root, attachments) =
        multipart::read_mtom(&content_type, chunks, &MultipartLimits::default())
            .await
            .unwrap();
    let env = decode_soap(&root, Wire::Mtom, Some("BatchSubmitTransaction"), |cid| {
        attachments.get(cid).cloned()
    })
    .unwrap();
    let m = &env.metadata;
    assert_eq!(env.payload_bytes(), Some(claims.as_slice()));
    assert_eq!(m.payload_length, Some(claims.len().to_string()));
    assert_eq!(m.checksum, Some(sha1_hex(&claims)));
    assert_eq!(
        m.payload_type.as_deref(),
        Some("X12_837_Request_005010X222A1")
    );
    assert_eq!(m.sender_id.as_deref(), Some(SENDER));
    assert_eq!(m.receiver_id.as_deref(), Some("DEMOPLAN"));
}

on_both_backends_with_url!(
    client_retrieves_what_the_gateway_holds,
    |url: String, store: Store| async move {
        let gw = common::gateway::start_with(
            &url,
            &store,
            common::gateway::Options {
                workers: 1,
                ..Default::default()
            },
        )
        .await;
        let claims = x12("837P_two_claims.x12");
        let out = run(client(&gw, "batch", ALICE.1, &[claims.to_str().unwrap()])).await;
        assert_eq!(out.status.code(), Some(0), "{}", transcript(&out));
        let tracking = String::from_utf8_lossy(&out.stdout).trim().to_string();

        // The 999 by tracking number: NotReady (exit 1) until the worker has written it.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        let ack = loop {
            let out = run(client(
                &gw,
                "retrieve",
                ALICE.1,
                &["ack", "--id", &tracking],
            ))
            .await;
            if out.status.code() == Some(0) {
                break out;
            }
            assert!(
                String::from_utf8_lossy(&out.stderr).contains("NotReady"),
                "{}",
                transcript(&out)
            );
            assert!(std::time::Instant::now() < deadline, "{}", transcript(&out));
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        };
        let stdout = String::from_utf8_lossy(&ack.stdout);
        assert!(
            stdout.contains("ST*999*") && stdout.contains("AK9*A"),
            "{}",
            transcript(&ack)
        );

        // The file list on MIME, then that file by its PayloadID, then a confirmation.
        let out = run(client(
            &gw,
            "retrieve",
            ALICE.1,
            &[
                "files",
                "--wire",
                "mime",
                "--criteria",
                "TransactionType=999",
            ],
        ))
        .await;
        assert_eq!(out.status.code(), Some(0), "{}", transcript(&out));
        let list = String::from_utf8_lossy(&out.stdout).to_string();
        let id = list
            .split("<PayloadID>")
            .nth(1)
            .and_then(|s| s.split("</PayloadID>").next())
            .unwrap_or_else(|| panic!("{list}"))
            .to_string();
        let out = run(client(&gw, "retrieve", ALICE.1, &["file", "--id", &id])).await;
        assert_eq!(out.status.code(), Some(0), "{}", transcript(&out));
        assert_eq!(out.stdout, ack.stdout, "the same 999");
        let out = run(client(&gw, "retrieve", ALICE.1, &["confirm", "--id", &id])).await;
        assert_eq!(out.status.code(), Some(0), "{}", transcript(&out));
        // Something that is not there: answered, refused.
        let out = run(client(
            &gw,
            "retrieve",
            ALICE.1,
            &["ack", "--id", "2611220000000999"],
        ))
        .await;
        assert_eq!(out.status.code(), Some(1), "{}", transcript(&out));
        gw.running.shutdown().await;
    }
);
