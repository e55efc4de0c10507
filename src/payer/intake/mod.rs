//! What accepted batch files change in the plan's data (issue #5): 837P/837I claims are kept
//! as received, so that 276 inquiries find them; 834 enrollment changes are applied to members
//! and their coverage.
//!
//! Pure and synchronous, like [`crate::x12`]: the extractors are fed the lexer's output in file
//! order and say which transaction set each item came from ([`SetPosition`]), so the caller can
//! drop the items of sets its 999 rejected. Storing is [`crate::store::intake`]'s job.
//!
//! Two ways to feed them: segment by segment (a caller already lexing the payload, e.g. while
//! validating it), or byte chunks as they come out of storage through [`LexemeFeed`].

pub mod claims;
pub mod enrollment;

use crate::x12::lexer::{Lexeme, Lexer, Step};
use crate::x12::report::Report;
use crate::x12::segment::Segment;

pub use claims::{ClaimExtractor, ClaimKind, ReceivedClaim, claims_in, payer_claim_number};
pub use enrollment::{
    Address, Coverage, EnrollmentError, EnrollmentExtractor, MAX_MEMBER_CHANGES, Maintenance,
    MemberChange, enrollment_in,
};

/// Where a transaction set sits in its payload, as the validator's [`Report`] numbers them.
///
/// All indices are 0-based: `report.interchanges[interchange].groups[group].sets[set]` is the
/// set's report, and `ordinal` is its index among all sets of the payload (the order of
/// [`Report::sets`]). Envelope segments out of place (a GS outside an interchange, an ST
/// outside a group) are skipped exactly as the validator skips them, so the two agree.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct SetPosition {
    pub interchange: usize,
    pub group: usize,
    pub set: usize,
    pub ordinal: usize,
}

impl SetPosition {
    /// True when the set was accepted (IK5 A) within an accepted group and interchange: its
    /// content may change plan data.
    pub fn accepted_in(&self, report: &Report) -> bool {
        let Some(ic) = report.interchanges.get(self.interchange) else {
            return false;
        };
        let Some(g) = ic.groups.get(self.group) else {
            return false;
        };
        !ic.rejected() && g.errors.is_empty() && g.sets.get(self.set).is_some_and(|s| s.accepted())
    }
}

/// What a lexeme means to the extractors; see [`Envelope::lexeme`].
#[derive(Clone, Copy, Debug)]
pub(crate) enum Event<'a> {
    /// ISA, GS, GE, IEA, a segment outside any set, or not a segment: nothing to extract.
    Outside,
    /// An ST opened a set (its position is [`Envelope::position`]). A set left open before it
    /// (no SE) ends here too.
    SetStart(Segment<'a>),
    /// A segment between ST and SE.
    Body(Segment<'a>),
    /// SE, or an envelope segment that cut the open set short, closed it.
    SetEnd,
}

/// Follows ISA/GS/ST … SE/GE/IEA the way the validator does, numbering sets.
#[derive(Debug, Default)]
pub(crate) struct Envelope {
    interchanges: usize,
    groups: usize,
    sets: usize,
    all_sets: usize,
    in_interchange: bool,
    in_group: bool,
    in_set: bool,
    /// GS08 of the open group (the implementation guide, when ST03 is missing).
    gs08: Vec<u8>,
}

impl Envelope {
    /// The position of the open set (or the last one opened).
    pub fn position(&self) -> SetPosition {
        SetPosition {
            interchange: self.interchanges.saturating_sub(1),
            group: self.groups.saturating_sub(1),
            set: self.sets.saturating_sub(1),
            ordinal: self.all_sets.saturating_sub(1),
        }
    }

    /// GS08 of the open group.
    pub fn gs08(&self) -> &[u8] {
        &self.gs08
    }

    /// Takes the next lexeme of the payload.
    pub fn lexeme<'a>(&mut self, lexeme: &Lexeme<'a>) -> Event<'a> {
        match lexeme {
            Lexeme::Isa { seg, .. } | Lexeme::Segment(seg) | Lexeme::Unterminated(seg) => {
                self.segment(seg)
            }
            // An unreadable ISA ends the interchange, as it does for the validator.
            Lexeme::BadIsa(_) => {
                let was_in_set = self.in_set;
                self.close_interchange();
                if was_in_set {
                    Event::SetEnd
                } else {
                    Event::Outside
                }
            }
            _ => Event::Outside,
        }
    }

    fn segment<'a>(&mut self, seg: &Segment<'a>) -> Event<'a> {
        let was_in_set = self.in_set;
        let closed = if was_in_set {
            Event::SetEnd
        } else {
            Event::Outside
        };
        match seg.id() {
            b"ISA" => {
                self.close_interchange();
                self.in_interchange = true;
                self.interchanges += 1;
                self.groups = 0;
                closed
            }
            _ if !self.in_interchange => Event::Outside,
            b"IEA" => {
                self.close_interchange();
                closed
            }
            b"GS" => {
                self.in_set = false;
                self.in_group = true;
                self.groups += 1;
                self.sets = 0;
                self.gs08 = seg.element(8).to_vec();
                closed
            }
            b"GE" => {
                self.in_set = false;
                self.in_group = false;
                closed
            }
            b"ST" if self.in_group => {
                self.in_set = true;
                self.sets += 1;
                self.all_sets += 1;
                Event::SetStart(*seg)
            }
            b"SE" if self.in_set => {
                self.in_set = false;
                Event::SetEnd
            }
            _ if self.in_set => Event::Body(*seg),
            _ => Event::Outside,
        }
    }

    fn close_interchange(&mut self) {
        self.in_interchange = false;
        self.in_group = false;
        self.in_set = false;
    }
}

/// Turns byte chunks into lexemes, keeping only the unread tail of a segment between chunks
/// (at most [`crate::x12::lexer::MAX_SEGMENT_LEN`] bytes plus one chunk), so that a 200 MB payload read from
/// storage in 1 MiB chunks is processed in bounded memory.
#[derive(Debug, Default)]
pub struct LexemeFeed {
    lexer: Lexer,
    pending: Vec<u8>,
}

impl LexemeFeed {
    pub fn new() -> Self {
        Self::default()
    }

    /// Lexes `chunk` (the next bytes of the payload), calling `f` with each complete lexeme.
    /// Chunks of any size work; very small ones cost a rescan of the unfinished segment each.
    pub fn feed(&mut self, chunk: &[u8], f: impl FnMut(Lexeme<'_>)) {
        self.pending.extend_from_slice(chunk);
        self.run(false, f);
    }

    /// Ends the payload: lexes what is left.
    pub fn finish(mut self, f: impl FnMut(Lexeme<'_>)) {
        self.run(true, f);
    }

    fn run(&mut self, eof: bool, mut f: impl FnMut(Lexeme<'_>)) {
        let mut pos = 0;
        while let Step::Item {
            lexeme, consumed, ..
        } = self.lexer.step(&self.pending[pos..], eof)
        {
            f(lexeme);
            pos += consumed;
        }
        self.pending.drain(..pos);
    }
}

/// Calls `f` with every lexeme of a payload held in memory.
pub(crate) fn lex_all(payload: &[u8], mut f: impl FnMut(Lexeme<'_>)) {
    let mut lexer = Lexer::new();
    let mut pos = 0;
    while let Step::Item {
        lexeme, consumed, ..
    } = lexer.step(payload.get(pos..).unwrap_or_default(), true)
    {
        f(lexeme);
        pos += consumed;
    }
}

/// An element as text (lossy: X12 basic and extended character sets are ASCII).
pub(crate) fn text(v: &[u8]) -> String {
    String::from_utf8_lossy(v.trim_ascii()).into_owned()
}

/// An element as text, `None` when empty.
pub(crate) fn opt_text(v: &[u8]) -> Option<String> {
    Some(text(v)).filter(|s| !s.is_empty())
}

/// A date or date range element (`D8` CCYYMMDD, `RD8` CCYYMMDD-CCYYMMDD) as (from, to).
pub(crate) fn date_range(qualifier: &[u8], value: &[u8]) -> Option<(time::Date, time::Date)> {
    use super::parse_x12_date;
    match qualifier {
        b"D8" => parse_x12_date(value).map(|d| (d, d)),
        b"RD8" => {
            let dash = value.iter().position(|&b| b == b'-')?;
            let from = parse_x12_date(&value[..dash])?;
            let to = parse_x12_date(&value[dash + 1..])?;
            (from <= to).then_some((from, to))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn feed_in_small_chunks_matches_whole() {
        let bytes = include_bytes!("../../../fixtures/x12/837P_two_claims.x12");
        let mut whole = Vec::new();
        lex_all(bytes, |l| {
            if let Lexeme::Segment(s) = l {
                whole.push(s.id_str());
            }
        });
        for size in [1, 7, 100, 4096] {
            let mut feed = LexemeFeed::new();
            let mut got = Vec::new();
            for chunk in bytes.chunks(size) {
                feed.feed(chunk, |l| {
                    if let Lexeme::Segment(s) = l {
                        got.push(s.id_str());
                    }
                });
            }
            feed.finish(|l| {
                if let Lexeme::Segment(s) = l {
                    got.push(s.id_str());
                }
            });
            assert_eq!(got, whole, "chunks of {size}");
        }
    }

    /// Every prefix of the fixtures (a payload cut anywhere) and byte-flipped copies: the
    /// extractors never panic, and never report more items than the whole file holds.
    #[test]
    fn cut_and_damaged_payloads() {
        let files: [&[u8]; 3] = [
            include_bytes!("../../../fixtures/x12/837P_two_claims.x12"),
            include_bytes!("../../../fixtures/x12/837I_three_claims.x12"),
            include_bytes!("../../../fixtures/x12/834_enrollment_changes.x12"),
        ];
        for f in files {
            let (claims, members) = (claims_in(f).len(), enrollment_in(f).unwrap().len());
            for n in 0..f.len() {
                assert!(claims_in(&f[..n]).len() <= claims);
                assert!(enrollment_in(&f[..n]).unwrap().len() <= members);
                let mut damaged = f.to_vec();
                damaged[n] = [b'*', b'~', b':', b'^', b'-', b'.'][n % 6];
                claims_in(&damaged);
                enrollment_in(&damaged).unwrap();
            }
        }
    }

    #[test]
    fn ranges() {
        assert!(date_range(b"RD8", b"20260102-20260101").is_none());
        assert!(date_range(b"D8", b"2026010").is_none());
        let (a, b) = date_range(b"RD8", b"20260101-20260102").unwrap();
        assert!(a < b);
    }
}
