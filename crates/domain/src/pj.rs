//! Attachments (pièces justificatives), rules PJ-1 … PJ-6 of `domain.md` §4.1: mandatory
//! parameters, identity cross-check, file-name sanitising, content sniffing and the agreement of
//! the name's extension with the sniffed type. No IO: the gateway streams and stores the bytes.

use crate::error::{Error, FaultKey, FieldError};
use crate::referential::Referential;
use crate::referential::snapshot::CodeState;
use crate::text::{char_len, normalized_name, present};
use serde::Serialize;

/// Longest stored file name, in characters (`NOM_FIC`, PJ-6).
pub const MAX_NAME_CHARS: usize = 255;
/// Longest PJ type code (`COD_TPJ`, DM-5).
pub const MAX_TPJ_CHARS: usize = 10;
/// Bytes [`MediaType::sniff`] needs.
pub const SNIFF_BYTES: usize = 8;

/// A content type recognised from the bytes (PJ-6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum MediaType {
    /// `application/pdf` (`%PDF-`).
    #[serde(rename = "application/pdf")]
    Pdf,
    /// `image/jpeg` (`FF D8 FF`).
    #[serde(rename = "image/jpeg")]
    Jpeg,
    /// `image/png` (`89 50 4E 47 0D 0A 1A 0A`).
    #[serde(rename = "image/png")]
    Png,
}

impl MediaType {
    /// Every type the gateway can recognise.
    pub const ALL: [MediaType; 3] = [MediaType::Pdf, MediaType::Jpeg, MediaType::Png];

    /// The MIME name.
    pub fn as_str(self) -> &'static str {
        match self {
            MediaType::Pdf => "application/pdf",
            MediaType::Jpeg => "image/jpeg",
            MediaType::Png => "image/png",
        }
    }

    /// The type of a MIME name (case-insensitive).
    pub fn from_mime(name: &str) -> Option<Self> {
        let name = name.trim();
        Self::ALL
            .into_iter()
            .find(|t| t.as_str().eq_ignore_ascii_case(name))
    }

    /// File-name extensions that go with this type (lower case).
    pub fn extensions(self) -> &'static [&'static str] {
        match self {
            MediaType::Pdf => &["pdf"],
            MediaType::Jpeg => &["jpg", "jpeg"],
            MediaType::Png => &["png"],
        }
    }

    /// The extension written for this type (`pdf`, `jpg`, `png`).
    pub fn extension(self) -> &'static str {
        self.extensions()[0]
    }

    /// The type announced by the first bytes of a file, if any.
    pub fn sniff(head: &[u8]) -> Option<Self> {
        if head.starts_with(b"%PDF-") {
            Some(MediaType::Pdf)
        } else if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(MediaType::Jpeg)
        } else if head.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
            Some(MediaType::Png)
        } else {
            None
        }
    }
}

fn field_error(key: FaultKey, code: &str, field: &str, message: String) -> Error {
    Error::validation(vec![FieldError::new(
        key,
        code,
        Some(field.to_owned()),
        message,
    )])
}

/// PJ-1: every listed parameter must be present (not absent, nil or blank); one failure per
/// missing parameter, key `technical.parameter.noncoherentinput.<field>obligatoire`. A
/// `codOpiIntEpo` that cannot be an OPI code is unknown (PJ-2,
/// `technical.data.nullretrieve.codOpiIntEpo`) before any lookup.
pub fn check_mandatory(fields: &[(&str, Option<&str>)]) -> Result<(), Error> {
    let mut errors: Vec<FieldError> = fields
        .iter()
        .filter(|(_, v)| present(*v).is_none())
        .map(|(name, _)| {
            FieldError::new(
                FaultKey::mandatory(name),
                "CHAMP_OBLIGATOIRE",
                Some((*name).to_owned()),
                format!("{name} est obligatoire"),
            )
        })
        .collect();
    // PJ-2 without a lookup: no OPI code (nor alias, a code once sent) has another shape than
    // OPI-12's, so such a value names no OPI. Storage never sees it (PostgreSQL refuses a NUL
    // byte in a text parameter).
    let code = fields
        .iter()
        .find(|(name, _)| *name == "codOpiIntEpo")
        .and_then(|(_, v)| present(*v));
    if let Some(code) = code
        && !is_opi_code(code)
    {
        errors.push(FieldError::new(
            FaultKey::null_retrieve("codOpiIntEpo"),
            "OPI_INCONNUE",
            Some("codOpiIntEpo".into()),
            format!(
                "Aucune OPI n'a le code « {} » (1 à 10 lettres ou chiffres)",
                code.chars()
                    .take(40)
                    .map(|c| if c.is_control() { '?' } else { c })
                    .collect::<String>()
            ),
        ));
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Error::validation(errors))
    }
}

/// Whether `code` has the shape of an OPI code (OPI-12: 1 to 10 ASCII letters or digits).
pub fn is_opi_code(code: &str) -> bool {
    (1..=10).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// The stored identity of an OPI, as PJ-3 compares it.
#[derive(Debug, Clone, Copy)]
pub struct StoredIdentity<'a> {
    /// Birth surname.
    pub nom_pat: &'a str,
    /// Usage surname.
    pub nom_usu: Option<&'a str>,
    /// First name.
    pub prenom: &'a str,
}

/// PJ-3: the surname sent must be the stored birth or usage surname, and the first name the
/// stored first name, compared as normalised names.
pub fn check_identity(nom: &str, prenom: &str, stored: StoredIdentity<'_>) -> Result<(), Error> {
    let nom = normalized_name(nom);
    let same_name = nom == normalized_name(stored.nom_pat)
        || stored.nom_usu.is_some_and(|u| nom == normalized_name(u));
    if !same_name {
        return Err(field_error(
            FaultKey::noncoherent("libNomPatIndOpi"),
            "PJ_IDENTITE_INCOHERENTE",
            "libNomPatIndOpi",
            "Le nom transmis ne correspond pas au nom de naissance ou d'usage de l'OPI".into(),
        ));
    }
    if normalized_name(prenom) != normalized_name(stored.prenom) {
        return Err(field_error(
            FaultKey::noncoherent("libPr1IndOpi"),
            "PJ_IDENTITE_INCOHERENTE",
            "libPr1IndOpi",
            "Le prénom transmis ne correspond pas au prénom de l'OPI".into(),
        ));
    }
    Ok(())
}

/// PJ-4: the PJ type must exist and be in service; returns it trimmed.
pub fn check_type(referential: &Referential, cod_tpj: &str) -> Result<String, Error> {
    let code = cod_tpj.trim();
    let state = if char_len(code) > MAX_TPJ_CHARS {
        CodeState::Unknown
    } else {
        referential.state("types-pj", &[code])
    };
    match state {
        CodeState::InService => Ok(code.to_owned()),
        CodeState::OutOfService => Err(field_error(
            FaultKey::null_retrieve("codTpj"),
            "PJ_TYPE_HORS_SERVICE",
            "codTpj",
            format!("Le type de pièce justificative {code} n'est plus en service"),
        )),
        CodeState::Unknown => Err(field_error(
            FaultKey::null_retrieve("codTpj"),
            "PJ_TYPE_INCONNU",
            "codTpj",
            format!(
                "Type de pièce justificative inconnu : {}",
                code.chars().take(40).collect::<String>()
            ),
        )),
    }
}

fn name_error(message: String) -> Error {
    field_error(
        FaultKey::noncoherent("nomFic"),
        "PJ_NOM_INVALIDE",
        "nomFic",
        message,
    )
}

/// Characters that may hide the real extension (bidirectional overrides and isolates) or that
/// are invisible: refused like control characters.
fn is_deceptive(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
}

/// PJ-6: the stored name. Everything up to the last `/` or `\` is removed (no path can come
/// through), surrounding blanks are trimmed; control characters, bidirectional overrides, an
/// empty name, `.`/`..` and names over 255 characters are refused (`…noncoherentinput.nomFic`).
pub fn sanitize_file_name(raw: &str) -> Result<String, Error> {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or(raw).trim();
    if base.chars().any(|c| c.is_control() || is_deceptive(c)) {
        return Err(name_error(
            "Le nom de fichier contient des caractères de contrôle ou invisibles".into(),
        ));
    }
    if base.is_empty() || base == "." || base == ".." {
        return Err(name_error("Le nom de fichier est vide".into()));
    }
    let len = char_len(base);
    if len > MAX_NAME_CHARS {
        return Err(name_error(format!(
            "Le nom de fichier dépasse {MAX_NAME_CHARS} caractères ({len})"
        )));
    }
    Ok(base.to_owned())
}

/// The extension of a file name, lower case (`None` without a dot or with nothing after it).
pub fn extension_of(name: &str) -> Option<String> {
    let (stem, ext) = name.rsplit_once('.')?;
    (!ext.is_empty() && !stem.is_empty()).then(|| ext.to_ascii_lowercase())
}

/// The size limit violation (also raised while streaming, before the whole file is read).
pub fn too_large(max_bytes: u64) -> Error {
    field_error(
        FaultKey::noncoherent("pj"),
        "PJ_TROP_VOLUMINEUX",
        "pj",
        format!(
            "Fichier trop volumineux (maximum {max_bytes} octets, soit {:.1} Mo)",
            max_bytes as f64 / (1024.0 * 1024.0)
        ),
    )
}

/// PJ-6 on a received file: 1 byte ≤ size ≤ `max_bytes`, type sniffed from `head` among
/// `allowed`, and the name's extension agreeing with that type. Returns the sniffed type.
pub fn check_content(
    size: u64,
    head: &[u8],
    name: &str,
    max_bytes: u64,
    allowed: &[MediaType],
) -> Result<MediaType, Error> {
    if size == 0 {
        return Err(field_error(
            FaultKey::noncoherent("pj"),
            "PJ_VIDE",
            "pj",
            "Le fichier est vide".into(),
        ));
    }
    if size > max_bytes {
        return Err(too_large(max_bytes));
    }
    let accepted = || {
        allowed
            .iter()
            .map(|t| t.extension().to_uppercase())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let Some(kind) = MediaType::sniff(head).filter(|t| allowed.contains(t)) else {
        return Err(field_error(
            FaultKey::noncoherent("pj"),
            "PJ_TYPE_NON_AUTORISE",
            "pj",
            format!(
                "Type de fichier non autorisé : le contenu n'est pas un des types acceptés ({})",
                accepted()
            ),
        ));
    };
    match extension_of(name) {
        Some(ext) if kind.extensions().contains(&ext.as_str()) => Ok(kind),
        Some(ext) => Err(field_error(
            FaultKey::noncoherent("nomFic"),
            "PJ_EXTENSION_INCOHERENTE",
            "nomFic",
            format!(
                "L'extension .{} du nom de fichier ne correspond pas au contenu ({})",
                ext.chars().take(20).collect::<String>(),
                kind.extension().to_uppercase()
            ),
        )),
        None => Err(field_error(
            FaultKey::noncoherent("nomFic"),
            "PJ_EXTENSION_INCOHERENTE",
            "nomFic",
            format!(
                "Le nom de fichier n'a pas d'extension (attendue : .{})",
                kind.extension()
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffing_knows_the_three_types() {
        assert_eq!(MediaType::sniff(b"%PDF-1.7\n"), Some(MediaType::Pdf));
        assert_eq!(
            MediaType::sniff(&[0xFF, 0xD8, 0xFF, 0xE0]),
            Some(MediaType::Jpeg)
        );
        assert_eq!(
            MediaType::sniff(b"\x89PNG\r\n\x1a\n...."),
            Some(MediaType::Png)
        );
        assert_eq!(MediaType::sniff(b"GIF89a"), None);
        assert_eq!(MediaType::sniff(b"%PD"), None);
        assert_eq!(MediaType::from_mime("Image/PNG"), Some(MediaType::Png));
    }

    #[test]
    fn names_lose_their_path_and_refuse_control_characters() {
        let ok = |raw: &str| sanitize_file_name(raw).ok();
        assert_eq!(ok("../../etc/passwd.pdf").as_deref(), Some("passwd.pdf"));
        assert_eq!(ok(r"C:\Users\x\scan.PDF").as_deref(), Some("scan.PDF"));
        assert_eq!(
            ok("  relevé de notes.pdf ").as_deref(),
            Some("relevé de notes.pdf")
        );
        for bad in [
            "..",
            "a/..",
            "dir/",
            "",
            "a\u{0}.pdf",
            "a\nb.pdf",
            "x\u{202E}fdp.exe",
        ] {
            let err = sanitize_file_name(bad).err();
            assert_eq!(
                err.map(|e| e.fault_key.to_string()).as_deref(),
                Some("technical.parameter.noncoherentinput.nomFic"),
                "{bad:?}"
            );
        }
        assert!(sanitize_file_name(&format!("{}.pdf", "é".repeat(251))).is_ok());
        assert!(sanitize_file_name(&format!("{}.pdf", "é".repeat(252))).is_err());
    }

    #[test]
    fn content_checks_in_order() {
        let all = MediaType::ALL;
        let key = |r: Result<MediaType, Error>| {
            r.err()
                .map(|e| (e.fault_key.to_string(), e.errors[0].code.clone()))
        };
        assert_eq!(
            check_content(5, b"%PDF-", "a.pdf", 10, &all).ok(),
            Some(MediaType::Pdf)
        );
        assert_eq!(
            check_content(5, &[0xFF, 0xD8, 0xFF], "a.JPEG", 10, &all).ok(),
            Some(MediaType::Jpeg)
        );
        let pj = "technical.parameter.noncoherentinput.pj".to_owned();
        let nom = "technical.parameter.noncoherentinput.nomFic".to_owned();
        assert_eq!(
            key(check_content(0, b"", "a.pdf", 10, &all)),
            Some((pj.clone(), "PJ_VIDE".into()))
        );
        assert_eq!(
            key(check_content(11, b"%PDF-", "a.pdf", 10, &all)),
            Some((pj.clone(), "PJ_TROP_VOLUMINEUX".into()))
        );
        assert_eq!(
            key(check_content(5, b"MZ\x90\x00", "a.pdf", 10, &all)),
            Some((pj.clone(), "PJ_TYPE_NON_AUTORISE".into()))
        );
        assert_eq!(
            key(check_content(5, b"%PDF-", "a.pdf", 10, &[MediaType::Png])),
            Some((pj, "PJ_TYPE_NON_AUTORISE".into()))
        );
        assert_eq!(
            key(check_content(5, b"%PDF-", "a.png", 10, &all)),
            Some((nom.clone(), "PJ_EXTENSION_INCOHERENTE".into()))
        );
        assert_eq!(
            key(check_content(5, b"%PDF-", "passwd", 10, &all)),
            Some((nom, "PJ_EXTENSION_INCOHERENTE".into()))
        );
    }

    #[test]
    fn identity_and_mandatory_fields() {
        let stored = StoredIdentity {
            nom_pat: "LEGRAND-MSPYC",
            nom_usu: Some("Martin"),
            prenom: "Camille",
        };
        assert!(check_identity("Legrand Mspyc", "CAMILLE", stored).is_ok());
        assert!(check_identity("MARTIN", "camille", stored).is_ok());
        let err = check_identity("DURAND", "CAMILLE", stored).err();
        assert_eq!(
            err.map(|e| e.fault_key.to_string()).as_deref(),
            Some("technical.parameter.noncoherentinput.libNomPatIndOpi")
        );
        let err = check_identity("MARTIN", "LEA", stored).err();
        assert_eq!(
            err.map(|e| e.fault_key.to_string()).as_deref(),
            Some("technical.parameter.noncoherentinput.libPr1IndOpi")
        );
        let err = check_mandatory(&[
            ("codOpiIntEpo", Some(" ")),
            ("codTpj", Some("PJ01")),
            ("pj", None),
        ])
        .err();
        let err = err.map(|e| (e.fault_key.to_string(), e.errors.len()));
        assert_eq!(
            err,
            Some((
                "technical.parameter.noncoherentinput.codOpiIntEpoobligatoire".into(),
                2
            ))
        );
        for code in ["JVM\0WT75DR", "JVMWT75DRZ1", "JVM-WT75", "JVMWТ75DRZ"] {
            let err = check_mandatory(&[("codOpiIntEpo", Some(code)), ("codTpj", Some("PJ01"))])
                .err()
                .map(|e| e.fault_key.to_string());
            assert_eq!(
                err.as_deref(),
                Some("technical.data.nullretrieve.codOpiIntEpo"),
                "{code:?} names no OPI"
            );
        }
        assert!(check_mandatory(&[("codOpiIntEpo", Some(" ec25a7k3q9 "))]).is_ok());
        assert_eq!(extension_of("archive.tar.GZ").as_deref(), Some("gz"));
        assert_eq!(extension_of(".pdf"), None);
        assert_eq!(extension_of("pdf."), None);
    }
}
