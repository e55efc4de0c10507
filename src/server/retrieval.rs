//! Retrieval for the owning partner only: acknowledgements and results of its submissions, the
//! list of its files and their pickup, and its confirmations of what it picked up. Whatever
//! another partner's PayloadID or tracking number is sent, the answer is the same as for one
//! that does not exist.

use super::AppState;
use crate::auth::Principal;
use crate::core::ResponseEnvelope;
use crate::core::envelope::{Envelope, Operation};
use crate::core::error::{Failure, Kind};
use crate::core::soap::escape;
use crate::store::StoreError;
use crate::store::files::{FileQuery, FileRow};
use crate::store::pipeline::FileKind;

/// PayloadType (and PayloadID) that asks for the file list (MassHealth HTS).
pub const FILELIST: &str = "FILELIST";

/// PayloadType of a confirmation's answer.
pub const CONFIRMATION_PAYLOAD_TYPE: &str = "X12_Response_ConfirmReceiptReceived";

/// Largest file returned in one response (responses are built in memory).
const MAX_RETRIEVAL_BYTES: u64 = 256 * 1024 * 1024;

pub async fn answer(
    state: &AppState,
    env: &Envelope,
    principal: &Principal,
) -> Result<ResponseEnvelope, Failure> {
    let org = &principal.organization;
    let m = &env.metadata;
    let payload_id = m.payload_id.as_deref().unwrap_or_default().trim();
    let payload_type = m.payload_type.as_deref().unwrap_or_default().trim();
    // The submission may be named by the retrieval's PayloadID (the submission's own) or by a
    // tracking number in the Payload.
    let named_in_payload = env
        .payload_bytes()
        .map(|p| String::from_utf8_lossy(p).trim().to_string())
        .filter(|t| !t.is_empty() && t.len() <= 64);
    match env.operation {
        Operation::BatchSubmitAckRetrieval | Operation::BatchResultsRetrieval => {
            let kind = if env.operation == Operation::BatchSubmitAckRetrieval {
                FileKind::Ack
            } else {
                FileKind::Result
            };
            let mut found = state
                .store
                .find_submission(org, payload_id)
                .await
                .map_err(store)?;
            if found.is_none()
                && let Some(t) = &named_in_payload
            {
                found = state.store.find_submission(org, t).await.map_err(store)?;
            }
            let Some(sub) = found else {
                return Err(Failure::new(
                    Kind::NotFound,
                    format!("PayloadID {payload_id:?}"),
                ));
            };
            match sub.status.as_str() {
                "queued" | "processing" => {
                    return Err(Failure::new(
                        Kind::NotReady,
                        format!("tracking number {}", sub.tracking_number),
                    ));
                }
                "failed" => {
                    return Err(Failure::new(
                        Kind::Internal,
                        format!(
                            "processing tracking number {} failed; the plan's operators can see why",
                            sub.tracking_number
                        ),
                    ));
                }
                _ => {}
            }
            let file = state
                .store
                .file_of_submission(sub.id, kind)
                .await
                .map_err(store)?
                .ok_or_else(|| {
                    let why = match kind {
                        FileKind::Ack => "no acknowledgement was written (the submission was accepted and this partner receives negative acknowledgements only, or it is not X12)",
                        _ => "no results: the submission was not a batch inquiry, or none of it could be answered (see its acknowledgement)",
                    };
                    Failure::new(Kind::NotFound, format!("tracking number {}: {why}", sub.tracking_number))
                })?;
            deliver(state, env, file, payload_id).await
        }
        Operation::GenericBatchRetrieval => {
            if payload_id.eq_ignore_ascii_case(FILELIST)
                || payload_type.eq_ignore_ascii_case(FILELIST)
            {
                let filter = (!payload_type.eq_ignore_ascii_case(FILELIST)).then_some(payload_type);
                let criteria = env
                    .payload_bytes()
                    .map(String::from_utf8_lossy)
                    .unwrap_or_default();
                let query = file_query(&criteria)?;
                let files = state.store.files(org, &query).await.map_err(store)?;
                let list = file_list(
                    files
                        .iter()
                        .filter(|f| filter.is_none_or(|t| f.payload_type == t)),
                );
                return Ok(response(env, FILELIST, list.into_bytes(), payload_id));
            }
            let file = state
                .store
                .file_by_payload_id(org, payload_id)
                .await
                .map_err(store)?
                .ok_or_else(|| Failure::new(Kind::NotFound, format!("PayloadID {payload_id:?}")))?;
            deliver(state, env, file, payload_id).await
        }
        Operation::BatchResultsAckSubmit | Operation::GenericBatchReceiptConfirmation => {
            let mut confirmed = state
                .store
                .confirm_file(org, payload_id)
                .await
                .map_err(store)?;
            if !confirmed && let Some(t) = &named_in_payload {
                confirmed = state.store.confirm_file(org, t).await.map_err(store)?;
            }
            if !confirmed {
                return Err(Failure::new(
                    Kind::NotFound,
                    format!("PayloadID {payload_id:?}"),
                ));
            }
            Ok(response(
                env,
                CONFIRMATION_PAYLOAD_TYPE,
                Vec::new(),
                payload_id,
            ))
        }
        other => Err(Failure::new(Kind::UnknownOperation, other.name())),
    }
}

/// Search criteria a FILELIST request may carry in its Payload, as `Name=value` pairs separated
/// by `&`, `;` or line breaks: `ProviderID`, `TrackingNumber`, `TransactionType`, `From` and
/// `To` (dates, `YYYY-MM-DD`, inclusive). Names match case-insensitively; an unknown name is
/// refused so that a typo does not silently list everything.
fn file_query(text: &str) -> Result<FileQuery, Failure> {
    let mut q = FileQuery::default();
    for pair in text
        .split(['&', ';', '\n'])
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        let (name, value) = pair.split_once('=').ok_or_else(|| {
            Failure::new(
                Kind::PayloadIllegal,
                format!("FILELIST criterion {pair:?} is not Name=value"),
            )
        })?;
        let value = Some(value.trim().to_string()).filter(|v| !v.is_empty());
        let is_date = |v: &Option<String>| {
            v.as_deref().is_none_or(|d| {
                time::Date::parse(d, time::macros::format_description!("[year]-[month]-[day]"))
                    .is_ok()
            })
        };
        match name.trim().to_ascii_lowercase().as_str() {
            "providerid" => q.provider_id = value,
            "trackingnumber" => q.tracking_number = value,
            "transactiontype" => q.transaction_type = value,
            "from" if is_date(&value) => q.from = value,
            "to" if is_date(&value) => q.to = value,
            "from" | "to" => {
                return Err(Failure::new(
                    Kind::PayloadIllegal,
                    format!("{pair:?}: dates are YYYY-MM-DD"),
                ));
            }
            other => {
                return Err(Failure::new(
                    Kind::PayloadIllegal,
                    format!(
                        "unknown FILELIST criterion {other:?}; use ProviderID, TrackingNumber, TransactionType, From, To"
                    ),
                ));
            }
        }
    }
    Ok(q)
}

/// A file's content as the answer, recording the pickup.
async fn deliver(
    state: &AppState,
    env: &Envelope,
    file: FileRow,
    payload_id: &str,
) -> Result<ResponseEnvelope, Failure> {
    if file.bytes > MAX_RETRIEVAL_BYTES {
        // Responses are built in memory; say so plainly rather than fail half-way.
        return Err(Failure::new(
            Kind::Internal,
            format!(
                "file {} is {} bytes, more than the {MAX_RETRIEVAL_BYTES} bytes this gateway \
                 sends in one response; the plan's operators can split it",
                file.file_name, file.bytes
            ),
        ));
    }
    let bytes = state
        .store
        .read_blob(file.blob_id, MAX_RETRIEVAL_BYTES)
        .await
        .map_err(store)?;
    state.store.mark_downloaded(file.id).await.map_err(store)?;
    let mut r = response(env, &file.payload_type, bytes, payload_id);
    r.error_message = format!(
        "Envelope was processed successfully. File {}.",
        file.file_name
    )
    .into();
    Ok(r)
}

fn response(
    env: &Envelope,
    payload_type: &str,
    payload: Vec<u8>,
    payload_id: &str,
) -> ResponseEnvelope {
    let mut r = ResponseEnvelope::reply(
        env.operation,
        &env.metadata,
        payload_type.to_string(),
        payload,
    )
    .with_length_and_checksum();
    r.payload_id = payload_id.into();
    r
}

/// `<FileList><File>…</File></FileList>`: the MassHealth shape (PayloadType, PayloadID) plus
/// what DESIGN.md asks a search to show.
pub fn file_list<'a>(files: impl Iterator<Item = &'a FileRow>) -> String {
    let mut x = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?><FileList>");
    for f in files {
        let el = |x: &mut String, name: &str, value: &str| {
            x.push_str(&format!("<{name}>{}</{name}>", escape(value)));
        };
        x.push_str("<File>");
        el(&mut x, "FileName", &f.file_name);
        el(&mut x, "PayloadType", &f.payload_type);
        el(&mut x, "PayloadID", &f.payload_id);
        el(&mut x, "TransactionType", &f.transaction_type);
        el(&mut x, "TrackingNumber", &f.tracking_number);
        el(&mut x, "ProviderID", &f.provider_id);
        el(&mut x, "Size", &f.bytes.to_string());
        el(&mut x, "TestMode", if f.test_mode { "T" } else { "P" });
        el(&mut x, "DateAvailable", &f.available_at);
        el(
            &mut x,
            "DateLastDownloaded",
            f.last_downloaded_at.as_deref().unwrap_or(""),
        );
        x.push_str("</File>");
    }
    x.push_str("</FileList>");
    x
}

fn store(e: StoreError) -> Failure {
    super::store_failure(&e)
}
