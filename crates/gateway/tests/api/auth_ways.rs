//! The ways in besides `Authorization`: the API-key header and trusted networks (the TCP peer,
//! IPv4 and IPv6, `X-Forwarded-For` only from trusted proxies), their settings refused at start,
//! the CNOUS API when it requires credentials, and authentication before the extractors.

use crate::helpers::{Backend, TestApp, TestResult};
use actix_web::{HttpResponse, web};
use apogee_app::clients::Cidr;
use apogee_app::settings::TrustedNetwork;
use apogee_gateway::http::extract::{Caller, authenticate_first};
use serde_json::Value;

fn cidr(s: &str) -> Cidr {
    match s.parse() {
        Ok(c) => c,
        Err(e) => panic!("{s}: {e}"),
    }
}

fn network(cidr_text: &str, client: &str) -> TrustedNetwork {
    TrustedNetwork {
        cidr: cidr(cidr_text),
        client: client.into(),
    }
}

fn captured_opi() -> String {
    std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../soap/tests/examples/captured/jaxws-mettreajourDonneesOpi_v10-create.xml"
    ))
    .unwrap_or_default()
}

async fn me(
    app: &TestApp,
    base: &str,
    headers: &[(&str, &str)],
) -> Result<(u16, Value), reqwest::Error> {
    let mut request = app.http.get(format!("{base}/api/v1/me"));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let res = request.send().await?;
    let status = res.status().as_u16();
    Ok((status, res.json().await.unwrap_or(Value::Null)))
}

async fn trusted_loopback(app: &TestApp) -> TestResult {
    app.client_with("exchange-php", "opi:write").await;
    let other = app.client_with("autre", "lp:read").await;
    let base = app.base.clone();
    // No credentials from the trusted network: the named client, with its own scopes.
    let (status, body) = me(app, &base, &[]).await?;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["client"], "exchange-php");
    assert_eq!(body["scopes"], serde_json::json!(["opi:write"]));
    // X-Forwarded-For is ignored: the peer is not a trusted proxy.
    let (_, body) = me(app, &base, &[("X-Forwarded-For", "10.1.2.3")]).await?;
    assert_eq!(body["client"], "exchange-php", "{body}");
    // Credentials win, even wrong ones; the API key is a credential.
    let bearer = format!("Bearer {other}");
    let (_, body) = me(app, &base, &[("Authorization", &bearer)]).await?;
    assert_eq!(body["client"], "autre");
    let (status, body) = me(app, &base, &[("Authorization", "Bearer apg_wrong")]).await?;
    assert_eq!(
        (status, body["faultKey"].as_str()),
        (401, Some("technical.security.invaliduser.user"))
    );
    let (status, _) = me(app, &base, &[("Authorization", "Negotiate abc")]).await?;
    assert_eq!(status, 401, "an unreadable Authorization is not ignored");
    let (_, body) = me(app, &base, &[("X-Api-Key", &other)]).await?;
    assert_eq!(body["client"], "autre");
    let (status, body) = me(app, &base, &[("X-Api-Key", "apg_wrong")]).await?;
    assert_eq!(status, 401, "{body}");
    let (status, _) = me(app, &base, &[("X-Api-Key", "")]).await?;
    assert_eq!(status, 401);
    // Its scopes are its own: no lp:read.
    let res = app
        .http
        .get(app.url("/api/v1/laissez-passer"))
        .send()
        .await?;
    assert_eq!(res.status(), 403);
    // The motivating case: a PHP SoapClient that sends no credentials at all.
    let res = app
        .http
        .post(app.url("/apo-commun-servicesMetiers/services/OpiMetier"))
        .header("Content-Type", "text/xml; charset=utf-8")
        .body(captured_opi())
        .send()
        .await?;
    let status = res.status();
    assert_eq!(status, 200, "{}", res.text().await?);
    app.flush_journal().await;
    let journal: Value = app
        .get("/api/v1/journal?operation=mettreajourDonneesOpi_v10")
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(journal["entries"][0]["client"], "exchange-php", "{journal}");
    Ok(())
}

#[tokio::test]
async fn a_trusted_network_is_its_client_when_no_credentials_are_sent() -> TestResult {
    let Some(app) = TestApp::spawn_with(Backend::Sqlite, |s| {
        s.auth.api_key_header = Some("X-Api-Key".into());
        s.auth.trusted_networks = vec![
            network("127.0.0.0/8", "exchange-php"),
            network("10.0.0.0/8", "admin"),
        ];
    })
    .await
    else {
        return Ok(());
    };
    let result = trusted_loopback(&app).await;
    app.stop().await;
    result
}

#[tokio::test]
async fn trusted_networks_and_proxies_work_over_ipv6() -> TestResult {
    if std::net::TcpListener::bind("[::1]:0").is_err() {
        eprintln!("no IPv6 loopback here: skipped");
        return Ok(());
    }
    let Some(app) = TestApp::spawn_with(Backend::Sqlite, |s| {
        s.bind = "[::1]:0".into();
        s.auth.trusted_proxies = vec![cidr("::1")];
        s.auth.trusted_networks = vec![
            network("2001:db8::/32", "exchange-php"),
            network("2001:db8:1::/48", "lecteur"),
            network("10.20.0.0/16", "lecteur"),
        ];
    })
    .await
    else {
        return Ok(());
    };
    let result = async {
        app.client_with("exchange-php", "opi:write").await;
        app.client_with("lecteur", "opi:read").await;
        let base = app.base.replace("127.0.0.1", "[::1]");
        let (status, _) = me(&app, &base, &[]).await?;
        assert_eq!(status, 401, "the proxy itself is not in a trusted network");
        let cases = [
            ("2001:db8:5::9", Some("exchange-php")),
            ("2001:db8:1::9", Some("lecteur")),
            ("[2001:db8:5::9]:4431", Some("exchange-php")),
            ("10.20.3.4", Some("lecteur")),
            ("2001:db9::1", None),
            // The right-most address not a proxy decides: a forged left part changes nothing.
            ("2001:db8:5::9, 2001:db9::1", None),
            ("2001:db9::1, 2001:db8:1::9, ::1", Some("lecteur")),
        ];
        for (forwarded, client) in cases {
            let (status, body) = me(&app, &base, &[("X-Forwarded-For", forwarded)]).await?;
            match client {
                Some(name) => assert_eq!(
                    (status, body["client"].as_str()),
                    (200, Some(name)),
                    "{forwarded}"
                ),
                None => assert_eq!(status, 401, "{forwarded}: {body}"),
            }
        }
        Ok::<(), Box<dyn std::error::Error>>(())
    }
    .await;
    app.stop().await;
    result
}

fn settings_in(dir: &std::path::Path) -> apogee_gateway::Settings {
    apogee_gateway::Settings {
        bind: "127.0.0.1:0".into(),
        data_dir: dir.to_path_buf(),
        ..apogee_gateway::Settings::default()
    }
}

#[test]
fn bad_auth_settings_are_refused_at_start() -> TestResult {
    let dir = tempfile::tempdir()?;
    let refused = |tweak: &dyn Fn(&mut apogee_gateway::Settings)| {
        let mut settings = settings_in(dir.path());
        tweak(&mut settings);
        apogee_gateway::startup::spawn_in_thread(settings)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default()
    };
    let message = refused(&|s| s.auth.api_key_header = Some("X Api Key".into()));
    assert!(message.contains("auth.api_key_header"), "{message}");
    let message = refused(&|s| s.auth.api_key_header = Some("Authorization".into()));
    assert!(message.contains("auth.api_key_header"), "{message}");
    let message = refused(&|s| {
        s.auth.trusted_networks = vec![network("10.0.0.0/8", "nom invalide")];
    });
    assert!(message.contains("auth.trusted_networks[0]"), "{message}");
    let message = refused(&|s| s.auth.trusted_networks = vec![network("::/0", "tous")]);
    assert!(message.contains("auth.trusted_networks[0]"), "{message}");
    assert!(
        !dir.path().join("admin.token").exists(),
        "refused before the database is touched"
    );
    // From the file: a bad CIDR stops the binary with the key and the value.
    for (bad, shown) in [
        (r#"trusted_proxies = ["10.0.0.0/33"]"#, "10.0.0.0/33"),
        (
            r#"trusted_networks = [{ cidr = "10.0.0.1/8", client = "php" }]"#,
            "10.0.0.0/8",
        ),
        (
            r#"trusted_networks = [{ cidr = "2001:db8::/32" }]"#,
            "client",
        ),
    ] {
        let config = dir.path().join("bad.toml");
        std::fs::write(&config, format!("[auth]\n{bad}\n"))?;
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_apogee-gateway"))
            .arg("--config")
            .arg(&config)
            .arg("--data-dir")
            .arg(dir.path())
            .arg("config")
            .env_remove("DATABASE_URL")
            .env_remove("APOGEE_CONFIG")
            .output()?;
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{bad}");
        assert!(
            stderr.contains(shown) && stderr.contains("auth"),
            "{bad}: {stderr}"
        );
    }
    Ok(())
}

#[tokio::test]
async fn the_cnous_api_takes_every_way_in_when_it_requires_credentials() -> TestResult {
    let Some(app) = TestApp::spawn_with(Backend::Sqlite, |s| {
        s.cvec.require_bearer_on_cnous_api = true;
        s.auth.api_key_header = Some("X-Api-Key".into());
        s.auth.trusted_proxies = vec![cidr("127.0.0.1")];
        s.auth.trusted_networks = vec![
            network("203.0.113.0/24", "guichet"),
            network("198.51.100.0/24", "ecandidat"),
        ];
    })
    .await
    else {
        return Ok(());
    };
    let result = async {
        let cvec = app.client_with("guichet", "cvec:read").await;
        let other = app.client_with("ecandidat", "opi:write").await;
        let url = app.url("/api/attestation/TST1AAAAAA11DUPON");
        let status = |headers: Vec<(&'static str, String)>| {
            let mut request = app.http.get(&url);
            for (name, value) in headers {
                request = request.header(name, value);
            }
            async move { request.send().await.map(|r| r.status().as_u16()) }
        };
        assert_eq!(status(vec![]).await?, 401);
        assert_eq!(status(vec![("X-Api-Key", "apg_wrong".into())]).await?, 401);
        assert_eq!(status(vec![("X-Api-Key", other.clone())]).await?, 403);
        assert_ne!(status(vec![("X-Api-Key", cvec.clone())]).await?, 401);
        assert_ne!(status(vec![("X-Api-Key", cvec.clone())]).await?, 403);
        let by_network = status(vec![("X-Forwarded-For", "203.0.113.9".into())]).await?;
        assert!(by_network != 401 && by_network != 403, "{by_network}");
        assert_eq!(
            status(vec![("X-Forwarded-For", "198.51.100.9".into())]).await?,
            403
        );
        Ok::<(), Box<dyn std::error::Error>>(())
    }
    .await;
    app.stop().await;
    result
}

async fn echo(caller: Caller, number: web::Path<i64>, _body: web::Json<Value>) -> HttpResponse {
    HttpResponse::Ok().body(format!("{} {}", caller.name, number.into_inner()))
}

#[actix_web::test]
async fn authenticating_first_answers_401_before_any_extractor_runs() -> TestResult {
    use actix_web::test::{TestRequest, call_service, init_service, read_body};
    let Some(app) = TestApp::spawn(Backend::Sqlite).await else {
        return Ok(());
    };
    let plain = init_service(
        actix_web::App::new()
            .app_data(app.state.clone())
            .service(web::scope("/api/v1").route("/x/{n}", web::put().to(echo))),
    )
    .await;
    let first = init_service(
        actix_web::App::new().app_data(app.state.clone()).service(
            web::scope("/api/v1")
                .wrap(actix_web::middleware::from_fn(authenticate_first))
                .route("/x/{n}", web::put().to(echo)),
        ),
    )
    .await;
    let put = |path: &str, secret: &str, body: &str| {
        TestRequest::put()
            .uri(path)
            .insert_header(("Authorization", format!("Bearer {secret}")))
            .insert_header(("Content-Type", "application/json"))
            .set_payload(body.to_owned())
            .to_request()
    };
    // Why: a secret not yet cached is looked up while the other extractors already fail.
    let res = call_service(&plain, put("/api/v1/x/1", "apg_never_seen_1", "{bad")).await;
    assert_eq!(res.status(), 400, "actix answers the body error first");
    let res = call_service(&first, put("/api/v1/x/1", "apg_never_seen_2", "{bad")).await;
    assert_eq!(res.status(), 401);
    assert!(res.headers().contains_key("www-authenticate"));
    let body: Value = serde_json::from_slice(&read_body(res).await)?;
    assert_eq!(body["faultKey"], "technical.security.invaliduser.user");
    // Authenticated: the extractors run, and the caller is the one found first.
    let res = call_service(&first, put("/api/v1/x/abc", &app.admin_token, "{}")).await;
    assert_eq!(
        res.status(),
        404,
        "a path that does not parse (actix's default answer)"
    );
    let res = call_service(&first, put("/api/v1/x/7", &app.admin_token, "{}")).await;
    assert_eq!(res.status(), 200);
    assert_eq!(read_body(res).await, "admin 7");
    app.stop().await;
    Ok(())
}
