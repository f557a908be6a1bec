//! Text rules shared by every channel: "absent" values, lengths in characters, normalised names.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// A value as the rules see it: trimmed, and `None` when empty after trimming ("absent",
/// `domain.md` §0).
pub fn present(value: Option<&str>) -> Option<&str> {
    value.map(str::trim).filter(|v| !v.is_empty())
}

/// Whether `value` is the number zero (`0`, `+0`, `000`, `0.0`, blanks around). A client that
/// cannot send "no value" for a number writes 0: PHP `SoapClient` fed with objects whose
/// properties default to `0` and `""` sends `0` for every unset `xsd:int` (`codVrsVdi`,
/// `dhhCvc`, `dmnCvc` …) and `""` for every unset string.
pub fn is_zero(value: Option<&str>) -> bool {
    let Some(v) = present(value) else {
        return false;
    };
    let v = v.strip_prefix(['+', '-']).unwrap_or(v);
    let (int, frac) = v.split_once('.').unwrap_or((v, ""));
    !(int.is_empty() && frac.is_empty())
        && int.bytes().all(|b| b == b'0')
        && frac.bytes().all(|b| b == b'0')
}

/// Clears `number` when it is zero and `partner` is absent: a `0` where 0 is no valid value,
/// next to an empty partner field, is the unset number of such a client, not a value
/// (`codVrsVdi` 0 next to an empty `codDip`: no diploma given). A zero next to a given partner
/// is kept: it is a real, wrong value (`codDip` DIP01 with `codVrsVdi` 0 stays refused).
pub fn unset_zero(number: &mut Option<String>, partner: Option<&str>) {
    if present(partner).is_none() && is_zero(number.as_deref()) {
        *number = None;
    }
}

/// Length in characters (Unicode scalar values), as DM-2 counts them.
pub fn char_len(value: &str) -> usize {
    value.chars().count()
}

/// The normalised form used for matching names, never for storage: ASCII upper case, diacritics
/// removed (NFD, combining marks dropped), ligatures Œ→OE and Æ→AE, every non-letter removed.
/// `Le Gall-N'Diaye` → `LEGALLNDIAYE`.
pub fn normalized_name(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.nfd() {
        if is_combining_mark(c) {
            continue;
        }
        match c {
            'œ' | 'Œ' => out.push_str("OE"),
            'æ' | 'Æ' => out.push_str("AE"),
            'ß' => out.push_str("SS"),
            c if c.is_ascii_alphabetic() => out.push(c.to_ascii_uppercase()),
            _ => {}
        }
    }
    out
}

/// `codCge` → `cod_cge`, `temEnSveCge` → `tem_en_sve_cge`: database names from DTO names.
pub fn snake_case(camel: &str) -> String {
    let mut out = String::with_capacity(camel.len() + 4);
    for (i, c) in camel.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// A header or field name folded for tolerant matching: lower case, `_`, `-` and spaces removed,
/// so `COD_CGE`, `cod_cge` and `codCge` are the same column.
pub fn fold_name(name: &str) -> String {
    name.trim()
        .trim_start_matches('\u{feff}')
        .chars()
        .filter(|c| !matches!(c, '_' | '-' | ' '))
        .flat_map(char::to_lowercase)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn normalized_names() {
        assert_eq!(normalized_name("Le Gall-N'Diaye"), "LEGALLNDIAYE");
        assert_eq!(normalized_name("Éloïse Œuvrard"), "ELOISEOEUVRARD");
        assert_eq!(normalized_name("ÉPINAL"), "EPINAL");
        assert_eq!(normalized_name("  "), "");
    }

    #[test]
    fn absent_values() {
        assert_eq!(present(Some("  x ")), Some("x"));
        assert_eq!(present(Some(" \t")), None);
        assert_eq!(present(None), None);
    }

    #[test]
    fn zeros_are_the_unset_numbers_of_php_clients() {
        for zero in ["0", " 0 ", "+0", "-0", "000", "0.0", ".0", "0."] {
            assert!(is_zero(Some(zero)), "{zero}");
        }
        for other in ["", " ", "1", "10", "0.5", "00a", ".", "+", "zéro"] {
            assert!(!is_zero(Some(other)), "{other}");
        }
        assert!(!is_zero(None));
        let mut vdi = Some("0".to_owned());
        unset_zero(&mut vdi, Some("DIP01"));
        assert_eq!(
            vdi.as_deref(),
            Some("0"),
            "a zero next to a given partner is a value"
        );
        unset_zero(&mut vdi, Some("  "));
        assert_eq!(vdi, None, "a zero next to an empty partner is no value");
        let mut five = Some("5".to_owned());
        unset_zero(&mut five, None);
        assert_eq!(five.as_deref(), Some("5"), "only zeros are unset numbers");
    }

    #[test]
    fn names_fold() {
        assert_eq!(snake_case("temEnSveCge"), "tem_en_sve_cge");
        assert_eq!(fold_name("COD_CGE"), fold_name("codCge"));
        assert_eq!(fold_name("\u{feff}codAnu "), "codanu");
    }

    proptest! {
        #[test]
        fn normalized_name_is_ascii_upper_letters(s in ".*") {
            let n = normalized_name(&s);
            prop_assert!(n.chars().all(|c| c.is_ascii_uppercase()));
            prop_assert_eq!(normalized_name(&n), n.clone());
        }
    }
}
