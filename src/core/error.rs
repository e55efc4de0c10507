//! The one table that maps every envelope-level failure to its HTTP status, how it is answered
//! (a SOAP 1.2 fault, or a CORE response with an ErrorCode), the CORE ErrorCode, the message,
//! whose fault it is and whether retrying can help.
//!
//! The ErrorCode names follow the CORE vC2.2.0 pattern `<Field>Required` / `<Field>Illegal`
//! (see ../shared/reference/core-connectivity.md §4.1; the rule's own table could not be
//! checked, so they are kept here, in one place, to be corrected if needed).

use std::fmt;

/// How a failure is answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    /// A SOAP 1.2 Fault (SOAP and MTOM requests) with this env:Code value; MIME requests get
    /// the CORE form fields instead.
    Fault(FaultCode),
    /// A normal CORE response element with PayloadType `CoreEnvelopeError`.
    CoreResponse,
}

/// SOAP 1.2 fault codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultCode {
    Sender,
    Receiver,
    VersionMismatch,
}

impl FaultCode {
    /// The env:Value text.
    pub fn value(self) -> &'static str {
        match self {
            Self::Sender => "env:Sender",
            Self::Receiver => "env:Receiver",
            Self::VersionMismatch => "env:VersionMismatch",
        }
    }
}

/// Every envelope-level failure the gateway reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    // HTTP and body framing.
    UnsupportedMediaType,
    Soap11,
    BodyTooLarge,
    BodyTimeout,
    MalformedXml,
    DtdOrEntity,
    MalformedMultipart,
    BadBase64,
    MissingAttachment,
    UnknownOperation,
    // Security.
    AuthenticationRequired,
    AuthenticationFailed,
    PasswordDigest,
    LockedOut,
    SenderNotAuthorized,
    NotCertified,
    // CORE metadata.
    PayloadTypeRequired,
    PayloadTypeIllegal,
    ProcessingModeRequired,
    ProcessingModeIllegal,
    PayloadIdRequired,
    PayloadIdIllegal,
    TimeStampRequired,
    TimeStampIllegal,
    SenderIdRequired,
    SenderIdIllegal,
    ReceiverIdRequired,
    ReceiverIdIllegal,
    CoreRuleVersionRequired,
    VersionMismatch,
    PayloadRequired,
    PayloadIllegal,
    PayloadLengthRequired,
    PayloadLengthIllegal,
    CheckSumRequired,
    CheckSumIllegal,
    // The server.
    NotFound,
    NotReady,
    Unavailable,
    DeadlineExceeded,
    Internal,
}

/// Who must act.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Blame {
    /// The request is wrong: fix it before sending again.
    Client,
    /// The gateway could not serve a valid request.
    Server,
}

/// One row of the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Row {
    pub kind: Kind,
    pub http_status: u16,
    pub answer: Answer,
    /// CORE ErrorCode (also the MIME `ErrorCode` field, and the fault's subcode text).
    pub error_code: &'static str,
    pub message: &'static str,
    pub blame: Blame,
    pub retryable: bool,
}

const fn row(
    kind: Kind,
    http_status: u16,
    answer: Answer,
    error_code: &'static str,
    message: &'static str,
    blame: Blame,
    retryable: bool,
) -> Row {
    Row {
        kind,
        http_status,
        answer,
        error_code,
        message,
        blame,
        retryable,
    }
}

use Answer::{CoreResponse as Core, Fault};
use Blame::{Client, Server};
use FaultCode::{Receiver, Sender};

/// The table. Order is documentation only; [`Kind::row`] finds a kind's row.
pub const TABLE: &[Row] = &[
    row(
        Kind::UnsupportedMediaType,
        415,
        Fault(Sender),
        "UnsupportedMediaType",
        "Content-Type must be application/soap+xml or text/xml (SOAP 1.2), multipart/related (MTOM) or multipart/form-data (MIME)",
        Client,
        false,
    ),
    row(
        Kind::Soap11,
        415,
        Fault(FaultCode::VersionMismatch),
        "VersionMismatch",
        "SOAP 1.1 is not supported: send a SOAP 1.2 envelope (http://www.w3.org/2003/05/soap-envelope), as the CORE WSDL's binding requires",
        Client,
        false,
    ),
    row(
        Kind::BodyTooLarge,
        413,
        Fault(Sender),
        "PayloadTooLarge",
        "the request body is larger than this gateway accepts",
        Client,
        false,
    ),
    row(
        Kind::BodyTimeout,
        408,
        Fault(Sender),
        "RequestTimeout",
        "the request body did not arrive in time",
        Client,
        true,
    ),
    row(
        Kind::MalformedXml,
        400,
        Fault(Sender),
        "MalformedXML",
        "the SOAP envelope is not well-formed XML",
        Client,
        false,
    ),
    row(
        Kind::DtdOrEntity,
        400,
        Fault(Sender),
        "MalformedXML",
        "DTDs and entity declarations or references are not accepted",
        Client,
        false,
    ),
    row(
        Kind::MalformedMultipart,
        400,
        Fault(Sender),
        "MalformedMultipart",
        "the multipart body cannot be read",
        Client,
        false,
    ),
    row(
        Kind::BadBase64,
        400,
        Fault(Sender),
        "PayloadIllegal",
        "the Payload is neither X12 text nor valid base64",
        Client,
        false,
    ),
    row(
        Kind::MissingAttachment,
        400,
        Fault(Sender),
        "PayloadIllegal",
        "the Payload refers to an attachment (cid:) that the request does not carry",
        Client,
        false,
    ),
    row(
        Kind::UnknownOperation,
        400,
        Fault(Sender),
        "UnknownOperation",
        "the SOAP Body does not hold a CORE vC2.2.0 request element",
        Client,
        false,
    ),
    row(
        Kind::AuthenticationRequired,
        401,
        Fault(Sender),
        "UnAuthorized",
        "credentials are required: a WS-Security UsernameToken (PasswordText), MIME UserName and Password fields, or a client certificate",
        Client,
        false,
    ),
    row(
        Kind::AuthenticationFailed,
        401,
        Fault(Sender),
        "UnAuthorized",
        "the user name or password is wrong, or the user is not active",
        Client,
        false,
    ),
    row(
        Kind::PasswordDigest,
        401,
        Fault(Sender),
        "UnAuthorized",
        "WS-Security PasswordDigest is not supported: send the password as PasswordText over TLS, as CORE specifies",
        Client,
        false,
    ),
    row(
        Kind::LockedOut,
        401,
        Fault(Sender),
        "UnAuthorized",
        "too many failed sign-ins: the user is locked out for a while",
        Client,
        true,
    ),
    row(
        Kind::SenderNotAuthorized,
        403,
        Core,
        "SenderIDIllegal",
        "the SenderID is not linked to the authenticated user",
        Client,
        false,
    ),
    row(
        Kind::NotCertified,
        403,
        Core,
        "NotCertified",
        "this partner is not yet certified for production files of this transaction type",
        Client,
        false,
    ),
    row(
        Kind::PayloadTypeRequired,
        200,
        Core,
        "PayloadTypeRequired",
        "PayloadType is required",
        Client,
        false,
    ),
    row(
        Kind::PayloadTypeIllegal,
        200,
        Core,
        "PayloadTypeIllegal",
        "PayloadType is not accepted for this operation",
        Client,
        false,
    ),
    row(
        Kind::ProcessingModeRequired,
        200,
        Core,
        "ProcessingModeRequired",
        "ProcessingMode is required",
        Client,
        false,
    ),
    row(
        Kind::ProcessingModeIllegal,
        200,
        Core,
        "ProcessingModeIllegal",
        "ProcessingMode does not match the operation (RealTime for RealTimeTransaction, Batch for the others)",
        Client,
        false,
    ),
    row(
        Kind::PayloadIdRequired,
        200,
        Core,
        "PayloadIDRequired",
        "PayloadID is required",
        Client,
        false,
    ),
    row(
        Kind::PayloadIdIllegal,
        200,
        Core,
        "PayloadIDIllegal",
        "PayloadID must be a UUID (RFC 4122), e.g. f81d4fae-7dec-11d0-a765-00a0c91e6bf6",
        Client,
        false,
    ),
    row(
        Kind::TimeStampRequired,
        200,
        Core,
        "TimeStampRequired",
        "TimeStamp is required",
        Client,
        false,
    ),
    row(
        Kind::TimeStampIllegal,
        200,
        Core,
        "TimeStampIllegal",
        "TimeStamp must be an XML Schema dateTime, e.g. 2026-06-15T12:00:00Z",
        Client,
        false,
    ),
    row(
        Kind::SenderIdRequired,
        200,
        Core,
        "SenderIDRequired",
        "SenderID is required",
        Client,
        false,
    ),
    row(
        Kind::SenderIdIllegal,
        200,
        Core,
        "SenderIDIllegal",
        "SenderID is not valid",
        Client,
        false,
    ),
    row(
        Kind::ReceiverIdRequired,
        200,
        Core,
        "ReceiverIDRequired",
        "ReceiverID is required",
        Client,
        false,
    ),
    row(
        Kind::ReceiverIdIllegal,
        200,
        Core,
        "ReceiverIDIllegal",
        "ReceiverID does not name this gateway",
        Client,
        false,
    ),
    row(
        Kind::CoreRuleVersionRequired,
        200,
        Core,
        "CORERuleVersionRequired",
        "CORERuleVersion is required",
        Client,
        false,
    ),
    row(
        Kind::VersionMismatch,
        200,
        Core,
        "VersionMismatch",
        "CORERuleVersion must be 2.2.0",
        Client,
        false,
    ),
    row(
        Kind::PayloadRequired,
        200,
        Core,
        "PayloadRequired",
        "Payload is required",
        Client,
        false,
    ),
    row(
        Kind::PayloadIllegal,
        200,
        Core,
        "PayloadIllegal",
        "the Payload does not hold what PayloadType says",
        Client,
        false,
    ),
    row(
        Kind::PayloadLengthRequired,
        200,
        Core,
        "PayloadLengthRequired",
        "PayloadLength is required for a batch submission",
        Client,
        false,
    ),
    row(
        Kind::PayloadLengthIllegal,
        200,
        Core,
        "PayloadLengthIllegal",
        "PayloadLength does not match the payload's length in bytes",
        Client,
        false,
    ),
    row(
        Kind::CheckSumRequired,
        200,
        Core,
        "CheckSumRequired",
        "CheckSum (SHA-1 of the payload, hexadecimal) is required for a batch submission",
        Client,
        false,
    ),
    row(
        Kind::CheckSumIllegal,
        200,
        Core,
        "CheckSumIllegal",
        "CheckSum does not match the SHA-1 of the payload",
        Client,
        false,
    ),
    row(
        Kind::NotFound,
        200,
        Core,
        "PayloadIDIllegal",
        "no submission or file with this PayloadID or tracking number for this partner",
        Client,
        false,
    ),
    row(
        Kind::NotReady,
        200,
        Core,
        "NotReady",
        "the submission has not been processed yet; ask again later",
        Server,
        true,
    ),
    row(
        Kind::Unavailable,
        503,
        Fault(Receiver),
        "ServerUnavailable",
        "the gateway cannot reach its database: try again later",
        Server,
        true,
    ),
    row(
        Kind::DeadlineExceeded,
        503,
        Fault(Receiver),
        "ServerBusy",
        "the answer was not ready within the real-time deadline: try again later",
        Server,
        true,
    ),
    row(
        Kind::Internal,
        500,
        Fault(Receiver),
        "InternalError",
        "the gateway failed to process a valid request",
        Server,
        true,
    ),
];

impl Kind {
    /// This kind's row of [`TABLE`].
    pub fn row(self) -> &'static Row {
        TABLE
            .iter()
            .find(|r| r.kind == self)
            .unwrap_or(&TABLE[TABLE.len() - 1])
    }
}

/// A failure to serve a request: a kind (its row of the table) and a detail for people.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    kind: Kind,
    detail: String,
}

impl Failure {
    pub fn new(kind: Kind, detail: impl Into<String>) -> Self {
        Self {
            kind,
            detail: detail.into(),
        }
    }

    pub fn kind(&self) -> Kind {
        self.kind
    }

    pub fn row(&self) -> &'static Row {
        self.kind.row()
    }

    /// The request must change before it is sent again.
    pub fn is_client_error(&self) -> bool {
        self.row().blame == Blame::Client
    }

    /// Sending the same request again later may succeed.
    pub fn is_retryable(&self) -> bool {
        self.row().retryable
    }

    /// The message sent to the client: the table's text, then the detail.
    pub fn message(&self) -> String {
        if self.detail.is_empty() {
            self.row().message.to_string()
        } else {
            format!("{}: {}", self.row().message, self.detail)
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.message(), self.row().error_code)
    }
}

impl std::error::Error for Failure {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_exactly_one_row() {
        let mut seen = std::collections::HashSet::new();
        for r in TABLE {
            assert!(seen.insert(r.kind), "{:?} twice", r.kind);
            assert_eq!(r.kind.row().kind, r.kind);
            // A CORE response is a normal answer: HTTP 200, or 403 for authorization.
            if r.answer == Answer::CoreResponse {
                assert!(matches!(r.http_status, 200 | 403), "{:?}", r.kind);
            }
        }
    }
}
