#!/usr/bin/env python3
"""Convert pyx12 map XML files to our compact `.spec` format (see specs/FORMAT.md).

    pyx12_to_spec.py MAP.xml [-o FILE] [--gs01 HN --version 005010X212] [--title T]
    pyx12_to_spec.py --dataele dataele.xml [-o FILE]      # -> elements.dict
    pyx12_to_spec.py --all SPECDIR [--map-dir DIR]        # regenerate every file we ship

Stdlib only. The converter is deliberately strict: any XML tag or attribute it does not know
makes it stop, so nothing in a map can be dropped silently.
"""
import argparse
import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

TOOL = "tools/specgen/pyx12_to_spec.py"
DEFAULT_MAP_DIR = "/tmp/pyx12venv/lib/python3.11/site-packages/pyx12/map"
ICVN = "00501"

# What `--all` generates: output name, map file maps.xml should register, and the GS08 we
# look the map up by. GS01/GS08 come from maps.xml; the overrides are for maps it does not
# register (pyx12 ships 277.5010.X212.xml but never registers it).
ALL_SPECS = [
    ("837P.005010X222A1.spec", "837.5010.X222.A1.xml", "005010X222A1", None),
    ("837I.005010X223A2.spec", "837Q3.I.5010.X223.A1.xml", "005010X223A2", None),
    ("834.005010X220A1.spec", "834.5010.X220.A1.xml", "005010X220A1", None),
    ("835.005010X221A1.spec", "835.5010.X221.A1.xml", "005010X221A1", None),
    ("999.005010X231A1.spec", "999.5010X231.A1.xml", "005010X231A1", None),
    ("277.005010X212.spec", "277.5010.X212.xml", "005010X212", ("HN", "005010X212")),
    ("277CA.005010X214.spec", "277.5010.X214.xml", "005010X214", None),
    ("820.005010X218.spec", "820.5010.X218.xml", "005010X218", None),
]

# Specs whose generated text was corrected by hand afterwards (the header lists the corrections).
# `--all` does not overwrite one while its header carries HAND_CORRECTED_MARK: pyx12's
# 277.5010.X212.xml nests its HL loops wrongly (2000B at HL's pos, 2000C/D/E in wrapper loops).
HAND_CORRECTED = {"277.005010X212.spec"}
HAND_CORRECTED_MARK = "hand-corrected after generation"

# Tags and attributes we know how to carry over, per node kind. `name`, `usage`, ... can be
# child elements (v1 maps) or attributes (map.v2.xsd), as pyx12 accepts both.
KNOWN = {
    "loop": {"name", "usage", "pos", "repeat", "type", "xid", "loop", "segment"},
    "segment": {"name", "usage", "pos", "max_use", "type", "xid", "syntax", "element", "composite"},
    "composite": {"name", "usage", "seq", "data_ele", "repeat", "xid", "element"},
    "element": {"name", "usage", "seq", "data_ele", "repeat", "max_use", "xid", "valid_codes", "regex"},
}


def fail(msg):
    sys.exit(f"pyx12_to_spec: {msg}")


def field(node, key):
    """Value of a map field, whether written as attribute or child element (like pyx12)."""
    v = node.get(key)
    if v is None:
        v = node.findtext(key)
    # The maps are xsd:token fields: collapse whitespace so a wrapped name stays one line.
    return None if v is None else " ".join(v.split())


def check_known(node, where):
    for key in list(node.attrib) + [c.tag for c in node]:
        if key not in KNOWN[node.tag] and not key.startswith("{"):  # xsi:* attributes
            fail(f"{where}: unsupported <{node.tag}> field '{key}'")


def q(text, where):
    """A double-quoted token; the format has no escapes, so refuse what cannot be written."""
    if text is None or '"' in text or "\n" in text:
        fail(f"{where}: cannot quote {text!r}")
    return f'"{text}"'


def attr(key, value, where):
    """An optional key=value token, whole token quoted when the value has a space."""
    tok = f"{key}={value}"
    return q(tok, where) if (" " in value or key == "re") else tok


def pos_num(node, where):
    p = field(node, "pos")
    if not p or not p.isdigit():
        fail(f"{where}: bad pos {p!r}")
    return str(int(p))  # drop leading zeros, keep the value


def count(node, key, where):
    """Loop repeat / segment max_use: a number or '>1'."""
    v = field(node, key)
    if v in (None, ""):
        fail(f"{where}: missing {key}")
    if v != ">1" and not v.isdigit():
        fail(f"{where}: bad {key} {v!r}")
    return v


def emit_element(e, refdes, depth, out):
    where = refdes
    check_known(e, where)
    xid = e.get("xid")
    if xid and xid != refdes:  # the spec derives the refdes from position; make sure that holds
        fail(f"{where}: xid {xid} does not match its position")
    parts = ["ele", field(e, "seq"), field(e, "data_ele"), field(e, "usage"), q(field(e, "name"), where)]
    vc = e.find("valid_codes")
    if vc is not None:
        for k in vc.attrib:
            if k != "external":
                fail(f"{where}: unsupported valid_codes attribute {k}")
        codes = [(c.text or "").strip() for c in vc]
        if any(c.tag != "code" for c in vc) or any(not c or "|" in c for c in codes):
            fail(f"{where}: code list cannot be written: {codes}")
        # An empty <valid_codes/> restricts nothing in pyx12, so writing nothing is equivalent.
        if codes:
            parts.append(attr("codes", "|".join(codes), where))
        if vc.get("external"):
            parts.append(attr("ext", vc.get("external"), where))
    rep = field(e, "repeat") or field(e, "max_use")
    if rep:
        parts.append(attr("rep", rep, where))
    regex = e.findtext("regex")
    if regex:
        parts.append(attr("re", regex, where))
    out.append("  " * depth + " ".join(parts))


def emit_segment(s, depth, out, path):
    sid = s.get("xid")
    where = f"{path}/{sid}"
    check_known(s, where)
    parts = ["seg", sid, field(s, "usage"), pos_num(s, where), count(s, "max_use", where), q(field(s, "name"), where)]
    if s.get("type"):
        parts.append(attr("type", s.get("type"), where))
    out.append("  " * depth + " ".join(parts))
    for c in s:  # document order: syntax notes, then elements/composites as the map lists them
        if c.tag == "syntax":
            rule = (c.text or "").strip()
            if not re.fullmatch(r"[PRECL](\d\d){2,20}", rule):
                fail(f"{where}: bad syntax rule {rule!r}")
            out.append("  " * (depth + 1) + f"syntax {rule}")
        elif c.tag == "element":
            emit_element(c, sid + field(c, "seq"), depth + 1, out)
        elif c.tag == "composite":
            seq = field(c, "seq")
            cwhere = f"{where}{seq}"
            check_known(c, cwhere)
            if c.get("xid") and c.get("xid") != sid + seq:
                fail(f"{cwhere}: composite xid {c.get('xid')} does not match its position")
            parts = ["comp", seq, field(c, "data_ele"), field(c, "usage"), q(field(c, "name"), cwhere)]
            if field(c, "repeat"):
                parts.append(attr("rep", field(c, "repeat"), cwhere))
            out.append("  " * (depth + 1) + " ".join(parts))
            for e in c:
                if e.tag == "element":
                    emit_element(e, f"{sid}{seq}-{field(e, 'seq')}", depth + 2, out)


def emit_nodes(nodes, depth, out, path, notes):
    order = [int(field(n, "pos")) for n in nodes if n.tag in ("loop", "segment")]
    if order != sorted(order):  # kept as in the map, but the engine should know
        notes.append(f"children of {path} are not in ascending pos order: "
                     + ", ".join(f"{n.get('xid')}@{int(field(n, 'pos'))}" for n in nodes if n.tag in ("loop", "segment")))
    for n in nodes:
        if n.tag == "segment":
            emit_segment(n, depth, out, path)
        elif n.tag == "loop":
            lid = n.get("xid")
            where = f"{path}/{lid}"
            check_known(n, where)
            parts = ["loop", lid, field(n, "usage"), pos_num(n, where), count(n, "repeat", where), q(field(n, "name"), where)]
            if n.get("type"):
                parts.append(attr("type", n.get("type"), where))
            out.append("  " * depth + " ".join(parts))
            emit_nodes(list(n), depth + 1, out, where, notes)


def st_content(root):
    """Children of ST_LOOP (ST .. SE), plus notes on anything we had to move.

    pyx12's 277.5010.X212.xml puts FOOTER and SE in a wrapper loop (TABLE2AREA3) that is a
    sibling of ST_LOOP inside GS_LOOP. The SE belongs to the transaction set, so we take the
    contents of such trailing wrappers into the ST content and drop the misplaced wrapper."""
    parent_of = {c: p for p in root.iter() for c in p}
    st = next((l for l in root.iter("loop") if l.get("xid") == "ST_LOOP"), None)
    if st is None:
        fail("map has no ST_LOOP")
    nodes = [c for c in st if c.tag in ("loop", "segment")]
    notes = []
    if not any(n.tag == "segment" and n.get("xid") == "SE" for n in nodes):
        sibs = list(parent_of[st])
        for w in sibs[sibs.index(st) + 1:]:
            if w.tag == "loop" and w.get("type") == "wrapper" and any(s.get("xid") == "SE" for s in w.iter("segment")):
                moved = [c for c in w if c.tag in ("loop", "segment")]
                nodes += moved
                notes.append(f"map bug: SE is outside ST_LOOP, in wrapper loop {w.get('xid')} "
                             f"(repeat {field(w, 'repeat')!r}) under {parent_of[st].get('xid')}; its contents "
                             f"({', '.join(c.get('xid') for c in moved)}) are moved to the end of the ST content "
                             f"and the wrapper itself is dropped")
    if not nodes or nodes[0].get("xid") != "ST" or nodes[-1].get("xid") != "SE":
        fail("ST content does not run from ST to SE")
    return nodes, notes


def lookup_maps_xml(map_path):
    """maps.xml entries for icvn 00501 that register this map file: [(vriic, fic, abbr)]."""
    mx = Path(map_path).parent / "maps.xml"
    if not mx.exists():
        return []
    hits = []
    for ver in ET.parse(mx).getroot().iter("version"):
        if ver.get("icvn") == ICVN:
            for m in ver.iter("map"):
                if (m.text or "").strip() == Path(map_path).name:
                    hits.append((m.get("vriic"), m.get("fic"), m.get("abbr")))
    return hits


def pyx12_version(map_path):
    v = Path(map_path).resolve().parent.parent / "version.py"
    m = v.exists() and re.search(r'__version__\s*=\s*"([^"]+)"', v.read_text())
    return m.group(1) if m else "4.0.0"


def default_title(name):
    # "HIPAA Health Care Claim: Professional X222A1-837" -> "Health Care Claim: Professional"
    words = name.removeprefix("HIPAA ").split()
    while words and re.search(r"\d", words[-1]):
        words.pop()
    return " ".join(words)


def convert_map(map_path, gs01=None, version=None, title=None, out_name=None, extra_notes=()):
    root = ET.parse(map_path).getroot()
    name = field(root, "name") or ""
    st_seg = next(s for s in root.iter("segment") if s.get("xid") == "ST")
    st01 = [c.text for c in st_seg.find("element").iter("code")]
    if len(st01) != 1:
        fail(f"{map_path}: ST01 must have exactly one code, has {st01}")
    notes = list(extra_notes)
    hits = lookup_maps_xml(map_path)
    if gs01 and version:
        src = "given on the command line"
        notes.append(f"maps.xml (icvn {ICVN}) registers this map for: "
                     + (", ".join(f"{v} {f}" for v, f, _ in hits) or "nothing (not registered)"))
    elif len(hits) == 1:
        version, gs01, abbr = hits[0]
        src = f"maps.xml (icvn {ICVN}, abbr {abbr})"
    else:
        fail(f"{map_path}: maps.xml registers it {len(hits)} times for icvn {ICVN}; pass --gs01 and --version")
    # The map's own GS envelope names a GS01/GS08 too; flag it when it disagrees.
    gs = {e.get("xid"): [c.text for c in e.iter("code")] for s in root.iter("segment")
          if s.get("xid") == "GS" for e in s.iter("element")}
    if gs and (gs.get("GS01") != [gs01] or gs.get("GS08") != [version]):
        notes.append(f"the map's own GS segment allows GS01 {gs.get('GS01')} / GS08 {gs.get('GS08')}, "
                     f"not {gs01} / {version}")
    nodes, move_notes = st_content(root)
    notes += move_notes
    body = []
    emit_nodes(nodes, 0, body, "ST_LOOP", notes)

    out = []
    if out_name:
        out.append(f"# {out_name}")
    out += [
        f"# Source map: {Path(map_path).name} (\"{name}\"), pyx12 {pyx12_version(map_path)}",
        f"# GS01 {gs01} / version {version}: {src}",
        *[f"# Note: {n}" for n in notes],
        "# Derived from the pyx12 maps (BSD licence, Copyright John Holland); see specs/NOTICE.",
        f"# generated by {TOOL}; do not edit by hand",
        "",
        f"transaction {st01[0]} {gs01} {version} {q(title or default_title(name), 'title')}",
    ]
    return "\n".join(out + body) + "\n"


def convert_dataele(path, out_name=None):
    root = ET.parse(path).getroot()
    entries, notes = {}, []
    for d in root.iter("data_ele"):
        rec = (d.get("data_type"), int(d.get("min_len")), int(d.get("max_len")), " ".join(d.get("name").split()))
        num = d.get("ele_num")
        if num in entries:  # pyx12 keeps the last definition; say whether it mattered
            notes.append(f"{num} is defined twice" + (" (identically)" if entries[num] == rec else f": {entries[num]} vs {rec}; last kept"))
        entries[num] = rec
    out = [f"# {out_name}"] if out_name else []
    out += [f"# Source: {Path(path).name}, pyx12 {pyx12_version(path)}",
            *[f"# Note: {n}" for n in notes],
            "# Derived from the pyx12 maps (BSD licence, Copyright John Holland); see specs/NOTICE.",
            f"# generated by {TOOL}; do not edit by hand",
            "# <id> <type> <min> <max> \"<name>\""]
    out += [f"{k} {t} {lo} {hi} {q(n, k)}" for k, (t, lo, hi, n) in entries.items()]
    return "\n".join(out) + "\n"


def generate_all(spec_dir, map_dir):
    spec_dir, map_dir = Path(spec_dir), Path(map_dir)
    registered = {}
    for ver in ET.parse(map_dir / "maps.xml").getroot().iter("version"):
        if ver.get("icvn") == ICVN:
            for m in ver.iter("map"):
                registered.setdefault(m.get("vriic"), (m.text or "").strip())
    for out_name, plain, vriic, override in ALL_SPECS:
        notes, chosen = [], plain
        if vriic in registered and registered[vriic] != plain:
            # e.g. a .v2.xml variant: use what pyx12 itself would load for this GS08
            chosen = registered[vriic]
            notes.append(f"maps.xml registers {chosen} (not {plain}) for {vriic}; using it")
        gs01, version = override or (None, None)
        target = spec_dir / out_name
        if out_name in HAND_CORRECTED and target.exists() and HAND_CORRECTED_MARK in target.read_text():
            print(f"skipped {target}: {HAND_CORRECTED_MARK}; to regenerate it, run {TOOL} {map_dir / chosen}"
                  + (f" --gs01 {gs01} --version {version}" if override else "")
                  + " -o FILE and reapply the corrections listed in its header", file=sys.stderr)
            continue
        text = convert_map(map_dir / chosen, gs01, version, out_name=out_name, extra_notes=notes)
        (spec_dir / out_name).write_text(text)
        print(f"wrote {spec_dir / out_name} from {chosen}", file=sys.stderr)
    (spec_dir / "elements.dict").write_text(convert_dataele(map_dir / "dataele.xml", "elements.dict"))
    print(f"wrote {spec_dir / 'elements.dict'}", file=sys.stderr)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("map", nargs="?", help="pyx12 map XML file")
    ap.add_argument("-o", "--output", help="write here instead of stdout")
    ap.add_argument("--dataele", help="convert this dataele.xml to elements.dict")
    ap.add_argument("--gs01", help="GS01 for maps not registered in maps.xml")
    ap.add_argument("--version", dest="ver", help="GS08/ST03 for maps not registered in maps.xml")
    ap.add_argument("--title", help="transaction title (default: from the map's name)")
    ap.add_argument("--all", metavar="SPECDIR", help="regenerate every spec we ship into SPECDIR")
    ap.add_argument("--map-dir", default=DEFAULT_MAP_DIR, help="pyx12 map folder for --all")
    a = ap.parse_args()
    if a.all:
        return generate_all(a.all, a.map_dir)
    if a.dataele:
        text = convert_dataele(a.dataele, Path(a.output).name if a.output else None)
    elif a.map:
        if bool(a.gs01) != bool(a.ver):
            fail("--gs01 and --version go together")
        text = convert_map(a.map, a.gs01, a.ver, a.title, Path(a.output).name if a.output else None)
    else:
        ap.error("give a map file, --dataele or --all")
    if a.output:
        Path(a.output).write_text(text)
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main()
