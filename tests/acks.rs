//! Golden TA1/999 output, and every 999 we write must itself pass our 999 guide.
//! Regenerate the golden files with `UPDATE_GOLDEN=1 cargo test --test acks` and review the diff.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod common;

use common::{edit, fixture};
use hts_gateway::x12::ack::{AckControl, write_acknowledgment};
use hts_gateway::x12::validate;

fn control() -> AckControl {
    AckControl {
        interchange_control: 900_000_001,
        group_control: 7001,
        date: "20261121".into(),
        time: "1015".into(),
        line_breaks: true,
    }
}

fn acks_for(input: &str) -> String {
    let r = validate(input.as_bytes());
    r.interchanges
        .iter()
        .filter_map(|ic| write_acknowledgment(ic, &control()))
        .map(|b| String::from_utf8(b).unwrap())
        .collect()
}

fn golden(name: &str, input: &str) {
    let got = acks_for(input);
    let path = common::root().join("tests/golden").join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, &got).unwrap();
    }
    let want = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (run with UPDATE_GOLDEN=1)", path.display()));
    assert_eq!(got, want, "{name} changed");
    // The acknowledgement must be a valid interchange in its own right.
    let check = validate(got.as_bytes());
    assert!(
        check.accepted(),
        "{name}: our own ack does not validate: {}",
        common::summary(&check)
    );
}

#[test]
fn accepted_837_gets_positive_999_and_ta1() {
    golden("837P_accepted.ack.x12", &fixture("837P_two_claims.x12"));
}

#[test]
fn rejected_set_gets_ik3_ik4_ctx_and_partial_group() {
    let t = fixture("837P_two_claims.x12");
    let st = &t[t.find("ST*").unwrap()..t.find("GE*").unwrap()];
    let bad = st
        .replace("ST*837*0001", "ST*837*0002")
        .replace("SE*45*0001", "SE*45*0002")
        .replace("11:B:1", "11:X:1")
        .replace("DMG*D8*19800214", "DMG*D8*19800231");
    let two = t.replacen("GE*1*", &format!("{bad}GE*2*"), 1);
    golden("837P_partial.ack.x12", &two);
}

#[test]
fn bad_envelope_gets_ta1_only() {
    let t = edit(&fixture("837P_two_claims.x12"), "IEA", "IEA*1*000000999");
    golden("837P_bad_iea.ack.x12", &t);
}

#[test]
fn group_errors_are_reported_in_ak9() {
    let t = edit(&fixture("837P_two_claims.x12"), "GE", "GE*3*101");
    golden("837P_bad_ge.ack.x12", &t);
}

#[test]
fn ack_reuses_the_senders_delimiters() {
    let t = fixture("837P_two_claims.x12")
        .replace('*', "|")
        .replace(":B:1", ">B>1")
        .replace("HC:", "HC>")
        .replace("ABK:", "ABK>")
        .replace("ABF:", "ABF>")
        .replace("1:2", "1>2")
        .replace("|:~", "|>~");
    let ack = acks_for(&t);
    assert!(ack.starts_with("ISA|00|"), "{ack}");
    assert!(ack.contains("AK1|HC|101|005010X222A1~"), "{ack}");
    assert!(validate(ack.as_bytes()).accepted());
}

#[test]
fn test_mode_is_mirrored() {
    let ack = acks_for(&fixture("837P_two_claims.x12"));
    assert_eq!(ack.as_bytes()[102], b'T', "ISA15 of the ack");
    let prod = fixture("837P_two_claims.x12").replace("*1*T*:~", "*1*P*:~");
    assert_eq!(acks_for(&prod).as_bytes()[102], b'P');
}
