//! The envelope tree of a payload held in memory: interchanges → groups → transaction sets,
//! each set as its segments (zero-copy). The responders read accepted payloads through it;
//! validation ([`crate::x12::validate`]) says whether a payload is sound first.

use std::borrow::Cow;

use super::delimiters::Delimiters;
use super::lexer::{Lexeme, Lexer, Step};
use super::segment::Segment;

#[derive(Debug)]
pub struct Interchange<'a> {
    pub isa: Segment<'a>,
    pub delimiters: Delimiters,
    pub groups: Vec<Group<'a>>,
}

#[derive(Debug)]
pub struct Group<'a> {
    pub gs: Segment<'a>,
    pub sets: Vec<TransactionSet<'a>>,
}

/// ST through SE.
#[derive(Debug)]
pub struct TransactionSet<'a> {
    pub segments: Vec<Segment<'a>>,
}

impl<'a> TransactionSet<'a> {
    /// ST01.
    pub fn id(&self) -> &'a [u8] {
        self.segments.first().map_or(&[], |s| s.element(1))
    }

    /// Segments between ST and SE.
    pub fn body(&self) -> &[Segment<'a>] {
        let n = self.segments.len();
        if n >= 2 {
            &self.segments[1..n - 1]
        } else {
            &[]
        }
    }

    /// Element `n` of the first segment `id` in the body (e.g. BHT03), or empty.
    pub fn first(&self, id: &[u8], n: usize) -> &'a [u8] {
        self.body()
            .iter()
            .find(|s| s.id() == id)
            .map_or(&[], |s| s.element(n))
    }

    /// Walks a hierarchical set (270, 276, 837 …): each HL opens a level, and every other
    /// segment comes with the level code (HL03) it belongs to; empty before the first HL.
    pub fn hl_walk(&self) -> impl Iterator<Item = HlStep<'_, 'a>> {
        let mut level: &'a [u8] = &[];
        self.body().iter().map(move |seg| {
            if seg.id() == b"HL" {
                level = seg.element(3);
                HlStep::Open(level)
            } else {
                HlStep::Segment(level, seg)
            }
        })
    }
}

/// One step of [`TransactionSet::hl_walk`].
#[derive(Debug)]
pub enum HlStep<'s, 'a> {
    /// An HL segment, with its level code (HL03).
    Open(&'a [u8]),
    /// Any other segment, with the level code of the HL it follows.
    Segment(&'a [u8], &'s Segment<'a>),
}

/// Segments a set's list has room for from the start: a real-time inquiry's, so the list is
/// allocated once instead of grown four times.
const SET_CAPACITY: usize = 16;

/// Splits `bytes` into its envelope tree. Segments outside the structure they need (a GS
/// before any ISA, a segment outside ST..SE) are skipped: validation reports them.
pub fn parse(bytes: &[u8]) -> Vec<Interchange<'_>> {
    let mut tree = TreeBuilder::default();
    super::reader::for_each_lexeme_in(bytes, |lexeme, _| tree.push(&lexeme));
    tree.finish()
}

/// Builds the envelope tree lexeme by lexeme, so that validation can build it from the lexemes
/// it reads anyway (see [`crate::x12::reader::validate_tree`]) instead of lexing twice.
#[derive(Debug, Default)]
pub struct TreeBuilder<'a> {
    out: Vec<Interchange<'a>>,
    in_set: bool,
}

impl<'a> TreeBuilder<'a> {
    /// Adds the next lexeme of the payload.
    pub fn push(&mut self, lexeme: &Lexeme<'a>) {
        let seg = match lexeme {
            Lexeme::Isa { seg, layout } => {
                self.out.push(Interchange {
                    isa: *seg,
                    delimiters: layout.delimiters,
                    groups: Vec::new(),
                });
                self.in_set = false;
                return;
            }
            Lexeme::Segment(seg) | Lexeme::Unterminated(seg) => *seg,
            _ => return,
        };
        let Some(ic) = self.out.last_mut() else {
            return;
        };
        // Byte compares, not `id_key`s: an ID with a leading NUL must not pass for `GS`.
        match seg.id() {
            b"GS" => ic.groups.push(Group {
                gs: seg,
                sets: Vec::new(),
            }),
            b"ST" => {
                if let Some(g) = ic.groups.last_mut() {
                    let mut segments = Vec::with_capacity(SET_CAPACITY);
                    segments.push(seg);
                    g.sets.push(TransactionSet { segments });
                    self.in_set = true;
                }
            }
            b"GE" | b"IEA" | b"TA1" => self.in_set = false,
            id if self.in_set => {
                if let Some(set) = ic.groups.last_mut().and_then(|g| g.sets.last_mut()) {
                    set.segments.push(seg);
                }
                if id == b"SE" {
                    self.in_set = false;
                }
            }
            _ => {}
        }
    }

    pub fn finish(self) -> Vec<Interchange<'a>> {
        self.out
    }
}

/// Control numbers of a payload's first interchange, group and set, for the audit log.
/// A value is `None` when its segment is absent, unreadable or the element empty. Values borrow
/// the payload (copied only if they are not valid UTF-8): a request reads them twice, and most
/// are only looked at.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ControlNumbers<'a> {
    pub isa13: Option<Cow<'a, str>>,
    pub gs06: Option<Cow<'a, str>>,
    pub st02: Option<Cow<'a, str>>,
    /// ISA15 is `T` (test data).
    pub test: bool,
    /// GS08 (the implementation guide version, e.g. `005010X222A1`) and ST01 of that set.
    pub gs08: Option<Cow<'a, str>>,
    pub st01: Option<Cow<'a, str>>,
}

impl ControlNumbers<'_> {
    /// The transaction type as partners and certification name it: `837P`, `837I`, `837D`
    /// (told apart by the guide in GS08), otherwise ST01 (`270`, `834`, …); `None` without a
    /// transaction set.
    pub fn transaction_type(&self) -> Option<String> {
        let st01 = self.st01.as_deref()?;
        let guide = self.gs08.as_deref().unwrap_or("");
        Some(match st01 {
            "837" if guide.contains("X222") => "837P".into(),
            "837" if guide.contains("X223") => "837I".into(),
            "837" if guide.contains("X224") => "837D".into(),
            other => other.into(),
        })
    }
}

/// Longest control number kept: ISA13 and GS06 are at most 9 characters, ST02 at most 9; a
/// longer value is garbage and is not worth storing.
const MAX_CONTROL_NUMBER_LEN: usize = 35;

/// Reads ISA13, ISA15, GS06 and ST02 from the first interchange, its first group and that
/// group's first set. Stops there, so it costs only the envelope's first few segments; never
/// fails (the audit log records whatever arrived, valid or not).
pub fn control_numbers(payload: &[u8]) -> ControlNumbers<'_> {
    let mut out = ControlNumbers::default();
    let mut lexer = Lexer::new();
    let mut pos = 0;
    let mut in_interchange = false;
    let mut in_group = false;
    while let Step::Item {
        lexeme, consumed, ..
    } = lexer.step(payload.get(pos..).unwrap_or_default(), true)
    {
        pos += consumed;
        let seg = match lexeme {
            Lexeme::Isa { seg, .. } => {
                if in_interchange {
                    break; // a second interchange: only the first counts
                }
                in_interchange = true;
                out.isa13 = control_value(seg.element(13));
                out.test = seg.element(15) == b"T";
                continue;
            }
            Lexeme::Segment(seg) | Lexeme::Unterminated(seg) => seg,
            _ => continue,
        };
        if !in_interchange {
            continue;
        }
        match seg.id() {
            b"GS" if !in_group => {
                in_group = true;
                let t = seg.texts();
                out.gs06 = control_text(&seg, &t, 6);
                out.gs08 = control_text(&seg, &t, 8);
            }
            b"ST" if in_group => {
                let t = seg.texts();
                out.st02 = control_text(&seg, &t, 2);
                out.st01 = control_text(&seg, &t, 1);
                break;
            }
            // The first group ended without a set, or the interchange without a group.
            b"GE" | b"IEA" => break,
            _ => {}
        }
    }
    out
}

/// [`control_value`] of element `n`, from the segment's text checked once (`t`): the same
/// value, since trimming ASCII blanks off valid text leaves valid text.
fn control_text<'a>(
    seg: &Segment<'a>,
    t: &super::segment::Texts<'a>,
    n: usize,
) -> Option<Cow<'a, str>> {
    match t.element(n) {
        Cow::Borrowed(v) => {
            let v = v.trim_ascii();
            (!v.is_empty() && v.len() <= MAX_CONTROL_NUMBER_LEN).then_some(Cow::Borrowed(v))
        }
        Cow::Owned(_) => control_value(seg.element(n)),
    }
}

fn control_value(raw: &[u8]) -> Option<Cow<'_, str>> {
    let v = raw.trim_ascii();
    (!v.is_empty() && v.len() <= MAX_CONTROL_NUMBER_LEN).then(|| super::segment::text(v))
}

#[cfg(test)]
mod control_number_tests {
    use super::*;

    const JANE: &[u8] = include_bytes!("../../fixtures/x12/270_jane_doe.x12");

    fn some(s: &str) -> Option<Cow<'_, str>> {
        Some(Cow::Borrowed(s))
    }

    #[test]
    fn fixture() {
        assert_eq!(
            control_numbers(JANE),
            ControlNumbers {
                isa13: some("000000101"),
                gs06: some("101"),
                st02: some("0001"),
                test: true,
                gs08: some("005010X279A1"),
                st01: some("270"),
            }
        );
        assert_eq!(
            control_numbers(JANE).transaction_type().as_deref(),
            Some("270")
        );
        let claims = ControlNumbers {
            st01: some("837"),
            gs08: some("005010X223A2"),
            ..ControlNumbers::default()
        };
        assert_eq!(claims.transaction_type().as_deref(), Some("837I"));
        assert_eq!(ControlNumbers::default().transaction_type(), None);
    }

    #[test]
    fn production_indicator() {
        let text = String::from_utf8_lossy(JANE).replace("*0*T*:~", "*0*P*:~");
        let c = control_numbers(text.as_bytes());
        assert!(!c.test);
        assert_eq!(c.isa13, some("000000101"));
    }

    #[test]
    fn empty_and_garbage() {
        assert_eq!(control_numbers(b""), ControlNumbers::default());
        assert_eq!(
            control_numbers(b"\xff\x00ISA*~~GS*ST*"),
            ControlNumbers::default()
        );
        assert_eq!(control_numbers(b"ISA"), ControlNumbers::default());
        assert_eq!(control_numbers(b"<xml/>"), ControlNumbers::default());
    }

    #[test]
    fn truncated_at_every_length() {
        for n in 0..=JANE.len() {
            let c = control_numbers(&JANE[..n]);
            // Values only appear once their segment has been read, and are prefixes of the
            // real ones while it is cut short.
            if let Some(v) = &c.isa13 {
                assert!("000000101".starts_with(v.as_ref()), "{n}: {c:?}");
            }
            if let Some(v) = &c.gs06 {
                assert!("101".starts_with(v.as_ref()), "{n}: {c:?}");
            }
            if let Some(v) = &c.st02 {
                assert!("0001".starts_with(v.as_ref()), "{n}: {c:?}");
            }
        }
        // Cut inside the GS: ISA known, the rest not yet.
        let gs = JANE.windows(3).position(|w| w == b"GS*").unwrap_or(0);
        let c = control_numbers(&JANE[..gs + 10]);
        assert_eq!(c.isa13, some("000000101"));
        assert_eq!((c.gs06, c.st02), (None, None));
    }

    #[test]
    fn only_the_first_of_each() {
        let text = String::from_utf8_lossy(JANE).into_owned();
        let second = text
            .replace("000000101", "000000202")
            .replace("*101*", "*202*");
        let both = format!("{text}{second}");
        let c = control_numbers(both.as_bytes());
        assert_eq!(c.isa13, some("000000101"));
        assert_eq!(c.gs06, some("101"));
    }

    #[test]
    fn group_without_set_stops_at_ge() {
        let text = String::from_utf8_lossy(JANE).into_owned();
        let st = text.find("ST*").unwrap_or(0);
        let ge = text.find("GE*").unwrap_or(0);
        let no_set = format!("{}{}", &text[..st], &text[ge..]);
        let c = control_numbers(no_set.as_bytes());
        assert_eq!(c.gs06, some("101"));
        assert_eq!(c.st02, None);
    }
}
