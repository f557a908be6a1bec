//! The student register (`INDIVIDU`, `INS_ADM_ANU`, `INS_ADM_ETP`, `IND_SANCTIONNE_BLO`):
//! upsert of a validated student, reads, search, chunked batch upserts and the demo students.
//! Runs inside the caller's transaction.

use crate::conn::AnyConnection;
use crate::error::WriteError;
use crate::repo::referential::Actor;
use crate::schema_lp::{
    blocage as bl, etudiant as et, inscription_annuelle as ia, inscription_etape as ie,
};
use apogee_domain::Error;
use apogee_domain::formats::rfc3339;
use apogee_domain::lp::etudiant::{Blocage, EtudiantIntake, Iaa, Iae, read_csv};
use apogee_domain::opi::Warning;
use apogee_domain::refread::student::{IaaRecord, IaeRecord};
use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::Serialize;

/// A stored student.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = crate::schema_lp::etudiant)]
pub struct StudentRow {
    /// `COD_IND`.
    pub cod_ind: i64,
    /// `COD_ETU`.
    pub cod_etu: i64,
    /// Normalised INE (`COD_NNE_IND` + `COD_CLE_NNE_IND`).
    pub ine: Option<String>,
    /// Birth surname.
    pub lib_nom_pat_ind: String,
    /// Usage surname.
    pub lib_nom_usu_ind: Option<String>,
    /// First name.
    pub lib_pr1_ind: String,
    /// Birth date.
    pub date_nai_ind: NaiveDate,
    /// Normalised surname + first name + birth date.
    pub match_key: String,
    /// DM-4.
    pub created_at: NaiveDateTime,
    /// DM-4.
    pub updated_at: NaiveDateTime,
    /// DM-4.
    pub created_by: Option<String>,
    /// DM-4.
    pub last_trace_id: Option<String>,
}

/// What an upsert did to one student.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StudentApplied {
    /// `COD_IND`.
    pub cod_ind: i64,
    /// `COD_ETU`.
    pub cod_etu: i64,
    /// `created`, `updated` or `unchanged`.
    pub status: &'static str,
    /// Warnings (validation and storage: `INE_EFFACE`).
    pub warnings: Vec<Warning>,
}

/// Serialises writes of the same key on PostgreSQL (a transaction-scoped advisory lock); SQLite
/// writes are serial already.
pub(crate) fn lock(conn: &mut AnyConnection, key: &str) -> QueryResult<()> {
    if let AnyConnection::Postgresql(c) = conn {
        diesel::sql_query("SELECT pg_advisory_xact_lock(hashtext($1))")
            .bind::<diesel::sql_types::Text, _>(key)
            .execute(c)?;
    }
    Ok(())
}

/// The student with number `cod_etu`.
pub fn find_by_cod_etu(conn: &mut AnyConnection, cod_etu: i64) -> QueryResult<Option<StudentRow>> {
    et::table
        .filter(et::cod_etu.eq(cod_etu))
        .select(StudentRow::as_select())
        .get_result(conn)
        .optional()
}

/// The student with surrogate key `cod_ind`.
pub fn find(conn: &mut AnyConnection, cod_ind: i64) -> QueryResult<Option<StudentRow>> {
    et::table
        .find(cod_ind)
        .select(StudentRow::as_select())
        .get_result(conn)
        .optional()
}

/// The students carrying a normalised INE.
pub fn find_by_ine(conn: &mut AnyConnection, ine: &str) -> QueryResult<Vec<StudentRow>> {
    et::table
        .filter(et::ine.eq(ine))
        .order(et::cod_etu.asc())
        .select(StudentRow::as_select())
        .load(conn)
}

/// Annual enrolments of a student, by year.
pub fn inscriptions_annuelles(conn: &mut AnyConnection, cod_ind: i64) -> QueryResult<Vec<Iaa>> {
    Ok(yearly(conn, cod_ind)?.0)
}

/// VET enrolments of a student.
pub fn inscriptions_etapes(conn: &mut AnyConnection, cod_ind: i64) -> QueryResult<Vec<Iae>> {
    Ok(etapes(conn, cod_ind)?.0)
}

/// The yearly enrolments (as the register holds them, and what each recorded), by year.
pub fn yearly(conn: &mut AnyConnection, cod_ind: i64) -> QueryResult<(Vec<Iaa>, Vec<IaaRecord>)> {
    type Row = (
        String,
        String,
        Option<String>,
        Option<String>,
        Option<NaiveDate>,
    );
    let rows: Vec<Row> = ia::table
        .filter(ia::cod_ind.eq(cod_ind))
        .order(ia::cod_anu.asc())
        .select((
            ia::cod_anu,
            ia::eta_iaa,
            ia::cod_rgi,
            ia::cod_stu,
            ia::dat_cre_iaa,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(cod_anu, eta_iaa, cod_rgi, cod_stu, at)| {
            let record = IaaRecord {
                cod_anu: cod_anu.clone(),
                cod_rgi,
                cod_stu,
                date: at,
            };
            (Iaa { cod_anu, eta_iaa }, record)
        })
        .unzip())
}

/// The étape enrolments (as the register holds them, and what each recorded), by year, étape
/// and version.
pub fn etapes(conn: &mut AnyConnection, cod_ind: i64) -> QueryResult<(Vec<Iae>, Vec<IaeRecord>)> {
    type Row = (
        String,
        String,
        i32,
        String,
        Option<String>,
        Option<NaiveDate>,
        Option<String>,
        Option<i32>,
    );
    let rows: Vec<Row> = ie::table
        .filter(ie::cod_ind.eq(cod_ind))
        .order((ie::cod_anu.asc(), ie::cod_etp.asc(), ie::cod_vrs_vet.asc()))
        .select((
            ie::cod_anu,
            ie::cod_etp,
            ie::cod_vrs_vet,
            ie::eta_iae,
            ie::eta_pmt_iae,
            ie::dat_cre_iae,
            ie::cod_dip,
            ie::cod_vrs_vdi,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(
            |(cod_anu, cod_etp, cod_vrs_vet, eta_iae, eta_pmt_iae, at, dip, vdi)| {
                let record = IaeRecord {
                    cod_anu: cod_anu.clone(),
                    cod_etp: cod_etp.clone(),
                    cod_vrs_vet,
                    date: at,
                    vdi: dip.zip(vdi),
                };
                let iae = Iae {
                    cod_anu,
                    cod_etp,
                    cod_vrs_vet,
                    eta_iae,
                    eta_pmt_iae,
                };
                (iae, record)
            },
        )
        .unzip())
}

/// Bans of a student.
pub fn blocages(conn: &mut AnyConnection, cod_ind: i64) -> QueryResult<Vec<Blocage>> {
    let rows: Vec<(String, String, Option<String>)> = bl::table
        .filter(bl::cod_ind.eq(cod_ind))
        .order(bl::cod_blo.asc())
        .select((bl::cod_blo, bl::typ_blo, bl::lib_blo))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(cod_blo, typ_blo, lib_blo)| Blocage {
            cod_blo,
            typ_blo,
            lib_blo,
        })
        .collect())
}

fn sorted<T: Ord + Clone>(v: &[T]) -> Vec<T> {
    let mut v = v.to_vec();
    v.sort();
    v
}

/// Replaces the enrolments and bans the intake carries; returns whether anything changed.
fn replace_lists(
    conn: &mut AnyConnection,
    cod_ind: i64,
    s: &EtudiantIntake,
    fresh: bool,
    actor: Actor<'_>,
) -> QueryResult<bool> {
    let mut changed = false;
    // Enrolments are merged by key, not replaced: what an enrolment recorded on them (régime,
    // statut, diploma version, centre de gestion, date) survives a register re-sync.
    if let Some(new) = &s.inscriptions_annuelles {
        let old = if fresh {
            Vec::new()
        } else {
            inscriptions_annuelles(conn, cod_ind)?
        };
        if sorted(&old) != sorted(new) {
            changed = true;
            for gone in old
                .iter()
                .filter(|o| !new.iter().any(|n| n.cod_anu == o.cod_anu))
            {
                diesel::delete(ia::table.find((cod_ind, &gone.cod_anu))).execute(conn)?;
            }
            for x in new {
                crate::with_backend!(conn, |c| diesel::insert_into(ia::table)
                    .values((
                        ia::cod_ind.eq(cod_ind),
                        ia::cod_anu.eq(&x.cod_anu),
                        ia::eta_iaa.eq(&x.eta_iaa),
                        ia::created_at.eq(actor.now),
                        ia::updated_at.eq(actor.now),
                        ia::created_by.eq(actor.client),
                        ia::last_trace_id.eq(actor.trace_id),
                    ))
                    .on_conflict((ia::cod_ind, ia::cod_anu))
                    .do_update()
                    .set((
                        ia::eta_iaa.eq(&x.eta_iaa),
                        ia::updated_at.eq(actor.now),
                        ia::last_trace_id.eq(actor.trace_id),
                    ))
                    .execute(c))?;
            }
        }
    }
    if let Some(new) = &s.inscriptions_etapes {
        let old = if fresh {
            Vec::new()
        } else {
            inscriptions_etapes(conn, cod_ind)?
        };
        if sorted(&old) != sorted(new) {
            changed = true;
            let same = |a: &Iae, b: &Iae| {
                (&a.cod_anu, &a.cod_etp, a.cod_vrs_vet) == (&b.cod_anu, &b.cod_etp, b.cod_vrs_vet)
            };
            for gone in old.iter().filter(|o| !new.iter().any(|n| same(n, o))) {
                let key = (cod_ind, &gone.cod_anu, &gone.cod_etp, gone.cod_vrs_vet);
                diesel::delete(ie::table.find(key)).execute(conn)?;
            }
            for x in new {
                crate::with_backend!(conn, |c| diesel::insert_into(ie::table)
                    .values((
                        ie::cod_ind.eq(cod_ind),
                        ie::cod_anu.eq(&x.cod_anu),
                        ie::cod_etp.eq(&x.cod_etp),
                        ie::cod_vrs_vet.eq(x.cod_vrs_vet),
                        ie::eta_iae.eq(&x.eta_iae),
                        ie::eta_pmt_iae.eq(&x.eta_pmt_iae),
                        ie::created_at.eq(actor.now),
                        ie::updated_at.eq(actor.now),
                        ie::created_by.eq(actor.client),
                        ie::last_trace_id.eq(actor.trace_id),
                    ))
                    .on_conflict((ie::cod_ind, ie::cod_anu, ie::cod_etp, ie::cod_vrs_vet))
                    .do_update()
                    .set((
                        ie::eta_iae.eq(&x.eta_iae),
                        ie::eta_pmt_iae.eq(&x.eta_pmt_iae),
                        ie::updated_at.eq(actor.now),
                        ie::last_trace_id.eq(actor.trace_id),
                    ))
                    .execute(c))?;
            }
        }
    }
    if let Some(new) = &s.blocages
        && (fresh || sorted(&blocages(conn, cod_ind)?) != sorted(new))
    {
        changed = true;
        if !fresh {
            diesel::delete(bl::table.filter(bl::cod_ind.eq(cod_ind))).execute(conn)?;
        }
        for x in new {
            diesel::insert_into(bl::table)
                .values((
                    bl::cod_ind.eq(cod_ind),
                    bl::cod_blo.eq(&x.cod_blo),
                    bl::typ_blo.eq(&x.typ_blo),
                    bl::lib_blo.eq(&x.lib_blo),
                    bl::created_at.eq(actor.now),
                    bl::updated_at.eq(actor.now),
                    bl::created_by.eq(actor.client),
                    bl::last_trace_id.eq(actor.trace_id),
                ))
                .execute(conn)?;
        }
    }
    Ok(changed)
}

/// Upserts one validated student on `codEtu`: identity replaced (an absent INE clears the stored
/// one, with warning `INE_EFFACE`), lists and file replaced when sent, kept when absent. Never a
/// duplicate.
pub fn upsert(
    conn: &mut AnyConnection,
    s: &EtudiantIntake,
    actor: Actor<'_>,
) -> Result<StudentApplied, WriteError> {
    lock(conn, &format!("etudiant:{}", s.cod_etu))?;
    let mut warnings = s.warnings.clone();
    let status;
    let cod_ind = match find_by_cod_etu(conn, s.cod_etu)? {
        None => {
            let id: i64 = diesel::insert_into(et::table)
                .values((
                    et::cod_etu.eq(s.cod_etu),
                    et::ine.eq(&s.ine),
                    et::lib_nom_pat_ind.eq(&s.nom_pat),
                    et::lib_nom_usu_ind.eq(&s.nom_usu),
                    et::lib_pr1_ind.eq(&s.prenom),
                    et::date_nai_ind.eq(s.date_naissance),
                    et::match_key.eq(&s.match_key),
                    et::created_at.eq(actor.now),
                    et::updated_at.eq(actor.now),
                    et::created_by.eq(actor.client),
                    et::last_trace_id.eq(actor.trace_id),
                ))
                .returning(et::cod_ind)
                .get_result(conn)?;
            if id > 99_999_999 {
                return Err(Error::internal("séquence COD_IND épuisée (99 999 999)").into());
            }
            replace_lists(conn, id, s, true, actor)?;
            if let Some(d) = &s.dossier {
                crate::repo::dossier::replace(conn, id, d, None, actor)?;
            }
            status = "created";
            id
        }
        Some(row) => {
            let same = row.ine == s.ine
                && row.lib_nom_pat_ind == s.nom_pat
                && row.lib_nom_usu_ind == s.nom_usu
                && row.lib_pr1_ind == s.prenom
                && row.date_nai_ind == s.date_naissance;
            if row.ine.is_some() && s.ine.is_none() {
                warnings.push(Warning {
                    code: "INE_EFFACE".into(),
                    field: Some("ine".into()),
                    message: "L'INE enregistré est effacé : la requête n'en porte pas".into(),
                });
            }
            if !same {
                diesel::update(et::table.find(row.cod_ind))
                    .set((
                        et::ine.eq(&s.ine),
                        et::lib_nom_pat_ind.eq(&s.nom_pat),
                        et::lib_nom_usu_ind.eq(&s.nom_usu),
                        et::lib_pr1_ind.eq(&s.prenom),
                        et::date_nai_ind.eq(s.date_naissance),
                        et::match_key.eq(&s.match_key),
                    ))
                    .execute(conn)?;
            }
            let lists = replace_lists(conn, row.cod_ind, s, false, actor)?;
            let file = match &s.dossier {
                Some(d) => crate::repo::dossier::replace(conn, row.cod_ind, d, None, actor)?,
                None => false,
            };
            if !same || lists || file {
                diesel::update(et::table.find(row.cod_ind))
                    .set((
                        et::updated_at.eq(actor.now),
                        et::last_trace_id.eq(actor.trace_id),
                    ))
                    .execute(conn)?;
                status = "updated";
            } else {
                status = "unchanged";
            }
            row.cod_ind
        }
    };
    Ok(StudentApplied {
        cod_ind,
        cod_etu: s.cod_etu,
        status,
        warnings,
    })
}

/// Upserts a chunk of students in the caller's transaction (batch loads write chunk by chunk).
pub fn upsert_chunk(
    conn: &mut AnyConnection,
    students: &[EtudiantIntake],
    actor: Actor<'_>,
) -> Result<Vec<StudentApplied>, WriteError> {
    students.iter().map(|s| upsert(conn, s, actor)).collect()
}

/// A student with its enrolments and bans, as `GET /api/v1/etudiants/{codEtu}` shows it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct StudentView {
    /// `COD_IND`.
    pub cod_ind: i64,
    /// `COD_ETU`.
    pub cod_etu: i64,
    /// INE.
    pub ine: Option<String>,
    /// Birth surname.
    pub lib_nom_pat_ind: String,
    /// Usage surname.
    pub lib_nom_usu_ind: Option<String>,
    /// First name.
    pub lib_pr1_ind: String,
    /// Birth date, `yyyy-MM-dd`.
    pub date_nai_ind: String,
    /// Annual enrolments.
    pub inscriptions_annuelles: Vec<Iaa>,
    /// VET enrolments.
    pub inscriptions_etapes: Vec<Iae>,
    /// Bans.
    pub blocages: Vec<Blocage>,
    /// The rest of the file (civil status, birth, contacts, bacs, addresses), when stored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dossier: Option<apogee_domain::student::Dossier>,
    /// Creation time.
    pub created_at: String,
    /// Last change.
    pub updated_at: String,
}

/// The view of a stored student.
pub fn view(conn: &mut AnyConnection, row: StudentRow) -> QueryResult<StudentView> {
    Ok(StudentView {
        inscriptions_annuelles: inscriptions_annuelles(conn, row.cod_ind)?,
        inscriptions_etapes: inscriptions_etapes(conn, row.cod_ind)?,
        blocages: blocages(conn, row.cod_ind)?,
        dossier: crate::repo::dossier::find(conn, row.cod_ind)?,
        cod_ind: row.cod_ind,
        cod_etu: row.cod_etu,
        ine: row.ine,
        lib_nom_pat_ind: row.lib_nom_pat_ind,
        lib_nom_usu_ind: row.lib_nom_usu_ind,
        lib_pr1_ind: row.lib_pr1_ind,
        date_nai_ind: row.date_nai_ind.format("%Y-%m-%d").to_string(),
        created_at: rfc3339(row.created_at),
        updated_at: rfc3339(row.updated_at),
    })
}

/// Students (by codEtu), optionally with a normalised INE, and their count.
pub fn list(
    conn: &mut AnyConnection,
    ine: Option<&str>,
    limit: i64,
    offset: i64,
) -> QueryResult<(Vec<StudentRow>, i64)> {
    let filtered = || {
        let mut q = et::table.into_boxed();
        if let Some(v) = ine {
            q = q.filter(et::ine.eq(v.to_owned()));
        }
        q
    };
    let total = filtered().count().get_result(conn)?;
    let rows = filtered()
        .order(et::cod_etu.asc())
        .limit(limit)
        .offset(offset)
        .select(StudentRow::as_select())
        .load(conn)?;
    Ok((rows, total))
}

/// The demo students (`crates/db/demo/etudiants.csv`, same format as `POST
/// /api/v1/etudiants/batch`).
pub const DEMO_CSV: &str = include_str!("../../demo/etudiants.csv");

/// Seeds the demo students (upsert: seeding twice changes nothing); returns how many were
/// created.
pub fn seed_demo(conn: &mut AnyConnection, actor: Actor<'_>) -> Result<usize, WriteError> {
    let today = actor.now.date();
    let mut created = 0;
    for line in read_csv(DEMO_CSV.as_bytes(), today)? {
        let student = line.result?;
        if upsert(conn, &student, actor)?.status == "created" {
            created += 1;
        }
    }
    Ok(created)
}
