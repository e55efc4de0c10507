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

/// Every compiled-in guide. The spec files are part of the source: a file that does not parse
/// is a build defect, caught by the test suite, so this panics with the file and line.
pub fn all_specs() -> &'static [Spec] {
    static ALL: OnceLock<Vec<Spec>> = OnceLock::new();
    ALL.get_or_init(|| {
        let dict = Dictionary::parse("elements.dict", DICTIONARY).unwrap_or_else(|e| panic!("{e}"));
        SPECS
            .iter()
            .map(|(name, text)| parse_spec(name, text, &dict).unwrap_or_else(|e| panic!("{e}")))
            .collect()
    })
}

/// Is `version` (GS08) the implementation convention of any compiled-in guide?
pub fn is_supported_version(version: &str) -> bool {
    all_specs().iter().any(|s| &*s.version == version)
}

/// The guide for a transaction set (ST01) and implementation convention (ST03 or GS08).
pub fn spec_for(st01: &str, version: &str) -> Option<&'static Spec> {
    all_specs()
        .iter()
        .find(|s| &*s.st01 == st01 && &*s.version == version)
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
