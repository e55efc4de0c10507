#!/usr/bin/env python3
"""walk_check.py - walk X12 sample files through our implementation-guide specs (stdlib only).

Usage:
    walk_check.py [--spec FILE ...] [--specs-dir DIR] [--dict FILE ...] [--lint-only] [--trace] X12FILE ...

For every ST..SE in each X12 file the spec is chosen by ST01 and ST03 (then GS08) among the
--spec files, or among specs/*.spec when no --spec is given. Each segment is then located in
the spec with a deliberately simple rule (not the engine's algorithm):

  * scan forward from the current position: first the current loop, from the current node on
    (nodes with the same pos as the current node count as "current"), then the enclosing loops,
    each from the loop we are leaving on;
  * a seg node matches when its id matches and, if it has one, the value of its first required
    ID-type element that has a code list is in that list (for HL: HL03; a required composite
    counts through its first required coded component, e.g. HI01-01; first repetition only);
  * a loop is entered by its first segment (through wrapper loops); the first segment of the
    current loop is not matched inside that loop instance: it starts a new instance one level up.

Findings (one line each, exit status 1 when there are any):
  segment not found, required segment/loop missing (checked when a loop instance closes),
  max use / loop repeat exceeded, element code not in list, required element missing,
  "not used" element present, too many elements/components/repetitions, element type/length,
  X12 syntax notes (P R C E L), LS without LE (or LE without LS) in one loop instance, and the
  envelope checks (ISA12, BOM, ISA11, GS01 vs the spec, ST03 vs GS08, SE01, SE02).
Data notes (printed, not counted): NM108=XX with an NM109 that is not a valid NPI.
The spec itself is linted first (format, element ids in the dictionaries, sibling pos order).
--trace prints the spec node each segment was matched to.

Spec format: specs/FORMAT.md. This reader also accepts a "#" token outside quotes as the start of
a trailing comment, but the specs keep "#" comments on lines of their own (FORMAT.md).
"""
import argparse
import datetime
import os
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


# ----------------------------------------------------------------------------- dictionaries
def load_dicts(paths):
    d = {}
    for p in paths:
        for n, raw in enumerate(Path(p).read_text().splitlines(), 1):
            toks = tokenize(raw, f"{p}:{n}")
            if not toks:
                continue
            if len(toks) != 5:
                raise SystemExit(f"{p}:{n}: expected <id> <type> <min> <max> \"<name>\"")
            eid, typ, mn, mx, name = toks
            d[eid] = (typ, int(mn), int(mx), name)
    return d


# ----------------------------------------------------------------------------- spec parsing
def tokenize(line, where):
    toks, i, n = [], 0, len(line)
    while i < n:
        c = line[i]
        if c == " ":
            i += 1
        elif c == "#":
            break
        elif c == '"':
            j = line.find('"', i + 1)
            if j < 0:
                raise SystemExit(f"{where}: unterminated quote")
            toks.append(line[i + 1:j])
            i = j + 1
        else:
            j = i
            while j < n and line[j] != " ":
                if line[j] == '"':  # key="quoted value"
                    k = line.find('"', j + 1)
                    if k < 0:
                        raise SystemExit(f"{where}: unterminated quote")
                    j = k
                j += 1
            tok = line[i:j]
            if '="' in tok:
                k, v = tok.split("=", 1)
                tok = k + "=" + v.strip('"')
            toks.append(tok)
            i = j
    return toks


class Node:
    def __init__(self, kind, **kw):
        self.kind = kind
        self.children = []
        self.syntax = []
        self.parent = None
        self.__dict__.update(kw)

    def label(self):
        return f"{self.kind} {getattr(self, 'id', '')}".strip()


def attrs(toks, allowed, where, lint):
    a = {}
    for t in toks:
        if "=" not in t:
            lint.append(f"{where}: unexpected token {t!r}")
            continue
        k, v = t.split("=", 1)
        if k not in allowed:
            lint.append(f"{where}: unknown attribute {k}")
        a[k] = v
    return a


def parse_count(v, where, lint):
    if v == ">1":
        return None  # unbounded
    if not v.isdigit() or int(v) < 1:
        lint.append(f"{where}: bad count {v!r}")
        return None
    return int(v)


def parse_spec(path, dic):
    lint = []
    lines = Path(path).read_text().splitlines()
    root, stack, header = None, [], None
    for n, raw in enumerate(lines, 1):
        where = f"{Path(path).name}:{n}"
        stripped = raw.lstrip(" ")
        if not stripped or stripped.startswith("#"):
            if stripped.startswith("#") and raw != stripped:
                lint.append(f"{where}: indented comment line (comment lines should start in column 0)")
            continue
        if "\t" in raw:
            lint.append(f"{where}: tab character")
        indent = len(raw) - len(stripped)
        if indent % 2:
            lint.append(f"{where}: indentation is not a multiple of two spaces")
        depth = indent // 2
        toks = tokenize(stripped, where)
        if header is None:
            if toks[:1] != ["transaction"] or len(toks) != 5 or depth:
                raise SystemExit(f"{where}: first line must be: transaction <ST01> <GS01> <version> \"<title>\"")
            header = dict(st01=toks[1], gs01=toks[2], version=toks[3], title=toks[4])
            root = Node("loop", id="ST_LOOP", usage="R", pos=0, repeat=1, name="ST content", type="root", line=n)
            stack = [(-1, root)]
            continue
        kind = toks[0]
        while stack and stack[-1][0] >= depth:
            stack.pop()
        if not stack:
            raise SystemExit(f"{where}: bad indentation")
        pdepth, parent = stack[-1]
        if depth != pdepth + 1:
            lint.append(f"{where}: indentation jumps from depth {pdepth} to {depth}")
        if kind == "loop":
            if parent.kind != "loop":
                lint.append(f"{where}: loop inside {parent.kind}")
            lid, usage, pos, rep, name = toks[1:6]
            a = attrs(toks[6:], {"type"}, where, lint)
            node = Node("loop", id=lid, usage=usage, pos=int(pos), repeat=parse_count(rep, where, lint),
                        name=name, type=a.get("type"), line=n)
        elif kind == "seg":
            if parent.kind != "loop":
                lint.append(f"{where}: seg inside {parent.kind}")
            sid, usage, pos, mx, name = toks[1:6]
            a = attrs(toks[6:], {"type"}, where, lint)
            node = Node("seg", id=sid, usage=usage, pos=int(pos), max_use=parse_count(mx, where, lint),
                        name=name, line=n)
        elif kind in ("ele", "comp"):
            if kind == "ele" and parent.kind not in ("seg", "comp"):
                lint.append(f"{where}: ele inside {parent.kind}")
            if kind == "comp" and parent.kind != "seg":
                lint.append(f"{where}: comp inside {parent.kind}")
            seq, eid, usage, name = toks[1:5]
            a = attrs(toks[5:], {"codes", "ext", "rep", "re"} if kind == "ele" else {"rep"}, where, lint)
            codes = a["codes"].split("|") if "codes" in a else None
            node = Node(kind, seq=int(seq), id=eid, usage=usage, name=name, codes=codes, ext=a.get("ext"),
                        rep=int(a.get("rep", "1")), re=a.get("re"), line=n)
            if kind == "ele":
                if eid not in dic:
                    lint.append(f"{where}: element {eid} is not in the element dictionaries")
                if codes and eid in dic:
                    for c in codes:
                        if not dic[eid][1] <= len(c) <= dic[eid][2]:
                            lint.append(f"{where}: code {c!r} does not fit {eid} length {dic[eid][1]}-{dic[eid][2]}")
                    if len(set(codes)) != len(codes):
                        lint.append(f"{where}: duplicate codes")
            elif not re.fullmatch(r"C\d{3}", eid):
                lint.append(f"{where}: composite id {eid!r}")
        elif kind == "syntax":
            if parent.kind != "seg":
                lint.append(f"{where}: syntax inside {parent.kind}")
            if len(toks) != 2 or not re.fullmatch(r"[PRECL](\d\d){2,}", toks[1]):
                lint.append(f"{where}: bad syntax rule {toks[1:]}")
            else:
                parent.syntax.append(toks[1])
            continue
        else:
            lint.append(f"{where}: unknown node kind {kind!r}")
            continue
        if node.usage not in ("R", "S", "N"):
            lint.append(f"{where}: usage {node.usage!r}")
        node.parent = parent
        parent.children.append(node)
        stack.append((depth, node))
    if header is None:
        raise SystemExit(f"{path}: no transaction line")
    lint_tree(root, Path(path).name, lint)
    return header, root, lint


def lint_tree(node, fname, lint):
    if node.kind in ("seg", "comp"):
        seqs = [c.seq for c in node.children]
        if seqs != sorted(seqs) or len(set(seqs)) != len(seqs):
            lint.append(f"{fname}:{node.line}: {node.label()}: element seq out of order {seqs}")
        return
    last = None
    for c in node.children:
        if last is not None and c.pos < last:
            lint.append(f"{fname}:{c.line}: {c.label()} pos {c.pos} is before its previous sibling ({last})")
        last = c.pos
        lint_tree(c, fname, lint)
    if node.kind == "loop" and node.type not in ("wrapper", "root"):
        if not node.children or node.children[0].kind != "seg":
            lint.append(f"{fname}:{node.line}: loop {node.id} does not start with a segment")
        elif node.children[0].usage != "R":
            lint.append(f"{fname}:{node.line}: loop {node.id}: first segment is not required")


# ----------------------------------------------------------------------------- X12 reading
def read_x12(path):
    data = Path(path).read_bytes().decode("latin-1")
    notes = []
    if data.startswith("\u00ef\u00bb\u00bf"):
        notes.append("UTF-8 BOM before ISA")
        data = data[3:]
    start = data.find("ISA")
    if start < 0:
        raise ValueError("no ISA segment")
    if data[:start].strip():
        notes.append("data before ISA")
    isa = data[start:]
    ele_sep = isa[3]
    if len(isa) >= 106 and isa[103] == ele_sep:
        comp_sep, seg_term = isa[104], isa[105]
    else:  # not fixed width: take ISA16 after the 16th separator
        notes.append("ISA is not 106 characters")
        k = -1
        for _ in range(16):
            k = isa.index(ele_sep, k + 1)
        comp_sep, seg_term = isa[k + 1], isa[k + 2]
    isa_fields = isa[:isa.index(seg_term)].split(ele_sep)
    if isa_fields[12:13] != ["00501"]:
        notes.append(f"ISA12 {isa_fields[12] if len(isa_fields) > 12 else None!r} is not 00501")
    rep_sep = isa_fields[11] if len(isa_fields) > 11 else ""
    if isa_fields[12:13] and isa_fields[12] < "00501":
        rep_sep = None
    elif not rep_sep or rep_sep.isalnum() or rep_sep in (ele_sep, comp_sep, seg_term):
        notes.append(f"ISA11 {rep_sep!r} is not usable as a repetition separator")
        rep_sep = None
    segs = []
    for raw in isa.split(seg_term):
        s = raw.strip(" \r\n\t")
        if s:
            segs.append(s.split(ele_sep))
    return segs, dict(ele=ele_sep, comp=comp_sep, rep=rep_sep, term=seg_term), notes


# ----------------------------------------------------------------------------- value checks
def check_value(val, eid, dic, where, out):
    if eid not in dic:
        return
    typ, mn, mx, _ = dic[eid]
    if typ in ("AN", "ID"):
        if not mn <= len(val) <= mx:
            out.append(f"{where}: length {len(val)} of {val!r} not in {mn}-{mx}")
    elif typ == "DT":
        if len(val) not in (6, 8) or not val.isdigit() or not mn <= len(val) <= mx:
            out.append(f"{where}: bad date {val!r}")
        else:
            try:
                datetime.date(int(val[:4]) if len(val) == 8 else 2000 + int(val[:2]),
                              int(val[-4:-2]), int(val[-2:]))
            except ValueError:
                out.append(f"{where}: bad date {val!r}")
    elif typ == "TM":
        if not val.isdigit() or not mn <= len(val) <= mx or int(val[:2]) > 23 or int(val[2:4]) > 59:
            out.append(f"{where}: bad time {val!r}")
    elif typ.startswith("N"):
        v = val[1:] if val.startswith("-") else val
        if not v.isdigit() or not mn <= len(v) <= mx:
            out.append(f"{where}: bad number {val!r} (N, {mn}-{mx} digits)")
    elif typ == "R":
        v = val[1:] if val.startswith("-") else val
        digits = v.replace(".", "", 1)
        if not digits.isdigit() or not re.fullmatch(r"\d*\.?\d*", v) or not mn <= len(digits) <= mx:
            out.append(f"{where}: bad decimal {val!r} (R, {mn}-{mx} digits)")


def check_syntax(rule, present, where, out):
    kind, nums = rule[0], [int(rule[i:i + 2]) for i in range(1, len(rule), 2)]
    have = [present(k) for k in nums]
    bad = False
    if kind == "P":
        bad = any(have) and not all(have)
    elif kind == "R":
        bad = not any(have)
    elif kind == "E":
        bad = sum(have) > 1
    elif kind == "C":
        bad = have[0] and not all(have[1:])
    elif kind == "L":
        bad = have[0] and not any(have[1:])
    if bad:
        out.append(f"{where}: syntax {rule} violated")


def check_segment(node, fields, delims, dic, where, out):
    vals = fields[1:]
    defs = {c.seq: c for c in node.children}
    if vals and len(vals) > max(defs, default=0):
        extra = [i + 1 for i, v in enumerate(vals) if i + 1 > max(defs, default=0) and v]
        if extra:
            out.append(f"{where}: {len(vals)} elements, the spec defines {max(defs, default=0)}")
    for seq, d in sorted(defs.items()):
        raw = vals[seq - 1] if seq <= len(vals) else ""
        ref = f"{where} {node.id}{seq:02d}"
        if not raw:
            if d.usage == "R":
                out.append(f"{ref}: required element missing")
            continue
        if d.usage == "N":
            out.append(f"{ref}: element marked not used is present ({raw!r})")
            continue
        reps = raw.split(delims["rep"]) if delims["rep"] else [raw]
        if len(reps) > d.rep:
            out.append(f"{ref}: {len(reps)} repetitions, at most {d.rep} allowed")
        for r in reps:
            if d.kind == "ele":
                if delims["comp"] in r and d.id in dic:
                    out.append(f"{ref}: component separator in simple element ({r!r})")
                if d.codes and r not in d.codes:
                    out.append(f"{ref}: code {r!r} not in the list ({d.name})")
                check_value(r, d.id, dic, ref, out)
            else:
                comps = r.split(delims["comp"])
                cdefs = {c.seq: c for c in d.children}
                if len(comps) > max(cdefs, default=0):
                    out.append(f"{ref}: {len(comps)} components, the spec defines {max(cdefs, default=0)}")
                for cseq, cd in sorted(cdefs.items()):
                    cv = comps[cseq - 1] if cseq <= len(comps) else ""
                    cref = f"{ref}-{cseq:02d}"
                    if not cv:
                        if cd.usage == "R":
                            out.append(f"{cref}: required component missing")
                        continue
                    if cd.usage == "N":
                        out.append(f"{cref}: component marked not used is present ({cv!r})")
                    if cd.codes and cv not in cd.codes:
                        out.append(f"{cref}: code {cv!r} not in the list ({cd.name})")
                    check_value(cv, cd.id, dic, cref, out)
    for rule in node.syntax:
        check_syntax(rule, lambda k: k <= len(vals) and vals[k - 1] != "", f"{where} {node.id}", out)


def npi_ok(v):
    """10 digits, Luhn check digit over the 80840 prefix (CMS NPI check-digit rule)."""
    if len(v) != 10 or not v.isdigit():
        return False
    total = 24  # the prefix 80840 contributes 24
    for i, ch in enumerate(reversed(v[:9])):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return (10 - total % 10) % 10 == int(v[9])


def data_checks(fields, where, data):
    """Data-content checks that are not structure (reported separately, not counted as findings)."""
    if fields[0] == "NM1" and len(fields) > 9 and fields[8] == "XX" and not npi_ok(fields[9]):
        data.append(f"{where}: NM109 {fields[9]!r} is not a valid NPI (10 digits with check digit)")


# ----------------------------------------------------------------------------- walking
def qualifier(node, dic):
    """The first required ID-type element with a code list, in document order: (seq, cseq, codes)
    or None. A required composite counts through its first required coded ID component (HI01-01)."""
    for c in node.children:
        if c.usage != "R":
            continue
        if c.kind == "ele" and c.codes and dic.get(c.id, ("",))[0] == "ID":
            return c.seq, None, c.codes
        if c.kind == "comp":
            for k in c.children:
                if k.usage == "R" and k.codes and dic.get(k.id, ("",))[0] == "ID":
                    return c.seq, k.seq, k.codes
    return None


def seg_matches(node, fields, dic, delims):
    if node.kind != "seg" or node.id != fields[0]:
        return False
    if "_q" not in node.__dict__:
        node._q = qualifier(node, dic)
    if not node._q:
        return True
    seq, cseq, codes = node._q
    v = fields[seq] if seq < len(fields) else ""
    if delims["rep"]:
        v = v.split(delims["rep"])[0]
    if cseq:
        parts = v.split(delims["comp"])
        v = parts[cseq - 1] if cseq <= len(parts) else ""
    return v in codes


def first_seg_path(loop):
    """[child index, ...] from `loop` down to its first segment (through wrapper loops)."""
    path, n = [], loop
    while n.kind == "loop":
        if not n.children:
            return None
        path.append(0)
        n = n.children[0]
    return path


def node_at(loop, path):
    n = loop
    for i in path:
        n = n.children[i]
    return n


class Frame:
    def __init__(self, node):
        self.node, self.idx, self.counts = node, -1, {}


def loop_path(stack):
    return "/".join(f.node.id for f in stack[1:] if f.node.type != "wrapper") or "ST"


def close_frame(fr, where, out):
    seen = {c.id for j, c in enumerate(fr.node.children) if c.kind == "seg" and fr.counts.get(j)}
    if ("LS" in seen) != ("LE" in seen):
        out.append(f"{where}: {'LS without LE' if 'LS' in seen else 'LE without LS'} in {fr.node.id}")
    for j, c in enumerate(fr.node.children):
        if c.usage == "R" and fr.counts.get(j, 0) == 0:
            if c.kind == "loop" and c.type == "wrapper" and not c.children:
                continue
            out.append(f"{where}: required {c.kind} {c.id} \"{c.name}\" missing in "
                       f"{fr.node.id if fr.node.type != 'root' else 'ST'}")


def walk(segs, root, delims, dic, fname, out, trace=False, data=None):
    stack = [Frame(root)]
    for n, fields in enumerate(segs, 1):
        where = f"{fname} seg {n} {fields[0]}"
        found = None
        level, cur = len(stack) - 1, stack[-1].idx
        while level >= 0 and not found:
            fr = stack[level]
            ch = fr.node.children
            start = 0
            if cur >= 0:
                start = cur
                while start > 0 and ch[start - 1].pos == ch[cur].pos:
                    start -= 1
            if fr.node.type != "root" and start == 0 and ch and ch[0].kind == "seg":
                start = 1  # the loop's own first segment starts a new instance, one level up
            for j in range(start, len(ch)):
                c = ch[j]
                if c.kind == "seg" and seg_matches(c, fields, dic, delims):
                    found = (level, j, [])
                    break
                if c.kind == "loop":
                    p = first_seg_path(c)
                    if p is not None and seg_matches(node_at(c, p), fields, dic, delims):
                        found = (level, j, p)
                        break
            if not found:
                cur = stack[level - 1].node.children.index(fr.node) if level else -1
                level -= 1
        if not found:
            out.append(f"{where}: segment not found in the spec from {loop_path(stack)}")
            continue
        level, j, path = found
        while len(stack) - 1 > level:
            close_frame(stack.pop(), where, out)
        fr = stack[-1]
        fr.counts[j] = fr.counts.get(j, 0) + 1
        fr.idx = j
        c = fr.node.children[j]
        lim = c.max_use if c.kind == "seg" else c.repeat
        if lim is not None and fr.counts[j] > lim:
            out.append(f"{where}: {c.kind} {c.id} occurs {fr.counts[j]} times in {loop_path(stack)}, "
                       f"at most {lim}")
        node = c
        for k, i in enumerate(path):
            nf = Frame(node)
            stack.append(nf)
            nf.counts[i] = 1
            nf.idx = i
            node = node.children[i]
        if trace:
            print(f"    {n:3d} {fields[0]:<4} -> {loop_path(stack)} (spec line {node.line}: {node.name})")
        check_segment(node, fields, delims, dic, f"{where} [{loop_path(stack)}]", out)
        if data is not None:
            data_checks(fields, f"{where} [{loop_path(stack)}]", data)
    while stack:
        close_frame(stack.pop(), f"{fname} end of ST", out)


# ----------------------------------------------------------------------------- driver
def spec_candidates(args):
    paths = args.spec or sorted(str(p) for p in Path(args.specs_dir).glob("*.spec"))
    cands = []
    for p in paths:
        for line in Path(p).read_text().splitlines():
            t = line.strip()
            if t and not t.startswith("#"):
                toks = t.split()
                if toks[0] == "transaction":
                    cands.append((toks[1], toks[3], p))
                break
    return cands


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--spec", action="append", help="spec file (repeatable); default: all specs in --specs-dir")
    ap.add_argument("--specs-dir", default=str(ROOT / "specs"))
    ap.add_argument("--dict", action="append", help="element dictionary (repeatable); default: "
                    "specs/elements.dict and specs/elements.extra.dict when present")
    ap.add_argument("--lint-only", action="store_true", help="only lint the specs")
    ap.add_argument("--trace", action="store_true", help="print the spec node each segment was matched to")
    ap.add_argument("files", nargs="*")
    args = ap.parse_args()
    dicts = args.dict or [p for p in (Path(args.specs_dir) / "elements.dict",
                                      Path(args.specs_dir) / "elements.extra.dict") if p.exists()]
    dic = load_dicts(dicts)
    cands = spec_candidates(args)
    loaded, total = {}, 0

    def load(p):
        if p not in loaded:
            loaded[p] = parse_spec(p, dic)
            for msg in loaded[p][2]:
                print(f"LINT {msg}")
        return loaded[p]

    if args.lint_only or not args.files:
        for _, _, p in cands:
            total += len(load(p)[2])
        print(f"lint: {len(cands)} spec(s), {total} finding(s)")
        return 1 if total else 0

    for f in args.files:
        fname = os.path.basename(f)
        out, data = [], []
        try:
            segs, delims, notes = read_x12(f)
        except (ValueError, IndexError) as e:
            print(f"{fname}: cannot read: {e}")
            total += 1
            continue
        out += [f"{fname}: envelope: {m}" for m in notes]
        gs01 = gs08 = None
        i = nst = 0
        while i < len(segs):
            s = segs[i]
            if s[0] == "GS":
                gs01, gs08 = s[1] if len(s) > 1 else None, s[8] if len(s) > 8 else None
            if s[0] != "ST":
                i += 1
                continue
            j = i
            while j < len(segs) and segs[j][0] != "SE":
                j += 1
            st, body = s, segs[i:j + 1]
            nst += 1
            st01, st03 = (st + ["", "", ""])[1], (st + ["", "", "", ""])[3]
            tag = f"{fname} ST {st[2] if len(st) > 2 else '?'}"
            want = st03 or gs08 or ""
            pick = ([c for c in cands if c[0] == st01 and c[1] == st03] or
                    [c for c in cands if c[0] == st01 and c[1] == gs08] or
                    sorted((c for c in cands if c[0] == st01),  # closest version: longest common prefix
                           key=lambda c: -len(os.path.commonprefix([c[1], want]))))
            if not pick:
                out.append(f"{tag}: no spec for transaction {st01}")
                i = j + 1
                continue
            if pick[0][1] not in (st03, gs08):
                out.append(f"{tag}: no spec for version {st03 or gs08}; using {os.path.basename(pick[0][2])}")
            if gs08 and st03 and gs08 != st03:
                out.append(f"{tag}: envelope: ST03 {st03} differs from GS08 {gs08}")
            if j >= len(segs):
                out.append(f"{tag}: envelope: no SE")
            else:
                se = segs[j]
                if len(se) > 1 and se[1] != str(len(body)):
                    out.append(f"{tag}: envelope: SE01 {se[1]} but {len(body)} segments")
                if len(se) > 2 and len(st) > 2 and se[2] != st[2]:
                    out.append(f"{tag}: envelope: SE02 {se[2]} differs from ST02 {st[2]}")
            hdr, root, _ = load(pick[0][2])
            if gs01 != hdr["gs01"]:
                out.append(f"{tag}: envelope: GS01 {gs01} but the spec says {hdr['gs01']}")
            print(f"{tag}: {len(body)} segments against {os.path.basename(pick[0][2])}")
            walk(body, root, delims, dic, tag, out, args.trace, data)
            i = j + 1
        if not nst:
            out.append(f"{fname}: no ST found")
        for m in out:
            print(f"  {m}")
        for m in data:
            print(f"  data (not counted): {m}")
        print(f"{fname}: {'OK' if not out else f'{len(out)} finding(s)'}"
              + (f", {len(data)} data note(s)" if data else ""))
        total += len(out)
    return 1 if total else 0


if __name__ == "__main__":
    sys.exit(main())
