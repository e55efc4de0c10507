//! The client side of the CORE envelope: request encoders (the mirror image of
//! [`crate::core::soap::decode_soap`] and [`crate::core::multipart`]'s readers) and readers for
//! what a gateway answers (a CORE response element in SOAP or MTOM, a SOAP fault, or MIME form
//! fields).
//!
//! The encoders are pure: the caller chooses the PayloadID, TimeStamp and boundary, so a request
//! can be written to a file (the fixtures in `fixtures/soap/`) and checked byte for byte.

use std::fmt;

use base64::Engine as _;
use bytes::Bytes;
use futures_util::Stream;
use quick_xml::NsReader;
use quick_xml::events::Event;

use super::envelope::{CORE_NS, CORE_RULE_VERSION, Metadata, Operation, SOAP12_NS};
use super::error::{Failure, Kind};
use super::multipart::{Limits, close, reader, safe_boundary, write_part};
use super::soap::{PayloadStyle, decode_payload_text, escape, resolve_reference};
use super::validate::sha1_hex;

const WSSE_NS: &str =
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd";
const WSSE_PASSWORD_TEXT: &str = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordText";
const XOP_NS: &str = "http://www.w3.org/2004/08/xop/include";

/// Content-IDs of the MTOM parts, as the MassHealth client names them.
pub const MTOM_ROOT_ID: &str = "rootpart";
pub const MTOM_ATTACHMENT_ID: &str = "attachment";

/// Deepest element nesting accepted in a response (a CORE response needs 5, a fault 6).
const MAX_DEPTH: usize = 32;

/// A CORE request to send.
#[derive(Clone)]
pub struct Request {
    pub operation: Operation,
    /// Every field the request carries is `Some`; PayloadLength and CheckSum only for batch
    /// submissions, computed from `payload` by [`Request::new`].
    pub metadata: Metadata,
    pub payload: Vec<u8>,
    /// (user, password) for a WS-Security UsernameToken or the MIME UserName/Password fields;
    /// `None` when the TLS client certificate is the credential.
    pub credentials: Option<(String, String)>,
}

impl fmt::Debug for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Neither the password nor the payload (PHI) belongs in debug output.
        f.debug_struct("Request")
            .field("operation", &self.operation)
            .field("metadata", &self.metadata)
            .field("payload_bytes", &self.payload.len())
            .field("user", &self.credentials.as_ref().map(|(u, _)| u))
            .finish()
    }
}

impl Request {
    /// A request with a new PayloadID (UUID v4), the current time, CORERuleVersion 2.2.0, the
    /// operation's ProcessingMode and, for batch submissions, PayloadLength and the SHA-1
    /// CheckSum of `payload`. SenderID and ReceiverID start empty.
    pub fn new(operation: Operation, payload_type: impl Into<String>, payload: Vec<u8>) -> Self {
        let submission = operation.is_submission();
        let metadata = Metadata {
            payload_type: Some(payload_type.into()),
            processing_mode: Some(operation.processing_mode().to_string()),
            payload_id: Some(uuid::Uuid::new_v4().to_string()),
            payload_length: submission.then(|| payload.len().to_string()),
            timestamp: Some(timestamp_now()),
            sender_id: Some(String::new()),
            receiver_id: Some(String::new()),
            core_rule_version: Some(CORE_RULE_VERSION.to_string()),
            checksum: submission.then(|| sha1_hex(&payload)),
        };
        Self {
            operation,
            metadata,
            payload,
            credentials: None,
        }
    }

    pub fn sender(mut self, id: impl Into<String>) -> Self {
        self.metadata.sender_id = Some(id.into());
        self
    }

    pub fn receiver(mut self, id: impl Into<String>) -> Self {
        self.metadata.receiver_id = Some(id.into());
        self
    }

    pub fn payload_id(mut self, id: impl Into<String>) -> Self {
        self.metadata.payload_id = Some(id.into());
        self
    }

    pub fn timestamp(mut self, t: impl Into<String>) -> Self {
        self.metadata.timestamp = Some(t.into());
        self
    }

    pub fn credentials(mut self, user: impl Into<String>, password: impl Into<String>) -> Self {
        self.credentials = Some((user.into(), password.into()));
        self
    }

    /// The metadata fields in the WSDL's order (absent ones skipped).
    fn fields(&self) -> Vec<(&'static str, &str)> {
        let m = &self.metadata;
        [
            ("PayloadType", &m.payload_type),
            ("ProcessingMode", &m.processing_mode),
            ("PayloadID", &m.payload_id),
            ("PayloadLength", &m.payload_length),
            ("TimeStamp", &m.timestamp),
            ("SenderID", &m.sender_id),
            ("ReceiverID", &m.receiver_id),
            ("CORERuleVersion", &m.core_rule_version),
            ("CheckSum", &m.checksum),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.as_deref().map(|v| (k, v)))
        .collect()
    }
}

pub use super::envelope::timestamp_now;

/// The Content-Type of a plain SOAP 1.2 request (the action names the operation).
pub fn soap_content_type(op: Operation) -> String {
    format!(
        "application/soap+xml; charset=utf-8; action=\"{}\"",
        op.name()
    )
}

/// Writes a CORE request in a SOAP 1.2 envelope: a WS-Security UsernameToken (PasswordText)
/// when the request has credentials, then the CORE element with unqualified children in the
/// WSDL's order.
///
/// [`PayloadStyle::Text`] writes the X12 in CDATA; a payload that is not X12 text (not UTF-8,
/// not starting with `ISA`, or holding characters XML cannot carry) is written base64 instead,
/// which the gateway also reads. Surrounding whitespace of a text payload is not preserved.
pub fn encode_soap_request(r: &Request, style: PayloadStyle<'_>) -> Vec<u8> {
    let element = r.operation.request_element();
    let mut x = String::with_capacity(r.payload.len() * 4 / 3 + 2048);
    x.push_str(r#"<?xml version="1.0" encoding="UTF-8"?>"#);
    x.push_str(&format!(
        r#"<soap:Envelope xmlns:soap="{SOAP12_NS}" xmlns:cor="{CORE_NS}">"#
    ));
    if let Some((user, password)) = &r.credentials {
        x.push_str(&format!(
            r#"<soap:Header><wsse:Security soap:mustUnderstand="true" xmlns:wsse="{WSSE_NS}"><wsse:UsernameToken><wsse:Username>{}</wsse:Username><wsse:Password Type="{WSSE_PASSWORD_TEXT}">{}</wsse:Password></wsse:UsernameToken></wsse:Security></soap:Header>"#,
            escape(user),
            escape(password)
        ));
    }
    x.push_str(&format!("<soap:Body><cor:{element}>"));
    for (name, value) in r.fields() {
        x.push_str(&format!("<{name}>{}</{name}>", escape(value)));
    }
    x.push_str("<Payload>");
    let b64 =
        |x: &mut String| x.push_str(&base64::engine::general_purpose::STANDARD.encode(&r.payload));
    match style {
        PayloadStyle::Text => match x12_text(&r.payload) {
            Some(text) => {
                x.push_str("<![CDATA[");
                x.push_str(&text.replace("]]>", "]]]]><![CDATA[>"));
                x.push_str("]]>");
            }
            None => b64(&mut x),
        },
        PayloadStyle::Base64 => b64(&mut x),
        PayloadStyle::XopInclude(cid) => {
            x.push_str(&format!(
                r#"<xop:Include xmlns:xop="{XOP_NS}" href="cid:{}"/>"#,
                escape(cid)
            ));
        }
    }
    x.push_str(&format!(
        "</Payload></cor:{element}></soap:Body></soap:Envelope>"
    ));
    x.into_bytes()
}

/// The payload as CDATA-safe X12 text, if it is that.
fn x12_text(payload: &[u8]) -> Option<&str> {
    let text = std::str::from_utf8(payload).ok()?.trim();
    let xml_safe = !text
        .chars()
        .any(|c| (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r'));
    (text.starts_with("ISA") && xml_safe).then_some(text)
}

/// Encodes an MTOM/XOP request shaped like the MassHealth client's: the SOAP XML as the root
/// part `<rootpart>`, the payload as the binary part `<attachment>` that the envelope's
/// `xop:Include` refers to, and `start`, `start-info` and `action` on the Content-Type.
/// Returns the Content-Type (with the boundary actually used) and the body.
pub fn encode_mtom_request(r: &Request, boundary: &str) -> (String, Vec<u8>) {
    let root = encode_soap_request(r, PayloadStyle::XopInclude(MTOM_ATTACHMENT_ID));
    let action = r.operation.name();
    let boundary = safe_boundary(boundary, [root.as_slice(), r.payload.as_slice()]);
    let mut body = Vec::with_capacity(root.len() + r.payload.len() + 512);
    write_part(
        &mut body,
        &boundary,
        &format!(
            "Content-Type: application/xop+xml; charset=UTF-8; type=\"application/soap+xml\"; action=\"{action}\"\r\n\
             Content-Transfer-Encoding: binary\r\n\
             Content-ID: <{MTOM_ROOT_ID}>\r\n"
        ),
        &root,
    );
    write_part(
        &mut body,
        &boundary,
        &format!(
            "Content-Type: application/octet-stream\r\n\
             Content-Transfer-Encoding: binary\r\n\
             Content-ID: <{MTOM_ATTACHMENT_ID}>\r\n"
        ),
        &r.payload,
    );
    close(&mut body, &boundary);
    let content_type = format!(
        "multipart/related; type=\"application/xop+xml\"; start=\"<{MTOM_ROOT_ID}>\"; \
         start-info=\"application/soap+xml\"; action=\"{action}\"; boundary=\"{boundary}\""
    );
    (content_type, body)
}

/// Encodes an HTTP MIME request (CORE vC2.2.0 §3): one form field per metadata item with the
/// CORE names, `UserName` and `Password` when the request has credentials, and `Payload` (a
/// text field for real-time, a file part for batch). Returns the Content-Type (with the
/// boundary actually used) and the body.
pub fn encode_mime_request(r: &Request, boundary: &str) -> (String, Vec<u8>) {
    let mut fields: Vec<(&str, &[u8])> = r
        .fields()
        .into_iter()
        .map(|(k, v)| (k, v.as_bytes()))
        .collect();
    if let Some((user, password)) = &r.credentials {
        fields.push(("UserName", user.as_bytes()));
        fields.push(("Password", password.as_bytes()));
    }
    let contents: Vec<&[u8]> = fields
        .iter()
        .map(|(_, v)| *v)
        .chain([r.payload.as_slice()])
        .collect();
    let boundary = safe_boundary(boundary, contents.iter().copied());
    let mut body = Vec::with_capacity(r.payload.len() + 1024);
    for (name, value) in &fields {
        let headers = format!("Content-Disposition: form-data; name=\"{name}\"\r\n");
        write_part(&mut body, &boundary, &headers, value);
    }
    let payload_headers = if r.operation == Operation::RealTime {
        "Content-Disposition: form-data; name=\"Payload\"\r\n".to_string()
    } else {
        "Content-Disposition: form-data; name=\"Payload\"; filename=\"payload.x12\"\r\n\
         Content-Type: application/octet-stream\r\n"
            .to_string()
    };
    write_part(&mut body, &boundary, &payload_headers, &r.payload);
    close(&mut body, &boundary);
    (
        format!("multipart/form-data; boundary=\"{boundary}\""),
        body,
    )
}

// ---- reading what the gateway answers ----

/// What a gateway answered: a CORE response (successful or carrying an error ErrorCode), or a
/// SOAP fault.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reply {
    Core(CoreReply),
    Fault(SoapFault),
}

/// A CORE response element (SOAP or MTOM) or the form fields of a MIME response.
#[derive(Clone, PartialEq, Eq)]
pub struct CoreReply {
    /// The body element's local name (`COREEnvelopeRealTimeResponse`, ...); empty for MIME.
    pub element: String,
    pub metadata: Metadata,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    /// The payload (271, 277, 999, TA1, a receipt...); empty when there is none.
    pub payload: Vec<u8>,
}

impl fmt::Debug for CoreReply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The payload is PHI: its size only.
        f.debug_struct("CoreReply")
            .field("element", &self.element)
            .field("metadata", &self.metadata)
            .field("error_code", &self.error_code)
            .field("error_message", &self.error_message)
            .field("payload_bytes", &self.payload.len())
            .finish()
    }
}

impl CoreReply {
    /// Whether the gateway says the envelope was processed (ErrorCode `Success`).
    pub fn is_success(&self) -> bool {
        self.error_code.as_deref().map(str::trim) == Some("Success")
    }
}

/// A SOAP fault (1.2, or 1.1 from an older server).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SoapFault {
    /// `env:Sender`, `env:Receiver`... (SOAP 1.1: `faultcode`).
    pub code: String,
    /// The first subcode (this gateway puts the CORE ErrorCode there, e.g. `core:UnAuthorized`).
    pub subcode: Option<String>,
    /// The reason text (SOAP 1.1: `faultstring`).
    pub reason: String,
    /// `Detail/Message` or `Detail/ErrorCode`, when present.
    pub detail_message: Option<String>,
    pub detail_error_code: Option<String>,
}

/// Reads the SOAP XML of a response (a plain SOAP answer or the root part of an MTOM one).
/// Any `COREEnvelope*Response` element is accepted (also a request element, which lets a
/// request be read back); `attachment` resolves `xop:Include` and `cid:` payloads.
pub fn decode_soap_reply<'x>(
    xml: &[u8],
    attachment: impl Fn(&str) -> Option<&'x [u8]>,
) -> Result<Reply, Failure> {
    let text = std::str::from_utf8(xml)
        .map_err(|_| Failure::new(Kind::MalformedXml, "the response is not UTF-8"))?;
    let mut reader = NsReader::from_str(text);
    reader.config_mut().expand_empty_elements = true;

    // (local name, direct text) of each open element.
    let mut path: Vec<(String, String)> = Vec::new();
    let mut body_element: Option<String> = None;
    // Texts of the elements under the body element, keyed by their path below it.
    let mut fields: Vec<(String, String)> = Vec::new();
    let mut href: Option<String> = None;
    loop {
        let event = reader
            .read_event()
            .map_err(|e| Failure::new(Kind::MalformedXml, e.to_string()))?;
        match event {
            Event::Start(e) => {
                if path.len() >= MAX_DEPTH {
                    return Err(Failure::new(
                        Kind::MalformedXml,
                        "elements nested too deeply",
                    ));
                }
                let local = e.local_name().as_ref().to_string();
                if path.is_empty() && local != "Envelope" {
                    return Err(Failure::new(
                        Kind::MalformedXml,
                        format!("the root element must be a SOAP Envelope, not {local}"),
                    ));
                }
                if path.len() == 2 && in_element(&path, 1, "Body") && body_element.is_none() {
                    body_element = Some(local.clone());
                }
                if local == "Include" && path.last().is_some_and(|(l, _)| l == "Payload") {
                    for a in e.attributes().flatten() {
                        if a.key.local_name().as_ref() == "href" {
                            let v = a
                                .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                                .map_err(|err| Failure::new(Kind::MalformedXml, err.to_string()))?;
                            href = Some(v.trim().to_string());
                        }
                    }
                }
                path.push((local, String::new()));
            }
            Event::End(_) => {
                let Some((local, text)) = path.pop() else {
                    return Err(Failure::new(Kind::MalformedXml, "unbalanced end tag"));
                };
                if path.len() >= 3 && in_element(&path, 1, "Body") {
                    let mut key: Vec<&str> = path[3..].iter().map(|(l, _)| l.as_str()).collect();
                    key.push(&local);
                    let key = key.join("/");
                    if !fields.iter().any(|(k, _)| *k == key) {
                        fields.push((key, text));
                    }
                }
            }
            Event::Text(t) => {
                if let Some((_, buf)) = path.last_mut() {
                    buf.push_str(&t.xml10_content());
                }
            }
            Event::CData(c) => {
                if let Some((_, buf)) = path.last_mut() {
                    buf.push_str(&c.into_inner());
                }
            }
            Event::GeneralRef(r) => {
                let c = resolve_reference(&r)?;
                if let Some((_, buf)) = path.last_mut() {
                    buf.push(c);
                }
            }
            Event::DocType(_) => {
                return Err(Failure::new(
                    Kind::DtdOrEntity,
                    "the response has a DOCTYPE declaration",
                ));
            }
            Event::Eof => break,
            Event::Empty(_) | Event::Comment(_) | Event::Decl(_) | Event::PI(_) => {}
        }
    }
    let Some(element) = body_element else {
        return Err(Failure::new(
            Kind::MalformedXml,
            "the response has no Body element",
        ));
    };
    let field = |name: &str| -> Option<String> {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim().to_string())
    };
    if element == "Fault" {
        return Ok(Reply::Fault(SoapFault {
            code: field("Code/Value")
                .or_else(|| field("faultcode"))
                .unwrap_or_default(),
            subcode: field("Code/Subcode/Value"),
            reason: field("Reason/Text")
                .or_else(|| field("faultstring"))
                .unwrap_or_default(),
            detail_message: field("Detail/Message").or_else(|| field("detail/Message")),
            detail_error_code: field("Detail/ErrorCode").or_else(|| field("detail/ErrorCode")),
        }));
    }
    if !element.starts_with("COREEnvelope") {
        return Err(Failure::new(
            Kind::UnknownOperation,
            format!("{element} is not a CORE envelope element"),
        ));
    }
    let payload = match (&href, field("Payload")) {
        (Some(h), _) => attachment(h)
            .map(<[u8]>::to_vec)
            .ok_or_else(|| Failure::new(Kind::MissingAttachment, h.clone()))?,
        (None, Some(t)) if t.starts_with("cid:") => attachment(&t)
            .map(<[u8]>::to_vec)
            .ok_or_else(|| Failure::new(Kind::MissingAttachment, t.clone()))?,
        // X12 text or base64; anything else (a text receipt) is kept as it came.
        (None, Some(t)) => decode_payload_text(&t)
            .ok()
            .flatten()
            .unwrap_or_else(|| t.into_bytes()),
        (None, None) => Vec::new(),
    };
    Ok(Reply::Core(CoreReply {
        element,
        metadata: Metadata {
            payload_type: field("PayloadType"),
            processing_mode: field("ProcessingMode"),
            payload_id: field("PayloadID"),
            payload_length: field("PayloadLength"),
            timestamp: field("TimeStamp"),
            sender_id: field("SenderID"),
            receiver_id: field("ReceiverID"),
            core_rule_version: field("CORERuleVersion"),
            checksum: field("CheckSum").or_else(|| field("Checksum")),
        },
        error_code: field("ErrorCode"),
        error_message: field("ErrorMessage"),
        payload,
    }))
}

/// Reads a MIME (`multipart/form-data`) response: the CORE fields (names matched
/// case-insensitively), ErrorCode, ErrorMessage and the Payload bytes.
pub async fn read_mime_reply<S, E>(
    content_type: &str,
    body: S,
    limits: &Limits,
) -> Result<CoreReply, Failure>
where
    S: Stream<Item = Result<Bytes, E>> + Send + 'static,
    E: Into<Box<dyn std::error::Error + Send + Sync>> + 'static,
{
    let ct: mime::Mime = content_type.trim().parse().map_err(|e| {
        Failure::new(
            Kind::UnsupportedMediaType,
            format!("the Content-Type cannot be read ({e})"),
        )
    })?;
    let boundary = ct
        .get_param(mime::BOUNDARY)
        .map(|b| b.as_str().to_string())
        .filter(|b| !b.is_empty())
        .ok_or_else(|| {
            Failure::new(
                Kind::MalformedMultipart,
                "the Content-Type has no boundary parameter",
            )
        })?;
    let constraints = multer::Constraints::new().size_limit(
        multer::SizeLimit::new()
            .whole_stream(limits.max_total_bytes)
            .per_field(limits.spool.max_bytes),
    );
    let mut multipart = reader(body, boundary, constraints);
    let mut reply = CoreReply {
        element: String::new(),
        metadata: Metadata::default(),
        error_code: None,
        error_message: None,
        payload: Vec::new(),
    };
    let mut count = 0usize;
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|e| Failure::new(Kind::MalformedMultipart, e.to_string()))?
    {
        count += 1;
        if count > limits.max_parts {
            return Err(Failure::new(
                Kind::BodyTooLarge,
                format!("more than {} parts", limits.max_parts),
            ));
        }
        let name = field
            .name()
            .map(str::to_ascii_lowercase)
            .unwrap_or_default();
        let data = field
            .bytes()
            .await
            .map_err(|e| Failure::new(Kind::MalformedMultipart, e.to_string()))?;
        if name == "payload" {
            reply.payload = data.to_vec();
            continue;
        }
        let text = String::from_utf8_lossy(&data).trim().to_string();
        let m = &mut reply.metadata;
        let slot = match name.as_str() {
            "payloadtype" => &mut m.payload_type,
            "processingmode" => &mut m.processing_mode,
            "payloadid" => &mut m.payload_id,
            "payloadlength" => &mut m.payload_length,
            "timestamp" => &mut m.timestamp,
            "senderid" => &mut m.sender_id,
            "receiverid" => &mut m.receiver_id,
            "coreruleversion" => &mut m.core_rule_version,
            "checksum" => &mut m.checksum,
            "errorcode" => &mut reply.error_code,
            "errormessage" => &mut reply.error_message,
            _ => continue,
        };
        *slot = Some(text);
    }
    Ok(reply)
}

fn in_element(path: &[(String, String)], depth: usize, local: &str) -> bool {
    path.get(depth).is_some_and(|(l, _)| l == local)
}

// ---- multipart writing ----

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::core::envelope::{Credentials, ResponseEnvelope, Wire};
    use crate::core::multipart::{self, encode_mime_response, encode_mtom_response};
    use crate::core::soap::{decode_soap, encode_fault, encode_response};
    use futures_util::stream;

    const X12: &[u8] = b"ISA*00*          *00*          *ZZ*S              *ZZ*R              *260615*1200*^*00501*000000101*0*T*:~\nGS*HS*S*R*20260615*1200*101*X*005010X279A1~ST*270*0001~NM1*IL*1*O]]>BRIEN~SE*3*0001~GE*1*101~IEA*1*000000101~";

    fn chunks(b: Vec<u8>) -> impl Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static {
        // Small chunks, so part boundaries fall across reads.
        let parts: Vec<Result<Bytes, std::io::Error>> =
            b.chunks(7).map(|c| Ok(Bytes::copy_from_slice(c))).collect();
        stream::iter(parts)
    }

    fn realtime() -> Request {
        Request::new(
            Operation::RealTime,
            "X12_270_Request_005010X279A1",
            X12.to_vec(),
        )
        .sender("110048577A")
        .receiver("DEMOPLAN")
        .credentials("alice", "p<a>ss & \"word\"")
    }

    fn batch(payload: &[u8]) -> Request {
        Request::new(
            Operation::BatchSubmit,
            "X12_837_Request_005010X222A1",
            payload.to_vec(),
        )
        .sender("110048577A")
        .receiver("DEMOPLAN")
        .payload_id("f81d4fae-7dec-11d0-a765-00a0c91e6bf6")
        .credentials("alice", "pw")
    }

    fn alice(pw: &str) -> Option<Credentials> {
        Some(Credentials::Password {
            user: "alice".into(),
            password: pw.into(),
        })
    }

    #[test]
    fn metadata_of_a_new_request() {
        let r = realtime();
        let m = &r.metadata;
        assert_eq!(m.processing_mode.as_deref(), Some("RealTime"));
        assert_eq!(m.core_rule_version.as_deref(), Some("2.2.0"));
        assert!(uuid::Uuid::try_parse(m.payload_id.as_deref().unwrap()).is_ok());
        assert_eq!(m.timestamp.as_deref().map(str::len), Some(20));
        assert_eq!(
            (m.payload_length.as_deref(), m.checksum.as_deref()),
            (None, None)
        );
        let b = batch(b"abc");
        assert_eq!(b.metadata.processing_mode.as_deref(), Some("Batch"));
        assert_eq!(b.metadata.payload_length.as_deref(), Some("3"));
        assert_eq!(
            b.metadata.checksum.as_deref(),
            Some("a9993e364706816aba3e25717850c26c9cd0d89d")
        );
        // Debug output shows neither the password nor the payload.
        let debug = format!("{r:?}");
        assert!(
            !debug.contains("word") && !debug.contains("BRIEN"),
            "{debug}"
        );
    }

    #[test]
    fn soap_requests_decode_back() {
        let r = realtime();
        let xml = encode_soap_request(&r, PayloadStyle::Text);
        let text = String::from_utf8(xml.clone()).unwrap();
        assert!(text.contains("<![CDATA[ISA*00*"), "{text}");
        assert!(text.contains("#PasswordText"));
        let env = decode_soap(&xml, Wire::Soap, None, |_| None).unwrap();
        assert_eq!(env.operation, Operation::RealTime);
        assert_eq!(env.metadata, r.metadata);
        assert_eq!(env.payload_bytes(), Some(X12));
        assert_eq!(env.credentials, alice("p<a>ss & \"word\""));

        // Batch: base64 inline keeps the bytes exactly, also binary ones.
        let binary: Vec<u8> = (0u8..=255).chain(*b"\r\n ").collect();
        for payload in [X12.to_vec(), binary] {
            let b = batch(&payload);
            for style in [PayloadStyle::Base64, PayloadStyle::Text] {
                let xml = encode_soap_request(&b, style);
                let env = decode_soap(&xml, Wire::Soap, Some("BatchSubmitTransaction"), |_| None)
                    .unwrap();
                assert_eq!(env.operation, Operation::BatchSubmit);
                assert_eq!(env.metadata, b.metadata);
                assert_eq!(env.payload_bytes(), Some(payload.as_slice()));
            }
        }

        // No credentials, no Header.
        let mut anon = realtime();
        anon.credentials = None;
        let xml = encode_soap_request(&anon, PayloadStyle::Text);
        assert!(!String::from_utf8_lossy(&xml).contains("Header"));
        let env = decode_soap(&xml, Wire::Soap, None, |_| None).unwrap();
        assert_eq!(env.credentials, None);
    }

    #[test]
    fn children_are_in_the_wsdl_order() {
        let xml =
            String::from_utf8(encode_soap_request(&batch(X12), PayloadStyle::Base64)).unwrap();
        let order = [
            "<PayloadType>",
            "<ProcessingMode>",
            "<PayloadID>",
            "<PayloadLength>",
            "<TimeStamp>",
            "<SenderID>",
            "<ReceiverID>",
            "<CORERuleVersion>",
            "<CheckSum>",
            "<Payload>",
        ];
        let at: Vec<usize> = order.iter().map(|e| xml.find(e).unwrap()).collect();
        assert!(at.windows(2).all(|w| w[0] < w[1]), "{xml}");
        assert!(xml.contains("<cor:COREEnvelopeBatchSubmission>"));
    }

    #[tokio::test]
    async fn mtom_requests_decode_back() {
        for r in [realtime(), batch(X12), batch(&[0, 1, 2, b'\r', b'\n', 255])] {
            // A boundary that occurs in the payload is replaced.
            let (ct, body) = encode_mtom_request(&r, "BRIEN");
            assert!(ct.starts_with("multipart/related; type=\"application/xop+xml\""));
            assert!(ct.contains("start=\"<rootpart>\"") && ct.contains("start-info="));
            assert!(ct.contains(&format!("action=\"{}\"", r.operation.name())));
            let (root, attachments) = multipart::read_mtom(&ct, chunks(body), &Limits::default())
                .await
                .unwrap();
            assert_eq!(
                attachments.content_ids().collect::<Vec<_>>(),
                ["attachment"]
            );
            let env = decode_soap(&root, Wire::Mtom, Some(r.operation.name()), |cid| {
                attachments.get(cid).cloned()
            })
            .unwrap();
            assert_eq!(env.operation, r.operation);
            assert_eq!(env.metadata, r.metadata);
            assert_eq!(env.payload_bytes(), Some(r.payload.as_slice()));
            assert_eq!(
                env.credentials,
                r.credentials.as_ref().and_then(|(_, p)| alice(p))
            );
        }
    }

    #[tokio::test]
    async fn mime_requests_decode_back() {
        for r in [realtime(), batch(X12), batch(b"\r\n--x\r\n")] {
            let (ct, body) = encode_mime_request(&r, "x");
            assert!(ct.starts_with("multipart/form-data; boundary="));
            let text = String::from_utf8_lossy(&body).into_owned();
            assert_eq!(
                text.contains("filename=\"payload.x12\""),
                r.operation != Operation::RealTime
            );
            let env = multipart::read_mime_form(&ct, chunks(body), &Limits::default())
                .await
                .unwrap();
            assert_eq!(env.operation, r.operation);
            assert_eq!(env.metadata, r.metadata);
            assert_eq!(env.payload_bytes(), Some(r.payload.as_slice()));
            assert_eq!(
                env.credentials,
                r.credentials.as_ref().and_then(|(_, p)| alice(p))
            );
        }
    }

    fn response(op: Operation, payload: &[u8]) -> ResponseEnvelope {
        ResponseEnvelope {
            operation: op,
            payload_type: "X12_271_Response_005010X279A1".into(),
            processing_mode: op.processing_mode().into(),
            payload_id: "id-1".into(),
            payload_length: (op != Operation::RealTime).then_some(payload.len() as u64),
            timestamp: "2026-06-15T12:00:00Z".into(),
            sender_id: "DEMOPLAN".into(),
            receiver_id: "110048577A".into(),
            core_rule_version: "2.2.0".into(),
            checksum: (op != Operation::RealTime).then(|| sha1_hex(payload)),
            payload: payload.to_vec(),
            error_code: "Success".into(),
            error_message: "Envelope was processed successfully.".into(),
        }
    }

    fn check_reply(reply: &CoreReply, r: &ResponseEnvelope) {
        assert!(reply.is_success());
        assert_eq!(
            reply.metadata.payload_type.as_deref(),
            Some(&*r.payload_type)
        );
        assert_eq!(reply.metadata.payload_id.as_deref(), Some("id-1"));
        assert_eq!(reply.metadata.sender_id.as_deref(), Some("DEMOPLAN"));
        assert_eq!(
            reply.error_message.as_deref(),
            Some("Envelope was processed successfully.")
        );
        assert_eq!(reply.payload, r.payload);
        assert_eq!(reply.metadata.checksum, r.checksum);
    }

    #[tokio::test]
    async fn replies_in_every_style_are_read() {
        for (op, style) in [
            (Operation::RealTime, PayloadStyle::Text),
            (Operation::BatchSubmit, PayloadStyle::Base64),
        ] {
            let r = response(op, X12);
            let xml = encode_response(&r, style);
            let Reply::Core(reply) = decode_soap_reply(&xml, |_| None).unwrap() else {
                panic!("not a CORE reply");
            };
            assert_eq!(reply.element, op.response_element());
            check_reply(&reply, &r);
        }
        // MTOM, as the gateway encodes it.
        let r = response(Operation::RealTime, X12);
        let root = encode_response(&r, PayloadStyle::XopInclude("payload-1@hts"));
        let (ct, body) =
            encode_mtom_response(&root, "payload-1@hts", &r.payload, r.operation.name(), "b");
        let (root, att) = multipart::read_mtom(&ct, chunks(body), &Limits::default())
            .await
            .unwrap();
        let Reply::Core(reply) = decode_soap_reply(&root, |c| {
            att.get(c)
                .and_then(crate::core::payload::Payload::in_memory)
        })
        .unwrap() else {
            panic!("not a CORE reply");
        };
        check_reply(&reply, &r);
        // MIME.
        let r = response(Operation::BatchSubmit, b"receipt\r\n--b\r\n");
        let (ct, body) = encode_mime_response(&r, "b");
        let reply = read_mime_reply(&ct, chunks(body), &Limits::default())
            .await
            .unwrap();
        check_reply(&reply, &r);
        // An error response.
        let mut e = response(Operation::RealTime, b"");
        e.error_code = "PayloadIDIllegal".into();
        let Reply::Core(reply) =
            decode_soap_reply(&encode_response(&e, PayloadStyle::Text), |_| None).unwrap()
        else {
            panic!("not a CORE reply");
        };
        assert!(!reply.is_success());
        assert!(reply.payload.is_empty());
    }

    /// A MIME reply that arrives whole, with its end, just after a first poll found nothing
    /// (as a small HTTP/2 response does) is read like any other (see `multipart::reader`).
    #[tokio::test]
    async fn a_mime_reply_that_arrives_whole_after_a_stall_is_read() {
        let r = response(Operation::BatchSubmit, b"receipt");
        let (ct, body) = encode_mime_response(&r, "b");
        let mut body = Some(Bytes::from(body));
        let mut stalled = false;
        let arrival = stream::poll_fn(move |cx| {
            if !stalled {
                stalled = true;
                cx.waker().wake_by_ref();
                return std::task::Poll::Pending;
            }
            std::task::Poll::Ready(body.take().map(Ok::<_, std::io::Error>))
        });
        let reply = read_mime_reply(&ct, arrival, &Limits::default())
            .await
            .unwrap();
        check_reply(&reply, &r);
    }

    #[test]
    fn faults_are_read() {
        let xml = encode_fault(&Failure::new(Kind::AuthenticationFailed, "x<y"), "corr-1");
        let Reply::Fault(f) = decode_soap_reply(&xml, |_| None).unwrap() else {
            panic!("not a fault");
        };
        assert_eq!(f.code, "env:Sender");
        assert_eq!(f.subcode.as_deref(), Some("core:UnAuthorized"));
        assert!(f.reason.contains("x<y"), "{f:?}");
        assert_eq!(f.detail_error_code.as_deref(), Some("UnAuthorized"));
        let v11 = r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><s:Fault><faultcode>s:Client</faultcode><faultstring>no</faultstring></s:Fault></s:Body></s:Envelope>"#;
        let Reply::Fault(f) = decode_soap_reply(v11.as_bytes(), |_| None).unwrap() else {
            panic!("not a fault");
        };
        assert_eq!((f.code.as_str(), f.reason.as_str()), ("s:Client", "no"));
        for bad in ["", "<a/>", "not xml", "<!DOCTYPE x><e:Envelope/>"] {
            assert!(
                decode_soap_reply(bad.as_bytes(), |_| None).is_err(),
                "{bad}"
            );
        }
    }
}
