#!/usr/bin/env python3
"""Normalize an X12 999 / TA1 acknowledgment into a comparable dict.

One normalizer for both sides of the differential test: pyx12's ack (see
pyx12_verdicts.py) and the Rust gateway's ack are both run through
``normalize()`` and the resulting dicts are compared.

Normalized form::

    {
      "ta1": {"ack": "A"|"E"|"R", "note": "000".."031"} | null,
      "groups": [                       # one entry per 999 transaction set (one per acked GS)
        {
          "ak1": [GS01, GS06, GS08],    # AK101..AK103 ("" when absent)
          "ak9": [AK901, AK905, ...],   # ack code, then the group error codes, sorted
          "ak9_counts": [AK902, AK903, AK904],   # ints, null when absent/non-numeric
          "sets": [
            {
              "st": [ST01, ST02],       # AK201, AK202
              "ik5": [IK501, IK502, ...],   # ack code, then the set error codes, sorted
              "segments": [             # one entry per IK3, in file order
                {"id": IK301, "pos": int IK302, "loop": IK303 or "", "code": IK304 or "",
                 "elements": [          # the IK4s that follow this IK3
                   {"pos": "2" | "5:2" | "5:2:1", "ref": IK402 or "", "code": IK403}
                 ]}
              ]
            }
          ]
        }
      ]
    }

Things deliberately dropped: ISA/GS/ST envelope of the ack itself (control
numbers, dates, sender/receiver), IK404 (copy of bad data), all CTX segments.
If a file holds several TA1 segments, "ta1" is the first one and the rest are in
"ta1_more" (present only in that case).

Delimiters are taken from the ISA when the text starts with one (element =
ISA[3], component = ISA16, segment terminator = the character after ISA16);
otherwise they are guessed (element separator = first non-alphanumeric
character, terminator = "~" or newline). A UTF-8 BOM, CR/LF and leading
whitespace around segments are tolerated.

CLI: ``python ack999.py FILE`` prints the normalized JSON.
"""

from __future__ import annotations

import json
import re
import sys
from typing import Any

__all__ = ["normalize", "split_segments", "merge_segments", "code_sort_key"]


def code_sort_key(code: str) -> tuple[int, int, str]:
    """Sort numeric codes numerically, then alphanumeric codes (I5, I6, ...)."""
    if code.isdigit():
        return (0, int(code), code)
    m = re.fullmatch(r"([A-Z]+)(\d+)", code)
    if m:
        return (1, int(m.group(2)), m.group(1))
    return (2, 0, code)


def _detect_delimiters(text: str) -> tuple[str, str, str]:
    """Return (element separator, component separator, segment terminator)."""
    if text.startswith("ISA") and len(text) >= 4:
        elem = text[3]
        # Walk the 16 ISA elements instead of trusting fixed offsets, so that an
        # unpadded (non-106-char) ISA still works.
        count = 0
        i = 3
        while i < len(text) and count < 16:
            if text[i] == elem:
                count += 1
            i += 1
        # text[i] is ISA16 (component separator), text[i+1] the terminator
        if count == 16 and i + 1 < len(text):
            comp = text[i]
            term = text[i + 1]
            if term in "\r\n":
                term = "\n"
            return elem, comp, term
    m = re.search(r"[^A-Za-z0-9]", text)
    elem = m.group(0) if m else "*"
    term = "~" if "~" in text and elem != "~" else "\n"
    return elem, ":", term


def split_segments(text: str) -> tuple[list[list[str]], str]:
    """Split X12 text into segments (lists of elements). Returns (segments, component sep)."""
    text = text.lstrip("\ufeff").lstrip()
    if not text:
        return [], ":"
    elem, comp, term = _detect_delimiters(text)
    if term == "\n":
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    segs = []
    for raw in text.split(term):
        raw = raw.strip("\r\n\t ")
        if not raw:
            continue
        segs.append(raw.split(elem))
    return segs, comp


def _get(seg: list[str], i: int) -> str:
    return seg[i].strip() if i < len(seg) else ""


def _int_or_none(v: str) -> int | None:
    v = v.strip()
    if v.lstrip("-").isdigit():
        return int(v)
    return None


def _codes(seg: list[str], ack_idx: int, first_err: int, last_err: int) -> list[str]:
    """[ack code] + sorted non-empty error codes from elements first_err..last_err."""
    errs = [_get(seg, i) for i in range(first_err, last_err + 1)]
    return [_get(seg, ack_idx)] + sorted((e for e in errs if e), key=code_sort_key)


def normalize(text: str) -> dict[str, Any]:
    """Normalize the 999 and TA1 content of an X12 text (see module docstring)."""
    segs, comp = split_segments(text)
    out: dict[str, Any] = {"ta1": None, "groups": []}
    ta1s = []
    group: dict[str, Any] | None = None
    cur_set: dict[str, Any] | None = None
    cur_seg: dict[str, Any] | None = None
    for seg in segs:
        sid = seg[0].strip().upper()
        if sid == "TA1":
            ta1s.append({"ack": _get(seg, 4), "note": _get(seg, 5)})
        elif sid == "AK1":
            group = {
                "ak1": [_get(seg, 1), _get(seg, 2), _get(seg, 3)],
                "ak9": None,
                "ak9_counts": None,
                "sets": [],
            }
            out["groups"].append(group)
            cur_set = None
            cur_seg = None
        elif sid == "AK2":
            if group is None:  # malformed: AK2 before AK1
                group = {"ak1": ["", "", ""], "ak9": None, "ak9_counts": None, "sets": []}
                out["groups"].append(group)
            cur_set = {"st": [_get(seg, 1), _get(seg, 2)], "ik5": None, "segments": []}
            group["sets"].append(cur_set)
            cur_seg = None
        elif sid == "IK3":
            if cur_set is None:
                continue
            pos = _int_or_none(_get(seg, 2))
            cur_seg = {
                "id": _get(seg, 1),
                "pos": pos if pos is not None else _get(seg, 2),
                "loop": _get(seg, 3),
                "code": _get(seg, 4),
                "elements": [],
            }
            cur_set["segments"].append(cur_seg)
        elif sid == "IK4":
            if cur_seg is None:
                continue
            parts = [p.strip() for p in _get(seg, 1).split(comp)]
            while len(parts) > 1 and parts[-1] == "":
                parts.pop()
            cur_seg["elements"].append(
                {"pos": ":".join(parts), "ref": _get(seg, 2), "code": _get(seg, 3)}
            )
        elif sid == "IK5":
            if cur_set is not None:
                cur_set["ik5"] = _codes(seg, 1, 2, 6)
            cur_seg = None
        elif sid == "AK9":
            if group is not None:
                group["ak9"] = _codes(seg, 1, 5, 9)
                group["ak9_counts"] = [_int_or_none(_get(seg, i)) for i in (2, 3, 4)]
            cur_set = None
            cur_seg = None
        elif sid in ("SE", "GE", "IEA", "ST", "GS", "ISA", "CTX"):
            if sid == "ST":
                cur_set = None
                cur_seg = None
            continue
    if ta1s:
        out["ta1"] = ta1s[0]
        if len(ta1s) > 1:
            out["ta1_more"] = ta1s[1:]
    return out


def merge_segments(ack_set: dict[str, Any]) -> list[dict[str, Any]]:
    """Merge IK3 entries that refer to the same segment (same id and position).

    pyx12 writes one IK3 per distinct IK304 for a segment (in hash order) and
    attaches all IK4s to the last one; an implementation that writes a single
    IK3 per segment is equivalent. Returns a list of
    {"id", "pos", "loop", "codes": sorted list, "elements": sorted list} ordered
    by position.
    """
    merged: dict[tuple[str, Any], dict[str, Any]] = {}
    for s in ack_set.get("segments", []):
        key = (s["id"], s["pos"])
        m = merged.setdefault(
            key, {"id": s["id"], "pos": s["pos"], "loop": s["loop"], "codes": [], "elements": []}
        )
        if s["code"] and s["code"] not in m["codes"]:
            m["codes"].append(s["code"])
        if s["loop"] and not m["loop"]:
            m["loop"] = s["loop"]
        for e in s["elements"]:
            if e not in m["elements"]:
                m["elements"].append(e)
    res = list(merged.values())
    for m in res:
        m["codes"].sort(key=code_sort_key)
        m["elements"].sort(key=lambda e: (e["pos"], e["ref"], code_sort_key(e["code"])))
    res.sort(key=lambda m: (m["pos"] if isinstance(m["pos"], int) else 10**9, m["id"]))
    return res


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[1] in ("-h", "--help"):
        sys.stderr.write("usage: python ack999.py FILE   (prints the normalized 999/TA1 as JSON)\n")
        return 2
    with open(argv[1], encoding="utf-8", errors="replace", newline="") as f:
        text = f.read()
    json.dump(normalize(text), sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
