//! Text rules shared by every channel: "absent" values, lengths in characters, normalised names.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// A value as the rules see it: trimmed, and `None` when empty after trimming ("absent",
/// `domain.md` §0).
pub fn present(value: Option<&str>) -> Option<&str> {
    value.map(str::trim).filter(|v| !v.is_empty())
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
