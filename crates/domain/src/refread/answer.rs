//! The answers of the code-list operations (ReferentielMetier, GeographieMetier,
//! ScolariteMetier), from the referential snapshot.
//!
//! Common rules (`docs/API-DESIGN.md`, read services): the code parameter absent = every row; a
//! code = that row, `technical.data.nullretrieve.<entity>` when the table does not hold it; the
//! in-service flag parameter `O` = rows in service, `N` = rows out of service, absent or `T` =
//! every row, anything else `technical.parameter.noncoherentinput.<parameter>`; a filter that
//! leaves nothing is the same `nullretrieve` fault. Rows come sorted by key.

use super::Params;
use super::dto::{Dto, Obj, Val};
use super::types as t;
use crate::referential::{Record, Value};
use crate::{Error, FaultKey, Referential};
use std::collections::BTreeSet;

/// The value of column `col` as text (`None`: null, or a column the table does not have).
pub fn text(r: &Record, col: &str) -> Option<String> {
    r.get(col).and_then(Value::as_text)
}

/// The rows of `table`, sorted by key.
pub fn sorted<'a>(referential: &'a Referential, table: &str) -> Vec<&'a Record> {
    let mut rows: Vec<&Record> = referential.rows(table).collect();
    rows.sort_by_key(|r| r.key());
    rows
}

/// `nullretrieve` for `entity`.
pub fn nothing(entity: &str, what: String) -> Error {
    Error::not_found(FaultKey::null_retrieve(entity), what)
}

/// An in-service parameter: `Some(true)` only in service, `Some(false)` only out of service,
/// `None` every row.
pub fn in_service(params: &Params, name: &str) -> Result<Option<bool>, Error> {
    match params.get(name).map(str::to_ascii_uppercase).as_deref() {
        None | Some("T" | "TOUS") => Ok(None),
        Some("O") => Ok(Some(true)),
        Some("N") => Ok(Some(false)),
        Some(other) => Err(Error::bad_request(
            name,
            format!("{name} : « {other} » n'est pas O, N ou T"),
        )),
    }
}

/// Whether `r`'s flag `col` passes the filter.
pub fn passes(r: &Record, col: &str, filter: Option<bool>) -> bool {
    filter.is_none_or(|want| (text(r, col).as_deref() == Some("O")) == want)
}

/// A code-list operation: one table, a code parameter, an optional in-service parameter, and the
/// DTO children taken from columns.
struct CodeList {
    table: &'static str,
    code_param: &'static str,
    code_col: &'static str,
    flag: Option<(&'static str, &'static str)>,
    entity: &'static str,
    dto: &'static Dto,
    /// (DTO child, column); a column the table lacks leaves the child nil.
    map: &'static [(&'static str, &'static str)],
}

fn code_list(
    referential: &Referential,
    params: &Params,
    spec: &CodeList,
) -> Result<Vec<Obj>, Error> {
    let flag = match spec.flag {
        Some((param, col)) => Some((col, in_service(params, param)?)),
        None => None,
    };
    let code = params.get(spec.code_param);
    let items: Vec<Obj> = sorted(referential, spec.table)
        .into_iter()
        .filter(|r| code.is_none_or(|c| text(r, spec.code_col).as_deref() == Some(c)))
        .filter(|r| flag.is_none_or(|(col, f)| passes(r, col, f)))
        .map(|r| fill(spec.dto, r, spec.map))
        .collect();
    if items.is_empty() {
        return Err(nothing(
            spec.entity,
            match code {
                Some(c) => format!("Aucun {} pour le code {c}", spec.entity),
                None => format!("Aucun {} ne répond aux critères", spec.entity),
            },
        ));
    }
    Ok(items)
}

/// A DTO value whose children come from columns of `r`.
pub fn fill(dto: &'static Dto, r: &Record, map: &[(&str, &str)]) -> Obj {
    let mut o = Obj::new(dto);
    for (child, col) in map {
        o.text(child, text(r, col));
    }
    o
}

/// `recupererCGE`.
pub fn cge(r: &Referential, p: &Params) -> Result<Vec<Obj>, Error> {
    code_list(
        r,
        p,
        &CodeList {
            table: "centres-gestion",
            code_param: "codCge",
            code_col: "codCge",
            flag: Some(("temoinEnService", "temEnSveCge")),
            entity: "cge",
            dto: &t::CentreGestionDTO2,
            map: &[
                ("codCge", "codCge"),
                ("libCge", "libCge"),
                ("licCge", "licCge"),
                ("temEnSve", "temEnSveCge"),
            ],
        },
    )
}

/// `recupererInformationEtabRef`: the application variables (`_codVap` absent: all of them).
pub fn information_etab(r: &Referential, p: &Params) -> Result<Vec<Obj>, Error> {
    code_list(
        r,
        p,
        &CodeList {
            table: "variables-appli",
            code_param: "codVap",
            code_col: "codVap",
            flag: None,
            entity: "variableAppli",
            dto: &t::VariableAppliWSEtabRefDTO,
            map: &[
                ("codVap", "codVap"),
                ("libVap", "libVap"),
                ("parVap", "parVap"),
            ],
        },
    )
}

/// `recupererRegimeInscription`: the establishment's régimes (`regimes`).
pub fn regime(r: &Referential, p: &Params) -> Result<Vec<Obj>, Error> {
    code_list(
        r,
        p,
        &CodeList {
            table: "regimes",
            code_param: "codRegIns",
            code_col: "codRgi",
            flag: Some(("temoinEnService", "temEnSveRgi")),
            entity: "regimeInscription",
            dto: &t::RegimeInscDTO,
            map: &[
                ("codRegIns", "codRgi"),
                ("libRegIns", "libRgi"),
                ("licRegIns", "licRgi"),
                ("temEnSve", "temEnSveRgi"),
            ],
        },
    )
}

/// `recupererSignataire`.
pub fn signataire(r: &Referential, p: &Params) -> Result<Vec<Obj>, Error> {
    code_list(
        r,
        p,
        &CodeList {
            table: "signataires",
            code_param: "codSig",
            code_col: "codSig",
            flag: Some(("temoinEnService", "temEnSveSig")),
            entity: "signataire",
            dto: &t::SignataireWSSignataireDTO,
            map: &[
                ("codSig", "codSig"),
                ("nomSig", "nomSig"),
                ("quaSig", "quaSig"),
                ("temEnSveSig", "temEnSveSig"),
            ],
        },
    )
}

/// `recupererPays`.
pub fn pays(r: &Referential, p: &Params) -> Result<Vec<Obj>, Error> {
    code_list(
        r,
        p,
        &CodeList {
            table: "pays",
            code_param: "codePays",
            code_col: "codPay",
            flag: Some(("temoinEnService", "temEnSvePay")),
            entity: "pays",
            dto: &t::PaysDTO,
            map: &[
                ("codePay", "codPay"),
                ("libNat", "libNat"),
                ("libPay", "libPay"),
                ("temEnSvePay", "temEnSvePay"),
            ],
        },
    )
}

/// `recupererDepartement` (`codeAca`/`libAca`: columns `codAca`/`libAca` when the table has
/// them, nil otherwise).
pub fn departement(r: &Referential, p: &Params) -> Result<Vec<Obj>, Error> {
    code_list(
        r,
        p,
        &CodeList {
            table: "departements",
            code_param: "codeDept",
            code_col: "codDep",
            flag: Some(("temoinEnService", "temEnSveDep")),
            entity: "departement",
            dto: &t::DepartementDTO,
            map: &[
                ("codeAca", "codAca"),
                ("codeDept", "codDep"),
                ("libAca", "libAca"),
                ("libDept", "libDep"),
                ("temEnSveDept", "temEnSveDep"),
            ],
        },
    )
}

/// `recupererBacOuEquWS`.
pub fn bac(r: &Referential, p: &Params) -> Result<Vec<Obj>, Error> {
    code_list(
        r,
        p,
        &CodeList {
            table: "bacs",
            code_param: "code",
            code_col: "codBac",
            flag: Some(("temoinEnService", "temEnSveBac")),
            entity: "bac",
            dto: &t::BacOuEquDTO,
            map: &[
                ("codBac", "codBac"),
                ("libBac", "libBac"),
                ("temEnSveBac", "temEnSveBac"),
            ],
        },
    )
}

/// `recupererOptBacWS` (short label and validity years: the `licOptBac`, `daaDebValOptBac`,
/// `daaFinValOptBac` columns when the table has them).
pub fn option_bac(r: &Referential, p: &Params) -> Result<Vec<Obj>, Error> {
    code_list(
        r,
        p,
        &CodeList {
            table: "options-bac",
            code_param: "code",
            code_col: "codOptBac",
            flag: Some(("temoinEnService", "temEnSveOptBac")),
            entity: "optionBac",
            dto: &t::OptionBacDTO2,
            map: &[
                ("codOptBac", "codOptBac"),
                ("licOptBac", "licOptBac"),
                ("libOptBac", "libOptBac"),
                ("temEnSveOptBac", "temEnSveOptBac"),
                ("daaDebValOptBac", "daaDebValOptBac"),
                ("daaFinValOptBac", "daaFinValOptBac"),
            ],
        },
    )
}

/// `recupererSpeBacWS` (same remark as [`option_bac`]).
pub fn specialite_bac(r: &Referential, p: &Params) -> Result<Vec<Obj>, Error> {
    code_list(
        r,
        p,
        &CodeList {
            table: "specialites-bac",
            code_param: "code",
            code_col: "codSpeBac",
            flag: Some(("temoinEnService", "temEnSveSpeBac")),
            entity: "specialiteBac",
            dto: &t::SpecialiteBacDTO2,
            map: &[
                ("codSpeBac", "codSpeBac"),
                ("licSpeBac", "licSpeBac"),
                ("libSpeBac", "libSpeBac"),
                ("codSisSpeBac", "codSisSpeBac"),
                ("temEnSveSpeBac", "temEnSveSpeBac"),
                ("daaDebValSpeBac", "daaDebValSpeBac"),
                ("daaFinValSpeBac", "daaFinValSpeBac"),
            ],
        },
    )
}

/// `recupererTypeHebergement` (EtudiantMetier, §3.7): the accommodation types
/// (`types-hebergement`); the empty wrapper esup-mdw sends answers the whole list. `_temoinAD`,
/// whose meaning the sheet leaves open, is accepted absent or `T`/`tous` only.
pub fn type_hebergement(r: &Referential, p: &Params) -> Result<Vec<Obj>, Error> {
    if let Some(v) = p.get("temoinAD")
        && !["T", "TOUS"].contains(&v.to_ascii_uppercase().as_str())
    {
        return Err(Error::bad_request(
            "temoinAD",
            format!("temoinAD : « {v} » non pris en charge (absent ou T attendu)"),
        ));
    }
    code_list(
        r,
        p,
        &CodeList {
            table: "types-hebergement",
            code_param: "code",
            code_col: "codThb",
            flag: Some(("temoinService", "temEnSveThb")),
            entity: "typeHebergement",
            dto: &super::student_types::etu::TypeHebergementDTO,
            map: &[
                ("codTypeHebergement", "codThb"),
                ("libTypeHebergement", "libThb"),
                ("libWebTypeHebergement", "libWebThb"),
                ("temEnSveTypeHebergement", "temEnSveThb"),
                ("temMinTypeHebergement", "temMinThb"),
            ],
        },
    )
}

// ---------------------------------------------------------------- composantes

/// Which of the two hierarchy lists `_sens` asks for (our reading, the sheet leaves it open):
/// absent both, `F` the children only, `P` the parents only.
fn sens(params: &Params) -> Result<(bool, bool), Error> {
    match params.get("sens").map(str::to_ascii_uppercase).as_deref() {
        None => Ok((true, true)),
        Some("F") => Ok((true, false)),
        Some("P") => Ok((false, true)),
        Some(other) => Err(Error::bad_request(
            "sens",
            format!("sens : « {other} » n'est pas F (filles) ou P (mères)"),
        )),
    }
}

/// `recupererComposante_v2`: the composante (or every one), its children nested to the full
/// depth, its direct parents (with empty lists, so the tree has no cycle).
pub fn composante(r: &Referential, p: &Params) -> Result<Vec<Obj>, Error> {
    let (children, parents) = sens(p)?;
    let code = p.get("codCmp");
    let items: Vec<Obj> = sorted(r, "composantes")
        .into_iter()
        .filter(|c| code.is_none_or(|want| text(c, "codCmp").as_deref() == Some(want)))
        .map(|c| {
            let mut o = composante_node(r, c, children, &mut BTreeSet::new());
            if parents {
                let code = text(c, "codCmp").unwrap_or_default();
                let list = related(r, "codCmpFils", &code, "codCmpPere")
                    .into_iter()
                    .map(|p| composante_node(r, p, false, &mut BTreeSet::new()))
                    .collect();
                o.set("listeComposantePere", Val::List(list));
            }
            o
        })
        .collect();
    if items.is_empty() {
        return Err(nothing(
            "composante",
            format!(
                "Aucune composante pour le code {}",
                code.unwrap_or_default()
            ),
        ));
    }
    Ok(items)
}

/// The composantes linked to `code` in the hierarchy (`from` = `code`, answer `to`).
fn related<'a>(r: &'a Referential, from: &str, code: &str, to: &str) -> Vec<&'a Record> {
    sorted(r, "composantes-hierarchie")
        .into_iter()
        .filter(|h| text(h, from).as_deref() == Some(code))
        .filter_map(|h| r.get("composantes", &[text(h, to).unwrap_or_default().as_str()]))
        .collect()
}

fn composante_node(
    r: &Referential,
    c: &Record,
    children: bool,
    seen: &mut BTreeSet<String>,
) -> Obj {
    let code = text(c, "codCmp").unwrap_or_default();
    let mut o = fill(
        &t::ComposanteDTO3,
        c,
        &[
            ("codCmp", "codCmp"),
            ("libCmp", "libCmp"),
            ("libWebCmp", "libWebCmp"),
            ("codSig", "codSig"),
            ("codNatCmp", "codNatCmp"),
            ("codRneCmp", "codRneCmp"),
            ("temElcCmp", "temElcCmp"),
            ("temEnSveCmp", "temEnSveCmp"),
        ],
    );
    o.set(
        "adresseComposante",
        Val::Obj(fill(
            &t::AdresseComposanteDTO,
            c,
            &[
                ("libAdr1Cmp", "libAdr1Cmp"),
                ("libAdr2Cmp", "libAdr2Cmp"),
                ("libAdr3Cmp", "libAdr3Cmp"),
                ("codPosAdrCmp", "codPosAdrCmp"),
                ("codComAdrCmp", "codComAdrCmp"),
            ],
        )),
    );
    let mut typ = Obj::new(&t::TypeComposanteDTO);
    if let Some(code_typ) = text(c, "codTypCmp") {
        let label = r
            .get("types-composante", &[code_typ.as_str()])
            .and_then(|ty| text(ty, "libTypCmp"));
        typ.text("codTypCmp", Some(code_typ))
            .text("libTypCmp", label);
    }
    o.set("typeComposante", Val::Obj(typ));
    seen.insert(code.clone());
    let fils = if children {
        related(r, "codCmpPere", &code, "codCmpFils")
            .into_iter()
            .filter(|f| !seen.contains(&text(f, "codCmp").unwrap_or_default()))
            .collect::<Vec<_>>()
            .into_iter()
            .map(|f| composante_node(r, f, true, seen))
            .collect()
    } else {
        Vec::new()
    };
    o.set("listeComposanteFils", Val::List(fils));
    o.set("listeComposantePere", Val::List(Vec::new()));
    o
}

// ---------------------------------------------------------------- communes

/// A postal code: 5 characters, digits or capital letters (2A/2B Corsica codes are digits too,
/// but tolerate letters).
fn postal_code(params: &Params) -> Result<Option<&str>, Error> {
    match params.get("codePostal") {
        Some(c) if c.len() != 5 || !c.chars().all(|ch| ch.is_ascii_alphanumeric()) => {
            Err(Error::bad_request(
                "codePostal",
                format!("codePostal : « {c} » n'a pas 5 chiffres"),
            ))
        }
        other => Ok(other),
    }
}

/// One item per (commune, postal code) pair of `communes-bdi`. The bureau distributeur has no
/// label nor flag of its own in our referential: `libBureauDis` is the commune's label and the
/// pair is in service.
///
/// v1 also takes a département code (2 or 3 characters) in `_codePostal`, as esup-pstage sends
/// it: the communes of that département, with each of their postal codes.
fn communes(r: &Referential, p: &Params, v2: bool) -> Result<Vec<Obj>, Error> {
    let departement = match p.get("codePostal") {
        Some(d) if !v2 && (2..=3).contains(&d.len()) => Some(format!("{d:0>3}")),
        _ => None,
    };
    let code = if departement.is_some() {
        None
    } else {
        postal_code(p)?
    };
    let commune_flag = in_service(p, "temoinEnServiceCom")?;
    let bd_flag = in_service(p, "temoinEnServiceBD")?;
    let pair_flag = if v2 {
        in_service(p, "temoinEnServiceComBD")?
    } else {
        None
    };
    let dto = if v2 { &t::CommuneDTO2 } else { &t::CommuneDTO };
    let mut items = Vec::new();
    for pair in sorted(r, "communes-bdi") {
        let bdi = text(pair, "codBdi");
        if code.is_some_and(|c| bdi.as_deref() != Some(c)) {
            continue;
        }
        let Some(commune) = r.get(
            "communes",
            &[text(pair, "codCom").unwrap_or_default().as_str()],
        ) else {
            continue;
        };
        if departement.is_some() && text(commune, "codDep") != departement {
            continue;
        }
        if !passes(commune, "temEnSveCom", commune_flag)
            || bd_flag == Some(false)
            || pair_flag == Some(false)
        {
            continue;
        }
        let mut o = fill(
            dto,
            commune,
            &[
                ("codeCommune", "codCom"),
                ("libCommune", "libCom"),
                ("libBureauDis", "libCom"),
                ("temSevCommune", "temEnSveCom"),
            ],
        );
        o.text("codePostal", bdi)
            .text("temSevBureauDis", Some("O".into()));
        if v2 {
            o.text("temoinEnServiceComBD", Some("O".into()));
        }
        items.push(o);
    }
    if items.is_empty() {
        return Err(nothing(
            "commune",
            match code.map(str::to_owned).or(departement) {
                Some(c) => format!("Aucune commune pour le code {c}"),
                None => "Aucune commune ne répond aux critères".to_owned(),
            },
        ));
    }
    Ok(items)
}

/// `recupererCommune_v2`.
pub fn commune_v2(r: &Referential, p: &Params) -> Result<Vec<Obj>, Error> {
    communes(r, p, true)
}

/// `recupererCommune` (v1, called by esup-pstage).
pub fn commune_v1(r: &Referential, p: &Params) -> Result<Vec<Obj>, Error> {
    communes(r, p, false)
}
