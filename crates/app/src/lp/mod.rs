//! Laissez-passer (`domain.md` §5), shared by SOAP (`LaissezPasserMetier` V1 and `_V2`), REST
//! and batch files: domain validation (LP-3 … LP-7, LP-11), then the LP-8 upsert in one
//! transaction; reads, deletions and the filtered list (LP-10).

pub mod batch;
mod dups;

use crate::{App, Call, Page, page::ListMeta};
use apogee_db::DbError;
use apogee_db::repo::lp::{self as repo, LpApplied, LpFilter, Resolved};
use apogee_domain::lp::{Context, LpParams, LpVersion, TypLpa, validate};
use apogee_domain::text::present;
use apogee_domain::{Error, FaultKey};
use serde::{Deserialize, Serialize};

pub use apogee_db::repo::lp::{LpApplied as Applied, LpView};

/// The journal's business key of an LP call: `numOPI` or `codEtu`, after its type.
pub fn journal_key(p: &LpParams) -> Option<(String, String)> {
    let typ = present(p.typ_lpa.as_deref()).and_then(TypLpa::parse);
    let opi = present(p.num_opi.as_deref()).map(|v| ("numOPI".to_owned(), v.to_owned()));
    let etu = present(p.cod_etu.as_deref()).map(|v| ("codEtu".to_owned(), v.to_owned()));
    match typ {
        Some(TypLpa::Reins) => etu.or(opi),
        _ => opi.or(etu),
    }
}

/// Warning codes of an upsert, for the journal.
pub fn warning_codes(applied: &LpApplied) -> Vec<String> {
    let mut codes: Vec<String> = applied.warnings.iter().map(|w| w.code.clone()).collect();
    codes.dedup();
    codes
}

/// The journaled outcome of an LP write (as PJ-8 journals `PJ_CREEE` …): `LP_CREE`,
/// `LP_MODIFIE` or `LP_INCHANGE`.
pub fn outcome_code(applied: &LpApplied) -> String {
    match applied.status {
        "created" => "LP_CREE",
        "updated" => "LP_MODIFIE",
        _ => "LP_INCHANGE",
    }
    .to_owned()
}

/// Validates and stores one LP (LP-3 … LP-8, LP-11).
pub async fn put(
    app: &App,
    call: &Call,
    params: &LpParams,
    version: LpVersion,
) -> Result<LpApplied, Error> {
    let referential = app.referential();
    let intake = validate(
        params,
        version,
        &Context {
            referential: &referential,
            today: call.today(),
        },
    )?;
    let call = call.clone();
    Ok(app
        .db
        .write(move |c| repo::upsert(c, &intake, call.actor()))
        .await?)
}

/// The five path segments of one LP: `{typLpa}/{numOPI|codEtu}/{codAnu}/{codEtp}/{codVrsVet}`.
pub type PathSegments = (String, String, String, String, String);

/// The parameters of `PUT /api/v1/laissez-passer/{typLpa}/{id}/{codAnu}/{codEtp}/{codVrsVet}`:
/// the path values go into the body's (V2 semantics: an absent attribute clears the stored one);
/// a body naming other values is refused.
pub fn params_at(path: PathSegments, mut params: LpParams) -> Result<LpParams, Error> {
    let (typ, id, anu, etp, vet) = path;
    set_key(&mut params.typ_lpa, &typ, "typLpa", true)?;
    match TypLpa::parse(&typ) {
        Some(TypLpa::Reins) => set_key(&mut params.cod_etu, &id, "codEtu", false)?,
        _ => set_key(&mut params.num_opi, &id, "numOPI", true)?,
    }
    set_key(&mut params.cod_anu, &anu, "codAnu", false)?;
    set_key(&mut params.cod_etp, &etp, "codEtp", false)?;
    set_key(&mut params.cod_vrs_vet, &vet, "codVrsVet", false)?;
    Ok(params)
}

/// Puts a path value into the body, refusing a body that names another value.
fn set_key(slot: &mut Option<String>, value: &str, name: &str, ci: bool) -> Result<(), Error> {
    match present(slot.as_deref()) {
        Some(sent)
            if (ci && !sent.eq_ignore_ascii_case(value.trim()))
                || (!ci && sent != value.trim()) =>
        {
            Err(Error::bad_request(
                name,
                format!("{name} du chemin ({value}) et du corps ({sent}) diffèrent"),
            ))
        }
        _ => {
            *slot = Some(value.to_owned());
            Ok(())
        }
    }
}

/// The address of one LP, checked.
#[derive(Debug, Clone)]
pub struct LpPath {
    /// Type.
    pub typ: TypLpa,
    /// `numOPI` (IAPRIMO) or `codEtu` (REINS).
    pub id: String,
    /// Year.
    pub cod_anu: String,
    /// Étape.
    pub cod_etp: String,
    /// Version d'étape.
    pub cod_vrs_vet: i32,
}

impl LpPath {
    /// Checks the path segments.
    pub fn parse(p: PathSegments) -> Result<Self, Error> {
        let (typ, id, cod_anu, cod_etp, vet) = p;
        let typ = TypLpa::parse(&typ).ok_or_else(|| {
            Error::invalid_field(
                FaultKey::noncoherent("typLpa"),
                "VALEUR_INVALIDE",
                "typLpa",
                format!("Type de laissez-passer « {typ} » inconnu : IAPRIMO ou REINS"),
            )
        })?;
        let cod_vrs_vet = vet
            .parse::<i32>()
            .ok()
            .filter(|n| (0..=999).contains(n))
            .ok_or_else(|| {
                Error::bad_request(
                    "codVrsVet",
                    format!("codVrsVet « {vet} » : 1 à 3 chiffres attendus"),
                )
            })?;
        Ok(LpPath {
            typ,
            id,
            cod_anu,
            cod_etp,
            cod_vrs_vet,
        })
    }

    /// The journal's business key (`numOPI` or `codEtu`).
    pub fn journal_key(&self) -> (String, String) {
        (self.typ.identifier().to_owned(), self.id.clone())
    }

    fn not_found(&self) -> Error {
        Error::not_found(
            FaultKey::null_retrieve("laissezPasser"),
            format!(
                "Aucun laissez-passer {} pour {} {} en {} sur la VET {}/{}",
                self.typ.as_str(),
                self.typ.identifier(),
                self.id,
                self.cod_anu,
                self.cod_etp,
                self.cod_vrs_vet
            ),
        )
    }
}

/// The OPI (IAPRIMO) or student (REINS) `id` does not exist.
pub fn person_not_found(typ: TypLpa, id: &str) -> Error {
    match typ {
        TypLpa::Iaprimo => Error::not_found(
            FaultKey::null_retrieve("numOPI"),
            format!("Aucune OPI trouvée pour le numéro {id}"),
        ),
        TypLpa::Reins => Error::not_found(
            FaultKey::null_retrieve("etudiant"),
            format!("Aucun étudiant de numéro {id}"),
        ),
    }
}

/// One LP.
pub async fn get(app: &App, p: &LpPath) -> Result<LpView, Error> {
    let q = p.clone();
    let found = app
        .db
        .read(move |c| -> Result<_, DbError> {
            let Some(person) = repo::resolve(c, q.typ, &q.id)? else {
                return Ok(None);
            };
            let row = repo::get(c, q.typ, person.id(), &q.cod_anu, &q.cod_etp, q.cod_vrs_vet)?;
            let view = match row {
                Some(r) => repo::views(c, vec![r])?.into_iter().next(),
                None => None,
            };
            Ok(Some(view))
        })
        .await?;
    match found {
        None => Err(person_not_found(p.typ, &p.id)),
        Some(None) => Err(p.not_found()),
        Some(Some(view)) => Ok(view),
    }
}

/// Deletes one LP (Apogée has no deletion operation; LP-10).
pub async fn delete(app: &App, p: &LpPath) -> Result<(), Error> {
    let q = p.clone();
    let deleted = app
        .db
        .write(move |c| -> Result<_, DbError> {
            let Some(person) = repo::resolve(c, q.typ, &q.id)? else {
                return Ok(None);
            };
            let done = repo::delete(c, q.typ, person.id(), &q.cod_anu, &q.cod_etp, q.cod_vrs_vet)?;
            Ok(Some(done))
        })
        .await?;
    match deleted {
        None => Err(person_not_found(p.typ, &p.id)),
        Some(false) => Err(p.not_found()),
        Some(true) => Ok(()),
    }
}

/// Filters of `GET /api/v1/laissez-passer`, as sent.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListQuery {
    /// `IAPRIMO` or `REINS`.
    pub typ_lpa: Option<String>,
    /// Year.
    pub cod_anu: Option<String>,
    /// OPI number (code or alias).
    #[serde(alias = "numOPI")]
    pub num_opi: Option<String>,
    /// Student number.
    pub cod_etu: Option<String>,
    /// Étape.
    pub cod_etp: Option<String>,
    /// Version d'étape.
    pub cod_vrs_vet: Option<i32>,
}

/// A page of LPs.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct LpList {
    /// LPs, IAPRIMO then REINS.
    pub laissez_passer: Vec<LpView>,
    /// Pagination.
    pub meta: ListMeta,
}

/// The LPs matching `q`.
pub async fn list(app: &App, q: ListQuery, page: Page) -> Result<LpList, Error> {
    let typ = match present(q.typ_lpa.as_deref()) {
        None => None,
        Some(t) => Some(TypLpa::parse(t).ok_or_else(|| {
            Error::bad_request("typLpa", format!("typLpa « {t} » : IAPRIMO ou REINS"))
        })?),
    };
    let persons = [
        (
            TypLpa::Iaprimo,
            present(q.num_opi.as_deref()).map(str::to_owned),
        ),
        (
            TypLpa::Reins,
            present(q.cod_etu.as_deref()).map(str::to_owned),
        ),
    ];
    let mut filter = LpFilter {
        typ,
        cod_anu: present(q.cod_anu.as_deref()).map(str::to_owned),
        cod_etp: present(q.cod_etp.as_deref()).map(str::to_owned),
        cod_vrs_vet: q.cod_vrs_vet,
        ..LpFilter::default()
    };
    let (rows, total) = app
        .db
        .read(move |c| -> Result<_, DbError> {
            for (typ, id) in &persons {
                let Some(id) = id else { continue };
                match repo::resolve(c, *typ, id)? {
                    Some(Resolved::Opi(o)) => filter.cod_ind_opi = Some(o.cod_ind_opi),
                    Some(Resolved::Etudiant(s)) => filter.cod_ind = Some(s.cod_ind),
                    None => return Ok((Vec::new(), 0)),
                }
            }
            Ok(repo::list(c, &filter, page.limit, page.offset)?)
        })
        .await?;
    Ok(LpList {
        laissez_passer: rows,
        meta: page.meta(total),
    })
}
