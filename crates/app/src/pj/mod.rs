//! Attachments (pièces justificatives, `domain.md` §4): the storage service shared by the
//! `PjOpiMetier` SOAP operation and the REST API, the student pieces the Apogée PJ facade serves,
//! and the cleanup of orphan files.
//!
//! An upload streams into a temporary file of the storage directory while it is decoded (hashed,
//! sized, size-limited as it goes: the decoded file is never held in memory), is fsynced, then
//! checked (PJ-2 … PJ-6). In one write transaction, holding the locks of the piece and of the
//! file, it is renamed to its content address and the `OPI_PJ` row written: the row commits only
//! once its file is durable. A replaced file is deleted after the commit, if no other row
//! references it; files no row references (a crash between the rename and the commit, an OPI
//! deleted with its pieces) are deleted by [`cleanup`], at start and periodically.

pub mod storage;

use crate::{App, Call};
use apogee_db::repo::opi as opi_repo;
use apogee_db::repo::pj::{self as repo, NewPiece};
use apogee_db::{DbError, WriteError};
use apogee_domain::formats::rfc3339;
use apogee_domain::opi::upsert::unknown as unknown_opi;
use apogee_domain::pj::{self as rules, MediaType, StoredIdentity};
use apogee_domain::{Error, ErrorKind, FaultKey};
use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use serde::Serialize;
use std::io::Write as _;
use std::time::Duration;

pub use apogee_db::repo::pj::{OpiPjRow, Stored, StudentPieceRow};
pub use storage::{Staged, Staging, Storage};

/// An interrupted upload's temporary file older than this is deleted by the cleanup.
pub const STALE_TEMP: Duration = Duration::from_secs(3600);

/// The periodic cleanup (logged, never failing).
pub async fn cleanup_now(app: &App) {
    match cleanup(app, STALE_TEMP).await {
        Ok(r) if r.orphans + r.temps > 0 || !r.missing.is_empty() => {
            tracing::info!(
                orphans = r.orphans,
                temps = r.temps,
                missing = r.missing.len(),
                "pj storage cleanup"
            );
        }
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "pj storage cleanup failed"),
    }
}

/// A storage failure, logged; callers see a generic message.
pub fn storage_error(e: &std::io::Error) -> Error {
    tracing::error!(error = %e, "pj storage failure");
    Error::internal("Erreur interne lors de l'enregistrement du fichier")
}

/// What the cleanup did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CleanupReport {
    /// Stored files no row referenced, deleted.
    pub orphans: usize,
    /// Interrupted uploads' temporary files, deleted.
    pub temps: usize,
    /// Storage keys referenced by a row whose file is missing (never expected: reported).
    pub missing: Vec<String>,
}

/// Deletes stored files no row references (each one re-checked under its lock, so a file being
/// published is never touched) and temporary files older than `min_temp_age`; reports rows whose
/// file is missing.
pub async fn cleanup(app: &App, min_temp_age: Duration) -> Result<CleanupReport, Error> {
    let store = app.storage.clone();
    let referenced = app
        .db
        .read(|c| repo::referenced_keys(c).map_err(DbError::from))
        .await?;
    let (keys, temps) = {
        let store = store.clone();
        tokio::task::spawn_blocking(move || -> std::io::Result<_> {
            Ok((store.keys()?, store.remove_stale_temps(min_temp_age)?))
        })
        .await
        .map_err(|e| Error::internal(format!("nettoyage : {e}")))?
        .map_err(|e| storage_error(&e))?
    };
    let mut report = CleanupReport {
        temps,
        ..CleanupReport::default()
    };
    let present: std::collections::HashSet<&String> = keys.iter().collect();
    for key in &keys {
        if !referenced.contains(key) && release(app, key.clone()).await {
            report.orphans += 1;
        }
    }
    report.missing = referenced
        .iter()
        .filter(|k| !present.contains(k))
        .cloned()
        .collect();
    if !report.missing.is_empty() {
        tracing::error!(
            count = report.missing.len(),
            "pj storage: rows reference missing files"
        );
    }
    Ok(report)
}

/// Deletes the file `key` if no row references it (after a replacement, a deletion, a failed
/// write). Returns whether it was deleted; failures are logged (the next cleanup retries).
pub async fn release(app: &App, key: String) -> bool {
    let store = app.storage.clone();
    let result: Result<bool, WriteError> = app
        .db
        .write(move |c| {
            repo::release(c, &key, || {
                store
                    .remove(&key)
                    .map_err(|e| WriteError::Domain(storage_error(&e)))
            })
        })
        .await;
    result.unwrap_or_else(|e| {
        tracing::warn!(error = %e, "pj storage: file not released (the cleanup will retry)");
        false
    })
}

/// An upload to check and store.
#[derive(Debug, Clone)]
pub struct Upload {
    /// `codOpiIntEpo` (or an alias).
    pub code: String,
    /// `codTpj`.
    pub cod_tpj: String,
    /// The name as sent (sanitised here).
    pub nom_fic: String,
    /// Birth surname and first name to cross-check (SOAP, PJ-3); REST sends none.
    pub identity: Option<(String, String)>,
}

/// A stored upload.
#[derive(Debug, Clone)]
pub struct Uploaded {
    /// `PJ_CREEE`, `PJ_REMPLACEE` or `PJ_INCHANGEE`.
    pub outcome: Stored,
    /// The row as stored.
    pub row: OpiPjRow,
}

/// Checks (PJ-2 … PJ-6) and stores (PJ-5, PJ-7) one received file. Any error drops the staged
/// file (its temporary file is deleted).
pub async fn upload(app: &App, call: &Call, up: Upload, staged: Staged) -> Result<Uploaded, Error> {
    let settings = &app.settings.pj;
    let lookup = up.code.clone();
    let opi = app
        .db
        .read(move |c| opi_repo::find_by_code(c, &lookup).map_err(DbError::from))
        .await?
        .ok_or_else(|| unknown_opi(&up.code))?;
    if let Some((nom, prenom)) = &up.identity {
        rules::check_identity(
            nom,
            prenom,
            StoredIdentity {
                nom_pat: &opi.lib_nom_pat_ind_opi,
                nom_usu: opi.lib_nom_usu_ind_opi.as_deref(),
                prenom: &opi.lib_pr1_ind_opi,
            },
        )?;
    }
    let cod_tpj = rules::check_type(&app.referential(), &up.cod_tpj)?;
    let nom_fic = rules::sanitize_file_name(&up.nom_fic)?;
    let media = rules::check_content(
        staged.size,
        &staged.head,
        &nom_fic,
        settings.max_bytes,
        &settings.media_types(),
    )?;
    let piece = NewPiece {
        cod_ind_opi: opi.cod_ind_opi,
        cod_tpj: cod_tpj.clone(),
        cod_opi_int_epo: opi.cod_opi_int_epo.clone(),
        nom_fic,
        cod_etu: opi.cod_etu_opi,
        storage_key: staged.key(),
        size_bytes: i64::try_from(staged.size).unwrap_or(i64::MAX),
        media_type: media.as_str().to_owned(),
        sha256: staged.sha256.clone(),
    };
    let key = piece.storage_key.clone();
    let store = app.storage.clone();
    let call = call.clone();
    // Publishing consumes the staged file: the write cannot run twice.
    let written = app
        .db
        .write_once(move |c| -> Result<_, WriteError> {
            let outcome = repo::store(c, &piece, call.actor_now(), || {
                store
                    .publish(staged)
                    .map_err(|e| WriteError::Domain(storage_error(&e)))
            })?;
            let row = repo::find(c, piece.cod_ind_opi, &piece.cod_tpj)?.ok_or_else(|| {
                WriteError::Domain(Error::internal("pièce introuvable après écriture"))
            })?;
            Ok((outcome, row))
        })
        .await;
    match written {
        Ok((outcome, row)) => {
            if let Stored::Replaced {
                previous_key: Some(previous),
            } = &outcome
            {
                release(app, previous.clone()).await;
            }
            Ok(Uploaded { outcome, row })
        }
        Err(e) => {
            // The file may have been published before the write failed: drop it if unreferenced.
            release(app, key).await;
            Err(e.into())
        }
    }
}

/// Receives a body stream into the storage (REST uploads), refusing more than `pj.max_bytes`.
pub async fn stage_stream<S, E>(app: &App, mut stream: S) -> Result<Staged, Error>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    let max = app.settings.pj.max_bytes;
    let mut staging = app
        .storage
        .clone()
        .stage(max)
        .map_err(|e| storage_error(&e))?;
    let idle = std::time::Duration::from_secs(app.settings.limits.body_idle_timeout_secs.max(1));
    while let Some(chunk) = crate::upload::next_chunk(&mut stream, idle).await {
        let chunk = chunk?;
        if let Err(e) = staging.write_all(&chunk) {
            if !staging.exceeded() {
                return Err(storage_error(&e));
            }
            // Read (and drop) a bounded remainder so that the client gets the answer.
            let mut drained = 0usize;
            while let Some(Ok(rest)) = stream.next().await {
                drained += rest.len();
                if drained > 64 * 1024 * 1024 {
                    break;
                }
            }
            return Err(rules::too_large(max));
        }
    }
    tokio::task::spawn_blocking(move || staging.finish())
        .await
        .map_err(|e| Error::internal(format!("enregistrement : {e}")))?
        .map_err(|e| storage_error(&e))
}

/// The pieces of an OPI (by code or alias).
pub async fn list(app: &App, code: &str) -> Result<(opi_repo::OpiRow, Vec<OpiPjRow>), Error> {
    let lookup = code.to_owned();
    app.db
        .read(move |c| -> Result<_, DbError> {
            match opi_repo::find_by_code(c, &lookup)? {
                Some(opi) => {
                    let pieces = repo::list(c, opi.cod_ind_opi)?;
                    Ok(Some((opi, pieces)))
                }
                None => Ok(None),
            }
        })
        .await?
        .ok_or_else(|| unknown_opi(code))
}

fn no_piece(cod_tpj: &str) -> Error {
    Error::not_found(
        FaultKey::null_retrieve("pj"),
        format!(
            "Aucune pièce de type {} pour cette OPI",
            cod_tpj.chars().take(20).collect::<String>()
        ),
    )
}

/// One piece of an OPI with its open file.
pub async fn open(
    app: &App,
    code: &str,
    cod_tpj: &str,
) -> Result<(OpiPjRow, std::fs::File), Error> {
    // A replacement may delete the file between the read and the open: read again once.
    for _ in 0..2 {
        let (lookup, tpj) = (code.to_owned(), cod_tpj.to_owned());
        let row = app
            .db
            .read(move |c| -> Result<_, DbError> {
                match opi_repo::find_by_code(c, &lookup)? {
                    Some(opi) => Ok(Some(repo::find(c, opi.cod_ind_opi, &tpj)?)),
                    None => Ok(None),
                }
            })
            .await?
            .ok_or_else(|| unknown_opi(code))?
            .ok_or_else(|| no_piece(cod_tpj))?;
        if let Some(file) = open_key(app, &row.storage_key).await? {
            return Ok((row, file));
        }
    }
    Err(Error::internal(
        "Fichier de la pièce introuvable dans le stockage",
    ))
}

/// Opens a stored file (`None` if it is missing).
pub async fn open_key(app: &App, key: &str) -> Result<Option<std::fs::File>, Error> {
    let Some(path) = app.storage.path_of(key) else {
        return Ok(None);
    };
    tokio::task::spawn_blocking(move || match std::fs::File::open(path) {
        Ok(f) => Ok(Some(f)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    })
    .await
    .map_err(|e| Error::internal(format!("lecture : {e}")))?
    .map_err(|e| storage_error(&e))
}

/// Deletes one piece of an OPI (PJ-10); its file goes too when no other row references it.
pub async fn delete(app: &App, code: &str, cod_tpj: &str) -> Result<(), Error> {
    let (opi, _) = list(app, code).await?;
    let tpj = cod_tpj.to_owned();
    let key = app
        .db
        .write(move |c| repo::delete(c, opi.cod_ind_opi, &tpj).map_err(DbError::from))
        .await?
        .ok_or_else(|| no_piece(cod_tpj))?;
    release(app, key).await;
    Ok(())
}

/// Stores a student piece (`TELEM_IAA_TPJ`, what the PJ facade serves) with its file, if any.
pub async fn store_student_piece(
    app: &App,
    row: StudentPieceRow,
    file: Option<Staged>,
) -> Result<(), Error> {
    let mut row = row;
    if let Some(staged) = &file {
        row.storage_key = Some(staged.key());
        row.size_bytes = Some(i64::try_from(staged.size).unwrap_or(i64::MAX));
        row.media_type = MediaType::sniff(&staged.head).map(|t| t.as_str().to_owned());
        row.sha256 = Some(staged.sha256.clone());
    }
    let key = row.storage_key.clone();
    let store = app.storage.clone();
    let previous = app
        .db
        .write_once(move |c| {
            repo::store_student_piece(c, &row, || match file {
                Some(staged) => store
                    .publish(staged)
                    .map_err(|e| WriteError::Domain(storage_error(&e))),
                None => Ok(()),
            })
        })
        .await;
    match previous {
        Ok(previous) => {
            if let Some(previous) = previous {
                release(app, previous).await;
            }
            Ok(())
        }
        Err(e) => {
            if let Some(key) = key {
                release(app, key).await;
            }
            Err(e.into())
        }
    }
}

/// The label of a PJ type in the referential.
pub fn lib_tpj(app: &App, cod_tpj: &str) -> Option<String> {
    app.referential()
        .get("types-pj", &[cod_tpj])
        .and_then(|r| r.get("libTpj"))
        .and_then(apogee_domain::referential::Value::as_text)
}

/// A piece of an OPI, as the REST API shows it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct PieceView {
    /// PJ type.
    pub cod_tpj: String,
    /// Its label.
    pub lib_tpj: Option<String>,
    /// File name.
    pub nom_fic: String,
    /// Size in bytes.
    pub size_bytes: i64,
    /// SHA-256 of the content (also the download's `ETag`).
    pub sha256: String,
    /// Media type recognised from the content.
    pub media_type: String,
    /// Reception time (RFC 3339).
    pub received_at: String,
    /// First reception (RFC 3339).
    pub created_at: String,
    /// Last replacement (RFC 3339).
    pub updated_at: String,
}

impl PieceView {
    /// The view of a stored piece.
    pub fn of(app: &App, row: &OpiPjRow) -> Self {
        PieceView {
            cod_tpj: row.cod_tpj.clone(),
            lib_tpj: lib_tpj(app, &row.cod_tpj),
            nom_fic: row.nom_fic.clone(),
            size_bytes: row.size_bytes,
            sha256: row.sha256.clone(),
            media_type: row.media_type.clone(),
            received_at: rfc3339(row.received_at),
            created_at: rfc3339(row.created_at),
            updated_at: rfc3339(row.updated_at),
        }
    }
}

/// `GET /api/v1/opi/{code}/pj`.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct PieceList {
    /// The OPI's code.
    pub cod_opi_int_epo: String,
    /// `COD_IND_OPI`.
    pub cod_ind_opi: i64,
    /// Its pieces.
    pub pjs: Vec<PieceView>,
    /// How many.
    pub meta: CountMeta,
}

/// `meta` of a list given whole.
#[derive(Debug, Clone, Copy, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CountMeta {
    /// Items listed.
    pub total: usize,
}

/// The pieces of an OPI, as listed.
pub async fn pieces(app: &App, code: &str) -> Result<PieceList, Error> {
    let (opi, rows) = list(app, code).await?;
    let pjs: Vec<PieceView> = rows.iter().map(|r| PieceView::of(app, r)).collect();
    Ok(PieceList {
        cod_opi_int_epo: opi.cod_opi_int_epo,
        cod_ind_opi: opi.cod_ind_opi,
        meta: CountMeta { total: pjs.len() },
        pjs,
    })
}

/// Refuses early what needs no body: an unknown OPI or PJ type.
pub async fn check_target(app: &App, code: &str, cod_tpj: &str) -> Result<(), Error> {
    list(app, code).await?;
    rules::check_type(&app.referential(), cod_tpj)?;
    Ok(())
}

/// A stored piece and what happened (`PJ_CREEE`, `PJ_REMPLACEE`, `PJ_INCHANGEE`).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct PieceStored {
    /// The piece.
    #[serde(flatten)]
    pub piece: PieceView,
    /// `PJ_CREEE`, `PJ_REMPLACEE` or `PJ_INCHANGEE`.
    pub outcome: &'static str,
    /// The OPI's code (after an alias, the effective one).
    pub cod_opi_int_epo: String,
    /// A new piece (201) rather than a replacement (200).
    #[serde(skip)]
    pub created: bool,
}

/// `PUT /api/v1/opi/{code}/pj/{codTpj}`: the piece received (its name given by the query, the
/// upload or the multipart form), checked and stored; 413/415 for size and type.
pub async fn put(
    app: &App,
    call: &Call,
    code: &str,
    cod_tpj: &str,
    nom_fic: Option<String>,
    staged: Staged,
) -> Result<PieceStored, Error> {
    let nom_fic = nom_fic.filter(|n| !n.trim().is_empty()).ok_or_else(|| {
        Error::invalid_field(
            FaultKey::mandatory("nomFic"),
            "CHAMP_OBLIGATOIRE",
            "nomFic",
            "nomFic est obligatoire (?nomFic=, Content-Disposition ou nom du fichier envoyé)",
        )
    })?;
    let up = Upload {
        code: code.to_owned(),
        cod_tpj: cod_tpj.to_owned(),
        nom_fic,
        identity: None,
    };
    let done = upload(app, call, up, staged).await.map_err(rest_kind)?;
    Ok(PieceStored {
        piece: PieceView::of(app, &done.row),
        outcome: done.outcome.code(),
        cod_opi_int_epo: done.row.cod_opi_int_epo.clone(),
        created: matches!(done.outcome, Stored::Created),
    })
}

/// A piece a student supplied at enrolment (`TELEM_IAA_TPJ`), as loaded by
/// `PUT /api/v1/etudiants/{codEtu}/pj/{codAnu}/{codTpj}`.
#[derive(Debug, Clone)]
pub struct StudentUpload {
    /// Student number.
    pub cod_etu: i64,
    /// Academic year.
    pub cod_anu: String,
    /// PJ type.
    pub cod_tpj: String,
    /// File name.
    pub nom_fic: Option<String>,
    /// `V` validée (default), `A` en attente, `R` refusée (PJ-12).
    pub stu_pj: Option<String>,
    /// Refusal motive.
    pub mtf_refus: Option<String>,
}

/// Checks the address of a student piece before its body is read.
pub fn check_student_target(app: &App, up: &StudentUpload) -> Result<(), Error> {
    if !apogee_domain::formats::is_cod_etu(up.cod_etu) {
        return Err(Error::bad_request("codEtu", "codEtu : 1 à 99999999"));
    }
    if !apogee_domain::formats::is_year(&up.cod_anu) {
        return Err(Error::bad_request("codAnu", "codAnu : une année AAAA"));
    }
    if lib_tpj(app, &up.cod_tpj).is_none() {
        return Err(Error::not_found(
            FaultKey::null_retrieve("codTpj"),
            format!("Type de pièce inconnu : {}", up.cod_tpj),
        ));
    }
    if !matches!(up.stu_pj.as_deref().unwrap_or("V"), "V" | "A" | "R") {
        return Err(Error::bad_request("stuPj", "stuPj : V, A ou R"));
    }
    Ok(())
}

/// Stores a student piece with its file, which the Apogée PJ facade then serves (PJ-11 … PJ-13).
pub async fn put_student_piece(
    app: &App,
    call: &Call,
    up: StudentUpload,
    staged: Staged,
) -> Result<(), Error> {
    check_student_target(app, &up)?;
    let nom_fic = up
        .nom_fic
        .as_deref()
        .map(rules::sanitize_file_name)
        .transpose()?;
    let settings = &app.settings.pj;
    rules::check_content(
        staged.size,
        &staged.head,
        nom_fic.as_deref().unwrap_or(""),
        settings.max_bytes,
        &settings.media_types(),
    )
    .map_err(rest_kind)?;
    let stu_pj = up.stu_pj.unwrap_or_else(|| "V".into());
    let now = call.now;
    let row = StudentPieceRow {
        lib_tpj: lib_tpj(app, &up.cod_tpj),
        cod_anu: up.cod_anu,
        cod_etu: up.cod_etu,
        cod_tpj: up.cod_tpj,
        nom_fic,
        tem_dem_pj: "O".into(),
        dat_refus: (stu_pj == "R").then_some(now),
        dat_val: (stu_pj == "V").then_some(now),
        stu_pj: Some(stu_pj),
        mtf_refus: up.mtf_refus,
        cmt_mtf_refus: None,
        dat_dem_pj: Some(now),
        dat_rec_pj: Some(now),
        dat_exp: None,
        daa_pre_tra: None,
        storage_key: None,
        size_bytes: None,
        media_type: None,
        sha256: None,
        created_at: now,
        updated_at: now,
        created_by: Some(call.client.clone()),
        last_trace_id: Some(call.trace_id.clone()),
    };
    store_student_piece(app, row, Some(staged)).await
}

/// The pieces of a student for a type (newest year first), each with its type's label; `None`
/// when the student is unknown.
pub async fn student_pieces(
    app: &App,
    cod_etu: i64,
    cod_tpj: &str,
    cod_anu: Option<String>,
) -> Result<Option<Vec<StudentPieceRow>>, Error> {
    let tpj = cod_tpj.to_owned();
    let (known, mut rows) = app
        .db
        .read(move |c| -> Result<_, DbError> {
            let known = repo::student_known(c, cod_etu)?;
            let rows = repo::student_pieces(c, cod_etu, &tpj, cod_anu.as_deref())?;
            Ok((known, rows))
        })
        .await?;
    if !known {
        return Ok(None);
    }
    for r in &mut rows {
        if r.lib_tpj.is_none() {
            r.lib_tpj = lib_tpj(app, &r.cod_tpj);
        }
    }
    Ok(Some(rows))
}

/// The error kind REST gives a PJ rule failure: 413 for the size, 415 for a refused type.
pub fn rest_kind(err: Error) -> Error {
    let code = err.errors.first().map(|e| e.code.as_str());
    let kind = match code {
        Some("PJ_TROP_VOLUMINEUX") => ErrorKind::PayloadTooLarge,
        Some("PJ_TYPE_NON_AUTORISE") => ErrorKind::UnsupportedMediaType,
        _ => err.kind,
    };
    Error { kind, ..err }
}
