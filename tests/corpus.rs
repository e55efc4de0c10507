//! Every public sample in ../shared/corpus/x12 gets the verdict recorded here.
//! Skipped, saying so, when that folder is absent (it is not part of this repository).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod common;

use std::path::PathBuf;

use hts_gateway::x12::validate;

/// (file, accepted, summary of every verdict the engine gives; see common::summary).
/// Why each rejection is right is noted beside it.
const VERDICTS: &[(&str, bool, &str)] = &[
    (
        "01_270_subscriber.x12",
        true,
        "TA1 A 000 | AK9 A | 270 1234 A",
    ),
    (
        "02_270_dependent.x12",
        true,
        "TA1 A 000 | AK9 A | 270 1234 A",
    ),
    // ISA12 00401 in a 5010 file; GS08 005010X279 lacks the A1 errata suffix.
    (
        "03_270_ig_example_0x1D_terminator.x12",
        false,
        "TA1 R 017 | AK9 R 2 | 270 1234 A",
    ),
    (
        "04_271_subscriber_benefits.x12",
        true,
        "TA1 A 000 | AK9 A | 271 4321 A",
    ),
    (
        "05_271_dependent_benefits.x12",
        true,
        "TA1 A 000 | AK9 A | 271 4321 A",
    ),
    // SE02 4323 vs ST02 4321.
    (
        "06_271_aaa_error_se02_mismatch.x12",
        false,
        "TA1 A 000 | AK9 R | 271 4321 R 3",
    ),
    // NPIs 1234567891, 1987654321, 9995995661 fail the check digit; DMG02 10010101 is no date.
    (
        "07_271_emedny_eligible_other_payer.x12",
        false,
        "TA1 A 000 | AK9 R | 271 00001 R 5 | IK3 NM1@7 8 [9 67 I12] | IK3 DMG@14 8 [2 1251 8] | IK3 NM1@32 8 [9 67 I12] | IK3 NM1@40 8 [9 67 I12]",
    ),
    // ISA11 = ISA16 = '^' (TA1 027); GS01 XX is no functional identifier (024).
    (
        "08_271_aaa_delimiter_collision.x12",
        false,
        "TA1 R 027,024 | AK9 R 2 | 271 4323 R 5 6 | IK3 HL@5 8 [4 736 I12]",
    ),
    // Provider NPIs 1666666661 (bad check digit) and 166666666 (9 digits).
    (
        "09_276_claim_level.x12",
        false,
        "TA1 A 000 | AK9 R | 276 0001 R 5 | IK3 NM1@8 8 [9 67 I12] | IK3 NM1@26 8 [9 67 I12]",
    ),
    (
        "10_276_provider_level.x12",
        false,
        "TA1 A 000 | AK9 R | 276 0001 R 5 | IK3 NM1@8 8 [9 67 I12] | IK3 NM1@18 8 [9 67 I12]",
    ),
    (
        "15_837P_uhin.x12",
        true,
        "TA1 A 000 | AK9 A | 837 800000372 A",
    ),
    // 005010X222A2 is an errata HIPAA did not adopt.
    (
        "16_837P_example1_X222A2.x12",
        false,
        "TA1 A 000 | AK9 R 2 | 837 0021 A",
    ),
    (
        "17_837P_component_sep_mismatch.x12",
        false,
        "TA1 A 000 | AK9 R 2 | 837 3701 R 5 | IK3 NM1@7 8 [9 67 I12]",
    ),
    // Provider NPIs 1666666661 (bad check digit) and 166666666 (9 digits), as in 09.
    (
        "11_277_claim_level.x12",
        false,
        "TA1 A 000 | AK9 R | 277 0001 R 5 | IK3 NM1@8 8 [9 67 I12] | IK3 NM1@26 8 [9 67 I12]",
    ),
    // NPI 1234567891 fails the check digit.
    (
        "12_277_emedny_finalized_paid.x12",
        false,
        "TA1 A 000 | AK9 R | 277 000000001 R 5 | IK3 NM1@8 8 [9 67 I12]",
    ),
    // IEA02 differs from ISA13; NPI 1111111111; STC03/STC12 are 277CA (X214) elements, Not Used in X212.
    (
        "13_277_x212_multi.x12",
        false,
        "TA1 R 001 | AK9 R | 277 0001 R 5 | IK3 NM1@8 8 [9 67 I12] | IK3 STC@12 8 [3 306 I10; 12 933 I10] | IK3 NM1@21 8 [9 67 I12] | IK3 STC@25 8 [3 306 I10; 12 933 I10] | IK3 NM1@34 8 [9 67 I12] | IK3 STC@38 8 [3 306 I10; 12 933 I10] | IK3 NM1@47 8 [9 67 I12] | IK3 STC@51 8 [3 306 I10; 12 933 I10] | IK3 NM1@60 8 [9 67 I12] | IK3 STC@64 8 [3 306 I10; 12 933 I10] | IK3 NM1@73 8 [9 67 I12] | IK3 STC@77 8 [3 306 I10; 12 933 I10] | IK3 NM1@86 8 [9 67 I12] | IK3 STC@90 8 [3 306 I10; 12 933 I10] | IK3 NM1@99 8 [9 67 I12] | IK3 STC@103 8 [3 306 I10; 12 933 I10]",
    ),
    // 277CA: NPI 123456789 has 9 digits; 2200C STC (billing provider status) missing, as pyx12 says.
    (
        "14_277CA_rejected_pipe_component.x12",
        false,
        "TA1 A 000 | AK9 R | 277 000001120 R 5 | IK3 NM1@15 8 [9 67 I12] | IK3 STC@17 3",
    ),
    // SE01 25 for 34 segments; NPI 1234567890 bad check digit; HI written without composites;
    // duplicate HL ID 2 with parent 3; CLM02 500 vs lines 12.25; LX restarts at 2.
    (
        "18_837P_different_separators.x12",
        false,
        "TA1 A 000 | AK9 R | 837 987654 R 4 5 | IK3 NM1@7 8 [9 67 I12] | IK3 HL@16 8 [4 736 I12] | IK3 CLM@20 8 [2 782 I12] | IK3 HI@21 8 [1:2 1271 1; 2:1 1270 5; 2:1 1270 7; 2:2 1271 1; 3:2 1271 1; 4:1 1270 5; 4:1 1270 7; 4:2 1271 1] | IK3 HL@25 8 [1 628 I12; 2 734 I12; 4 736 I12] | IK3 CLM@29 8 [2 782 I12] | IK3 HI@30 8 [1:2 1271 1; 2:1 1270 5; 2:1 1270 7; 2:2 1271 1; 3:2 1271 1; 4:1 1270 5; 4:1 1270 7; 4:2 1271 1] | IK3 LX@31 8 [1 554 I12]",
    ),
    // As 18, plus N3/N4 swapped in 2010AA and 2010AB.
    (
        "19_837P_segments_out_of_order.x12",
        false,
        "TA1 A 000 | AK9 R | 837 987654 R 4 5 | IK3 NM1@7 8 [9 67 I12] | IK3 N4@9 3 | IK3 N4@10 1 | IK3 N3@14 3 | IK3 N3@15 1 | IK3 HL@16 8 [4 736 I12] | IK3 CLM@20 8 [2 782 I12] | IK3 HI@21 8 [1:2 1271 1; 2:1 1270 5; 2:1 1270 7; 2:2 1271 1; 3:2 1271 1; 4:1 1270 5; 4:1 1270 7; 4:2 1271 1] | IK3 HL@25 8 [1 628 I12; 2 734 I12; 4 736 I12] | IK3 CLM@29 8 [2 782 I12] | IK3 HI@30 8 [1:2 1271 1; 2:1 1270 5; 2:1 1270 7; 2:2 1271 1; 3:2 1271 1; 4:1 1270 5; 4:1 1270 7; 4:2 1271 1] | IK3 LX@31 8 [1 554 I12]",
    ),
    // Two interchanges, each with the defects of 18.
    (
        "20_837P_multiple_isa.x12",
        false,
        "TA1 A 000 | AK9 R | 837 987654 R 4 5 | IK3 NM1@7 8 [9 67 I12] | IK3 HL@16 8 [4 736 I12] | IK3 CLM@20 8 [2 782 I12] | IK3 HI@21 8 [1:2 1271 1; 2:1 1270 5; 2:1 1270 7; 2:2 1271 1; 3:2 1271 1; 4:1 1270 5; 4:1 1270 7; 4:2 1271 1] | IK3 HL@25 8 [1 628 I12; 2 734 I12; 4 736 I12] | IK3 CLM@29 8 [2 782 I12] | IK3 HI@30 8 [1:2 1271 1; 2:1 1270 5; 2:1 1270 7; 2:2 1271 1; 3:2 1271 1; 4:1 1270 5; 4:1 1270 7; 4:2 1271 1] | IK3 LX@31 8 [1 554 I12] | TA1 A 000 | AK9 R | 837 987654 R 4 5 | IK3 NM1@7 8 [9 67 I12] | IK3 HL@16 8 [4 736 I12] | IK3 CLM@20 8 [2 782 I12] | IK3 HI@21 8 [1:2 1271 1; 2:1 1270 5; 2:1 1270 7; 2:2 1271 1; 3:2 1271 1; 4:1 1270 5; 4:1 1270 7; 4:2 1271 1] | IK3 HL@25 8 [1 628 I12; 2 734 I12; 4 736 I12] | IK3 CLM@29 8 [2 782 I12] | IK3 HI@30 8 [1:2 1271 1; 2:1 1270 5; 2:1 1270 7; 2:2 1271 1; 3:2 1271 1; 4:1 1270 5; 4:1 1270 7; 4:2 1271 1] | IK3 LX@31 8 [1 554 I12]",
    ),
    // 005010X223A3 is not the HIPAA-adopted 837I (X223A2); the NPI rule still runs.
    (
        "21_837I_institutional.x12",
        false,
        "TA1 A 000 | AK9 R 2 | 837 987654 R 5 | IK3 NM1@8 8 [9 67 I12]",
    ),
    // As 21; two bad NPIs.
    (
        "22_837I_two_claims.x12",
        false,
        "TA1 A 000 | AK9 R 2 | 837 987654 R 5 | IK3 NM1@8 8 [9 67 I12] | IK3 NM1@43 8 [9 67 I12]",
    ),
    // 5-digit billing ZIP (5010 wants 9), CLM05-2 B (837I needs A), Not Used CLM06/CLM10, trailing separator in HI.
    (
        "23_837I_X223A2.x12",
        false,
        "TA1 A 000 | AK9 R | 837 987654 R 4 5 | IK3 NM1@7 8 [9 67 I12] | IK3 N4@9 8 [3 116 7] | IK3 CLM@23 8 [5:2 1332 7; 6 1073 I10; 10 1351 I10; 2 782 I12] | IK3 DTP@25 8 [2 1250 7] | IK3 HI@28 8 | IK3 NM1@43 8 [3 1035 I10; 8 66 I10; 9 67 I10] | IK3 REF@44 3 | IK3 DTP@47 1",
    ),
    // AK202 '287' is shorter than ST02's 4-character minimum; CTX06 holds a composite ID; CTX repeated.
    (
        "26_999_wisconsin_ctx_partial.x12",
        false,
        "TA1 A 000 | AK9 R | 999 2870001 R 5 | IK3 AK2@5 8 [2 329 4] | IK3 CTX@12 8 [6:1 725 6; 6:2 725 I10] | IK3 CTX@13 5",
    ),
    // 4010 ISA with unpadded fields: every wrong width gets its own TA1 note code.
    (
        "30_TA1_4010_malformed_isa.x12",
        false,
        "TA1 R 011,013,006,008,017,021",
    ),
    (
        "24_834_add_dependent.x12",
        true,
        "TA1 A 000 | AK9 A | 834 0001 A",
    ),
    (
        "25_835_professional_with_payment.x12",
        true,
        "TA1 A 000 | AK9 A | 835 1740 A",
    ),
    (
        "27_999_emedny_rejected.x12",
        true,
        "TA1 A 000 | AK9 A | 999 95832987 A",
    ),
    (
        "28_999_two_st_in_group.x12",
        true,
        "TA1 A 000 | AK9 A | 999 0001 A | 999 0002 A | AK9 A | 999 0003 A | 999 0004 A",
    ),
    // TA1 with a spurious sixth element; IEA without terminator (warning only).
    ("29_TA1_5010_odd_delimiters.x12", false, "TA1 R 024"),
];

fn corpus() -> Option<PathBuf> {
    let dir = common::root().join("../shared/corpus/x12");
    dir.is_dir().then_some(dir)
}

#[test]
fn corpus_verdicts() {
    let Some(dir) = corpus() else {
        eprintln!("SKIPPED: ../shared/corpus/x12 is absent; corpus verdicts not checked");
        return;
    };
    let mut failures = Vec::new();
    for (file, accepted, expected) in VERDICTS {
        let bytes = std::fs::read(dir.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        let report = validate(&bytes);
        let got = common::summary(&report);
        if report.accepted() != *accepted || got != *expected {
            failures.push(format!("{file}\n  expected: {expected}\n  got:      {got}"));
        }
    }
    assert!(
        failures.is_empty(),
        "verdicts changed:\n{}",
        failures.join("\n")
    );
}

#[test]
fn every_corpus_file_has_a_verdict() {
    let Some(dir) = corpus() else {
        eprintln!("SKIPPED: ../shared/corpus/x12 is absent");
        return;
    };
    for entry in std::fs::read_dir(dir).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if name.ends_with(".x12") {
            assert!(
                VERDICTS.iter().any(|(f, ..)| *f == name),
                "{name} has no recorded verdict"
            );
        }
    }
}
