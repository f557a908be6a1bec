//! `EtudiantMetier.recupererListeEtudiants` (`soap-read-services.md` §3.6): the students enrolled
//! in a year, in étapes, diplomas, composantes or centres de gestion, criteria combined with AND.
//! Pure: [`query`] reads the criteria and turns the diplomas, composantes and centres de gestion
//! into étape versions with the referential (`vdi-vet`, `etapes-cge`); the application reads the
//! étape enrolments of that year in those étapes (one indexed range of `inscription_etape`:
//! `cod_anu`, `cod_etp`) and [`answer`] keeps those whose version passes every criterion, one
//! `EtudiantDTO2` per student, by `codEtu`.
//!
//! Parameters: the children of `_parametres` (`EtudiantCritereDTO`). A list criterion is given as
//! one value per item and version, `CODE` or `CODE:VERSION` (the SOAP decoder flattens
//! `listEtapes/item/{code, listVersion}` that way; the REST twin takes `listEtapes=ETP01:1`); a
//! repeated leaf (`listComposante`) is one value per element.

use super::Params;
use super::answer::text;
use super::dto::{Obj, Val};
use super::student_types::etu;
use crate::formats::is_year;
use crate::{Error, FaultKey, Referential};
use chrono::NaiveDate;
use std::collections::BTreeSet;

/// The most étape enrolments one call reads: a request that matches more is refused
/// (`…noncoherentinput.parametres`, narrow the criteria), never answered in part.
pub const MAX_ENROLMENTS: usize = 20_000;

/// The criteria the gateway answers; any other given (not nil) is refused.
pub const SUPPORTED: &[&str] = &[
    "annee",
    "listEtapes",
    "listDiplomes",
    "listComposante",
    "listCentreGestion",
];

/// An étape version a criterion admits: that étape, in that version or (`None`) in any.
type Vet = (String, Option<i32>);

/// What the register is asked, and what each enrolment found must pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListQuery {
    /// `COD_ANU`.
    pub annee: String,
    /// The étapes to read (`None`: every étape of the year); never empty.
    pub etapes: Option<Vec<String>>,
    /// One set per criterion given: an enrolment passes when each set admits its VET.
    constraints: Vec<BTreeSet<Vet>>,
}

impl ListQuery {
    /// Whether an enrolment in `cod_etp` version `cod_vrs_vet` passes every criterion.
    pub fn admits(&self, cod_etp: &str, cod_vrs_vet: i32) -> bool {
        self.constraints.iter().all(|set| {
            set.iter()
                .any(|(e, v)| e == cod_etp && v.is_none_or(|v| v == cod_vrs_vet))
        })
    }
}

/// One étape enrolment found (in progress, its yearly enrolment not cancelled), with its student.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedEnrolment {
    /// `COD_ETU`.
    pub cod_etu: i64,
    /// Birth surname.
    pub nom_pat: String,
    /// First name.
    pub prenom1: String,
    /// Birth date.
    pub date_nai: NaiveDate,
    /// INE with its key.
    pub ine: Option<String>,
    /// Étape.
    pub cod_etp: String,
    /// Étape version.
    pub cod_vrs_vet: i32,
}

fn bad(name: &str, value: &str, expected: &str) -> Error {
    Error::invalid_field(
        FaultKey::noncoherent(name),
        "FORMAT",
        name,
        format!("{name} « {value} » : {expected}"),
    )
}

fn nobody() -> Error {
    Error::not_found(
        FaultKey::null_retrieve("etudiant"),
        "Aucun étudiant ne correspond aux critères",
    )
}

/// A `CODE` or `CODE:VERSION` value of a list criterion.
fn code_version(name: &str, raw: &str) -> Result<Vet, Error> {
    let (code, version) = match raw.split_once(':') {
        Some((c, v)) => (c.trim(), Some(v.trim())),
        None => (raw.trim(), None),
    };
    let code_ok = !code.is_empty()
        && code.chars().count() <= 10
        && code.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !code_ok {
        return Err(bad(name, raw, "code attendu (CODE ou CODE:VERSION)"));
    }
    let version = match version {
        None | Some("") => None,
        Some(v) if v.len() <= 3 && v.bytes().all(|b| b.is_ascii_digit()) => Some(
            v.parse::<i32>()
                .map_err(|_| bad(name, raw, "version numérique"))?,
        ),
        Some(_) => return Err(bad(name, raw, "version numérique de 1 à 3 chiffres")),
    };
    Ok((code.to_owned(), version))
}

fn values<'a>(params: &'a Params, name: &'a str) -> Vec<&'a str> {
    params.all(name).collect()
}

/// The criteria of a call, with the diplomas, composantes and centres de gestion turned into the
/// étapes (and versions) the referential links them to.
pub fn query(params: &Params, referential: &Referential) -> Result<ListQuery, Error> {
    if let Some((name, value)) = params.given().find(|(n, _)| !SUPPORTED.contains(n)) {
        return Err(bad(
            name,
            value,
            "critère non pris en charge par la passerelle (seuls annee, listEtapes, listDiplomes, listComposante et listCentreGestion le sont)",
        ));
    }
    let annee = match params.get("annee") {
        Some(y) if is_year(y) => y.to_owned(),
        Some(y) => return Err(bad("annee", y, "année aaaa attendue")),
        None => {
            return Err(Error::invalid_field(
                FaultKey::mandatory("annee"),
                "OBLIGATOIRE",
                "annee",
                "annee : l'année universitaire est obligatoire",
            ));
        }
    };
    let mut constraints = Vec::new();
    let etapes = values(params, "listEtapes");
    if !etapes.is_empty() {
        let set = etapes
            .iter()
            .map(|v| code_version("listEtapes", v))
            .collect::<Result<BTreeSet<_>, _>>()?;
        constraints.push(set);
    }
    let diplomes = values(params, "listDiplomes");
    if !diplomes.is_empty() {
        let wanted = diplomes
            .iter()
            .map(|v| code_version("listDiplomes", v))
            .collect::<Result<Vec<_>, _>>()?;
        let set = referential
            .rows("vdi-vet")
            .filter(|r| {
                let dip = text(r, "codDip");
                let vdi = text(r, "codVrsVdi").and_then(|v| v.parse::<i32>().ok());
                wanted.iter().any(|(d, v)| {
                    dip.as_deref() == Some(d.as_str()) && v.is_none_or(|v| vdi == Some(v))
                })
            })
            .filter_map(|r| {
                let etp = text(r, "codEtp")?;
                let vrs = text(r, "codVrsVet")?.parse::<i32>().ok()?;
                Some((etp, Some(vrs)))
            })
            .collect();
        constraints.push(set);
    }
    for (param, column) in [
        ("listComposante", "codCmp"),
        ("listCentreGestion", "codCge"),
    ] {
        let codes = values(params, param);
        if codes.is_empty() {
            continue;
        }
        for c in &codes {
            code_version(param, c)?;
        }
        let set = referential
            .rows("etapes-cge")
            .filter(|r| text(r, column).is_some_and(|v| codes.contains(&v.as_str())))
            .filter_map(|r| Some((text(r, "codEtp")?, None)))
            .collect();
        constraints.push(set);
    }
    let etapes = constraints
        .iter()
        .map(|set| set.iter().map(|(e, _)| e.clone()).collect::<BTreeSet<_>>())
        .reduce(|a, b| a.intersection(&b).cloned().collect());
    if etapes.as_ref().is_some_and(BTreeSet::is_empty) {
        return Err(nobody());
    }
    Ok(ListQuery {
        annee,
        etapes: etapes.map(|e| e.into_iter().collect()),
        constraints,
    })
}

/// The refusal of a call that matches more than [`MAX_ENROLMENTS`] enrolments.
pub fn too_many() -> Error {
    Error::invalid_field(
        FaultKey::noncoherent("parametres"),
        "LIMITE",
        "parametres",
        format!(
            "Plus de {MAX_ENROLMENTS} inscriptions répondent aux critères : précisez l'étape, le diplôme ou la composante"
        ),
    )
}

/// `EtudiantDTO2` per student (by `codEtu`) among the enrolments found (sorted by `codEtu`) that
/// pass every criterion; none is `technical.data.nullretrieve.etudiant` (§10.3).
pub fn answer(query: &ListQuery, found: &[ListedEnrolment]) -> Result<Vec<Obj>, Error> {
    let mut items: Vec<Obj> = Vec::new();
    let mut last = None;
    for e in found
        .iter()
        .filter(|e| query.admits(&e.cod_etp, e.cod_vrs_vet))
    {
        if last == Some(e.cod_etu) {
            continue;
        }
        last = Some(e.cod_etu);
        let mut o = Obj::new(&etu::EtudiantDTO2);
        o.set("codEtu", Val::Text(e.cod_etu.to_string()))
            .set("nom", Val::Text(e.nom_pat.clone()))
            .set("prenom", Val::Text(e.prenom1.clone()))
            .set(
                "dateNaissance",
                Val::Text(e.date_nai.format("%d/%m/%Y").to_string()),
            )
            .text("numeroIne", e.ine.clone());
        items.push(o);
    }
    if items.is_empty() {
        return Err(nobody());
    }
    Ok(items)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::refread::{ETUDIANT, Params};

    fn params(pairs: &[(&str, &str)]) -> Result<Params, Error> {
        let op = ETUDIANT
            .operation("recupererListeEtudiants")
            .ok_or_else(|| Error::internal("no op"))?;
        Params::read(op, pairs.iter().map(|(n, v)| (*n, Some(*v))))
    }

    #[test]
    fn criteria_are_read_and_combined() -> Result<(), Error> {
        let r = Referential::default();
        let q = query(
            &params(&[
                ("annee", "2025"),
                ("listEtapes", "ETP01:1"),
                ("listEtapes", "ETP02"),
            ])?,
            &r,
        )?;
        assert_eq!(q.etapes, Some(vec!["ETP01".to_owned(), "ETP02".to_owned()]));
        assert!(q.admits("ETP01", 1) && !q.admits("ETP01", 2) && q.admits("ETP02", 7));
        assert!(!q.admits("ETP03", 1));
        let all = query(&params(&[("annee", "2025")])?, &r)?;
        assert_eq!(all.etapes, None);
        assert!(all.admits("X", 1));
        // A diploma the referential does not link to any étape: nobody, without a query.
        let none = query(
            &params(&[("annee", "2025"), ("listDiplomes", "NOPE:1")])?,
            &r,
        );
        assert_eq!(
            none.err().map(|e| e.fault_key.as_str().to_owned()),
            Some("technical.data.nullretrieve.etudiant".to_owned())
        );
        for (p, key) in [
            (
                vec![],
                "technical.parameter.noncoherentinput.anneeobligatoire",
            ),
            (
                vec![("annee", "25")],
                "technical.parameter.noncoherentinput.annee",
            ),
            (
                vec![("annee", "2025"), ("listEtapes", "ETP01:x")],
                "technical.parameter.noncoherentinput.listEtapes",
            ),
            (
                vec![("annee", "2025"), ("listELP", "ELP1")],
                "technical.parameter.noncoherentinput.listELP",
            ),
        ] {
            let got = query(&params(&p)?, &r)
                .err()
                .map(|e| e.fault_key.as_str().to_owned());
            assert_eq!(got.as_deref(), Some(key), "{p:?}");
        }
        Ok(())
    }

    #[test]
    fn one_item_per_student_in_cod_etu_order() -> Result<(), Error> {
        let r = Referential::default();
        let q = query(
            &params(&[("annee", "2025"), ("listEtapes", "ETP01:1")])?,
            &r,
        )?;
        let day = NaiveDate::from_ymd_opt(2004, 5, 12).ok_or_else(|| Error::internal("date"))?;
        let e = |cod_etu, etp: &str, vrs| ListedEnrolment {
            cod_etu,
            nom_pat: "DUPONT".into(),
            prenom1: "ALICE".into(),
            date_nai: day,
            ine: None,
            cod_etp: etp.into(),
            cod_vrs_vet: vrs,
        };
        let items = answer(
            &q,
            &[
                e(1, "ETP01", 1),
                e(1, "ETP01", 1),
                e(2, "ETP01", 2),
                e(3, "ETP01", 1),
            ],
        )?;
        let codes: Vec<_> = items
            .iter()
            .filter_map(|o| o.get("codEtu").cloned())
            .collect();
        assert_eq!(codes, [Val::Text("1".into()), Val::Text("3".into())]);
        assert_eq!(
            items[0].get("dateNaissance"),
            Some(&Val::Text("12/05/2004".into()))
        );
        assert_eq!(items[0].get("numeroIne"), Some(&Val::Nil));
        Ok(())
    }
}
