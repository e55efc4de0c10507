//! Routing and the CORE request pipeline: decode (whatever the wire) → authenticate → check the
//! envelope → answer → encode in the request's own style. Every response carries a correlation
//! ID, which is also on the request's log line.

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use http::header::{CONTENT_TYPE, HeaderValue};
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;

use super::AppState;
use crate::auth::{self, Principal};
use crate::core::envelope::{Credentials, Envelope, Metadata, Operation, Wire};
use crate::core::error::{Answer, Failure, Kind};
use crate::core::multipart::{self, Attachments};
use crate::core::payload::SpoolPolicy;
use crate::core::soap::{self, PayloadStyle};
use crate::core::{ResponseEnvelope, validate};
use crate::store::audit::AuditRecord;
use crate::x12::tree::control_numbers;

pub type Body = Full<Bytes>;

const WSDL: &str = include_str!("../../wsdl/CORERule2.2.0.wsdl");
const XSD: &str = include_str!("../../wsdl/CORERule2.2.0.xsd");
const WSDL_ADDRESS_PLACEHOLDER: &str = "https://localhost:8443/core";
pub const CORRELATION_HEADER: &str = "x-correlation-id";

/// Entry point for every request.
pub async fn handle(
    state: Arc<AppState>,
    req: Request<Incoming>,
    client_cert: Option<String>,
) -> Response<Body> {
    // Time-ordered (UUIDv7): the audit log's unique index on it then grows at its end instead
    // of touching a random page per request, which cost a page write per audited request.
    let mut id = uuid::Uuid::encode_buffer();
    let id: &str = uuid::Uuid::now_v7().hyphenated().encode_lower(&mut id);
    let correlation = id.to_owned();
    let correlation_header = HeaderValue::from_str(id).ok();
    let mut response = match route(&req) {
        Route::Live => live(),
        Route::Ready => ready(&state).await,
        Route::Wsdl => {
            let address = format!("https://{}/core", host(&req));
            xml(
                StatusCode::OK,
                WSDL.replace(WSDL_ADDRESS_PLACEHOLDER, &address),
            )
        }
        Route::Xsd => xml(StatusCode::OK, XSD.to_string()),
        Route::Core => core_request(&state, req, client_cert, correlation).await,
        Route::CoreWrongMethod => text(
            StatusCode::METHOD_NOT_ALLOWED,
            "use POST for CORE envelopes, GET /core?wsdl for the contract\n",
        ),
        Route::NotFound => text(
            StatusCode::NOT_FOUND,
            "not found: the CORE endpoint is /core\n",
        ),
    };
    if let Some(v) = correlation_header {
        response.headers_mut().insert(CORRELATION_HEADER, v);
    }
    response
}

/// What a request asks for, by method and path.
enum Route {
    Live,
    Ready,
    Wsdl,
    Xsd,
    Core,
    CoreWrongMethod,
    NotFound,
}

fn route(req: &Request<Incoming>) -> Route {
    match (req.method(), req.uri().path()) {
        (&Method::GET, "/live") => Route::Live,
        (&Method::GET, "/ready") => Route::Ready,
        (&Method::GET, "/core") if req.uri().query().is_some_and(is_wsdl_query) => Route::Wsdl,
        (&Method::GET, "/CORERule2.2.0.xsd" | "/core/CORERule2.2.0.xsd") => Route::Xsd,
        (&Method::POST, "/core") => Route::Core,
        (_, "/core") => Route::CoreWrongMethod,
        _ => Route::NotFound,
    }
}

fn is_wsdl_query(q: &str) -> bool {
    q.split('&').any(|p| p.eq_ignore_ascii_case("wsdl"))
}

/// The host the client used, for the WSDL's service address.
fn host(req: &Request<Incoming>) -> String {
    req.uri()
        .authority()
        .map(|a| a.to_string())
        .or_else(|| {
            req.headers()
                .get(http::header::HOST)
                .and_then(|h| h.to_str().ok())
                .map(str::to_string)
        })
        .filter(|h| {
            h.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
        })
        .unwrap_or_else(|| "localhost".into())
}

/// `/live`: the process answers.
pub(super) fn live() -> Response<Body> {
    text(StatusCode::OK, "live\n")
}

/// `/ready`: the database answers too.
pub(super) async fn ready(state: &AppState) -> Response<Body> {
    match state.store.ping().await {
        Ok(()) => text(StatusCode::OK, "ready\n"),
        Err(e) => text(
            StatusCode::SERVICE_UNAVAILABLE,
            &format!("not ready: {e}\n"),
        ),
    }
}

pub(super) fn text(status: StatusCode, body: &str) -> Response<Body> {
    let mut r = Response::new(Full::new(Bytes::from(body.to_string())));
    *r.status_mut() = status;
    r.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

fn xml(status: StatusCode, body: String) -> Response<Body> {
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = status;
    r.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/xml; charset=utf-8"),
    );
    r
}

/// What is known of an exchange as it goes, for its log line and audit row.
#[derive(Debug, Default)]
struct LogFields {
    operation: Option<Operation>,
    wire: Option<Wire>,
    principal: Option<Arc<Principal>>,
    error_code: &'static str,
}

/// POST /core: decode, serve, encode; then one log line, one metric and one audit row for the
/// exchange.
async fn core_request(
    state: &AppState,
    mut req: Request<Incoming>,
    client_cert: Option<String>,
    correlation: String,
) -> Response<Body> {
    let started = Instant::now();
    let received_at = time::OffsetDateTime::now_utc();
    let mut log = LogFields {
        error_code: "Success",
        ..LogFields::default()
    };
    // Taken out of the request (the body is consumed below): no copy.
    let content_type = req.headers_mut().remove(CONTENT_TYPE);
    let content_type = content_type
        .as_ref()
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let wire = wire_of(content_type);
    log.wire = wire;
    let decoded = decode(state, req, content_type, wire).await;
    let (response, envelope, answer) = match decoded {
        Err(f) => {
            log.error_code = f.row().error_code;
            let response = failure_response(&f, wire.unwrap_or(Wire::Soap), None, &correlation);
            (response, None, None)
        }
        Ok(envelope) => {
            log.operation = Some(envelope.operation);
            let wire = envelope.wire;
            match serve_envelope(
                state,
                &envelope,
                client_cert,
                &correlation,
                started,
                &mut log,
            )
            .await
            {
                Ok(r) => (encode(&r, wire, StatusCode::OK), Some(envelope), Some(r)),
                Err(f) => {
                    log.error_code = f.row().error_code;
                    let response = failure_response(&f, wire, Some(&envelope), &correlation);
                    (response, Some(envelope), None)
                }
            }
        }
    };
    let record = audit_record(
        correlation,
        received_at,
        &log,
        envelope,
        answer,
        response.status(),
    );
    let elapsed = started.elapsed();
    tracing::info!(
        correlation_id = %record.correlation_id,
        operation = log.operation.map(Operation::name).unwrap_or("-"),
        wire = log.wire.map(Wire::name).unwrap_or("-"),
        user = record.user_name.as_deref().unwrap_or("-"),
        payload_id = record.payload_id.as_deref().unwrap_or("-"),
        status = response.status().as_u16(),
        error_code = log.error_code,
        elapsed_ms = elapsed.as_millis() as u64,
        "core request"
    );
    state.metrics.exchange(
        log.operation.map(Operation::name),
        log.wire.map(Wire::name),
        log.error_code,
        elapsed,
    );
    state.audit.record(record).await;
    response
}

/// The audit row of one exchange (metadata and control numbers; no payloads, only their SHA-1).
/// Takes the envelope and answer, which are done with: their strings move into the row.
fn audit_record(
    correlation: String,
    received_at: time::OffsetDateTime,
    log: &LogFields,
    env: Option<Envelope>,
    answer: Option<ResponseEnvelope>,
    status: StatusCode,
) -> AuditRecord {
    let (metadata, payload) = env.map_or((Metadata::default(), None), |e| (e.metadata, e.payload));
    let request = payload
        .as_ref()
        .map(|p| control_numbers(p.head()))
        .unwrap_or_default();
    let (response_payload_type, response_payload) = match answer {
        Some(a) => (
            Some(a.payload_type),
            Some(a.payload).filter(|p| !p.is_empty()),
        ),
        None => (
            (log.error_code != "Success").then_some("CoreEnvelopeError".into()),
            None,
        ),
    };
    AuditRecord {
        correlation_id: correlation,
        received_at,
        answered_at: Some(time::OffsetDateTime::now_utc()),
        operation: log.operation.map(|o| o.name().into()),
        wire: log.wire,
        organization: log.principal.as_ref().map(|p| p.organization.clone()),
        user_name: log.principal.as_ref().map(|p| p.user.clone()),
        sender_id: metadata.sender_id,
        receiver_id: metadata.receiver_id,
        payload_id: metadata.payload_id,
        payload_type: metadata.payload_type,
        response_payload_type,
        request_bytes: payload.as_ref().map_or(0, |p| p.len()),
        response_bytes: response_payload.as_ref().map(|p| p.len() as u64),
        http_status: Some(status.as_u16()),
        error_code: Some(log.error_code.into()),
        isa13: request.isa13.map(String::from),
        gs06: request.gs06.map(String::from),
        st02: request.st02.map(String::from),
        response_isa13: response_payload
            .as_deref()
            .and_then(|p| control_numbers(p).isa13.map(String::from)),
        test_mode: request.test,
        request_sha1: payload.as_ref().map(|p| p.sha1_hex()),
        response_sha1: response_payload.as_deref().map(validate::sha1_hex),
    }
}

async fn serve_envelope(
    state: &AppState,
    env: &Envelope,
    client_cert: Option<String>,
    correlation: &str,
    received: Instant,
    log: &mut LogFields,
) -> Result<ResponseEnvelope, Failure> {
    let principal = authenticate(state, env, client_cert).await?;
    log.principal = Some(Arc::clone(&principal));
    validate::check(env, &state.rules)?;
    let sender = env.metadata.sender_id.as_deref().unwrap_or("");
    if !principal.sender_ids.iter().any(|s| s == sender) {
        return Err(Failure::new(
            Kind::SenderNotAuthorized,
            format!("SenderID {sender:?}, user {:?}", principal.user),
        ));
    }
    match env.operation {
        Operation::RealTime => super::realtime::answer(state, env, &principal, received).await,
        Operation::BatchSubmit | Operation::GenericBatchSubmission => {
            super::batch::receive(state, env, &principal, correlation).await
        }
        Operation::BatchSubmitAckRetrieval
        | Operation::BatchResultsRetrieval
        | Operation::GenericBatchRetrieval
        | Operation::BatchResultsAckSubmit
        | Operation::GenericBatchReceiptConfirmation => {
            super::retrieval::answer(state, env, &principal).await
        }
    }
}

async fn authenticate(
    state: &AppState,
    env: &Envelope,
    client_cert: Option<String>,
) -> Result<Arc<Principal>, Failure> {
    let result = match (&env.credentials, client_cert) {
        (Some(Credentials::PasswordDigest { .. }), _) => {
            return Err(Failure::new(Kind::PasswordDigest, ""));
        }
        (Some(Credentials::Password { user, password }), _) => {
            if let Some(p) = state.signins.get(user, password) {
                return Ok(p);
            }
            let result = auth::authenticate_password(&state.store, user, password, &state.lockout)
                .await
                .map(Arc::new);
            match &result {
                Ok(p) => state.signins.put(user, password, p),
                Err(_) => state.signins.forget(user),
            }
            result
        }
        (None, Some(fingerprint)) => auth::authenticate_certificate(&state.store, &fingerprint)
            .await
            .map(Arc::new),
        (None, None) => return Err(Failure::new(Kind::AuthenticationRequired, "")),
    };
    match result {
        Ok(p) => Ok(p),
        Err(e) => {
            // Slow down repeated failures (the policy grows the delay with each one).
            let delay = e.delay();
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            Err(if e.is_unavailable() {
                Failure::new(Kind::Unavailable, "")
            } else if e.is_locked_out() {
                Failure::new(Kind::LockedOut, "")
            } else {
                Failure::new(Kind::AuthenticationFailed, "")
            })
        }
    }
}

/// The wire a Content-Type names, if any.
fn wire_of(content_type: &str) -> Option<Wire> {
    let essence = content_type.split(';').next().unwrap_or("").trim();
    [
        ("application/soap+xml", Wire::Soap),
        ("text/xml", Wire::Soap),
        ("multipart/related", Wire::Mtom),
        ("multipart/form-data", Wire::Mime),
    ]
    .into_iter()
    .find_map(|(name, wire)| essence.eq_ignore_ascii_case(name).then_some(wire))
}

/// The `action` parameter of a Content-Type (SOAP 1.2), or else the SOAPAction header.
fn action_of<'a>(content_type: &'a str, soap_action: Option<&'a HeaderValue>) -> Option<&'a str> {
    content_type
        .split(';')
        .skip(1)
        .filter_map(|p| p.split_once('='))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("action"))
        .map(|(_, v)| v)
        .or_else(|| soap_action.and_then(|v| v.to_str().ok()))
        .map(|v| v.trim().trim_matches('"'))
        .filter(|a| !a.is_empty())
}

async fn decode(
    state: &AppState,
    mut req: Request<Incoming>,
    content_type: &str,
    wire: Option<Wire>,
) -> Result<Envelope, Failure> {
    let Some(wire) = wire else {
        return Err(Failure::new(
            Kind::UnsupportedMediaType,
            format!("received {content_type:?}"),
        ));
    };
    let limits = &state.limits;
    // A plain SOAP body is held in memory; multipart payloads are streamed to disk.
    let (max, whole_body_time) = match wire {
        Wire::Soap => (limits.max_inline_bytes, limits.body_timeout),
        Wire::Mtom | Wire::Mime => (limits.max_body_bytes, limits.upload_timeout),
    };
    if let Some(len) = req
        .headers()
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        && len > max
    {
        return Err(too_large(wire, len, max));
    }
    let soap_action = req.headers_mut().remove("soapaction");
    let action = action_of(content_type, soap_action.as_ref());
    let body = idle_limited(
        Limited::new(req.into_body(), usize::try_from(max).unwrap_or(usize::MAX))
            .into_data_stream(),
        limits.idle_timeout,
    );
    let read = async {
        match wire {
            Wire::Soap => {
                let bytes = collect(body).await.map_err(|f| match f.kind() {
                    Kind::BodyTooLarge => too_large(wire, max.saturating_add(1), max),
                    _ => f,
                })?;
                soap::decode_soap(&bytes, Wire::Soap, action, |_| None)
            }
            Wire::Mtom => {
                let (root, attachments): (Vec<u8>, Attachments) =
                    multipart::read_mtom(content_type, body, &multipart_limits(limits)).await?;
                // The action may also sit on the root part's type; the header's is enough here.
                soap::decode_soap(&root, Wire::Mtom, action, |cid| {
                    attachments.get(cid).cloned()
                })
            }
            Wire::Mime => {
                multipart::read_mime_form(content_type, body, &multipart_limits(limits)).await
            }
        }
    };
    tokio::time::timeout(whole_body_time, read)
        .await
        .map_err(|_| {
            Failure::new(
                Kind::BodyTimeout,
                format!("the body took longer than {} s", whole_body_time.as_secs()),
            )
        })?
}

fn too_large(wire: Wire, len: u64, max: u64) -> Failure {
    let hint = match wire {
        Wire::Soap => {
            "; a plain SOAP body is held in memory: send larger payloads as an MTOM or MIME attachment"
        }
        Wire::Mtom | Wire::Mime => "",
    };
    Failure::new(
        Kind::BodyTooLarge,
        format!("{len} bytes, limit {max}{hint}"),
    )
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The body's pieces, failing with [`Kind::BodyTimeout`] when the client pauses longer than
/// `idle` (a stalled or slow-loris client must not hold a connection and a spool file).
fn idle_limited<S>(
    body: S,
    idle: std::time::Duration,
) -> impl futures_util::Stream<Item = Result<bytes::Bytes, BoxError>> + Send + 'static
where
    S: futures_util::Stream<Item = Result<bytes::Bytes, BoxError>> + Send + 'static,
{
    use futures_util::StreamExt as _;
    futures_util::stream::unfold(Some(Box::pin(body)), move |state| async move {
        let mut body = state?;
        match tokio::time::timeout(idle, body.next()).await {
            Ok(Some(item)) => Some((item, Some(body))),
            Ok(None) => None,
            Err(_) => {
                let f = Failure::new(
                    Kind::BodyTimeout,
                    format!("no data for {} s", idle.as_secs()),
                );
                // Nothing more is read after a stall.
                Some((Err(Box::new(f) as BoxError), None))
            }
        }
    })
}

/// Reads a whole body into memory (its size is bounded by the `Limited` it is read through).
/// A body that arrives in one piece (a real-time request, usually) is kept as it came.
async fn collect<S>(body: S) -> Result<Bytes, Failure>
where
    S: futures_util::Stream<Item = Result<bytes::Bytes, BoxError>>,
{
    use futures_util::StreamExt as _;
    let mut body = std::pin::pin!(body);
    let mut first: Option<Bytes> = None;
    let mut rest = Vec::new();
    while let Some(piece) = body.next().await {
        let piece = piece.map_err(|e| body_failure(&*e))?;
        match &first {
            None => first = Some(piece),
            Some(f) => {
                if rest.is_empty() {
                    rest.extend_from_slice(f);
                }
                rest.extend_from_slice(&piece);
            }
        }
    }
    Ok(if rest.is_empty() {
        first.unwrap_or_default()
    } else {
        Bytes::from(rest)
    })
}

fn multipart_limits(limits: &super::Limits) -> multipart::Limits {
    multipart::Limits {
        max_inline_bytes: usize::try_from(limits.max_inline_bytes).unwrap_or(usize::MAX),
        max_total_bytes: limits.max_body_bytes,
        spool: SpoolPolicy {
            memory_bytes: limits.spool_memory_bytes,
            max_bytes: limits.max_body_bytes,
            dir: limits.spool_dir.clone(),
        },
        ..multipart::Limits::default()
    }
}

fn body_failure(e: &(dyn std::error::Error + Send + Sync + 'static)) -> Failure {
    if let Some(f) = e.downcast_ref::<Failure>() {
        f.clone()
    } else if e.is::<http_body_util::LengthLimitError>() {
        Failure::new(Kind::BodyTooLarge, "")
    } else {
        Failure::new(Kind::MalformedXml, format!("reading the body: {e}"))
    }
}

/// Encodes a successful or CORE-error response in the request's style.
fn encode(r: &ResponseEnvelope, wire: Wire, status: StatusCode) -> Response<Body> {
    // Only multipart answers need a boundary (a random one costs a getrandom call).
    let boundary = || format!("hts-{}", uuid::Uuid::new_v4().simple());
    let (content_type, body): (std::borrow::Cow<'static, str>, _) = match wire {
        Wire::Soap => (
            "application/soap+xml; charset=utf-8".into(),
            soap::encode_response(r, payload_style(r.operation)),
        ),
        Wire::Mtom => {
            let cid = format!("payload-{}@hts-gateway", uuid::Uuid::new_v4().simple());
            let root = soap::encode_response(r, PayloadStyle::XopInclude(&cid));
            let (content_type, body) = multipart::encode_mtom_response(
                &root,
                &cid,
                &r.payload,
                r.operation.name(),
                &boundary(),
            );
            (content_type.into(), body)
        }
        Wire::Mime => {
            let (content_type, body) = multipart::encode_mime_response(r, &boundary());
            (content_type.into(), body)
        }
    };
    let mut resp = Response::new(Full::new(Bytes::from(body)));
    *resp.status_mut() = status;
    let content_type = match content_type {
        std::borrow::Cow::Borrowed(s) => Ok(HeaderValue::from_static(s)),
        std::borrow::Cow::Owned(s) => HeaderValue::try_from(s),
    };
    if let Ok(v) = content_type {
        resp.headers_mut().insert(CONTENT_TYPE, v);
    }
    resp
}

fn payload_style(op: Operation) -> PayloadStyle<'static> {
    if op == Operation::RealTime {
        PayloadStyle::Text
    } else {
        PayloadStyle::Base64
    }
}

/// Answers a failure as the table says: a SOAP fault, or a CORE response carrying the
/// ErrorCode (MIME requests always get form fields).
fn failure_response(
    f: &Failure,
    wire: Wire,
    env: Option<&Envelope>,
    correlation: &str,
) -> Response<Body> {
    let row = f.row();
    let status = StatusCode::from_u16(row.http_status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let as_core = matches!(row.answer, Answer::CoreResponse) || wire == Wire::Mime;
    if as_core {
        let operation = env.map_or(Operation::RealTime, |e| e.operation);
        let unread = Metadata::default();
        let m = env.map_or(&unread, |e| &e.metadata);
        let mut r = ResponseEnvelope::reply(operation, m, "CoreEnvelopeError", Vec::new());
        r.error_code = row.error_code.into();
        r.error_message = f.message().into();
        return encode(&r, wire, status);
    }
    let mut resp = Response::new(Full::new(Bytes::from(soap::encode_fault(f, correlation))));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/soap+xml; charset=utf-8"),
    );
    resp
}
