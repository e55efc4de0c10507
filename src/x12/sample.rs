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

/// Per-claim data that varies the way real claims do (names, addresses, dates, codes, amounts),
/// chosen deterministically from the claim number.
struct Variety {
    last: &'static str,
    first: &'static str,
    street: &'static str,
    city: &'static str,
    gender: &'static str,
    birth: String,
    service: String,
    diagnosis: &'static str,
    diagnosis2: &'static str,
    procedure: &'static str,
    procedure2: &'static str,
    charge1: usize,
    charge2: usize,
    units: String,
}

impl Variety {
    fn of(n: usize) -> Self {
        const LAST: [&str; 8] = [
            "SMITH", "GARCIA", "NGUYEN", "OBRIEN", "KOWALSKI", "DASILVA", "JOHNSON", "MURPHY",
        ];
        const FIRST: [&str; 7] = [
            "MARIA", "JAMES", "LINH", "PATRICK", "ANNA", "JOAO", "KEISHA",
        ];
        const STREET: [&str; 6] = [
            "ELM STREET",
            "WASHINGTON AVE APT 3B",
            "CENTRAL SQUARE",
            "MAPLE ROAD",
            "HARBOR WAY UNIT 12",
            "MAIN STREET",
        ];
        const CITY: [&str; 5] = [
            "BOSTON",
            "WORCESTER",
            "SPRINGFIELD",
            "LOWELL",
            "NEW BEDFORD",
        ];
        const DX: [&str; 8] = [
            "J069", "E119", "I10", "M545", "Z0000", "F329", "K219", "R509",
        ];
        const PROC: [&str; 6] = ["99213", "99214", "87880", "36415", "93000", "99203"];
        let h = n.wrapping_mul(2_654_435_761);
        Self {
            last: LAST[n % LAST.len()],
            first: FIRST[(n / 3) % FIRST.len()],
            street: STREET[(n / 7) % STREET.len()],
            city: CITY[(n / 11) % CITY.len()],
            gender: if n.is_multiple_of(2) { "F" } else { "M" },
            birth: format!(
                "{}{:02}{:02}",
                1940 + h % 80,
                1 + (h / 80) % 12,
                1 + (h / 960) % 28
            ),
            service: format!("2026{:02}{:02}", 1 + (h / 7) % 10, 1 + (h / 70) % 28),
            diagnosis: DX[h % DX.len()],
            diagnosis2: DX[(h / 8) % DX.len()],
            procedure: PROC[(h / 3) % PROC.len()],
            procedure2: PROC[(h / 5) % PROC.len()],
            charge1: 2_500 + h % 40_000,
            charge2: 1_000 + (h / 13) % 9_000,
            units: (1 + (h / 17) % 4).to_string(),
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
                let v = Variety::of(claim_no);
                let hl = (i + 2).to_string();
                let c = w.composite(&["11", "B", "1"]);
                let dx = w.composite(&["ABK", v.diagnosis]);
                let dx2 = w.composite(&["ABF", v.diagnosis2]);
                let (p1, p2) = (
                    w.composite(&["HC", v.procedure]),
                    w.composite(&["HC", v.procedure2]),
                );
                let (c1, c2) = (
                    format!("{}.{:02}", v.charge1 / 100, v.charge1 % 100),
                    format!("{}.{:02}", v.charge2 / 100, v.charge2 % 100),
                );
                let total = v.charge1 + v.charge2;
                w.segment("HL", &[hl.as_str(), "1", "22", "0"]);
                w.segment("SBR", &["P", "18", "", "", "", "", "", "", "MC"]);
                w.segment(
                    "NM1",
                    &[
                        "IL",
                        "1",
                        v.last,
                        v.first,
                        "",
                        "",
                        "",
                        "MI",
                        &format!("1{claim_no:08}"),
                    ],
                );
                w.segment("N3", &[&format!("{} {}", 10 + claim_no % 9_000, v.street)]);
                w.segment(
                    "N4",
                    &[
                        v.city,
                        "MA",
                        &format!("0{:04}{:04}", 1_000 + claim_no % 2_700, claim_no % 10_000),
                    ],
                );
                w.segment("DMG", &["D8", &v.birth, v.gender]);
                w.segment(
                    "NM1",
                    &["PR", "2", "MASSHEALTH", "", "", "", "", "PI", "MASSHEALTH"],
                );
                w.segment(
                    "CLM",
                    &[
                        &format!("PCN{claim_no}"),
                        &format!("{}.{:02}", total / 100, total % 100),
                        "",
                        "",
                        &c,
                        "Y",
                        "A",
                        "Y",
                        "Y",
                    ],
                );
                w.segment("HI", &[dx.as_str(), &dx2]);
                w.segment("LX", &["1"]);
                w.segment("SV1", &[p1.as_str(), &c1, "UN", "1", "", "", "1"]);
                w.segment("DTP", &["472", "D8", &v.service]);
                w.segment("LX", &["2"]);
                w.segment("SV1", &[p2.as_str(), &c2, "UN", &v.units, "", "", "1:2"]);
                w.segment("DTP", &["472", "D8", &v.service]);
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
