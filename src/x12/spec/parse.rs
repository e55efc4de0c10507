//! Reads the spec text format (specs/FORMAT.md) into a [`Spec`].

use std::collections::HashMap;

use super::model::*;

/// A spec or dictionary that cannot be read: a build-time mistake, reported with its line.
#[derive(Debug, thiserror::Error)]
#[error("{file}:{line}: {message}")]
pub struct SpecError {
    pub file: String,
    pub line: usize,
    pub message: String,
}

/// Data element dictionary: id → (type, min, max).
#[derive(Debug, Default)]
pub struct Dictionary(HashMap<String, (DataType, u16, u16)>);

impl Dictionary {
    pub fn parse(file: &str, text: &str) -> Result<Self, SpecError> {
        let mut d = Self::default();
        d.extend(file, text)?;
        Ok(d)
    }

    pub fn extend(&mut self, file: &str, text: &str) -> Result<(), SpecError> {
        for (n, line) in text.lines().enumerate() {
            let err = |m: &str| SpecError {
                file: file.into(),
                line: n + 1,
                message: m.into(),
            };
            let toks = tokenize(line).map_err(|m| err(&m))?;
            if toks.is_empty() {
                continue;
            }
            let [id, ty, min, max, ..] = toks.as_slice() else {
                return Err(err("expected: <id> <type> <min> <max> \"<name>\""));
            };
            let ty = DataType::parse(ty).ok_or_else(|| err("unknown data type"))?;
            let min = min.parse().map_err(|_| err("bad min length"))?;
            let max = max.parse().map_err(|_| err("bad max length"))?;
            self.0.insert(id.clone(), (ty, min, max));
        }
        Ok(())
    }

    pub fn get(&self, id: &str) -> Option<(DataType, u16, u16)> {
        self.0.get(id).copied()
    }
}

/// Splits a line into tokens; `"..."` groups spaces, also after `key=`. `#` starts a comment.
fn tokenize(line: &str) -> Result<Vec<String>, String> {
    let mut toks = Vec::new();
    let mut cur = String::new();
    let mut in_tok = false;
    let mut chars = line.trim_start().chars();
    if line.trim_start().starts_with('#') {
        return Ok(toks);
    }
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                in_tok = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some(c) => cur.push(c),
                        None => return Err("unterminated quote".into()),
                    }
                }
            }
            c if c.is_whitespace() => {
                if in_tok {
                    toks.push(std::mem::take(&mut cur));
                    in_tok = false;
                }
            }
            c => {
                in_tok = true;
                cur.push(c);
            }
        }
    }
    if in_tok {
        toks.push(cur);
    }
    Ok(toks)
}

fn usage(s: &str) -> Result<Usage, String> {
    match s {
        "R" => Ok(Usage::Required),
        "S" => Ok(Usage::Situational),
        "N" => Ok(Usage::NotUsed),
        _ => Err(format!("bad usage {s:?}")),
    }
}

fn repeat(s: &str) -> Result<u32, String> {
    if s == ">1" {
        Ok(UNBOUNDED)
    } else {
        s.parse().map_err(|_| format!("bad repeat {s:?}"))
    }
}

fn seq(s: &str) -> Result<u8, String> {
    s.parse()
        .ok()
        .filter(|&n| n > 0)
        .ok_or_else(|| format!("bad seq {s:?}"))
}

/// Positional tokens and `key=value` attributes of a node line.
struct Line {
    pos: Vec<String>,
    attrs: HashMap<String, String>,
}

fn split_attrs(toks: Vec<String>) -> Line {
    let mut pos = Vec::new();
    let mut attrs = HashMap::new();
    for t in toks {
        match t.split_once('=') {
            Some((k, v)) if !k.is_empty() && k.chars().all(|c| c.is_ascii_lowercase()) => {
                attrs.insert(k.to_string(), v.to_string());
            }
            _ => pos.push(t),
        }
    }
    Line { pos, attrs }
}

fn codes(attrs: &HashMap<String, String>) -> Result<CodeSet, String> {
    if let Some(bad) = attrs.get("codes").and_then(|v| {
        v.split('|')
            .find(|c| !c.bytes().all(|b| b.is_ascii_alphanumeric() || b == b' '))
    }) {
        // The validator's fast path relies on codes holding no separator or punctuation.
        return Err(format!(
            "code {bad:?} holds characters other than letters, digits and spaces"
        ));
    }
    Ok(codes_unchecked(attrs))
}

fn codes_unchecked(attrs: &HashMap<String, String>) -> CodeSet {
    attrs.get("codes").map_or_else(CodeSet::default, |v| {
        CodeSet::new(v.split('|').map(|c| c.as_bytes().into()).collect())
    })
}

fn element(l: &Line, dict: &Dictionary) -> Result<ElementSpec, String> {
    let [_, s, de, u, rest @ ..] = l.pos.as_slice() else {
        return Err("expected: ele <seq> <data element> <usage> \"<name>\"".into());
    };
    let (data_type, min, max) = dict
        .get(de)
        .ok_or_else(|| format!("data element {de} not in dictionary"))?;
    let pattern = match l.attrs.get("re") {
        Some(re) => Some(Pattern::parse(re).ok_or_else(|| format!("unsupported pattern {re:?}"))?),
        None => None,
    };
    let codes = codes(&l.attrs)?;
    let external: Option<Box<str>> = l.attrs.get("ext").map(|e| e.as_str().into());
    Ok(ElementSpec {
        coded: !codes.is_empty() && external.is_none(),
        seq: seq(s)?,
        data_ele: de.as_str().into(),
        name: rest.first().map_or("", |n| n.as_str()).into(),
        usage: usage(u)?,
        data_type,
        min,
        max,
        codes,
        external,
        repeat: l
            .attrs
            .get("rep")
            .map_or(Ok(1), |r| r.parse().map_err(|_| "bad rep".to_string()))?,
        pattern,
    })
}

fn syntax(rule: &str) -> Result<SyntaxRule, String> {
    let bad = || format!("bad syntax rule {rule:?}");
    let (kind, digits) = rule.split_at(1);
    if digits.len() < 4 || digits.len() % 2 != 0 {
        return Err(bad());
    }
    let idx: Vec<u8> = (0..digits.len() / 2)
        .map(|i| digits[i * 2..i * 2 + 2].parse().map_err(|_| bad()))
        .collect::<Result<_, _>>()?;
    let (first, rest) = (idx[0], idx[1..].to_vec());
    Ok(match kind {
        "P" => SyntaxRule::Paired(idx),
        "R" => SyntaxRule::Required(idx),
        "E" => SyntaxRule::Exclusion(idx),
        "C" => SyntaxRule::Conditional(first, rest),
        "L" => SyntaxRule::ListConditional(first, rest),
        _ => return Err(bad()),
    })
}

/// Parses one spec file.
pub fn parse_spec(file: &str, text: &str, dict: &Dictionary) -> Result<Spec, SpecError> {
    let mut header: Option<[String; 4]> = None;
    let mut nodes: Vec<Node> = vec![Node {
        id: "ST_LOOP".into(),
        id_key: 0,
        name: "Transaction Set".into(),
        usage: Usage::Required,
        pos: 0,
        max: 1,
        parent: None,
        slot: 0,
        kind: NodeKind::Loop(LoopNode {
            children: vec![],
            summary: vec![],
            wrapper: false,
            reset_slots: 0..0,
        }),
    }];
    // Open containers by depth: the loop at each indentation level, and the last seg/comp.
    let mut loops: Vec<NodeId> = vec![ROOT];
    let mut last_seg: Option<(usize, NodeId)> = None;
    let mut last_comp: Option<usize> = None;
    for (n, raw) in text.lines().enumerate() {
        let err = |m: String| SpecError {
            file: file.into(),
            line: n + 1,
            message: m,
        };
        let toks = tokenize(raw).map_err(err)?;
        if toks.is_empty() {
            continue;
        }
        let indent = raw.len() - raw.trim_start_matches(' ').len();
        if indent % 2 != 0 {
            return Err(err("indentation must be a multiple of two spaces".into()));
        }
        let depth = indent / 2;
        let line = split_attrs(toks);
        let kw = line.pos[0].as_str();
        if header.is_none() {
            match line.pos.as_slice() {
                [k, st, gs, v, t] if k == "transaction" => {
                    header = Some([st.clone(), gs.clone(), v.clone(), t.clone()]);
                    continue;
                }
                _ => {
                    return Err(err(
                        "first line must be: transaction <ST01> <GS01> <version> \"<title>\""
                            .into(),
                    ));
                }
            }
        }
        match kw {
            "loop" | "seg" => {
                if depth >= loops.len() {
                    return Err(err("node is indented deeper than its parent loop".into()));
                }
                loops.truncate(depth + 1);
                let parent = loops[depth];
                let [_, id, u, p, m, rest @ ..] = line.pos.as_slice() else {
                    return Err(err(format!(
                        "expected: {kw} <id> <usage> <pos> <repeat> \"<name>\""
                    )));
                };
                let id_num = nodes.len() as NodeId;
                let kind = if kw == "loop" {
                    let wrapper = line.attrs.get("type").is_some_and(|t| t == "wrapper");
                    NodeKind::Loop(LoopNode {
                        children: vec![],
                        summary: vec![],
                        wrapper,
                        reset_slots: 0..0,
                    })
                } else {
                    NodeKind::Segment(SegmentNode {
                        elements: vec![],
                        syntax: vec![],
                        key: None,
                        date_pair: None,
                        required: vec![],
                    })
                };
                nodes.push(Node {
                    id_key: if kw == "seg" {
                        id_key(id.as_bytes())
                    } else {
                        0
                    },
                    id: id.as_str().into(),
                    name: rest.first().map_or("", |s| s.as_str()).into(),
                    usage: usage(u).map_err(err)?,
                    pos: p.parse().map_err(|_| err(format!("bad pos {p:?}")))?,
                    max: repeat(m).map_err(err)?,
                    parent: Some(parent),
                    slot: 0,
                    kind,
                });
                if let NodeKind::Loop(l) = &mut nodes[parent as usize].kind {
                    l.children.push(id_num);
                }
                if kw == "loop" {
                    loops.push(id_num);
                    last_seg = None;
                } else {
                    last_seg = Some((depth, id_num));
                }
                last_comp = None;
            }
            "ele" | "comp" | "syntax" => {
                let Some((seg_depth, seg_id)) = last_seg else {
                    return Err(err(format!("{kw} outside a segment")));
                };
                let NodeKind::Segment(seg) = &mut nodes[seg_id as usize].kind else {
                    unreachable!("last_seg always names a segment node")
                };
                match (kw, depth - seg_depth.min(depth)) {
                    ("syntax", 1) => {
                        let rule = line
                            .pos
                            .get(1)
                            .ok_or_else(|| err("syntax needs a rule".into()))?;
                        seg.syntax.push(syntax(rule).map_err(err)?);
                    }
                    ("ele", 1) => {
                        seg.elements
                            .push(ElementSlot::Simple(element(&line, dict).map_err(err)?));
                        last_comp = None;
                    }
                    ("comp", 1) => {
                        let [_, s, cid, u, rest @ ..] = line.pos.as_slice() else {
                            return Err(err("expected: comp <seq> <id> <usage> \"<name>\"".into()));
                        };
                        seg.elements.push(ElementSlot::Composite(CompositeSpec {
                            seq: seq(s).map_err(err)?,
                            id: cid.as_str().into(),
                            name: rest.first().map_or("", |n| n.as_str()).into(),
                            usage: usage(u).map_err(err)?,
                            repeat: line
                                .attrs
                                .get("rep")
                                .map_or(Ok(1), |r| r.parse().map_err(|_| err("bad rep".into())))?,
                            components: vec![],
                        }));
                        last_comp = Some(depth);
                    }
                    ("ele", 2) if last_comp == Some(depth - 1) => {
                        let Some(ElementSlot::Composite(c)) = seg.elements.last_mut() else {
                            unreachable!("last_comp set only after pushing a composite")
                        };
                        c.components.push(element(&line, dict).map_err(err)?);
                    }
                    _ => return Err(err(format!("{kw} at an unexpected indentation"))),
                }
            }
            other => return Err(err(format!("unknown keyword {other:?}"))),
        }
    }
    let Some([st01, gs01, version, title]) = header else {
        return Err(SpecError {
            file: file.into(),
            line: 0,
            message: "empty spec".into(),
        });
    };
    let mut spec = Spec {
        st01: st01.into(),
        gs01: gs01.into(),
        version: version.into(),
        title: title.into(),
        nodes,
        slots: 0,
        qualifiers: Vec::new(),
    };
    finish(&mut spec).map_err(|m| SpecError {
        file: file.into(),
        line: 0,
        message: m,
    })?;
    Ok(spec)
}

/// Orders children, checks element sequences, derives keys and counter slots.
fn finish(spec: &mut Spec) -> Result<(), String> {
    let n = spec.nodes.len();
    for i in 0..n {
        let ordered = match &spec.nodes[i].kind {
            NodeKind::Loop(l) => {
                let mut c = l.children.clone();
                // Stable: guide order is kept among equals.
                c.sort_by_key(|&id| {
                    let node = &spec.nodes[id as usize];
                    (node.pos, node.as_segment().is_some())
                });
                Some(c)
            }
            NodeKind::Segment(_) => None,
        };
        if let (Some(c), NodeKind::Loop(l)) = (ordered, &mut spec.nodes[i].kind) {
            l.children = c;
        }
        let seg_id = spec.nodes[i].id.clone();
        if let NodeKind::Segment(s) = &mut spec.nodes[i].kind {
            for (k, e) in s.elements.iter().enumerate() {
                if e.seq() as usize != k + 1 {
                    return Err(format!(
                        "segment {seg_id}: elements must be numbered 01, 02, ... in order"
                    ));
                }
            }
            s.key = key(&seg_id, &s.elements);
            let find = |de: &str| {
                s.elements.iter().find_map(|e| match e {
                    ElementSlot::Simple(x) if &*x.data_ele == de => Some(x.seq),
                    _ => None,
                })
            };
            s.date_pair = find("1250").zip(find("1251"));
            s.required = s
                .elements
                .iter()
                .filter(|e| e.usage() == Usage::Required)
                .map(|e| e.seq())
                .collect();
        }
    }
    for i in 0..n {
        let Some(l) = spec.nodes[i].as_loop() else {
            continue;
        };
        let summary: Vec<ChildSummary> = l
            .children
            .iter()
            .map(|&c| {
                let node = &spec.nodes[c as usize];
                let (is_loop, id_key) = match &node.kind {
                    NodeKind::Segment(_) => (false, node.id_key),
                    NodeKind::Loop(cl) => {
                        let first = cl.children.first().map(|&f| &spec.nodes[f as usize]);
                        (
                            true,
                            first
                                .filter(|f| f.as_segment().is_some())
                                .map_or(0, |f| f.id_key),
                        )
                    }
                };
                ChildSummary {
                    node: c,
                    pos: node.pos,
                    id_key,
                    is_loop,
                    required: node.usage == Usage::Required,
                }
            })
            .collect();
        if let NodeKind::Loop(l) = &mut spec.nodes[i].kind {
            l.summary = summary;
        }
    }
    let mut qualifiers: HashMap<u32, Option<Vec<(u8, u8)>>> = HashMap::new();
    for node in &spec.nodes {
        let Some(seg) = node.as_segment() else {
            continue;
        };
        let entry = qualifiers
            .entry(node.id_key)
            .or_insert_with(|| Some(Vec::new()));
        if let (Some(list), Some(k)) = (entry.as_mut(), &seg.key) {
            if !list.contains(&(k.element, k.component)) {
                list.push((k.element, k.component));
            }
            if list.len() > 2 {
                *entry = None;
            }
        }
    }
    spec.qualifiers = qualifiers.into_iter().collect();
    spec.qualifiers.sort_unstable_by_key(|(k, _)| *k);
    // Counter slots by path: namesakes at one path are counted together.
    let mut paths: Vec<String> = vec![String::new(); n];
    let mut slot_of: HashMap<String, u32> = HashMap::new();
    for i in 1..n {
        let parent = spec.nodes[i].parent.unwrap_or(ROOT) as usize;
        let node = &spec.nodes[i];
        let mut path = format!("{}/{}", paths[parent], node.id);
        if let Some(seg) = node.as_segment() {
            let siblings = spec.nodes[parent]
                .as_loop()
                .map_or(&[][..], |l| &l.children);
            let shares_pos = siblings.iter().any(|&s| {
                s as usize != i
                    && spec.nodes[s as usize].pos == node.pos
                    && spec.nodes[s as usize].as_segment().is_some()
            });
            if shares_pos && let Some(code) = qualifier_code(&node.id, &seg.elements) {
                path.push_str(&format!("[{}]", String::from_utf8_lossy(&code)));
            }
        }
        let next = slot_of.len() as u32 + 1;
        spec.nodes[i].slot = *slot_of.entry(path.clone()).or_insert(next);
        paths[i] = path;
    }
    spec.slots = slot_of.len() + 1;
    for (i, own_path) in paths.iter().enumerate() {
        if spec.nodes[i].as_loop().is_none() {
            continue;
        }
        let prefix = format!("{own_path}/");
        let mut slots: Vec<u32> = slot_of
            .iter()
            .filter(|(p, _)| p.starts_with(&prefix))
            .map(|(_, &s)| s)
            .collect();
        slots.sort_unstable();
        let range = match (slots.first(), slots.last()) {
            (Some(&a), Some(&b)) => a..b + 1,
            _ => 0..0,
        };
        if range.len() != slots.len() {
            return Err(format!(
                "loop {}: its counters are not contiguous",
                spec.nodes[i].id
            ));
        }
        if let NodeKind::Loop(l) = &mut spec.nodes[i].kind {
            l.reset_slots = range;
        }
    }
    Ok(())
}

/// The element whose code tells a segment apart from namesakes (the first code-list ID element,
/// with the guides' exceptions: ENT at 02, HL at 03, composite qualifiers at 01-1).
fn key(seg_id: &str, els: &[ElementSlot]) -> Option<Key> {
    let simple = |i: usize| match els.get(i) {
        Some(ElementSlot::Simple(e)) => Some(e),
        _ => None,
    };
    let first_component = match els.first() {
        Some(ElementSlot::Composite(c)) => c.components.first(),
        _ => None,
    };
    let k = |element, component, codes: &CodeSet| {
        Some(Key {
            element,
            component,
            codes: codes.clone(),
        })
    };
    if let Some(e) = simple(0).filter(|e| {
        e.data_type == DataType::ID && e.usage == Usage::Required && !e.codes.is_empty()
    }) {
        return k(1, 0, &e.codes);
    }
    if seg_id == "ENT"
        && let Some(e) = simple(1).filter(|e| e.data_type == DataType::ID && !e.codes.is_empty())
    {
        return k(2, 0, &e.codes);
    }
    if let Some(c) = first_component.filter(|c| !c.codes.is_empty())
        && (c.data_type == DataType::ID || (seg_id == "CTX" && c.data_type == DataType::AN))
    {
        return k(1, 1, &c.codes);
    }
    if seg_id == "HL"
        && let Some(e) = simple(2).filter(|e| !e.codes.is_empty())
    {
        return k(3, 0, &e.codes);
    }
    None
}

/// First code of the element that qualifies a segment, used to name namesakes at one position.
fn qualifier_code(seg_id: &str, els: &[ElementSlot]) -> Option<Vec<u8>> {
    let id_codes = |s: Option<&ElementSlot>| match s {
        Some(ElementSlot::Simple(e)) if e.data_type == DataType::ID && !e.codes.is_empty() => {
            e.codes.first()
        }
        _ => None,
    };
    id_codes(els.first())
        .or_else(|| {
            if seg_id == "ENT" {
                id_codes(els.get(1))
            } else {
                None
            }
        })
        .or_else(|| match els.first() {
            Some(ElementSlot::Composite(c)) => c
                .components
                .first()
                .filter(|e| e.data_type == DataType::ID && !e.codes.is_empty())
                .and_then(|e| e.codes.first()),
            _ => None,
        })
        .or_else(|| match (seg_id, els.get(2)) {
            ("HL", Some(ElementSlot::Simple(e))) => e.codes.first(),
            _ => None,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    const DICT: &str = "98 ID 2 3 \"Entity Identifier Code\"\n1035 AN 1 60 \"Name\"\n628 AN 1 12 \"HL ID\"\n734 AN 1 12 \"Parent\"\n735 ID 1 2 \"Level\"\n143 ID 3 3 \"TS ID\"\n329 AN 4 9 \"Ctl\"\n96 N0 1 10 \"Count\"\n1270 ID 1 3 \"Qual\"\n1271 AN 1 30 \"Code\"\n";

    const SPEC: &str = r#"
# a tiny guide
transaction 999 FA TEST "Test"
seg ST R 10 1 "Transaction Set Header"
  ele 01 143 R "TS ID" codes=999
  ele 02 329 R "Control Number"
loop 1000 R 20 >1 "Names"
  seg NM1 R 10 1 "Name"
    ele 01 98 R "Entity" codes=41|40
    ele 02 1035 S "Last"
    syntax P0102
  loop 1100 S 20 2 "Inner"
    seg HI S 10 1 "Codes"
      comp 01 C022 R "Code Info"
        ele 01 1270 R "Qual" codes="ABK|BK"
        ele 02 1271 R "Code"
seg SE R 30 1 "Trailer"
  ele 01 96 R "Count"
  ele 02 329 R "Control Number"
"#;

    #[test]
    fn parses_tree_keys_and_slots() {
        let dict = Dictionary::parse("d", DICT).unwrap();
        let spec = parse_spec("t", SPEC, &dict).unwrap();
        assert_eq!(&*spec.version, "TEST");
        let nm1 = spec.find(&["1000", "NM1"]).unwrap();
        let key = spec.node(nm1).as_segment().unwrap().key.clone().unwrap();
        assert_eq!((key.element, key.component), (1, 0));
        assert!(key.codes.contains(b"41"));
        let hi = spec.find(&["1000", "1100", "HI"]).unwrap();
        let hk = spec.node(hi).as_segment().unwrap().key.clone().unwrap();
        assert_eq!((hk.element, hk.component), (1, 1));
        let l1000 = spec.find(&["1000"]).unwrap();
        assert_eq!(spec.node(l1000).as_loop().unwrap().reset_slots.len(), 3);
        assert_eq!(spec.opening_segment(l1000), Some(nm1));
        assert_eq!(spec.loop_id_of(hi), "1100");
    }

    #[test]
    fn errors_name_the_line() {
        let dict = Dictionary::parse("d", DICT).unwrap();
        let e = parse_spec(
            "t",
            "transaction 1 2 3 x\nseg ST R 10 1 x\n  ele 01 9999 R x\n",
            &dict,
        )
        .unwrap_err();
        assert_eq!(e.line, 3);
        assert!(e.message.contains("9999"));
    }
}
