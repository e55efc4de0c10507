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

/// Loads the demo data set into `database` with `admin load`, as an operator would.
fn load_demo(database: &str) {
    for kind in ["providers", "members", "claims"] {
        let file = common::root().join(format!("fixtures/plan/{kind}.csv"));
        let out = hts()
            .args(["admin", "load", kind])
            .arg(&file)
            .args(["--database", database])
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{kind}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains("loaded") && text.contains("database now holds"),
            "{text}"
        );
    }
}

fn respond(database: &str, file: &std::path::Path) -> std::process::Output {
    hts()
        .args([
            "x12",
            "respond",
            "--today",
            "2026-06-15",
            "--database",
            database,
        ])
        .arg(file)
        .output()
        .unwrap()
}

/// The dry run an operator does: load the demo data, answer the fixture 270 and 276.
fn load_and_respond(database: &str) {
    load_demo(database);
    let out = respond(
        database,
        &common::root().join("fixtures/x12/270_jane_doe.x12"),
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("ST*271*0001*005010X279A1~"), "{text}");
    assert!(text.contains("EB*1*IND*30*MC*STANDARD PLAN~"), "{text}");
    let out = respond(
        database,
        &common::root().join("fixtures/x12/276_paid_claim.x12"),
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("STC*F1:65*20260420**1200.5*980.25*20260420**20260422*CHK000123~"),
        "{text}"
    );
    // A broken inquiry gets its 999 on stdout, the findings on stderr, and exit status 1.
    let broken = write(
        "broken_270.x12",
        &common::edit(&common::fixture("270_jane_doe.x12"), "SE", "SE*99*0001"),
    );
    let out = respond(database, &broken);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("ST*999*"));
    assert!(String::from_utf8_lossy(&out.stderr).contains("REJECTED"));
    // Not an inquiry: no answer, exit status 2, and why.
    let out = respond(
        database,
        &common::root().join("fixtures/x12/837P_two_claims.x12"),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("only 270"));
}

#[test]
fn admin_load_and_respond_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let database = format!("sqlite:{}", dir.path().join("plan.db").display());
    load_and_respond(&database);
}

#[test]
fn admin_load_and_respond_on_postgres() {
    let Some(url) = common::db::postgres_url("admin_load_and_respond") else {
        return;
    };
    // A schema of its own, named in the URL the way an operator would.
    let schema = format!("hts_cli_{}", std::process::id());
    let psql = |sql: &str| {
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async {
            use sqlx::Connection;
            let mut c = sqlx::PgConnection::connect(&url).await.unwrap();
            sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
                .execute(&mut c)
                .await
                .unwrap();
        });
    };
    psql(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"));
    psql(&format!("CREATE SCHEMA {schema}"));
    let sep = if url.contains('?') { '&' } else { '?' };
    let database = format!("{url}{sep}options=-c%20search_path%3D{schema}");
    let outcome = std::panic::catch_unwind(|| load_and_respond(&database));
    psql(&format!("DROP SCHEMA {schema} CASCADE"));
    if let Err(e) = outcome {
        std::panic::resume_unwind(e);
    }
}

#[test]
fn admin_load_reports_line_numbers_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let database = format!("sqlite:{}", dir.path().join("plan.db").display());
    let bad = write(
        "bad_providers.csv",
        "provider_id,npi,entity_type,name,first_name,status\n\
         110048577A,1234567893,2,GOOD CLINIC,,active\n\
         BAD,1234567890,7,,,active\n",
    );
    let out = hts()
        .args(["admin", "load", "providers"])
        .arg(&bad)
        .args(["--database", &database])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("nothing was changed"), "{err}");
    assert!(err.contains("line 3: provider_id \"BAD\""), "{err}");
    assert!(err.contains("line 3: npi \"1234567890\""), "{err}");
    let missing = dir.path().join("missing.csv");
    let out = hts()
        .args(["admin", "load", "claims"])
        .arg(&missing)
        .args(["--database", &database])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}
