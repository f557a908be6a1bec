//! Attachments (pièces justificatives, `domain.md` §4): the `PjOpiMetier` SOAP operation (inline
//! base64 or MTOM), the storage service shared with the REST API, the cleanup of orphan files,
//! and the Apogée PJ REST and INES check facades (`facade`).
//!
//! An upload streams into a temporary file of the storage directory while it is decoded (hashed,
//! sized, size-limited as it goes: the decoded file is never held in memory), is fsynced, then
//! checked (PJ-2 … PJ-6). In one write transaction, holding the locks of the piece and of the
//! file, it is renamed to its content address and the `OPI_PJ` row written: the row commits only
//! once its file is durable. A replaced file is deleted after the commit, if no other row
//! references it; files no row references (a crash between the rename and the commit, an OPI
//! deleted with its pieces) are deleted by [`cleanup`], at start and periodically.

pub mod facade;
pub mod storage;

use crate::config::Settings;
use crate::soap::{business_fault, codec_fault, xml_response};
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use apogee_db::repo::opi as opi_repo;
use apogee_db::repo::pj::{self as repo, NewPiece, OpiPjRow, Stored, StudentPieceRow};
use apogee_db::{DbError, WriteError};
use apogee_domain::pj::{self as rules, MediaType, StoredIdentity};
use apogee_domain::{Error, ErrorKind, FaultKey, FieldError};
use apogee_soap::SoapError;
use apogee_soap::decode::{Limits, TextSink, decode_streaming};
use apogee_soap::mtom::{self, Base64Decoder, Base64Error, ContentType};
use apogee_soap::ops::{PJ_CONTENT_ELEMENT, PjContent, PjRequest, Service, pj_response};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::io::Write as _;
use std::path::PathBuf;
use std::time::Duration;
pub use storage::{Staged, Staging, Storage};

/// Attachment settings (`[pj]`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PjSettings {
    /// Largest attachment, in bytes (PJ-6). A base64 envelope is a third larger: keep
    /// `limits.soap_bytes` above `max_bytes × 1.37` (checked at start).
    pub max_bytes: u64,
    /// Media types accepted, recognised from the content (among `application/pdf`, `image/jpeg`,
    /// `image/png`).
    pub allowed_types: Vec<String>,
    /// Where files are stored; default `<data_dir>/pj`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub storage_dir: Option<PathBuf>,
    /// Base path of the Apogée PJ REST facade (`<base>/info`, `<base>/fichier`, PJ-11 … PJ-14).
    pub pj_facade_base: String,
    /// Base path of the INES check facade (`<base>/v1/check-ine`, `<base>/version`, INES-1).
    pub ines_facade_base: String,
    /// With `facade_header_value`: a request carrying this header with this value may call the
    /// facades without API credentials (PJ-15; what eCandidat sends per service).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub facade_header_name: Option<String>,
    /// The expected value of `facade_header_name` (a secret: masked by `apogee-gateway config`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub facade_header_value: Option<String>,
    /// INES values (11 characters) the INES verifier accepts, every other INES being refused: the
    /// static allow-list of INE-8. Empty: no verifier (INES-shaped values answer 503).
    pub ines_allow_list: Vec<String>,
    /// Seconds between two cleanups of orphan files and interrupted uploads (also run at start).
    pub cleanup_interval_secs: u64,
}

impl Default for PjSettings {
    fn default() -> Self {
        PjSettings {
            max_bytes: 10 * 1024 * 1024,
            allowed_types: MediaType::ALL
                .iter()
                .map(|t| t.as_str().to_owned())
                .collect(),
            storage_dir: None,
            pj_facade_base: "/apo-ws/services/PJ".into(),
            ines_facade_base: "/ines".into(),
            facade_header_name: None,
            facade_header_value: None,
            ines_allow_list: Vec::new(),
            cleanup_interval_secs: 3600,
        }
    }
}

/// An interrupted upload's temporary file older than this is deleted by the cleanup.
const STALE_TEMP: Duration = Duration::from_secs(3600);

impl PjSettings {
    /// The accepted media types (unknown names are refused by [`PjSettings::check`]).
    pub fn media_types(&self) -> Vec<MediaType> {
        self.allowed_types
            .iter()
            .filter_map(|t| MediaType::from_mime(t))
            .collect()
    }

    /// A copy safe to print (the facade header value masked).
    pub fn masked(&self) -> Self {
        let mut shown = self.clone();
        if shown.facade_header_value.is_some() {
            shown.facade_header_value = Some("****".into());
        }
        shown
    }

    /// Refuses settings the gateway cannot honour.
    pub fn check(&self, settings: &Settings) -> Result<(), String> {
        if self.max_bytes == 0 {
            return Err("pj.max_bytes doit être positif".into());
        }
        // base64 (4/3), lines of 76 characters with CRLF, and the envelope.
        let envelope = self.max_bytes.div_ceil(3) * 4 / 76 * 78 + 64 * 1024;
        if (settings.limits.soap_bytes as u64) < envelope {
            return Err(format!(
                "limits.soap_bytes ({}) est trop petit pour une pièce de pj.max_bytes ({}) en base64 : au moins {envelope}",
                settings.limits.soap_bytes, self.max_bytes
            ));
        }
        for t in &self.allowed_types {
            if MediaType::from_mime(t).is_none() {
                return Err(format!(
                    "pj.allowed_types : type {t} inconnu (application/pdf, image/jpeg, image/png)"
                ));
            }
        }
        if self.allowed_types.is_empty() {
            return Err("pj.allowed_types est vide".into());
        }
        for (key, base) in [
            ("pj_facade_base", &self.pj_facade_base),
            ("ines_facade_base", &self.ines_facade_base),
        ] {
            let ok = base.starts_with('/')
                && base.len() > 1
                && !base.ends_with('/')
                && !base.starts_with("/api/v1")
                && !base.contains(['?', '#', '{', '}']);
            if !ok {
                return Err(format!(
                    "pj.{key} : chemin invalide « {base} » (commence par /, sans / final, hors de /api/v1)"
                ));
            }
        }
        if self.facade_header_name.is_some() != self.facade_header_value.is_some() {
            return Err("pj.facade_header_name et pj.facade_header_value vont ensemble".into());
        }
        if let Some(name) = &self.facade_header_name
            && actix_web::http::header::HeaderName::try_from(name.as_str()).is_err()
        {
            return Err(format!(
                "pj.facade_header_name : nom d'en-tête invalide « {name} »"
            ));
        }
        Ok(())
    }
}

/// The storage of `settings`.
pub fn storage(settings: &Settings) -> Storage {
    Storage::new(
        settings
            .pj
            .storage_dir
            .clone()
            .unwrap_or_else(|| settings.data_dir.join("pj")),
    )
}

/// Checks the settings, creates the storage directories and starts the cleanup (now, then every
/// `pj.cleanup_interval_secs`). Called once at start.
pub fn start(state: &web::Data<AppState>) -> anyhow::Result<()> {
    state
        .settings
        .pj
        .check(&state.settings)
        .map_err(anyhow::Error::msg)?;
    let store = storage(&state.settings);
    store.init().map_err(|e| {
        anyhow::anyhow!(
            "cannot create the attachment directory {}: {e}",
            store.root().display()
        )
    })?;
    let state = state.clone();
    tokio::spawn(async move {
        let every = Duration::from_secs(state.settings.pj.cleanup_interval_secs.max(60));
        let mut tick = tokio::time::interval(every);
        loop {
            tick.tick().await;
            match cleanup(&state, STALE_TEMP).await {
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
    });
    Ok(())
}

fn storage_error(e: &std::io::Error) -> Error {
    tracing::error!(error = %e, "pj storage failure");
    Error::internal("Erreur interne lors de l'enregistrement du fichier")
}

fn unknown_opi(code: &str) -> Error {
    Error::not_found(
        FaultKey::null_retrieve("codOpiIntEpo"),
        format!(
            "Aucune OPI pour le numéro {}",
            code.trim().chars().take(20).collect::<String>()
        ),
    )
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
pub async fn cleanup(state: &AppState, min_temp_age: Duration) -> Result<CleanupReport, Error> {
    let store = storage(&state.settings);
    let referenced = state
        .db
        .read(|c| repo::referenced_keys(c).map_err(DbError::from))
        .await?;
    let (keys, temps) = {
        let store = store.clone();
        web::block(move || -> std::io::Result<_> {
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
        if !referenced.contains(key) && release(state, key.clone()).await {
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
pub async fn release(state: &AppState, key: String) -> bool {
    let store = storage(&state.settings);
    let result: Result<bool, WriteError> = state
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
pub async fn upload(
    state: &AppState,
    client: &str,
    up: Upload,
    staged: Staged,
) -> Result<Uploaded, Error> {
    let settings = &state.settings.pj;
    let lookup = up.code.clone();
    let opi = state
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
    let cod_tpj = rules::check_type(&state.referential(), &up.cod_tpj)?;
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
    let store = storage(&state.settings);
    let trace_id = crate::error::current_request_id().unwrap_or_default();
    let client = client.to_owned();
    let written = state
        .db
        .write(move |c| -> Result<_, WriteError> {
            let outcome = repo::store(
                c,
                &piece,
                repo::Actor {
                    client: Some(&client),
                    trace_id: &trace_id,
                    now: chrono::Utc::now().naive_utc(),
                },
                || {
                    store
                        .publish(staged)
                        .map_err(|e| WriteError::Domain(storage_error(&e)))
                },
            )?;
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
                release(state, previous.clone()).await;
            }
            Ok(Uploaded { outcome, row })
        }
        Err(e) => {
            // The file may have been published before the write failed: drop it if unreferenced.
            release(state, key).await;
            Err(e.into())
        }
    }
}

/// Receives a body stream into the storage (REST uploads), refusing more than `pj.max_bytes`.
pub async fn stage_stream<S, E>(state: &AppState, mut stream: S) -> Result<Staged, Error>
where
    S: futures_util::Stream<Item = Result<web::Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    use futures_util::StreamExt;
    let max = state.settings.pj.max_bytes;
    let mut staging = storage(&state.settings)
        .stage(max)
        .map_err(|e| storage_error(&e))?;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| {
            Error::invalid_field(
                FaultKey::noncoherent("body"),
                "REQUETE_INVALIDE",
                "body",
                format!("Lecture du corps interrompue : {e}"),
            )
        })?;
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
    web::block(move || staging.finish())
        .await
        .map_err(|e| Error::internal(format!("enregistrement : {e}")))?
        .map_err(|e| storage_error(&e))
}

/// The pieces of an OPI (by code or alias).
pub async fn list(
    state: &AppState,
    code: &str,
) -> Result<(opi_repo::OpiRow, Vec<OpiPjRow>), Error> {
    let lookup = code.to_owned();
    state
        .db
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
    state: &AppState,
    code: &str,
    cod_tpj: &str,
) -> Result<(OpiPjRow, std::fs::File), Error> {
    // A replacement may delete the file between the read and the open: read again once.
    for _ in 0..2 {
        let (lookup, tpj) = (code.to_owned(), cod_tpj.to_owned());
        let row = state
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
        if let Some(file) = open_key(state, &row.storage_key).await? {
            return Ok((row, file));
        }
    }
    Err(Error::internal(
        "Fichier de la pièce introuvable dans le stockage",
    ))
}

/// Opens a stored file (`None` if it is missing).
pub async fn open_key(state: &AppState, key: &str) -> Result<Option<std::fs::File>, Error> {
    let Some(path) = storage(&state.settings).path_of(key) else {
        return Ok(None);
    };
    web::block(move || match std::fs::File::open(path) {
        Ok(f) => Ok(Some(f)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    })
    .await
    .map_err(|e| Error::internal(format!("lecture : {e}")))?
    .map_err(|e| storage_error(&e))
}

/// Deletes one piece of an OPI (PJ-10); its file goes too when no other row references it.
pub async fn delete(state: &AppState, code: &str, cod_tpj: &str) -> Result<(), Error> {
    let (opi, _) = list(state, code).await?;
    let tpj = cod_tpj.to_owned();
    let key = state
        .db
        .write(move |c| repo::delete(c, opi.cod_ind_opi, &tpj).map_err(DbError::from))
        .await?
        .ok_or_else(|| no_piece(cod_tpj))?;
    release(state, key).await;
    Ok(())
}

/// Stores a student piece (`TELEM_IAA_TPJ`, what the PJ facade serves) with its file, if any.
pub async fn store_student_piece(
    state: &AppState,
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
    let store = storage(&state.settings);
    let previous = state
        .db
        .write(move |c| {
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
                release(state, previous).await;
            }
            Ok(())
        }
        Err(e) => {
            if let Some(key) = key {
                release(state, key).await;
            }
            Err(e.into())
        }
    }
}

// ---------------------------------------------------------------------------------------------
// SOAP: recupererPiecesJustificativesOPIWS

/// Decodes `_pj` into the staging: base64 text fed to the decoder as the XML is read.
struct PjSink<'a> {
    decoder: Base64Decoder<&'a mut Staging>,
    invalid: Option<Base64Error>,
}

impl TextSink for PjSink<'_> {
    fn text(&mut self, chunk: &[u8]) -> Result<(), SoapError> {
        self.decoder.feed(chunk).map_err(|e| {
            let message = format!("_pj illisible : {e}");
            if !matches!(e, Base64Error::Write(_)) {
                self.invalid = Some(e);
            }
            SoapError::client(message)
        })
    }
}

/// Why a decoding failed: the codec refused the message (`Client` fault) or a rule refused the
/// attachment (`Server` fault with its key).
enum Failure {
    Codec(SoapError),
    Rule(Error),
    /// Writing the temporary file failed (an exceeded size limit is reported as such instead).
    Io(std::io::Error),
}

impl From<SoapError> for Failure {
    fn from(e: SoapError) -> Self {
        Failure::Codec(e)
    }
}

fn bad_content(detail: &str) -> Error {
    Error::validation(vec![FieldError::new(
        FaultKey::noncoherent("pj"),
        "PJ_CONTENU_ILLISIBLE",
        Some("pj".into()),
        format!("Contenu de _pj illisible : {detail}"),
    )])
}

/// Parses the message (MTOM or plain), streams `_pj` into a staged file; runs on a blocking
/// thread. `None` staged: `_pj` absent.
fn decode_upload(
    body: &[u8],
    content_type: &str,
    limits: &Limits,
    store: &Storage,
    max_bytes: u64,
) -> Result<(PjRequest, Option<Staged>), Failure> {
    let mime = ContentType::parse(content_type).mime;
    let multipart = match mime.as_str() {
        "multipart/related" => Some(mtom::parse(content_type, body)?),
        "text/xml" | "application/xml" => None,
        other => {
            return Err(Failure::Codec(SoapError::client(format!(
                "Type de contenu non pris en charge : {other} (text/xml, ou multipart/related pour MTOM)"
            ))));
        }
    };
    let (root, root_type): (Cow<'_, [u8]>, Option<&str>) = match &multipart {
        Some(m) => {
            let root = m
                .root()
                .ok_or_else(|| SoapError::client("Partie racine MTOM absente"))?;
            (root.decoded()?, root.content_type.as_deref())
        }
        None => (Cow::Borrowed(body), Some(content_type)),
    };
    let mut staging = store
        .stage(max_bytes)
        .map_err(|e| Failure::Rule(storage_error(&e)))?;
    let decoded = {
        let mut sink = PjSink {
            decoder: Base64Decoder::new(&mut staging),
            invalid: None,
        };
        let decoded = decode_streaming(&root, root_type, limits, PJ_CONTENT_ELEMENT, &mut sink);
        let finished = sink.decoder.finish().map(|_| ());
        match (decoded, finished, sink.invalid) {
            (Err(e), _, None) => Err(Failure::Codec(e)),
            (_, _, Some(invalid)) => Err(Failure::Rule(bad_content(&invalid.to_string()))),
            (Ok(_), Err(Base64Error::Write(e)), _) => Err(Failure::Io(e)),
            (Ok(_), Err(invalid), _) => Err(Failure::Rule(bad_content(&invalid.to_string()))),
            (Ok(request), Ok(()), None) => Ok(request),
        }
    };
    if staging.exceeded() {
        return Err(Failure::Rule(rules::too_large(max_bytes)));
    }
    let request = decoded?;
    if !Service::Pj.accepts_namespace(&request.namespace) {
        return Err(Failure::Codec(SoapError::client(format!(
            "Élément {{{}}}{} inconnu du service PjOpiMetier (espace de noms attendu : {})",
            request.namespace,
            request.operation,
            Service::Pj.namespace()
        ))));
    }
    let pj = match PjRequest::from_request(&request) {
        Some(r) => r?,
        None => {
            return Err(Failure::Codec(SoapError::client(format!(
                "Opération {} non disponible sur le service PjOpiMetier",
                request.operation
            ))));
        }
    };
    match &pj.pj {
        PjContent::Absent => return Ok((pj, None)),
        PjContent::Streamed | PjContent::Base64(_) => {}
        PjContent::Xop(href) => {
            if staging.size() > 0 {
                return Err(Failure::Codec(SoapError::client(
                    "_pj contient à la fois du texte et un xop:Include",
                )));
            }
            let Some(parts) = &multipart else {
                return Err(Failure::Codec(SoapError::client(
                    "xop:Include dans un message qui n'est pas MTOM (multipart/related attendu)",
                )));
            };
            let part = parts.resolve(href).ok_or_else(|| {
                SoapError::client(format!(
                    "Aucune partie MIME ne correspond à {}",
                    href.chars().take(200).collect::<String>()
                ))
            })?;
            if let Err(e) = part.copy_to(&mut staging) {
                return Err(Failure::Rule(match e {
                    _ if staging.exceeded() => rules::too_large(max_bytes),
                    Base64Error::Write(e) => return Err(Failure::Io(e)),
                    other => bad_content(&other.to_string()),
                }));
            }
        }
    }
    let staged = staging
        .finish()
        .map_err(|e| Failure::Rule(storage_error(&e)))?;
    Ok((pj, Some(staged)))
}

/// `POST <base>/PjOpiMetier`: `recupererPiecesJustificativesOPIWS`, inline base64 or MTOM.
/// Answers `PjOpiRetourDTO {msg: OK}` or a fault (PJ-8).
pub async fn soap_call(
    req: &HttpRequest,
    state: &AppState,
    client: &str,
    content_type: Option<&str>,
    body: web::Bytes,
) -> HttpResponse {
    let service = Service::Pj;
    let content_type = content_type.unwrap_or("text/xml").to_owned();
    let limits = Limits {
        max_bytes: state.settings.limits.soap_bytes,
        ..Limits::default()
    };
    let store = storage(&state.settings);
    let max_bytes = state.settings.pj.max_bytes;
    let decoded =
        web::block(move || decode_upload(&body, &content_type, &limits, &store, max_bytes)).await;
    let (pj, staged) = match decoded {
        Ok(Ok(v)) => v,
        Ok(Err(Failure::Codec(e))) => return codec_fault(req, service, &e),
        Ok(Err(Failure::Rule(e))) => return business_fault(req, service, &e),
        Ok(Err(Failure::Io(e))) => return business_fault(req, service, &storage_error(&e)),
        Err(e) => {
            return business_fault(req, service, &Error::internal(format!("décodage : {e}")));
        }
    };
    crate::journal::note(req, |n| {
        n.operation = Some(apogee_soap::ops::PJ_OPERATION.into());
        if let Some(code) = &pj.cod_opi_int_epo {
            n.key = Some(("codOpiIntEpo".into(), code.trim().to_owned()));
        }
    });
    let mandatory = rules::check_mandatory(&[
        ("codOpiIntEpo", pj.cod_opi_int_epo.as_deref()),
        ("libNomPatIndOpi", pj.lib_nom_pat_ind_opi.as_deref()),
        ("libPr1IndOpi", pj.lib_pr1_ind_opi.as_deref()),
        ("codTpj", pj.cod_tpj.as_deref()),
        ("nomFic", pj.nom_fic.as_deref()),
        // `_pj` present (even empty) counts as given: its size is checked by PJ-6.
        ("pj", staged.as_ref().map(|_| "_pj")),
    ]);
    if let Err(e) = mandatory {
        return business_fault(req, service, &e);
    }
    let Some(staged) = staged else {
        return business_fault(req, service, &Error::internal("_pj absent"));
    };
    let up = Upload {
        code: pj.cod_opi_int_epo.clone().unwrap_or_default(),
        cod_tpj: pj.cod_tpj.clone().unwrap_or_default(),
        nom_fic: pj.nom_fic.clone().unwrap_or_default(),
        identity: Some((
            pj.lib_nom_pat_ind_opi.clone().unwrap_or_default(),
            pj.lib_pr1_ind_opi.clone().unwrap_or_default(),
        )),
    };
    match upload(state, client, up, staged).await {
        Ok(done) => {
            crate::journal::note(req, |n| {
                n.key = Some(("codOpiIntEpo".into(), done.row.cod_opi_int_epo.clone()));
                n.warnings = std::iter::once(done.outcome.code().to_owned())
                    .chain(pj.ignored.iter().map(|p| format!("ELEMENT_IGNORE:{p}")))
                    .collect();
            });
            xml_response(StatusCode::OK, pj_response())
        }
        Err(e) => business_fault(req, service, &e),
    }
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
