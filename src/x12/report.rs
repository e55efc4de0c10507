//! What validation found: a tree mirroring the payload (interchange → group → set) carrying the
//! codes the TA1 and 999 report, plus human-readable messages.

use serde::Serialize;

use super::delimiters::Delimiters;
pub use super::validate::element::ElementIssue;

/// Issues recorded per transaction set before further ones are only counted.
pub const MAX_ISSUES_PER_SET: usize = 1000;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Rejects the interchange, group or set it belongs to.
    Error,
    /// Reported, but accepted.
    Warning,
}

/// Something about the payload outside any interchange, or about the interchange as bytes.
#[derive(Clone, Debug, Serialize)]
pub struct Note {
    pub offset: u64,
    pub severity: Severity,
    pub message: String,
}

/// An interchange-level problem; `code` is the TA105 note code.
#[derive(Clone, Debug, Serialize)]
pub struct EnvelopeError {
    pub code: &'static str,
    pub message: String,
}

/// A group-level problem; `code` is an AK905 code.
#[derive(Clone, Debug, Serialize)]
pub struct GroupError {
    pub code: &'static str,
    pub message: String,
}

/// A set-level problem; `code` is an IK502 code.
#[derive(Clone, Debug, Serialize)]
pub struct SetError {
    pub code: &'static str,
    pub message: String,
}

/// A segment-level problem (an IK3 loop of the 999).
#[derive(Clone, Debug, Serialize)]
pub struct SegmentIssue {
    /// Position in the set, ST = 1 (IK302).
    pub position: u32,
    /// Segment ID (IK301).
    pub segment: String,
    /// IK304.
    pub code: &'static str,
    /// The guide loop the segment was placed in (for people; the 999 carries only LS loops).
    pub loop_id: String,
    /// LS01 of the enclosing LS/LE loop (IK303).
    pub ls_loop: Option<String>,
    /// Business unit identifier for the 999 CTX, e.g. ("CLM01", claim ID).
    pub business_unit: Option<(String, String)>,
    pub message: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub elements: Vec<ElementIssue>,
}

impl Serialize for ElementIssue {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("ElementIssue", 5)?;
        st.serialize_field("position", &self.position_text())?;
        st.serialize_field("reference", &*self.reference)?;
        st.serialize_field("code", self.code)?;
        st.serialize_field("value", &self.value)?;
        st.serialize_field("message", &self.message)?;
        st.end()
    }
}

impl ElementIssue {
    /// IK401 as written: `element[:component[:repetition]]`.
    pub fn position_text(&self) -> String {
        match (self.component, self.repetition) {
            (0, 0) => self.element.to_string(),
            (c, 0) => format!("{}:{c}", self.element),
            (c, r) => format!(
                "{}:{}:{r}",
                self.element,
                if c == 0 { String::new() } else { c.to_string() }
            ),
        }
    }
}

/// One transaction set (ST..SE).
#[derive(Clone, Debug, Default, Serialize)]
pub struct SetReport {
    pub st01: String,
    pub st02: String,
    pub st03: String,
    /// The implementation guide it was validated against, if any.
    pub guide: Option<&'static str>,
    pub segment_count: u32,
    pub errors: Vec<SetError>,
    pub segments: Vec<SegmentIssue>,
    /// Issues beyond [`MAX_ISSUES_PER_SET`], counted but not kept.
    pub more_issues: u64,
}

impl SetReport {
    pub fn accepted(&self) -> bool {
        self.errors.is_empty() && self.segments.is_empty() && self.more_issues == 0
    }

    /// IK502..IK506: set-level codes, with 5 when segments are in error.
    pub fn ik5_codes(&self) -> Vec<&'static str> {
        let mut codes: Vec<&'static str> = self.errors.iter().map(|e| e.code).collect();
        if !self.segments.is_empty() {
            codes.push("5");
        }
        codes.sort_unstable();
        codes.dedup();
        codes
    }
}

/// A fixed number of elements as received (ISA01..ISA16, GS01..GS08), kept as one string with
/// the end of each element: one allocation where a `Vec<String>` took `N + 1`, on the path
/// every request takes. Serializes as a list of strings.
#[derive(Clone, PartialEq, Eq)]
pub struct Elements<const N: usize> {
    text: String,
    ends: [u32; N],
}

impl<const N: usize> Default for Elements<N> {
    fn default() -> Self {
        Self {
            text: String::new(),
            ends: [0; N],
        }
    }
}

impl<const N: usize> Elements<N> {
    /// Elements 1..=N of `seg`, as text (invalid UTF-8 replaced); missing ones are empty.
    pub fn of(seg: &super::Segment<'_>) -> Self {
        let mut text = String::with_capacity((1..=N).map(|n| seg.element(n).len()).sum());
        let mut ends = [0; N];
        let texts = seg.texts();
        for (n, end) in ends.iter_mut().enumerate() {
            text.push_str(&texts.element(n + 1));
            // A segment is at most `lexer::MAX_SEGMENT_LEN` bytes; replacement characters at
            // most triple that.
            *end = u32::try_from(text.len()).unwrap_or(u32::MAX);
        }
        Self { text, ends }
    }

    /// Element `n` (1-based); empty when out of range.
    pub fn get(&self, n: usize) -> &str {
        let Some(&end) = n.checked_sub(1).and_then(|i| self.ends.get(i)) else {
            return "";
        };
        let start = if n >= 2 { self.ends[n - 2] } else { 0 };
        self.text.get(start as usize..end as usize).unwrap_or("")
    }

    /// Elements 1..=N in order.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        (1..=N).map(|n| self.get(n))
    }
}

impl<const N: usize> std::fmt::Debug for Elements<N> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<const N: usize> Serialize for Elements<N> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

/// One functional group (GS..GE).
#[derive(Clone, Debug, Default, Serialize)]
pub struct GroupReport {
    /// GS01..GS08.
    pub gs: Elements<8>,
    pub errors: Vec<GroupError>,
    /// GE01 as received, when it was a number.
    pub declared_sets: Option<u64>,
    pub sets: Vec<SetReport>,
}

impl GroupReport {
    pub fn gs(&self, n: usize) -> &str {
        self.gs.get(n)
    }

    pub fn accepted_sets(&self) -> usize {
        if self.errors.is_empty() {
            self.sets.iter().filter(|s| s.accepted()).count()
        } else {
            0
        }
    }

    /// AK901: A, P (some sets rejected) or R.
    pub fn ack_code(&self) -> &'static str {
        let ok = self.accepted_sets();
        if !self.errors.is_empty() || (ok == 0 && !self.sets.is_empty()) {
            "R"
        } else if ok == self.sets.len() {
            "A"
        } else {
            "P"
        }
    }
}

/// One interchange (ISA..IEA).
#[derive(Clone, Debug, Serialize)]
pub struct InterchangeReport {
    pub offset: u64,
    /// ISA01..ISA16 as received.
    pub isa: Elements<16>,
    #[serde(skip)]
    pub delimiters: Delimiters,
    pub errors: Vec<EnvelopeError>,
    pub warnings: Vec<String>,
    pub groups: Vec<GroupReport>,
}

impl InterchangeReport {
    pub fn isa(&self, n: usize) -> &str {
        self.isa.get(n)
    }

    pub fn control_number(&self) -> &str {
        self.isa(13)
    }

    pub fn is_test(&self) -> bool {
        self.isa(15) == "T"
    }

    pub fn rejected(&self) -> bool {
        !self.errors.is_empty()
    }

    /// TA104 and TA105.
    pub fn ta1_verdict(&self) -> (&'static str, &'static str) {
        match self.errors.first() {
            Some(e) => ("R", e.code),
            None => ("A", "000"),
        }
    }

    /// A TA1 is sent when the sender asked (ISA14 = 1) or the envelope is rejected.
    pub fn wants_ta1(&self) -> bool {
        self.isa(14) == "1" || self.rejected()
    }
}

/// Everything found in one payload.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Report {
    pub notes: Vec<Note>,
    pub interchanges: Vec<InterchangeReport>,
}

impl Report {
    /// True when every interchange, group and set is accepted and nothing unreadable was found.
    pub fn accepted(&self) -> bool {
        !self.interchanges.is_empty()
            && self.notes.iter().all(|n| n.severity == Severity::Warning)
            && self.interchanges.iter().all(|i| {
                !i.rejected()
                    && i.groups
                        .iter()
                        .all(|g| g.errors.is_empty() && g.sets.iter().all(SetReport::accepted))
            })
    }

    /// Every verdict on one line, e.g. `TA1 A 000 | AK9 P | 837 0001 A | 837 0002 R 5 |
    /// IK3 CLM@19 8 [5:2 1332 7]`: compact enough to record the expected outcome of a test file.
    pub fn verdict_line(&self) -> String {
        let mut parts = Vec::new();
        for n in self.notes.iter().filter(|n| n.severity == Severity::Error) {
            parts.push(format!(
                "NOTE {}",
                n.message.split(':').next().unwrap_or("")
            ));
        }
        for ic in &self.interchanges {
            let codes: Vec<&str> = ic.errors.iter().map(|e| e.code).collect();
            let (ack, note) = ic.ta1_verdict();
            parts.push(format!(
                "TA1 {ack} {}",
                if codes.is_empty() {
                    note.to_string()
                } else {
                    codes.join(",")
                }
            ));
            for g in &ic.groups {
                let codes: String = g.errors.iter().map(|e| format!(" {}", e.code)).collect();
                parts.push(format!("AK9 {}{codes}", g.ack_code()));
                for set in &g.sets {
                    let codes: String = set.ik5_codes().iter().map(|c| format!(" {c}")).collect();
                    parts.push(format!(
                        "{} {} {}{codes}",
                        set.st01,
                        set.st02,
                        if set.accepted() { "A" } else { "R" }
                    ));
                    for seg in &set.segments {
                        let mut t = format!("IK3 {}@{} {}", seg.segment, seg.position, seg.code);
                        if !seg.elements.is_empty() {
                            let els: Vec<String> = seg
                                .elements
                                .iter()
                                .map(|e| {
                                    format!("{} {} {}", e.position_text(), e.reference, e.code)
                                })
                                .collect();
                            t.push_str(&format!(" [{}]", els.join("; ")));
                        }
                        parts.push(t);
                    }
                }
            }
        }
        parts.join(" | ")
    }

    /// Every set with its interchange and group, in payload order.
    pub fn sets(&self) -> impl Iterator<Item = (&InterchangeReport, &GroupReport, &SetReport)> {
        self.interchanges.iter().flat_map(|i| {
            i.groups
                .iter()
                .flat_map(move |g| g.sets.iter().map(move |s| (i, g, s)))
        })
    }
}
