//! CVEC storage: the local attestation register (CVEC-6) and the checks made at enrolment
//! (CVEC-13). Functions take a connection so callers compose them in transactions.

use crate::conn::AnyConnection;
use crate::error::WriteError;
use crate::repo::referential::{Actor, UpsertCounts};
use crate::schema_cvec::{cvec_attestation as ca, cvec_check as cc};
use apogee_domain::cvec::register::{self, Attestation};
use apogee_domain::formats::rfc3339;
use apogee_domain::{Error, FieldError};
use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

/// The demo register (`crates/db/demo/cvec-attestations.csv`, documented in the README).
pub const DEMO_CSV: &str = include_str!("../../demo/cvec-attestations.csv");

/// A stored attestation: the domain's attestation and its DM-4 columns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttestationRow {
    /// The attestation.
    pub attestation: Attestation,
    /// DM-4.
    pub created_at: NaiveDateTime,
    /// DM-4.
    pub updated_at: NaiveDateTime,
    /// DM-4.
    pub created_by: Option<String>,
    /// DM-4.
    pub last_trace_id: Option<String>,
}

impl AttestationRow {
    /// Its DM-4 columns, RFC 3339 UTC.
    pub fn timestamps(&self) -> (String, String) {
        (rfc3339(self.created_at), rfc3339(self.updated_at))
    }
}

/// A register row as read: the attestation's columns, then the DM-4 ones.
type Stored = (
    (
        String,
        String,
        String,
        Option<String>,
        String,
        Option<String>,
        NaiveDate,
        Option<String>,
        Option<String>,
        String,
        Option<String>,
        bool,
        Option<String>,
    ),
    (NaiveDateTime, NaiveDateTime, Option<String>, Option<String>),
);

/// The columns of [`Stored`].
macro_rules! stored_columns {
    () => {
        (
            (
                ca::cod_anu,
                ca::num_attestation,
                ca::nom,
                ca::nom_usage,
                ca::prenom,
                ca::sexe,
                ca::date_naissance,
                ca::ine,
                ca::crous,
                ca::etat_code,
                ca::etat_libelle,
                ca::exoneration_active,
                ca::exoneration_motif,
            ),
            (
                ca::created_at,
                ca::updated_at,
                ca::created_by,
                ca::last_trace_id,
            ),
        )
    };
}

/// The values of an attestation's columns (every field, or this does not compile).
macro_rules! attestation_values {
    ($a:expr) => {{
        let Attestation {
            cod_anu,
            num_attestation,
            nom,
            nom_usage,
            prenom,
            sexe,
            date_naissance,
            ine,
            crous,
            etat_code,
            etat_libelle,
            exoneration_active,
            exoneration_motif,
        } = $a;
        (
            ca::cod_anu.eq(cod_anu),
            ca::num_attestation.eq(num_attestation),
            ca::nom.eq(nom),
            ca::nom_usage.eq(nom_usage),
            ca::prenom.eq(prenom),
            ca::sexe.eq(sexe),
            ca::date_naissance.eq(*date_naissance),
            ca::ine.eq(ine),
            ca::crous.eq(crous),
            ca::etat_code.eq(etat_code),
            ca::etat_libelle.eq(etat_libelle),
            ca::exoneration_active.eq(*exoneration_active),
            ca::exoneration_motif.eq(exoneration_motif),
        )
    }};
}

fn row_of(stored: Stored) -> AttestationRow {
    let (
        (
            cod_anu,
            num_attestation,
            nom,
            nom_usage,
            prenom,
            sexe,
            date_naissance,
            ine,
            crous,
            etat_code,
            etat_libelle,
            exoneration_active,
            exoneration_motif,
        ),
        (created_at, updated_at, created_by, last_trace_id),
    ) = stored;
    AttestationRow {
        attestation: Attestation {
            cod_anu,
            num_attestation,
            nom,
            nom_usage,
            prenom,
            sexe,
            date_naissance,
            ine,
            crous,
            etat_code,
            etat_libelle,
            exoneration_active,
            exoneration_motif,
        },
        created_at,
        updated_at,
        created_by,
        last_trace_id,
    }
}

/// Every stored attestation with this number, newest campaign first.
pub fn find_by_number(conn: &mut AnyConnection, number: &str) -> QueryResult<Vec<AttestationRow>> {
    ca::table
        .filter(ca::num_attestation.eq(number))
        .order(ca::cod_anu.desc())
        .select(stored_columns!())
        .load::<Stored>(conn)
        .map(|rows| rows.into_iter().map(row_of).collect())
}

/// Upserts checked rows by (campaign, number); identical rows are not written.
pub fn upsert(
    conn: &mut AnyConnection,
    rows: &[Attestation],
    actor: Actor<'_>,
) -> QueryResult<UpsertCounts> {
    let mut counts = UpsertCounts::default();
    for a in rows {
        let stored: Option<Stored> = ca::table
            .find((&a.cod_anu, &a.num_attestation))
            .select(stored_columns!())
            .get_result(conn)
            .optional()?;
        match stored.map(row_of) {
            Some(s) if s.attestation == *a => counts.unchanged += 1,
            Some(_) => {
                diesel::update(ca::table.find((&a.cod_anu, &a.num_attestation)))
                    .set((
                        attestation_values!(a),
                        ca::updated_at.eq(actor.now),
                        ca::last_trace_id.eq(actor.trace_id),
                    ))
                    .execute(conn)?;
                counts.updated += 1;
            }
            None => {
                diesel::insert_into(ca::table)
                    .values((
                        attestation_values!(a),
                        ca::created_at.eq(actor.now),
                        ca::updated_at.eq(actor.now),
                        ca::created_by.eq(actor.client),
                        ca::last_trace_id.eq(Some(actor.trace_id)),
                    ))
                    .execute(conn)?;
                counts.created += 1;
            }
        }
    }
    Ok(counts)
}

/// Filters of the register listing.
#[derive(Debug, Clone, Default)]
pub struct AttestationFilter {
    /// Campaign.
    pub cod_anu: Option<String>,
    /// Attestation number (normalised).
    pub num_attestation: Option<String>,
    /// INE (normalised).
    pub ine: Option<String>,
}

/// Matching attestations (campaign desc, number) and their count.
pub fn list(
    conn: &mut AnyConnection,
    f: &AttestationFilter,
    limit: i64,
    offset: i64,
) -> QueryResult<(Vec<AttestationRow>, i64)> {
    macro_rules! filtered {
        () => {{
            let mut q = ca::table.into_boxed();
            if let Some(v) = &f.cod_anu {
                q = q.filter(ca::cod_anu.eq(v.clone()));
            }
            if let Some(v) = &f.num_attestation {
                q = q.filter(ca::num_attestation.eq(v.clone()));
            }
            if let Some(v) = &f.ine {
                q = q.filter(ca::ine.eq(v.clone()));
            }
            q
        }};
    }
    let total = filtered!().count().get_result(conn)?;
    let rows = filtered!()
        .order((ca::cod_anu.desc(), ca::num_attestation.asc()))
        .limit(limit)
        .offset(offset)
        .select(stored_columns!())
        .load::<Stored>(conn)?;
    Ok((rows.into_iter().map(row_of).collect(), total))
}

/// Loads the demo register (upsert): called once, right after the demo referential.
pub fn seed_demo(conn: &mut AnyConnection, actor: Actor<'_>) -> Result<UpsertCounts, WriteError> {
    let mut rows = Vec::new();
    let mut errors: Vec<FieldError> = Vec::new();
    for line in register::read_csv(DEMO_CSV.as_bytes(), None)? {
        match line.result {
            Ok(a) => rows.push(a),
            Err(mut e) => errors.append(&mut e),
        }
    }
    if !errors.is_empty() {
        return Err(Error::validation(errors).into());
    }
    Ok(upsert(conn, &rows, actor)?)
}

/// A stored check (CVEC-13).
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = cc)]
pub struct CheckRow {
    /// Id.
    pub id: i64,
    /// `COD_IND` when known.
    pub cod_ind: Option<i64>,
    /// `COD_IND_OPI` when known.
    pub cod_ind_opi: Option<i64>,
    /// Enrolment year.
    pub cod_anu: String,
    /// Attestation number (absent when the code had no recognisable number).
    pub num_attestation: Option<String>,
    /// Surname letters of the code.
    pub lettres_nom: Option<String>,
    /// Person's INE, normalised.
    pub ine: Option<String>,
    /// Person's normalised birth surname and birth date (`NOM|yyyy-mm-dd`).
    pub identity_key: Option<String>,
    /// `register`, `upstream`, `cache`.
    pub source: Option<String>,
    /// HTTP status of the lookup (200, 400, or the upstream's).
    pub http_status: Option<i32>,
    /// `etat.code`.
    pub etat_code: Option<String>,
    /// `exoneration.active`.
    pub exoneration_active: Option<bool>,
    /// `exoneration.motif`.
    pub exoneration_motif: Option<String>,
    /// Declared fee category.
    pub cod_cat_exo_ext: Option<String>,
    /// Declared scholarship.
    pub boursier: Option<bool>,
    /// `VALIDE`, `INVALIDE`, `NON_VERIFIEE`, `NON_REQUISE`.
    pub result: String,
    /// First reason.
    pub reason: Option<String>,
    /// Every reason code, comma-separated.
    pub reasons: Option<String>,
    /// Warning codes, comma-separated.
    pub warnings: Option<String>,
    /// DM-4 (time of the check).
    pub created_at: NaiveDateTime,
    /// DM-4.
    pub updated_at: NaiveDateTime,
    /// DM-4 (client).
    pub created_by: Option<String>,
    /// DM-4 (trace id of the check).
    pub last_trace_id: Option<String>,
}

/// A check to store.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = cc)]
pub struct NewCheck {
    /// See [`CheckRow`].
    pub cod_ind: Option<i64>,
    /// See [`CheckRow`].
    pub cod_ind_opi: Option<i64>,
    /// See [`CheckRow`].
    pub cod_anu: String,
    /// See [`CheckRow`].
    pub num_attestation: Option<String>,
    /// See [`CheckRow`].
    pub lettres_nom: Option<String>,
    /// See [`CheckRow`].
    pub ine: Option<String>,
    /// See [`CheckRow`].
    pub identity_key: Option<String>,
    /// See [`CheckRow`].
    pub source: Option<String>,
    /// See [`CheckRow`].
    pub http_status: Option<i32>,
    /// See [`CheckRow`].
    pub etat_code: Option<String>,
    /// See [`CheckRow`].
    pub exoneration_active: Option<bool>,
    /// See [`CheckRow`].
    pub exoneration_motif: Option<String>,
    /// See [`CheckRow`].
    pub cod_cat_exo_ext: Option<String>,
    /// See [`CheckRow`].
    pub boursier: Option<bool>,
    /// See [`CheckRow`].
    pub result: String,
    /// See [`CheckRow`].
    pub reason: Option<String>,
    /// See [`CheckRow`].
    pub reasons: Option<String>,
    /// See [`CheckRow`].
    pub warnings: Option<String>,
    /// See [`CheckRow`].
    pub created_at: NaiveDateTime,
    /// See [`CheckRow`].
    pub updated_at: NaiveDateTime,
    /// See [`CheckRow`].
    pub created_by: Option<String>,
    /// See [`CheckRow`].
    pub last_trace_id: Option<String>,
}

/// Serialises checks of the same number and year on PostgreSQL (CVEC-11 step 6 reads then
/// writes); SQLite writes are serial already.
pub fn lock_number(conn: &mut AnyConnection, cod_anu: &str, number: &str) -> QueryResult<()> {
    if let AnyConnection::Postgresql(c) = conn {
        diesel::sql_query("SELECT pg_advisory_xact_lock(hashtext($1))")
            .bind::<diesel::sql_types::Text, _>(format!("cvec|{cod_anu}|{number}"))
            .execute(c)?;
    }
    Ok(())
}

/// The `VALIDE` checks of a number for a year, oldest first.
pub fn valid_checks(
    conn: &mut AnyConnection,
    cod_anu: &str,
    number: &str,
) -> QueryResult<Vec<CheckRow>> {
    cc::table
        .filter(cc::cod_anu.eq(cod_anu))
        .filter(cc::num_attestation.eq(number))
        .filter(cc::result.eq("VALIDE"))
        .order(cc::id.asc())
        .select(CheckRow::as_select())
        .load(conn)
}

/// Whether an OPI person exists (a check may name one).
pub fn opi_person_exists(conn: &mut AnyConnection, cod_ind_opi: i64) -> QueryResult<bool> {
    use crate::schema::opi_individu as oi;
    let n: i64 = oi::table
        .filter(oi::cod_ind_opi.eq(cod_ind_opi))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

/// Stores a check; returns its id.
pub fn insert_check(conn: &mut AnyConnection, check: &NewCheck) -> QueryResult<i64> {
    match conn {
        AnyConnection::Postgresql(c) => diesel::insert_into(cc::table)
            .values(check)
            .returning(cc::id)
            .get_result(c),
        AnyConnection::Sqlite(c) => {
            diesel::insert_into(cc::table).values(check).execute(c)?;
            diesel::select(diesel::dsl::sql::<diesel::sql_types::BigInt>(
                "last_insert_rowid()",
            ))
            .get_result(c)
        }
    }
}

/// Filters of the checks listing.
#[derive(Debug, Clone, Default)]
pub struct CheckFilter {
    /// Enrolment year.
    pub cod_anu: Option<String>,
    /// Attestation number.
    pub num_attestation: Option<String>,
    /// Person's INE (normalised).
    pub ine: Option<String>,
    /// Result.
    pub result: Option<String>,
    /// First reason.
    pub reason: Option<String>,
    /// `COD_IND`.
    pub cod_ind: Option<i64>,
    /// `COD_IND_OPI`.
    pub cod_ind_opi: Option<i64>,
}

/// Matching checks, newest first, and their count.
pub fn list_checks(
    conn: &mut AnyConnection,
    f: &CheckFilter,
    limit: i64,
    offset: i64,
) -> QueryResult<(Vec<CheckRow>, i64)> {
    macro_rules! filtered {
        () => {{
            let mut q = cc::table.into_boxed();
            if let Some(v) = &f.cod_anu {
                q = q.filter(cc::cod_anu.eq(v.clone()));
            }
            if let Some(v) = &f.num_attestation {
                q = q.filter(cc::num_attestation.eq(v.clone()));
            }
            if let Some(v) = &f.ine {
                q = q.filter(cc::ine.eq(v.clone()));
            }
            if let Some(v) = &f.result {
                q = q.filter(cc::result.eq(v.clone()));
            }
            if let Some(v) = &f.reason {
                q = q.filter(cc::reason.eq(v.clone()));
            }
            if let Some(v) = f.cod_ind {
                q = q.filter(cc::cod_ind.eq(v));
            }
            if let Some(v) = f.cod_ind_opi {
                q = q.filter(cc::cod_ind_opi.eq(v));
            }
            q
        }};
    }
    let total = filtered!().count().get_result(conn)?;
    let rows = filtered!()
        .order(cc::id.desc())
        .limit(limit)
        .offset(offset)
        .select(CheckRow::as_select())
        .load(conn)?;
    Ok((rows, total))
}
