//! RealTimeTransaction: a 270 or 276 in, the plan's 271 or 277 out (or the TA1/999 when the
//! X12 is bad), within the real-time deadline.

use super::AppState;
use crate::auth::Principal;
use crate::core::ResponseEnvelope;
use crate::core::envelope::Envelope;
use crate::core::error::{Failure, Kind};
use crate::payer::respond::RespondError;
use crate::payer::{AnswerKind, ResponseContext, respond};

pub async fn answer(
    state: &AppState,
    env: &Envelope,
    principal: &Principal,
    received: std::time::Instant,
) -> Result<ResponseEnvelope, Failure> {
    // A real-time request asks about one patient or claim: kilobytes. Anything the decoder had
    // to spool to disk is a batch sent on the wrong operation.
    let payload = match &env.payload {
        None => &[][..],
        Some(p) => p.in_memory().ok_or_else(|| {
            Failure::new(
                Kind::BodyTooLarge,
                format!(
                    "a real-time payload of {} bytes; real-time requests are limited to {} bytes \
                     (send batches with BatchSubmitTransaction)",
                    p.len(),
                    state.limits.spool_memory_bytes
                ),
            )
        })?,
    };
    let mut ctx = ResponseContext::now(state.identity.clone());
    ctx.authorized_providers = Some(principal.provider_ids.clone());
    // The deadline runs from the request's arrival (what the client waits for), not from
    // here. One already past fails at once rather than racing a fast lookup against the
    // timer's millisecond ticks.
    let deadline = tokio::time::Instant::from_std(received) + state.limits.realtime_deadline;
    if tokio::time::Instant::now() >= deadline {
        return Err(Failure::new(Kind::DeadlineExceeded, ""));
    }
    let answered = tokio::time::timeout_at(deadline, async {
        // Inside the deadline: once per block, taking numbers waits for the database.
        let (isa13, gs06) = state.control_numbers.next(&state.store).await?;
        ctx.interchange_control = isa13;
        ctx.group_control = gs06;
        respond(payload, &state.plan, &ctx).await
    })
    .await
    .map_err(|_| Failure::new(Kind::DeadlineExceeded, ""))?;
    let answer = match answered {
        Ok(a) => a,
        Err(RespondError::Store(e)) => {
            tracing::warn!(error = %e, "real-time lookup failed");
            return Err(Failure::new(Kind::Unavailable, ""));
        }
        Err(e @ (RespondError::NotX12 | RespondError::Unsupported(_) | RespondError::Mixed)) => {
            return Err(Failure::new(Kind::PayloadIllegal, e.to_string()));
        }
    };
    let asked = env.metadata.payload_type.as_deref().unwrap_or("");
    let payload_type = match answer.kind {
        AnswerKind::Eligibility if asked == "X12_270_Request_005010X279A1" => {
            "X12_271_Response_005010X279A1"
        }
        AnswerKind::ClaimStatus if asked == "X12_276_Request_005010X212" => {
            "X12_277_Response_005010X212"
        }
        AnswerKind::Eligibility | AnswerKind::ClaimStatus => {
            return Err(Failure::new(
                Kind::PayloadIllegal,
                format!(
                    "PayloadType is {asked} but the X12 is a {:?} inquiry",
                    answer.kind
                ),
            ));
        }
        AnswerKind::Acknowledgment => {
            // A 999 when some interchange was opened and had groups; else a TA1 alone.
            let has_999 = answer
                .report
                .interchanges
                .iter()
                .any(|ic| !ic.rejected() && !ic.groups.is_empty());
            if has_999 {
                "X12_999_Response_005010X231A1"
            } else {
                "X12_TA1_Response_00501X231A1"
            }
        }
    };
    Ok(ResponseEnvelope::reply(
        env.operation,
        &env.metadata,
        payload_type,
        answer.bytes,
    ))
}
