//! `hts-gateway client realtime|batch FILE`: sends an X12 file to a CORE gateway (this one or
//! another) in a SOAP, MTOM or MIME envelope and prints the answer, so an EDI team can try a
//! connection without soapUI.
//!
//! Exit status: 0 the gateway answered ErrorCode Success; 1 it answered but refused (a CORE
//! error or a SOAP fault); 2 no answer (unreadable file, connection, TLS, timeout, or a reply
//! that is not a CORE envelope).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Subcommand, ValueEnum};

use crate::core::envelope::Operation;
use crate::core::multipart::{self, Limits};
use crate::core::payload::{Payload, SpoolPolicy};
use crate::core::request::{
    self, CoreReply, Reply, Request, SoapFault, encode_mime_request, encode_mtom_request,
    encode_soap_request, soap_content_type,
};
use crate::core::soap::PayloadStyle;
use crate::core::validate::sha1_hex;

const ANSWERED_REFUSED: u8 = 1;
const NO_ANSWER: u8 = 2;

/// The development CA `serve --demo` writes; trusted by default for a gateway on this machine.
const DEV_CA: &str = "certs/dev-ca.pem";

/// The PayloadType of a batch submission receipt.
const RECEIPT_PAYLOAD_TYPE: &str = "X12_BatchReceiptConfirmation";

#[derive(Debug, Subcommand)]
pub enum ClientCommand {
    /// Send a 270 or 276 as a RealTimeTransaction and print the 271 or 277.
    ///
    /// Exit status: 0 ErrorCode Success, 1 a CORE error or SOAP fault, 2 no answer
    /// (connection, TLS, timeout, unreadable file).
    Realtime {
        /// The X12 file to send.
        file: PathBuf,
        #[command(flatten)]
        args: ClientArgs,
    },
    /// Submit an X12 batch file (BatchSubmitTransaction; MTOM by default) and print the
    /// receipt.
    ///
    /// Exit status: 0 ErrorCode Success, 1 a CORE error or SOAP fault, 2 no answer
    /// (connection, TLS, timeout, unreadable file).
    Batch {
        /// The file to send.
        file: PathBuf,
        #[command(flatten)]
        args: ClientArgs,
    },
    /// Retrieve what the gateway holds for you: a submission's 999/TA1 (`ack`), batch results
    /// (`results`), the file list (`files`), one file (`file`), or confirm a pickup
    /// (`confirm`). The payload goes to standard output, the envelope to standard error.
    ///
    /// Exit status: 0 ErrorCode Success, 1 a CORE error (NotReady: ask again later) or SOAP
    /// fault, 2 no answer.
    Retrieve {
        what: RetrieveKind,
        /// The submission's PayloadID or tracking number (ack, results), or the file's
        /// PayloadID (file, confirm).
        #[arg(long, required_if_eq_any([("what", "ack"), ("what", "results"), ("what", "file"), ("what", "confirm")]))]
        id: Option<String>,
        /// For `files`: search criteria, e.g. `TransactionType=999&From=2026-11-01`.
        #[arg(long)]
        criteria: Option<String>,
        #[command(flatten)]
        args: ClientArgs,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RetrieveKind {
    Ack,
    Results,
    Files,
    File,
    Confirm,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum WireArg {
    /// SOAP 1.2, the payload inline (CDATA for real-time, base64 for batch).
    Soap,
    /// SOAP 1.2 with MTOM/XOP: the payload as a binary attachment.
    Mtom,
    /// HTTP MIME multipart/form-data (CORE vC2.2.0 §3).
    Mime,
}

#[derive(Debug, Args)]
pub struct ClientArgs {
    /// The gateway's CORE endpoint.
    #[arg(
        long,
        env = "HTS_CLIENT_URL",
        default_value = "https://localhost:8443/core"
    )]
    url: String,
    /// User name (WS-Security UsernameToken, or the MIME UserName field).
    #[arg(long, env = "HTS_CLIENT_USER")]
    user: Option<String>,
    /// Password for --user.
    #[arg(long, env = "HTS_CLIENT_PASSWORD", hide_env_values = true)]
    password: Option<String>,
    /// SenderID of the envelope; default: the file's ISA06 (required for retrieve).
    #[arg(long)]
    sender: Option<String>,
    /// ReceiverID of the envelope.
    #[arg(long, default_value = "DEMOPLAN")]
    receiver: String,
    /// CORE PayloadType; default: inferred from the file's ST01 and GS08 (270, 276, 834,
    /// 837P, 837I).
    #[arg(long)]
    payload_type: Option<String>,
    /// Envelope style; default: soap for realtime, mtom for batch.
    #[arg(long, value_enum)]
    wire: Option<WireArg>,
    /// An extra CA certificate (PEM) to trust besides the system's.
    #[arg(long, value_name = "PEM")]
    ca: Option<PathBuf>,
    /// Client certificate (PEM) for mutual TLS.
    #[arg(long, value_name = "PEM", requires = "client_key")]
    client_cert: Option<PathBuf>,
    /// Private key (PEM) of --client-cert.
    #[arg(long, value_name = "PEM", requires = "client_cert")]
    client_key: Option<PathBuf>,
    /// PayloadID of the envelope; default: a new UUID v4.
    #[arg(long)]
    payload_id: Option<String>,
    /// Give up after this many seconds (connecting, sending and reading the answer).
    #[arg(long, default_value_t = 60)]
    timeout_secs: u64,
    /// Write the HTTP request (headers and body) to this file instead of sending it (for
    /// soapUI, curl, or a fixture).
    #[arg(long, value_name = "FILE")]
    write_request: Option<PathBuf>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    RealTime,
    Batch,
}

pub fn run(cmd: ClientCommand) -> ExitCode {
    let (prepared, args) = match cmd {
        ClientCommand::Realtime { file, args } => (prepare(Mode::RealTime, &file, &args), args),
        ClientCommand::Batch { file, args } => (prepare(Mode::Batch, &file, &args), args),
        ClientCommand::Retrieve {
            what,
            id,
            criteria,
            args,
        } => (prepare_retrieval(what, id, criteria, &args), args),
    };
    match prepared {
        Err(message) => {
            eprintln!("hts-gateway client: {message}");
            ExitCode::from(NO_ANSWER)
        }
        Ok(prepared) => match &args.write_request {
            Some(path) => write_request(&args.url, &prepared, path),
            None => super::block_on(send(&args, prepared)),
        },
    }
}

/// A retrieval request: the operation and PayloadType for what is asked, the submission or
/// file named by PayloadID (a UUID) or, for a tracking number, in the Payload.
fn prepare_retrieval(
    what: RetrieveKind,
    id: Option<String>,
    criteria: Option<String>,
    args: &ClientArgs,
) -> Result<Prepared, String> {
    let (operation, default_type) = match what {
        RetrieveKind::Ack => (
            Operation::BatchSubmitAckRetrieval,
            "X12_999_RetrievalRequest_005010X231A1",
        ),
        RetrieveKind::Results => (
            Operation::BatchResultsRetrieval,
            "X12_005010_Request_Batch_Results_271",
        ),
        RetrieveKind::Files => (Operation::GenericBatchRetrieval, "FILELIST"),
        RetrieveKind::File => (Operation::GenericBatchRetrieval, "FILE"),
        RetrieveKind::Confirm => (
            Operation::GenericBatchReceiptConfirmation,
            "X12_Response_ConfirmReceiptReceived",
        ),
    };
    let sender = args
        .sender
        .clone()
        .ok_or("retrieve needs --sender (your SenderID)")?;
    let payload_type = args.payload_type.clone().unwrap_or(default_type.into());
    let (payload_id, payload) = match (what, id) {
        (RetrieveKind::Files, _) => ("FILELIST".to_string(), criteria.unwrap_or_default()),
        (_, Some(id)) if uuid::Uuid::try_parse(&id).is_ok() => (id, String::new()),
        // A tracking number: a fresh PayloadID, the tracking number as the payload.
        (_, Some(id)) => (uuid::Uuid::new_v4().to_string(), id),
        (_, None) => return Err("give --id".into()),
    };
    let mut req = Request::new(operation, payload_type, payload.into_bytes())
        .sender(sender)
        .receiver(args.receiver.clone())
        .payload_id(payload_id);
    match (&args.user, &args.password) {
        (Some(u), Some(p)) => req = req.credentials(u.clone(), p.clone()),
        (Some(_), None) => return Err("--user needs --password (or HTS_CLIENT_PASSWORD)".into()),
        (None, Some(_)) => return Err("--password needs --user (or HTS_CLIENT_USER)".into()),
        (None, None) => {}
    }
    Ok(encode(
        &req,
        args.wire.unwrap_or(WireArg::Soap),
        Mode::Batch,
    ))
}

/// The request ready to send.
struct Prepared {
    content_type: String,
    body: Vec<u8>,
}

fn prepare(mode: Mode, file: &Path, args: &ClientArgs) -> Result<Prepared, String> {
    let raw = std::fs::read(file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    let header = X12Header::read(&raw);
    let payload_type = match (&args.payload_type, infer_payload_type(mode, &header)) {
        (Some(t), _) => t.clone(),
        (None, Some(t)) => t.to_string(),
        (None, None) => {
            return Err(format!(
                "cannot tell the PayloadType of {} (ST01 {:?}, GS08 {:?}): give --payload-type",
                file.display(),
                header.st01.as_deref().unwrap_or("-"),
                header.gs08.as_deref().unwrap_or("-"),
            ));
        }
    };
    let (operation, payload) = match mode {
        // Surrounding whitespace (a final newline) is not part of a real-time X12 message;
        // dropping it makes every wire carry the same bytes.
        Mode::RealTime => (Operation::RealTime, raw.trim_ascii().to_vec()),
        Mode::Batch if payload_type.starts_with("X12_") => (Operation::BatchSubmit, raw),
        Mode::Batch => (Operation::GenericBatchSubmission, raw),
    };
    let sender = match (&args.sender, &header.isa06) {
        (Some(s), _) => s.clone(),
        (None, Some(s)) => s.clone(),
        (None, None) => return Err("the file has no ISA06: give --sender".into()),
    };
    let mut req = Request::new(operation, payload_type, payload)
        .sender(sender)
        .receiver(args.receiver.clone());
    if let Some(id) = &args.payload_id {
        req = req.payload_id(id.clone());
    }
    match (&args.user, &args.password) {
        (Some(u), Some(p)) => req = req.credentials(u.clone(), p.clone()),
        (Some(_), None) => return Err("--user needs --password (or HTS_CLIENT_PASSWORD)".into()),
        (None, Some(_)) => return Err("--password needs --user (or HTS_CLIENT_USER)".into()),
        (None, None) => {}
    }
    let wire = args.wire.unwrap_or(match mode {
        Mode::RealTime => WireArg::Soap,
        Mode::Batch => WireArg::Mtom,
    });
    Ok(encode(&req, wire, mode))
}

fn encode(req: &Request, wire: WireArg, mode: Mode) -> Prepared {
    let boundary = format!("Part-{}", uuid::Uuid::new_v4());
    let (content_type, body) = match wire {
        WireArg::Soap => {
            let style = match mode {
                Mode::RealTime => PayloadStyle::Text,
                Mode::Batch => PayloadStyle::Base64,
            };
            (
                soap_content_type(req.operation),
                encode_soap_request(req, style),
            )
        }
        WireArg::Mtom => encode_mtom_request(req, &boundary),
        WireArg::Mime => encode_mime_request(req, &boundary),
    };
    Prepared { content_type, body }
}

/// The few header values the PayloadType and SenderID are inferred from.
#[derive(Debug, Default)]
struct X12Header {
    isa06: Option<String>,
    gs08: Option<String>,
    st01: Option<String>,
    st03: Option<String>,
}

impl X12Header {
    /// Reads the separators from the fixed-length ISA and the first GS and ST; anything
    /// unreadable leaves the fields `None`.
    fn read(raw: &[u8]) -> Self {
        let text = String::from_utf8_lossy(raw);
        let text = text.trim_start_matches('\u{feff}').trim_start();
        let (Some(element), Some(terminator)) = (text.chars().nth(3), text.chars().nth(105)) else {
            return Self::default();
        };
        if !text.starts_with("ISA") {
            return Self::default();
        }
        let mut h = Self::default();
        for segment in text.split(terminator).map(str::trim) {
            let e: Vec<&str> = segment.split(element).collect();
            let at = |i: usize| e.get(i).map(|v| v.trim().to_string());
            match e.first().copied() {
                Some("ISA") => h.isa06 = at(6).filter(|s| !s.is_empty()),
                Some("GS") if h.gs08.is_none() => h.gs08 = at(8),
                Some("ST") => {
                    h.st01 = at(1);
                    h.st03 = at(3);
                    break;
                }
                _ => {}
            }
        }
        h
    }

    /// The implementation guide version: ST03, else GS08.
    fn version(&self) -> &str {
        self.st03
            .as_deref()
            .filter(|v| !v.is_empty())
            .or(self.gs08.as_deref())
            .unwrap_or("")
    }
}

/// The CORE PayloadType for the file, when it is one the gateway knows.
fn infer_payload_type(mode: Mode, h: &X12Header) -> Option<&'static str> {
    let st01 = h.st01.as_deref()?;
    let version = h.version();
    Some(match (mode, st01) {
        (_, "270") => "X12_270_Request_005010X279A1",
        (_, "276") => "X12_276_Request_005010X212",
        (Mode::Batch, "837") if version.starts_with("005010X222") => "X12_837_Request_005010X222A1",
        // The CORE PayloadType table names the 837I after its first addendum.
        (Mode::Batch, "837") if version.starts_with("005010X223") => {
            "X12_837_Request_005010X223A1_2"
        }
        (Mode::Batch, "834") => "X12_834_Request_005010X220A1",
        _ => return None,
    })
}

/// `--write-request`: the HTTP/1.1 request as it would go on the wire.
fn write_request(url: &str, p: &Prepared, path: &Path) -> ExitCode {
    let url = match reqwest::Url::parse(url) {
        Ok(u) => u,
        Err(e) => {
            eprintln!("hts-gateway client: --url {url:?}: {e}");
            return ExitCode::from(NO_ANSWER);
        }
    };
    let host = match (url.host_str(), url.port()) {
        (Some(h), Some(port)) => format!("{h}:{port}"),
        (Some(h), None) => h.to_string(),
        (None, _) => "localhost".into(),
    };
    let mut out = format!(
        "POST {} HTTP/1.1\r\nHost: {host}\r\nContent-Type: {}\r\nContent-Length: {}\r\n\r\n",
        url.path(),
        p.content_type,
        p.body.len()
    )
    .into_bytes();
    out.extend_from_slice(&p.body);
    match std::fs::write(path, out) {
        Ok(()) => {
            eprintln!("wrote the request to {}", path.display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("hts-gateway client: cannot write {}: {e}", path.display());
            ExitCode::from(NO_ANSWER)
        }
    }
}

fn http_client(args: &ClientArgs) -> Result<reqwest::Client, String> {
    // reqwest is built without a default crypto provider: use ring, like the server.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut extra = Vec::new();
    if let Some(ca) = &args.ca {
        extra.extend(read_certificates(ca)?);
    }
    let local = reqwest::Url::parse(&args.url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .is_some_and(|h| h == "localhost" || h == "127.0.0.1");
    if local && Path::new(DEV_CA).is_file() {
        extra.extend(read_certificates(Path::new(DEV_CA))?);
    }
    let mut builder = reqwest::Client::builder()
        .timeout(Duration::from_secs(args.timeout_secs))
        .connect_timeout(Duration::from_secs(args.timeout_secs.min(15)))
        .tls_certs_merge(extra);
    if let (Some(cert), Some(key)) = (&args.client_cert, &args.client_key) {
        let mut pem = read(cert)?;
        pem.push(b'\n');
        pem.extend(read(key)?);
        let identity = reqwest::Identity::from_pem(&pem).map_err(|e| {
            format!(
                "{} / {}: not a PEM certificate and key: {e}",
                cert.display(),
                key.display()
            )
        })?;
        builder = builder.identity(identity);
    }
    builder
        .build()
        .map_err(|e| format!("cannot set up HTTPS: {}", chain(&e)))
}

fn read(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

fn read_certificates(path: &Path) -> Result<Vec<reqwest::Certificate>, String> {
    let pem = read(path)?;
    let certs = reqwest::Certificate::from_pem_bundle(&pem)
        .map_err(|e| format!("{}: not a PEM certificate: {e}", path.display()))?;
    if certs.is_empty() {
        return Err(format!("{}: no certificate in it", path.display()));
    }
    Ok(certs)
}

/// An error and its causes on one line (the TLS reason is usually a few levels down).
fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let next = s.to_string();
        if !text.contains(&next) {
            text.push_str(": ");
            text.push_str(&next);
        }
        source = s.source();
    }
    text
}

async fn send(args: &ClientArgs, p: Prepared) -> ExitCode {
    let fail = |message: String| {
        eprintln!("hts-gateway client: {message}");
        ExitCode::from(NO_ANSWER)
    };
    let client = match http_client(args) {
        Ok(c) => c,
        Err(e) => return fail(e),
    };
    let response = match client
        .post(&args.url)
        .header(reqwest::header::CONTENT_TYPE, &p.content_type)
        .body(p.body)
        .send()
        .await
    {
        Ok(r) => r,
        Err(e) => {
            let what = if e.is_timeout() {
                "timed out"
            } else if e.is_connect() {
                "cannot connect"
            } else {
                "request failed"
            };
            return fail(format!("{}: {what}: {}", args.url, chain(&e)));
        }
    };
    let status = response.status();
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    eprintln!("HTTP {} ({content_type})", status.as_u16());
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    // The client holds answers in memory (it prints or writes them whole).
    let limits = Limits {
        spool: SpoolPolicy {
            memory_bytes: usize::MAX,
            ..SpoolPolicy::default()
        },
        ..Limits::default()
    };
    if matches!(
        essence.as_str(),
        "multipart/related" | "multipart/form-data"
    ) {
        // The multipart readers take a stream; the answer is read whole first (reqwest's
        // streaming needs a feature this crate does not otherwise use).
        let body = match response.bytes().await {
            Ok(b) => b,
            Err(e) => return fail(format!("reading the answer: {}", chain(&e))),
        };
        let stream = futures_util::stream::iter([Ok::<_, std::io::Error>(body)]);
        let reply = if essence == "multipart/related" {
            match multipart::read_mtom(&content_type, stream, &limits).await {
                Ok((root, attachments)) => request::decode_soap_reply(&root, |cid| {
                    attachments.get(cid).and_then(Payload::in_memory)
                }),
                Err(f) => Err(f),
            }
        } else {
            request::read_mime_reply(&content_type, stream, &limits)
                .await
                .map(Reply::Core)
        };
        return finish(reply);
    }
    let reply = match essence.as_str() {
        "application/soap+xml" | "text/xml" | "application/xml" => match response.bytes().await {
            Ok(b) => request::decode_soap_reply(&b, |_| None),
            Err(e) => return fail(format!("reading the answer: {}", chain(&e))),
        },
        _ => {
            let text = response.text().await.unwrap_or_default();
            let shown: String = text.chars().take(2000).collect();
            return fail(format!(
                "the answer is not a CORE envelope (HTTP {status}, Content-Type {content_type:?}):\n{shown}"
            ));
        }
    };
    finish(reply)
}

fn finish(reply: Result<Reply, crate::core::Failure>) -> ExitCode {
    match reply {
        Ok(Reply::Core(r)) => print_core(&r),
        Ok(Reply::Fault(f)) => print_fault(&f),
        Err(f) => {
            eprintln!("hts-gateway client: the answer cannot be read: {f}");
            ExitCode::from(NO_ANSWER)
        }
    }
}

fn print_core(r: &CoreReply) -> ExitCode {
    let show = |name: &str, v: &Option<String>| {
        if let Some(v) = v {
            eprintln!("{name}: {v}");
        }
    };
    show("ErrorCode", &r.error_code);
    show("ErrorMessage", &r.error_message);
    show("PayloadType", &r.metadata.payload_type);
    show("PayloadID", &r.metadata.payload_id);
    show("PayloadLength", &r.metadata.payload_length);
    if let Some(sum) = &r.metadata.checksum {
        // Batch answers carry the SHA-1 of their payload: say whether it arrived intact.
        let verdict = if sum.eq_ignore_ascii_case(&sha1_hex(&r.payload)) {
            "matches the payload"
        } else {
            "does NOT match the payload"
        };
        eprintln!("CheckSum: {sum} ({verdict})");
    }
    if r.metadata.payload_type.as_deref() == Some(RECEIPT_PAYLOAD_TYPE) {
        // This gateway's receipt carries the tracking number as its payload.
        eprintln!(
            "Tracking number: {}",
            String::from_utf8_lossy(&r.payload).trim()
        );
    }
    if !r.payload.is_empty() {
        let mut out = std::io::stdout().lock();
        let newline = if r.payload.ends_with(b"\n") { "" } else { "\n" };
        if out
            .write_all(&r.payload)
            .and_then(|()| out.write_all(newline.as_bytes()))
            .and_then(|()| out.flush())
            .is_err()
        {
            eprintln!("hts-gateway client: cannot write the payload to standard output");
            return ExitCode::from(NO_ANSWER);
        }
    }
    if r.is_success() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(ANSWERED_REFUSED)
    }
}

fn print_fault(f: &SoapFault) -> ExitCode {
    let code = match &f.subcode {
        Some(sub) => format!("{} / {sub}", f.code),
        None => f.code.clone(),
    };
    eprintln!("SOAP fault: {code}");
    eprintln!("Reason: {}", f.reason);
    if let Some(m) = f.detail_message.as_ref().filter(|m| **m != f.reason) {
        eprintln!("Detail: {m}");
    }
    if let Some(c) = &f.detail_error_code {
        eprintln!("ErrorCode: {c}");
    }
    ExitCode::from(ANSWERED_REFUSED)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn header(gs08: &str, st: &str) -> X12Header {
        let isa = "ISA*00*          *00*          *ZZ*110048577A     *ZZ*DEMOPLAN       *260615*1200*^*00501*000000101*0*T*:~";
        X12Header::read(
            format!("{isa}\nGS*HC*S*R*20260615*1200*1*X*{gs08}~\n{st}~SE*2*0001~").as_bytes(),
        )
    }

    #[test]
    fn payload_types_are_inferred_from_st01_and_the_version() {
        let h = header("005010X279A1", "ST*270*0001*005010X279A1");
        assert_eq!(h.isa06.as_deref(), Some("110048577A"));
        assert_eq!(
            infer_payload_type(Mode::RealTime, &h),
            Some("X12_270_Request_005010X279A1")
        );
        let cases = [
            (
                "005010X212",
                "ST*276*0001*005010X212",
                Some("X12_276_Request_005010X212"),
            ),
            (
                "005010X222A1",
                "ST*837*0001*005010X222A1",
                Some("X12_837_Request_005010X222A1"),
            ),
            (
                "005010X223A2",
                "ST*837*0001",
                Some("X12_837_Request_005010X223A1_2"),
            ),
            (
                "005010X220A1",
                "ST*834*0001*005010X220A1",
                Some("X12_834_Request_005010X220A1"),
            ),
            ("005010X224A2", "ST*837*0001*005010X224A2", None),
            ("005010X221A1", "ST*835*0001", None),
        ];
        for (gs08, st, want) in cases {
            assert_eq!(
                infer_payload_type(Mode::Batch, &header(gs08, st)),
                want,
                "{st}"
            );
        }
        // A real-time 837 makes no sense: the flag is needed.
        let h = header("005010X222A1", "ST*837*0001*005010X222A1");
        assert_eq!(infer_payload_type(Mode::RealTime, &h), None);
        assert!(X12Header::read(b"not x12").st01.is_none());
    }
}
