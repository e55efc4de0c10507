//! SOAP 1.2 for the CORE envelope: decoding a request (plain or the root part of an MTOM
//! request) into an [`Envelope`], and writing responses and faults.
//!
//! Tolerant where real clients differ (any prefixes, qualified or unqualified children, CDATA or
//! escaped text, base64 payloads, `cid:` references with or without angle brackets, Password
//! with or without a Type), strict where safety needs it (no DTD, no entities beyond XML's five
//! and character references, bounded nesting).

use base64::Engine as _;
use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

use super::envelope::{
    CORE_NS, Credentials, Envelope, Metadata, Operation, ResponseEnvelope, SOAP11_NS, SOAP12_NS,
    Wire,
};
use super::error::{Answer, Failure, Kind};
use super::payload::Payload;

/// Deepest element nesting accepted (a CORE request needs 6).
const MAX_DEPTH: usize = 32;

const WSSE_PASSWORD_DIGEST: &str = "#PasswordDigest";

/// Decodes a SOAP 1.2 request. `attachment` resolves `cid:` references (MTOM); `action` is
/// the soapAction from the Content-Type or SOAPAction header, used only to tell apart the
/// operations that share a body element.
pub fn decode_soap(
    xml: &[u8],
    wire: Wire,
    action: Option<&str>,
    attachment: impl Fn(&str) -> Option<Payload>,
) -> Result<Envelope, Failure> {
    // The plain reader, not quick-xml's NsReader: only two elements' namespaces matter (the
    // Envelope's and the Body child's), and resolving every element's was a quarter of the
    // decoder's instructions. `Scope` keeps the declarations those two can see. Over bytes,
    // not a `str` checked first: the reader checks every piece it returns as UTF-8 anyway
    // (markup, text, CDATA, comments), and the check of the whole document repeated that.
    let mut reader = Reader::from_reader(xml);
    reader.config_mut().expand_empty_elements = true;

    // What each open element is, as far as decoding cares (namespaces are checked as elements
    // open and not needed after); `path[..depth]` is the open path. Fixed arrays, not strings:
    // decoding runs once per request, and allocation was a visible part of its cost.
    let mut path = [Tag::Other; MAX_DEPTH];
    let mut depth = 0usize;
    let mut scope = Scope::default();
    let mut body_element: Option<String> = None;
    let mut fields: [Option<String>; FIELDS.len()] = Default::default();
    let mut href: Option<String> = None;
    let mut collecting: Option<Collecting> = None;
    let mut buf = String::new();
    let mut user: Option<String> = None;
    let mut password: Option<String> = None;
    let mut digest = false;
    let mut seen_body = false;

    loop {
        let event = reader.read_event().map_err(|e| match e {
            quick_xml::Error::Encoding(_) => {
                Failure::new(Kind::MalformedXml, "the envelope is not UTF-8")
            }
            e => Failure::new(Kind::MalformedXml, e.to_string()),
        })?;
        match event {
            Event::Start(e) => {
                let local_name = e.local_name();
                let local: &str = local_name.as_ref();
                if depth >= MAX_DEPTH {
                    return Err(Failure::new(
                        Kind::MalformedXml,
                        "elements nested too deeply",
                    ));
                }
                let open = &path[..depth];
                // Declarations on the Envelope, the Body and the Body's child are in scope for
                // the two elements whose namespace is checked; deeper ones are not needed.
                let in_scope = match depth {
                    0 => true,
                    1 => local == "Body",
                    2 => in_element(open, 1, Tag::Body),
                    _ => false,
                };
                if in_scope {
                    scope.declare(depth, &e)?;
                }
                match depth {
                    0 => {
                        let ns = scope.resolve(&e)?;
                        if local == "Envelope" && ns == SOAP11_NS {
                            return Err(Failure::new(Kind::Soap11, ""));
                        }
                        if local != "Envelope" || ns != SOAP12_NS {
                            return Err(Failure::new(
                                Kind::MalformedXml,
                                format!(
                                    "the root element must be a SOAP 1.2 Envelope, not {local}"
                                ),
                            ));
                        }
                    }
                    2 if in_element(open, 1, Tag::Body) => {
                        let ns = scope.resolve(&e)?;
                        if body_element.is_some() {
                            return Err(Failure::new(
                                Kind::UnknownOperation,
                                "the Body holds more than one element",
                            ));
                        }
                        if ns != CORE_NS {
                            return Err(Failure::new(
                                Kind::UnknownOperation,
                                format!("{local} must be in namespace {CORE_NS} (found {ns:?})"),
                            ));
                        }
                        body_element = Some(local.to_owned());
                    }
                    3 if in_element(open, 1, Tag::Body) => {
                        collecting = Some(Collecting::Field);
                        buf.clear();
                    }
                    4 if collecting == Some(Collecting::Field)
                        && in_element(open, 3, Tag::Field(PAYLOAD))
                        && local == "Include" =>
                    {
                        for a in e.attributes().flatten() {
                            if a.key.local_name().as_ref() == "href" {
                                let v = a
                                    .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                                    .map_err(|err| {
                                        Failure::new(Kind::MalformedXml, err.to_string())
                                    })?;
                                href = Some(v.trim().to_string());
                            }
                        }
                    }
                    _ if in_element(open, 1, Tag::Header)
                        && matches!(local, "Username" | "Password")
                        && open.contains(&Tag::UsernameToken) =>
                    {
                        if local == "Password" {
                            for a in e.attributes().flatten() {
                                if a.key.local_name().as_ref() == "Type"
                                    && a.value.ends_with(WSSE_PASSWORD_DIGEST)
                                {
                                    digest = true;
                                }
                            }
                            collecting = Some(Collecting::Password);
                        } else {
                            collecting = Some(Collecting::Username);
                        }
                        buf.clear();
                    }
                    _ => {}
                }
                if depth == 1 && local == "Body" {
                    seen_body = true;
                }
                path[depth] = Tag::of(open, local);
                depth += 1;
            }
            Event::End(_) => {
                let Some(d) = depth.checked_sub(1) else {
                    return Err(Failure::new(Kind::MalformedXml, "unbalanced end tag"));
                };
                depth = d;
                scope.close(d);
                match (collecting, path[d]) {
                    // A field is the Body's depth-3 element that set `collecting`; children
                    // CORE does not define are read and ignored.
                    (Some(Collecting::Field), tag) if d == 3 => {
                        if let Tag::Field(i) = tag {
                            if fields[i].is_some() {
                                return Err(Failure::new(
                                    Kind::MalformedXml,
                                    format!("{} appears twice", FIELDS[i]),
                                ));
                            }
                            fields[i] = Some(if i == PAYLOAD {
                                // The largest value by far: moved, not copied (it becomes the
                                // payload's bytes as it is).
                                std::mem::take(&mut buf)
                            } else {
                                // A copy of exactly the value's size; `buf` keeps its
                                // capacity for the next field.
                                buf.as_str().to_owned()
                            });
                        }
                        collecting = None;
                    }
                    (Some(Collecting::Username), Tag::Username) => {
                        user = Some(std::mem::take(&mut buf).trim().to_string());
                        collecting = None;
                    }
                    (Some(Collecting::Password), Tag::Password) => {
                        password = Some(std::mem::take(&mut buf));
                        collecting = None;
                    }
                    _ => {}
                }
            }
            Event::Text(t) => {
                if collecting.is_some() {
                    buf.push_str(&t.xml10_content());
                }
            }
            Event::CData(c) => {
                if collecting.is_some() {
                    buf.push_str(&c.into_inner());
                }
            }
            Event::GeneralRef(r) => {
                let c = resolve_reference(&r)?;
                if collecting.is_some() {
                    buf.push(c);
                }
            }
            Event::DocType(_) => {
                return Err(Failure::new(
                    Kind::DtdOrEntity,
                    "a DOCTYPE declaration was sent",
                ));
            }
            Event::Eof => break,
            Event::Empty(_) | Event::Comment(_) | Event::Decl(_) | Event::PI(_) => {}
        }
    }
    if depth != 0 {
        return Err(Failure::new(
            Kind::MalformedXml,
            "the document ends inside an element",
        ));
    }
    let Some(element) = body_element else {
        let why = if seen_body {
            "the Body is empty"
        } else {
            "the Envelope has no Body"
        };
        return Err(Failure::new(Kind::UnknownOperation, why));
    };

    // Each field is taken out once (duplicates were refused above), trimmed in place.
    let mut field = |name: &str| -> Option<String> {
        let i = FIELDS.iter().position(|&k| k == name)?;
        fields[i].take().map(trimmed)
    };
    let checksum = field("CheckSum");
    let metadata = Metadata {
        payload_type: field("PayloadType"),
        processing_mode: field("ProcessingMode"),
        payload_id: field("PayloadID"),
        payload_length: field("PayloadLength"),
        timestamp: field("TimeStamp"),
        sender_id: field("SenderID"),
        receiver_id: field("ReceiverID"),
        core_rule_version: field("CORERuleVersion"),
        checksum: checksum.or_else(|| field("Checksum")),
    };
    let operation = choose_operation(&element, action, metadata.payload_type.as_deref())?;
    let payload = match (&href, field("Payload")) {
        (Some(h), _) => {
            Some(attachment(h).ok_or_else(|| Failure::new(Kind::MissingAttachment, h.clone()))?)
        }
        (None, Some(text)) if text.starts_with("cid:") => Some(
            attachment(&text).ok_or_else(|| Failure::new(Kind::MissingAttachment, text.clone()))?,
        ),
        (None, Some(text)) if is_retrieval(operation) => {
            retrieval_payload_text(&text).map(Payload::from_bytes)
        }
        (None, Some(text)) => decode_payload_string(text)?.map(Payload::from_bytes),
        (None, None) => None,
    };
    let credentials = match (user, password) {
        (Some(user), _) if digest => Some(Credentials::PasswordDigest { user }),
        (Some(user), Some(password)) => Some(Credentials::Password { user, password }),
        (Some(user), None) => Some(Credentials::Password {
            user,
            password: String::new(),
        }),
        (None, _) => None,
    };
    Ok(Envelope {
        operation,
        wire,
        metadata,
        payload,
        credentials,
    })
}

/// The namespace declarations (`xmlns`, `xmlns:p`) of the open elements decoding resolves
/// names in: the Envelope, the Body, the Body's child. A handful at most.
#[derive(Default)]
struct Scope {
    /// (depth of the declaring element, prefix — empty for the default namespace, URI).
    bindings: Vec<(usize, String, String)>,
}

impl Scope {
    /// Records the declarations of `e`, opening at `depth`.
    fn declare(&mut self, depth: usize, e: &BytesStart<'_>) -> Result<(), Failure> {
        for a in e.attributes() {
            let a = a.map_err(|err| Failure::new(Kind::MalformedXml, err.to_string()))?;
            let key: &str = a.key.as_ref();
            let prefix = match key.strip_prefix("xmlns") {
                Some("") => "",
                Some(rest) => match rest.strip_prefix(':') {
                    Some(p) => p,
                    None => continue, // an attribute merely starting with "xmlns"
                },
                None => continue,
            };
            let uri = a
                .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .map_err(|err| Failure::new(Kind::MalformedXml, err.to_string()))?;
            self.bindings
                .push((depth, prefix.to_owned(), uri.into_owned()));
        }
        Ok(())
    }

    /// The namespace of `e` (declared on it or on an open ancestor in scope); empty when an
    /// unprefixed name has no default namespace.
    fn resolve(&self, e: &BytesStart<'_>) -> Result<&str, Failure> {
        let name = e.name();
        let prefix = name.prefix();
        let prefix: &str = prefix.as_ref().map_or("", |p| p.as_ref());
        match self.bindings.iter().rev().find(|(_, p, _)| p == prefix) {
            Some((_, _, uri)) => Ok(uri),
            None if prefix.is_empty() => Ok(""),
            None => Err(Failure::new(
                Kind::MalformedXml,
                format!("namespace prefix {prefix:?} is not declared"),
            )),
        }
    }

    /// The element at `depth` closed: its declarations go out of scope.
    fn close(&mut self, depth: usize) {
        while self.bindings.last().is_some_and(|(d, _, _)| *d >= depth) {
            self.bindings.pop();
        }
    }
}

/// What the text being read belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Collecting {
    /// A child of the CORE body element (PayloadType, Payload, …).
    Field,
    /// WS-Security UsernameToken/Username.
    Username,
    /// WS-Security UsernameToken/Password.
    Password,
}

/// The children of a CORE request element that decoding reads.
const FIELDS: [&str; 11] = [
    "PayloadType",
    "ProcessingMode",
    "PayloadID",
    "PayloadLength",
    "TimeStamp",
    "SenderID",
    "ReceiverID",
    "CORERuleVersion",
    "CheckSum",
    "Checksum",
    "Payload",
];
/// `FIELDS[PAYLOAD]` is `Payload`.
const PAYLOAD: usize = 10;

/// An open element, as far as decoding cares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tag {
    Header,
    Body,
    /// `FIELDS[i]`, as a child of the CORE request element.
    Field(usize),
    UsernameToken,
    Username,
    Password,
    Other,
}

impl Tag {
    /// The tag of `local` opening inside `open`.
    fn of(open: &[Tag], local: &str) -> Self {
        match (open.len(), local) {
            (1, "Header") => Self::Header,
            (1, "Body") => Self::Body,
            (3, _) if open[1] == Self::Body => FIELDS
                .iter()
                .position(|&f| f == local)
                .map_or(Self::Other, Self::Field),
            (_, "UsernameToken") => Self::UsernameToken,
            (_, "Username") => Self::Username,
            (_, "Password") => Self::Password,
            _ => Self::Other,
        }
    }
}

fn in_element(path: &[Tag], depth: usize, tag: Tag) -> bool {
    path.get(depth) == Some(&tag)
}

/// `s.trim()` as an owned string, reusing `s` when there is nothing to trim.
fn trimmed(s: String) -> String {
    let t = s.trim();
    if t.len() == s.len() { s } else { t.to_owned() }
}

/// XML's five predefined entities and character references; anything else would need a DTD.
pub(crate) fn resolve_reference(r: &quick_xml::events::BytesRef<'_>) -> Result<char, Failure> {
    if r.is_char_ref() {
        return r
            .resolve_char_ref()
            .ok()
            .flatten()
            .ok_or_else(|| Failure::new(Kind::MalformedXml, "invalid character reference"));
    }
    match r.xml10_content().as_ref() {
        "lt" => Ok('<'),
        "gt" => Ok('>'),
        "amp" => Ok('&'),
        "quot" => Ok('"'),
        "apos" => Ok('\''),
        other => Err(Failure::new(
            Kind::DtdOrEntity,
            format!("entity reference &{other}; is not accepted"),
        )),
    }
}

/// X12 text as sent, or base64 (CONNECT sends real-time X12 base64-encoded; batch payloads are
/// base64Binary). Empty means no payload.
pub fn decode_payload_text(text: &str) -> Result<Option<Vec<u8>>, Failure> {
    let t = text.trim_start_matches('\u{feff}').trim();
    if t.is_empty() {
        return Ok(None);
    }
    if t.starts_with("ISA") {
        return Ok(Some(t.as_bytes().to_vec()));
    }
    let compact: String = t.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(compact.as_bytes())
        .map(Some)
        .map_err(|e| Failure::new(Kind::BadBase64, e.to_string()))
}

fn is_retrieval(op: Operation) -> bool {
    op != Operation::RealTime && !op.is_submission()
}

/// A retrieval's payload is short text a person may type into soapUI as it is (a tracking
/// number, FILELIST criteria such as `TransactionType=999`) or a client may send base64, and
/// a tracking number is itself valid base64: take the base64 reading only when it gives
/// printable text, else the text as sent.
fn retrieval_payload_text(text: &str) -> Option<Vec<u8>> {
    let t = text.trim_start_matches('\u{feff}').trim();
    if t.is_empty() {
        return None;
    }
    if !t.starts_with("ISA")
        && let Ok(Some(decoded)) = decode_payload_text(t)
        && decoded
            .iter()
            .all(|b| b.is_ascii_graphic() || b.is_ascii_whitespace())
    {
        return Some(decoded);
    }
    Some(t.as_bytes().to_vec())
}

/// [`decode_payload_text`] for a string the caller no longer needs: X12 sent as text (the
/// real-time case) becomes the payload without a copy.
fn decode_payload_string(text: String) -> Result<Option<Vec<u8>>, Failure> {
    if text.starts_with("ISA") && text.trim_end().len() == text.len() {
        return Ok(Some(text.into_bytes()));
    }
    decode_payload_text(&text)
}

/// Which operation a body element means. The "Generic" operations reuse the CORE elements: the
/// action tells them apart; without one, the PayloadType decides.
fn choose_operation(
    element: &str,
    action: Option<&str>,
    payload_type: Option<&str>,
) -> Result<Operation, Failure> {
    let candidates = Operation::for_request_element(element);
    if candidates.is_empty() {
        return Err(Failure::new(
            Kind::UnknownOperation,
            format!("{element} is not a CORE vC2.2.0 request element"),
        ));
    }
    let action = action.map(|a| a.trim_matches('"'));
    if let Some(op) = action
        .and_then(|a| a.rsplit('/').next())
        .and_then(Operation::from_name)
        .filter(|op| candidates.contains(op))
    {
        return Ok(op);
    }
    if candidates.len() == 1 {
        return Ok(candidates[0]);
    }
    let x12 = payload_type.is_some_and(|p| p.starts_with("X12_"));
    let filelist = payload_type == Some("FILELIST");
    Ok(match candidates[0] {
        Operation::BatchSubmit if !x12 => Operation::GenericBatchSubmission,
        Operation::BatchResultsRetrieval if filelist || !x12 => Operation::GenericBatchRetrieval,
        Operation::BatchResultsAckSubmit if !x12 => Operation::GenericBatchReceiptConfirmation,
        first => first,
    })
}

/// How the response carries its payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PayloadStyle<'a> {
    /// X12 text in CDATA (real-time responses).
    Text,
    /// base64Binary inline (batch responses without MTOM).
    Base64,
    /// An XOP reference to an attachment with this Content-ID (MTOM).
    XopInclude(&'a str),
}

/// Writes a CORE response in a SOAP 1.2 envelope.
pub fn encode_response(r: &ResponseEnvelope, style: PayloadStyle<'_>) -> Vec<u8> {
    // Written straight into one buffer (no `format!` per element): this runs once per request.
    let mut x = String::with_capacity(r.payload.len() + 1024);
    let element = r.operation.response_element();
    x.push_str(r#"<?xml version="1.0" encoding="UTF-8"?>"#);
    x.push_str(r#"<soap:Envelope xmlns:soap=""#);
    x.push_str(SOAP12_NS);
    x.push_str(r#""><soap:Body><cor:"#);
    x.push_str(element);
    x.push_str(r#" xmlns:cor=""#);
    x.push_str(CORE_NS);
    x.push_str(r#"">"#);
    let batch = r.operation != Operation::RealTime;
    fn el(x: &mut String, name: &str, value: &str) {
        x.push('<');
        x.push_str(name);
        x.push('>');
        escape_into(x, value);
        x.push_str("</");
        x.push_str(name);
        x.push('>');
    }
    el(&mut x, "PayloadType", &r.payload_type);
    el(&mut x, "ProcessingMode", &r.processing_mode);
    el(&mut x, "PayloadID", &r.payload_id);
    if batch && let Some(n) = r.payload_length {
        el(&mut x, "PayloadLength", &n.to_string());
    }
    el(&mut x, "TimeStamp", &r.timestamp);
    el(&mut x, "SenderID", &r.sender_id);
    el(&mut x, "ReceiverID", &r.receiver_id);
    el(&mut x, "CORERuleVersion", &r.core_rule_version);
    if batch && let Some(c) = &r.checksum {
        el(&mut x, "CheckSum", c);
    }
    x.push_str("<Payload>");
    match style {
        PayloadStyle::Text => {
            // X12 is ASCII: the plain check (word at a time) is several times cheaper than the
            // lossy one's, which is kept for a payload that is not UTF-8 after all.
            let text = match std::str::from_utf8(&r.payload) {
                Ok(t) => std::borrow::Cow::Borrowed(t),
                Err(_) => String::from_utf8_lossy(&r.payload),
            };
            if !text.is_empty() {
                x.push_str("<![CDATA[");
                if text.contains("]]>") {
                    x.push_str(&text.replace("]]>", "]]]]><![CDATA[>"));
                } else {
                    x.push_str(&text);
                }
                x.push_str("]]>");
            }
        }
        PayloadStyle::Base64 => {
            base64::engine::general_purpose::STANDARD.encode_string(&r.payload, &mut x);
        }
        PayloadStyle::XopInclude(cid) => {
            x.push_str(
                r#"<xop:Include xmlns:xop="http://www.w3.org/2004/08/xop/include" href="cid:"#,
            );
            escape_into(&mut x, cid);
            x.push_str(r#""/>"#);
        }
    }
    x.push_str("</Payload>");
    el(&mut x, "ErrorCode", &r.error_code);
    el(&mut x, "ErrorMessage", &r.error_message);
    x.push_str("</cor:");
    x.push_str(element);
    x.push_str("></soap:Body></soap:Envelope>");
    x.into_bytes()
}

/// Writes a SOAP 1.2 fault for `f`: env:Code from the error table, the CORE ErrorCode as its
/// subcode, the message as the reason, and a Detail carrying the message again (some clients
/// read only the detail) and the correlation ID.
pub fn encode_fault(f: &Failure, correlation_id: &str) -> Vec<u8> {
    let row = f.row();
    let code = match row.answer {
        Answer::Fault(c) => c,
        Answer::CoreResponse => super::error::FaultCode::Sender,
    };
    let upgrade = if f.kind() == Kind::Soap11 {
        format!(
            r#"<env:Header><env:Upgrade><env:SupportedEnvelope qname="ns:Envelope" xmlns:ns="{SOAP12_NS}"/></env:Upgrade></env:Header>"#
        )
    } else {
        String::new()
    };
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><env:Envelope xmlns:env="{SOAP12_NS}" xmlns:core="{CORE_NS}">{upgrade}<env:Body><env:Fault><env:Code><env:Value>{}</env:Value><env:Subcode><env:Value>core:{}</env:Value></env:Subcode></env:Code><env:Reason><env:Text xml:lang="en">{}</env:Text></env:Reason><env:Detail><Message>{}</Message><ErrorCode>{}</ErrorCode><CorrelationID>{}</CorrelationID></env:Detail></env:Fault></env:Body></env:Envelope>"#,
        code.value(),
        row.error_code,
        escape(&f.message()),
        escape(&f.message()),
        row.error_code,
        escape(correlation_id),
    )
    .into_bytes()
}

/// Escapes text for XML content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    escape_into(&mut out, s);
    out
}

/// [`escape`], appending to `out`.
pub fn escape_into(out: &mut String, s: &str) {
    // Most values need no escaping: copy runs of plain characters at once. Every character
    // replaced is ASCII, so bytes can be scanned and `s` split at them safely.
    let mut plain = 0;
    for (i, b) in s.bytes().enumerate() {
        let replacement = match b {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' => "&quot;",
            b'\'' => "&apos;",
            // Characters XML 1.0 cannot carry at all.
            b if b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r') => " ",
            _ => continue,
        };
        out.push_str(&s[plain..i]);
        out.push_str(replacement);
        plain = i + 1;
    }
    out.push_str(&s[plain..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_attachments(_: &str) -> Option<Payload> {
        None
    }

    #[test]
    fn escape_replaces_markup_and_control_characters_only() {
        assert_eq!(escape("plain é text"), "plain é text");
        assert_eq!(
            escape("a<b>&\"c'\u{1}\td\u{7f}"),
            "a&lt;b&gt;&amp;&quot;c&apos; \td\u{7f}"
        );
        assert_eq!(escape("&"), "&amp;");
        assert_eq!(escape(""), "");
    }

    const REQUEST: &str = r#"<soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope" xmlns:cor="http://www.caqh.org/SOAP/WSDL/CORERule2.2.0.xsd">
  <soap:Header>
    <wsse:Security soap:mustUnderstand="true" xmlns:wsse="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd">
      <wsse:UsernameToken><wsse:Username>alice</wsse:Username>
        <wsse:Password Type="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordText">s3cret &amp; more</wsse:Password>
      </wsse:UsernameToken>
    </wsse:Security>
  </soap:Header>
  <soap:Body>
    <cor:COREEnvelopeRealTimeRequest>
      <PayloadType>X12_270_Request_005010X279A1</PayloadType>
      <ProcessingMode>RealTime</ProcessingMode>
      <PayloadID>f81d4fae-7dec-11d0-a765-00a0c91e6bf6</PayloadID>
      <TimeStamp>2007-08-30T10:20:34Z</TimeStamp>
      <SenderID>HospitalA</SenderID>
      <ReceiverID>PayerB</ReceiverID>
      <CORERuleVersion>2.2.0</CORERuleVersion>
      <Payload><![CDATA[ISA*00*~IEA*1*000000001~]]></Payload>
    </cor:COREEnvelopeRealTimeRequest>
  </soap:Body>
</soap:Envelope>"#;

    #[test]
    fn decodes_a_real_time_request() {
        let env = decode_soap(REQUEST.as_bytes(), Wire::Soap, None, no_attachments).unwrap();
        assert_eq!(env.operation, Operation::RealTime);
        assert_eq!(env.metadata.sender_id.as_deref(), Some("HospitalA"));
        assert_eq!(env.payload_bytes(), Some(&b"ISA*00*~IEA*1*000000001~"[..]));
        assert_eq!(
            env.credentials,
            Some(Credentials::Password {
                user: "alice".into(),
                password: "s3cret & more".into()
            })
        );
    }

    #[test]
    fn tolerates_qualified_children_other_prefixes_escaped_and_base64_payloads() {
        let xml = r#"<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope"><e:Body>
            <x:COREEnvelopeRealTimeRequest xmlns:x="http://www.caqh.org/SOAP/WSDL/CORERule2.2.0.xsd">
            <x:PayloadType>X12_270_Request_005010X279A1</x:PayloadType>
            <x:Payload>SVNBKjAwKg==</x:Payload>
            </x:COREEnvelopeRealTimeRequest></e:Body></e:Envelope>"#;
        let env = decode_soap(xml.as_bytes(), Wire::Soap, None, no_attachments).unwrap();
        assert_eq!(env.payload_bytes(), Some(&b"ISA*00*"[..]));
        assert_eq!(
            env.metadata.payload_type.as_deref(),
            Some("X12_270_Request_005010X279A1")
        );
        let escaped = REQUEST.replace(
            "<![CDATA[ISA*00*~IEA*1*000000001~]]>",
            "ISA*00*&lt;~IEA&#42;1~",
        );
        let env = decode_soap(escaped.as_bytes(), Wire::Soap, None, no_attachments).unwrap();
        assert_eq!(env.payload_bytes(), Some(&b"ISA*00*<~IEA*1~"[..]));
    }

    #[test]
    fn refuses_dtds_entities_soap11_and_garbage() {
        let dtd = format!("<!DOCTYPE x [<!ENTITY a \"b\">]>{REQUEST}");
        let e = decode_soap(dtd.as_bytes(), Wire::Soap, None, no_attachments).unwrap_err();
        assert_eq!(e.kind(), Kind::DtdOrEntity);
        let ent = REQUEST.replace("HospitalA", "&xxe;");
        let e = decode_soap(ent.as_bytes(), Wire::Soap, None, no_attachments).unwrap_err();
        assert_eq!(e.kind(), Kind::DtdOrEntity);
        let v11 = REQUEST.replace(SOAP12_NS, SOAP11_NS);
        let e = decode_soap(v11.as_bytes(), Wire::Soap, None, no_attachments).unwrap_err();
        assert_eq!(e.kind(), Kind::Soap11);
        for bad in ["", "<a>", "not xml", "<soap:Envelope>"] {
            let e = decode_soap(bad.as_bytes(), Wire::Soap, None, no_attachments).unwrap_err();
            assert!(
                matches!(e.kind(), Kind::MalformedXml | Kind::UnknownOperation),
                "{bad:?}: {e}"
            );
        }
        let bad64 = REQUEST.replace("<![CDATA[ISA*00*~IEA*1*000000001~]]>", "!!notbase64!!");
        let e = decode_soap(bad64.as_bytes(), Wire::Soap, None, no_attachments).unwrap_err();
        assert_eq!(e.kind(), Kind::BadBase64);
    }

    #[test]
    fn bytes_that_are_not_utf8_are_refused_wherever_they_are() {
        // The reader checks each piece it returns; no part of the document escapes that.
        let places = [
            (
                "<cor:COREEnvelopeRealTimeRequest",
                "<!-- \u{1} --><cor:COREEnvelopeRealTimeRequest",
            ),
            ("HospitalA", "Hospital\u{1}"),
            ("ISA*00*~IEA", "ISA*00*\u{1}~IEA"),
            ("<soap:Body>", "<soap:Body x=\"\u{1}\">"),
            ("<soap:Body>", "<soap:Body><?pi \u{1}?>"),
            ("<soap:Envelope ", "<soap:Envelope\u{1} "),
        ];
        for (from, to) in places {
            assert!(REQUEST.contains(from), "{from}");
            let mut bytes = REQUEST.replacen(from, to, 1).into_bytes();
            // U+0001 becomes a byte that can never start or continue UTF-8.
            let at = bytes.iter().position(|&b| b == 1).unwrap();
            bytes[at] = 0xFF;
            let e = decode_soap(&bytes, Wire::Soap, None, no_attachments).unwrap_err();
            assert_eq!(e.kind(), Kind::MalformedXml, "{to}: {e}");
        }
        // A UTF-8 byte-order mark is UTF-8.
        let bom = format!("\u{feff}{REQUEST}");
        let env = decode_soap(bom.as_bytes(), Wire::Soap, None, no_attachments).unwrap();
        assert_eq!(env.operation, Operation::RealTime);
    }

    #[test]
    fn namespaces_resolve_through_the_envelope_body_and_body_child() {
        let request = |envelope_attrs: &str, body_attrs: &str, child: &str| {
            format!(
                r#"<s:Envelope xmlns:s="{SOAP12_NS}"{envelope_attrs}><s:Body{body_attrs}><{child}><PayloadType>X12_270_Request_005010X279A1</PayloadType><Payload>SVNBKjAwKg==</Payload></{}></s:Body></s:Envelope>"#,
                child.split(' ').next().unwrap_or(child)
            )
        };
        let core = format!(r#" xmlns:c="{CORE_NS}""#);
        let default = format!(r#" xmlns="{CORE_NS}""#);
        let own = format!(r#"COREEnvelopeRealTimeRequest xmlns="{CORE_NS}""#);
        let prefixed_own = format!(r#"k:COREEnvelopeRealTimeRequest xmlns:k="{CORE_NS}""#);
        for (env_attrs, body_attrs, child) in [
            (core.as_str(), "", "c:COREEnvelopeRealTimeRequest"),
            ("", core.as_str(), "c:COREEnvelopeRealTimeRequest"),
            ("", default.as_str(), "COREEnvelopeRealTimeRequest"),
            ("", "", own.as_str()),
            ("", "", prefixed_own.as_str()),
        ] {
            let xml = request(env_attrs, body_attrs, child);
            let env = decode_soap(xml.as_bytes(), Wire::Soap, None, no_attachments)
                .unwrap_or_else(|e| panic!("{xml}: {e}"));
            assert_eq!(env.operation, Operation::RealTime, "{xml}");
        }
        // A prefix rebound on the Body to another namespace, no namespace, an undeclared one.
        let other = r#" xmlns:c="urn:other""#;
        for (env_attrs, body_attrs, child, kind) in [
            (
                core.as_str(),
                other,
                "c:COREEnvelopeRealTimeRequest",
                Kind::UnknownOperation,
            ),
            (
                "",
                "",
                "COREEnvelopeRealTimeRequest",
                Kind::UnknownOperation,
            ),
            ("", "", "c:COREEnvelopeRealTimeRequest", Kind::MalformedXml),
        ] {
            let xml = request(env_attrs, body_attrs, child);
            let e = decode_soap(xml.as_bytes(), Wire::Soap, None, no_attachments).unwrap_err();
            assert_eq!(e.kind(), kind, "{xml}: {e}");
        }
        // The root's own prefix must be declared, and a declaration ends with its element.
        let e = decode_soap(
            br#"<s:Envelope><s:Body/></s:Envelope>"#,
            Wire::Soap,
            None,
            no_attachments,
        )
        .unwrap_err();
        assert_eq!(e.kind(), Kind::MalformedXml);
        let scoped_out = format!(
            r#"<s:Envelope xmlns:s="{SOAP12_NS}"><s:Header xmlns:c="{CORE_NS}"/><s:Body><c:COREEnvelopeRealTimeRequest/></s:Body></s:Envelope>"#
        );
        let e = decode_soap(scoped_out.as_bytes(), Wire::Soap, None, no_attachments).unwrap_err();
        assert_eq!(e.kind(), Kind::MalformedXml, "{e}");
    }

    proptest::proptest! {
        /// Hostile input: any bytes overwritten, inserted or cut anywhere in a valid request
        /// give an envelope or a failure, never a panic.
        #[test]
        fn mutated_requests_never_panic(
            edits in proptest::collection::vec((0usize..2048, proptest::num::u8::ANY, 0u8..3), 1..8)
        ) {
            let mut xml = REQUEST.as_bytes().to_vec();
            for (at, byte, how) in edits {
                let at = at % (xml.len() + 1);
                match how {
                    0 if at < xml.len() => xml[at] = byte,
                    1 => xml.insert(at, byte),
                    _ => xml.truncate(at),
                }
            }
            let _ = decode_soap(&xml, Wire::Soap, None, no_attachments);
        }
    }

    #[test]
    fn password_digest_is_recognized() {
        let xml = REQUEST.replace("#PasswordText", "#PasswordDigest");
        let env = decode_soap(xml.as_bytes(), Wire::Soap, None, no_attachments).unwrap();
        assert_eq!(
            env.credentials,
            Some(Credentials::PasswordDigest {
                user: "alice".into()
            })
        );
    }

    #[test]
    fn retrieval_payloads_as_typed_or_base64() {
        let ask = |payload: &str| {
            let xml = format!(
                r#"<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:c="http://www.caqh.org/SOAP/WSDL/CORERule2.2.0.xsd"><s:Body><c:COREEnvelopeBatchSubmissionAckRetrievalRequest><PayloadType>X12_999_RetrievalRequest_005010X231A1</PayloadType><Payload>{payload}</Payload></c:COREEnvelopeBatchSubmissionAckRetrievalRequest></s:Body></s:Envelope>"#
            );
            let env = decode_soap(xml.as_bytes(), Wire::Soap, None, no_attachments).unwrap();
            String::from_utf8(env.payload_bytes().unwrap().to_vec()).unwrap()
        };
        // A tracking number is valid base64 of nothing printable: taken as typed.
        assert_eq!(ask("2611220000000042"), "2611220000000042");
        // Criteria are not base64 at all.
        assert_eq!(
            ask("TransactionType=999&amp;From=2026-11-01"),
            "TransactionType=999&From=2026-11-01"
        );
        // A client that sends base64 (as for any batch payload) is read too.
        assert_eq!(ask("MjYxMTIyMDAwMDAwMDA0Mg=="), "2611220000000042");
    }

    #[test]
    fn xop_include_resolves_through_the_attachments() {
        let xml = REQUEST
            .replace("COREEnvelopeRealTimeRequest", "COREEnvelopeBatchSubmission")
            .replace(
                "<![CDATA[ISA*00*~IEA*1*000000001~]]>",
                r#"<xop:Include xmlns:xop="http://www.w3.org/2004/08/xop/include" href="cid:attachment"/>"#,
            );
        let lookup = |cid: &str| -> Option<Payload> {
            (cid == "cid:attachment").then(|| Payload::from_bytes(b"ISA*batch".to_vec()))
        };
        let env = decode_soap(
            xml.as_bytes(),
            Wire::Mtom,
            Some("BatchSubmitTransaction"),
            lookup,
        )
        .unwrap();
        assert_eq!(env.operation, Operation::BatchSubmit);
        assert_eq!(env.payload_bytes(), Some(&b"ISA*batch"[..]));
        let e = decode_soap(xml.as_bytes(), Wire::Mtom, None, no_attachments).unwrap_err();
        assert_eq!(e.kind(), Kind::MissingAttachment);
        // Without an action, a non-X12 PayloadType on a BatchSubmission is a generic batch.
        let generic = xml.replace("X12_270_Request_005010X279A1", "MMQ_QUESTIONNAIRE");
        let env = decode_soap(generic.as_bytes(), Wire::Mtom, None, lookup).unwrap();
        assert_eq!(env.operation, Operation::GenericBatchSubmission);
    }

    #[test]
    fn responses_and_faults_are_well_formed() {
        let r = ResponseEnvelope {
            operation: Operation::RealTime,
            payload_type: "X12_271_Response_005010X279A1".into(),
            processing_mode: "RealTime".into(),
            payload_id: "id".into(),
            payload_length: None,
            timestamp: "2026-06-15T12:00:00Z".into(),
            sender_id: "S".into(),
            receiver_id: "R<&>".into(),
            core_rule_version: "2.2.0".into(),
            checksum: None,
            payload: b"ISA*]]>*~".to_vec(),
            error_code: "Success".into(),
            error_message: "Envelope was processed successfully.".into(),
        };
        let xml = encode_response(&r, PayloadStyle::Text);
        // Our own decoder reads the payload back intact (as a request would be).
        let as_request = String::from_utf8(xml).unwrap().replace(
            "COREEnvelopeRealTimeResponse",
            "COREEnvelopeRealTimeRequest",
        );
        let env = decode_soap(as_request.as_bytes(), Wire::Soap, None, no_attachments).unwrap();
        assert_eq!(env.payload_bytes(), Some(&b"ISA*]]>*~"[..]));
        assert_eq!(env.metadata.receiver_id.as_deref(), Some("R<&>"));
        let fault = encode_fault(&Failure::new(Kind::AuthenticationFailed, "x<y"), "corr-1");
        let text = String::from_utf8(fault).unwrap();
        assert!(text.contains("<env:Value>env:Sender</env:Value>"));
        assert!(text.contains("core:UnAuthorized"));
        assert!(text.contains("x&lt;y") && text.contains("corr-1"));
    }
}
