//! The dashboard's pages as HTML, from the report use cases' outputs (no request handling here).

use super::html::{self, Header, esc, link, table};
use apogee_app::cvec::CheckList;
use apogee_app::journal::JournalEntry;
use apogee_app::opi::Duplicates;
use apogee_app::reports::{
    ActivityReport, CauseRows, Counters, CvecReport, EntryDetail, LpBatches, RejectsReport,
};
use apogee_domain::lp::batch::ReportLine;
use std::fmt::Write;

/// The login page (`error`: why the last attempt failed).
pub fn login(csrf: &str, error: Option<&str>) -> String {
    let alert = error
        .map(|e| format!(r#"<p class="error" role="alert">{}</p>"#, esc(e)))
        .unwrap_or_default();
    let main = format!(
        r#"{alert}<form method="post" action="/ui/login" class="login">
<input type="hidden" name="csrf" value="{}">
<label for="secret">Secret du client (droit journal:read)</label>
<input id="secret" name="secret" type="password" autocomplete="current-password" required size="50">
<p><button type="submit" class="primary">Se connecter</button></p></form>
<p>Le secret est celui d'un client de la passerelle ; il n'est ni conservé par le navigateur ni affiché.</p>"#,
        esc(csrf)
    );
    html::page("Connexion", None, &main)
}

fn counters_block(c: &Counters) -> String {
    let mut out = format!(
        r#"<h2 id="compteurs">Compteurs — aujourd'hui ({}) et campagne {}</h2><ul class="cards">"#,
        esc(&html::day(&c.today)),
        esc(&c.campaign)
    );
    for k in &c.counters {
        let class = if k.name == "rejects" {
            " class=\"bad\""
        } else {
            ""
        };
        let _ = write!(
            out,
            r#"<li{class} id="compteur-{}"><span class="n">{}</span>{} aujourd'hui<br><strong>{}</strong> sur la campagne</li>"#,
            esc(&k.name),
            k.today,
            esc(k.label),
            k.campaign
        );
    }
    out.push_str("</ul>");
    out.push_str(&html::export("/ui/export/compteurs", "les compteurs"));
    out
}

fn causes_block(r: &RejectsReport, query: &str) -> String {
    let rows: Vec<Vec<String>> = r
        .causes
        .iter()
        .map(|c| {
            vec![
                link(&format!("/ui/rejets/{}{query}", c.cause), c.label),
                c.count.to_string(),
                format!("{} %", c.percent).replace('.', ","),
                esc(&c
                    .fault_keys
                    .iter()
                    .take(3)
                    .map(|k| k.fault_key.clone().unwrap_or_else(|| "(sans clé)".into()))
                    .collect::<Vec<_>>()
                    .join(", ")),
            ]
        })
        .collect();
    format!(
        r#"<h2 id="rejets">Rejets par cause ({} au total)</h2>{}{}"#,
        r.total,
        table(
            "Rejets par cause",
            "table-causes",
            &["Cause", "Rejets", "Part", "Principales clés d'erreur"],
            &rows
        ),
        html::export(&format!("/ui/export/rejets{query}"), "les rejets par cause")
    )
}

fn filters(query: &str, q: &apogee_app::reports::ReportQuery) -> String {
    let v = |o: &Option<String>| esc(o.as_deref().unwrap_or_default());
    let _ = query;
    format!(
        r#"<form method="get" action="/ui/" class="filters" aria-label="Filtres">
<div><label for="from">Du (AAAA-MM-JJ)</label><input id="from" name="from" type="date" value="{}"></div>
<div><label for="to">Au (AAAA-MM-JJ)</label><input id="to" name="to" type="date" value="{}"></div>
<div><label for="campaign">Campagne (année)</label><input id="campaign" name="campaign" inputmode="numeric" pattern="[0-9]{{4}}" size="6" value="{}"></div>
<div><label for="client">Client</label><input id="client" name="client" value="{}"></div>
<div><button type="submit">Filtrer</button></div></form>"#,
        v(&q.from),
        v(&q.to),
        v(&q.campaign),
        v(&q.client)
    )
}

/// The dashboard: filters, counters, chart, rejects by cause, activity per client.
pub fn dashboard(
    h: &Header<'_>,
    q: &apogee_app::reports::ReportQuery,
    query: &str,
    counters: &Counters,
    rejects: &RejectsReport,
    activity: &ActivityReport,
) -> String {
    let clients: Vec<Vec<String>> = activity
        .clients
        .iter()
        .map(|c| {
            vec![
                esc(if c.client.is_empty() {
                    "(non authentifié)"
                } else {
                    &c.client
                }),
                c.calls.to_string(),
                c.rejects.to_string(),
            ]
        })
        .collect();
    let main = format!(
        r#"{}{}<h2 id="activite">Appels et rejets par jour</h2>{}{}{}{}"#,
        filters(query, q),
        counters_block(counters),
        html::chart(&activity.days),
        html::export(
            &format!("/ui/export/activite{query}"),
            "l'activité par jour et par client"
        ),
        causes_block(rejects, query),
        table(
            "Appels par client",
            "table-clients",
            &["Client", "Appels", "Rejets"],
            &clients
        ),
    );
    html::page("Tableau de bord", Some(h), &main)
}

fn journal_row(e: &JournalEntry) -> Vec<String> {
    vec![
        link(&format!("/ui/journal/{}", e.id), &html::date_time(&e.at)),
        esc(e.client.as_deref().unwrap_or("—")),
        esc(e.key.as_deref().unwrap_or("—")),
        esc(e.fault_key.as_deref().unwrap_or("—")),
        esc(e.message.as_deref().unwrap_or("")),
        format!("<code>{}</code>", esc(&e.request_id)),
    ]
}

/// The journal rows of a cause.
pub fn cause_rows(h: &Header<'_>, rows: &CauseRows, query: &str) -> String {
    let body: Vec<Vec<String>> = rows.entries.iter().map(journal_row).collect();
    let main = format!(
        r#"<p>{} rejet(s) ; les {} plus récents sont listés. <a href="/ui/{query}">Retour au tableau de bord</a></p>{}{}"#,
        rows.meta.total,
        rows.entries.len(),
        table(
            &format!("Rejets — {}", rows.label),
            "table-journal",
            &[
                "Heure",
                "Client",
                "Clé",
                "Clé d'erreur",
                "Message",
                "Identifiant de requête"
            ],
            &body
        ),
        html::export(
            &format!("/ui/rejets/{}/export{query}", rows.cause),
            "ces lignes du journal"
        )
    );
    html::page(&format!("Rejets : {}", rows.label), Some(h), &main)
}

/// One journal row.
pub fn entry(h: &Header<'_>, d: &EntryDetail) -> String {
    let e = &d.entry;
    let o = |v: &Option<String>| esc(v.as_deref().unwrap_or("—"));
    let cause = d
        .cause
        .map(|c| link(&format!("/ui/rejets/{c}"), c.label()))
        .unwrap_or_else(|| "—".into());
    let main = format!(
        r#"<dl class="detail" id="ligne-journal">
<dt>Heure</dt><dd>{}</dd><dt>Client</dt><dd>{}</dd><dt>Canal</dt><dd>{}</dd><dt>Opération</dt><dd>{}</dd>
<dt>Clé métier</dt><dd>{} {}</dd><dt>Issue</dt><dd>{} (HTTP {})</dd><dt>Cause</dt><dd>{cause}</dd>
<dt>Clé d'erreur</dt><dd>{}</dd><dt>Message</dt><dd>{}</dd><dt>Avertissements</dt><dd>{}</dd>
<dt>Identifiant de requête</dt><dd><code>{}</code></dd><dt>Durée</dt><dd>{} ms</dd></dl>"#,
        esc(&html::date_time(&e.at)),
        o(&e.client),
        esc(&e.channel),
        esc(&e.operation),
        o(&e.key_kind),
        o(&e.key),
        esc(&e.outcome),
        e.http_status,
        o(&e.fault_key),
        o(&e.message),
        esc(&e.warnings.join(", ")),
        esc(&e.request_id),
        e.duration_ms
    );
    html::page(&format!("Ligne de journal n° {}", e.id), Some(h), &main)
}

/// Duplicate suspects.
pub fn duplicates(h: &Header<'_>, d: &Duplicates) -> String {
    let rows: Vec<Vec<String>> = d
        .duplicates
        .iter()
        .map(|p| {
            vec![
                esc(&p.matched_by),
                esc(&p.value),
                esc(&p.cod_opi_int_epo[0]),
                esc(&p.cod_opi_int_epo[1]),
            ]
        })
        .collect();
    let main = format!(
        "{}{}",
        table(
            "Paires de doublons suspects",
            "table-doublons",
            &["Critère", "Valeur commune", "OPI 1", "OPI 2"],
            &rows
        ),
        html::export("/ui/export/doublons", "les doublons")
    );
    html::page("Doublons suspects", Some(h), &main)
}

fn checks_rows(l: &CheckList) -> Vec<Vec<String>> {
    l.checks
        .iter()
        .map(|c| {
            vec![
                esc(&html::date_time(&c.at)),
                esc(&c.cod_anu),
                esc(c.num_attestation.as_deref().unwrap_or("—")),
                esc(c.reason.as_deref().unwrap_or("—")),
                esc(c.client.as_deref().unwrap_or("—")),
            ]
        })
        .collect()
}

/// CVEC checks by result and reason, and the backlog.
pub fn cvec(h: &Header<'_>, r: &CvecReport) -> String {
    let rows: Vec<Vec<String>> = r
        .counts
        .iter()
        .map(|c| {
            vec![
                esc(&c.result),
                esc(c.reason.as_deref().unwrap_or("—")),
                c.count.to_string(),
            ]
        })
        .collect();
    let main = format!(
        r#"<p>{} contrôle(s){}.</p>{}{}<h2>Contrôles à refaire (NON_VERIFIEE) : {}</h2>{}"#,
        r.total,
        r.campaign
            .as_deref()
            .map(|c| format!(" pour la campagne {}", esc(c)))
            .unwrap_or_default(),
        table(
            "Contrôles CVEC par résultat et raison",
            "table-cvec",
            &["Résultat", "Raison", "Contrôles"],
            &rows
        ),
        html::export("/ui/export/cvec", "les contrôles CVEC"),
        r.backlog.meta.total,
        table(
            "Contrôles NON_VERIFIEE",
            "table-cvec-attente",
            &["Heure", "Campagne", "Attestation", "Raison", "Client"],
            &checks_rows(&r.backlog)
        ),
    );
    html::page("Contrôles CVEC", Some(h), &main)
}

/// LP batches.
pub fn lp_batches(h: &Header<'_>, b: &LpBatches) -> String {
    let rows: Vec<Vec<String>> = b
        .batches
        .iter()
        .map(|x| {
            let c = &x.head.summary.counts;
            vec![
                link(
                    &format!("/ui/lots/{}", x.head.id),
                    &html::date_time(&x.head.started_at),
                ),
                esc(&x.client),
                esc(&x.head.status),
                esc(&x.head.mode),
                c.total.to_string(),
                (c.created + c.updated + c.unchanged).to_string(),
                c.rejected.to_string(),
                link(
                    &format!("/ui/lots/{}/rapport.csv", x.head.id),
                    "rapport CSV",
                ),
            ]
        })
        .collect();
    let main = format!(
        "{}{}",
        table(
            "Lots de laissez-passer, du plus récent au plus ancien",
            "table-lots",
            &[
                "Début",
                "Client",
                "Statut",
                "Mode",
                "Lignes",
                "Acceptées",
                "Rejetées",
                "Rapport"
            ],
            &rows
        ),
        html::export("/ui/export/lots", "la liste des lots")
    );
    html::page("Lots de laissez-passer", Some(h), &main)
}

/// One LP batch and the first lines of its report.
pub fn lp_batch(
    h: &Header<'_>,
    head: &apogee_app::lp::batch::BatchHead,
    lines: &[ReportLine],
) -> String {
    let rows: Vec<Vec<String>> = lines
        .iter()
        .map(|l| {
            let v = serde_json::to_value(l).unwrap_or_default();
            let s = |k: &str| esc(v[k].as_str().unwrap_or("—"));
            vec![
                l.line.to_string(),
                s("status"),
                s("numOPI"),
                s("codEtp"),
                s("faultKey"),
                s("message"),
            ]
        })
        .collect();
    let c = &head.summary.counts;
    let main = format!(
        r#"<p>Statut : <strong>{}</strong> — {} ligne(s), {} créée(s), {} modifiée(s), {} inchangée(s), {} rejetée(s).</p>{}{}"#,
        esc(&head.status),
        c.total,
        c.created,
        c.updated,
        c.unchanged,
        c.rejected,
        html::export(
            &format!("/ui/lots/{}/rapport.csv", head.id),
            "le rapport du lot"
        ),
        table(
            "Rapport du lot (200 premières lignes)",
            "table-rapport",
            &[
                "Ligne",
                "Statut",
                "numOPI",
                "Étape",
                "Clé d'erreur",
                "Message"
            ],
            &rows
        ),
    );
    html::page(&format!("Lot {}", head.id), Some(h), &main)
}
