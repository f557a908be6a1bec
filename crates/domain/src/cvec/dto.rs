//! The CNOUS CVEC control API's bodies (CVEC-1): what `GET /api/attestation/{code}` answers, as the
//! gateway emits them and as the upstream client reads them.
//!
//! Reading is tolerant (unknown fields ignored, numbers accepted where strings are expected,
//! `"true"`/`"false"` accepted for booleans): the schema types every field but `exoneration.active`
//! as a string, and public clients compare `etat.code` as an integer (CVEC-2).

use serde::{Deserialize, Deserializer, Serialize};

/// `CertificateDto`: the attestation, answered with `200`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct CertificateDto {
    /// Birth surname.
    #[serde(default, deserialize_with = "lenient_string")]
    pub nom: Option<String>,
    /// First name.
    #[serde(default, deserialize_with = "lenient_string")]
    pub prenom: Option<String>,
    /// `F` or `M`.
    #[serde(default, deserialize_with = "lenient_string")]
    pub sexe: Option<String>,
    /// Birth date; the gateway emits `yyyy-MM-dd` (CVEC-8).
    #[serde(default, deserialize_with = "lenient_string")]
    pub date_naissance: Option<String>,
    /// INE.
    #[serde(default, deserialize_with = "lenient_string")]
    pub ine: Option<String>,
    /// Name of the CROUS.
    #[serde(default, deserialize_with = "lenient_string")]
    pub crous: Option<String>,
    /// State of the attestation (CVEC-2).
    #[serde(default)]
    pub etat: Option<Etat>,
    /// Exemption (CVEC-9).
    #[serde(default)]
    pub exoneration: Option<Exoneration>,
}

/// `etat`: the attestation's state.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Etat {
    /// State code (`70`, `71`, `73`, `75`, `76`, `98` are valid).
    #[serde(default, deserialize_with = "lenient_string")]
    pub code: Option<String>,
    /// Its label.
    #[serde(default, deserialize_with = "lenient_string")]
    pub libelle: Option<String>,
}

/// `exoneration`: whether the attestation came from an exemption, and why.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Exoneration {
    /// The attestation came from an exemption.
    #[serde(default, deserialize_with = "lenient_bool")]
    pub active: bool,
    /// Why (boursier, réfugié …).
    #[serde(default, deserialize_with = "lenient_string")]
    pub motif: Option<String>,
}

/// `CertificateErrorDto`: the body of `400` (attestation not found) and `404` (code missing).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CertificateErrorDto {
    /// The HTTP status, as a string (`"400"`, `"404"` …) [chosen].
    #[serde(default, deserialize_with = "lenient_string_or_empty")]
    pub code: String,
    /// French message.
    #[serde(default, deserialize_with = "lenient_string_or_empty")]
    pub message: String,
}

/// The message of `400`, word for word (CVEC-1).
pub const NOT_FOUND_MESSAGE: &str = "L'attestation n'a pas été trouvée";
/// The message of `404`, word for word (CVEC-1).
pub const MISSING_CODE_MESSAGE: &str = "Le paramètre code est manquant";

impl CertificateDto {
    /// `etat.code`, trimmed, when present.
    pub fn etat_code(&self) -> Option<&str> {
        self.etat
            .as_ref()
            .and_then(|e| e.code.as_deref())
            .map(str::trim)
            .filter(|c| !c.is_empty())
    }

    /// CVEC-2: the attestation is in a valid state.
    pub fn is_valid_state(&self) -> bool {
        self.etat_code().is_some_and(super::is_valid_state)
    }
}

fn scalar_to_string(value: serde_json::Value) -> Option<String> {
    match value {
        serde_json::Value::Null => None,
        serde_json::Value::String(s) => Some(s),
        serde_json::Value::Number(n) => Some(n.to_string()),
        serde_json::Value::Bool(b) => Some(b.to_string()),
        other => Some(other.to_string()),
    }
}

fn lenient_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(scalar_to_string(serde_json::Value::deserialize(d)?))
}

fn lenient_string_or_empty<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(lenient_string(d)?.unwrap_or_default())
}

fn lenient_bool<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    Ok(match serde_json::Value::deserialize(d)? {
        serde_json::Value::Bool(b) => b,
        serde_json::Value::String(s) => matches!(
            s.trim().to_ascii_lowercase().as_str(),
            "true" | "1" | "o" | "oui" | "y" | "yes"
        ),
        serde_json::Value::Number(n) => n.as_i64().is_some_and(|n| n != 0),
        _ => false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_tolerantly_and_writes_every_field() -> Result<(), serde_json::Error> {
        let dto: CertificateDto = serde_json::from_str(
            r#"{"nom":"DUPONT","prenom":"Marie","sexe":"F","dateNaissance":"2005-03-14",
                "ine":"0123456789M","crous":"Versailles","nomUsage":"X",
                "etat":{"code":71,"libelle":"Valide boursier"},
                "exoneration":{"active":"true","motif":"boursier"}}"#,
        )?;
        assert_eq!(dto.etat_code(), Some("71"));
        assert!(dto.is_valid_state());
        assert_eq!(
            dto.exoneration,
            Some(Exoneration {
                active: true,
                motif: Some("boursier".into())
            })
        );
        let written = serde_json::to_value(CertificateDto {
            nom: Some("DUPONT".into()),
            ..CertificateDto::default()
        })?;
        assert_eq!(
            written,
            serde_json::json!({"nom": "DUPONT", "prenom": null, "sexe": null,
                "dateNaissance": null, "ine": null, "crous": null, "etat": null,
                "exoneration": null})
        );
        let empty: CertificateDto = serde_json::from_str("{}")?;
        assert!(!empty.is_valid_state());
        let err: CertificateErrorDto =
            serde_json::from_str(r#"{"code":400,"message":"L'attestation n'a pas été trouvée"}"#)?;
        assert_eq!(err.code, "400");
        assert_eq!(err.message, NOT_FOUND_MESSAGE);
        Ok(())
    }
}
