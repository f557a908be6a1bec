//! The auth matrix: every operation of the served OpenAPI document, every SOAP operation of the
//! served WSDLs, the facades and the open documents, × every way of (not) authenticating.
//!
//! The expected requirement of each operation comes from the tables below, never from the code
//! under test: an operation the tables do not know fails the test ("not in the auth matrix"), so a
//! new route cannot escape it. The route table of `rest::configure` is also compared with the
//! document: every registered REST route must be documented.

use crate::helpers::{Backend, TestApp, TestResult};
use apogee_domain::{Scope, Scopes};
use base64::Engine;
use serde_json::Value;
use std::collections::{BTreeSet, HashMap};

/// What an operation requires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Need {
    /// Nothing: any caller, whatever it sends.
    Open,
    /// Any authenticated client.
    AnyClient,
    /// A client holding this scope (or `admin`).
    Scope(Scope),
}

use Need::{AnyClient, Open};
const fn s(scope: Scope) -> Need {
    Need::Scope(scope)
}

/// Every operation of the OpenAPI document: method, path, requirement.
const REST: &[(&str, &str, Need)] = &[
    ("GET", "/health/live", Open),
    ("GET", "/health/ready", Open),
    ("GET", "/metrics", Open),
    ("GET", "/api/v1/me", AnyClient),
    ("GET", "/api/v1/referential", AnyClient),
    ("GET", "/api/v1/referential/{table}", AnyClient),
    ("PUT", "/api/v1/referential/{table}", s(Scope::RefWrite)),
    (
        "GET",
        "/api/v1/services/{service}/{operation}",
        s(Scope::RefRead),
    ),
    ("GET", "/api/v1/journal", s(Scope::JournalRead)),
    ("GET", "/api/v1/reports/counters", s(Scope::JournalRead)),
    ("GET", "/api/v1/reports/rejects", s(Scope::JournalRead)),
    (
        "GET",
        "/api/v1/reports/rejects/{cause}",
        s(Scope::JournalRead),
    ),
    ("GET", "/api/v1/reports/activity", s(Scope::JournalRead)),
    ("GET", "/api/v1/reports/duplicates", s(Scope::JournalRead)),
    ("GET", "/api/v1/reports/cvec", s(Scope::JournalRead)),
    ("GET", "/api/v1/reports/lp-batches", s(Scope::JournalRead)),
    ("GET", "/api/v1/opi", s(Scope::OpiRead)),
    ("GET", "/api/v1/opi/duplicates", s(Scope::OpiRead)),
    ("POST", "/api/v1/opi/batch", s(Scope::OpiWrite)),
    ("PUT", "/api/v1/opi/{code}", s(Scope::OpiWrite)),
    ("GET", "/api/v1/opi/{code}", s(Scope::OpiRead)),
    ("DELETE", "/api/v1/opi/{code}", s(Scope::OpiWrite)),
    ("DELETE", "/api/v1/opi/{code}/voeux", s(Scope::OpiWrite)),
    ("GET", "/api/v1/opi/{code}/pj", s(Scope::PjRead)),
    ("PUT", "/api/v1/opi/{code}/pj/{codTpj}", s(Scope::PjWrite)),
    ("GET", "/api/v1/opi/{code}/pj/{codTpj}", s(Scope::PjRead)),
    (
        "DELETE",
        "/api/v1/opi/{code}/pj/{codTpj}",
        s(Scope::PjWrite),
    ),
    ("GET", "/api/v1/ine/{ine}", AnyClient),
    ("GET", "/api/v1/laissez-passer", s(Scope::LpRead)),
    ("POST", "/api/v1/laissez-passer/batch", s(Scope::LpWrite)),
    (
        "GET",
        "/api/v1/laissez-passer/batches/{id}",
        s(Scope::LpRead),
    ),
    (
        "PUT",
        "/api/v1/laissez-passer/{typLpa}/{id}/{codAnu}/{codEtp}/{codVrsVet}",
        s(Scope::LpWrite),
    ),
    (
        "GET",
        "/api/v1/laissez-passer/{typLpa}/{id}/{codAnu}/{codEtp}/{codVrsVet}",
        s(Scope::LpRead),
    ),
    (
        "DELETE",
        "/api/v1/laissez-passer/{typLpa}/{id}/{codAnu}/{codEtp}/{codVrsVet}",
        s(Scope::LpWrite),
    ),
    ("GET", "/api/v1/etudiants", s(Scope::LpRead)),
    ("POST", "/api/v1/etudiants/batch", s(Scope::LpWrite)),
    ("PUT", "/api/v1/etudiants/{codEtu}", s(Scope::LpWrite)),
    ("GET", "/api/v1/etudiants/{codEtu}", s(Scope::LpRead)),
    ("POST", "/api/v1/inscriptions", s(Scope::IaWrite)),
    ("POST", "/api/v1/inscriptions/batch", s(Scope::IaWrite)),
    (
        "DELETE",
        "/api/v1/inscriptions/{codEtu}/{codAnu}",
        s(Scope::IaWrite),
    ),
    (
        "DELETE",
        "/api/v1/inscriptions/{codEtu}/{codAnu}/{codEtp}/{codVrsVet}",
        s(Scope::IaWrite),
    ),
    (
        "PUT",
        "/api/v1/etudiants/{codEtu}/pj/{codAnu}/{codTpj}",
        s(Scope::PjWrite),
    ),
    ("GET", "/api/v1/admissions", s(Scope::LpRead)),
    ("GET", "/api/v1/admissions/{key}", s(Scope::LpRead)),
    // The CNOUS-compatible API is open, as CNOUS's (`cvec.require_bearer_on_cnous_api`).
    ("GET", "/api/attestation/{code}", Open),
    ("POST", "/api/v1/cvec/check", s(Scope::CvecRead)),
    ("GET", "/api/v1/cvec/checks", s(Scope::CvecRead)),
    ("GET", "/api/v1/cvec/attestations", s(Scope::CvecRead)),
    ("PUT", "/api/v1/cvec/attestations", s(Scope::Admin)),
];

/// Every SOAP operation: service, operation (request element), scope.
const SOAP: &[(&str, &str, Scope)] = &[
    ("OpiMetier", "mettreajourDonneesOpi_v10", Scope::OpiWrite),
    ("OpiMetier", "mettreajourDonneesOpi_v9", Scope::OpiWrite),
    (
        "PjOpiMetier",
        "recupererPiecesJustificativesOPIWS",
        Scope::PjWrite,
    ),
    (
        "LaissezPasserMetier",
        "mettreAJourLaissezPasserWS",
        Scope::LpWrite,
    ),
    (
        "LaissezPasserMetier",
        "mettreAJourLaissezPasserWS_V2",
        Scope::LpWrite,
    ),
];

/// The read services: every operation of their 6.70 portTypes (served or only declared,
/// `soap-read-services.md` §14) needs the service's scope: `ref:read` for the referential,
/// `etudiant:read` for the students' files and enrolments.
const SOAP_READ: &[(&str, Scope, &[&str])] = &[
    (
        "ReferentielMetier",
        Scope::RefRead,
        &[
            "recupererCGE",
            "recupererCentreIncompEpr",
            "recupererCentreInscriptionPedagogique",
            "recupererComposante_v2",
            "recupererCycleSISE",
            "recupererDiplomeSise",
            "recupererDomaineFormation",
            "recupererFormuleExam",
            "recupererInformationEtabRef",
            "recupererNatureDiplome",
            "recupererNatureEpreuve",
            "recupererOrigineFinancement",
            "recupererPeriodeEnseignementElp",
            "recupererPeriodeExamen",
            "recupererRegimeInscription",
            "recupererRoleJury",
            "recupererSecteurDisciplinaire",
            "recupererSectionCnu",
            "recupererServiceComplementaire",
            "recupererSignataire",
            "recupererTypeDiplome",
            "recupererTypeEpreuve",
            "recupererUniteParcoursSISE",
            "recupererUniteRecherche",
        ],
    ),
    (
        "GeographieMetier",
        Scope::RefRead,
        &[
            "recupererCommune",
            "recupererCommune_v2",
            "recupererDepartement",
            "recupererPays",
        ],
    ),
    (
        "ScolariteMetier",
        Scope::RefRead,
        &[
            "recupererBacOuEquWS",
            "recupererBacOuEquWS_v2",
            "recupererMentionNivBacWS",
            "recupererOptBacWS",
            "recupererProgEchangeWS",
            "recupererSituationSISEWS",
            "recupererSpeBacWS",
            "recupererTypeDiplomeSISEWS",
        ],
    ),
    (
        "OffreFormationMetier",
        Scope::RefRead,
        &[
            "recupererEpreuves",
            "recupererGroupe_v3",
            "recupererSE_v3",
            "recupererSE_v4",
        ],
    ),
    (
        "EtudiantMetier",
        Scope::EtudiantRead,
        &[
            "mettreAJourAdressesEtudiant",
            "recupererAdressesEtudiant_v2",
            "recupererCalendriersExamenEtudiant_v3",
            "recupererCalendriersExamenEtudiant_v4",
            "recupererIdentifiantsEtudiant",
            "recupererIdentifiantsEtudiant_v2",
            "recupererInfosAdmEtu_v3",
            "recupererInfosAdmEtu_v4",
            "recupererListeEtudiants",
            "recupererNumeroSecuriteSociale",
            "recupererTypeHebergement",
        ],
    ),
    (
        "AdministratifMetier",
        Scope::EtudiantRead,
        &[
            "recupererAnneesIa",
            "recupererCursusExterne",
            "recupererIAAnnuelles_v2",
            "recupererIAEtapes_v3",
        ],
    ),
    (
        "PedagogiqueMetier",
        Scope::EtudiantRead,
        &[
            "mettreAJourNotesResultats",
            "recupererAnneesIPResultat",
            "recupererContratPedagogiqueResultatElpEpr_v6",
            "recupererContratPedagogiqueResultatVdiVet_v2",
            "recupererMaquetteReleveResultat",
        ],
    ),
];

/// The scope a SOAP operation needs, from the two tables.
fn soap_scope(service: &str, operation: &str) -> Option<Scope> {
    SOAP.iter()
        .find(|(s, o, _)| *s == service && *o == operation)
        .map(|(_, _, scope)| *scope)
        .or_else(|| {
            SOAP_READ
                .iter()
                .find(|(s, _, ops)| *s == service && ops.contains(&operation))
                .map(|(_, scope, _)| *scope)
        })
}

/// Every (service, operation) of the two tables.
fn soap_table() -> Vec<(&'static str, &'static str)> {
    SOAP.iter()
        .map(|(s, o, _)| (*s, *o))
        .chain(
            SOAP_READ
                .iter()
                .flat_map(|(s, _, ops)| ops.iter().map(move |o| (*s, *o))),
        )
        .collect()
}

/// The facades (default base paths): method, path and query, requirement. The facade header
/// opens them, and only them.
const FACADES: &[(&str, &str, Need)] = &[
    (
        "GET",
        "/apo-ws/services/PJ/info?codAnu=2026&codEtu=22512345&codTpj=PJ01",
        s(Scope::PjRead),
    ),
    (
        "GET",
        "/apo-ws/services/PJ/fichier?codAnu=2026&codEtu=22512345&codTpj=PJ01",
        s(Scope::PjRead),
    ),
    ("POST", "/ines/v1/check-ine", AnyClient),
    ("GET", "/ines/version", AnyClient),
];

/// Plausible values of the path parameters.
fn sample(parameter: &str) -> Option<&'static str> {
    Some(match parameter {
        "code" | "key" => "JVMWT75DRZ",
        "codTpj" => "PJ01",
        "codEtu" => "22512345",
        "codAnu" => "2026",
        "table" => "etapes",
        "ine" => "0123456789M",
        "typLpa" => "IAPRIMO",
        "id" => "JVMWT75DRZ",
        "codEtp" => "ETP01",
        "codVrsVet" => "1",
        "service" => "ReferentielMetier",
        "operation" => "recupererCGE",
        "cause" => "ine",
        _ => return None,
    })
}

/// How an answer is shaped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Channel {
    Rest,
    Soap,
    Facade,
}

/// One operation to call.
struct Op {
    label: String,
    method: reqwest::Method,
    path: String,
    body: Option<(&'static str, String)>,
    channel: Channel,
    need: Need,
}

/// Who a case authenticates as.
#[derive(Debug, Clone)]
enum Who {
    Nobody,
    Client(Scopes),
    FacadeHeader,
}

/// One way of (not) authenticating.
struct Case {
    label: String,
    headers: Vec<(&'static str, String)>,
    who: Who,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    Unauthenticated,
    Forbidden(Scope),
    Passes,
}

fn expect(op: &Op, who: &Who) -> Expect {
    match (op.need, who) {
        (Need::Open, _) => Expect::Passes,
        (_, Who::FacadeHeader) if op.channel == Channel::Facade => Expect::Passes,
        (_, Who::Nobody | Who::FacadeHeader) => Expect::Unauthenticated,
        (Need::AnyClient, Who::Client(_)) => Expect::Passes,
        (Need::Scope(scope), Who::Client(scopes)) if scopes.grants(scope) => Expect::Passes,
        (Need::Scope(scope), Who::Client(_)) => Expect::Forbidden(scope),
    }
}

const API_KEY: &str = "X-Api-Key";
const FACADE_HEADER: &str = "X-Facade-Key";
const FACADE_VALUE: &str = "valeur-de-facade-9f4c";
/// Trusted networks (documentation prefixes), reached through `X-Forwarded-For` from the
/// loopback peer, itself a trusted proxy.
const NET_READER: &str = "203.0.113.7";
const NET_ADMIN: &str = "198.51.100.7";
const NET_REVOKED: &str = "192.0.2.7";
const NET_UNKNOWN_CLIENT: &str = "192.0.2.200";
const UNTRUSTED: &str = "172.16.0.1";
const BAD_SECRET: &str = "apg_0000000000000000000000000000000000000000000";

fn cidr(s: &str) -> apogee_app::clients::Cidr {
    match s.parse() {
        Ok(c) => c,
        Err(e) => panic!("{s}: {e}"),
    }
}

fn network(cidr_text: &str, client: &str) -> apogee_app::settings::TrustedNetwork {
    apogee_app::settings::TrustedNetwork {
        cidr: cidr(cidr_text),
        client: client.into(),
    }
}

fn configure(s: &mut apogee_gateway::Settings) {
    s.auth.api_key_header = Some(API_KEY.into());
    s.auth.trusted_proxies = vec![cidr("127.0.0.1"), cidr("::1")];
    s.auth.trusted_networks = vec![
        network("203.0.113.0/24", "net-reader"),
        network("198.51.100.0/24", "net-admin"),
        network("192.0.2.0/25", "net-revoked"),
        network("192.0.2.128/25", "net-unknown"),
    ];
    s.pj.facade_header_name = Some(FACADE_HEADER.into());
    s.pj.facade_header_value = Some(FACADE_VALUE.into());
}

fn client_name(prefix: &str, scope: Scope) -> String {
    format!("{prefix}-{}", scope.as_str().replace(':', "-"))
}

fn scopes(list: &[Scope]) -> String {
    list.iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The clients of the cases: for every scope, one holding only it and one holding every other
/// (but `admin`); a revoked one; the network clients.
struct Clients {
    secrets: HashMap<String, String>,
    revoked: String,
}

async fn clients(app: &TestApp) -> Result<Clients, Box<dyn std::error::Error>> {
    let mut secrets = HashMap::new();
    for scope in Scope::ALL {
        let only = client_name("only", scope);
        secrets.insert(only.clone(), app.client_with(&only, scope.as_str()).await);
        let others: Vec<Scope> = Scope::ALL
            .into_iter()
            .filter(|s| *s != scope && *s != Scope::Admin)
            .collect();
        let without = client_name("without", scope);
        secrets.insert(
            without.clone(),
            app.client_with(&without, &scopes(&others)).await,
        );
    }
    app.client_with("net-reader", "opi:read").await;
    app.client_with("net-admin", "admin").await;
    app.client_with("net-revoked", "admin").await;
    let revoked = app.client_with("revoked-client", "admin").await;
    for name in ["net-revoked", "revoked-client"] {
        let name = name.to_owned();
        let done = app
            .state
            .db
            .read(move |c| {
                apogee_app::clients::revoke(c, &name)
                    .map_err(|e| apogee_db::DbError::Migration(e.message))
            })
            .await?;
        assert!(done);
    }
    Ok(Clients { secrets, revoked })
}

fn bearer(secret: &str) -> (&'static str, String) {
    ("Authorization", format!("Bearer {secret}"))
}

fn basic(name: &str, secret: &str) -> (&'static str, String) {
    let pair = base64::engine::general_purpose::STANDARD.encode(format!("{name}:{secret}"));
    ("Authorization", format!("Basic {pair}"))
}

fn from(address: &str) -> (&'static str, String) {
    ("X-Forwarded-For", address.to_owned())
}

fn case(label: &str, headers: Vec<(&'static str, String)>, who: Who) -> Case {
    Case {
        label: label.to_owned(),
        headers,
        who,
    }
}

/// The cases for an operation needing `need`.
fn cases(need: Need, clients: &Clients) -> Vec<Case> {
    // The scope probed: the operation's, or any for operations open to every client.
    let scope = match need {
        Need::Scope(scope) => scope,
        Need::AnyClient | Need::Open => Scope::OpiRead,
    };
    let only = client_name("only", scope);
    let without = client_name("without", scope);
    let secret = |name: &str| clients.secrets.get(name).cloned().unwrap_or_default();
    let holds = |name: &str| {
        let list: Vec<Scope> = if name == only {
            vec![scope]
        } else {
            Scope::ALL
                .into_iter()
                .filter(|s| *s != scope && *s != Scope::Admin)
                .collect()
        };
        Who::Client(Scopes::parse(&scopes(&list)).unwrap_or_default())
    };
    let reader = Who::Client(Scopes::parse("opi:read").unwrap_or_default());
    let admin = Who::Client(Scopes::all());
    vec![
        case("no credentials", vec![], Who::Nobody),
        case("bad bearer secret", vec![bearer(BAD_SECRET)], Who::Nobody),
        case(
            "bad basic secret",
            vec![basic(&only, BAD_SECRET)],
            Who::Nobody,
        ),
        case(
            "basic with another client's name",
            vec![basic(&without, &secret(&only))],
            Who::Nobody,
        ),
        case(
            "revoked client",
            vec![bearer(&clients.revoked)],
            Who::Nobody,
        ),
        case(
            "unreadable Authorization",
            vec![("Authorization", "Digest abc".into())],
            Who::Nobody,
        ),
        case(
            "bearer without the scope",
            vec![bearer(&secret(&without))],
            holds(&without),
        ),
        case(
            "bearer with the scope",
            vec![bearer(&secret(&only))],
            holds(&only),
        ),
        case(
            "basic with the scope",
            vec![basic(&only, &secret(&only))],
            holds(&only),
        ),
        case(
            "API key with the scope",
            vec![(API_KEY, secret(&only))],
            holds(&only),
        ),
        case(
            "API key without the scope",
            vec![(API_KEY, secret(&without))],
            holds(&without),
        ),
        case(
            "API key, bad secret",
            vec![(API_KEY, BAD_SECRET.into())],
            Who::Nobody,
        ),
        case(
            "trusted network (opi:read client)",
            vec![from(NET_READER)],
            reader,
        ),
        case(
            "trusted network (admin client)",
            vec![from(NET_ADMIN)],
            admin,
        ),
        case(
            "trusted network, revoked client",
            vec![from(NET_REVOKED)],
            Who::Nobody,
        ),
        case(
            "trusted network, unknown client",
            vec![from(NET_UNKNOWN_CLIENT)],
            Who::Nobody,
        ),
        case(
            "trusted network with a bad secret",
            vec![from(NET_ADMIN), bearer(BAD_SECRET)],
            Who::Nobody,
        ),
        case(
            "trusted network forged behind an untrusted hop",
            vec![from(&format!("{NET_ADMIN}, {UNTRUSTED}"))],
            Who::Nobody,
        ),
        case(
            "facade header",
            vec![(FACADE_HEADER, FACADE_VALUE.into())],
            Who::FacadeHeader,
        ),
    ]
}

fn faultstring(xml: &str) -> Option<&str> {
    let start = xml.find("<faultstring>")? + "<faultstring>".len();
    let end = xml[start..].find("</faultstring>")? + start;
    Some(&xml[start..end])
}

const INVALID_USER: &str = "technical.security.invaliduser.user";

/// What is wrong with an answer, if anything.
fn verdict(
    channel: Channel,
    expected: Expect,
    status: u16,
    authenticate_header: bool,
    body: &str,
) -> Option<String> {
    let json: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    let key = match channel {
        Channel::Rest => json["faultKey"].as_str().map(str::to_owned),
        Channel::Soap => faultstring(body).map(str::to_owned),
        Channel::Facade => json["erreurType"].as_str().map(str::to_owned),
    };
    let (wanted_status, wanted_key) = match expected {
        Expect::Passes => {
            let refused = matches!(status, 401 | 403)
                || key.as_deref().is_some_and(|k| k.contains("security."));
            // A plausible call with the right scope is a client error at worst (SOAP: a fault).
            let broken = channel != Channel::Soap && status >= 500;
            return (refused || broken).then(|| format!("expected a pass, got {status} {key:?}"));
        }
        Expect::Unauthenticated => (
            401,
            match channel {
                Channel::Facade => "security.invaliduser".to_owned(),
                _ => INVALID_USER.to_owned(),
            },
        ),
        Expect::Forbidden(scope) => (
            403,
            match channel {
                Channel::Facade => "security.forbidden".to_owned(),
                _ => format!("technical.security.forbidden.{scope}"),
            },
        ),
    };
    let challenge = status != 401 || channel == Channel::Facade || authenticate_header;
    (status != wanted_status || key.as_deref() != Some(wanted_key.as_str()) || !challenge).then(
        || {
            format!(
                "expected {wanted_status} {wanted_key}, got {status} {key:?} (WWW-Authenticate: {authenticate_header})"
            )
        },
    )
}

async fn call(app: &TestApp, op: &Op, case: &Case) -> Result<Option<String>, reqwest::Error> {
    let mut request = app.http.request(op.method.clone(), app.url(&op.path));
    for (name, value) in &case.headers {
        request = request.header(*name, value);
    }
    if let Some((content_type, body)) = &op.body {
        request = request
            .header("Content-Type", *content_type)
            .body(body.clone());
    }
    let res = request.send().await?;
    let status = res.status().as_u16();
    let challenge = res.headers().contains_key("www-authenticate");
    let body = res.text().await?;
    let expected = expect(op, &case.who);
    Ok(verdict(op.channel, expected, status, challenge, &body)
        .map(|wrong| format!("{} × {}: {wrong}", op.label, case.label)))
}

/// `{name}` → the sample value; `None` names the parameter without one.
fn fill(path: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = path;
    while let Some(start) = rest.find('{') {
        let end = rest[start..]
            .find('}')
            .map(|e| e + start)
            .ok_or_else(|| format!("{path}: unclosed parameter"))?;
        let name = &rest[start + 1..end];
        let value =
            sample(name).ok_or_else(|| format!("{path}: no plausible value for {{{name}}}"))?;
        out.push_str(&rest[..start]);
        out.push_str(value);
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// `{anything}` → `{}`: route templates and documented paths name parameters differently.
fn shape(path: &str) -> String {
    let mut out = String::new();
    let mut depth = 0;
    for c in path.chars() {
        match c {
            '{' => {
                depth += 1;
                if depth == 1 {
                    out.push_str("{}");
                }
            }
            '}' => depth -= 1,
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

fn body_of(method: &str, path: &str) -> Option<(&'static str, String)> {
    match (method, path) {
        ("PUT" | "POST", p) if p.ends_with("/batch") || p.contains("/pj") => {
            Some(("application/octet-stream", String::new()))
        }
        ("PUT", "/api/v1/referential/{table}" | "/api/v1/cvec/attestations") => {
            Some(("text/csv", String::new()))
        }
        ("PUT" | "POST", _) => Some(("application/json", "{}".into())),
        _ => None,
    }
}

/// The REST operations of the served document, checked against the table.
fn rest_ops(doc: &Value, problems: &mut Vec<String>) -> Vec<Op> {
    let mut ops = Vec::new();
    let mut documented = BTreeSet::new();
    let default_security = doc["security"].clone();
    let paths = doc["paths"].as_object().cloned().unwrap_or_default();
    for (path, item) in &paths {
        for (method, operation) in item.as_object().cloned().unwrap_or_default() {
            let method = method.to_ascii_uppercase();
            documented.insert((method.clone(), path.clone()));
            let Some((_, _, need)) = REST.iter().find(|(m, p, _)| *m == method && p == path) else {
                problems.push(format!(
                    "new route not in the auth matrix: {method} {path} (add it to REST)"
                ));
                continue;
            };
            // The document's security must say the same as the table.
            let security = operation.get("security").unwrap_or(&default_security);
            let open_in_doc = security.as_array().is_some_and(|list| {
                list.iter()
                    .any(|s| s.as_object().is_some_and(|o| o.is_empty()))
            });
            if open_in_doc != (*need == Need::Open) {
                problems.push(format!(
                    "{method} {path}: the document says open={open_in_doc}, the matrix {need:?}"
                ));
            }
            match (fill(path), method.parse()) {
                (Ok(filled), Ok(m)) => ops.push(Op {
                    label: format!("{method} {path}"),
                    method: m,
                    path: filled,
                    body: body_of(&method, path),
                    channel: Channel::Rest,
                    need: *need,
                }),
                (Err(e), _) => problems.push(e),
                (_, Err(e)) => problems.push(format!("{method} {path}: {e}")),
            }
        }
    }
    for (method, path, _) in REST {
        if !documented.contains(&((*method).to_owned(), (*path).to_owned())) {
            problems.push(format!(
                "{method} {path} is in the auth matrix but not in the document"
            ));
        }
    }
    ops
}

/// `<wsdl:operation name="…"` of a WSDL, deduplicated.
fn wsdl_operations(wsdl: &str) -> BTreeSet<String> {
    wsdl.split("<wsdl:operation name=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .map(str::to_owned)
        .collect()
}

fn envelope(namespace: &str, operation: &str) -> String {
    format!(
        r#"<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:ns="{namespace}"><soapenv:Body><ns:{operation}/></soapenv:Body></soapenv:Envelope>"#
    )
}

/// The SOAP operations of the served WSDLs under every base path, checked against the
/// registry and the table; the WSDL documents themselves are open.
async fn soap_ops(
    app: &TestApp,
    problems: &mut Vec<String>,
) -> Result<Vec<Op>, Box<dyn std::error::Error>> {
    let mut ops = Vec::new();
    for base in apogee_gateway::Settings::default().soap.base_paths {
        for service in apogee_gateway::soap::SERVICES {
            for document in [
                format!("{base}/{}?wsdl", service.name),
                format!("{base}/abstract/{}.wsdl", service.name),
            ] {
                ops.push(Op {
                    label: format!("GET {document}"),
                    method: reqwest::Method::GET,
                    path: document,
                    body: None,
                    channel: Channel::Rest,
                    need: Need::Open,
                });
            }
            let url = app.url(&format!("{base}/abstract/{}.wsdl", service.name));
            let served = wsdl_operations(&app.http.get(url).send().await?.text().await?);
            let registered: BTreeSet<String> = service
                .operation_names()
                .into_iter()
                .map(str::to_owned)
                .collect();
            if served.is_empty() || served != registered {
                problems.push(format!(
                    "{base}/{}: WSDL operations {served:?}, registry {registered:?}",
                    service.name
                ));
            }
            for operation in served {
                let Some(scope) = soap_scope(service.name, &operation) else {
                    problems.push(format!(
                        "new SOAP operation not in the auth matrix: {} {operation}",
                        service.name
                    ));
                    continue;
                };
                ops.push(Op {
                    label: format!("SOAP {base}/{} {operation}", service.name),
                    method: reqwest::Method::POST,
                    path: format!("{base}/{}", service.name),
                    body: Some((
                        "text/xml; charset=utf-8",
                        envelope(service.namespace, &operation),
                    )),
                    channel: Channel::Soap,
                    need: Need::Scope(scope),
                });
            }
        }
    }
    for (service, operation) in soap_table() {
        if !ops.iter().any(|o| {
            o.channel == Channel::Soap && o.label.ends_with(&format!("/{service} {operation}"))
        }) {
            problems.push(format!(
                "SOAP {service} {operation} is in the auth matrix but not served"
            ));
        }
    }
    Ok(ops)
}

fn other_ops() -> Vec<Op> {
    let mut ops: Vec<Op> = FACADES
        .iter()
        .map(|(method, path, need)| Op {
            label: format!("facade {method} {path}"),
            method: if *method == "POST" {
                reqwest::Method::POST
            } else {
                reqwest::Method::GET
            },
            path: (*path).to_owned(),
            body: (*method == "POST").then(|| {
                (
                    "application/json",
                    r#"{"type": "INE", "ine": "0123456789", "cle": "M"}"#.to_owned(),
                )
            }),
            channel: Channel::Facade,
            need: *need,
        })
        .collect();
    for document in ["/api-docs/openapi.json", "/docs/"] {
        ops.push(Op {
            label: format!("GET {document}"),
            method: reqwest::Method::GET,
            path: document.to_owned(),
            body: None,
            channel: Channel::Rest,
            need: Need::Open,
        });
    }
    ops
}

/// The routes of `rest::configure`: `.route("…" or a `let` binding, web::<method>()…)`, under
/// the `web::scope("…")` calls they are chained on.
fn registered_routes(source: &str) -> Result<BTreeSet<(String, String)>, String> {
    let code: String = source
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    let mut bindings = HashMap::new();
    for line in code.lines() {
        if let Some((name, value)) = line
            .trim()
            .strip_prefix("let ")
            .and_then(|rest| rest.split_once('='))
            && let Some(literal) = value
                .trim()
                .trim_end_matches(';')
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
        {
            bindings.insert(name.trim().to_owned(), literal.to_owned());
        }
    }
    if code.contains("web::resource(") {
        return Err("rest/mod.rs uses web::resource: teach the auth matrix to read it".into());
    }
    // The first argument of a call (a literal or a binding) and what follows its comma.
    let first_argument = |after: &str| -> Result<(String, String), String> {
        let end = after
            .find([',', ')'])
            .ok_or_else(|| format!("cannot read near: {}", &after[..after.len().min(80)]))?;
        let (first, rest) = (after[..end].trim(), &after[end + 1..]);
        let value = match first.strip_prefix('"').and_then(|f| f.strip_suffix('"')) {
            Some(literal) => literal.to_owned(),
            None => bindings
                .get(first)
                .cloned()
                .ok_or_else(|| format!("route path `{first}`: not a literal nor a let binding"))?,
        };
        Ok((value, rest.to_owned()))
    };
    let bytes = code.as_bytes();
    let mut routes = BTreeSet::new();
    // Open scopes: prefix and the parenthesis depth they were opened at.
    let mut scopes: Vec<(String, i32)> = Vec::new();
    let mut depth = 0;
    let mut i = 0;
    while i < bytes.len() {
        let here = &bytes[i..];
        if here.starts_with(b"web::scope(") || here.starts_with(b".route(") {
            let scope = here.starts_with(b"web::scope(");
            let open = if scope { "web::scope(" } else { ".route(" };
            let after = std::str::from_utf8(&here[open.len()..]).map_err(|e| e.to_string())?;
            let (template, rest) = first_argument(after)?;
            let prefix: String = scopes.iter().map(|(p, _)| p.as_str()).collect();
            if scope {
                scopes.push((template, depth));
            } else {
                let method = rest
                    .trim_start()
                    .strip_prefix("web::")
                    .and_then(|m| m.split_once("()"))
                    .map(|(m, _)| m.to_ascii_uppercase())
                    .filter(|m| {
                        ["GET", "PUT", "POST", "DELETE", "PATCH", "HEAD"].contains(&m.as_str())
                    })
                    .ok_or_else(|| format!("route {template}: method not read"))?;
                routes.insert((method, shape(&format!("{prefix}{template}"))));
            }
            i += open.len() - 1; // the parenthesis is counted below
            continue;
        }
        match bytes[i] {
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'(' => depth += 1,
            b')' => {
                depth -= 1;
                while scopes.last().is_some_and(|(_, d)| depth < *d) {
                    scopes.pop();
                }
            }
            _ => {}
        }
        i += 1;
    }
    Ok(routes)
}

fn routes_are_documented(doc: &Value, problems: &mut Vec<String>) -> usize {
    let source =
        match std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/src/rest/mod.rs")) {
            Ok(s) => s,
            Err(e) => {
                problems.push(format!("src/rest/mod.rs: {e}"));
                return 0;
            }
        };
    let routes = match registered_routes(&source) {
        Ok(r) => r,
        Err(e) => {
            problems.push(e);
            return 0;
        }
    };
    let documented: BTreeSet<(String, String)> = doc["paths"]
        .as_object()
        .into_iter()
        .flatten()
        .flat_map(|(path, item)| {
            item.as_object()
                .into_iter()
                .flatten()
                .map(move |(m, _)| (m.to_ascii_uppercase(), shape(path)))
        })
        .collect();
    for (method, path) in &routes {
        if !documented.contains(&(method.clone(), path.clone())) {
            problems.push(format!(
                "route {method} {path} of rest::configure is not in the OpenAPI document"
            ));
        }
    }
    routes.len()
}

#[tokio::test]
async fn every_operation_answers_every_way_of_authenticating_as_the_matrix_says() -> TestResult {
    let Some(app) = TestApp::spawn_with(Backend::Sqlite, configure).await else {
        return Ok(());
    };
    let result = async {
        let clients = clients(&app).await?;
        let doc: Value = app
            .http
            .get(app.url("/api-docs/openapi.json"))
            .send()
            .await?
            .json()
            .await?;
        let mut problems = Vec::new();
        let routes = routes_are_documented(&doc, &mut problems);
        assert!(routes >= 35, "only {routes} routes read from rest/mod.rs");
        let mut ops = rest_ops(&doc, &mut problems);
        let rest = ops.len();
        let soap = soap_ops(&app, &mut problems).await?;
        let soap_calls = soap.iter().filter(|o| o.channel == Channel::Soap).count();
        ops.extend(soap);
        ops.extend(other_ops());
        assert!(rest >= REST.len(), "{rest} REST operations walked");
        let table = soap_table().len();
        assert!(table >= 45, "{table} SOAP operations in the tables");
        assert!(soap_calls >= 2 * table, "{soap_calls} SOAP operations walked");
        let mut calls = 0;
        for op in &ops {
            for case in cases(op.need, &clients) {
                calls += 1;
                if let Some(wrong) = call(&app, op, &case).await? {
                    problems.push(wrong);
                }
            }
        }
        eprintln!(
            "auth matrix: {} operations ({rest} REST, {soap_calls} SOAP, {} facades and documents) × {} cases = {calls} calls",
            ops.len(),
            ops.len() - rest - soap_calls,
            calls / ops.len().max(1)
        );
        assert!(
            problems.is_empty(),
            "{} problems:\n{}",
            problems.len(),
            problems.join("\n")
        );
        Ok::<(), Box<dyn std::error::Error>>(())
    }
    .await;
    app.stop().await;
    result
}

#[test]
fn the_route_reader_reads_scopes_bindings_and_methods() {
    let source = r#"
        // .route("/commented", web::get().to(x))
        pub fn configure(cfg: &mut web::ServiceConfig) {
            let lp = "/lp/{a}/{b}";
            cfg.route("/health/live", web::get().to(h))
                .service(
                    web::scope("/api/v1")
                        .route("/x/{code}", web::put().to(x::put))
                        .route(lp, web::delete().to(lp::delete))
                        .route(
                            "/y/{cod_etu}",
                            web::post().to(y),
                        ),
                )
                .route("/metrics", web::get().to(m));
        }
    "#;
    let routes = registered_routes(source).unwrap_or_default();
    let expected: BTreeSet<(String, String)> = [
        ("GET", "/health/live"),
        ("PUT", "/api/v1/x/{}"),
        ("DELETE", "/api/v1/lp/{}/{}"),
        ("POST", "/api/v1/y/{}"),
        ("GET", "/metrics"),
    ]
    .into_iter()
    .map(|(m, p)| (m.to_owned(), p.to_owned()))
    .collect();
    assert_eq!(routes, expected);
    assert!(registered_routes("cfg.route(unknown, web::get().to(x))").is_err());
    assert!(registered_routes(r#"cfg.route("/a", web::method(Method::GET))"#).is_err());
}

#[test]
fn the_verdicts_catch_wrong_answers() {
    let rest_401 = r#"{"faultKey": "technical.security.invaliduser.user"}"#;
    assert_eq!(
        verdict(Channel::Rest, Expect::Unauthenticated, 401, true, rest_401),
        None
    );
    assert!(verdict(Channel::Rest, Expect::Unauthenticated, 401, false, rest_401).is_some());
    assert!(verdict(Channel::Rest, Expect::Unauthenticated, 400, true, "{}").is_some());
    assert!(verdict(Channel::Rest, Expect::Passes, 403, false, "{}").is_some());
    assert!(verdict(Channel::Rest, Expect::Passes, 500, false, "{}").is_some());
    assert_eq!(
        verdict(Channel::Rest, Expect::Passes, 404, false, "{}"),
        None
    );
    let forbidden = "<faultstring>technical.security.forbidden.opi:write</faultstring>";
    assert_eq!(
        verdict(
            Channel::Soap,
            Expect::Forbidden(Scope::OpiWrite),
            403,
            false,
            forbidden
        ),
        None
    );
    assert!(
        verdict(
            Channel::Soap,
            Expect::Forbidden(Scope::PjWrite),
            403,
            false,
            forbidden
        )
        .is_some()
    );
    assert_eq!(
        verdict(
            Channel::Soap,
            Expect::Passes,
            500,
            false,
            "<faultstring>technical.parameter.noncoherentinput.x</faultstring>"
        ),
        None
    );
}

/// What a dashboard route asks for: the dashboard uses its session cookie, never API
/// credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum UiNeed {
    /// Served to anyone (login form, CSS, script).
    Open,
    /// A redirection to `/ui/` for anyone.
    ToDashboard,
    /// A session: without one (API credentials included) a 303 to `/ui/login`.
    Session,
    /// A form with a CSRF token: refused (403) without it, whoever sends it.
    CsrfForm,
}

/// Every route of `ui::configure`.
const UI: &[(&str, &str, UiNeed)] = &[
    ("GET", "/", UiNeed::ToDashboard),
    ("GET", "/ui", UiNeed::ToDashboard),
    ("GET", "/ui/", UiNeed::Session),
    ("GET", "/ui/login", UiNeed::Open),
    ("POST", "/ui/login", UiNeed::CsrfForm),
    ("POST", "/ui/logout", UiNeed::Session),
    ("GET", "/ui/rejets/{cause}", UiNeed::Session),
    ("GET", "/ui/rejets/{cause}/export", UiNeed::Session),
    ("GET", "/ui/journal/{id}", UiNeed::Session),
    ("GET", "/ui/doublons", UiNeed::Session),
    ("GET", "/ui/cvec", UiNeed::Session),
    ("GET", "/ui/lots", UiNeed::Session),
    ("GET", "/ui/lots/{id}", UiNeed::Session),
    ("GET", "/ui/lots/{id}/rapport.csv", UiNeed::Session),
    ("GET", "/ui/export/{table}", UiNeed::Session),
    ("GET", "/ui/static/app.css", UiNeed::Open),
    ("GET", "/ui/static/app.js", UiNeed::Open),
];

fn ui_path(path: &str) -> String {
    path.replace("{cause}", "ine")
        .replace("{id}", "1")
        .replace("{table}", "rejets")
}

#[tokio::test]
async fn dashboard_routes_answer_sessions_not_api_credentials() -> TestResult {
    let source = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/src/ui/mod.rs"))?;
    let registered = registered_routes(&source)?;
    let listed: BTreeSet<(String, String)> = UI
        .iter()
        .map(|(m, p, _)| ((*m).to_owned(), shape(p)))
        .collect();
    let mut problems: Vec<String> = registered
        .symmetric_difference(&listed)
        .map(|(m, p)| {
            format!("dashboard route {m} {p}: in ui::configure or in the UI table, not both")
        })
        .collect();
    let Some(app) = TestApp::spawn(Backend::Sqlite).await else {
        return Ok(());
    };
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let result = async {
        for (method, path, need) in UI {
            let url = app.url(&ui_path(path));
            for (label, auth) in [
                ("nobody", None),
                ("admin bearer", Some(app.admin_token.clone())),
            ] {
                let mut req = if *method == "POST" {
                    http.post(&url)
                        .header("Content-Type", "application/x-www-form-urlencoded")
                        .body("secret=x&csrf=")
                } else {
                    http.get(&url)
                };
                if let Some(t) = &auth {
                    req = req.bearer_auth(t);
                }
                let res = req.send().await?;
                let status = res.status().as_u16();
                let location = res
                    .headers()
                    .get("location")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_owned();
                let ok = match need {
                    UiNeed::Open => status == 200,
                    UiNeed::ToDashboard => status == 303 && location == "/ui/",
                    UiNeed::Session => status == 303 && location == "/ui/login",
                    UiNeed::CsrfForm => status == 403,
                };
                if !ok {
                    problems.push(format!(
                        "{method} {path} as {label}: {status} {location} (expected {need:?})"
                    ));
                }
            }
        }
        Ok::<(), Box<dyn std::error::Error>>(())
    }
    .await;
    app.stop().await;
    result?;
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    Ok(())
}
