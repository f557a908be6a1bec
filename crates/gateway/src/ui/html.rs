//! HTML building blocks of the dashboard: one escaping function, the page layout, tables, French
//! dates and the server-side SVG chart. No template engine: every dynamic text goes through
//! [`esc`].

use apogee_app::reports::DayCount;
use std::fmt::Write;

/// Escapes text for HTML content and attribute values.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// An RFC 3339 UTC time (`2026-12-02T17:14:27.785Z`) in French form: `02/12/2026 17:14:27 UTC`.
pub fn date_time(rfc3339: &str) -> String {
    match chrono::DateTime::parse_from_rfc3339(rfc3339) {
        Ok(t) => t.format("%d/%m/%Y %H:%M:%S UTC").to_string(),
        Err(_) => rfc3339.to_owned(),
    }
}

/// A `YYYY-MM-DD` day in French form: `02/12/2026`.
pub fn day(iso: &str) -> String {
    match chrono::NaiveDate::parse_from_str(iso, "%Y-%m-%d") {
        Ok(d) => d.format("%d/%m/%Y").to_string(),
        Err(_) => iso.to_owned(),
    }
}

/// Who is logged in, for the page header.
pub struct Header<'a> {
    /// Client name.
    pub client: &'a str,
    /// The session's CSRF token (the logout form).
    pub csrf: &'a str,
}

/// A whole page: `<head>`, skip link, navigation, logout form, then `main`.
pub fn page(title: &str, header: Option<&Header<'_>>, main: &str) -> String {
    let nav = match header {
        Some(h) => format!(
            r#"<nav aria-label="Navigation principale"><ul>
<li><a href="/ui/">Tableau de bord</a></li><li><a href="/ui/doublons">Doublons</a></li>
<li><a href="/ui/cvec">CVEC</a></li><li><a href="/ui/lots">Lots de laissez-passer</a></li></ul>
<form method="post" action="/ui/logout" class="logout"><input type="hidden" name="csrf" value="{}">
<span>Connecté : <strong>{}</strong></span> <button type="submit">Se déconnecter</button></form></nav>"#,
            esc(h.csrf),
            esc(h.client)
        ),
        None => String::new(),
    };
    format!(
        r##"<!DOCTYPE html>
<html lang="fr"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{t} — Passerelle Apogée</title><link rel="stylesheet" href="/ui/static/app.css"><script src="/ui/static/app.js" defer></script></head>
<body><a class="skip" href="#contenu">Aller au contenu</a>
<header><p class="brand">Passerelle Apogée — suivi de la scolarité</p>{nav}</header>
<main id="contenu" tabindex="-1"><h1>{t}</h1>
{main}</main></body></html>"##,
        t = esc(title)
    )
}

/// A table with a caption, header cells and rows (cells already escaped HTML).
pub fn table(caption: &str, id: &str, head: &[&str], rows: &[Vec<String>]) -> String {
    let mut out = format!(
        r#"<div class="table-wrap"><table id="{}"><caption>{}</caption><thead><tr>"#,
        esc(id),
        esc(caption)
    );
    for h in head {
        let _ = write!(out, r#"<th scope="col">{}</th>"#, esc(h));
    }
    out.push_str("</tr></thead><tbody>");
    if rows.is_empty() {
        let _ = write!(
            out,
            r#"<tr><td colspan="{}">Aucune ligne.</td></tr>"#,
            head.len()
        );
    }
    for r in rows {
        out.push_str("<tr>");
        for c in r {
            let _ = write!(out, "<td>{c}</td>");
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table></div>");
    out
}

/// The CSV export link of a table.
pub fn export(href: &str, what: &str) -> String {
    format!(
        r#"<p><a class="export" href="{}" download>Exporter {} (CSV)</a></p>"#,
        esc(href),
        esc(what)
    )
}

/// A link.
pub fn link(href: &str, text: &str) -> String {
    format!(r#"<a href="{}">{}</a>"#, esc(href), esc(text))
}

/// Calls (bars) and refused calls (darker part) per day, as inline SVG with a text equivalent.
pub fn chart(days: &[DayCount]) -> String {
    if days.is_empty() {
        return "<p>Aucun appel sur la période.</p>".into();
    }
    let shown = &days[days.len().saturating_sub(31)..];
    let max = shown.iter().map(|d| d.calls).max().unwrap_or(1).max(1);
    let (w, h, bar) = (24 * shown.len() + 40, 180, 18);
    let mut svg = format!(
        r#"<figure class="chart"><svg id="graphique" role="img" aria-labelledby="graphique-titre" viewBox="0 0 {w} {h}" width="100%" height="{h}"><title id="graphique-titre">Appels et rejets par jour</title>"#
    );
    for (i, d) in shown.iter().enumerate() {
        let x = 30 + i * 24;
        let scale = |n: i64| usize::try_from(n * 140 / max).unwrap_or(0);
        let (hc, hr) = (scale(d.calls), scale(d.rejects));
        let label = format!("{} : {} appels, {} rejets", day(&d.day), d.calls, d.rejects);
        let _ = write!(
            svg,
            r#"<g class="bar" tabindex="0" aria-label="{l}"><title>{l}</title><rect class="calls" x="{x}" y="{}" width="{bar}" height="{hc}"/><rect class="rejects" x="{x}" y="{}" width="{bar}" height="{hr}"/></g>"#,
            160 - hc,
            160 - hr,
            l = esc(&label)
        );
    }
    let _ = write!(
        svg,
        r#"<line x1="28" y1="160" x2="{w}" y2="160" class="axis"/></svg><figcaption><span class="key calls"></span> appels <span class="key rejects"></span> rejets — <span id="graphique-detail" aria-live="polite">survolez ou parcourez les barres au clavier</span></figcaption></figure>"#
    );
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_and_dates_are_french() {
        assert_eq!(
            esc(r#"<a href="x">&'"#),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
        assert_eq!(
            date_time("2026-12-02T17:14:27.785Z"),
            "02/12/2026 17:14:27 UTC"
        );
        assert_eq!(day("2026-03-09"), "09/03/2026");
        assert_eq!(day("n/a"), "n/a");
        let page = page("<T>", None, "");
        assert!(page.contains("&lt;T&gt;") && !page.contains("<T>"));
    }
}
