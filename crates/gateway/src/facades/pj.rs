//! The Apogée PJ REST facade (PJ-11 … PJ-15): `GET <pj base>/info` and `GET <pj base>/fichier`
//! with `codAnu`, `codEtu`, `codTpj`; answers whose fields are all strings; errors as
//! `{"erreurMsg", "erreurType", "erreurDescription"}`. Access: `pj:read`, or the configured
//! header.

use super::error::{FacadeError, authorize, query};
use crate::http::body::{content_disposition, file_stream};
use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use apogee_app::App;
use apogee_app::pj::{self, StudentPieceRow};
use apogee_domain::Scope;
use apogee_domain::formats::is_year;
use chrono::NaiveDateTime;
use serde::Serialize;
use std::collections::HashMap;

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
            "codEtu : numéro d'étudiant de 1 à 8 chiffres",
        ));
    }
    v.parse()
        .map_err(|_| FacadeError::parameter("codEtu", "codEtu : nombre attendu"))
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
        Some(v) if !is_year(v) => Err(FacadeError::parameter(
            "codAnu",
            "codAnu : année sur 4 chiffres (2025 = 2025/26)",
        )),
        v => Ok(v.map(str::to_owned)),
    }
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

impl From<StudentPieceRow> for PjInfo {
    fn from(row: StudentPieceRow) -> Self {
        PjInfo {
            cod_anu: row.cod_anu,
            cod_tpj: row.cod_tpj,
            lib_tpj: row.lib_tpj,
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
}

/// The pieces of a student for a type (404 `etudiantinexistant` for an unknown student).
async fn pieces(
    app: &App,
    q: &HashMap<String, String>,
    year_mandatory: bool,
) -> Result<(i64, String, Vec<StudentPieceRow>), FacadeError> {
    let etu = cod_etu(q)?;
    let tpj = cod_tpj(q)?;
    let anu = cod_anu(q, year_mandatory)?;
    let rows = pj::student_pieces(app, etu, &tpj, anu)
        .await?
        .ok_or_else(|| {
            FacadeError::new(
                StatusCode::NOT_FOUND,
                "nullretrieve.etudiantinexistant",
                "Étudiant inexistant",
                format!("Aucun étudiant pour le numéro {etu}"),
            )
        })?;
    Ok((etu, tpj, rows))
}

/// `GET <pj base>/info?codAnu=&codEtu=&codTpj=` (PJ-11): the pieces of a student for a type,
/// newest year first.
pub async fn info(req: HttpRequest, app: web::Data<App>) -> Result<HttpResponse, FacadeError> {
    authorize(&req, &app, Some(Scope::PjRead)).await?;
    let (etu, tpj, rows) = pieces(&app, &query(&req)?, false).await?;
    if rows.is_empty() {
        return Err(no_piece(etu, &tpj));
    }
    let list: Vec<PjInfo> = rows.into_iter().map(PjInfo::from).collect();
    Ok(HttpResponse::Ok().json(list))
}

/// `GET <pj base>/fichier?codAnu=&codEtu=&codTpj=` (PJ-13): the file.
pub async fn fichier(req: HttpRequest, app: web::Data<App>) -> Result<HttpResponse, FacadeError> {
    authorize(&req, &app, Some(Scope::PjRead)).await?;
    let (etu, tpj, rows) = pieces(&app, &query(&req)?, true).await?;
    let Some((row, key)) = rows
        .into_iter()
        .find_map(|r| r.storage_key.clone().map(|k| (r, k)))
    else {
        return Err(no_piece(etu, &tpj));
    };
    let file = pj::open_key(&app, &key)
        .await?
        .ok_or_else(|| no_piece(etu, &tpj))?;
    let len = file.metadata().map(|m| m.len()).unwrap_or_default();
    Ok(HttpResponse::Ok()
        .content_type("application/octet-stream")
        .insert_header((
            header::CONTENT_DISPOSITION,
            content_disposition(&file_name(&row)),
        ))
        .no_chunking(len)
        .streaming(file_stream(file)))
}

/// The stored name, or `PJ_<codTpj>_<codAnu>.<ext>`.
fn file_name(row: &StudentPieceRow) -> String {
    row.nom_fic.clone().unwrap_or_else(|| {
        let ext = row
            .media_type
            .as_deref()
            .and_then(apogee_domain::pj::MediaType::from_mime)
            .map_or("bin", |t| t.extension());
        format!("PJ_{}_{}.{ext}", row.cod_tpj, row.cod_anu)
    })
}
