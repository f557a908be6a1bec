//! OpiMetier over SOAP: the contract's example envelopes and captured JAX-WS requests, faults,
//! WSDL, authentication and wire rules.

use crate::both_backends;
use serde_json::Value;

fn example(name: &str) -> String {
    std::fs::read_to_string(format!(
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

both_backends! {
    async fn captured_jaxws_requests_create_update_and_empty_opis(app) {
        let (status, body) = app.soap("OpiMetier", example("captured/jaxws-mettreajourDonneesOpi_v10-create.xml")).await?;
        assert_eq!(status, 200, "{body}");
        assert!(body.contains("<ns0:mettreajourDonneesOpi_v10Response/>"), "{body}");
        let (status, body) = app.soap("OpiMetier", example("captured/jaxws-mettreajourDonneesOpi_v10-create-with-address-and-bac.xml")).await?;
        assert_eq!(status, 200, "{body}");
        let opi: Value = app.get("/api/v1/opi/JVMWT75DRZ").send().await?.json().await?;
        assert_eq!(opi["donnees"]["individu"]["etatCivil"]["libNomPatIndOpi"], "LEGRAND-MSPYC");
        assert_eq!(opi["ine"]["family"], "BEA");
        assert_eq!(opi["voeux"].as_array().map(Vec::len), Some(2));
        let with_bac: Value = app.get("/api/v1/opi/JVMWT75HOJ").send().await?.json().await?;
        assert_eq!(with_bac["donnees"]["adresseFixe"]["codBdi"], "88000");
        assert_eq!(with_bac["donnees"]["bac"]["codBac"], "S");
        assert_eq!(with_bac["donnees"]["individu"]["donneesNaissance"]["libVilNaiEtuOpi"], "ÉPINAL");
        // The same OPI again: one row, same vœux.
        let (status, _) = app.soap("OpiMetier", example("captured/jaxws-mettreajourDonneesOpi_v10-create.xml")).await?;
        assert_eq!(status, 200);
        let list: Value = app.get("/api/v1/opi?nom=legrand-mspyc").send().await?.json().await?;
        assert_eq!(list["meta"]["total"], 1);
        // Delete every vœu with the eCandidat workaround (one all-nil item).
        let (status, body) = app.soap("OpiMetier", example("captured/jaxws-mettreajourDonneesOpi_v10-delete-all-voeux.xml")).await?;
        assert_eq!(status, 200, "{body}");
        let opi: Value = app.get("/api/v1/opi/JVMWT75DRZ").send().await?.json().await?;
        assert_eq!(opi["voeux"].as_array().map(Vec::len), Some(0), "{opi}");
        app.flush_journal().await;
        let journal: Value = app.get("/api/v1/journal?operation=mettreajourDonneesOpi_v10").send().await?.json().await?;
        assert_eq!(journal["meta"]["total"], 4);
        assert_eq!(journal["entries"][0]["channel"], "soap");
        assert_eq!(journal["entries"][0]["key"], "JVMWT75DRZ");
        Ok(())
    }
}

both_backends! {
    async fn contract_examples_are_accepted_with_their_referential(app) {
        app.load_example_referential().await?;
        for file in ["opi-v10-request-full.xml", "opi-v10-request-nil-style.xml", "opi-v10-request-minimal.xml"] {
            let (status, body) = app.soap("OpiMetier", example(file)).await?;
            assert_eq!(status, 200, "{file}: {body}");
            let opi: Value = app.get("/api/v1/opi/EC25A7K3Q9").send().await?.json().await?;
            assert_eq!(opi["donnees"]["individu"]["etatCivil"]["libNomPatIndOpi"], "LEMOINE", "{file}");
        }
        // The minimal request carries one vœu: replace semantics leave exactly that one.
        let opi: Value = app.get("/api/v1/opi/EC25A7K3Q9").send().await?.json().await?;
        assert_eq!(opi["voeux"].as_array().map(Vec::len), Some(1), "{opi}");
        // Blocks absent from the minimal request keep their stored value (OPI-10).
        assert_eq!(opi["donnees"]["adresseFixe"]["codBdi"], "69003", "{opi}");
        let (status, body) = app.soap("OpiMetier", example("opi-v10-request-delete-all-voeux.xml")).await?;
        assert_eq!(status, 200, "{body}");
        let opi: Value = app.get("/api/v1/opi/EC25A7K3Q9").send().await?.json().await?;
        assert_eq!(opi["voeux"].as_array().map(Vec::len), Some(0));
        Ok(())
    }
}

fn with(base: &str, from: &str, to: &str) -> String {
    assert!(base.contains(from), "fixture lacks {from}");
    base.replacen(from, to, 1)
}

both_backends! {
    async fn bad_inputs_get_the_fault_they_name_and_write_nothing(app) {
        let base = example("captured/jaxws-mettreajourDonneesOpi_v10-create.xml");
        let nil = r#"<libNomPatIndOpi xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:nil="true"/>"#;
        let cases = [
            (with(&base, "<codCge>CG1</codCge>", "<codCge>ZZZ</codCge>"), "technical.data.nullretrieve.codCge"),
            (with(&with(&base, "<codCge>CG1</codCge>", "<codCge>CG2</codCge>"), "<codEtp>ETP01</codEtp>", "<codEtp>ETP03</codEtp>"), "functionnal.borules.cge.accesdistance"),
            (with(&base, "<codEtp>ETP01</codEtp>", "<codEtp>ETP99</codEtp>"), "technical.data.nullretrieve.vet"),
            (with(&base, "<codDip>DIP01</codDip>", "<codDip>DIP99</codDip>"), "technical.parameter.noncoherentinput.codDip"),
            (with(&base, "<libNomPatIndOpi>LEGRAND-MSPYC</libNomPatIndOpi>", nil), "technical.parameter.noncoherentinput.libNomPatIndOpiobligatoire"),
            (with(&base, "<libNomPatIndOpi>LEGRAND-MSPYC</libNomPatIndOpi>", "<libNomPatIndOpi>ABCDEFGHIJABCDEFGHIJABCDEFGHIJK</libNomPatIndOpi>"), "technical.parameter.noncoherentinput.libNomPatIndOpi"),
            (with(&base, "<codNneIndOpi>3211354385T</codNneIndOpi>", "<codNneIndOpi>3211354385U</codNneIndOpi>"), "technical.parameter.noncoherentinput.codNneIndOpi"),
            (with(&base, "<dateNaiIndOpi>14032005</dateNaiIndOpi>", "<dateNaiIndOpi>31022005</dateNaiIndOpi>"), "technical.parameter.noncoherentinput.dateNaiIndOpi"),
            (with(&base, "<codDepPayNai>054</codDepPayNai>", "<codDepPayNai>999</codDepPayNai>"), "technical.data.nullretrieve.codDepPayNai"),
            (with(&base, "<codDemDos>C</codDemDos>", "<codDemDos>X</codDemDos>"), "technical.parameter.noncoherentinput.codDemDos"),
            (with(&base, "<numCls>1</numCls>", "<numCls>un</numCls>"), "technical.parameter.noncoherentinput.numCls"),
            (with(&base, "<codOpiIntEpo>JVMWT75DRZ</codOpiIntEpo>", "<codOpiIntEpo>JVM-WT75</codOpiIntEpo>"), "technical.parameter.noncoherentinput.codOpiIntEpo"),
        ];
        for (xml, key) in cases {
            let (status, body) = app.soap("OpiMetier", xml).await?;
            assert_eq!(status, 500, "{key}: {body}");
            assert_eq!(faultstring(&body), Some(key), "{body}");
            let fault_key = apogee_domain::FaultKey::from(key);
            let [t, d, n, e] = fault_key.segments();
            for (tag, v) in [("type", t), ("domaine", d), ("nature", n), ("element", e)] {
                assert!(body.contains(&format!("<{tag}>{v}</{tag}>")), "{key}: {tag} {body}");
            }
            assert!(body.contains("<ns0:fault>") && body.contains("<lastErrorMsg>"), "{body}");
        }
        let res = app.get("/api/v1/opi/JVMWT75DRZ").send().await?;
        assert_eq!(res.status(), 404, "nothing half-written");
        app.flush_journal().await;
        let journal: Value = app.get("/api/v1/journal?faultKey=functionnal.borules.cge.accesdistance").send().await?.json().await?;
        assert_eq!(journal["meta"]["total"], 1);
        assert_eq!(journal["entries"][0]["outcome"], "rejected");
        Ok(())
    }
}

both_backends! {
    async fn wsdl_auth_and_wire_rules(app) {
        for path in ["/apo-commun-servicesMetiers/services/OpiMetier?wsdl", "/services/OpiMetier?WSDL", "/services/LaissezPasserMetier?wsdl", "/services/PjOpiMetier?wsdl"] {
            let res = app.http.get(app.url(path)).header("X-Forwarded-Proto", "https").header("X-Forwarded-Host", "ws.univ.example").send().await?;
            assert_eq!(res.status(), 200, "{path}");
            let wsdl = res.text().await?;
            let base = path.split("?").next().unwrap_or_default();
            assert!(wsdl.contains(&format!("location=\"https://ws.univ.example{base}\"")), "{path}: {wsdl}");
        }
        let res = app.http.get(app.url("/services/abstract/OpiMetier.wsdl")).send().await?;
        assert_eq!(res.status(), 200);
        assert!(res.text().await?.contains("mettreajourDonneesOpi_v10"));
        let base = example("captured/jaxws-mettreajourDonneesOpi_v10-create.xml");
        // No credentials: 401 with a Basic challenge in UTF-8 and a fault body.
        let res = app.http.post(app.url("/services/OpiMetier")).header("Content-Type", "text/xml").body(base.clone()).send().await?;
        assert_eq!(res.status(), 401);
        assert!(res.headers()["www-authenticate"].to_str()?.contains("charset=\"UTF-8\""));
        assert_eq!(faultstring(&res.text().await?), Some("technical.security.invaliduser.user"));
        // A client without opi:write: 403 fault.
        let reader = app.client_with("lecteur", "opi:read").await;
        let res = app.http.post(app.url("/services/OpiMetier")).basic_auth("lecteur", Some(&reader)).header("Content-Type", "text/xml").body(base.clone()).send().await?;
        assert_eq!(res.status(), 403);
        // SOAP 1.2 and unknown operations.
        let res = app.http.post(app.url("/services/OpiMetier")).bearer_auth(&app.admin_token).header("Content-Type", "application/soap+xml").body(base.clone()).send().await?;
        let body = res.text().await?;
        assert!(body.contains("soap-env:VersionMismatch"), "{body}");
        let (status, body) = app.soap("OpiMetier", base.replace("mettreajourDonneesOpi_v10", "mettreajourDonneesOpi_v11")).await?;
        assert_eq!(status, 500);
        assert!(body.contains("soap-env:Client"), "{body}");
        let (_, body) = app.soap("LaissezPasserMetier", base.clone()).await?;
        assert!(body.contains("soap-env:Client") && body.contains("LaissezPasserMetier}fault") || body.contains("ns0:fault"), "{body}");
        let (status, body) = app.soap("OpiMetier", "<not-xml").await?;
        assert_eq!(status, 500);
        assert!(body.contains("soap-env:Client"), "{body}");
        let must = base.replace("<S:Body>", r#"<S:Header><w:Security xmlns:w="urn:x" S:mustUnderstand="1"/></S:Header><S:Body>"#);
        let (_, body) = app.soap("OpiMetier", must).await?;
        assert!(body.contains("soap-env:MustUnderstand"), "{body}");
        let res = app.http.put(app.url("/services/OpiMetier")).send().await?;
        assert_eq!(res.status(), 405);
        // v9 (older clients): same semantics, its own response wrapper.
        let v9 = base.replace("mettreajourDonneesOpi_v10", "mettreajourDonneesOpi_v9").replace("<modEnv xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:nil=\"true\"/>", "");
        let (status, body) = app.soap("OpiMetier", v9).await?;
        assert_eq!(status, 200, "{body}");
        assert!(body.contains("<ns0:mettreajourDonneesOpi_v9Response/>"));
        Ok(())
    }
}
