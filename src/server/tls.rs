//! TLS for the listener: rustls with the ring provider, TLS 1.2 and 1.3 only, HTTP/2 and
//! HTTP/1.1 by ALPN, and optional client certificates verified against a configured CA.
//! Also makes the development certificates `serve --demo` uses.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::RootCertStore;
use rustls::server::WebPkiClientVerifier;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

/// Why TLS could not be set up (always the operator's to fix).
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("{path}: {why}")]
    File { path: PathBuf, why: String },
    #[error("TLS configuration: {0}")]
    Config(String),
}

fn read_pem_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certs: Result<Vec<_>, _> = CertificateDer::pem_file_iter(path)
        .map_err(|e| TlsError::File {
            path: path.into(),
            why: e.to_string(),
        })?
        .collect();
    let certs = certs.map_err(|e| TlsError::File {
        path: path.into(),
        why: e.to_string(),
    })?;
    if certs.is_empty() {
        return Err(TlsError::File {
            path: path.into(),
            why: "no certificate in the file".into(),
        });
    }
    Ok(certs)
}

/// A rustls server configuration from PEM files. With `client_ca`, clients may present a
/// certificate issued by that CA (verified, then mapped to a partner); without one, none is
/// asked for. Clients without a certificate are still served: they sign in with a password.
pub fn server_config(
    cert: &Path,
    key: &Path,
    client_ca: Option<&Path>,
) -> Result<Arc<rustls::ServerConfig>, TlsError> {
    let chain = read_pem_certs(cert)?;
    let key = PrivateKeyDer::from_pem_file(key).map_err(|e| TlsError::File {
        path: key.into(),
        why: e.to_string(),
    })?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| TlsError::Config(e.to_string()))?;
    let builder = match client_ca {
        Some(ca) => {
            let mut roots = RootCertStore::empty();
            for c in read_pem_certs(ca)? {
                roots
                    .add(c)
                    .map_err(|e| TlsError::Config(format!("client CA: {e}")))?;
            }
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .allow_unauthenticated()
                .build()
                .map_err(|e| TlsError::Config(e.to_string()))?;
            builder.with_client_cert_verifier(verifier)
        }
        None => builder.with_no_client_auth(),
    };
    let mut config = builder
        .with_single_cert(chain, key)
        .map_err(|e| TlsError::Config(e.to_string()))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// Development certificate files in a folder.
#[derive(Clone, Debug)]
pub struct DevCertificates {
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl DevCertificates {
    pub fn in_dir(dir: &Path) -> Self {
        Self {
            ca: dir.join("dev-ca.pem"),
            cert: dir.join("dev-server.pem"),
            key: dir.join("dev-server-key.pem"),
        }
    }
}

/// Makes a development CA and a server certificate for localhost (and `extra_names`) in `dir`,
/// unless they are already there. Never for production: the CA key is not kept.
pub fn ensure_dev_certificates(
    dir: &Path,
    extra_names: &[String],
) -> Result<DevCertificates, TlsError> {
    let files = DevCertificates::in_dir(dir);
    if files.ca.exists() && files.cert.exists() && files.key.exists() {
        return Ok(files);
    }
    let err = |e: rcgen::Error| TlsError::Config(format!("making development certificates: {e}"));
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).map_err(err)?;
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "hts-gateway development CA");
    let ca_key = rcgen::KeyPair::generate().map_err(err)?;
    let ca_cert = ca_params.self_signed(&ca_key).map_err(err)?;
    let issuer = rcgen::Issuer::new(ca_params, ca_key);

    let mut names = vec!["localhost".to_string(), "127.0.0.1".to_string()];
    names.extend(extra_names.iter().cloned());
    let mut params = rcgen::CertificateParams::new(names).map_err(err)?;
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "hts-gateway development server");
    let key = rcgen::KeyPair::generate().map_err(err)?;
    let cert = params.signed_by(&key, &issuer).map_err(err)?;

    std::fs::create_dir_all(dir).map_err(|e| TlsError::File {
        path: dir.into(),
        why: e.to_string(),
    })?;
    let write = |path: &Path, text: String| {
        std::fs::write(path, text).map_err(|e| TlsError::File {
            path: path.into(),
            why: e.to_string(),
        })
    };
    write(&files.ca, ca_cert.pem())?;
    write(&files.cert, cert.pem() + &ca_cert.pem())?;
    write(&files.key, key.serialize_pem())?;
    Ok(files)
}

/// SHA-256 of a DER certificate, lower-case hex: how client certificates are mapped to
/// partners.
pub fn fingerprint(cert: &CertificateDer<'_>) -> String {
    use sha2::Digest as _;
    sha2::Sha256::digest(cert.as_ref())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
