//! A small accumulator of field checks: each check trims the value (OPI-2), reports every failure
//! with its element path and Apogée key, and returns the cleaned value.

use crate::error::{FaultKey, FieldError};
use crate::referential::Referential;
use crate::referential::snapshot::CodeState;
use crate::text::{char_len, present};
use chrono::NaiveDate;

/// A warning on accepted data.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Warning {
    /// Stable code (`INE_MANQUANT`, `REF_HORS_SERVICE` …).
    pub code: String,
    /// Element path.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// French explanation.
    pub message: String,
}

/// Collects errors and warnings while checking one payload.
#[derive(Debug, Default)]
pub struct Checker {
    /// Failures, in order.
    pub errors: Vec<FieldError>,
    /// Warnings, in order.
    pub warnings: Vec<Warning>,
}

/// `prefix.name` (or `name`).
pub fn path(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_owned()
    } else {
        format!("{prefix}.{name}")
    }
}

/// Whether `c` may appear in a person's name (OPI-12): a letter of the Latin script (ASCII,
/// Latin-1 Supplement, Latin Extended-A and -B, Latin Extended Additional, or a combining accent
/// of a decomposed letter), a space, a hyphen or an apostrophe. A Cyrillic or Greek look-alike
/// (`LEGRАND` with U+0410) is refused: Apogée stores names in Latin-9, and the look-alike would
/// silently drop out of the normalised name every identity comparison uses.
fn name_char(c: char) -> bool {
    matches!(c, ' ' | '-' | '\'' | '’')
        || c.is_ascii_alphabetic()
        || (c.is_alphabetic() && matches!(u32::from(c), 0xC0..=0x24F | 0x1E00..=0x1EFF))
        || matches!(u32::from(c), 0x300..=0x36F)
}

fn element(path: &str) -> &str {
    path.rsplit('.').next().unwrap_or(path)
}

impl Checker {
    /// Records a failure on `path` (the fault names the last segment, the element).
    pub fn fail(&mut self, key: FaultKey, code: &str, path: &str, message: impl Into<String>) {
        self.errors
            .push(FieldError::new(key, code, Some(path.to_owned()), message));
    }

    /// Records a value failure (`technical.parameter.noncoherentinput.<element>`).
    pub fn invalid(&mut self, code: &str, path: &str, message: impl Into<String>) {
        self.fail(FaultKey::noncoherent(element(path)), code, path, message);
    }

    /// Records a warning.
    pub fn warn(&mut self, code: &str, path: Option<&str>, message: impl Into<String>) {
        self.warnings.push(Warning {
            code: code.to_owned(),
            field: path.map(str::to_owned),
            message: message.into(),
        });
    }

    /// Trimmed text, at most `max` characters, without characters XML 1.0 forbids.
    pub fn text(&mut self, raw: &Option<String>, path: &str, max: usize) -> Option<String> {
        let v = present(raw.as_deref())?;
        if v.chars()
            .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
        {
            self.invalid(
                "VALEUR_INVALIDE",
                path,
                format!("{}: caractères de contrôle interdits", element(path)),
            );
            return None;
        }
        if char_len(v) > max {
            self.invalid(
                "LONGUEUR",
                path,
                format!(
                    "{} : « {v} » dépasse {max} caractères ({})",
                    element(path),
                    char_len(v)
                ),
            );
            return None;
        }
        Some(v.to_owned())
    }

    /// Like [`Checker::text`], and mandatory.
    pub fn required(&mut self, raw: &Option<String>, path: &str, max: usize) -> Option<String> {
        if present(raw.as_deref()).is_none() {
            self.fail(
                FaultKey::mandatory(element(path)),
                "CHAMP_OBLIGATOIRE",
                path,
                format!("{} est obligatoire", element(path)),
            );
            return None;
        }
        self.text(raw, path, max)
    }

    /// A person's name: letters (accents allowed), spaces, hyphens and apostrophes, at most `max`
    /// characters; internal runs of spaces are collapsed (OPI-12).
    pub fn name(
        &mut self,
        raw: &Option<String>,
        path: &str,
        max: usize,
        required: bool,
    ) -> Option<String> {
        let v = if required {
            self.required(raw, path, max)
        } else {
            self.text(raw, path, max)
        }?;
        let collapsed = v.split_whitespace().collect::<Vec<_>>().join(" ");
        if collapsed.chars().all(name_char) {
            Some(collapsed)
        } else {
            self.invalid(
                "NOM_INVALIDE",
                path,
                format!("{} : « {v} » ne doit contenir que des lettres latines (accents permis), espaces, traits d'union et apostrophes", element(path)),
            );
            None
        }
    }

    /// A value among `allowed` (after trimming; letters upper-cased).
    pub fn one_of(&mut self, raw: &Option<String>, path: &str, allowed: &[&str]) -> Option<String> {
        let v = present(raw.as_deref())?.to_ascii_uppercase();
        if allowed.contains(&v.as_str()) {
            Some(v)
        } else {
            self.invalid(
                "VALEUR_INVALIDE",
                path,
                format!(
                    "{} : « {v} » n'est pas une valeur admise ({})",
                    element(path),
                    allowed.join(", ")
                ),
            );
            None
        }
    }

    /// `n` digits exactly.
    pub fn digits(&mut self, raw: &Option<String>, path: &str, n: usize) -> Option<String> {
        let v = present(raw.as_deref())?;
        if v.len() == n && v.bytes().all(|b| b.is_ascii_digit()) {
            Some(v.to_owned())
        } else {
            self.invalid(
                "FORMAT",
                path,
                format!("{} : « {v} » doit compter {n} chiffres", element(path)),
            );
            None
        }
    }

    /// A year `yyyy`, or a span `yyyy/yyyy` when `span` (the 9-character `daa*` fields).
    pub fn year(&mut self, raw: &Option<String>, path: &str, span: bool) -> Option<String> {
        let v = present(raw.as_deref())?;
        let b = v.as_bytes();
        let year = |s: &[u8]| s.len() == 4 && s.iter().all(u8::is_ascii_digit);
        let ok = year(b)
            || (span
                && b.len() == 9
                && year(&b[..4])
                && matches!(b[4], b'/' | b'-')
                && year(&b[5..]));
        if ok {
            Some(v.to_owned())
        } else {
            self.invalid(
                "FORMAT",
                path,
                format!(
                    "{} : « {v} » n'est pas une année (AAAA{})",
                    element(path),
                    if span { " ou AAAA/AAAA" } else { "" }
                ),
            );
            None
        }
    }

    /// An integer in `min..=max` (`xsd:int` lexical rules: sign and leading zeros allowed).
    pub fn int(&mut self, raw: &Option<String>, path: &str, min: i64, max: i64) -> Option<i64> {
        let v = present(raw.as_deref())?;
        match v.strip_prefix('+').unwrap_or(v).parse::<i64>() {
            Ok(n) if (min..=max).contains(&n) => Some(n),
            _ => {
                self.invalid(
                    "FORMAT",
                    path,
                    format!(
                        "{} : « {v} » n'est pas un entier entre {min} et {max}",
                        element(path)
                    ),
                );
                None
            }
        }
    }

    /// A date `ddMMyyyy` that exists, within `min..=max`.
    pub fn date(
        &mut self,
        raw: &Option<String>,
        path: &str,
        min: NaiveDate,
        max: NaiveDate,
    ) -> Option<NaiveDate> {
        let v = present(raw.as_deref())?;
        let parsed = (v.len() == 8 && v.bytes().all(|b| b.is_ascii_digit()))
            .then(|| NaiveDate::parse_from_str(v, "%d%m%Y").ok())
            .flatten();
        match parsed {
            Some(d) if d >= min && d <= max => Some(d),
            Some(_) => {
                self.invalid(
                    "DATE_HORS_BORNES",
                    path,
                    format!(
                        "{} : {v} hors des bornes ({} – {})",
                        element(path),
                        min.format("%d/%m/%Y"),
                        max.format("%d/%m/%Y")
                    ),
                );
                None
            }
            None => {
                self.invalid(
                    "DATE_INVALIDE",
                    path,
                    format!(
                        "{} : « {v} » n'est pas une date réelle au format JJMMAAAA",
                        element(path)
                    ),
                );
                None
            }
        }
    }

    /// A code that must exist (in service) in a referential table. Unknown →
    /// `technical.data.nullretrieve.<element>`; out of service → rejected, or warning
    /// `REF_HORS_SERVICE` when `descriptive` (DM-6).
    pub fn code_in(
        &mut self,
        reference: &Referential,
        table: &str,
        raw: &Option<String>,
        path: &str,
        max: usize,
        descriptive: bool,
    ) -> Option<String> {
        let v = self.text(raw, path, max)?;
        match reference.state(table, &[&v]) {
            CodeState::InService => Some(v),
            CodeState::OutOfService if descriptive => {
                self.warn(
                    "REF_HORS_SERVICE",
                    Some(path),
                    format!("{} : le code {v} est hors service ({table})", element(path)),
                );
                Some(v)
            }
            CodeState::OutOfService => {
                self.invalid(
                    "REF_HORS_SERVICE",
                    path,
                    format!("{} : le code {v} est hors service ({table})", element(path)),
                );
                None
            }
            CodeState::Unknown => {
                self.fail(
                    FaultKey::null_retrieve(element(path)),
                    "REF_INCONNU",
                    path,
                    format!("{} : code {v} inconnu ({table})", element(path)),
                );
                None
            }
        }
    }

    /// An establishment (UAI) code: unknown codes are accepted with warning `REF_INCONNU` (DM-6).
    pub fn etablissement(
        &mut self,
        reference: &Referential,
        raw: &Option<String>,
        path: &str,
    ) -> Option<String> {
        let v = self.text(raw, path, 8)?;
        match reference.state("etablissements", &[&v]) {
            CodeState::Unknown => self.warn(
                "REF_INCONNU",
                Some(path),
                format!(
                    "{} : établissement {v} absent du référentiel",
                    element(path)
                ),
            ),
            CodeState::OutOfService => self.warn(
                "REF_HORS_SERVICE",
                Some(path),
                format!("{} : établissement {v} hors service", element(path)),
            ),
            CodeState::InService => {}
        }
        Some(v)
    }
}
