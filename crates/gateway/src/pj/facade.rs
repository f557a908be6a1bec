//! Facades that copy existing contracts, so tools written for them work unchanged:
//!
//! * the Apogée PJ REST service (PJ-11 … PJ-15): `GET <pj base>/info` and `GET <pj base>/fichier`
//!   with `codAnu`, `codEtu`, `codTpj`, answers whose fields are all strings, and the error body
//!   `{"erreurMsg", "erreurType", "erreurDescription"}`;
//! * the INES check service (INES-1 … INES-3): `POST <ines base>/v1/check-ine` answering a bare
//!   JSON boolean, `GET <ines base>/version`.
//!
//! Access: API credentials (Bearer or Basic; `pj:read` for the PJ service, any client for the INES
//! check) or, when configured, the header `pj.facade_header_name` with its value (PJ-15).

use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse};
use apogee_db::DbError;
use apogee_db::repo::pj::{self as repo, StudentPieceRow};
use apogee_domain::Scope;
use apogee_domain::ine::{self, IneFamily, IneValidity};
use apogee_domain::referential::Value;
use chrono::NaiveDateTime;
use serde::Serialize;
use std::collections::HashMap;

/// An error in the facades' own format (PJ-14).
#[derive(Debug, Clone)]
pub struct FacadeError {
    /// HTTP status.
    pub status: StatusCode,
    /// `erreurType`, e.g. `nullretrieve.piecejustif`.
    pub kind: String,
    /// `erreurMsg`: French, short.
    pub message: String,
    /// `erreurDescription`: French, the details.
    pub description: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ErrorBody<'a> {
    erreur_msg: &'a str,
    erreur_type: &'a str,
    erreur_description: &'a str,
}

impl FacadeError {
    fn new(status: StatusCode, kind: &str, message: &str, description: String) -> Self {
        FacadeError {
            status,
            kind: kind.to_owned(),
            message: message.to_owned(),
            description,
        }
    }

    /// `400 inputparameter.<param>`: missing or malformed parameter.
    pub fn parameter(param: &str, description: String) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            &format!("inputparameter.{param}"),
            &format!("Paramètre {param} absent ou invalide"),
            description,
        )
    }

    /// `500 technical`.
    pub fn internal(description: &str) -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "technical",
            "Erreur technique",
            description.to_owned(),
        )
    }

    /// The response. Its `FaultNote` keeps the framework error handler away.
    pub fn response(&self) -> HttpResponse {
        let body = ErrorBody {
            erreur_msg: &self.message,
            erreur_type: &self.kind,
            erreur_description: &self.description,
        };
        let mut res = HttpResponse::build(self.status);
        if self.status == StatusCode::UNAUTHORIZED {
            res.insert_header((
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"apogee-gateway\""),
            ));
        }
        let mut res = res.json(body);
        res.extensions_mut().insert(crate::error::FaultNote {
            fault_key: self.kind.clone(),
            message: self.message.clone(),
        });
        res
    }
}

impl From<apogee_domain::Error> for FacadeError {
    fn from(err: apogee_domain::Error) -> Self {
        if err.kind == apogee_domain::ErrorKind::Unavailable {
            Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "technical.indisponible",
                "Service momentanément indisponible",
                err.message,
            )
        } else {
            Self::internal(&err.message)
        }
    }
}

impl From<DbError> for FacadeError {
    fn from(err: DbError) -> Self {
        apogee_domain::Error::from(err).into()
    }
}

fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// The configured header (PJ-15), or API credentials with `scope` (any client when `None`).
pub async fn authorize(
    req: &HttpRequest,
    state: &AppState,
    scope: Option<Scope>,
) -> Result<(), FacadeError> {
    let s = &state.settings.pj;
    if let (Some(name), Some(expected)) = (&s.facade_header_name, &s.facade_header_value)
        && req
            .headers()
            .get(name.as_str())
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| same_secret(v, expected))
    {
        return Ok(());
    }
    let caller = crate::auth::authenticate(req, state).await.map_err(|e| {
        FacadeError::new(
            StatusCode::UNAUTHORIZED,
            "security.invaliduser",
            "Authentification requise",
            e.0.message,
        )
    })?;
    if let Some(scope) = scope {
        caller.require(scope).map_err(|e| {
            FacadeError::new(
                StatusCode::FORBIDDEN,
                "security.forbidden",
                "Accès refusé",
                e.0.message,
            )
        })?;
    }
    Ok(())
}

/// The query parameters (first value of each name).
pub fn query(req: &HttpRequest) -> Result<HashMap<String, String>, FacadeError> {
    let pairs = actix_web::web::Query::<Vec<(String, String)>>::from_query(req.query_string())
        .map_err(|e| FacadeError::parameter("query", format!("Paramètres illisibles : {e}")))?;
    let mut out = HashMap::new();
    for (k, v) in pairs.into_inner() {
        out.entry(k).or_insert(v);
    }
    Ok(out)
}

fn required<'a>(q: &'a HashMap<String, String>, name: &str) -> Result<&'a str, FacadeError> {
    q.get(name)
        .map(|v| v.trim())
        .filter(|v| !v.is_empty())
        .ok_or_else(|| FacadeError::parameter(name, format!("Le paramètre {name} est obligatoire")))
}

fn cod_etu(q: &HashMap<String, String>) -> Result<i64, FacadeError> {
    let v = required(q, "codEtu")?;
    if v.len() > 8 || !v.bytes().all(|b| b.is_ascii_digit()) {
        return Err(FacadeError::parameter(
            "codEtu",
            "codEtu : numéro d'étudiant de 1 à 8 chiffres".into(),
        ));
    }
    v.parse()
        .map_err(|_| FacadeError::parameter("codEtu", "codEtu : nombre attendu".into()))
}

fn cod_tpj(q: &HashMap<String, String>) -> Result<String, FacadeError> {
    let v = required(q, "codTpj")?;
    if v.chars().count() > apogee_domain::pj::MAX_TPJ_CHARS || v.chars().any(char::is_control) {
        return Err(FacadeError::parameter(
            "codTpj",
            format!(
                "codTpj : code de {} caractères au plus",
                apogee_domain::pj::MAX_TPJ_CHARS
            ),
        ));
    }
    Ok(v.to_owned())
}

fn cod_anu(q: &HashMap<String, String>, mandatory: bool) -> Result<Option<String>, FacadeError> {
    let v = if mandatory {
        Some(required(q, "codAnu")?)
    } else {
        q.get("codAnu").map(|v| v.trim()).filter(|v| !v.is_empty())
    };
    match v {
        Some(v) if v.len() != 4 || !v.bytes().all(|b| b.is_ascii_digit()) => {
            Err(FacadeError::parameter(
                "codAnu",
                "codAnu : année sur 4 chiffres (2025 = 2025/26)".into(),
            ))
        }
        v => Ok(v.map(str::to_owned)),
    }
}

fn unknown_student(cod_etu: i64) -> FacadeError {
    FacadeError::new(
        StatusCode::NOT_FOUND,
        "nullretrieve.etudiantinexistant",
        "Étudiant inexistant",
        format!("Aucun étudiant pour le numéro {cod_etu}"),
    )
}

fn no_piece(cod_etu: i64, cod_tpj: &str) -> FacadeError {
    FacadeError::new(
        StatusCode::NOT_FOUND,
        "nullretrieve.piecejustif",
        "Pièce justificative inexistante",
        format!("Aucune pièce {cod_tpj} pour l'étudiant {cod_etu}"),
    )
}

/// One piece as `/info` lists it (PJ-11): every field a string or `null`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PjInfo {
    cod_anu: String,
    cod_tpj: String,
    lib_tpj: Option<String>,
    nom_fic: Option<String>,
    #[serde(rename = "temDemPJ")]
    tem_dem_pj: String,
    stu_pj: Option<String>,
    mtf_refus: Option<String>,
    cmt_mtf_refus: Option<String>,
    dat_dem_pj: Option<String>,
    dat_rec_pj: Option<String>,
    dat_refus: Option<String>,
    dat_val: Option<String>,
    dat_exp: Option<String>,
    daa_pre_tra: Option<String>,
}

fn apogee_date(d: Option<NaiveDateTime>) -> Option<String> {
    d.map(|d| d.format("%d-%m-%Y %H:%M").to_string())
}

fn info_of(state: &AppState, row: StudentPieceRow) -> PjInfo {
    let lib_tpj = row.lib_tpj.clone().or_else(|| {
        state
            .referential()
            .get("types-pj", &[&row.cod_tpj])
            .and_then(|r| r.get("libTpj"))
            .and_then(Value::as_text)
    });
    PjInfo {
        cod_anu: row.cod_anu,
        cod_tpj: row.cod_tpj,
        lib_tpj,
        nom_fic: row.nom_fic,
        tem_dem_pj: row.tem_dem_pj,
        stu_pj: row.stu_pj,
        mtf_refus: row.mtf_refus,
        cmt_mtf_refus: row.cmt_mtf_refus,
        dat_dem_pj: apogee_date(row.dat_dem_pj),
        dat_rec_pj: apogee_date(row.dat_rec_pj),
        dat_refus: apogee_date(row.dat_refus),
        dat_val: apogee_date(row.dat_val),
        dat_exp: apogee_date(row.dat_exp),
        daa_pre_tra: row.daa_pre_tra,
    }
}

async fn pieces(
    state: &AppState,
    cod_etu: i64,
    cod_tpj: String,
    cod_anu: Option<String>,
) -> Result<Vec<StudentPieceRow>, FacadeError> {
    let (known, rows) = state
        .db
        .read(move |c| -> Result<_, DbError> {
            let known = repo::student_known(c, cod_etu)?;
            let rows = repo::student_pieces(c, cod_etu, &cod_tpj, cod_anu.as_deref())?;
            Ok((known, rows))
        })
        .await?;
    if !known {
        return Err(unknown_student(cod_etu));
    }
    Ok(rows)
}

/// `GET <pj base>/info?codAnu=&codEtu=&codTpj=` (PJ-11): the pieces of a student for a type,
/// newest year first.
pub async fn info(
    state: &AppState,
    q: &HashMap<String, String>,
) -> Result<Vec<PjInfo>, FacadeError> {
    let etu = cod_etu(q)?;
    let tpj = cod_tpj(q)?;
    let anu = cod_anu(q, false)?;
    let rows = pieces(state, etu, tpj.clone(), anu).await?;
    if rows.is_empty() {
        return Err(no_piece(etu, &tpj));
    }
    Ok(rows.into_iter().map(|r| info_of(state, r)).collect())
}

/// `GET <pj base>/fichier?codAnu=&codEtu=&codTpj=` (PJ-13): the file name and the open file.
pub async fn fichier(
    state: &AppState,
    q: &HashMap<String, String>,
) -> Result<(String, String, std::fs::File), FacadeError> {
    let etu = cod_etu(q)?;
    let tpj = cod_tpj(q)?;
    let anu = cod_anu(q, true)?;
    let rows = pieces(state, etu, tpj.clone(), anu).await?;
    let Some((row, key)) = rows
        .into_iter()
        .find_map(|r| r.storage_key.clone().map(|k| (r, k)))
    else {
        return Err(no_piece(etu, &tpj));
    };
    let file = super::open_key(state, &key)
        .await?
        .ok_or_else(|| no_piece(etu, &tpj))?;
    let name = row.nom_fic.clone().unwrap_or_else(|| {
        let ext = row
            .media_type
            .as_deref()
            .and_then(apogee_domain::pj::MediaType::from_mime)
            .map_or("bin", |t| t.extension());
        format!("PJ_{}_{}.{ext}", row.cod_tpj, row.cod_anu)
    });
    let media = row
        .media_type
        .unwrap_or_else(|| "application/octet-stream".into());
    Ok((name, media, file))
}

/// What the INES verifier (INE-8) says.
enum Verdict {
    Valid,
    Invalid,
    Unavailable,
}

fn verify_ines(state: &AppState, normalized: &str) -> Verdict {
    let list = &state.settings.pj.ines_allow_list;
    if list.is_empty() {
        Verdict::Unavailable
    } else if list.iter().any(|v| ine::normalize(v) == normalized) {
        Verdict::Valid
    } else {
        Verdict::Invalid
    }
}

fn shape(value: &str, len: usize, ok: impl Fn(u8) -> bool) -> bool {
    value.len() == len && value.bytes().all(ok)
}

/// `POST <ines base>/v1/check-ine` with `{"type", "ine", "cle"}` (INES-1 … INES-3).
pub fn check_ine(state: &AppState, body: &[u8]) -> Result<bool, FacadeError> {
    let json: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| FacadeError::parameter("body", format!("Corps JSON illisible : {e}")))?;
    let text = |name: &str| -> Result<String, FacadeError> {
        match json.get(name) {
            Some(serde_json::Value::String(s)) if !s.trim().is_empty() => Ok(s.trim().to_owned()),
            _ => Err(FacadeError::parameter(
                name,
                format!("Le champ {name} est obligatoire (texte)"),
            )),
        }
    };
    let kind = text("type")?.to_ascii_uppercase();
    let ine_part = text("ine")?;
    let cle = text("cle")?;
    let (family, ine_ok, cle_ok) = match kind.as_str() {
        "INES" => (
            IneFamily::Ines,
            shape(&ine_part, 9, |b| b.is_ascii_digit()),
            shape(&cle, 2, |b| b.is_ascii_alphabetic()),
        ),
        "BEA" => (
            IneFamily::Bea,
            shape(&ine_part, 10, |b| b.is_ascii_digit()),
            shape(&cle, 1, |b| b.is_ascii_alphabetic()),
        ),
        "NNE" | "NNE36" => (
            IneFamily::Nne36,
            shape(&ine_part, 10, |b| b.is_ascii_alphanumeric()),
            shape(&cle, 1, |b| b.is_ascii_digit()),
        ),
        _ => {
            return Err(FacadeError::parameter(
                "type",
                "type : INES (ou BEA, NNE, vérifiés hors ligne)".into(),
            ));
        }
    };
    if !ine_ok {
        return Err(FacadeError::parameter(
            "ine",
            format!("ine : format invalide pour le type {kind}"),
        ));
    }
    if !cle_ok {
        return Err(FacadeError::parameter(
            "cle",
            format!("cle : format invalide pour le type {kind}"),
        ));
    }
    let checked = ine::check(&format!("{ine_part}{cle}"));
    if checked.family != family {
        return Ok(false);
    }
    match checked.valid {
        IneValidity::True => Ok(true),
        IneValidity::False => Ok(false),
        IneValidity::Remote => match verify_ines(state, &checked.normalized) {
            Verdict::Valid => Ok(true),
            Verdict::Invalid => Ok(false),
            Verdict::Unavailable => Err(FacadeError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "technical.indisponible",
                "Vérification INES indisponible",
                "Aucun service de vérification INES n'est configuré ou joignable : la clé d'un INES ne se vérifie pas hors ligne".into(),
            )),
        },
    }
}

/// `GET <ines base>/version`.
pub fn version() -> String {
    format!("apogee-gateway {}", env!("CARGO_PKG_VERSION"))
}
