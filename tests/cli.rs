//! The command line as an EDI team uses it: exit status, human and JSON output, acknowledgements.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod common;

use std::process::Command;

fn hts() -> Command {
    Command::new(env!("CARGO_BIN_EXE_hts-gateway"))
}

fn write(name: &str, text: &str) -> std::path::PathBuf {
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("cli");
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn exit_status_says_accepted_rejected_or_unreadable() {
    let good = common::root().join("fixtures/x12/837P_two_claims.x12");
    let bad = write(
        "bad.x12",
        &common::edit(&common::fixture("837P_two_claims.x12"), "SE", "SE*9*0001"),
    );
    let out = hts().args(["x12", "validate"]).arg(&good).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("ACCEPTED"));
    let out = hts()
        .args(["x12", "validate"])
        .arg(&good)
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("REJECTED") && text.contains("error IK5 4"),
        "{text}"
    );
    let out = hts()
        .args(["x12", "validate", "/nonexistent/file.x12"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read"));
}

#[test]
fn json_output_is_one_object_per_file() {
    let bad = write(
        "bad-json.x12",
        &common::edit(
            &common::fixture("837P_two_claims.x12"),
            "CLM*PCN1001",
            "CLM*PCN1001*150***11:X:1*Y*A*Y*Y",
        ),
    );
    let out = hts()
        .args(["x12", "validate", "--json"])
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["accepted"], false);
    let seg = &v["report"]["interchanges"][0]["groups"][0]["sets"][0]["segments"][0];
    assert_eq!(seg["segment"], "CLM");
    assert_eq!(seg["elements"][0]["position"], "5:2");
    assert_eq!(seg["elements"][0]["code"], "7");
}

#[test]
fn ack_out_writes_the_999_the_gateway_would_send() {
    let bad = write(
        "for-ack.x12",
        &common::edit(
            &common::fixture("837P_two_claims.x12"),
            "DMG*D8*19800214*F",
            "DMG*D8*19800231*F",
        ),
    );
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("cli-acks");
    let _ = std::fs::remove_dir_all(&dir);
    let out = hts()
        .args(["x12", "validate", "--control-number", "42", "--ack-out"])
        .arg(&dir)
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let ack = std::fs::read_to_string(dir.join("for-ack.x12.1.ack.x12")).unwrap();
    assert!(ack.contains("*000000042*0*T*:~"), "{ack}");
    assert!(ack.contains("TA1*000000101*261120*0930*A*000~"), "{ack}");
    assert!(
        ack.contains("IK4*2*1251*8*19800231~")
            && ack.contains("IK5*R*5~")
            && ack.contains("AK9*R*1*1*0~"),
        "{ack}"
    );
    assert!(hts_gateway::x12::validate(ack.as_bytes()).accepted());
}

#[test]
fn sample_writes_a_valid_837p() {
    let out = hts()
        .args(["x12", "sample", "--claims", "25", "--claims-per-set", "10"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let r = hts_gateway::x12::validate(&out.stdout);
    assert!(r.accepted(), "{}", common::summary(&r));
    assert_eq!(r.sets().count(), 3);
}
