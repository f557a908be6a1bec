//! INE (Identifiant National Étudiant) validation, rules INE-1 … INE-10 of `domain.md` §7.

use serde::Serialize;

/// INE family, decided by the shape of the normalised value (INE-1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "UPPERCASE")]
pub enum IneFamily {
    /// Rectorat INE: 10 digits + mod-23 letter.
    Bea,
    /// University INE: 10 base-36 characters + check digit.
    Nne36,
    /// National register INE: 9 digits + 2 letters (key not public).
    Ines,
    /// Apprentice INE: 4 digits + `A` + 5 digits + letter.
    Sifa,
    /// Provisional INE: 4 digits + `D` + 5 digits + letter.
    Provisoire,
    /// 11 valid characters but no family shape, or a charset/length failure.
    Unknown,
    /// Nothing left after normalisation.
    None,
}

impl IneFamily {
    /// The family name as written in vectors and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            IneFamily::Bea => "BEA",
            IneFamily::Nne36 => "NNE36",
            IneFamily::Ines => "INES",
            IneFamily::Sifa => "SIFA",
            IneFamily::Provisoire => "PROVISOIRE",
            IneFamily::Unknown => "UNKNOWN",
            IneFamily::None => "NONE",
        }
    }
}

/// Offline verdict (INE-9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum IneValidity {
    /// The key checks out.
    True,
    /// The value is not a valid INE.
    False,
    /// Shape accepted offline; only a remote verifier can decide (INE-8).
    Remote,
}

impl IneValidity {
    /// `true`, `false` or `remote`.
    pub fn as_str(self) -> &'static str {
        match self {
            IneValidity::True => "true",
            IneValidity::False => "false",
            IneValidity::Remote => "remote",
        }
    }
}

/// Why a value was judged as it was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum IneReason {
    /// Valid.
    Ok,
    /// Valid shape, key not computable offline.
    RemoteCheck,
    /// Nothing left after normalisation.
    IneEmpty,
    /// A character outside `0-9A-Z`.
    IneCharset,
    /// Not 11 characters.
    IneLength,
    /// 11 characters but no family shape.
    IneFormat,
    /// Placeholder made of one repeated digit.
    IneSameDigits,
    /// Forbidden key letter.
    IneKeyLetter,
    /// Wrong key.
    IneKeyMismatch,
    /// Base-36 INE whose first 10 characters are all letters.
    IneAllLetters,
}

impl IneReason {
    /// The rule code, as in `vectors/ine.csv`.
    pub fn as_str(self) -> &'static str {
        match self {
            IneReason::Ok => "OK",
            IneReason::RemoteCheck => "REMOTE_CHECK",
            IneReason::IneEmpty => "INE_EMPTY",
            IneReason::IneCharset => "INE_CHARSET",
            IneReason::IneLength => "INE_LENGTH",
            IneReason::IneFormat => "INE_FORMAT",
            IneReason::IneSameDigits => "INE_SAME_DIGITS",
            IneReason::IneKeyLetter => "INE_KEY_LETTER",
            IneReason::IneKeyMismatch => "INE_KEY_MISMATCH",
            IneReason::IneAllLetters => "INE_ALL_LETTERS",
        }
    }
}

/// The offline verdict on one INE value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IneCheck {
    /// The normalised value (INE-2): what is stored and compared.
    pub normalized: String,
    /// The family of the normalised value.
    pub family: IneFamily,
    /// The verdict.
    pub valid: IneValidity,
    /// The first failed check, or `OK` / `REMOTE_CHECK`.
    pub reason: IneReason,
    /// French explanation of the verdict.
    pub message: String,
}

const BEA_KEYS: &[u8; 23] = b"ABCDEFGHJKLMNPRSTUVWXYZ";

/// INE-2: remove every white-space character, then upper-case ASCII letters.
pub fn normalize(raw: &str) -> String {
    raw.chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// Checks a raw INE offline (INE-1 … INE-7).
pub fn check(raw: &str) -> IneCheck {
    let normalized = normalize(raw);
    let verdict = |family, valid, reason, message: String| IneCheck {
        normalized: normalized.clone(),
        family,
        valid,
        reason,
        message,
    };
    if let Some(refused) = check_charset_and_length(&normalized, verdict) {
        return refused;
    }
    let b = normalized.as_bytes();
    if digits(&b[0..10]) && letters(&b[10..11]) {
        return check_bea(&normalized, verdict);
    }
    if digits(&b[10..11]) && b[..10].iter().all(|c| c.is_ascii_alphanumeric()) {
        return check_nne36(&normalized, verdict);
    }
    if digits(&b[0..9]) && letters(&b[9..11]) {
        return check_ines(&normalized, verdict);
    }
    if digits(&b[0..4])
        && (b[4] == b'A' || b[4] == b'D')
        && digits(&b[5..10])
        && letters(&b[10..11])
    {
        return check_sifa_or_provisoire(&normalized, verdict);
    }
    verdict(
        IneFamily::Unknown,
        IneValidity::False,
        IneReason::IneFormat,
        "INE non valide : aucune forme d'INE reconnue".into(),
    )
}

/// Only ASCII digits.
fn digits(b: &[u8]) -> bool {
    b.iter().all(u8::is_ascii_digit)
}

/// Only ASCII upper-case letters.
fn letters(b: &[u8]) -> bool {
    b.iter().all(u8::is_ascii_uppercase)
}

/// One repeated character.
fn same(b: &[u8]) -> bool {
    b.iter().all(|c| Some(c) == b.first())
}

/// The refusal of a value that is empty, has a character outside `0-9A-Z`, or is not 11
/// characters long; `None` when it has 11 valid characters.
fn check_charset_and_length(
    normalized: &str,
    verdict: impl Fn(IneFamily, IneValidity, IneReason, String) -> IneCheck,
) -> Option<IneCheck> {
    if normalized.is_empty() {
        return Some(verdict(
            IneFamily::None,
            IneValidity::False,
            IneReason::IneEmpty,
            "INE absent".into(),
        ));
    }
    let bad: String = normalized
        .chars()
        .filter(|c| !c.is_ascii_digit() && !c.is_ascii_uppercase())
        .collect();
    if !bad.is_empty() {
        return Some(verdict(
            IneFamily::Unknown,
            IneValidity::False,
            IneReason::IneCharset,
            format!("L'INE contient des caractères non autorisés : « {bad} »"),
        ));
    }
    let len = normalized.len();
    if len != 11 {
        return Some(verdict(
            IneFamily::Unknown,
            IneValidity::False,
            IneReason::IneLength,
            format!("L'INE doit compter 11 caractères ({len} reçus après normalisation)"),
        ));
    }
    None
}

fn check_bea(
    normalized: &str,
    verdict: impl Fn(IneFamily, IneValidity, IneReason, String) -> IneCheck,
) -> IneCheck {
    let b = normalized.as_bytes();
    if b[..10].iter().all(|c| *c == b[0]) {
        return verdict(
            IneFamily::Bea,
            IneValidity::False,
            IneReason::IneSameDigits,
            "INE non valide : dix chiffres identiques".into(),
        );
    }
    let n: u64 = b[..10]
        .iter()
        .fold(0u64, |acc, c| acc * 10 + u64::from(c - b'0'));
    let expected = char::from(BEA_KEYS[(n % 23) as usize]);
    let got = char::from(b[10]);
    if matches!(got, 'I' | 'O' | 'Q') {
        return verdict(
            IneFamily::Bea,
            IneValidity::False,
            IneReason::IneKeyLetter,
            format!("Clé d'INE invalide : {got} n'est jamais une clé BEA ({expected} attendu)"),
        );
    }
    if got != expected {
        return verdict(
            IneFamily::Bea,
            IneValidity::False,
            IneReason::IneKeyMismatch,
            format!("Clé de l'INE incorrecte : {expected} attendu, {got} reçu"),
        );
    }
    verdict(
        IneFamily::Bea,
        IneValidity::True,
        IneReason::Ok,
        "INE valide".into(),
    )
}

/// University INE (NNE36): 10 base-36 characters + a check digit.
fn check_nne36(
    normalized: &str,
    verdict: impl Fn(IneFamily, IneValidity, IneReason, String) -> IneCheck,
) -> IneCheck {
    let b = normalized.as_bytes();
    if digits(&b[0..10]) && same(&b[0..10]) {
        return verdict(
            IneFamily::Nne36,
            IneValidity::False,
            IneReason::IneSameDigits,
            "INE non valide : dix chiffres identiques".into(),
        );
    }
    if letters(&b[0..10]) {
        return verdict(
            IneFamily::Nne36,
            IneValidity::False,
            IneReason::IneAllLetters,
            "INE non valide : les dix premiers caractères sont des lettres".into(),
        );
    }
    let value = |c: u8| -> u32 {
        if c.is_ascii_digit() {
            u32::from(c - b'0')
        } else {
            u32::from(c - b'A') + 10
        }
    };
    let s: u32 = 6 * b[..9].iter().map(|c| value(*c)).sum::<u32>() + value(b[9]);
    let expected = char::from(b'0' + (s % 10) as u8);
    let got = char::from(b[10]);
    if got == expected {
        verdict(
            IneFamily::Nne36,
            IneValidity::True,
            IneReason::Ok,
            "INE valide".into(),
        )
    } else {
        verdict(
            IneFamily::Nne36,
            IneValidity::False,
            IneReason::IneKeyMismatch,
            format!("Clé de l'INE incorrecte : {expected} attendu, {got} reçu"),
        )
    }
}

/// National register INE (INES): 9 digits + 2 key letters, checkable only remotely.
fn check_ines(
    normalized: &str,
    verdict: impl Fn(IneFamily, IneValidity, IneReason, String) -> IneCheck,
) -> IneCheck {
    let b = normalized.as_bytes();
    if same(&b[0..9]) {
        return verdict(
            IneFamily::Ines,
            IneValidity::False,
            IneReason::IneSameDigits,
            "INE non valide : neuf chiffres identiques".into(),
        );
    }
    let ok = |c: u8| matches!(c, b'A'..=b'H' | b'J' | b'K');
    if !ok(b[9]) || !ok(b[10]) {
        return verdict(
            IneFamily::Ines,
            IneValidity::False,
            IneReason::IneKeyLetter,
            format!(
                "Clé d'INES invalide : les lettres doivent être entre A et H, J ou K (reçu {})",
                &normalized[9..]
            ),
        );
    }
    verdict(
        IneFamily::Ines,
        IneValidity::Remote,
        IneReason::RemoteCheck,
        "INES de forme correcte : clé vérifiable seulement à distance".into(),
    )
}

/// Apprentice (`A`) or provisional (`D`) INE: 4 digits + letter + 5 digits + key letter,
/// checkable only remotely.
fn check_sifa_or_provisoire(
    normalized: &str,
    verdict: impl Fn(IneFamily, IneValidity, IneReason, String) -> IneCheck,
) -> IneCheck {
    let b = normalized.as_bytes();
    let family = if b[4] == b'A' {
        IneFamily::Sifa
    } else {
        IneFamily::Provisoire
    };
    if matches!(b[10], b'I' | b'O' | b'Q') {
        return verdict(
            family,
            IneValidity::False,
            IneReason::IneKeyLetter,
            format!(
                "Clé d'INE invalide : {} n'est jamais une clé",
                char::from(b[10])
            ),
        );
    }
    verdict(
        family,
        IneValidity::Remote,
        IneReason::RemoteCheck,
        format!(
            "INE {} de forme correcte : clé vérifiable seulement à distance",
            family.as_str()
        ),
    )
}

/// INE-10: the Apogée columns receive characters 1–10 and 11 of the normalised value.
pub fn split_for_apogee(normalized: &str) -> (String, String) {
    let chars: Vec<char> = normalized.chars().collect();
    let cut = chars.len().saturating_sub(1);
    (chars[..cut].iter().collect(), chars[cut..].iter().collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn worked_examples() {
        assert_eq!(check("0123456789M").valid, IneValidity::True);
        assert_eq!(check("1234567890V").valid, IneValidity::True);
        assert_eq!(check("0DDG5R00015").valid, IneValidity::True);
        assert_eq!(check("D0DG5R00015").valid, IneValidity::True);
        assert_eq!(check("1021012345C").valid, IneValidity::True);
        assert_eq!(
            split_for_apogee("0123456789M"),
            ("0123456789".into(), "M".into())
        );
    }

    proptest! {
        #[test]
        fn every_bea_number_has_exactly_one_valid_key(n in 0u64..=9_999_999_999) {
            let digits = format!("{n:010}");
            prop_assume!(!digits.bytes().all(|c| c == digits.as_bytes()[0]));
            let valid: Vec<char> = ('A'..='Z')
                .filter(|k| check(&format!("{digits}{k}")).valid == IneValidity::True)
                .collect();
            prop_assert_eq!(valid.len(), 1);
        }

        #[test]
        fn check_never_panics(s in ".{0,20}") {
            let _ = check(&s);
        }
    }
}
