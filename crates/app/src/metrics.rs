//! Prometheus metrics, served as text at `/metrics`.

use apogee_db::Db;
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry,
    TextEncoder,
};

/// The gateway's metrics.
#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    /// Requests by method, route template and status.
    pub requests: IntCounterVec,
    /// Request latency by method and route template.
    pub latency: HistogramVec,
    /// Pool connections by state (`idle`, `in_use`, `max`).
    pub pool: IntGaugeVec,
    /// Journal entries waiting to be written.
    pub journal_queue: IntGauge,
    /// Journal entries dropped because the queue was full.
    pub journal_dropped: IntCounterVec,
    /// CVEC attestation lookups by source (`register`, `cache`, `upstream`) and result.
    pub cvec_lookups: IntCounterVec,
    /// CNOUS API call time (retries included) by outcome.
    pub cvec_upstream_duration: HistogramVec,
    /// CVEC enrolment checks by result and first reason (REP-5).
    pub cvec_checks: IntCounterVec,
    /// 1 while the CNOUS API circuit is open.
    pub cvec_upstream_circuit_open: IntGauge,
}

impl Metrics {
    /// A fresh registry with every metric registered.
    pub fn new() -> Result<Self, prometheus::Error> {
        let registry = Registry::new_custom(Some("apogee".into()), None)?;
        let requests = IntCounterVec::new(
            Opts::new(
                "http_requests_total",
                "HTTP requests by method, route and status",
            ),
            &["method", "route", "status"],
        )?;
        let latency = HistogramVec::new(
            HistogramOpts::new("http_request_duration_seconds", "HTTP request latency").buckets(
                vec![
                    0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
                ],
            ),
            &["method", "route"],
        )?;
        let pool = IntGaugeVec::new(
            Opts::new("db_pool_connections", "Database pool connections by state"),
            &["state"],
        )?;
        let journal_queue = IntGauge::new(
            "journal_queue_length",
            "Journal entries waiting to be written",
        )?;
        let journal_dropped = IntCounterVec::new(
            Opts::new(
                "journal_write_failures_total",
                "Journal batches that could not be written",
            ),
            &["reason"],
        )?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(latency.clone()))?;
        registry.register(Box::new(pool.clone()))?;
        registry.register(Box::new(journal_queue.clone()))?;
        registry.register(Box::new(journal_dropped.clone()))?;
        let cvec_lookups = IntCounterVec::new(
            Opts::new(
                "cvec_lookups_total",
                "CVEC attestation lookups by source and result",
            ),
            &["source", "result"],
        )?;
        let cvec_upstream_duration = HistogramVec::new(
            HistogramOpts::new(
                "cvec_upstream_duration_seconds",
                "CNOUS CVEC API call time, retries included",
            )
            .buckets(vec![0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0]),
            &["outcome"],
        )?;
        let cvec_checks = IntCounterVec::new(
            Opts::new(
                "cvec_checks_total",
                "CVEC enrolment checks by result and reason",
            ),
            &["result", "reason"],
        )?;
        let cvec_upstream_circuit_open = IntGauge::new(
            "cvec_upstream_circuit_open",
            "1 while the CNOUS CVEC API circuit breaker is open",
        )?;
        registry.register(Box::new(cvec_lookups.clone()))?;
        registry.register(Box::new(cvec_upstream_duration.clone()))?;
        registry.register(Box::new(cvec_checks.clone()))?;
        registry.register(Box::new(cvec_upstream_circuit_open.clone()))?;
        Ok(Metrics {
            registry,
            requests,
            latency,
            pool,
            journal_queue,
            journal_dropped,
            cvec_lookups,
            cvec_upstream_duration,
            cvec_checks,
            cvec_upstream_circuit_open,
        })
    }

    /// The text exposition, with pool gauges read now.
    pub fn render(&self, db: &Db) -> String {
        let state = db.pool_state();
        self.pool
            .with_label_values(&["idle"])
            .set(i64::from(state.idle));
        self.pool
            .with_label_values(&["in_use"])
            .set(i64::from(state.connections.saturating_sub(state.idle)));
        self.pool
            .with_label_values(&["max"])
            .set(i64::from(state.max));
        let mut out = Vec::new();
        if let Err(e) = TextEncoder::new().encode(&self.registry.gather(), &mut out) {
            tracing::error!(error = %e, "cannot encode metrics");
        }
        String::from_utf8(out).unwrap_or_default()
    }
}
