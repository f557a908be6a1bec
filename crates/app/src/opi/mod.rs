//! OPI (pré-inscriptions), shared by SOAP (`mettreajourDonneesOpi_v10`/`_v9`), REST and batch
//! files: validation (domain), then the upsert in one transaction; reads, search, deletions,
//! duplicate suspects.

pub mod batch;

use crate::{App, Call, Page, page::ListMeta};
use apogee_db::repo::lp::{self as lp_repo, LpFilter, LpView};
use apogee_db::repo::opi::{self as repo, OpiRow, OpiSearch, OpiView, PersonData, SharedKey};
use apogee_db::repo::pj as pj_repo;
use apogee_db::{Actor, AnyConnection, DbError, WriteError};
use apogee_domain::formats::{COD_IND_MAX, apogee_date, parse_date, rfc3339};
use apogee_domain::ine::IneFamily;
use apogee_domain::opi::dto::DonneesOpi;
use apogee_domain::opi::rules::IneInfo;
use apogee_domain::opi::upsert::{self, MatchedBy, Options, Shared, StoredIdentity, VoeuxOutcome};
use apogee_domain::opi::{Context, Intake, VoeuKey, VoeuxPlan, Warning, validate};
use apogee_domain::{Error, lp::TypLpa};
use serde::{Deserialize, Serialize};

/// What one upsert did.
#[derive(Debug, Clone)]
pub struct Applied {
    /// `COD_IND_OPI`.
    pub cod_ind_opi: i64,
    /// The code of the stored OPI (differs from the code sent after a merge, OPI-4).
    pub effective_code: String,
    /// The code sent.
    pub code_sent: String,
    /// A new OPI was created.
    pub created: bool,
    /// How the stored OPI was found.
    pub matched_by: MatchedBy,
    /// Vœux.
    pub voeux: VoeuxOutcome,
    /// Warnings (individual and duplicates).
    pub warnings: Vec<Warning>,
    /// The INE as stored.
    pub ine: Option<IneInfo>,
}

impl Applied {
    /// Every warning code (individual and vœux), for the journal.
    pub fn warning_codes(&self) -> Vec<String> {
        let mut codes: Vec<String> = self.warnings.iter().map(|w| w.code.clone()).collect();
        for v in &self.voeux.accepted {
            codes.extend(v.warnings.iter().map(|w| w.code.clone()));
        }
        if !self.voeux.rejected.is_empty() {
            codes.push(format!("VOEUX_REJETES:{}", self.voeux.rejected.len()));
        }
        codes.sort();
        codes.dedup();
        codes
    }

    /// Whether the stored OPI changed (a vœu written or deleted, or a merge).
    pub fn changed(&self) -> bool {
        self.created
            || self.matched_by != MatchedBy::Code
            || !self.voeux.deleted.is_empty()
            || self
                .voeux
                .accepted
                .iter()
                .any(|v| v.status != Some("unchanged"))
    }
}

/// The options of a push: `partial` from the call, matching from the settings.
pub fn options(app: &App, partial: bool) -> Options {
    Options {
        partial,
        match_cod_etu: app.settings.opi.match_cod_etu,
        match_ine: app.settings.opi.match_ine,
    }
}

/// The rules' context now.
pub fn context<'a>(
    app: &App,
    referential: &'a apogee_domain::Referential,
    call: &Call,
) -> Context<'a> {
    Context {
        referential,
        today: call.today(),
        ine_required_is_error: app.settings.opi.ine_required_is_error,
    }
}

/// Validates and stores one OPI. `partial`: keep the valid vœux when others are rejected.
pub async fn push(
    app: &App,
    call: &Call,
    donnees: DonneesOpi,
    partial: bool,
) -> Result<Applied, Error> {
    let referential = app.referential();
    let intake = validate(&donnees, &context(app, &referential, call))?;
    let options = options(app, partial);
    let call = call.clone();
    Ok(app
        .db
        .write(move |c| upsert_in(c, &intake, options, call.actor()))
        .await?)
}

/// `PUT /api/v1/opi/{code}`: [`push`] with the code of the path.
pub async fn put(
    app: &App,
    call: &Call,
    code: &str,
    mut donnees: DonneesOpi,
    partial: bool,
) -> Result<Applied, Error> {
    upsert::set_code(&mut donnees, code)?;
    push(app, call, donnees, partial).await
}

/// The OPI-3 … OPI-15 upsert of a validated payload, in the caller's transaction: the domain
/// decides (`apogee_domain::opi::upsert`), storage loads and writes.
pub fn upsert_in(
    c: &mut AnyConnection,
    intake: &Intake,
    options: Options,
    actor: Actor<'_>,
) -> Result<Applied, WriteError> {
    repo::lock(c, &intake.code)?;
    if let Some(err) = upsert::early_rejection(intake, options.partial) {
        return Err(err.into());
    }
    let mut warnings = intake.warnings.clone();
    let found = find_stored(c, intake, options, &mut warnings)?;
    if upsert::looks_for_identity_duplicates(found.as_ref().map(|f| f.1)) {
        let own = found.as_ref().map_or(-1, |f| f.0.cod_ind_opi);
        let others = repo::codes_sharing(c, SharedKey::MatchKey(&intake.match_key), own)?;
        warnings.extend(upsert::duplicate_warnings(Shared::Identity, &others));
    }
    let created = found.is_none();
    let (cod_ind_opi, effective_code, matched_by) = match found {
        Some((row, by)) => {
            update_stored(c, &row, by, intake, &mut warnings, actor)?;
            (row.cod_ind_opi, row.cod_opi_int_epo, by)
        }
        None => (
            insert_new(c, intake, actor)?,
            intake.code.clone(),
            MatchedBy::Created,
        ),
    };
    let voeux = write_voeux(c, cod_ind_opi, created, &intake.voeux, actor)?;
    Ok(Applied {
        cod_ind_opi,
        effective_code,
        code_sent: intake.code.clone(),
        created,
        matched_by,
        voeux,
        warnings,
        ine: intake.ine.clone(),
    })
}

/// OPI-3: the stored OPI by code (with the OPI-6 warnings), else by `codEtuOpi`, else by INE.
fn find_stored(
    c: &mut AnyConnection,
    intake: &Intake,
    options: Options,
    warnings: &mut Vec<Warning>,
) -> Result<Option<(OpiRow, MatchedBy)>, WriteError> {
    if let Some(row) = repo::find_by_code(c, &intake.code)? {
        if let Some(etu) = intake.cod_etu_opi {
            let others = repo::codes_sharing(c, SharedKey::CodEtu(etu), row.cod_ind_opi)?;
            warnings.extend(upsert::duplicate_warnings(Shared::CodEtu(etu), &others));
        }
        if let Some(ine) = &intake.ine {
            let others = repo::codes_sharing(c, SharedKey::Ine(&ine.value), row.cod_ind_opi)?;
            warnings.extend(upsert::duplicate_warnings(Shared::Ine, &others));
        }
        return Ok(Some((row, MatchedBy::Code)));
    }
    if options.match_cod_etu
        && let Some(etu) = intake.cod_etu_opi
        && let Some(row) = pick(MatchedBy::CodEtu, repo::with_cod_etu(c, etu)?, intake)?
    {
        return Ok(Some((row, MatchedBy::CodEtu)));
    }
    if options.match_ine
        && let Some(ine) = &intake.ine
        && let Some(row) = pick(MatchedBy::Ine, repo::with_ine(c, &ine.value)?, intake)?
    {
        return Ok(Some((row, MatchedBy::Ine)));
    }
    Ok(None)
}

fn pick(by: MatchedBy, mut rows: Vec<OpiRow>, intake: &Intake) -> Result<Option<OpiRow>, Error> {
    let identities: Vec<StoredIdentity<'_>> = rows.iter().map(OpiRow::identity).collect();
    let picked = upsert::pick(by, &identities, intake)?;
    Ok(picked.map(|i| rows.swap_remove(i)))
}

fn update_stored(
    c: &mut AnyConnection,
    row: &OpiRow,
    by: MatchedBy,
    intake: &Intake,
    warnings: &mut Vec<Warning>,
    actor: Actor<'_>,
) -> Result<(), WriteError> {
    warnings.extend(upsert::ine_erased(row.ine.is_some(), intake));
    let merged = upsert::merge(row.donnees(), &intake.donnees);
    let person = PersonData {
        intake,
        donnees: &merged,
        cod_etu: upsert::cod_etu_of(&merged),
    };
    repo::update_person(c, row, person, actor)?;
    if by != MatchedBy::Code {
        warnings.push(upsert::code_changed(&row.cod_opi_int_epo, by));
        repo::add_alias(c, row.cod_ind_opi, &intake.code, actor.now)?;
    }
    Ok(())
}

fn insert_new(c: &mut AnyConnection, intake: &Intake, actor: Actor<'_>) -> Result<i64, WriteError> {
    let mut stored = intake.donnees.clone();
    stored.voeux = None;
    let person = PersonData {
        intake,
        donnees: &stored,
        cod_etu: intake.cod_etu_opi,
    };
    let id = repo::insert_person(c, person, actor)?;
    if id > COD_IND_MAX {
        return Err(Error::internal("séquence COD_IND_OPI épuisée (99 999 999)").into());
    }
    Ok(id)
}

fn write_voeux(
    c: &mut AnyConnection,
    cod_ind_opi: i64,
    created: bool,
    plan: &VoeuxPlan,
    actor: Actor<'_>,
) -> Result<VoeuxOutcome, WriteError> {
    let stored = if created || *plan == VoeuxPlan::Unchanged {
        Vec::new()
    } else {
        repo::voeux_of(c, cod_ind_opi)?
    };
    let compared: Vec<_> = stored.iter().map(|v| v.stored()).collect();
    let (writes, outcome) = upsert::plan_voeux(plan, &compared)?;
    repo::write_voeux(c, cod_ind_opi, &stored, &writes, actor)?;
    Ok(outcome)
}

/// A piece of an OPI, as listed with it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct PieceSummary {
    /// PJ type.
    pub cod_tpj: String,
    /// File name.
    pub nom_fic: String,
    /// Size in bytes.
    pub size_bytes: i64,
    /// Media type recognised from the content.
    pub media_type: String,
    /// SHA-256 of the content.
    pub sha256: String,
    /// Reception time (RFC 3339).
    pub received_at: String,
}

/// An OPI with its pieces and laissez-passer (OPI-21).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct OpiDetail {
    /// The stored OPI, DTO shape.
    #[serde(flatten)]
    pub opi: OpiView,
    /// Its pieces.
    pub pj: Vec<PieceSummary>,
    /// Its `IAPRIMO` laissez-passer.
    pub laissez_passer: Vec<LpView>,
}

/// `GET /api/v1/opi/{code}` (the code may be an alias).
pub async fn get(app: &App, code: &str) -> Result<OpiDetail, Error> {
    let lookup = code.to_owned();
    let found = app
        .db
        .read(move |c| -> Result<_, DbError> {
            let Some(row) = repo::find_by_code(c, &lookup)? else {
                return Ok(None);
            };
            let cod_ind_opi = row.cod_ind_opi;
            let opi = repo::view(c, row)?;
            let pieces = pj_repo::list(c, cod_ind_opi)?;
            let filter = LpFilter {
                cod_ind_opi: Some(cod_ind_opi),
                typ: Some(TypLpa::Iaprimo),
                ..Default::default()
            };
            let (laissez_passer, _) = lp_repo::list(c, &filter, 1000, 0)?;
            Ok(Some((opi, pieces, laissez_passer)))
        })
        .await?;
    let (opi, pieces, laissez_passer) = found.ok_or_else(|| upsert::unknown(code))?;
    Ok(OpiDetail {
        opi,
        pj: pieces
            .into_iter()
            .map(|p| PieceSummary {
                cod_tpj: p.cod_tpj,
                nom_fic: p.nom_fic,
                size_bytes: p.size_bytes,
                media_type: p.media_type,
                sha256: p.sha256,
                received_at: rfc3339(p.received_at),
            })
            .collect(),
        laissez_passer,
    })
}

/// Criteria of `GET /api/v1/opi`, as sent.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Search {
    /// INE (normalised before comparison).
    pub ine: Option<String>,
    /// Student number.
    pub cod_etu: Option<i64>,
    /// Birth surname (accents and case ignored).
    pub nom: Option<String>,
    /// First name (accents and case ignored).
    pub prenom: Option<String>,
    /// Birth date, `ddMMyyyy` or `yyyy-MM-dd`.
    pub date_naissance: Option<String>,
}

/// One OPI of a search.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct OpiSummary {
    /// `COD_IND_OPI`.
    pub cod_ind_opi: i64,
    /// Code.
    pub cod_opi_int_epo: String,
    /// Student number.
    pub cod_etu_opi: Option<i64>,
    /// Normalised INE.
    pub ine: Option<String>,
    /// Birth surname.
    pub lib_nom_pat_ind_opi: String,
    /// First name.
    pub lib_pr1_ind_opi: String,
    /// Birth date, `ddMMyyyy`.
    pub date_nai_ind_opi: String,
}

/// A page of OPIs.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OpiList {
    /// Matching OPIs, newest first.
    pub opis: Vec<OpiSummary>,
    /// Pagination.
    pub meta: ListMeta,
}

/// `GET /api/v1/opi?ine=&codEtu=&nom=&prenom=&dateNaissance=`.
pub async fn search(app: &App, s: Search, page: Page) -> Result<OpiList, Error> {
    let date = s
        .date_naissance
        .as_deref()
        .map(|d| {
            parse_date(d).ok_or_else(|| {
                Error::bad_request("dateNaissance", "dateNaissance : JJMMAAAA ou AAAA-MM-JJ")
            })
        })
        .transpose()?;
    let criteria = OpiSearch {
        ine: s.ine.as_deref().map(apogee_domain::ine::normalize),
        cod_etu: s.cod_etu,
        nom: s.nom.as_deref().map(apogee_domain::text::normalized_name),
        prenom: s
            .prenom
            .as_deref()
            .map(apogee_domain::text::normalized_name),
        date_naissance: date,
    };
    let (rows, total) = app
        .db
        .read(move |c| repo::search(c, &criteria, page.limit, page.offset).map_err(DbError::from))
        .await?;
    Ok(OpiList {
        opis: rows
            .into_iter()
            .map(|r| OpiSummary {
                cod_ind_opi: r.cod_ind_opi,
                cod_opi_int_epo: r.cod_opi_int_epo,
                cod_etu_opi: r.cod_etu_opi,
                ine: r.ine,
                lib_nom_pat_ind_opi: r.lib_nom_pat_ind_opi,
                lib_pr1_ind_opi: r.lib_pr1_ind_opi,
                date_nai_ind_opi: apogee_date(r.date_nai_ind_opi),
            })
            .collect(),
        meta: page.meta(total),
    })
}

/// The vœux deleted by `DELETE /api/v1/opi/{code}/voeux`.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct DeletedVoeux {
    /// The code as sent.
    pub cod_opi_int_epo: String,
    /// The keys of the deleted vœux.
    pub deleted: Vec<VoeuKey>,
}

/// Explicit delete-all of the vœux (replaces OPI-15 b).
pub async fn delete_voeux(app: &App, code: &str) -> Result<DeletedVoeux, Error> {
    let lookup = code.to_owned();
    let deleted = app
        .db
        .write(move |c| -> Result<_, DbError> {
            match repo::find_by_code(c, &lookup)? {
                Some(row) => Ok(Some(repo::delete_voeux(c, row.cod_ind_opi)?)),
                None => Ok(None),
            }
        })
        .await?
        .ok_or_else(|| upsert::unknown(code))?;
    Ok(DeletedVoeux {
        cod_opi_int_epo: code.to_owned(),
        deleted,
    })
}

/// Deletes an OPI with its vœux (OPI-21: not while laissez-passer reference it).
pub async fn delete(app: &App, code: &str) -> Result<(), Error> {
    let lookup = code.to_owned();
    let found = app
        .db
        .write(move |c| -> Result<_, WriteError> {
            let Some(row) = repo::find_by_code(c, &lookup)? else {
                return Ok(false);
            };
            let lps = lp_repo::count_for_opi(c, row.cod_ind_opi)?;
            upsert::check_deletable(&row.cod_opi_int_epo, lps)?;
            Ok(repo::delete(c, row.cod_ind_opi)? > 0)
        })
        .await?;
    if found {
        Ok(())
    } else {
        Err(upsert::unknown(code))
    }
}

/// Two OPIs that look like one person (REP-6).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct DuplicatePair {
    /// `ine`, `codEtu` or `matchKey`.
    pub matched_by: String,
    /// The shared value (for a match key: the birth date).
    pub value: String,
    /// The two codes.
    pub cod_opi_int_epo: [String; 2],
}

/// `meta` of the duplicate list.
#[derive(Debug, Clone, Copy, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LimitMeta {
    /// Most pairs listed.
    pub limit: i64,
}

/// The duplicate suspects.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Duplicates {
    /// Pairs.
    pub duplicates: Vec<DuplicatePair>,
    /// The limit applied.
    pub meta: LimitMeta,
}

/// Pairs of OPIs sharing an INE, a codEtu or a match key.
pub async fn duplicates(app: &App, page: Page) -> Result<Duplicates, Error> {
    let limit = page.limit;
    let pairs = app
        .db
        .read(move |c| repo::duplicate_suspects(c, limit).map_err(DbError::from))
        .await?;
    Ok(Duplicates {
        duplicates: pairs
            .into_iter()
            .map(|(kind, value, a, b)| DuplicatePair {
                value: if kind == "matchKey" {
                    value.split('|').next_back().unwrap_or_default().to_owned()
                } else {
                    value
                },
                matched_by: kind,
                cod_opi_int_epo: [a, b],
            })
            .collect(),
        meta: LimitMeta { limit },
    })
}

/// The INE of a push as the REST answer shows it (`check`: `ok`, `unverified` or `absent`).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IneStatus {
    /// Normalised INE.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// Family.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub family: Option<IneFamily>,
    /// `ok`, `unverified` or `absent`.
    pub check: &'static str,
}

impl IneStatus {
    /// The status of an INE as stored.
    pub fn of(ine: Option<&IneInfo>) -> Self {
        match ine {
            Some(i) => IneStatus {
                value: Some(i.value.clone()),
                family: Some(i.family),
                check: i.check,
            },
            None => IneStatus {
                value: None,
                family: None,
                check: "absent",
            },
        }
    }
}
