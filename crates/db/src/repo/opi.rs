//! OPI storage: the reads and writes of an OPI push (the decisions are the domain's:
//! `apogee_domain::opi::upsert`), reads, searches and explicit deletions. Functions take a
//! connection so that the caller composes them in one transaction.

use crate::conn::AnyConnection;
use crate::error::WriteError;
use crate::schema::{opi_code_alias as al, opi_individu as oi, opi_voeu as ov};
use apogee_domain::error::Error;
use apogee_domain::formats::rfc3339;
use apogee_domain::opi::dto::{DonneesOpi, Voeu, Voeux};
use apogee_domain::opi::upsert::{StoredIdentity, StoredVoeu, VoeuWrite};
use apogee_domain::opi::{Intake, VoeuKey};
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

impl OpiRow {
    /// The identity the OPI-3/OPI-4 rules compare.
    pub fn identity(&self) -> StoredIdentity<'_> {
        StoredIdentity {
            code: &self.cod_opi_int_epo,
            nom_pat: &self.lib_nom_pat_ind_opi,
            prenom: &self.lib_pr1_ind_opi,
            date_naissance: self.date_nai_ind_opi,
        }
    }

    /// The stored payload (without vœux).
    pub fn donnees(&self) -> DonneesOpi {
        from_json(&self.donnees)
    }
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

    /// The vœu as the OPI-15 plan compares it.
    pub fn stored(&self) -> StoredVoeu {
        StoredVoeu {
            key: self.key(),
            donnees: self.donnees.clone(),
        }
    }
}

pub use crate::Actor;

fn to_json<T: Serialize>(v: &T) -> Result<String, WriteError> {
    serde_json::to_string(v)
        .map_err(|e| WriteError::Domain(Error::internal(format!("sérialisation : {e}"))))
}

fn from_json<T: serde::de::DeserializeOwned + Default>(s: &str) -> T {
    serde_json::from_str(s).unwrap_or_default()
}

/// The OPI whose code or alias is `code` (case-insensitive): one query for both (a code and
/// an alias of another OPI cannot both match; were they to, the code wins). Both columns are
/// unique, so at most two rows come back: no `LIMIT`, which SQLite would bind as a parameter
/// whose every new binding makes it re-prepare the statement (≈ 250,000 instructions, a third
/// of an OPI push's write, measured with callgrind).
pub fn find_by_code(conn: &mut AnyConnection, code: &str) -> QueryResult<Option<OpiRow>> {
    let upper = code.trim().to_uppercase();
    let aliased = al::table
        .filter(al::alias_upper.eq(upper.clone()))
        .select(al::cod_ind_opi);
    let mut rows: Vec<OpiRow> = oi::table
        .filter(
            oi::cod_opi_int_epo_upper
                .eq(&upper)
                .or(oi::cod_ind_opi.eq_any(aliased)),
        )
        .select(OpiRow::as_select())
        .load(conn)?;
    let direct = rows
        .iter()
        .position(|r| r.cod_opi_int_epo.to_uppercase() == upper);
    Ok(match direct {
        Some(i) => Some(rows.swap_remove(i)),
        None => rows.into_iter().next(),
    })
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

/// Serialises writes for the same OPI code on PostgreSQL (OPI-8); SQLite writes are serial
/// already.
pub fn lock(conn: &mut AnyConnection, code: &str) -> QueryResult<()> {
    if let AnyConnection::Postgresql(c) = conn {
        diesel::sql_query("SELECT pg_advisory_xact_lock(hashtext($1))")
            .bind::<diesel::sql_types::Text, _>(code.to_uppercase())
            .execute(c)?;
    }
    Ok(())
}

/// The stored OPIs with this `codEtuOpi`.
pub fn with_cod_etu(conn: &mut AnyConnection, cod_etu: i64) -> QueryResult<Vec<OpiRow>> {
    oi::table
        .filter(oi::cod_etu_opi.eq(cod_etu))
        .select(OpiRow::as_select())
        .load(conn)
}

/// The stored OPIs with this (normalised) INE.
pub fn with_ine(conn: &mut AnyConnection, ine: &str) -> QueryResult<Vec<OpiRow>> {
    oi::table
        .filter(oi::ine.eq(ine))
        .select(OpiRow::as_select())
        .load(conn)
}

/// What other OPIs may share with a person.
#[derive(Debug, Clone, Copy)]
pub enum SharedKey<'a> {
    /// `COD_ETU_OPI`.
    CodEtu(i64),
    /// Normalised INE.
    Ine(&'a str),
    /// Match key (surname, first name, birth date).
    MatchKey(&'a str),
}

/// The codes of the OPIs other than `except` that share `key`.
pub fn codes_sharing(
    conn: &mut AnyConnection,
    key: SharedKey<'_>,
    except: i64,
) -> QueryResult<Vec<String>> {
    let q = oi::table
        .filter(oi::cod_ind_opi.ne(except))
        .select(oi::cod_opi_int_epo)
        .into_boxed();
    match key {
        SharedKey::CodEtu(etu) => q.filter(oi::cod_etu_opi.eq(etu)).load(conn),
        SharedKey::Ine(ine) => q.filter(oi::ine.eq(ine.to_owned())).load(conn),
        SharedKey::MatchKey(k) => q.filter(oi::match_key.eq(k.to_owned())).load(conn),
    }
}

/// The person columns of a push.
#[derive(Debug, Clone, Copy)]
pub struct PersonData<'a> {
    /// The validated payload.
    pub intake: &'a Intake,
    /// The payload to store (merged with the stored one on an update), vœux left out.
    pub donnees: &'a DonneesOpi,
    /// `COD_ETU_OPI` to store.
    pub cod_etu: Option<i64>,
}

/// The person columns a push writes, on insert and update alike.
macro_rules! person_values {
    ($p:expr) => {{
        let (intake, ine) = ($p.intake, $p.intake.ine.as_ref());
        (
            oi::cod_etu_opi.eq($p.cod_etu),
            oi::ine.eq(ine.map(|i| i.value.clone())),
            oi::ine_family.eq(ine.map(|i| i.family.as_str().to_owned())),
            oi::ine_check.eq(ine.map(|i| i.check.to_owned())),
            oi::lib_nom_pat_ind_opi.eq(&intake.nom_pat),
            oi::lib_nom_usu_ind_opi.eq(&intake.nom_usu),
            oi::lib_pr1_ind_opi.eq(&intake.prenom),
            oi::date_nai_ind_opi.eq(intake.date_naissance),
            oi::match_key.eq(&intake.match_key),
            oi::donnees.eq(to_json($p.donnees)?),
        )
    }};
}

impl PersonData<'_> {
    /// Whether `row` already holds exactly these values (an identical re-push, OPI-8).
    fn stored_in(&self, row: &OpiRow) -> Result<bool, WriteError> {
        let (intake, ine) = (self.intake, self.intake.ine.as_ref());
        Ok(row.cod_etu_opi == self.cod_etu
            && row.ine.as_deref() == ine.map(|i| i.value.as_str())
            && row.ine_family.as_deref() == ine.map(|i| i.family.as_str())
            && row.ine_check.as_deref() == ine.map(|i| i.check)
            && row.lib_nom_pat_ind_opi == intake.nom_pat
            && row.lib_nom_usu_ind_opi == intake.nom_usu
            && row.lib_pr1_ind_opi == intake.prenom
            && row.date_nai_ind_opi == intake.date_naissance
            && row.match_key == intake.match_key
            && row.donnees == to_json(self.donnees)?)
    }
}

/// Updates a stored person; an identical push writes nothing, `updated_at` included (OPI-8).
pub fn update_person(
    conn: &mut AnyConnection,
    row: &OpiRow,
    p: PersonData<'_>,
    actor: Actor<'_>,
) -> Result<(), WriteError> {
    if p.stored_in(row)? {
        return Ok(());
    }
    diesel::update(oi::table.find(row.cod_ind_opi))
        .set((
            person_values!(p),
            oi::updated_at.eq(actor.now),
            oi::last_trace_id.eq(actor.trace_id),
        ))
        .execute(conn)?;
    Ok(())
}

/// Inserts a new person; returns its `COD_IND_OPI`.
pub fn insert_person(
    conn: &mut AnyConnection,
    p: PersonData<'_>,
    actor: Actor<'_>,
) -> Result<i64, WriteError> {
    let code_upper = p.intake.code.to_uppercase();
    Ok(diesel::insert_into(oi::table)
        .values((
            oi::cod_opi_int_epo.eq(&p.intake.code),
            oi::cod_opi_int_epo_upper.eq(&code_upper),
            person_values!(p),
            oi::created_at.eq(actor.now),
            oi::updated_at.eq(actor.now),
            oi::created_by.eq(actor.client),
            oi::last_trace_id.eq(actor.trace_id),
        ))
        .returning(oi::cod_ind_opi)
        .get_result(conn)?)
}

/// Records `code` as an alias of the OPI `cod_ind_opi` (OPI-4), once.
pub fn add_alias(
    conn: &mut AnyConnection,
    cod_ind_opi: i64,
    code: &str,
    now: NaiveDateTime,
) -> QueryResult<()> {
    let upper = code.to_uppercase();
    let exists: i64 = al::table
        .filter(al::alias_upper.eq(&upper))
        .count()
        .get_result(conn)?;
    if exists == 0 {
        diesel::insert_into(al::table)
            .values((
                al::alias_upper.eq(&upper),
                al::alias.eq(code),
                al::cod_ind_opi.eq(cod_ind_opi),
                al::created_at.eq(now),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Carries out the vœux writes the domain planned (OPI-15).
pub fn write_voeux(
    conn: &mut AnyConnection,
    cod_ind_opi: i64,
    stored: &[VoeuRow],
    writes: &[VoeuWrite<'_>],
    actor: Actor<'_>,
) -> QueryResult<()> {
    for w in writes {
        match w {
            VoeuWrite::DeleteAll => {
                diesel::delete(ov::table.filter(ov::cod_ind_opi.eq(cod_ind_opi))).execute(conn)?;
            }
            VoeuWrite::Delete(key) => delete_voeu(conn, cod_ind_opi, key)?,
            VoeuWrite::Insert(a, json) => {
                insert_voeu(
                    conn,
                    cod_ind_opi,
                    a.voeu.clone(),
                    &a.key,
                    json.clone(),
                    None,
                    actor,
                )?;
            }
            VoeuWrite::Replace(a, json) => {
                let created = stored
                    .iter()
                    .find(|s| s.key() == a.key)
                    .map(|s| (s.created_at, s.created_by.clone()));
                delete_voeu(conn, cod_ind_opi, &a.key)?;
                insert_voeu(
                    conn,
                    cod_ind_opi,
                    a.voeu.clone(),
                    &a.key,
                    json.clone(),
                    created,
                    actor,
                )?;
            }
        }
    }
    Ok(())
}

fn delete_voeu(conn: &mut AnyConnection, cod_ind_opi: i64, key: &VoeuKey) -> QueryResult<()> {
    diesel::delete(ov::table.find((cod_ind_opi, &key.cod_cge, &key.cod_etp, key.cod_vrs_vet)))
        .execute(conn)?;
    Ok(())
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

/// The INE of a stored OPI.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StoredIne {
    /// Normalised INE.
    pub value: String,
    /// Family (`INES`, `BEA` …).
    pub family: Option<String>,
    /// `ok` or `unverified`.
    pub check: Option<String>,
}

/// A stored vœu's decision and dates.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct VoeuDates {
    /// Centre de gestion.
    pub cod_cge: String,
    /// Étape.
    pub cod_etp: String,
    /// Version d'étape.
    pub cod_vrs_vet: i32,
    /// Decision (`F`, `D`, `A`).
    pub cod_dec_veu: Option<String>,
    /// Rank.
    pub num_cls: Option<i32>,
    /// Creation time (RFC 3339).
    pub created_at: String,
    /// Last update (RFC 3339).
    pub updated_at: String,
}

/// The stored OPI with its vœux, as the DTO it was sent as.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct OpiView {
    /// `COD_IND_OPI`.
    pub cod_ind_opi: i64,
    /// Effective code.
    pub cod_opi_int_epo: String,
    /// Codes merged into this OPI (OPI-4).
    pub aliases: Vec<String>,
    /// INE as stored.
    pub ine: Option<StoredIne>,
    /// The stored data, DTO shape, vœux included.
    pub donnees: DonneesOpi,
    /// Vœux with their decision and dates.
    pub voeux: Vec<VoeuDates>,
    /// Creation time.
    pub created_at: String,
    /// Last update.
    pub updated_at: String,
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
        ine: row.ine.map(|value| StoredIne {
            value,
            family: row.ine_family,
            check: row.ine_check,
        }),
        voeux: voeux
            .into_iter()
            .map(|v| VoeuDates {
                cod_cge: v.cod_cge,
                cod_etp: v.cod_etp,
                cod_vrs_vet: v.cod_vrs_vet,
                cod_dec_veu: v.cod_dec_veu,
                num_cls: v.num_cls,
                created_at: rfc3339(v.created_at),
                updated_at: rfc3339(v.updated_at),
            })
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
