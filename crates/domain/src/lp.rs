//! Laissez-passer (LP, `domain.md` §5): the 14 parameters of `mettreAJourLaissezPasserWS` (V1)
//! and `mettreAJourLaissezPasserWS_V2`, the rules LP-2 … LP-7 and the insertion warnings of LP-11
//! checked against the referential snapshot. The result is an [`LpIntake`]: the cleaned target,
//! key and attributes. Resolving the person (numOPI, codEtu) and the upsert (LP-8) are done by
//! `apogee-db`; the access rules of the admissions view (LP-12 … LP-15) are in [`access`]; the
//! student register read by those rules is in [`etudiant`].

pub mod access;
pub mod batch;
pub mod etudiant;

use crate::error::{Error, FaultKey, FieldError};
use crate::opi::Warning;
use crate::opi::check::Checker;
use crate::referential::Referential;
use crate::referential::Value;
use crate::referential::snapshot::CodeState;
use crate::text::present;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// A parameter: absent, nil, JSON null, or text (JSON numbers are accepted as text), read
/// like the OPI DTO's leaves.
pub use crate::opi::dto::Leaf;
pub(crate) use crate::opi::dto::leaf;

/// The 14 parameters of `mettreAJourLaissezPasserWS_V2` (V1 has the first 11, with a leading
/// underscore: the V1 names are accepted as aliases). Every parameter is kept as received text;
/// absent, nil, JSON null and blank all mean "no value".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(remote = "Self", rename_all = "camelCase", default)]
pub struct LpParams {
    /// `IAPRIMO` or `REINS`.
    #[serde(
        alias = "_typLpa",
        deserialize_with = "leaf",
        skip_serializing_if = "Option::is_none"
    )]
    pub typ_lpa: Leaf,
    /// Academic year.
    #[serde(
        alias = "_codAnu",
        deserialize_with = "leaf",
        skip_serializing_if = "Option::is_none"
    )]
    pub cod_anu: Leaf,
    /// OPI number (IAPRIMO).
    #[serde(
        rename = "numOPI",
        alias = "_numOPI",
        alias = "numOpi",
        deserialize_with = "leaf",
        skip_serializing_if = "Option::is_none"
    )]
    pub num_opi: Leaf,
    /// Student number (REINS).
    #[serde(
        alias = "_codEtu",
        deserialize_with = "leaf",
        skip_serializing_if = "Option::is_none"
    )]
    pub cod_etu: Leaf,
    /// Étape.
    #[serde(
        alias = "_codEtp",
        deserialize_with = "leaf",
        skip_serializing_if = "Option::is_none"
    )]
    pub cod_etp: Leaf,
    /// Version d'étape.
    #[serde(
        alias = "_codVrsVet",
        deserialize_with = "leaf",
        skip_serializing_if = "Option::is_none"
    )]
    pub cod_vrs_vet: Leaf,
    /// Diplôme.
    #[serde(
        alias = "_codDip",
        deserialize_with = "leaf",
        skip_serializing_if = "Option::is_none"
    )]
    pub cod_dip: Leaf,
    /// Version de diplôme.
    #[serde(
        alias = "_codVrsVdi",
        deserialize_with = "leaf",
        skip_serializing_if = "Option::is_none"
    )]
    pub cod_vrs_vdi: Leaf,
    /// Régime d'inscription.
    #[serde(
        alias = "_codRgi",
        deserialize_with = "leaf",
        skip_serializing_if = "Option::is_none"
    )]
    pub cod_rgi: Leaf,
    /// Statut étudiant.
    #[serde(
        alias = "_codStu",
        deserialize_with = "leaf",
        skip_serializing_if = "Option::is_none"
    )]
    pub cod_stu: Leaf,
    /// Free comment.
    #[serde(
        alias = "_libCmtLpa",
        deserialize_with = "leaf",
        skip_serializing_if = "Option::is_none"
    )]
    pub lib_cmt_lpa: Leaf,
    /// « Oui si » category (V2).
    #[serde(deserialize_with = "leaf", skip_serializing_if = "Option::is_none")]
    pub cod_cat_oui_si: Leaf,
    /// Motive of the « Oui si » category (V2).
    #[serde(deserialize_with = "leaf", skip_serializing_if = "Option::is_none")]
    pub mtf_cat: Leaf,
    /// Exemption / extra-EU fee category (V2).
    #[serde(deserialize_with = "leaf", skip_serializing_if = "Option::is_none")]
    pub cod_cat_exo_ext: Leaf,
}

crate::opi::dto::object_only!(LpParams);

impl LpParams {
    /// The parameters as a client that writes `0` for every unset number (PHP `SoapClient`)
    /// means them: `codVrsVdi` 0 without `codDip` is no diploma, `codEtu` 0 no student number
    /// ([`crate::text::unset_zero`]). `codDip` with `codVrsVdi` 0 stays, and LP-6 refuses it.
    pub fn without_unset_numbers(&self) -> LpParams {
        let mut p = self.clone();
        crate::text::unset_zero(&mut p.cod_vrs_vdi, p.cod_dip.as_deref());
        crate::text::unset_zero(&mut p.cod_etu, None);
        p
    }
}

/// Which operation carried the LP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum LpVersion {
    /// `mettreAJourLaissezPasserWS`: 11 parameters; the V2-only attributes are left unchanged
    /// (LP-2).
    V1,
    /// `mettreAJourLaissezPasserWS_V2` and REST: 14 parameters.
    V2,
}

/// LP type (LP-3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "UPPERCASE")]
pub enum TypLpa {
    /// First enrolment: the person is an OPI, identified by `numOPI`.
    Iaprimo,
    /// Re-enrolment: the person is a known student, identified by `codEtu`.
    Reins,
}

impl TypLpa {
    /// `IAPRIMO` or `REINS`.
    pub fn as_str(self) -> &'static str {
        match self {
            TypLpa::Iaprimo => "IAPRIMO",
            TypLpa::Reins => "REINS",
        }
    }

    /// The type named `value` (trimmed, case-insensitive).
    pub fn parse(value: &str) -> Option<Self> {
        match value.trim().to_ascii_uppercase().as_str() {
            "IAPRIMO" => Some(TypLpa::Iaprimo),
            "REINS" => Some(TypLpa::Reins),
            _ => None,
        }
    }

    /// The parameter that identifies the person for this type.
    pub fn identifier(self) -> &'static str {
        match self {
            TypLpa::Iaprimo => "numOPI",
            TypLpa::Reins => "codEtu",
        }
    }
}

/// The attributes an LP carries besides its key (the stored columns).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct LpAttributes {
    /// Diplôme.
    pub cod_dip: Option<String>,
    /// Version de diplôme.
    pub cod_vrs_vdi: Option<i32>,
    /// Régime d'inscription.
    pub cod_rgi: Option<String>,
    /// Statut étudiant.
    pub cod_stu: Option<String>,
    /// Comment.
    pub lib_cmt_lpa: Option<String>,
    /// « Oui si » category.
    pub cod_cat_oui_si: Option<String>,
    /// Its motive.
    pub mtf_cat: Option<String>,
    /// Fee category.
    pub cod_cat_exo_ext: Option<String>,
}

impl LpAttributes {
    /// Each attribute by parameter name, as text (for comparisons and `LP_ATTRIBUT_EFFACE`).
    pub fn fields(&self) -> [(&'static str, Option<String>); 8] {
        [
            ("codDip", self.cod_dip.clone()),
            ("codVrsVdi", self.cod_vrs_vdi.map(|n| n.to_string())),
            ("codRgi", self.cod_rgi.clone()),
            ("codStu", self.cod_stu.clone()),
            ("libCmtLpa", self.lib_cmt_lpa.clone()),
            ("codCatOuiSi", self.cod_cat_oui_si.clone()),
            ("mtfCat", self.mtf_cat.clone()),
            ("codCatExoExt", self.cod_cat_exo_ext.clone()),
        ]
    }

    /// LP-2: the attributes a V1 call leaves on an existing LP (its three V2-only attributes
    /// keep their stored values).
    pub fn keep_v2_only(mut self, stored: &LpAttributes) -> LpAttributes {
        self.cod_cat_oui_si.clone_from(&stored.cod_cat_oui_si);
        self.mtf_cat.clone_from(&stored.mtf_cat);
        self.cod_cat_exo_ext.clone_from(&stored.cod_cat_exo_ext);
        self
    }
}

/// What the rules need besides the parameters.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// Referential snapshot.
    pub referential: &'a Referential,
    /// Today (enrolment windows, LP-11).
    pub today: NaiveDate,
}

/// An LP that passed LP-3 … LP-7: the person still has to be resolved (numOPI or codEtu).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LpIntake {
    /// Type.
    pub typ: TypLpa,
    /// `numOPI` as sent (trimmed), for IAPRIMO.
    pub num_opi: Option<String>,
    /// `codEtu`, for REINS.
    pub cod_etu: Option<i64>,
    /// Academic year.
    pub cod_anu: String,
    /// Étape.
    pub cod_etp: String,
    /// Version d'étape.
    pub cod_vrs_vet: i32,
    /// The attributes (V1: the three V2-only ones are absent and must be kept, LP-2).
    pub attributes: LpAttributes,
    /// The operation.
    pub version: LpVersion,
    /// Warnings (LP-3 ignored identifier, LP-11).
    pub warnings: Vec<Warning>,
}

impl LpIntake {
    /// The person's identifier as text (`numOPI` or `codEtu`).
    pub fn identifier(&self) -> String {
        match self.typ {
            TypLpa::Iaprimo => self.num_opi.clone().unwrap_or_default(),
            TypLpa::Reins => self.cod_etu.map(|n| n.to_string()).unwrap_or_default(),
        }
    }

    /// The row's key in words, as [`label`] writes it.
    pub fn label(&self) -> String {
        key_label(
            Some(self.typ.as_str()),
            Some(self.typ),
            Some(&self.identifier()),
            Some(&self.cod_anu),
            Some(&self.cod_etp),
            Some(&self.cod_vrs_vet.to_string()),
        )
    }
}

fn key_label(
    typ_raw: Option<&str>,
    typ: Option<TypLpa>,
    ident: Option<&str>,
    anu: Option<&str>,
    etp: Option<&str>,
    vet: Option<&str>,
) -> String {
    let q = |v: Option<&str>| v.unwrap_or("?").to_owned();
    let person = match typ {
        Some(TypLpa::Iaprimo) => format!("OPI {}", q(ident)),
        Some(TypLpa::Reins) => format!("étudiant {}", q(ident)),
        None => q(ident),
    };
    format!(
        "Laissez-passer {} {person}, année {}, VET {}/{}",
        q(typ_raw),
        q(anu),
        q(etp),
        q(vet)
    )
}

/// The row's key in words (`Laissez-passer IAPRIMO OPI EC25A7K3Q9, année 2026, VET ETP01/1`):
/// every message of an LP starts with it, so that `lastErrorMsg`, shown to managers by bulk
/// tools, names the row it is about (LP-1). Only codes, never names.
pub fn label(p: &LpParams) -> String {
    let typ_raw = present(p.typ_lpa.as_deref()).map(str::to_ascii_uppercase);
    let typ = typ_raw.as_deref().and_then(TypLpa::parse);
    let ident = match typ {
        Some(TypLpa::Reins) => present(p.cod_etu.as_deref()),
        _ => present(p.num_opi.as_deref()).or(present(p.cod_etu.as_deref())),
    };
    key_label(
        typ_raw.as_deref(),
        typ,
        ident,
        present(p.cod_anu.as_deref()),
        present(p.cod_etp.as_deref()),
        present(p.cod_vrs_vet.as_deref()),
    )
}

/// Prefixes every message of an LP error with the row's key (LP-1).
pub fn with_label(mut err: Error, label: &str) -> Error {
    let prefix = |m: &str| {
        if m.starts_with("Laissez-passer ") {
            m.to_owned()
        } else {
            format!("{label} : {m}")
        }
    };
    err.message = prefix(&err.message);
    for e in &mut err.errors {
        e.message = prefix(&e.message);
    }
    err
}

/// `1` to `3` digits, as an integer.
fn version_number(c: &mut Checker, raw: &Option<String>, name: &str) -> Option<i32> {
    let v = present(raw.as_deref())?;
    if (1..=3).contains(&v.len()) && v.bytes().all(|b| b.is_ascii_digit()) {
        v.parse().ok()
    } else {
        c.invalid(
            "FORMAT",
            name,
            format!("{name} « {v} » doit compter 1 à 3 chiffres"),
        );
        None
    }
}

fn mandatory(c: &mut Checker, raw: &Option<String>, name: &str, what: &str) -> bool {
    if present(raw.as_deref()).is_some() {
        true
    } else {
        c.fail(
            FaultKey::mandatory(name),
            "CHAMP_OBLIGATOIRE",
            name,
            format!("{what} ({name}) est obligatoire"),
        );
        false
    }
}

fn date_of(rec: &crate::referential::Record, column: &str) -> Option<NaiveDate> {
    rec.get(column).and_then(Value::as_date)
}

/// The opening of a VET to web enrolment for a year and an LP type (LP-5, LP-14): `None` when
/// the VET is not opened (no `vet-ouvertures` row, or its CGE column for the type is null),
/// else whether today is inside the date window.
pub fn opening(
    r: &Referential,
    typ: TypLpa,
    cod_anu: &str,
    cod_etp: &str,
    cod_vrs_vet: i32,
    today: NaiveDate,
) -> Option<bool> {
    let rec = r.get(
        "vet-ouvertures",
        &[cod_anu, cod_etp, &cod_vrs_vet.to_string()],
    )?;
    let (cge, deb, fin) = match typ {
        TypLpa::Iaprimo => ("codCgeMinpVet", "datDebMinpVet", "datFinMinpVet"),
        TypLpa::Reins => ("codCgeMinVet", "datDebMinVet", "datFinMinVet"),
    };
    rec.get(cge).and_then(Value::as_text)?;
    Some(
        date_of(rec, deb).is_none_or(|d| today >= d)
            && date_of(rec, fin).is_none_or(|f| today <= f),
    )
}

/// Whether régime `cod_rgi` is authorised on the VET (`RGI_AUTORISER_VET`).
pub fn regime_allowed(r: &Referential, cod_etp: &str, cod_vrs_vet: i32, cod_rgi: &str) -> bool {
    r.contains("vet-regimes", &[cod_etp, &cod_vrs_vet.to_string(), cod_rgi])
}

/// The VET of an LP as read by LP-5.
struct Vet {
    cod_etp: Option<String>,
    cod_vrs_vet: Option<i32>,
    /// It exists and is in service.
    known: bool,
}

/// LP-3: the type (mandatory, `IAPRIMO` or `REINS`).
fn check_type(c: &mut Checker, p: &LpParams) -> Option<TypLpa> {
    match present(p.typ_lpa.as_deref()) {
        None => {
            c.fail(
                FaultKey::mandatory("typLpa"),
                "CHAMP_OBLIGATOIRE",
                "typLpa",
                "le type de laissez-passer (typLpa) est obligatoire : IAPRIMO ou REINS",
            );
            None
        }
        Some(v) => {
            let t = TypLpa::parse(v);
            if t.is_none() {
                c.invalid(
                    "VALEUR_INVALIDE",
                    "typLpa",
                    format!("type de laissez-passer « {v} » inconnu : IAPRIMO (primo-inscription, numOPI) ou REINS (réinscription, codEtu)"),
                );
            }
            t
        }
    }
}

/// LP-3: the person's identifier for the type (`numOPI` or `codEtu`); the other one is ignored
/// with warning `LP_IDENTIFIANT_IGNORE`.
fn check_person(
    c: &mut Checker,
    p: &LpParams,
    typ: Option<TypLpa>,
) -> (Option<String>, Option<i64>) {
    match typ {
        Some(TypLpa::Iaprimo) => {
            let num_opi = check_num_opi(c, p);
            if let Some(etu) = present(p.cod_etu.as_deref()) {
                c.warn(
                    "LP_IDENTIFIANT_IGNORE",
                    Some("codEtu"),
                    format!(
                        "codEtu {etu} ignoré : un laissez-passer IAPRIMO désigne l'OPI par numOPI"
                    ),
                );
            }
            (num_opi, None)
        }
        Some(TypLpa::Reins) => {
            let cod_etu = check_cod_etu(c, p);
            if let Some(num) = present(p.num_opi.as_deref()) {
                c.warn(
                    "LP_IDENTIFIANT_IGNORE",
                    Some("numOPI"),
                    format!("numOPI {num} ignoré : un laissez-passer REINS désigne l'étudiant par codEtu"),
                );
            }
            (None, cod_etu)
        }
        None => (None, None),
    }
}

/// `numOPI`: mandatory, 10 letters or digits at most.
fn check_num_opi(c: &mut Checker, p: &LpParams) -> Option<String> {
    if !mandatory(c, &p.num_opi, "numOPI", "le numéro d'OPI") {
        return None;
    }
    let v = present(p.num_opi.as_deref()).unwrap_or_default();
    if v.chars().count() <= 10 && v.chars().all(|ch| ch.is_ascii_alphanumeric()) {
        Some(v.to_owned())
    } else {
        c.invalid(
            "FORMAT",
            "numOPI",
            format!("numOPI « {v} » : 10 lettres ou chiffres au plus"),
        );
        None
    }
}

/// `codEtu`: mandatory, 1 to 8 digits.
fn check_cod_etu(c: &mut Checker, p: &LpParams) -> Option<i64> {
    if !mandatory(c, &p.cod_etu, "codEtu", "le numéro d'étudiant") {
        return None;
    }
    let v = present(p.cod_etu.as_deref()).unwrap_or_default();
    match crate::formats::cod_etu(v) {
        Some(n) => Some(n),
        None => {
            c.invalid(
                "FORMAT",
                "codEtu",
                format!("codEtu « {v} » : numéro d'étudiant de 1 à 8 chiffres attendu"),
            );
            None
        }
    }
}

/// LP-4: the year (mandatory, 4 digits, known and open to enrolment).
fn check_year(c: &mut Checker, r: &Referential, p: &LpParams) -> Option<String> {
    if !mandatory(c, &p.cod_anu, "codAnu", "l'année universitaire") {
        return None;
    }
    let v = present(p.cod_anu.as_deref()).unwrap_or_default();
    if v.len() != 4 || !v.bytes().all(|b| b.is_ascii_digit()) {
        c.invalid(
            "FORMAT",
            "codAnu",
            format!("codAnu « {v} » : année sur 4 chiffres attendue (ex. 2026)"),
        );
        return None;
    }
    match r.get("annees", &[v]) {
        None => {
            c.fail(
                FaultKey::null_retrieve("codAnu"),
                "REF_INCONNU",
                "codAnu",
                format!("l'année universitaire {v} n'existe pas dans le référentiel"),
            );
            None
        }
        Some(rec) if rec.get("etaAnuIae").and_then(Value::as_text).as_deref() != Some("O") => {
            c.invalid(
                "ANNEE_FERMEE",
                "codAnu",
                format!("l'année universitaire {v} n'est pas ouverte aux inscriptions"),
            );
            None
        }
        Some(_) => Some(v.to_owned()),
    }
}

/// LP-5: the VET (mandatory, known and in service) and its opening for the year and type.
fn check_vet(
    c: &mut Checker,
    ctx: &Context<'_>,
    p: &LpParams,
    typ: Option<TypLpa>,
    cod_anu: Option<&str>,
) -> Vet {
    let r = ctx.referential;
    let etp_ok = mandatory(c, &p.cod_etp, "codEtp", "l'étape");
    let vet_ok = mandatory(c, &p.cod_vrs_vet, "codVrsVet", "la version d'étape");
    let cod_etp = if etp_ok {
        c.text(&p.cod_etp, "codEtp", 6)
    } else {
        None
    };
    let cod_vrs_vet = if vet_ok {
        version_number(c, &p.cod_vrs_vet, "codVrsVet")
    } else {
        None
    };
    let mut known = false;
    if let (Some(etp), Some(vet)) = (&cod_etp, cod_vrs_vet) {
        if r.state("versions-etape", &[etp, &vet.to_string()]) != CodeState::InService {
            c.fail(
                FaultKey::null_retrieve("vet"),
                "VET_INCONNUE",
                "codEtp",
                format!("la version d'étape {etp}/{vet} est inconnue ou hors service"),
            );
        } else {
            known = true;
            if let (Some(anu), Some(t)) = (cod_anu, typ) {
                check_opening(c, ctx, t, anu, etp, vet);
            }
        }
    }
    Vet {
        cod_etp,
        cod_vrs_vet,
        known,
    }
}

/// LP-5, LP-11: the VET must be opened to web enrolment for the year and type; outside its
/// dates is only a warning (`LP_HORS_DATES`).
fn check_opening(c: &mut Checker, ctx: &Context<'_>, t: TypLpa, anu: &str, etp: &str, vet: i32) {
    match opening(ctx.referential, t, anu, etp, vet, ctx.today) {
        None => c.invalid(
            "VET_FERMEE",
            "codEtp",
            format!(
                "la version d'étape {etp}/{vet} n'est pas ouverte à l'inscription à distance {} pour {anu}",
                if t == TypLpa::Iaprimo { "des primo-entrants" } else { "en réinscription" }
            ),
        ),
        Some(false) => c.warn(
            "LP_HORS_DATES",
            Some("codEtp"),
            format!("Aujourd'hui est hors des dates d'inscription à distance de la VET {etp}/{vet} pour {anu} : l'inscription attendra leur ouverture"),
        ),
        Some(true) => {}
    }
}

/// LP-6: `codDip` and `codVrsVdi` both or neither; the VDI exists and contains the VET.
fn check_vdi(
    c: &mut Checker,
    r: &Referential,
    p: &LpParams,
    target: &Vet,
) -> (Option<String>, Option<i32>) {
    let cod_dip = c.text(&p.cod_dip, "codDip", 7);
    let cod_vrs_vdi = version_number(c, &p.cod_vrs_vdi, "codVrsVdi");
    let dip_sent = present(p.cod_dip.as_deref()).is_some();
    let vdi_sent = present(p.cod_vrs_vdi.as_deref()).is_some();
    if dip_sent != vdi_sent {
        c.invalid(
            "VDI_INCOHERENTE",
            "codDip",
            "codDip et codVrsVdi vont ensemble : les deux ou aucun",
        );
    } else if let (Some(dip), Some(vdi), Some(etp), Some(vet), true) = (
        &cod_dip,
        cod_vrs_vdi,
        &target.cod_etp,
        target.cod_vrs_vet,
        target.known,
    ) {
        let vdi_s = vdi.to_string();
        if !r.contains("versions-diplome", &[dip, &vdi_s])
            || !r.contains("vdi-vet", &[dip, &vdi_s, etp, &vet.to_string()])
        {
            c.invalid(
                "VDI_INCOHERENTE",
                "codDip",
                format!("la version de diplôme {dip}/{vdi} n'existe pas ou ne comprend pas la VET {etp}/{vet}"),
            );
        }
    }
    (cod_dip, cod_vrs_vdi)
}

/// LP-7: régime, statut, the V2-only categories (ignored in V1) and the comment. The VDI
/// attributes are left empty.
fn check_profile(
    c: &mut Checker,
    r: &Referential,
    p: &LpParams,
    version: LpVersion,
) -> LpAttributes {
    let cod_rgi = c.code_in(r, "regimes", &p.cod_rgi, "codRgi", 5, false);
    let cod_stu = c.code_in(r, "statuts", &p.cod_stu, "codStu", 5, false);
    let v2 = version == LpVersion::V2;
    let none = None;
    let (oui_si_raw, mtf_raw, exo_raw) = if v2 {
        (&p.cod_cat_oui_si, &p.mtf_cat, &p.cod_cat_exo_ext)
    } else {
        (&none, &none, &none)
    };
    let cod_cat_oui_si = c.code_in(r, "categories-oui-si", oui_si_raw, "codCatOuiSi", 5, false);
    let mtf_cat = c.text(mtf_raw, "mtfCat", 200);
    if mtf_cat.is_some() && present(oui_si_raw.as_deref()).is_none() {
        c.invalid(
            "VALEUR_INVALIDE",
            "mtfCat",
            "mtfCat (motif) n'a de sens qu'avec une catégorie « Oui si » (codCatOuiSi)",
        );
    }
    let cod_cat_exo_ext = c.code_in(r, "categories-exo-ext", exo_raw, "codCatExoExt", 5, false);
    let lib_cmt_lpa = c.text(&p.lib_cmt_lpa, "libCmtLpa", 200);
    LpAttributes {
        cod_dip: None,
        cod_vrs_vdi: None,
        cod_rgi,
        cod_stu,
        lib_cmt_lpa,
        cod_cat_oui_si,
        mtf_cat,
        cod_cat_exo_ext,
    }
}

/// LP-11: the régime is not authorised on the VET (warning `LP_REGIME_NON_AUTORISE`).
fn check_regime(c: &mut Checker, r: &Referential, cod_rgi: &Option<String>, target: &Vet) {
    if let (Some(rg), Some(etp), Some(vet), true) =
        (cod_rgi, &target.cod_etp, target.cod_vrs_vet, target.known)
        && !regime_allowed(r, etp, vet, rg)
    {
        c.warn(
            "LP_REGIME_NON_AUTORISE",
            Some("codRgi"),
            format!("Le régime {rg} n'est pas autorisé sur la VET {etp}/{vet} : l'inscription sera bloquée malgré le laissez-passer"),
        );
    }
}

/// Applies LP-3 … LP-7 (every failure listed, in rule order; the first names the fault) and
/// computes the warnings of LP-3 and LP-11 that need no stored data (`LP_IDENTIFIANT_IGNORE`,
/// `LP_HORS_DATES`, `LP_REGIME_NON_AUTORISE`). Every message names the row (LP-1).
pub fn validate(p: &LpParams, version: LpVersion, ctx: &Context<'_>) -> Result<LpIntake, Error> {
    let r = ctx.referential;
    let p = &p.without_unset_numbers();
    let mut c = Checker::default();
    let typ = check_type(&mut c, p);
    let (num_opi, cod_etu) = check_person(&mut c, p, typ);
    let cod_anu = check_year(&mut c, r, p);
    let target = check_vet(&mut c, ctx, p, typ, cod_anu.as_deref());
    let (cod_dip, cod_vrs_vdi) = check_vdi(&mut c, r, p, &target);
    let attributes = LpAttributes {
        cod_dip,
        cod_vrs_vdi,
        ..check_profile(&mut c, r, p, version)
    };
    check_regime(&mut c, r, &attributes.cod_rgi, &target);

    let label = label(p);
    if !c.errors.is_empty() {
        return Err(with_label(Error::validation(c.errors), &label));
    }
    let (Some(typ), Some(cod_anu), Some(cod_etp), Some(cod_vrs_vet)) =
        (typ, cod_anu, target.cod_etp, target.cod_vrs_vet)
    else {
        return Err(Error::internal("laissez-passer incomplet après validation"));
    };
    Ok(LpIntake {
        typ,
        num_opi,
        cod_etu,
        cod_anu,
        cod_etp,
        cod_vrs_vet,
        attributes,
        version,
        warnings: c.warnings,
    })
}

/// The fault of an unknown person (LP-3): `technical.data.nullretrieve.numOPI` or
/// `technical.data.nullretrieve.etudiant` (the key Apogée uses for an unknown student).
pub fn unknown_person(intake: &LpIntake) -> Error {
    let (key, message) = match intake.typ {
        TypLpa::Iaprimo => (
            FaultKey::null_retrieve("numOPI"),
            format!(
                "aucune OPI trouvée pour le numéro {} : l'OPI doit être transmise avant son laissez-passer",
                intake.identifier()
            ),
        ),
        TypLpa::Reins => (
            FaultKey::null_retrieve("etudiant"),
            format!("aucun étudiant de numéro {}", intake.identifier()),
        ),
    };
    let field = intake.typ.identifier();
    with_label(
        Error::validation(vec![FieldError::new(
            key,
            "PERSONNE_INCONNUE",
            Some(field.to_owned()),
            message,
        )]),
        &intake.label(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::referential::record::read_csv;
    use crate::referential::table;

    pub(crate) fn referential() -> Result<Referential, String> {
        referential_with(&[])
    }

    /// The test referential, plus `extra` tables (REST name, CSV).
    pub(crate) fn referential_with(extra: &[(&str, &str)]) -> Result<Referential, String> {
        let files = [
            (
                "annees",
                "codAnu,libAnu,etaAnuIae\n2025,2025/2026,N\n2026,2026/2027,O\n",
            ),
            (
                "versions-etape",
                "codEtp,codVrsVet,libVet,temEnSveVet\nETP01,1,L1,O\nETP02,1,L2,O\nETP02,2,L2 v2,O\nETP09,1,Ancienne,N\n",
            ),
            (
                "vet-ouvertures",
                "codAnu,codEtp,codVrsVet,codCgeMinpVet,datDebMinpVet,datFinMinpVet,codCgeMinVet,datDebMinVet,datFinMinVet\n\
                 2026,ETP01,1,CG1,2026-03-01,2027-08-31,CG1,2026-03-01,2027-08-31\n\
                 2026,ETP02,1,,,,CG1,2026-09-01,2027-08-31\n",
            ),
            ("versions-diplome", "codDip,codVrsVdi\nDIP01,1\nDIP02,1\n"),
            (
                "vdi-vet",
                "codDip,codVrsVdi,codEtp,codVrsVet\nDIP01,1,ETP01,1\nDIP01,1,ETP02,1\n",
            ),
            (
                "vet-regimes",
                "codEtp,codVrsVet,codRgi\nETP01,1,1\nETP01,1,2\n",
            ),
            (
                "regimes",
                "codRgi,libRgi,temEnSveRgi\n1,FI,O\n2,FC,O\n3,Reprise,O\n9,Ancien,N\n",
            ),
            ("statuts", "codStu,libStu,temEnSveStu\n01,Etudiant,O\n"),
            (
                "categories-oui-si",
                "codCatOuiSi,libCatOuiSi,temEnSveCatOuiSi\n01,Remise à niveau,O\n",
            ),
            (
                "categories-exo-ext",
                "codCatExoExt,libCatExoExt,temEnSveCatExoExt\n01,Boursier,O\n09,Ancien,N\n",
            ),
        ];
        let mut records = Vec::new();
        for (name, csv) in files.iter().chain(extra) {
            let t = table(name).ok_or_else(|| (*name).to_owned())?;
            for row in read_csv(t, csv.as_bytes()).map_err(|e| e.message)? {
                records.push(row.result.map_err(|e| format!("{name}: {e:?}"))?);
            }
        }
        Ok(Referential::from_records(1, records))
    }

    fn params(pairs: &[(&str, &str)]) -> Result<LpParams, serde_json::Error> {
        let map: serde_json::Map<String, serde_json::Value> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), serde_json::Value::String((*v).to_owned())))
            .collect();
        serde_json::from_value(serde_json::Value::Object(map))
    }

    fn base() -> Vec<(&'static str, &'static str)> {
        vec![
            ("typLpa", "IAPRIMO"),
            ("codAnu", "2026"),
            ("numOPI", "EC00000001"),
            ("codEtp", "ETP01"),
            ("codVrsVet", "1"),
        ]
    }

    fn with(
        mut pairs: Vec<(&'static str, &'static str)>,
        k: &'static str,
        v: &'static str,
    ) -> Vec<(&'static str, &'static str)> {
        pairs.retain(|(name, _)| *name != k);
        pairs.push((k, v));
        pairs
    }

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 6, 15).unwrap_or_default()
    }

    fn run(pairs: &[(&str, &str)], version: LpVersion) -> Result<Result<LpIntake, Error>, String> {
        let r = referential()?;
        let p = params(pairs).map_err(|e| e.to_string())?;
        Ok(validate(
            &p,
            version,
            &Context {
                referential: &r,
                today: today(),
            },
        ))
    }

    fn fault(pairs: &[(&str, &str)]) -> Result<String, String> {
        match run(pairs, LpVersion::V2)? {
            Ok(i) => Err(format!("accepted: {i:?}")),
            Err(e) => Ok(e.fault_key.to_string()),
        }
    }

    #[test]
    fn v1_names_and_json_numbers_are_read() -> Result<(), Box<dyn std::error::Error>> {
        let p: LpParams = serde_json::from_str(
            r#"{"_typLpa":"iaprimo","_codAnu":2026,"_numOPI":"EC1","_codEtu":"","_codVrsVet":1}"#,
        )?;
        assert_eq!(p.typ_lpa.as_deref(), Some("iaprimo"));
        assert_eq!(p.cod_anu.as_deref(), Some("2026"));
        assert_eq!(p.num_opi.as_deref(), Some("EC1"));
        assert_eq!(p.cod_vrs_vet.as_deref(), Some("1"));
        assert_eq!(present(p.cod_etu.as_deref()), None);
        Ok(())
    }

    #[test]
    fn php_zeros_next_to_an_empty_partner_are_absent() -> Result<(), String> {
        // PHP SoapClient: "" for every unset string, 0 for every unset integer.
        let php = with(
            with(with(base(), "codDip", ""), "codVrsVdi", "0"),
            "codEtu",
            "0",
        );
        let intake = run(&php, LpVersion::V1)?.map_err(|e| e.message)?;
        assert_eq!(
            (intake.attributes.cod_dip, intake.attributes.cod_vrs_vdi),
            (None, None)
        );
        assert!(
            intake.warnings.is_empty(),
            "codEtu 0 is no identifier: {:?}",
            intake.warnings
        );
        let without_dip = with(base(), "codVrsVdi", "0");
        assert!(run(&without_dip, LpVersion::V2)?.is_ok());
        // Real errors stay errors.
        let key = "technical.parameter.noncoherentinput.codDip";
        let dip_and_zero = with(with(base(), "codDip", "DIP01"), "codVrsVdi", "0");
        assert_eq!(fault(&dip_and_zero)?, key);
        let five_without_dip = with(with(base(), "codDip", ""), "codVrsVdi", "5");
        assert_eq!(fault(&five_without_dip)?, key);
        let reins_zero = with(with(base(), "typLpa", "REINS"), "codEtu", "0");
        assert_eq!(
            fault(&reins_zero)?,
            "technical.parameter.noncoherentinput.codEtuobligatoire"
        );
        Ok(())
    }

    #[test]
    fn json_arrays_are_not_parameters() {
        // Derived, `[]` would be an LP whose every attribute is cleared.
        assert!(serde_json::from_str::<LpParams>("[]").is_err());
        assert!(serde_json::from_str::<LpParams>(r#"["IAPRIMO", "2026"]"#).is_err());
    }

    #[test]
    fn a_valid_lp_is_cleaned() -> Result<(), String> {
        let pairs = with(
            with(with(base(), "codDip", " DIP01 "), "codVrsVdi", "001"),
            "codRgi",
            "1",
        );
        let intake = run(&pairs, LpVersion::V2)?.map_err(|e| e.message)?;
        assert_eq!(intake.typ, TypLpa::Iaprimo);
        assert_eq!(intake.num_opi.as_deref(), Some("EC00000001"));
        assert_eq!(intake.attributes.cod_dip.as_deref(), Some("DIP01"));
        assert_eq!(intake.attributes.cod_vrs_vdi, Some(1));
        assert!(intake.warnings.is_empty(), "{:?}", intake.warnings);
        assert_eq!(
            intake.label(),
            "Laissez-passer IAPRIMO OPI EC00000001, année 2026, VET ETP01/1"
        );
        Ok(())
    }

    #[test]
    fn every_rule_names_its_fault() -> Result<(), String> {
        let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
            (
                with(base(), "typLpa", "PRIMO"),
                "technical.parameter.noncoherentinput.typLpa",
            ),
            (
                with(base(), "typLpa", " "),
                "technical.parameter.noncoherentinput.typLpaobligatoire",
            ),
            (
                with(base(), "numOPI", ""),
                "technical.parameter.noncoherentinput.numOPIobligatoire",
            ),
            (
                with(base(), "numOPI", "EC-1"),
                "technical.parameter.noncoherentinput.numOPI",
            ),
            (
                with(with(base(), "typLpa", "REINS"), "codEtu", "123456789"),
                "technical.parameter.noncoherentinput.codEtu",
            ),
            (
                with(base(), "typLpa", "REINS"),
                "technical.parameter.noncoherentinput.codEtuobligatoire",
            ),
            (
                with(base(), "codAnu", "2025"),
                "technical.parameter.noncoherentinput.codAnu",
            ),
            (
                with(base(), "codAnu", "2031"),
                "technical.data.nullretrieve.codAnu",
            ),
            (
                with(base(), "codAnu", "26"),
                "technical.parameter.noncoherentinput.codAnu",
            ),
            (
                with(base(), "codEtp", "ETP99"),
                "technical.data.nullretrieve.vet",
            ),
            (
                with(base(), "codEtp", "ETP09"),
                "technical.data.nullretrieve.vet",
            ),
            (
                with(base(), "codVrsVet", "1234"),
                "technical.parameter.noncoherentinput.codVrsVet",
            ),
            (
                with(base(), "codEtp", "ETP02"),
                "technical.parameter.noncoherentinput.codEtp",
            ),
            (
                with(with(base(), "codEtp", "ETP02"), "codVrsVet", "2"),
                "technical.parameter.noncoherentinput.codEtp",
            ),
            (
                with(base(), "codDip", "DIP01"),
                "technical.parameter.noncoherentinput.codDip",
            ),
            (
                with(with(base(), "codDip", "DIP02"), "codVrsVdi", "1"),
                "technical.parameter.noncoherentinput.codDip",
            ),
            (
                with(base(), "codRgi", "7"),
                "technical.data.nullretrieve.codRgi",
            ),
            (
                with(base(), "codRgi", "9"),
                "technical.parameter.noncoherentinput.codRgi",
            ),
            (
                with(base(), "codStu", "77"),
                "technical.data.nullretrieve.codStu",
            ),
            (
                with(base(), "codCatOuiSi", "99"),
                "technical.data.nullretrieve.codCatOuiSi",
            ),
            (
                with(base(), "codCatExoExt", "09"),
                "technical.parameter.noncoherentinput.codCatExoExt",
            ),
            (
                with(base(), "mtfCat", "motif"),
                "technical.parameter.noncoherentinput.mtfCat",
            ),
            (
                with(base(), "codRgi", "123456"),
                "technical.parameter.noncoherentinput.codRgi",
            ),
        ];
        for (pairs, key) in cases {
            assert_eq!(fault(&pairs)?, key, "{pairs:?}");
        }
        let long = "x".repeat(201);
        let pairs = vec![
            ("typLpa", "IAPRIMO"),
            ("codAnu", "2026"),
            ("numOPI", "EC1"),
            ("codEtp", "ETP01"),
            ("codVrsVet", "1"),
            ("libCmtLpa", long.as_str()),
        ];
        assert_eq!(
            fault(&pairs)?,
            "technical.parameter.noncoherentinput.libCmtLpa"
        );
        Ok(())
    }

    #[test]
    fn messages_name_the_row_and_every_failure_is_listed() -> Result<(), String> {
        let pairs = with(with(base(), "codAnu", "2025"), "codRgi", "7");
        let err = run(&pairs, LpVersion::V2)?.err().ok_or("accepted")?;
        assert_eq!(err.errors.len(), 2);
        assert!(
            err.message
                .starts_with("Laissez-passer IAPRIMO OPI EC00000001, année 2025, VET ETP01/1 : "),
            "{}",
            err.message
        );
        assert!(err.message.contains("2025"), "{}", err.message);
        Ok(())
    }

    #[test]
    fn warnings_of_lp3_and_lp11() -> Result<(), String> {
        let pairs = with(with(base(), "codEtu", "12345"), "codRgi", "3");
        let intake = run(&pairs, LpVersion::V2)?.map_err(|e| e.message)?;
        let codes: Vec<&str> = intake.warnings.iter().map(|w| w.code.as_str()).collect();
        assert_eq!(
            codes,
            vec!["LP_IDENTIFIANT_IGNORE", "LP_REGIME_NON_AUTORISE"]
        );
        // REINS on ETP02/1 opens on 2026-09-01: prepared before the window, accepted with a warning.
        let pairs = vec![
            ("typLpa", "reins"),
            ("codAnu", "2026"),
            ("codEtu", "22512345"),
            ("numOPI", "EC1"),
            ("codEtp", "ETP02"),
            ("codVrsVet", "1"),
        ];
        let intake = run(&pairs, LpVersion::V2)?.map_err(|e| e.message)?;
        let codes: Vec<&str> = intake.warnings.iter().map(|w| w.code.as_str()).collect();
        assert_eq!(codes, vec!["LP_IDENTIFIANT_IGNORE", "LP_HORS_DATES"]);
        assert_eq!(intake.cod_etu, Some(22_512_345));
        assert_eq!(intake.num_opi, None);
        Ok(())
    }

    #[test]
    fn v1_ignores_the_v2_only_attributes() -> Result<(), String> {
        let pairs = with(with(base(), "codCatOuiSi", "99"), "codCatExoExt", "01");
        let intake = run(&pairs, LpVersion::V1)?.map_err(|e| e.message)?;
        assert_eq!(intake.attributes.cod_cat_oui_si, None);
        assert_eq!(intake.attributes.cod_cat_exo_ext, None);
        let stored = LpAttributes {
            cod_cat_exo_ext: Some("01".into()),
            mtf_cat: Some("m".into()),
            cod_rgi: Some("1".into()),
            ..LpAttributes::default()
        };
        let kept = intake.attributes.keep_v2_only(&stored);
        assert_eq!(kept.cod_cat_exo_ext.as_deref(), Some("01"));
        assert_eq!(kept.mtf_cat.as_deref(), Some("m"));
        assert_eq!(kept.cod_rgi, None, "V1 attributes are replaced");
        Ok(())
    }
}
