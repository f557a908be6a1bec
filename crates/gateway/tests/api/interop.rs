//! Real SOAP clients against the real server: Python zeep, PHP SoapClient and JAX-WS (wsimport),
//! each generated from the WSDL the gateway serves (`tests/interop/`). A missing tool skips its
//! test with a message, except with `CI=true` (`.ci/run` installs them). The read-services
//! clients check the demo students and a student the lifecycle creates first (OPI → LP → CVEC →
//! primo enrolment).

use crate::enrolment::{INE, OPI};
use crate::helpers::{Backend, TestApp, TestResult};
use std::process::Command;

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/interop");

fn available(program: &str, probe: &[&str]) -> bool {
    let ok = Command::new(program)
        .args(probe)
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            std::env::var("CI").map_or(true, |v| v != "true"),
            "CI=true and `{program} {}` fails: .ci/run must install it",
            probe.join(" ")
        );
        eprintln!("skipping: `{program} {}` is not available", probe.join(" "));
    }
    ok
}

/// Which students a read-services client checks besides the demo ones.
#[derive(Clone, Copy, PartialEq)]
enum Students {
    Demo,
    /// Also a student created by the lifecycle (`enrolment::lifecycle_student`): its codEtu, INE
    /// and codOPI follow the credentials on the command line.
    DemoAndLifecycle,
}

async fn run(program: &str, args: &[&str]) -> TestResult {
    run_with(program, args, Students::Demo).await
}

async fn run_with(program: &str, args: &[&str], students: Students) -> TestResult {
    let Some(app) = TestApp::spawn(Backend::Sqlite).await else {
        return Ok(());
    };
    let mut cmd = Command::new(program);
    cmd.args(args).args([&app.base, "admin", &app.admin_token]);
    if students == Students::DemoAndLifecycle {
        let done = crate::enrolment::lifecycle_student(&app).await?;
        cmd.args([done["codEtu"].to_string().as_str(), INE, OPI]);
    }
    let out = cmd.output()?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    app.stop().await;
    assert!(
        out.status.success(),
        "{program} {args:?} failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
    assert!(stdout.contains(" 0 failed"), "{stdout}");
    Ok(())
}

#[tokio::test]
async fn zeep_client_from_served_wsdl() -> TestResult {
    if !available("python3", &["-c", "import zeep"]) {
        return Ok(());
    }
    let Some(app) = TestApp::spawn(Backend::Sqlite).await else {
        return Ok(());
    };
    let out = Command::new("python3")
        .arg(format!("{DIR}/zeep_opi.py"))
        .args([
            "--base",
            &app.base,
            "--user",
            "admin",
            "--secret",
            &app.admin_token,
        ])
        .output()?;
    app.stop().await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "zeep interop failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains(" 0 failed"), "{stdout}");
    Ok(())
}

#[tokio::test]
async fn php_soapclient_from_served_wsdl() -> TestResult {
    if !available("php", &["-r", "exit(class_exists('SoapClient') ? 0 : 1);"]) {
        return Ok(());
    }
    run("php", &[&format!("{DIR}/php_opi.php")]).await
}

#[tokio::test]
async fn jaxws_client_generated_with_wsimport() -> TestResult {
    if !available("wsimport", &["-version"]) || !available("javac", &["-version"]) {
        return Ok(());
    }
    run("bash", &[&format!("{DIR}/jaxws_opi.sh")]).await
}

#[tokio::test]
async fn zeep_reads_the_read_services_from_served_wsdl() -> TestResult {
    if !available("python3", &["-c", "import zeep"]) {
        return Ok(());
    }
    run_with(
        "python3",
        &[&format!("{DIR}/zeep_ref.py")],
        Students::DemoAndLifecycle,
    )
    .await
}

#[tokio::test]
async fn php_soapclient_reads_the_read_services_from_served_wsdl() -> TestResult {
    if !available("php", &["-r", "exit(class_exists('SoapClient') ? 0 : 1);"]) {
        return Ok(());
    }
    run_with(
        "php",
        &[&format!("{DIR}/php_ref.php")],
        Students::DemoAndLifecycle,
    )
    .await
}

#[tokio::test]
async fn jaxws_client_of_the_read_services_generated_with_wsimport() -> TestResult {
    if !available("wsimport", &["-version"]) || !available("javac", &["-version"]) {
        return Ok(());
    }
    run_with(
        "bash",
        &[&format!("{DIR}/jaxws_ref.sh")],
        Students::DemoAndLifecycle,
    )
    .await
}

#[tokio::test]
async fn schemathesis_finds_no_failure_against_the_openapi_document() -> TestResult {
    if !available("schemathesis", &["--version"]) {
        return Ok(());
    }
    let Some(app) = TestApp::spawn(Backend::Sqlite).await else {
        return Ok(());
    };
    let out = Command::new("schemathesis")
        .args(["run", &app.url("/api-docs/openapi.json")])
        .args(["-H", &format!("Authorization: Bearer {}", app.admin_token)])
        .args([
            "--checks",
            "not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance",
            "--max-examples",
            "15",
            "--seed",
            "20261123",
        ])
        .env("SCHEMATHESIS_TELEMETRY", "false")
        .output()?;
    app.stop().await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "schemathesis found failures:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(())
}
