//! The gateway's configuration: every section and key with its default. Loading the layers
//! (file, environment, flags) is the server's business; `apogee.example.toml` documents every
//! key and a test keeps it equal to these defaults.

use apogee_domain::pj::MediaType;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// Logging.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogSettings {
    /// `text` or `json`.
    pub format: LogFormat,
    /// Filter directives (`info`, `apogee_gateway=debug,info` …); `RUST_LOG` wins when set.
    pub level: String,
}

impl Default for LogSettings {
    fn default() -> Self {
        LogSettings {
            format: LogFormat::Text,
            level: "info".into(),
        }
    }
}

/// Request body limits, in bytes.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// JSON request bodies.
    pub json_bytes: usize,
    /// SOAP envelopes (PJ uploads included).
    pub soap_bytes: usize,
    /// Referential files (CSV or JSON).
    pub referential_bytes: usize,
    /// Batch uploads (OPI files), spooled to disk as they arrive.
    pub batch_bytes: usize,
    /// Batch uploads processed at once by this process (more: 503 with `Retry-After`).
    pub batches: usize,
    /// Batch uploads processed at once for one client by this process.
    pub batches_per_client: usize,
    /// Seconds a client has to send a request's head (slow clients get 408).
    pub head_timeout_secs: u64,
    /// Seconds a body may stay silent while it is read (an upload cut after that: 408).
    pub body_idle_timeout_secs: u64,
    /// Seconds an idle keep-alive connection is kept open.
    pub keep_alive_secs: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            json_bytes: 2 * 1024 * 1024,
            soap_bytes: 16 * 1024 * 1024,
            referential_bytes: 64 * 1024 * 1024,
            batch_bytes: 1024 * 1024 * 1024,
            batches: 8,
            batches_per_client: 2,
            head_timeout_secs: 10,
            body_idle_timeout_secs: 60,
            keep_alive_secs: 30,
        }
    }
}

/// Database pool and SQLite settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DbSettings {
    /// Pooled connections (reads; writes too on PostgreSQL).
    pub pool_size: u32,
    /// Seconds a request waits for a free connection before answering 503.
    pub connection_timeout_secs: u64,
    /// SQLite `busy_timeout`, milliseconds.
    pub sqlite_busy_timeout_ms: u64,
    /// SQLite `synchronous`: `full` (every commit durable) or `normal`.
    pub sqlite_synchronous: String,
}

impl Default for DbSettings {
    fn default() -> Self {
        DbSettings {
            pool_size: 8,
            connection_timeout_secs: 5,
            sqlite_busy_timeout_ms: 5_000,
            sqlite_synchronous: "full".into(),
        }
    }
}

/// Call journal.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct JournalSettings {
    /// Rows older than this many days are deleted (hourly). 0 keeps everything.
    pub retention_days: u32,
    /// Entries are written in batches at most this many milliseconds apart.
    pub flush_interval_ms: u64,
    /// Largest batch written at once.
    pub max_batch: usize,
}

impl Default for JournalSettings {
    fn default() -> Self {
        JournalSettings {
            retention_days: 730,
            flush_interval_ms: 50,
            max_batch: 500,
        }
    }
}

/// OPI intake.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OpiSettings {
    /// On SOAP, store the valid vœux and drop the rejected ones (reported in the journal) instead
    /// of failing the call (OPI-17). REST asks per call with `?partial=true`.
    pub soap_partial_voeux: bool,
    /// Merge into an existing OPI with the same `codEtuOpi` (OPI-3 step 2).
    pub match_cod_etu: bool,
    /// Merge into an existing OPI with the same INE (OPI-3 step 3).
    pub match_ine: bool,
    /// Reject (instead of warning) a missing INE where the bac requires one (OPI-14).
    pub ine_required_is_error: bool,
}

impl Default for OpiSettings {
    fn default() -> Self {
        OpiSettings {
            soap_partial_voeux: false,
            match_cod_etu: true,
            match_ine: true,
            ine_required_is_error: false,
        }
    }
}

/// `Idempotency-Key` handling.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IdempotencySettings {
    /// Seconds a running request holds its key without renewing it (it renews every third of
    /// that): after a crash, the key may be taken over (the batch resumed) once this expires.
    pub lease_secs: u64,
    /// Days a completed key is kept and answered from storage.
    pub retention_days: u32,
}

impl Default for IdempotencySettings {
    fn default() -> Self {
        IdempotencySettings {
            lease_secs: 30,
            retention_days: 30,
        }
    }
}

/// SOAP endpoints.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SoapSettings {
    /// Base paths the services answer on (`<base>/OpiMetier` …).
    pub base_paths: Vec<String>,
}

impl Default for SoapSettings {
    fn default() -> Self {
        SoapSettings {
            base_paths: vec![
                "/apo-commun-servicesMetiers/services".into(),
                "/services".into(),
            ],
        }
    }
}

/// Laissez-passer batch files (`[lp]`, `POST /api/v1/laissez-passer/batch`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LpSettings {
    /// Keys of a file's duplicate map (`LP_DOUBLON_FICHIER`) held in memory (≈ 22 bytes each);
    /// past it they are spilled to sorted temporary files, so a batch's memory does not grow
    /// with its file.
    pub batch_keys_in_memory: usize,
}

impl Default for LpSettings {
    fn default() -> Self {
        LpSettings {
            batch_keys_in_memory: 200_000,
        }
    }
}

/// Administrative enrolment (`[enrolment]`, `POST /api/v1/inscriptions`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EnrolmentSettings {
    /// First student number a primo enrolment may hand out.
    pub cod_etu_first: i64,
    /// Last student number a primo enrolment may hand out (then: refused, widen the range).
    pub cod_etu_last: i64,
    /// Require a CVEC attestation (`VALIDE`, or `NON_REQUISE` for the exempt régimes and
    /// statuts of `[cvec]`) for the year (CVEC-10); `false`: not checked.
    pub require_cvec: bool,
}

impl Default for EnrolmentSettings {
    fn default() -> Self {
        EnrolmentSettings {
            cod_etu_first: 20_000_001,
            cod_etu_last: 29_999_999,
            require_cvec: true,
        }
    }
}

/// The effective configuration.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// Listen address.
    pub bind: String,
    /// Where the SQLite database, `admin.token` and stored files live.
    pub data_dir: PathBuf,
    /// `sqlite://…` or `postgres://…`; default `sqlite://<data_dir>/apogee.db`.
    pub database_url: Option<String>,
    /// Externally visible base URL (used in served WSDLs), e.g. `https://apogee.univ.fr`.
    pub public_url: Option<String>,
    /// Seed the demo referential on the first start of an empty database.
    pub demo: bool,
    /// HTTP worker threads (default: one per core).
    pub workers: Option<usize>,
    /// Seconds in-flight requests get to finish after SIGTERM/SIGINT.
    pub shutdown_timeout_secs: u64,
    /// Logging.
    pub log: LogSettings,
    /// Body limits.
    pub limits: Limits,
    /// Database.
    pub db: DbSettings,
    /// Call journal.
    pub journal: JournalSettings,
    /// OPI intake.
    pub opi: OpiSettings,
    /// SOAP endpoints.
    pub soap: SoapSettings,
    /// `Idempotency-Key` handling.
    pub idempotency: IdempotencySettings,
    /// CVEC checks.
    pub cvec: CvecSettings,
    /// Attachments (PJ) and the PJ / INES facades.
    pub pj: PjSettings,
    /// Other ways in: the API-key header, trusted networks.
    pub auth: AuthSettings,
    /// Administrative enrolment.
    pub enrolment: EnrolmentSettings,
    /// Laissez-passer batch files.
    pub lp: LpSettings,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            bind: "127.0.0.1:8080".into(),
            data_dir: PathBuf::from("./data"),
            database_url: None,
            public_url: None,
            demo: true,
            workers: None,
            shutdown_timeout_secs: 30,
            log: LogSettings::default(),
            limits: Limits::default(),
            db: DbSettings::default(),
            journal: JournalSettings::default(),
            opi: OpiSettings::default(),
            soap: SoapSettings::default(),
            idempotency: IdempotencySettings::default(),
            cvec: CvecSettings::default(),
            pj: PjSettings::default(),
            auth: AuthSettings::default(),
            enrolment: EnrolmentSettings::default(),
            lp: LpSettings::default(),
        }
    }
}

impl Settings {
    /// The database URL in effect.
    pub fn effective_database_url(&self) -> String {
        self.database_url
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}", self.data_dir.join("apogee.db").display()))
    }

    /// The configuration as TOML, with the database password masked.
    pub fn to_masked_toml(&self) -> String {
        let mut shown = self.clone();
        shown.database_url = Some(apogee_db::mask_password(&self.effective_database_url()));
        shown.pj = self.pj.masked();
        toml::to_string_pretty(&shown).unwrap_or_else(|e| format!("# cannot render: {e}\n"))
    }

    /// Path of the admin token file.
    pub fn admin_token_path(&self) -> PathBuf {
        self.data_dir.join("admin.token")
    }

    /// Where attachment files are stored (`pj.storage_dir`, default `<data_dir>/pj`).
    pub fn pj_storage_dir(&self) -> PathBuf {
        self.pj
            .storage_dir
            .clone()
            .unwrap_or_else(|| self.data_dir.join("pj"))
    }
}

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

/// Attachment settings (`[pj]`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PjSettings {
    /// Largest attachment, in bytes (PJ-6). A base64 envelope is a third larger: keep
    /// `limits.soap_bytes` above `max_bytes × 1.37` (checked at start).
    pub max_bytes: u64,
    /// Media types accepted, recognised from the content (among `application/pdf`, `image/jpeg`,
    /// `image/png`).
    pub allowed_types: Vec<String>,
    /// Where files are stored; default `<data_dir>/pj`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub storage_dir: Option<PathBuf>,
    /// Base path of the Apogée PJ REST facade (`<base>/info`, `<base>/fichier`, PJ-11 … PJ-14).
    pub pj_facade_base: String,
    /// Base path of the INES check facade (`<base>/v1/check-ine`, `<base>/version`, INES-1).
    pub ines_facade_base: String,
    /// With `facade_header_value`: a request carrying this header with this value may call the
    /// facades without API credentials (PJ-15; what eCandidat sends per service).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub facade_header_name: Option<String>,
    /// The expected value of `facade_header_name` (a secret: masked by `apogee-gateway config`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub facade_header_value: Option<String>,
    /// INES values (11 characters) the INES verifier accepts, every other INES being refused: the
    /// static allow-list of INE-8. Empty: no verifier (INES-shaped values answer 503).
    pub ines_allow_list: Vec<String>,
    /// Seconds between two cleanups of orphan files and interrupted uploads (also run at start).
    pub cleanup_interval_secs: u64,
}

impl Default for PjSettings {
    fn default() -> Self {
        PjSettings {
            max_bytes: 10 * 1024 * 1024,
            allowed_types: MediaType::ALL
                .iter()
                .map(|t| t.as_str().to_owned())
                .collect(),
            storage_dir: None,
            pj_facade_base: "/apo-ws/services/PJ".into(),
            ines_facade_base: "/ines".into(),
            facade_header_name: None,
            facade_header_value: None,
            ines_allow_list: Vec::new(),
            cleanup_interval_secs: 3600,
        }
    }
}

impl PjSettings {
    /// The accepted media types (unknown names are refused by [`PjSettings::check`]).
    pub fn media_types(&self) -> Vec<MediaType> {
        self.allowed_types
            .iter()
            .filter_map(|t| MediaType::from_mime(t))
            .collect()
    }

    /// A copy safe to print (the facade header value masked).
    pub fn masked(&self) -> Self {
        let mut shown = self.clone();
        if shown.facade_header_value.is_some() {
            shown.facade_header_value = Some("****".into());
        }
        shown
    }

    /// Refuses settings the gateway cannot honour.
    pub fn check(&self, settings: &Settings) -> Result<(), String> {
        if self.max_bytes == 0 {
            return Err("pj.max_bytes doit être positif".into());
        }
        // base64 (4/3), lines of 76 characters with CRLF, and the envelope.
        let envelope = self.max_bytes.div_ceil(3) * 4 / 76 * 78 + 64 * 1024;
        if (settings.limits.soap_bytes as u64) < envelope {
            return Err(format!(
                "limits.soap_bytes ({}) est trop petit pour une pièce de pj.max_bytes ({}) en base64 : au moins {envelope}",
                settings.limits.soap_bytes, self.max_bytes
            ));
        }
        for t in &self.allowed_types {
            if MediaType::from_mime(t).is_none() {
                return Err(format!(
                    "pj.allowed_types : type {t} inconnu (application/pdf, image/jpeg, image/png)"
                ));
            }
        }
        if self.allowed_types.is_empty() {
            return Err("pj.allowed_types est vide".into());
        }
        for (key, base) in [
            ("pj_facade_base", &self.pj_facade_base),
            ("ines_facade_base", &self.ines_facade_base),
        ] {
            let ok = base.starts_with('/')
                && base.len() > 1
                && !base.ends_with('/')
                && !base.starts_with("/api/v1")
                && !base.contains(['?', '#', '{', '}']);
            if !ok {
                return Err(format!(
                    "pj.{key} : chemin invalide « {base} » (commence par /, sans / final, hors de /api/v1)"
                ));
            }
        }
        if self.facade_header_name.is_some() != self.facade_header_value.is_some() {
            return Err("pj.facade_header_name et pj.facade_header_value vont ensemble".into());
        }
        if let Some(name) = &self.facade_header_name
            && !is_header_name(name)
        {
            return Err(format!(
                "pj.facade_header_name : nom d'en-tête invalide « {name} »"
            ));
        }
        Ok(())
    }
}

/// An HTTP header name (RFC 9110 `token`).
fn is_header_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// Authentication besides `Authorization` (`[auth]`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthSettings {
    /// A header carrying a client secret (the same secrets as Bearer), e.g. `X-Api-Key`, for
    /// clients behind an API gateway; `Authorization` wins when both are sent. None: not read.
    pub api_key_header: Option<String>,
    /// Networks whose requests without credentials are a named client (which must exist and be
    /// active; its scopes are its own). Credentials sent always win. Empty: off.
    pub trusted_networks: Vec<TrustedNetwork>,
    /// Reverse proxies whose `X-Forwarded-For` is believed: the client address is the right-most
    /// one not in this list. Empty: the TCP peer is the client address.
    pub trusted_proxies: Vec<crate::clients::Cidr>,
}

/// One trusted network and the client its requests are.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustedNetwork {
    /// `10.0.0.0/8`, `2001:db8::/32`, or one address.
    pub cidr: crate::clients::Cidr,
    /// The client's name.
    pub client: String,
}

impl AuthSettings {
    /// Refuses settings the gateway cannot honour (bad CIDRs are refused when the file is read).
    pub fn check(&self, settings: &Settings) -> Result<(), String> {
        if let Some(name) = &self.api_key_header {
            if !is_header_name(name) {
                return Err(format!(
                    "auth.api_key_header : nom d'en-tête invalide « {name} »"
                ));
            }
            let taken = ["authorization", "x-forwarded-for"]
                .iter()
                .any(|h| name.eq_ignore_ascii_case(h))
                || settings
                    .pj
                    .facade_header_name
                    .as_deref()
                    .is_some_and(|f| f.eq_ignore_ascii_case(name));
            if taken {
                return Err(format!(
                    "auth.api_key_header : « {name} » a déjà un autre rôle (Authorization, X-Forwarded-For ou pj.facade_header_name)"
                ));
            }
        }
        for (i, network) in self.trusted_networks.iter().enumerate() {
            if !crate::clients::is_valid_name(&network.client) {
                return Err(format!(
                    "auth.trusted_networks[{i}] : nom de client invalide « {} »",
                    network.client
                ));
            }
            if network.cidr.prefix_len() == 0 {
                return Err(format!(
                    "auth.trusted_networks[{i}] : {} ferait de toute requête sans identifiants le client {}",
                    network.cidr, network.client
                ));
            }
            if self.trusted_networks[..i]
                .iter()
                .any(|other| other.cidr == network.cidr)
            {
                return Err(format!(
                    "auth.trusted_networks : le réseau {} est déclaré deux fois",
                    network.cidr
                ));
            }
        }
        Ok(())
    }
}
