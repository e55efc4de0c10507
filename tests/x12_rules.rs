//! One test per validation rule: a valid fixture with a single fault, and the exact codes the
//! TA1/999 must carry for it.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod common;

use common::{edit, fixture, remove, summary};
use hts_gateway::x12::{validate, validate_reader};

fn base() -> String {
    fixture("837P_two_claims.x12")
}

/// Validates and returns the summary, asserting the payload is rejected.
fn rejected(text: &str) -> String {
    let r = validate(text.as_bytes());
    let s = summary(&r);
    assert!(!r.accepted(), "expected a rejection, got: {s}");
    s
}

fn assert_has(text: &str, expected: &str) {
    let s = rejected(text);
    assert!(s.contains(expected), "expected {expected:?} in:\n{s}");
}

const ISA: &str = "ISA*00*          *00*          *ZZ*1100485770     *ZZ*MASSHEALTH     *261120*0930*^*00501*000000101*1*T*:";

fn with_isa(field: usize, value: &str) -> String {
    let mut f: Vec<String> = ISA.split('*').map(String::from).collect();
    f[field] = value.to_string();
    edit(&base(), "ISA*", &f.join("*"))
}

#[test]
fn the_fixture_is_valid() {
    let r = validate(base().as_bytes());
    assert!(r.accepted(), "{}", summary(&r));
    assert_eq!(summary(&r), "TA1 A 000 | AK9 A | 837 0001 A");
}

// ---- interchange: TA1 note codes ----

#[test]
fn isa_fields() {
    let cases: &[(usize, &str, &str)] = &[
        (1, "99", "TA1 R 010"),
        (3, "77", "TA1 R 012"),
        (5, "XX", "TA1 R 005"),
        (6, "1100485770    ", "TA1 R 006"), // 14 characters: the commonest pre-compliance failure
        (8, "MASSHEALTH      ", "TA1 R 008"),
        (9, "261340", "TA1 R 014"),
        (10, "2561", "TA1 R 015"),
        (12, "00401", "TA1 R 017"),
        (13, "00000010A", "TA1 R 018"),
        (14, "2", "TA1 R 019"),
        (15, "X", "TA1 R 020"),
        (16, "^", "TA1 R 027"), // ISA16 equal to the repetition separator ISA11
    ];
    for (field, value, expected) in cases {
        let s = rejected(&with_isa(*field, value));
        assert!(
            s.starts_with(expected),
            "ISA{field:02}={value:?}: expected {expected}, got {s}"
        );
    }
}

#[test]
fn iea_count_and_control_number() {
    assert_has(&edit(&base(), "IEA", "IEA*1*000000999"), "TA1 R 001");
    assert_has(&edit(&base(), "IEA", "IEA*2*000000101"), "TA1 R 021");
}

#[test]
fn truncated_interchange() {
    let t = base();
    let cut = &t[..t.find("SE*").unwrap()];
    let s = rejected(cut);
    assert!(s.starts_with("TA1 R 023"), "{s}");
    assert!(s.contains("AK9 R 3"), "{s}");
    assert!(s.contains("837 0001 R 2"), "{s}");
}

#[test]
fn duplicate_interchange_control_number() {
    let t = base();
    let s = rejected(&format!("{t}{t}"));
    assert_eq!(s.matches("TA1").count(), 2);
    assert!(s.contains("TA1 R 025"), "{s}");
}

#[test]
fn several_interchanges_with_different_delimiters() {
    let second = base()
        .replace('*', "|")
        .replace('~', "!")
        .replace("|:!", "|>!")
        .replace(":B:1", ">B>1")
        .replace("HC:", "HC>")
        .replace("ABK:", "ABK>")
        .replace("ABF:", "ABF>")
        .replace("1:2", "1>2")
        .replace("000000101", "000000102");
    let r = validate(format!("{}\r\n{second}", base()).as_bytes());
    assert_eq!(r.interchanges.len(), 2);
    assert!(r.accepted(), "{}", summary(&r));
}

#[test]
fn byte_order_mark_crlf_and_indentation_are_tolerated() {
    let t = format!("\u{FEFF}{}", base().replace("~\n", "~\r\n  "));
    let r = validate(t.as_bytes());
    assert!(r.accepted(), "{}", summary(&r));
    assert!(!r.notes.is_empty() && !r.interchanges[0].warnings.is_empty());
}

#[test]
fn data_outside_an_interchange() {
    let s = rejected(&format!("HELLO{}", base()));
    assert!(s.starts_with("NOTE"), "{s}");
    assert!(rejected("not x12 at all").starts_with("NOTE"));
    assert!(rejected("").starts_with("NOTE"));
}

#[test]
fn received_ta1_is_checked() {
    let ta1 = format!("{ISA}~TA1*000000007*261120*0930*A*000~IEA*0*000000101~");
    assert!(validate(ta1.as_bytes()).accepted());
    assert_has(&ta1.replace("*A*000", "*Q*000"), "TA1 R 024");
}

// ---- functional group: AK9 codes ----

#[test]
fn group_trailer() {
    assert_has(&edit(&base(), "GE", "GE*2*101"), "AK9 R 5");
    assert_has(&edit(&base(), "GE", "GE*1*102"), "AK9 R 4");
    assert_has(&remove(&base(), "GE"), "AK9 R 3");
}

#[test]
fn group_header() {
    let gs = "GS*HC*1100485770*MASSHEALTH*20261120*0930*101*X*005010X222A1";
    assert_has(
        &edit(&base(), "GS", &gs.replace("GS*HC", "GS*HI")),
        "AK9 R 1",
    ); // 278: a group we do not take
    assert_has(
        &edit(&base(), "GS", &gs.replace("GS*HC", "GS*ZZ")),
        "TA1 R 024",
    );
    assert_has(
        &edit(&base(), "GS", &gs.replace("X222A1", "X222A2")),
        "AK9 R 2",
    );
    assert_has(
        &edit(&base(), "GS", &gs.replace("*101*", "*1A1*")),
        "TA1 R 024",
    );
    assert_has(
        &edit(&base(), "GS", &gs.replace("20261120", "20261131")),
        "TA1 R 024",
    );
    let two = base().replacen("GE*1*101~\n", "GE*1*101~\nGS*HC*1100485770*MASSHEALTH*20261120*0930*101*X*005010X222A1~\nST*837*0002*005010X222A1~\nSE*2*0002~\nGE*1*101~\n", 1).replace("IEA*1*", "IEA*2*");
    assert_has(&two, "AK9 R 19");
}

// ---- transaction set: IK5 codes ----

#[test]
fn set_trailer_and_header() {
    assert_has(&edit(&base(), "SE", "SE*44*0001"), "837 0001 R 4");
    assert_has(&edit(&base(), "SE", "SE*45*0002"), "837 0001 R 3");
    assert_has(&remove(&base(), "SE"), "837 0001 R 2");
    assert_has(
        &edit(&base(), "ST", "ST*270*0001*005010X222A1"),
        "270 0001 R 6",
    );
    assert_has(
        &edit(&base(), "ST", "ST*837*01*005010X222A1"),
        "837 01 R 3 5 7",
    );
    assert_has(
        &edit(&base(), "ST", "ST*837*0001*005010X223A2"),
        "IK3 ST@1 8 [3 1705 7]",
    );
}

#[test]
fn duplicate_set_control_number() {
    let t = base();
    let st = &t[t.find("ST*").unwrap()..t.find("GE*").unwrap()];
    let two = t.replacen("GE*1*", &format!("{st}GE*2*"), 1);
    assert_has(&two, "837 0001 R 23");
}

// ---- segments: IK3 codes ----

#[test]
fn unknown_and_misplaced_segments() {
    assert_has(&edit(&base(), "PRV", "ZZZ*1"), "IK3 ZZZ@7 1");
    assert_has(
        &edit(&base(), "PRV", "prv*BI*PXC*207Q00000X"),
        "IK3 prv@7 1",
    );
    // N3 and N4 of the billing provider swapped.
    let swapped = base().replace(
        "N3*100 MAIN STREET~\nN4*BOSTON*MA*021081234~",
        "N4*BOSTON*MA*021081234~\nN3*100 MAIN STREET~",
    );
    assert_ne!(swapped, base());
    let s = rejected(&swapped);
    // N4 arrives where N3 is required (N3 missing), then N3 fits nowhere after it.
    assert!(s.contains("IK3 N3@9 3") && s.contains("IK3 N3@10 1"), "{s}");
}

#[test]
fn required_segment_and_loop_missing() {
    assert_has(&remove(&base(), "N4*BOSTON*MA*021081234"), "IK3 N4@10 3");
    assert_has(&remove(&base(), "NM1*PR"), "IK3 NM1@18 3");
}

#[test]
fn maximum_use_and_repeat() {
    let t = base();
    assert_has(
        &t.replacen(
            "REF*EI*043210987~",
            "REF*EI*043210987~\nREF*EI*043210987~",
            1,
        ),
        "IK3 REF@12 5",
    );
    assert_has(
        &t.replacen(
            "NM1*40*2*MASSHEALTH*****46*MASSHEALTH~",
            "NM1*40*2*MASSHEALTH*****46*MASSHEALTH~\nNM1*40*2*MASSHEALTH*****46*MASSHEALTH~",
            1,
        ),
        "IK3 NM1@6 4",
    );
}

// ---- elements: IK4 codes ----

#[test]
fn element_faults() {
    let t = base();
    let cases: &[(&str, &str, &str)] = &[
        (
            "DMG*D8*19800214*F",
            "DMG*D8*19800231*F",
            "IK3 DMG@17 8 [2 1251 8]",
        ),
        (
            "BHT",
            "BHT*0019*00*BATCH0001*20261120*2561*CH",
            "IK3 BHT@2 8 [5 337 9]",
        ),
        (
            "CLM*PCN1001",
            "CLM*PCN1001*150***11:X:1*Y*A*Y*Y",
            "IK3 CLM@19 8 [5:2 1332 7]",
        ),
        (
            "NM1*41",
            &format!("NM1*41*2*{}*****46*1100485770", "A".repeat(61)),
            "IK3 NM1@3 8 [3 1035 5]",
        ),
        (
            "N4*BOSTON*MA*021081234",
            "N4*BOSTON*M*021081234",
            "IK3 N4@10 8 [2 156 4]",
        ),
        (
            "SV1*HC:87880",
            "SV1*HC:87880*5A*UN*1***1",
            "IK3 SV1@25 8 [2 782 6]",
        ),
        (
            "NM1*IL*1*SAMPLE*JANE",
            "NM1*IL*1*SAMPLE*JANE****MI*",
            "IK3 NM1@14 8 [9 67 1]",
        ),
        (
            "SBR*P*18",
            "SBR*P*18*****Y**MC",
            "IK3 SBR@13 8 [7 1073 I10]",
        ),
        (
            "DMG*D8*19800214*F",
            "DMG*D8*19800214*F*********X",
            "IK3 DMG@17 8 [12  3]",
        ),
        ("N3*100", "N3*100 MAIN^STREET", "IK3 N3@9 8 [1 166 12]"),
        ("N3*100", "N3*100 MAIN:STREET", "IK3 N3@9 8 [1 166 6]"),
        (
            "PER*IC",
            "PER*IC*BILLING OFFICE*TE",
            "IK3 PER@4 8 [4 364 1]",
        ),
        (
            "N4*BOSTON*MA*021151234",
            "N4*BOSTON*MA*021151234****X",
            "IK3 N4@16 8 [7 1715 10; 4 26 2]",
        ), // syntax E0207 and C0704
        ("N3*100", "N3*100 MAIN STREET\u{7}", "IK3 N3@9 8 [1 166 6]"),
        (
            "HI*ABK:J069",
            "HI*ABK:J069*:R509",
            "IK3 HI@20 8 [2:1 1270 1]",
        ),
    ];
    for (prefix, with, expected) in cases {
        let s = rejected(&edit(&t, prefix, with));
        assert!(
            s.contains(expected),
            "{with}: expected {expected:?} in\n{s}"
        );
    }
}

#[test]
fn trailing_separator_is_a_segment_error() {
    assert_has(
        &edit(&base(), "PRV", "PRV*BI*PXC*207Q00000X*"),
        "IK3 PRV@7 8",
    );
}

// ---- rules beyond the tables ----

#[test]
fn claim_total_must_equal_line_charges() {
    assert_has(
        &edit(&base(), "CLM*PCN1001", "CLM*PCN1001*160***11:B:1*Y*A*Y*Y"),
        "IK3 CLM@19 8 [2 782 I12]",
    );
}

#[test]
fn npi_check_digit() {
    assert_has(
        &edit(
            &base(),
            "NM1*85",
            "NM1*85*2*RIVERSIDE CLINIC*****XX*1234567890",
        ),
        "IK3 NM1@8 8 [9 67 I12]",
    );
}

#[test]
fn hl_hierarchy() {
    assert_has(&edit(&base(), "HL*3*1*22*1", "HL*3*7*22*1"), "[2 734 I12]");
    assert_has(&edit(&base(), "HL*3*1*22*1", "HL*4*1*22*1"), "[1 628 I12]");
    assert_has(
        &edit(&base(), "HL*3*1*22*1", "HL*3*1*22*0"),
        "IK3 HL@34 8 [2 734 I12]",
    );
    assert_has(
        &edit(&base(), "HL*2*1*22*0", "HL*2*1*22*1"),
        "IK3 HL@12 8 [4 736 I12]",
    );
}

#[test]
fn service_line_numbers() {
    assert_has(&edit(&base(), "LX*2", "LX*3"), "IK3 LX@24 8 [1 554 I12]");
}

#[test]
fn streaming_equals_in_memory() {
    // A reader that hands out 7 bytes at a time exercises every window boundary.
    struct Trickle<'a>(&'a [u8]);
    impl std::io::Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = self.0.len().min(buf.len()).min(7);
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }
    for text in [
        base(),
        edit(&base(), "SE", "SE*9*0001"),
        format!("\u{FEFF}junk{}", base()),
    ] {
        let a = summary(&validate(text.as_bytes()));
        let b = summary(&validate_reader(Trickle(text.as_bytes())).unwrap());
        assert_eq!(a, b);
    }
}

#[test]
fn ls_le_pairing() {
    let t = common::fixture("271_active_with_pcp.x12");
    assert!(
        validate(t.as_bytes()).accepted(),
        "{}",
        summary(&validate(t.as_bytes()))
    );
    assert_has(&remove(&t, "LE*2120"), "IK3 LE@");
    assert_has(&edit(&t, "LE*2120", "LE*2130"), "IK3 LE@17 8 [1 447 7]");
}
