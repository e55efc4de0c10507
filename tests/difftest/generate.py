#!/usr/bin/env python3
"""Generate valid base X12 files and single-fault mutants for the pyx12 differential test.

Usage:
    python generate.py --out DIR [--seed N] [--no-check]

Writes into DIR:
  * base files (valid 837P 005010X222A1, 837I 005010X223A2, 834 005010X220A1;
    fictitious but realistic data) named ``<txn>_base_<shape>.x12``;
  * single-fault mutants named ``<txn>_m<NNN>_<category>.x12``;
  * ``manifest.json``: a list of {"file", "txn", "category", "detail", "base"}
    (category "base" for the base files; "base" is the file a mutant came from).

Every base file is validated with pyx12 (in-process, external code sets skipped)
before anything is written; if pyx12 reports anything at all the script stops
with exit status 1. Use --no-check to skip that (e.g. without pyx12).

Output is deterministic for a given --seed (default 1): the seed picks the
fictitious data in the bases and which segment / value each mutation hits.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

TXN_VERSION = {"837P": "005010X222A1", "837I": "005010X223A2", "834": "005010X220A1"}
TXN_GS01 = {"837P": "HC", "837I": "HC", "834": "BE"}
TXN_ST01 = {"837P": "837", "837I": "837", "834": "834"}


# ---------------------------------------------------------------------------
# Document model
# ---------------------------------------------------------------------------
# A document is a list of segments; a segment is a list of strings (seg[0] is the
# segment ID). Inside element values ':' stands for the component separator and
# '^' for the repetition separator; render() maps them to the document's real
# delimiters, so mutations never need to know which delimiters a base uses.


@dataclass
class Doc:
    segs: list[list[str]]
    elem: str = "*"
    comp: str = ":"
    rep: str = "^"
    term: str = "~"
    eol: str = "\n"

    def copy(self) -> Doc:
        return Doc([list(s) for s in self.segs], self.elem, self.comp, self.rep, self.term, self.eol)

    def render(self) -> str:
        table = str.maketrans({":": self.comp, "^": self.rep})
        out = []
        for seg in self.segs:
            out.append(self.elem.join(v.translate(table) for v in seg) + self.term + self.eol)
        return "".join(out)


def el(seg: list[str], i: int) -> str:
    return seg[i] if i < len(seg) else ""


def set_el(seg: list[str], i: int, v: str) -> None:
    while len(seg) <= i:
        seg.append("")
    seg[i] = v
    while len(seg) > 1 and seg[-1] == "":  # no trailing empty elements
        seg.pop()


def comp_of(seg: list[str], i: int, j: int) -> str:
    parts = el(seg, i).split(":")
    return parts[j - 1] if j - 1 < len(parts) else ""


def set_comp(seg: list[str], i: int, j: int, v: str) -> None:
    parts = el(seg, i).split(":")
    while len(parts) < j:
        parts.append("")
    parts[j - 1] = v
    while len(parts) > 1 and parts[-1] == "":
        parts.pop()
    set_el(seg, i, ":".join(parts))


# ---------------------------------------------------------------------------
# Fictitious data
# ---------------------------------------------------------------------------

LAST = [
    "HALVORSEN", "OKAFOR", "BRANDT", "NAKAMURA", "DELACRUZ", "FITZGERALD", "KOWALCZYK",
    "ABERNATHY", "SANTIAGO", "LINDQVIST", "MBEKI", "CALLOWAY", "PRZYBYLSKI", "ODONNELL",
    "VASQUEZ", "TREMBLAY", "ASHWORTH", "BELLAMY", "QUINTERO", "YAMADA",
]
FIRST_F = ["MARGARET", "AISHA", "LENA", "PRIYA", "ROSALIND", "HANNAH", "CLARA", "NOOR", "IMOGEN", "TERESA"]
FIRST_M = ["THEODORE", "MARCUS", "EMEKA", "JONAS", "RAFAEL", "DMITRI", "HOWARD", "KENJI", "OSCAR", "WENDELL"]
MIDDLE = ["A", "J", "L", "M", "R", "T", "K"]
STREETS = [
    "48 ALDER LANE", "1200 MAIN STREET", "77 HAWTHORNE AVENUE", "905 LINCOLN WAY", "3316 CEDAR CREST DRIVE",
    "16 QUARRY ROAD", "2471 WILLOW BEND COURT", "610 HARBOR VIEW PLACE", "88 ORCHARD STREET", "1450 SUMMIT BOULEVARD",
]
CITIES = [
    ("PORTLAND", "OR", "97201"), ("SALEM", "OR", "97301"), ("BOISE", "ID", "83702"),
    ("SPOKANE", "WA", "99201"), ("TACOMA", "WA", "98402"), ("EUGENE", "OR", "97401"),
    ("MADISON", "WI", "53703"), ("DAYTON", "OH", "45402"), ("ALBANY", "NY", "12207"),
    ("FRESNO", "CA", "93721"),
]
PAYERS = [
    ("EVERGREEN HEALTH PLAN", "EVGHP01"), ("BLUE HERON MUTUAL", "BHM7731"),
    ("PINNACLE CARE INSURANCE", "PCI44120"), ("NORTHSTAR BENEFIT TRUST", "NSBT0092"),
]
CLINICS = [
    ("CASCADE FAMILY MEDICINE", "207Q00000X"), ("RIVERBEND PEDIATRICS", "208000000X"),
    ("SUMMIT INTERNAL MEDICINE", "207R00000X"), ("LAKESHORE ORTHOPEDIC GROUP", "207X00000X"),
]
HOSPITALS = ["MERCY VALLEY HOSPITAL", "LAKESIDE REGIONAL MEDICAL CENTER", "ST BRIGID COMMUNITY HOSPITAL"]
SUBMITTERS = [("NORTHWIND BILLING SERVICES", "NWB1234"), ("CLEARPATH CLAIMS", "CPC0088"), ("BAYVIEW RCM", "BVR5521")]
SPONSORS = ["NORTHWIND LOGISTICS INC", "ALDER CREEK SCHOOL DISTRICT", "GRANITE PEAK MANUFACTURING"]
CPT = [
    ("99213", "125.00"), ("99214", "185.00"), ("87880", "38.50"), ("36415", "12.00"), ("81002", "9.75"),
    ("90471", "25.00"), ("90686", "42.00"), ("97110", "68.00"), ("93000", "55.00"), ("85025", "22.40"),
]
ICD10 = ["J069", "R509", "E119", "I10", "M545", "Z0000", "J029", "K219", "F419", "N390", "R051", "Z23", "E785"]
REV_OUTPATIENT = [("0450", "99283", "640.00"), ("0300", "80053", "95.00"), ("0320", "71046", "210.00"),
                  ("0730", "93005", "118.00"), ("0636", "J1885", "36.25"), ("0301", "85025", "41.00")]


def luhn_npi(base9: str) -> str:
    """NPI = 9 digits + check digit computed with the Luhn formula over '80840' + base9."""
    digits = [int(c) for c in "80840" + base9]
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2 == 0:  # rightmost payload digit is doubled (check digit is appended after it)
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return base9 + str((10 - total % 10) % 10)


def npi_is_valid(npi: str) -> bool:
    return len(npi) == 10 and npi.isdigit() and luhn_npi(npi[:9]) == npi


class Fake:
    """Deterministic fictitious data source."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self._used: set[str] = set()

    def pick(self, seq):  # noqa: ANN001
        return self.rng.choice(seq)

    def digits(self, n: int) -> str:
        return "".join(self.rng.choice("0123456789") for _ in range(n))

    def unique(self, make: Callable[[], str]) -> str:
        for _ in range(1000):
            v = make()
            if v not in self._used:
                self._used.add(v)
                return v
        raise RuntimeError("could not make a unique value")

    def npi(self) -> str:
        return self.unique(lambda: luhn_npi(self.rng.choice("12") + self.digits(8)))

    def ein(self) -> str:
        return self.unique(lambda: self.rng.choice("123456789") + self.digits(8))

    def ssn(self) -> str:
        # 9xx area numbers are never issued, so these cannot be real SSNs
        return self.unique(lambda: "9" + self.digits(8))

    def member_id(self, prefix: str) -> str:
        return self.unique(lambda: prefix + self.digits(9))

    def person(self, sex: str | None = None) -> dict[str, str]:
        sex = sex or self.rng.choice("FM")
        first = self.pick(FIRST_F if sex == "F" else FIRST_M)
        return {"last": self.pick(LAST), "first": first, "middle": self.pick(MIDDLE), "sex": sex}

    def address(self) -> tuple[str, str, str, str]:
        city, st, zip5 = self.pick(CITIES)
        return self.pick(STREETS), city, st, zip5 + self.digits(4)

    def dob(self, lo: int = 1950, hi: int = 2000) -> str:
        y = self.rng.randint(lo, hi)
        m = self.rng.randint(1, 12)
        d = self.rng.randint(1, 28)
        return f"{y:04d}{m:02d}{d:02d}"

    def phone(self) -> str:
        return self.rng.choice(["503", "541", "208", "509", "608"]) + "555" + self.digits(4)


def money(v: Decimal, style: str) -> str:
    """style 'fixed' -> 125.00, 'x12' -> 125 / 62.5 (no trailing zeros)."""
    if style == "fixed":
        return f"{v:.2f}"
    s = f"{v:.2f}".rstrip("0").rstrip(".")
    return s or "0"


# ---------------------------------------------------------------------------
# Envelope
# ---------------------------------------------------------------------------


@dataclass
class Env:
    isa13: str
    date: str  # CCYYMMDD
    time: str  # HHMM
    sender: str = "HTSSUBMIT01"
    receiver: str = "HTSGATEWAY"
    isa14: str = "1"
    isa15: str = "T"


def isa(env: Env) -> list[str]:
    return [
        "ISA", "00", " " * 10, "00", " " * 10, "ZZ", env.sender.ljust(15), "ZZ", env.receiver.ljust(15),
        env.date[2:], env.time, "^", "00501", env.isa13, env.isa14, env.isa15, ":",
    ]


def interchange(env: Env, txn: str, groups: list[tuple[str, list[list[list[str]]]]]) -> list[list[str]]:
    """groups: [(GS06, [st_body, ...]), ...]; st_body = segments between ST and SE."""
    segs = [isa(env)]
    for gs06, bodies in groups:
        segs.append(["GS", TXN_GS01[txn], env.sender, env.receiver, env.date, env.time, gs06, "X", TXN_VERSION[txn]])
        for n, body in enumerate(bodies, 1):
            st02 = f"{int(gs06) % 1000:03d}{n}".rjust(4, "0")
            segs.append(["ST", TXN_ST01[txn], st02, TXN_VERSION[txn]])
            segs.extend(body)
            segs.append(["SE", str(len(body) + 2), st02])
        segs.append(["GE", str(len(bodies)), gs06])
    segs.append(["IEA", str(len(groups)), env.isa13])
    return segs


# ---------------------------------------------------------------------------
# 837P bases
# ---------------------------------------------------------------------------


@dataclass
class Ctx:
    fake: Fake
    env: Env
    style: str = "fixed"
    payer: tuple[str, str] = ("", "")
    submitter: tuple[str, str] = ("", "")


def header_837(c: Ctx, bht03: str, inst: bool) -> list[list[str]]:
    sub_name, sub_id = c.submitter
    contact = c.fake.person()
    return [
        ["BHT", "0019", "00", bht03, c.env.date, c.env.time, "CH"],
        ["NM1", "41", "2", sub_name, "", "", "", "", "46", sub_id],
        ["PER", "IC", f"{contact['first']} {contact['last']}", "TE", c.fake.phone()]
        + ([] if inst else ["EM", f"EDI@{sub_id}.EXAMPLE"]),
        ["NM1", "40", "2", c.payer[0], "", "", "", "", "46", c.payer[1]],
    ]


def billing_837p(c: Ctx, hl: int) -> list[list[str]]:
    name, taxo = c.fake.pick(CLINICS)
    street, city, st, zip9 = c.fake.address()
    return [
        ["HL", str(hl), "", "20", "1"],
        ["PRV", "BI", "PXC", taxo],
        ["NM1", "85", "2", name, "", "", "", "", "XX", c.fake.npi()],
        ["N3", street, "SUITE " + c.fake.digits(3)],
        ["N4", city, st, zip9],
        ["REF", "EI", c.fake.ein()],
    ]


def subscriber_name(c: Ctx, p: dict[str, str], member: str, with_addr: bool) -> list[list[str]]:
    segs = [["NM1", "IL", "1", p["last"], p["first"], p["middle"], "", "", "MI", member]]
    if with_addr:
        street, city, st, zip9 = c.fake.address()
        segs += [["N3", street], ["N4", city, st, zip9], ["DMG", "D8", c.fake.dob(), p["sex"]]]
    return segs


def payer_name(c: Ctx) -> list[list[str]]:
    return [["NM1", "PR", "2", c.payer[0], "", "", "", "", "PI", c.payer[1]]]


def claim_837p(c: Ctx, nlines: int, svc_date: str, rendering: bool = False, facility: bool = False,
               range_line: int | None = None, prior_auth: bool = False) -> list[list[str]]:
    f = c.fake
    lines = f.rng.sample(CPT, nlines)
    total = sum(Decimal(p) for _, p in lines)
    dx = f.rng.sample(ICD10, 3)
    pcn = f.unique(lambda: "PCN" + f.digits(7))
    segs = [
        ["CLM", pcn, money(total, c.style), "", "", "11:B:1", "Y", "A", "Y", "Y"],
    ]
    if prior_auth:
        segs.append(["REF", "G1", "PA" + f.digits(8)])
    segs.append(["HI", "ABK:" + dx[0], "ABF:" + dx[1], "ABF:" + dx[2]])
    if rendering:
        p = f.person()
        segs += [["NM1", "82", "1", p["last"], p["first"], "", "", "", "XX", f.npi()],
                 ["PRV", "PE", "PXC", f.pick(CLINICS)[1]]]
    if facility:
        street, city, st, zip9 = f.address()
        segs += [["NM1", "77", "2", f.pick(CLINICS)[0] + " ANNEX", "", "", "", "", "XX", f.npi()],
                 ["N3", street], ["N4", city, st, zip9]]
    for n, (code, price) in enumerate(lines, 1):
        ptr = "1:2" if n == 1 else str(f.rng.randint(1, 3))
        segs.append(["LX", str(n)])
        segs.append(["SV1", "HC:" + code, money(Decimal(price), c.style), "UN", "1", "", "", ptr])
        if range_line == n:
            segs.append(["DTP", "472", "RD8", f"{svc_date}-{svc_date[:6]}{int(svc_date[6:]) + 2:02d}"])
        else:
            segs.append(["DTP", "472", "D8", svc_date])
    return segs


def ctx_for(fake: Fake, env: Env, style: str) -> Ctx:
    return Ctx(fake=fake, env=env, style=style, payer=fake.pick(PAYERS), submitter=fake.pick(SUBMITTERS))


def svc_date(fake: Fake, env: Env) -> str:
    return env.date[:6] + f"{fake.rng.randint(1, 9):02d}"


def p_sub_body(c: Ctx, nclaims: int = 1, nlines: int = 2, **kw) -> list[list[str]]:
    """837P, subscriber is the patient."""
    p = c.fake.person()
    body = header_837(c, "BAT" + c.fake.digits(6), inst=False) + billing_837p(c, 1)
    body += [["HL", "2", "1", "22", "0"], ["SBR", "P", "18", "GRP" + c.fake.digits(5), "", "", "", "", "", "CI"]]
    body += subscriber_name(c, p, c.fake.member_id("XQ"), True) + payer_name(c)
    for _ in range(nclaims):
        body += claim_837p(c, nlines, svc_date(c.fake, c.env), **kw)
    return body


def subscriber_with_dependent(c, fake: Fake, sub, pat) -> list:
    """2000B subscriber (not the patient) and 2000C patient loops, shared by 837P and 837I."""
    body = [["HL", "2", "1", "22", "1"], ["SBR", "P", "", "GRP" + fake.digits(5), "", "", "", "", "", "CI"]]
    body += subscriber_name(c, sub, fake.member_id("XQ"), True) + payer_name(c)
    street, city, st, zip9 = fake.address()
    body += [
        ["HL", "3", "2", "23", "0"],
        ["PAT", "19"],
        ["NM1", "QC", "1", pat["last"], pat["first"]],
        ["N3", street], ["N4", city, st, zip9],
        ["DMG", "D8", fake.dob(2005, 2020), pat["sex"]],
    ]
    return body


def base_837p_sub(fake: Fake, env: Env) -> Doc:
    c = ctx_for(fake, env, "fixed")
    return Doc(interchange(env, "837P", [("101", [p_sub_body(c, 1, 2, rendering=True)])]))


def base_837p_dep(fake: Fake, env: Env) -> Doc:
    c = ctx_for(fake, env, "x12")
    sub = fake.person()
    pat = fake.person()
    body = header_837(c, "BAT" + fake.digits(6), inst=False) + billing_837p(c, 1)
    body += subscriber_with_dependent(c, fake, sub, pat)
    body += claim_837p(c, 3, svc_date(fake, env), range_line=2, prior_auth=True)
    return Doc(interchange(env, "837P", [("102", [body])]))


def base_837p_multi(fake: Fake, env: Env) -> Doc:
    """Several subscribers and claims in one ST; '|' element and '>' component separators."""
    c = ctx_for(fake, env, "fixed")
    body = header_837(c, "BAT" + fake.digits(6), inst=False) + billing_837p(c, 1)
    hl = 2
    for nclaims in (2, 1):
        p = fake.person()
        body += [["HL", str(hl), "1", "22", "0"], ["SBR", "P", "18", "GRP" + fake.digits(5), "", "", "", "", "", "CI"]]
        body += subscriber_name(c, p, fake.member_id("XQ"), True) + payer_name(c)
        for k in range(nclaims):
            body += claim_837p(c, 2 + k, svc_date(fake, env), facility=(k == 0))
        hl += 1
    return Doc(interchange(env, "837P", [("103", [body])]), elem="|", comp=">", rep="^", eol="")


def base_837p_two_st(fake: Fake, env: Env) -> Doc:
    c = ctx_for(fake, env, "fixed")
    return Doc(interchange(env, "837P", [("104", [p_sub_body(c, 1, 1), p_sub_body(c, 1, 3)])]))


def base_837p_two_gs(fake: Fake, env: Env) -> Doc:
    c = ctx_for(fake, env, "x12")
    return Doc(interchange(env, "837P", [("105", [p_sub_body(c, 1, 2)]), ("106", [p_sub_body(c, 2, 1)])]))


# ---------------------------------------------------------------------------
# 837I bases
# ---------------------------------------------------------------------------


def billing_837i(c: Ctx, hl: int) -> list[list[str]]:
    street, city, st, zip9 = c.fake.address()
    return [
        ["HL", str(hl), "", "20", "1"],
        ["PRV", "BI", "PXC", "282N00000X"],
        ["NM1", "85", "2", c.fake.pick(HOSPITALS), "", "", "", "", "XX", c.fake.npi()],
        ["N3", street],
        ["N4", city, st, zip9],
        ["REF", "EI", c.fake.ein()],
    ]


def claim_837i(c: Ctx, kind: str, d0: str) -> list[list[str]]:
    f = c.fake
    pcn = f.unique(lambda: "IPCN" + f.digits(8))
    dx = f.rng.sample(ICD10, 4)
    att = f.person()
    if kind == "outpatient":
        lines = [(rev, "HC:" + hc, Decimal(p), "UN", "1") for rev, hc, p in f.rng.sample(REV_OUTPATIENT, 2)]
        d1 = d0
        head = [
            ["CLM", pcn, "", "", "", "13:A:1", "", "A", "Y", "Y"],
            ["DTP", "434", "RD8", f"{d0}-{d1}"],
            ["CL1", "1", "7", "01"],
            ["HI", "ABK:" + dx[0]],
            ["HI", "ABF:" + dx[1], "ABF:" + dx[2]],
        ]
    else:  # inpatient, 3 days
        days = 3
        d1 = d0[:6] + f"{int(d0[6:]) + days:02d}"
        lines = [
            ("0120", "", Decimal("1450.00") * days, "DA", str(days)),
            ("0250", "", Decimal("312.80"), "UN", "6"),
            ("0300", "HC:80053", Decimal("95.00"), "UN", "1"),
        ]
        head = [
            ["CLM", pcn, "", "", "", "11:A:1", "", "A", "Y", "Y"],
            ["DTP", "096", "TM", "1130"],
            ["DTP", "434", "RD8", f"{d0}-{d1}"],
            ["DTP", "435", "DT", d0 + "1415"],
            ["CL1", "1", "7", "01"],
            ["HI", "ABK:" + dx[0]],
            ["HI", "ABJ:" + dx[1]],
            ["HI", "ABF:" + dx[2], "ABF:" + dx[3]],
        ]
    total = sum(line[2] for line in lines)
    head[0][2] = money(total, c.style)
    head += [["NM1", "71", "1", att["last"], att["first"], "", "", "", "XX", f.npi()],
             ["PRV", "AT", "PXC", "207R00000X"]]
    for n, (rev, proc, amt, unit, qty) in enumerate(lines, 1):
        head.append(["LX", str(n)])
        head.append(["SV2", rev, proc, money(amt, c.style), unit, qty])
        head.append(["DTP", "472", "D8", d0])
    return head


def i_sub_body(c: Ctx, *kinds: str) -> list[list[str]]:
    """837I, subscriber is the patient; one subscriber HL (with one claim) per kind."""
    body = header_837(c, "HB" + c.fake.digits(7), inst=True) + billing_837i(c, 1)
    for n, kind in enumerate(kinds, 2):
        p = c.fake.person()
        body += [["HL", str(n), "1", "22", "0"], ["SBR", "P", "18", "GRP" + c.fake.digits(5), "", "", "", "", "", "CI"]]
        body += subscriber_name(c, p, c.fake.member_id("XQ"), True) + payer_name(c)
        body += claim_837i(c, kind, svc_date(c.fake, c.env))
    return body


def base_837i_sub(fake: Fake, env: Env) -> Doc:
    c = ctx_for(fake, env, "fixed")
    return Doc(interchange(env, "837I", [("201", [i_sub_body(c, "outpatient")])]))


def base_837i_inpatient(fake: Fake, env: Env) -> Doc:
    c = ctx_for(fake, env, "fixed")
    return Doc(interchange(env, "837I", [("202", [i_sub_body(c, "inpatient")])]))


def base_837i_dep(fake: Fake, env: Env) -> Doc:
    c = ctx_for(fake, env, "x12")
    sub = fake.person()
    pat = fake.person()
    body = header_837(c, "HB" + fake.digits(7), inst=True) + billing_837i(c, 1)
    body += subscriber_with_dependent(c, fake, sub, pat)
    body += claim_837i(c, "outpatient", svc_date(fake, env))
    return Doc(interchange(env, "837I", [("203", [body])]), elem="|", comp=">", rep="^", eol="")


def base_837i_two_st(fake: Fake, env: Env) -> Doc:
    c = ctx_for(fake, env, "fixed")
    return Doc(interchange(env, "837I", [("204", [i_sub_body(c, "outpatient"),
                                                   i_sub_body(c, "inpatient", "outpatient")])]))


# ---------------------------------------------------------------------------
# 834 bases
# ---------------------------------------------------------------------------


def header_834(c: Ctx, bgn08: str, nmembers: int) -> list[list[str]]:
    return [
        ["BGN", "00", "ENR" + c.fake.digits(8), c.env.date, c.env.time, "", "", "", bgn08],
        ["REF", "38", "POL" + c.fake.digits(6)],
        ["DTP", "007", "D8", c.env.date[:6] + "01"],
        ["QTY", "TO", str(nmembers)],
        ["N1", "P5", c.fake.pick(SPONSORS), "FI", c.fake.ein()],
        ["N1", "IN", c.payer[0], "FI", c.fake.ein()],
    ]


def member_834(c: Ctx, rel: str, sub_id: str, group: str, maint: str, eff: str, p: dict[str, str],
               term: str | None = None, level: str = "EMP", reporting: bool = False,
               medicare: bool = False, race: bool = False) -> list[list[str]]:
    f = c.fake
    is_sub = rel == "18"
    reason = {"021": "28", "024": "07", "030": "XN", "001": "25"}[maint]
    ins = ["INS", "Y" if is_sub else "N", rel, maint, reason, "A"]
    set_el(ins, 6, "E" if medicare else "")  # INS06-1 Medicare plan code E = no Medicare
    set_el(ins, 8, ("TE" if term else "FT") if is_sub else "")  # employment status
    segs = [ins, ["REF", "0F", sub_id], ["REF", "1L", group]]
    if is_sub and not term:
        segs.append(["DTP", "336", "D8", f.dob(2010, 2023)])
    if term:
        segs.append(["DTP", "357", "D8", term])
    street, city, st, zip9 = f.address()
    segs += [["NM1", "IL", "1", p["last"], p["first"], p["middle"], "", "", "34", f.ssn()]]
    if is_sub:
        segs += [["PER", "IP", "", "HP", f.phone()], ["N3", street], ["N4", city, st, zip9]]
    adult = is_sub or rel == "01"  # subscriber or spouse
    dmg = ["DMG", "D8", f.dob(1960, 2000) if adult else f.dob(2005, 2021), p["sex"]]
    if is_sub:
        dmg.append("M")  # marital status
        if race:
            dmg.append("7")  # DMG05-1 race/ethnicity: not provided
    segs.append(dmg)
    if term:
        segs += [["HD", "024", "", "HLT", "", level], ["DTP", "349", "D8", term]]
    else:
        segs += [["HD", maint, "", "HLT", "PPO SILVER 2500", level], ["DTP", "348", "D8", eff]]
    if reporting:
        segs += [["LS", "2700"], ["LX", "1"], ["N1", "75", "DIVISION"], ["REF", "17", "WAREHOUSE EAST"],
                 ["LX", "2"], ["N1", "75", "PAYROLL CYCLE"], ["REF", "ZZ", "BIWEEKLY"], ["LE", "2700"]]
    return segs


def ctx834(fake: Fake, env: Env) -> Ctx:
    return Ctx(fake=fake, env=env, payer=fake.pick(PAYERS), submitter=fake.pick(SUBMITTERS))


def eff_date(env: Env) -> str:
    y, m = int(env.date[:4]), int(env.date[4:6])
    m += 1
    if m > 12:
        y, m = y + 1, 1
    return f"{y:04d}{m:02d}01"


def base_834_add_sub(fake: Fake, env: Env) -> Doc:
    c = ctx834(fake, env)
    sid = fake.member_id("E")
    body = header_834(c, "2", 1)
    body += member_834(c, "18", sid, "GRP" + fake.digits(5), "021", eff_date(env), fake.person(), reporting=True)
    return Doc(interchange(env, "834", [("301", [body])]))


def base_834_add_dep(fake: Fake, env: Env) -> Doc:
    """Subscriber plus two dependents added (spouse and child)."""
    c = ctx834(fake, env)
    sid = fake.member_id("E")
    grp = "GRP" + fake.digits(5)
    sub = fake.person("M")
    body = header_834(c, "2", 3)
    body += member_834(c, "18", sid, grp, "021", eff_date(env), sub, level="FAM", race=True)
    spouse = dict(fake.person("F"), last=sub["last"])
    child = dict(fake.person(), last=sub["last"])
    body += member_834(c, "01", sid, grp, "021", eff_date(env), spouse, level="FAM")
    body += member_834(c, "19", sid, grp, "021", eff_date(env), child, level="FAM")
    return Doc(interchange(env, "834", [("302", [body])]), elem="*", comp=">", rep="{")


def base_834_term(fake: Fake, env: Env) -> Doc:
    c = ctx834(fake, env)
    sid = fake.member_id("E")
    body = header_834(c, "2", 1)
    end = env.date[:6] + "01"
    body += member_834(c, "18", sid, "GRP" + fake.digits(5), "024", "", fake.person(), term=end, medicare=True, race=True)
    return Doc(interchange(env, "834", [("303", [body])]))


def base_834_two_st(fake: Fake, env: Env) -> Doc:
    c = ctx834(fake, env)
    b1 = header_834(c, "2", 1) + member_834(c, "18", fake.member_id("E"), "GRP" + fake.digits(5), "021",
                                           eff_date(env), fake.person())
    b2 = header_834(c, "4", 2)
    sid = fake.member_id("E")
    grp = "GRP" + fake.digits(5)
    sub = fake.person()
    b2 += member_834(c, "18", sid, grp, "030", eff_date(env), sub, level="ESP")
    b2 += member_834(c, "01", sid, grp, "030", eff_date(env), dict(fake.person(), last=sub["last"]), level="ESP")
    return Doc(interchange(env, "834", [("304", [b1, b2])]), eol="\r\n")


BASES: dict[str, list[tuple[str, Callable[[Fake, Env], Doc], str]]] = {
    "837P": [
        ("sub", base_837p_sub, "837P, subscriber is the patient, 1 claim, 2 lines, rendering provider"),
        ("dep", base_837p_dep, "837P, patient is a dependent (2000C), 3 lines, RD8 line date, prior auth"),
        ("multi", base_837p_multi, "837P, 2 subscribers, 3 claims, service facility; '|' '>' delimiters, no newlines"),
        ("two_st", base_837p_two_st, "837P, two ST sets in one GS"),
        ("two_gs", base_837p_two_gs, "837P, two GS groups in one ISA"),
    ],
    "837I": [
        ("sub", base_837i_sub, "837I outpatient, subscriber is the patient"),
        ("inpatient", base_837i_inpatient, "837I inpatient: admission/discharge, admitting dx, room & board"),
        ("dep", base_837i_dep, "837I outpatient, patient is a dependent (2000C); '|' '>' delimiters"),
        ("two_st", base_837i_two_st, "837I, two ST sets in one GS; the second has two subscribers"),
    ],
    "834": [
        ("add_sub", base_834_add_sub, "834 add subscriber, with LS/LE 2700 reporting categories"),
        ("add_dep", base_834_add_dep, "834 add subscriber + spouse + child; '>' component, '{' repetition"),
        ("term", base_834_term, "834 termination (INS03 024), Medicare status composite"),
        ("two_st", base_834_two_st, "834, two ST sets (add; audit with dependent); CRLF line ends"),
    ],
}


# ---------------------------------------------------------------------------
# Mutations
# ---------------------------------------------------------------------------


class NotApplicable(Exception):
    pass


@dataclass
class MCtx:
    rng: random.Random
    txn: str
    variant: int  # 0.. ; used to rotate through target lists
    strict: bool = False  # only try the variant's own target (no fallback to the others)


def _qmatch(value: str, want: str) -> bool:
    """Qualifier match; a trailing '*' means 'starts with'."""
    return value.startswith(want[:-1]) if want.endswith("*") else value == want


def find(doc: Doc, sid: str, q: dict[int, str] | None = None) -> list[int]:
    out = []
    for i, s in enumerate(doc.segs):
        if s[0] != sid:
            continue
        if q and not all(_qmatch(el(s, k), v) for k, v in q.items()):
            continue
        out.append(i)
    return out


def pick_one(doc: Doc, m: MCtx, sid: str, q: dict[int, str] | None = None) -> int:
    idx = find(doc, sid, q)
    if not idx:
        raise NotApplicable(f"no {sid} {q}")
    return m.rng.choice(idx)


def qdesc(sid: str, q: dict[int, str] | None) -> str:
    if not q:
        return sid
    return sid + "*" + ",".join(f"{sid}{k:02d}={v}" for k, v in sorted(q.items()))


def st_blocks(doc: Doc) -> list[tuple[int, int]]:
    """(ST index, SE index) pairs."""
    out = []
    st = None
    for i, s in enumerate(doc.segs):
        if s[0] == "ST":
            st = i
        elif s[0] == "SE" and st is not None:
            out.append((st, i))
            st = None
    return out


def block_of(doc: Doc, i: int) -> tuple[int, int]:
    for st, se in st_blocks(doc):
        if st <= i <= se:
            return st, se
    raise NotApplicable("segment outside ST/SE")


def fix_se(doc: Doc, i: int, delta: int) -> None:
    """Keep SE01 right after inserting (delta>0) or removing (delta<0) segments near index i."""
    st, se = block_of(doc, i)
    doc.segs[se][1] = str(int(doc.segs[se][1]) + delta)


# --- envelope counts --------------------------------------------------------


def mut_se01_count(doc: Doc, m: MCtx) -> str:
    se = pick_one(doc, m, "SE")
    old = int(doc.segs[se][1])
    new = old + m.rng.choice([1, -1, 2, 10])
    doc.segs[se][1] = str(new)
    return f"SE01 {old} -> {new} (ST02 {doc.segs[se][2]})"


def mut_ge01_count(doc: Doc, m: MCtx) -> str:
    ge = pick_one(doc, m, "GE")
    old = int(doc.segs[ge][1])
    new = m.rng.choice([old + 1, old + 2, 0 if old > 1 else old + 3])
    doc.segs[ge][1] = str(new)
    return f"GE01 {old} -> {new}"


def mut_iea01_count(doc: Doc, m: MCtx) -> str:
    iea = pick_one(doc, m, "IEA")
    old = int(doc.segs[iea][1])
    new = m.rng.choice([old + 1, 0, old + 5])
    doc.segs[iea][1] = str(new)
    return f"IEA01 {old} -> {new}"


# --- control numbers ------------------------------------------------------------


def mut_se02_mismatch(doc: Doc, m: MCtx) -> str:
    se = pick_one(doc, m, "SE")
    old = doc.segs[se][2]
    new = m.rng.choice([old[:-1] + str((int(old[-1]) + 1) % 10), "9999", old + "1"])
    doc.segs[se][2] = new
    return f"SE02 {old} -> {new} (ST02 unchanged)"


def mut_ge02_mismatch(doc: Doc, m: MCtx) -> str:
    ge = pick_one(doc, m, "GE")
    old = doc.segs[ge][2]
    new = m.rng.choice([str(int(old) + 1), "9" + old, "1"])
    doc.segs[ge][2] = new
    return f"GE02 {old} -> {new} (GS06 unchanged)"


def mut_iea02_mismatch(doc: Doc, m: MCtx) -> str:
    iea = pick_one(doc, m, "IEA")
    old = doc.segs[iea][2]
    new = m.rng.choice([f"{(int(old) + 1) % 10**9:09d}", "000000001", old[::-1]])
    if new == old:
        new = f"{(int(old) + 7) % 10**9:09d}"
    doc.segs[iea][2] = new
    return f"IEA02 {old} -> {new} (ISA13 unchanged)"


def mut_dup_st02(doc: Doc, m: MCtx) -> str:
    blocks = st_blocks(doc)
    # sets that share a group with another set
    gs_of = {}
    g = -1
    for i, s in enumerate(doc.segs):
        if s[0] == "GS":
            g = i
        gs_of[i] = g
    pairs = [(a, b) for a, b in zip(blocks, blocks[1:]) if gs_of[a[0]] == gs_of[b[0]]]
    if pairs and m.rng.random() < 0.7:
        (st1, _), (st2, se2) = m.rng.choice(pairs)
        old = doc.segs[st2][2]
        doc.segs[st2][2] = doc.segs[st1][2]
        doc.segs[se2][2] = doc.segs[st1][2]
        return f"second ST02 {old} -> {doc.segs[st1][2]} (same as the first set's ST02; SE02 follows)"
    # otherwise copy a set and append it to its group with the same ST02
    st, se = m.rng.choice(blocks)
    copy = [list(s) for s in doc.segs[st:se + 1]]
    doc.segs[se + 1:se + 1] = copy
    ge = next(i for i in range(se + 1 + len(copy), len(doc.segs)) if doc.segs[i][0] == "GE")
    doc.segs[ge][1] = str(int(doc.segs[ge][1]) + 1)
    return f"set ST02 {doc.segs[st][2]} duplicated verbatim in the same group (GE01 adjusted)"


def mut_dup_isa13(doc: Doc, m: MCtx) -> str:
    """Append a second interchange with the same ISA13 (its group gets a new GS06)."""
    isa_i = find(doc, "ISA")[0]
    iea_i = find(doc, "IEA")[0]
    copy = [list(s) for s in doc.segs[isa_i:iea_i + 1]]
    for s in copy:
        if s[0] in ("GS", "GE"):
            pos = 6 if s[0] == "GS" else 2
            s[pos] = str(int(s[pos]) + 500)
    doc.segs.extend(copy)
    return f"second interchange appended with the same ISA13 {doc.segs[isa_i][13]} (GS06/GE02 changed)"


# --- generic element mutation -------------------------------------------------------------


@dataclass
class T:
    """An element target: segment `sid` whose elements match `q`, element `e`, component `c`."""

    sid: str
    q: dict[int, str] | None
    e: int
    c: int | None = None
    val: str | Callable[[str, random.Random], str] | None = None
    note: str = ""
    owner: set[str] | None = None  # NM101 of the loop the segment must be in


def apply_target(doc: Doc, m: MCtx, t: T, default: Callable[[str, random.Random], str] | None = None) -> str:
    idx = find(doc, t.sid, t.q)
    if t.owner is not None:
        idx = [i for i in idx if owner_nm1(doc, i) in t.owner]
    if not idx:
        raise NotApplicable(f"no {t.sid} {t.q}")
    i = m.rng.choice(idx)
    seg = doc.segs[i]
    old = comp_of(seg, t.e, t.c) if t.c else el(seg, t.e)
    v = t.val if t.val is not None else default
    new = v(old, m.rng) if callable(v) else v
    assert isinstance(new, str)
    if t.c:
        set_comp(seg, t.e, t.c, new)
    else:
        set_el(seg, t.e, new)
    if t.sid == "ST" and t.e == 2:  # keep SE02 equal to ST02: one fault only
        _, se = block_of(doc, i)
        doc.segs[se][2] = new
    where = f"{t.sid}{t.e:02d}" + (f"-{t.c}" if t.c else "")
    ctxs = qdesc(t.sid, t.q)
    return f"{where} in {ctxs}: {old!r} -> {new!r}" + (f" ({t.note})" if t.note else "")


def rotate(m: MCtx, targets: list):  # noqa: ANN201
    """Targets starting at the variant's own one (only that one when m.strict)."""
    k = m.variant % len(targets)
    return [targets[k]] if m.strict else targets[k:] + targets[:k]


def element_mutation(targets: dict[str, list[T]], default=None) -> Callable[[Doc, MCtx], str]:  # noqa: ANN001
    def f(doc: Doc, m: MCtx) -> str:
        for t in rotate(m, targets.get(m.txn, [])):
            try:
                return apply_target(doc, m, t, default)
            except NotApplicable:
                continue
        raise NotApplicable("no target")

    return f


def bad_date(old: str, rng: random.Random) -> str:
    y = old[:4] if len(old) >= 8 and old[:4].isdigit() else "2024"
    return rng.choice([f"{y}0230", f"{y}1301", f"{y}0431", "20230229", f"{y}0000", f"{y}0632", "17991231"])


def bad_date_rd8(old: str, rng: random.Random) -> str:
    a, _, b = old.partition("-")
    return rng.choice([f"{a[:4]}0230-{b}", f"{a}-{b[:4]}1340", f"{a[:6]}00-{b}"])


def bad_format(old: str, rng: random.Random) -> str:
    if len(old) == 8:
        return rng.choice([f"{old[:4]}-{old[4:6]}-{old[6:]}", old[2:], old[:7], f"{old[4:6]}/{old[6:]}/{old[:4]}", old + "1"])
    return old[:4] + "-" + old[4:]


DATE_IMPOSSIBLE = {
    "837P": [
        T("DMG", {1: "D8"}, 2, note="date of birth"),
        T("DTP", {1: "472", 2: "D8"}, 3, note="service date"),
        T("BHT", None, 4, note="creation date"),
        T("GS", None, 4, note="group date"),
        T("DTP", {1: "472", 2: "RD8"}, 3, val=bad_date_rd8, note="service date range"),
    ],
    "837I": [
        T("DTP", {1: "434"}, 3, val=bad_date_rd8, note="statement period RD8"),
        T("DMG", {1: "D8"}, 2, note="date of birth"),
        T("DTP", {1: "472"}, 3, note="line service date"),
        T("BHT", None, 4, note="creation date"),
        T("DTP", {1: "435"}, 3, val=lambda o, r: r.choice(["20240230", "20231301"]) + o[8:], note="admission DT"),
    ],
    "834": [
        T("BGN", None, 3, note="BGN03 file date"),
        T("DTP", {1: "348"}, 3, note="coverage begin"),
        T("DMG", {1: "D8"}, 2, note="date of birth"),
        T("DTP", {1: "007"}, 3, note="file effective date"),
        T("DTP", {1: "336"}, 3, note="employment begin"),
        T("DTP", {1: "357"}, 3, note="eligibility end"),
        T("GS", None, 4, note="group date"),
    ],
}

DATE_FORMAT = {
    "837P": [
        T("DTP", {1: "472", 2: "D8"}, 3, val=bad_format, note="D8 with a non-CCYYMMDD value"),
        T("DMG", {1: "D8"}, 2, val=bad_format, note="D8 with a non-CCYYMMDD value"),
        T("DTP", {1: "472", 2: "D8"}, 3, val=lambda o, r: f"{o}-{o}", note="range under a D8 qualifier"),
        T("BHT", None, 4, val=lambda o, r: o[2:], note="6-digit date in a DT 8/8 element"),
        T("DTP", {1: "472", 2: "RD8"}, 3, val=lambda o, r: o.split("-")[0], note="single date under RD8"),
    ],
    "837I": [
        T("DTP", {1: "434"}, 3, val=lambda o, r: o.split("-")[0], note="single date under RD8"),
        T("DTP", {1: "472"}, 3, val=bad_format),
        T("DMG", {1: "D8"}, 2, val=bad_format),
        T("DTP", {1: "434"}, 3, val=lambda o, r: o.replace("-", ""), note="RD8 without the hyphen"),
        T("DTP", {1: "435"}, 3, val=lambda o, r: o[:8], note="8-digit date under DT (needs CCYYMMDDHHMM)"),
    ],
    "834": [
        T("DTP", {1: "348"}, 3, val=bad_format),
        T("DMG", {1: "D8"}, 2, val=bad_format),
        T("BGN", None, 3, val=lambda o, r: o[2:], note="6-digit date in a DT 8/8 element"),
        T("DTP", {1: "007"}, 3, val=lambda o, r: f"{o}-{o}", note="range under a D8 qualifier"),
        T("DTP", {1: "349"}, 3, val=bad_format),
    ],
}


def bad_time(old: str, rng: random.Random) -> str:
    return rng.choice(["2460", "2500", "1275", "12", "123", "12345", "0961", "9999"])


TIME_INVALID = {
    "837P": [T("BHT", None, 5, note="BHT05"), T("GS", None, 5, note="GS05")],
    "837I": [
        T("BHT", None, 5, note="BHT05"),
        T("DTP", {1: "096"}, 3, note="discharge hour (TM)"),
        T("DTP", {1: "435"}, 3, val=lambda o, r: o[:8] + r.choice(["2561", "1299"]), note="admission DT time part"),
        T("GS", None, 5, note="GS05"),
    ],
    "834": [T("BGN", None, 4, note="BGN04"), T("GS", None, 5, note="GS05")],
}

CODE_INVALID = {
    "837P": [
        T("CLM", None, 7, val="Z", note="CLM07 assignment"),
        T("SBR", None, 1, val="Q", note="payer responsibility"),
        T("DMG", None, 3, val="X", note="gender"),
        T("SV1", None, 3, val="MN", note="unit of measure"),
        T("CLM", None, 6, val="X", note="provider signature"),
        T("BHT", None, 2, val="99", note="BHT02 purpose"),
        T("SBR", None, 9, val="XX", note="claim filing indicator"),
        T("PER", {1: "IC"}, 3, val="ZZ", note="communication qualifier"),
        T("PAT", None, 1, val="77", note="relationship"),
    ],
    "837I": [
        T("SV2", None, 4, val="MJ", note="unit (MJ is 837P-only)"),
        T("CLM", None, 8, val="Q", note="benefits assignment"),
        T("DMG", None, 3, val="X", note="gender"),
        T("SBR", None, 1, val="Q", note="payer responsibility"),
        T("BHT", None, 6, val="XX", note="BHT06 claim type"),
        T("SBR", None, 9, val="XX", note="claim filing indicator"),
        T("PRV", {1: "BI"}, 2, val="ZZ", note="PRV02 qualifier"),
    ],
    "834": [
        T("INS", None, 5, val="Z", note="benefit status"),
        T("HD", None, 3, val="XYZ", note="insurance line"),
        T("INS", None, 3, val="999", note="maintenance type"),
        T("DMG", None, 3, val="Q", note="gender"),
        T("BGN", None, 8, val="9", note="action code"),
        T("INS", {1: "Y"}, 8, val="ZZ", note="employment status"),
        T("HD", None, 5, val="XYZ", note="coverage level"),
        T("PER", {1: "IP"}, 3, val="ZZ", note="communication qualifier"),
        T("DMG", None, 4, val="Q", note="marital status"),
    ],
}

CODE_INVALID_COMPOSITE = {
    "837P": [
        T("CLM", None, 5, 2, val="X", note="facility code qualifier (must be B)"),
        T("SV1", None, 1, 1, val="ZZ", note="product/service ID qualifier"),
        T("HI", {1: "ABK:*"}, 1, 1, val="ABX", note="principal diagnosis qualifier"),
        T("HI", {1: "ABK:*"}, 2, 1, val="ABK", note="other diagnosis qualifier (ABK not allowed after HI01)"),
        T("SV1", None, 7, 1, val="13", note="diagnosis code pointer"),
        T("CLM", None, 5, 3, val="9", note="claim frequency code"),
    ],
    "837I": [
        T("CLM", None, 5, 2, val="B", note="facility code qualifier (837I needs A)"),
        T("SV2", None, 2, 1, val="ZZ", note="product/service ID qualifier"),
        T("HI", {1: "ABK:*"}, 1, 1, val="ABX", note="principal diagnosis qualifier"),
        T("HI", {1: "ABF:*"}, 2, 1, val="ABK", note="other diagnosis HI02-1 qualifier"),
        T("HI", {1: "ABJ:*"}, 1, 1, val="XYZ", note="admitting diagnosis qualifier"),
    ],
    "834": [
        T("INS", None, 6, 1, val="Z", note="Medicare plan code"),
        T("DMG", {5: "7"}, 5, 1, val="Q", note="race or ethnicity code"),
        T("DMG", {5: "7"}, 5, 2, val="XYZ", note="code list qualifier (must be RET)"),
    ],
}


def too_long(n: int, fill: str = "X") -> Callable[[str, random.Random], str]:
    def f(old: str, rng: random.Random) -> str:
        return (old + fill * n)[: n + 1] if len(old) <= n else old + fill

    return f


def too_long_num(n: int) -> Callable[[str, random.Random], str]:
    def f(old: str, rng: random.Random) -> str:
        return "1" * (n + 1) + ".00"

    return f


TOO_LONG = {
    "837P": [
        T("NM1", {1: "IL"}, 3, val=too_long(60), note="max 60"),
        T("CLM", None, 1, val=too_long(38), note="max 38"),
        T("REF", {1: "EI"}, 2, val=too_long(50), note="max 50"),
        T("N3", None, 1, val=too_long(55), note="max 55"),
        T("SV1", None, 2, val=too_long_num(18), note="R max 18 digits"),
        T("BHT", None, 3, val=too_long(50), note="max 50"),
        T("NM1", {1: "85"}, 9, val=too_long(80, "9"), note="max 80"),
        T("N4", None, 1, val=too_long(30), note="city max 30"),
    ],
    "837I": [
        T("NM1", {1: "PR"}, 3, val=too_long(60), note="max 60"),
        T("CLM", None, 1, val=too_long(38), note="max 38"),
        T("SV2", None, 1, val=too_long(48, "0"), note="max 48"),
        T("N3", None, 1, val=too_long(55), note="max 55"),
        T("SV2", None, 3, val=too_long_num(18), note="R max 18 digits"),
        T("CL1", None, 3, val="012", note="patient status code max 2"),
        T("N4", None, 2, val="ORE", note="state code max 2"),
    ],
    "834": [
        T("NM1", {1: "IL"}, 3, val=too_long(60), note="max 60"),
        T("BGN", None, 2, val=too_long(50), note="max 50"),
        T("N1", {1: "75"}, 2, val=too_long(60), note="max 60, inside LS/LE 2700"),
        T("REF", {1: "0F"}, 2, val=too_long(50), note="max 50"),
        T("N1", {1: "P5"}, 2, val=too_long(60), note="max 60"),
        T("HD", None, 4, val=too_long(50), note="max 50"),
        T("N4", None, 3, val=lambda o, r: o + "1234567", note="ZIP 16 chars, max 15"),
        T("PER", None, 4, val=too_long(256, "5"), note="max 256"),
        T("INS", None, 2, val="181", note="ID 2/2"),
    ],
}

TOO_SHORT = {
    "837P": [
        T("N4", None, 2, val="O", note="state, min 2"),
        T("N4", None, 3, val="97", note="ZIP, min 3"),
        T("NM1", {1: "IL"}, 9, val="X", note="ID code, min 2"),
        T("N4", None, 1, val="P", note="city, min 2"),
        T("ST", None, 2, val=lambda o, r: o[-3:], note="ST02 min 4 (SE02 changed too)"),
        T("DMG", {1: "D8"}, 2, val=lambda o, r: o[:6], note="D8 date with 6 digits"),
    ],
    "837I": [
        T("N4", None, 2, val="O", note="state, min 2"),
        T("N4", None, 3, val="97", note="ZIP, min 3"),
        T("NM1", {1: "PR"}, 9, val="X", note="ID code, min 2"),
        T("BHT", None, 1, val="019", note="ID 4/4"),
        T("DTP", {1: "434"}, 1, val="43", note="qualifier ID 3/3"),
    ],
    "834": [
        T("N4", None, 2, val="O", note="state, min 2"),
        T("INS", None, 2, val="1", note="ID 2/2"),
        T("HD", None, 1, val="02", note="ID 3/3"),
        T("N4", None, 3, val="97", note="ZIP, min 3"),
        T("N4", None, 1, val="P", note="city, min 2"),
        T("DTP", {1: "348"}, 1, val="34", note="qualifier ID 3/3"),
    ],
}


def with_char(ch: str, name: str) -> Callable[[str, random.Random], str]:
    def f(old: str, rng: random.Random) -> str:
        k = max(1, len(old) // 2)
        return old[:k] + ch + old[k:]

    f.__name__ = name
    return f


INVALID_CHAR = {
    "837P": [
        T("NM1", {1: "IL"}, 3, val=with_char("\x07", "BEL"), note="BEL control character"),
        T("N3", None, 1, val=with_char("\x1c", "FS"), note="FS control character"),
        T("CLM", None, 1, val=with_char("\x0b", "VT"), note="VT control character"),
        T("NM1", {1: "85"}, 3, val=with_char("\u00c9", "E-acute"), note="non-ASCII character (UTF-8 E-acute)"),
    ],
    "837I": [
        T("NM1", {1: "IL"}, 4, val=with_char("\x07", "BEL"), note="BEL control character"),
        T("N3", None, 1, val=with_char("\x1e", "RS"), note="RS control character"),
        T("NM1", {1: "PR"}, 3, val=with_char("\u00d1", "N-tilde"), note="non-ASCII character (UTF-8 N-tilde)"),
    ],
    "834": [
        T("NM1", {1: "IL"}, 3, val=with_char("\x07", "BEL"), note="BEL control character"),
        T("N3", None, 1, val=with_char("\x1f", "US"), note="US control character"),
        T("REF", {1: "0F"}, 2, val=with_char("\x0c", "FF"), note="FF control character"),
        T("NM1", {1: "IL"}, 4, val=with_char("\u00dc", "U-umlaut"), note="non-ASCII character (UTF-8 U-umlaut)"),
    ],
}

NON_NUMERIC = {
    "837P": [
        T("CLM", None, 2, val=lambda o, r: o[:-1] + "O", note="letter O for zero"),
        T("SV1", None, 2, val=lambda o, r: "12A.00", note="letter in amount"),
        T("SV1", None, 4, val=lambda o, r: "1X", note="quantity"),
        T("SV1", None, 2, val=lambda o, r: "1,250.00", note="thousands separator"),
        T("SV1", None, 2, val=lambda o, r: "$" + o, note="currency sign"),
    ],
    "837I": [
        T("CLM", None, 2, val=lambda o, r: o.replace(".", ","), note="decimal comma"),
        T("SV2", None, 3, val=lambda o, r: "1,250.00", note="thousands separator"),
        T("SV2", None, 5, val=lambda o, r: "ONE", note="quantity"),
        T("SV2", None, 3, val=lambda o, r: "12.3.4", note="two decimal points"),
    ],
    "834": [
        T("QTY", None, 2, val=lambda o, r: o + "X", note="QTY02 quantity"),
        T("LX", None, 1, val=lambda o, r: "A", note="LX01 N0"),
        T("QTY", None, 2, val=lambda o, r: "ONE", note="QTY02 quantity"),
    ],
}

REQUIRED_EMPTY = {
    "837P": [
        T("NM1", {1: "PR"}, 3, val="", note="payer name"),
        T("CLM", None, 1, val="", note="patient control number"),
        T("SV1", None, 2, val="", note="line charge"),
        T("N4", None, 1, val="", note="city"),
        T("REF", {1: "EI"}, 2, val="", note="tax ID"),
        T("NM1", {1: "IL"}, 9, val="", note="member ID (NM108 present)"),
        T("CLM", None, 5, 1, val="", note="place of service (composite component)"),
        T("SV1", None, 1, 2, val="", note="procedure code (composite component)"),
    ],
    "837I": [
        T("CLM", None, 2, val="", note="total charge"),
        T("CL1", None, 3, val="", note="patient status"),
        T("SV2", None, 1, val="", note="revenue code"),
        T("NM1", {1: "85"}, 3, val="", note="billing provider name"),
        T("HI", None, 1, 2, val="", note="diagnosis code (composite component)"),
        T("SBR", None, 1, val="", note="payer responsibility"),
    ],
    "834": [
        T("INS", None, 1, val="", note="subscriber indicator"),
        T("REF", {1: "0F"}, 2, val="", note="subscriber ID"),
        T("NM1", {1: "IL"}, 3, val="", note="member last name"),
        T("HD", None, 3, val="", note="insurance line"),
        T("BGN", None, 2, val="", note="reference ID"),
        T("N1", {1: "IN"}, 4, val="", note="payer ID (N103 present)"),
        T("DTP", {1: "348"}, 3, val="", note="coverage date"),
    ],
}

NOT_USED = {
    "837P": [
        T("CLM", None, 3, val="NU", note="CLM03 not used"),
        T("HL", {3: "20"}, 2, val="1", note="HL02 not used at 2000A"),
        T("NM1", {1: "IL"}, 6, val="DR", note="NM106 not used"),
        T("SV1", None, 6, val="11", note="SV106 not used"),
        T("SBR", None, 6, val="1", note="SBR06 not used"),
        T("NM1", {1: "PR"}, 4, val="JOHN", note="NM104 not used for payer"),
    ],
    "837I": [
        T("CLM", None, 6, val="Y", note="CLM06 not used in 837I"),
        T("SV2", None, 6, val="100.00", note="SV206 not used"),
        T("NM1", {1: "85"}, 4, val="JOHN", note="NM104 not used for billing org"),
        T("SBR", None, 5, val="12", note="SBR05 not used in 837I"),
    ],
    "834": [
        T("HD", None, 2, val="X", note="HD02 not used"),
        T("BGN", None, 7, val="XX", note="BGN07 not used"),
        T("PER", {1: "IP"}, 2, val="HOME", note="PER02 not used"),
        T("N1", {1: "P5"}, 5, val="XX", note="N105 not used"),
        T("DMG", None, 7, val="X", note="DMG07 not used"),
        T("INS", None, 14, val="X", note="INS14 not used"),
    ],
}


# --- segment-level mutations -------------------------------------------------------------


# number of elements each segment has in the X12 standard (5010)
MAX_ELEMENTS = {"N3": 2, "REF": 4, "DTP": 3, "HL": 4, "LX": 1, "N4": 7, "DMG": 11, "BHT": 6, "HD": 9,
                "SBR": 9, "CL1": 4, "QTY": 4, "PAT": 9, "BGN": 9}


def mut_too_many_elements(doc: Doc, m: MCtx) -> str:
    cands = {
        "837P": ["DTP", "N3", "HL", "LX", "REF"],
        "837I": ["DTP", "CL1", "N3", "HL", "LX"],
        "834": ["DTP", "N3", "REF", "QTY", "HD"],
    }[m.txn]
    for t in rotate(m, [T(sid, None, 0) for sid in cands]):
        idx = find(doc, t.sid)
        if not idx:
            continue
        i = m.rng.choice(idx)
        seg = doc.segs[i]
        n = MAX_ELEMENTS[t.sid]
        set_el(seg, n + 1, "X")
        return f"{t.sid} (file segment {i + 1}) has a non-empty element {t.sid}{n + 1:02d}; the segment has only {n}"
    raise NotApplicable("none")


def mut_trailing_separator(doc: Doc, m: MCtx) -> str:
    cands = {
        "837P": ["DMG", "CLM", "SV1", "N4", "NM1", "REF"],
        "837I": ["DMG", "CLM", "SV2", "N4", "CL1", "HI"],
        "834": ["INS", "DMG", "HD", "N4", "REF", "BGN"],
    }[m.txn]
    sid = rotate(m, [T(s, None, 0) for s in cands])[0].sid
    i = pick_one(doc, m, sid)
    doc.segs[i].append("")
    return f"{sid} (segment {i + 1} in file) ends with an element separator before the terminator"


def owner_nm1(doc: Doc, i: int) -> str:
    """NM101 of the name segment that starts the loop segment i is in ('' if none)."""
    for j in range(i - 1, -1, -1):
        sid = doc.segs[j][0]
        if sid == "NM1":
            return el(doc.segs[j], 1)
        if sid in ("HL", "CLM", "LX", "INS", "ST", "N1"):
            return ""
    return ""


# (segment ID, qualifiers, description, NM101 of the owning loop or None). Only
# segments that are required (usage R) where they are removed.
REMOVE_SEGMENT = {
    "837P": [("N4", {}, "billing provider / patient N4", {"85", "QC", "77"}),
             ("REF", {1: "EI"}, "billing provider tax ID", None),
             ("DTP", {1: "472"}, "line service date", None), ("SBR", {}, "subscriber information", None),
             ("HI", {}, "claim diagnosis", None), ("BHT", {}, "BHT", None),
             ("PAT", {}, "patient information (2000C)", None),
             ("N3", {}, "billing provider / patient N3", {"85", "QC", "77"})],
    "837I": [("CL1", {}, "institutional claim code", None), ("DTP", {1: "434"}, "statement dates", None),
             ("HI", {1: "ABK:*"}, "principal diagnosis", None),
             ("N3", {}, "billing provider / patient address", {"85", "QC"}),
             ("PER", {1: "IC"}, "submitter contact", None), ("SV2", {}, "institutional service line", None),
             ("DMG", {}, "patient demographics (2010CA)", {"QC"})],
    "834": [("REF", {1: "0F"}, "subscriber identifier", None), ("DTP", {1: "348"}, "coverage begin date", None),
            ("BGN", {}, "beginning segment", None),
            ("N1", {1: "75"}, "reporting category name (first segment of 2750, inside LS/LE)", None),
            ("DTP", {1: "349"}, "coverage end date (only 2300 DTP)", None),
            ("HD", {}, "health coverage (first segment of 2300)", None)],
}


def mut_required_segment_removed(doc: Doc, m: MCtx) -> str:
    for sid, q, note, owners in rotate(m, REMOVE_SEGMENT[m.txn]):  # type: ignore[arg-type]
        idx = find(doc, sid, q or None)
        if owners is not None:
            idx = [i for i in idx if owner_nm1(doc, i) in owners]
        if not idx:
            continue
        i = m.rng.choice(idx)
        del doc.segs[i]
        fix_se(doc, i - 1, -1)
        return f"removed {qdesc(sid, q or None)} ({note}), file segment {i + 1}; SE01 adjusted"
    raise NotApplicable("no segment")


def loop_extent(doc: Doc, start: int, enders: Callable[[list[str]], bool]) -> int:
    """Index after the last segment of a loop starting at `start`."""
    j = start + 1
    while j < len(doc.segs) and not enders(doc.segs[j]):
        j += 1
    return j


LOOP_REMOVE = {
    "837P": [
        ("NM1", {1: "PR"}, "2010BB payer name", {"CLM", "HL", "SE"}),
        ("NM1", {1: "40"}, "1000B receiver name", {"HL", "SE"}),
        ("NM1", {1: "IL"}, "2010BA subscriber name", {"NM1", "CLM", "HL", "SE"}),
        ("NM1", {1: "85"}, "2010AA billing provider name", {"HL", "NM1", "SE"}),
        ("LX", None, "2400 service line (all lines of a claim)", {"CLM", "HL", "SE"}),
    ],
    "837I": [
        ("NM1", {1: "PR"}, "2010BB payer name", {"CLM", "HL", "SE"}),
        ("NM1", {1: "41"}, "1000A submitter name", {"NM1", "SE"}),
        ("LX", None, "2400 service line (all lines of a claim)", {"CLM", "HL", "SE"}),
        ("NM1", {1: "IL"}, "2010BA subscriber name", {"NM1", "CLM", "HL", "SE"}),
    ],
    "834": [
        ("N1", {1: "P5"}, "1000A sponsor", {"N1", "INS", "SE"}),
        ("N1", {1: "IN"}, "1000B payer", {"N1", "INS", "SE"}),
        ("NM1", {1: "IL"}, "2100A member name", {"HD", "INS", "LS", "SE", "NM1"}),
    ],
}


def mut_required_loop_removed(doc: Doc, m: MCtx) -> str:
    for sid, q, note, enders in rotate(m, LOOP_REMOVE[m.txn]):  # type: ignore[arg-type]
        idx = find(doc, sid, q)
        if not idx:
            continue
        i = m.rng.choice(idx)
        if sid == "LX":
            # start at the first LX of that claim
            while doc.segs[i - 1][0] != "CLM" and not (doc.segs[i][0] == "LX" and doc.segs[i][1] == "1"):
                i -= 1
        j = loop_extent(doc, i, lambda s, e=enders: s[0] in e)
        n = j - i
        removed = [s[0] for s in doc.segs[i:j]]
        del doc.segs[i:j]
        fix_se(doc, i - 1, -n)
        return f"removed loop {note}: {n} segment(s) {'/'.join(removed)} from file segment {i + 1}; SE01 adjusted"
    raise NotApplicable("no loop")


SWAPS = {
    "837P": [("N3", "N4"), ("N4", "DMG"), ("N4", "REF"), ("NM1", "PER"), ("SV1", "DTP"), ("SBR", "NM1")],
    "837I": [("N3", "N4"), ("DTP", "CL1"), ("CL1", "HI"), ("SV2", "DTP"), ("NM1", "PRV")],
    "834": [("N3", "N4"), ("REF", "DTP"), ("HD", "DTP"), ("N4", "DMG"), ("BGN", "REF"), ("NM1", "PER")],
}


def mut_segment_order_swap(doc: Doc, m: MCtx) -> str:
    for a, b in rotate(m, SWAPS[m.txn]):  # type: ignore[arg-type]
        pairs = [i for i in range(len(doc.segs) - 1) if doc.segs[i][0] == a and doc.segs[i + 1][0] == b]
        if not pairs:
            continue
        i = m.rng.choice(pairs)
        doc.segs[i], doc.segs[i + 1] = doc.segs[i + 1], doc.segs[i]
        return f"swapped adjacent {a} and {b} (file segments {i + 1},{i + 2})"
    raise NotApplicable("no swap")


def body_positions(doc: Doc) -> list[int]:
    """Indices of segments strictly inside ST..SE, excluding ST."""
    out = []
    for st, se in st_blocks(doc):
        out.extend(range(st + 1, se))
    return out


def mut_unknown_segment(doc: Doc, m: MCtx) -> str:
    sid = m.rng.choice(["ZZZ", "XYZ", "QQ", "AB1"])
    pos = body_positions(doc)
    i = m.rng.choice(pos[1:])
    doc.segs.insert(i, [sid, "UNKNOWN", "1"])
    fix_se(doc, i, +1)
    return f"inserted unknown segment {sid} before file segment {i + 1} (after {doc.segs[i - 1][0]}); SE01 adjusted"


def mut_lowercase_segment_id(doc: Doc, m: MCtx) -> str:
    cands = {
        "837P": ["N4", "DMG", "CLM", "SV1", "REF", "NM1", "HI", "DTP"],
        "837I": ["N4", "DMG", "CL1", "SV2", "HI", "DTP", "NM1"],
        "834": ["N4", "DMG", "HD", "INS", "REF", "NM1", "DTP"],
    }[m.txn]
    for t in rotate(m, [T(s, None, 0) for s in cands]):
        idx = find(doc, t.sid)
        if idx:
            i = m.rng.choice(idx)
            doc.segs[i][0] = t.sid.lower()
            return f"segment ID {t.sid} written as {t.sid.lower()} (file segment {i + 1})"
    raise NotApplicable("none")


OVER_MAX = {
    "837P": [("N4", {}, 1), ("DMG", {}, 1), ("REF", {1: "EI"}, 1), ("HI", {}, 1), ("SBR", {}, 1),
             ("PER", {1: "IC"}, 2), ("PRV", {1: "BI"}, 1)],
    "837I": [("CL1", {}, 1), ("DMG", {}, 1), ("N4", {}, 1), ("SV2", {}, 1), ("HI", {}, 1), ("PER", {1: "IC"}, 2)],
    "834": [("DMG", {}, 1), ("REF", {1: "0F"}, 1), ("N4", {}, 1), ("BGN", {}, 1), ("PER", {1: "IP"}, 1),
            ("QTY", {}, 3)],
}


def mut_segment_over_max_use(doc: Doc, m: MCtx) -> str:
    for sid, q, max_use in rotate(m, OVER_MAX[m.txn]):  # type: ignore[arg-type]
        idx = find(doc, sid, q or None)
        if sid == "HI" and m.txn == "837I":
            idx = [i for i in idx if el(doc.segs[i], 1).startswith("ABK")]
        if not idx:
            continue
        i = m.rng.choice(idx)
        extra = max_use  # add `max_use` copies -> max_use + 1 occurrences
        for _ in range(extra):
            doc.segs.insert(i + 1, list(doc.segs[i]))
        fix_se(doc, i, extra)
        return f"{qdesc(sid, q or None)} (max use {max_use}) repeated {max_use + 1} times at file segment {i + 1}; SE01 adjusted"
    raise NotApplicable("none")


def mut_hl_parent_wrong(doc: Doc, m: MCtx) -> str:
    """HL02 points to a parent that does not exist, to itself, to a sibling
    subscriber, or (for a patient HL) straight to the billing provider HL."""
    hls = find(doc, "HL")
    choice = m.variant % 4
    if choice in (0, 1):
        idx = [i for i in hls if el(doc.segs[i], 2)]
        if not idx:
            raise NotApplicable("no HL with parent")
        i = m.rng.choice(idx)
        seg = doc.segs[i]
        old = seg[2]
        new = str(int(seg[1]) + 5) if choice == 0 else seg[1]
        why = "no such HL" if choice == 0 else "its own HL01"
    elif choice == 2:
        # a subscriber HL whose previous HL (same set) is another subscriber
        idx = [i for i in hls if el(doc.segs[i], 3) == "22"
               and any(el(doc.segs[j], 3) == "22" and block_of(doc, j) == block_of(doc, i) for j in hls if j < i)]
        if not idx:
            raise NotApplicable("no second subscriber HL")
        i = m.rng.choice(idx)
        seg = doc.segs[i]
        prev = [j for j in hls if j < i and el(doc.segs[j], 3) == "22"][-1]
        old, new = seg[2], doc.segs[prev][1]
        why = "a sibling subscriber HL (22 under 22)"
    else:
        idx = [i for i in hls if el(doc.segs[i], 3) == "23"]
        if not idx:
            raise NotApplicable("no patient HL")
        i = m.rng.choice(idx)
        seg = doc.segs[i]
        old, new = seg[2], "1"
        why = "the billing provider HL (23 under 20)"
    seg[2] = new
    return f"HL*{seg[1]} (level {seg[3]}) HL02 parent {old} -> {new} ({why})"


def mut_hl_child_code_wrong(doc: Doc, m: MCtx) -> str:
    idx = find(doc, "HL")
    i = m.rng.choice(idx)
    seg = doc.segs[i]
    old = el(seg, 4)
    choice = m.variant % 3
    if choice == 0:
        new = "1" if old == "0" else "0"
        why = "inconsistent with the children that follow"
    elif choice == 1:
        new = "2"
        why = "invalid code"
    else:
        new = ""
        why = "emptied"
    set_el(seg, 4, new)
    return f"HL*{seg[1]} (level {seg[3]}) HL04 child code {old!r} -> {new!r} ({why})"


def mut_isa(e: int, values: list[str], what: str) -> Callable[[Doc, MCtx], str]:
    def f(doc: Doc, m: MCtx) -> str:
        i = find(doc, "ISA")[0]
        old = doc.segs[i][e]
        new = values[m.variant % len(values)]
        doc.segs[i][e] = new
        return f"ISA{e:02d} ({what}) {old!r} -> {new!r}"

    return f


mut_isa15_invalid = mut_isa(15, ["X", "I", "p"], "usage indicator")
mut_isa12_wrong = mut_isa(12, ["00401", "00502", "00500"], "version")
mut_isa14_invalid = mut_isa(14, ["2", "Y", "9"], "acknowledgment requested")


def mut_isa09_bad_date(doc: Doc, m: MCtx) -> str:
    i = find(doc, "ISA")[0]
    old = doc.segs[i][9]
    new = [old[:2] + "0230", old[:2] + "1301", old[:4] + "00", old[:2] + "04AB"][m.variant % 4]
    doc.segs[i][9] = new
    return f"ISA09 (interchange date) {old!r} -> {new!r}"


def mut_gs08_st03_mismatch(doc: Doc, m: MCtx) -> str:
    """ST03 (or GS08) changed so that GS08 and ST03 differ."""
    alts = {  # (element to change, new value)
        "837P": [("ST03", "005010X222A2"), ("ST03", "005010X223A2"), ("GS08", "005010X223A2"),
                 ("ST03", "004010X098A1")],
        "837I": [("ST03", "005010X223A3"), ("ST03", "005010X222A1"), ("GS08", "005010X222A1"),
                 ("ST03", "005010X223A1")],
        "834": [("ST03", "005010X220"), ("ST03", "005010X222A1"), ("GS08", "005010X220"),
                ("ST03", "004010X095A1")],
    }[m.txn]
    which, new = alts[m.variant % len(alts)]
    if which == "ST03":
        i = pick_one(doc, m, "ST")
        old = doc.segs[i][3]
        doc.segs[i][3] = new
        return f"ST03 {old} -> {new} (GS08 stays {old})"
    i = pick_one(doc, m, "GS")
    old = doc.segs[i][8]
    doc.segs[i][8] = new
    return f"GS08 {old} -> {new} (ST03 stays {old})"


def mut_trailer_missing(doc: Doc, m: MCtx) -> str:
    which = ["SE", "GE", "IEA"][m.variant % 3]
    i = pick_one(doc, m, which)
    del doc.segs[i]
    return f"{which} trailer removed (file segment {i + 1})"


def mut_hl_count_wrong(doc: Doc, m: MCtx) -> str:
    idx = find(doc, "HL")
    i = m.rng.choice(idx[1:] if len(idx) > 1 else idx)
    old = doc.segs[i][1]
    new = str(int(old) + m.rng.choice([1, 3]))
    doc.segs[i][1] = new
    return f"HL01 {old} -> {new} (HL IDs no longer sequential)"


def mut_lx_count_wrong(doc: Doc, m: MCtx) -> str:
    idx = find(doc, "LX")
    i = m.rng.choice(idx)
    old = doc.segs[i][1]
    new = str(int(old) + m.rng.choice([1, 2]))
    doc.segs[i][1] = new
    return f"LX01 {old} -> {new} (service line numbers no longer sequential)"


def _bump_money(o: str, r: random.Random) -> str:
    v = Decimal(o) + Decimal(r.choice(["10", "0.01", "100"]))
    return money(v, "fixed" if len(o) > 3 and o[-3] == "." else "x12")


def _bad_check_digit(o: str, r: random.Random) -> str:
    return o[:-1] + str((int(o[-1]) + r.randint(1, 9)) % 10)


# Faults that are not X12 syntax errors and that pyx12 does not (or only partly)
# check: NPI Luhn check digit, CLM02 vs. sum of line charges, 9-digit ZIP rule,
# subscriber flag vs. relationship, member counts. pyx12 is expected to accept most.
SEMANTIC = {
    "837P": [
        T("NM1", {1: "85"}, 9, val=_bad_check_digit, note="billing NPI fails the Luhn check"),
        T("CLM", None, 2, val=_bump_money, note="CLM02 no longer equals the sum of SV102"),
        T("N4", None, 3, val=lambda o, r: o[:5], note="5-digit billing provider ZIP (5010 wants 9)", owner={"85"}),
        T("NM1", {1: "82"}, 9, val=lambda o, r: o + "3", note="rendering NPI with 11 digits"),
    ],
    "837I": [
        T("NM1", {1: "71"}, 9, val=_bad_check_digit, note="attending NPI fails the Luhn check"),
        T("CLM", None, 2, val=_bump_money, note="CLM02 no longer equals the sum of SV203"),
        T("CLM", None, 5, 3, val="9", note="claim frequency code not in the NUBC list"),
        T("N4", None, 3, val=lambda o, r: o[:5], note="5-digit billing provider ZIP (5010 wants 9)", owner={"85"}),
    ],
    "834": [
        T("INS", {1: "Y"}, 2, val="19", note="subscriber flag Y with relationship 19 (child)"),
        T("QTY", {1: "TO"}, 2, val=lambda o, r: str(int(o) + 3), note="QTY*TO no longer equals the member count"),
        T("DMG", None, 2, val="20990101", note="date of birth in the future"),
        T("INS", {1: "N"}, 2, val="18", note="dependent flag N with relationship 18 (self)"),
    ],
}


# category -> (function, variants per txn, applicable txns)
ALL = ("837P", "837I", "834")
CATEGORIES: list[tuple[str, Callable[[Doc, MCtx], str], int, tuple[str, ...]]] = [
    ("se01_count", mut_se01_count, 3, ALL),
    ("ge01_count", mut_ge01_count, 2, ALL),
    ("iea01_count", mut_iea01_count, 2, ALL),
    ("se02_mismatch", mut_se02_mismatch, 3, ALL),
    ("ge02_mismatch", mut_ge02_mismatch, 2, ALL),
    ("iea02_mismatch", mut_iea02_mismatch, 2, ALL),
    ("dup_st02", mut_dup_st02, 2, ALL),
    ("dup_isa13", mut_dup_isa13, 2, ALL),
    ("trailer_missing", mut_trailer_missing, 3, ALL),
    ("date_impossible", element_mutation(DATE_IMPOSSIBLE, bad_date), 5, ALL),
    ("date_format", element_mutation(DATE_FORMAT), 4, ALL),
    ("time_invalid", element_mutation(TIME_INVALID, bad_time), 3, ALL),
    ("code_invalid", element_mutation(CODE_INVALID), 6, ALL),
    ("code_invalid_composite", element_mutation(CODE_INVALID_COMPOSITE), 4, ALL),
    ("too_long", element_mutation(TOO_LONG), 5, ALL),
    ("too_short", element_mutation(TOO_SHORT), 4, ALL),
    ("invalid_char", element_mutation(INVALID_CHAR), 4, ALL),
    ("non_numeric", element_mutation(NON_NUMERIC), 3, ALL),
    ("required_element_empty", element_mutation(REQUIRED_EMPTY), 5, ALL),
    ("not_used_element", element_mutation(NOT_USED), 4, ALL),
    ("trailing_separator", mut_trailing_separator, 3, ALL),
    ("too_many_elements", mut_too_many_elements, 3, ALL),
    ("required_segment_removed", mut_required_segment_removed, 4, ALL),
    ("required_loop_removed", mut_required_loop_removed, 4, ALL),
    ("segment_order_swap", mut_segment_order_swap, 4, ALL),
    ("unknown_segment", mut_unknown_segment, 3, ALL),
    ("lowercase_segment_id", mut_lowercase_segment_id, 3, ALL),
    ("segment_over_max_use", mut_segment_over_max_use, 4, ALL),
    ("hl_parent_wrong", mut_hl_parent_wrong, 4, ("837P", "837I")),
    ("hl_child_code_wrong", mut_hl_child_code_wrong, 3, ("837P", "837I")),
    ("hl_count_wrong", mut_hl_count_wrong, 1, ("837P", "837I")),
    ("lx_count_wrong", mut_lx_count_wrong, 1, ("837P", "837I")),
    ("isa15_invalid", mut_isa15_invalid, 2, ALL),
    ("isa12_wrong", mut_isa12_wrong, 3, ALL),
    ("isa14_invalid", mut_isa14_invalid, 2, ALL),
    ("isa09_bad_date", mut_isa09_bad_date, 2, ALL),
    ("gs08_st03_mismatch", mut_gs08_st03_mismatch, 3, ALL),
    ("semantic", element_mutation(SEMANTIC), 4, ALL),
]

# Interchange-level faults: pyx12 only reports them in a TA1, which it writes only
# when ISA14 = 1, so apply these to bases that request a TA1.
NEEDS_TA1 = {"iea02_mismatch", "dup_isa13", "isa15_invalid", "isa09_bad_date", "iea01_count", "trailer_missing"}


# ---------------------------------------------------------------------------
# Driver
# ---------------------------------------------------------------------------


def make_env(rng: random.Random, n: int) -> Env:
    month = rng.randint(1, 12)
    day = rng.randint(1, 28)
    year = rng.choice([2024, 2025])
    return Env(
        isa13=f"{rng.randint(1, 899999) * 1000 + n:09d}",
        date=f"{year}{month:02d}{day:02d}",
        time=f"{rng.randint(6, 19):02d}{rng.randint(0, 59):02d}",
        sender=rng.choice(["HTSSUBMIT01", "NWBILLING", "CPCLAIMS01"]),
        receiver=rng.choice(["HTSGATEWAY", "EVGHP01RCV"]),
        isa14="1" if n % 4 != 3 else "0",
        isa15="T" if n % 3 else "P",
    )


def build_bases(seed: int) -> dict[str, list[tuple[str, str, Doc]]]:
    rng = random.Random(seed)
    fake = Fake(rng)
    out: dict[str, list[tuple[str, str, Doc]]] = {}
    n = 0
    for txn, shapes in BASES.items():
        out[txn] = []
        for shape, fn, desc in shapes:
            env = make_env(rng, n)
            n += 1
            doc = fn(fake, env)
            for s in doc.segs:  # self-check: every NPI we wrote is Luhn-valid
                if s[0] == "NM1" and el(s, 8) == "XX":
                    assert npi_is_valid(s[9]), s
            out[txn].append((f"{txn}_base_{shape}.x12", desc, doc))
    return out


def check_claim_totals(doc: Doc) -> None:
    """CLM02 must equal the sum of the line charges (SV102 / SV203) of that claim."""
    total = None
    lines = Decimal(0)
    for s in doc.segs + [["CLM"]]:
        if s[0] in ("CLM", "SE", "HL"):
            if total is not None and total != lines:
                raise AssertionError(f"CLM02 {total} != sum of lines {lines}")
            total = None
            if s[0] == "CLM" and len(s) > 2:
                total, lines = Decimal(s[2]), Decimal(0)
        elif s[0] == "SV1":
            lines += Decimal(s[2])
        elif s[0] == "SV2":
            lines += Decimal(s[3])


def generate(out_dir: str, seed: int, check: bool) -> list[dict[str, str]]:
    bases = build_bases(seed)
    for txn, lst in bases.items():
        for name, _, doc in lst:
            check_claim_totals(doc)

    os.makedirs(out_dir, exist_ok=True)
    manifest: list[dict[str, str]] = []
    written: set[str] = set()

    def write(name: str, text: str) -> None:
        with open(os.path.join(out_dir, name), "wb") as f:
            f.write(text.encode("utf-8"))

    for txn, lst in bases.items():
        for name, desc, doc in lst:
            text = doc.render()
            write(name, text)
            written.add(text)
            manifest.append({"file": name, "txn": txn, "category": "base", "detail": desc, "base": name})

    if check:
        failures = check_bases(out_dir, [e["file"] for e in manifest])
        if failures:
            for name, why in failures:
                sys.stderr.write(f"BASE FILE NOT CLEAN: {name}:\n{why}\n")
            sys.stderr.write("error: base files must pass pyx12 with no errors; nothing else written\n")
            sys.exit(1)

    rng = random.Random(seed * 7919 + 17)
    counter = 0
    for txn in ("837P", "837I", "834"):
        blist = bases[txn]
        for cat, fn, nvar, txns in CATEGORIES:
            if txn not in txns:
                continue
            made = 0
            attempt = 0
            cands = blist
            if cat in NEEDS_TA1:
                cands = [b for b in blist if b[2].segs[0][14] == "1"]
            while made < nvar and attempt < nvar * 12:
                # Try the variant's own target on every base (in a seed-dependent
                # order) before letting the mutation fall back to another target.
                first = rng.randrange(len(cands))
                order = [cands[(first + k) % len(cands)] for k in range(len(cands))]
                found = None
                for strict in (True, False):
                    for bname, _, bdoc in order:
                        doc = bdoc.copy()
                        try:
                            detail = fn(doc, MCtx(rng=rng, txn=txn, variant=attempt, strict=strict))
                        except NotApplicable:
                            continue
                        found = (bname, doc, detail)
                        break
                    if found:
                        break
                attempt += 1
                if not found:
                    continue
                bname, doc, detail = found
                text = doc.render()
                if text in written:
                    continue
                written.add(text)
                counter += 1
                made += 1
                fname = f"{txn}_m{counter:03d}_{cat}.x12"
                write(fname, text)
                manifest.append({"file": fname, "txn": txn, "category": cat, "detail": detail, "base": bname})
            if made < nvar:
                sys.stderr.write(f"warning: only {made}/{nvar} mutants for {txn} {cat}\n")

    with open(os.path.join(out_dir, "manifest.json"), "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")
    return manifest


def check_bases(out_dir: str, names: list[str]) -> list[tuple[str, str]]:
    from pyx12_verdicts import Pyx12Runner

    runner = Pyx12Runner()
    failures = []
    for name in names:
        r = runner.run(os.path.join(out_dir, name))
        problems = []
        if r["crashed"] or not r["ok"]:
            problems.append(f"pyx12 verdict ok={r['ok']} crashed={r['crashed']} error={r['error']}")
        problems += r["messages"]
        ack = r["ack"]
        if ack is None:
            problems.append("no 999 produced")
        else:
            if ack["ta1"] is not None and (ack["ta1"]["ack"], ack["ta1"]["note"]) != ("A", "000"):
                problems.append(f"TA1 {ack['ta1']}")
            for g in ack["groups"]:
                if g["ak9"] != ["A"]:
                    problems.append(f"AK9 {g['ak9']}")
                for st in g["sets"]:
                    if st["ik5"] != ["A"] or st["segments"]:
                        problems.append(f"set {st['st']}: IK5 {st['ik5']} {st['segments']}")
        if problems:
            failures.append((name, "\n".join("  " + p for p in problems)))
    return failures


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True, help="output directory")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--no-check", action="store_true", help="do not validate the base files with pyx12")
    args = ap.parse_args()
    manifest = generate(args.out, args.seed, not args.no_check)
    counts: dict[str, int] = {}
    for e in manifest:
        if e["category"] != "base":
            counts[e["txn"]] = counts.get(e["txn"], 0) + 1
    nb = sum(1 for e in manifest if e["category"] == "base")
    sys.stderr.write(
        f"wrote {nb} base files and {sum(counts.values())} mutants "
        f"({', '.join(f'{k}: {v}' for k, v in counts.items())}) to {args.out}\n"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
