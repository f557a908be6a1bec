//! The Apogée read services: one use case for the SOAP operations and their REST twins.
//! ReferentielMetier, GeographieMetier, ScolariteMetier and OffreFormationMetier are answered
//! from the in-memory referential snapshot (no query per call; an import is visible within the
//! 10 s refresh of the snapshot); EtudiantMetier, AdministratifMetier and PedagogiqueMetier from
//! the student register (the student by one indexed key, then its enrolments by `cod_ind`; the
//! students of a year and étapes by one index range), the snapshot giving the labels.

use crate::App;
use apogee_domain::Error;
use apogee_domain::refread::dto::Obj;
use apogee_domain::refread::student::{StudentFile, StudentKey};
use apogee_domain::refread::{self, Answer, Operation, Params, ReadService, student_list};
use serde::Serialize;

/// The scope the read service `service` needs (`ref:read` for a name we do not serve, so that
/// an unknown service is refused as before).
pub fn scope_of(service: &str) -> apogee_domain::Scope {
    refread::service(service).map_or(apogee_domain::Scope::RefRead, |s| s.scope)
}

/// The operation `op` of the read service `service` (404 otherwise).
pub fn find(service: &str, op: &str) -> Result<(&'static ReadService, &'static Operation), Error> {
    let s = refread::service(service).ok_or_else(|| refread::unknown_operation(service, op))?;
    let o = s
        .operation(op)
        .ok_or_else(|| refread::unknown_operation(service, op))?;
    Ok((s, o))
}

/// The answer of `op` to `params` (name, value; the SOAP names or without their `_`). A declared
/// operation the gateway does not serve is a fault before its parameters are read.
pub async fn answer<'a>(
    app: &App,
    op: &'static Operation,
    params: impl IntoIterator<Item = (&'a str, Option<&'a str>)>,
) -> Result<Vec<Obj>, Error> {
    if !op.served() {
        return op.call(&app.referential(), &Params::default());
    }
    let params = Params::read(op, params)?;
    match op.answer {
        Answer::Student(read) => {
            let file = student_file(app, (read.key)(&params)?).await?;
            (read.answer)(file.as_ref(), &app.referential(), &params)
        }
        Answer::StudentList => student_list(app, &params).await,
        _ => op.call(&app.referential(), &params),
    }
}

/// The file of the student `key` names.
async fn student_file(app: &App, key: StudentKey) -> Result<Option<StudentFile>, Error> {
    Ok(app
        .db
        .read(move |c| -> Result<_, apogee_db::DbError> {
            Ok(apogee_db::repo::student_file::find(c, &key)?)
        })
        .await?)
}

/// `recupererListeEtudiants`: the criteria (étapes from the referential), the enrolments of the
/// year in those étapes, at most [`student_list::MAX_ENROLMENTS`] (more is refused, never
/// answered in part).
async fn student_list(app: &App, params: &Params) -> Result<Vec<Obj>, Error> {
    let query = student_list::query(params, &app.referential())?;
    let q = query.clone();
    let found = app
        .db
        .read(move |c| -> Result<_, apogee_db::DbError> {
            Ok(apogee_db::repo::student_file::enrolled(
                c,
                &q,
                student_list::MAX_ENROLMENTS + 1,
            )?)
        })
        .await?;
    if found.len() > student_list::MAX_ENROLMENTS {
        return Err(student_list::too_many());
    }
    student_list::answer(&query, &found)
}

/// The REST twin's answer: the same items as the SOAP return elements, as JSON (children in the
/// DTO's names, nil as `null`, lists as arrays).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ReadAnswer {
    /// Service (`ReferentielMetier` …).
    pub service: &'static str,
    /// Operation (`recupererCGE` …).
    pub operation: &'static str,
    /// The DTO of each item (`CentreGestionDTO2` …).
    pub dto: &'static str,
    /// The items, in the order of the SOAP answer.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Object>))]
    pub items: Vec<Obj>,
}

/// `GET /api/v1/services/{service}/{operation}`.
pub async fn twin<'a>(
    app: &App,
    service: &str,
    operation: &str,
    params: impl IntoIterator<Item = (&'a str, Option<&'a str>)>,
) -> Result<ReadAnswer, Error> {
    let (s, op) = find(service, operation)?;
    let items = answer(app, op, params).await?;
    Ok(ReadAnswer {
        service: s.name,
        operation: op.name,
        dto: op.returns.map_or("", |d| d.name),
        items,
    })
}
