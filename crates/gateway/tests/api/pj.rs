//! Attachments: PjOpiMetier over SOAP (inline base64 and MTOM built here), the REST API, the
//! content-addressed storage (replacement, concurrency, crash recovery), hostile inputs, and the
//! Apogée PJ REST and INES check facades.

use crate::helpers::{Backend, TestApp, TestResult};
use crate::{both_backends, on_both};
use apogee_app::pj;
use base64::Engine as _;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const OPI: &str = "JVMWT75DRZ";
const PJ_PATH: &str = "/apo-commun-servicesMetiers/services/PjOpiMetier";

fn example(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/../soap/tests/examples/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap_or_default()
}

fn example_bytes(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/../soap/tests/examples/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap_or_default()
}

fn faultstring(xml: &str) -> Option<&str> {
    let start = xml.find("<faultstring>")? + "<faultstring>".len();
    let end = xml[start..].find("</faultstring>")? + start;
    Some(&xml[start..end])
}

fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// A PDF-looking file of about `size` bytes, different for each `seed`, ending with a CRLF.
fn pdf(size: usize, seed: u8) -> Vec<u8> {
    let mut out = b"%PDF-1.7\n".to_vec();
    let mut x = u32::from(seed).wrapping_mul(2_654_435_761).wrapping_add(1);
    while out.len() + 7 < size {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        out.push((x & 0xFF) as u8);
    }
    out.extend_from_slice(b"%%EOF\r\n");
    out
}

/// The captured JAX-WS inline request's PDF.
fn captured_pdf() -> Result<Vec<u8>, Box<dyn std::error::Error>> {
    let xml = example("captured/jaxws-recupererPiecesJustificativesOPIWS.xml");
    let start = xml.find("<_pj>").ok_or("no _pj")? + 5;
    let end = xml.find("</_pj>").ok_or("no _pj")?;
    Ok(base64::engine::general_purpose::STANDARD.decode(&xml[start..end])?)
}

/// A PJ request as the JAX-WS client writes it; `pj` is the content of `<_pj>`.
fn envelope(code: &str, tpj: &str, name: &str, pj: &str) -> String {
    envelope_as(code, "LEGRAND-MSPYC", "CAMILLE", tpj, name, pj)
}

fn envelope_as(code: &str, nom: &str, prenom: &str, tpj: &str, name: &str, pj: &str) -> String {
    format!(
        "<?xml version='1.0' encoding='UTF-8'?><S:Envelope xmlns:S=\"http://schemas.xmlsoap.org/soap/envelope/\"><S:Body><ns2:recupererPiecesJustificativesOPIWS xmlns:ns2=\"gouv.education.apogee.commun.servicesmetiers.PjOpiMetier\"><_codOpiIntEpo>{code}</_codOpiIntEpo><_libNomPatIndOpi>{nom}</_libNomPatIndOpi><_libPr1IndOpi>{prenom}</_libPr1IndOpi><_codTpj>{tpj}</_codTpj><_nomFic>{name}</_nomFic><_pj>{pj}</_pj></ns2:recupererPiecesJustificativesOPIWS></S:Body></S:Envelope>"
    )
}

/// An MTOM request (built as a JAX-WS client does): the envelope in the root part, the file in an
/// `application/octet-stream` part referenced by `xop:Include`.
fn mtom(code: &str, tpj: &str, name: &str, file: &[u8]) -> (String, Vec<u8>) {
    let boundary = "uuid:0f0e0d0c-1111-2222-3333-444455556666";
    let root = envelope(
        code,
        tpj,
        name,
        "<xop:Include xmlns:xop=\"http://www.w3.org/2004/08/xop/include\" href=\"cid:file%2A1@test.example\"/>",
    );
    let mut body = format!(
        "--{boundary}\r\nContent-Id: <rootpart*1@test.example>\r\nContent-Type: application/xop+xml;charset=utf-8;type=\"text/xml\"\r\nContent-Transfer-Encoding: binary\r\n\r\n{root}\r\n--{boundary}\r\nContent-Id: <file*1@test.example>\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: binary\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{boundary}--").as_bytes());
    let content_type = format!(
        "multipart/related;start=\"<rootpart*1@test.example>\";type=\"application/xop+xml\";boundary=\"{boundary}\";start-info=\"text/xml\""
    );
    (content_type, body)
}

async fn post_soap(
    app: &TestApp,
    content_type: &str,
    body: Vec<u8>,
) -> Result<(u16, String), reqwest::Error> {
    let res = app
        .http
        .post(app.url(PJ_PATH))
        .basic_auth("admin", Some(&app.admin_token))
        .header("Content-Type", content_type)
        .header("SOAPAction", "\"\"")
        .body(body)
        .send()
        .await?;
    let status = res.status().as_u16();
    Ok((status, res.text().await?))
}

async fn push_opi(app: &TestApp) -> TestResult {
    let (status, body) = app
        .soap(
            "OpiMetier",
            example("captured/jaxws-mettreajourDonneesOpi_v10-create.xml"),
        )
        .await?;
    assert_eq!(status, 200, "{body}");
    Ok(())
}

/// Stored file keys, and the number of files left in `tmp/`.
fn stored(app: &TestApp) -> Result<(Vec<String>, usize), Box<dyn std::error::Error>> {
    let store = app.state.storage.clone();
    let mut keys = store.keys()?;
    keys.sort();
    let temps = std::fs::read_dir(store.tmp_dir())?.count();
    Ok((keys, temps))
}

fn key(sha: &str) -> String {
    format!("{}/{sha}", &sha[..2])
}

async fn pieces(app: &TestApp, code: &str) -> Result<Vec<Value>, Box<dyn std::error::Error>> {
    let list: Value = app
        .get(&format!("/api/v1/opi/{code}/pj"))
        .send()
        .await?
        .json()
        .await?;
    Ok(list["pjs"].as_array().cloned().unwrap_or_default())
}

async fn download(
    app: &TestApp,
    code: &str,
    tpj: &str,
) -> Result<(u16, reqwest::header::HeaderMap, Vec<u8>), reqwest::Error> {
    let res = app
        .get(&format!("/api/v1/opi/{code}/pj/{tpj}"))
        .send()
        .await?;
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    Ok((status, headers, res.bytes().await?.to_vec()))
}

both_backends! {
    async fn a_pdf_pushed_over_soap_base64_and_mtom_comes_back_byte_identical(app) {
        push_opi(app).await?;
        // The captured JAX-WS request, inline base64.
        let (status, body) = app
            .soap("PjOpiMetier", example("captured/jaxws-recupererPiecesJustificativesOPIWS.xml"))
            .await?;
        assert_eq!(status, 200, "{body}");
        assert!(body.contains("<ns0:recupererPiecesJustificativesOPIWSResponse><PjOpiRetourDTO><msg>OK</msg><erreurDescription xsi:nil=\"true\"/></PjOpiRetourDTO>"), "{body}");
        let captured = captured_pdf()?;
        let list = pieces(app, OPI).await?;
        assert_eq!(list.len(), 1);
        assert_eq!(list[0]["codTpj"], "PJ01");
        assert_eq!(list[0]["nomFic"], "piece-identite.pdf");
        assert_eq!(list[0]["sha256"], sha256(&captured));
        assert_eq!(list[0]["sizeBytes"], captured.len());
        assert_eq!(list[0]["mediaType"], "application/pdf");
        assert!(list[0]["receivedAt"].as_str().is_some_and(|t| t.ends_with('Z')));
        let (status, headers, bytes) = download(app, OPI, "PJ01").await?;
        assert_eq!(status, 200);
        assert_eq!(bytes, captured);
        assert_eq!(headers["etag"].to_str()?, format!("\"{}\"", sha256(&captured)));
        assert_eq!(headers["content-type"].to_str()?, "application/pdf");
        assert_eq!(headers["content-disposition"].to_str()?, "attachment; filename=\"piece-identite.pdf\"");
        // Conditional GET.
        let res = app.get(&format!("/api/v1/opi/{OPI}/pj/PJ01")).header("If-None-Match", format!("\"{}\"", sha256(&captured))).send().await?;
        assert_eq!(res.status(), 304);

        // The captured JAX-WS MTOM request: the same PDF under another name (PJ_REMPLACEE).
        let captured_type = "multipart/related;start=\"<rootpart*794f24b2-dfb4-4a64-bed1-7d9bd72a3d3d@example.jaxws.sun.com>\";type=\"application/xop+xml\";boundary=\"uuid:794f24b2-dfb4-4a64-bed1-7d9bd72a3d3d\";start-info=\"text/xml\"";
        let (status, body) = post_soap(app, captured_type, example_bytes("captured/jaxws-recupererPiecesJustificativesOPIWS-mtom.mime")).await?;
        assert_eq!(status, 200, "{body}");
        let list = pieces(app, OPI).await?;
        assert_eq!(list[0]["nomFic"], "piece-identite-mtom.pdf");
        assert_eq!(list[0]["sha256"], sha256(&captured));

        // An MTOM request built here, with a binary PDF ending in CRLF, for another type.
        let file = pdf(300_000, 1);
        let (content_type, body) = mtom(OPI, "PJ02", "relevé.pdf", &file);
        let (status, answer) = post_soap(app, &content_type, body).await?;
        assert_eq!(status, 200, "{answer}");
        let (status, headers, bytes) = download(app, OPI, "PJ02").await?;
        assert_eq!(status, 200);
        assert_eq!(sha256(&bytes), sha256(&file));
        assert_eq!(bytes, file);
        assert_eq!(headers["content-disposition"].to_str()?, "attachment; filename=\"relev_.pdf\"; filename*=UTF-8''relev%C3%A9.pdf");

        // A 10 MiB PDF, the default maximum, inline base64 wrapped at 76 characters.
        let big = pdf(10 * 1024 * 1024, 2);
        assert_eq!(big.len(), 10 * 1024 * 1024);
        let wrapped: String = b64(&big).as_bytes().chunks(76).map(|l| format!("{}\r\n", String::from_utf8_lossy(l))).collect();
        let (status, answer) = app.soap("PjOpiMetier", envelope(OPI, "PJ03", "gros.pdf", &wrapped)).await?;
        assert_eq!(status, 200, "{}", &answer[..answer.len().min(500)]);
        let (_, _, bytes) = download(app, OPI, "PJ03").await?;
        assert_eq!(sha256(&bytes), sha256(&big));

        // Three pieces, three files, nothing left in tmp/.
        let (keys, temps) = stored(app)?;
        let mut expected = vec![key(&sha256(&captured)), key(&sha256(&file)), key(&sha256(&big))];
        expected.sort();
        assert_eq!((keys, temps), (expected, 0));
        app.flush_journal().await;
        let journal: Value = app.get("/api/v1/journal?operation=recupererPiecesJustificativesOPIWS").send().await?.json().await?;
        assert_eq!(journal["meta"]["total"], 4);
        let warnings: Vec<Value> = journal["entries"].as_array().into_iter().flatten()
            .flat_map(|e| e["warnings"].as_array().cloned().unwrap_or_default())
            .collect();
        assert!(warnings.contains(&json!("PJ_CREEE")) && warnings.contains(&json!("PJ_REMPLACEE")), "{warnings:?}");
        assert_eq!(journal["entries"][0]["key"], OPI);
        Ok(())
    }
}

both_backends! {
    async fn rest_upload_replacement_unchanged_and_deletion(app) {
        push_opi(app).await?;
        let a = pdf(5000, 3);
        let b = pdf(7000, 4);
        let put = |file: Vec<u8>, name: &str| {
            app.put(&format!("/api/v1/opi/{}/pj/PJ01?nomFic={name}", OPI.to_lowercase()))
                .header("Content-Type", "application/pdf")
                .body(file)
                .send()
        };
        let res = put(a.clone(), "a.pdf").await?;
        assert_eq!(res.status(), 201);
        let body: Value = res.json().await?;
        assert_eq!(body["outcome"], "PJ_CREEE");
        assert_eq!(body["sha256"], sha256(&a));
        assert_eq!(body["libTpj"], "Photo d'identité (démo)");
        let res = put(a.clone(), "a.pdf").await?;
        assert_eq!(res.status(), 200);
        assert_eq!(res.json::<Value>().await?["outcome"], "PJ_INCHANGEE");
        let res = put(b.clone(), "b.pdf").await?;
        assert_eq!(res.status(), 200);
        assert_eq!(res.json::<Value>().await?["outcome"], "PJ_REMPLACEE");
        // The replaced file is gone once no row references it.
        assert_eq!(stored(app)?, (vec![key(&sha256(&b))], 0));
        let (_, _, bytes) = download(app, OPI, "PJ01").await?;
        assert_eq!(bytes, b);
        // Multipart, the name from the part; Content-Disposition on a raw body.
        let mut form = b"--XyZ\r\nContent-Disposition: form-data; name=\"commentaire\"\r\n\r\nignored\r\n--XyZ\r\nContent-Disposition: form-data; name=\"fichier\"; filename=\"scan.PDF\"\r\nContent-Type: application/pdf\r\n\r\n".to_vec();
        form.extend_from_slice(&a);
        form.extend_from_slice(b"\r\n--XyZ--\r\n");
        let res = app.put(&format!("/api/v1/opi/{OPI}/pj/PJ02"))
            .header("Content-Type", "multipart/form-data; boundary=XyZ").body(form).send().await?;
        assert_eq!(res.status(), 201, "{}", res.text().await?);
        let res = app.put(&format!("/api/v1/opi/{OPI}/pj/PJ03"))
            .header("Content-Disposition", "attachment; filename=\"photo.pdf\"")
            .body(a.clone()).send().await?;
        assert_eq!(res.status(), 201);
        let list = pieces(app, OPI).await?;
        let names: Vec<&str> = list.iter().filter_map(|p| p["nomFic"].as_str()).collect();
        assert_eq!(names, vec!["b.pdf", "scan.PDF", "photo.pdf"]);
        // Two rows share the file of `a`.
        assert_eq!(stored(app)?.0.len(), 2);
        let res = app.http.delete(app.url(&format!("/api/v1/opi/{OPI}/pj/PJ02"))).bearer_auth(&app.admin_token).send().await?;
        assert_eq!(res.status(), 204);
        assert_eq!(stored(app)?.0.len(), 2, "still referenced by PJ03");
        for tpj in ["PJ01", "PJ03"] {
            let res = app.http.delete(app.url(&format!("/api/v1/opi/{OPI}/pj/{tpj}"))).bearer_auth(&app.admin_token).send().await?;
            assert_eq!(res.status(), 204);
        }
        assert_eq!(stored(app)?, (vec![], 0));
        let res = app.http.delete(app.url(&format!("/api/v1/opi/{OPI}/pj/PJ01"))).bearer_auth(&app.admin_token).send().await?;
        assert_eq!(res.status(), 404);
        assert_eq!(res.headers()["content-type"].to_str()?, "application/problem+json");
        let problem: Value = res.json().await?;
        assert_eq!(problem["faultKey"], "technical.data.nullretrieve.pj");
        assert!(pieces(app, OPI).await?.is_empty());
        // Deleting every vœu keeps the pieces (PJ-9).
        let res = put(a.clone(), "a.pdf").await?;
        assert_eq!(res.status(), 201);
        let res = app.http.delete(app.url(&format!("/api/v1/opi/{OPI}/voeux"))).bearer_auth(&app.admin_token).send().await?;
        assert_eq!(res.status(), 200);
        assert_eq!(pieces(app, OPI).await?.len(), 1);
        // Scopes.
        let reader = app.client_with("lecteur-pj", "pj:read").await;
        let res = app.http.put(app.url(&format!("/api/v1/opi/{OPI}/pj/PJ01?nomFic=a.pdf"))).bearer_auth(&reader).body(a.clone()).send().await?;
        assert_eq!(res.status(), 403);
        let res = app.http.get(app.url(&format!("/api/v1/opi/{OPI}/pj/PJ01"))).bearer_auth(&reader).send().await?;
        assert_eq!(res.status(), 200);
        let writer = app.client_with("opi-seul", "opi:write").await;
        let res = app.http.get(app.url(&format!("/api/v1/opi/{OPI}/pj"))).bearer_auth(&writer).send().await?;
        assert_eq!(res.status(), 403);
        let (status, body) = post_soap_as(app, "opi-seul", &writer, &envelope(OPI, "PJ01", "a.pdf", &b64(&a))).await?;
        assert_eq!((status, faultstring(&body)), (403, Some("technical.security.forbidden.pj:write")));
        Ok(())
    }
}

async fn post_soap_as(
    app: &TestApp,
    user: &str,
    secret: &str,
    xml: &str,
) -> Result<(u16, String), reqwest::Error> {
    let res = app
        .http
        .post(app.url(PJ_PATH))
        .basic_auth(user, Some(secret))
        .header("Content-Type", "text/xml; charset=utf-8")
        .body(xml.to_owned())
        .send()
        .await?;
    let status = res.status().as_u16();
    Ok((status, res.text().await?))
}

both_backends! {
    async fn hostile_names_oversize_wrong_types_and_unknown_opi_get_faults_and_leave_no_file(app) {
        push_opi(app).await?;
        let file = pdf(2000, 5);
        let ok = b64(&file);
        let png = b64(b"\x89PNG\r\n\x1a\n0000IHDR");
        let exe = b64(b"MZ\x90\x00\x03\x00\x00\x00");
        let gif = b64(b"GIF89a\x01\x00\x01\x00");
        let too_big = b64(&pdf(10 * 1024 * 1024 + 1, 6));
        let nil = r#"<_pj xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:nil="true"/>"#;
        let long_name = format!("{}.pdf", "x".repeat(300));
        let cases: Vec<(String, &str)> = vec![
            (envelope(OPI, "PJ01", "../../../etc/passwd", &ok), "technical.parameter.noncoherentinput.nomFic"),
            (envelope(OPI, "PJ01", r"..\..\Windows\evil.exe", &ok), "technical.parameter.noncoherentinput.nomFic"),
            (envelope(OPI, "PJ01", "scan&#9;.pdf", &ok), "technical.parameter.noncoherentinput.nomFic"),
            (envelope(OPI, "PJ01", "photo\u{202E}fdp.exe", &ok), "technical.parameter.noncoherentinput.nomFic"),
            (envelope(OPI, "PJ01", &long_name, &ok), "technical.parameter.noncoherentinput.nomFic"),
            (envelope(OPI, "PJ01", "dossier/", &ok), "technical.parameter.noncoherentinput.nomFic"),
            (envelope(OPI, "PJ01", "image.pdf", &png), "technical.parameter.noncoherentinput.nomFic"),
            (envelope(OPI, "PJ01", "x.pdf", &exe), "technical.parameter.noncoherentinput.pj"),
            (envelope(OPI, "PJ01", "x.gif", &gif), "technical.parameter.noncoherentinput.pj"),
            (envelope(OPI, "PJ01", "x.pdf", &too_big), "technical.parameter.noncoherentinput.pj"),
            (envelope(OPI, "PJ01", "x.pdf", ""), "technical.parameter.noncoherentinput.pj"),
            (envelope(OPI, "PJ01", "x.pdf", "JVBER*i0x"), "technical.parameter.noncoherentinput.pj"),
            (envelope(OPI, "PJ01", "x.pdf", &ok).replace(&format!("<_pj>{ok}</_pj>"), nil), "technical.parameter.noncoherentinput.pjobligatoire"),
            (envelope(OPI, "", "x.pdf", &ok), "technical.parameter.noncoherentinput.codTpjobligatoire"),
            (envelope("ZZZZZZZZZZ", "PJ01", "x.pdf", &ok), "technical.data.nullretrieve.codOpiIntEpo"),
            (envelope(OPI, "PJ99", "x.pdf", &ok), "technical.data.nullretrieve.codTpj"),
            (envelope_as(OPI, "DURAND", "CAMILLE", "PJ01", "x.pdf", &ok), "technical.parameter.noncoherentinput.libNomPatIndOpi"),
            (envelope_as(OPI, "Legrand Mspyc", "LEA", "PJ01", "x.pdf", &ok), "technical.parameter.noncoherentinput.libPr1IndOpi"),
        ];
        for (xml, expected) in cases {
            let (status, body) = app.soap("PjOpiMetier", xml).await?;
            assert_eq!(status, 500, "{expected}");
            assert_eq!(faultstring(&body), Some(expected), "{}", &body[..body.len().min(800)]);
            assert!(body.contains("<ns0:fault>") && body.contains("<lastErrorMsg>"), "{body}");
            assert_eq!(stored(app)?, (vec![], 0), "{expected}: a file was left behind");
        }
        // MTOM: a reference to no part, an xop:Include without MTOM, a multipart without boundary.
        let (content_type, body) = mtom(OPI, "PJ01", "x.pdf", &file);
        let broken = String::from_utf8_lossy(&body).replace("cid:file%2A1@test.example", "cid:other@test.example");
        let (status, answer) = post_soap(app, &content_type, broken.into_bytes()).await?;
        assert!(status == 500 && answer.contains("soap-env:Client"), "{answer}");
        let xop = envelope(OPI, "PJ01", "x.pdf", "<xop:Include xmlns:xop=\"http://www.w3.org/2004/08/xop/include\" href=\"cid:a\"/>");
        let (status, answer) = app.soap("PjOpiMetier", xop).await?;
        assert!(status == 500 && answer.contains("soap-env:Client"), "{answer}");
        let (status, answer) = post_soap(app, "multipart/related; type=\"application/xop+xml\"", body).await?;
        assert!(status == 500 && answer.contains("soap-env:Client"), "{answer}");
        let (status, answer) = post_soap(app, "application/json", b"{}".to_vec()).await?;
        assert!(status == 500 && answer.contains("soap-env:Client"), "{answer}");
        // The same refusals over REST, as problems.
        let put = |query: &str, content: Vec<u8>| {
            app.put(&format!("/api/v1/opi/{OPI}/pj/PJ01{query}")).body(content).send()
        };
        for (query, content, status, key) in [
            ("?nomFic=../../etc/passwd", file.clone(), 400, "technical.parameter.noncoherentinput.nomFic"),
            ("?nomFic=a%00.pdf", file.clone(), 400, "technical.parameter.noncoherentinput.nomFic"),
            ("?nomFic=x.pdf", pdf(10 * 1024 * 1024 + 1, 7), 413, "technical.parameter.noncoherentinput.pj"),
            ("?nomFic=x.gif", b"GIF89a....".to_vec(), 415, "technical.parameter.noncoherentinput.pj"),
            ("?nomFic=x.pdf", Vec::new(), 400, "technical.parameter.noncoherentinput.pj"),
            ("", file.clone(), 400, "technical.parameter.noncoherentinput.nomFicobligatoire"),
        ] {
            let res = put(query, content).await?;
            assert_eq!(res.status(), status, "{query}");
            let problem: Value = res.json().await?;
            assert_eq!(problem["faultKey"], key, "{query}: {problem}");
            assert!(problem["detail"].as_str().is_some_and(|d| !d.is_empty()));
            assert_eq!(stored(app)?, (vec![], 0), "{query}: a file was left behind");
        }
        let res = app.put("/api/v1/opi/ZZZZZZZZZZ/pj/PJ01?nomFic=x.pdf").body(file.clone()).send().await?;
        assert_eq!(res.status(), 404);
        let res = app.put(&format!("/api/v1/opi/{OPI}/pj/PJ99?nomFic=x.pdf")).body(file.clone()).send().await?;
        assert_eq!(res.status(), 400);
        assert_eq!(res.json::<Value>().await?["faultKey"], "technical.data.nullretrieve.codTpj");
        let res = app.get("/api/v1/opi/ZZZZZZZZZZ/pj").send().await?;
        assert_eq!(res.status(), 404);
        let (status, _, _) = download(app, OPI, "PJ01").await?;
        assert_eq!(status, 404);
        assert!(pieces(app, OPI).await?.is_empty());
        app.flush_journal().await;
        let journal: Value = app.get("/api/v1/journal?faultKey=technical.parameter.noncoherentinput.nomFic").send().await?.json().await?;
        assert!(journal["meta"]["total"].as_i64().is_some_and(|n| n >= 7), "{journal}");
        Ok(())
    }
}

both_backends! {
    async fn two_concurrent_replacements_of_the_same_piece_one_wins_no_orphan(app) {
        push_opi(app).await?;
        for round in 0..4u8 {
            let a = pdf(200_000, 10 + round * 2);
            let b = pdf(150_000, 11 + round * 2);
            let via_rest = app.put(&format!("/api/v1/opi/{OPI}/pj/PJ01?nomFic=a.pdf")).body(a.clone()).send();
            let via_soap = app.soap("PjOpiMetier", envelope(OPI, "PJ01", "b.pdf", &b64(&b)));
            let (rest, soap) = tokio::join!(via_rest, via_soap);
            assert!(rest?.status().is_success());
            assert_eq!(soap?.0, 200);
            let list = pieces(app, OPI).await?;
            assert_eq!(list.len(), 1);
            let winner = list[0]["sha256"].as_str().unwrap_or_default().to_owned();
            assert!(winner == sha256(&a) || winner == sha256(&b), "round {round}");
            let (_, _, bytes) = download(app, OPI, "PJ01").await?;
            assert_eq!(sha256(&bytes), winner);
            assert_eq!(stored(app)?, (vec![key(&winner)], 0), "round {round}: orphan file");
        }
        Ok(())
    }
}

/// Makes every insert into `opi_pj` fail (a database failure after the file was published).
async fn break_inserts(app: &TestApp, on: bool) -> TestResult {
    use diesel::connection::SimpleConnection;
    let db = app.state.db.clone();
    tokio::task::spawn_blocking(move || -> Result<(), apogee_db::DbError> {
        let mut conn = db.conn()?;
        let sql = match (&mut *conn, on) {
            (apogee_db::AnyConnection::Sqlite(_), true) => "CREATE TRIGGER pj_crash BEFORE INSERT ON opi_pj BEGIN SELECT RAISE(ABORT, 'panne simulée'); END;",
            (apogee_db::AnyConnection::Sqlite(_), false) => "DROP TRIGGER pj_crash;",
            (apogee_db::AnyConnection::Postgresql(_), true) => "CREATE FUNCTION pj_crash() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'panne simulée'; END $$; CREATE TRIGGER pj_crash BEFORE INSERT ON opi_pj FOR EACH ROW EXECUTE FUNCTION pj_crash();",
            (apogee_db::AnyConnection::Postgresql(_), false) => "DROP TRIGGER pj_crash ON opi_pj; DROP FUNCTION pj_crash();",
        };
        apogee_db::with_backend!(&mut *conn, |c| c.batch_execute(sql)).map_err(apogee_db::DbError::from)
    })
    .await??;
    Ok(())
}

both_backends! {
    async fn a_crash_between_file_write_and_commit_leaves_no_dangling_row(app) {
        push_opi(app).await?;
        let kept = pdf(3000, 20);
        let res = app.put(&format!("/api/v1/opi/{OPI}/pj/PJ02?nomFic=kept.pdf")).body(kept.clone()).send().await?;
        assert_eq!(res.status(), 201);
        // The database refuses the row after the file was made durable: no row, no file.
        break_inserts(app, true).await?;
        let lost = pdf(4000, 21);
        let res = app.put(&format!("/api/v1/opi/{OPI}/pj/PJ01?nomFic=lost.pdf")).body(lost.clone()).send().await?;
        assert_eq!(res.status(), 500);
        let (status, body) = app.soap("PjOpiMetier", envelope(OPI, "PJ01", "lost.pdf", &b64(&lost))).await?;
        assert_eq!((status, faultstring(&body)), (500, Some("technical.global.internal.global")));
        break_inserts(app, false).await?;
        assert_eq!(pieces(app, OPI).await?.len(), 1);
        assert_eq!(stored(app)?, (vec![key(&sha256(&kept))], 0));
        // A process killed between the rename and the commit leaves a file no row references; one
        // killed while receiving leaves a temporary file. The cleanup removes both, never a
        // referenced file, and finds no row whose file is missing.
        let store = app.state.storage.clone();
        let orphan = sha256(b"orphan");
        std::fs::create_dir_all(store.root().join(&orphan[..2]))?;
        std::fs::write(store.root().join(key(&orphan)), b"orphan")?;
        std::fs::write(store.tmp_dir().join(".upload-crashed"), b"%PDF-partial")?;
        std::fs::write(store.tmp_dir().join("not-ours"), b"x")?;
        let report = pj::cleanup(&app.state, std::time::Duration::from_secs(3600)).await?;
        assert_eq!((report.orphans, report.temps), (1, 0), "young temporary files are kept");
        let report = pj::cleanup(&app.state, std::time::Duration::ZERO).await?;
        assert_eq!((report.orphans, report.temps, report.missing.len()), (0, 1, 0));
        assert!(store.tmp_dir().join("not-ours").exists());
        std::fs::remove_file(store.tmp_dir().join("not-ours"))?;
        assert_eq!(stored(app)?, (vec![key(&sha256(&kept))], 0));
        let (_, _, bytes) = download(app, OPI, "PJ02").await?;
        assert_eq!(bytes, kept);
        // Deleting the OPI deletes its pieces; the cleanup then deletes their files.
        let res = app.http.delete(app.url(&format!("/api/v1/opi/{OPI}"))).bearer_auth(&app.admin_token).send().await?;
        assert_eq!(res.status(), 204);
        let report = pj::cleanup(&app.state, std::time::Duration::ZERO).await?;
        assert_eq!(report.orphans, 1);
        assert_eq!(stored(app)?, (vec![], 0));
        Ok(())
    }
}

async fn seed_student_pieces(app: &TestApp) -> Result<Vec<u8>, Box<dyn std::error::Error>> {
    let file = pdf(6000, 30);
    let store = app.state.storage.clone();
    let mut staging = store.stage(app.state.settings.pj.max_bytes)?;
    std::io::Write::write_all(&mut staging, &file)?;
    let staged = staging.finish()?;
    let at = |d: &str| chrono::NaiveDateTime::parse_from_str(d, "%Y-%m-%d %H:%M").ok();
    let row = |anu: &str, stu: &str| apogee_app::pj::StudentPieceRow {
        cod_anu: anu.into(),
        cod_etu: 22512345,
        cod_tpj: "PJ01".into(),
        lib_tpj: None,
        nom_fic: Some(format!("photo-{anu}.pdf")),
        tem_dem_pj: "O".into(),
        stu_pj: Some(stu.into()),
        mtf_refus: None,
        cmt_mtf_refus: None,
        dat_dem_pj: at(&format!("{anu}-07-01 09:30")),
        dat_rec_pj: at(&format!("{anu}-07-02 10:05")),
        dat_refus: None,
        dat_val: at(&format!("{anu}-07-03 11:00")),
        dat_exp: None,
        daa_pre_tra: None,
        storage_key: None,
        size_bytes: None,
        media_type: None,
        sha256: None,
        created_at: chrono::Utc::now().naive_utc(),
        updated_at: chrono::Utc::now().naive_utc(),
        created_by: Some("test".into()),
        last_trace_id: None,
    };
    pj::store_student_piece(&app.state, row("2024", "V"), None).await?;
    pj::store_student_piece(&app.state, row("2025", "V"), Some(staged)).await?;
    Ok(file)
}

async fn facade_error(res: reqwest::Response) -> Result<(u16, Value), Box<dyn std::error::Error>> {
    let status = res.status().as_u16();
    let body: Value = res.json().await?;
    for field in ["erreurMsg", "erreurType", "erreurDescription"] {
        assert!(body[field].is_string(), "{field} in {body}");
    }
    Ok((status, body))
}

both_backends! {
    async fn the_pj_and_ines_facades_answer_as_their_contracts_say(app) {
        let file = seed_student_pieces(app).await?;
        let base = "/apo-ws/services/PJ";
        let res = app.get(&format!("{base}/info?codEtu=22512345&codTpj=PJ01")).send().await?;
        assert_eq!(res.status(), 200);
        let list: Value = res.json().await?;
        assert_eq!(list[0]["codAnu"], "2025", "newest year first: {list}");
        assert_eq!(list[1]["codAnu"], "2024");
        assert_eq!(list[0]["temDemPJ"], "O");
        assert_eq!(list[0]["stuPj"], "V");
        assert_eq!(list[0]["nomFic"], "photo-2025.pdf");
        assert_eq!(list[0]["libTpj"], "Photo d'identité (démo)");
        assert_eq!(list[0]["datDemPj"], "01-07-2025 09:30");
        assert_eq!(list[0]["datRefus"], Value::Null);
        let fields = list[0].as_object().map(|o| o.len());
        assert_eq!(fields, Some(14));
        assert!(list[0].as_object().into_iter().flatten().all(|(_, v)| v.is_string() || v.is_null()));
        let res = app.get(&format!("{base}/info?codAnu=2024&codEtu=22512345&codTpj=PJ01")).send().await?;
        let list: Value = res.json().await?;
        assert_eq!(list.as_array().map(Vec::len), Some(1));
        // The file.
        let res = app.get(&format!("{base}/fichier?codAnu=2025&codEtu=22512345&codTpj=PJ01")).send().await?;
        assert_eq!(res.status(), 200);
        assert_eq!(res.headers()["content-type"].to_str()?, "application/octet-stream");
        assert_eq!(res.headers()["content-disposition"].to_str()?, "attachment; filename=\"photo-2025.pdf\"");
        assert_eq!(res.bytes().await?.to_vec(), file);
        // Not found and bad requests, in the contract's error body.
        for (query, status, kind) in [
            ("info?codEtu=99999999&codTpj=PJ01", 404, "nullretrieve.etudiantinexistant"),
            ("info?codEtu=22512345&codTpj=PJ02", 404, "nullretrieve.piecejustif"),
            ("fichier?codAnu=2024&codEtu=22512345&codTpj=PJ01", 404, "nullretrieve.piecejustif"),
            ("fichier?codAnu=2025&codEtu=99999999&codTpj=PJ01", 404, "nullretrieve.etudiantinexistant"),
            ("info?codTpj=PJ01", 400, "inputparameter.codEtu"),
            ("info?codEtu=12AB&codTpj=PJ01", 400, "inputparameter.codEtu"),
            ("info?codEtu=22512345", 400, "inputparameter.codTpj"),
            ("info?codEtu=22512345&codTpj=PJ01&codAnu=25", 400, "inputparameter.codAnu"),
            ("fichier?codEtu=22512345&codTpj=PJ01", 400, "inputparameter.codAnu"),
        ] {
            let res = app.get(&format!("{base}/{query}")).send().await?;
            let (got, body) = facade_error(res).await?;
            assert_eq!((got, body["erreurType"].as_str()), (status, Some(kind)), "{query}");
        }
        // Credentials: none → 401, without pj:read → 403.
        let res = app.http.get(app.url(&format!("{base}/info?codEtu=22512345&codTpj=PJ01"))).send().await?;
        assert_eq!(facade_error(res).await?.0, 401);
        let other = app.client_with("sans-pj", "opi:read").await;
        let res = app.http.get(app.url(&format!("{base}/info?codEtu=22512345&codTpj=PJ01"))).bearer_auth(&other).send().await?;
        assert_eq!(facade_error(res).await?.0, 403);
        let res = app.http.post(app.url(&format!("{base}/info"))).bearer_auth(&app.admin_token).send().await?;
        assert_eq!(facade_error(res).await?.0, 405);

        // INES check: bare booleans, offline for BEA/NNE and for INES that fail offline.
        let check = |body: Value| app.http.post(app.url("/ines/v1/check-ine")).bearer_auth(&app.admin_token).json(&body).send();
        for (body, expected) in [
            (json!({"type": "BEA", "ine": "0123456789", "cle": "M"}), "true"),
            (json!({"type": "bea", "ine": "0123456789", "cle": "N"}), "false"),
            (json!({"type": "NNE", "ine": "0DDG5R0001", "cle": "5"}), "true"),
            (json!({"type": "INES", "ine": "111111111", "cle": "AB"}), "false"),
            (json!({"type": "INES", "ine": "123456789", "cle": "ZZ"}), "false"),
        ] {
            let res = check(body.clone()).await?;
            assert_eq!(res.status(), 200, "{body}");
            assert_eq!(res.headers()["content-type"].to_str()?, "application/json");
            assert_eq!(res.text().await?, expected, "{body}");
        }
        // An INES that passes offline needs the verifier: none configured → 503, never `false`.
        let res = check(json!({"type": "INES", "ine": "123456789", "cle": "AB"})).await?;
        let (status, body) = facade_error(res).await?;
        assert_eq!((status, body["erreurType"].as_str()), (503, Some("technical.indisponible")));
        for (body, kind) in [
            (json!({"type": "INES", "ine": "12345678", "cle": "AB"}), "inputparameter.ine"),
            (json!({"type": "INES", "ine": "123456789", "cle": "A1"}), "inputparameter.cle"),
            (json!({"type": "SIFA", "ine": "123456789", "cle": "AB"}), "inputparameter.type"),
            (json!({"ine": "123456789", "cle": "AB"}), "inputparameter.type"),
        ] {
            let (status, answer) = facade_error(check(body.clone()).await?).await?;
            assert_eq!((status, answer["erreurType"].as_str()), (400, Some(kind)), "{body}");
        }
        let res = app.http.post(app.url("/ines/v1/check-ine")).bearer_auth(&app.admin_token).header("Content-Type", "application/json").body("{not json").send().await?;
        let (status, answer) = facade_error(res).await?;
        assert_eq!((status, answer["erreurType"].as_str()), (400, Some("inputparameter.body")));
        let res = app.get("/ines/version").send().await?;
        assert_eq!(res.status(), 200);
        assert!(res.headers()["content-type"].to_str()?.starts_with("text/plain"));
        assert!(res.text().await?.starts_with("apogee-gateway "));
        // Other paths under the bases are not ours.
        let res = app.get("/apo-ws/services/PJ/autre").send().await?;
        assert_eq!(res.status(), 404);
        let res = app.get("/autre/base/info?codEtu=22512345&codTpj=PJ01").send().await?;
        assert_eq!(res.status(), 404);
        Ok(())
    }
}

async fn configured_facades_body(backend: Backend) -> TestResult {
    let Some(app) = TestApp::spawn_with(backend, |s| {
        s.pj.pj_facade_base = "/pj-ws".into();
        s.pj.ines_facade_base = "/checkines".into();
        s.pj.facade_header_name = Some("X-Api-Key".into());
        s.pj.facade_header_value = Some("cle-secrete".into());
        s.pj.ines_allow_list = vec!["123456789AB".into()];
    })
    .await
    else {
        return Ok(());
    };
    let result = async {
        seed_student_pieces(&app).await?;
        // The header opens the facades without API credentials; a wrong value does not.
        let res = app
            .http
            .get(app.url("/pj-ws/info?codEtu=22512345&codTpj=PJ01"))
            .header("X-Api-Key", "cle-secrete")
            .send()
            .await?;
        assert_eq!(res.status(), 200);
        let res = app
            .http
            .get(app.url("/pj-ws/info?codEtu=22512345&codTpj=PJ01"))
            .header("X-Api-Key", "autre")
            .send()
            .await?;
        assert_eq!(res.status(), 401);
        let res = app
            .get("/apo-ws/services/PJ/info?codEtu=22512345&codTpj=PJ01")
            .send()
            .await?;
        assert_eq!(res.status(), 404, "the default base is not served any more");
        // The allow-list verifier decides INES that pass offline.
        for (ine, cle, expected) in [("123456789", "AB", "true"), ("123456789", "AC", "false")] {
            let res = app
                .http
                .post(app.url("/checkines/v1/check-ine"))
                .header("X-Api-Key", "cle-secrete")
                .json(&json!({"type": "INES", "ine": ine, "cle": cle}))
                .send()
                .await?;
            assert_eq!(res.status(), 200);
            assert_eq!(res.text().await?, expected);
        }
        // `config` masks the header value.
        assert!(!app.state.settings.to_masked_toml().contains("cle-secrete"));
        Ok::<(), Box<dyn std::error::Error>>(())
    }
    .await;
    app.stop().await;
    result
}

on_both!(configured_facades, configured_facades_body);

fn path_segment(value: &str) -> String {
    value
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

both_backends! {
    async fn ine_check_follows_the_vectors(app) {
        let vectors = concat!(env!("CARGO_MANIFEST_DIR"), "/../domain/tests/vectors/ine.csv");
        let mut reader = csv::Reader::from_path(vectors)?;
        let mut seen = 0;
        for row in reader.records() {
            let row = row?;
            let (value, family, valid, reason) = (&row[0], &row[1], &row[2], &row[3]);
            if value.trim().is_empty() {
                continue;
            }
            let res = app.get(&format!("/api/v1/ine/{}", path_segment(value))).send().await?;
            assert_eq!(res.status(), 200, "{value:?}");
            let got: Value = res.json().await?;
            assert_eq!(got["family"], family, "{value:?}");
            assert_eq!(got["valid"], valid, "{value:?}");
            assert!(reason.starts_with(got["reason"].as_str().unwrap_or("?")), "{value:?}: {got}");
            assert_eq!(got.as_object().map(|o| o.len()), Some(4));
            seen += 1;
        }
        assert!(seen > 50);
        let got: Value = app.get("/api/v1/ine/%200dDg5r00015").send().await?.json().await?;
        assert_eq!(got, json!({"valid": "true", "family": "NNE36", "normalized": "0DDG5R00015", "reason": "OK"}));
        let res = app.http.get(app.url("/api/v1/ine/0123456789M")).send().await?;
        assert_eq!(res.status(), 401);
        Ok(())
    }
}

both_backends! {
    async fn student_pieces_loaded_over_rest_are_served_by_the_facade(app) {
        let pdf = b"%PDF-1.4\n% piece etudiant\n%%EOF\n".to_vec();
        let res = app.put("/api/v1/etudiants/10000001/pj/2026/PJ02?nomFic=cni.pdf").header("content-type", "application/octet-stream").body(pdf.clone()).send().await?;
        assert_eq!(res.status(), 204, "{}", res.text().await?);
        let info: serde_json::Value = app.get("/apo-ws/services/PJ/info?codEtu=10000001&codTpj=PJ02").send().await?.json().await?;
        assert_eq!(info[0]["nomFic"], "cni.pdf", "{info}");
        assert_eq!(info[0]["stuPj"], "V");
        let file = app.get("/apo-ws/services/PJ/fichier?codAnu=2026&codEtu=10000001&codTpj=PJ02").send().await?;
        assert_eq!(file.status(), 200);
        assert_eq!(file.bytes().await?.to_vec(), pdf);
        let res = app.put("/api/v1/etudiants/10000001/pj/2026/NOPE").body(b"%PDF-1.4\n".to_vec()).send().await?;
        assert_eq!(res.status(), 404);
        let res = app.put("/api/v1/etudiants/10000001/pj/2026/PJ02").body(b"not a pdf".to_vec()).send().await?;
        assert_eq!(res.status(), 415);
        Ok(())
    }
}
