//! The implementation guides compiled into the binary.

use std::sync::OnceLock;

use super::model::Spec;
use super::parse::{Dictionary, parse_spec};

macro_rules! specs {
    ($($file:literal),* $(,)?) => {
        &[$(($file, include_str!(concat!("../../../specs/", $file)))),*]
    };
}

const DICTIONARY: &str = include_str!("../../../specs/elements.dict");

const SPECS: &[(&str, &str)] = specs![
    "270.005010X279A1.spec",
    "271.005010X279A1.spec",
    "276.005010X212.spec",
    "277.005010X212.spec",
    "277CA.005010X214.spec",
    "820.005010X218.spec",
    "834.005010X220A1.spec",
    "835.005010X221A1.spec",
    "837I.005010X223A2.spec",
    "837P.005010X222A1.spec",
    "999.005010X231.spec",
    "999.005010X231A1.spec",
];

fn dictionary() -> &'static Dictionary {
    static DICT: OnceLock<Dictionary> = OnceLock::new();
    DICT.get_or_init(|| {
        Dictionary::parse("elements.dict", DICTIONARY).unwrap_or_else(|e| panic!("{e}"))
    })
}

/// (ST01, version) of each spec file, read from its `transaction` line without parsing the rest.
fn headers() -> &'static [(String, String)] {
    static HEADERS: OnceLock<Vec<(String, String)>> = OnceLock::new();
    HEADERS.get_or_init(|| {
        SPECS
            .iter()
            .map(|(name, text)| {
                let line = text
                    .lines()
                    .find(|l| l.starts_with("transaction "))
                    .unwrap_or_else(|| panic!("{name}: no transaction line"));
                let mut t = line.split_whitespace().skip(1);
                let (st01, _gs01, version) = (t.next(), t.next(), t.next());
                (
                    st01.unwrap_or_default().to_string(),
                    version.unwrap_or_default().to_string(),
                )
            })
            .collect()
    })
}

/// The parsed guide at `index` of [`SPECS`], parsed on first use: a process that only answers
/// 270s never pays for the 837 guides. The spec files are part of the source: one that does not
/// parse is a build defect, caught by the test suite, so this panics with the file and line.
fn parsed(index: usize) -> &'static Spec {
    static PARSED: OnceLock<Vec<OnceLock<Spec>>> = OnceLock::new();
    let slots = PARSED.get_or_init(|| SPECS.iter().map(|_| OnceLock::new()).collect());
    slots[index].get_or_init(|| {
        let (name, text) = SPECS[index];
        parse_spec(name, text, dictionary()).unwrap_or_else(|e| panic!("{e}"))
    })
}

/// Every compiled-in guide (parses them all).
pub fn all_specs() -> Vec<&'static Spec> {
    (0..SPECS.len()).map(parsed).collect()
}

/// Is `version` (GS08) the implementation convention of any compiled-in guide?
pub fn is_supported_version(version: &str) -> bool {
    headers().iter().any(|(_, v)| v == version)
}

/// The guide for a transaction set (ST01) and implementation convention (ST03 or GS08).
pub fn spec_for(st01: &str, version: &str) -> Option<&'static Spec> {
    let i = headers()
        .iter()
        .position(|(s, v)| s == st01 && v == version)?;
    Some(parsed(i))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_spec_parses() {
        let all = all_specs();
        assert_eq!(all.len(), SPECS.len());
        for s in all {
            assert!(
                s.opening_segment(super::super::ROOT).is_some(),
                "{} has no ST",
                s.version
            );
        }
        assert!(spec_for("837", "005010X222A1").is_some());
        assert!(spec_for("999", "005010X231").is_some());
        assert!(is_supported_version("005010X279A1"));
        assert!(spec_for("837", "005010X222A2").is_none());
    }
}
