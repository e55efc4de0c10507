#!/usr/bin/env python3
"""Round-trip check: re-read generated `.spec` files with an independent parser of our format
and compare them with the pyx12 map XML they came from, so we know nothing was dropped.

    check_roundtrip.py [--map-dir DIR] [--dict specs/elements.dict] SPEC...

For each spec it prints node counts (loops, segments, elements, composites, codes, ...) from
both sides, then compares the two node sequences field by field, in document order. The map
file is taken from the spec's "# Source map:" header line. Exit status 1 on any mismatch.
"""
import argparse
import re
import sys
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

DEFAULT_MAP_DIR = "/tmp/pyx12venv/lib/python3.11/site-packages/pyx12/map"


# ---- our format -------------------------------------------------------------------------

def tokens(line, where):
    """Split on spaces; a token that starts with '"' runs to the next '"' (no escapes)."""
    out, i = [], 0
    while i < len(line):
        if line[i] == " ":
            i += 1
        elif line[i] == '"':
            j = line.index('"', i + 1)  # ValueError = unterminated quote
            if j + 1 < len(line) and line[j + 1] != " ":
                raise ValueError(f"{where}: text right after closing quote")
            out.append(line[i + 1:j])
            i = j + 1
        else:
            j = line.find(" ", i)
            j = len(line) if j < 0 else j
            if '"' in line[i:j]:
                raise ValueError(f"{where}: stray quote")
            out.append(line[i:j])
            i = j
    return out


# positional fields per node kind; everything after them is key=value
POSITIONAL = {"loop": 5, "seg": 5, "comp": 4, "ele": 4, "syntax": 1}
PARENTS = {"loop": {None, "loop"}, "seg": {None, "loop"}, "syntax": {"seg"}, "comp": {"seg"}, "ele": {"seg", "comp"}}


def parse_spec(path):
    """-> (transaction tokens, header comment lines, flat list of (depth, kind, fields, attrs))."""
    header, trans, nodes, stack = [], None, [], []  # stack: kinds of open ancestors
    for n, raw in enumerate(Path(path).read_text().splitlines(), 1):
        where = f"{path}:{n}"
        if not raw.strip():
            continue
        if raw.startswith("#"):
            header.append(raw)
            continue
        toks = tokens(raw.lstrip(" "), where)
        if trans is None:
            if toks[0] != "transaction" or len(toks) != 5:
                raise ValueError(f"{where}: expected transaction line")
            trans = toks[1:]
            continue
        indent = len(raw) - len(raw.lstrip(" "))
        if indent % 2 or indent // 2 > len(stack):
            raise ValueError(f"{where}: bad indentation")
        depth = indent // 2
        del stack[depth:]
        kind = toks[0]
        if kind not in POSITIONAL or (stack[-1] if stack else None) not in PARENTS[kind]:
            raise ValueError(f"{where}: '{kind}' not allowed here")
        npos = POSITIONAL[kind]
        fields, attrs = toks[1:1 + npos], {}
        for t in toks[1 + npos:]:
            k, eq, v = t.partition("=")
            if not eq or k in attrs:
                raise ValueError(f"{where}: bad attribute {t!r}")
            attrs[k] = v
        nodes.append((depth, kind, fields, attrs))
        stack.append(kind)
    return trans, header, nodes


def spec_rows(nodes):
    """Normalise parsed spec nodes into comparable rows."""
    rows = []
    for depth, kind, f, a in nodes:
        if kind in ("loop", "seg"):  # id usage pos repeat name
            rows.append((depth, kind, f[0], f[1], int(f[2]), f[3], f[4], a.get("type")))
        elif kind == "syntax":
            rows.append((depth, kind, f[0]))
        elif kind == "comp":  # seq id usage name
            rows.append((depth, kind, f[0], f[1], f[2], f[3], a.get("rep")))
        else:
            codes = tuple(a["codes"].split("|")) if "codes" in a else ()
            rows.append((depth, kind, f[0], f[1], f[2], f[3], codes, a.get("ext"), a.get("rep"), a.get("re")))
    return rows


# ---- the pyx12 map (read independently of the converter) -----------------------------------

def val(node, key):
    v = node.get(key)
    v = node.findtext(key) if v is None else v
    return None if v is None else " ".join(v.split())


def xml_rows(node, depth, rows):
    for c in node:
        if c.tag in ("loop", "segment"):
            kind = "loop" if c.tag == "loop" else "seg"
            rows.append((depth, kind, c.get("xid"), val(c, "usage"), int(val(c, "pos")),
                         val(c, "repeat" if kind == "loop" else "max_use"), val(c, "name"), c.get("type")))
            xml_rows(c, depth + 1, rows)
        elif c.tag == "syntax":
            rows.append((depth, "syntax", c.text.strip()))
        elif c.tag == "composite":
            rows.append((depth, "comp", val(c, "seq"), val(c, "data_ele"), val(c, "usage"), val(c, "name"), val(c, "repeat")))
            xml_rows(c, depth + 1, rows)
        elif c.tag == "element":
            vc = c.find("valid_codes")
            codes = tuple(k.text.strip() for k in vc.iter("code")) if vc is not None else ()
            ext = vc.get("external") if vc is not None else None
            rows.append((depth, "ele", val(c, "seq"), val(c, "data_ele"), val(c, "usage"), val(c, "name"),
                         codes, ext, val(c, "repeat") or val(c, "max_use"), c.findtext("regex") or None))


def map_rows(map_path):
    """Rows for the ST content of a map, plus the loops/segments left out of it."""
    root = ET.parse(map_path).getroot()
    parent = {c: p for p in root.iter() for c in p}
    st = next(l for l in root.iter("loop") if l.get("xid") == "ST_LOOP")
    rows = []
    xml_rows(st, 0, rows)
    kept = {id(c) for c in st.iter()} - {id(st)}  # ST_LOOP itself is the transaction line
    # Known map bug (277 X212): SE sits in a wrapper loop after ST_LOOP. The converter moves
    # that wrapper's contents to the end of the ST content; expect the same here.
    if not any(r[:3] == (0, "seg", "SE") for r in rows):
        sibs = list(parent[st])
        for w in sibs[sibs.index(st) + 1:]:
            if w.tag == "loop" and w.get("type") == "wrapper" and any(s.get("xid") == "SE" for s in w.iter("segment")):
                xml_rows(w, 0, rows)
                kept |= {id(c) for c in w.iter()} - {id(w)}
    left_out = [f"{n.tag} {n.get('xid')}" for n in root.iter() if n.tag in ("loop", "segment") and id(n) not in kept]
    return rows, left_out


# ---- comparison ---------------------------------------------------------------------------

def counts(rows):
    c = Counter(r[1] for r in rows)
    for r in rows:
        if r[1] == "ele":
            c["codes"] += len(r[6])
            c["ext"] += r[7] is not None
            c["ele rep"] += r[8] is not None
            c["regex"] += r[9] is not None
        elif r[1] == "comp":
            c["comp rep"] += r[6] is not None
    return c


KEYS = ["loop", "seg", "ele", "comp", "codes", "syntax", "ext", "regex", "ele rep", "comp rep"]


def check(spec, map_dir, dict_ids):
    trans, header, nodes = parse_spec(spec)
    src = next((re.match(r"# Source map: (\S+)", h) for h in header if h.startswith("# Source map:")), None)
    if not src:  # hand-written specs (270/271/276) have no map to compare with
        print(f"{Path(spec).name}: skipped, no '# Source map:' header\n"); return True
    got = spec_rows(nodes)
    want, left_out = map_rows(Path(map_dir) / src.group(1))
    cg, cw = counts(got), counts(want)
    ok = cg == cw and got == want
    st01 = next((r[6] for r in want if r[1] == "ele" and r[3] == "143"), ())  # ST01's code
    if (trans[0],) != st01:
        print(f"  transaction line says {trans[0]}, map ST01 allows {st01}"); ok = False
    print(f"{Path(spec).name}  <-  {src.group(1)}   transaction {' '.join(trans)}")
    print("  " + "  ".join(f"{k}={cg[k]}" + ("" if cg[k] == cw[k] else f"(xml {cw[k]})") for k in KEYS))
    print(f"  map nodes not in spec (envelope): {', '.join(left_out)}")
    if got != want:
        i = next((i for i, (a, b) in enumerate(zip(got, want)) if a != b), min(len(got), len(want)))
        print(f"  MISMATCH at node {i}:\n    spec: {got[i] if i < len(got) else None}\n    xml:  {want[i] if i < len(want) else None}")
    if dict_ids is not None:
        missing = sorted({r[3] for r in got if r[1] == "ele"} - dict_ids)
        print(f"  data elements missing from elements.dict: {missing or 'none'}")
        ok &= not missing
    print("  OK\n" if ok else "  FAILED\n")
    return ok


def read_dict(path):
    ids = set()
    for n, line in enumerate(Path(path).read_text().splitlines(), 1):
        if line.strip() and not line.startswith("#"):
            t = tokens(line, f"{path}:{n}")
            if len(t) != 5 or not t[2].isdigit() or not t[3].isdigit():
                raise ValueError(f"{path}:{n}: bad elements.dict line")
            ids.add(t[0])
    return ids


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("specs", nargs="+")
    ap.add_argument("--map-dir", default=DEFAULT_MAP_DIR)
    ap.add_argument("--dict", help="elements.dict to check data element ids against")
    a = ap.parse_args()
    dict_ids = read_dict(a.dict) if a.dict else None
    results = [check(s, a.map_dir, dict_ids) for s in a.specs]
    sys.exit(0 if all(results) else 1)


if __name__ == "__main__":
    main()
