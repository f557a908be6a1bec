//! `PedagogiqueMetier.recupererContratPedagogiqueResultatVdiVet_v2` (`soap-read-services.md`
//! §5.2, §5.3, §10.3) from the student register: one contract per year and diploma version of
//! the student's étape enrolments, each with its étapes. The diploma version of an étape
//! enrolment is the one the referential links its VET to (`vdi-vet`, the first by key); an
//! enrolment whose VET the referential links to no diploma is a contract without diploma
//! (`diplome` nil, which clients check).
//!
//! No grades nor deliberations are stored: every contract is answered as Apogée answers a student
//! without results, `resultatVdi`, `etapes/item/resultatVet` and `groupes` empty containers,
//! `datObtVdi`/`datValDip` nil.

use super::Params;
use super::answer::text;
use super::dto::{Obj, Val};
use super::student::StudentFile;
use super::student_types::ped;
use crate::formats::is_year;
use crate::lp::etudiant::Iae;
use crate::{Error, FaultKey, Referential};

fn bad(name: &str, value: &str, expected: &str) -> Error {
    Error::invalid_field(
        FaultKey::noncoherent(name),
        "FORMAT",
        name,
        format!("{name} « {value} » : {expected}"),
    )
}

fn is_all(v: &str) -> bool {
    ["toutes", "tous"].iter().any(|k| v.eq_ignore_ascii_case(k))
}

/// `_codAnu`: `Ok(None)` every year (absent, `toutes`), else the year.
fn year(params: &Params) -> Result<Option<&str>, Error> {
    match params.get("codAnu") {
        None => Ok(None),
        Some(v) if is_all(v) => Ok(None),
        Some(v) if is_year(v) => Ok(Some(v)),
        Some(v) => Err(bad("codAnu", v, "année aaaa ou « toutes » attendue")),
    }
}

/// Checks the parameters that only select results (none are stored): their values must still be
/// those clients send.
fn check_result_filters(params: &Params) -> Result<(), Error> {
    if let Some(v) = params.get("sourceRes")
        && !["Apogee", "Apogee-extraction"]
            .iter()
            .any(|k| v.eq_ignore_ascii_case(k))
    {
        return Err(bad("sourceRes", v, "Apogee ou Apogee-extraction attendu"));
    }
    if let Some(v) = params.get("etatDelib")
        && !v.to_ascii_uppercase().chars().all(|c| "AET".contains(c))
    {
        return Err(bad("etatDelib", v, "lettres parmi A, E, T attendues"));
    }
    if let Some(v) = params.get("codSes")
        && !is_all(v)
        && !(v.len() <= 2 && v.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(bad("codSes", v, "« toutes » ou un numéro de session"));
    }
    if let Some(v) = params.get("typeRes")
        && !is_all(v)
        && !(v.len() <= 4 && v.bytes().all(|b| b.is_ascii_alphanumeric()))
    {
        return Err(bad("typeRes", v, "« tous » ou un code de type de résultat"));
    }
    Ok(())
}

/// `_codEtaIae`: the étape-enrolment states kept (`None`: all).
fn states(params: &Params) -> Result<Option<String>, Error> {
    match params.get("codEtaIae") {
        None => Ok(None),
        Some(v) if is_all(v) => Ok(None),
        Some(v) => {
            let up = v.to_ascii_uppercase();
            if up.chars().all(|c| "EARC".contains(c)) {
                Ok(Some(up))
            } else {
                Err(bad("codEtaIae", v, "lettres parmi E, A, R, C attendues"))
            }
        }
    }
}

fn etat_iae_label(code: &str) -> Option<&'static str> {
    match code {
        "E" => Some("En cours"),
        "A" => Some("Annulée"),
        "R" => Some("Résiliée"),
        "C" => Some("En création"),
        _ => None,
    }
}

/// The first row of `table` (by key) whose columns have these values.
fn find<'a>(
    referential: &'a Referential,
    table: &str,
    pairs: &[(&str, &str)],
) -> Option<&'a crate::referential::Record> {
    referential
        .rows(table)
        .filter(|r| pairs.iter().all(|(c, v)| text(r, c).as_deref() == Some(*v)))
        .min_by_key(|r| r.key())
}

fn label(referential: &Referential, table: &str, pairs: &[(&str, &str)], col: &str) -> Val {
    find(referential, table, pairs)
        .and_then(|r| text(r, col))
        .map_or(Val::Nil, Val::Text)
}

/// The diploma version (code, version) the referential links the VET of `iae` to.
/// The diploma version of an étape enrolment: the one it recorded, else the first the
/// referential links to the VET.
fn vdi_of(referential: &Referential, f: &StudentFile, iae: &Iae) -> Option<(String, String)> {
    if let Some((dip, vdi)) = f.iae_record(iae).and_then(|r| r.vdi.as_ref()) {
        return Some((dip.clone(), vdi.to_string()));
    }
    let vrs = iae.cod_vrs_vet.to_string();
    let link = find(
        referential,
        "vdi-vet",
        &[("codEtp", &iae.cod_etp), ("codVrsVet", &vrs)],
    )?;
    Some((text(link, "codDip")?, text(link, "codVrsVdi")?))
}

fn diplome(referential: &Referential, dip: &str, vdi: &str) -> Obj {
    let mut o = Obj::new(&ped::DiplomeDTO);
    let lib_vdi = label(
        referential,
        "versions-diplome",
        &[("codDip", dip), ("codVrsVdi", vdi)],
        "libVdi",
    );
    o.set("codDip", Val::Text(dip.to_owned()))
        .set("codVrsVdi", Val::Text(vdi.to_owned()))
        .set(
            "libDip",
            label(referential, "diplomes", &[("codDip", dip)], "libDip"),
        )
        .set("libWebVdi", lib_vdi);
    o
}

fn etape(referential: &Referential, iae: &Iae) -> Obj {
    let vrs = iae.cod_vrs_vet.to_string();
    let vet = find(
        referential,
        "versions-etape",
        &[("codEtp", &iae.cod_etp), ("codVrsVet", &vrs)],
    );
    let web = vet.and_then(|r| text(r, "libWebVet").or_else(|| text(r, "libVet")));
    let mut e = Obj::new(&ped::EtapeDTO2);
    e.set("codEtp", Val::Text(iae.cod_etp.clone()))
        .set("codVrsVet", Val::Text(vrs))
        .set(
            "libEtp",
            label(referential, "etapes", &[("codEtp", &iae.cod_etp)], "libEtp"),
        )
        .text("libWebVet", web)
        .text(
            "libEtatIae",
            etat_iae_label(&iae.eta_iae).map(str::to_owned),
        );
    let mut item = Obj::new(&ped::EtapeResVdiVetDTO2);
    item.set("codAnu", Val::Text(iae.cod_anu.clone()))
        .set("etape", Val::Obj(e))
        .set("groupes", Val::List(Vec::new()))
        .set("resultatVet", Val::List(Vec::new()));
    item
}

fn contract(annee: &str, diplome: Option<Obj>) -> Obj {
    let mut o = Obj::new(&ped::ContratPedagogiqueResultatVdiVetDTO2);
    o.set("annee", Val::Text(annee.to_owned()))
        .set("diplome", diplome.map_or(Val::Nil, Val::Obj))
        .set("etapes", Val::List(Vec::new()))
        .set("resultatVdi", Val::List(Vec::new()));
    o
}

fn push_etape(contract: &mut Obj, item: Obj) {
    if let Some(i) = contract.dto.fields.iter().position(|f| f.name == "etapes")
        && let Val::List(items) = &mut contract.values[i]
    {
        items.push(item);
    }
}

/// A contract's year and diploma version (code, version), when the referential gives one.
type ContractKey = (String, Option<(String, String)>);

/// `recupererContratPedagogiqueResultatVdiVet_v2` → one `ContratPedagogiqueResultatVdiVetDTO2`
/// per (year, diploma version), years ascending, with the étapes of that year and diploma. An
/// unknown student is `technical.data.nullretrieve.etudiant`; no étape enrolment (in the states
/// `_codEtaIae` asks) is `…nullretrieve.findIAA` (eCandidat: no internal cursus); none in the
/// year `_codAnu` asks, while there are others, is `…nullretrieve.codAnu`.
pub fn contrats(
    file: Option<&StudentFile>,
    referential: &Referential,
    params: &Params,
) -> Result<Vec<Obj>, Error> {
    let f = file.ok_or_else(|| {
        Error::not_found(
            FaultKey::null_retrieve("etudiant"),
            "Aucun étudiant ne correspond aux critères",
        )
    })?;
    let wanted = year(params)?;
    let filter = states(params)?;
    check_result_filters(params)?;
    let enrolled: Vec<&Iae> = f
        .iae
        .iter()
        .filter(|i| {
            filter
                .as_ref()
                .is_none_or(|s| s.contains(i.eta_iae.as_str()))
        })
        .collect();
    if enrolled.is_empty() {
        return Err(Error::not_found(
            FaultKey::null_retrieve("findIAA"),
            format!("Aucune inscription pour l'étudiant {}", f.cod_etu),
        ));
    }
    // (year, diploma) → contract, in year then diploma order (the enrolments come by year).
    let mut keyed: Vec<(ContractKey, Obj)> = Vec::new();
    for iae in enrolled
        .into_iter()
        .filter(|i| wanted.is_none_or(|y| y == i.cod_anu))
    {
        let key = (iae.cod_anu.clone(), vdi_of(referential, f, iae));
        let pos = match keyed.iter().position(|(k, _)| *k == key) {
            Some(p) => p,
            None => {
                let dip = key.1.as_ref().map(|(d, v)| diplome(referential, d, v));
                keyed.push((key.clone(), contract(&iae.cod_anu, dip)));
                keyed.len() - 1
            }
        };
        push_etape(&mut keyed[pos].1, etape(referential, iae));
    }
    if keyed.is_empty() {
        return Err(Error::not_found(
            FaultKey::null_retrieve("codAnu"),
            format!(
                "Aucune inscription pour l'étudiant {} en {}",
                f.cod_etu,
                wanted.unwrap_or_default()
            ),
        ));
    }
    keyed.sort_by(|(a, _), (b, _)| a.cmp(b));
    Ok(keyed.into_iter().map(|(_, o)| o).collect())
}
