//! A client of CNOUS-shaped CVEC control APIs (`GET {base}/api/attestation/{code}`, CVEC-1):
//! per-attempt timeout, retries with exponential backoff on network errors and 5xx answers, and
//! [`CnousService`], which adds a circuit breaker and a cache of answers (positive and negative,
//! each with its own time to live).
//!
//! Timeouts are not retried [chosen]: a slow upstream would otherwise hold the caller for
//! `(retries + 1) × timeout`; one timeout is enough to answer "unavailable".

use crate::breaker::{BreakerState, CircuitBreaker};
use crate::cache::TtlCache;
use apogee_domain::cvec::dto::{CertificateDto, CertificateErrorDto, NOT_FOUND_MESSAGE};
use std::time::{Duration, Instant};

/// Why the upstream could not answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CnousError {
    /// The base URL is not an `http(s)` URL, or the HTTP stack could not be built.
    #[error("configuration du service CVEC invalide : {0}")]
    Config(String),
    /// No answer within the timeout.
    #[error("le service CVEC n'a pas répondu dans le délai ({0} ms)")]
    Timeout(u64),
    /// Connection refused, reset, DNS failure …
    #[error("service CVEC injoignable : {0}")]
    Network(String),
    /// An HTTP status other than 200 or 400 (after the retries for 5xx).
    #[error("le service CVEC a répondu HTTP {0}")]
    Status(u16),
    /// A 200 whose body is not a `CertificateDto`.
    #[error("réponse illisible du service CVEC : {0}")]
    Body(String),
    /// The circuit breaker is open: no call was made.
    #[error("service CVEC suspendu après des échecs répétés ; nouvel essai dans {0} ms")]
    CircuitOpen(u64),
}

impl CnousError {
    /// A stable short name for metrics and journals (`timeout`, `network`, `status_503` …).
    pub fn kind(&self) -> String {
        match self {
            CnousError::Config(_) => "config".into(),
            CnousError::Timeout(_) => "timeout".into(),
            CnousError::Network(_) => "network".into(),
            CnousError::Status(s) => format!("status_{s}"),
            CnousError::Body(_) => "body".into(),
            CnousError::CircuitOpen(_) => "circuit_open".into(),
        }
    }
}

/// What the upstream said about one code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CnousAnswer {
    /// `200`: the attestation.
    Found(CertificateDto),
    /// `400`: not found (the upstream's message).
    NotFound(String),
    /// No usable answer.
    Unavailable(CnousError),
}

/// Settings of [`CnousClient`].
#[derive(Debug, Clone)]
pub struct CnousConfig {
    /// Base URL, e.g. `https://cvec-ctrl.etudiant.gouv.fr` (a path prefix is kept).
    pub base_url: String,
    /// Timeout of each attempt (connection, request and body).
    pub timeout: Duration,
    /// Extra attempts after a network error or a 5xx answer.
    pub retries: u32,
    /// Wait before the first retry; doubled before each next one.
    pub backoff: Duration,
}

/// HTTP client of a CNOUS-shaped API.
#[derive(Debug, Clone)]
pub struct CnousClient {
    http: reqwest::Client,
    base: reqwest::Url,
    timeout: Duration,
    retries: u32,
    backoff: Duration,
}

/// The answer of one lookup and what it took.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// The answer.
    pub answer: CnousAnswer,
    /// HTTP attempts made (0 when the circuit was open).
    pub attempts: u32,
    /// HTTP status of the last answer, if any.
    pub status: Option<u16>,
}

enum Attempt {
    Done(CnousAnswer, Option<u16>),
    Retry(CnousError, Option<u16>),
}

impl CnousClient {
    /// Builds the client (rustls, no cookies, no redirects).
    pub fn new(config: &CnousConfig) -> Result<Self, CnousError> {
        let base = reqwest::Url::parse(config.base_url.trim())
            .map_err(|e| CnousError::Config(format!("{}: {e}", config.base_url)))?;
        if !matches!(base.scheme(), "http" | "https") || base.cannot_be_a_base() {
            return Err(CnousError::Config(format!(
                "{} : URL http:// ou https:// attendue",
                config.base_url
            )));
        }
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("apogee-gateway/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| CnousError::Config(e.to_string()))?;
        Ok(CnousClient {
            http,
            base,
            timeout: config.timeout,
            retries: config.retries,
            backoff: config.backoff,
        })
    }

    /// The URL asked for `code`.
    pub fn url_for(&self, code: &str) -> reqwest::Url {
        let mut url = self.base.clone();
        if let Ok(mut segments) = url.path_segments_mut() {
            segments.pop_if_empty().extend(["api", "attestation", code]);
        }
        url
    }

    /// Asks the upstream about `code` (number + surname letters), retrying network errors and
    /// 5xx answers with exponential backoff.
    pub async fn fetch(&self, code: &str) -> Fetched {
        let url = self.url_for(code);
        let mut attempts = 0;
        loop {
            attempts += 1;
            match self.attempt(url.clone()).await {
                Attempt::Done(answer, status) => {
                    return Fetched {
                        answer,
                        attempts,
                        status,
                    };
                }
                Attempt::Retry(error, status) if attempts > self.retries => {
                    return Fetched {
                        answer: CnousAnswer::Unavailable(error),
                        attempts,
                        status,
                    };
                }
                Attempt::Retry(error, _) => {
                    let wait = self.backoff.saturating_mul(1 << (attempts - 1).min(16));
                    tracing::debug!(attempt = attempts, error = %error, wait_ms = wait.as_millis() as u64, "CNOUS API: retrying");
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }

    async fn attempt(&self, url: reqwest::Url) -> Attempt {
        let timeout_ms = self.timeout.as_millis() as u64;
        let classify = |e: reqwest::Error| {
            if e.is_timeout() {
                Attempt::Done(
                    CnousAnswer::Unavailable(CnousError::Timeout(timeout_ms)),
                    None,
                )
            } else {
                Attempt::Retry(CnousError::Network(network_reason(&e)), None)
            }
        };
        let response = match self
            .http
            .get(url)
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
        {
            Ok(r) => r,
            Err(e) => return classify(e),
        };
        let status = response.status().as_u16();
        if response.status().is_server_error() {
            return Attempt::Retry(CnousError::Status(status), Some(status));
        }
        if status != 200 && status != 400 {
            return Attempt::Done(
                CnousAnswer::Unavailable(CnousError::Status(status)),
                Some(status),
            );
        }
        let body = match response.bytes().await {
            Ok(b) => b,
            Err(e) if e.is_timeout() => return classify(e),
            Err(e) => {
                return Attempt::Retry(CnousError::Network(network_reason(&e)), Some(status));
            }
        };
        let answer = if status == 200 {
            match serde_json::from_slice::<CertificateDto>(&body) {
                Ok(dto) => CnousAnswer::Found(dto),
                Err(e) => CnousAnswer::Unavailable(CnousError::Body(e.to_string())),
            }
        } else {
            let message = serde_json::from_slice::<CertificateErrorDto>(&body)
                .ok()
                .map(|e| e.message)
                .filter(|m| !m.trim().is_empty())
                .unwrap_or_else(|| NOT_FOUND_MESSAGE.to_owned());
            CnousAnswer::NotFound(message)
        };
        Attempt::Done(answer, Some(status))
    }
}

/// The innermost cause of a reqwest error (the outer ones only repeat the URL).
fn network_reason(e: &reqwest::Error) -> String {
    let mut source: &dyn std::error::Error = e;
    while let Some(next) = source.source() {
        source = next;
    }
    if e.is_connect() {
        format!("connexion impossible ({source})")
    } else {
        source.to_string()
    }
}

/// Where an answer came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// The upstream was called (or would have been: circuit open).
    Upstream,
    /// A cached answer of an earlier call.
    Cache,
}

/// One lookup through [`CnousService`].
#[derive(Debug, Clone)]
pub struct Lookup {
    /// The answer.
    pub answer: CnousAnswer,
    /// Cache or upstream.
    pub origin: Origin,
    /// HTTP attempts made.
    pub attempts: u32,
    /// HTTP status of the last upstream answer.
    pub status: Option<u16>,
    /// Time spent calling the upstream (zero for cache hits and an open circuit).
    pub elapsed: Duration,
}

/// Settings of [`CnousService`] beyond the client's.
#[derive(Debug, Clone)]
pub struct ResilienceConfig {
    /// Time a `Found` answer is reused.
    pub positive_ttl: Duration,
    /// Time a `NotFound` answer is reused.
    pub negative_ttl: Duration,
    /// Most cached answers.
    pub cache_max_entries: usize,
    /// Consecutive failures that open the circuit (0: never).
    pub breaker_threshold: u32,
    /// How long the circuit stays open before a probe.
    pub breaker_cooldown: Duration,
}

/// The client behind a circuit breaker and a cache of answers. Unavailability is never cached.
#[derive(Debug)]
pub struct CnousService {
    client: CnousClient,
    breaker: CircuitBreaker,
    cache: TtlCache<String, CnousAnswer>,
    positive_ttl: Duration,
    negative_ttl: Duration,
}

impl CnousService {
    /// Builds the service.
    pub fn new(client: &CnousConfig, resilience: &ResilienceConfig) -> Result<Self, CnousError> {
        Ok(CnousService {
            client: CnousClient::new(client)?,
            breaker: CircuitBreaker::new(resilience.breaker_threshold, resilience.breaker_cooldown),
            cache: TtlCache::new(resilience.cache_max_entries),
            positive_ttl: resilience.positive_ttl,
            negative_ttl: resilience.negative_ttl,
        })
    }

    /// The breaker's state.
    pub fn breaker_state(&self) -> BreakerState {
        self.breaker.state()
    }

    /// Forgets every cached answer.
    pub fn clear_cache(&self) {
        self.cache.clear();
    }

    /// Looks `code` up: cache first, then the upstream unless the circuit is open.
    pub async fn lookup(&self, code: &str) -> Lookup {
        if let Some(answer) = self.cache.get(&code.to_owned()) {
            return Lookup {
                answer,
                origin: Origin::Cache,
                attempts: 0,
                status: None,
                elapsed: Duration::ZERO,
            };
        }
        if let Err(remaining) = self.breaker.try_acquire() {
            return Lookup {
                answer: CnousAnswer::Unavailable(CnousError::CircuitOpen(
                    remaining.as_millis() as u64
                )),
                origin: Origin::Upstream,
                attempts: 0,
                status: None,
                elapsed: Duration::ZERO,
            };
        }
        let start = Instant::now();
        let fetched = self.client.fetch(code).await;
        let elapsed = start.elapsed();
        match &fetched.answer {
            CnousAnswer::Found(_) => {
                self.breaker.record_success();
                self.cache
                    .insert(code.to_owned(), fetched.answer.clone(), self.positive_ttl);
            }
            CnousAnswer::NotFound(_) => {
                self.breaker.record_success();
                self.cache
                    .insert(code.to_owned(), fetched.answer.clone(), self.negative_ttl);
            }
            CnousAnswer::Unavailable(_) => self.breaker.record_failure(),
        }
        Lookup {
            answer: fetched.answer,
            origin: Origin::Upstream,
            attempts: fetched.attempts,
            status: fetched.status,
            elapsed,
        }
    }
}
