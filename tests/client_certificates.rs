//! Signing in with a TLS client certificate, end to end: the gateway asks for a certificate
//! issued by the configured CA, maps a registered one to its partner, and answers a request
//! that carries no password. Unregistered, deactivated and foreign certificates get nowhere.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;
use std::time::Duration;

use common::gateway::{ALICE, Gateway, Options, SENDER, start_with};
use hts_gateway::core::envelope::Operation;
use hts_gateway::core::request::{self, Request};
use hts_gateway::core::soap::PayloadStyle;
use hts_gateway::store::Store;
use hts_gateway::store::partners::CertificateOwner;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject as _;

/// A CA that issues client certificates.
struct Ca {
    cert: rcgen::Certificate,
    issuer: rcgen::Issuer<'static, rcgen::KeyPair>,
}

impl Ca {
    fn new(name: &str) -> Self {
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, name);
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        Self {
            cert,
            issuer: rcgen::Issuer::new(params, key),
        }
    }

    /// (certificate + key PEM for the client, SHA-256 fingerprint of the certificate).
    fn client(&self, name: &str) -> (String, String) {
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, name);
        params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth];
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        let der = CertificateDer::from_pem_slice(cert.pem().as_bytes()).unwrap();
        let fingerprint = hts_gateway::server::tls::fingerprint(&der);
        (cert.pem() + &key.serialize_pem(), fingerprint)
    }
}

fn client(gw: &Gateway, identity: Option<&str>) -> reqwest::Client {
    let ca = reqwest::Certificate::from_pem(&std::fs::read(&gw.ca).unwrap()).unwrap();
    let b = reqwest::Client::builder()
        .tls_certs_only([ca])
        .timeout(Duration::from_secs(30));
    let b = match identity {
        Some(pem) => b.identity(reqwest::Identity::from_pem(pem.as_bytes()).unwrap()),
        None => b,
    };
    b.build().unwrap()
}

/// A real-time 270 with no credentials in the envelope.
fn request_270(sender: &str) -> (String, Vec<u8>) {
    let x12 = common::fixture("270_jane_doe.x12").into_bytes();
    let mut r = Request::new(Operation::RealTime, "X12_270_Request_005010X279A1", x12);
    r.metadata.sender_id = Some(sender.into());
    r.metadata.receiver_id = Some("DEMOPLAN".into());
    r.credentials = None;
    (
        request::soap_content_type(r.operation),
        request::encode_soap_request(&r, PayloadStyle::Text),
    )
}

async fn send(
    http: &reqwest::Client,
    gw: &Gateway,
    req: (String, Vec<u8>),
) -> reqwest::Result<(u16, String)> {
    let r = http
        .post(&gw.core)
        .header("content-type", req.0)
        .body(req.1)
        .send()
        .await?;
    Ok((r.status().as_u16(), r.text().await?))
}

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

on_both_backends_with_url!(
    certificate_sign_in,
    |url: String, store: Store| async move {
        let partners_ca = Ca::new("Partner CA");
        let scratch = tempfile::tempdir().unwrap();
        let ca_file = write(scratch.path(), "partner-ca.pem", &partners_ca.cert.pem());
        let gw = start_with(
            &url,
            &store,
            Options {
                client_ca: Some(ca_file),
                ..Options::default()
            },
        )
        .await;

        let (alice_pem, alice_fp) = partners_ca.client("alice's interface engine");
        store
            .add_certificate(
                &CertificateOwner::User(ALICE.0.into()),
                &alice_fp,
                "CN=alice's interface engine",
            )
            .await
            .unwrap();

        // A registered certificate is the credential: no password in the envelope.
        let http = client(&gw, Some(&alice_pem));
        let (status, body) = send(&http, &gw, request_270(SENDER)).await.unwrap();
        assert_eq!(status, 200, "{body}");
        assert!(body.contains("<ErrorCode>Success</ErrorCode>"), "{body}");
        assert!(body.contains("EB*1*"), "a 271 with active coverage: {body}");
        // The certificate's user is held to the user's SenderIDs like anyone else.
        let (status, body) = send(&http, &gw, request_270("NOTALICES")).await.unwrap();
        assert_eq!(status, 403, "{body}");

        // No certificate and no password: authentication is required.
        let (status, body) = send(&client(&gw, None), &gw, request_270(SENDER))
            .await
            .unwrap();
        assert_eq!(status, 401, "{body}");
        assert!(body.contains("UnAuthorized"), "{body}");

        // Issued by the right CA but never registered: not a partner.
        let (stranger_pem, _) = partners_ca.client("someone else");
        let (status, body) = send(&client(&gw, Some(&stranger_pem)), &gw, request_270(SENDER))
            .await
            .unwrap();
        assert_eq!(status, 401, "{body}");

        // Issued by another CA: the TLS handshake itself fails.
        let (foreign_pem, _) = Ca::new("Elsewhere CA").client("impostor");
        assert!(
            send(&client(&gw, Some(&foreign_pem)), &gw, request_270(SENDER))
                .await
                .is_err(),
            "a certificate from an unknown CA is refused in the handshake"
        );

        // Deactivated: refused from then on (no sign-in cache for certificates).
        store.deactivate_certificate(&alice_fp).await.unwrap();
        let (status, body) = send(&client(&gw, Some(&alice_pem)), &gw, request_270(SENDER))
            .await
            .unwrap();
        assert_eq!(status, 401, "{body}");
        gw.running.shutdown().await;

        // The audit names the partner the certificate stood for.
        let rows = store.recent_messages(None, 10).await.unwrap();
        let first = rows.last().unwrap();
        assert_eq!(first.user_name.as_deref(), Some(ALICE.0));
        assert_eq!(first.http_status, Some(200));
    }
);
