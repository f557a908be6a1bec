//! CVEC (`domain.md` §6): settings, the attestation lookup (local register, then the CNOUS API
//! through a cache and a circuit breaker), the CNOUS-compatible answer of
//! `GET /api/attestation/{code}`, the enrolment check `POST /api/v1/cvec/check` (CVEC-11 …
//! CVEC-14) and register loads. Handlers in `routes/cvec.rs` stay thin; the rules that need no IO
//! live in `apogee_domain::cvec`.

use crate::referential::ImportReport;
use crate::state::AppState;
use apogee_client::breaker::BreakerState;
use apogee_client::cvec::{
    CnousAnswer, CnousConfig, CnousError, CnousService, Origin, ResilienceConfig,
};
use apogee_db::repo::cvec::{self as repo, NewCheck};
use apogee_db::repo::referential::{Actor, UpsertCounts};
use apogee_db::{DbError, WriteError};
use apogee_domain::cvec::check::{self as rules, CheckResult, FeeSituation, Finding, Identity};
use apogee_domain::cvec::dto::{
    CertificateDto, Etat, Exoneration, MISSING_CODE_MESSAGE, NOT_FOUND_MESSAGE,
};
use apogee_domain::cvec::register::{self, ParsedLine};
use apogee_domain::cvec::{self, CvecCode, CvecCodeReason};
use apogee_domain::journal::Outcome;
use apogee_domain::text::{char_len, present};
use apogee_domain::{Error, FaultKey, FieldError};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// CVEC settings (`[cvec]`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CvecSettings {
    /// The current CVEC campaign (`COD_ANU`, CVEC-7); default: the referential's current year
    /// (the latest year open for enrolment).
    pub campaign: Option<String>,
    /// Base URL of a CNOUS-shaped API asked after the local register
    /// (`https://cvec-ctrl.etudiant.gouv.fr`); none: the register answers alone.
    pub upstream_url: Option<String>,
    /// Timeout of each upstream attempt, milliseconds.
    pub upstream_timeout_ms: u64,
    /// Extra attempts after a network error or a 5xx answer (timeouts are not retried).
    pub retries: u32,
    /// Wait before the first retry, milliseconds; doubled before each next one.
    pub retry_backoff_ms: u64,
    /// Seconds an upstream "found" answer is reused.
    pub cache_positive_ttl_secs: u64,
    /// Seconds an upstream "not found" answer is reused.
    pub cache_negative_ttl_secs: u64,
    /// Most cached upstream answers.
    pub cache_max_entries: usize,
    /// Consecutive upstream failures that open the circuit (0: never).
    pub breaker_threshold: u32,
    /// Milliseconds the circuit stays open before one probe call.
    pub breaker_cooldown_ms: u64,
    /// Require `Authorization: Bearer` (scope `cvec:read`) on `GET /api/attestation/{code}`;
    /// the CNOUS API is open, so is ours by default.
    pub require_bearer_on_cnous_api: bool,
    /// CVEC-12: a `NON_VERIFIEE` check lets the enrolment proceed meanwhile.
    pub allow_enrolment_when_unverified: bool,
    /// CVEC-10: régimes (`codRgi`) whose enrolments need no attestation (`NON_REQUISE`).
    pub exempt_regimes: Vec<String>,
    /// CVEC-10: statuts (`codStu`) whose enrolments need no attestation (`NON_REQUISE`).
    pub exempt_statuts: Vec<String>,
    /// CVEC-14: fee categories (`codCatExoExt`) that mean an exemption; empty: not compared.
    pub exoneration_fee_categories: Vec<String>,
}

impl Default for CvecSettings {
    fn default() -> Self {
        CvecSettings {
            campaign: None,
            upstream_url: None,
            upstream_timeout_ms: 5_000,
            retries: 2,
            retry_backoff_ms: 200,
            cache_positive_ttl_secs: 3_600,
            cache_negative_ttl_secs: 300,
            cache_max_entries: 10_000,
            breaker_threshold: 5,
            breaker_cooldown_ms: 30_000,
            require_bearer_on_cnous_api: false,
            allow_enrolment_when_unverified: false,
            exempt_regimes: Vec::new(),
            exempt_statuts: Vec::new(),
            exoneration_fee_categories: Vec::new(),
        }
    }
}

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

    /// The upstream circuit's state, when an upstream is configured.
    pub fn upstream_state(&self) -> Option<BreakerState> {
        self.upstream.as_ref().map(CnousService::breaker_state)
    }
}

/// Where an answer came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
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
pub fn campaign(state: &AppState) -> Option<String> {
    state
        .settings
        .cvec
        .campaign
        .as_deref()
        .and_then(|c| present(Some(c)))
        .map(str::to_owned)
        .or_else(|| state.referential().current_year())
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

fn count(state: &AppState, source: &str, result: &str) {
    state
        .metrics
        .cvec_lookups
        .with_label_values(&[source, result])
        .inc();
}

/// Looks a well-formed code up for `year`: the register first (any campaign), then, for the
/// current campaign only, the CNOUS API through the cache and the circuit breaker.
pub async fn lookup(
    state: &AppState,
    code: &CvecCode,
    year: &str,
    campaign: Option<&str>,
) -> Result<Lookup, Error> {
    let number = code.number.clone();
    let rows = state
        .db
        .read(move |c| repo::find_by_number(c, &number).map_err(DbError::from))
        .await?;
    if let Some(row) = rows.iter().find(|r| r.cod_anu == year) {
        let attestation = row.to_domain();
        return Ok(if attestation.letters_match(&code.letters) {
            count(state, "register", "found");
            Lookup::Found {
                dto: attestation.to_certificate(),
                source: Source::Register,
            }
        } else {
            count(state, "register", "name_mismatch");
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
        count(state, "register", "other_campaign");
        let campaigns: Vec<&str> = rows.iter().map(|r| r.cod_anu.as_str()).collect();
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
        count(state, "register", "not_asked");
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
    let Some(upstream) = &state.cvec.upstream else {
        count(state, "register", "not_found");
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
    count(state, source.as_str(), outcome);
    if looked.attempts > 0 {
        state
            .metrics
            .cvec_upstream_duration
            .with_label_values(&[outcome])
            .observe(looked.elapsed.as_secs_f64());
    }
    state
        .metrics
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
pub async fn cnous_attestation(state: &AppState, code: &CvecCode) -> Result<CnousReply, Error> {
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
    let Some(campaign) = campaign(state) else {
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
    Ok(
        match lookup(state, code, &campaign, Some(&campaign)).await? {
            Lookup::Found { dto, source } => CnousReply::Found { dto, source },
            Lookup::NotFound { reason, .. }
            | Lookup::OtherCampaign { reason }
            | Lookup::NotAsked { reason } => not_found(reason),
            Lookup::Unavailable { reason, .. } => CnousReply::Error {
                status: 503,
                message: reason.message.clone(),
                reason,
            },
        },
    )
}

/// `POST /api/v1/cvec/check` body.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CheckRequest {
    /// Attestation code: number + first letters of the surname (CVEC-3 normalisation).
    pub code: Option<String>,
    /// Attestation number alone; the letters are taken from `nom` (CVEC-1).
    pub num_attestation: Option<String>,
    /// The person's INE.
    pub ine: Option<String>,
    /// Birth surname.
    pub nom: Option<String>,
    /// Usage surname (recorded nowhere; accepted for symmetry with OPI data).
    pub nom_usage: Option<String>,
    /// First name (accepted, not compared: CVEC-11 compares INE, surname and birth date).
    pub prenom: Option<String>,
    /// Birth date (`yyyy-MM-dd`, `dd/MM/yyyy`, `ddMMyyyy`, ISO date-time).
    pub date_naissance: Option<String>,
    /// Enrolment year (`COD_ANU`); default: the current campaign.
    pub cod_anu: Option<String>,
    /// Enrolment régime (CVEC-10).
    pub cod_rgi: Option<String>,
    /// Student status (CVEC-10).
    pub cod_stu: Option<String>,
    /// Fee category (CVEC-14).
    pub cod_cat_exo_ext: Option<String>,
    /// Declared scholarship holder (CVEC-14).
    pub boursier: Option<bool>,
    /// `COD_IND` of a known student (CVEC-13).
    pub cod_ind: Option<i64>,
    /// `COD_IND_OPI` of an OPI person (CVEC-13); must exist.
    pub cod_ind_opi: Option<i64>,
}

/// The answer of a check.
#[derive(Debug, Clone, Serialize)]
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
    /// The attestation's state.
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

fn field_error(field: &str, code: &str, message: impl Into<String>) -> FieldError {
    FieldError::new(
        FaultKey::noncoherent(field),
        code,
        Some(field.to_owned()),
        message,
    )
}

fn listed(list: &[String], value: Option<&str>) -> bool {
    value.is_some_and(|v| list.iter().any(|e| e.trim().eq_ignore_ascii_case(v.trim())))
}

fn clip(value: Option<&str>, max: usize) -> Option<String> {
    value.map(|v| v.chars().take(max).collect())
}

/// A check decided before (or without) the rules on a found attestation.
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

enum Stage {
    Decided(Decision),
    Found { dto: CertificateDto, source: Source },
}

/// The checked request: what the rules and the store need.
struct Checked {
    year: String,
    person: Identity,
    code: Option<CvecCode>,
    exempt: bool,
}

fn validate(
    req: &CheckRequest,
    settings: &CvecSettings,
    campaign: Option<&str>,
) -> Result<Checked, Error> {
    let mut errors = Vec::new();
    let year = match present(req.cod_anu.as_deref()) {
        Some(y) if y.len() == 4 && y.bytes().all(|b| b.is_ascii_digit()) => Some(y.to_owned()),
        Some(_) => {
            errors.push(field_error(
                "codAnu",
                "REQUETE_INVALIDE",
                "codAnu : année sur 4 chiffres attendue",
            ));
            None
        }
        None => match campaign {
            Some(c) => Some(c.to_owned()),
            None => {
                errors.push(FieldError::new(
                    FaultKey::mandatory("codAnu"),
                    "CHAMP_OBLIGATOIRE",
                    Some("codAnu".into()),
                    "codAnu est obligatoire : aucune campagne CVEC en cours",
                ));
                None
            }
        },
    };
    let birth = present(req.date_naissance.as_deref()).and_then(|raw| {
        let date = rules::parse_birth_date(raw);
        if date.is_none() {
            errors.push(field_error(
                "dateNaissance",
                "REQUETE_INVALIDE",
                "dateNaissance : AAAA-MM-JJ, JJ/MM/AAAA, JJMMAAAA ou date-heure ISO attendue",
            ));
        }
        date
    });
    let nom = present(req.nom.as_deref());
    if nom.is_some_and(|n| char_len(n) > 80) {
        errors.push(field_error(
            "nom",
            "REQUETE_INVALIDE",
            "nom : 80 caractères au plus",
        ));
    }
    let ine = present(req.ine.as_deref()).map(apogee_domain::ine::normalize);
    if ine.as_ref().is_some_and(|i| i.chars().count() != 11) {
        errors.push(field_error(
            "ine",
            "REQUETE_INVALIDE",
            "ine : 11 caractères attendus",
        ));
    }
    if ine.is_none() && (nom.is_none() || present(req.date_naissance.as_deref()).is_none()) {
        errors.push(FieldError::new(
            FaultKey::mandatory("ine"),
            "CHAMP_OBLIGATOIRE",
            Some("ine".into()),
            "La personne doit être désignée par son INE, ou par son nom de naissance et sa date de naissance",
        ));
    }
    if present(req.cod_cat_exo_ext.as_deref()).is_some_and(|c| char_len(c) > 5) {
        errors.push(field_error(
            "codCatExoExt",
            "REQUETE_INVALIDE",
            "codCatExoExt : 5 caractères au plus",
        ));
    }
    let exempt = listed(&settings.exempt_regimes, present(req.cod_rgi.as_deref()))
        || listed(&settings.exempt_statuts, present(req.cod_stu.as_deref()));
    let code = match (
        present(req.code.as_deref()),
        present(req.num_attestation.as_deref()),
    ) {
        (Some(raw), number) => {
            let code = cvec::parse(raw);
            if let Some(n) = number
                && code.valid
                && cvec::normalize(n) != code.number
            {
                errors.push(field_error(
                    "numAttestation",
                    "REQUETE_INVALIDE",
                    "numAttestation diffère du numéro contenu dans code",
                ));
            }
            Some(code)
        }
        (None, Some(number)) => Some(cvec::parse_parts(
            number,
            &cvec::surname_letters(nom.unwrap_or_default()),
        )),
        (None, None) if exempt => None,
        (None, None) => {
            errors.push(FieldError::new(
                FaultKey::mandatory("code"),
                "CHAMP_OBLIGATOIRE",
                Some("code".into()),
                "code (numéro d'attestation suivi des lettres du nom) ou numAttestation est obligatoire",
            ));
            None
        }
    };
    match year {
        Some(year) if errors.is_empty() => Ok(Checked {
            year,
            person: Identity {
                cod_ind: req.cod_ind,
                cod_ind_opi: req.cod_ind_opi,
                ..Identity::new(ine.as_deref(), nom, birth)
            },
            code,
            exempt,
        }),
        _ => Err(Error::validation(errors)),
    }
}

/// CVEC-10 … CVEC-14: checks an attestation for an enrolment, stores the check (`cvec_check`)
/// and answers the result. Malformed requests are `400` problems; everything else is a stored
/// result.
pub async fn check(
    state: &AppState,
    req: CheckRequest,
    client: &str,
) -> Result<CheckResponse, Error> {
    let settings = &state.settings.cvec;
    let campaign = campaign(state);
    let Checked {
        year,
        person,
        code,
        exempt,
    } = validate(&req, settings, campaign.as_deref())?;
    let layout_warning = code.as_ref().and_then(|c| {
        c.reason
            .warning()
            .map(|w| Finding::new(w, c.message.clone()))
    });
    // CVEC-10: an exempt enrolment (or one without code, which `validate` allows only then).
    let stage = match code.as_ref().filter(|_| !exempt) {
        None => Stage::Decided(Decision::early(CheckResult::NonRequise, None, None, None)),
        Some(c) if !c.valid => Stage::Decided(Decision::early(
            CheckResult::Invalide,
            Some(Finding::new(c.reason.as_str(), c.message.clone())),
            None,
            None,
        )),
        Some(c) => match lookup(state, c, &year, campaign.as_deref()).await? {
            Lookup::Found { dto, source } => Stage::Found { dto, source },
            Lookup::NotFound { reason, source } => Stage::Decided(Decision::early(
                CheckResult::Invalide,
                Some(reason),
                Some(source),
                Some(400),
            )),
            Lookup::OtherCampaign { reason } => Stage::Decided(Decision::early(
                CheckResult::Invalide,
                Some(reason),
                Some(Source::Register),
                Some(400),
            )),
            Lookup::NotAsked { reason } => Stage::Decided(Decision::early(
                CheckResult::NonVerifiee,
                Some(reason),
                None,
                None,
            )),
            Lookup::Unavailable { reason, status } => Stage::Decided(Decision::early(
                CheckResult::NonVerifiee,
                Some(reason),
                Some(Source::Upstream),
                status,
            )),
        },
    };
    let number = code
        .as_ref()
        .map(|c| c.number.clone())
        .filter(|n| cvec::is_valid_number(n));
    let letters = code
        .as_ref()
        .map(|c| c.letters.clone())
        .filter(|l| (1..=5).contains(&l.len()));
    let trace_id = crate::error::current_request_id().unwrap_or_default();
    let exoneration_categories = settings.exoneration_fee_categories.clone();
    let (client, year_w, number_w, person_w) = (
        client.to_owned(),
        year.clone(),
        number.clone(),
        person.clone(),
    );
    let (boursier, cod_cat) = (
        req.boursier,
        present(req.cod_cat_exo_ext.as_deref()).map(str::to_owned),
    );
    let (check_id, decision) = state
        .db
        .write(move |c| -> Result<(i64, Decision), WriteError> {
            if let Some(id) = person_w.cod_ind_opi
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
                    let n = number_w.clone().unwrap_or_default();
                    repo::lock_number(c, &year_w, &n)?;
                    let previous: Vec<Identity> = repo::valid_checks(c, &year_w, &n)?
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
                    let verdict = rules::evaluate(
                        &dto,
                        &person_w,
                        &previous,
                        FeeSituation {
                            boursier,
                            cod_cat_exo_ext: cod_cat.as_deref(),
                            exoneration_categories: &exoneration_categories,
                        },
                    );
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
            decision.warnings.splice(0..0, layout_warning);
            let codes = |f: &[Finding]| {
                (!f.is_empty()).then(|| {
                    let joined: Vec<&str> = f.iter().map(|x| x.code.as_str()).collect();
                    joined.join(",").chars().take(400).collect::<String>()
                })
            };
            let dto = decision.dto.as_ref();
            let etat_code = dto.and_then(CertificateDto::etat_code);
            let exoneration = dto.and_then(|d| d.exoneration.as_ref());
            let now = chrono::Utc::now().naive_utc();
            let id = repo::insert_check(
                c,
                &NewCheck {
                    cod_ind: person_w.cod_ind,
                    cod_ind_opi: person_w.cod_ind_opi,
                    cod_anu: year_w,
                    num_attestation: number_w,
                    lettres_nom: letters,
                    ine: person_w.ine.clone(),
                    identity_key: person_w.key(),
                    source: decision.source.map(|s| s.as_str().to_owned()),
                    http_status: decision.status.map(i32::from),
                    etat_code: clip(etat_code, 10),
                    exoneration_active: exoneration.map(|e| e.active),
                    exoneration_motif: clip(exoneration.and_then(|e| e.motif.as_deref()), 100),
                    cod_cat_exo_ext: cod_cat,
                    boursier,
                    result: decision.result.as_str().to_owned(),
                    reason: decision.reasons.first().map(|r| r.code.clone()),
                    reasons: codes(&decision.reasons),
                    warnings: codes(&decision.warnings),
                    created_at: now,
                    updated_at: now,
                    created_by: Some(client),
                    last_trace_id: Some(trace_id),
                },
            )?;
            Ok((id, decision))
        })
        .await
        .map_err(Error::from)?;
    let Decision {
        result,
        reasons,
        warnings,
        source,
        dto,
        ..
    } = decision;
    let reason = reasons.first().map(|r| r.code.clone());
    state
        .metrics
        .cvec_checks
        .with_label_values(&[result.as_str(), reason.as_deref().unwrap_or("")])
        .inc();
    tracing::debug!(
        cvec.number = number.as_deref().unwrap_or("-"),
        cvec.result = result.as_str(),
        cvec.reason = reason.as_deref().unwrap_or("-"),
        "CVEC check"
    );
    Ok(CheckResponse {
        check_id,
        trace_id: crate::error::current_request_id().unwrap_or_default(),
        result,
        valid: result == CheckResult::Valide,
        enrolment_allowed: match result {
            CheckResult::Valide | CheckResult::NonRequise => true,
            CheckResult::NonVerifiee => settings.allow_enrolment_when_unverified,
            CheckResult::Invalide => false,
        },
        reason,
        reasons,
        warnings,
        source,
        cod_anu: year,
        campaign,
        num_attestation: number,
        etat: dto.as_ref().and_then(|d| d.etat.clone()),
        exoneration: dto.and_then(|d| d.exoneration),
    })
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
    state: &AppState,
    format: RegisterFormat,
    body: actix_web::web::Bytes,
    partial: bool,
    client: &str,
) -> Result<ImportReport, Error> {
    let default_campaign = campaign(state);
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
    let trace_id = crate::error::current_request_id().unwrap_or_default();
    let client = client.to_owned();
    let counts: UpsertCounts = state
        .db
        .write(move |c| {
            repo::upsert(
                c,
                &rows,
                Actor {
                    client: Some(&client),
                    trace_id: &trace_id,
                    now: chrono::Utc::now().naive_utc(),
                },
            )
            .map_err(DbError::from)
        })
        .await?;
    Ok(ImportReport {
        table: register::FILE.name.to_owned(),
        received,
        created: counts.created,
        updated: counts.updated,
        unchanged: counts.unchanged,
        rejected,
        written: counts.created + counts.updated > 0,
        errors,
    })
}
