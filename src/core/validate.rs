//! Checks the CORE metadata of a decoded envelope, in the order the rule lists them, and says
//! which row of the error table the first problem is.

use sha1::{Digest, Sha1};

use super::envelope::{CORE_RULE_VERSION, Envelope, Operation};
use super::error::{Failure, Kind};

/// PayloadTypes a real-time request may carry, and the answer's PayloadType family.
pub const REAL_TIME_PAYLOAD_TYPES: [&str; 2] =
    ["X12_270_Request_005010X279A1", "X12_276_Request_005010X212"];

/// What the gateway checks envelopes against.
#[derive(Clone, Debug, Default)]
pub struct Rules {
    /// ReceiverIDs that name this gateway; empty accepts any.
    pub receiver_ids: Vec<String>,
}

/// Checks everything but authorization (which needs the principal): version, mode, type,
/// payload ID, time stamp, sender and receiver, payload, and for batch submissions the length
/// and SHA-1 checksum.
pub fn check(env: &Envelope, rules: &Rules) -> Result<(), Failure> {
    let m = &env.metadata;
    let op = env.operation;
    fn required(v: &Option<String>, kind: Kind) -> Result<&str, Failure> {
        match v.as_deref().map(str::trim) {
            Some(s) if !s.is_empty() => Ok(s),
            _ => Err(Failure::new(kind, "")),
        }
    }
    let version = required(&m.core_rule_version, Kind::CoreRuleVersionRequired)?;
    if version != CORE_RULE_VERSION {
        return Err(Failure::new(
            Kind::VersionMismatch,
            format!("received {version:?}"),
        ));
    }
    let mode = required(&m.processing_mode, Kind::ProcessingModeRequired)?;
    if mode != op.processing_mode() {
        return Err(Failure::new(
            Kind::ProcessingModeIllegal,
            format!("{op} needs {}, received {mode:?}", op.processing_mode()),
        ));
    }
    let payload_type = required(&m.payload_type, Kind::PayloadTypeRequired)?;
    if op == Operation::RealTime && !REAL_TIME_PAYLOAD_TYPES.contains(&payload_type) {
        return Err(Failure::new(
            Kind::PayloadTypeIllegal,
            format!(
                "{payload_type:?}; real-time accepts {}",
                REAL_TIME_PAYLOAD_TYPES.join(" and ")
            ),
        ));
    }
    let payload_id = required(&m.payload_id, Kind::PayloadIdRequired)?;
    // MassHealth asks for its file list with PayloadID FILELIST.
    let file_list =
        op == Operation::GenericBatchRetrieval && payload_id.eq_ignore_ascii_case("FILELIST");
    if !file_list && uuid::Uuid::try_parse(payload_id).is_err() {
        return Err(Failure::new(
            Kind::PayloadIdIllegal,
            format!("received {payload_id:?}"),
        ));
    }
    let timestamp = required(&m.timestamp, Kind::TimeStampRequired)?;
    if !is_timestamp(timestamp) {
        return Err(Failure::new(
            Kind::TimeStampIllegal,
            format!("received {timestamp:?}"),
        ));
    }
    let sender = required(&m.sender_id, Kind::SenderIdRequired)?;
    if sender.len() > 80 || sender.chars().any(char::is_control) {
        return Err(Failure::new(Kind::SenderIdIllegal, ""));
    }
    let receiver = required(&m.receiver_id, Kind::ReceiverIdRequired)?;
    if !rules.receiver_ids.is_empty() && !rules.receiver_ids.iter().any(|r| r == receiver) {
        return Err(Failure::new(
            Kind::ReceiverIdIllegal,
            format!(
                "received {receiver:?}; this gateway is {}",
                rules.receiver_ids.join(" or ")
            ),
        ));
    }
    let payload_needed = op == Operation::RealTime || op.is_submission();
    let payload = env.payload.as_ref().filter(|p| !p.is_empty());
    if payload_needed && payload.is_none() {
        return Err(Failure::new(Kind::PayloadRequired, ""));
    }
    if op.is_submission()
        && let Some(payload) = payload
    {
        // (A submission without a payload was refused just above.)
        let (len, actual) = (payload.len(), payload.sha1_hex());
        let length = required(&m.payload_length, Kind::PayloadLengthRequired)?;
        if length.parse::<u64>().ok() != Some(len) {
            return Err(Failure::new(
                Kind::PayloadLengthIllegal,
                format!("PayloadLength {length:?}, payload {len} bytes"),
            ));
        }
        let checksum = required(&m.checksum, Kind::CheckSumRequired)?;
        if !checksum.eq_ignore_ascii_case(&actual) {
            return Err(Failure::new(
                Kind::CheckSumIllegal,
                format!("received {checksum:?}, payload SHA-1 is {actual}"),
            ));
        }
    }
    Ok(())
}

/// Lower-case hexadecimal SHA-1.
pub fn sha1_hex(bytes: &[u8]) -> String {
    hex(&Sha1::digest(bytes))
}

/// Lower-case hexadecimal of any bytes (digests; two audit hashes per request, so no
/// `format!` per byte).
pub fn hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 0xf)]));
    }
    out
}

/// An XML Schema dateTime, leniently: `YYYY-MM-DDThh:mm:ss` with optional fraction and zone
/// (`Z` or `±hh:mm`); a space instead of `T` is accepted (CONNECT sends it).
pub fn is_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() < 19 {
        return false;
    }
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    let shape = digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && matches!(b[10], b'T' | b' ')
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19);
    if !shape {
        return false;
    }
    let num = |r: std::ops::Range<usize>| s[r].parse::<u32>().unwrap_or(99);
    let (month, day, hour, minute, second) =
        (num(5..7), num(8..10), num(11..13), num(14..16), num(17..19));
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return false;
    }
    let mut rest = &s[19..];
    if let Some(frac) = rest.strip_prefix('.') {
        let n = frac.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return false;
        }
        rest = &frac[n..];
    }
    match rest {
        "" | "Z" => true,
        z => {
            let z = z.as_bytes();
            z.len() == 6
                && matches!(z[0], b'+' | b'-')
                && z[1..3].iter().all(u8::is_ascii_digit)
                && z[3] == b':'
                && z[4..6].iter().all(u8::is_ascii_digit)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::envelope::{Metadata, Wire};

    #[test]
    fn sha1_is_lower_case_hex() {
        assert_eq!(sha1_hex(b"abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
        assert_eq!(sha1_hex(b""), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    }

    fn envelope(op: Operation) -> Envelope {
        let payload = b"ISA*00*".to_vec();
        Envelope {
            operation: op,
            wire: Wire::Soap,
            metadata: Metadata {
                payload_type: Some("X12_270_Request_005010X279A1".into()),
                processing_mode: Some(op.processing_mode().into()),
                payload_id: Some("f81d4fae-7dec-11d0-a765-00a0c91e6bf6".into()),
                payload_length: Some(payload.len().to_string()),
                timestamp: Some("2026-06-15T12:00:00Z".into()),
                sender_id: Some("HOSPITAL".into()),
                receiver_id: Some("DEMOPLAN".into()),
                core_rule_version: Some("2.2.0".into()),
                checksum: Some(sha1_hex(&payload).to_uppercase()),
            },
            payload: Some(crate::core::payload::Payload::from_bytes(payload)),
            credentials: None,
        }
    }

    #[test]
    fn each_field_has_its_error() {
        let rules = Rules {
            receiver_ids: vec!["DEMOPLAN".into()],
        };
        assert!(check(&envelope(Operation::RealTime), &rules).is_ok());
        assert!(check(&envelope(Operation::BatchSubmit), &rules).is_ok());
        type Edit = fn(&mut Envelope);
        let cases: [(Edit, Kind); 14] = [
            (
                |e| e.metadata.core_rule_version = None,
                Kind::CoreRuleVersionRequired,
            ),
            (
                |e| e.metadata.core_rule_version = Some("v2.2.0".into()),
                Kind::VersionMismatch,
            ),
            (
                |e| e.metadata.processing_mode = Some("Batch".into()),
                Kind::ProcessingModeIllegal,
            ),
            (
                |e| e.metadata.payload_type = Some(" ".into()),
                Kind::PayloadTypeRequired,
            ),
            (
                |e| e.metadata.payload_type = Some("X12_837_Request_005010X222A1".into()),
                Kind::PayloadTypeIllegal,
            ),
            (|e| e.metadata.payload_id = None, Kind::PayloadIdRequired),
            (
                |e| e.metadata.payload_id = Some("123".into()),
                Kind::PayloadIdIllegal,
            ),
            (
                |e| e.metadata.timestamp = Some("yesterday".into()),
                Kind::TimeStampIllegal,
            ),
            (|e| e.metadata.sender_id = None, Kind::SenderIdRequired),
            (
                |e| e.metadata.receiver_id = Some("OTHER".into()),
                Kind::ReceiverIdIllegal,
            ),
            (|e| e.payload = None, Kind::PayloadRequired),
            (
                |e| e.payload = Some(crate::core::payload::Payload::from_bytes(Vec::new())),
                Kind::PayloadRequired,
            ),
            (|e| e.metadata.timestamp = None, Kind::TimeStampRequired),
            (|e| e.metadata.receiver_id = None, Kind::ReceiverIdRequired),
        ];
        for (edit, kind) in cases {
            let mut e = envelope(Operation::RealTime);
            edit(&mut e);
            assert_eq!(check(&e, &rules).unwrap_err().kind(), kind);
        }
        let mut e = envelope(Operation::BatchSubmit);
        e.metadata.payload_length = Some("8".into());
        assert_eq!(
            check(&e, &rules).unwrap_err().kind(),
            Kind::PayloadLengthIllegal
        );
        let mut e = envelope(Operation::BatchSubmit);
        e.metadata.checksum = Some("00".into());
        assert_eq!(check(&e, &rules).unwrap_err().kind(), Kind::CheckSumIllegal);
        let mut e = envelope(Operation::BatchSubmit);
        e.metadata.checksum = None;
        assert_eq!(
            check(&e, &rules).unwrap_err().kind(),
            Kind::CheckSumRequired
        );
    }

    #[test]
    fn timestamps() {
        for ok in [
            "2016-10-28T15:08:42Z",
            "2016-07-28T15:58:13",
            "2015-11-30 14:51:51.256",
            "2026-06-15T12:00:00.5-05:00",
        ] {
            assert!(is_timestamp(ok), "{ok}");
        }
        for bad in [
            "2016-13-28T15:08:42Z",
            "2016-10-28",
            "2016-10-28T15:08:42+0500",
            "x",
        ] {
            assert!(!is_timestamp(bad), "{bad}");
        }
    }
}
