//! Attachments: `OPI_PJ` (one piece per OPI and PJ type, PJ-5) and `TELEM_IAA_TPJ` (pieces of
//! known students, read by the Apogée PJ REST facade, PJ-11).
//!
//! Files are content-addressed: a row names its file by `storage_key`, several rows may share
//! one file. The caller stages the file (written and fsynced under a temporary name); [`store`]
//! then, inside the write transaction and holding the locks of the piece and of the file, asks
//! the caller to `publish` it (rename to its key) before writing the row, so the row commits only
//! once the file is durable. [`release`] deletes a file that no row references any more, under
//! the same file lock: a file being published for another row is never deleted under its feet.
//! On SQLite every write runs on the one writer thread, which serialises all of this already;
//! on PostgreSQL transaction-scoped advisory locks do.

use crate::conn::AnyConnection;
use crate::schema_pj::{opi_pj as op, telem_iaa_tpj as tt};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use std::collections::HashSet;

/// Advisory lock class of a piece key (PostgreSQL).
const LOCK_PIECE: i32 = 0x504A_0001;
/// Advisory lock class of a stored file (PostgreSQL).
const LOCK_FILE: i32 = 0x504A_0002;

fn lock(conn: &mut AnyConnection, class: i32, name: &str) -> QueryResult<()> {
    if let AnyConnection::Postgresql(c) = conn {
        diesel::sql_query("SELECT pg_advisory_xact_lock($1, hashtext($2))")
            .bind::<diesel::sql_types::Integer, _>(class)
            .bind::<diesel::sql_types::Text, _>(name)
            .execute(c)?;
    }
    Ok(())
}

/// A stored OPI piece (`OPI_PJ`).
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = crate::schema_pj::opi_pj)]
pub struct OpiPjRow {
    /// `COD_IND_OPI`.
    pub cod_ind_opi: i64,
    /// `COD_TPJ`.
    pub cod_tpj: String,
    /// `COD_OPI_INT_EPO` of the OPI when the piece was received.
    pub cod_opi_int_epo: String,
    /// `NOM_FIC`: the sanitised original name.
    pub nom_fic: String,
    /// `COD_ETU`, copied from `COD_ETU_OPI`.
    pub cod_etu: Option<i64>,
    /// `<sha256[0..2]>/<sha256>`: the file under the storage directory.
    pub storage_key: String,
    /// Size in bytes.
    pub size_bytes: i64,
    /// Sniffed media type.
    pub media_type: String,
    /// SHA-256 of the content, lower-case hex.
    pub sha256: String,
    /// When the current content arrived.
    pub received_at: NaiveDateTime,
    /// DM-4.
    pub created_at: NaiveDateTime,
    /// DM-4.
    pub updated_at: NaiveDateTime,
    /// DM-4.
    pub created_by: Option<String>,
    /// DM-4.
    pub last_trace_id: Option<String>,
}

/// A piece to store.
#[derive(Debug, Clone)]
pub struct NewPiece {
    /// `COD_IND_OPI`.
    pub cod_ind_opi: i64,
    /// `COD_TPJ`.
    pub cod_tpj: String,
    /// `COD_OPI_INT_EPO`.
    pub cod_opi_int_epo: String,
    /// Sanitised name.
    pub nom_fic: String,
    /// `COD_ETU_OPI`.
    pub cod_etu: Option<i64>,
    /// Storage key of the staged file.
    pub storage_key: String,
    /// Size.
    pub size_bytes: i64,
    /// Media type.
    pub media_type: String,
    /// SHA-256, hex.
    pub sha256: String,
}

pub use crate::Actor;

/// What [`store`] did (PJ-5, PJ-8).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stored {
    /// A new piece (`PJ_CREEE`).
    Created,
    /// The piece replaced another one (`PJ_REMPLACEE`); `previous_key` is the file it referenced
    /// when that differs from the new one: release it after the commit.
    Replaced {
        /// The previous file, if another one.
        previous_key: Option<String>,
    },
    /// Same bytes and same name: nothing written (`PJ_INCHANGEE`).
    Unchanged,
}

impl Stored {
    /// `PJ_CREEE`, `PJ_REMPLACEE` or `PJ_INCHANGEE`.
    pub fn code(&self) -> &'static str {
        match self {
            Stored::Created => "PJ_CREEE",
            Stored::Replaced { .. } => "PJ_REMPLACEE",
            Stored::Unchanged => "PJ_INCHANGEE",
        }
    }
}

/// Stores one OPI piece in the caller's transaction. `publish` makes the staged file durable
/// under `piece.storage_key`; it runs after the locks are taken and before the row is written, so
/// an error there writes nothing.
pub fn store<E, P>(
    conn: &mut AnyConnection,
    piece: &NewPiece,
    actor: Actor<'_>,
    publish: P,
) -> Result<Stored, E>
where
    E: From<diesel::result::Error>,
    P: FnOnce() -> Result<(), E>,
{
    lock(
        conn,
        LOCK_PIECE,
        &format!("opi:{}:{}", piece.cod_ind_opi, piece.cod_tpj),
    )?;
    lock(conn, LOCK_FILE, &piece.storage_key)?;
    let previous = find(conn, piece.cod_ind_opi, &piece.cod_tpj)?;
    publish()?;
    let outcome = match &previous {
        Some(p) if p.sha256 == piece.sha256 && p.nom_fic == piece.nom_fic => {
            return Ok(Stored::Unchanged);
        }
        Some(p) => Stored::Replaced {
            previous_key: (p.storage_key != piece.storage_key).then(|| p.storage_key.clone()),
        },
        None => Stored::Created,
    };
    let row = OpiPjRow {
        cod_ind_opi: piece.cod_ind_opi,
        cod_tpj: piece.cod_tpj.clone(),
        cod_opi_int_epo: piece.cod_opi_int_epo.clone(),
        nom_fic: piece.nom_fic.clone(),
        cod_etu: piece.cod_etu,
        storage_key: piece.storage_key.clone(),
        size_bytes: piece.size_bytes,
        media_type: piece.media_type.clone(),
        sha256: piece.sha256.clone(),
        received_at: actor.now,
        created_at: previous.as_ref().map_or(actor.now, |p| p.created_at),
        updated_at: actor.now,
        created_by: previous
            .as_ref()
            .map_or(actor.client.map(str::to_owned), |p| p.created_by.clone()),
        last_trace_id: Some(actor.trace_id.to_owned()),
    };
    if previous.is_some() {
        diesel::update(op::table.find((piece.cod_ind_opi, &piece.cod_tpj)))
            .set((
                op::cod_opi_int_epo.eq(&row.cod_opi_int_epo),
                op::nom_fic.eq(&row.nom_fic),
                op::cod_etu.eq(row.cod_etu),
                op::storage_key.eq(&row.storage_key),
                op::size_bytes.eq(row.size_bytes),
                op::media_type.eq(&row.media_type),
                op::sha256.eq(&row.sha256),
                op::received_at.eq(row.received_at),
                op::updated_at.eq(row.updated_at),
                op::last_trace_id.eq(&row.last_trace_id),
            ))
            .execute(conn)?;
    } else {
        diesel::insert_into(op::table).values(&row).execute(conn)?;
    }
    Ok(outcome)
}

/// The piece of an OPI for one type.
pub fn find(
    conn: &mut AnyConnection,
    cod_ind_opi: i64,
    cod_tpj: &str,
) -> QueryResult<Option<OpiPjRow>> {
    op::table
        .find((cod_ind_opi, cod_tpj))
        .select(OpiPjRow::as_select())
        .get_result(conn)
        .optional()
}

/// Every piece of an OPI, by type.
pub fn list(conn: &mut AnyConnection, cod_ind_opi: i64) -> QueryResult<Vec<OpiPjRow>> {
    op::table
        .filter(op::cod_ind_opi.eq(cod_ind_opi))
        .order(op::cod_tpj.asc())
        .select(OpiPjRow::as_select())
        .load(conn)
}

/// Deletes the piece of an OPI for one type; returns its storage key (release it after commit).
pub fn delete(
    conn: &mut AnyConnection,
    cod_ind_opi: i64,
    cod_tpj: &str,
) -> QueryResult<Option<String>> {
    lock(conn, LOCK_PIECE, &format!("opi:{cod_ind_opi}:{cod_tpj}"))?;
    let Some(row) = find(conn, cod_ind_opi, cod_tpj)? else {
        return Ok(None);
    };
    diesel::delete(op::table.find((cod_ind_opi, cod_tpj))).execute(conn)?;
    Ok(Some(row.storage_key))
}

/// Whether any row (OPI or student piece) references `storage_key`.
pub fn is_referenced(conn: &mut AnyConnection, storage_key: &str) -> QueryResult<bool> {
    let opi: i64 = op::table
        .filter(op::storage_key.eq(storage_key))
        .count()
        .get_result(conn)?;
    if opi > 0 {
        return Ok(true);
    }
    let telem: i64 = tt::table
        .filter(tt::storage_key.eq(storage_key))
        .count()
        .get_result(conn)?;
    Ok(telem > 0)
}

/// In a write transaction: when no row references `storage_key`, runs `delete` (which removes
/// the file) while holding the file's lock. Returns whether the file was unreferenced.
pub fn release<E, D>(conn: &mut AnyConnection, storage_key: &str, delete: D) -> Result<bool, E>
where
    E: From<diesel::result::Error>,
    D: FnOnce() -> Result<(), E>,
{
    lock(conn, LOCK_FILE, storage_key)?;
    if is_referenced(conn, storage_key)? {
        return Ok(false);
    }
    delete()?;
    Ok(true)
}

/// Every storage key some row references (cleanup of orphan files).
pub fn referenced_keys(conn: &mut AnyConnection) -> QueryResult<HashSet<String>> {
    let mut keys: HashSet<String> = op::table
        .select(op::storage_key)
        .distinct()
        .load::<String>(conn)?
        .into_iter()
        .collect();
    keys.extend(
        tt::table
            .filter(tt::storage_key.is_not_null())
            .select(tt::storage_key)
            .distinct()
            .load::<Option<String>>(conn)?
            .into_iter()
            .flatten(),
    );
    Ok(keys)
}

/// A piece supplied by a known student at web enrolment (`TELEM_IAA_TPJ`).
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = crate::schema_pj::telem_iaa_tpj)]
pub struct StudentPieceRow {
    /// `COD_ANU`.
    pub cod_anu: String,
    /// `COD_ETU`.
    pub cod_etu: i64,
    /// `COD_TPJ`.
    pub cod_tpj: String,
    /// PJ type label.
    pub lib_tpj: Option<String>,
    /// `NOM_FIC`.
    pub nom_fic: Option<String>,
    /// `TEM_DEM_PJ` (`O`/`N`): the piece is requested.
    pub tem_dem_pj: String,
    /// `STU_PJ`: `V` validée, `A` en attente, `R` refusée.
    pub stu_pj: Option<String>,
    /// `MTF_REFUS`.
    pub mtf_refus: Option<String>,
    /// `CMT_MTF_REFUS`.
    pub cmt_mtf_refus: Option<String>,
    /// `DAT_DEM_PJ`.
    pub dat_dem_pj: Option<NaiveDateTime>,
    /// `DAT_REC_PJ`.
    pub dat_rec_pj: Option<NaiveDateTime>,
    /// `DAT_REFUS`.
    pub dat_refus: Option<NaiveDateTime>,
    /// `DAT_VAL`.
    pub dat_val: Option<NaiveDateTime>,
    /// `DAT_EXP`.
    pub dat_exp: Option<NaiveDateTime>,
    /// `DAA_PRE_TRA`.
    pub daa_pre_tra: Option<String>,
    /// The file, when one was supplied.
    pub storage_key: Option<String>,
    /// Its size.
    pub size_bytes: Option<i64>,
    /// Its media type.
    pub media_type: Option<String>,
    /// Its SHA-256.
    pub sha256: Option<String>,
    /// DM-4.
    pub created_at: NaiveDateTime,
    /// DM-4.
    pub updated_at: NaiveDateTime,
    /// DM-4.
    pub created_by: Option<String>,
    /// DM-4.
    pub last_trace_id: Option<String>,
}

/// The pieces of a student for one type, all years or one, newest year first.
pub fn student_pieces(
    conn: &mut AnyConnection,
    cod_etu: i64,
    cod_tpj: &str,
    cod_anu: Option<&str>,
) -> QueryResult<Vec<StudentPieceRow>> {
    let mut query = tt::table
        .filter(tt::cod_etu.eq(cod_etu))
        .filter(tt::cod_tpj.eq(cod_tpj))
        .select(StudentPieceRow::as_select())
        .order(tt::cod_anu.desc())
        .into_boxed();
    if let Some(anu) = cod_anu {
        query = query.filter(tt::cod_anu.eq(anu));
    }
    query.load(conn)
}

/// Whether `cod_etu` designates a known student: in the student register (`INDIVIDU`) or with
/// at least one enrolment piece.
pub fn student_known(conn: &mut AnyConnection, cod_etu: i64) -> QueryResult<bool> {
    use crate::schema_lp::etudiant as et;
    let registered: i64 = et::table
        .filter(et::cod_etu.eq(cod_etu))
        .count()
        .get_result(conn)?;
    if registered > 0 {
        return Ok(true);
    }
    let pieces: i64 = tt::table
        .filter(tt::cod_etu.eq(cod_etu))
        .count()
        .get_result(conn)?;
    Ok(pieces > 0)
}

/// Inserts or replaces a student piece (loading from the enrolment system). When the row has a
/// file, `publish` makes it durable first (as for [`store`]). Returns the previously referenced
/// file when it differs (release it after the commit).
pub fn store_student_piece<E, P>(
    conn: &mut AnyConnection,
    row: &StudentPieceRow,
    publish: P,
) -> Result<Option<String>, E>
where
    E: From<diesel::result::Error>,
    P: FnOnce() -> Result<(), E>,
{
    lock(
        conn,
        LOCK_PIECE,
        &format!("etu:{}:{}:{}", row.cod_etu, row.cod_tpj, row.cod_anu),
    )?;
    if let Some(key) = &row.storage_key {
        lock(conn, LOCK_FILE, key)?;
    }
    let previous: Option<Option<String>> = tt::table
        .find((row.cod_etu, &row.cod_tpj, &row.cod_anu))
        .select(tt::storage_key)
        .get_result(conn)
        .optional()?;
    publish()?;
    diesel::delete(tt::table.find((row.cod_etu, &row.cod_tpj, &row.cod_anu))).execute(conn)?;
    diesel::insert_into(tt::table).values(row).execute(conn)?;
    Ok(previous
        .flatten()
        .filter(|k| Some(k) != row.storage_key.as_ref()))
}
