//! EtudiantMetier and AdministratifMetier answered from the student register
//! (`soap-read-services.md` §3, §4, §10.3). Pure: the key is read from the parameters, the
//! application finds the student's file by that key (indexed lookups) and the builders below
//! answer from it, the referential snapshot giving the labels of étapes, diplomas, composantes
//! and centres de gestion.
//!
//! What the register does not hold yet (civil status beyond names and birth date, bacs,
//! addresses, directory data, régimes and dates of the enrolments) is answered nil, or as an
//! empty block where a known client dereferences it without a check (§11.9).

use super::Params;
use super::answer::text;
use super::dto::{Dto, Obj, Val};
use super::student_types::{adm, etu};
use crate::formats::{cod_etu, is_year, parse_date};
use crate::lp::etudiant::{Blocage, Iaa, Iae};
use crate::opi::rules::match_key;
use crate::student::{Adresse, Bac, Dossier};
use crate::{Error, FaultKey, Referential, ine};
use chrono::NaiveDate;

/// How the student is looked up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StudentKey {
    /// `COD_ETU`.
    CodEtu(i64),
    /// `COD_IND`.
    CodInd(i64),
    /// INE with its key, normalised.
    Ine(String),
    /// The OPI number (`COD_OPI_INT_EPO`), upper case: the student the OPI names.
    CodOpi(String),
    /// Normalised birth surname + first name + birth date.
    Identity(String),
    /// A criterion the register does not hold (`numBoursier`): nobody.
    Nobody,
}

/// What the register holds of one student.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StudentFile {
    /// `COD_IND`.
    pub cod_ind: i64,
    /// `COD_ETU`.
    pub cod_etu: i64,
    /// INE with its key.
    pub ine: Option<String>,
    /// Birth surname.
    pub nom_pat: String,
    /// Usual surname.
    pub nom_usu: Option<String>,
    /// First name.
    pub prenom1: String,
    /// Birth date.
    pub date_nai: NaiveDate,
    /// Normalised surname + first name + birth date.
    pub match_key: String,
    /// Yearly enrolments, by year.
    pub iaa: Vec<Iaa>,
    /// Étape enrolments, by year, étape, version.
    pub iae: Vec<Iae>,
    /// Bans, by code.
    pub blocages: Vec<Blocage>,
    /// The rest of the file (civil status, birth, bacs, addresses…), when stored.
    pub dossier: Option<Dossier>,
    /// What each yearly enrolment recorded (régime, statut, date), by year.
    pub iaa_records: Vec<IaaRecord>,
    /// What each étape enrolment recorded (date, the diploma version enrolled in).
    pub iae_records: Vec<IaeRecord>,
}

/// What a yearly enrolment (`INS_ADM_ANU`) recorded beyond its state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IaaRecord {
    /// `COD_ANU`.
    pub cod_anu: String,
    /// `COD_RGI`, régime d'inscription.
    pub cod_rgi: Option<String>,
    /// `COD_STU`, statut.
    pub cod_stu: Option<String>,
    /// `DAT_CRE_IAA`: the day the enrolment was made (unknown for enrolments loaded by the
    /// register).
    pub date: Option<NaiveDate>,
}

/// What an étape enrolment (`INS_ADM_ETP`) recorded beyond its state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IaeRecord {
    /// `COD_ANU`.
    pub cod_anu: String,
    /// `COD_ETP`.
    pub cod_etp: String,
    /// `COD_VRS_VET`.
    pub cod_vrs_vet: i32,
    /// `DAT_CRE_IAE`: the day the enrolment was made (unknown for enrolments loaded by the
    /// register).
    pub date: Option<NaiveDate>,
    /// The diploma version enrolled in (`COD_DIP`, `COD_VRS_VDI`), when recorded.
    pub vdi: Option<(String, i32)>,
}

impl StudentFile {
    fn iaa_record(&self, cod_anu: &str) -> Option<&IaaRecord> {
        self.iaa_records.iter().find(|r| r.cod_anu == cod_anu)
    }

    pub(crate) fn iae_record(&self, iae: &Iae) -> Option<&IaeRecord> {
        self.iae_records.iter().find(|r| {
            r.cod_anu == iae.cod_anu && r.cod_etp == iae.cod_etp && r.cod_vrs_vet == iae.cod_vrs_vet
        })
    }
}

/// The `regimeIns` block of a year: code and label of `REGIME_INS` (empty when not recorded;
/// esup-siscol and esup-pstage read `codRgi`, esup-mdw `libRgi`).
fn regime(r: &Referential, rec: Option<&IaaRecord>) -> Val {
    named(
        r,
        &adm::RegimeInsDTO,
        rec.and_then(|x| x.cod_rgi.as_deref()),
        "codRgi",
        ("libRgi", "regimes", "libRgi"),
    )
}

/// A read of the student register: the key from the parameters, the answer from the file found
/// (`None`: nobody has that key).
#[derive(Clone, Copy)]
pub struct StudentRead {
    /// The lookup key.
    pub key: fn(&Params) -> Result<StudentKey, Error>,
    /// The answer.
    pub answer: Builder,
}

/// An answer builder: the file found (`None`: nobody has that key), the labels, the parameters.
pub type Builder = fn(Option<&StudentFile>, &Referential, &Params) -> Result<Vec<Obj>, Error>;

fn bad(name: &str, value: &str, expected: &str) -> Error {
    Error::invalid_field(
        FaultKey::noncoherent(name),
        "FORMAT",
        name,
        format!("{name} « {value} » : {expected}"),
    )
}

fn parse_cod_etu(raw: &str) -> Result<i64, Error> {
    cod_etu(raw).ok_or_else(|| bad("codEtu", raw, "numéro d'étudiant de 1 à 8 chiffres attendu"))
}

/// `_codEtu`, mandatory (`…noncoherentinput.codEtuobligatoire` when absent).
pub fn by_cod_etu(params: &Params) -> Result<StudentKey, Error> {
    match params.get("codEtu") {
        Some(raw) => Ok(StudentKey::CodEtu(parse_cod_etu(raw)?)),
        None => Err(Error::invalid_field(
            FaultKey::mandatory("codEtu"),
            "OBLIGATOIRE",
            "codEtu",
            "codEtu : numéro d'étudiant obligatoire",
        )),
    }
}

/// The identity key of `_nom`, `_prenom`, `_dateNaiss` (all three, or none).
fn identity(params: &Params) -> Result<Option<String>, Error> {
    let (nom, prenom, date) = (
        params.get("nom"),
        params.get("prenom"),
        params.get("dateNaiss"),
    );
    if nom.is_none() && prenom.is_none() && date.is_none() {
        return Ok(None);
    }
    let missing = [("nom", nom), ("prenom", prenom), ("dateNaiss", date)]
        .into_iter()
        .find(|(_, v)| v.is_none());
    if let Some((name, _)) = missing {
        return Err(Error::invalid_field(
            FaultKey::mandatory(name),
            "OBLIGATOIRE",
            name,
            format!("{name} : obligatoire avec nom, prénom et date de naissance"),
        ));
    }
    let raw = date.unwrap_or_default();
    let day = parse_date(raw).ok_or_else(|| {
        bad(
            "dateNaiss",
            raw,
            "date attendue (jj/mm/aaaa, aaaa-mm-jj ou jjmmaaaa)",
        )
    })?;
    Ok(Some(match_key(
        nom.unwrap_or_default(),
        prenom.unwrap_or_default(),
        day,
    )))
}

fn directory_flag(params: &Params, name: &str) -> Result<(), Error> {
    match params.get(name).map(str::to_ascii_uppercase).as_deref() {
        None | Some("N" | "O" | "TOUS") => Ok(()),
        Some(other) => Err(bad(name, other, "N, O ou TOUS attendu")),
    }
}

/// `recupererIdentifiantsEtudiant_v2`: the first identifier given, in the order `_codEtu`,
/// `_codInd`, `_numINE`, `_codOPI`, name + first name + birth date, `_numBoursier`; none
/// at all is `…noncoherentinput.identifiantobligatoire`.
pub fn by_identifier(params: &Params) -> Result<StudentKey, Error> {
    directory_flag(params, "temoinRecupAnnu")?;
    let identity = identity(params)?;
    if let Some(raw) = params.get("codEtu") {
        return Ok(StudentKey::CodEtu(parse_cod_etu(raw)?));
    }
    if let Some(raw) = params.get("codInd") {
        let n = (raw.len() <= 10 && raw.bytes().all(|b| b.is_ascii_digit()))
            .then(|| raw.parse::<i64>().ok())
            .flatten()
            .filter(|n| *n >= 1)
            .ok_or_else(|| bad("codInd", raw, "code individu numérique attendu"))?;
        return Ok(StudentKey::CodInd(n));
    }
    if let Some(raw) = params.get("numINE") {
        let n = ine::normalize(raw);
        if n.len() != 11 || !n.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(bad("numINE", raw, "INE et sa clé, 11 caractères attendus"));
        }
        return Ok(StudentKey::Ine(n));
    }
    if let Some(raw) = params.get("codOPI") {
        if raw.chars().count() > 10 {
            return Err(bad("codOPI", raw, "numéro d'OPI de 10 caractères au plus"));
        }
        return Ok(StudentKey::CodOpi(raw.to_uppercase()));
    }
    if let Some(key) = identity {
        return Ok(StudentKey::Identity(key));
    }
    if params.get("numBoursier").is_some() {
        return Ok(StudentKey::Nobody);
    }
    Err(Error::invalid_field(
        FaultKey::mandatory("identifiant"),
        "OBLIGATOIRE",
        "codEtu",
        "Un identifiant est obligatoire : codEtu, codInd, numINE, codOPI ou nom, prénom et date de naissance",
    ))
}

fn unknown_student() -> Error {
    Error::not_found(
        FaultKey::null_retrieve("etudiant"),
        "Aucun étudiant ne correspond aux critères",
    )
}

fn found(file: Option<&StudentFile>) -> Result<&StudentFile, Error> {
    file.ok_or_else(unknown_student)
}

fn txt(v: impl Into<String>) -> Val {
    Val::Text(v.into())
}

fn opt(v: Option<&str>) -> Val {
    v.map_or(Val::Nil, |t| Val::Text(t.to_owned()))
}

/// A block of `dto` from (child, value) pairs, the others nil.
fn block(dto: &'static Dto, values: &[(&str, Val)]) -> Val {
    let mut o = Obj::new(dto);
    for (name, v) in values {
        o.set(name, v.clone());
    }
    Val::Obj(o)
}

/// An empty block (every leaf nil): for the elements clients dereference without a check.
fn empty(dto: &'static Dto) -> Val {
    Val::Obj(Obj::new(dto))
}

/// The given identifiers other than the lookup key must name the same student.
fn coherent(f: &StudentFile, params: &Params) -> bool {
    let same = |name: &str, ok: &dyn Fn(&str) -> bool| params.get(name).is_none_or(ok);
    same("codEtu", &|v| cod_etu(v) == Some(f.cod_etu))
        && same("codInd", &|v| v.parse::<i64>().ok() == Some(f.cod_ind))
        && same("numINE", &|v| {
            f.ine.as_deref() == Some(ine::normalize(v).as_str())
        })
        && identity(params)
            .ok()
            .flatten()
            .is_none_or(|k| k == f.match_key)
}

/// `recupererIdentifiantsEtudiant_v2` → `IdentifiantsEtudiantDTO2`.
pub fn identifiants(
    file: Option<&StudentFile>,
    _: &Referential,
    params: &Params,
) -> Result<Vec<Obj>, Error> {
    let f = found(file)?;
    if !coherent(f, params) {
        return Err(unknown_student());
    }
    let mut o = Obj::new(&etu::IdentifiantsEtudiantDTO2);
    o.set("codEtu", txt(f.cod_etu.to_string()))
        .set("codInd", txt(f.cod_ind.to_string()))
        .set("numeroINE", opt(f.ine.as_deref()));
    Ok(vec![o])
}

fn date_time(d: NaiveDate) -> String {
    d.format("%Y-%m-%dT00:00:00").to_string()
}

/// The label `col` of the referential row `key` of `table`.
fn label(r: &Referential, table: &str, key: Option<&str>, col: &str) -> Val {
    opt(key
        .and_then(|k| r.get(table, &[k]))
        .and_then(|rec| text(rec, col))
        .as_deref())
}

/// A block of `dto` with the code in `code_field` and, in `label_field`, the column `col` of the
/// referential row of `table` the code names; an empty block without a code.
fn named(
    r: &Referential,
    dto: &'static Dto,
    code: Option<&str>,
    code_field: &str,
    (label_field, table, col): (&str, &str, &str),
) -> Val {
    coded(
        dto,
        code,
        &[
            (code_field, opt(code)),
            (label_field, label(r, table, code, col)),
        ],
    )
}

/// A block with its code and label, or an empty block without a code.
fn coded(dto: &'static Dto, code: Option<&str>, pairs: &[(&str, Val)]) -> Val {
    match code {
        Some(_) => block(dto, pairs),
        None => empty(dto),
    }
}

fn bac_item(b: &Bac, r: &Referential, v4: bool) -> Obj {
    let dto = if v4 {
        &etu::IndBacDTO2
    } else {
        &etu::IndBacDTO
    };
    let mut o = Obj::new(dto);
    let dep = b.cod_dep.as_deref();
    let etb = b.cod_etb.as_deref();
    let mnb = b.cod_mnb.as_deref();
    o.set(
        "libelleBac",
        label(r, "bacs", b.cod_bac.as_deref(), "libBac"),
    )
    .set("anneeObtentionBac", opt(b.daa_obt_bac.as_deref()))
    .set("codBac", opt(b.cod_bac.as_deref()))
    .set(
        "departementBac",
        named(
            r,
            &etu::DepartementCourtDTO,
            dep,
            "codeDept",
            ("libDept", "departements", "libDep"),
        ),
    )
    .set(
        "etbBac",
        named(
            r,
            &etu::EtablissementDTO,
            etb,
            "codeEtb",
            ("libEtb", "etablissements", "libEtb"),
        ),
    )
    .set(
        "mentionBac",
        named(
            r,
            &etu::MentionNivBacDTO,
            mnb,
            "codMention",
            ("libMention", "mentions-bac", "libMnb"),
        ),
    )
    .set(
        "typeEtbBac",
        coded(
            &etu::TypeEtablissementDTO,
            b.cod_tpe.as_deref(),
            &[("codTypeEtb", opt(b.cod_tpe.as_deref()))],
        ),
    );
    if v4 {
        o.set("codSpe1Bac", opt(b.cod_spe1_bac.as_deref()))
            .set("codSpe2Bac", opt(b.cod_spe2_bac.as_deref()))
            .set("codSpeBacPre", opt(b.cod_spe_bac_pre.as_deref()))
            .set("codOpt1Bac", opt(b.cod_opt1_bac.as_deref()))
            .set("codOpt2Bac", opt(b.cod_opt2_bac.as_deref()))
            .set("codOpt3Bac", opt(b.cod_opt3_bac.as_deref()))
            .set("codOpt4Bac", opt(b.cod_opt4_bac.as_deref()));
    }
    o
}

fn infos_adm(f: &StudentFile, r: &Referential, dto: &'static Dto, v4: bool) -> Obj {
    let blocages = f
        .blocages
        .iter()
        .map(|b| {
            let mut o = Obj::new(&etu::BlocageDTO);
            o.set("codBlocage", txt(&b.cod_blo))
                .set("libBlocage", opt(b.lib_blo.as_deref()))
                .set(
                    "typBlocage",
                    block(&etu::TypeBlocageDTO, &[("codTypBlocage", txt(&b.typ_blo))]),
                );
            o
        })
        .collect();
    let none = Dossier::default();
    let d = f.dossier.as_ref().unwrap_or(&none);
    let bacs = d.bacs.iter().map(|b| bac_item(b, r, v4)).collect();
    let born_in_france = d.cod_typ_dep_pay_nai.as_deref() == Some("D");
    let dep = d.cod_dep_pay_nai.as_deref().filter(|_| born_in_france);
    let pays = if born_in_france {
        Some("100")
    } else {
        d.cod_dep_pay_nai.as_deref()
    };
    let nat = d.cod_pay_nat.as_deref();
    let etb = d.cod_etb_pre_univ.as_deref();
    let mut o = Obj::new(dto);
    o.set("anneePremiereInscEnsSup", opt(d.daa_ens_sup.as_deref()))
        .set("anneePremiereInscEtb", opt(d.daa_ent_etb.as_deref()))
        .set("anneePremiereInscEtr", opt(d.daa_etr_sup.as_deref()))
        .set("anneePremiereInscUniv", opt(d.daa_etb.as_deref()))
        .set("listeBacs", Val::List(bacs))
        .set("listeBlocages", Val::List(blocages))
        .set("dateNaissance", txt(date_time(f.date_nai)))
        .set(
            "departementNaissance",
            coded(
                &etu::DepartementDTO,
                dep,
                &[
                    ("codeDept", opt(dep)),
                    ("libDept", label(r, "departements", dep, "libDep")),
                    ("temEnSveDept", label(r, "departements", dep, "temEnSveDep")),
                ],
            ),
        )
        .set(
            "etbPremiereInscUniv",
            named(
                r,
                &etu::EtablissementDTO,
                etb,
                "codeEtb",
                ("libEtb", "etablissements", "libEtb"),
            ),
        )
        .set(
            "handicap",
            match d.cod_thp.as_deref() {
                Some(h) => block(&etu::TypHandicapCourtDTO, &[("codeHandicap", txt(h))]),
                None => Val::Nil,
            },
        )
        .set("libVilleNaissance", opt(d.lib_vil_nai_etu.as_deref()))
        .set(
            "nationaliteDTO",
            named(
                r,
                &etu::NationaliteDTO,
                nat,
                "codeNationalite",
                ("libNationalite", "pays", "libNat"),
            ),
        )
        .set("nomPatronymique", txt(&f.nom_pat))
        .set("nomUsuel", opt(f.nom_usu.as_deref()))
        .set("numEtu", txt(f.cod_etu.to_string()))
        .set("numeroINE", opt(f.ine.as_deref()))
        .set(
            "paysNaissance",
            named(
                r,
                &etu::PaysDTO,
                pays,
                "codPay",
                ("libPay", "pays", "libPay"),
            ),
        )
        .set("prenom1", txt(&f.prenom1))
        .set("prenom2", opt(d.lib_pr2_ind.as_deref()))
        .set("prenom3", opt(d.lib_pr3_ind.as_deref()))
        .set("sexe", opt(d.cod_sex_etu.as_deref()))
        .set("sexEtatCivil", opt(d.cod_sex_etu.as_deref()))
        .set(
            "situationFamiliale",
            match d.cod_fam.as_deref() {
                Some(c) => block(&etu::SitFamCourtDTO, &[("codeFam", txt(c))]),
                None => Val::Nil,
            },
        )
        .set(
            "situationMilitaire",
            match d.cod_sim.as_deref() {
                Some(c) => block(&etu::SitMilCourtDTO, &[("codeMil", txt(c))]),
                None => Val::Nil,
            },
        )
        .set("temoinDateNaissEstimee", opt(d.tem_date_nai_rel.as_deref()));
    o
}

/// `recupererInfosAdmEtu_v4` → `InfoAdmEtuDTO4`.
pub fn infos_adm_v4(
    file: Option<&StudentFile>,
    r: &Referential,
    _: &Params,
) -> Result<Vec<Obj>, Error> {
    Ok(vec![infos_adm(found(file)?, r, &etu::InfoAdmEtuDTO4, true)])
}

/// `recupererInfosAdmEtu_v3` → `InfoAdmEtuDTO3` (v4 without the bac spécialités, §3.4).
pub fn infos_adm_v3(
    file: Option<&StudentFile>,
    r: &Referential,
    _: &Params,
) -> Result<Vec<Obj>, Error> {
    Ok(vec![infos_adm(
        found(file)?,
        r,
        &etu::InfoAdmEtuDTO3,
        false,
    )])
}

/// A year parameter: `Ok(None)` every year (absent, `toutes`, and `0` as esup-mdw sends when
/// it knows none), `Ok(Some(y))` one year.
fn year(params: &Params, name: &str) -> Result<Option<String>, Error> {
    match params.get(name) {
        None | Some("0") => Ok(None),
        Some(v) if v.eq_ignore_ascii_case("toutes") || v.eq_ignore_ascii_case("tous") => Ok(None),
        Some(v) if is_year(v) => Ok(Some(v.to_owned())),
        Some(v) => Err(bad(name, v, "année aaaa ou « toutes » attendue")),
    }
}

fn no_iaa(f: &StudentFile) -> Error {
    Error::not_found(
        FaultKey::null_retrieve("findIAA"),
        format!(
            "Aucune inscription administrative annuelle pour l'étudiant {}",
            f.cod_etu
        ),
    )
}

fn address(a: Option<&Adresse>, r: &Referential) -> Val {
    let Some(a) = a else {
        return block(&etu::AdresseDTO2, &[("pays", empty(&etu::PaysDTO))]);
    };
    let com = a.cod_com.as_deref();
    let pay = a.cod_pay.as_deref();
    block(
        &etu::AdresseDTO2,
        &[
            (
                "commune",
                match com.or(a.cod_bdi.as_deref()) {
                    Some(_) => block(
                        &etu::CommuneDTO2,
                        &[
                            ("codeInsee", opt(com)),
                            ("codePostal", opt(a.cod_bdi.as_deref())),
                            ("nomCommune", label(r, "communes", com, "libCom")),
                        ],
                    ),
                    None => Val::Nil,
                },
            ),
            ("libAd1", opt(a.lib_ad1.as_deref())),
            ("libAd2", opt(a.lib_ad2.as_deref())),
            ("libAd3", opt(a.lib_ad3.as_deref())),
            ("libAde", opt(a.lib_ade.as_deref())),
            ("numTel", opt(a.num_tel.as_deref())),
            (
                "pays",
                named(
                    r,
                    &etu::PaysDTO,
                    pay,
                    "codPay",
                    ("libPay", "pays", "libPay"),
                ),
            ),
        ],
    )
}

/// `recupererAdressesEtudiant_v2` → `CoordonneesDTO2`: the fixed address, the annual address of
/// the year (the one asked, or the latest yearly enrolment) with its accommodation type, the
/// e-mail and mobile phone of the file; empty blocks for what clients dereference when the file
/// has none; no yearly enrolment that year is `…nullretrieve.findIAA`.
pub fn adresses(
    file: Option<&StudentFile>,
    r: &Referential,
    params: &Params,
) -> Result<Vec<Obj>, Error> {
    let f = found(file)?;
    directory_flag(params, "recupAnnuaire")?;
    let wanted = year(params, "annee")?;
    let annee = f
        .iaa
        .iter()
        .rev()
        .map(|i| &i.cod_anu)
        .find(|y| wanted.as_ref().is_none_or(|w| w == *y))
        .ok_or_else(|| no_iaa(f))?;
    let none = Dossier::default();
    let d = f.dossier.as_ref().unwrap_or(&none);
    let annual = d.adresse_annuelle(Some(annee)).map(|a| &a.adresse);
    let thb = annual.and_then(|a| a.cod_thb.as_deref());
    let mut o = Obj::new(&etu::CoordonneesDTO2);
    o.set(
        "typeHebergement",
        coded(
            &etu::TypeHebergementCourtDTO,
            thb,
            &[("codTypeHebergement", opt(thb))],
        ),
    )
    .set("adresseAnnuelle", address(annual, r))
    .set("adresseFixe", address(d.adresse_fixe.as_ref(), r))
    .set("email", opt(d.adr_mail.as_deref()))
    .set("numTelPortable", opt(d.num_tel_por.as_deref()))
    .set("annee", txt(annee));
    Ok(vec![o])
}

/// A state filter (`E`, `A`, `R` combinable, `ARE` = all; absent = all).
fn states(params: &Params, name: &str, allowed: &str) -> Result<Option<String>, Error> {
    match params.get(name) {
        None => Ok(None),
        Some(v) => {
            let up = v.to_ascii_uppercase();
            if up.chars().all(|c| allowed.contains(c)) {
                Ok(Some(up))
            } else {
                Err(bad(name, v, &format!("lettres parmi {allowed} attendues")))
            }
        }
    }
}

fn passes(filter: &Option<String>, state: &str) -> bool {
    filter.as_ref().is_none_or(|f| f.contains(state))
}

/// `recupererAnneesIa` → the years of the yearly enrolments in the states asked, distinct and
/// ascending; none (or an unknown student) is an empty answer (§10.3).
pub fn annees_ia(
    file: Option<&StudentFile>,
    _: &Referential,
    params: &Params,
) -> Result<Vec<Obj>, Error> {
    let filter = states(params, "etatInscriptionIA", "EAR")?;
    let mut years: Vec<&str> = file
        .into_iter()
        .flat_map(|f| &f.iaa)
        .filter(|i| passes(&filter, &i.eta_iaa))
        .map(|i| i.cod_anu.as_str())
        .collect();
    years.sort_unstable();
    years.dedup();
    Ok(years
        .into_iter()
        .map(|y| {
            let mut o = Obj::new(&adm::AnneeIa);
            o.set("annee", txt(y));
            o
        })
        .collect())
}

fn etat_iaa_label(code: &str) -> Option<&'static str> {
    match code {
        "E" => Some("En cours"),
        "A" => Some("Annulée"),
        "R" => Some("Résiliée"),
        _ => None,
    }
}

fn etat_iaa(code: &str) -> Val {
    block(
        &adm::EtatIAADTO,
        &[
            ("codeEtatIAA", txt(code)),
            ("libEtatIAA", opt(etat_iaa_label(code))),
        ],
    )
}

/// `recupererIAAnnuelles_v2` → one `InsAdmAnuDTO2` per yearly enrolment of the year (or every
/// year) in the states asked; none is `…nullretrieve.findIAA`.
pub fn ia_annuelles(
    file: Option<&StudentFile>,
    referential: &Referential,
    params: &Params,
) -> Result<Vec<Obj>, Error> {
    let f = found(file)?;
    let wanted = year(params, "annee")?;
    let filter = states(params, "etatIAA", "EAR")?;
    let items: Vec<Obj> = f
        .iaa
        .iter()
        .filter(|i| wanted.as_ref().is_none_or(|w| *w == i.cod_anu))
        .filter(|i| passes(&filter, &i.eta_iaa))
        .map(|i| {
            let rec = f.iaa_record(&i.cod_anu);
            let mut o = Obj::new(&adm::InsAdmAnuDTO2);
            o.set("anneeIAA", txt(&i.cod_anu))
                .set("etatIaa", etat_iaa(&i.eta_iaa))
                .set("regimeIns", regime(referential, rec))
                .set(
                    "statut",
                    named(
                        referential,
                        &adm::StatutEtuDTO,
                        rec.and_then(|x| x.cod_stu.as_deref()),
                        "code",
                        ("libelle", "statuts", "libStu"),
                    ),
                );
            if let Some(day) = rec.and_then(|r| r.date) {
                o.set("dateIAA", txt(date_time(day)));
            }
            o
        })
        .collect();
    if items.is_empty() {
        return Err(no_iaa(f));
    }
    Ok(items)
}

fn etat_iae_label(code: &str) -> Option<&'static str> {
    match code {
        "C" => Some("En création"),
        other => etat_iaa_label(other),
    }
}

/// (`codeInscriptionPayee`, `inscriptionPayee`): never nil (§11.9).
fn payment(state: Option<&str>) -> (&'static str, &'static str) {
    match state {
        Some("P") => ("P", "Paiement effectué"),
        Some("A") => ("A", "En attente de paiement"),
        _ => ("N", "Non payée"),
    }
}

/// The étape, diploma, composante and centre de gestion blocks of an étape enrolment, from the
/// referential (empty blocks when it does not know the étape). The diploma is the version the
/// enrolment recorded (`vdi`), else the first the referential links to the VET.
fn offer(referential: &Referential, iae: &Iae, vdi: Option<&(String, i32)>, o: &mut Obj) {
    let vrs = iae.cod_vrs_vet.to_string();
    let etp = iae.cod_etp.as_str();
    let find = |table: &str, pairs: &[(&str, &str)]| {
        referential
            .rows(table)
            .filter(|r| pairs.iter().all(|(c, v)| text(r, c).as_deref() == Some(*v)))
            .min_by_key(|r| r.key())
    };
    let etape = find("etapes", &[("codEtp", etp)]);
    let vet = find("versions-etape", &[("codEtp", etp), ("codVrsVet", &vrs)]);
    o.set(
        "etape",
        block(
            &adm::EtapeDTO,
            &[
                ("codeEtp", txt(etp)),
                (
                    "libLongEtp",
                    opt(etape.and_then(|r| text(r, "libEtp")).as_deref()),
                ),
                (
                    "libWebVet",
                    opt(vet.and_then(|r| text(r, "libWebVet")).as_deref()),
                ),
                ("versionEtp", txt(&vrs)),
            ],
        ),
    );
    let recorded = vdi.map(|(dip, v)| (dip.clone(), v.to_string()));
    let linked = || {
        find("vdi-vet", &[("codEtp", etp), ("codVrsVet", &vrs)]).map(|l| {
            (
                text(l, "codDip").unwrap_or_default(),
                text(l, "codVrsVdi").unwrap_or_default(),
            )
        })
    };
    let diplome = recorded.or_else(linked).map_or_else(
        || empty(&adm::DiplomeDTO),
        |(dip, vdi)| {
            let d = find("diplomes", &[("codDip", &dip)]);
            let v = find("versions-diplome", &[("codDip", &dip), ("codVrsVdi", &vdi)]);
            block(
                &adm::DiplomeDTO,
                &[
                    ("codeDiplome", txt(&dip)),
                    (
                        "libLongDiplome",
                        opt(d.and_then(|r| text(r, "libDip")).as_deref()),
                    ),
                    ("libVdi", opt(v.and_then(|r| text(r, "libVdi")).as_deref())),
                    ("versionDiplome", txt(&vdi)),
                ],
            )
        },
    );
    o.set("diplome", diplome);
    let cge_link = find("etapes-cge", &[("codEtp", etp)]);
    let cge = cge_link.and_then(|r| text(r, "codCge"));
    let cmp = cge_link.and_then(|r| text(r, "codCmp"));
    let label = |table: &str, col: &str, code: &Option<String>, lib: &str| {
        code.as_deref()
            .and_then(|c| find(table, &[(col, c)]))
            .and_then(|r| text(r, lib))
    };
    o.set(
        "cge",
        block(
            &adm::CgeDTO,
            &[
                ("codeCGE", opt(cge.as_deref())),
                (
                    "libCGE",
                    opt(label("centres-gestion", "codCge", &cge, "libCge").as_deref()),
                ),
            ],
        ),
    )
    .set(
        "composante",
        block(
            &adm::ComposanteDTO,
            &[
                ("codComposante", opt(cmp.as_deref())),
                (
                    "libComposante",
                    opt(label("composantes", "codCmp", &cmp, "libCmp").as_deref()),
                ),
            ],
        ),
    );
}

/// `recupererIAEtapes_v3` → one `InsAdmEtpDTO3` per étape enrolment of the year (or every
/// year) whose yearly and étape states pass the filters; none is `…nullretrieve.findIAE`.
pub fn ia_etapes(
    file: Option<&StudentFile>,
    referential: &Referential,
    params: &Params,
) -> Result<Vec<Obj>, Error> {
    let f = found(file)?;
    let wanted = year(params, "annee")?;
    let iaa_filter = states(params, "etatIAA", "EAR")?;
    let iae_filter = states(params, "etatIAE", "EARC")?;
    let mut items = Vec::new();
    for iae in &f.iae {
        let iaa_state = f
            .iaa
            .iter()
            .find(|a| a.cod_anu == iae.cod_anu)
            .map(|a| a.eta_iaa.as_str());
        let keep = wanted.as_ref().is_none_or(|w| *w == iae.cod_anu)
            && iaa_state.is_none_or(|s| passes(&iaa_filter, s))
            && passes(&iae_filter, &iae.eta_iae);
        if !keep {
            continue;
        }
        let (code, label) = payment(iae.eta_pmt_iae.as_deref());
        let mut o = Obj::new(&adm::InsAdmEtpDTO3);
        o.set("anneeIAE", txt(&iae.cod_anu))
            .set(
                "etatIaa",
                iaa_state.map_or_else(|| empty(&adm::EtatIAADTO), etat_iaa),
            )
            .set(
                "etatIae",
                block(
                    &adm::EtatIAEDTO,
                    &[
                        ("codeEtatIAE", txt(&iae.eta_iae)),
                        ("libEtatIAE", opt(etat_iae_label(&iae.eta_iae))),
                    ],
                ),
            )
            .set("codeInscriptionPayee", txt(code))
            .set("inscriptionPayee", txt(label))
            .set("listeSpecialiteSISE", Val::List(Vec::new()))
            .set("regimeIns", regime(referential, f.iaa_record(&iae.cod_anu)));
        let rec = f.iae_record(iae);
        if let Some(day) = rec.and_then(|r| r.date) {
            o.set("dateIAE", txt(date_time(day)));
        }
        offer(referential, iae, rec.and_then(|r| r.vdi.as_ref()), &mut o);
        items.push(o);
    }
    if items.is_empty() {
        return Err(Error::not_found(
            FaultKey::null_retrieve("findIAE"),
            format!(
                "Aucune inscription administrative aux étapes pour l'étudiant {}",
                f.cod_etu
            ),
        ));
    }
    Ok(items)
}
