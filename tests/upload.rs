//! Large uploads and the gateway's time and capacity limits, over real TLS against the running
//! server: batch payloads streamed to disk and into the store in chunks, a real-time request
//! too large for real time, a client that stalls mid-body, a real-time deadline, a database
//! that goes away.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use base64::Engine as _;
use common::gateway::{ALICE, SENDER, start};
use hts_gateway::core::envelope::Operation;
use hts_gateway::core::request::{self, Request};
use hts_gateway::server::Limits;
use hts_gateway::store::Store;
use hts_gateway::store::blobs::CHUNK_BYTES;
use hts_gateway::x12::sample::{Sample837, write_837p};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

const CLAIMS_TYPE: &str = "X12_837_Request_005010X222A1";

/// Production files are refused until a partner is certified; these tests are about size.
async fn no_certification_needed(store: &Store) {
    let settings = hts_gateway::store::files::PartnerSettings {
        ack_policy: "always".into(),
        require_certification: false,
    };
    assert!(
        store
            .set_partner_settings(common::gateway::ORGANIZATION, &settings)
            .await
            .unwrap()
    );
}

/// An 837P of about `claims` × 360 bytes.
fn claims_file(claims: usize) -> Vec<u8> {
    let mut out = Vec::new();
    write_837p(
        Sample837 {
            claims,
            ..Sample837::default()
        },
        &mut out,
    )
    .unwrap();
    out
}

fn batch_request(payload: Vec<u8>) -> Request {
    let mut r = Request::new(Operation::BatchSubmit, CLAIMS_TYPE, payload);
    r.metadata.sender_id = Some(SENDER.into());
    r.metadata.receiver_id = Some("DEMOPLAN".into());
    r.credentials = Some((ALICE.0.into(), ALICE.1.into()));
    r
}

async fn post(client: &reqwest::Client, url: &str, ct: &str, body: Vec<u8>) -> (u16, String) {
    let r = client
        .post(url)
        .header("content-type", ct)
        .body(body)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

fn field(text: &str, name: &str) -> String {
    // Works for the XML element and for the MIME form field alike.
    if let (Some(s), Some(e)) = (
        text.find(&format!("<{name}>")),
        text.find(&format!("</{name}>")),
    ) {
        return text[s + name.len() + 2..e].to_string();
    }
    let marker = format!("name=\"{name}\"\r\n\r\n");
    text.find(&marker)
        .map(|s| {
            let rest = &text[s + marker.len()..];
            rest[..rest.find("\r\n").unwrap_or(rest.len())].to_string()
        })
        .unwrap_or_default()
}

fn tracking_number(reply: &str) -> String {
    let message = field(reply, "ErrorMessage");
    message
        .split("Tracking number ")
        .nth(1)
        .unwrap_or_else(|| panic!("no tracking number in {reply}"))
        .trim_end_matches('.')
        .to_string()
}

/// The stored payload, read back chunk by chunk: (bytes, number of chunks).
async fn stored_payload(store: &Store, tracking: &str) -> (Vec<u8>, usize) {
    let s = store.submission(tracking).await.unwrap().unwrap();
    let mut out = Vec::new();
    let mut chunks = 0;
    while let Some(c) = store.blob_chunk(s.payload_blob, chunks).await.unwrap() {
        assert!(c.len() <= CHUNK_BYTES);
        out.extend_from_slice(&c);
        chunks += 1;
    }
    (out, chunks as usize)
}

on_both_backends_with_url!(
    large_batches_stream_into_the_store,
    |url: String, store: Store| async move {
        let spool = tempfile::tempdir().unwrap();
        let limits = Limits {
            // Everything over 64 KiB goes to disk while it arrives.
            spool_memory_bytes: 64 * 1024,
            spool_dir: Some(spool.path().to_path_buf()),
            // The SOAP body limit does not apply to attachments.
            max_inline_bytes: 256 * 1024,
            ..Limits::default()
        };
        let gw = start(&url, &store, limits).await;
        no_certification_needed(&store).await;
        let http = gw.https();
        let claims = claims_file(12_000);
        assert!(claims.len() > 3 * CHUNK_BYTES, "{} bytes", claims.len());

        // MTOM, binary attachment (the MassHealth client's shape).
        let (ct, body) = request::encode_mtom_request(&batch_request(claims.clone()), "b-1");
        let (status, reply) = post(&http, &gw.core, &ct, body).await;
        assert_eq!(status, 200, "{reply}");
        let (stored, chunks) = stored_payload(&store, &tracking_number(&reply)).await;
        assert!(stored == claims, "MTOM payload stored byte for byte");
        assert_eq!(chunks, claims.len().div_ceil(CHUNK_BYTES));

        // MIME form, Payload as a file part.
        let (ct, body) = request::encode_mime_request(&batch_request(claims.clone()), "b-2");
        let (status, reply) = post(&http, &gw.core, &ct, body).await;
        assert_eq!(status, 200, "{reply}");
        let (stored, _) = stored_payload(&store, &tracking_number(&reply)).await;
        assert!(stored == claims, "MIME payload stored byte for byte");

        // MTOM with a base64 Content-Transfer-Encoding, line-wrapped as mail tools do.
        let r = batch_request(claims.clone());
        let (ct, body) = request::encode_mtom_request(&r, "b-3");
        let b64 = base64::engine::general_purpose::STANDARD.encode(&claims);
        let wrapped: Vec<u8> = b64
            .as_bytes()
            .chunks(76)
            .flat_map(|l| l.iter().copied().chain(*b"\r\n"))
            .collect();
        let at = find(&body, &claims).expect("the attachment in the body");
        let headers_end = at - 4; // the blank line before the content
        let mut encoded = body[..headers_end].to_vec();
        encoded.extend_from_slice(b"\r\nContent-Transfer-Encoding: base64\r\n\r\n");
        encoded.extend_from_slice(&wrapped);
        encoded.extend_from_slice(&body[at + claims.len()..]);
        let (status, reply) = post(&http, &gw.core, &ct, encoded).await;
        assert_eq!(status, 200, "{reply}");
        let (stored, _) = stored_payload(&store, &tracking_number(&reply)).await;
        assert!(
            stored == claims,
            "base64 attachment decoded while streaming"
        );

        gw.running.shutdown().await;
        // The spooled parts were anonymous files: nothing is left in the spool directory.
        assert_eq!(std::fs::read_dir(spool.path()).unwrap().count(), 0);
    }
);

on_both_backends_with_url!(
    an_oversized_upload_is_refused_while_arriving,
    |url: String, store: Store| async move {
        let spool = tempfile::tempdir().unwrap();
        let limits = Limits {
            max_body_bytes: 2 * CHUNK_BYTES as u64,
            spool_memory_bytes: 64 * 1024,
            spool_dir: Some(spool.path().to_path_buf()),
            ..Limits::default()
        };
        let gw = start(&url, &store, limits).await;
        no_certification_needed(&store).await;
        let http = gw.https();
        let claims = claims_file(12_000);
        for (wire, (ct, body)) in [
            (
                "MTOM",
                request::encode_mtom_request(&batch_request(claims.clone()), "b-4"),
            ),
            (
                "MIME",
                request::encode_mime_request(&batch_request(claims.clone()), "b-5"),
            ),
        ] {
            let (status, reply) = post(&http, &gw.core, &ct, body).await;
            assert_eq!(status, 413, "{wire}: {reply}");
        }
        gw.running.shutdown().await;
        let rows = store.recent_messages(None, 100).await.unwrap();
        assert_eq!(rows.len(), 2);
        assert!(rows.iter().all(|r| r.http_status == Some(413)));
        assert_eq!(std::fs::read_dir(spool.path()).unwrap().count(), 0);
    }
);

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

on_both_backends_with_url!(real_time_is_small, |url: String, store: Store| async move {
    let limits = Limits {
        spool_memory_bytes: 4096,
        ..Limits::default()
    };
    let gw = start(&url, &store, limits).await;
    let http = gw.https();
    // A "270" far larger than any real-time question, sent as MIME.
    let x12 = common::fixture("270_jane_doe.x12");
    let padded = format!("{x12}{}", "\n".repeat(8192)).into_bytes();
    let mut r = Request::new(Operation::RealTime, "X12_270_Request_005010X279A1", padded);
    r.metadata.sender_id = Some(SENDER.into());
    r.metadata.receiver_id = Some("DEMOPLAN".into());
    r.credentials = Some((ALICE.0.into(), ALICE.1.into()));
    let (ct, body) = request::encode_mime_request(&r, "rt-1");
    let (status, reply) = post(&http, &gw.core, &ct, body).await;
    assert_eq!(status, 413, "{reply}");
    assert!(
        reply.contains("real-time requests are limited to 4096 bytes"),
        "{reply}"
    );
    gw.running.shutdown().await;
});

on_both_backends_with_url!(
    a_stalled_upload_times_out,
    |url: String, store: Store| async move {
        let limits = Limits {
            idle_timeout: Duration::from_secs(1),
            ..Limits::default()
        };
        let gw = start(&url, &store, limits).await;
        let (ct, body) = request::encode_mtom_request(&batch_request(claims_file(50)), "stall");
        let mut tls = common::gateway::raw_tls(&gw).await;
        let head = format!(
            "POST /core HTTP/1.1\r\nHost: localhost\r\nContent-Type: {ct}\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        tls.write_all(head.as_bytes()).await.unwrap();
        // Half the body, then nothing.
        tls.write_all(&body[..body.len() / 2]).await.unwrap();
        tls.flush().await.unwrap();
        let mut answer = Vec::new();
        let read =
            tokio::time::timeout(Duration::from_secs(20), tls.read_to_end(&mut answer)).await;
        assert!(
            read.is_ok(),
            "the gateway answers a stalled client, then closes"
        );
        let answer = String::from_utf8_lossy(&answer);
        assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
        assert!(answer.contains("no data for 1 s"), "{answer}");
        gw.running.shutdown().await;
        // The stalled exchange is audited.
        let rows = store.recent_messages(None, 10).await.unwrap();
        assert_eq!(rows[0].http_status, Some(408));
        assert_eq!(rows[0].error_code.as_deref(), Some("RequestTimeout"));
    }
);

/// A stress check of the transport path, not run by default (`cargo test --test upload --
/// --ignored`; `UPLOAD_STRESS_REQUESTS` sets the number of uploads, 2,000 by default): small
/// MIME and MTOM batches sent 32 at a time over HTTP/2, on one shared connection and on fresh
/// ones, must all be read in full. Before multipart's `ArrivalGap` about one upload in 3,000
/// was refused as "the body ended before the closing boundary".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "stress check: about 30 s"]
async fn many_small_uploads_over_http2() {
    use futures_util::StreamExt as _;
    let body = |url: String, store: Store| async move {
        let gw = start(&url, &store, Limits::default()).await;
        no_certification_needed(&store).await;
        let shared = gw.https();
        let requests = std::env::var("UPLOAD_STRESS_REQUESTS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(2000usize);
        // One to 46 claims: one DATA frame or a few.
        let files: Vec<Vec<u8>> = [1, 2, 3, 5, 8, 13, 46]
            .into_iter()
            .map(claims_file)
            .collect();
        let failures: Vec<String> = futures_util::stream::iter(0..requests)
            .map(|i| {
                let http = if i % 5 == 0 {
                    gw.https()
                } else {
                    shared.clone()
                };
                let r = batch_request(files[i % files.len()].clone());
                let (wire, (ct, body)) = if i % 2 == 0 {
                    ("MTOM", request::encode_mtom_request(&r, "mtom-boundary"))
                } else {
                    ("MIME", request::encode_mime_request(&r, "mime-boundary"))
                };
                let core = gw.core.clone();
                async move {
                    let response = http
                        .post(&core)
                        .header("content-type", ct)
                        .body(body)
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(response.version(), reqwest::Version::HTTP_2);
                    let status = response.status().as_u16();
                    let reply = response.text().await.unwrap();
                    (status != 200).then(|| format!("#{i} {wire}: {status} {reply}"))
                }
            })
            .buffer_unordered(32)
            .filter_map(std::future::ready)
            .collect()
            .await;
        gw.running.shutdown().await;
        assert!(
            failures.is_empty(),
            "{} of {requests} uploads failed: {failures:#?}",
            failures.len()
        );
    };
    common::db::run_with_url(
        common::db::Backend::Sqlite,
        "many_small_uploads_over_http2",
        body,
    )
    .await;
}
