//! Reports (REP-2 … REP-9): the one definition of a reject's *cause*, and the CSV form every
//! report table shares.
//!
//! A cause is derived from what the journal keeps of a refused call: its Apogée fault key
//! (`type.domaine.nature.element`) and its operation. The five categories of the domain spec
//! (§8: boursiers, profil, INE/INES, CVEC, doublons) come first, then what remains: a vœu on a
//! formation that is not open, an unknown code, anything else.

use chrono::NaiveDate;
use serde::Serialize;
use std::fmt;
use std::str::FromStr;

/// Why a call was refused, as the scolarité team reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "kebab-case")]
pub enum Cause {
    /// Scholarship not reflected in the fee category, CVEC exemption vs enrolment data (REP-2).
    Boursiers,
    /// Régime, statut, Oui-si or fee category wrong or inconsistent (REP-3).
    Profil,
    /// INE or INES: missing, wrong key or family, not verifiable (REP-4).
    Ine,
    /// CVEC attestation: unknown, invalid state, wrong person or campaign, CNOUS down (REP-5).
    Cvec,
    /// The same person twice: two OPIs, OPI + known student, reused attestation (REP-6).
    Doublons,
    /// A vœu on a formation (VET, CGE, year) not open to remote enrolment.
    FormationNonOuverte,
    /// A code the referential or the database does not know.
    CodeInconnu,
    /// Everything else (format, authentication, storage …).
    Autre,
}

impl Cause {
    /// Every cause, in report order.
    pub const ALL: [Cause; 8] = [
        Cause::Boursiers,
        Cause::Profil,
        Cause::Ine,
        Cause::Cvec,
        Cause::Doublons,
        Cause::FormationNonOuverte,
        Cause::CodeInconnu,
        Cause::Autre,
    ];

    /// The cause's identifier (`boursiers`, `formation-non-ouverte` …), used in URLs and CSV.
    pub fn as_str(self) -> &'static str {
        match self {
            Cause::Boursiers => "boursiers",
            Cause::Profil => "profil",
            Cause::Ine => "ine",
            Cause::Cvec => "cvec",
            Cause::Doublons => "doublons",
            Cause::FormationNonOuverte => "formation-non-ouverte",
            Cause::CodeInconnu => "code-inconnu",
            Cause::Autre => "autre",
        }
    }

    /// The French label shown to users.
    pub fn label(self) -> &'static str {
        match self {
            Cause::Boursiers => "Boursiers",
            Cause::Profil => "Profil (régime, statut, catégorie)",
            Cause::Ine => "INE / INES",
            Cause::Cvec => "CVEC",
            Cause::Doublons => "Doublons",
            Cause::FormationNonOuverte => "Formation non ouverte",
            Cause::CodeInconnu => "Code inconnu",
            Cause::Autre => "Autre",
        }
    }

    /// The cause of a refused call, from its fault key and operation.
    pub fn of(operation: &str, fault_key: Option<&str>) -> Cause {
        let key = fault_key.unwrap_or_default();
        let mut parts = key.splitn(4, '.');
        let (_kind, domaine, nature, element) = (
            parts.next().unwrap_or_default(),
            parts.next().unwrap_or_default(),
            parts.next().unwrap_or_default(),
            parts.next().unwrap_or_default(),
        );
        let element = element.strip_suffix("obligatoire").unwrap_or(element);
        let rule = format!("{nature}.{element}");
        let op = operation.to_ascii_lowercase();
        if nature == "doublon" || rule == "cvec.dejautilisee" {
            return Cause::Doublons;
        }
        if BOURSIERS.contains(&element) || rule == "cvec.exoneration" {
            return Cause::Boursiers;
        }
        if PROFIL.contains(&element) {
            return Cause::Profil;
        }
        if INE.contains(&element) || op.contains("/ine") || op.contains("ines") {
            return Cause::Ine;
        }
        if nature == "cvec"
            || element == "cvec"
            || element == "attestation"
            || op.contains("cvec")
            || op.contains("attestation")
        {
            return Cause::Cvec;
        }
        if rule == "cge.accesdistance" || element.contains("ouverture") || element == "fermee" {
            return Cause::FormationNonOuverte;
        }
        if domaine == "data" && nature == "nullretrieve" {
            return Cause::CodeInconnu;
        }
        Cause::Autre
    }
}

/// Fields whose refusal is a scholarship / exemption problem.
const BOURSIERS: [&str; 5] = ["codCatExoExt", "comExoExt", "temBrs", "boursier", "codBrs"];
/// Fields of the administrative profile.
const PROFIL: [&str; 6] = [
    "codRgi",
    "codStu",
    "codCatOuiSi",
    "mtfCat",
    "temOuiSi",
    "profil",
];
/// Fields carrying the INE.
const INE: [&str; 4] = ["ine", "codNneIndOpi", "codCleNneIndOpi", "codNneEtu"];

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Cause {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Cause::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| {
                let all: Vec<&str> = Cause::ALL.iter().map(|c| c.as_str()).collect();
                format!("cause inconnue « {s} » (attendu : {})", all.join(", "))
            })
    }
}

/// What a counter of the dashboard counts: the writes of an area (reads are not counted).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Area {
    /// OPI pushes (SOAP `mettreajourDonneesOpi_*`, REST `PUT /api/v1/opi/{code}`, OPI batches).
    Opi,
    /// Attachment uploads.
    Pj,
    /// Laissez-passer writes and batches.
    Lp,
    /// CVEC checks.
    Cvec,
}

impl Area {
    /// Every area, in dashboard order.
    pub const ALL: [Area; 4] = [Area::Opi, Area::Pj, Area::Lp, Area::Cvec];

    /// The area of a journal operation, `None` for reads and everything else.
    pub fn of(operation: &str) -> Option<Area> {
        if operation.starts_with("GET ") || operation.starts_with("HEAD ") {
            return None;
        }
        let op = operation.to_ascii_lowercase();
        if op.contains("cvec") || op.contains("attestation") {
            Some(Area::Cvec)
        } else if op.contains("pj") || op.contains("piece") {
            Some(Area::Pj)
        } else if op.contains("laissez") {
            Some(Area::Lp)
        } else if op.contains("opi") && !op.starts_with("delete ") {
            Some(Area::Opi)
        } else {
            None
        }
    }

    /// French label.
    pub fn label(self) -> &'static str {
        match self {
            Area::Opi => "OPI",
            Area::Pj => "Pièces justificatives",
            Area::Lp => "Laissez-passer",
            Area::Cvec => "Contrôles CVEC",
        }
    }
}

/// Days `[from, to)` a report covers; `None`: unbounded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Period {
    /// First day.
    pub from: Option<NaiveDate>,
    /// Day after the last one.
    pub to: Option<NaiveDate>,
}

impl Period {
    /// The days of campaign `year` (`codAnu`, e.g. `2026`): 1 January of that year to 31
    /// December, when its OPIs, laissez-passer, CVEC checks and enrolments reach the gateway
    /// **[chosen]**.
    pub fn campaign(year: &str) -> Result<Period, String> {
        let y: i32 = year
            .parse()
            .ok()
            .filter(|y| (1900..=2999).contains(y) && year.len() == 4)
            .ok_or_else(|| format!("campaign : année sur 4 chiffres attendue (« {year} »)"))?;
        Ok(Period {
            from: NaiveDate::from_ymd_opt(y, 1, 1),
            to: NaiveDate::from_ymd_opt(y + 1, 1, 1),
        })
    }

    /// The period asked for: `from` and `to` (`YYYY-MM-DD`, both included) within `campaign`.
    /// Errors name the field.
    pub fn parse(
        from: Option<&str>,
        to: Option<&str>,
        campaign: Option<&str>,
    ) -> Result<Period, (&'static str, String)> {
        let day = |field: &'static str, v: &str| {
            NaiveDate::parse_from_str(v, "%Y-%m-%d").map_err(|_| {
                (
                    field,
                    format!("{field} : date AAAA-MM-JJ attendue (« {v} »)"),
                )
            })
        };
        let mut p = match campaign {
            Some(c) => Period::campaign(c).map_err(|e| ("campaign", e))?,
            None => Period::default(),
        };
        if let Some(v) = from {
            let d = day("from", v)?;
            p.from = Some(p.from.map_or(d, |f| f.max(d)));
        }
        if let Some(v) = to {
            let d = day("to", v)?
                .succ_opt()
                .ok_or(("to", "to : date hors bornes".into()))?;
            p.to = Some(p.to.map_or(d, |t| t.min(d)));
        }
        if let (Some(f), Some(t)) = (p.from, p.to)
            && f >= t
        {
            return Err((
                "to",
                "to : la période est vide (from après to, ou hors campagne)".into(),
            ));
        }
        Ok(p)
    }

    /// Whether `day` is in the period.
    pub fn contains(&self, day: NaiveDate) -> bool {
        self.from.is_none_or(|f| day >= f) && self.to.is_none_or(|t| day < t)
    }
}

/// A report table that can be exported as CSV.
pub trait CsvTable {
    /// Column names.
    fn header(&self) -> Vec<&'static str>;
    /// The rows, as text, in column order.
    fn rows(&self) -> Vec<Vec<String>>;

    /// RFC 4180 CSV, UTF-8, with a header line.
    fn to_csv(&self) -> String {
        let mut w = csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .from_writer(Vec::new());
        let _ = w.write_record(self.header());
        for row in self.rows() {
            let _ = w.write_record(row);
        }
        let bytes = w.into_inner().unwrap_or_default();
        String::from_utf8(bytes).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn causes_follow_the_fault_keys() {
        let op = "mettreajourDonneesOpi_v10";
        let cases = [
            ("functionnal.borules.doublon.identite", Cause::Doublons),
            ("functionnal.borules.doublon.indOpi", Cause::Doublons),
            ("functionnal.borules.cvec.dejautilisee", Cause::Doublons),
            (
                "technical.parameter.noncoherentinput.codCatExoExt",
                Cause::Boursiers,
            ),
            ("technical.parameter.noncoherentinput.codRgi", Cause::Profil),
            ("technical.data.nullretrieve.codRgi", Cause::Profil),
            ("technical.parameter.noncoherentinput.mtfCat", Cause::Profil),
            (
                "technical.parameter.noncoherentinput.codStuobligatoire",
                Cause::Profil,
            ),
            ("technical.parameter.noncoherentinput.ine", Cause::Ine),
            (
                "technical.parameter.noncoherentinput.codNneIndOpi",
                Cause::Ine,
            ),
            (
                "technical.parameter.noncoherentinput.codNneIndOpiobligatoire",
                Cause::Ine,
            ),
            ("functionnal.borules.cvec.etat", Cause::Cvec),
            ("functionnal.borules.cvec.nom", Cause::Cvec),
            ("technical.data.nullretrieve.attestation", Cause::Cvec),
            ("technical.service.unavailable.cvec", Cause::Cvec),
            (
                "functionnal.borules.cge.accesdistance",
                Cause::FormationNonOuverte,
            ),
            ("technical.data.nullretrieve.vet", Cause::CodeInconnu),
            ("technical.data.nullretrieve.codCge", Cause::CodeInconnu),
            (
                "technical.parameter.noncoherentinput.dateNaiIndOpi",
                Cause::Autre,
            ),
            ("technical.security.invaliduser.user", Cause::Autre),
        ];
        for (key, cause) in cases {
            assert_eq!(Cause::of(op, Some(key)), cause, "{key}");
        }
        assert_eq!(Cause::of(op, None), Cause::Autre);
        assert_eq!(Cause::of("", Some("")), Cause::Autre);
        // The operation decides when the key is generic.
        let shape = "technical.parameter.noncoherentinput.code";
        assert_eq!(
            Cause::of("POST /api/v1/cvec/check", Some(shape)),
            Cause::Cvec
        );
        assert_eq!(Cause::of("GET /api/v1/ine/{ine}", Some(shape)), Cause::Ine);
        assert_eq!(Cause::of(op, Some(shape)), Cause::Autre);
    }

    #[test]
    fn causes_round_trip_and_unknown_names_are_refused() {
        for c in Cause::ALL {
            assert_eq!(c.as_str().parse::<Cause>(), Ok(c));
            assert!(!c.label().is_empty());
        }
        assert!("bourse".parse::<Cause>().is_err());
    }

    #[test]
    fn periods_are_campaigns_and_inclusive_dates() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok();
        let p = Period::parse(None, None, Some("2026")).unwrap_or_default();
        assert_eq!((p.from, p.to), (d("2026-01-01"), d("2027-01-01")));
        let p =
            Period::parse(Some("2026-03-01"), Some("2026-03-31"), Some("2026")).unwrap_or_default();
        assert_eq!((p.from, p.to), (d("2026-03-01"), d("2026-04-01")));
        assert!(p.contains(d("2026-03-31").unwrap_or_default()));
        assert!(!p.contains(d("2026-04-01").unwrap_or_default()));
        assert_eq!(
            Period::parse(Some("hier"), None, None).map_err(|e| e.0),
            Err("from")
        );
        assert_eq!(
            Period::parse(None, None, Some("26")).map_err(|e| e.0),
            Err("campaign")
        );
        assert_eq!(
            Period::parse(Some("2026-05-02"), Some("2026-05-01"), None).map_err(|e| e.0),
            Err("to")
        );
        assert_eq!(
            Period::parse(Some("2025-05-02"), None, Some("2024")).map_err(|e| e.0),
            Err("to")
        );
        assert_eq!(Period::parse(None, None, None), Ok(Period::default()));
    }

    #[test]
    fn areas_count_writes_only() {
        assert_eq!(Area::of("mettreajourDonneesOpi_v10"), Some(Area::Opi));
        assert_eq!(Area::of("PUT /api/v1/opi/{code}"), Some(Area::Opi));
        assert_eq!(
            Area::of("PUT /api/v1/opi/{code}/pj/{cod_tpj}"),
            Some(Area::Pj)
        );
        assert_eq!(Area::of("mettreAJourLaissezPasserWS"), Some(Area::Lp));
        assert_eq!(
            Area::of("recupererPiecesJustificativesOPIWS"),
            Some(Area::Pj)
        );
        assert_eq!(
            Area::of("POST /api/v1/laissez-passer/batch"),
            Some(Area::Lp)
        );
        assert_eq!(Area::of("POST /api/v1/cvec/check"), Some(Area::Cvec));
        assert_eq!(Area::of("GET /api/v1/opi"), None);
        assert_eq!(Area::of("PUT /api/v1/referential/{table}"), None);
    }

    struct T;
    impl CsvTable for T {
        fn header(&self) -> Vec<&'static str> {
            vec!["a", "b"]
        }
        fn rows(&self) -> Vec<Vec<String>> {
            vec![vec!["x, y".into(), "é\"".into()]]
        }
    }

    #[test]
    fn csv_quotes_what_needs_quoting() {
        assert_eq!(T.to_csv(), "a,b\r\n\"x, y\",\"é\"\"\"\r\n");
    }
}
