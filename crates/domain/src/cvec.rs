//! CVEC attestation codes: valid states (CVEC-2) and the shape of the attestation code
//! (CVEC-3 … CVEC-5 of `domain.md` §6); the CNOUS bodies ([`dto`]), the register rows
//! ([`register`]) and the enrolment check's rules ([`check`]).

pub mod check;
pub mod dto;
pub mod register;
pub mod request;

use serde::Serialize;

use crate::text::normalized_name;

/// Why an attestation code was judged as it was (CVEC-4, CVEC-5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CvecCodeReason {
    /// Valid, and the number follows the observed layout (CVEC-5).
    Ok,
    /// Valid, but the number differs from the observed layout: warning `CVEC_CODE_LAYOUT`.
    OkUnusualLayout,
    /// Nothing left after normalisation.
    CvecCodeEmpty,
    /// A character outside `A-Z0-9` after normalisation.
    CvecCodeCharset,
    /// No surname letters after the attestation number.
    CvecCodeNoName,
    /// More than five surname letters.
    CvecCodeNameLength,
    /// The number part does not match the accepted shape.
    CvecCodeNumber,
}

impl CvecCodeReason {
    /// The rule code, as in `vectors/cvec-codes.csv`.
    pub fn as_str(self) -> &'static str {
        match self {
            CvecCodeReason::Ok => "OK",
            CvecCodeReason::OkUnusualLayout => "OK_UNUSUAL_LAYOUT",
            CvecCodeReason::CvecCodeEmpty => "CVEC_CODE_EMPTY",
            CvecCodeReason::CvecCodeCharset => "CVEC_CODE_CHARSET",
            CvecCodeReason::CvecCodeNoName => "CVEC_CODE_NO_NAME",
            CvecCodeReason::CvecCodeNameLength => "CVEC_CODE_NAME_LENGTH",
            CvecCodeReason::CvecCodeNumber => "CVEC_CODE_NUMBER",
        }
    }

    /// Whether the code is accepted (`OK` or `OK_UNUSUAL_LAYOUT`).
    pub fn is_valid(self) -> bool {
        matches!(self, CvecCodeReason::Ok | CvecCodeReason::OkUnusualLayout)
    }

    /// The warning carried by an accepted code, as named in CVEC-5 (`CVEC_CODE_LAYOUT`).
    pub fn warning(self) -> Option<&'static str> {
        match self {
            CvecCodeReason::OkUnusualLayout => Some("CVEC_CODE_LAYOUT"),
            _ => None,
        }
    }
}

/// The verdict on one attestation code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CvecCode {
    /// The normalised code (CVEC-3): what is looked up and journaled.
    pub normalized: String,
    /// The attestation number `N`; empty when the checks stopped before the split
    /// (`CVEC_CODE_EMPTY`, `CVEC_CODE_CHARSET`).
    pub number: String,
    /// The surname letters `S` (the maximal trailing run of letters); empty when the checks stopped
    /// before the split or when there is none.
    pub letters: String,
    /// `true` for `OK` and `OK_UNUSUAL_LAYOUT`.
    pub valid: bool,
    /// The first failed check, or `OK` / `OK_UNUSUAL_LAYOUT`.
    pub reason: CvecCodeReason,
    /// French explanation of the verdict.
    pub message: String,
}

/// Most surname letters a code may carry (CVEC-1, CVEC-4).
const MAX_LETTERS: usize = 5;

/// CVEC-3: remove every white-space character and `/`, then upper-case ASCII letters.
pub fn normalize(raw: &str) -> String {
    raw.chars()
        .filter(|c| !c.is_whitespace() && *c != '/')
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// Checks a raw attestation code (CVEC-3 normalisation, CVEC-4 shape, CVEC-5 layout), the
/// failures being tested in the order of CVEC-4.
pub fn parse(raw: &str) -> CvecCode {
    let normalized = normalize(raw);
    let verdict = |number: &str, letters: &str, reason: CvecCodeReason, message: String| CvecCode {
        normalized: normalized.clone(),
        number: number.to_owned(),
        letters: letters.to_owned(),
        valid: reason.is_valid(),
        reason,
        message,
    };
    if normalized.is_empty() {
        return verdict(
            "",
            "",
            CvecCodeReason::CvecCodeEmpty,
            "Code d'attestation CVEC absent".into(),
        );
    }
    let mut bad: Vec<char> = Vec::new();
    for c in normalized.chars() {
        if !c.is_ascii_digit() && !c.is_ascii_uppercase() && !bad.contains(&c) {
            bad.push(c);
        }
    }
    if !bad.is_empty() {
        let quoted: Vec<String> = bad.iter().map(|c| format!("'{c}'")).collect();
        return verdict(
            "",
            "",
            CvecCodeReason::CvecCodeCharset,
            format!(
                "Le code d'attestation CVEC contient des caractères non autorisés : {} \
                 (seuls A-Z et 0-9 sont admis ; les lettres du nom doivent être sans accent, \
                 trait d'union ni apostrophe)",
                quoted.join(", ")
            ),
        );
    }
    // Only ASCII remains, so byte indices are character indices.
    let split = normalized
        .bytes()
        .rposition(|c| !c.is_ascii_uppercase())
        .map_or(0, |i| i + 1);
    let (number, letters) = normalized.split_at(split);
    if letters.is_empty() {
        return verdict(
            number,
            letters,
            CvecCodeReason::CvecCodeNoName,
            "Code d'attestation CVEC incomplet : aucune lettre du nom après le numéro d'attestation"
                .into(),
        );
    }
    if letters.len() > MAX_LETTERS {
        return verdict(
            number,
            letters,
            CvecCodeReason::CvecCodeNameLength,
            format!(
                "Code d'attestation CVEC invalide : {} lettres du nom après le numéro, \
                 {MAX_LETTERS} au plus",
                letters.len()
            ),
        );
    }
    if !accepted_number(number) {
        return verdict(
            number,
            letters,
            CvecCodeReason::CvecCodeNumber,
            format!(
                "Code d'attestation CVEC invalide : le numéro '{number}' n'a pas la forme attendue \
                 (3 lettres, 1 chiffre, 5 à 8 lettres ou chiffres, 1 chiffre)"
            ),
        );
    }
    if observed_layout(number) {
        verdict(
            number,
            letters,
            CvecCodeReason::Ok,
            "Code d'attestation CVEC valide".into(),
        )
    } else {
        verdict(
            number,
            letters,
            CvecCodeReason::OkUnusualLayout,
            format!(
                "Code d'attestation CVEC accepté, mais le numéro '{number}' ne suit pas la \
                 présentation habituelle (3 lettres, 1 chiffre, 6 lettres, 1 ou 2 chiffres)"
            ),
        )
    }
}

/// The `/api/attestation/{number}?etudiant={letters}` form (CVEC-3): the code is the number
/// followed by the normalised letters, then checked as [`parse`] does.
pub fn parse_parts(number: &str, surname_letters: &str) -> CvecCode {
    parse(&format!(
        "{}{}",
        normalize(number),
        normalize(surname_letters)
    ))
}

/// The letters a client sends after the number: the first five letters of the surname
/// normalised as in `domain.md` §0 (fewer when the surname is shorter).
pub fn surname_letters(surname: &str) -> String {
    normalized_name(surname).chars().take(MAX_LETTERS).collect()
}

/// CVEC-2: whether `etat.code` is a valid state (70, 71, 73, 75, 76 or 98), compared as an
/// integer after trimming.
pub fn is_valid_state(code: &str) -> bool {
    code.trim()
        .parse::<i64>()
        .is_ok_and(|n| matches!(n, 70 | 71 | 73 | 75 | 76 | 98))
}

/// Whether an attestation number (already normalised) has the accepted shape of CVEC-4.
pub fn is_valid_number(number: &str) -> bool {
    accepted_number(number)
}

/// CVEC-4: `^[A-Z]{3}[0-9][A-Z0-9]{5,8}[0-9]$`.
fn accepted_number(number: &str) -> bool {
    let b = number.as_bytes();
    (10..=13).contains(&b.len())
        && b[..3].iter().all(u8::is_ascii_uppercase)
        && b[3].is_ascii_digit()
        && b[4..b.len() - 1]
            .iter()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        && b[b.len() - 1].is_ascii_digit()
}

/// CVEC-5: `^[A-Z]{3}[0-9][A-Z]{6}[0-9]{1,2}$`.
fn observed_layout(number: &str) -> bool {
    let b = number.as_bytes();
    (11..=12).contains(&b.len())
        && b[..3].iter().all(u8::is_ascii_uppercase)
        && b[3].is_ascii_digit()
        && b[4..10].iter().all(u8::is_ascii_uppercase)
        && b[10..].iter().all(u8::is_ascii_digit)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn worked_examples() {
        let code = parse("VER1 ABCDEF 12 / DUPON");
        assert_eq!(code.normalized, "VER1ABCDEF12DUPON");
        assert_eq!(code.number, "VER1ABCDEF12");
        assert_eq!(code.letters, "DUPON");
        assert!(code.valid);
        assert_eq!(code.reason, CvecCodeReason::Ok);
        assert_eq!(code.reason.warning(), None);

        let code = parse("ver1abcdef1li");
        assert_eq!(
            (code.number.as_str(), code.letters.as_str(), code.reason),
            ("VER1ABCDEF1", "LI", CvecCodeReason::Ok)
        );

        let code = parse("VER1AB3DEF12DUPON");
        assert!(code.valid);
        assert_eq!(code.reason, CvecCodeReason::OkUnusualLayout);
        assert_eq!(code.reason.warning(), Some("CVEC_CODE_LAYOUT"));

        assert_eq!(parse(" \t/ ").reason, CvecCodeReason::CvecCodeEmpty);
        assert_eq!(parse("VER1ABCDEF12").reason, CvecCodeReason::CvecCodeNoName);
        assert_eq!(
            parse("VER1ABCDEF12DUPONT").reason,
            CvecCodeReason::CvecCodeNameLength
        );
        assert_eq!(parse("DUPON").reason, CvecCodeReason::CvecCodeNumber);
        assert_eq!(parse("DUPON").number, "");
    }

    #[test]
    fn checks_follow_the_cvec_4_order() {
        // A bad character wins over a missing name and a bad number.
        let code = parse("X-1");
        assert_eq!(code.reason, CvecCodeReason::CvecCodeCharset);
        assert!(code.message.contains("'-'"));
        // A missing name wins over a bad number.
        assert_eq!(parse("X1").reason, CvecCodeReason::CvecCodeNoName);
        // A long name wins over a bad number.
        assert_eq!(parse("1ABCDEF").reason, CvecCodeReason::CvecCodeNameLength);
    }

    #[test]
    fn charset_message_quotes_each_offending_character_once() {
        let code = parse("VER1ABCDEF12_DU-P_ÉN");
        assert!(!code.valid);
        assert_eq!(code.reason, CvecCodeReason::CvecCodeCharset);
        assert!(code.message.contains("'_', '-', 'É'"), "{}", code.message);
    }

    #[test]
    fn parts_form() {
        let code = parse_parts(" ver1abcdef12 ", "Dupon");
        assert_eq!(code, parse("VER1ABCDEF12DUPON"));
        assert_eq!(
            parse_parts("VER1ABCDEF12", "").reason,
            CvecCodeReason::CvecCodeNoName
        );
        assert_eq!(
            parse_parts("VER1ABCDEF12", "dup-on").reason,
            CvecCodeReason::CvecCodeCharset
        );
    }

    #[test]
    fn surname_letters_are_normalised() {
        assert_eq!(surname_letters("Le Gall-N'Diaye"), "LEGAL");
        assert_eq!(surname_letters("Li"), "LI");
        assert_eq!(surname_letters("Œuvrard"), "OEUVR");
        assert_eq!(surname_letters("Éloi"), "ELOI");
        assert_eq!(surname_letters(""), "");
        let code = parse(&format!(
            "VER1ABCDEF12{}",
            surname_letters("Le Gall-N'Diaye")
        ));
        assert_eq!(code.reason, CvecCodeReason::Ok);
    }

    #[test]
    fn valid_states() {
        for code in ["70", "71", "73", "75", "76", "98", " 71 ", "070", "\t98\n"] {
            assert!(is_valid_state(code), "{code:?}");
        }
        for code in [
            "72",
            "",
            "  ",
            "7O",
            "71a",
            "7 1",
            "-70",
            "99999999999999999999999",
        ] {
            assert!(!is_valid_state(code), "{code:?}");
        }
    }

    proptest! {
        #[test]
        fn parse_never_panics(s in ".{0,30}") {
            let code = parse(&s);
            prop_assert_eq!(code.valid, code.reason.is_valid());
        }

        #[test]
        fn valid_codes_split_back(
            number in "[A-Z]{3}[0-9][A-Z0-9]{5,8}[0-9]",
            letters in "[A-Z]{1,5}",
        ) {
            let code = parse(&format!("{number}{letters}"));
            prop_assert!(code.valid);
            prop_assert_eq!(&code.number, &number);
            prop_assert_eq!(&code.letters, &letters);
            prop_assert_eq!(parse_parts(&number.to_ascii_lowercase(), &letters), code);
        }
    }
}
