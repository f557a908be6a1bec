//! Fuzzing harnesses: one entry per `fuzz/` target of the domain, shared by the cargo-fuzz
//! targets and the corpus replay tests (`tests/fuzz_corpus.rs`), so both run the same code.
//!
//! Each entry takes arbitrary bytes, runs them through the parsers and rules and **panics** when
//! a result is not sane (an invariant assertion): a panic is what the fuzzer reports. Not an API:
//! hidden from the docs, no stability promise.

use crate::Referential;
use crate::lp::{self, LpParams, LpVersion, batch as lp_batch};
use crate::opi::batch::{self as opi_batch, ParcoursupTarget};
use crate::opi::dto::DonneesOpi;
use crate::opi::rules::{self, Context, VoeuxPlan};
use crate::opi::upsert::{self, StoredVoeu, VoeuWrite};
use crate::{cvec, formats, ine};
use chrono::NaiveDate;
use std::collections::HashMap;
use std::sync::OnceLock;

/// The small referential snapshot the targets validate against (shaped like the unit tests' and
/// the demo CSVs of `crates/db/demo`: OPI, LP, Pégase and Parcoursup tables).
const REFERENTIAL: &[(&str, &str)] = &[
    (
        "annees",
        "codAnu,libAnu,etaAnuIae\n2025,2025/2026,N\n2026,2026/2027,O\n",
    ),
    (
        "centres-gestion",
        "codCge,libCge,licCge,temEnSveCge,temAccesDistance\n\
         CG1,Centre 1,CG1,O,O\nCG2,Centre 2,CG2,O,N\nCG9,Ancien,CG9,N,O\n",
    ),
    (
        "versions-etape",
        "codEtp,codVrsVet,libVet,temEnSveVet\n\
         ETP01,1,L1,O\nETP02,1,L2,O\nETP02,2,L2 v2,O\nETP03,1,L1 CG2,O\nETP09,1,Ancienne,N\n",
    ),
    (
        "etapes-cge",
        "codEtp,codCge\nETP01,CG1\nETP02,CG1\nETP03,CG2\n",
    ),
    (
        "vet-ouvertures",
        "codAnu,codEtp,codVrsVet,codCgeMinpVet,datDebMinpVet,datFinMinpVet,codCgeMinVet,datDebMinVet,datFinMinVet\n\
         2026,ETP01,1,CG1,2026-03-01,2027-08-31,CG1,2026-03-01,2027-08-31\n\
         2026,ETP02,1,,,,CG1,2026-09-01,2027-08-31\n",
    ),
    (
        "vet-regimes",
        "codEtp,codVrsVet,codRgi\nETP01,1,1\nETP01,1,2\n",
    ),
    (
        "regimes",
        "codRgi,libRgi,temEnSveRgi\n1,Formation initiale,O\n2,Formation continue,O\n3,Reprise,O\n9,Ancien,N\n",
    ),
    ("statuts", "codStu,libStu,temEnSveStu\n01,Etudiant,O\n"),
    (
        "pays",
        "codPay,libPay,licPay,libNat,temEnSvePay\n\
         100,France,France,Française,O\n109,Allemagne,Allemagne,Allemande,O\n",
    ),
    (
        "departements",
        "codDep,libDep,licDep,temEnSveDep\n021,Côte-d'Or,Côte-d'Or,O\n",
    ),
    (
        "communes",
        "codCom,libCom,codDep,temEnSveCom\n21231,Dijon,021,O\n",
    ),
    ("communes-bdi", "codCom,codBdi\n21231,21000\n"),
    (
        "bacs",
        "codBac,libBac,licBac,daaDebVldBac,daaFinVldBac,temNatBac,temCtrlIne,annCtrlIne,temEnSveBac\n\
         S,Scientifique,S,1995,2021,O,O,1995,O\n\
         GDEM,Bac général,G,2021,,O,O,1995,O\n\
         0031,Titre étranger,Etranger,,,N,N,,O\n",
    ),
    (
        "specialites-bac",
        "codSpeBac,libSpeBac,temEnSveSpeBac\nD001,Mathématiques,O\nD002,Physique-chimie,O\n",
    ),
    ("bac-specialites", "codBac,codSpeBac\nGDEM,D001\n"),
    ("versions-diplome", "codDip,codVrsVdi\nDIP01,1\nDIP02,1\n"),
    (
        "vdi-vet",
        "codDip,codVrsVdi,codEtp,codVrsVet\nDIP01,1,ETP01,1\nDIP01,1,ETP02,1\n",
    ),
    (
        "categories-oui-si",
        "codCatOuiSi,libCatOuiSi,temEnSveCatOuiSi\n01,Remise à niveau,O\n",
    ),
    (
        "categories-exo-ext",
        "codCatExoExt,libCatExoExt,temEnSveCatExoExt\n01,Boursier,O\n09,Ancien,N\n",
    ),
    (
        "formations-pegase",
        "codeVoeu,codCge,codEtp,codVrsVet\nL1-DEMO-1,CG1,ETP01,1\nL2-DEMO-1,CG1,ETP02,1\n",
    ),
    (
        "correspondances",
        "domaine,valeur,code\nnationalite,Française,100\nnationalite,Allemande,109\n\
         pays,France,100\npays,Allemagne,109\nbac,Générale,GDEM\nbac,S,S\n\
         mention,Très bien,TB\nmention,Bien,B\nmention,Passable,P\n",
    ),
];

/// Builds [`REFERENTIAL`].
pub fn build_referential() -> Result<Referential, String> {
    let mut records = Vec::new();
    for (name, csv) in REFERENTIAL {
        let t = crate::referential::table(name).ok_or_else(|| (*name).to_owned())?;
        let rows =
            crate::referential::record::read_csv(t, csv.as_bytes()).map_err(|e| e.message)?;
        for row in rows {
            records.push(row.result.map_err(|e| format!("{name}: {e:?}"))?);
        }
    }
    Ok(Referential::from_records(1, records))
}

/// The snapshot, built once.
pub fn referential() -> &'static Referential {
    static SNAPSHOT: OnceLock<Referential> = OnceLock::new();
    SNAPSHOT.get_or_init(|| match build_referential() {
        Ok(r) => r,
        Err(e) => panic!("fuzzing referential: {e}"),
    })
}

/// The fixed "today" of every target (a date inside the 2026 enrolment window).
pub fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 6, 15).unwrap_or_default()
}

/// The input as text (lossy: the parsers below take `&str`).
fn text(data: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(data)
}

/// Asserts that a reader yielding `lines` terminated with a plausible row count and
/// non-decreasing physical line numbers.
fn check_lines(what: &str, data: &[u8], lines: impl IntoIterator<Item = u64>) {
    let mut last = 0;
    for (n, line) in lines.into_iter().enumerate() {
        assert!(
            n <= data.len() + 1,
            "{what}: more rows than bytes: the reader does not terminate"
        );
        assert!(line >= last, "{what}: line {line} after line {last}");
        last = line;
    }
}

// ---------------------------------------------------------------------------------------------
// opi_dto

/// Target `opi_dto` (JSON side): the bytes as an OPI-20 JSON body, then [`opi_donnees`].
pub fn opi_json(data: &[u8]) {
    if let Ok(d) = serde_json::from_slice::<DonneesOpi>(data) {
        opi_donnees(&d);
    }
}

/// A payload through `opi::validate` (both INE modes), then `upsert::merge` and
/// `upsert::plan_voeux` against stored vœux made from the plan itself.
pub fn opi_donnees(d: &DonneesOpi) {
    let r = referential();
    for ine_required_is_error in [false, true] {
        let ctx = Context {
            referential: r,
            today: today(),
            ine_required_is_error,
        };
        let Ok(intake) = rules::validate(d, &ctx) else {
            continue;
        };
        assert!(!intake.code.is_empty(), "accepted OPI without a code");
        let merged = upsert::merge(d.clone(), &intake.donnees);
        assert!(merged.voeux.is_none(), "merge keeps the vœux apart");
        let _ = upsert::merge(intake.donnees.clone(), d);
        let _ = upsert::early_rejection(&intake, true);
        let _ = upsert::early_rejection(&intake, false);
        plan_against_itself(&intake.voeux);
    }
}

/// The plan against no stored vœu, against its own accepted vœux (nothing to write), and against
/// a stale stored set.
fn plan_against_itself(plan: &VoeuxPlan) {
    let Ok((writes, outcome)) = upsert::plan_voeux(plan, &[]) else {
        return;
    };
    assert!(outcome.deleted.is_empty() || matches!(plan, VoeuxPlan::DeleteAll));
    if let VoeuxPlan::Replace { accepted, rejected } = plan {
        assert_eq!(writes.len(), accepted.len(), "one insert per accepted vœu");
        assert!(writes.iter().all(|w| matches!(w, VoeuWrite::Insert(..))));
        let mut stored = Vec::new();
        for a in accepted {
            let Ok(json) = upsert::voeu_json(&a.voeu) else {
                return;
            };
            stored.push(StoredVoeu {
                key: a.key.clone(),
                donnees: json,
            });
        }
        if let Ok((writes, outcome)) = upsert::plan_voeux(plan, &stored) {
            assert!(
                writes.iter().all(|w| !matches!(w, VoeuWrite::Delete(_))),
                "a vœu of the plan is deleted"
            );
            assert_eq!(outcome.rejected.len(), rejected.len());
        }
        let stale = StoredVoeu {
            key: rules::VoeuKey {
                cod_cge: "CG9".into(),
                cod_etp: "OLD".into(),
                cod_vrs_vet: 9,
            },
            donnees: "{}".into(),
        };
        let _ = upsert::plan_voeux(plan, &[stale]);
    }
}

// ---------------------------------------------------------------------------------------------
// lp_batch

/// Target `lp_batch` (domain side): the bytes as a CSV, NDJSON and JSON array laissez-passer
/// file, every row read and each readable one through `lp::validate`.
pub fn lp_file(data: &[u8]) {
    for format in [
        lp_batch::Format::Csv,
        lp_batch::Format::Ndjson,
        lp_batch::Format::Json,
    ] {
        let Ok(opened) = lp_batch::open(format, std::io::Cursor::new(data.to_vec())) else {
            continue;
        };
        let mut lines = Vec::new();
        for row in opened.rows {
            assert!(
                lines.len() <= data.len() + 1,
                "{format:?}: more rows than bytes: the reader does not terminate"
            );
            assert!(row.line >= 1, "{format:?}: line 0");
            lines.push(row.line);
            if let Ok(p) = &row.params {
                lp_params(p, opened.version);
            }
        }
        check_lines(format.as_str(), data, lines);
    }
}

/// Parameters through `lp::validate` and the report helpers.
pub fn lp_params(p: &LpParams, version: LpVersion) {
    let ctx = lp::Context {
        referential: referential(),
        today: today(),
    };
    let _ = lp::label(p);
    let report = lp_batch::ReportLine::of(1, Some(p));
    let _ = lp_batch::csv_line(&report);
    for name in lp_batch::V2_COLUMNS {
        let _ = lp_batch::get(p, name);
    }
    if let Ok(intake) = lp::validate(p, version, &ctx) {
        assert!(!intake.cod_anu.is_empty() && !intake.cod_etp.is_empty());
        let _ = lp::unknown_person(&intake);
    }
}

// ---------------------------------------------------------------------------------------------
// opi_batch

/// Separates the Pégase `candidat` file from the `candidature` file in an `opi_batch` input.
pub const PEGASE_SEPARATOR: &[u8] = b"\n%%\n";

/// A valid Pégase `candidat` file, paired with an input that has no [`PEGASE_SEPARATOR`].
const PEGASE_CANDIDAT: &[u8] =
    b"numero_candidat;nom_famille;prenom;date_naissance\n1;A;B;2005-01-01\n";
/// A valid Pégase `candidature` file, paired with an input that has no [`PEGASE_SEPARATOR`].
const PEGASE_CANDIDATURE: &[u8] = b"numero_candidat;code_voeu\n1;L1-DEMO-1\n";

/// Target `opi_batch`: the bytes as an NDJSON, Pégase (`candidat` [`PEGASE_SEPARATOR`]
/// `candidature`; without it, the input is each file in turn, the other a fixed valid one) and
/// Parcoursup upload, through
/// `read_records`; the first readable records then go through `opi::validate`.
pub fn opi_upload(data: &[u8]) {
    let r = referential();
    // Without the separator the input is either file, the other one a fixed valid file.
    let pairs = match memsplit(data, PEGASE_SEPARATOR) {
        Some(pair) => vec![pair],
        None => vec![(data, PEGASE_CANDIDATURE), (PEGASE_CANDIDAT, data)],
    };
    let target = ParcoursupTarget {
        cod_cge: "CG1".into(),
        cod_etp: "ETP01".into(),
        cod_vrs_vet: "1".into(),
        prefix: "PS".into(),
    };
    type Files<'a> = Vec<(&'a str, &'a [u8])>;
    let mut uploads: Vec<(opi_batch::Format, Files<'_>)> = vec![
        (opi_batch::Format::Ndjson, vec![("body", data)]),
        (opi_batch::Format::Parcoursup, vec![("body", data)]),
    ];
    for (candidat, candidature) in pairs {
        uploads.push((
            opi_batch::Format::Pegase,
            vec![("candidat", candidat), ("candidature", candidature)],
        ));
    }
    let mut validated = 0;
    for (format, files) in uploads {
        let mut files: HashMap<String, &[u8]> =
            files.into_iter().map(|(n, f)| (n.to_owned(), f)).collect();
        let Ok(records) = opi_batch::read_records(r, format, &mut files, &target) else {
            continue;
        };
        check_lines(format.as_str(), data, records.iter().map(|rec| rec.line));
        for rec in &records {
            if let Ok(dto) = &rec.dto
                && validated < 4
            {
                validated += 1;
                opi_donnees(dto);
            }
        }
    }
    // The streaming reader on its own, with a missing file for the other formats.
    check_lines(
        "ndjson",
        data,
        opi_batch::ndjson_records(data).map(|rec| rec.line),
    );
    let mut none: HashMap<String, &[u8]> = HashMap::new();
    assert!(opi_batch::read_records(r, opi_batch::Format::Pegase, &mut none, &target).is_err());
}

fn memsplit<'a>(data: &'a [u8], sep: &[u8]) -> Option<(&'a [u8], &'a [u8])> {
    let i = data.windows(sep.len()).position(|w| w == sep)?;
    Some((&data[..i], &data[i + sep.len()..]))
}

// ---------------------------------------------------------------------------------------------
// students_batch

/// Target `students_batch`: the bytes as a CSV and an NDJSON student file (each line validated
/// by the readers).
pub fn students(data: &[u8]) {
    if let Ok(lines) = lp::etudiant::read_csv(data, today()) {
        let lines: Vec<u64> = lines.map(|l| l.line).collect();
        check_lines("csv", data, lines);
    }
    let lines: Vec<u64> = lp::etudiant::read_ndjson(data, today())
        .map(|l| l.line)
        .collect();
    check_lines("ndjson", data, lines);
}

// ---------------------------------------------------------------------------------------------
// ine

/// Target `ine`: `ine::check` and `ine::normalize` on the text; the verdict is stable under
/// renormalisation.
pub fn ine(data: &[u8]) {
    let raw = text(data);
    let checked = ine::check(&raw);
    let normalized = ine::normalize(&raw);
    assert_eq!(checked.normalized, normalized);
    assert_eq!(
        ine::normalize(&normalized),
        normalized,
        "normalize is idempotent"
    );
    assert_eq!(
        ine::check(&normalized),
        checked,
        "check of the normalised value"
    );
    match checked.valid {
        ine::IneValidity::True | ine::IneValidity::Remote => {
            assert_eq!(normalized.len(), 11);
            assert!(normalized.bytes().all(|b| b.is_ascii_alphanumeric()));
        }
        ine::IneValidity::False => {}
    }
}

// ---------------------------------------------------------------------------------------------
// cvec

/// Target `cvec`: attestation codes (`parse`, `parse_parts`, `normalize`), dates
/// (`formats::parse_date`) and register files (`register::read_csv`, `register::read_json`).
pub fn cvec(data: &[u8]) {
    let raw = text(data);
    let code = cvec::parse(&raw);
    assert_eq!(code.valid, code.reason.is_valid());
    assert_eq!(code.normalized, cvec::normalize(&raw));
    assert_eq!(
        cvec::parse(&code.normalized),
        code,
        "parse of the normalised code"
    );
    if !code.number.is_empty() || !code.letters.is_empty() {
        assert_eq!(format!("{}{}", code.number, code.letters), code.normalized);
    }
    let mid = raw
        .char_indices()
        .nth(raw.chars().count() / 2)
        .map_or(0, |(i, _)| i);
    let (number, letters) = raw.split_at(mid);
    let parts = cvec::parse_parts(number, letters);
    assert_eq!(
        parts,
        cvec::parse(&format!(
            "{}{}",
            cvec::normalize(number),
            cvec::normalize(letters)
        ))
    );
    let _ = cvec::is_valid_state(&raw);
    let _ = cvec::surname_letters(&raw);
    for line in raw.lines().take(64) {
        if let Some(d) = formats::parse_date(line) {
            assert_eq!(
                formats::parse_date(&d.format("%Y-%m-%d").to_string()),
                Some(d)
            );
            assert_eq!(formats::parse_date(&formats::apogee_date(d)), Some(d));
        }
        let _ = formats::cod_etu(line);
        let _ = formats::is_year(line);
    }
    for campaign in [Some("2026"), None] {
        if let Ok(lines) = cvec::register::read_csv(data, campaign) {
            check_lines("csv", data, lines.iter().map(|l| l.line));
        }
        if let Ok(lines) = cvec::register::read_json(data, campaign) {
            assert!(lines.len() <= data.len() + 1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_snapshot_builds_and_the_harnesses_accept_valid_input() -> Result<(), String> {
        let r = build_referential()?;
        assert!(r.get("formations-pegase", &["L1-DEMO-1"]).is_some());
        ine(b" 0123456789m ");
        cvec(b"VER1ABCDEF12DUPON\n2005-03-14\n");
        students(b"codEtu,libNomPatInd,libPr1Ind,dateNaiInd\n1,A,B,2005-01-01\n");
        lp_file(b"typLpa,codAnu,numOPI,codEtp,codVrsVet\nIAPRIMO,2026,OP1,ETP01,1\n");
        opi_upload(b"{\"individu\":{\"codOpiIntEpo\":\"X\"}}\n");
        opi_json(b"{\"individu\":{\"codOpiIntEpo\":\"X\"}}");
        Ok(())
    }
}
