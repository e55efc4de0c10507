//! Synthetic, valid 837P interchanges of any size, for benchmarks and load tests.

use std::io::{self, Write};

use super::delimiters::Delimiters;
use super::writer::SegmentWriter;

/// Shape of a generated file.
#[derive(Clone, Copy, Debug)]
pub struct Sample837 {
    pub claims: usize,
    /// Claims per transaction set (ST..SE).
    pub claims_per_set: usize,
    /// Transaction sets per interchange; more interchanges are written as needed.
    pub sets_per_interchange: usize,
}

impl Default for Sample837 {
    fn default() -> Self {
        Self {
            claims: 1000,
            claims_per_set: 5000,
            sets_per_interchange: 100,
        }
    }
}

/// A valid NPI for a 9-digit base (the check digit is computed).
pub fn npi(base: u32) -> String {
    let digits = format!("{:09}", base % 1_000_000_000);
    (0..10)
        .map(|c| format!("{digits}{c}"))
        .find(|n| super::validate::rules::is_valid_npi(n.as_bytes()))
        .unwrap_or_default()
}

/// Writes the interchanges to `out`, one interchange at a time (bounded memory).
pub fn write_837p(shape: Sample837, out: &mut impl Write) -> io::Result<()> {
    let d = Delimiters::default();
    let per_set = shape.claims_per_set.max(1);
    let per_ic = shape.sets_per_interchange.max(1);
    let sets = shape.claims.div_ceil(per_set).max(1);
    let provider_npi = npi(123_456_789);
    let mut claim_no = 0usize;
    for (ic_no, ic_sets) in (0..sets).collect::<Vec<_>>().chunks(per_ic).enumerate() {
        let mut w = SegmentWriter::new(d).with_line_breaks(true);
        let isa13 = format!("{:09}", ic_no + 1);
        w.isa(&[
            "00",
            "",
            "00",
            "",
            "ZZ",
            "1100485770",
            "ZZ",
            "MASSHEALTH",
            "261120",
            "0930",
            "",
            "00501",
            &isa13,
            "0",
            "P",
            "",
        ]);
        let gs06 = (ic_no + 1).to_string();
        w.segment(
            "GS",
            &[
                "HC",
                "1100485770",
                "MASSHEALTH",
                "20261120",
                "0930",
                &gs06,
                "X",
                "005010X222A1",
            ],
        );
        for set in ic_sets {
            let st02 = format!("{:04}", set + 1);
            w.start_count();
            w.segment("ST", &["837", &st02, "005010X222A1"]);
            w.segment(
                "BHT",
                &["0019", "00", &format!("B{set}"), "20261120", "0930", "CH"],
            );
            w.segment(
                "NM1",
                &[
                    "41",
                    "2",
                    "RIVERSIDE CLINIC",
                    "",
                    "",
                    "",
                    "",
                    "46",
                    "1100485770",
                ],
            );
            w.segment("PER", &["IC", "BILLING OFFICE", "TE", "6175550100"]);
            w.segment(
                "NM1",
                &["40", "2", "MASSHEALTH", "", "", "", "", "46", "MASSHEALTH"],
            );
            w.segment("HL", &["1", "", "20", "1"]);
            w.segment(
                "NM1",
                &[
                    "85",
                    "2",
                    "RIVERSIDE CLINIC",
                    "",
                    "",
                    "",
                    "",
                    "XX",
                    &provider_npi,
                ],
            );
            w.segment("N3", &["100 MAIN STREET"]);
            w.segment("N4", &["BOSTON", "MA", "021081234"]);
            w.segment("REF", &["EI", "043210987"]);
            let n = (shape.claims - claim_no).min(per_set);
            for i in 0..n {
                claim_no += 1;
                let hl = (i + 2).to_string();
                let charge = 100 + claim_no % 400;
                let c = w.composite(&["11", "B", "1"]);
                let dx = w.composite(&["ABK", "J069"]);
                let (p1, p2) = (w.composite(&["HC", "99213"]), w.composite(&["HC", "87880"]));
                w.segment("HL", &[hl.as_str(), "1", "22", "0"]);
                w.segment("SBR", &["P", "18", "", "", "", "", "", "", "MC"]);
                w.segment(
                    "NM1",
                    &[
                        "IL",
                        "1",
                        "MEMBER",
                        &format!("M{claim_no}"),
                        "",
                        "",
                        "",
                        "MI",
                        &format!("1{claim_no:08}"),
                    ],
                );
                w.segment("N3", &["12 ELM STREET"]);
                w.segment("N4", &["BOSTON", "MA", "021151234"]);
                w.segment("DMG", &["D8", "19800214", "F"]);
                w.segment(
                    "NM1",
                    &["PR", "2", "MASSHEALTH", "", "", "", "", "PI", "MASSHEALTH"],
                );
                w.segment(
                    "CLM",
                    &[
                        &format!("PCN{claim_no}"),
                        &format!("{}.50", charge + 25),
                        "",
                        "",
                        &c,
                        "Y",
                        "A",
                        "Y",
                        "Y",
                    ],
                );
                w.segment("HI", &[dx.as_str()]);
                w.segment("LX", &["1"]);
                w.segment(
                    "SV1",
                    &[p1.as_str(), &format!("{charge}"), "UN", "1", "", "", "1"],
                );
                w.segment("DTP", &["472", "D8", "20261101"]);
                w.segment("LX", &["2"]);
                w.segment("SV1", &[p2.as_str(), "25.50", "UN", "1", "", "", "1"]);
                w.segment("DTP", &["472", "D8", "20261101"]);
            }
            let count = (w.counted() + 1).to_string();
            w.segment("SE", &[count.as_str(), &st02]);
        }
        w.segment("GE", &[ic_sets.len().to_string().as_str(), &gs06]);
        w.segment("IEA", &["1", &isa13]);
        out.write_all(&w.finish())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_files_are_valid() {
        let mut buf = Vec::new();
        write_837p(
            Sample837 {
                claims: 23,
                claims_per_set: 10,
                sets_per_interchange: 2,
            },
            &mut buf,
        )
        .unwrap();
        let r = crate::x12::validate(&buf);
        assert_eq!(r.interchanges.len(), 2);
        assert_eq!(r.sets().count(), 3);
        assert!(
            r.accepted(),
            "{:?}",
            r.sets()
                .flat_map(|(_, _, s)| s.segments.iter().map(|x| x.message.clone()))
                .collect::<Vec<_>>()
        );
    }
}
