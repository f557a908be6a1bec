//! What an OPI push does to the stored OPI, decided here and carried out by storage: whether the
//! call is refused before anything is written (OPI-17), which stored OPI it lands on (OPI-3,
//! OPI-4), the duplicate warnings (OPI-6, REP-6), which blocks of the stored payload an update
//! keeps (OPI-10), and what happens to each stored vœu (OPI-15).

use super::check::Warning;
use super::dto::{DonneesOpi, Individu};
use super::rules::{AcceptedVoeu, Intake, RejectedVoeu, VoeuKey, VoeuxPlan, rejection_of};
use crate::error::{Error, FaultKey};
use crate::text::normalized_name;
use chrono::NaiveDate;
use serde::Serialize;

/// How a push found the OPI it updates (OPI-3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum MatchedBy {
    /// Same `codOpiIntEpo` (or one of its aliases).
    #[serde(rename = "codOpiIntEpo")]
    Code,
    /// Same `codEtuOpi` (OPI-3 step 2).
    #[serde(rename = "codEtuOpi")]
    CodEtu,
    /// Same INE (OPI-3 step 3).
    #[serde(rename = "ine")]
    Ine,
    /// No stored OPI: a new one.
    #[serde(rename = "created")]
    Created,
}

impl MatchedBy {
    /// `codOpiIntEpo`, `codEtuOpi`, `ine` or `created`.
    pub fn as_str(self) -> &'static str {
        match self {
            MatchedBy::Code => "codOpiIntEpo",
            MatchedBy::CodEtu => "codEtuOpi",
            MatchedBy::Ine => "ine",
            MatchedBy::Created => "created",
        }
    }
}

/// Options of a push.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Store the valid vœux when others are rejected (OPI-17).
    pub partial: bool,
    /// OPI-3 step 2.
    pub match_cod_etu: bool,
    /// OPI-3 step 3.
    pub match_ine: bool,
}

/// OPI-17: the vœux decide first whether anything is written at all.
pub fn early_rejection(intake: &Intake, partial: bool) -> Option<Error> {
    match &intake.voeux {
        VoeuxPlan::Replace { accepted, rejected }
            if !rejected.is_empty() && (!partial || accepted.is_empty()) =>
        {
            rejection_of(rejected)
        }
        _ => None,
    }
}

/// The identity of a stored OPI person, as the match rules compare it.
#[derive(Debug, Clone, Copy)]
pub struct StoredIdentity<'a> {
    /// `COD_OPI_INT_EPO`.
    pub code: &'a str,
    /// Birth surname.
    pub nom_pat: &'a str,
    /// First name.
    pub prenom: &'a str,
    /// Birth date.
    pub date_naissance: NaiveDate,
}

/// OPI-4 safeguard: a stored person is the one sent when the birth date and the surname or the
/// first name agree.
pub fn same_person(stored: &StoredIdentity<'_>, intake: &Intake) -> bool {
    stored.date_naissance == intake.date_naissance
        && (normalized_name(stored.nom_pat) == normalized_name(&intake.nom_pat)
            || normalized_name(stored.prenom) == normalized_name(&intake.prenom))
}

/// OPI-3 steps 2–3: the stored OPIs carrying the `codEtuOpi` (or INE) sent. None: try the next
/// step; one: it is the OPI, if it is the same person; several: refused.
pub fn pick(
    by: MatchedBy,
    candidates: &[StoredIdentity<'_>],
    intake: &Intake,
) -> Result<Option<usize>, Error> {
    match candidates {
        [] => Ok(None),
        [one] if same_person(one, intake) => Ok(Some(0)),
        [one] => Err(Error::conflict(
            FaultKey::business_rule("doublon.identite"),
            format!(
                "Le {} envoyé désigne déjà l'OPI {} d'une autre personne (nom, prénom ou date de naissance différents) : rien n'a été enregistré",
                by.as_str(),
                one.code
            ),
        )),
        many => Err(Error::conflict(
            FaultKey::business_rule("doublon.indOpi"),
            format!(
                "Le {} envoyé désigne {} OPI différentes : rien n'a été enregistré",
                by.as_str(),
                many.len()
            ),
        )),
    }
}

/// What another stored OPI shares with the one pushed (OPI-6, REP-6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shared {
    /// The `codEtuOpi` sent.
    CodEtu(i64),
    /// The INE sent.
    Ine,
    /// Birth surname, first name and birth date.
    Identity,
}

/// `DOUBLON_SUSPECT` warnings: one per other OPI sharing `what` (never a rejection).
pub fn duplicate_warnings(what: Shared, others: &[String]) -> Vec<Warning> {
    others
        .iter()
        .map(|other| {
            let (field, message) = match what {
                Shared::CodEtu(etu) => (
                    "individu.codEtuOpi",
                    format!("Le codEtuOpi {etu} est aussi porté par l'OPI {other}"),
                ),
                Shared::Ine => (
                    "individu.etatCivil.codNneIndOpi",
                    format!("Cet INE est aussi porté par l'OPI {other}"),
                ),
                Shared::Identity => (
                    "individu.etatCivil",
                    format!("Même nom, prénom et date de naissance que l'OPI {other}"),
                ),
            };
            warning("DOUBLON_SUSPECT", field, message)
        })
        .collect()
}

/// Duplicates by identity are looked for on a new OPI and on one found by its code (REP-6 c).
pub fn looks_for_identity_duplicates(matched: Option<MatchedBy>) -> bool {
    matches!(matched, None | Some(MatchedBy::Code))
}

fn warning(code: &str, field: &str, message: String) -> Warning {
    Warning {
        code: code.into(),
        field: Some(field.to_owned()),
        message,
    }
}

/// `INE_EFFACE`: the stored INE is cleared by a civil status sent without one.
pub fn ine_erased(stored_ine: bool, intake: &Intake) -> Option<Warning> {
    let civil_status_sent = intake
        .donnees
        .individu
        .as_ref()
        .is_some_and(|i| i.etat_civil.is_some());
    (stored_ine && intake.ine.is_none() && civil_status_sent).then(|| {
        warning(
            "INE_EFFACE",
            "individu.etatCivil.codNneIndOpi",
            "L'INE enregistré est effacé : la requête n'en porte pas".into(),
        )
    })
}

/// `OPI_CODE_MODIFIE`: the push landed on the stored OPI `code` found by `by` (OPI-4).
pub fn code_changed(code: &str, by: MatchedBy) -> Warning {
    warning(
        "OPI_CODE_MODIFIE",
        "individu.codOpiIntEpo",
        format!(
            "Les données ont été rattachées à l'OPI existante {code} (même {}) : conserver ce numéro",
            by.as_str()
        ),
    )
}

fn keep<T: Clone>(new: &Option<T>, stored: Option<T>) -> Option<T> {
    if new.is_some() { new.clone() } else { stored }
}

/// OPI-10: present blocks replace the stored ones, absent blocks are kept; the stored code stays
/// and the vœux are stored apart.
pub fn merge(stored: DonneesOpi, new: &DonneesOpi) -> DonneesOpi {
    let si = stored.individu.unwrap_or_default();
    let ni = new.individu.clone().unwrap_or_default();
    let individu = Individu {
        cod_etu_opi: keep(&ni.cod_etu_opi, si.cod_etu_opi),
        cod_opi_int_epo: si.cod_opi_int_epo.or(ni.cod_opi_int_epo),
        dernier_dipl_obt: keep(&ni.dernier_dipl_obt, si.dernier_dipl_obt),
        dernier_etb_frequente: keep(&ni.dernier_etb_frequente, si.dernier_etb_frequente),
        donnees_naissance: keep(&ni.donnees_naissance, si.donnees_naissance),
        donnees_personnelles: keep(&ni.donnees_personnelles, si.donnees_personnelles),
        etat_civil: keep(&ni.etat_civil, si.etat_civil),
        inscription_parallele: keep(&ni.inscription_parallele, si.inscription_parallele),
        premiere_inscription: keep(&ni.premiere_inscription, si.premiere_inscription),
        prg_echange: keep(&ni.prg_echange, si.prg_echange),
        situation_ann_pre: keep(&ni.situation_ann_pre, si.situation_ann_pre),
    };
    DonneesOpi {
        adresse_annuelle: keep(&new.adresse_annuelle, stored.adresse_annuelle),
        adresse_fixe: keep(&new.adresse_fixe, stored.adresse_fixe),
        bac: keep(&new.bac, stored.bac),
        dac: keep(&new.dac, stored.dac),
        individu: Some(individu),
        voeux: None,
        donnees_these: keep(&new.donnees_these, stored.donnees_these),
    }
}

/// The `codEtuOpi` of a (merged) payload.
pub fn cod_etu_of(donnees: &DonneesOpi) -> Option<i64> {
    donnees
        .individu
        .as_ref()
        .and_then(|i| i.cod_etu_opi.as_deref())
        .and_then(|s| s.parse::<i64>().ok())
}

/// A vœu key and what happened to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct VoeuStatus {
    /// Key.
    #[serde(flatten)]
    pub key: VoeuKey,
    /// `created`, `updated`, `unchanged` (accepted); absent for kept/deleted lists.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<&'static str>,
    /// Warnings on this vœu.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<Warning>,
}

impl VoeuStatus {
    fn of(key: VoeuKey) -> Self {
        VoeuStatus {
            key,
            status: None,
            warnings: Vec::new(),
        }
    }
}

/// What happened to the vœux.
#[derive(Debug, Clone, Default, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VoeuxOutcome {
    /// Stored or confirmed.
    pub accepted: Vec<VoeuStatus>,
    /// Refused (partial mode only; otherwise the call failed).
    pub rejected: Vec<RejectedVoeu>,
    /// Stored vœux kept because the item sent for them was rejected (partial mode).
    pub kept: Vec<VoeuStatus>,
    /// Stored vœux deleted (withdrawn, or delete-all).
    pub deleted: Vec<VoeuStatus>,
}

/// A stored vœu, as the plan compares it.
#[derive(Debug, Clone)]
pub struct StoredVoeu {
    /// Key.
    pub key: VoeuKey,
    /// The stored DTO, JSON.
    pub donnees: String,
}

/// A write the vœux plan asks of storage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VoeuWrite<'a> {
    /// A new vœu.
    Insert(&'a AcceptedVoeu, String),
    /// A stored vœu replaced (its creation time and author kept).
    Replace(&'a AcceptedVoeu, String),
    /// A stored vœu withdrawn.
    Delete(VoeuKey),
    /// Every stored vœu withdrawn.
    DeleteAll,
}

/// The stored JSON of a vœu.
pub fn voeu_json(voeu: &super::dto::Voeu) -> Result<String, Error> {
    serde_json::to_string(voeu).map_err(|e| Error::internal(format!("sérialisation : {e}")))
}

/// OPI-15: the writes that turn the `stored` vœux into those of `plan`, and what the answer says
/// about each vœu.
pub fn plan_voeux<'a>(
    plan: &'a VoeuxPlan,
    stored: &[StoredVoeu],
) -> Result<(Vec<VoeuWrite<'a>>, VoeuxOutcome), Error> {
    let mut out = VoeuxOutcome::default();
    let mut writes = Vec::new();
    match plan {
        VoeuxPlan::Unchanged => {}
        VoeuxPlan::DeleteAll => {
            out.deleted = stored
                .iter()
                .map(|s| VoeuStatus::of(s.key.clone()))
                .collect();
            writes.push(VoeuWrite::DeleteAll);
        }
        VoeuxPlan::Replace { accepted, rejected } => {
            for a in accepted {
                let json = voeu_json(&a.voeu)?;
                let status = match stored.iter().find(|s| s.key == a.key) {
                    Some(s) if s.donnees == json => "unchanged",
                    Some(_) => {
                        writes.push(VoeuWrite::Replace(a, json));
                        "updated"
                    }
                    None => {
                        writes.push(VoeuWrite::Insert(a, json));
                        "created"
                    }
                };
                out.accepted.push(VoeuStatus {
                    key: a.key.clone(),
                    status: Some(status),
                    warnings: a.warnings.clone(),
                });
            }
            for s in stored {
                if accepted.iter().any(|a| a.key == s.key) {
                    continue;
                }
                if rejected.iter().any(|r| r.key.as_ref() == Some(&s.key)) {
                    out.kept.push(VoeuStatus::of(s.key.clone()));
                    continue;
                }
                writes.push(VoeuWrite::Delete(s.key.clone()));
                out.deleted.push(VoeuStatus::of(s.key.clone()));
            }
            out.rejected = rejected.clone();
        }
    }
    Ok((writes, out))
}

/// `PUT /api/v1/opi/{code}`: the code of the path goes into the payload; a payload naming
/// another code is refused.
pub fn set_code(donnees: &mut DonneesOpi, code: &str) -> Result<(), Error> {
    let individu = donnees.individu.get_or_insert_with(Default::default);
    match individu.cod_opi_int_epo.as_deref().map(str::trim) {
        None | Some("") => individu.cod_opi_int_epo = Some(code.to_owned()),
        Some(sent) if sent.eq_ignore_ascii_case(code.trim()) => {}
        Some(sent) => {
            return Err(Error::bad_request(
                "codOpiIntEpo",
                format!("Le code du chemin ({code}) et individu.codOpiIntEpo ({sent}) diffèrent"),
            ));
        }
    }
    Ok(())
}

/// OPI-21: an OPI is not deleted while laissez-passer reference it.
pub fn check_deletable(code: &str, laissez_passer: i64) -> Result<(), Error> {
    if laissez_passer > 0 {
        return Err(Error::conflict(
            FaultKey::new("functionnal", "bddrules", "integrite", "laissezPasser"),
            format!(
                "L'OPI {code} porte {laissez_passer} laissez-passer : supprimez-les d'abord (DELETE /api/v1/laissez-passer/…)"
            ),
        ));
    }
    Ok(())
}

/// The OPI `code` does not exist (the code is echoed trimmed, 20 characters at most).
pub fn unknown(code: &str) -> Error {
    Error::not_found(
        FaultKey::null_retrieve("codOpiIntEpo"),
        format!(
            "Aucune OPI pour le numéro {}",
            code.trim().chars().take(20).collect::<String>()
        ),
    )
}

/// The `_donneesOpi` element is absent or nil.
pub fn missing_payload() -> Error {
    Error::invalid_field(
        FaultKey::mandatory("_donneesOpi"),
        "CHAMP_OBLIGATOIRE",
        "_donneesOpi",
        "_donneesOpi est obligatoire",
    )
}
