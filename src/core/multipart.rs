//! Multipart framing for the CORE envelope: MTOM/XOP requests (`multipart/related`, the SOAP XML
//! plus its attachments; the XML itself is decoded by [`crate::core::soap`]), HTTP MIME requests
//! (`multipart/form-data`, CORE vC2.2.0 §3), and the matching response encoders.
//!
//! Every decode problem is a [`Failure`] from the error table: size limits give
//! [`Kind::BodyTooLarge`], anything that cannot be framed gives [`Kind::MalformedMultipart`].

use std::collections::HashMap;
use std::fmt;

use bytes::Bytes;
use futures_util::Stream;

use crate::core::envelope::{Credentials, Envelope, Metadata, Operation, ResponseEnvelope, Wire};
use crate::core::error::{Failure, Kind};
use crate::core::payload::{Base64Pieces, Payload, PayloadWriter, SpoolError, SpoolPolicy};

/// Size limits for one multipart body. Attachments and the MIME `Payload` field go through a
/// [`PayloadWriter`] (memory, then a temporary file), so a large batch costs little memory; the
/// other parts (the SOAP root, metadata fields) are held in memory and bounded by
/// `max_inline_bytes`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Parts in the body, the root part and unknown form fields included.
    pub max_parts: usize,
    /// Decoded bytes of one part held in memory (the SOAP root part, a metadata field).
    pub max_inline_bytes: usize,
    /// Bytes of the whole body as received (part headers and boundaries included).
    pub max_total_bytes: u64,
    /// Payload parts: when they go to disk, and their largest decoded size.
    pub spool: SpoolPolicy,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_parts: 16,
            max_inline_bytes: 32 * 1024 * 1024,
            max_total_bytes: 1024 * 1024 * 1024,
            spool: SpoolPolicy::default(),
        }
    }
}

/// The non-root parts of an MTOM request, keyed by Content-ID.
///
/// Keys are stored without surrounding angle brackets; [`Attachments::get`] accepts what a
/// client may put in an `xop:Include href` or in `<Payload>`: `cid:attachment`,
/// `cid:%3Cattachment%3E`, `<attachment>` or `attachment`.
#[derive(Clone, Default)]
pub struct Attachments {
    parts: Vec<(String, Payload)>,
    /// Normalized Content-ID (and its percent-decoded alias) → index into `parts`.
    index: HashMap<String, usize>,
}

impl Attachments {
    /// No attachments (a plain SOAP request).
    pub fn empty() -> Self {
        Self::default()
    }

    /// Adds a part under its Content-ID header value (with or without `<>`). Returns `false`
    /// (and keeps the first) when that Content-ID is already taken.
    pub fn insert(&mut self, content_id: &str, data: Payload) -> bool {
        let key = strip_brackets(content_id.trim()).to_string();
        if self.index.contains_key(&key) {
            return false;
        }
        let at = self.parts.len();
        // Some clients put the URL-encoded form in the header itself: index the decoded form
        // too, unless it would shadow another part.
        let decoded = strip_brackets(&percent_decode(&key)).to_string();
        if decoded != key {
            self.index.entry(decoded).or_insert(at);
        }
        self.index.insert(key.clone(), at);
        self.parts.push((key, data));
        true
    }

    /// The part an href refers to (`cid:…`, with or without angle brackets or
    /// percent-encoding; a bare Content-ID works too).
    pub fn get(&self, cid_ref: &str) -> Option<&Payload> {
        self.find(cid_ref).map(|i| &self.parts[i].1)
    }

    /// Number of attachments.
    pub fn len(&self) -> usize {
        self.parts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.parts.is_empty()
    }

    /// The Content-IDs, without angle brackets, in arrival order.
    pub fn content_ids(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().map(|(k, _)| k.as_str())
    }

    fn find(&self, cid_ref: &str) -> Option<usize> {
        let raw = cid_ref.trim();
        let raw = match raw.get(..4) {
            Some(scheme) if scheme.eq_ignore_ascii_case("cid:") => &raw[4..],
            _ => raw,
        };
        // RFC 2392: the cid URL is the URL-encoded Content-ID; try the decoded form first,
        // then the literal one (an id that really contains '%').
        let decoded = percent_decode(raw);
        [strip_brackets(decoded.trim()), strip_brackets(raw)]
            .into_iter()
            .find_map(|k| self.index.get(k).copied())
    }
}

impl fmt::Debug for Attachments {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Sizes only: the contents are PHI.
        f.debug_map()
            .entries(self.parts.iter().map(|(k, v)| (k, v.len())))
            .finish()
    }
}

/// Reads an MTOM/XOP (`multipart/related`) request body: returns the root part (the SOAP XML)
/// and the other parts as [`Attachments`].
///
/// The root is the part whose Content-ID matches the `start` parameter (with or without angle
/// brackets), or the first part when there is no `start`.
pub async fn read_mtom<S, E>(
    content_type: &str,
    body: S,
    limits: &Limits,
) -> Result<(Vec<u8>, Attachments), Failure>
where
    S: Stream<Item = Result<Bytes, E>> + Send + 'static,
    E: Into<Box<dyn std::error::Error + Send + Sync>> + 'static,
{
    let ct = parse_multipart_type(content_type)?;
    let start = ct
        .get_param("start")
        .map(|v| strip_brackets(v.as_str().trim()).to_string());
    let mut multipart = open(&ct, body, limits)?;

    let mut root: Option<Vec<u8>> = None;
    let mut first: Option<Vec<u8>> = None;
    let mut attachments = Attachments::empty();
    let mut count = 0usize;
    while let Some(mut field) = multipart.next_field().await.map_err(from_multer)? {
        count += 1;
        check_part_count(count, limits)?;
        let cid = header_text(&field, "content-id")?.map(|v| strip_brackets(v.trim()).to_string());
        let label = match &cid {
            Some(c) => format!("part <{c}>"),
            None => format!("part {count}"),
        };
        let is_root = match (&start, &cid) {
            (Some(s), Some(c)) => s == c,
            _ => false,
        };
        if is_root || (start.is_none() && count == 1) {
            let data = read_inline_part(&mut field, &label, limits).await?;
            if !is_root {
                first = Some(data);
                continue;
            }
            if root.is_some() {
                return Err(Failure::new(
                    Kind::MalformedMultipart,
                    format!(
                        "two parts have the start Content-ID <{}>",
                        cid.unwrap_or_default()
                    ),
                ));
            }
            root = Some(data);
            continue;
        }
        let data = read_payload_part(&mut field, &label, limits).await?;
        if let Some(cid) = cid
            && !attachments.insert(&cid, data)
        {
            return Err(Failure::new(
                Kind::MalformedMultipart,
                format!("two parts have Content-ID <{cid}>"),
            ));
        }
        // A non-root part without a Content-ID cannot be referred to: it is dropped.
    }

    let root = match (root, first, start) {
        (Some(r), _, _) => r,
        (None, Some(r), None) => r,
        (None, _, Some(s)) => {
            return Err(Failure::new(
                Kind::MalformedMultipart,
                format!(
                    "no part has the Content-ID <{s}> named by the start parameter of the Content-Type"
                ),
            ));
        }
        (None, None, None) => {
            return Err(Failure::new(
                Kind::MalformedMultipart,
                "the multipart/related body has no parts",
            ));
        }
    };
    Ok((root, attachments))
}

/// Reads an HTTP MIME (`multipart/form-data`) request, CORE vC2.2.0 §3, into an [`Envelope`].
///
/// Field names match case-insensitively (OpenEMR sends `PayloadId`, `SenderId`, `ReceiverId`;
/// `Checksum` and `CheckSum` are both accepted); unknown fields are ignored; a field sent twice
/// is refused. Metadata values are trimmed UTF-8 text; `Payload` (a text field or a file part)
/// is kept as bytes, and `UserName`/`Password` are kept exactly as sent.
pub async fn read_mime_form<S, E>(
    content_type: &str,
    body: S,
    limits: &Limits,
) -> Result<Envelope, Failure>
where
    S: Stream<Item = Result<Bytes, E>> + Send + 'static,
    E: Into<Box<dyn std::error::Error + Send + Sync>> + 'static,
{
    let ct = parse_multipart_type(content_type)?;
    let mut multipart = open(&ct, body, limits)?;

    let mut metadata = Metadata::default();
    let mut payload: Option<Payload> = None;
    let mut user: Option<String> = None;
    let mut password: Option<String> = None;
    let mut count = 0usize;
    while let Some(mut field) = multipart.next_field().await.map_err(from_multer)? {
        count += 1;
        check_part_count(count, limits)?;
        let name = field.name().map(str::to_string);
        let key = name.as_deref().map(str::to_ascii_lowercase);
        let label = match &name {
            Some(n) => format!("field {n}"),
            None => format!("part {count}"),
        };
        if key.as_deref() == Some("payload") {
            if payload.is_some() {
                return Err(twice(&label));
            }
            payload = Some(read_payload_part(&mut field, &label, limits).await?);
            continue;
        }
        let data = read_inline_part(&mut field, &label, limits).await?;
        let Some(key) = key else { continue };
        let slot = match key.as_str() {
            "username" => {
                set_once(&mut user, utf8(data, &label)?, &label)?;
                continue;
            }
            "password" => {
                set_once(&mut password, utf8(data, &label)?, &label)?;
                continue;
            }
            "payloadtype" => &mut metadata.payload_type,
            "processingmode" => &mut metadata.processing_mode,
            "payloadid" => &mut metadata.payload_id,
            "timestamp" => &mut metadata.timestamp,
            "senderid" => &mut metadata.sender_id,
            "receiverid" => &mut metadata.receiver_id,
            "coreruleversion" => &mut metadata.core_rule_version,
            "payloadlength" => &mut metadata.payload_length,
            "checksum" => &mut metadata.checksum,
            // Unknown fields are ignored (their bytes still count against the limits).
            _ => continue,
        };
        let text = utf8(data, &label)?.trim().to_string();
        set_once(slot, text, &label)?;
    }

    let operation = decide_operation(
        metadata.processing_mode.as_deref(),
        metadata.payload_type.as_deref(),
    );
    let credentials = match (user, password) {
        (Some(user), Some(password)) => Some(Credentials::Password { user, password }),
        // Half a credential is no credential: the caller answers AuthenticationRequired.
        _ => None,
    };
    Ok(Envelope {
        operation,
        wire: Wire::Mime,
        metadata,
        payload,
        credentials,
    })
}

/// MIME has no SOAP body element to name the operation, so it is decided from the metadata:
/// RealTime only when ProcessingMode says so, otherwise a batch operation chosen by PayloadType.
fn decide_operation(processing_mode: Option<&str>, payload_type: Option<&str>) -> Operation {
    if processing_mode.is_some_and(|m| m.trim().eq_ignore_ascii_case("RealTime")) {
        return Operation::RealTime;
    }
    let pt = payload_type.unwrap_or("").trim();
    let is = |s: &str| pt.eq_ignore_ascii_case(s);
    let lower = pt.to_ascii_lowercase();
    if is("X12_999_RetrievalRequest_005010X231A1") || is("X12_TA1_RetrievalRequest_00501X231A1") {
        Operation::BatchSubmitAckRetrieval
    } else if lower.contains("request_batch_results") {
        Operation::BatchResultsRetrieval
    } else if is("FILELIST") || lower.ends_with("retrievalrequest") {
        Operation::GenericBatchRetrieval
    } else if is("X12_999_SubmissionRequest_005010X231A1")
        || is("X12_TA1_SubmissionRequest_00501X231A1")
    {
        Operation::BatchResultsAckSubmit
    } else if lower.starts_with("x12_") {
        Operation::BatchSubmit
    } else {
        Operation::GenericBatchSubmission
    }
}

/// Encodes a CORE response as `multipart/form-data` (CORE vC2.2.0 §3). Returns the
/// Content-Type (with the boundary actually used) and the body.
pub fn encode_mime_response(r: &ResponseEnvelope, boundary: &str) -> (String, Vec<u8>) {
    let length = r.payload_length.map(|l| l.to_string());
    let mut fields: Vec<(&str, &[u8])> = vec![
        ("PayloadType", r.payload_type.as_bytes()),
        ("ProcessingMode", r.processing_mode.as_bytes()),
        ("PayloadID", r.payload_id.as_bytes()),
    ];
    if let Some(l) = &length {
        fields.push(("PayloadLength", l.as_bytes()));
    }
    fields.extend([
        ("TimeStamp", r.timestamp.as_bytes()),
        ("SenderID", r.sender_id.as_bytes()),
        ("ReceiverID", r.receiver_id.as_bytes()),
        ("CORERuleVersion", r.core_rule_version.as_bytes()),
    ]);
    if let Some(c) = &r.checksum {
        fields.push(("CheckSum", c.as_bytes()));
    }
    fields.extend([
        ("ErrorCode", r.error_code.as_bytes()),
        ("ErrorMessage", r.error_message.as_bytes()),
        ("Payload", r.payload.as_slice()),
    ]);

    let boundary = safe_boundary(boundary, fields.iter().map(|(_, v)| *v));
    let mut body = Vec::with_capacity(fields.iter().map(|(_, v)| v.len() + 96).sum());
    for (name, value) in &fields {
        let headers = format!("Content-Disposition: form-data; name=\"{name}\"\r\n");
        write_part(&mut body, &boundary, &headers, value);
    }
    close(&mut body, &boundary);
    (
        format!("multipart/form-data; boundary=\"{boundary}\""),
        body,
    )
}

/// Encodes an MTOM/XOP response: the SOAP XML (whose Payload is an
/// `<xop:Include href="cid:…"/>`) as the root part `<rootpart>`, and one binary attachment.
/// Returns the Content-Type (with the boundary actually used) and the body.
pub fn encode_mtom_response(
    soap_xml_with_xop_include: &[u8],
    attachment_cid: &str,
    attachment: &[u8],
    action: &str,
    boundary: &str,
) -> (String, Vec<u8>) {
    // Both end up inside header lines: keep them to one line and out of the quoting.
    let cid: String = strip_brackets(attachment_cid.trim().trim_start_matches("cid:"))
        .chars()
        .filter(|c| c.is_ascii_graphic() && !matches!(c, '<' | '>' | '"' | '\\'))
        .collect();
    let action: String = action
        .chars()
        .filter(|c| (c.is_ascii_graphic() || *c == ' ') && !matches!(c, '"' | '\\'))
        .collect();

    let boundary = safe_boundary(boundary, [soap_xml_with_xop_include, attachment]);
    let mut body = Vec::with_capacity(soap_xml_with_xop_include.len() + attachment.len() + 512);
    write_part(
        &mut body,
        &boundary,
        "Content-Type: application/xop+xml; charset=UTF-8; type=\"application/soap+xml\"\r\n\
         Content-Transfer-Encoding: binary\r\n\
         Content-ID: <rootpart>\r\n",
        soap_xml_with_xop_include,
    );
    write_part(
        &mut body,
        &boundary,
        &format!(
            "Content-Type: application/octet-stream\r\n\
             Content-Transfer-Encoding: binary\r\n\
             Content-ID: <{cid}>\r\n"
        ),
        attachment,
    );
    close(&mut body, &boundary);
    let content_type = format!(
        "multipart/related; type=\"application/xop+xml\"; start=\"<rootpart>\"; \
         start-info=\"application/soap+xml\"; action=\"{action}\"; boundary=\"{boundary}\""
    );
    (content_type, body)
}

// ---- decoding helpers ----

type BoxError = Box<dyn std::error::Error + Send + Sync>;

fn parse_multipart_type(content_type: &str) -> Result<mime::Mime, Failure> {
    let ct: mime::Mime = content_type.trim().parse().map_err(|e| {
        Failure::new(
            Kind::UnsupportedMediaType,
            format!("the Content-Type cannot be read ({e})"),
        )
    })?;
    if ct.type_() != mime::MULTIPART {
        return Err(Failure::new(
            Kind::UnsupportedMediaType,
            format!(
                "expected a multipart Content-Type, got {}",
                ct.essence_str()
            ),
        ));
    }
    Ok(ct)
}

fn open<S, E>(
    ct: &mime::Mime,
    body: S,
    limits: &Limits,
) -> Result<multer::Multipart<'static>, Failure>
where
    S: Stream<Item = Result<Bytes, E>> + Send + 'static,
    E: Into<BoxError> + 'static,
{
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
    // multer enforces the whole-body limit while buffering (part headers included), so a
    // body is refused as soon as it passes the limit, not after it has been read.
    let constraints = multer::Constraints::new()
        .size_limit(multer::SizeLimit::new().whole_stream(limits.max_total_bytes));
    Ok(reader(body, boundary, constraints))
}

/// A multer reader over `body`, through [`ArrivalGap`]: every multipart body is read this way.
pub(crate) fn reader<S, E>(
    body: S,
    boundary: String,
    constraints: multer::Constraints,
) -> multer::Multipart<'static>
where
    S: Stream<Item = Result<Bytes, E>> + Send + 'static,
    E: Into<BoxError> + 'static,
{
    multer::Multipart::with_constraints(ArrivalGap::new(body), boundary, constraints)
}

/// Passes a body's pieces on unchanged, but never reports its end in the same poll as the
/// piece before it: after a piece, the end is reported one wake-up later.
///
/// Works around a multer 3.1.0 bug (fixed by rwf2/multer pull request #70, open and not in a
/// release when this was written): while looking for the first boundary, multer polls the
/// body a second time and, when that poll takes the rest of the body *and* its end, reports
/// [`multer::Error::IncompleteStream`] without looking at what it just read. An HTTP/2
/// request body that fits one DATA frame (END_STREAM set) and arrives just after the handler
/// first polled it is read exactly that way, so a small, well-formed upload was refused now
/// and then as "the body ended before the closing boundary". With the end held back, multer
/// sees it on its next poll, after it has looked at the buffered bytes.
struct ArrivalGap<S> {
    body: std::pin::Pin<Box<S>>,
    /// The last poll gave a piece: an end that comes next is held back once.
    after_piece: bool,
    /// The body has ended (it is not polled again).
    ended: bool,
}

impl<S> ArrivalGap<S> {
    fn new(body: S) -> Self {
        Self {
            body: Box::pin(body),
            after_piece: false,
            ended: false,
        }
    }
}

impl<S: Stream> Stream for ArrivalGap<S> {
    type Item = S::Item;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<S::Item>> {
        use std::task::Poll;
        if self.ended {
            return Poll::Ready(None);
        }
        match self.body.as_mut().poll_next(cx) {
            Poll::Ready(Some(item)) => {
                self.after_piece = true;
                Poll::Ready(Some(item))
            }
            Poll::Ready(None) => {
                self.ended = true;
                if std::mem::take(&mut self.after_piece) {
                    cx.waker().wake_by_ref();
                    Poll::Pending
                } else {
                    Poll::Ready(None)
                }
            }
            Poll::Pending => {
                self.after_piece = false;
                Poll::Pending
            }
        }
    }
}

fn check_part_count(count: usize, limits: &Limits) -> Result<(), Failure> {
    if count > limits.max_parts {
        return Err(Failure::new(
            Kind::BodyTooLarge,
            format!("more than {} parts", limits.max_parts),
        ));
    }
    Ok(())
}

/// Reads a part held in memory (the SOAP root, a metadata field), at most
/// [`Limits::max_inline_bytes`] once decoded.
async fn read_inline_part(
    field: &mut multer::Field<'static>,
    label: &str,
    limits: &Limits,
) -> Result<Vec<u8>, Failure> {
    let policy = SpoolPolicy {
        memory_bytes: limits.max_inline_bytes,
        max_bytes: limits.max_inline_bytes as u64,
        dir: None,
    };
    let part = read_part(field, label, &policy).await?;
    Ok(part.in_memory().map(<[u8]>::to_vec).unwrap_or_default())
}

/// Reads a payload part (an MTOM attachment, the MIME `Payload` field), spooled to disk when
/// large.
async fn read_payload_part(
    field: &mut multer::Field<'static>,
    label: &str,
    limits: &Limits,
) -> Result<Payload, Failure> {
    read_part(field, label, &limits.spool).await
}

/// Reads one part's content piece by piece, undoing a base64 Content-Transfer-Encoding if one
/// is declared.
async fn read_part(
    field: &mut multer::Field<'static>,
    label: &str,
    policy: &SpoolPolicy,
) -> Result<Payload, Failure> {
    let encoding = header_text(field, "content-transfer-encoding")?
        .map(|v| v.trim().to_ascii_lowercase())
        .unwrap_or_default();
    let mut base64 = match encoding.as_str() {
        "" | "binary" | "8bit" | "7bit" => None,
        "base64" => Some(Base64Pieces::default()),
        other => {
            return Err(Failure::new(
                Kind::MalformedMultipart,
                format!(
                    "{label} has Content-Transfer-Encoding {other}: send binary (or base64) parts"
                ),
            ));
        }
    };
    let bad_base64 =
        |e: base64::DecodeError| Failure::new(Kind::BadBase64, format!("{label}: {e}"));
    let mut writer = PayloadWriter::new(policy);
    while let Some(chunk) = field.chunk().await.map_err(from_multer)? {
        let written = match &mut base64 {
            None => writer.write(&chunk).await,
            Some(d) => writer.write(&d.feed(&chunk).map_err(bad_base64)?).await,
        };
        written.map_err(|e| spool_failure(e, label))?;
    }
    if let Some(d) = base64 {
        d.finish().map_err(bad_base64)?;
    }
    writer.finish().await.map_err(|e| spool_failure(e, label))
}

fn spool_failure(e: SpoolError, label: &str) -> Failure {
    match e {
        SpoolError::TooLarge { limit } => Failure::new(
            Kind::BodyTooLarge,
            format!("{label} is larger than {limit} bytes"),
        ),
        SpoolError::Io(e) => {
            tracing::error!(error = %e, "spooling a request part to disk failed");
            Failure::new(Kind::Unavailable, "")
        }
    }
}

fn header_text<'a>(field: &'a multer::Field<'_>, name: &str) -> Result<Option<&'a str>, Failure> {
    field
        .headers()
        .get(name)
        .map(|v| {
            v.to_str().map_err(|_| {
                Failure::new(
                    Kind::MalformedMultipart,
                    format!("a part's {name} header is not ASCII text"),
                )
            })
        })
        .transpose()
}

fn utf8(data: Vec<u8>, label: &str) -> Result<String, Failure> {
    String::from_utf8(data).map_err(|_| {
        Failure::new(
            Kind::MalformedMultipart,
            format!("{label} is not UTF-8 text"),
        )
    })
}

fn set_once<T>(slot: &mut Option<T>, value: T, label: &str) -> Result<(), Failure> {
    if slot.is_some() {
        return Err(twice(label));
    }
    *slot = Some(value);
    Ok(())
}

fn twice(label: &str) -> Failure {
    Failure::new(
        Kind::MalformedMultipart,
        format!("{label} is sent twice (field names match case-insensitively)"),
    )
}

fn from_multer(e: multer::Error) -> Failure {
    use multer::Error as M;
    match e {
        M::FieldSizeExceeded { limit, field_name } => Failure::new(
            Kind::BodyTooLarge,
            format!(
                "part {} is larger than {limit} bytes",
                field_name.as_deref().unwrap_or("(unnamed)")
            ),
        ),
        M::StreamSizeExceeded { limit } => Failure::new(
            Kind::BodyTooLarge,
            format!("the body is larger than {limit} bytes"),
        ),
        M::StreamReadFailed(inner) => stream_failure(inner),
        M::IncompleteStream => Failure::new(
            Kind::MalformedMultipart,
            "the body ended before the closing boundary (truncated, or the boundary parameter does not match the body)",
        ),
        M::IncompleteFieldData { field_name } => Failure::new(
            Kind::MalformedMultipart,
            format!(
                "part {} ended before its closing boundary (truncated body)",
                field_name.as_deref().unwrap_or("(unnamed)")
            ),
        ),
        M::IncompleteHeaders => Failure::new(
            Kind::MalformedMultipart,
            "a part's headers are incomplete (truncated body)",
        ),
        other => Failure::new(
            Kind::MalformedMultipart,
            format!("a part cannot be read: {other}"),
        ),
    }
}

/// The body stream failed: keep a failure the HTTP layer already classified (a timeout, a
/// length limit) instead of calling it malformed.
fn stream_failure(inner: BoxError) -> Failure {
    if let Some(f) = inner.downcast_ref::<Failure>() {
        return f.clone();
    }
    if inner.is::<http_body_util::LengthLimitError>() {
        return Failure::new(Kind::BodyTooLarge, inner.to_string());
    }
    Failure::new(
        Kind::MalformedMultipart,
        format!("the request body could not be read: {inner}"),
    )
}

fn strip_brackets(s: &str) -> &str {
    s.strip_prefix('<')
        .and_then(|s| s.strip_suffix('>'))
        .unwrap_or(s)
}

/// `%XX` → byte; malformed escapes are kept as they are. Falls back to the input when the
/// result is not UTF-8.
fn percent_decode(s: &str) -> String {
    if !s.contains('%') {
        return s.to_string();
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && let (Some(h), Some(l)) = (
                bytes.get(i + 1).and_then(|&b| hex(b)),
                bytes.get(i + 2).and_then(|&b| hex(b)),
            )
        {
            out.push((h * 16 + l) as u8);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap_or_else(|_| s.to_string())
}

// ---- encoding helpers ----

const MAX_BOUNDARY: usize = 70; // RFC 2046 §5.1.1

/// A boundary that is valid (RFC 2046 bchars, 1–70 characters) and does not occur in any of
/// `contents`: the caller's if it qualifies, else the caller's with a random suffix.
pub(crate) fn safe_boundary<'a>(
    wanted: &str,
    contents: impl IntoIterator<Item = &'a [u8]> + Clone,
) -> String {
    // bchars minus space (a trailing space is not allowed, and quoting is simpler without).
    let valid = |b: &str| {
        !b.is_empty()
            && b.len() <= MAX_BOUNDARY
            && b.bytes()
                .all(|c| c.is_ascii_alphanumeric() || b"'()+_,-./:=?".contains(&c))
    };
    let clear = |b: &str| {
        contents
            .clone()
            .into_iter()
            .all(|c| find(c, b.as_bytes()).is_none())
    };
    if valid(wanted) && clear(wanted) {
        return wanted.to_string();
    }
    let base: String = wanted
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || "'()+_,-./:=?".contains(*c))
        .take(MAX_BOUNDARY - 33)
        .collect();
    loop {
        // 122 random bits: a collision with the content is not a practical concern, but it
        // is checked anyway.
        let candidate = format!("{base}={}", uuid::Uuid::new_v4().simple());
        if clear(&candidate) {
            return candidate;
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    let (&first, _) = needle.split_first()?;
    let mut at = 0;
    while at + needle.len() <= haystack.len() {
        let rest = &haystack[at..=haystack.len() - needle.len()];
        let skip = rest.iter().position(|&b| b == first)?;
        at += skip;
        if haystack[at..].starts_with(needle) {
            return Some(at);
        }
        at += 1;
    }
    None
}

pub(crate) fn write_part(body: &mut Vec<u8>, boundary: &str, headers: &str, content: &[u8]) {
    body.extend_from_slice(b"--");
    body.extend_from_slice(boundary.as_bytes());
    body.extend_from_slice(b"\r\n");
    body.extend_from_slice(headers.as_bytes());
    body.extend_from_slice(b"\r\n");
    body.extend_from_slice(content);
    body.extend_from_slice(b"\r\n");
}

pub(crate) fn close(body: &mut Vec<u8>, boundary: &str) {
    body.extend_from_slice(b"--");
    body.extend_from_slice(boundary.as_bytes());
    body.extend_from_slice(b"--\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::stream;
    use std::convert::Infallible;

    /// A body split into `chunk`-byte pieces, to exercise multer's buffering.
    fn body(
        data: &[u8],
        chunk: usize,
    ) -> impl Stream<Item = Result<Bytes, Infallible>> + Send + 'static {
        let chunks: Vec<Result<Bytes, Infallible>> = data
            .chunks(chunk.max(1))
            .map(|c| Ok(Bytes::copy_from_slice(c)))
            .collect();
        stream::iter(chunks)
    }

    fn form(boundary: &str, fields: &[(&str, &[u8])]) -> Vec<u8> {
        let mut out = Vec::new();
        for (name, value) in fields {
            write_part(
                &mut out,
                boundary,
                &format!("Content-Disposition: form-data; name=\"{name}\"\r\n"),
                value,
            );
        }
        close(&mut out, boundary);
        out
    }

    const FORM_CT: &str = "multipart/form-data; boundary=XyZ";

    async fn mime(fields: &[(&str, &[u8])]) -> Result<Envelope, Failure> {
        read_mime_form(FORM_CT, body(&form("XyZ", fields), 7), &Limits::default()).await
    }

    #[tokio::test]
    async fn openemr_realtime_request() {
        // Field names and order as OpenEMR's EDI270.php sends them to Office Ally.
        let env = mime(&[
            ("ProcessingMode", b"RealTime"),
            ("TimeStamp", b"2026-06-15T12:00:00Z"),
            ("PayloadType", b"X12_270_Request_005010X279A1"),
            ("PayloadId", b"f81d4fae-7dec-11d0-a765-00a0c91e6bf6"),
            ("UserName", b"clinic"),
            ("Password", b" s3cret "),
            ("SenderId", b"HospitalA"),
            ("ReceiverId", b"PayerB"),
            ("CORERuleVersion", b"2.2.0"),
            ("Payload", b"ISA*00*          *00*~IEA*1*000000001~"),
            ("Submit", b"Send"),
        ])
        .await
        .unwrap();
        assert_eq!(env.wire, Wire::Mime);
        assert_eq!(env.operation, Operation::RealTime);
        let m = &env.metadata;
        assert_eq!(
            m.payload_type.as_deref(),
            Some("X12_270_Request_005010X279A1")
        );
        assert_eq!(m.processing_mode.as_deref(), Some("RealTime"));
        assert_eq!(
            m.payload_id.as_deref(),
            Some("f81d4fae-7dec-11d0-a765-00a0c91e6bf6")
        );
        assert_eq!(m.timestamp.as_deref(), Some("2026-06-15T12:00:00Z"));
        assert_eq!(m.sender_id.as_deref(), Some("HospitalA"));
        assert_eq!(m.receiver_id.as_deref(), Some("PayerB"));
        assert_eq!(m.core_rule_version.as_deref(), Some("2.2.0"));
        assert_eq!(m.payload_length, None);
        assert_eq!(m.checksum, None);
        assert_eq!(
            env.payload_bytes(),
            Some(&b"ISA*00*          *00*~IEA*1*000000001~"[..])
        );
        assert_eq!(
            env.credentials,
            Some(Credentials::Password {
                user: "clinic".into(),
                password: " s3cret ".into()
            })
        );
    }

    #[tokio::test]
    async fn checksum_spellings_and_duplicates() {
        for name in ["CheckSum", "Checksum", "CHECKSUM"] {
            let env = mime(&[("ProcessingMode", b"Batch"), (name, b"ABC123")])
                .await
                .unwrap();
            assert_eq!(env.metadata.checksum.as_deref(), Some("ABC123"), "{name}");
        }
        let dup = mime(&[("CheckSum", b"a"), ("Checksum", b"b")])
            .await
            .unwrap_err();
        assert_eq!(dup.kind(), Kind::MalformedMultipart);
        assert!(dup.message().contains("twice"), "{}", dup.message());
        let dup = mime(&[("PayloadID", b"a"), ("PayloadId", b"a")])
            .await
            .unwrap_err();
        assert_eq!(dup.kind(), Kind::MalformedMultipart);
    }

    #[tokio::test]
    async fn batch_file_part_keeps_bytes_and_no_credentials() {
        let payload: Vec<u8> = (0u8..=255).chain(b"\r\n--Xy".iter().copied()).collect();
        let mut raw = form(
            "XyZ",
            &[
                ("ProcessingMode", b"Batch"),
                ("PayloadType", b"X12_837_Request_005010X222A1"),
                ("PayloadLength", b" 262 \r\n"),
            ],
        );
        raw.truncate(raw.len() - b"--XyZ--\r\n".len());
        write_part(
            &mut raw,
            "XyZ",
            "Content-Disposition: form-data; name=\"payload\"; filename=\"claims.x12\"\r\n\
             Content-Type: application/octet-stream\r\n",
            &payload,
        );
        close(&mut raw, "XyZ");
        let env = read_mime_form(FORM_CT, body(&raw, 5), &Limits::default())
            .await
            .unwrap();
        assert_eq!(env.operation, Operation::BatchSubmit);
        assert_eq!(env.metadata.payload_length.as_deref(), Some("262"));
        assert_eq!(env.payload_bytes(), Some(payload.as_slice()));
        assert_eq!(env.credentials, None);
    }

    #[tokio::test]
    async fn half_credentials_and_bad_utf8() {
        let env = mime(&[("UserName", b"u")]).await.unwrap();
        assert_eq!(env.credentials, None);
        let err = mime(&[("SenderID", b"\xff\xfe")]).await.unwrap_err();
        assert_eq!(err.kind(), Kind::MalformedMultipart);
        assert!(err.message().contains("SenderID"), "{}", err.message());
    }

    #[test]
    fn operation_from_mime_fields() {
        use Operation::*;
        let cases: &[(Option<&str>, Option<&str>, Operation)] = &[
            (
                Some("RealTime"),
                Some("X12_270_Request_005010X279A1"),
                RealTime,
            ),
            (
                Some("RealTime"),
                Some("X12_837_Request_005010X222A1"),
                RealTime,
            ),
            // No ProcessingMode: real time is not assumed.
            (None, Some("X12_270_Request_005010X279A1"), BatchSubmit),
            (
                Some("Batch"),
                Some("X12_999_RetrievalRequest_005010X231A1"),
                BatchSubmitAckRetrieval,
            ),
            (
                Some("Batch"),
                Some("X12_TA1_RetrievalRequest_00501X231A1"),
                BatchSubmitAckRetrieval,
            ),
            (
                Some("Batch"),
                Some("X12_005010_Request_Batch_Results_271"),
                BatchResultsRetrieval,
            ),
            (
                Some("Batch"),
                Some("X12_005010_Request_Batch_Results_277"),
                BatchResultsRetrieval,
            ),
            (
                Some("Batch"),
                Some("X12_005010_Request_Batch_Results_835"),
                BatchResultsRetrieval,
            ),
            (Some("Batch"), Some("FILELIST"), GenericBatchRetrieval),
            (
                Some("Batch"),
                Some("X12_834_RetrievalRequest"),
                GenericBatchRetrieval,
            ),
            (
                Some("Batch"),
                Some("X12_999_SubmissionRequest_005010X231A1"),
                BatchResultsAckSubmit,
            ),
            (
                Some("Batch"),
                Some("X12_TA1_SubmissionRequest_00501X231A1"),
                BatchResultsAckSubmit,
            ),
            (
                Some("Batch"),
                Some("X12_837_Request_005010X222A1"),
                BatchSubmit,
            ),
            (
                Some("Batch"),
                Some("PDF_Attachment"),
                GenericBatchSubmission,
            ),
            (Some("Batch"), None, GenericBatchSubmission),
            (None, None, GenericBatchSubmission),
        ];
        for &(mode, pt, want) in cases {
            assert_eq!(decide_operation(mode, pt), want, "{mode:?} {pt:?}");
        }
    }

    #[tokio::test]
    async fn truncated_multipart_is_malformed() {
        let raw = form(
            "XyZ",
            &[("PayloadType", b"X12_270"), ("Payload", b"ISA*00*~")],
        );
        for cut in [raw.len() - 9, raw.len() - 20, 30, 4] {
            let err = read_mime_form(FORM_CT, body(&raw[..cut], 3), &Limits::default())
                .await
                .unwrap_err();
            assert_eq!(err.kind(), Kind::MalformedMultipart, "cut {cut}: {err}");
            assert!(err.message().contains("truncated"), "{}", err.message());
        }
        let err = read_mtom(
            "multipart/related; boundary=XyZ",
            body(&raw[..raw.len() - 9], 3),
            &Limits::default(),
        )
        .await
        .unwrap_err();
        assert_eq!(err.kind(), Kind::MalformedMultipart);
    }

    #[tokio::test]
    async fn empty_or_foreign_body_is_malformed() {
        for raw in [&b""[..], b"ISA*00*~", b"--other\r\n\r\nx\r\n--other--\r\n"] {
            let err = read_mime_form(FORM_CT, body(raw, 4), &Limits::default())
                .await
                .unwrap_err();
            assert_eq!(err.kind(), Kind::MalformedMultipart, "{raw:?}");
            let err = read_mtom(
                "multipart/related; boundary=XyZ",
                body(raw, 4),
                &Limits::default(),
            )
            .await
            .unwrap_err();
            assert_eq!(err.kind(), Kind::MalformedMultipart, "{raw:?}");
        }
    }

    #[tokio::test]
    async fn content_type_problems() {
        let raw = form("XyZ", &[("PayloadType", b"x")]);
        let err = read_mime_form("application/soap+xml", body(&raw, 64), &Limits::default())
            .await
            .unwrap_err();
        assert_eq!(err.kind(), Kind::UnsupportedMediaType);
        let err = read_mime_form("multipart/form-data", body(&raw, 64), &Limits::default())
            .await
            .unwrap_err();
        assert_eq!(err.kind(), Kind::MalformedMultipart);
        assert!(err.message().contains("boundary"));
    }

    #[tokio::test]
    async fn limits_give_body_too_large() {
        let fields: Vec<(String, Vec<u8>)> =
            (0..5).map(|i| (format!("X{i}"), b"v".to_vec())).collect();
        let fields: Vec<(&str, &[u8])> = fields
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_slice()))
            .collect();
        let raw = form("XyZ", &fields);
        let few = Limits {
            max_parts: 4,
            ..Limits::default()
        };
        let err = read_mime_form(FORM_CT, body(&raw, 16), &few)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), Kind::BodyTooLarge);
        assert!(err.message().contains("4 parts"), "{}", err.message());
        let err = read_mtom("multipart/related; boundary=XyZ", body(&raw, 16), &few)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), Kind::BodyTooLarge);

        let big = vec![b'A'; 1000];
        let raw = form("XyZ", &[("Payload", &big)]);
        let payload_limit = |max_bytes| Limits {
            spool: SpoolPolicy {
                max_bytes,
                ..SpoolPolicy::default()
            },
            ..Limits::default()
        };
        let err = read_mime_form(FORM_CT, body(&raw, 100), &payload_limit(999))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), Kind::BodyTooLarge);
        let ok = read_mime_form(FORM_CT, body(&raw, 100), &payload_limit(1000)).await;
        assert!(ok.is_ok());
        // Metadata fields are held in memory: their own, smaller limit.
        let raw = form("XyZ", &[("SenderID", &big)]);
        let inline_limit = |max_inline_bytes| Limits {
            max_inline_bytes,
            ..Limits::default()
        };
        let err = read_mime_form(FORM_CT, body(&raw, 100), &inline_limit(999))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), Kind::BodyTooLarge);
        let ok = read_mime_form(FORM_CT, body(&raw, 100), &inline_limit(1000)).await;
        assert!(ok.is_ok());

        let small_total = Limits {
            max_total_bytes: 500,
            ..Limits::default()
        };
        let err = read_mime_form(FORM_CT, body(&raw, 100), &small_total)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), Kind::BodyTooLarge);
    }

    #[tokio::test]
    async fn stream_errors_keep_their_kind() {
        let chunks: Vec<Result<Bytes, Failure>> = vec![
            Ok(Bytes::from_static(
                b"--XyZ\r\nContent-Disposition: form-data; name=\"A\"\r\n\r\nx",
            )),
            Err(Failure::new(Kind::BodyTimeout, "slow client")),
        ];
        let err = read_mime_form(FORM_CT, stream::iter(chunks), &Limits::default())
            .await
            .unwrap_err();
        assert_eq!(err.kind(), Kind::BodyTimeout);

        let chunks: Vec<Result<Bytes, std::io::Error>> =
            vec![Err(std::io::Error::other("connection reset"))];
        let err = read_mime_form(FORM_CT, stream::iter(chunks), &Limits::default())
            .await
            .unwrap_err();
        assert_eq!(err.kind(), Kind::MalformedMultipart);
        assert!(err.message().contains("connection reset"));
    }

    /// A MassHealth-style MTOM batch submission (Content-IDs without brackets), with the root
    /// part second so that `start` matters.
    fn mtom_body(root_cid: &str, attach_cid: &str) -> Vec<u8> {
        let mut raw = Vec::new();
        write_part(
            &mut raw,
            "Part-1",
            &format!(
                "Content-Type: application/xml\r\nContent-Transfer-Encoding: binary\r\n\
                 Content-ID: {attach_cid}\r\n"
            ),
            b"ISA*00*~\x00\xff",
        );
        write_part(
            &mut raw,
            "Part-1",
            &format!(
                "Content-Type: application/xop+xml; charset=UTF-8; type=\"application/soap+xml\"\r\n\
                 Content-Transfer-Encoding: binary\r\nContent-ID: {root_cid}\r\n"
            ),
            b"<soap:Envelope/>",
        );
        close(&mut raw, "Part-1");
        raw
    }

    #[tokio::test]
    async fn mtom_root_by_start() {
        for (start, root_cid) in [
            ("start=\"rootpart\"", "rootpart"),
            ("start=\"<rootpart>\"", "rootpart"),
            ("start=\"rootpart\"", "<rootpart>"),
            ("start=\"<rootpart@soapui.org>\"", "<rootpart@soapui.org>"),
        ] {
            let ct = format!(
                "multipart/related; type=\"application/xop+xml\"; {start}; \
                 start-info=\"application/soap+xml\"; action=\"BatchSubmitTransaction\"; \
                 boundary=\"Part-1\""
            );
            let (root, att) = read_mtom(
                &ct,
                body(&mtom_body(root_cid, "attachment"), 11),
                &Limits::default(),
            )
            .await
            .unwrap();
            assert_eq!(root, b"<soap:Envelope/>", "{start} {root_cid}");
            assert_eq!(att.len(), 1);
            assert_eq!(
                att.get("cid:attachment").and_then(Payload::in_memory),
                Some(&b"ISA*00*~\x00\xff"[..])
            );
        }

        // No start: the first part is the root.
        let (root, att) = read_mtom(
            "multipart/related; boundary=Part-1",
            body(&mtom_body("rootpart", "attachment"), 64),
            &Limits::default(),
        )
        .await
        .unwrap();
        assert_eq!(root, b"ISA*00*~\x00\xff");
        assert_eq!(
            att.get("rootpart").and_then(Payload::in_memory),
            Some(&b"<soap:Envelope/>"[..])
        );

        // A start that names no part.
        let err = read_mtom(
            "multipart/related; start=\"<other>\"; boundary=Part-1",
            body(&mtom_body("rootpart", "attachment"), 64),
            &Limits::default(),
        )
        .await
        .unwrap_err();
        assert_eq!(err.kind(), Kind::MalformedMultipart);
        assert!(err.message().contains("<other>"), "{}", err.message());
    }

    #[tokio::test]
    async fn mtom_duplicate_content_id_and_base64_part() {
        let ct = "multipart/related; start=\"<rootpart>\"; boundary=Part-1";
        let mut raw = mtom_body("rootpart", "a");
        raw.truncate(raw.len() - b"--Part-1--\r\n".len());
        write_part(&mut raw, "Part-1", "Content-ID: <a>\r\n", b"again");
        close(&mut raw, "Part-1");
        let err = read_mtom(ct, body(&raw, 64), &Limits::default())
            .await
            .unwrap_err();
        assert_eq!(err.kind(), Kind::MalformedMultipart);

        let mut raw = mtom_body("rootpart", "a");
        raw.truncate(raw.len() - b"--Part-1--\r\n".len());
        write_part(
            &mut raw,
            "Part-1",
            "Content-ID: <b>\r\nContent-Transfer-Encoding: base64\r\n",
            b"SVNB\r\nKjAw",
        );
        close(&mut raw, "Part-1");
        let (_, att) = read_mtom(ct, body(&raw, 64), &Limits::default())
            .await
            .unwrap();
        assert_eq!(
            att.get("cid:b").and_then(Payload::in_memory),
            Some(&b"ISA*00"[..])
        );
    }

    #[test]
    fn cid_lookup_variants() {
        let mut att = Attachments::empty();
        assert!(att.insert("<attachment>", Payload::from_bytes(b"one".to_vec())));
        assert!(att.insert(
            "payload-1@hts-gateway",
            Payload::from_bytes(b"two".to_vec())
        ));
        assert!(att.insert("<100%25real>", Payload::from_bytes(b"three".to_vec())));
        assert!(!att.insert("attachment", Payload::from_bytes(b"dup".to_vec())));
        for href in [
            "cid:attachment",
            "cid:%3Cattachment%3E",
            "cid:%3cattachment%3e",
            "cid:<attachment>",
            "CID:attachment",
            "<attachment>",
            "attachment",
            " cid:attachment ",
        ] {
            assert_eq!(
                att.get(href).and_then(Payload::in_memory),
                Some(&b"one"[..]),
                "{href}"
            );
        }
        assert_eq!(
            att.get("cid:payload-1%40hts-gateway")
                .and_then(Payload::in_memory),
            Some(&b"two"[..])
        );
        assert_eq!(
            att.get("cid:payload-1@hts-gateway")
                .and_then(Payload::in_memory),
            Some(&b"two"[..])
        );
        // The header held the encoded form: both the encoded and decoded hrefs find it.
        assert_eq!(
            att.get("cid:100%25real").and_then(Payload::in_memory),
            Some(&b"three"[..])
        );
        assert_eq!(
            att.get("cid:100%real").and_then(Payload::in_memory),
            Some(&b"three"[..])
        );
        assert_eq!(att.get("cid:missing").and_then(Payload::in_memory), None);
        assert_eq!(Attachments::empty().get("cid:attachment"), None);
        assert!(format!("{att:?}").contains("payload-1@hts-gateway"));
    }

    fn response() -> ResponseEnvelope {
        ResponseEnvelope {
            operation: Operation::BatchSubmit,
            payload_type: "X12_BatchReceiptConfirmation".into(),
            processing_mode: "Batch".into(),
            payload_id: "f81d4fae-7dec-11d0-a765-00a0c91e6bf6".into(),
            payload_length: Some(4),
            timestamp: "2026-06-15T12:00:00Z".into(),
            sender_id: "PayerB".into(),
            receiver_id: "HospitalA".into(),
            core_rule_version: "2.2.0".into(),
            checksum: Some("0123abcd".into()),
            // Contains the caller's boundary: the encoder must pick another.
            payload: b"--BND\r\n".to_vec(),
            error_code: "Success".into(),
            error_message: "Envelope was processed successfully.".into(),
        }
    }

    async fn multer_fields(
        ct: &str,
        raw: Vec<u8>,
    ) -> Vec<(Option<String>, Option<String>, Vec<u8>)> {
        let boundary = ct
            .parse::<mime::Mime>()
            .unwrap()
            .get_param(mime::BOUNDARY)
            .unwrap()
            .to_string();
        let mut mp = multer::Multipart::new(body(&raw, 13), boundary);
        let mut out = Vec::new();
        while let Some(f) = mp.next_field().await.unwrap() {
            let name = f.name().map(str::to_string);
            let cid = f
                .headers()
                .get("content-id")
                .map(|v| v.to_str().unwrap().to_string());
            out.push((name, cid, f.bytes().await.unwrap().to_vec()));
        }
        out
    }

    #[tokio::test]
    async fn mime_response_round_trip() {
        let r = response();
        let (ct, raw) = encode_mime_response(&r, "BND");
        assert!(ct.starts_with("multipart/form-data; boundary="));
        assert_eq!(multer::parse_boundary(&ct).map(|b| b == "BND"), Ok(false));
        let fields = multer_fields(&ct, raw.clone()).await;
        let get = |n: &str| {
            fields
                .iter()
                .find(|(name, _, _)| name.as_deref() == Some(n))
                .map(|(_, _, v)| v.clone())
        };
        assert_eq!(fields.len(), 12);
        assert_eq!(get("PayloadType").unwrap(), b"X12_BatchReceiptConfirmation");
        assert_eq!(get("PayloadLength").unwrap(), b"4");
        assert_eq!(get("CheckSum").unwrap(), b"0123abcd");
        assert_eq!(get("ErrorCode").unwrap(), b"Success");
        assert_eq!(
            get("ErrorMessage").unwrap(),
            b"Envelope was processed successfully."
        );
        assert_eq!(get("Payload").unwrap(), b"--BND\r\n");

        // Our own reader agrees (a response is shaped like a request).
        let env = read_mime_form(&ct, body(&raw, 29), &Limits::default())
            .await
            .unwrap();
        assert_eq!(env.metadata.sender_id.as_deref(), Some("PayerB"));
        assert_eq!(env.payload_bytes(), Some(&b"--BND\r\n"[..]));

        // Real-time: no PayloadLength/CheckSum fields, and the caller's boundary is kept.
        let rt = ResponseEnvelope {
            operation: Operation::RealTime,
            payload_length: None,
            checksum: None,
            payload: b"ISA*00~".to_vec(),
            ..response()
        };
        let (ct, raw) = encode_mime_response(&rt, "uuid-1234");
        assert_eq!(ct, "multipart/form-data; boundary=\"uuid-1234\"");
        let names: Vec<String> = multer_fields(&ct, raw)
            .await
            .into_iter()
            .filter_map(|(n, _, _)| n)
            .collect();
        assert_eq!(
            names,
            [
                "PayloadType",
                "ProcessingMode",
                "PayloadID",
                "TimeStamp",
                "SenderID",
                "ReceiverID",
                "CORERuleVersion",
                "ErrorCode",
                "ErrorMessage",
                "Payload"
            ]
        );
    }

    #[tokio::test]
    async fn mtom_response_round_trip() {
        let xml = b"<env:Envelope><Payload><xop:Include href=\"cid:payload-1@hts\"/></Payload></env:Envelope>";
        let attachment = b"ISA*00*~\r\n--uuid:b\x00\xff".to_vec();
        let (ct, raw) = encode_mtom_response(
            xml,
            "<payload-1@hts>",
            &attachment,
            "BatchResultsRetrievalTransaction",
            "uuid:b",
        );
        let m: mime::Mime = ct.parse().unwrap();
        assert_eq!(m.essence_str(), "multipart/related");
        assert_eq!(m.get_param("type").unwrap(), "application/xop+xml");
        assert_eq!(m.get_param("start").unwrap(), "<rootpart>");
        assert_eq!(m.get_param("start-info").unwrap(), "application/soap+xml");
        assert_eq!(
            m.get_param("action").unwrap(),
            "BatchResultsRetrievalTransaction"
        );
        assert_ne!(m.get_param(mime::BOUNDARY).unwrap(), "uuid:b");

        let parts = multer_fields(&ct, raw.clone()).await;
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].1.as_deref(), Some("<rootpart>"));
        assert_eq!(parts[0].2, xml);
        assert_eq!(parts[1].1.as_deref(), Some("<payload-1@hts>"));
        assert_eq!(parts[1].2, attachment);

        let (root, att) = read_mtom(&ct, body(&raw, 17), &Limits::default())
            .await
            .unwrap();
        assert_eq!(root, xml);
        assert_eq!(
            att.get("cid:payload-1@hts").and_then(Payload::in_memory),
            Some(attachment.as_slice())
        );
    }

    #[test]
    fn boundaries_are_checked() {
        assert_eq!(safe_boundary("abc", [&b"xyz"[..]]), "abc");
        let b = safe_boundary("abc", [&b"..abc.."[..]]);
        assert!(b.starts_with("abc=") && b.len() == 36, "{b}");
        // Invalid characters or lengths are replaced.
        let b = safe_boundary("a\"b\r\n", [&b""[..]]);
        assert!(b.starts_with("ab=") && !b.contains('"'), "{b}");
        let b = safe_boundary(&"x".repeat(80), [&b""[..]]);
        assert!(b.len() <= MAX_BOUNDARY, "{b}");
        let b = safe_boundary("", [&b""[..]]);
        assert!(b.starts_with('=') && b.len() == 33, "{b}");
        assert_eq!(find(b"hello", b"llo"), Some(2));
        assert_eq!(find(b"hello", b"lloo"), None);
        assert_eq!(find(b"", b"a"), None);
    }
}

#[cfg(test)]
mod chunking_tests {
    #![allow(clippy::unwrap_used)]

    use std::task::Poll;

    use super::*;
    use crate::core::request::{Request, encode_mime_request, encode_mtom_request};

    /// An 837P batch as MIME and as MTOM: (payload, MIME type, MIME body, MTOM type, MTOM body).
    fn batch_requests() -> (Vec<u8>, String, Vec<u8>, String, Vec<u8>) {
        let x12 = std::fs::read(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("fixtures/x12/837P_two_claims.x12"),
        )
        .unwrap();
        let mut r = Request::new(
            Operation::BatchSubmit,
            "X12_837_Request_005010X222A1",
            x12.clone(),
        );
        r.metadata.sender_id = Some("110048577A".into());
        r.metadata.receiver_id = Some("DEMOPLAN".into());
        r.credentials = Some(("alice".into(), "secret".into()));
        let (mime_ct, mime) = encode_mime_request(&r, "mime-boundary");
        let (mtom_ct, mtom) = encode_mtom_request(&r, "mtom-boundary");
        (x12, mime_ct, mime, mtom_ct, mtom)
    }

    /// However the body is cut into pieces, a well-formed request reads the same. (These
    /// pieces are all ready at once, so multer takes them in one poll; see
    /// `a_body_that_arrives_whole_after_a_stall_reads_the_same` for a body that pauses.)
    #[tokio::test]
    async fn every_split_reads_the_same() {
        let (x12, mime_ct, mime, mtom_ct, mtom) = batch_requests();
        for size in 1..=600 {
            let pieces = |b: &[u8]| {
                let v: Vec<Result<Bytes, std::io::Error>> = b
                    .chunks(size)
                    .map(|c| Ok(Bytes::copy_from_slice(c)))
                    .collect();
                futures_util::stream::iter(v)
            };
            let env = read_mime_form(&mime_ct, pieces(&mime), &Limits::default())
                .await
                .unwrap_or_else(|e| panic!("MIME in pieces of {size}: {e}"));
            assert_eq!(env.payload_bytes(), Some(&x12[..]), "MIME, {size}");
            let (_, att) = read_mtom(&mtom_ct, pieces(&mtom), &Limits::default())
                .await
                .unwrap_or_else(|e| panic!("MTOM in pieces of {size}: {e}"));
            assert_eq!(
                att.get("attachment").and_then(Payload::in_memory),
                Some(&x12[..])
            );
        }
    }

    /// A body as a socket may deliver it: the first `cut` bytes at once (none when `cut` is
    /// 0), then nothing for a moment (`Pending`, the task woken), then the rest and the end
    /// of the body together, with no `Pending` between them. An HTTP/2 request body that fits
    /// one DATA frame arrives like this when the handler polls it before the frame is in.
    fn stalls_once(
        body: &[u8],
        cut: usize,
    ) -> impl Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static {
        let mut first = (cut > 0).then(|| Bytes::copy_from_slice(&body[..cut]));
        let mut rest = Some(Bytes::copy_from_slice(&body[cut..]));
        let mut stalled = false;
        futures_util::stream::poll_fn(move |cx| {
            if let Some(piece) = first.take() {
                return Poll::Ready(Some(Ok(piece)));
            }
            if !stalled {
                stalled = true;
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            Poll::Ready(rest.take().map(Ok))
        })
    }

    /// The body and its end arriving together, right after a stall, read like any other
    /// arrival (multer 3.1.0 alone reports such a body as incomplete when the stall came
    /// before the first boundary was in: see `ArrivalGap`).
    #[tokio::test]
    async fn a_body_that_arrives_whole_after_a_stall_reads_the_same() {
        let (x12, mime_ct, mime, mtom_ct, mtom) = batch_requests();
        for cut in 0..mime.len().max(mtom.len()) {
            if cut < mime.len() {
                let env = read_mime_form(&mime_ct, stalls_once(&mime, cut), &Limits::default())
                    .await
                    .unwrap_or_else(|e| panic!("MIME after a stall at {cut}: {e}"));
                assert_eq!(env.payload_bytes(), Some(&x12[..]), "MIME, {cut}");
            }
            if cut < mtom.len() {
                let (_, att) = read_mtom(&mtom_ct, stalls_once(&mtom, cut), &Limits::default())
                    .await
                    .unwrap_or_else(|e| panic!("MTOM after a stall at {cut}: {e}"));
                assert_eq!(
                    att.get("attachment").and_then(Payload::in_memory),
                    Some(&x12[..]),
                    "MTOM, {cut}"
                );
            }
        }
        // A body that really is cut short is still refused.
        let err = read_mime_form(
            &mime_ct,
            stalls_once(&mime[..mime.len() - 9], 0),
            &Limits::default(),
        )
        .await
        .unwrap_err();
        assert_eq!(err.kind(), Kind::MalformedMultipart, "{err}");
        let err = read_mime_form(&mime_ct, stalls_once(&mime[..10], 0), &Limits::default())
            .await
            .unwrap_err();
        assert_eq!(err.kind(), Kind::MalformedMultipart, "{err}");
    }
}
