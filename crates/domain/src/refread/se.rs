//! `recupererSE_v4` (§9): diploma → diploma version → offer → étape → étape version, from the
//! referential (`diplomes`, `versions-diplome`, `vdi-vet`, `etapes`, `versions-etape`,
//! `etapes-cge` with its composante, `vdi-composantes`, `vet-ouvertures`).
//!
//! The referential holds no élément pédagogique: every étape version answers an **empty**
//! `listListeElementPedagogi` container (never nil), whatever `codElp` asks; a `codElp` naming an
//! ELP finds nothing (`technical.data.nullretrieve.recupererse`). The blocks the referential
//! has no data for (cycle, nature, level, discipline sector, habilitated establishment, groups,
//! RNCP history) are empty blocks or containers; the types whose children the sheet does not give
//! (doctoral school, head, ComUE) are nil.

use super::Params;
use super::answer::{fill, sorted, text};
use super::dto::{Obj, Val};
use super::types as t;
use crate::referential::Record;
use crate::{Error, FaultKey, Referential};

/// A criterion: `tous`/`toutes`/`aucun` (any case) = no filter at that level.
fn filter<'a>(params: &'a Params, name: &str) -> Option<&'a str> {
    params
        .get(name)
        .filter(|v| !matches!(v.to_ascii_lowercase().as_str(), "tous" | "toutes" | "aucun"))
}

/// The five criteria every known client sends (apo-stub refuses a blank one with these keys).
const MANDATORY: &[(&str, &str)] = &[
    ("codDip", "coddiplome"),
    ("codElp", "codelp"),
    ("codEtp", "codetape"),
    ("codVrsVdi", "codversiondiplome"),
    ("codVrsVet", "codversionetape"),
];

struct Criteria<'a> {
    year: Option<String>,
    composante: Option<&'a str>,
    dip: Option<&'a str>,
    vdi: Option<i64>,
    etp: Option<&'a str>,
    vet: Option<i64>,
    nature_dip: Option<&'a str>,
    typ_dip: Option<&'a str>,
    /// `Some(true)`: only VETs open to recruitment for `year`.
    open: Option<bool>,
}

fn version(params: &Params, name: &str) -> Result<Option<i64>, Error> {
    filter(params, name)
        .map(|v| {
            v.parse::<i64>().map_err(|_| {
                Error::bad_request(
                    name,
                    format!("{name} : « {v} » n'est ni un numéro de version, ni tous, ni aucun"),
                )
            })
        })
        .transpose()
}

fn criteria<'a>(r: &Referential, p: &'a Params) -> Result<Criteria<'a>, Error> {
    for (name, key) in MANDATORY {
        if p.get(name).is_none() {
            return Err(Error::invalid_field(
                FaultKey::mandatory(key),
                "PARAMETRE_OBLIGATOIRE",
                name,
                format!("Le critère {name} est obligatoire (un code, tous ou aucun)"),
            ));
        }
    }
    if let Some(elp) = filter(p, "codElp") {
        return Err(Error::not_found(
            FaultKey::null_retrieve("recupererse"),
            format!(
                "Aucun élément pédagogique {elp} : le référentiel de la passerelle n'en contient pas"
            ),
        ));
    }
    let year = match p.get("codAnu") {
        Some(y) if y.len() != 4 || !y.chars().all(|c| c.is_ascii_digit()) => {
            return Err(Error::bad_request(
                "codAnu",
                format!("codAnu : « {y} » n'est pas une année aaaa"),
            ));
        }
        Some(y) => Some(y.to_owned()),
        None => r.current_year(),
    };
    let open = match p
        .get("temOuvertRecrutement")
        .map(str::to_ascii_uppercase)
        .as_deref()
    {
        None => None,
        Some("O") => Some(true),
        Some("N") => Some(false),
        Some(other) => {
            return Err(Error::bad_request(
                "temOuvertRecrutement",
                format!("temOuvertRecrutement : « {other} » n'est pas O ou N"),
            ));
        }
    };
    Ok(Criteria {
        year,
        composante: p.get("codComposanteVdi"),
        dip: filter(p, "codDip"),
        vdi: version(p, "codVrsVdi")?,
        etp: filter(p, "codEtp"),
        vet: version(p, "codVrsVet")?,
        nature_dip: p.get("codNatureDip"),
        typ_dip: p.get("codTypDip"),
        open,
    })
}

/// The answer.
pub fn answer(r: &Referential, p: &Params) -> Result<Vec<Obj>, Error> {
    let c = criteria(r, p)?;
    let items: Vec<Obj> = sorted(r, "diplomes")
        .into_iter()
        .filter(|d| {
            c.dip
                .is_none_or(|want| text(d, "codDip").as_deref() == Some(want))
        })
        .filter(|d| {
            c.nature_dip
                .is_none_or(|want| text(d, "codNatDip").as_deref() == Some(want))
        })
        .filter(|d| {
            c.typ_dip
                .is_none_or(|want| text(d, "codTpdEtb").as_deref() == Some(want))
        })
        .filter_map(|d| diplome(r, &c, d))
        .collect();
    if items.is_empty() {
        return Err(Error::not_found(
            FaultKey::null_retrieve("recupererse"),
            "Aucune formation ne répond aux critères".to_owned(),
        ));
    }
    Ok(items)
}

fn diplome(r: &Referential, c: &Criteria<'_>, d: &Record) -> Option<Obj> {
    let cod_dip = text(d, "codDip")?;
    let mut open_any = false;
    let mut host = None;
    let versions: Vec<Obj> = sorted(r, "versions-diplome")
        .into_iter()
        .filter(|v| text(v, "codDip").as_deref() == Some(cod_dip.as_str()))
        .filter(|v| {
            c.vdi
                .is_none_or(|want| text(v, "codVrsVdi") == Some(want.to_string()))
        })
        .filter_map(|v| {
            let cmps = vdi_composantes(r, &cod_dip, &text(v, "codVrsVdi")?);
            if c.composante
                .is_some_and(|want| !cmps.iter().any(|x| x == want))
            {
                return None;
            }
            let (obj, open) = version_diplome(r, c, &cod_dip, v)?;
            open_any |= open;
            host = host.take().or_else(|| cmps.first().cloned());
            Some(obj)
        })
        .collect();
    if versions.is_empty() {
        return None;
    }
    let mut o = fill(
        &t::DiplomeDTO4,
        d,
        &[("codDip", "codDip"), ("libDip", "libDip")],
    );
    o.set("cycle", Val::Obj(Obj::new(&t::CycleDTO)))
        .set("listGroupeDiplome", Val::List(Vec::new()))
        .set("listVersionDiplome", Val::List(versions))
        .set(
            "niveauInterministeriel",
            Val::Obj(Obj::new(&t::NiveauInterministerielDTO)),
        )
        .set(
            "secteurDisciplinaire",
            Val::Obj(Obj::new(&t::SecteurDisciplinaireDTO)),
        )
        .text(
            "temOuvertRecrutement",
            Some(if open_any { "O" } else { "N" }.into()),
        )
        .set("etbHab", Val::Obj(Obj::new(&t::EtablissementHabiliteDTO)))
        .set(
            "cmpAcc",
            host.and_then(|h| composante_habilitee(r, &h))
                .map_or(Val::Nil, Val::Obj),
        );
    let mut nature = Obj::new(&t::NatureDiplomeDTO);
    nature.text("codNatureDip", text(d, "codNatDip"));
    o.set("natureDiplome", Val::Obj(nature));
    let mut typ = Obj::new(&t::TypeDiplomeDTO);
    typ.text("codTypDip", text(d, "codTpdEtb"));
    o.set("typeDiplome", Val::Obj(typ));
    Some(o)
}

fn vdi_composantes(r: &Referential, cod_dip: &str, vrs: &str) -> Vec<String> {
    sorted(r, "vdi-composantes")
        .into_iter()
        .filter(|l| {
            text(l, "codDip").as_deref() == Some(cod_dip)
                && text(l, "codVrsVdi").as_deref() == Some(vrs)
        })
        .filter_map(|l| text(l, "codCmp"))
        .collect()
}

fn composante_habilitee(r: &Referential, code: &str) -> Option<Obj> {
    let c = r.get("composantes", &[code])?;
    Some(fill(
        &t::ComposanteHabiliteDTO,
        c,
        &[
            ("codCmp", "codCmp"),
            ("libCmp", "libCmp"),
            ("codRneCmp", "codRneCmp"),
            ("temEnSveCmp", "temEnSveCmp"),
        ],
    ))
}

/// A diploma version with its étapes, and whether one of its VETs is open to recruitment.
fn version_diplome(
    r: &Referential,
    c: &Criteria<'_>,
    cod_dip: &str,
    v: &Record,
) -> Option<(Obj, bool)> {
    let vrs = text(v, "codVrsVdi")?;
    let links: Vec<&Record> = sorted(r, "vdi-vet")
        .into_iter()
        .filter(|l| {
            text(l, "codDip").as_deref() == Some(cod_dip)
                && text(l, "codVrsVdi").as_deref() == Some(vrs.as_str())
        })
        .filter(|l| {
            c.etp
                .is_none_or(|want| text(l, "codEtp").as_deref() == Some(want))
        })
        .filter(|l| {
            c.vet
                .is_none_or(|want| text(l, "codVrsVet") == Some(want.to_string()))
        })
        .collect();
    let mut open_any = false;
    let mut etapes: Vec<Obj> = Vec::new();
    let mut codes: Vec<String> = links.iter().filter_map(|l| text(l, "codEtp")).collect();
    codes.dedup();
    for cod_etp in codes {
        let mut versions = Vec::new();
        for l in links
            .iter()
            .filter(|l| text(l, "codEtp").as_deref() == Some(cod_etp.as_str()))
        {
            let vet = text(l, "codVrsVet").unwrap_or_default();
            let open = opened(r, c, &cod_etp, &vet);
            if c.open.is_some_and(|want| want != open) {
                continue;
            }
            if let Some(rec) = r.get("versions-etape", &[cod_etp.as_str(), vet.as_str()]) {
                open_any |= open;
                versions.push(version_etape(r, &cod_etp, rec));
            }
        }
        if !versions.is_empty() {
            etapes.push(etape(r, &cod_etp, versions));
        }
    }
    if etapes.is_empty() {
        return None;
    }
    let mut offre = Obj::new(&t::OffreFormationDTO4);
    offre.set("listEtape", Val::List(etapes));
    let mut o = Obj::new(&t::VersionDiplomeDTO4);
    o.set(
        "listHistoRncp",
        Val::Obj(Obj::new(&t::TableauVersionDiplomeHistoRncpDTO)),
    )
    .text("codVrsVdi", Some(vrs))
    .text("libCourtVdi", text(v, "licVdi"))
    .text(
        "libWebVdi",
        text(v, "libWebVdi").or_else(|| text(v, "libVdi")),
    )
    .set("offreFormation", Val::Obj(offre));
    Some((o, open_any))
}

/// Whether the VET is open to (remote) enrolment for the criteria's year (`vet-ouvertures`).
fn opened(r: &Referential, c: &Criteria<'_>, cod_etp: &str, vet: &str) -> bool {
    c.year
        .as_deref()
        .is_some_and(|y| r.contains("vet-ouvertures", &[y, cod_etp, vet]))
}

/// The étape's (centre de gestion, composante) pairs.
fn etape(r: &Referential, cod_etp: &str, versions: Vec<Obj>) -> Obj {
    let capacity = r
        .get("etapes", &[cod_etp])
        .and_then(|e| text(e, "nbrMaxIaeAut"));
    let pairs = managing(r, cod_etp)
        .into_iter()
        .map(|m| {
            let mut o = Obj::new(&t::ComposanteCentreGestionDTO);
            let cge = text(m, "codCge").unwrap_or_default();
            if let Some(g) = r.get("centres-gestion", &[cge.as_str()]) {
                o.text("libCentreGestion", text(g, "libCge"))
                    .text("temEnSveCentreGestion", text(g, "temEnSveCge"));
            }
            if let Some(cmp) = text(m, "codCmp").and_then(|k| r.get("composantes", &[k.as_str()])) {
                o.text("codComposante", text(cmp, "codCmp"))
                    .text("libComposante", text(cmp, "libCmp"))
                    .text("temEnSveComposante", text(cmp, "temEnSveCmp"));
            }
            o.text("codCentreGestion", Some(cge))
                .text("capaciteAccueil", capacity.clone());
            o
        })
        .collect();
    let mut o = Obj::new(&t::EtapeDTO4);
    o.text("codEtp", Some(cod_etp.to_owned()))
        .set("listComposanteCentreGestion", Val::List(pairs))
        .set("listVersionEtape", Val::List(versions));
    o
}

fn managing<'a>(r: &'a Referential, cod_etp: &str) -> Vec<&'a Record> {
    sorted(r, "etapes-cge")
        .into_iter()
        .filter(|m| text(m, "codEtp").as_deref() == Some(cod_etp))
        .collect()
}

fn version_etape(r: &Referential, cod_etp: &str, vet: &Record) -> Obj {
    let mut o = Obj::new(&t::VersionEtapeDTO4);
    o.text("codVrsVet", text(vet, "codVrsVet"))
        .text(
            "libWebVet",
            text(vet, "libWebVet").or_else(|| text(vet, "libVet")),
        )
        .set("listListeElementPedagogi", Val::List(Vec::new()));
    let organising = managing(r, cod_etp)
        .into_iter()
        .find_map(|m| text(m, "codCmp").and_then(|k| r.get("composantes", &[k.as_str()])));
    let mut cmp = Obj::new(&t::ComposanteOrganisatriceDTO);
    if let Some(c) = organising {
        cmp.text("codComposante", text(c, "codCmp"))
            .text("libComposante", text(c, "libCmp"));
    }
    o.set("composante", Val::Obj(cmp));
    o
}
