//! Reports (REP-2 … REP-9) for the REST API and the dashboard: refused calls by cause with the
//! journal rows behind each cause, calls and refusals per day and per client, the dashboard
//! counters, CVEC checks by result and reason with the `NON_VERIFIEE` backlog, LP batches.
//!
//! The journal-based reports read the daily aggregates (`call_journal_daily`, kept by the
//! journal writer): their cost follows the number of days × clients × operations × fault keys,
//! not the number of calls. The rows behind a cause are read a page at a time, newest first.

use crate::journal::JournalEntry;
use crate::page::{ListMeta, Page};
use crate::{App, cvec, lp, opi};
use apogee_db::DbError;
use apogee_db::repo::report::{self as repo, DailyRow, RowFilter};
use apogee_db::repo::{journal as journal_repo, lp_import};
use apogee_domain::report::{Area, Cause, CsvTable, Period};
use apogee_domain::{Error, FaultKey};
use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Filters every report takes, as sent.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
#[serde(rename_all = "camelCase")]
pub struct ReportQuery {
    /// First day (`YYYY-MM-DD`, included).
    pub from: Option<String>,
    /// Last day (`YYYY-MM-DD`, included).
    pub to: Option<String>,
    /// Campaign (`codAnu`, e.g. `2026`: its calendar year for the journal reports, its checks
    /// for the CVEC report).
    pub campaign: Option<String>,
    /// Client name.
    pub client: Option<String>,
}

/// The filters, read.
#[derive(Debug, Clone, Default)]
pub struct Filters {
    /// Days covered.
    pub period: Period,
    /// Campaign asked for.
    pub campaign: Option<String>,
    /// Client name.
    pub client: Option<String>,
}

impl ReportQuery {
    /// Reads the filters (400 naming the field when one is wrong).
    pub fn read(&self) -> Result<Filters, Error> {
        let period = Period::parse(
            self.from.as_deref(),
            self.to.as_deref(),
            self.campaign.as_deref(),
        )
        .map_err(|(field, message)| Error::bad_request(field, message))?;
        let client = self.client.clone().filter(|c| !c.is_empty());
        if client.as_deref().is_some_and(|c| c.len() > 64) {
            return Err(Error::bad_request(
                "client",
                "client : 64 caractères au plus",
            ));
        }
        Ok(Filters {
            period,
            campaign: self.campaign.clone(),
            client,
        })
    }
}

async fn daily(app: &App, f: &Filters) -> Result<Vec<DailyRow>, Error> {
    let (from, to, client) = (f.period.from, f.period.to, f.client.clone());
    Ok(app
        .db
        .read(move |c| repo::daily(c, from, to, client.as_deref()).map_err(DbError::from))
        .await?)
}

fn refused(r: &DailyRow) -> bool {
    r.outcome != "ok"
}

fn cause_of(r: &DailyRow) -> Cause {
    Cause::of(
        &r.operation,
        Some(r.fault_key.as_str()).filter(|k| !k.is_empty()),
    )
}

/// A fault key behind a cause, with its count.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct FaultKeyCount {
    /// Operation.
    pub operation: String,
    /// Apogée fault key (absent: none recorded).
    pub fault_key: Option<String>,
    /// Refused calls.
    pub count: i64,
}

/// One cause of the rejects report.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct CauseCount {
    /// Cause identifier.
    pub cause: Cause,
    /// French label.
    pub label: &'static str,
    /// Refused calls.
    pub count: i64,
    /// Share of the refused calls, in per cent (one decimal).
    pub percent: f64,
    /// The (operation, fault key) pairs behind it, most frequent first.
    pub fault_keys: Vec<FaultKeyCount>,
    /// Where its journal rows are (`GET /api/v1/reports/rejects/{cause}`).
    pub rows: String,
}

/// Refused calls grouped by cause (every cause listed, zero included).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RejectsReport {
    /// Refused calls in the period.
    pub total: i64,
    /// The causes, in report order.
    pub causes: Vec<CauseCount>,
}

impl CsvTable for RejectsReport {
    fn header(&self) -> Vec<&'static str> {
        vec!["cause", "libelle", "operation", "faultKey", "nombre"]
    }
    fn rows(&self) -> Vec<Vec<String>> {
        self.causes
            .iter()
            .flat_map(|c| {
                c.fault_keys.iter().map(|k| {
                    vec![
                        c.cause.as_str().to_owned(),
                        c.label.to_owned(),
                        k.operation.clone(),
                        k.fault_key.clone().unwrap_or_default(),
                        k.count.to_string(),
                    ]
                })
            })
            .collect()
    }
}

/// `GET /api/v1/reports/rejects`: refused calls by cause (REP-2 … REP-7).
pub async fn rejects(app: &App, q: &ReportQuery) -> Result<RejectsReport, Error> {
    let rows = daily(app, &q.read()?).await?;
    let mut by_cause: BTreeMap<Cause, BTreeMap<(String, String), i64>> = BTreeMap::new();
    for r in rows.into_iter().filter(refused) {
        let keys = by_cause.entry(cause_of(&r)).or_default();
        *keys.entry((r.operation, r.fault_key)).or_default() += r.calls;
    }
    let total: i64 = by_cause.values().flat_map(|k| k.values()).sum();
    let causes = Cause::ALL
        .into_iter()
        .map(|cause| {
            let mut fault_keys: Vec<FaultKeyCount> = by_cause
                .remove(&cause)
                .unwrap_or_default()
                .into_iter()
                .map(|((operation, key), count)| FaultKeyCount {
                    operation,
                    fault_key: Some(key).filter(|k| !k.is_empty()),
                    count,
                })
                .collect();
            fault_keys.sort_by_key(|k| std::cmp::Reverse(k.count));
            let count = fault_keys.iter().map(|k| k.count).sum();
            CauseCount {
                cause,
                label: cause.label(),
                count,
                percent: percent(count, total),
                fault_keys,
                rows: format!("/api/v1/reports/rejects/{cause}"),
            }
        })
        .collect();
    Ok(RejectsReport { total, causes })
}

fn percent(part: i64, total: i64) -> f64 {
    if total == 0 {
        0.0
    } else {
        // Counts stay far below 2^52: exact in f64.
        #[allow(clippy::cast_precision_loss)]
        let p = part as f64 * 100.0 / total as f64;
        (p * 10.0).round() / 10.0
    }
}

/// The journal rows behind one cause.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CauseRows {
    /// Cause identifier.
    pub cause: Cause,
    /// French label.
    pub label: &'static str,
    /// Journal entries, newest first.
    pub entries: Vec<JournalEntry>,
    /// Pagination (`total` from the daily aggregates).
    pub meta: ListMeta,
}

impl CsvTable for CauseRows {
    fn header(&self) -> Vec<&'static str> {
        JOURNAL_COLUMNS.to_vec()
    }
    fn rows(&self) -> Vec<Vec<String>> {
        self.entries.iter().map(journal_cells).collect()
    }
}

/// Columns of a journal row in CSV.
pub const JOURNAL_COLUMNS: [&str; 11] = [
    "id",
    "at",
    "client",
    "operation",
    "keyKind",
    "key",
    "outcome",
    "httpStatus",
    "faultKey",
    "message",
    "requestId",
];

/// A journal row's CSV cells (see [`JOURNAL_COLUMNS`]).
pub fn journal_cells(e: &JournalEntry) -> Vec<String> {
    let o = |v: &Option<String>| v.clone().unwrap_or_default();
    vec![
        e.id.to_string(),
        e.at.clone(),
        o(&e.client),
        e.operation.clone(),
        o(&e.key_kind),
        o(&e.key),
        e.outcome.clone(),
        e.http_status.to_string(),
        o(&e.fault_key),
        o(&e.message),
        e.request_id.clone(),
    ]
}

fn start_of(day: NaiveDate) -> NaiveDateTime {
    day.and_time(NaiveTime::MIN)
}

/// Reads a cause name from a path (400 when unknown).
pub fn parse_cause(name: &str) -> Result<Cause, Error> {
    name.parse()
        .map_err(|e: String| Error::bad_request("cause", e))
}

/// `GET /api/v1/reports/rejects/{cause}`: its journal rows, newest first.
pub async fn cause_rows(
    app: &App,
    cause: &str,
    q: &ReportQuery,
    page: Page,
) -> Result<CauseRows, Error> {
    let cause = parse_cause(cause)?;
    let f = q.read()?;
    let mut pairs = BTreeMap::new();
    for r in daily(app, &f).await?.into_iter().filter(refused) {
        if cause_of(&r) == cause {
            *pairs.entry((r.operation, r.fault_key)).or_insert(0) += r.calls;
        }
    }
    let total = pairs.values().sum();
    let filter = RowFilter {
        pairs: pairs.into_keys().collect(),
        from: f.period.from.map(start_of),
        to: f.period.to.map(start_of),
        client: f.client,
    };
    let rows = app
        .db
        .read(move |c| {
            repo::refused_rows(c, &filter, page.limit, page.offset).map_err(DbError::from)
        })
        .await?;
    Ok(CauseRows {
        cause,
        label: cause.label(),
        entries: rows.into_iter().map(Into::into).collect(),
        meta: page.meta(total),
    })
}

/// One journal row with its cause (the dashboard's drill-down).
#[derive(Debug, Serialize)]
pub struct EntryDetail {
    /// The row.
    pub entry: JournalEntry,
    /// Its cause, when refused.
    pub cause: Option<Cause>,
}

/// The journal row `id` (404 when unknown).
pub async fn entry(app: &App, id: i64) -> Result<EntryDetail, Error> {
    let row = app
        .db
        .read(move |c| journal_repo::find(c, id).map_err(DbError::from))
        .await?
        .ok_or_else(|| {
            Error::not_found(
                FaultKey::null_retrieve("journal"),
                format!("Aucune ligne de journal {id}"),
            )
        })?;
    let cause = (row.outcome != "ok").then(|| Cause::of(&row.operation, row.fault_key.as_deref()));
    Ok(EntryDetail {
        entry: row.into(),
        cause,
    })
}

/// Calls and refusals of one day.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DayCount {
    /// Day (`YYYY-MM-DD`, UTC).
    pub day: String,
    /// Calls.
    pub calls: i64,
    /// Refused or failed calls.
    pub rejects: i64,
}

/// Calls and refusals of one client.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ClientCount {
    /// Client name (empty: unauthenticated calls).
    pub client: String,
    /// Calls.
    pub calls: i64,
    /// Refused or failed calls.
    pub rejects: i64,
}

/// Calls and refusals per day and per client (REP-7, REP-8).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ActivityReport {
    /// Days with calls, oldest first.
    pub days: Vec<DayCount>,
    /// Clients, most calls first.
    pub clients: Vec<ClientCount>,
}

impl CsvTable for ActivityReport {
    fn header(&self) -> Vec<&'static str> {
        vec!["jour", "client", "appels", "rejets"]
    }
    fn rows(&self) -> Vec<Vec<String>> {
        let days = self.days.iter().map(|d| {
            vec![
                d.day.clone(),
                String::new(),
                d.calls.to_string(),
                d.rejects.to_string(),
            ]
        });
        let clients = self.clients.iter().map(|c| {
            vec![
                String::new(),
                c.client.clone(),
                c.calls.to_string(),
                c.rejects.to_string(),
            ]
        });
        days.chain(clients).collect()
    }
}

/// `GET /api/v1/reports/activity`.
pub async fn activity(app: &App, q: &ReportQuery) -> Result<ActivityReport, Error> {
    let rows = daily(app, &q.read()?).await?;
    let mut days: BTreeMap<NaiveDate, (i64, i64)> = BTreeMap::new();
    let mut clients: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    for r in &rows {
        let rejects = if refused(r) { r.calls } else { 0 };
        let d = days.entry(r.day).or_default();
        d.0 += r.calls;
        d.1 += rejects;
        let c = clients.entry(r.client_name.clone()).or_default();
        c.0 += r.calls;
        c.1 += rejects;
    }
    let mut clients: Vec<ClientCount> = clients
        .into_iter()
        .map(|(client, (calls, rejects))| ClientCount {
            client,
            calls,
            rejects,
        })
        .collect();
    clients.sort_by_key(|c| std::cmp::Reverse(c.calls));
    Ok(ActivityReport {
        days: days
            .into_iter()
            .map(|(d, (calls, rejects))| DayCount {
                day: d.format("%Y-%m-%d").to_string(),
                calls,
                rejects,
            })
            .collect(),
        clients,
    })
}

/// One counter of the dashboard.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Counter {
    /// What it counts (`opi`, `pj`, `lp`, `cvec`; `rejects`: every refused call).
    pub name: String,
    /// French label.
    pub label: &'static str,
    /// Today (UTC).
    pub today: i64,
    /// In the campaign.
    pub campaign: i64,
}

/// The dashboard's counters: accepted writes per area and refused calls, today and in the
/// current campaign.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Counters {
    /// The campaign counted (`codAnu`).
    pub campaign: String,
    /// Today (`YYYY-MM-DD`, UTC).
    pub today: String,
    /// The counters.
    pub counters: Vec<Counter>,
}

impl CsvTable for Counters {
    fn header(&self) -> Vec<&'static str> {
        vec!["compteur", "libelle", "aujourdhui", "campagne"]
    }
    fn rows(&self) -> Vec<Vec<String>> {
        self.counters
            .iter()
            .map(|c| {
                vec![
                    c.name.clone(),
                    c.label.to_owned(),
                    c.today.to_string(),
                    c.campaign.to_string(),
                ]
            })
            .collect()
    }
}

/// The campaign a report defaults to: the CVEC campaign, else the referential's current year,
/// else this calendar year.
pub fn current_campaign(app: &App) -> String {
    cvec::campaign(app).unwrap_or_else(|| chrono::Utc::now().format("%Y").to_string())
}

/// `GET /api/v1/reports/counters` (`campaign` defaults to the current one).
pub async fn counters(app: &App, q: &ReportQuery) -> Result<Counters, Error> {
    let campaign = q.campaign.clone().unwrap_or_else(|| current_campaign(app));
    let query = ReportQuery {
        campaign: Some(campaign.clone()),
        ..q.clone()
    };
    let rows = daily(app, &query.read()?).await?;
    let today = chrono::Utc::now().date_naive();
    let mut counts: BTreeMap<Option<Area>, (i64, i64)> = BTreeMap::new();
    let mut rejects = (0, 0);
    for r in &rows {
        let is_today = r.day == today;
        let slot = if refused(r) {
            &mut rejects
        } else {
            counts.entry(Area::of(&r.operation)).or_default()
        };
        slot.1 += r.calls;
        if is_today {
            slot.0 += r.calls;
        }
    }
    let mut counters: Vec<Counter> = Area::ALL
        .into_iter()
        .map(|a| {
            let (today, campaign) = counts.get(&Some(a)).copied().unwrap_or_default();
            Counter {
                name: serde_json::to_value(a)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default(),
                label: a.label(),
                today,
                campaign,
            }
        })
        .collect();
    counters.push(Counter {
        name: "rejects".into(),
        label: "Rejets",
        today: rejects.0,
        campaign: rejects.1,
    });
    Ok(Counters {
        campaign,
        today: today.format("%Y-%m-%d").to_string(),
        counters,
    })
}

/// CVEC checks of one result and reason.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CvecCount {
    /// `VALIDE`, `INVALIDE`, `NON_VERIFIEE`, `NON_REQUISE`.
    pub result: String,
    /// First reason.
    pub reason: Option<String>,
    /// Checks.
    pub count: i64,
}

/// CVEC checks by result and reason, and the `NON_VERIFIEE` backlog (REP-5).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CvecReport {
    /// Campaign (`codAnu`), when filtered.
    pub campaign: Option<String>,
    /// Checks in all.
    pub total: i64,
    /// Per result and reason.
    pub counts: Vec<CvecCount>,
    /// The checks to do again (`NON_VERIFIEE`), newest first, one page.
    pub backlog: cvec::CheckList,
}

impl CsvTable for CvecReport {
    fn header(&self) -> Vec<&'static str> {
        vec!["resultat", "raison", "nombre"]
    }
    fn rows(&self) -> Vec<Vec<String>> {
        self.counts
            .iter()
            .map(|c| {
                vec![
                    c.result.clone(),
                    c.reason.clone().unwrap_or_default(),
                    c.count.to_string(),
                ]
            })
            .collect()
    }
}

/// `GET /api/v1/reports/cvec` (`campaign` filters by `codAnu`; dates and client do not apply).
pub async fn cvec_checks(app: &App, q: &ReportQuery, page: Page) -> Result<CvecReport, Error> {
    let f = q.read()?;
    let year = f.campaign.clone();
    let counts = app
        .db
        .read(move |c| repo::cvec_counts(c, year.as_deref()).map_err(DbError::from))
        .await?;
    let backlog = cvec::checks(
        app,
        cvec::ChecksQuery {
            cod_anu: f.campaign.clone(),
            result: Some("NON_VERIFIEE".into()),
            ..cvec::ChecksQuery::default()
        },
        page,
    )
    .await?;
    let counts: Vec<CvecCount> = counts
        .into_iter()
        .map(|(result, reason, count)| CvecCount {
            result,
            reason,
            count,
        })
        .collect();
    Ok(CvecReport {
        campaign: f.campaign,
        total: counts.iter().map(|c| c.count).sum(),
        counts,
        backlog,
    })
}

/// One LP batch in the list.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct LpBatchItem {
    /// Posting client.
    pub client: String,
    /// The batch (status, mode, counts).
    #[serde(flatten)]
    pub head: lp::batch::BatchHead,
    /// Its report (`GET /api/v1/laissez-passer/batches/{id}`, JSON, NDJSON or CSV).
    pub report: String,
}

/// LP batches, newest first.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LpBatches {
    /// Batches.
    pub batches: Vec<LpBatchItem>,
    /// Pagination.
    pub meta: ListMeta,
}

impl CsvTable for LpBatches {
    fn header(&self) -> Vec<&'static str> {
        vec![
            "id",
            "client",
            "statut",
            "mode",
            "debut",
            "fin",
            "lignes",
            "crees",
            "modifies",
            "inchanges",
            "rejetes",
            "rapport",
        ]
    }
    fn rows(&self) -> Vec<Vec<String>> {
        self.batches
            .iter()
            .map(|b| {
                let c = &b.head.summary.counts;
                vec![
                    b.head.id.clone(),
                    b.client.clone(),
                    b.head.status.clone(),
                    b.head.mode.clone(),
                    b.head.started_at.clone(),
                    b.head.finished_at.clone().unwrap_or_default(),
                    c.total.to_string(),
                    c.created.to_string(),
                    c.updated.to_string(),
                    c.unchanged.to_string(),
                    c.rejected.to_string(),
                    b.report.clone(),
                ]
            })
            .collect()
    }
}

/// `GET /api/v1/reports/lp-batches`.
pub async fn lp_batches(app: &App, page: Page) -> Result<LpBatches, Error> {
    let (rows, total) = app
        .db
        .read(move |c| lp_import::list(c, page.limit, page.offset).map_err(DbError::from))
        .await?;
    Ok(LpBatches {
        batches: rows
            .iter()
            .map(|r| LpBatchItem {
                client: r.client.clone(),
                head: lp::batch::BatchHead::of(r),
                report: format!("/api/v1/laissez-passer/batches/{}", r.id),
            })
            .collect(),
        meta: page.meta(total),
    })
}

/// An LP batch's report lines as CSV (the dashboard's download; the REST route streams it).
pub async fn lp_batch_csv(app: &App, id: &str) -> Result<String, Error> {
    use apogee_domain::lp::batch::{CSV_COLUMNS, ReportLine, csv_line};
    lp::batch::find(app, id).await?;
    let mut out = format!("{}\n", CSV_COLUMNS.join(","));
    let mut after = 0;
    loop {
        let chunks = lp::batch::report_page(app, id, after).await?;
        let Some((last, _)) = chunks.last() else {
            break;
        };
        after = *last;
        for line in chunks.iter().flat_map(|(_, text)| text.lines()) {
            if let Ok(r) = serde_json::from_str::<ReportLine>(line) {
                out.push_str(&csv_line(&r));
                out.push('\n');
            }
        }
    }
    Ok(out)
}

/// The first report lines of a batch, read (the dashboard's view).
pub async fn lp_batch_lines(
    app: &App,
    id: &str,
) -> Result<Vec<apogee_domain::lp::batch::ReportLine>, Error> {
    let chunks = lp::batch::report_page(app, id, 0).await?;
    Ok(chunks
        .iter()
        .flat_map(|(_, text)| text.lines())
        .filter_map(|l| serde_json::from_str(l).ok())
        .take(200)
        .collect())
}

impl CsvTable for opi::Duplicates {
    fn header(&self) -> Vec<&'static str> {
        vec!["critere", "valeur", "codOpiIntEpo1", "codOpiIntEpo2"]
    }
    fn rows(&self) -> Vec<Vec<String>> {
        self.duplicates
            .iter()
            .map(|d| {
                vec![
                    d.matched_by.clone(),
                    d.value.clone(),
                    d.cod_opi_int_epo[0].clone(),
                    d.cod_opi_int_epo[1].clone(),
                ]
            })
            .collect()
    }
}
