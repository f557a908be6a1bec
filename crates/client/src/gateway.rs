//! Typed client of the gateway: REST (Bearer) and SOAP (HTTP Basic) channels.
//!
//! ```no_run
//! # async fn push() -> Result<(), apogee_client::gateway::ClientError> {
//! use apogee_client::gateway::GatewayClient;
//! use apogee_domain::opi::dto::DonneesOpi;
//!
//! let client = GatewayClient::new("http://localhost:8080", "apg_…secret…")?;
//! let opi: DonneesOpi = serde_json::from_str(r#"{"individu": {"codOpiIntEpo": "EC00000001",
//!     "donneesNaissance": {"dateNaiIndOpi": "14032005", "temDateNaiRelOpi": "N"},
//!     "etatCivil": {"libNomPatIndOpi": "MARTIN", "libPr1IndOpi": "LEA"}}}"#)?;
//! let answer = client.opi_put("EC00000001", &opi, false).await?;
//! println!("stored as {} (codIndOpi {})", answer["codOpiIntEpo"], answer["codIndOpi"]);
//! # Ok(()) }
//! ```

use apogee_domain::opi::dto::DonneesOpi;
use serde::Deserialize;
use serde_json::Value;
use std::time::Duration;

/// One failure listed in a problem body.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ProblemError {
    /// Apogée fault key.
    pub fault_key: String,
    /// Reason code.
    pub code: String,
    /// Field path.
    #[serde(default)]
    pub field: Option<String>,
    /// Line of a file.
    #[serde(default)]
    pub line: Option<u64>,
    /// French message.
    pub message: String,
}

/// An RFC 9457 problem body answered by the gateway.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Problem {
    /// Problem type URI.
    #[serde(rename = "type")]
    pub kind: String,
    /// Title.
    pub title: String,
    /// HTTP status.
    pub status: u16,
    /// French explanation.
    pub detail: String,
    /// Apogée fault key.
    pub fault_key: String,
    /// Trace id.
    #[serde(default)]
    pub trace_id: Option<String>,
    /// Every failure.
    #[serde(default)]
    pub errors: Vec<ProblemError>,
}

/// What can go wrong.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The gateway could not be reached (or answered nothing usable).
    #[error("connexion à la passerelle impossible : {0}")]
    Connect(#[from] reqwest::Error),
    /// The gateway refused the request with a problem body.
    #[error("{} ({}) : {}", .0.status, .0.fault_key, .0.detail)]
    Problem(Box<Problem>),
    /// A SOAP fault.
    #[error("faute SOAP {key} : {message}")]
    Fault {
        /// Apogée key (faultstring).
        key: String,
        /// `lastErrorMsg`.
        message: String,
    },
    /// An answer that is neither success nor a problem.
    #[error("réponse inattendue ({status}) : {body}")]
    Unexpected {
        /// HTTP status.
        status: u16,
        /// Body (truncated).
        body: String,
    },
    /// A local file could not be read.
    #[error("fichier : {0}")]
    Io(#[from] std::io::Error),
    /// A payload could not be encoded or decoded.
    #[error("format : {0}")]
    Format(String),
}

impl From<serde_json::Error> for ClientError {
    fn from(e: serde_json::Error) -> Self {
        ClientError::Format(e.to_string())
    }
}

impl ClientError {
    /// The Apogée fault key of a refusal, if any.
    pub fn fault_key(&self) -> Option<&str> {
        match self {
            ClientError::Problem(p) => Some(&p.fault_key),
            ClientError::Fault { key, .. } => Some(key),
            _ => None,
        }
    }
}

/// Client of one gateway.
#[derive(Debug, Clone)]
pub struct GatewayClient {
    http: reqwest::Client,
    base: String,
    token: String,
    retries: u32,
}

/// The report of a batch sent with an `Idempotency-Key`, and whether the gateway answered it
/// from storage (`Idempotent-Replayed: true`: the same key and body were sent before, nothing
/// was written again).
#[derive(Debug, Clone)]
pub struct BatchAnswer {
    /// The batch report.
    pub report: Value,
    /// The first report, replayed.
    pub replayed: bool,
}

async fn answer(res: reqwest::Response) -> Result<Value, ClientError> {
    let status = res.status().as_u16();
    let bytes = res.bytes().await?;
    if (200..300).contains(&status) {
        if bytes.is_empty() {
            return Ok(Value::Null);
        }
        return Ok(serde_json::from_slice(&bytes)?);
    }
    match serde_json::from_slice::<Problem>(&bytes) {
        Ok(p) => Err(ClientError::Problem(Box::new(p))),
        Err(_) => Err(ClientError::Unexpected {
            status,
            body: String::from_utf8_lossy(&bytes).chars().take(500).collect(),
        }),
    }
}

fn transient(status: reqwest::StatusCode) -> bool {
    matches!(status.as_u16(), 502..=504)
}

impl GatewayClient {
    /// A client for `base` (e.g. `https://apogee-ws.univ.fr`) with a REST secret.
    pub fn new(base: &str, token: &str) -> Result<Self, ClientError> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(300))
            .connect_timeout(Duration::from_secs(10))
            .build()?;
        Ok(GatewayClient {
            http,
            base: base.trim_end_matches('/').to_owned(),
            token: token.to_owned(),
            retries: 3,
        })
    }

    /// Retries of idempotent calls on connection errors and 502/503/504 (default 3).
    pub fn with_retries(mut self, retries: u32) -> Self {
        self.retries = retries;
        self
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Sends an idempotent request, retrying with exponential backoff.
    async fn idempotent(
        &self,
        build: impl Fn() -> reqwest::RequestBuilder,
    ) -> Result<Value, ClientError> {
        let mut attempt = 0;
        loop {
            let sent = build().bearer_auth(&self.token).send().await;
            let retry = match &sent {
                Err(e) => e.is_connect() || e.is_timeout(),
                Ok(res) => transient(res.status()),
            };
            if !retry || attempt >= self.retries {
                return answer(sent?).await;
            }
            attempt += 1;
            let wait = Duration::from_millis(200 * 2u64.pow(attempt));
            tracing::debug!(attempt, wait_ms = wait.as_millis() as u64, "retrying");
            tokio::time::sleep(wait).await;
        }
    }

    /// `GET /api/v1/me`.
    pub async fn me(&self) -> Result<Value, ClientError> {
        self.idempotent(|| self.http.get(self.url("/api/v1/me")))
            .await
    }

    /// `GET /api/v1/referential/{table}` with equality filters.
    pub async fn referential(
        &self,
        table: &str,
        filters: &[(&str, &str)],
    ) -> Result<Value, ClientError> {
        let filters: Vec<(String, String)> = filters
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        self.idempotent(|| {
            self.http
                .get(self.url(&format!("/api/v1/referential/{table}")))
                .query(&filters)
        })
        .await
    }

    /// `PUT /api/v1/referential/{table}` with a CSV file's content.
    pub async fn referential_put_csv(
        &self,
        table: &str,
        csv: Vec<u8>,
        partial: bool,
    ) -> Result<Value, ClientError> {
        self.idempotent(|| {
            self.http
                .put(self.url(&format!("/api/v1/referential/{table}")))
                .query(&[("partial", partial)])
                .header("Content-Type", "text/csv")
                .body(csv.clone())
        })
        .await
    }

    /// `GET /api/v1/journal` with filters (`from`, `client`, `operation`, `outcome`, `key`, `faultKey` …).
    pub async fn journal(&self, filters: &[(&str, String)]) -> Result<Value, ClientError> {
        self.idempotent(|| self.http.get(self.url("/api/v1/journal")).query(filters))
            .await
    }

    /// `PUT /api/v1/opi/{code}`: identifiers, vœux outcomes and warnings.
    pub async fn opi_put(
        &self,
        code: &str,
        donnees: &DonneesOpi,
        partial: bool,
    ) -> Result<Value, ClientError> {
        self.idempotent(|| {
            self.http
                .put(self.url(&format!("/api/v1/opi/{code}")))
                .query(&[("partial", partial)])
                .json(donnees)
        })
        .await
    }

    /// `GET /api/v1/opi/{code}`.
    pub async fn opi_get(&self, code: &str) -> Result<Value, ClientError> {
        self.idempotent(|| self.http.get(self.url(&format!("/api/v1/opi/{code}"))))
            .await
    }

    /// `DELETE /api/v1/opi/{code}/voeux`.
    pub async fn opi_delete_voeux(&self, code: &str) -> Result<Value, ClientError> {
        self.idempotent(|| {
            self.http
                .delete(self.url(&format!("/api/v1/opi/{code}/voeux")))
        })
        .await
    }

    /// `POST /api/v1/opi/batch` streaming `body` (`content_type` says the format), calling
    /// `progress` with the bytes sent so far. Not retried (a batch may have been applied).
    pub async fn opi_batch<R>(
        &self,
        body: R,
        content_type: &str,
        query: &[(&str, String)],
        progress: impl Fn(u64) + Send + Sync + 'static,
    ) -> Result<Value, ClientError>
    where
        R: tokio::io::AsyncRead + Send + 'static,
    {
        let request = self.http.post(self.url("/api/v1/opi/batch"));
        answer(
            self.upload(request, body, content_type, query, progress)
                .await?,
        )
        .await
    }

    /// `PUT /api/v1/opi/{code}/pj/{codTpj}` with the file's bytes (raw body).
    pub async fn pj_put(
        &self,
        code: &str,
        cod_tpj: &str,
        file_name: &str,
        bytes: Vec<u8>,
    ) -> Result<Value, ClientError> {
        self.idempotent(|| {
            self.http
                .put(self.url(&format!("/api/v1/opi/{code}/pj/{cod_tpj}")))
                .query(&[("nomFic", file_name)])
                .header("Content-Type", "application/octet-stream")
                .body(bytes.clone())
        })
        .await
    }

    /// `GET /api/v1/opi/{code}/pj`.
    pub async fn pj_list(&self, code: &str) -> Result<Value, ClientError> {
        self.idempotent(|| self.http.get(self.url(&format!("/api/v1/opi/{code}/pj"))))
            .await
    }

    /// `POST /api/v1/cvec/check` (`code` or `numAttestation` + `nom`, `ine`, names, `dateNaissance`, `codAnu`).
    pub async fn cvec_check(&self, request: &Value) -> Result<Value, ClientError> {
        self.idempotent(|| self.http.post(self.url("/api/v1/cvec/check")).json(request))
            .await
    }

    /// `PUT /api/v1/laissez-passer/{typLpa}/{id}/{codAnu}/{codEtp}/{codVrsVet}` with the other attributes.
    pub async fn lp_put(&self, key: &LpKey<'_>, attributes: &Value) -> Result<Value, ClientError> {
        self.idempotent(|| self.http.put(self.url(&key.path())).json(attributes))
            .await
    }

    /// `GET /api/v1/laissez-passer/…` of one LP.
    pub async fn lp_get(&self, key: &LpKey<'_>) -> Result<Value, ClientError> {
        self.idempotent(|| self.http.get(self.url(&key.path())))
            .await
    }

    /// `GET /api/v1/admissions/{key}` (INE, codOpiIntEpo or codEtu).
    pub async fn admissions_of(&self, key: &str) -> Result<Value, ClientError> {
        self.idempotent(|| {
            self.http
                .get(self.url(&format!("/api/v1/admissions/{key}")))
        })
        .await
    }

    /// `GET /api/v1/etudiants/{codEtu}`.
    pub async fn etudiant(&self, cod_etu: &str) -> Result<Value, ClientError> {
        self.idempotent(|| {
            self.http
                .get(self.url(&format!("/api/v1/etudiants/{cod_etu}")))
        })
        .await
    }

    /// `POST /api/v1/laissez-passer/batch` streaming a CSV, NDJSON or JSON file, with an
    /// `Idempotency-Key` (a re-post with the same key returns the first report and writes
    /// nothing twice; an interrupted batch resumes).
    pub async fn lp_batch<R>(
        &self,
        body: R,
        content_type: &str,
        query: &[(&str, String)],
        idempotency_key: &str,
        progress: impl Fn(u64) + Send + Sync + 'static,
    ) -> Result<BatchAnswer, ClientError>
    where
        R: tokio::io::AsyncRead + Send + 'static,
    {
        let path = "/api/v1/laissez-passer/batch";
        self.keyed_batch(path, body, content_type, query, idempotency_key, progress)
            .await
    }

    /// `POST /api/v1/inscriptions/batch` streaming a CSV or NDJSON file of enrolments, with an
    /// `Idempotency-Key` (a re-post with the same key returns the first report).
    pub async fn inscriptions_batch<R>(
        &self,
        body: R,
        content_type: &str,
        idempotency_key: &str,
        progress: impl Fn(u64) + Send + Sync + 'static,
    ) -> Result<BatchAnswer, ClientError>
    where
        R: tokio::io::AsyncRead + Send + 'static,
    {
        let path = "/api/v1/inscriptions/batch";
        self.keyed_batch(path, body, content_type, &[], idempotency_key, progress)
            .await
    }

    /// A batch `POST` to `path` with its `Idempotency-Key`, the JSON report asked for.
    async fn keyed_batch<R>(
        &self,
        path: &str,
        body: R,
        content_type: &str,
        query: &[(&str, String)],
        idempotency_key: &str,
        progress: impl Fn(u64) + Send + Sync + 'static,
    ) -> Result<BatchAnswer, ClientError>
    where
        R: tokio::io::AsyncRead + Send + 'static,
    {
        let request = self
            .http
            .post(self.url(path))
            .header("Accept", "application/json")
            .header("Idempotency-Key", idempotency_key);
        let res = self
            .upload(request, body, content_type, query, progress)
            .await?;
        let replayed = res
            .headers()
            .get("Idempotent-Replayed")
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"true"));
        Ok(BatchAnswer {
            report: answer(res).await?,
            replayed,
        })
    }

    /// Sends `request` once (batches are not retried) with a streamed body and progress.
    async fn upload<R>(
        &self,
        request: reqwest::RequestBuilder,
        body: R,
        content_type: &str,
        query: &[(&str, String)],
        progress: impl Fn(u64) + Send + Sync + 'static,
    ) -> Result<reqwest::Response, ClientError>
    where
        R: tokio::io::AsyncRead + Send + 'static,
    {
        Ok(request
            .query(query)
            .bearer_auth(&self.token)
            .header("Content-Type", content_type)
            .body(progress_body(body, progress))
            .send()
            .await?)
    }

    /// `mettreajourDonneesOpi_v10` over SOAP with HTTP Basic `user:<secret>`.
    pub async fn opi_soap_v10(&self, user: &str, donnees: &DonneesOpi) -> Result<(), ClientError> {
        let xml = apogee_soap::request::opi_v10(donnees)
            .map_err(|e| ClientError::Format(e.to_string()))?;
        let res = self
            .http
            .post(self.url("/apo-commun-servicesMetiers/services/OpiMetier"))
            .basic_auth(user, Some(&self.token))
            .header("Content-Type", "text/xml; charset=utf-8")
            .header("SOAPAction", "\"\"")
            .body(xml)
            .send()
            .await?;
        let status = res.status().as_u16();
        let body = res.text().await?;
        if status == 200 {
            return Ok(());
        }
        match apogee_soap::request::parse_fault(&body) {
            Some(f) => Err(ClientError::Fault {
                message: f.last_error.unwrap_or_default(),
                key: f.key,
            }),
            None => Err(ClientError::Unexpected {
                status,
                body: body.chars().take(500).collect(),
            }),
        }
    }
}

/// The key of one laissez-passer.
#[derive(Debug, Clone, Copy)]
pub struct LpKey<'a> {
    /// `IAPRIMO` or `REINS`.
    pub typ_lpa: &'a str,
    /// numOPI (IAPRIMO) or codEtu (REINS).
    pub id: &'a str,
    /// Academic year.
    pub cod_anu: &'a str,
    /// Étape.
    pub cod_etp: &'a str,
    /// Version d'étape.
    pub cod_vrs_vet: &'a str,
}

impl LpKey<'_> {
    fn path(&self) -> String {
        format!(
            "/api/v1/laissez-passer/{}/{}/{}/{}/{}",
            self.typ_lpa, self.id, self.cod_anu, self.cod_etp, self.cod_vrs_vet
        )
    }
}

/// A streamed request body reporting the bytes read.
pub fn progress_body<R>(reader: R, progress: impl Fn(u64) + Send + Sync + 'static) -> reqwest::Body
where
    R: tokio::io::AsyncRead + Send + 'static,
{
    use futures_util::StreamExt;
    let mut sent = 0u64;
    let stream = tokio_util::io::ReaderStream::new(reader).map(move |chunk| {
        if let Ok(c) = &chunk {
            sent += c.len() as u64;
            progress(sent);
        }
        chunk
    });
    reqwest::Body::wrap_stream(stream)
}
