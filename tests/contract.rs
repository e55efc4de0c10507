//! The WSDL and XSD in wsdl/: checked with xmlschema (schema and WSDL 1.1 validity, element
//! order, unqualified children) and zeep (imports the WSDL, builds requests with unqualified
//! children), by tests/interop/check_contract.py in the test venv scripts/test creates.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

#[test]
fn wsdl_and_xsd_pass_the_contract_check() {
    let Some(python) = std::env::var_os("HTS_PYX12_PYTHON") else {
        eprintln!(
            "SKIPPED contract check: HTS_PYX12_PYTHON (the test venv's python) is not set; scripts/test sets it"
        );
        return;
    };
    let out = std::process::Command::new(python)
        .arg(common::root().join("tests/interop/check_contract.py"))
        .arg("--wsdl-dir")
        .arg(common::root().join("wsdl"))
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{text}");
    assert!(text.contains("check_contract: OK"), "{text}");
    assert!(
        !text.contains("SKIPPED"),
        "zeep must be in the test venv: {text}"
    );
}
