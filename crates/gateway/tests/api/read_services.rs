//! The read services (ReferentielMetier, GeographieMetier, ScolariteMetier,
//! OffreFormationMetier) over SOAP on the demo referential: every answer read element by element
//! against the DTO shapes (names, order, every child present, unqualified), equal to its REST
//! twin; every code the demo referential holds answered; the faults of unknown codes and bad
//! parameters, with the dated namespaces.

use crate::both_backends;
use crate::helpers::TestApp;
use apogee_domain::refread::dto::{Dto, Ty};
use apogee_domain::refread::{self, Operation, Shape};
use quick_xml::events::Event;
use quick_xml::name::ResolveResult;
use quick_xml::reader::NsReader;
use serde_json::{Map, Value, json};

/// An element of an answer.
#[derive(Debug, Default)]
pub(crate) struct Node {
    ns: Option<String>,
    name: String,
    nil: bool,
    text: String,
    children: Vec<Node>,
}

impl Node {
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    pub(crate) fn text(&self) -> &str {
        &self.text
    }

    pub(crate) fn children(&self) -> &[Node] {
        &self.children
    }
}

pub(crate) fn parse(xml: &str) -> Result<Node, String> {
    let mut reader = NsReader::from_str(xml);
    let mut stack = vec![Node::default()];
    loop {
        let (ns, event) = reader.read_resolved_event().map_err(|e| e.to_string())?;
        let ns = match ns {
            ResolveResult::Bound(n) => Some(AsRef::<str>::as_ref(&n).to_owned()),
            _ => None,
        };
        match event {
            Event::Start(e) => stack.push(element(ns, &e)),
            Event::Empty(e) => {
                let node = element(ns, &e);
                stack.last_mut().ok_or("unbalanced")?.children.push(node);
            }
            Event::End(_) => {
                let node = stack.pop().ok_or("unbalanced")?;
                stack.last_mut().ok_or("unbalanced")?.children.push(node);
            }
            Event::Text(t) => {
                if let Some(top) = stack.last_mut() {
                    top.text
                        .push_str(&t.xml_content(quick_xml::XmlVersion::Implicit1_0));
                }
            }
            Event::GeneralRef(r) => {
                let c = match r.as_ref() {
                    "amp" => "&",
                    "lt" => "<",
                    "gt" => ">",
                    "quot" => "\"",
                    _ => "'",
                };
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(c);
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    stack.pop().ok_or_else(|| "empty".to_owned())
}

fn element(ns: Option<String>, e: &quick_xml::events::BytesStart<'_>) -> Node {
    let nil = e
        .attributes()
        .flatten()
        .any(|a| a.key.local_name().as_ref() == "nil" && a.value.as_ref() == "true");
    Node {
        ns,
        name: AsRef::<str>::as_ref(&e.local_name()).to_owned(),
        nil,
        ..Node::default()
    }
}

pub(crate) fn find<'a>(node: &'a Node, name: &str) -> Option<&'a Node> {
    if node.name == name {
        return Some(node);
    }
    node.children.iter().find_map(|c| find(c, name))
}

/// Reads `node` as a value of `dto`: every child present, in order, unqualified; JSON as the
/// REST twin writes it.
pub(crate) fn read(node: &Node, dto: &Dto, path: &str) -> Result<Value, String> {
    let mut out = Map::new();
    let names: Vec<&str> = node.children.iter().map(|c| c.name.as_str()).collect();
    let wanted: Vec<&str> = dto.fields.iter().map(|f| f.name).collect();
    if names != wanted {
        return Err(format!(
            "{path} ({}): children {names:?}, expected {wanted:?}",
            dto.name
        ));
    }
    for (field, child) in dto.fields.iter().zip(&node.children) {
        let here = format!("{path}/{}", field.name);
        if child.ns.is_some() {
            return Err(format!("{here} is qualified ({:?})", child.ns));
        }
        if child.nil && !field.nillable {
            return Err(format!("{here} is nil but not nillable"));
        }
        let value = match field.ty {
            _ if child.nil => Value::Null,
            Ty::Str | Ty::Decimal | Ty::DateTime => Value::String(child.text.clone()),
            Ty::Int | Ty::Integer => child
                .text
                .parse::<i64>()
                .map(Value::from)
                .map_err(|_| format!("{here}: « {} » is no integer", child.text))?,
            Ty::Dto(d) => read(child, d, &here)?,
            Ty::List(l) => {
                let mut items = Vec::new();
                for (i, item) in child.children.iter().enumerate() {
                    if item.name != l.item {
                        return Err(format!(
                            "{here}: <{}> where <{}> repeats",
                            item.name, l.item
                        ));
                    }
                    items.push(read(item, l.of, &format!("{here}/{}[{i}]", l.item))?);
                }
                Value::Array(items)
            }
        };
        out.insert(field.name.to_owned(), value);
    }
    Ok(Value::Object(out))
}

pub(crate) fn op(service: &str, name: &str) -> &'static Operation {
    match refread::service(service).and_then(|s| s.operation(name)) {
        Some(o) => o,
        None => panic!("{service}.{name} is not defined"),
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;")
}

/// The request envelope (parameters named without their `_`).
pub(crate) fn envelope(service: &str, name: &str, params: &[(&str, &str)]) -> String {
    let s = refread::service(service).map_or("", |s| s.namespace);
    let o = op(service, name);
    let mut inner = String::new();
    for (k, v) in params {
        let k = if o.criteria.is_some() {
            (*k).to_owned()
        } else {
            format!("_{k}")
        };
        inner.push_str(&format!("<{k}>{}</{k}>", escape(v)));
    }
    if o.criteria.is_some() {
        inner = format!("<_seCritere>{inner}</_seCritere>");
    }
    format!(
        r#"<S:Envelope xmlns:S="http://schemas.xmlsoap.org/soap/envelope/"><S:Body><ns2:{name} xmlns:ns2="{s}">{inner}</ns2:{name}></S:Body></S:Envelope>"#
    )
}

/// A SOAP call: the items read against the shapes, or (status, faultstring, detail namespace).
pub(crate) async fn soap(
    app: &TestApp,
    service: &str,
    name: &str,
    params: &[(&str, &str)],
) -> Result<Result<Vec<Value>, (u16, String, Option<String>)>, Box<dyn std::error::Error>> {
    let (status, body) = app.soap(service, envelope(service, name, params)).await?;
    let root = parse(&body)?;
    if let Some(fault) = find(&root, "Fault") {
        let key = find(fault, "faultstring")
            .map(|n| n.text.clone())
            .unwrap_or_default();
        let detail_ns = find(fault, "fault").and_then(|n| n.ns.clone());
        return Ok(Err((status, key, detail_ns)));
    }
    assert_eq!(status, 200, "{body}");
    let o = op(service, name);
    let ns = refread::service(service).map(|s| s.namespace.to_owned());
    let wrapper = find(&root, o.response_wrapper).ok_or_else(|| format!("no wrapper: {body}"))?;
    assert_eq!(wrapper.ns, ns, "wrapper qualified in the service namespace");
    let dto = o.returns.ok_or("not served")?;
    let mut items = Vec::new();
    for (i, item) in wrapper.children.iter().enumerate() {
        assert_eq!(item.name, o.return_element, "{body}");
        assert!(item.ns.is_none(), "return element unqualified");
        if o.shape == Shape::Strings {
            // A bare xsd:string; the REST twin writes it as the shape's one child.
            let name = dto.fields.first().map_or("", |f| f.name);
            assert!(item.children.is_empty() && !item.nil, "{body}");
            items.push(json!({ name: item.text }));
            continue;
        }
        items.push(read(item, dto, &format!("{}[{i}]", o.return_element))?);
    }
    match o.shape {
        Shape::Strings => {}
        Shape::One => assert_eq!(items.len(), 1, "one return element: {body}"),
        Shape::Many => assert!(!items.is_empty(), "an empty success: {body}"),
    }
    Ok(Ok(items))
}

/// The REST twin: (status, body).
pub(crate) async fn rest(
    app: &TestApp,
    service: &str,
    name: &str,
    params: &[(&str, &str)],
) -> Result<(u16, Value), reqwest::Error> {
    let res = app
        .get(&format!("/api/v1/services/{service}/{name}"))
        .query(params)
        .send()
        .await?;
    let status = res.status().as_u16();
    Ok((status, res.json().await.unwrap_or(Value::Null)))
}

/// Calls both channels; they must agree. Returns the items.
pub(crate) async fn both(
    app: &TestApp,
    service: &str,
    name: &str,
    params: &[(&str, &str)],
) -> Result<Vec<Value>, Box<dyn std::error::Error>> {
    let items = match soap(app, service, name, params).await? {
        Ok(items) => items,
        Err(fault) => return Err(format!("{service}.{name} {params:?}: fault {fault:?}").into()),
    };
    let (status, body) = rest(app, service, name, params).await?;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["items"],
        Value::Array(items.clone()),
        "{service}.{name} {params:?}: SOAP ≠ REST"
    );
    Ok(items)
}

/// Calls both channels expecting the fault `key` (REST: `status` and the same key).
pub(crate) async fn fault(
    app: &TestApp,
    service: &str,
    name: &str,
    params: &[(&str, &str)],
    key: &str,
    rest_status: u16,
) -> Result<(), Box<dyn std::error::Error>> {
    let ns = refread::service(service).map(|s| s.namespace.to_owned());
    match soap(app, service, name, params).await? {
        Ok(items) => panic!("{service}.{name} {params:?}: expected {key}, got {items:?}"),
        Err((status, got, detail_ns)) => {
            assert_eq!(
                (status, got.as_str()),
                (500, key),
                "{service}.{name} {params:?}"
            );
            assert_eq!(detail_ns, ns, "the detail entry is {{service ns}}fault");
        }
    }
    let (status, body) = rest(app, service, name, params).await?;
    assert_eq!(
        (status, body["faultKey"].as_str()),
        (rest_status, Some(key)),
        "{body}"
    );
    Ok(())
}

fn codes(items: &[Value], field: &str) -> Vec<String> {
    items
        .iter()
        .map(|i| i[field].as_str().unwrap_or_default().to_owned())
        .collect()
}

const SE_ALL: &[(&str, &str)] = &[
    ("codDip", "tous"),
    ("codElp", "aucun"),
    ("codEtp", "tous"),
    ("codVrsVdi", "tous"),
    ("codVrsVet", "tous"),
];

both_backends! {
    async fn every_operation_answers_over_soap_what_its_rest_twin_answers(app) {
        let cge = both(app, "ReferentielMetier", "recupererCGE", &[]).await?;
        assert_eq!(codes(&cge, "codCge"), ["CG1", "CG2"]);
        assert_eq!(cge[0]["libCge"], "Centre de gestion démo 1");
        let cge = both(app, "ReferentielMetier", "recupererCGE", &[("codCge", "CG2"), ("temoinEnService", "O")]).await?;
        assert_eq!(codes(&cge, "codCge"), ["CG2"]);

        let cmp = both(app, "ReferentielMetier", "recupererComposante_v2", &[("codCmp", "UFR")]).await?;
        assert_eq!(cmp.len(), 1);
        assert_eq!(cmp[0]["temEnSveCmp"], "O");
        assert_eq!(cmp[0]["codSig"], "SIG1");
        assert_eq!(cmp[0]["typeComposante"]["libTypCmp"], "Unité de formation et de recherche (démo)");
        assert_eq!(cmp[0]["adresseComposante"]["codPosAdrCmp"], "54000");
        assert_eq!(codes(cmp[0]["listeComposanteFils"].as_array().map_or(&[][..], Vec::as_slice), "codCmp"), ["INF", "MAT"]);
        assert_eq!(cmp[0]["listeComposantePere"], json!([]));
        let inf = both(app, "ReferentielMetier", "recupererComposante_v2", &[("codCmp", "INF")]).await?;
        assert_eq!(inf[0]["listeComposantePere"][0]["codCmp"], "UFR");
        assert_eq!(inf[0]["listeComposantePere"][0]["listeComposanteFils"], json!([]));
        let only_children = both(app, "ReferentielMetier", "recupererComposante_v2", &[("codCmp", "INF"), ("sens", "F")]).await?;
        assert_eq!(only_children[0]["listeComposantePere"], json!([]));
        let all = both(app, "ReferentielMetier", "recupererComposante_v2", &[]).await?;
        assert_eq!(codes(&all, "codCmp"), ["INF", "LSH", "MAT", "OLD", "UFR"]);

        let etab = both(app, "ReferentielMetier", "recupererInformationEtabRef", &[("codVap", "ETB_LIB")]).await?;
        assert_eq!(etab[0]["parVap"], "Université de démonstration (démo)");
        assert_eq!(both(app, "ReferentielMetier", "recupererInformationEtabRef", &[]).await?.len(), 6);
        let reg = both(app, "ReferentielMetier", "recupererRegimeInscription", &[("temoinEnService", "O")]).await?;
        assert!(reg.iter().all(|r| r["temEnSve"] == "O" && r["libRegIns"].is_string()));
        let all_reg = both(app, "ReferentielMetier", "recupererRegimeInscription", &[]).await?;
        assert_eq!(all_reg.len(), reg.len() + 1, "régime 9 is out of service");
        let out = both(app, "ReferentielMetier", "recupererRegimeInscription", &[("temoinEnService", "N")]).await?;
        assert_eq!(codes(&out, "codRegIns"), ["9"]);
        let sig = both(app, "ReferentielMetier", "recupererSignataire", &[("codSig", "SIG1"), ("temoinEnService", "O")]).await?;
        assert_eq!((sig[0]["nomSig"].as_str(), sig[0]["quaSig"].as_str()), (Some("Camille DUPRÉ (démo)"), Some("Doyenne de l'UFR Sciences et techniques")));

        let com = both(app, "GeographieMetier", "recupererCommune_v2", &[("codePostal", "88000"), ("temoinEnServiceCom", "O"), ("temoinEnServiceBD", "O")]).await?;
        assert_eq!((com[0]["codeCommune"].as_str(), com[0]["libCommune"].as_str(), com[0]["temSevBureauDis"].as_str()), (Some("88160"), Some("Épinal"), Some("O")));
        let lyon = both(app, "GeographieMetier", "recupererCommune_v2", &[("codePostal", "69003")]).await?;
        assert_eq!(codes(&lyon, "codeCommune"), ["69123", "69383"]);
        let v1 = both(app, "GeographieMetier", "recupererCommune", &[("codePostal", "054"), ("temoinEnServiceCom", "O"), ("temoinEnServiceBD", "T")]).await?;
        assert_eq!(codes(&v1, "codeCommune"), ["54395"]);
        let pays = both(app, "GeographieMetier", "recupererPays", &[("codePays", "100"), ("temoinEnService", "O")]).await?;
        assert_eq!((pays[0]["libPay"].as_str(), pays[0]["libNat"].as_str()), (Some("France"), Some("Française")));
        let out = both(app, "GeographieMetier", "recupererPays", &[("temoinEnService", "N")]).await?;
        assert_eq!(codes(&out, "codePay"), ["115"]);
        let dep = both(app, "GeographieMetier", "recupererDepartement", &[("codeDept", "054")]).await?;
        assert_eq!(dep[0]["libDept"], "Meurthe-et-Moselle");
        assert!(both(app, "GeographieMetier", "recupererDepartement", &[]).await?.len() > 100);

        let bac = both(app, "ScolariteMetier", "recupererBacOuEquWS", &[("code", "S")]).await?;
        assert_eq!(bac[0]["libBac"], "Scientifique");
        let opt = both(app, "ScolariteMetier", "recupererOptBacWS", &[]).await?;
        assert_eq!(opt.len(), 5);
        let spe = both(app, "ScolariteMetier", "recupererSpeBacWS", &[("code", "D001")]).await?;
        assert_eq!(spe[0]["libSpeBac"], "Mathématiques (démo)");
        let spe_in = both(app, "ScolariteMetier", "recupererSpeBacWS", &[("temoinEnService", "O")]).await?;
        assert_eq!(spe_in.len(), 8);

        // recupererSE_v4, the three patterns of §9.3.
        let se = both(app, "OffreFormationMetier", "recupererSE_v4", SE_ALL).await?;
        assert_eq!(codes(&se, "codDip"), ["DIP01"]);
        let vdi = &se[0]["listVersionDiplome"][0];
        assert_eq!(vdi["codVrsVdi"], 1);
        let etapes = vdi["offreFormation"]["listEtape"].as_array().cloned().unwrap_or_default();
        assert_eq!(codes(&etapes, "codEtp"), ["ETP01", "ETP02", "ETP03"]);
        let etp01 = &etapes[0];
        assert_eq!(etp01["listComposanteCentreGestion"][0]["codComposante"], "UFR");
        assert_eq!(etp01["listComposanteCentreGestion"][0]["codCentreGestion"], "CG1");
        assert_eq!(etp01["listComposanteCentreGestion"][0]["capaciteAccueil"], 300);
        assert_eq!(etp01["listVersionEtape"][0]["codVrsVet"], 1);
        assert_eq!(etp01["listVersionEtape"][0]["libWebVet"], "Licence 1re année (démo)", "the VET's web label (libWebVet)");
        assert_eq!(etp01["listVersionEtape"][0]["composante"]["codComposante"], "UFR");
        assert_eq!(etp01["listVersionEtape"][0]["listListeElementPedagogi"], json!([]), "no ELP in the referential: an empty container");
        assert_eq!(se[0]["cmpAcc"]["codCmp"], "INF", "the first composante habilitée (sorted by code)");
        assert_eq!(se[0]["temOuvertRecrutement"], "O");
        let open = both(app, "OffreFormationMetier", "recupererSE_v4", &[("codDip", "aucun"), ("codElp", "aucun"), ("codEtp", "tous"), ("codVrsVdi", "aucun"), ("codVrsVet", "tous"), ("temOuvertRecrutement", "O"), ("codAnu", "2025")]).await?;
        let open_2025 = open[0]["listVersionDiplome"][0]["offreFormation"]["listEtape"].as_array().cloned().unwrap_or_default();
        assert_eq!(codes(&open_2025, "codEtp"), ["ETP01", "ETP02"], "ETP03 is not open in 2025");
        let one = both(app, "OffreFormationMetier", "recupererSE_v4", &[("codDip", "aucun"), ("codElp", "tous"), ("codEtp", "ETP02"), ("codVrsVdi", "aucun"), ("codVrsVet", "1")]).await?;
        let one = one[0]["listVersionDiplome"][0]["offreFormation"]["listEtape"].as_array().cloned().unwrap_or_default();
        assert_eq!(codes(&one, "codEtp"), ["ETP02"]);
        let by_cmp = both(app, "OffreFormationMetier", "recupererSE_v4", &[("codDip", "tous"), ("codElp", "aucun"), ("codEtp", "tous"), ("codVrsVdi", "tous"), ("codVrsVet", "tous"), ("codComposanteVdi", "UFR")]).await?;
        assert_eq!(codes(&by_cmp, "codDip"), ["DIP01"]);
        Ok(())
    }
}

both_backends! {
    async fn unknown_codes_and_bad_parameters_are_the_contracts_faults(app) {
        let nothing = "technical.data.nullretrieve.";
        for (service, name, params, entity) in [
            ("ReferentielMetier", "recupererCGE", vec![("codCge", "ZZZ")], "cge"),
            ("ReferentielMetier", "recupererComposante_v2", vec![("codCmp", "ZZZ")], "composante"),
            ("ReferentielMetier", "recupererInformationEtabRef", vec![("codVap", "ETB_XXX")], "variableAppli"),
            ("ReferentielMetier", "recupererRegimeInscription", vec![("codRegIns", "77")], "regimeInscription"),
            ("ReferentielMetier", "recupererSignataire", vec![("codSig", "SIG9"), ("temoinEnService", "O")], "signataire"),
            ("GeographieMetier", "recupererCommune_v2", vec![("codePostal", "99999")], "commune"),
            ("GeographieMetier", "recupererCommune", vec![("codePostal", "99999")], "commune"),
            ("GeographieMetier", "recupererPays", vec![("codePays", "999")], "pays"),
            ("GeographieMetier", "recupererDepartement", vec![("codeDept", "099")], "departement"),
            ("ScolariteMetier", "recupererBacOuEquWS", vec![("code", "ZZZZ")], "bac"),
            ("ScolariteMetier", "recupererOptBacWS", vec![("code", "ZZZZ")], "optionBac"),
            ("ScolariteMetier", "recupererSpeBacWS", vec![("code", "ZZZZ")], "specialiteBac"),
            ("OffreFormationMetier", "recupererSE_v4", vec![("codDip", "NOPE"), ("codElp", "aucun"), ("codEtp", "tous"), ("codVrsVdi", "tous"), ("codVrsVet", "tous")], "recupererse"),
            ("OffreFormationMetier", "recupererSE_v4", vec![("codDip", "aucun"), ("codElp", "ELP01"), ("codEtp", "ETP01"), ("codVrsVdi", "aucun"), ("codVrsVet", "1")], "recupererse"),
            ("OffreFormationMetier", "recupererSE_v4", vec![("codDip", "tous"), ("codElp", "aucun"), ("codEtp", "tous"), ("codVrsVdi", "tous"), ("codVrsVet", "tous"), ("codTypDip", "XX")], "recupererse"),
        ] {
            fault(app, service, name, &params, &format!("{nothing}{entity}"), 404).await?;
        }
        let bad = "technical.parameter.noncoherentinput.";
        for (service, name, params, element) in [
            ("ReferentielMetier", "recupererCGE", vec![("temoinEnService", "X")], "temoinEnService"),
            ("ReferentielMetier", "recupererComposante_v2", vec![("sens", "Z")], "sens"),
            ("GeographieMetier", "recupererCommune_v2", vec![("codePostal", "880")], "codePostal"),
            ("GeographieMetier", "recupererCommune_v2", vec![("codePostal", "88000"), ("temoinEnServiceComBD", "oui")], "temoinEnServiceComBD"),
            ("ScolariteMetier", "recupererSpeBacWS", vec![("temoinEnService", "1")], "temoinEnService"),
            ("OffreFormationMetier", "recupererSE_v4", vec![("codElp", "aucun"), ("codEtp", "tous"), ("codVrsVdi", "tous"), ("codVrsVet", "tous")], "coddiplomeobligatoire"),
            ("OffreFormationMetier", "recupererSE_v4", vec![("codDip", "tous"), ("codEtp", "tous"), ("codVrsVdi", "tous"), ("codVrsVet", "tous")], "codelpobligatoire"),
            ("OffreFormationMetier", "recupererSE_v4", vec![("codDip", "tous"), ("codElp", "aucun"), ("codEtp", "tous"), ("codVrsVdi", "un"), ("codVrsVet", "tous")], "codVrsVdi"),
            ("OffreFormationMetier", "recupererSE_v4", vec![("codDip", "tous"), ("codElp", "aucun"), ("codEtp", "tous"), ("codVrsVdi", "tous"), ("codVrsVet", "tous"), ("codAnu", "25")], "codAnu"),
        ] {
            fault(app, service, name, &params, &format!("{bad}{element}"), 400).await?;
        }
        // Declared for the clients' sake, not served.
        let (status, body) = app.soap("ReferentielMetier", envelope("ReferentielMetier", "recupererCGE", &[]).replace("recupererCGE", "recupererRoleJury")).await?;
        assert_eq!(status, 500);
        assert!(body.contains("<faultstring>technical.parameter.noncoherentinput.operation</faultstring>"), "{body}");
        let (status, _) = rest(app, "ReferentielMetier", "recupererRoleJury", &[]).await?;
        assert_eq!(status, 400);
        let (status, _) = rest(app, "ReferentielMetier", "recupererNimporteQuoi", &[]).await?;
        assert_eq!(status, 404);
        // An element the operation does not take is ignored over SOAP, refused over REST.
        let (status, body) = app.soap("ReferentielMetier", envelope("ReferentielMetier", "recupererCGE", &[("codCge", "CG1")]).replace("</_codCge>", "</_codCge><_autre>x</_autre>")).await?;
        assert_eq!(status, 200, "{body}");
        let (status, _) = rest(app, "ReferentielMetier", "recupererCGE", &[("autre", "x")]).await?;
        assert_eq!(status, 400);
        Ok(())
    }
}

both_backends! {
    async fn every_code_the_demo_referential_holds_is_answered(app) {
        let snapshot = app.state.referential();
        // (table, key column, service, operation, parameter, returned code child)
        let cases = [
            ("centres-gestion", "codCge", "ReferentielMetier", "recupererCGE", "codCge", "codCge"),
            ("composantes", "codCmp", "ReferentielMetier", "recupererComposante_v2", "codCmp", "codCmp"),
            ("variables-appli", "codVap", "ReferentielMetier", "recupererInformationEtabRef", "codVap", "codVap"),
            ("regimes", "codRgi", "ReferentielMetier", "recupererRegimeInscription", "codRegIns", "codRegIns"),
            ("signataires", "codSig", "ReferentielMetier", "recupererSignataire", "codSig", "codSig"),
            ("communes-bdi", "codBdi", "GeographieMetier", "recupererCommune_v2", "codePostal", "codePostal"),
            ("pays", "codPay", "GeographieMetier", "recupererPays", "codePays", "codePay"),
            ("departements", "codDep", "GeographieMetier", "recupererDepartement", "codeDept", "codeDept"),
            ("bacs", "codBac", "ScolariteMetier", "recupererBacOuEquWS", "code", "codBac"),
            ("options-bac", "codOptBac", "ScolariteMetier", "recupererOptBacWS", "code", "codOptBac"),
            ("specialites-bac", "codSpeBac", "ScolariteMetier", "recupererSpeBacWS", "code", "codSpeBac"),
        ];
        let mut calls = 0;
        for (table, col, service, name, param, child) in cases {
            let rows: Vec<String> = snapshot.rows(table).filter_map(|r| r.get(col).and_then(|v| v.as_text())).collect();
            assert!(!rows.is_empty(), "{table} is empty in the demo referential");
            for code in rows {
                let items = match soap(app, service, name, &[(param, &code)]).await? {
                    Ok(items) => items,
                    Err(f) => panic!("{service}.{name} {param}={code}: {f:?}"),
                };
                assert!(items.iter().all(|i| i[child] == code.as_str()), "{name} {code}: {items:?}");
                calls += 1;
            }
            // The full list holds every row too.
            let all = both(app, service, name, &[]).await?;
            let mut got: Vec<String> = codes(&all, child);
            got.sort();
            got.dedup();
            let mut want: Vec<String> = snapshot.rows(table).filter_map(|r| r.get(col).and_then(|v| v.as_text())).collect();
            want.sort();
            want.dedup();
            assert_eq!(got, want, "{table}");
        }
        // The tables answered through links: every diploma, VDI, étape, VET, étape/CGE/composante
        // link, composante habilitée, hierarchy link and composante type shows in an answer.
        let se = both(app, "OffreFormationMetier", "recupererSE_v4", SE_ALL).await?;
        let text = serde_json::to_string(&se)?;
        for r in snapshot.rows("vdi-vet") {
            let etp = r.get("codEtp").and_then(|v| v.as_text()).unwrap_or_default();
            let dip = r.get("codDip").and_then(|v| v.as_text()).unwrap_or_default();
            assert!(text.contains(&format!("\"codEtp\":\"{etp}\"")) && text.contains(&format!("\"codDip\":\"{dip}\"")), "{etp}");
            let one = both(app, "OffreFormationMetier", "recupererSE_v4", &[("codDip", &dip), ("codElp", "aucun"), ("codEtp", &etp), ("codVrsVdi", "tous"), ("codVrsVet", "tous")]).await?;
            assert_eq!(one.len(), 1);
        }
        for r in snapshot.rows("etapes-cge") {
            let cmp = r.get("codCmp").and_then(|v| v.as_text()).unwrap_or_default();
            assert!(text.contains(&format!("\"codComposante\":\"{cmp}\"")), "étape composante {cmp}");
        }
        let composantes = serde_json::to_string(&both(app, "ReferentielMetier", "recupererComposante_v2", &[]).await?)?;
        for r in snapshot.rows("types-composante").filter(|r| snapshot.rows("composantes").any(|c| c.get("codTypCmp") == r.get("codTypCmp"))) {
            let lib = r.get("libTypCmp").and_then(|v| v.as_text()).unwrap_or_default();
            assert!(composantes.contains(&lib), "type {lib}");
        }
        assert_eq!(snapshot.rows("composantes-hierarchie").count(), 2);
        assert!(snapshot.rows("vdi-composantes").count() > 0);
        eprintln!("{calls} codes answered");
        Ok(())
    }
}

both_backends! {
    async fn wsdl_served_posts_on_the_wsdl_url_and_imports_visible(app) {
        for service in refread::SERVICES {
            let wsdl = app.http.get(app.url(&format!("/apo-commun-servicesMetiers/services/{}?wsdl", service.name))).send().await?.text().await?;
            assert!(wsdl.contains(&format!("location=\"{}/apo-commun-servicesMetiers/services/{}\"", app.base, service.name)), "{wsdl}");
            assert!(wsdl.contains(&format!("{}-impl", service.namespace)));
            let abstract_doc = app.http.get(app.url(&format!("/apo-commun-servicesMetiers/services/abstract/{}.wsdl", service.name))).send().await?.text().await?;
            assert!(abstract_doc.contains(&format!("{}ServiceInterface", service.name)));
        }
        // esup-pstage POSTs its calls to <endpoint>?wsdl.
        let res = app.http.post(app.url("/apo-commun-servicesMetiers/services/ReferentielMetier?wsdl"))
            .basic_auth("admin", Some(&app.admin_token))
            .header("Content-Type", "text/xml; charset=utf-8")
            .body(envelope("ReferentielMetier", "recupererCGE", &[("codCge", "CG1")]))
            .send().await?;
        assert_eq!(res.status(), 200);
        assert!(res.text().await?.contains("<recupererCGEReturn><codCge>CG1</codCge>"));
        // A referential import is answered at once by this process.
        let res = app.put("/api/v1/referential/signataires").header("content-type", "text/csv").body("codSig,nomSig,quaSig\nSIG7,Nouveau SIGNATAIRE,Directeur\n").send().await?;
        assert_eq!(res.status(), 200);
        let sig = both(app, "ReferentielMetier", "recupererSignataire", &[("codSig", "SIG7")]).await?;
        assert_eq!(sig[0]["temEnSveSig"], "O");
        // Without ref:read: refused.
        let secret = app.client_with("sans-ref-read", "opi:read").await;
        let res = app.http.post(app.url("/apo-commun-servicesMetiers/services/GeographieMetier"))
            .bearer_auth(&secret)
            .header("Content-Type", "text/xml; charset=utf-8")
            .body(envelope("GeographieMetier", "recupererPays", &[]))
            .send().await?;
        assert_eq!(res.status(), 403);
        assert!(res.text().await?.contains("technical.security.forbidden.ref:read"));
        Ok(())
    }
}
