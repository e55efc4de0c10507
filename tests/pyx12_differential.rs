//! Differential test against pyx12 4.0.0 (837P, 837I, 834): our accept/reject per transaction
//! set and our IK3/IK4 codes must agree with pyx12's on 350+ generated single-fault mutants,
//! except the differences listed (with the reason pyx12 is wrong) in tests/difftest/compare.py.
//!
//! Needs a Python with pyx12==4.0.0: the test command (scripts/test) creates one and passes it in
//! HTS_PYX12_PYTHON. Without it the test says it is skipped.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use hts_gateway::x12::ack::{AckControl, write_acknowledgment};
use hts_gateway::x12::validate;

fn python() -> Option<PathBuf> {
    std::env::var_os("HTS_PYX12_PYTHON").map(PathBuf::from)
}

fn run(py: &Path, args: &[&str]) {
    let out = Command::new(py)
        .args(args)
        .current_dir(common::root().join("tests/difftest"))
        .output()
        .expect("python runs");
    assert!(
        out.status.success(),
        "{args:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Adds the public 837P/837I/834 samples to the set (with the errata versions HIPAA did not adopt
/// rewritten to the adopted ones, as pyx12 has maps only for those), when the corpus is present.
fn add_corpus(dir: &Path) {
    let corpus = common::root().join("../shared/corpus/x12");
    let Ok(entries) = std::fs::read_dir(&corpus) else {
        eprintln!("SKIPPED: ../shared/corpus/x12 is absent; only generated files are compared");
        return;
    };
    let path = dir.join("manifest.json");
    let mut manifest: Vec<serde_json::Value> =
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    for name in names
        .iter()
        .filter(|n| n.contains("_837") || n.contains("_834"))
    {
        let text = std::fs::read(corpus.join(name)).unwrap();
        let text = String::from_utf8_lossy(&text)
            .replace("005010X222A2", "005010X222A1")
            .replace("005010X223A3", "005010X223A2");
        let file = format!("corpus_{name}");
        std::fs::write(dir.join(&file), text).unwrap();
        let txn = if name.contains("837P") {
            "837P"
        } else if name.contains("837I") {
            "837I"
        } else {
            "834"
        };
        manifest.push(serde_json::json!({"file": file, "txn": txn, "category": "corpus", "detail": "public sample", "base": file}));
    }
    std::fs::write(&path, serde_json::to_vec_pretty(&manifest).unwrap()).unwrap();
}

#[test]
fn agrees_with_pyx12() {
    let Some(py) = python() else {
        eprintln!(
            "SKIPPED: HTS_PYX12_PYTHON is not set (scripts/test sets it); the pyx12 differential test did not run"
        );
        return;
    };
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("difftest");
    let _ = std::fs::remove_dir_all(&dir);
    let d = dir.to_str().expect("utf-8 path");
    // A fixed seed keeps the run reproducible; HTS_DIFFTEST_SEED explores others.
    let seed = std::env::var("HTS_DIFFTEST_SEED").unwrap_or_else(|_| "1".into());
    run(&py, &["generate.py", "--out", d, "--seed", &seed]);
    add_corpus(&dir);
    run(&py, &["pyx12_verdicts.py", d]);

    // Our side: acknowledgements as we would send them, and per-set verdicts.
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap();
    let ours = dir.join("ours");
    std::fs::create_dir_all(&ours).unwrap();
    let ctl = AckControl {
        interchange_control: 1,
        group_control: 1,
        date: "20261121".into(),
        time: "1200".into(),
        line_breaks: true,
    };
    let mut verdicts = serde_json::Map::new();
    for entry in manifest.as_array().unwrap() {
        let file = entry["file"].as_str().unwrap();
        let report = validate(&std::fs::read(dir.join(file)).unwrap());
        let ack: Vec<u8> = report
            .interchanges
            .iter()
            .filter_map(|ic| write_acknowledgment(ic, &ctl))
            .flatten()
            .collect();
        std::fs::write(ours.join(format!("{file}.ack")), ack).unwrap();
        let interchanges: Vec<serde_json::Value> = report
            .interchanges
            .iter()
            .map(|ic| {
                serde_json::json!({
                    "ta1": ic.errors.iter().map(|e| e.code).collect::<Vec<_>>(),
                    "groups": ic.groups.iter().map(|g| serde_json::json!({
                        "errors": g.errors.iter().map(|e| e.code).collect::<Vec<_>>(),
                        "sets": g.sets.iter().map(|s| serde_json::json!({"st": [s.st01, s.st02], "accepted": s.accepted()})).collect::<Vec<_>>(),
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
        verdicts.insert(file.to_string(), serde_json::json!({
            "accepted": report.accepted(),
            "summary": common::summary(&report),
            "indented": report.interchanges.iter().any(|ic| ic.warnings.iter().any(|w| w.contains("indented"))),
            "interchanges": interchanges,
        }));
    }
    std::fs::write(
        dir.join("ours.json"),
        serde_json::to_vec_pretty(&verdicts).unwrap(),
    )
    .unwrap();

    let out = Command::new(&py)
        .args(["compare.py", d])
        .current_dir(common::root().join("tests/difftest"))
        .output()
        .expect("python runs");
    let text = String::from_utf8_lossy(&out.stdout);
    eprintln!("{text}");
    assert!(
        out.status.success(),
        "disagreements with pyx12 not explained:\n{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
