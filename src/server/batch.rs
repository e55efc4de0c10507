//! Batch submission (BatchSubmitTransaction, GenericBatchSubmissionTransaction): the payload is
//! stored with a queue row and a tracking number, and only then is the receipt sent. Issue #5
//! processes the queue (TA1/999, results).

use super::AppState;
use crate::auth::Principal;
use crate::core::ResponseEnvelope;
use crate::core::envelope::{Envelope, Operation};
use crate::core::error::{Failure, Kind};
use crate::store::submissions::{NewSubmission, Stored};
use crate::x12::tree::control_numbers;

/// The receipt's PayloadType (as CONNECT's canned CORE responses name it).
pub const RECEIPT_PAYLOAD_TYPE: &str = "X12_BatchReceiptConfirmation";

pub async fn receive(
    state: &AppState,
    env: &Envelope,
    principal: &Principal,
    correlation: &str,
) -> Result<ResponseEnvelope, Failure> {
    let m = &env.metadata;
    let payload_type = m.payload_type.as_deref().unwrap_or_default();
    if env.operation == Operation::BatchSubmit && !payload_type.starts_with("X12_") {
        return Err(Failure::new(
            Kind::PayloadTypeIllegal,
            format!(
                "{payload_type:?}: BatchSubmitTransaction takes X12 payloads; send other files \
                 with GenericBatchSubmissionTransaction"
            ),
        ));
    }
    let Some(payload) = &env.payload else {
        return Err(Failure::new(Kind::PayloadRequired, ""));
    };
    let sha1 = payload.sha1_hex();
    let x12 = control_numbers(payload.head());
    let transaction_type = x12.transaction_type().unwrap_or_default();
    // Production batches wait for certification: a test file of the type must pass first.
    if !x12.test && !transaction_type.is_empty() {
        let certified = async {
            let settings = state
                .store
                .partner_settings(&principal.organization)
                .await?;
            if !settings.require_certification {
                return Ok(true);
            }
            state
                .store
                .is_certified(&principal.organization, &transaction_type)
                .await
        };
        match certified.await {
            Ok(true) => {}
            Ok(false) => {
                return Err(Failure::new(
                    Kind::NotCertified,
                    format!(
                        "{transaction_type}: send a test file (ISA15 = T) of this type and have \
                         it accepted before production files"
                    ),
                ));
            }
            Err(e) => return Err(super::store_failure(&e)),
        }
    }
    let new = NewSubmission {
        correlation_id: correlation,
        organization: &principal.organization,
        user_name: &principal.user,
        sender_id: m.sender_id.as_deref().unwrap_or_default(),
        receiver_id: m.receiver_id.as_deref().unwrap_or_default(),
        payload_id: m.payload_id.as_deref().unwrap_or_default(),
        payload_type,
        operation: env.operation.name(),
        test_mode: x12.test,
        transaction_type: &transaction_type,
        payload_sha1: &sha1,
        received_at: time::OffsetDateTime::now_utc(),
    };
    let tracking = match state.store.store_submission(&new, payload.chunks()).await {
        Ok(Stored::New { tracking_number }) | Ok(Stored::Repeat { tracking_number }) => {
            tracking_number
        }
        Ok(Stored::Conflict) => {
            return Err(Failure::new(
                Kind::PayloadIdIllegal,
                "this sender already used that PayloadID for a different payload",
            ));
        }
        Err(e) => return Err(super::store_failure(&e)),
    };
    // Local workers start at once (others find the row when they next look).
    state.queue_wake.notify_waiters();
    let receipt = tracking.clone().into_bytes();
    let mut r = ResponseEnvelope::reply(env.operation, m, RECEIPT_PAYLOAD_TYPE, receipt)
        .with_length_and_checksum();
    r.error_message =
        format!("Envelope was processed successfully. Tracking number {tracking}.").into();
    Ok(r)
}
