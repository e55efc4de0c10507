//! The validation engine: envelope structure (ISA/GS/ST and trailers), then each transaction set
//! against its implementation guide. Fed one lexeme at a time, so memory stays bounded by the
//! largest transaction set's findings, not by the payload.

use std::collections::HashSet;

use super::delimiters::ISA_FIELD_WIDTHS;
use super::lexer::Lexeme;
use super::report::*;
use super::segment::{Segment, text};
use super::spec::{Spec, ids, pack, spec_for};
use super::validate::element::{SegmentCheck, check_segment, is_date, is_time};
use super::validate::rules::{ClaimId, RuleIssue, Rules};
use super::validate::walker::{WalkIssue, Walker};

/// TA105 code for a bad ISA01..ISA16.
const ISA_FIELD_CODES: [&str; 16] = [
    "010", "011", "012", "013", "005", "006", "007", "008", "014", "015", "016", "017", "018",
    "019", "020", "027",
];

/// Interchange ID qualifiers allowed in ISA05/ISA07.
pub const ID_QUALIFIERS: &[&str] = &["01", "14", "20", "27", "28", "29", "30", "33", "ZZ"];

/// GS01 for each transaction set (ST01).
const FUNCTIONAL_GROUPS: &[(&str, &str)] = &[
    ("270", "HS"),
    ("271", "HB"),
    ("276", "HR"),
    ("277", "HN"),
    ("820", "RA"),
    ("834", "BE"),
    ("835", "HP"),
    ("837", "HC"),
    ("999", "FA"),
    ("997", "FA"),
];

struct SetState {
    walker: Option<Walker<'static>>,
    rules: Rules,
    report: SetReport,
    ls: Option<String>,
    claim: Option<ClaimId>,
    walk: Vec<WalkIssue>,
    check: SegmentCheck,
    rule_issues: Vec<RuleIssue>,
    /// Per guide segment, the bytes of the last occurrence that passed the element checks.
    last_clean: CleanSegments,
}

/// The last clean occurrence of each guide segment, all in one buffer (a buffer per segment
/// cost an allocation for each one a set uses).
#[derive(Default)]
struct CleanSegments {
    bytes: Vec<u8>,
    /// Per guide segment: where its bytes are in `bytes` (empty when none is known).
    at: Vec<(u32, u32)>,
}

/// Room made at the first clean segment remembered.
const CLEAN_START: usize = 1024;

/// Clean segments are remembered from this position in the set on: the memo pays off when
/// segments repeat (claim after claim), not in a real-time inquiry, which it would cost two
/// allocations.
const CLEAN_AFTER: u32 = 16;

/// Above this many bytes the buffer is emptied rather than grown: copies that no longer fit in
/// place pile up at its end, and forgetting costs only a recheck.
const CLEAN_MAX: usize = 64 * 1024;

impl CleanSegments {
    /// Is `raw` the last clean occurrence of guide segment `node`?
    fn is(&self, node: super::spec::NodeId, raw: &[u8]) -> bool {
        self.at
            .get(node as usize)
            .and_then(|&(start, len)| self.bytes.get(start as usize..(start + len) as usize))
            .is_some_and(|seen| !seen.is_empty() && seen == raw)
    }

    /// Records `raw` as the last clean occurrence of `node` (of a guide with `nodes` nodes).
    fn remember(&mut self, nodes: usize, node: super::spec::NodeId, raw: &[u8]) {
        if self.at.is_empty() {
            self.at = vec![(0, 0); nodes];
            self.bytes.reserve(CLEAN_START);
        }
        let Some(&(start, len)) = self.at.get(node as usize) else {
            return;
        };
        if raw.len() <= len as usize {
            // Over the previous copy.
            let start = start as usize;
            self.bytes[start..start + raw.len()].copy_from_slice(raw);
        } else {
            if self.bytes.len() + raw.len() > CLEAN_MAX {
                self.bytes.clear();
                self.at.fill((0, 0));
            }
            self.at[node as usize].0 = u32::try_from(self.bytes.len()).unwrap_or(0);
            self.bytes.extend_from_slice(raw);
        }
        self.at[node as usize].1 = u32::try_from(raw.len()).unwrap_or(0);
    }
}

/// Streaming validator. Feed it lexemes with [`Validator::push`], then call [`Validator::finish`].
#[derive(Default)]
pub struct Validator {
    report: Report,
    interchange: Option<InterchangeReport>,
    group_open: bool,
    set: Option<SetState>,
    isa13_seen: SeenValues,
    gs06_seen: SeenValues,
    st02_seen: SeenValues,
    content_error_reported: bool,
    junk_end: u64,
    junk_len: u64,
    /// Off only in tests that check memoized walks against full ones.
    full_walks: bool,
}

impl std::fmt::Debug for Validator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Validator")
            .field("interchanges", &self.report.interchanges.len())
            .finish_non_exhaustive()
    }
}

fn junk_message(len: u64) -> String {
    format!("{len} bytes outside any interchange (data must start with ISA and end with IEA)")
}

/// Control numbers seen so far: those of up to 15 bytes (all valid ones) packed into integers,
/// the first of them inline (a real-time request has one interchange, group and set), so that
/// remembering one costs no allocation of its own.
#[derive(Default)]
struct SeenValues {
    first: Option<u128>,
    packed: HashSet<u128>,
    long: HashSet<String>,
}

impl SeenValues {
    /// True when `v` was not seen before.
    fn insert(&mut self, v: &str) -> bool {
        match pack(v.as_bytes()) {
            Some(k) if self.first.is_none() => {
                self.first = Some(k);
                true
            }
            Some(k) => self.first != Some(k) && self.packed.insert(k),
            None => self.long.insert(v.to_string()),
        }
    }

    fn clear(&mut self) {
        self.first = None;
        self.packed.clear();
        self.long.clear();
    }
}

impl Validator {
    pub fn new() -> Self {
        Self::default()
    }

    /// Processes one lexeme found at byte `offset` of the payload.
    #[inline]
    pub fn push(&mut self, lexeme: Lexeme<'_>, offset: u64) {
        self.push_ref(&lexeme, offset);
    }

    /// [`Self::push`] for a lexeme the caller keeps: a lexeme holds a whole segment index,
    /// which is not worth copying once more for every segment.
    pub(crate) fn push_ref(&mut self, lexeme: &Lexeme<'_>, offset: u64) {
        match *lexeme {
            Lexeme::Isa { ref seg, layout } => self.isa(seg, layout, offset),
            Lexeme::Segment(ref seg) => self.segment(seg, offset),
            Lexeme::Unterminated(ref seg) => {
                self.warn(
                    offset,
                    format!(
                        "the last segment ({}) has no segment terminator",
                        seg.id_str()
                    ),
                );
                self.segment(seg, offset);
            }
            Lexeme::ByteOrderMark => self.note(
                offset,
                Severity::Warning,
                "a UTF-8 byte-order mark precedes the ISA; it was ignored".into(),
            ),
            Lexeme::Indentation => {
                if let Some(i) = &mut self.interchange
                    && !i
                        .warnings
                        .iter()
                        .any(|w| w.starts_with("segments are indented"))
                {
                    i.warnings.push(
                        "segments are indented with spaces or tabs; the blanks were ignored".into(),
                    );
                }
            }
            Lexeme::Junk { len } if len > 0 => {
                // Long runs arrive in pieces when streaming: report them as one.
                if self.junk_end == offset
                    && let Some(n) = self.report.notes.last_mut()
                {
                    self.junk_len += len as u64;
                    n.message = junk_message(self.junk_len);
                } else {
                    self.junk_len = len as u64;
                    self.note(offset, Severity::Error, junk_message(self.junk_len));
                }
                self.junk_end = offset + len as u64;
            }
            Lexeme::Junk { .. } | Lexeme::Blank => {}
            Lexeme::BadIsa(e) => {
                self.close_interchange(offset, true);
                self.note(offset, Severity::Error, format!("an ISA segment whose delimiters cannot be read ({e:?}): the ISA must be 106 characters with a fixed-width layout"));
            }
            Lexeme::Oversized => self.envelope_error(
                "024",
                format!(
                    "a segment at byte {offset} is longer than {} bytes",
                    super::lexer::MAX_SEGMENT_LEN
                ),
            ),
        }
    }

    /// Ends the payload: open envelopes are reported as missing their trailers.
    pub fn finish(mut self) -> Report {
        self.close_interchange(0, true);
        if self.report.interchanges.is_empty()
            && self
                .report
                .notes
                .iter()
                .all(|n| n.severity != Severity::Error)
        {
            self.note(
                0,
                Severity::Error,
                "no interchange found: X12 data starts with an ISA segment".into(),
            );
        }
        self.report
    }

    fn note(&mut self, offset: u64, severity: Severity, message: String) {
        self.report.notes.push(Note {
            offset,
            severity,
            message,
        });
    }

    fn warn(&mut self, offset: u64, message: String) {
        match &mut self.interchange {
            Some(i) => i.warnings.push(message),
            None => self.note(offset, Severity::Warning, message),
        }
    }

    fn envelope_error(&mut self, code: &'static str, message: String) {
        if let Some(i) = &mut self.interchange {
            i.errors.push(EnvelopeError { code, message });
        }
    }

    fn group(&mut self) -> Option<&mut GroupReport> {
        if !self.group_open {
            return None;
        }
        self.interchange.as_mut()?.groups.last_mut()
    }

    fn group_error(&mut self, code: &'static str, message: String) {
        if let Some(g) = self.group() {
            g.errors.push(GroupError { code, message });
        }
    }

    // ---- ISA / IEA ----

    fn isa(&mut self, seg: &Segment<'_>, layout: super::delimiters::IsaLayout, offset: u64) {
        self.close_interchange(offset, true);
        let isa = Elements::<16>::of(seg);
        let mut errors = Vec::new();
        let mut err =
            |code: &'static str, message: String| errors.push(EnvelopeError { code, message });
        let d = layout.delimiters;
        if d.segment.is_ascii_alphanumeric() {
            err(
                "004",
                format!(
                    "segment terminator {:?} is a letter or digit",
                    d.segment as char
                ),
            );
        }
        if d.element.is_ascii_alphanumeric() || d.element == d.segment {
            err(
                "026",
                format!(
                    "data element separator {:?} is invalid or equals the segment terminator",
                    d.element as char
                ),
            );
        }
        if d.component.is_ascii_alphanumeric()
            || d.component == d.element
            || d.component == d.segment
        {
            err(
                "027",
                format!(
                    "component separator (ISA16) {:?} is a letter or digit or collides with another delimiter",
                    d.component as char
                ),
            );
        }
        if let Some(r) = d.repetition
            && (r == d.element || r == d.component || r == d.segment)
        {
            err(
                "027",
                format!(
                    "repetition separator (ISA11) {:?} collides with another delimiter",
                    r as char
                ),
            );
        }
        if seg.len() != 16 {
            err(
                "022",
                format!("the ISA has {} elements, 16 are required", seg.len()),
            );
        }
        for (i, f) in isa.iter().enumerate() {
            let len = seg.element(i + 1).len();
            if len != ISA_FIELD_WIDTHS[i] {
                err(
                    ISA_FIELD_CODES[i],
                    format!(
                        "ISA{:02} must be exactly {} characters (space-padded), found {len} ({f:?})",
                        i + 1,
                        ISA_FIELD_WIDTHS[i]
                    ),
                );
            }
        }
        let f = |n: usize| isa.get(n);
        if !["00", "03"].contains(&f(1)) {
            err("010", format!("ISA01 {:?} is not 00 or 03", f(1)));
        }
        if !["00", "01"].contains(&f(3)) {
            err("012", format!("ISA03 {:?} is not 00 or 01", f(3)));
        }
        for (n, code) in [(5, "005"), (7, "007")] {
            if !ID_QUALIFIERS.contains(&f(n)) {
                err(
                    code,
                    format!(
                        "ISA{n:02} {:?} is not an interchange ID qualifier ({})",
                        f(n),
                        ID_QUALIFIERS.join(" ")
                    ),
                );
            }
        }
        for (n, code) in [(6, "006"), (8, "008")] {
            if f(n).trim().is_empty() {
                err(code, format!("ISA{n:02} is blank"));
            }
        }
        if f(9).len() == 6 && !is_date(f(9).as_bytes()) {
            err(
                "014",
                format!("ISA09 {:?} is not a valid YYMMDD date", f(9)),
            );
        }
        if f(10).len() == 4 && !is_time(f(10).as_bytes()) {
            err("015", format!("ISA10 {:?} is not a valid HHMM time", f(10)));
        }
        if f(12) != "00501" {
            err(
                "017",
                format!("ISA12 {:?}: only version 00501 is supported", f(12)),
            );
        }
        if !f(13).bytes().all(|b| b.is_ascii_digit()) {
            err("018", format!("ISA13 {:?} is not a 9-digit number", f(13)));
        }
        if !["0", "1"].contains(&f(14)) {
            err("019", format!("ISA14 {:?} is not 0 or 1", f(14)));
        }
        if !["P", "T"].contains(&f(15)) {
            err(
                "020",
                format!("ISA15 {:?} is not P (production) or T (test)", f(15)),
            );
        }
        if !self.isa13_seen.insert(f(13)) {
            err(
                "025",
                format!(
                    "interchange control number {} is used twice in this payload",
                    f(13)
                ),
            );
        }
        // One report per code, first cause kept (a sound ISA has none: no set to build).
        if errors.len() > 1 {
            let mut seen = HashSet::new();
            errors.retain(|e| seen.insert(e.code));
        }
        let mut warnings = Vec::new();
        if layout.isa11.is_ascii_alphanumeric() {
            warnings.push(format!("ISA11 is {:?}: in 00501 ISA11 is the repetition separator; read as \"no repetition separator\"", layout.isa11 as char));
        }
        self.gs06_seen.clear();
        self.content_error_reported = false;
        self.interchange = Some(InterchangeReport {
            offset,
            isa,
            delimiters: d,
            errors,
            warnings,
            groups: Vec::new(),
        });
    }

    fn iea(&mut self, seg: &Segment<'_>) {
        let Some(ic) = &mut self.interchange else {
            return;
        };
        let groups = ic.groups.len();
        let open_group = self.group_open;
        if open_group {
            self.close_group(true);
            self.envelope_error(
                "024",
                "IEA arrived while a functional group was open (GE missing)".into(),
            );
        }
        let Some(ic) = &mut self.interchange else {
            return;
        };
        // One UTF-8 check for the segment rather than one per element.
        let t = seg.texts();
        let (count, ctl) = (t.element(1), t.element(2));
        if ctl != ic.control_number() {
            ic.errors.push(EnvelopeError {
                code: "001",
                message: format!(
                    "IEA02 {ctl:?} does not match ISA13 {:?}",
                    ic.control_number()
                ),
            });
        }
        if count.parse::<usize>().ok() != Some(groups) {
            ic.errors.push(EnvelopeError {
                code: "021",
                message: format!("IEA01 says {count:?} functional groups, found {groups}"),
            });
        }
        self.close_interchange(0, false);
    }

    /// Closes the open interchange; `missing_trailer` means no IEA was seen.
    fn close_interchange(&mut self, _offset: u64, missing_trailer: bool) {
        if self.interchange.is_none() {
            return;
        }
        if missing_trailer {
            if self.group_open {
                self.close_group(true);
            }
            self.envelope_error(
                "023",
                "the interchange ends without an IEA segment (truncated file?)".into(),
            );
        }
        if let Some(ic) = self.interchange.take() {
            self.report.interchanges.push(ic);
        }
    }

    /// A TA1 received inside an interchange (a partner acknowledging one of ours).
    fn ta1(&mut self, seg: &Segment<'_>) {
        let ok = seg.len() == 5
            && seg.element(1).len() == 9
            && seg.element(1).iter().all(u8::is_ascii_digit)
            && is_date(seg.element(2))
            && is_time(seg.element(3))
            && matches!(seg.element(4), b"A" | b"E" | b"R")
            && seg.element(5).len() == 3
            && seg.element(5).iter().all(u8::is_ascii_digit);
        if !ok {
            self.envelope_error(
                "024",
                format!(
                    "invalid TA1 segment {:?}: TA1*<ISA13>*<YYMMDD>*<HHMM>*<A|E|R>*<note code>",
                    text(seg.raw())
                ),
            );
        }
    }

    // ---- GS / GE ----

    fn gs(&mut self, seg: &Segment<'_>) {
        if self.interchange.is_none() {
            return;
        }
        if self.group_open {
            self.close_group(true);
        }
        let gs = Elements::<8>::of(seg);
        let mut errors = Vec::new();
        let mut content: Vec<String> = Vec::new();
        let f = |n: usize| gs.get(n);
        // What a 999 must echo (GS01, GS06, GS08) has to be well-formed; otherwise the GS is
        // invalid interchange content (TA1 024) rather than a group a 999 could describe.
        let known_group = f(1) == "FA" || super::ack::ACKNOWLEDGEABLE_GROUPS.contains(&f(1));
        if !known_group {
            content.push(format!(
                "GS01 {:?} is not a functional identifier code",
                f(1)
            ));
        } else if !FUNCTIONAL_GROUPS.iter().any(|(_, g)| *g == f(1)) {
            errors.push(GroupError {
                code: "1",
                message: format!("GS01 {:?} is not a supported functional group", f(1)),
            });
        }
        if f(8).is_empty() || f(8).len() > 12 {
            content.push(format!("GS08 {:?} must be 1-12 characters", f(8)));
        }
        if !super::spec::is_supported_version(f(8)) {
            errors.push(GroupError {
                code: "2",
                message: format!(
                    "GS08 {:?} is not a supported implementation guide version",
                    f(8)
                ),
            });
        }
        let g6 = f(6);
        if g6.is_empty() || g6.len() > 9 || !g6.bytes().all(|b| b.is_ascii_digit()) {
            content.push(format!("GS06 {g6:?} is not a 1-9 digit number"));
        } else if !self.gs06_seen.insert(g6) {
            errors.push(GroupError {
                code: "19",
                message: format!("group control number {g6} is used twice in this interchange"),
            });
        }
        for n in [2, 3] {
            if !(2..=15).contains(&f(n).len()) {
                content.push(format!("GS{n:02} must be 2-15 characters"));
            }
        }
        if f(4).len() != 8 || !is_date(f(4).as_bytes()) {
            content.push(format!("GS04 {:?} is not a valid CCYYMMDD date", f(4)));
        }
        if !is_time(f(5).as_bytes()) {
            content.push(format!("GS05 {:?} is not a valid HHMM[SS[dd]] time", f(5)));
        }
        if f(7) != "X" {
            content.push(format!("GS07 {:?} must be X", f(7)));
        }
        for c in content {
            self.envelope_error("024", format!("invalid GS segment: {c}"));
        }
        self.st02_seen.clear();
        if let Some(ic) = &mut self.interchange {
            ic.groups.push(GroupReport {
                gs,
                errors,
                declared_sets: None,
                sets: Vec::new(),
            });
            self.group_open = true;
        }
    }

    fn ge(&mut self, seg: &Segment<'_>) {
        if !self.group_open {
            self.content_error("GE without a matching GS");
            return;
        }
        if self.set.is_some() {
            self.close_set_missing_se();
        }
        // One UTF-8 check for the segment rather than one per element.
        let t = seg.texts();
        let (count, ctl) = (t.element(1), t.element(2));
        let Some(g) = self.group() else { return };
        let sets = g.sets.len();
        g.declared_sets = count.parse().ok();
        if ctl != g.gs(6) {
            g.errors.push(GroupError {
                code: "4",
                message: format!("GE02 {ctl:?} does not match GS06 {:?}", g.gs(6)),
            });
        }
        if count.parse::<usize>().ok() != Some(sets) {
            g.errors.push(GroupError {
                code: "5",
                message: format!("GE01 says {count:?} transaction sets, found {sets}"),
            });
        }
        self.close_group(false);
    }

    fn close_group(&mut self, missing_trailer: bool) {
        if self.set.is_some() {
            self.close_set_missing_se();
        }
        if missing_trailer {
            self.group_error("3", "the functional group ends without a GE segment".into());
        }
        self.group_open = false;
    }

    fn content_error(&mut self, what: &str) {
        if !self.content_error_reported {
            self.content_error_reported = true;
            self.envelope_error("024", format!("invalid interchange content: {what}"));
        }
    }

    // ---- ST / SE and everything between ----

    fn st(&mut self, seg: &Segment<'_>) {
        if !self.group_open {
            self.content_error("ST outside a functional group");
            return;
        }
        if self.set.is_some() {
            self.close_set_missing_se();
        }
        let t = seg.texts();
        let (st01, st02, st03) = (t.element(1), t.element(2), t.element(3));
        // The group by field, not through `self.group()`: `st02_seen` is updated meanwhile.
        let Some(g) = self
            .interchange
            .as_ref()
            .and_then(|i| i.groups.last())
            .filter(|_| self.group_open)
        else {
            return;
        };
        let (gs01, gs08) = (g.gs(1), g.gs(8));
        let group_ok = g.errors.is_empty();
        let mut report = SetReport {
            st01: st01.to_string(),
            st02: st02.to_string(),
            st03: st03.to_string(),
            segment_count: 1,
            ..SetReport::default()
        };
        let err =
            |r: &mut SetReport, code, message: String| r.errors.push(SetError { code, message });
        match FUNCTIONAL_GROUPS.iter().find(|(t, _)| *t == st01) {
            None => err(
                &mut report,
                "1",
                format!("transaction set {st01:?} is not supported"),
            ),
            Some((_, g)) if *g != gs01 => err(
                &mut report,
                "6",
                format!(
                    "transaction set {st01} does not belong in a {gs01:?} group (expected {g})"
                ),
            ),
            _ => {}
        }
        if !(4..=9).contains(&st02.len()) || st02.bytes().any(|b| !b.is_ascii_alphanumeric()) {
            err(
                &mut report,
                "7",
                format!("ST02 {st02:?} must be 4-9 characters"),
            );
        } else if !self.st02_seen.insert(&st02) {
            err(
                &mut report,
                "23",
                format!("transaction set control number {st02} is used twice in this group"),
            );
        }
        // GS08 names the guide for the whole group; ST03 must repeat it (checked below). Only when
        // GS08 names no guide for this set is ST03 tried.
        let by_group: Option<&'static Spec> = spec_for(&st01, gs08);
        let (version, spec) = if by_group.is_some() || st03.is_empty() {
            (gs08, by_group)
        } else {
            (&*st03, spec_for(&st01, &st03))
        };
        if spec.is_none() && group_ok && report.errors.is_empty() {
            err(
                &mut report,
                "I6",
                format!(
                    "implementation guide {version:?} for transaction set {st01} is not supported"
                ),
            );
        }
        report.guide = spec.map(|s| &*s.version);
        let mut state = SetState {
            walker: spec.map(|s| {
                if self.full_walks {
                    Walker::new(s).without_memo()
                } else {
                    Walker::new(s)
                }
            }),
            rules: Rules::new(&st01, version),
            report,
            ls: None,
            claim: None,
            walk: Vec::new(),
            check: SegmentCheck::default(),
            rule_issues: Vec::new(),
            last_clean: CleanSegments::default(),
        };
        if let Some(spec) = spec {
            let st_node = spec.opening_segment(super::spec::ROOT).unwrap_or_default();
            check_into(&mut state, spec, st_node, seg, 1);
            if !st03.is_empty() && !gs08.is_empty() && st03 != gs08 {
                let issue = ElementIssue {
                    element: 3,
                    component: 0,
                    repetition: 0,
                    reference: "1705".into(),
                    code: "7",
                    value: Some(st03.to_string()),
                    message: format!("ST03 {st03:?} differs from GS08 {gs08:?}"),
                };
                push_segment_issue(
                    &mut state,
                    1,
                    "ST",
                    "8",
                    "ST",
                    "ST03 must equal GS08".into(),
                    vec![issue],
                );
            }
        }
        self.set = Some(state);
    }

    fn body(&mut self, seg: &Segment<'_>) {
        let Some(state) = &mut self.set else {
            let what = format!("segment {} outside a transaction set", seg.id_str());
            self.content_error(&what);
            return;
        };
        state.report.segment_count += 1;
        let position = state.report.segment_count;
        match seg.id_key() {
            ids::LS => state.ls = Some(seg.text(1).into_owned()),
            ids::CLM => state.claim = Some(ClaimId::new(seg.element(1))),
            ids::HL => state.claim = None,
            _ => {}
        }
        place(state, seg, position);
        if seg.id_key() == ids::LE {
            state.ls = None;
        }
        state.rule_issues.clear();
        state
            .rules
            .on_segment(seg, position, &mut state.rule_issues);
        if !state.rule_issues.is_empty() {
            flush_rule_issues(state);
        }
    }

    fn se(&mut self, seg: &Segment<'_>) {
        if self.set.is_none() {
            self.content_error("SE without a matching ST");
            return;
        }
        self.body(seg);
        let Some(mut state) = self.set.take() else {
            return;
        };
        // One UTF-8 check for the segment rather than one per element.
        let t = seg.texts();
        let (count, ctl) = (t.element(1), t.element(2));
        let r = &mut state.report;
        if ctl != r.st02 {
            r.errors.push(SetError {
                code: "3",
                message: format!("SE02 {ctl:?} does not match ST02 {:?}", r.st02),
            });
        }
        if count.parse::<u32>().ok() != Some(r.segment_count) {
            r.errors.push(SetError {
                code: "4",
                message: format!(
                    "SE01 says {count:?} segments, counted {} (ST and SE included)",
                    r.segment_count
                ),
            });
        }
        self.close_set(state);
    }

    fn close_set_missing_se(&mut self) {
        if let Some(mut state) = self.set.take() {
            state.report.errors.push(SetError {
                code: "2",
                message: "the transaction set ends without an SE segment".into(),
            });
            self.close_set(state);
        }
    }

    fn close_set(&mut self, mut state: SetState) {
        state.rule_issues.clear();
        state.rules.finish(&mut state.rule_issues);
        flush_rule_issues(&mut state);
        state.report.segments.sort_by_key(|s| s.position);
        if let Some(g) = self.group() {
            g.sets.push(state.report);
        }
    }

    fn segment(&mut self, seg: &Segment<'_>, offset: u64) {
        if self.interchange.is_none() {
            self.note(
                offset,
                Severity::Error,
                format!("segment {} outside any interchange", seg.id_str()),
            );
            return;
        }
        match seg.id_key() {
            ids::IEA => self.iea(seg),
            ids::GS => self.gs(seg),
            ids::GE => self.ge(seg),
            ids::ST => self.st(seg),
            ids::SE => self.se(seg),
            ids::ISA => {}
            ids::TA1 if self.set.is_none() && !self.group_open => self.ta1(seg),
            _ => self.body(seg),
        }
    }
}

/// Walks one body segment into the guide and checks its elements.
fn place(state: &mut SetState, seg: &Segment<'_>, position: u32) {
    let Some(walker) = state.walker.as_mut() else {
        return;
    };
    let spec = walker.spec();
    let before: &'static str = walker.current_loop_id();
    state.walk.clear();
    let found = walker.walk(seg, &mut state.walk);
    if state.walk.is_empty() {
        if let Some(node) = found {
            check_into(state, spec, node, seg, position);
        }
        return;
    }
    let walk = std::mem::take(&mut state.walk);
    let seg_id = seg.text(0);
    for w in &walk {
        let (name, code, loop_id, message) = match *w {
            WalkIssue::Missing { node, is_loop } => {
                let n = spec.node(node);
                let lp = spec.parent_loop(node);
                let msg = if is_loop {
                    format!(
                        "required loop {} ({}) is missing",
                        spec.node(lp).id,
                        spec.node(lp).name
                    )
                } else {
                    format!("required segment {} ({}) is missing", n.id, n.name)
                };
                (
                    n.id.to_string(),
                    "3",
                    spec.loop_id_of(node).to_string(),
                    msg,
                )
            }
            WalkIssue::NotUsed { node } => (
                seg_id.to_string(),
                "I4",
                spec.loop_id_of(node).to_string(),
                format!("{} is marked Not Used here", spec.node(node).name),
            ),
            WalkIssue::MaxUse { node } => (
                seg_id.to_string(),
                "5",
                spec.loop_id_of(node).to_string(),
                format!(
                    "{} occurs more than {} times",
                    spec.node(node).name,
                    spec.node(node).max
                ),
            ),
            WalkIssue::LoopMax { node } => (
                seg_id.to_string(),
                "4",
                spec.node(node).id.to_string(),
                format!(
                    "loop {} occurs more than {} times",
                    spec.node(node).id,
                    spec.node(node).max
                ),
            ),
            WalkIssue::NotFound => {
                let id = seg.id();
                let valid_id = (2..=3).contains(&id.len())
                    && id
                        .iter()
                        .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
                let msg = if valid_id {
                    format!(
                        "segment {seg_id} is not expected here (after loop {before}): unknown, out of order or in the wrong loop"
                    )
                } else {
                    format!("{seg_id:?} is not a valid segment ID")
                };
                (seg_id.to_string(), "1", before.to_string(), msg)
            }
        };
        push_segment_issue(state, position, &name, code, &loop_id, message, vec![]);
    }
    state.walk = walk;
    if let Some(node) = found {
        check_into(state, spec, node, seg, position);
    }
}

fn check_into(
    state: &mut SetState,
    spec: &Spec,
    node: super::spec::NodeId,
    seg: &Segment<'_>,
    position: u32,
) {
    let Some(seg_spec) = spec.node(node).as_segment() else {
        return;
    };
    // Element checks are a pure function of the guide segment and the bytes: a segment equal to
    // the last clean one at the same place (payer, dates, codes repeat claim after claim) passes.
    let raw = seg.raw();
    if state.last_clean.is(node, raw) {
        return;
    }
    let check = &mut state.check;
    check.elements.clear();
    check.syntax_error = false;
    check_segment(seg_spec, seg, check);
    if check.elements.is_empty() && !check.syntax_error && position > CLEAN_AFTER {
        state.last_clean.remember(spec.nodes.len(), node, raw);
    }
    let check = &mut state.check;
    if !check.elements.is_empty() || check.syntax_error {
        let elements = std::mem::take(&mut check.elements);
        let message = if elements.is_empty() {
            "the segment ends with a data element separator".to_string()
        } else {
            elements
                .iter()
                .map(|e| e.message.as_str())
                .collect::<Vec<_>>()
                .join("; ")
        };
        let loop_id = spec.loop_id_of(node).to_string();
        push_segment_issue(
            state,
            position,
            &seg.text(0),
            "8",
            &loop_id,
            message,
            elements,
        );
    }
}

fn flush_rule_issues(state: &mut SetState) {
    for r in std::mem::take(&mut state.rule_issues) {
        // A value the guide's tables already rejected needs no second report.
        if let Some(e) = &r.issue
            && state.report.segments.iter().any(|s| {
                s.position == r.position
                    && s.elements
                        .iter()
                        .any(|x| x.element == e.element && x.component == 0)
            })
        {
            continue;
        }
        let loop_id = state
            .walker
            .as_ref()
            .map_or(String::new(), |w| w.current_loop_id().to_string());
        push_segment_issue(
            state,
            r.position,
            r.segment,
            r.code,
            &loop_id,
            r.message,
            r.issue.into_iter().collect(),
        );
    }
}

/// Records a segment issue, merging element issues into an existing IK3 for the same segment.
fn push_segment_issue(
    state: &mut SetState,
    position: u32,
    segment: &str,
    code: &'static str,
    loop_id: &str,
    message: String,
    elements: Vec<ElementIssue>,
) {
    let r = &mut state.report;
    if let Some(existing) = r
        .segments
        .iter_mut()
        .find(|s| s.position == position && s.segment == segment && s.code == code)
    {
        existing.elements.extend(elements);
        if !existing.message.contains(&message) {
            existing.message.push_str("; ");
            existing.message.push_str(&message);
        }
        return;
    }
    if r.segments.len() >= MAX_ISSUES_PER_SET {
        r.more_issues += 1;
        return;
    }
    let business_unit = state.claim.map(|c| ("CLM01".to_string(), c.text()));
    r.segments.push(SegmentIssue {
        position,
        segment: segment.to_string(),
        code,
        loop_id: loop_id.to_string(),
        ls_loop: state.ls.clone(),
        business_unit,
        message,
        elements,
    });
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn run(bytes: &[u8], full_walks: bool) -> String {
        let v = Validator {
            full_walks,
            ..Validator::default()
        };
        serde_json::to_string(&crate::x12::reader::validate_with(bytes, v)).unwrap_or_default()
    }

    fn seed() -> Vec<u8> {
        let mut b = Vec::new();
        let shape = crate::x12::sample::Sample837 {
            claims: 12,
            claims_per_set: 6,
            sets_per_interchange: 2,
        };
        crate::x12::sample::write_837p(shape, &mut b).unwrap_or_default();
        b
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 400, .. ProptestConfig::default() })]

        /// Remembered walks report exactly what full walks report, whatever the faults.
        #[test]
        fn memoized_walks_equal_full_walks(edits in proptest::collection::vec((any::<usize>(), 0usize..6), 1..6)) {
            let mut b = seed();
            // Faults that move the walk: drop, duplicate or retype segments, break qualifiers.
            for (at, kind) in edits {
                let i = at % b.len();
                let line_start = b[..i].iter().rposition(|&c| c == b'\n').map_or(0, |p| p + 1);
                let line_end = b[i..].iter().position(|&c| c == b'\n').map_or(b.len(), |p| i + p + 1);
                let line = b[line_start..line_end].to_vec();
                match kind {
                    0 => { b.drain(line_start..line_end); }
                    1 => { b.splice(line_end..line_end, line); }
                    2 => b[i] = b'X',
                    3 => b[i] = b'*',
                    4 => { b.splice(line_start..line_start, b"REF*EI*1~\n".iter().copied()); }
                    _ => { b.splice(line_start..line_start, b"HL*9*1*22*0~\n".iter().copied()); }
                }
                if b.is_empty() { break; }
            }
            prop_assert_eq!(run(&b, false), run(&b, true));
        }
    }
}
