//! One envelope type for every wire: SOAP 1.2, SOAP with MTOM/XOP, and HTTP MIME multipart all
//! decode into [`Envelope`]; responses are built as [`ResponseEnvelope`] and encoded back in the
//! request's own style.

use std::borrow::Cow;
use std::fmt;

use super::payload::Payload;

/// Namespace of the CORE vC2.2.0 envelope elements.
pub const CORE_NS: &str = "http://www.caqh.org/SOAP/WSDL/CORERule2.2.0.xsd";
/// Namespace of the WSDL definitions.
pub const WSDL_NS: &str = "http://www.caqh.org/SOAP/WSDL/";
/// SOAP 1.2 envelope namespace.
pub const SOAP12_NS: &str = "http://www.w3.org/2003/05/soap-envelope";
/// SOAP 1.1 envelope namespace (refused with a clear fault).
pub const SOAP11_NS: &str = "http://schemas.xmlsoap.org/soap/envelope/";
/// The only CORERuleVersion this gateway speaks.
pub const CORE_RULE_VERSION: &str = "2.2.0";

/// Now as a CORE TimeStamp: `YYYY-MM-DDThh:mm:ssZ`, UTC.
pub fn timestamp_now() -> String {
    timestamp_of(time::OffsetDateTime::now_utc())
}

/// `t` as CORE's TimeStamp (UTC, to the second). Digits written directly: every response
/// carries one, and `format!` with six padded numbers cost about 1% of a real-time request.
fn timestamp_of(t: time::OffsetDateTime) -> String {
    let mut out = String::with_capacity(20);
    push_utc_seconds(&mut out, t);
    out.push('Z');
    out
}

/// Appends `t` in UTC as `YYYY-MM-DDThh:mm:ss`: the CORE TimeStamp's and the audit log's
/// timestamps (`store::audit`), three for every request. Digits go into a fixed buffer, checked
/// as text once: the date is derived once (`to_calendar_date`) rather than once per field, and
/// one UTF-8 check replaces six. Years outside 0..=9999 cannot come from the clock; they are
/// clamped so the width stays fixed.
pub(crate) fn push_utc_seconds(out: &mut String, t: time::OffsetDateTime) {
    use crate::x12::writer::put_digits;
    let t = t.to_offset(time::UtcOffset::UTC);
    let (year, month, day) = t.to_calendar_date();
    let (hour, minute, second) = t.to_hms();
    let mut text = *b"0000-00-00T00:00:00";
    put_digits(&mut text[0..4], year.clamp(0, 9999).unsigned_abs());
    put_digits(&mut text[5..7], u8::from(month).into());
    put_digits(&mut text[8..10], day.into());
    put_digits(&mut text[11..13], hour.into());
    put_digits(&mut text[14..16], minute.into());
    put_digits(&mut text[17..19], second.into());
    out.push_str(std::str::from_utf8(&text).unwrap_or_default());
}

/// The eight operations of the CORE WSDL (soapAction = the operation name).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Operation {
    RealTime,
    BatchSubmit,
    BatchSubmitAckRetrieval,
    BatchResultsRetrieval,
    BatchResultsAckSubmit,
    GenericBatchSubmission,
    GenericBatchRetrieval,
    GenericBatchReceiptConfirmation,
}

impl Operation {
    pub const ALL: [Self; 8] = [
        Self::RealTime,
        Self::BatchSubmit,
        Self::BatchSubmitAckRetrieval,
        Self::BatchResultsRetrieval,
        Self::BatchResultsAckSubmit,
        Self::GenericBatchSubmission,
        Self::GenericBatchRetrieval,
        Self::GenericBatchReceiptConfirmation,
    ];

    /// The WSDL operation name, which is also its soapAction.
    pub fn name(self) -> &'static str {
        match self {
            Self::RealTime => "RealTimeTransaction",
            Self::BatchSubmit => "BatchSubmitTransaction",
            Self::BatchSubmitAckRetrieval => "BatchSubmitAckRetrievalTransaction",
            Self::BatchResultsRetrieval => "BatchResultsRetrievalTransaction",
            Self::BatchResultsAckSubmit => "BatchResultsAckSubmitTransaction",
            Self::GenericBatchSubmission => "GenericBatchSubmissionTransaction",
            Self::GenericBatchRetrieval => "GenericBatchRetrievalTransaction",
            Self::GenericBatchReceiptConfirmation => "GenericBatchReceiptConfirmationTransaction",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|o| o.name() == name)
    }

    /// The body element of the request (several operations share one).
    pub fn request_element(self) -> &'static str {
        match self {
            Self::RealTime => "COREEnvelopeRealTimeRequest",
            Self::BatchSubmit | Self::GenericBatchSubmission => "COREEnvelopeBatchSubmission",
            Self::BatchSubmitAckRetrieval => "COREEnvelopeBatchSubmissionAckRetrievalRequest",
            Self::BatchResultsRetrieval | Self::GenericBatchRetrieval => {
                "COREEnvelopeBatchResultsRetrievalRequest"
            }
            Self::BatchResultsAckSubmit | Self::GenericBatchReceiptConfirmation => {
                "COREEnvelopeBatchResultsAckSubmission"
            }
        }
    }

    /// The body element of the response.
    pub fn response_element(self) -> &'static str {
        match self {
            Self::RealTime => "COREEnvelopeRealTimeResponse",
            Self::BatchSubmit | Self::GenericBatchSubmission => {
                "COREEnvelopeBatchSubmissionResponse"
            }
            Self::BatchSubmitAckRetrieval => "COREEnvelopeBatchSubmissionAckRetrievalResponse",
            Self::BatchResultsRetrieval | Self::GenericBatchRetrieval => {
                "COREEnvelopeBatchResultsRetrievalResponse"
            }
            Self::BatchResultsAckSubmit | Self::GenericBatchReceiptConfirmation => {
                "COREEnvelopeBatchResultsAckSubmissionResponse"
            }
        }
    }

    /// The operations whose request body element is `element` (one or two: the "Generic"
    /// operations reuse the elements of the CORE-specified ones).
    pub fn for_request_element(element: &str) -> Vec<Self> {
        Self::ALL
            .into_iter()
            .filter(|o| o.request_element() == element)
            .collect()
    }

    /// `RealTime` or `Batch`: the ProcessingMode this operation requires.
    pub fn processing_mode(self) -> &'static str {
        if self == Self::RealTime {
            "RealTime"
        } else {
            "Batch"
        }
    }

    /// Whether the envelope carries PayloadLength and CheckSum (batch submissions).
    pub fn is_submission(self) -> bool {
        matches!(self, Self::BatchSubmit | Self::GenericBatchSubmission)
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How the request arrived; the response goes back the same way.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wire {
    /// SOAP 1.2, payload inline (text, CDATA or base64).
    Soap,
    /// SOAP 1.2 in multipart/related with XOP attachments.
    Mtom,
    /// HTTP MIME multipart/form-data.
    Mime,
}

impl Wire {
    /// Lower-case name, for logs and metric labels.
    pub fn name(self) -> &'static str {
        match self {
            Self::Soap => "soap",
            Self::Mtom => "mtom",
            Self::Mime => "mime",
        }
    }
}

/// Who the caller says they are, as the envelope carries it (WS-Security UsernameToken or the
/// MIME UserName/Password fields). A client certificate comes from TLS, not from here.
#[derive(Clone, PartialEq, Eq)]
pub enum Credentials {
    Password {
        user: String,
        password: String,
    },
    /// WS-Security PasswordDigest: refused with a clear error (CORE uses PasswordText).
    PasswordDigest {
        user: String,
    },
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print a password, even in debug output.
        match self {
            Self::Password { user, .. } => write!(f, "Password {{ user: {user:?}, .. }}"),
            Self::PasswordDigest { user } => write!(f, "PasswordDigest {{ user: {user:?} }}"),
        }
    }
}

/// The CORE metadata of a request. A field is `None` when the request did not carry it at all,
/// so "required" and "illegal" can be told apart.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Metadata {
    pub payload_type: Option<String>,
    pub processing_mode: Option<String>,
    pub payload_id: Option<String>,
    pub payload_length: Option<String>,
    pub timestamp: Option<String>,
    pub sender_id: Option<String>,
    pub receiver_id: Option<String>,
    pub core_rule_version: Option<String>,
    pub checksum: Option<String>,
}

/// A decoded request, whatever the wire.
#[derive(Clone, Debug)]
pub struct Envelope {
    pub operation: Operation,
    pub wire: Wire,
    pub metadata: Metadata,
    /// The payload (X12 or another file), decoded from CDATA, text, base64 or an attachment
    /// (spooled to disk when large); `None` when the request had no Payload.
    pub payload: Option<Payload>,
    pub credentials: Option<Credentials>,
}

impl Envelope {
    /// The payload's bytes when it is held in memory (always, for a real-time request).
    pub fn payload_bytes(&self) -> Option<&[u8]> {
        self.payload.as_ref().and_then(Payload::in_memory)
    }
}

/// A response, whatever the wire. Every field is always written (CORE clients expect the full
/// element set even on errors).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResponseEnvelope {
    pub operation: Operation,
    // `Cow`: these are nearly always constants, and a response is built per request.
    pub payload_type: Cow<'static, str>,
    pub processing_mode: Cow<'static, str>,
    pub payload_id: String,
    /// Batch responses: the payload's length in bytes.
    pub payload_length: Option<u64>,
    pub timestamp: String,
    pub sender_id: String,
    pub receiver_id: String,
    pub core_rule_version: Cow<'static, str>,
    /// Batch responses: SHA-1 of the payload, lower-case hex.
    pub checksum: Option<String>,
    pub payload: Vec<u8>,
    pub error_code: Cow<'static, str>,
    pub error_message: Cow<'static, str>,
}

impl ResponseEnvelope {
    /// A successful answer to a request with metadata `request`: its PayloadID echoed, its
    /// SenderID and ReceiverID swapped (the answer comes from the receiver), stamped now, in
    /// the operation's processing mode and this CORE rule version. Callers set what differs
    /// (see [`Self::with_length_and_checksum`], and the error fields of a refusal).
    pub fn reply(
        operation: Operation,
        request: &Metadata,
        payload_type: impl Into<Cow<'static, str>>,
        payload: Vec<u8>,
    ) -> Self {
        Self {
            operation,
            payload_type: payload_type.into(),
            processing_mode: operation.processing_mode().into(),
            payload_id: request.payload_id.clone().unwrap_or_default(),
            payload_length: None,
            timestamp: timestamp_now(),
            sender_id: request.receiver_id.clone().unwrap_or_default(),
            receiver_id: request.sender_id.clone().unwrap_or_default(),
            core_rule_version: CORE_RULE_VERSION.into(),
            checksum: None,
            payload,
            error_code: "Success".into(),
            error_message: "Envelope was processed successfully.".into(),
        }
    }

    /// Batch answers carry the payload's length and SHA-1 CheckSum.
    pub fn with_length_and_checksum(mut self) -> Self {
        self.payload_length = Some(self.payload.len() as u64);
        self.checksum = Some(super::validate::sha1_hex(&self.payload));
        self
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn timestamps_are_utc_seconds_in_fixed_width() {
        let at = |unix: i64, offset_hours: i8| {
            time::OffsetDateTime::from_unix_timestamp(unix)
                .unwrap()
                .to_offset(time::UtcOffset::from_hms(offset_hours, 0, 0).unwrap())
        };
        assert_eq!(timestamp_of(at(0, 0)), "1970-01-01T00:00:00Z");
        assert_eq!(timestamp_of(at(1_781_524_800, -5)), "2026-06-15T12:00:00Z");
        assert_eq!(
            timestamp_of(at(253_402_300_799, -3)),
            "9999-12-31T23:59:59Z"
        );
        assert_eq!(timestamp_of(at(-62_135_596_800, 0)), "0001-01-01T00:00:00Z");
        let now = timestamp_now();
        assert_eq!(now.len(), 20);
        assert!(
            time::PrimitiveDateTime::parse(
                now.trim_end_matches('Z'),
                time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]")
            )
            .is_ok(),
            "{now}"
        );
    }
}
