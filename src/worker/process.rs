//! Processing one submission: validate every interchange (streaming from the store), write its
//! TA1/999, answer batch 270/276 with a 271/277 results file, apply 837/834 effects to plan data
//! (production only), and say whether a test file certifies the partner.

use std::io::{self, Read};

use bytes::Bytes;
use time::OffsetDateTime;

use super::WorkerConfig;
use crate::payer::respond::RespondError;
use crate::payer::{AnswerKind, ResponseContext, respond};
use crate::store::pipeline::{Claimed, Completion, FileKind, ProducedFile};
use crate::store::{Store, StoreError};
use crate::x12::Report;
use crate::x12::ack::{AckControl, write_acknowledgment};
use crate::x12::report::InterchangeReport;
use crate::x12::tree::control_numbers;
use crate::x12::writer::control_number;

pub const ACK_999_PAYLOAD_TYPE: &str = "X12_999_Response_005010X231A1";
pub const ACK_TA1_PAYLOAD_TYPE: &str = "X12_TA1_Response_00501X231A1";
pub const RESULTS_271_PAYLOAD_TYPE: &str = "X12_271_Response_005010X279A1";
pub const RESULTS_277_PAYLOAD_TYPE: &str = "X12_277_Response_005010X212";

/// Why processing stopped short: all of these may pass (the row is retried with backoff).
#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    #[error("store: {0}")]
    Store(#[from] StoreError),
    #[error("reading the payload: {0}")]
    Io(#[from] io::Error),
    #[error("{0}")]
    Internal(String),
}

pub async fn process(
    store: &Store,
    config: &WorkerConfig,
    c: &Claimed,
) -> Result<Completion, ProcessError> {
    let first = store
        .blob_chunk(c.payload_blob, 0)
        .await?
        .unwrap_or_default();
    if !looks_like_x12(&first) {
        // Provider directories, questionnaires, interface files: kept and tracked as they are.
        return Ok(Completion {
            outcome: "stored".into(),
            files: Vec::new(),
            certifies: None,
            detail: format!("{} bytes, not X12", c.payload_bytes),
        });
    }

    // Validation is CPU work on a stream the store feeds chunk by chunk: off the async threads.
    let reader = BlobReader::new(store.clone(), c.payload_blob);
    let report = tokio::task::spawn_blocking(move || crate::x12::validate_reader(reader))
        .await
        .map_err(|e| ProcessError::Internal(format!("validation task: {e}")))??;

    let (sets, accepted_sets) = count_sets(&report);
    let outcome = if report.accepted() {
        "accepted"
    } else if accepted_sets > 0 {
        "partial"
    } else {
        "rejected"
    };
    let settings = store.partner_settings(&c.organization).await?;
    let mut files = Vec::new();
    if let Some(ack) = acknowledgements(store, &report, settings.ack_policy == "always").await? {
        files.push(ack);
    }

    let mut detail = format!("{accepted_sets} of {sets} transaction sets accepted");
    if accepted_sets > 0 && matches!(c.transaction_type.as_str(), "270" | "276") {
        match results(store, config, c).await? {
            Some(f) => files.push(f),
            None => detail.push_str("; no results (the inquiries were not answerable)"),
        }
    }

    // Test files are processed exactly like production but never change plan data.
    if !c.test_mode && accepted_sets > 0 {
        if c.transaction_type.starts_with("837") {
            let stored = store_claims(store, c, report.clone()).await?;
            detail.push_str(&format!("; {stored} claims stored as received"));
        } else if c.transaction_type == "834" {
            detail.push_str(&format!(
                "; {}",
                apply_enrollment(store, c, report.clone()).await?
            ));
        }
    }

    let certifies = (c.test_mode && outcome == "accepted" && !c.transaction_type.is_empty())
        .then(|| c.transaction_type.clone());
    Ok(Completion {
        outcome: outcome.into(),
        files,
        certifies,
        detail,
    })
}

fn looks_like_x12(head: &[u8]) -> bool {
    head.trim_ascii_start().starts_with(b"ISA")
}

fn count_sets(report: &Report) -> (usize, usize) {
    report
        .interchanges
        .iter()
        .filter(|ic| !ic.rejected())
        .flat_map(|ic| &ic.groups)
        .fold((0, 0), |(n, ok), g| {
            (n + g.sets.len(), ok + g.accepted_sets())
        })
}

/// Whether an interchange was accepted whole (TA1 verdict A, every group and set accepted).
/// A partner on negative-only acknowledgements gets nothing for it, not even the TA1 its ISA14
/// may ask for: the partner chose that at the plan.
fn fully_accepted(ic: &InterchangeReport) -> bool {
    ic.ta1_verdict().0 == "A"
        && !ic.rejected()
        && ic
            .groups
            .iter()
            .all(|g| g.errors.is_empty() && g.sets.iter().all(|s| s.accepted()))
}

/// The TA1/999 of every interchange (or only of those with errors, for partners who asked for
/// negative acknowledgements only), as one acknowledgement file.
async fn acknowledgements(
    store: &Store,
    report: &Report,
    positive_too: bool,
) -> Result<Option<ProducedFile>, ProcessError> {
    let mut out = Vec::new();
    let mut any_999 = false;
    for ic in &report.interchanges {
        if !positive_too && fully_accepted(ic) {
            continue;
        }
        let ctl = control(store).await?;
        if let Some(bytes) = write_acknowledgment(ic, &ctl) {
            // Whatever delimiters the reply uses (they mirror the sender's).
            any_999 |= control_numbers(&bytes).st01.as_deref() == Some("999");
            out.extend_from_slice(&bytes);
        }
    }
    if out.is_empty() {
        return Ok(None);
    }
    let blob = store.put_blob_bytes(&out).await?;
    let (transaction_type, payload_type) = if any_999 {
        ("999", ACK_999_PAYLOAD_TYPE)
    } else {
        ("TA1", ACK_TA1_PAYLOAD_TYPE)
    };
    Ok(Some(ProducedFile {
        kind: FileKind::Ack,
        transaction_type: transaction_type.into(),
        payload_type: payload_type.into(),
        blob_id: blob.id,
        bytes: blob.bytes,
        sha1: blob.sha1,
    }))
}

/// Control numbers for one reply interchange, from the database's sequences (unique across
/// instances and restarts).
async fn control(store: &Store) -> Result<AckControl, ProcessError> {
    let isa13 = store.next_sequence("isa13").await?;
    let gs06 = store.next_sequence("gs06").await?;
    let now = OffsetDateTime::now_utc();
    let d = now.date();
    Ok(AckControl {
        interchange_control: control_number(isa13),
        group_control: control_number(gs06),
        date: format!("{:04}{:02}{:02}", d.year(), u8::from(d.month()), d.day()),
        time: format!("{:02}{:02}", now.hour(), now.minute()),
        line_breaks: false,
    })
}

/// A batch 270 or 276 answered as one 271/277 results file, from the same plan data and with
/// the same rules as real time (the submitting user's provider IDs included).
async fn results(
    store: &Store,
    config: &WorkerConfig,
    c: &Claimed,
) -> Result<Option<ProducedFile>, ProcessError> {
    if c.payload_bytes > config.max_inquiry_bytes {
        return Err(ProcessError::Internal(format!(
            "a batch inquiry of {} bytes is over the {} bytes answered in one piece",
            c.payload_bytes, config.max_inquiry_bytes
        )));
    }
    let payload = store
        .read_blob(c.payload_blob, config.max_inquiry_bytes)
        .await?;
    let ctl = control(store).await?;
    let mut ctx = ResponseContext::now(config.identity.clone());
    ctx.interchange_control = ctl.interchange_control;
    ctx.group_control = ctl.group_control;
    let user = store.user_for_auth(&c.user_name).await?;
    ctx.authorized_providers = Some(user.map(|u| u.provider_ids).unwrap_or_default());
    let answer = match respond(&payload, store, &ctx).await {
        Ok(a) => a,
        Err(RespondError::Store(e)) => return Err(e.into()),
        // Validation already said what is wrong with it; there is nothing to answer.
        Err(_) => return Ok(None),
    };
    let (transaction_type, payload_type) = match answer.kind {
        AnswerKind::Eligibility => ("271", RESULTS_271_PAYLOAD_TYPE),
        AnswerKind::ClaimStatus => ("277", RESULTS_277_PAYLOAD_TYPE),
        AnswerKind::Acknowledgment => return Ok(None),
    };
    let blob = store.put_blob_bytes(&answer.bytes).await?;
    Ok(Some(ProducedFile {
        kind: FileKind::Result,
        transaction_type: transaction_type.into(),
        payload_type: payload_type.into(),
        blob_id: blob.id,
        bytes: blob.bytes,
        sha1: blob.sha1,
    }))
}

/// Claims per insert: one transaction each, so a 500k-claim file never holds the database long.
const CLAIMS_PER_INSERT: usize = 500;

/// The claims of the accepted sets of an 837, streamed from the store and inserted in batches.
/// Re-running it (after a crash) inserts nothing twice: payer claim numbers are derived from
/// the tracking number and the claim's place in the file.
async fn store_claims(store: &Store, c: &Claimed, report: Report) -> Result<u64, ProcessError> {
    let reader = BlobReader::new(store.clone(), c.payload_blob);
    let (store, tracking) = (store.clone(), c.tracking_number.clone());
    let received = c.received_at.date();
    let runtime = tokio::runtime::Handle::current();
    tokio::task::spawn_blocking(move || -> Result<u64, ProcessError> {
        let mut extractor = crate::payer::intake::ClaimExtractor::new();
        let mut batch = Vec::with_capacity(CLAIMS_PER_INSERT);
        let mut inserted = 0u64;
        let mut failed: Option<StoreError> = None;
        let mut flush = |batch: &mut Vec<_>, failed: &mut Option<StoreError>| {
            if batch.is_empty() || failed.is_some() {
                return;
            }
            match runtime.block_on(store.insert_received_claims(batch, &tracking, received)) {
                Ok(n) => inserted += n,
                Err(e) => *failed = Some(e),
            }
            batch.clear();
        };
        crate::x12::reader::for_each_lexeme(reader, |lexeme, _| {
            if let Some(claim) = extractor.push(&lexeme)
                && claim.set.accepted_in(&report)
            {
                batch.push(claim);
                if batch.len() == CLAIMS_PER_INSERT {
                    flush(&mut batch, &mut failed);
                }
            }
        })?;
        if let Some(claim) = extractor.finish()
            && claim.set.accepted_in(&report)
        {
            batch.push(claim);
        }
        flush(&mut batch, &mut failed);
        match failed {
            Some(e) => Err(e.into()),
            None => Ok(inserted),
        }
    })
    .await
    .map_err(|e| ProcessError::Internal(format!("claims task: {e}")))?
}

/// The member changes of the accepted sets of an 834, applied in one transaction (once per
/// submission, whoever runs it).
async fn apply_enrollment(
    store: &Store,
    c: &Claimed,
    report: Report,
) -> Result<String, ProcessError> {
    let reader = BlobReader::new(store.clone(), c.payload_blob);
    let changes = tokio::task::spawn_blocking(move || -> Result<_, ProcessError> {
        let mut extractor = crate::payer::intake::EnrollmentExtractor::new();
        let mut refused = None;
        crate::x12::reader::for_each_lexeme(reader, |lexeme, _| {
            if refused.is_none()
                && let Err(e) = extractor.push(&lexeme)
            {
                refused = Some(e);
            }
        })?;
        if let Some(e) = refused {
            return Err(ProcessError::Internal(e.to_string()));
        }
        let all = extractor
            .finish()
            .map_err(|e| ProcessError::Internal(e.to_string()))?;
        Ok(all
            .into_iter()
            .filter(|m| m.set.accepted_in(&report))
            .collect::<Vec<_>>())
    })
    .await
    .map_err(|e| ProcessError::Internal(format!("enrollment task: {e}")))??;
    let outcome = store.apply_enrollment(&c.tracking_number, &changes).await?;
    Ok(if outcome.already_applied {
        "enrollment applied before: nothing changed".to_string()
    } else {
        format!(
            "enrollment: {} added, {} changed, {} terminated, {} skipped{}",
            outcome.members_added,
            outcome.members_changed,
            outcome.members_terminated,
            outcome.members_skipped,
            outcome
                .skipped
                .iter()
                .map(|s| format!(" [{s:?}]"))
                .collect::<String>()
        )
    })
}

/// A blob as a blocking [`Read`], fetching one chunk at a time from the store: for the X12
/// engine, which is synchronous by design, running on a blocking thread.
pub(crate) struct BlobReader {
    store: Store,
    blob: i64,
    seq: i64,
    chunk: Bytes,
    done: bool,
    runtime: tokio::runtime::Handle,
}

impl BlobReader {
    /// Must be created on the runtime (it keeps a handle to it) and read off it.
    pub(crate) fn new(store: Store, blob: i64) -> Self {
        Self {
            store,
            blob,
            seq: 0,
            chunk: Bytes::new(),
            done: false,
            runtime: tokio::runtime::Handle::current(),
        }
    }
}

impl Read for BlobReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.chunk.is_empty() && !self.done {
            let next = self
                .runtime
                .block_on(self.store.blob_chunk(self.blob, self.seq))
                .map_err(io::Error::other)?;
            match next {
                Some(c) => {
                    self.chunk = c;
                    self.seq += 1;
                }
                None => self.done = true,
            }
        }
        let n = buf.len().min(self.chunk.len());
        buf[..n].copy_from_slice(&self.chunk[..n]);
        let _ = self.chunk.split_to(n);
        Ok(n)
    }
}
