//! The envelope tree of a payload held in memory: interchanges → groups → transaction sets,
//! each set as its segments (zero-copy). The responders read accepted payloads through it;
//! validation ([`crate::x12::validate`]) says whether a payload is sound first.

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

/// Splits `bytes` into its envelope tree. Segments outside the structure they need (a GS
/// before any ISA, a segment outside ST..SE) are skipped: validation reports them.
pub fn parse(bytes: &[u8]) -> Vec<Interchange<'_>> {
    let mut lexer = Lexer::new();
    let mut pos = 0;
    let mut out: Vec<Interchange<'_>> = Vec::new();
    let mut in_set = false;
    while let Step::Item {
        lexeme, consumed, ..
    } = lexer.step(&bytes[pos..], true)
    {
        pos += consumed;
        let seg = match lexeme {
            Lexeme::Isa { seg, layout } => {
                out.push(Interchange {
                    isa: seg,
                    delimiters: layout.delimiters,
                    groups: Vec::new(),
                });
                in_set = false;
                continue;
            }
            Lexeme::Segment(seg) | Lexeme::Unterminated(seg) => seg,
            _ => continue,
        };
        let Some(ic) = out.last_mut() else { continue };
        match seg.id() {
            b"GS" => ic.groups.push(Group {
                gs: seg,
                sets: Vec::new(),
            }),
            b"ST" => {
                if let Some(g) = ic.groups.last_mut() {
                    g.sets.push(TransactionSet {
                        segments: vec![seg],
                    });
                    in_set = true;
                }
            }
            b"GE" | b"IEA" | b"TA1" => in_set = false,
            _ if in_set => {
                if let Some(set) = ic.groups.last_mut().and_then(|g| g.sets.last_mut()) {
                    set.segments.push(seg);
                }
                if seg.id() == b"SE" {
                    in_set = false;
                }
            }
            _ => {}
        }
    }
    out
}
