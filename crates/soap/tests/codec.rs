//! The codec against every example envelope of the contract (`tests/examples`, copied from
//! `shared/spec/examples`), the wire rules of §6 and hostile input.

use apogee_domain::opi::dto::DonneesOpi;
use apogee_soap::decode::{Limits, decode};
use apogee_soap::ops::{LP_NS, OPI_NS, OpiRequest, OpiVersion, PJ_NS};
use apogee_soap::{FaultCode, encode};
use quick_xml::events::Event;
use quick_xml::name::ResolveResult;
use quick_xml::reader::NsReader;

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn example(name: &str) -> Result<Vec<u8>, std::io::Error> {
    std::fs::read(format!(
        "{}/tests/examples/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
}

fn opi(xml: &[u8]) -> Result<(OpiRequest, DonneesOpi), Box<dyn std::error::Error>> {
    let req = decode(xml, Some("text/xml; charset=utf-8"), &Limits::default())?;
    assert_eq!(req.namespace, OPI_NS);
    let opi = OpiRequest::from_request(&req).ok_or("not an OPI operation")??;
    let donnees = opi.donnees.clone().ok_or("no _donneesOpi")?;
    Ok((opi, donnees))
}

#[test]
fn every_example_request_decodes() -> TestResult {
    let cases = [
        (
            "opi-v10-request-full.xml",
            OPI_NS,
            "mettreajourDonneesOpi_v10",
        ),
        (
            "opi-v10-request-nil-style.xml",
            OPI_NS,
            "mettreajourDonneesOpi_v10",
        ),
        (
            "opi-v10-request-minimal.xml",
            OPI_NS,
            "mettreajourDonneesOpi_v10",
        ),
        (
            "opi-v10-request-delete-all-voeux.xml",
            OPI_NS,
            "mettreajourDonneesOpi_v10",
        ),
        (
            "pj-request.xml",
            PJ_NS,
            "recupererPiecesJustificativesOPIWS",
        ),
        (
            "pj-request-mtom-root-part.xml",
            PJ_NS,
            "recupererPiecesJustificativesOPIWS",
        ),
        ("lp-v1-request.xml", LP_NS, "mettreAJourLaissezPasserWS"),
        ("lp-v2-request.xml", LP_NS, "mettreAJourLaissezPasserWS_V2"),
        (
            "captured/jaxws-mettreajourDonneesOpi_v10-create.xml",
            OPI_NS,
            "mettreajourDonneesOpi_v10",
        ),
        (
            "captured/jaxws-mettreajourDonneesOpi_v10-create-with-address-and-bac.xml",
            OPI_NS,
            "mettreajourDonneesOpi_v10",
        ),
        (
            "captured/jaxws-mettreajourDonneesOpi_v10-delete-all-voeux.xml",
            OPI_NS,
            "mettreajourDonneesOpi_v10",
        ),
        (
            "captured/jaxws-recupererPiecesJustificativesOPIWS.xml",
            PJ_NS,
            "recupererPiecesJustificativesOPIWS",
        ),
        (
            "captured/jaxws-mettreAJourLaissezPasserWS.xml",
            LP_NS,
            "mettreAJourLaissezPasserWS",
        ),
        (
            "captured/jaxws-mettreAJourLaissezPasserWS_V2.xml",
            LP_NS,
            "mettreAJourLaissezPasserWS_V2",
        ),
    ];
    for (file, ns, op) in cases {
        let req = decode(&example(file)?, None, &Limits::default())
            .map_err(|e| format!("{file}: {e}"))?;
        assert_eq!(
            (req.namespace.as_str(), req.operation.as_str()),
            (ns, op),
            "{file}"
        );
        assert!(req.skipped.is_empty(), "{file}: {:?}", req.skipped);
        if ns == OPI_NS {
            let (opi, _) = opi(&example(file)?)?;
            assert!(
                opi.ignored.is_empty(),
                "{file}: unknown elements {:?}",
                opi.ignored
            );
        }
    }
    Ok(())
}

#[test]
fn full_request_maps_every_block() -> TestResult {
    let (opi, d) = opi(&example("opi-v10-request-full.xml")?)?;
    assert_eq!(opi.version, OpiVersion::V10);
    let ind = d.individu.ok_or("individu")?;
    assert_eq!(ind.cod_opi_int_epo.as_deref(), Some("EC25A7K3Q9"));
    let ec = ind.etat_civil.ok_or("etatCivil")?;
    assert_eq!(ec.cod_nne_ind_opi.as_deref(), Some("1021012345C"));
    assert_eq!(
        ind.situation_ann_pre
            .ok_or("sit")?
            .cod_etb_ann_pre_opi
            .as_deref(),
        Some("0691234S")
    );
    let voeux = d.voeux.ok_or("voeux")?;
    assert_eq!(voeux.mod_env.as_deref(), Some("A"));
    assert_eq!(voeux.item.len(), 2);
    assert_eq!(voeux.item[1].cod_etp.as_deref(), Some("L1MAT2"));
    assert_eq!(
        voeux.item[0]
            .convocation
            .as_ref()
            .and_then(|c| c.dhh_cvc.as_deref()),
        Some("9")
    );
    assert_eq!(
        voeux.item[0]
            .titre_acces_externe
            .as_ref()
            .and_then(|t| t.cod_dac_opi.as_deref()),
        Some("DAEUA")
    );
    assert_eq!(
        d.donnees_these.ok_or("these")?.cod_per_cdr2.as_deref(),
        Some("34567")
    );
    assert!(d.dac.is_some() && d.adresse_annuelle.is_some() && d.bac.is_some());
    Ok(())
}

#[test]
fn nil_omitted_and_empty_mean_absent() -> TestResult {
    let (_, nil) = opi(&example("opi-v10-request-nil-style.xml")?)?;
    let (_, minimal) = opi(&example("opi-v10-request-minimal.xml")?)?;
    assert!(nil.adresse_annuelle.is_none() && nil.dac.is_none() && nil.donnees_these.is_none());
    assert!(minimal.adresse_annuelle.is_none() && minimal.bac.is_none());
    let bac = nil.bac.ok_or("bac")?;
    assert_eq!(bac.cod_tpe, None);
    assert_eq!(bac.cod_opt2_bac, None);
    // Delete-all: one item whose 25 children are nil.
    for file in [
        "opi-v10-request-delete-all-voeux.xml",
        "captured/jaxws-mettreajourDonneesOpi_v10-delete-all-voeux.xml",
    ] {
        let (_, d) = opi(&example(file)?)?;
        let voeux = d.voeux.ok_or("voeux")?;
        assert_eq!(voeux.item.len(), 1, "{file}");
        assert!(voeux.item[0].is_empty(), "{file}");
    }
    // `<item/>` is an item (all nil), `<codOpt2Bac></codOpt2Bac>` is absent.
    let xml = wrap(
        OPI_NS,
        "mettreajourDonneesOpi_v10",
        "<_donneesOpi><bac><codBac>S</codBac><codOpt2Bac></codOpt2Bac></bac><voeux><item/></voeux></_donneesOpi>",
    );
    let (_, d) = opi(xml.as_bytes())?;
    assert_eq!(d.bac.ok_or("bac")?.cod_opt2_bac, None);
    let voeux = d.voeux.ok_or("voeux")?;
    assert_eq!(voeux.item.len(), 1);
    assert!(voeux.item[0].is_empty());
    Ok(())
}

fn wrap(ns: &str, op: &str, inner: &str) -> String {
    format!(
        r#"<?xml version="1.0"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><x:{op} xmlns:x="{ns}">{inner}</x:{op}></soapenv:Body></soapenv:Envelope>"#
    )
}

#[test]
fn prefixes_default_namespaces_and_xsi_are_resolved_by_uri() -> TestResult {
    // Service namespace as default namespace, undeclared on the children; xsi bound to `i`;
    // a plain nil="true" without the xsi namespace is not a nil marker; xsi:type is ignored.
    let xml = format!(
        r#"<E:Envelope xmlns:E="http://schemas.xmlsoap.org/soap/envelope/" xmlns:i="http://www.w3.org/2001/XMLSchema-instance">
             <E:Header><t:Trace xmlns:t="urn:x">1</t:Trace></E:Header>
             <E:Body>
               <mettreajourDonneesOpi_v10 xmlns="{OPI_NS}">
                 <_donneesOpi xmlns="" i:type="ns9:DonneesOpiDTO10">
                   <individu><codOpiIntEpo i:type="xsd:string"> EC1 </codOpiIntEpo><codEtuOpi i:nil="1">12</codEtuOpi>
                     <etatCivil><libNomPatIndOpi nil="true">DUPONT</libNomPatIndOpi></etatCivil></individu>
                   <futurChamp>ignoré</futurChamp>
                 </_donneesOpi>
               </mettreajourDonneesOpi_v10>
             </E:Body></E:Envelope>"#
    );
    let (opi, d) = opi(xml.as_bytes())?;
    let ind = d.individu.ok_or("individu")?;
    assert_eq!(
        ind.cod_opi_int_epo.as_deref(),
        Some(" EC1 "),
        "the codec does not trim"
    );
    assert_eq!(ind.cod_etu_opi, None);
    assert_eq!(
        ind.etat_civil.ok_or("ec")?.lib_nom_pat_ind_opi.as_deref(),
        Some("DUPONT")
    );
    assert_eq!(opi.ignored, vec!["_donneesOpi.futurChamp"]);
    Ok(())
}

#[test]
fn latin1_and_latin9_requests_round_trip_accents() -> TestResult {
    for (charset, euro) in [("ISO-8859-1", "¤"), ("ISO-8859-15", "€")] {
        let xml = wrap(OPI_NS, "mettreajourDonneesOpi_v10", "<_donneesOpi><individu><donneesNaissance><libVilNaiEtuOpi>ÉPINAL \u{a4}</libVilNaiEtuOpi></donneesNaissance></individu></_donneesOpi>")
            .replace("<?xml version=\"1.0\"?>", &format!("<?xml version=\"1.0\" encoding=\"{charset}\"?>"));
        let bytes: Vec<u8> = xml
            .chars()
            .map(|c| if c == '€' { 0xA4 } else { c as u32 as u8 })
            .collect();
        let req = decode(&bytes, None, &Limits::default())?;
        let opi = OpiRequest::from_request(&req).ok_or("op")??;
        let town = opi
            .donnees
            .and_then(|d| d.individu)
            .and_then(|i| i.donnees_naissance)
            .and_then(|n| n.lib_vil_nai_etu_opi);
        assert_eq!(town, Some(format!("ÉPINAL {euro}")), "{charset}");
    }
    // The HTTP charset wins over the declaration; bytes that are not UTF-8 are a Client fault.
    let err = decode(
        b"<?xml version='1.0'?><a>\xE9</a>",
        Some("text/xml"),
        &Limits::default(),
    )
    .err()
    .ok_or("accepted")?;
    assert_eq!(err.code, FaultCode::Client);
    Ok(())
}

#[test]
fn hostile_and_malformed_input_is_refused() -> TestResult {
    let limits = Limits {
        max_depth: 12,
        max_elements: 50,
        ..Limits::default()
    };
    let refuse = |xml: &str| {
        decode(xml.as_bytes(), None, &limits)
            .err()
            .map(|e| (e.code, e.message))
    };
    let doctype = r#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><E:Envelope xmlns:E="http://schemas.xmlsoap.org/soap/envelope/"><E:Body><x:a xmlns:x="n">&lol2;</x:a></E:Body></E:Envelope>"#;
    assert!(refuse(doctype).is_some_and(|(c, m)| c == FaultCode::Client && m.contains("DTD")));
    let xxe = wrap(OPI_NS, "op", "&ext;");
    assert!(refuse(&xxe).is_some_and(|(_, m)| m.contains("Entité non définie")));
    let pi = wrap(OPI_NS, "op", "<?php echo 1; ?>");
    assert!(refuse(&pi).is_some_and(|(_, m)| m.contains("Instruction")));
    let deep = wrap(OPI_NS, "op", &"<a>".repeat(20))
        .replace("</x:op>", &format!("{}</x:op>", "</a>".repeat(20)));
    assert!(refuse(&deep).is_some_and(|(_, m)| m.contains("profonde")));
    let children: String = (0..100).map(|i| format!("<a{i}>1</a{i}>")).collect();
    let wide = wrap(OPI_NS, "op", &children);
    assert!(refuse(&wide).is_some_and(|(_, m)| m.contains("éléments")));
    let soap12 =
        r#"<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope"><e:Body/></e:Envelope>"#;
    assert!(refuse(soap12).is_some_and(|(c, _)| c == FaultCode::VersionMismatch));
    let must = r#"<E:Envelope xmlns:E="http://schemas.xmlsoap.org/soap/envelope/"><E:Header><s:Security xmlns:s="urn:sec" E:mustUnderstand="1"/></E:Header><E:Body><x:a xmlns:x="n"/></E:Body></E:Envelope>"#;
    assert!(
        refuse(must).is_some_and(|(c, m)| c == FaultCode::MustUnderstand && m.contains("Security"))
    );
    let other_actor = must.replace(
        "E:mustUnderstand=\"1\"",
        "E:mustUnderstand=\"1\" E:actor=\"urn:someone-else\"",
    );
    assert!(decode(other_actor.as_bytes(), None, &limits).is_ok());
    assert!(refuse("<a>").is_some());
    assert!(refuse(r#"<E:Envelope xmlns:E="http://schemas.xmlsoap.org/soap/envelope/"><E:Body><x:a xmlns:x="n"/><x:b xmlns:x="n"/></E:Body></E:Envelope>"#).is_some_and(|(_, m)| m.contains("un seul")));
    assert!(refuse(r#"<E:Envelope xmlns:E="http://schemas.xmlsoap.org/soap/envelope/"><E:Body><a/></E:Body></E:Envelope>"#).is_some());
    assert!(
        refuse(&wrap(OPI_NS, "op", "<p:x>1</p:x>")).is_some_and(|(_, m)| m.contains("Préfixe"))
    );
    let big = Limits {
        max_bytes: 100,
        ..Limits::default()
    };
    assert!(decode(wrap(OPI_NS, "op", "").as_bytes(), None, &big).is_err());
    // Predefined entities and character references are expanded.
    let ok = wrap(
        OPI_NS,
        "mettreajourDonneesOpi_v10",
        "<_donneesOpi><individu><codOpiIntEpo>A&amp;B&#233;&#x45;</codOpiIntEpo></individu></_donneesOpi>",
    );
    let (_, d) = opi(ok.as_bytes())?;
    assert_eq!(
        d.individu.and_then(|i| i.cod_opi_int_epo).as_deref(),
        Some("A&BéE")
    );
    Ok(())
}

#[test]
fn mtom_root_part_keeps_the_xop_reference() -> TestResult {
    let req = decode(
        &example("pj-request-mtom-root-part.xml")?,
        None,
        &Limits::default(),
    )?;
    assert_eq!(
        req.body()["_pj"]["xop:Include"],
        "cid:attachment-1.3f9c2a@example.org"
    );
    assert_eq!(req.body()["_codTpj"], "CNI");
    let req = decode(&example("lp-v1-request.xml")?, None, &Limits::default())?;
    assert_eq!(req.body()["_codEtu"], serde_json::Value::Null);
    assert_eq!(req.body()["_numOPI"], "EC25A7K3Q9");
    Ok(())
}

/// Element names (by namespace URI), non-blank texts and nil markers, in document order.
fn canonical(xml: &str) -> Result<Vec<String>, Box<dyn std::error::Error>> {
    let mut reader = NsReader::from_str(xml);
    let mut out = Vec::new();
    loop {
        let (ns, ev) = reader.read_resolved_event()?;
        let ns = match ns {
            ResolveResult::Bound(n) => n.as_ref().to_owned(),
            _ => String::new(),
        };
        match ev {
            Event::Start(e) | Event::Empty(e) => {
                let nil = e
                    .attributes()
                    .flatten()
                    .any(|a| a.key.local_name().as_ref() == "nil");
                out.push(format!(
                    "<{{{ns}}}{}{}",
                    e.local_name().as_ref(),
                    if nil { " nil" } else { "" }
                ));
            }
            Event::End(e) => out.push(format!("</{}", e.local_name().as_ref())),
            Event::Text(t) if !t.trim().is_empty() => out.push(t.trim().to_owned()),
            Event::Eof => break,
            _ => {}
        }
    }
    // Empty elements and start/end pairs compare alike.
    let mut merged: Vec<String> = Vec::new();
    for item in out {
        merged.push(item);
    }
    Ok(merged
        .into_iter()
        .filter(|s| !s.starts_with("</"))
        .collect())
}

#[test]
fn faults_and_responses_match_the_contract_examples() -> TestResult {
    let ours = encode::fault(
        OPI_NS,
        FaultCode::Server,
        "technical.parameter.noncoherentinput.codCge",
        &["Le centre de gestion XYZ ne gère pas l'étape L1PSY1 (version 101)".into()],
        "Le centre de gestion XYZ ne gère pas l'étape L1PSY1 (version 101)",
    );
    let theirs = String::from_utf8(example("opi-fault-response.xml")?)?;
    assert_eq!(canonical(&ours)?, canonical(&theirs)?);
    let ours = encode::fault(
        LP_NS,
        FaultCode::Server,
        "technical.data.nullretrieve.numOPI",
        &[],
        "Aucune OPI trouvée pour le numéro EC25ZZZZZZ",
    );
    let theirs = String::from_utf8(example("lp-fault-response.xml")?)?;
    assert_eq!(canonical(&ours)?, canonical(&theirs)?);
    for (ns, wrapper, file) in [
        (
            OPI_NS,
            "mettreajourDonneesOpi_v10Response",
            "opi-v10-response.xml",
        ),
        (
            LP_NS,
            "mettreAJourLaissezPasserWSResponse",
            "lp-v1-response.xml",
        ),
        (
            LP_NS,
            "mettreAJourLaissezPasserWSResponse_V2",
            "lp-v2-response.xml",
        ),
    ] {
        let ours = encode::empty_response(ns, wrapper);
        assert_eq!(
            canonical(&ours)?,
            canonical(&String::from_utf8(example(file)?)?)?,
            "{file}"
        );
    }
    let ours = encode::response(
        PJ_NS,
        "recupererPiecesJustificativesOPIWSResponse",
        "<PjOpiRetourDTO><msg>OK</msg><erreurDescription xsi:nil=\"true\"/></PjOpiRetourDTO>",
    );
    assert_eq!(
        canonical(&ours)?,
        canonical(&String::from_utf8(example("pj-response.xml")?)?)?
    );
    Ok(())
}

proptest::proptest! {
    #[test]
    fn escaped_text_round_trips(value in "[^\u{0}-\u{8}\u{b}\u{c}\u{e}-\u{1f}\u{fffe}\u{ffff}]{0,40}") {
        let xml = wrap(OPI_NS, "mettreajourDonneesOpi_v10", &format!("<_donneesOpi><individu><codOpiIntEpo>{}</codOpiIntEpo></individu></_donneesOpi>", encode::escape(&value)));
        let req = decode(xml.as_bytes(), None, &Limits::default()).map_err(|e| proptest::test_runner::TestCaseError::fail(e.to_string()))?;
        let got = req.body()["_donneesOpi"]["individu"]["codOpiIntEpo"].as_str().map(str::to_owned);
        let expected = if value.is_empty() { None } else { Some(value.replace("\r\n", "\n").replace('\r', "\n")) };
        proptest::prop_assert_eq!(got, expected);
    }
}

// ---- PjOpiMetier: inline base64 streamed to a sink, MTOM/XOP (§3.3, §3.4) ----

use apogee_soap::SoapError;
use apogee_soap::decode::{TextSink, decode_streaming};
use apogee_soap::mtom::{self, Base64Decoder};
use apogee_soap::ops::{PJ_CONTENT_ELEMENT, PjContent, PjRequest, pj_response};

/// Decodes the streamed text as the gateway does, and counts the pieces it arrived in.
struct Collect {
    decoder: Base64Decoder<Vec<u8>>,
    pieces: usize,
}

impl Collect {
    fn new() -> Self {
        Collect {
            decoder: Base64Decoder::new(Vec::new()),
            pieces: 0,
        }
    }

    fn bytes(self) -> Result<Vec<u8>, Box<dyn std::error::Error>> {
        Ok(self.decoder.finish()?.0)
    }
}

impl TextSink for Collect {
    fn text(&mut self, chunk: &[u8]) -> Result<(), SoapError> {
        self.pieces += 1;
        self.decoder
            .feed(chunk)
            .map_err(|e| SoapError::client(format!("_pj : {e}")))
    }
}

fn pj_streamed(xml: &[u8]) -> Result<(PjRequest, Vec<u8>), Box<dyn std::error::Error>> {
    let mut sink = Collect::new();
    let req = decode_streaming(
        xml,
        Some("text/xml; charset=utf-8"),
        &Limits::default(),
        PJ_CONTENT_ELEMENT,
        &mut sink,
    )?;
    assert_eq!(req.namespace, PJ_NS);
    let pj = PjRequest::from_request(&req).ok_or("not the PJ operation")??;
    Ok((pj, sink.bytes()?))
}

fn b64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn debase64(text: &str) -> Result<Vec<u8>, Box<dyn std::error::Error>> {
    let mut out = Vec::new();
    let mut dec = Base64Decoder::new(&mut out);
    dec.feed(text.as_bytes())?;
    dec.finish()?;
    Ok(out)
}

#[test]
fn pj_examples_map_to_the_six_parameters() -> TestResult {
    let (pj, bytes) = pj_streamed(&example("pj-request.xml")?)?;
    assert_eq!(pj.cod_opi_int_epo.as_deref(), Some("EC25A7K3Q9"));
    assert_eq!(pj.lib_nom_pat_ind_opi.as_deref(), Some("LEMOINE"));
    assert_eq!(pj.lib_pr1_ind_opi.as_deref(), Some("CAMILLE"));
    assert_eq!(pj.cod_tpj.as_deref(), Some("CNI"));
    assert_eq!(pj.nom_fic.as_deref(), Some("piece-identite.pdf"));
    assert_eq!(pj.pj, PjContent::Streamed);
    assert!(pj.ignored.is_empty());
    assert!(
        bytes.starts_with(b"%PDF-1.4") && bytes.len() == 46,
        "{bytes:?}"
    );
    // Without a sink the text stays in the tree.
    let req = decode(&example("pj-request.xml")?, None, &Limits::default())?;
    let pj = PjRequest::from_request(&req).ok_or("op")??;
    assert!(matches!(pj.pj, PjContent::Base64(ref t) if debase64(t)? == bytes));
    // The MTOM root part carries the reference only.
    let (pj, bytes) = pj_streamed(&example("pj-request-mtom-root-part.xml")?)?;
    assert_eq!(
        pj.pj,
        PjContent::Xop("cid:attachment-1.3f9c2a@example.org".into())
    );
    assert!(bytes.is_empty());
    // Another operation is not a PJ request.
    let req = decode(&example("lp-v1-request.xml")?, None, &Limits::default())?;
    assert!(PjRequest::from_request(&req).is_none());
    // The response wrapper and its unqualified PjOpiRetourDTO.
    assert_eq!(
        canonical(&pj_response())?,
        canonical(&String::from_utf8(example("pj-response.xml")?)?)?
    );
    Ok(())
}

#[test]
fn inline_base64_tolerates_whitespace_wrapping_references_and_cdata() -> TestResult {
    let file: Vec<u8> = (0..=255u8).cycle().take(5000).collect();
    let text = b64(&file);
    // 76-character lines with CRLF (MIME style), then LF, then references and CDATA.
    let wrapped: String = text
        .as_bytes()
        .chunks(76)
        .map(|l| format!("{}\r\n", String::from_utf8_lossy(l)))
        .collect();
    let spaced = format!("\n\t  {}  \n", text.replace('A', " A"));
    let (mid, end) = text.split_at(text.len() / 2);
    let refs = format!("{mid}&#13;&#10;&#x20;<![CDATA[{end}]]>");
    for inner in [wrapped, spaced, refs] {
        let xml = wrap(
            PJ_NS,
            "recupererPiecesJustificativesOPIWS",
            &format!("<_codTpj>PJ01</_codTpj><_pj>{inner}</_pj>"),
        );
        let (pj, bytes) = pj_streamed(xml.as_bytes())?;
        assert_eq!(pj.pj, PjContent::Streamed);
        assert_eq!(bytes, file);
    }
    // A 2 MB text goes to the sink as read, never into the tree.
    let big = vec![7u8; 2 * 1024 * 1024];
    let xml = wrap(
        PJ_NS,
        "recupererPiecesJustificativesOPIWS",
        &format!("<_pj>{}</_pj>", b64(&big)),
    );
    let mut sink = Collect::new();
    let req = decode_streaming(
        xml.as_bytes(),
        None,
        &Limits {
            max_text_bytes: 1024,
            ..Limits::default()
        },
        PJ_CONTENT_ELEMENT,
        &mut sink,
    )?;
    assert_eq!(req.body()["_pj"]["streamed"], true);
    assert_eq!(sink.bytes()?, big);
    Ok(())
}

#[test]
fn empty_nil_absent_and_bad_pj() -> TestResult {
    let call = |inner: &str| {
        let xml = wrap(PJ_NS, "recupererPiecesJustificativesOPIWS", inner);
        pj_streamed(xml.as_bytes())
    };
    // `<_pj/>` and `<_pj></_pj>`: a zero-length file (valid base64Binary).
    for inner in ["<_pj/>", "<_pj></_pj>", "<_pj>\n  </_pj>"] {
        let (pj, bytes) = call(inner)?;
        assert_eq!(pj.pj, PjContent::Streamed, "{inner}");
        assert!(bytes.is_empty());
    }
    // nil (its content ignored) and omitted: absent.
    let (pj, bytes) = call(
        r#"<_pj xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:nil="true">QUJD</_pj><_nomFic></_nomFic>"#,
    )?;
    assert_eq!(pj.pj, PjContent::Absent);
    assert!(bytes.is_empty());
    assert_eq!(pj.nom_fic, None);
    let (pj, _) = call("<_codTpj>PJ01</_codTpj><_extra>1</_extra>")?;
    assert_eq!(pj.pj, PjContent::Absent);
    assert_eq!(pj.ignored, vec!["_extra"]);
    // A character outside the alphabet stops the decoding with the sink's error.
    let err = call("<_pj>QUJD*</_pj>").err().ok_or("accepted")?;
    assert!(err.to_string().contains("invalide"), "{err}");
    // A `_pj` deeper in the tree is not the parameter (and `_nomFic` must be text).
    let err = call("<_nomFic><_pj>QUJD</_pj></_nomFic>")
        .err()
        .ok_or("accepted")?;
    assert!(err.to_string().contains("_nomFic"), "{err}");
    Ok(())
}

const CAPTURED_MTOM_TYPE: &str = r#"multipart/related;start="<rootpart*794f24b2-dfb4-4a64-bed1-7d9bd72a3d3d@example.jaxws.sun.com>";type="application/xop+xml";boundary="uuid:794f24b2-dfb4-4a64-bed1-7d9bd72a3d3d";start-info="text/xml""#;

#[test]
fn captured_jaxws_mtom_request_gives_the_inline_bytes() -> TestResult {
    let body = example("captured/jaxws-recupererPiecesJustificativesOPIWS-mtom.mime")?;
    let parts = mtom::parse(CAPTURED_MTOM_TYPE, &body)?;
    assert_eq!(parts.parts.len(), 2);
    let root = parts.root().ok_or("root")?;
    assert!(
        root.content_id
            .as_deref()
            .is_some_and(|id| id.starts_with("rootpart*"))
    );
    let (pj, _) = {
        let mut sink = Collect::new();
        let req = decode_streaming(
            &root.decoded()?,
            root.content_type.as_deref(),
            &Limits::default(),
            PJ_CONTENT_ELEMENT,
            &mut sink,
        )?;
        (PjRequest::from_request(&req).ok_or("op")??, sink.bytes()?)
    };
    assert_eq!(pj.nom_fic.as_deref(), Some("piece-identite-mtom.pdf"));
    let PjContent::Xop(href) = pj.pj else {
        return Err("no xop:Include".into());
    };
    let part = parts.resolve(&href).ok_or("attachment not found")?;
    let mut bytes = Vec::new();
    part.copy_to(&mut bytes)?;
    // The same PDF as the inline capture, byte for byte (its final LF included).
    let (_, inline) = pj_streamed(&example(
        "captured/jaxws-recupererPiecesJustificativesOPIWS.xml",
    )?)?;
    assert_eq!(bytes, inline);
    assert!(bytes.ends_with(b"%%EOF\n"));
    Ok(())
}

fn mime(boundary: &str, eol: &str, parts: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    for (headers, body) in parts {
        out.extend_from_slice(format!("--{boundary}{eol}{headers}{eol}{eol}").as_bytes());
        out.extend_from_slice(body);
        out.extend_from_slice(eol.as_bytes());
    }
    out.extend_from_slice(format!("--{boundary}--{eol}").as_bytes());
    out
}

#[test]
fn mtom_parts_are_found_by_content_id_and_kept_byte_for_byte() -> TestResult {
    let root = br#"<E:Envelope xmlns:E="http://schemas.xmlsoap.org/soap/envelope/"/>"#;
    // Binary content ending with CR/LF and holding a line that starts like the boundary.
    let binary: &[u8] = b"%PDF-1.7\r\n--bnd-not-the-end\r\n\x00\xff\r\n\r\n";
    let body = mime(
        "bnd",
        "\r\n",
        &[
            (
                "content-id: <bin*1@x>\r\nCONTENT-TRANSFER-ENCODING: binary",
                binary,
            ),
            (
                "Content-Type: application/xop+xml; charset=UTF-8; type=\"text/xml\"\r\nContent-Id: <root@x>",
                root,
            ),
        ],
    );
    let mut with_preamble = b"preamble ignored\r\n".to_vec();
    with_preamble.extend_from_slice(&body);
    for body in [&body, &with_preamble] {
        let parts = mtom::parse(
            r#"multipart/related; boundary=bnd; type="application/xop+xml"; start="<root@x>""#,
            body,
        )?;
        assert_eq!(parts.root().map(|p| p.body), Some(&root[..]));
        let part = parts
            .resolve("cid:bin%2A1%40x")
            .ok_or("percent-encoded href")?;
        assert_eq!(part.body, binary);
        assert!(
            parts.resolve("cid:root@x").is_none(),
            "the root is not an attachment"
        );
        assert!(parts.resolve("cid:other@x").is_none());
    }
    // No `start`: the first part is the root.
    let parts = mtom::parse("multipart/related; boundary=\"bnd\"", &body)?;
    assert_eq!(parts.root, 0);
    // LF-only framing, base64 transfer encoding.
    let encoded = b64(binary);
    let body = mime(
        "b2",
        "\n",
        &[
            ("Content-ID: <r>", root),
            (
                "Content-ID: <a>\nContent-Transfer-Encoding: base64",
                encoded.as_bytes(),
            ),
        ],
    );
    let parts = mtom::parse("multipart/related; boundary=b2; start=\"<r>\"", &body)?;
    let part = parts.resolve("cid:a").ok_or("a")?;
    assert_eq!(part.decoded()?.as_ref(), binary);
    let mut copied = Vec::new();
    assert_eq!(part.copy_to(&mut copied)?, binary.len() as u64);
    assert_eq!(copied, binary);
    Ok(())
}

#[test]
fn malformed_multipart_is_a_client_error() {
    let ok = mime("b", "\r\n", &[("Content-ID: <r>", b"<x/>")]);
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("multipart/related", ok.clone()),
        ("multipart/related; boundary=zzz", ok.clone()),
        (
            "multipart/related; boundary=b; start=\"<missing>\"",
            ok.clone(),
        ),
        (
            "multipart/related; boundary=b",
            b"--b\r\nContent-ID: <r>\r\n\r\n<x/>".to_vec(),
        ),
        (
            "multipart/related; boundary=b",
            mime(
                "b",
                "\r\n",
                &[("Content-Transfer-Encoding: quoted-printable", b"x")],
            ),
        ),
        ("multipart/related; boundary=b", b"--b--\r\n".to_vec()),
        ("text/xml", ok.clone()),
    ];
    for (ct, body) in cases {
        let err = mtom::parse(ct, &body).err();
        assert!(
            err.as_ref().is_some_and(|e| e.code == FaultCode::Client),
            "{ct}: {err:?}"
        );
    }
    assert!(mtom::is_multipart_related("Multipart/Related; boundary=x"));
    assert!(!mtom::is_multipart_related("text/xml"));
}
