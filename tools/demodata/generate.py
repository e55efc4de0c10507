#!/usr/bin/env python3
"""Deterministic demo data for the plan-side store: providers, members (with spans), claims.

    python3 tools/demodata/generate.py [--out DIR]

Writes providers.csv, members.csv and claims.csv to DIR (default: fixtures/plan in this
repository), in the formats of src/payer/load.rs (documented in docs/plan-data.md). Output is
byte-identical from run to run: the random generator has a fixed seed, nothing depends on
today's date or on hash order, and rows are written in a fixed order.

Everything is fake. SSNs start with 9 (never issued), names are invented, addresses are made up
(state MA), NPIs are check-digit-valid numbers that belong to nobody we know of.

The named scenario records (fixtures/plan/README.md) come first in each file and are written
exactly as listed below; tests depend on them. Filler records follow. Filler claims never pair
provider 110048577A with members 100000000001, 100000000004 or 100000000015, and use no other
scenario member at all, so queries about the scenarios return exactly the scenario claims.
Tests use "today" = 2026-06-15; filler data is dated on or before AS_OF (2026-06-14).

Python 3.11 standard library only.
"""
import argparse
import csv
import datetime as dt
import random
import sys
from pathlib import Path

SEED = 20260615
AS_OF = dt.date(2026, 6, 14)  # the data set's extract date: nothing filler happens after it
OPEN_END = "2099-12-31"
COVERAGE_START = dt.date(2020, 1, 1)

# Column order = the loader's (src/payer/load.rs: PROVIDER_COLUMNS, MEMBER_COLUMNS, CLAIM_COLUMNS).
PROVIDER_COLUMNS = ["provider_id", "npi", "entity_type", "name", "first_name", "status"]
MEMBER_COLUMNS = [
    "record", "member_id", "last_name", "first_name", "middle_name", "birth_date", "gender",
    "ssn", "dcf_id", "dys_id", "address", "city", "state", "zip", "death_date", "start_date",
    "end_date", "status", "plan_code", "plan_name", "insurance_type", "carrier_code",
    "carrier_name", "policy_number", "pcp_provider_id",
]
CLAIM_COLUMNS = [
    "payer_claim_number", "patient_control_number", "provider_id", "member_id", "service_from",
    "service_to", "billed", "paid", "status", "received_date", "adjudication_date",
    "payment_number", "payment_date", "status_code", "bill_type",
]


# ---- helpers ------------------------------------------------------------------------------

def npi_check_ok(npi):
    """Same rule as is_valid_npi (src/x12/validate/rules.rs): Luhn over 80840 + the 10 digits."""
    if len(npi) != 10 or not npi.isdigit():
        return False
    total = 24  # the prefix 80840 contributes a constant 24
    for i, ch in enumerate(reversed(npi[:9])):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return (10 - total % 10) % 10 == int(npi[9])


def npi(base):
    """A valid NPI for a 9-digit base (like npi() in src/x12/sample.rs)."""
    digits = f"{base % 1_000_000_000:09d}"
    for c in range(10):
        if npi_check_ok(digits + str(c)):
            return digits + str(c)
    raise AssertionError("unreachable: one check digit always fits")


def iso(d):
    return d.isoformat()


def money(cents):
    return f"{cents // 100}.{cents % 100:02d}"


def row(columns, **values):
    unknown = set(values) - set(columns)
    assert not unknown, unknown
    return [values.get(c, "") for c in columns]


# ---- scenario records (fixtures/plan/README.md) -------------------------------------------

# Real NPIs start with 1 or 2; these (like the filler ones) start with 9, so they belong to nobody.
# 1234567893 (the demo hospital's) is the well-known example NPI.
PCP_NPI = npi(922_011_223)
CLOSED_NPI = npi(933_022_334)
OTHER_NPI = npi(944_033_445)

SCENARIO_PROVIDERS = [
    dict(provider_id="110048577A", npi="1234567893", entity_type="2",
         name="DEMO COMMUNITY HOSPITAL", status="active"),
    dict(provider_id="220011223B", npi=PCP_NPI, entity_type="1", name="WELBY",
         first_name="MARCUS", status="active"),
    dict(provider_id="330022334C", npi=CLOSED_NPI, entity_type="2", name="CLOSED CLINIC",
         status="inactive"),
    dict(provider_id="440033445D", npi=OTHER_NPI, entity_type="2", name="OTHER PARTNER CLINIC",
         status="active"),
    dict(provider_id="550044556E", entity_type="1", name="HOUSE", first_name="GREGORY",
         status="active"),
]

STD = dict(plan_code="STD", plan_name="STANDARD PLAN", insurance_type="MC")


def active_coverage(start="2020-01-01", end=OPEN_END):
    return dict(record="coverage", start_date=start, end_date=end, status="active", **STD)


def scenario_address(n):
    """Fixed fake addresses for scenario members the brief gives no address for."""
    return dict(address=f"{100 + n} SCENARIO WAY", city="SPRINGFIELD", state="MA", zip="01101")


JANE_ADDRESS = dict(address="1 MAIN ST", city="BOSTON", state="MA", zip="02101")

# (member fields, spans)
SCENARIO_MEMBERS = [
    (dict(member_id="100000000001", last_name="DOE", first_name="JANE", middle_name="A",
          birth_date="1985-03-12", gender="F", ssn="900000001", **JANE_ADDRESS),
     [active_coverage()]),
    (dict(member_id="100000000002", last_name="ROE", first_name="RICHARD",
          birth_date="1970-11-30", gender="M", **scenario_address(2)),
     [dict(record="coverage", start_date="2020-01-01", end_date=OPEN_END, status="inactive",
           **STD)]),
    (dict(member_id="100000000003", last_name="PARTIAL", first_name="PAT",
          birth_date="1990-01-15", gender="F", **scenario_address(3)),
     [active_coverage(end="2026-06-05")]),
    (dict(member_id="100000000004", last_name="MCO", first_name="MARIA",
          birth_date="1988-08-08", gender="F", **scenario_address(4)),
     [active_coverage(),
      dict(record="managed_care", start_date="2024-01-01", end_date=OPEN_END,
           plan_code="MCO01", plan_name="DEMO MCO PLAN", pcp_provider_id="220011223B")]),
    (dict(member_id="100000000005", last_name="PCC", first_name="PETER",
          birth_date="1979-05-05", gender="M", **scenario_address(5)),
     [active_coverage(),
      dict(record="pcc", start_date="2023-01-01", end_date=OPEN_END,
           pcp_provider_id="550044556E")]),
    (dict(member_id="100000000006", last_name="COB", first_name="CAROL",
          birth_date="1965-12-01", gender="F", **scenario_address(6)),
     [active_coverage(),
      dict(record="other_insurance", start_date="2022-01-01", end_date=OPEN_END,
           carrier_code="BCX01", carrier_name="BLUE CARRIER INSURANCE",
           policy_number="POL12345", insurance_type="C1")]),
    (dict(member_id="100000000007", last_name="QMB", first_name="QUINCY",
          birth_date="1950-02-20", gender="M", **scenario_address(7)),
     [active_coverage(),
      dict(record="qmb", start_date="2021-01-01", end_date=OPEN_END)]),
    # The LEE twins: two members, identical demographics (and address).
    (dict(member_id="100000000008", last_name="LEE", first_name="CHRIS",
          birth_date="2010-07-04", gender="M", **scenario_address(8)),
     [active_coverage()]),
    (dict(member_id="100000000009", last_name="LEE", first_name="CHRIS",
          birth_date="2010-07-04", gender="M", **scenario_address(8)),
     [active_coverage()]),
    (dict(member_id="100000000010", last_name="AGENCY", first_name="ALEX",
          birth_date="2005-09-09", gender="M", dcf_id="DCF0000123", **scenario_address(10)),
     [active_coverage()]),
    (dict(member_id="100000000011", last_name="YOUTH", first_name="YVONNE",
          birth_date="2007-10-10", gender="F", dys_id="DYS0000456", **scenario_address(11)),
     [active_coverage()]),
    (dict(member_id="100000000012", last_name="LATE", first_name="LARRY",
          birth_date="1940-04-04", gender="M", death_date="2026-01-10", **scenario_address(12)),
     [active_coverage(end="2026-01-10")]),
    (dict(member_id="100000000013", last_name="NEWBORN", first_name="NINA",
          birth_date="2026-06-01", gender="F", **scenario_address(13)),
     [active_coverage(start="2026-06-01")]),
    (dict(member_id="100000000014", last_name="O'BRIEN", first_name="SEAN",
          birth_date="1982-03-17", gender="M", **scenario_address(14)),
     [active_coverage()]),
    (dict(member_id="100000000015", last_name="DOE", first_name="TIMMY",
          birth_date="2015-02-02", gender="M", **JANE_ADDRESS),
     [active_coverage()]),
    (dict(member_id="100000000016", last_name="SMITH", first_name="UNI",
          birth_date="1999-09-09", gender="U", **scenario_address(16)),
     [active_coverage()]),
]

SCENARIO_CLAIMS = [
    dict(payer_claim_number="PCN0000001", patient_control_number="RECV-0001",
         provider_id="110048577A", member_id="100000000001", service_from="2026-05-01",
         service_to="2026-05-01", billed="150.00", status="received",
         received_date="2026-05-03"),
    dict(payer_claim_number="PCN0000002", patient_control_number="SUSP-0002",
         provider_id="110048577A", member_id="100000000001", service_from="2026-05-02",
         service_to="2026-05-02", billed="200.00", status="suspended",
         received_date="2026-05-04"),
    dict(payer_claim_number="PCN0000003", patient_control_number="PAID-0003",
         provider_id="110048577A", member_id="100000000001", service_from="2026-04-10",
         service_to="2026-04-12", billed="1200.50", paid="980.25", status="paid",
         received_date="2026-04-15", adjudication_date="2026-04-20",
         payment_number="CHK000123", payment_date="2026-04-22"),
    dict(payer_claim_number="PCN0000004", patient_control_number="DENY-0004",
         provider_id="110048577A", member_id="100000000001", service_from="2026-03-05",
         service_to="2026-03-05", billed="75.00", status="denied",
         received_date="2026-03-07", adjudication_date="2026-03-10", status_code="88"),
    dict(payer_claim_number="PCN0000005", patient_control_number="OTHR-0005",
         provider_id="440033445D", member_id="100000000001", service_from="2026-05-01",
         service_to="2026-05-01", billed="60.00", status="received",
         received_date="2026-05-02"),
    dict(payer_claim_number="PCN0000006", patient_control_number="MULTI-0006",
         provider_id="110048577A", member_id="100000000004", service_from="2026-02-10",
         service_to="2026-02-10", billed="100.00", paid="80.00", status="paid",
         received_date="2026-02-12", adjudication_date="2026-03-01",
         payment_number="EFT0000777", payment_date="2026-03-03"),
    dict(payer_claim_number="PCN0000007", patient_control_number="MULTI-0007",
         provider_id="110048577A", member_id="100000000004", service_from="2026-02-20",
         service_to="2026-02-20", billed="250.00", paid="200.00", status="paid",
         received_date="2026-02-22", adjudication_date="2026-03-01",
         payment_number="EFT0000777", payment_date="2026-03-03"),
    dict(payer_claim_number="PCN0000008", patient_control_number="CHILD-0008",
         provider_id="110048577A", member_id="100000000015", service_from="2026-05-20",
         service_to="2026-05-20", billed="90.00", status="received",
         received_date="2026-05-21"),
]

SCENARIO_PROVIDER_IDS = [p["provider_id"] for p in SCENARIO_PROVIDERS]
SCENARIO_MEMBER_IDS = [m["member_id"] for m, _ in SCENARIO_MEMBERS]


# ---- filler vocabulary (invented) ---------------------------------------------------------

SURNAME_HEADS = [
    "BRAN", "CAL", "DOR", "FEN", "GAR", "HAL", "KES", "LOR", "MAR", "NOR", "PEL", "QUIL",
    "RAD", "SAL", "TAR", "VEL", "WIN", "ZEL", "ASH", "BEL", "COR", "DRAV", "ELM", "FARN",
]
SURNAME_TAILS = [
    "WICK", "MORE", "DALE", "TON", "STEAD", "FORD", "LEY", "BURN", "HOLT", "RIDGE", "VALE",
    "WORTH", "BECK", "COMBE", "GATE", "HURST",
]
FEMALE_NAMES = [
    "ADA", "BEA", "CORA", "DELIA", "EDIE", "FAYE", "GWEN", "HAZEL", "IVY", "JUNE", "KIRA",
    "LENA", "MAE", "NORA", "OPAL", "PIA", "RHEA", "SILA", "TESS", "VERA", "WREN", "ZOLA",
]
MALE_NAMES = [
    "ABE", "BO", "CAL", "DEX", "ELI", "FINN", "GUS", "HUGO", "IKE", "JUDE", "KAI", "LEO",
    "MILO", "NED", "OTIS", "PIM", "REX", "SOL", "TAD", "VIC", "WES", "ZED",
]
UNISEX_NAMES = ["ARI", "BLAKE", "CASEY", "DANA", "EMERY", "JORDAN", "QUINN", "ROWAN"]
STREET_WORDS = [
    "ACORN", "BIRCHWOOD", "CIDER MILL", "DUNMORE", "EAGLE PASS", "FOXGLOVE", "GRANITE",
    "HARBORVIEW", "INKWELL", "JUNIPER", "KETTLE POND", "LANTERN", "MAPLEFIELD", "NUTMEG",
    "ORCHARD HILL", "PINECREST", "QUARRY", "RIVERBEND", "SAWMILL", "TIDEWATER",
]
STREET_TYPES = ["ST", "AVE", "RD", "LN", "DR", "WAY", "CT"]
CITIES = [  # (city, zip) pairs in MA; street addresses are invented
    ("BOSTON", "02118"), ("WORCESTER", "01604"), ("SPRINGFIELD", "01109"),
    ("LOWELL", "01852"), ("CAMBRIDGE", "02139"), ("BROCKTON", "02301"),
    ("NEW BEDFORD", "02740"), ("QUINCY", "02169"), ("LYNN", "01902"), ("FALL RIVER", "02720"),
    ("PITTSFIELD", "01201"), ("SALEM", "01970"),
]
ORG_NAMES = [
    "NORTHSHORE FAMILY HEALTH", "PIONEER VALLEY CLINIC", "HARBOR POINT MEDICAL GROUP",
    "BAYSIDE PEDIATRICS", "GRANITE HILLS HOSPITAL", "RIVERBEND DIALYSIS CENTER",
    "CAPE LIGHT BEHAVIORAL HEALTH", "MERRIMACK IMAGING", "BERKSHIRE RURAL HEALTH CENTER",
    "SOUTH COAST DENTAL ASSOCIATES", "MILL CITY URGENT CARE", "CENTRAL MA HOME HEALTH",
    "LANTERN LANE PHARMACY", "QUARRY STREET LABORATORY", "TIDEWATER REHABILITATION",
]
MCO_PLANS = [("MCO01", "DEMO MCO PLAN"), ("MCO02", "SAMPLE HEALTH MCO"),
             ("MCO03", "EXAMPLE CARE PARTNERS")]
CARRIERS = [("BCX01", "BLUE CARRIER INSURANCE", "C1"), ("HMX02", "EXAMPLE HMO OF MA", "HM"),
            ("PPX03", "SAMPLE PPO COMPANY", "PR"), ("MCR04", "DEMO MEDICARE PART B", "MB")]
DENIAL_CODES = ["88", "107", "116", "562"]


# ---- providers ----------------------------------------------------------------------------

def filler_providers(rng):
    used_ids = set(SCENARIO_PROVIDER_IDS)
    used_npis = {p.get("npi", "") for p in SCENARIO_PROVIDERS}
    used_names = set()
    out = []
    orgs = list(ORG_NAMES)
    rng.shuffle(orgs)
    for i in range(40):
        person = i % 5 not in (1, 3)  # 24 people, 16 organizations
        while True:
            base = rng.randrange(600_000_000, 999_999_999)
            pid = f"{base:09d}{chr(ord('A') + rng.randrange(26))}"
            n = npi(rng.randrange(900_000_000, 999_999_999))
            if pid not in used_ids and n not in used_npis:
                break
        used_ids.add(pid)
        used_npis.add(n)
        p = dict(provider_id=pid, npi=n, status="active")
        if person:
            while True:
                last = rng.choice(SURNAME_HEADS) + rng.choice(SURNAME_TAILS)
                first = rng.choice(FEMALE_NAMES + MALE_NAMES)
                if (last, first) not in used_names:
                    break
            used_names.add((last, first))
            p.update(entity_type="1", name=last, first_name=first)
        else:
            p.update(entity_type="2", name=orgs.pop() if orgs else f"DEMO CLINIC {i}")
        if i in (7, 22):
            p["npi"] = ""  # a couple of atypical providers without an NPI
        if i in (4, 19, 33):
            p["status"] = "inactive"
        out.append(p)
    # A second service location of the first filler organization: same 9 digits, next letter.
    org = next(p for p in out if p["entity_type"] == "2" and p["status"] == "active")
    loc = org["provider_id"][:9] + ("B" if org["provider_id"][9] != "B" else "C")
    assert loc not in used_ids
    n = npi(int(org["npi"][:9]) + 1)
    assert n not in used_npis
    out.append(dict(provider_id=loc, npi=n, entity_type="2", name=org["name"] + " ANNEX",
                    status="active"))
    return out


# ---- members ------------------------------------------------------------------------------

def random_date(rng, start, end):
    return start + dt.timedelta(days=rng.randrange((end - start).days + 1))


def filler_members(rng, pcps):
    """300 members 200000000001..200000000300 with their spans; returns (rows, coverage)."""
    scenario_demo = {(m["last_name"], m["first_name"], m["birth_date"])
                     for m, _ in SCENARIO_MEMBERS}
    seen_demo = set()
    members = []
    coverage = {}  # member_id -> list of (start, end) active coverage, birth, death
    ssn_numbers = rng.sample(range(10_000, 99_999_999), 300)
    for i in range(300):
        member_id = f"2{i + 1:011d}"
        r = rng.random()
        gender = "F" if r < 0.49 else "M" if r < 0.98 else "U"
        names = FEMALE_NAMES if gender == "F" else MALE_NAMES if gender == "M" else UNISEX_NAMES
        while True:
            last = rng.choice(SURNAME_HEADS) + rng.choice(SURNAME_TAILS)
            if i % 37 == 5:
                last += "-" + rng.choice(SURNAME_HEADS) + rng.choice(SURNAME_TAILS)
            elif i % 53 == 9:
                last += " JR"
            first = rng.choice(names)
            birth = random_date(rng, dt.date(1938, 1, 1), dt.date(2024, 12, 31))
            key = (last, first, iso(birth))
            if key not in seen_demo and key not in scenario_demo:
                break
        seen_demo.add(key)
        city, zip_code = rng.choice(CITIES)
        m = dict(record="member", member_id=member_id, last_name=last, first_name=first,
                 birth_date=iso(birth), gender=gender,
                 address=f"{rng.randrange(1, 999)} {rng.choice(STREET_WORDS)} "
                         f"{rng.choice(STREET_TYPES)}",
                 city=city, state="MA", zip=zip_code)
        if rng.random() < 0.3:
            m["middle_name"] = chr(ord("A") + rng.randrange(26))
        if rng.random() < 0.85:
            m["ssn"] = f"9{ssn_numbers[i]:08d}"
        age_2026 = 2026 - birth.year
        if age_2026 < 21 and rng.random() < 0.08:
            m["dcf_id"] = f"DCF{1_000_000 + i:07d}"
        elif 12 <= age_2026 < 21 and rng.random() < 0.08:
            m["dys_id"] = f"DYS{1_000_000 + i:07d}"

        start = max(COVERAGE_START, birth)
        end = dt.date(2099, 12, 31)
        death = None
        if age_2026 >= 75 and rng.random() < 0.15:
            death = random_date(rng, dt.date(2025, 1, 1), dt.date(2026, 3, 31))
            m["death_date"] = iso(death)
            end = death
        spans = []
        plan = rng.random()
        cov = dict(STD) if plan < 0.8 else dict(plan_code="FAM",
                                                plan_name="FAMILY ASSISTANCE PLAN")
        # FAM rows leave insurance_type empty: the loader defaults coverage to MC.
        kind = rng.random()
        active_spans = []
        if kind < 0.07:  # inactive throughout
            spans.append(dict(record="coverage", start_date=iso(start), end_date=iso(end),
                              status="inactive", **cov))
        elif kind < 0.12 and death is None:  # coverage lapsed in 2025, inactive since
            stop = random_date(rng, dt.date(2025, 1, 31), dt.date(2025, 12, 31))
            spans.append(dict(record="coverage", start_date=iso(start), end_date=iso(stop),
                              status="active", **cov))
            spans.append(dict(record="coverage", start_date=iso(stop + dt.timedelta(days=1)),
                              end_date=OPEN_END, status="inactive", **cov))
            active_spans.append((start, stop))
        else:
            spans.append(dict(record="coverage", start_date=iso(start), end_date=iso(end),
                              status="active", **cov))
            active_spans.append((start, end))
            extra = rng.random()
            if extra < 0.15:
                code, name = rng.choice(MCO_PLANS)
                mc_start = max(start, dt.date(rng.choice([2022, 2023, 2024, 2025]), 1, 1))
                mc = dict(record="managed_care", start_date=iso(mc_start), end_date=iso(end),
                          plan_code=code, plan_name=name)
                if rng.random() < 0.8:
                    mc["pcp_provider_id"] = rng.choice(pcps)
                if rng.random() < 0.25 and mc_start < dt.date(2025, 7, 1) <= end:
                    # switched MCO on 2025-07-01
                    mc["end_date"] = "2025-06-30"
                    spans.append(mc)
                    code2, name2 = next(p for p in MCO_PLANS if p[0] != code)
                    mc = dict(record="managed_care", start_date="2025-07-01",
                              end_date=iso(end), plan_code=code2, plan_name=name2,
                              pcp_provider_id=rng.choice(pcps))
                spans.append(mc)
            elif extra < 0.23:
                pcc_start = max(start, dt.date(rng.choice([2021, 2023, 2025]), 1, 1))
                spans.append(dict(record="pcc", start_date=iso(pcc_start), end_date=iso(end),
                                  pcp_provider_id=rng.choice(pcps)))
            elif extra < 0.33 and age_2026 >= 18:
                code, name, ins = rng.choice(CARRIERS)
                oi_start = max(start, random_date(rng, dt.date(2020, 1, 1),
                                                  dt.date(2025, 12, 31)))
                oi_end = end if rng.random() < 0.7 else min(
                    end, random_date(rng, oi_start, dt.date(2026, 5, 31)))
                spans.append(dict(record="other_insurance", start_date=iso(oi_start),
                                  end_date=iso(oi_end), carrier_code=code,
                                  carrier_name=name,
                                  policy_number=f"POL{rng.randrange(10**7, 10**8)}",
                                  insurance_type=ins))
            if age_2026 >= 65 and rng.random() < 0.35:
                spans.append(dict(record="qmb", start_date=iso(max(start, dt.date(2021, 1, 1))),
                                  end_date=iso(end)))
        members.append((m, spans))
        coverage[member_id] = (active_spans, birth)
    return members, coverage


# ---- claims -------------------------------------------------------------------------------

def next_weekday(d, weekday):
    """The first date strictly after d that falls on weekday (0 = Monday)."""
    d += dt.timedelta(days=1)
    while d.weekday() != weekday:
        d += dt.timedelta(days=1)
    return d


def filler_claims(rng, providers, coverage):
    billers = [p for p in providers if p["status"] == "active"]
    billers.append(SCENARIO_PROVIDERS[0])  # the demo hospital bills filler members too
    closed = [p for p in providers if p["status"] == "inactive"]
    organizations = {p["provider_id"] for p in billers + closed if p["entity_type"] == "2"}
    member_ids = sorted(coverage)
    pcns = set()
    out = []
    first_day, last_day = dt.date(2025, 1, 1), dt.date(2026, 6, 10)
    while len(out) < 500:
        # Inactive providers only bill before mid-2025 (they closed afterwards).
        if closed and rng.random() < 0.04:
            prov = rng.choice(closed)
            service_from = random_date(rng, first_day, dt.date(2025, 5, 31))
        else:
            prov = rng.choice(billers)
            service_from = random_date(rng, first_day, last_day)
        service_to = service_from + dt.timedelta(
            days=rng.choice([0, 0, 0, 0, 0, 1, 2, 3]))
        member_id = rng.choice(member_ids)
        spans, birth = coverage[member_id]
        if service_from < birth or not any(s <= service_from and service_to <= e
                                           for s, e in spans):
            continue
        received = min(AS_OF, service_to + dt.timedelta(days=rng.randrange(1, 15)))
        age = (AS_OF - received).days
        r = rng.random()
        if age < 30:  # recent: mostly not adjudicated yet
            status = "received" if r < 0.6 else "suspended" if r < 0.85 else "denied"
        else:
            status = "paid" if r < 0.72 else "denied" if r < 0.9 else "suspended"
        billed = rng.randrange(2_500, 500_000) if prov["entity_type"] == "2" else \
            rng.randrange(2_500, 60_000)
        claim = dict(provider_id=prov["provider_id"], member_id=member_id,
                     service_from=iso(service_from), service_to=iso(service_to),
                     billed=money(billed), received_date=iso(received))
        if status == "paid":
            adjudicated = received + dt.timedelta(days=rng.randrange(5, min(20, age - 3) + 1))
            paid_on = next_weekday(adjudicated, 2)  # payment cycle: Wednesdays
            if paid_on > AS_OF:
                status = "suspended"
            else:
                claim.update(paid=money(billed * rng.randrange(55, 96) // 100),
                             adjudication_date=iso(adjudicated), payment_date=iso(paid_on))
        if status == "denied":
            adjudicated = min(AS_OF, received + dt.timedelta(days=rng.randrange(1, 11)))
            claim.update(adjudication_date=iso(adjudicated),
                         status_code=rng.choice(DENIAL_CODES))
        claim["status"] = status
        if prov["entity_type"] == "2" and rng.random() < 0.5:
            claim["bill_type"] = rng.choice(["131", "111", "721", "141"])
        while True:
            pcn = f"PT{rng.randrange(10**7, 10**8)}"
            if pcn not in pcns:
                break
        pcns.add(pcn)
        claim["patient_control_number"] = pcn
        out.append(claim)
    out.sort(key=lambda c: (c["received_date"], c["provider_id"], c["patient_control_number"]))
    for n, c in enumerate(out):
        c["payer_claim_number"] = f"PCN{1_000_000 + n:07d}"
    # One payment (check for people, EFT for organizations) per provider and payment date,
    # numbered in payment-date order.
    payment_numbers = {}
    next_eft, next_chk = 1_000_001, 100_001
    for c in sorted((c for c in out if c["status"] == "paid"),
                    key=lambda c: (c["payment_date"], c["provider_id"])):
        key = (c["provider_id"], c["payment_date"])
        if key not in payment_numbers:
            if c["provider_id"] in organizations:
                payment_numbers[key] = f"EFT{next_eft:07d}"
                next_eft += 1
            else:
                payment_numbers[key] = f"CHK{next_chk:06d}"
                next_chk += 1
        c["payment_number"] = payment_numbers[key]
    return out


# ---- output -------------------------------------------------------------------------------

def write_csv(path, columns, rows):
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(columns)
        for r in rows:
            w.writerow(row(columns, **r))


def check(providers, members, claims):
    """Cheap self-checks of the rules the tests rely on."""
    assert npi_check_ok("1234567893")
    for p in providers:
        assert len(p["provider_id"]) == 10 and p["provider_id"].isalnum(), p
        assert not p.get("npi") or npi_check_ok(p["npi"]), p
    assert len({p["provider_id"] for p in providers}) == len(providers)
    ids = [m["member_id"] for m, _ in members]
    assert len(set(ids)) == len(ids) and all(len(i) == 12 and i.isdigit() for i in ids)
    for m, _ in members:
        assert not m.get("ssn") or (m["ssn"][0] == "9" and len(m["ssn"]) == 9), m
        assert m["state"] == "MA", m
    pcns = [c["payer_claim_number"] for c in claims]
    assert len(set(pcns)) == len(pcns)
    for c in claims[len(SCENARIO_CLAIMS):]:
        assert c["member_id"] not in SCENARIO_MEMBER_IDS, c
        assert c["received_date"] >= c["service_to"] and c["received_date"] <= iso(AS_OF), c


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path,
                    default=Path(__file__).resolve().parents[2] / "fixtures" / "plan",
                    help="output directory (default: fixtures/plan)")
    args = ap.parse_args(argv)
    rng = random.Random(SEED)

    providers = [dict(p) for p in SCENARIO_PROVIDERS] + filler_providers(rng)
    pcps = [p["provider_id"] for p in providers[len(SCENARIO_PROVIDERS):]
            if p["entity_type"] == "1" and p["status"] == "active" and p["npi"]]
    fill, coverage = filler_members(rng, pcps)
    members = [(dict(record="member", **m), spans) for m, spans in SCENARIO_MEMBERS] + fill
    claims = [dict(c) for c in SCENARIO_CLAIMS] + filler_claims(
        rng, providers[len(SCENARIO_PROVIDERS):], coverage)
    check(providers, members, claims)

    args.out.mkdir(parents=True, exist_ok=True)
    write_csv(args.out / "providers.csv", PROVIDER_COLUMNS, providers)
    member_rows = []
    for m, spans in members:
        member_rows.append(m)
        member_rows.extend(dict(member_id=m["member_id"], **s) for s in spans)
    write_csv(args.out / "members.csv", MEMBER_COLUMNS, member_rows)
    write_csv(args.out / "claims.csv", CLAIM_COLUMNS, claims)
    spans = sum(len(s) for _, s in members)
    print(f"{args.out}: {len(providers)} providers, {len(members)} members ({spans} spans), "
          f"{len(claims)} claims", file=sys.stderr)


if __name__ == "__main__":
    main()
