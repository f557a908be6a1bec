//! OPI storage: the upsert of one validated payload (OPI-3 … OPI-8, OPI-10, OPI-15, OPI-17),
//! reads, searches and explicit deletions. Runs inside the caller's transaction.

use crate::conn::AnyConnection;
use crate::error::WriteError;
use crate::schema::{opi_code_alias as al, opi_individu as oi, opi_voeu as ov};
use apogee_domain::error::{Error, FaultKey};
use apogee_domain::opi::dto::{DonneesOpi, Voeu, Voeux};
use apogee_domain::opi::{Intake, RejectedVoeu, VoeuKey, VoeuxPlan, Warning};
use apogee_domain::text::normalized_name;
use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::Serialize;

/// A stored OPI person.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = crate::schema::opi_individu)]
pub struct OpiRow {
    /// `COD_IND_OPI`.
    pub cod_ind_opi: i64,
    /// `COD_OPI_INT_EPO` as first received.
    pub cod_opi_int_epo: String,
    /// Upper-case copy (unique).
    pub cod_opi_int_epo_upper: String,
    /// `COD_ETU_OPI`.
    pub cod_etu_opi: Option<i64>,
    /// Normalised INE (11 characters).
    pub ine: Option<String>,
    /// INE family.
    pub ine_family: Option<String>,
    /// `ok`, `unverified`.
    pub ine_check: Option<String>,
    /// Birth surname.
    pub lib_nom_pat_ind_opi: String,
    /// Usage surname.
    pub lib_nom_usu_ind_opi: Option<String>,
    /// First name.
    pub lib_pr1_ind_opi: String,
    /// Birth date.
    pub date_nai_ind_opi: NaiveDate,
    /// Normalised surname + first name + birth date.
    pub match_key: String,
    /// The stored DTO (without vœux), JSON.
    pub donnees: String,
    /// DM-4.
    pub created_at: NaiveDateTime,
    /// DM-4.
    pub updated_at: NaiveDateTime,
    /// DM-4.
    pub created_by: Option<String>,
    /// DM-4.
    pub last_trace_id: Option<String>,
}

/// A stored vœu.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = crate::schema::opi_voeu)]
pub struct VoeuRow {
    /// Person.
    pub cod_ind_opi: i64,
    /// Key.
    pub cod_cge: String,
    /// Key.
    pub cod_etp: String,
    /// Key.
    pub cod_vrs_vet: i32,
    /// Rank.
    pub num_cls: Option<i32>,
    /// `C`/`T`.
    pub cod_dem_dos: Option<String>,
    /// `F`/`D`/`A`.
    pub cod_dec_veu: Option<String>,
    /// Diploma.
    pub cod_dip: Option<String>,
    /// Diploma version.
    pub cod_vrs_vdi: Option<i32>,
    /// Régime.
    pub cod_rge: Option<String>,
    /// Oui-si category.
    pub cod_cat_oui_si: Option<String>,
    /// Fee category.
    pub cod_cat_exo_ext: Option<String>,
    /// The vœu DTO, JSON.
    pub donnees: String,
    /// DM-4.
    pub created_at: NaiveDateTime,
    /// DM-4.
    pub updated_at: NaiveDateTime,
    /// DM-4.
    pub created_by: Option<String>,
    /// DM-4.
    pub last_trace_id: Option<String>,
}

impl VoeuRow {
    /// The vœu key.
    pub fn key(&self) -> VoeuKey {
        VoeuKey {
            cod_cge: self.cod_cge.clone(),
            cod_etp: self.cod_etp.clone(),
            cod_vrs_vet: self.cod_vrs_vet,
        }
    }
}

/// Options of the upsert.
#[derive(Debug, Clone, Copy)]
pub struct ApplyOptions {
    /// Store the valid vœux when others are rejected (OPI-17).
    pub partial: bool,
    /// OPI-3 step 2.
    pub match_cod_etu: bool,
    /// OPI-3 step 3.
    pub match_ine: bool,
}

pub use crate::Actor;

/// A vœu key and what happened to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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

/// What happened to the vœux.
#[derive(Debug, Clone, Default, Serialize)]
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

/// The result of one upsert.
#[derive(Debug, Clone)]
pub struct Applied {
    /// `COD_IND_OPI`.
    pub cod_ind_opi: i64,
    /// The code of the stored OPI (differs from the code sent after a merge, OPI-4).
    pub effective_code: String,
    /// The code sent.
    pub code_sent: String,
    /// A new OPI was created.
    pub created: bool,
    /// `codOpiIntEpo`, `codEtuOpi`, `ine` or `created`.
    pub matched_by: &'static str,
    /// Vœux.
    pub voeux: VoeuxOutcome,
    /// Warnings (individual and duplicates).
    pub warnings: Vec<Warning>,
}

fn to_json<T: Serialize>(v: &T) -> Result<String, WriteError> {
    serde_json::to_string(v)
        .map_err(|e| WriteError::Domain(Error::internal(format!("sérialisation : {e}"))))
}

fn from_json<T: serde::de::DeserializeOwned + Default>(s: &str) -> T {
    serde_json::from_str(s).unwrap_or_default()
}

/// Serialises calls for the same OPI on PostgreSQL (OPI-8); SQLite writes are serial already.
fn lock_code(conn: &mut AnyConnection, code_upper: &str) -> QueryResult<()> {
    if let AnyConnection::Postgresql(c) = conn {
        diesel::sql_query("SELECT pg_advisory_xact_lock(hashtext($1))")
            .bind::<diesel::sql_types::Text, _>(code_upper)
            .execute(c)?;
    }
    Ok(())
}

/// The OPI whose code or alias is `code` (case-insensitive).
pub fn find_by_code(conn: &mut AnyConnection, code: &str) -> QueryResult<Option<OpiRow>> {
    let upper = code.trim().to_uppercase();
    if let Some(row) = oi::table
        .filter(oi::cod_opi_int_epo_upper.eq(&upper))
        .select(OpiRow::as_select())
        .first(conn)
        .optional()?
    {
        return Ok(Some(row));
    }
    let target: Option<i64> = al::table
        .filter(al::alias_upper.eq(&upper))
        .select(al::cod_ind_opi)
        .first(conn)
        .optional()?;
    match target {
        Some(id) => oi::table
            .find(id)
            .select(OpiRow::as_select())
            .first(conn)
            .optional(),
        None => Ok(None),
    }
}

/// The stored vœux of a person, by key.
pub fn voeux_of(conn: &mut AnyConnection, cod_ind_opi: i64) -> QueryResult<Vec<VoeuRow>> {
    ov::table
        .filter(ov::cod_ind_opi.eq(cod_ind_opi))
        .order((
            ov::num_cls.asc(),
            ov::cod_cge.asc(),
            ov::cod_etp.asc(),
            ov::cod_vrs_vet.asc(),
        ))
        .select(VoeuRow::as_select())
        .load(conn)
}

/// Aliases recorded for a person.
pub fn aliases_of(conn: &mut AnyConnection, cod_ind_opi: i64) -> QueryResult<Vec<String>> {
    al::table
        .filter(al::cod_ind_opi.eq(cod_ind_opi))
        .order(al::alias.asc())
        .select(al::alias)
        .load(conn)
}

fn identity_matches(row: &OpiRow, intake: &Intake) -> bool {
    row.date_nai_ind_opi == intake.date_naissance
        && (normalized_name(&row.lib_nom_pat_ind_opi) == normalized_name(&intake.nom_pat)
            || normalized_name(&row.lib_pr1_ind_opi) == normalized_name(&intake.prenom))
}

fn keep<T: Clone>(new: &Option<T>, stored: Option<T>) -> Option<T> {
    if new.is_some() { new.clone() } else { stored }
}

/// OPI-10: present blocks replace the stored ones, absent blocks are kept.
fn merge(stored: DonneesOpi, new: &DonneesOpi) -> DonneesOpi {
    let si = stored.individu.unwrap_or_default();
    let ni = new.individu.clone().unwrap_or_default();
    let individu = apogee_domain::opi::dto::Individu {
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

fn warn(code: &str, field: Option<&str>, message: String) -> Warning {
    Warning {
        code: code.into(),
        field: field.map(str::to_owned),
        message,
    }
}

/// Upserts one validated payload (see the module docs for the rules applied).
pub fn apply(
    conn: &mut AnyConnection,
    intake: &Intake,
    opts: ApplyOptions,
    actor: Actor<'_>,
) -> Result<Applied, WriteError> {
    let code_upper = intake.code.to_uppercase();
    lock_code(conn, &code_upper)?;
    let mut warnings = intake.warnings.clone();

    // OPI-17: the vœux decide first whether anything is written at all.
    if let VoeuxPlan::Replace { accepted, rejected } = &intake.voeux
        && !rejected.is_empty()
        && (!opts.partial || accepted.is_empty())
        && let Some(err) = apogee_domain::opi::rules::rejection_of(rejected)
    {
        return Err(err.into());
    }

    // OPI-3: find the stored OPI.
    let mut matched_by = "codOpiIntEpo";
    let mut existing = find_by_code(conn, &intake.code)?;
    if existing.is_none() {
        let mut candidates: Vec<(&'static str, Vec<OpiRow>)> = Vec::new();
        if opts.match_cod_etu
            && let Some(etu) = intake.cod_etu_opi
        {
            candidates.push((
                "codEtuOpi",
                oi::table
                    .filter(oi::cod_etu_opi.eq(etu))
                    .select(OpiRow::as_select())
                    .load(conn)?,
            ));
        }
        if opts.match_ine
            && let Some(ine) = &intake.ine
        {
            candidates.push((
                "ine",
                oi::table
                    .filter(oi::ine.eq(&ine.value))
                    .select(OpiRow::as_select())
                    .load(conn)?,
            ));
        }
        for (by, rows) in candidates {
            match rows.len() {
                0 => continue,
                1 => {
                    let row = rows
                        .into_iter()
                        .next()
                        .ok_or(diesel::result::Error::NotFound)?;
                    if !identity_matches(&row, intake) {
                        return Err(Error::conflict(
                            FaultKey::business_rule("doublon.identite"),
                            format!("Le {by} envoyé désigne déjà l'OPI {} d'une autre personne (nom, prénom ou date de naissance différents) : rien n'a été enregistré", row.cod_opi_int_epo),
                        ).into());
                    }
                    matched_by = by;
                    existing = Some(row);
                    break;
                }
                n => {
                    return Err(Error::conflict(
                        FaultKey::business_rule("doublon.indOpi"),
                        format!(
                            "Le {by} envoyé désigne {n} OPI différentes : rien n'a été enregistré"
                        ),
                    )
                    .into());
                }
            }
        }
    } else if let Some(row) = &existing {
        // OPI-6: the codEtu or INE sent is carried by another OPI.
        if let Some(etu) = intake.cod_etu_opi {
            let others: Vec<String> = oi::table
                .filter(oi::cod_etu_opi.eq(etu))
                .filter(oi::cod_ind_opi.ne(row.cod_ind_opi))
                .select(oi::cod_opi_int_epo)
                .load(conn)?;
            for other in others {
                warnings.push(warn(
                    "DOUBLON_SUSPECT",
                    Some("individu.codEtuOpi"),
                    format!("Le codEtuOpi {etu} est aussi porté par l'OPI {other}"),
                ));
            }
        }
        if let Some(ine) = &intake.ine {
            let others: Vec<String> = oi::table
                .filter(oi::ine.eq(&ine.value))
                .filter(oi::cod_ind_opi.ne(row.cod_ind_opi))
                .select(oi::cod_opi_int_epo)
                .load(conn)?;
            for other in others {
                warnings.push(warn(
                    "DOUBLON_SUSPECT",
                    Some("individu.etatCivil.codNneIndOpi"),
                    format!("Cet INE est aussi porté par l'OPI {other}"),
                ));
            }
        }
    }
    // Duplicate suspects by identity (REP-6 c), never a rejection.
    if existing.is_none() || matched_by == "codOpiIntEpo" {
        let own = existing.as_ref().map_or(-1, |r| r.cod_ind_opi);
        let others: Vec<String> = oi::table
            .filter(oi::match_key.eq(&intake.match_key))
            .filter(oi::cod_ind_opi.ne(own))
            .select(oi::cod_opi_int_epo)
            .load(conn)?;
        for other in others {
            warnings.push(warn(
                "DOUBLON_SUSPECT",
                Some("individu.etatCivil"),
                format!("Même nom, prénom et date de naissance que l'OPI {other}"),
            ));
        }
    }

    let ine = intake.ine.as_ref();
    let created = existing.is_none();
    let (cod_ind_opi, effective_code) = match &existing {
        Some(row) => {
            let stored: DonneesOpi = from_json(&row.donnees);
            if row.ine.is_some()
                && ine.is_none()
                && intake
                    .donnees
                    .individu
                    .as_ref()
                    .is_some_and(|i| i.etat_civil.is_some())
            {
                warnings.push(warn(
                    "INE_EFFACE",
                    Some("individu.etatCivil.codNneIndOpi"),
                    "L'INE enregistré est effacé : la requête n'en porte pas".into(),
                ));
            }
            let merged = merge(stored, &intake.donnees);
            let cod_etu = merged
                .individu
                .as_ref()
                .and_then(|i| i.cod_etu_opi.as_deref())
                .and_then(|s| s.parse::<i64>().ok());
            diesel::update(oi::table.find(row.cod_ind_opi))
                .set((
                    oi::cod_etu_opi.eq(cod_etu),
                    oi::ine.eq(ine.map(|i| i.value.clone())),
                    oi::ine_family.eq(ine.map(|i| i.family.as_str().to_owned())),
                    oi::ine_check.eq(ine.map(|i| i.check.to_owned())),
                    oi::lib_nom_pat_ind_opi.eq(&intake.nom_pat),
                    oi::lib_nom_usu_ind_opi.eq(&intake.nom_usu),
                    oi::lib_pr1_ind_opi.eq(&intake.prenom),
                    oi::date_nai_ind_opi.eq(intake.date_naissance),
                    oi::match_key.eq(&intake.match_key),
                    oi::donnees.eq(to_json(&merged)?),
                    oi::updated_at.eq(actor.now),
                    oi::last_trace_id.eq(actor.trace_id),
                ))
                .execute(conn)?;
            if matched_by != "codOpiIntEpo" {
                warnings.push(warn(
                    "OPI_CODE_MODIFIE",
                    Some("individu.codOpiIntEpo"),
                    format!("Les données ont été rattachées à l'OPI existante {} (même {matched_by}) : conserver ce numéro", row.cod_opi_int_epo),
                ));
                let exists: i64 = al::table
                    .filter(al::alias_upper.eq(&code_upper))
                    .count()
                    .get_result(conn)?;
                if exists == 0 {
                    diesel::insert_into(al::table)
                        .values((
                            al::alias_upper.eq(&code_upper),
                            al::alias.eq(&intake.code),
                            al::cod_ind_opi.eq(row.cod_ind_opi),
                            al::created_at.eq(actor.now),
                        ))
                        .execute(conn)?;
                }
            }
            (row.cod_ind_opi, row.cod_opi_int_epo.clone())
        }
        None => {
            let mut stored = intake.donnees.clone();
            stored.voeux = None;
            diesel::insert_into(oi::table)
                .values((
                    oi::cod_opi_int_epo.eq(&intake.code),
                    oi::cod_opi_int_epo_upper.eq(&code_upper),
                    oi::cod_etu_opi.eq(intake.cod_etu_opi),
                    oi::ine.eq(ine.map(|i| i.value.clone())),
                    oi::ine_family.eq(ine.map(|i| i.family.as_str().to_owned())),
                    oi::ine_check.eq(ine.map(|i| i.check.to_owned())),
                    oi::lib_nom_pat_ind_opi.eq(&intake.nom_pat),
                    oi::lib_nom_usu_ind_opi.eq(&intake.nom_usu),
                    oi::lib_pr1_ind_opi.eq(&intake.prenom),
                    oi::date_nai_ind_opi.eq(intake.date_naissance),
                    oi::match_key.eq(&intake.match_key),
                    oi::donnees.eq(to_json(&stored)?),
                    oi::created_at.eq(actor.now),
                    oi::updated_at.eq(actor.now),
                    oi::created_by.eq(actor.client),
                    oi::last_trace_id.eq(actor.trace_id),
                ))
                .execute(conn)?;
            let id: i64 = oi::table
                .filter(oi::cod_opi_int_epo_upper.eq(&code_upper))
                .select(oi::cod_ind_opi)
                .first(conn)?;
            if id > 99_999_999 {
                return Err(Error::internal("séquence COD_IND_OPI épuisée (99 999 999)").into());
            }
            (id, intake.code.clone())
        }
    };

    let voeux = apply_voeux(conn, cod_ind_opi, created, &intake.voeux, actor)?;
    Ok(Applied {
        cod_ind_opi,
        effective_code,
        code_sent: intake.code.clone(),
        created,
        matched_by: if created { "created" } else { matched_by },
        voeux,
        warnings,
    })
}

fn status_of(key: VoeuKey, status: Option<&'static str>) -> VoeuStatus {
    VoeuStatus {
        key,
        status,
        warnings: Vec::new(),
    }
}

fn apply_voeux(
    conn: &mut AnyConnection,
    cod_ind_opi: i64,
    created: bool,
    plan: &VoeuxPlan,
    actor: Actor<'_>,
) -> Result<VoeuxOutcome, WriteError> {
    let mut out = VoeuxOutcome::default();
    match plan {
        VoeuxPlan::Unchanged => {}
        VoeuxPlan::DeleteAll => {
            for row in voeux_of(conn, cod_ind_opi)? {
                out.deleted.push(status_of(row.key(), None));
            }
            diesel::delete(ov::table.filter(ov::cod_ind_opi.eq(cod_ind_opi))).execute(conn)?;
        }
        VoeuxPlan::Replace { accepted, rejected } => {
            let stored = if created {
                Vec::new()
            } else {
                voeux_of(conn, cod_ind_opi)?
            };
            for a in accepted {
                let json = to_json(&a.voeu)?;
                let existing = stored.iter().find(|s| s.key() == a.key);
                let status = match existing {
                    Some(s) if s.donnees == json => "unchanged",
                    Some(_) => {
                        diesel::delete(ov::table.find((
                            cod_ind_opi,
                            &a.key.cod_cge,
                            &a.key.cod_etp,
                            a.key.cod_vrs_vet,
                        )))
                        .execute(conn)?;
                        insert_voeu(
                            conn,
                            cod_ind_opi,
                            a.voeu.clone(),
                            &a.key,
                            json,
                            existing.map(|s| (s.created_at, s.created_by.clone())),
                            actor,
                        )?;
                        "updated"
                    }
                    None => {
                        insert_voeu(conn, cod_ind_opi, a.voeu.clone(), &a.key, json, None, actor)?;
                        "created"
                    }
                };
                out.accepted.push(VoeuStatus {
                    key: a.key.clone(),
                    status: Some(status),
                    warnings: a.warnings.clone(),
                });
            }
            for s in &stored {
                let key = s.key();
                if accepted.iter().any(|a| a.key == key) {
                    continue;
                }
                if rejected.iter().any(|r| r.key.as_ref() == Some(&key)) {
                    out.kept.push(status_of(key, None));
                    continue;
                }
                diesel::delete(ov::table.find((
                    cod_ind_opi,
                    &key.cod_cge,
                    &key.cod_etp,
                    key.cod_vrs_vet,
                )))
                .execute(conn)?;
                out.deleted.push(status_of(key, None));
            }
            out.rejected = rejected.clone();
        }
    }
    Ok(out)
}

fn insert_voeu(
    conn: &mut AnyConnection,
    cod_ind_opi: i64,
    v: Voeu,
    key: &VoeuKey,
    json: String,
    created: Option<(NaiveDateTime, Option<String>)>,
    actor: Actor<'_>,
) -> QueryResult<usize> {
    let int = |s: &Option<String>| s.as_deref().and_then(|x| x.parse::<i32>().ok());
    let (created_at, created_by) = created.unwrap_or((actor.now, actor.client.map(str::to_owned)));
    let row = VoeuRow {
        cod_ind_opi,
        cod_cge: key.cod_cge.clone(),
        cod_etp: key.cod_etp.clone(),
        cod_vrs_vet: key.cod_vrs_vet,
        num_cls: int(&v.num_cls),
        cod_dem_dos: v.cod_dem_dos,
        cod_dec_veu: v.cod_dec_veu,
        cod_dip: v.cod_dip,
        cod_vrs_vdi: int(&v.cod_vrs_vdi),
        cod_rge: v.cod_rge,
        cod_cat_oui_si: v.cod_cat_oui_si,
        cod_cat_exo_ext: v.cod_cat_exo_ext,
        donnees: json,
        created_at,
        updated_at: actor.now,
        created_by,
        last_trace_id: Some(actor.trace_id.to_owned()),
    };
    diesel::insert_into(ov::table).values(&row).execute(conn)
}

/// The stored OPI with its vœux, as the DTO it was sent as.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OpiView {
    /// `COD_IND_OPI`.
    pub cod_ind_opi: i64,
    /// Effective code.
    pub cod_opi_int_epo: String,
    /// Codes merged into this OPI (OPI-4).
    pub aliases: Vec<String>,
    /// INE as stored.
    pub ine: Option<serde_json::Value>,
    /// The stored data, DTO shape, vœux included.
    pub donnees: DonneesOpi,
    /// Vœux with their decision and dates.
    pub voeux: Vec<serde_json::Value>,
    /// Creation time.
    pub created_at: String,
    /// Last update.
    pub updated_at: String,
}

fn rfc3339(t: NaiveDateTime) -> String {
    t.and_utc()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Builds the view of a stored row.
pub fn view(conn: &mut AnyConnection, row: OpiRow) -> QueryResult<OpiView> {
    let voeux = voeux_of(conn, row.cod_ind_opi)?;
    let mut donnees: DonneesOpi = from_json(&row.donnees);
    donnees.voeux = Some(Voeux {
        mod_env: None,
        item: voeux.iter().map(|v| from_json(&v.donnees)).collect(),
    });
    Ok(OpiView {
        cod_ind_opi: row.cod_ind_opi,
        aliases: aliases_of(conn, row.cod_ind_opi)?,
        ine: row.ine.as_ref().map(|v| serde_json::json!({"value": v, "family": row.ine_family, "check": row.ine_check})),
        voeux: voeux
            .iter()
            .map(|v| serde_json::json!({
                "codCge": v.cod_cge, "codEtp": v.cod_etp, "codVrsVet": v.cod_vrs_vet, "codDecVeu": v.cod_dec_veu,
                "numCls": v.num_cls, "createdAt": rfc3339(v.created_at), "updatedAt": rfc3339(v.updated_at),
            }))
            .collect(),
        cod_opi_int_epo: row.cod_opi_int_epo,
        donnees,
        created_at: rfc3339(row.created_at),
        updated_at: rfc3339(row.updated_at),
    })
}

/// Search criteria (`GET /api/v1/opi`).
#[derive(Debug, Clone, Default)]
pub struct OpiSearch {
    /// Normalised INE.
    pub ine: Option<String>,
    /// Student number.
    pub cod_etu: Option<i64>,
    /// Normalised birth surname (prefix of the match key).
    pub nom: Option<String>,
    /// Normalised first name.
    pub prenom: Option<String>,
    /// Birth date.
    pub date_naissance: Option<NaiveDate>,
}

/// Matching OPIs (newest first) and their count.
pub fn search(
    conn: &mut AnyConnection,
    s: &OpiSearch,
    limit: i64,
    offset: i64,
) -> QueryResult<(Vec<OpiRow>, i64)> {
    macro_rules! filtered {
        () => {{
            let mut q = oi::table.into_boxed();
            if let Some(v) = &s.ine {
                q = q.filter(oi::ine.eq(v.clone()));
            }
            if let Some(v) = s.cod_etu {
                q = q.filter(oi::cod_etu_opi.eq(v));
            }
            if let Some(v) = &s.nom {
                q = q.filter(oi::match_key.like(format!("{v}|%")));
            }
            if let Some(v) = &s.prenom {
                q = q.filter(oi::match_key.like(format!("%|{v}|%")));
            }
            if let Some(v) = s.date_naissance {
                q = q.filter(oi::date_nai_ind_opi.eq(v));
            }
            q
        }};
    }
    let total = filtered!().count().get_result(conn)?;
    let rows = filtered!()
        .order(oi::cod_ind_opi.desc())
        .limit(limit)
        .offset(offset)
        .select(OpiRow::as_select())
        .load(conn)?;
    Ok((rows, total))
}

/// Deletes every vœu of an OPI; returns the deleted keys.
pub fn delete_voeux(conn: &mut AnyConnection, cod_ind_opi: i64) -> QueryResult<Vec<VoeuKey>> {
    let keys = voeux_of(conn, cod_ind_opi)?
        .iter()
        .map(VoeuRow::key)
        .collect();
    diesel::delete(ov::table.filter(ov::cod_ind_opi.eq(cod_ind_opi))).execute(conn)?;
    Ok(keys)
}

/// Deletes an OPI with its vœux and aliases.
pub fn delete(conn: &mut AnyConnection, cod_ind_opi: i64) -> QueryResult<usize> {
    diesel::delete(ov::table.filter(ov::cod_ind_opi.eq(cod_ind_opi))).execute(conn)?;
    diesel::delete(al::table.filter(al::cod_ind_opi.eq(cod_ind_opi))).execute(conn)?;
    diesel::delete(oi::table.find(cod_ind_opi)).execute(conn)
}

/// Pairs of OPIs sharing an INE, a codEtu or a match key (REP-6 a–c).
pub fn duplicate_suspects(
    conn: &mut AnyConnection,
    limit: i64,
) -> QueryResult<Vec<(String, String, String, String)>> {
    let rows: Vec<OpiRow> = oi::table
        .order(oi::cod_ind_opi.asc())
        .select(OpiRow::as_select())
        .load(conn)?;
    let mut out = Vec::new();
    let mut by: std::collections::HashMap<(String, String), Vec<&OpiRow>> =
        std::collections::HashMap::new();
    for r in &rows {
        if let Some(ine) = &r.ine {
            by.entry(("ine".into(), ine.clone())).or_default().push(r);
        }
        if let Some(etu) = r.cod_etu_opi {
            by.entry(("codEtu".into(), etu.to_string()))
                .or_default()
                .push(r);
        }
        by.entry(("matchKey".into(), r.match_key.clone()))
            .or_default()
            .push(r);
    }
    let mut groups: Vec<_> = by.into_iter().filter(|(_, v)| v.len() > 1).collect();
    groups.sort_by(|a, b| a.0.cmp(&b.0));
    for ((kind, value), members) in groups {
        for (i, a) in members.iter().enumerate() {
            for b in &members[i + 1..] {
                out.push((
                    kind.clone(),
                    value.clone(),
                    a.cod_opi_int_epo.clone(),
                    b.cod_opi_int_epo.clone(),
                ));
                if out.len() as i64 >= limit {
                    return Ok(out);
                }
            }
        }
    }
    Ok(out)
}
