//! One entry point for a payload of inquiries: validate it, then answer 270s with 271s and
//! 276s with 277s, or answer a bad payload with its TA1/999.

use std::fmt;

use super::{PlanData, ResponseContext, claim_status, eligibility, x12_date};
use crate::store::StoreError;
use crate::x12::ack::{AckControl, Reply, write_acknowledgment};
use crate::x12::report::Report;

/// What a payload was answered with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AnswerKind {
    /// TA1 and/or 999: the payload was not accepted, so it was not answered.
    Acknowledgment,
    /// 271s for 270s.
    Eligibility,
    /// 277s for 276s.
    ClaimStatus,
}

#[derive(Debug)]
pub struct Answer {
    pub kind: AnswerKind,
    /// The answering interchange(s).
    pub bytes: Vec<u8>,
    /// What validation found in the request.
    pub report: Report,
}

/// Why a payload got no answer at all.
#[derive(Debug)]
pub enum RespondError {
    /// Nothing in it can be read as an X12 interchange (no TA1 can be addressed).
    NotX12,
    /// Valid X12, but not an inquiry this plan answers (e.g. an 837 sent for a real-time answer).
    Unsupported(String),
    /// 270s and 276s mixed in one payload: one answer type per request.
    Mixed,
    Store(StoreError),
}

impl fmt::Display for RespondError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotX12 => {
                f.write_str("no X12 interchange found (the payload must start with ISA)")
            }
            Self::Unsupported(what) => write!(
                f,
                "only 270 (005010X279A1) and 276 (005010X212) inquiries are answered; got {what}"
            ),
            Self::Mixed => {
                f.write_str("270 and 276 inquiries in one payload: send them separately")
            }
            Self::Store(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for RespondError {}

impl From<StoreError> for RespondError {
    fn from(e: StoreError) -> Self {
        Self::Store(e)
    }
}

/// Validates `payload` and answers it: a 271/277 interchange when every interchange, group and
/// set is accepted, else the TA1/999 saying what is wrong.
pub async fn respond<D: PlanData>(
    payload: &[u8],
    data: &D,
    ctx: &ResponseContext,
) -> Result<Answer, RespondError> {
    // The tree comes from the same lexing as the report: a payload is read once.
    let (report, tree) = crate::x12::reader::validate_tree(payload);
    let ctl = AckControl {
        interchange_control: ctx.interchange_control,
        group_control: ctx.group_control,
        date: x12_date(ctx.today),
        time: super::write::hhmm(ctx).as_str().to_string(),
        line_breaks: ctx.line_breaks,
    };
    if !report.accepted() {
        let bytes: Vec<u8> = report
            .interchanges
            .iter()
            .filter_map(|ic| write_acknowledgment(ic, &ctl))
            .flatten()
            .collect();
        if bytes.is_empty() {
            return Err(RespondError::NotX12);
        }
        return Ok(Answer {
            kind: AnswerKind::Acknowledgment,
            bytes,
            report,
        });
    }
    if tree.len() != report.interchanges.len() {
        // Cannot happen for an accepted payload; refuse rather than misaddress an answer.
        return Err(RespondError::NotX12);
    }
    let mut kind = None;
    for g in tree.iter().flat_map(|ic| &ic.groups) {
        let this = match g.gs.element(1) {
            b"HS" => AnswerKind::Eligibility,
            b"HR" => AnswerKind::ClaimStatus,
            other => {
                return Err(RespondError::Unsupported(format!(
                    "functional group {}",
                    String::from_utf8_lossy(other)
                )));
            }
        };
        if kind.is_some_and(|k| k != this) {
            return Err(RespondError::Mixed);
        }
        kind = Some(this);
    }
    let Some(kind) = kind else {
        return Err(RespondError::Unsupported(
            "an interchange without groups".into(),
        ));
    };
    let mut bytes = Vec::new();
    for (ic, ic_report) in tree.iter().zip(&report.interchanges) {
        let mut reply = Reply::open(ic_report, &ctl);
        for (g, g_report) in ic.groups.iter().zip(&ic_report.groups) {
            match kind {
                AnswerKind::Eligibility => reply.group("HB", g_report, "005010X279A1", &ctl),
                _ => reply.group("HN", g_report, "005010X212", &ctl),
            }
            for set in &g.sets {
                match kind {
                    AnswerKind::Eligibility => {
                        eligibility::answer(set, data, ctx, &mut reply.writer).await?
                    }
                    _ => claim_status::answer(set, data, ctx, &mut reply.writer).await?,
                }
            }
            reply.end_group(g.sets.len(), &ctl);
        }
        let answer = reply.finish();
        if bytes.is_empty() {
            // The usual single interchange: its buffer is the answer, not copied.
            bytes = answer;
        } else {
            bytes.extend(answer);
        }
    }
    Ok(Answer {
        kind,
        bytes,
        report,
    })
}
