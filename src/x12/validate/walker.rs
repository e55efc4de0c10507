//! Places each segment of a transaction set in the guide's loop tree.
//!
//! The walk scans forward from the current position through the guide's table: later siblings
//! in the current loop, then those of the enclosing loops, entering a loop when its opening
//! segment (with its qualifier code) matches. Required segments and loops passed over are
//! reported missing once the walk lands; a segment found nowhere is "not in the transaction".
//! This is the reading X12 implementation guides prescribe, and the one pyx12 implements, so
//! segment-level codes (IK304) agree with that reference on the same input.

use crate::x12::segment::Segment;
use crate::x12::spec::{ElementPosition, NodeId, ROOT, Spec, Usage};

/// A segment-level problem found while walking.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WalkIssue {
    /// A required segment (or the opening segment of a required loop) was passed over.
    Missing { node: NodeId, is_loop: bool },
    /// The segment is marked "Not Used" in the guide.
    NotUsed { node: NodeId },
    /// Segment above its maximum use.
    MaxUse { node: NodeId },
    /// Loop above its maximum repeat.
    LoopMax { node: NodeId },
    /// The segment fits nowhere from the current position.
    NotFound,
}

#[derive(Debug)]
pub struct Walker<'s> {
    spec: &'s Spec,
    counts: Vec<u32>,
    current: NodeId,
    /// Required nodes passed over during this walk: (opening segment or segment, loop?).
    pending: Vec<(NodeId, bool)>,
    /// Every required node this walk passed over, whatever its count (see [`Memo`]).
    passed: Vec<NodeId>,
    /// The loop this walk entered, if any.
    entered: Option<NodeId>,
    /// Remembered walks of every starting node in one list, each node's linked through
    /// [`MemoEntry::next`] from `memo_heads`: a list per node cost an allocation for each node
    /// walked from, and a real-time request walks a dozen of them once each.
    memo: Vec<MemoEntry<'s>>,
    /// Per starting node: its latest entry in `memo` ([`NO_ENTRY`] when none) and how many.
    memo_heads: Vec<(u32, u8)>,
    /// The required nodes passed over by remembered walks ([`Memo::passed`] ranges into it).
    memo_passed: Vec<NodeId>,
    memo_enabled: bool,
    /// Segments walked so far.
    walks: u32,
}

/// A remembered walk with what it is found by: the segment ID, where its qualifiers sit, and
/// their values.
#[derive(Debug)]
struct MemoEntry<'s> {
    id: u32,
    positions: &'s [ElementPosition],
    values: [u128; 2],
    memo: Memo,
    /// The previous entry for the same starting node, or [`NO_ENTRY`].
    next: u32,
}

const NO_ENTRY: u32 = u32::MAX;

/// A clean walk, remembered: claims and service lines repeat the same walks thousands of times.
/// The walk's outcome depends only on the key; what it reports depends on the counters, so a
/// replay first checks that every required node passed over has been seen and that no maximum
/// would be exceeded, and otherwise walks in full.
#[derive(Debug)]
struct Memo {
    found: NodeId,
    entered: Option<NodeId>,
    /// Where in `Walker::memo_passed` the required nodes it passed over are.
    passed: std::ops::Range<u32>,
}

/// Remembered walks kept per starting node; more distinct ones than this are walked in full
/// (valid files need a handful; the cap bounds what hostile input can make us keep).
const MEMO_PER_NODE: usize = 16;

/// Walks are remembered from this segment of the set on: the memo pays off when segments
/// repeat (claim after claim, service line after service line), not in a real-time inquiry,
/// which it would cost three allocations.
const MEMO_AFTER: u32 = 16;

/// Room made for remembered walks at the first one.
const MEMO_START: usize = 32;

impl<'s> Walker<'s> {
    /// A walker positioned on the transaction's ST segment.
    pub fn new(spec: &'s Spec) -> Self {
        let st = spec.opening_segment(ROOT).unwrap_or(ROOT);
        let mut counts = vec![0; spec.slots];
        counts[spec.node(st).slot as usize] = 1;
        counts[spec.node(ROOT).slot as usize] = 1;
        Self {
            spec,
            counts,
            current: st,
            pending: Vec::new(),
            passed: Vec::new(),
            entered: None,
            memo: Vec::new(),
            memo_heads: Vec::new(),
            memo_passed: Vec::new(),
            memo_enabled: true,
            walks: 0,
        }
    }

    /// Walks every segment in full (tests compare this with the memoized walk).
    pub fn without_memo(mut self) -> Self {
        self.memo_enabled = false;
        self
    }

    pub fn spec(&self) -> &'s Spec {
        self.spec
    }

    /// The loop the walk stands in (`ST` at the transaction level).
    pub fn current_loop_id(&self) -> &'s str {
        self.spec.loop_id_of(self.current)
    }

    /// Finds the guide node for `seg`; issues found on the way are appended to `out`.
    pub fn walk(&mut self, seg: &Segment<'_>, out: &mut Vec<WalkIssue>) -> Option<NodeId> {
        let id = seg.id_key();
        self.walks = self.walks.saturating_add(1);
        if self.memo_enabled
            && let Some(&(mut at, _)) = self.memo_heads.get(self.current as usize)
        {
            // Entries with this ID share their qualifier positions: compute the values once.
            // At most one entry has both this ID and these values.
            let mut values: Option<Option<[u128; 2]>> = None;
            while let Some(e) = self.memo.get(at as usize) {
                at = e.next;
                if e.id != id {
                    continue;
                }
                if *values.get_or_insert_with(|| qualifier_values(seg, e.positions))
                    == Some(e.values)
                {
                    let passed = self
                        .memo_passed
                        .get(e.memo.passed.start as usize..e.memo.passed.end as usize)
                        .unwrap_or_default();
                    if let Some(found) = replay(self.spec, &mut self.counts, &e.memo, passed) {
                        self.current = found;
                        return Some(found);
                    }
                    break;
                }
            }
        }
        let from = self.current;
        let before = out.len();
        self.passed.clear();
        self.entered = None;
        let found = self.walk_in_full(seg, out);
        if let Some(found) = found
            && self.memo_enabled
            && self.walks > MEMO_AFTER
            && out.len() == before
            && self.pending.is_empty()
            && let Some(positions) = self.spec.qualifier_positions(id)
            && let Some(q) = qualifier_values(seg, positions)
        {
            self.remember(from, id, positions, q, found);
        }
        found
    }

    /// Keeps a clean walk from `from`, unless that node has as many as it may keep or this one.
    fn remember(
        &mut self,
        from: NodeId,
        id: u32,
        positions: &'s [ElementPosition],
        values: [u128; 2],
        found: NodeId,
    ) {
        if self.memo_heads.is_empty() {
            self.memo_heads = vec![(NO_ENTRY, 0); self.spec.nodes.len()];
        }
        let Some(&(head, count)) = self.memo_heads.get(from as usize) else {
            return;
        };
        if usize::from(count) >= MEMO_PER_NODE {
            return;
        }
        let mut at = head;
        while let Some(e) = self.memo.get(at as usize) {
            if e.id == id && e.values == values {
                return;
            }
            at = e.next;
        }
        let (Ok(start), Ok(index)) = (
            u32::try_from(self.memo_passed.len()),
            u32::try_from(self.memo.len()),
        ) else {
            return;
        };
        if self.memo.capacity() == 0 {
            // Room for a real-time request's walks at once, rather than growing four times.
            self.memo.reserve(MEMO_START);
            self.memo_passed.reserve(4 * MEMO_START);
        }
        self.memo_passed.extend_from_slice(&self.passed);
        let end = u32::try_from(self.memo_passed.len()).unwrap_or(start);
        self.memo.push(MemoEntry {
            id,
            positions,
            values,
            memo: Memo {
                found,
                entered: self.entered,
                passed: start..end,
            },
            next: head,
        });
        self.memo_heads[from as usize] = (index, count + 1);
    }

    fn walk_in_full(&mut self, seg: &Segment<'_>, out: &mut Vec<WalkIssue>) -> Option<NodeId> {
        self.pending.clear();
        let orig = self.current;
        let mut from_pos = self.spec.node(orig).pos;
        let mut lp = if self.spec.node(orig).as_loop().is_some() {
            orig
        } else {
            self.spec.parent_loop(orig)
        };
        loop {
            if let Some(found) = self.scan(lp, from_pos, seg, out) {
                self.current = found;
                return Some(found);
            }
            if lp == ROOT {
                out.push(WalkIssue::NotFound);
                return None;
            }
            from_pos = self.spec.node(lp).pos;
            lp = self.spec.parent_loop(lp);
        }
    }

    fn count(&self, node: NodeId) -> u32 {
        self.counts[self.spec.node(node).slot as usize]
    }

    fn bump(&mut self, node: NodeId) -> u32 {
        let c = &mut self.counts[self.spec.node(node).slot as usize];
        *c += 1;
        *c
    }

    fn scan(
        &mut self,
        lp: NodeId,
        from_pos: u32,
        seg: &Segment<'_>,
        out: &mut Vec<WalkIssue>,
    ) -> Option<NodeId> {
        let spec = self.spec;
        let key = seg.id_key();
        let children = &spec.node(lp).as_loop()?.summary;
        // Children are in position order: start at the first one at or after `from_pos`.
        let start = children.partition_point(|c| c.pos < from_pos);
        for c in &children[start..] {
            let child = c.node;
            if !c.is_loop {
                if c.id_key == key && matches(spec, child, seg) {
                    if self.loop_matches(lp, seg) {
                        return self.enter(lp, seg, out);
                    }
                    let node = spec.node(child);
                    let n = self.bump(child);
                    if node.usage == Usage::NotUsed {
                        out.push(WalkIssue::NotUsed { node: child });
                    } else if n > node.max {
                        out.push(WalkIssue::MaxUse { node: child });
                    }
                    self.pending.retain(|&(p, _)| p != child);
                    self.flush(Some(node.pos), out);
                    return Some(child);
                }
                if c.required {
                    self.passed.push(child);
                    if self.count(child) < 1 {
                        self.pending.push((child, false));
                    }
                }
            } else if c.id_key != 0 && c.id_key != key {
                // Cannot open here; a required loop not yet seen is passed over.
                if c.required {
                    self.passed.push(child);
                    if self.count(child) < 1
                        && let Some(first) = spec.first_child(child)
                    {
                        self.pending.push((first, true));
                    }
                }
            } else if self.loop_matches(child, seg) {
                return self.enter(child, seg, out);
            }
        }
        None
    }

    /// Does `seg` open loop `lp` (or, for a wrapper, one of its loops)?
    fn loop_matches(&mut self, lp: NodeId, seg: &Segment<'_>) -> bool {
        let spec = self.spec;
        let Some(first) = spec.first_child(lp) else {
            return false;
        };
        if spec.node(first).as_loop().is_some() {
            let Some(l) = spec.node(lp).as_loop() else {
                return false;
            };
            return l
                .children
                .iter()
                .any(|&c| spec.node(c).as_loop().is_some() && self.loop_matches(c, seg));
        }
        if matches(spec, first, seg) {
            return true;
        }
        if spec.node(lp).usage == Usage::Required {
            self.passed.push(lp);
            if self.count(lp) < 1 {
                self.pending.push((first, true));
            }
        }
        false
    }

    /// Enters `lp` (or the nested loop under it) whose opening segment is `seg`.
    fn enter(&mut self, lp: NodeId, seg: &Segment<'_>, out: &mut Vec<WalkIssue>) -> Option<NodeId> {
        let spec = self.spec;
        if let Some(first) = spec.opening_segment(lp).filter(|&f| matches(spec, f, seg)) {
            let node = spec.node(lp);
            if node.usage == Usage::NotUsed {
                out.push(WalkIssue::NotUsed { node: first });
            } else {
                if let Some(l) = node.as_loop() {
                    self.counts[l.reset_slots.start as usize..l.reset_slots.end as usize].fill(0);
                }
                if self.bump(lp) > node.max {
                    out.push(WalkIssue::LoopMax { node: lp });
                }
            }
            self.bump(first);
            self.entered = Some(lp);
            self.flush(None, out);
            return Some(first);
        }
        let l = spec.node(lp).as_loop()?;
        l.children
            .iter()
            .filter(|&&c| spec.node(c).as_loop().is_some())
            .find_map(|&c| self.enter(c, seg, out))
    }

    /// Reports pending missing nodes, except those at `keep_pos` (still satisfiable there).
    fn flush(&mut self, keep_pos: Option<u32>, out: &mut Vec<WalkIssue>) {
        let spec = self.spec;
        self.pending.retain(|&(node, is_loop)| {
            if Some(spec.node(node).pos) == keep_pos {
                return true;
            }
            out.push(WalkIssue::Missing { node, is_loop });
            false
        });
    }
}

#[inline]
/// Does the data segment match a guide segment: same ID and, when the guide qualifies it, a
/// listed code in the qualifying element?
pub fn matches(spec: &Spec, node: NodeId, seg: &Segment<'_>) -> bool {
    let n = spec.node(node);
    if n.id_key != seg.id_key() {
        return false;
    }
    let Some(key) = n.as_segment().and_then(|s| s.key.as_ref()) else {
        return true;
    };
    let value = if key.component == 0 {
        seg.element(key.element as usize)
    } else {
        seg.component(key.element as usize, key.component as usize)
    };
    key.codes.contains(value)
}

/// Applies a remembered walk if it would report nothing now; returns where it lands.
fn replay(spec: &Spec, counts: &mut [u32], m: &Memo, passed: &[NodeId]) -> Option<NodeId> {
    let count = |counts: &[u32], n: NodeId| counts[spec.node(n).slot as usize];
    if passed.iter().any(|&n| count(counts, n) < 1) {
        return None;
    }
    match m.entered {
        Some(lp) => {
            let node = spec.node(lp);
            if count(counts, lp) + 1 > node.max {
                return None;
            }
            if let Some(l) = node.as_loop() {
                counts[l.reset_slots.start as usize..l.reset_slots.end as usize].fill(0);
            }
            counts[node.slot as usize] += 1;
        }
        None if count(counts, m.found) + 1 > spec.node(m.found).max => return None,
        None => {}
    }
    counts[spec.node(m.found).slot as usize] += 1;
    Some(m.found)
}

/// The values of the elements that qualify a segment, packed; `None` when one is too long to
/// have been a qualifier code.
fn qualifier_values(seg: &Segment<'_>, positions: &[ElementPosition]) -> Option<[u128; 2]> {
    let mut values = [0u128; 2];
    for (q, &(element, component)) in values.iter_mut().zip(positions) {
        let v = if component == 0 {
            seg.element(element as usize)
        } else {
            seg.component(element as usize, component as usize)
        };
        *q = crate::x12::spec::pack(v)?;
    }
    Some(values)
}
