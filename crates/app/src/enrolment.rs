//! Administrative enrolment (IA, issue 12): `POST /api/v1/inscriptions` (primo from an OPI, or
//! re-enrolment of a known student), its cancellation and its batch. One transaction decides
//! and writes: the admissions view's reasons (LP-13 … LP-15) and the CVEC (CVEC-10, CVEC-12)
//! are read under the person's lock, and a refused enrolment writes nothing.

use crate::{App, Call, students::parse_cod_etu};
use apogee_db::repo::dossier;
use apogee_db::repo::enrolment::{self as repo, CvecPerson, NewEnrolment};
use apogee_db::repo::lp::{self as lp_repo, Resolved};
use apogee_db::repo::opi as opi_repo;
use apogee_db::repo::students::{self as students_repo, StudentRow};
use apogee_db::{DbError, WriteError};
use apogee_domain::cvec::check::CheckResult;
use apogee_domain::enrolment::{self as rules, CvecState, InscriptionDto, InscriptionIntake, Who};
use apogee_domain::lp::access::{Admission, evaluate, person_blocages};
use apogee_domain::lp::etudiant::EtudiantIntake;
use apogee_domain::lp::{TypLpa, regime_allowed};
use apogee_domain::opi::dto::DonneesOpi;
use apogee_domain::{Error, FaultKey, Referential};
use serde::Serialize;
use std::sync::Arc;

/// What an enrolment did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Enrolled {
    /// `created` (the enrolment was written) or `unchanged` (it existed: a repeated request).
    pub status: &'static str,
    /// Student number (allocated by a first primo enrolment).
    pub cod_etu: i64,
    /// `COD_IND`.
    pub cod_ind: i64,
    /// A new student was created from the OPI.
    pub etudiant_cree: bool,
    /// Year.
    pub cod_anu: String,
    /// Étape.
    pub cod_etp: String,
    /// Version d'étape.
    pub cod_vrs_vet: i32,
    /// `lp` or `voeu`: what gave access (absent on a repeat).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<&'static str>,
    /// Régime of the yearly enrolment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cod_rgi: Option<String>,
    /// Statut of the yearly enrolment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cod_stu: Option<String>,
    /// CVEC state for the year (absent on a repeat).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cvec: Option<CvecState>,
}

/// The settings an enrolment reads, copied into the transaction.
#[derive(Clone)]
struct Rules {
    referential: Arc<Referential>,
    today: chrono::NaiveDate,
    range: (i64, i64),
    require_cvec: bool,
    allow_unverified: bool,
    exempt_regimes: Vec<String>,
    exempt_statuts: Vec<String>,
}

impl Rules {
    fn of(app: &App, call: &Call) -> Self {
        let s = &app.settings;
        Rules {
            referential: app.referential(),
            today: call.today(),
            range: (s.enrolment.cod_etu_first, s.enrolment.cod_etu_last),
            require_cvec: s.enrolment.require_cvec,
            allow_unverified: s.cvec.allow_enrolment_when_unverified,
            exempt_regimes: s.cvec.exempt_regimes.clone(),
            exempt_statuts: s.cvec.exempt_statuts.clone(),
        }
    }
}

fn unknown(who: &Who) -> Error {
    match who {
        Who::Opi(code) => crate::lp::person_not_found(TypLpa::Iaprimo, code),
        Who::Etudiant(n) => crate::lp::person_not_found(TypLpa::Reins, &n.to_string()),
    }
}

/// The student an OPI already became: by the file's link, else by the OPI's `codEtuOpi`.
fn student_of(
    conn: &mut apogee_db::AnyConnection,
    person: &Resolved,
) -> Result<Option<StudentRow>, DbError> {
    Ok(match person {
        Resolved::Etudiant(s) => Some(s.clone()),
        Resolved::Opi(o) => match dossier::student_of_opi(conn, o.cod_ind_opi)? {
            Some(id) => students_repo::find(conn, id)?,
            None => match o.cod_etu_opi {
                Some(n) => students_repo::find_by_cod_etu(conn, n)?,
                None => None,
            },
        },
    })
}

/// The admission of the VET with the request's régime (when sent) in place of the profile's.
fn admission_of(
    r: &Rules,
    intake: &InscriptionIntake,
    ap: &lp_repo::AdmissionPerson,
) -> Option<Admission> {
    let cand = ap
        .candidates
        .iter()
        .find(|c| c.cod_etp == intake.cod_etp && c.cod_vrs_vet == intake.cod_vrs_vet)?;
    let mut a = evaluate(&r.referential, r.today, &intake.cod_anu, &ap.facts, cand);
    if let Some(rgi) = &intake.cod_rgi {
        a.blocages.retain(|b| *b != "ACCES_REGIME_NON_AUTORISE");
        if !regime_allowed(&r.referential, &intake.cod_etp, intake.cod_vrs_vet, rgi) {
            a.blocages.push("ACCES_REGIME_NON_AUTORISE");
            a.blocages.sort_by_key(|b| {
                apogee_domain::lp::access::BLOCAGES
                    .iter()
                    .position(|x| x == b)
            });
        }
    }
    Some(a)
}

fn profile_value(
    sent: &Option<String>,
    attr: Option<&apogee_domain::lp::access::Attribute>,
) -> Option<String> {
    sent.clone().or_else(|| attr.map(|a| a.value.clone()))
}

fn cvec_of(
    conn: &mut apogee_db::AnyConnection,
    r: &Rules,
    intake: &InscriptionIntake,
    who: CvecPerson<'_>,
    (rgi, stu): (Option<&str>, Option<&str>),
) -> Result<CvecState, DbError> {
    let exempt = rgi.is_some_and(|v| r.exempt_regimes.iter().any(|x| x == v))
        || stu.is_some_and(|v| r.exempt_statuts.iter().any(|x| x == v));
    if !r.require_cvec || exempt {
        return Ok(CvecState::NonRequise);
    }
    let (valid, last) = repo::cvec_state(conn, &intake.cod_anu, who)?;
    Ok(CvecState::from_last(
        last.as_deref().and_then(CheckResult::parse),
        valid,
    ))
}

/// Creates the student of a primo enrolment: a new codEtu, the OPI's identity and file.
fn create_student(
    conn: &mut apogee_db::AnyConnection,
    r: &Rules,
    o: &opi_repo::OpiRow,
    cod_anu: &str,
    call: &Call,
) -> Result<(i64, i64), WriteError> {
    let cod_etu = repo::allocate_cod_etu(conn, r.range, call.actor().now)?;
    let intake = EtudiantIntake {
        cod_etu,
        ine: o.ine.clone(),
        nom_pat: o.lib_nom_pat_ind_opi.clone(),
        nom_usu: o.lib_nom_usu_ind_opi.clone(),
        prenom: o.lib_pr1_ind_opi.clone(),
        date_naissance: o.date_nai_ind_opi,
        match_key: o.match_key.clone(),
        inscriptions_annuelles: None,
        inscriptions_etapes: None,
        blocages: None,
        dossier: None,
        warnings: Vec::new(),
    };
    let applied = students_repo::upsert(conn, &intake, call.actor())?;
    let donnees: DonneesOpi = serde_json::from_str(&o.donnees).unwrap_or_default();
    let file = apogee_domain::student::from_opi(&o.cod_opi_int_epo, &donnees, cod_anu);
    dossier::replace(
        conn,
        applied.cod_ind,
        &file,
        Some(o.cod_ind_opi),
        call.actor(),
    )
    .map_err(DbError::from)?;
    Ok((applied.cod_ind, cod_etu))
}

/// Decides and writes one enrolment in the caller's transaction.
fn enrol_in(
    conn: &mut apogee_db::AnyConnection,
    r: &Rules,
    intake: &InscriptionIntake,
    call: &Call,
) -> Result<Enrolled, WriteError> {
    let lock_key = match &intake.who {
        Who::Opi(code) => format!("opi|{}", code.to_uppercase()),
        Who::Etudiant(n) => format!("etu|{n}"),
    };
    repo::lock(conn, &lock_key).map_err(DbError::from)?;
    let person = match &intake.who {
        Who::Opi(code) => opi_repo::find_by_code(conn, code)
            .map_err(DbError::from)?
            .map(Resolved::Opi),
        Who::Etudiant(n) => students_repo::find_by_cod_etu(conn, *n)
            .map_err(DbError::from)?
            .map(Resolved::Etudiant),
    }
    .ok_or_else(|| unknown(&intake.who))?;
    let student = student_of(conn, &person)?;
    let vet = (
        intake.cod_anu.as_str(),
        intake.cod_etp.as_str(),
        intake.cod_vrs_vet,
    );
    let done = |status, cod_ind, cod_etu, created, a: Option<&Admission>, cvec| Enrolled {
        status,
        cod_etu,
        cod_ind,
        etudiant_cree: created,
        cod_anu: intake.cod_anu.clone(),
        cod_etp: intake.cod_etp.clone(),
        cod_vrs_vet: intake.cod_vrs_vet,
        source: a.map(|a| a.source),
        cod_rgi: a.and_then(|a| profile_value(&intake.cod_rgi, a.profil.cod_rgi.as_ref())),
        cod_stu: a.and_then(|a| profile_value(&intake.cod_stu, a.profil.cod_stu.as_ref())),
        cvec,
    };
    if let Some(s) = &student
        && repo::enrolled(conn, s.cod_ind, vet).map_err(DbError::from)?
    {
        return Ok(done("unchanged", s.cod_ind, s.cod_etu, false, None, None));
    }
    let current = r.referential.current_year();
    let ap = lp_repo::admission_person(
        conn,
        person.clone(),
        &intake.cod_anu,
        current.as_deref(),
        (Some(&intake.cod_etp), Some(intake.cod_vrs_vet)),
    )
    .map_err(DbError::from)?;
    let admission = admission_of(r, intake, &ap);
    let rgi = admission
        .as_ref()
        .and_then(|a| profile_value(&intake.cod_rgi, a.profil.cod_rgi.as_ref()));
    let stu = admission
        .as_ref()
        .and_then(|a| profile_value(&intake.cod_stu, a.profil.cod_stu.as_ref()));
    let who = CvecPerson {
        cod_ind_opi: match &person {
            Resolved::Opi(o) => Some(o.cod_ind_opi),
            Resolved::Etudiant(_) => None,
        },
        cod_ind: student.as_ref().map(|s| s.cod_ind),
        ine: match &person {
            Resolved::Opi(o) => o.ine.as_deref(),
            Resolved::Etudiant(s) => s.ine.as_deref(),
        },
    };
    let cvec = cvec_of(conn, r, intake, who, (rgi.as_deref(), stu.as_deref()))?;
    let person_reasons = match &admission {
        Some(_) => Vec::new(),
        None => person_blocages(&ap.facts, &intake.cod_etp, intake.cod_vrs_vet),
    };
    let reasons = rules::blocages(
        admission.as_ref(),
        person_reasons,
        cvec.blocage(r.allow_unverified),
    );
    let Some(a) = admission.filter(|_| reasons.is_empty()) else {
        return Err(rules::refusal(intake, &reasons).into());
    };
    let (cod_ind, cod_etu, created) = match (&student, &person) {
        (Some(s), _) => (s.cod_ind, s.cod_etu, false),
        (None, Resolved::Opi(o)) => {
            let (ind, etu) = create_student(conn, r, o, &intake.cod_anu, call)?;
            (ind, etu, true)
        }
        (None, Resolved::Etudiant(s)) => (s.cod_ind, s.cod_etu, false),
    };
    let value =
        |x: &Option<apogee_domain::lp::access::Attribute>| x.as_ref().map(|v| v.value.clone());
    let (dip, vdi, exo) = (
        value(&a.profil.cod_dip),
        value(&a.profil.cod_vrs_vdi).and_then(|v| v.parse::<i32>().ok()),
        value(&a.profil.cod_cat_exo_ext),
    );
    let cge = a.voeu.as_ref().map(|v| v.cod_cge.clone());
    repo::write(
        conn,
        &NewEnrolment {
            cod_ind,
            cod_anu: &intake.cod_anu,
            cod_etp: &intake.cod_etp,
            cod_vrs_vet: intake.cod_vrs_vet,
            cod_rgi: rgi.as_deref(),
            cod_stu: stu.as_deref(),
            cod_cat_exo_ext: exo.as_deref(),
            vdi: (dip.as_deref(), vdi),
            cod_cge: cge.as_deref(),
            eta_pmt_iae: &intake.eta_pmt_iae,
        },
        call.actor(),
    )
    .map_err(DbError::from)?;
    Ok(done(
        "created",
        cod_ind,
        cod_etu,
        created,
        Some(&a),
        Some(cvec),
    ))
}

/// `POST /api/v1/inscriptions`: validates, decides and writes one enrolment.
pub async fn enrol(app: &App, call: &Call, dto: InscriptionDto) -> Result<Enrolled, Error> {
    let intake = rules::validate(&dto)?;
    enrol_intake(app, call, intake).await
}

async fn enrol_intake(
    app: &App,
    call: &Call,
    intake: InscriptionIntake,
) -> Result<Enrolled, Error> {
    let r = Rules::of(app, call);
    let call = call.clone();
    Ok(app
        .db
        .write(move |c| enrol_in(c, &r, &intake, &call))
        .await?)
}

/// What a cancellation did.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Cancellation {
    /// Student number.
    pub cod_etu: i64,
    /// Year.
    pub cod_anu: String,
    /// Étape enrolments cancelled (`ETA_IAE = 'A'`).
    pub etapes_annulees: usize,
    /// The yearly enrolment was cancelled (no étape enrolment left; `ETA_IAA = 'A'`).
    pub annuelle_annulee: bool,
}

/// `DELETE /api/v1/inscriptions/{codEtu}/{codAnu}[/{codEtp}/{codVrsVet}]`: cancels the étape
/// enrolment (every one of the year without a VET); 404 when nothing was enrolled.
pub async fn cancel(
    app: &App,
    call: &Call,
    raw_cod_etu: &str,
    cod_anu: &str,
    vet: Option<(&str, &str)>,
) -> Result<Cancellation, Error> {
    let cod_etu = parse_cod_etu(raw_cod_etu)?;
    if !apogee_domain::formats::is_year(cod_anu) {
        return Err(Error::bad_request(
            "codAnu",
            format!("codAnu « {cod_anu} » : année sur 4 chiffres attendue"),
        ));
    }
    let vet = match vet {
        None => None,
        Some((etp, v)) => Some((
            etp.to_ascii_uppercase(),
            v.parse::<i32>()
                .ok()
                .filter(|n| (1..=999).contains(n))
                .ok_or_else(|| {
                    Error::bad_request(
                        "codVrsVet",
                        format!("codVrsVet « {v} » : entier de 1 à 999 attendu"),
                    )
                })?,
        )),
    };
    let (anu, call2) = (cod_anu.to_owned(), call.clone());
    let done = app
        .db
        .write(move |c| -> Result<_, WriteError> {
            let s = students_repo::find_by_cod_etu(c, cod_etu)
                .map_err(DbError::from)?
                .ok_or_else(|| unknown(&Who::Etudiant(cod_etu)))?;
            let vet_ref = vet.as_ref().map(|(e, v)| (e.as_str(), *v));
            Ok(repo::cancel(c, s.cod_ind, &anu, vet_ref, call2.actor()).map_err(DbError::from)?)
        })
        .await?;
    if done.etapes == 0 {
        return Err(Error::not_found(
            FaultKey::null_retrieve("findIAE"),
            format!("Aucune inscription en cours à annuler pour l'étudiant {cod_etu} en {cod_anu}"),
        ));
    }
    Ok(Cancellation {
        cod_etu,
        cod_anu: cod_anu.to_owned(),
        etapes_annulees: done.etapes,
        annuelle_annulee: done.annuelle,
    })
}

/// Batch file formats of `POST /api/v1/inscriptions/batch`.
pub use crate::students::BatchFormat;

/// One line of an enrolment batch report.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct BatchLineReport {
    /// Physical line number (CSV header = 1).
    pub line: u64,
    /// The person as read (`codOpiIntEpo` or `codEtu`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub personne: Option<String>,
    /// Student number (allocated by a primo enrolment).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cod_etu: Option<i64>,
    /// A new student was created from the OPI.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub etudiant_cree: bool,
    /// Status (`created`, `unchanged` or `rejected`), first failure.
    #[serde(flatten)]
    pub outcome: apogee_domain::batch::LineOutcome,
    /// Every blocking reason or failure of the line.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<apogee_domain::FieldError>,
}

/// The answer of an enrolment batch.
#[derive(Debug, Default, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct BatchReport {
    /// Trace id of the call.
    pub trace_id: String,
    /// Lines read, enrolments created, already there, lines refused.
    #[serde(flatten)]
    pub counts: apogee_domain::batch::Counts,
    /// One report per data line, in file order.
    pub lines: Vec<BatchLineReport>,
}

/// Lines decided and written in one transaction (each line in its own savepoint).
const CHUNK: usize = 200;

fn rejected(line: u64, personne: Option<String>, err: Error) -> BatchLineReport {
    BatchLineReport {
        line,
        personne,
        cod_etu: None,
        etudiant_cree: false,
        outcome: apogee_domain::batch::LineOutcome::rejected(&err),
        errors: err.errors,
    }
}

/// Decides and writes a chunk of checked lines: a refused line rolls back its own savepoint
/// only; a storage failure fails the chunk (retried whole by the writer).
fn write_chunk(
    conn: &mut apogee_db::AnyConnection,
    r: &Rules,
    lines: &[(u64, Option<String>, InscriptionIntake)],
    call: &Call,
) -> Result<Vec<BatchLineReport>, WriteError> {
    use apogee_domain::batch::{LineOutcome, LineStatus};
    let mut out = Vec::with_capacity(lines.len());
    for (line, personne, intake) in lines {
        match apogee_db::savepoint(conn, |c| enrol_in(c, r, intake, call)) {
            Ok(e) => out.push(BatchLineReport {
                line: *line,
                personne: personne.clone(),
                cod_etu: Some(e.cod_etu),
                etudiant_cree: e.etudiant_cree,
                outcome: LineOutcome::written(LineStatus::of_write(e.status), Vec::new()),
                errors: Vec::new(),
            }),
            Err(WriteError::Domain(err)) => out.push(rejected(*line, personne.clone(), err)),
            Err(db) => return Err(db),
        }
    }
    Ok(out)
}

fn parse_lines<R: std::io::Read>(
    format: BatchFormat,
    reader: R,
    tx: &tokio::sync::mpsc::Sender<Result<Vec<apogee_domain::enrolment::BatchLine>, Error>>,
) {
    let lines: Box<dyn Iterator<Item = apogee_domain::enrolment::BatchLine>> = match format {
        BatchFormat::Csv => match rules::read_csv(reader) {
            Ok(it) => Box::new(it),
            Err(e) => {
                let _ = tx.blocking_send(Err(e));
                return;
            }
        },
        BatchFormat::Ndjson => Box::new(rules::read_ndjson(std::io::BufReader::new(reader))),
    };
    let mut chunk = Vec::with_capacity(CHUNK);
    for line in lines {
        chunk.push(line);
        if chunk.len() >= CHUNK && tx.blocking_send(Ok(std::mem::take(&mut chunk))).is_err() {
            return;
        }
    }
    if !chunk.is_empty() {
        let _ = tx.blocking_send(Ok(chunk));
    }
}

/// `POST /api/v1/inscriptions/batch` of a spooled or streamed body: lines are checked as they
/// are read, then decided and written by chunks of [`CHUNK`] (one transaction each, one
/// savepoint per line): every line is reported (created, unchanged, or rejected with every
/// blocking reason and its physical line number); a bad header writes nothing.
pub async fn batch<R: std::io::Read + Send + 'static>(
    app: &App,
    call: &Call,
    reader: R,
    format: BatchFormat,
    feed: impl std::future::Future<Output = Result<(), Error>>,
) -> Result<BatchReport, Error> {
    let (tx, mut rx) = tokio::sync::mpsc::channel(2);
    let parser = tokio::task::spawn_blocking(move || parse_lines(format, reader, &tx));
    let consume = async {
        let mut report = BatchReport {
            trace_id: call.trace_id.clone(),
            ..BatchReport::default()
        };
        let r = Rules::of(app, call);
        while let Some(chunk) = rx.recv().await {
            let mut valid = Vec::new();
            let mut reports: Vec<BatchLineReport> = Vec::new();
            for l in chunk? {
                match l.result {
                    Ok(intake) => valid.push((l.line, l.person, intake)),
                    Err(e) => reports.push(rejected(l.line, l.person, e)),
                }
            }
            if !valid.is_empty() {
                let (r, call) = (r.clone(), call.clone());
                let written = app
                    .db
                    .write(move |c| write_chunk(c, &r, &valid, &call))
                    .await?;
                reports.extend(written);
            }
            reports.sort_by_key(|l| l.line);
            for l in reports {
                report.counts.add(l.outcome.status);
                report.lines.push(l);
            }
        }
        rx.close();
        Ok::<_, Error>(report)
    };
    let (fed, report) = futures_util::future::join(feed, consume).await;
    let _ = parser.await;
    fed?;
    report
}

/// [`batch`] of a request body streamed as it arrives.
pub async fn batch_stream<S, E>(
    app: &App,
    call: &Call,
    body: S,
    format: BatchFormat,
) -> Result<BatchReport, Error>
where
    S: futures_util::Stream<Item = Result<bytes::Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    let idle = std::time::Duration::from_secs(app.settings.limits.body_idle_timeout_secs.max(1));
    let (reader, feed) = crate::upload::channel(body, idle);
    batch(app, call, reader, format, feed).await
}
