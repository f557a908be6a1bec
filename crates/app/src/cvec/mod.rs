//! CVEC (`domain.md` §6): the attestation lookup (local register, then the CNOUS API through a
//! cache and a circuit breaker), the CNOUS-compatible answer of `GET /api/attestation/{code}`,
//! the enrolment check (CVEC-10 … CVEC-14), register loads and the stored checks. The rules that
//! need no IO live in `apogee_domain::cvec`.

use crate::referential::ImportReport;
use crate::settings::CvecSettings;
use crate::{App, Call, Page, page::ListMeta};
use apogee_client::breaker::BreakerState;
use apogee_client::cvec::{
    CnousAnswer, CnousConfig, CnousError, CnousService, Origin, ResilienceConfig,
};
use apogee_db::repo::cvec::{self as repo, AttestationFilter, CheckFilter, NewCheck};
use apogee_db::{DbError, WriteError};
use apogee_domain::cvec::check::{self as rules, CheckResult, FeeSituation, Finding, Identity};
use apogee_domain::cvec::dto::{
    CertificateDto, Etat, Exoneration, MISSING_CODE_MESSAGE, NOT_FOUND_MESSAGE,
};
use apogee_domain::cvec::register::{self, ParsedLine};
use apogee_domain::cvec::request::{CheckRequest, Checked, Exemptions};
use apogee_domain::cvec::{self, CvecCode, CvecCodeReason};
use apogee_domain::formats::rfc3339;
use apogee_domain::journal::Outcome;
use apogee_domain::text::present;
use apogee_domain::{Error, FaultKey};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The upstream side of the lookup (`None`: register only).
pub struct CvecService {
    upstream: Option<CnousService>,
}

impl CvecService {
    /// Builds the upstream client when `upstream_url` is set (a bad URL stops the start).
    pub fn new(settings: &CvecSettings) -> Result<Self, CnousError> {
        let upstream = match settings.upstream_url.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(url) => Some(CnousService::new(
                &CnousConfig {
                    base_url: url.to_owned(),
                    timeout: Duration::from_millis(settings.upstream_timeout_ms.max(1)),
                    retries: settings.retries,
                    backoff: Duration::from_millis(settings.retry_backoff_ms),
                },
                &ResilienceConfig {
                    positive_ttl: Duration::from_secs(settings.cache_positive_ttl_secs),
                    negative_ttl: Duration::from_secs(settings.cache_negative_ttl_secs),
                    cache_max_entries: settings.cache_max_entries,
                    breaker_threshold: settings.breaker_threshold,
                    breaker_cooldown: Duration::from_millis(settings.breaker_cooldown_ms),
                },
            )?),
        };
        Ok(CvecService { upstream })
    }

    /// The upstream circuit's app, when an upstream is configured.
    pub fn upstream_state(&self) -> Option<BreakerState> {
        self.upstream.as_ref().map(CnousService::breaker_state)
    }
}

/// Where an answer came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// The local register (`cvec_attestation`).
    Register,
    /// The CNOUS API, called for this request.
    Upstream,
    /// A cached answer of the CNOUS API.
    Cache,
}

impl Source {
    /// `register`, `upstream` or `cache`.
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Register => "register",
            Source::Upstream => "upstream",
            Source::Cache => "cache",
        }
    }
}

/// What a lookup found (CVEC-6, CVEC-7, CVEC-11 steps 2–3).
#[derive(Debug, Clone)]
pub enum Lookup {
    /// The attestation.
    Found {
        /// Its CNOUS body.
        dto: CertificateDto,
        /// Register, upstream or cache.
        source: Source,
    },
    /// Unknown number, or surname letters that do not match (`CVEC_INTROUVABLE`,
    /// `CVEC_NOM_INCOHERENT`).
    NotFound {
        /// Why.
        reason: Finding,
        /// Who said so.
        source: Source,
    },
    /// The register holds the number for other campaigns only (`CVEC_CAMPAGNE`).
    OtherCampaign {
        /// Why.
        reason: Finding,
    },
    /// Not in the register for a year other than the current campaign: the API cannot answer
    /// (`CVEC_CAMPAGNE`, no call).
    NotAsked {
        /// Why.
        reason: Finding,
    },
    /// The CNOUS API did not answer (`CVEC_SERVICE_INDISPONIBLE`).
    Unavailable {
        /// Why.
        reason: Finding,
        /// Last upstream status, if any.
        status: Option<u16>,
    },
}

/// The current CVEC campaign: configured, else the referential's current year.
pub fn campaign(app: &App) -> Option<String> {
    app.settings
        .cvec
        .campaign
        .as_deref()
        .and_then(|c| present(Some(c)))
        .map(str::to_owned)
        .or_else(|| app.referential().current_year())
}

/// The Apogée-style key of a CVEC reason (journal, problem bodies).
pub fn fault_key_for(reason: &str) -> FaultKey {
    match reason {
        "CVEC_CODE_EMPTY" => FaultKey::mandatory("code"),
        r if r.starts_with("CVEC_CODE_") => FaultKey::noncoherent("code"),
        "CVEC_INTROUVABLE" => FaultKey::null_retrieve("attestation"),
        "CVEC_NOM_INCOHERENT" => FaultKey::business_rule("cvec.nom"),
        "CVEC_CAMPAGNE" => FaultKey::business_rule("cvec.campagne"),
        "CVEC_ETAT_INVALIDE" => FaultKey::business_rule("cvec.etat"),
        "CVEC_IDENTITE" => FaultKey::business_rule("cvec.identite"),
        "CVEC_DEJA_UTILISEE" => FaultKey::business_rule("cvec.dejautilisee"),
        "CVEC_SERVICE_INDISPONIBLE" => FaultKey::new("technical", "service", "unavailable", "cvec"),
        _ => FaultKey::internal(),
    }
}

fn count(app: &App, source: &str, result: &str) {
    app.metrics
        .cvec_lookups
        .with_label_values(&[source, result])
        .inc();
}

/// Looks a well-formed code up for `year`: the register first (any campaign), then, for the
/// current campaign only, the CNOUS API through the cache and the circuit breaker.
pub async fn lookup(
    app: &App,
    code: &CvecCode,
    year: &str,
    campaign: Option<&str>,
) -> Result<Lookup, Error> {
    let number = code.number.clone();
    let rows = app
        .db
        .read(move |c| repo::find_by_number(c, &number).map_err(DbError::from))
        .await?;
    if let Some(row) = rows.iter().find(|r| r.attestation.cod_anu == year) {
        let attestation = &row.attestation;
        return Ok(if attestation.letters_match(&code.letters) {
            count(app, "register", "found");
            Lookup::Found {
                dto: attestation.to_certificate(),
                source: Source::Register,
            }
        } else {
            count(app, "register", "name_mismatch");
            Lookup::NotFound {
                reason: Finding::new(
                    "CVEC_NOM_INCOHERENT",
                    format!(
                        "les lettres du nom « {} » ne correspondent pas au nom porté par \
                         l'attestation {}",
                        code.letters, code.number
                    ),
                ),
                source: Source::Register,
            }
        });
    }
    if !rows.is_empty() {
        count(app, "register", "other_campaign");
        let campaigns: Vec<&str> = rows
            .iter()
            .map(|r| r.attestation.cod_anu.as_str())
            .collect();
        return Ok(Lookup::OtherCampaign {
            reason: Finding::new(
                "CVEC_CAMPAGNE",
                format!(
                    "l'attestation {} est celle de la campagne {}, pas de l'année {year}",
                    code.number,
                    campaigns.join(", ")
                ),
            ),
        });
    }
    if campaign != Some(year) {
        count(app, "register", "not_asked");
        return Ok(Lookup::NotAsked {
            reason: Finding::new(
                "CVEC_CAMPAGNE",
                format!(
                    "aucune attestation {} de l'année {year} dans le registre, et le service \
                     CVEC ne répond que pour la campagne en cours ({})",
                    code.number,
                    campaign.unwrap_or("aucune")
                ),
            ),
        });
    }
    let Some(upstream) = &app.cvec.upstream else {
        count(app, "register", "not_found");
        return Ok(Lookup::NotFound {
            reason: Finding::new("CVEC_INTROUVABLE", NOT_FOUND_MESSAGE),
            source: Source::Register,
        });
    };
    let looked = upstream.lookup(&code.normalized).await;
    let source = match looked.origin {
        Origin::Cache => Source::Cache,
        Origin::Upstream => Source::Upstream,
    };
    let outcome = match &looked.answer {
        CnousAnswer::Found(_) => "found",
        CnousAnswer::NotFound(_) => "not_found",
        CnousAnswer::Unavailable(_) => "unavailable",
    };
    count(app, source.as_str(), outcome);
    if looked.attempts > 0 {
        app.metrics
            .cvec_upstream_duration
            .with_label_values(&[outcome])
            .observe(looked.elapsed.as_secs_f64());
    }
    app.metrics
        .cvec_upstream_circuit_open
        .set(i64::from(upstream.breaker_state() == BreakerState::Open));
    Ok(match looked.answer {
        CnousAnswer::Found(dto) => Lookup::Found { dto, source },
        CnousAnswer::NotFound(_) => Lookup::NotFound {
            reason: Finding::new("CVEC_INTROUVABLE", NOT_FOUND_MESSAGE),
            source,
        },
        CnousAnswer::Unavailable(error) => {
            tracing::warn!(
                cvec.number = %code.number,
                error = %error,
                attempts = looked.attempts,
                "CNOUS API unavailable"
            );
            Lookup::Unavailable {
                reason: Finding::new(
                    "CVEC_SERVICE_INDISPONIBLE",
                    format!("Vérification CVEC impossible pour l'instant : {error}"),
                ),
                status: looked.status,
            }
        }
    })
}

/// The answer of the CNOUS-compatible endpoint.
#[derive(Debug, Clone)]
pub enum CnousReply {
    /// `200` with the attestation.
    Found {
        /// Body.
        dto: CertificateDto,
        /// Where it came from.
        source: Source,
    },
    /// An error status with a `CertificateErrorDto` body.
    Error {
        /// `400`, `404` or `503`.
        status: u16,
        /// The precise reason (journal).
        reason: Finding,
        /// `CertificateErrorDto.message`.
        message: String,
    },
}

/// `GET /api/attestation/{code}` (CVEC-1, CVEC-6, CVEC-7): the current campaign only.
pub async fn cnous_attestation(app: &App, code: &CvecCode) -> Result<CnousReply, Error> {
    if code.reason == CvecCodeReason::CvecCodeEmpty {
        return Ok(CnousReply::Error {
            status: 404,
            reason: Finding::new(code.reason.as_str(), code.message.clone()),
            message: MISSING_CODE_MESSAGE.into(),
        });
    }
    let not_found = |reason: Finding| {
        let message = if reason.message == NOT_FOUND_MESSAGE {
            NOT_FOUND_MESSAGE.to_owned()
        } else {
            format!("{NOT_FOUND_MESSAGE} : {}", reason.message)
        };
        CnousReply::Error {
            status: 400,
            reason,
            message,
        }
    };
    if !code.valid {
        return Ok(not_found(Finding::new(
            code.reason.as_str(),
            code.message.clone(),
        )));
    }
    let Some(campaign) = campaign(app) else {
        let reason = Finding::new(
            "CVEC_CAMPAGNE",
            "Aucune campagne CVEC en cours : configurer cvec.campaign ou ouvrir une année \
             (annees.etaAnuIae = O)",
        );
        return Ok(CnousReply::Error {
            status: 503,
            message: reason.message.clone(),
            reason,
        });
    };
    Ok(match lookup(app, code, &campaign, Some(&campaign)).await? {
        Lookup::Found { dto, source } => CnousReply::Found { dto, source },
        Lookup::NotFound { reason, .. }
        | Lookup::OtherCampaign { reason }
        | Lookup::NotAsked { reason } => not_found(reason),
        Lookup::Unavailable { reason, .. } => CnousReply::Error {
            status: 503,
            message: reason.message.clone(),
            reason,
        },
    })
}

/// The answer of a check.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct CheckResponse {
    /// Id of the stored check (`cvec_check`).
    pub check_id: i64,
    /// Trace id of the call.
    pub trace_id: String,
    /// `VALIDE`, `INVALIDE`, `NON_VERIFIEE` or `NON_REQUISE`.
    pub result: CheckResult,
    /// `result == VALIDE`.
    pub valid: bool,
    /// Whether the enrolment may go on (`VALIDE`, `NON_REQUISE`, or `NON_VERIFIEE` when the
    /// establishment allows it, CVEC-12).
    pub enrolment_allowed: bool,
    /// The first reason.
    pub reason: Option<String>,
    /// Every reason, in the order of CVEC-11.
    pub reasons: Vec<Finding>,
    /// Warnings (`CVEC_CODE_LAYOUT`, `CVEC_INE_DIVERGENT`, CVEC-14 disagreements).
    pub warnings: Vec<Finding>,
    /// `register`, `upstream` or `cache`; absent when nothing was looked up.
    pub source: Option<Source>,
    /// Enrolment year.
    pub cod_anu: String,
    /// Current CVEC campaign.
    pub campaign: Option<String>,
    /// Attestation number.
    pub num_attestation: Option<String>,
    /// The attestation's app.
    pub etat: Option<Etat>,
    /// The attestation's exemption data (CVEC-9).
    pub exoneration: Option<Exoneration>,
}

/// What the journal records about a check.
#[derive(Debug, Clone)]
pub struct CheckJournal {
    /// Attestation number, when well-formed.
    pub number: Option<String>,
    /// Outcome.
    pub outcome: Outcome,
    /// Fault key and `"<REASON> : <message>"` when not valid.
    pub fault: Option<(String, String)>,
    /// Warning codes.
    pub warnings: Vec<String>,
}

impl CheckResponse {
    /// The journal's view of this check (no names, birth dates or INE: REP-1).
    pub fn journal(&self) -> CheckJournal {
        let mut warnings: Vec<String> = self.warnings.iter().map(|w| w.code.clone()).collect();
        if self.result == CheckResult::NonRequise {
            warnings.push("CVEC_NON_REQUISE".into());
        }
        CheckJournal {
            number: self.num_attestation.clone(),
            outcome: match self.result {
                CheckResult::Valide | CheckResult::NonRequise => Outcome::Ok,
                CheckResult::Invalide => Outcome::Rejected,
                CheckResult::NonVerifiee => Outcome::Error,
            },
            fault: self.reasons.first().map(|r| {
                (
                    fault_key_for(&r.code).to_string(),
                    format!("{} : {}", r.code, r.message),
                )
            }),
            warnings,
        }
    }
}

fn clip(value: Option<&str>, max: usize) -> Option<String> {
    value.map(|v| v.chars().take(max).collect())
}

/// A check decided before (or without) the rules on a found attestation.
#[derive(Clone)]
struct Decision {
    result: CheckResult,
    reasons: Vec<Finding>,
    warnings: Vec<Finding>,
    source: Option<Source>,
    status: Option<u16>,
    dto: Option<CertificateDto>,
}

impl Decision {
    fn early(
        result: CheckResult,
        reason: Option<Finding>,
        source: Option<Source>,
        status: Option<u16>,
    ) -> Self {
        Decision {
            result,
            reasons: reason.into_iter().collect(),
            warnings: Vec::new(),
            source,
            status,
            dto: None,
        }
    }
}

#[derive(Clone)]
enum Stage {
    Decided(Decision),
    Found { dto: CertificateDto, source: Source },
}

/// CVEC-10 … CVEC-14: checks an attestation for an enrolment, stores the check (`cvec_check`)
/// and answers the result. Malformed requests are `400` problems; everything else is a stored
/// result.
pub async fn check(app: &App, call: &Call, req: CheckRequest) -> Result<CheckResponse, Error> {
    let settings = &app.settings.cvec;
    let campaign = campaign(app);
    let exemptions = Exemptions {
        regimes: &settings.exempt_regimes,
        statuts: &settings.exempt_statuts,
    };
    let checked = apogee_domain::cvec::request::validate(&req, exemptions, campaign.as_deref())?;
    let stage = decide_early(app, &checked, campaign.as_deref()).await?;
    let facts = CheckFacts::of(&checked, &req);
    let (check_id, decision) = {
        let (facts, person) = (facts.clone(), checked.person.clone());
        let call = call.clone();
        let categories = settings.exoneration_fee_categories.clone();
        app.db
            .write(move |c| store_check(c, &call, &facts, &person, stage.clone(), &categories))
            .await?
    };
    let reason = decision.reasons.first().map(|r| r.code.clone());
    app.metrics
        .cvec_checks
        .with_label_values(&[decision.result.as_str(), reason.as_deref().unwrap_or("")])
        .inc();
    tracing::debug!(
        cvec.number = facts.number.as_deref().unwrap_or("-"),
        cvec.result = decision.result.as_str(),
        cvec.reason = reason.as_deref().unwrap_or("-"),
        "CVEC check"
    );
    Ok(CheckResponse::new(
        check_id,
        call,
        decision,
        settings.allow_enrolment_when_unverified,
        (checked.year, campaign, facts.number),
    ))
}

/// What a check records besides the person and the decision.
#[derive(Debug, Clone)]
struct CheckFacts {
    year: String,
    number: Option<String>,
    letters: Option<String>,
    boursier: Option<bool>,
    cod_cat: Option<String>,
    layout_warning: Option<Finding>,
}

impl CheckFacts {
    fn of(checked: &Checked, req: &CheckRequest) -> Self {
        let code = checked.code.as_ref();
        CheckFacts {
            year: checked.year.clone(),
            number: code
                .map(|c| c.number.clone())
                .filter(|n| cvec::is_valid_number(n)),
            letters: code
                .map(|c| c.letters.clone())
                .filter(|l| (1..=5).contains(&l.len())),
            boursier: req.boursier,
            cod_cat: present(req.cod_cat_exo_ext.as_deref()).map(str::to_owned),
            layout_warning: code.and_then(|c| {
                c.reason
                    .warning()
                    .map(|w| Finding::new(w, c.message.clone()))
            }),
        }
    }
}

/// CVEC-10 and the lookup: a result decided without the rules, or the attestation to evaluate.
async fn decide_early(
    app: &App,
    checked: &Checked,
    campaign: Option<&str>,
) -> Result<Stage, Error> {
    let early = |result, reason, source, status| {
        Stage::Decided(Decision::early(result, reason, source, status))
    };
    // CVEC-10: an exempt enrolment (or one without code, which `validate` allows only then).
    Ok(match checked.code.as_ref().filter(|_| !checked.exempt) {
        None => early(CheckResult::NonRequise, None, None, None),
        Some(c) if !c.valid => early(
            CheckResult::Invalide,
            Some(Finding::new(c.reason.as_str(), c.message.clone())),
            None,
            None,
        ),
        Some(c) => match lookup(app, c, &checked.year, campaign).await? {
            Lookup::Found { dto, source } => Stage::Found { dto, source },
            Lookup::NotFound { reason, source } => {
                early(CheckResult::Invalide, Some(reason), Some(source), Some(400))
            }
            Lookup::OtherCampaign { reason } => early(
                CheckResult::Invalide,
                Some(reason),
                Some(Source::Register),
                Some(400),
            ),
            Lookup::NotAsked { reason } => {
                early(CheckResult::NonVerifiee, Some(reason), None, None)
            }
            Lookup::Unavailable { reason, status } => early(
                CheckResult::NonVerifiee,
                Some(reason),
                Some(Source::Upstream),
                status,
            ),
        },
    })
}

/// In one transaction: the OPI person exists; for a found attestation, the rules against the
/// earlier valid checks of the same number (locked); then the check is stored.
fn store_check(
    c: &mut apogee_db::AnyConnection,
    call: &Call,
    facts: &CheckFacts,
    person: &Identity,
    stage: Stage,
    exoneration_categories: &[String],
) -> Result<(i64, Decision), WriteError> {
    if let Some(id) = person.cod_ind_opi
        && !repo::opi_person_exists(c, id)?
    {
        return Err(Error::invalid_field(
            FaultKey::null_retrieve("codIndOpi"),
            "OPI_INCONNUE",
            "codIndOpi",
            format!("Aucune OPI de codIndOpi {id}"),
        )
        .into());
    }
    let mut decision = match stage {
        Stage::Decided(d) => d,
        Stage::Found { dto, source } => {
            let n = facts.number.clone().unwrap_or_default();
            repo::lock_number(c, &facts.year, &n)?;
            let previous: Vec<Identity> = repo::valid_checks(c, &facts.year, &n)?
                .iter()
                .map(|r| {
                    Identity::from_stored(
                        r.cod_ind,
                        r.cod_ind_opi,
                        r.ine.as_deref(),
                        r.identity_key.as_deref(),
                    )
                })
                .collect();
            let fees = FeeSituation {
                boursier: facts.boursier,
                cod_cat_exo_ext: facts.cod_cat.as_deref(),
                exoneration_categories,
            };
            let verdict = rules::evaluate(&dto, person, &previous, fees);
            Decision {
                result: verdict.result(),
                reasons: verdict.reasons,
                warnings: verdict.warnings,
                source: Some(source),
                status: Some(200),
                dto: Some(dto),
            }
        }
    };
    decision.warnings.splice(0..0, facts.layout_warning.clone());
    let id = repo::insert_check(c, &new_check(call, facts, person, &decision))?;
    Ok((id, decision))
}

fn new_check(call: &Call, facts: &CheckFacts, person: &Identity, decision: &Decision) -> NewCheck {
    let codes = |f: &[Finding]| {
        (!f.is_empty()).then(|| {
            let joined: Vec<&str> = f.iter().map(|x| x.code.as_str()).collect();
            joined.join(",").chars().take(400).collect::<String>()
        })
    };
    let dto = decision.dto.as_ref();
    let exoneration = dto.and_then(|d| d.exoneration.as_ref());
    let now = chrono::Utc::now().naive_utc();
    NewCheck {
        cod_ind: person.cod_ind,
        cod_ind_opi: person.cod_ind_opi,
        cod_anu: facts.year.clone(),
        num_attestation: facts.number.clone(),
        lettres_nom: facts.letters.clone(),
        ine: person.ine.clone(),
        identity_key: person.key(),
        source: decision.source.map(|s| s.as_str().to_owned()),
        http_status: decision.status.map(i32::from),
        etat_code: clip(dto.and_then(CertificateDto::etat_code), 10),
        exoneration_active: exoneration.map(|e| e.active),
        exoneration_motif: clip(exoneration.and_then(|e| e.motif.as_deref()), 100),
        cod_cat_exo_ext: facts.cod_cat.clone(),
        boursier: facts.boursier,
        result: decision.result.as_str().to_owned(),
        reason: decision.reasons.first().map(|r| r.code.clone()),
        reasons: codes(&decision.reasons),
        warnings: codes(&decision.warnings),
        created_at: now,
        updated_at: now,
        created_by: Some(call.client.clone()),
        last_trace_id: Some(call.trace_id.clone()),
    }
}

impl CheckResponse {
    fn new(
        check_id: i64,
        call: &Call,
        decision: Decision,
        allow_unverified: bool,
        (cod_anu, campaign, num_attestation): (String, Option<String>, Option<String>),
    ) -> Self {
        let Decision {
            result,
            reasons,
            warnings,
            source,
            dto,
            ..
        } = decision;
        CheckResponse {
            check_id,
            trace_id: call.trace_id.clone(),
            result,
            valid: result == CheckResult::Valide,
            enrolment_allowed: match result {
                CheckResult::Valide | CheckResult::NonRequise => true,
                CheckResult::NonVerifiee => allow_unverified,
                CheckResult::Invalide => false,
            },
            reason: reasons.first().map(|r| r.code.clone()),
            reasons,
            warnings,
            source,
            cod_anu,
            campaign,
            num_attestation,
            etat: dto.as_ref().and_then(|d| d.etat.clone()),
            exoneration: dto.and_then(|d| d.exoneration),
        }
    }
}

/// Input format of a register load.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegisterFormat {
    /// CSV with a header line.
    Csv,
    /// NDJSON, or a JSON array.
    Json,
}

/// `PUT /api/v1/cvec/attestations`: parses (off the request thread), then upserts by campaign and
/// number. Without `partial`, one refused line writes nothing and answers `400` with every
/// refusal; with it, the valid lines are written and the refusals reported.
pub async fn load_register(
    app: &App,
    call: &Call,
    format: RegisterFormat,
    body: bytes::Bytes,
    partial: bool,
) -> Result<ImportReport, Error> {
    let default_campaign = campaign(app);
    let lines: Vec<ParsedLine> = tokio::task::spawn_blocking(move || match format {
        RegisterFormat::Csv => register::read_csv(&body, default_campaign.as_deref()),
        RegisterFormat::Json => register::read_json(&body, default_campaign.as_deref()),
    })
    .await
    .map_err(|e| Error::internal(format!("lecture du fichier interrompue : {e}")))??;
    let received = lines.len() as u64;
    let mut rows = Vec::with_capacity(lines.len());
    let mut errors = Vec::new();
    let mut rejected = 0;
    for line in lines {
        match line.result {
            Ok(a) => rows.push(a),
            Err(mut e) => {
                rejected += 1;
                errors.append(&mut e);
            }
        }
    }
    if !errors.is_empty() && !partial {
        return Err(Error::validation(errors));
    }
    let call = call.clone();
    let counts = app
        .db
        .write(move |c| repo::upsert(c, &rows, call.actor_now()).map_err(DbError::from))
        .await?;
    Ok(ImportReport::new(
        register::FILE.name,
        received,
        counts,
        rejected,
        errors,
    ))
}

/// Filters of `GET /api/v1/cvec/attestations`, as sent.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AttestationsQuery {
    /// Campaign.
    pub cod_anu: Option<String>,
    /// Attestation number (normalised before comparison).
    pub num_attestation: Option<String>,
    /// INE (normalised before comparison).
    pub ine: Option<String>,
}

/// One attestation of the register, with its CNOUS body.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct AttestationView {
    /// Campaign.
    pub cod_anu: String,
    /// Attestation number.
    pub num_attestation: String,
    /// Usage surname.
    pub nom_usage: Option<String>,
    /// The CNOUS body (`nom`, `prenom`, `dateNaissance`, `ine`, `etat`, `exoneration` …).
    #[serde(flatten)]
    pub certificate: CertificateDto,
    /// Whether its state lets an enrolment go on.
    pub etat_valide: bool,
    /// Creation time.
    pub created_at: String,
    /// Last update.
    pub updated_at: String,
}

/// A page of the register.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AttestationList {
    /// Attestations.
    pub attestations: Vec<AttestationView>,
    /// Pagination.
    pub meta: ListMeta,
}

/// The register, filtered.
pub async fn attestations(
    app: &App,
    q: AttestationsQuery,
    page: Page,
) -> Result<AttestationList, Error> {
    let filter = AttestationFilter {
        cod_anu: q.cod_anu,
        num_attestation: q.num_attestation.as_deref().map(cvec::normalize),
        ine: q.ine.as_deref().map(apogee_domain::ine::normalize),
    };
    let (rows, total) = app
        .db
        .read(move |c| repo::list(c, &filter, page.limit, page.offset).map_err(DbError::from))
        .await?;
    let attestations = rows
        .iter()
        .map(|r| {
            let a = r.attestation.clone();
            let (created_at, updated_at) = r.timestamps();
            AttestationView {
                etat_valide: cvec::is_valid_state(&a.etat_code),
                certificate: a.to_certificate(),
                cod_anu: a.cod_anu,
                num_attestation: a.num_attestation,
                nom_usage: a.nom_usage,
                created_at,
                updated_at,
            }
        })
        .collect();
    Ok(AttestationList {
        attestations,
        meta: page.meta(total),
    })
}

/// Filters of `GET /api/v1/cvec/checks`, as sent.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChecksQuery {
    /// Enrolment year.
    pub cod_anu: Option<String>,
    /// Attestation number.
    pub num_attestation: Option<String>,
    /// Person's INE.
    pub ine: Option<String>,
    /// `VALIDE`, `INVALIDE`, `NON_VERIFIEE`, `NON_REQUISE`.
    pub result: Option<String>,
    /// First reason (`CVEC_IDENTITE` …).
    pub reason: Option<String>,
    /// `COD_IND`.
    pub cod_ind: Option<i64>,
    /// `COD_IND_OPI`.
    pub cod_ind_opi: Option<i64>,
}

/// The exemption data of a stored check.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StoredExoneration {
    /// `exoneration.active`.
    pub active: Option<bool>,
    /// `exoneration.motif`.
    pub motif: Option<String>,
}

/// A stored check (CVEC-13).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct CheckView {
    /// Id.
    pub id: i64,
    /// When (RFC 3339).
    pub at: String,
    /// The client that asked.
    pub client: Option<String>,
    /// Trace id of the call.
    pub trace_id: Option<String>,
    /// Enrolment year.
    pub cod_anu: String,
    /// Attestation number.
    pub num_attestation: Option<String>,
    /// Surname letters of the code.
    pub lettres_nom: Option<String>,
    /// `COD_IND`.
    pub cod_ind: Option<i64>,
    /// `COD_IND_OPI`.
    pub cod_ind_opi: Option<i64>,
    /// INE.
    pub ine: Option<String>,
    /// `VALIDE`, `INVALIDE`, `NON_VERIFIEE`, `NON_REQUISE`.
    pub result: String,
    /// First reason.
    pub reason: Option<String>,
    /// Every reason.
    pub reasons: Vec<String>,
    /// Warnings.
    pub warnings: Vec<String>,
    /// `register`, `upstream` or `cache`.
    pub source: Option<String>,
    /// Status the CNOUS API answered.
    pub http_status: Option<i32>,
    /// The attestation's state.
    pub etat_code: Option<String>,
    /// The attestation's exemption.
    pub exoneration: StoredExoneration,
    /// Fee category sent.
    pub cod_cat_exo_ext: Option<String>,
    /// Scholarship holder, as declared.
    pub boursier: Option<bool>,
}

/// A page of stored checks.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CheckList {
    /// Checks, newest first.
    pub checks: Vec<CheckView>,
    /// Pagination.
    pub meta: ListMeta,
}

/// Stored checks, newest first (CVEC-13, REP-5: the `NON_VERIFIEE` backlog is
/// `?result=NON_VERIFIEE`).
pub async fn checks(app: &App, q: ChecksQuery, page: Page) -> Result<CheckList, Error> {
    if let Some(r) = &q.result
        && !["VALIDE", "INVALIDE", "NON_VERIFIEE", "NON_REQUISE"].contains(&r.as_str())
    {
        return Err(Error::bad_request(
            "result",
            "result : VALIDE, INVALIDE, NON_VERIFIEE ou NON_REQUISE",
        ));
    }
    let filter = CheckFilter {
        cod_anu: q.cod_anu,
        num_attestation: q.num_attestation.as_deref().map(cvec::normalize),
        ine: q.ine.as_deref().map(apogee_domain::ine::normalize),
        result: q.result,
        reason: q.reason,
        cod_ind: q.cod_ind,
        cod_ind_opi: q.cod_ind_opi,
    };
    let (rows, total) = app
        .db
        .read(move |c| {
            repo::list_checks(c, &filter, page.limit, page.offset).map_err(DbError::from)
        })
        .await?;
    let split = |s: Option<String>| -> Vec<String> {
        s.map(|v| v.split(',').map(str::to_owned).collect())
            .unwrap_or_default()
    };
    let checks = rows
        .into_iter()
        .map(|r| CheckView {
            id: r.id,
            at: rfc3339(r.created_at),
            client: r.created_by,
            trace_id: r.last_trace_id,
            cod_anu: r.cod_anu,
            num_attestation: r.num_attestation,
            lettres_nom: r.lettres_nom,
            cod_ind: r.cod_ind,
            cod_ind_opi: r.cod_ind_opi,
            ine: r.ine,
            result: r.result,
            reason: r.reason,
            reasons: split(r.reasons),
            warnings: split(r.warnings),
            source: r.source,
            http_status: r.http_status,
            etat_code: r.etat_code,
            exoneration: StoredExoneration {
                active: r.exoneration_active,
                motif: r.exoneration_motif,
            },
            cod_cat_exo_ext: r.cod_cat_exo_ext,
            boursier: r.boursier,
        })
        .collect();
    Ok(CheckList {
        checks,
        meta: page.meta(total),
    })
}
