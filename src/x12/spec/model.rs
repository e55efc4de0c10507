//! The compiled form of an implementation-guide spec: an arena of loop and segment nodes.

/// Index of a node in [`Spec::nodes`].
pub type NodeId = u32;

/// The root node: the transaction set's ST loop.
pub const ROOT: NodeId = 0;

/// Unbounded repeat (`>1` in the guides).
pub const UNBOUNDED: u32 = u32::MAX;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Usage {
    Required,
    Situational,
    NotUsed,
}

/// X12 data element types.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DataType {
    /// String.
    AN,
    /// Identifier (a code).
    ID,
    /// Date, CCYYMMDD or YYMMDD.
    DT,
    /// Time, HHMM[SS[d..]].
    TM,
    /// Numeric with the given implied decimal places.
    N(u8),
    /// Decimal number.
    R,
    /// Binary.
    B,
}

impl DataType {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "AN" => Self::AN,
            "ID" => Self::ID,
            "DT" => Self::DT,
            "TM" => Self::TM,
            "R" => Self::R,
            "B" => Self::B,
            n if n.len() == 2 && n.starts_with('N') => Self::N(n.as_bytes()[1].checked_sub(b'0')?),
            _ => return None,
        })
    }

    pub fn is_numeric(self) -> bool {
        matches!(self, Self::N(_) | Self::R)
    }
}

/// A sorted list of valid codes. Codes of up to 16 bytes (all the guides have) are packed into
/// integers so that a lookup is a binary search without byte-string comparisons.
#[derive(Clone, Debug, Default)]
pub struct CodeSet {
    packed: Vec<u128>,
    long: Vec<Box<[u8]>>,
}

/// Packs up to 15 bytes, length-tagged so that `A` and `A\0` differ.
pub fn pack(v: &[u8]) -> Option<u128> {
    if v.len() > 15 {
        return None;
    }
    Some(
        v.iter()
            .fold(v.len() as u128, |k, &b| (k << 8) | u128::from(b)),
    )
}

impl CodeSet {
    pub fn new(codes: Vec<Box<[u8]>>) -> Self {
        let mut set = Self::default();
        for c in codes {
            match pack(&c) {
                Some(k) => set.packed.push(k),
                None => set.long.push(c),
            }
        }
        set.packed.sort_unstable();
        set.packed.dedup();
        set.long.sort();
        set.long.dedup();
        set
    }

    pub fn is_empty(&self) -> bool {
        self.packed.is_empty() && self.long.is_empty()
    }

    #[inline]
    pub fn contains(&self, v: &[u8]) -> bool {
        match pack(v) {
            Some(k) => self.packed.binary_search(&k).is_ok(),
            None => self.long.iter().any(|c| **c == *v),
        }
    }

    /// The smallest code (used to name namesake segments).
    pub fn first(&self) -> Option<Vec<u8>> {
        self.iter().next()
    }

    pub fn iter(&self) -> impl Iterator<Item = Vec<u8>> + '_ {
        let mut all: Vec<Vec<u8>> = self
            .packed
            .iter()
            .map(|&k| unpack(k))
            .chain(self.long.iter().map(|c| c.to_vec()))
            .collect();
        all.sort();
        all.into_iter()
    }
}

/// Inverse of [`pack`]: the length tag sits just above the data bytes.
fn unpack(k: u128) -> Vec<u8> {
    let len = (0..16usize)
        .find(|&l| k >> (8 * l) == l as u128)
        .unwrap_or(0);
    k.to_be_bytes()[16 - len..].to_vec()
}

/// A pattern an element value must contain somewhere (the guides' few regular expressions,
/// all of the form `[0-9]{n}`; anything else is refused when the spec is loaded).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pattern {
    Digits(u8),
}

impl Pattern {
    pub fn parse(s: &str) -> Option<Self> {
        let n = s.strip_prefix("[0-9]{")?.strip_suffix('}')?.parse().ok()?;
        Some(Self::Digits(n))
    }

    pub fn found_in(self, v: &[u8]) -> bool {
        match self {
            Self::Digits(n) => {
                let mut run = 0;
                v.iter().any(|b| {
                    run = if b.is_ascii_digit() { run + 1 } else { 0 };
                    run >= n
                })
            }
        }
    }
}

/// A simple data element, or a component of a composite.
#[derive(Clone, Debug)]
pub struct ElementSpec {
    /// Position in the segment, or in the composite for a component (1-based).
    pub seq: u8,
    /// Data element reference number (`1035`), reported in IK402.
    pub data_ele: Box<str>,
    pub name: Box<str>,
    pub usage: Usage,
    pub data_type: DataType,
    pub min: u16,
    pub max: u16,
    pub codes: CodeSet,
    /// Name of an external code set (ICD-10, states...); those are not checked here.
    pub external: Option<Box<str>>,
    /// Maximum repetitions (1 unless the guide says the element repeats).
    pub repeat: u16,
    pub pattern: Option<Pattern>,
    /// The value must be one of `codes` (there are codes and no external code set).
    pub coded: bool,
}

#[derive(Clone, Debug)]
pub struct CompositeSpec {
    pub seq: u8,
    pub id: Box<str>,
    pub name: Box<str>,
    pub usage: Usage,
    pub repeat: u16,
    pub components: Vec<ElementSpec>,
}

#[derive(Clone, Debug)]
pub enum ElementSlot {
    Simple(ElementSpec),
    Composite(CompositeSpec),
}

impl ElementSlot {
    pub fn seq(&self) -> u8 {
        match self {
            Self::Simple(e) => e.seq,
            Self::Composite(c) => c.seq,
        }
    }

    pub fn usage(&self) -> Usage {
        match self {
            Self::Simple(e) => e.usage,
            Self::Composite(c) => c.usage,
        }
    }

    pub fn repeat(&self) -> u16 {
        match self {
            Self::Simple(e) => e.repeat,
            Self::Composite(c) => c.repeat,
        }
    }

    /// The reference number reported in IK402.
    pub fn reference(&self) -> &str {
        match self {
            Self::Simple(e) => &e.data_ele,
            Self::Composite(c) => &c.id,
        }
    }
}

/// An X12 syntax note on a segment; element positions are 1-based.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SyntaxRule {
    /// P: all or none.
    Paired(Vec<u8>),
    /// R: at least one.
    Required(Vec<u8>),
    /// E: at most one.
    Exclusion(Vec<u8>),
    /// C: if the first is present, all the others are required.
    Conditional(u8, Vec<u8>),
    /// L: if the first is present, at least one of the others is required.
    ListConditional(u8, Vec<u8>),
}

/// How a segment is told apart from its namesakes: a code at a given element.
#[derive(Clone, Debug)]
pub struct Key {
    pub element: u8,
    /// Component position, or 0 for a simple element.
    pub component: u8,
    pub codes: CodeSet,
}

#[derive(Clone, Debug)]
pub struct SegmentNode {
    pub elements: Vec<ElementSlot>,
    pub syntax: Vec<SyntaxRule>,
    pub key: Option<Key>,
    /// Positions of a date format qualifier (element 1250) and the date it qualifies (1251).
    pub date_pair: Option<(u8, u8)>,
    /// Positions of the required elements and composites.
    pub required: Vec<u8>,
}

/// Packs a segment ID of up to three bytes into an integer; longer IDs get a value no guide
/// segment has.
pub const fn id_key(id: &[u8]) -> u32 {
    if id.len() > 3 {
        return u32::MAX;
    }
    let mut k = 0u32;
    let mut i = 0;
    while i < id.len() {
        k = (k << 8) | id[i] as u32;
        i += 1;
    }
    k
}

/// Segment IDs the engine dispatches on, as [`id_key`]s (integer compares, not byte strings).
pub mod ids {
    use super::id_key;

    pub const ISA: u32 = id_key(b"ISA");
    pub const IEA: u32 = id_key(b"IEA");
    pub const TA1: u32 = id_key(b"TA1");
    pub const GS: u32 = id_key(b"GS");
    pub const GE: u32 = id_key(b"GE");
    pub const ST: u32 = id_key(b"ST");
    pub const SE: u32 = id_key(b"SE");
    pub const HL: u32 = id_key(b"HL");
    pub const LS: u32 = id_key(b"LS");
    pub const LE: u32 = id_key(b"LE");
    pub const LX: u32 = id_key(b"LX");
    pub const NM1: u32 = id_key(b"NM1");
    pub const CLM: u32 = id_key(b"CLM");
    pub const SV1: u32 = id_key(b"SV1");
    pub const SV2: u32 = id_key(b"SV2");
    pub const SV3: u32 = id_key(b"SV3");
}

/// What the walker needs of a child without touching the child node: kept in one contiguous
/// array per loop, because scanning children is the validator's inner loop.
#[derive(Clone, Copy, Debug, Default)]
pub struct ChildSummary {
    pub node: NodeId,
    pub pos: u32,
    /// The segment's [`id_key`], or for a loop the key of its opening segment (0 for wrappers).
    pub id_key: u32,
    pub is_loop: bool,
    pub required: bool,
}

#[derive(Clone, Debug)]
pub struct LoopNode {
    /// Children in guide position order; at equal positions loops come before segments.
    pub children: Vec<NodeId>,
    /// The same children, summarized (see [`ChildSummary`]).
    pub summary: Vec<ChildSummary>,
    /// A loop that only groups other loops (HEADER, DETAIL, 2000A wrappers).
    pub wrapper: bool,
    /// Counter slots cleared each time the loop is entered: a contiguous range, because slots
    /// are numbered in guide order and a loop's descendants follow it.
    pub reset_slots: std::ops::Range<u32>,
}

#[derive(Clone, Debug)]
pub enum NodeKind {
    Loop(LoopNode),
    Segment(SegmentNode),
}

#[derive(Clone, Debug)]
pub struct Node {
    /// Loop ID (`2010AA`) or segment ID (`NM1`).
    pub id: Box<str>,
    /// Segment ID packed for a fast comparison (see [`id_key`]); 0 for loops.
    pub id_key: u32,
    pub name: Box<str>,
    pub usage: Usage,
    /// Position number from the guide's table.
    pub pos: u32,
    /// Max use (segments) or repeat (loops).
    pub max: u32,
    pub parent: Option<NodeId>,
    /// Counter slot: namesakes at the same path share one, as occurrences of the same thing.
    pub slot: u32,
    pub kind: NodeKind,
}

impl Node {
    pub fn as_loop(&self) -> Option<&LoopNode> {
        match &self.kind {
            NodeKind::Loop(l) => Some(l),
            NodeKind::Segment(_) => None,
        }
    }

    pub fn as_segment(&self) -> Option<&SegmentNode> {
        match &self.kind {
            NodeKind::Segment(s) => Some(s),
            NodeKind::Loop(_) => None,
        }
    }
}

/// An element position and component position (0 for a simple element).
pub type ElementPosition = (u8, u8);

/// One implementation guide.
#[derive(Debug)]
pub struct Spec {
    /// Transaction set identifier (ST01), e.g. `837`.
    pub st01: Box<str>,
    /// Functional identifier (GS01), e.g. `HC`.
    pub gs01: Box<str>,
    /// Implementation convention reference (GS08/ST03), e.g. `005010X222A1`.
    pub version: Box<str>,
    pub title: Box<str>,
    pub nodes: Vec<Node>,
    pub slots: usize,
    /// For each segment ID (as [`id_key`], sorted), the element positions whose values decide
    /// which guide segment it is; `None` for IDs qualified in more than two places.
    pub qualifiers: Vec<(u32, Option<Vec<ElementPosition>>)>,
}

impl Spec {
    pub fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id as usize]
    }

    /// Element positions qualifying segments with this ID (empty when none are qualified);
    /// `None` for unknown IDs.
    pub fn qualifier_positions(&self, id_key: u32) -> Option<&[(u8, u8)]> {
        let i = self
            .qualifiers
            .binary_search_by_key(&id_key, |(k, _)| *k)
            .ok()?;
        self.qualifiers[i].1.as_deref()
    }

    /// The nearest enclosing loop of a node (the root is its own).
    pub fn parent_loop(&self, id: NodeId) -> NodeId {
        self.node(id).parent.unwrap_or(ROOT)
    }

    /// The first child of a loop in position order.
    pub fn first_child(&self, loop_id: NodeId) -> Option<NodeId> {
        self.node(loop_id).as_loop()?.children.first().copied()
    }

    /// The loop's first child when it is a segment: the segment that opens the loop.
    pub fn opening_segment(&self, loop_id: NodeId) -> Option<NodeId> {
        self.first_child(loop_id)
            .filter(|&c| self.node(c).as_segment().is_some())
    }

    /// The loop ID a segment belongs to (`2300`), or `ST` for the transaction level.
    pub fn loop_id_of(&self, id: NodeId) -> &str {
        let l = self.parent_loop(id);
        if l == ROOT { "ST" } else { &self.node(l).id }
    }

    /// Finds a node by a path of IDs such as `["DETAIL", "2000A", "2010AA", "NM1"]`.
    pub fn find(&self, path: &[&str]) -> Option<NodeId> {
        let mut cur = ROOT;
        for part in path {
            let l = self.node(cur).as_loop()?;
            cur = *l.children.iter().find(|&&c| &*self.node(c).id == *part)?;
        }
        Some(cur)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_sets_pack_and_unpack() {
        let codes: Vec<Box<[u8]>> = ["A", "A1", "005010X222A1", "SITUATIONAL TRIGGER", ""]
            .iter()
            .map(|c| c.as_bytes().into())
            .collect();
        let set = CodeSet::new(codes);
        for c in ["A", "A1", "005010X222A1", "SITUATIONAL TRIGGER", ""] {
            assert!(set.contains(c.as_bytes()), "{c}");
        }
        assert!(!set.contains(b"A\0"));
        assert!(!set.contains(b"B"));
        let back: Vec<String> = set.iter().map(|c| String::from_utf8(c).unwrap()).collect();
        assert_eq!(back, ["", "005010X222A1", "A", "A1", "SITUATIONAL TRIGGER"]);
        assert_eq!(set.first().unwrap(), b"");
    }
}
