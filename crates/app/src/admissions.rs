//! The admissions view (LP-15): per person and VET, the source (LP or vœu), the overridden vœu,
//! the profile with its origin and the blocking reasons.

use crate::{App, Call, Page};
use apogee_db::DbError;
use apogee_db::repo::lp::{self as repo, AdmissionPerson, Resolved};
use apogee_domain::formats::is_year;
use apogee_domain::lp::TypLpa;
use apogee_domain::lp::access::{Admission, evaluate};
use apogee_domain::text::present;
use apogee_domain::{Error, FaultKey, Referential};
use serde::{Deserialize, Serialize};

/// One line of the admissions view: the person, then the VET evaluation.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct AdmissionLine {
    /// `IAPRIMO` (OPI person, primo-enrolment) or `REINS` (known student).
    pub typ_lpa: TypLpa,
    /// OPI code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cod_opi_int_epo: Option<String>,
    /// `COD_IND_OPI`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cod_ind_opi: Option<i64>,
    /// Student number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cod_etu: Option<i64>,
    /// `COD_IND`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cod_ind: Option<i64>,
    /// Year.
    pub cod_anu: String,
    /// The evaluation.
    #[serde(flatten)]
    pub admission: Admission,
}

/// Evaluates LP-13/LP-14 for every candidate VET of every person.
fn lines(
    referential: &Referential,
    today: chrono::NaiveDate,
    cod_anu: &str,
    persons: Vec<AdmissionPerson>,
) -> Vec<AdmissionLine> {
    let mut out = Vec::new();
    for p in persons {
        for cand in &p.candidates {
            let admission = evaluate(referential, today, cod_anu, &p.facts, cand);
            let (typ_lpa, code, ind_opi, etu, ind) = match &p.person {
                Resolved::Opi(o) => (
                    TypLpa::Iaprimo,
                    Some(o.cod_opi_int_epo.clone()),
                    Some(o.cod_ind_opi),
                    o.cod_etu_opi,
                    None,
                ),
                Resolved::Etudiant(s) => {
                    (TypLpa::Reins, None, None, Some(s.cod_etu), Some(s.cod_ind))
                }
            };
            out.push(AdmissionLine {
                typ_lpa,
                cod_opi_int_epo: code,
                cod_ind_opi: ind_opi,
                cod_etu: etu,
                cod_ind: ind,
                cod_anu: cod_anu.to_owned(),
                admission,
            });
        }
    }
    out
}

/// Filters of the admissions view, as sent.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Query {
    /// Year (default: the current enrolment year).
    pub cod_anu: Option<String>,
    /// Étape.
    pub cod_etp: Option<String>,
    /// Version d'étape.
    pub cod_vrs_vet: Option<i32>,
}

fn year_of(q: &Query, current: Option<&str>) -> Result<String, Error> {
    match present(q.cod_anu.as_deref()) {
        Some(y) if is_year(y) => Ok(y.to_owned()),
        Some(y) => Err(Error::bad_request(
            "codAnu",
            format!("codAnu « {y} » : année sur 4 chiffres attendue"),
        )),
        None => current.map(str::to_owned).ok_or_else(|| {
            Error::bad_request(
                "codAnu",
                "codAnu est obligatoire : aucune année n'est ouverte aux inscriptions",
            )
        }),
    }
}

/// `meta` of the admissions list.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct AdmissionsMeta {
    /// Persons matching, in all pages.
    pub total: i64,
    /// Page size (persons).
    pub limit: i64,
    /// Persons skipped.
    pub offset: i64,
    /// Year evaluated.
    pub cod_anu: String,
}

/// A page of the admissions view.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Admissions {
    /// One line per person and VET.
    pub admissions: Vec<AdmissionLine>,
    /// Pagination and year.
    pub meta: AdmissionsMeta,
}

/// `GET /api/v1/admissions?codAnu=&codEtp=&codVrsVet=`.
pub async fn list(app: &App, call: &Call, q: Query, page: Page) -> Result<Admissions, Error> {
    let referential = app.referential();
    let current = referential.current_year();
    let cod_anu = year_of(&q, current.as_deref())?;
    let (anu, etp, vet) = (
        cod_anu.clone(),
        present(q.cod_etp.as_deref()).map(str::to_owned),
        q.cod_vrs_vet,
    );
    let (persons, total) = app
        .db
        .read(move |c| {
            repo::admissions(
                c,
                &anu,
                current.as_deref(),
                etp.as_deref(),
                vet,
                page.limit,
                page.offset,
            )
            .map_err(DbError::from)
        })
        .await?;
    Ok(Admissions {
        admissions: lines(&referential, call.today(), &cod_anu, persons),
        meta: AdmissionsMeta {
            total,
            limit: page.limit,
            offset: page.offset,
            cod_anu,
        },
    })
}

/// The admissions of the persons a key designates.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct PersonAdmissions {
    /// The key as sent.
    pub key: String,
    /// Year evaluated.
    pub cod_anu: String,
    /// One line per person and VET.
    pub admissions: Vec<AdmissionLine>,
}

/// `GET /api/v1/admissions/{key}?codAnu=`: the persons an INE, an OPI code or a student number
/// designates.
pub async fn of_key(
    app: &App,
    call: &Call,
    key: &str,
    q: Query,
) -> Result<PersonAdmissions, Error> {
    let referential = app.referential();
    let current = referential.current_year();
    let cod_anu = year_of(&q, current.as_deref())?;
    let (anu, lookup, etp, vet) = (
        cod_anu.clone(),
        key.trim().to_owned(),
        present(q.cod_etp.as_deref()).map(str::to_owned),
        q.cod_vrs_vet,
    );
    let persons = app
        .db
        .read(move |c| -> Result<_, DbError> {
            let mut out = Vec::new();
            for p in repo::persons_by_key(c, &lookup)? {
                out.push(repo::admission_person(
                    c,
                    p,
                    &anu,
                    current.as_deref(),
                    (etp.as_deref(), vet),
                )?);
            }
            Ok(out)
        })
        .await?;
    if persons.is_empty() {
        return Err(Error::not_found(
            FaultKey::null_retrieve("personne"),
            format!("Aucune OPI ni aucun étudiant pour « {key} » (INE, numéro d'OPI ou codEtu)"),
        ));
    }
    Ok(PersonAdmissions {
        key: key.to_owned(),
        admissions: lines(&referential, call.today(), &cod_anu, persons),
        cod_anu,
    })
}
