//! OPI intake, shared by SOAP (`mettreajourDonneesOpi_v10`/`_v9`) and REST
//! (`PUT /api/v1/opi/{code}`): domain validation, then the upsert in one transaction.

use crate::state::AppState;
use apogee_db::repo::opi::{self, Actor, Applied, ApplyOptions};
use apogee_domain::opi::dto::DonneesOpi;
use apogee_domain::opi::{Context, Warning, validate};
use apogee_domain::{Error, FaultKey};
use serde::Serialize;

/// The REST answer of an OPI push (OPI-20).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PushResponse {
    /// Trace id of the call.
    pub trace_id: String,
    /// `COD_IND_OPI`.
    pub cod_ind_opi: i64,
    /// Whether a new OPI was created.
    pub created: bool,
    /// Effective code (keep this one: it differs from the code sent after a merge).
    pub cod_opi_int_epo: String,
    /// The code sent.
    pub cod_opi_int_epo_envoye: String,
    /// `codOpiIntEpo`, `codEtuOpi`, `ine` or `created`.
    pub matched_by: &'static str,
    /// The effective code differs from the code sent.
    pub code_modifie: bool,
    /// INE as stored (`check`: `ok`, `unverified` or `absent`).
    #[schema(value_type = Object)]
    pub ine: serde_json::Value,
    /// What happened to the vœux: `accepted` (with `status`), `rejected`, `kept`, `deleted`.
    #[schema(value_type = Object)]
    pub voeux: opi::VoeuxOutcome,
    /// Warnings.
    pub warnings: Vec<Warning>,
}

/// Validates and stores one OPI. `partial`: keep the valid vœux when others are rejected.
pub async fn push(
    state: &AppState,
    donnees: DonneesOpi,
    partial: bool,
    client: &str,
) -> Result<(Applied, Option<serde_json::Value>), Error> {
    let referential = state.referential();
    let settings = state.settings.opi.clone();
    let intake = validate(
        &donnees,
        &Context {
            referential: &referential,
            today: chrono::Utc::now().date_naive(),
            ine_required_is_error: settings.ine_required_is_error,
        },
    )?;
    let ine = intake
        .ine
        .as_ref()
        .map(|i| serde_json::json!({"value": i.value, "family": i.family, "check": i.check}));
    let trace_id = crate::error::current_request_id().unwrap_or_default();
    let client = client.to_owned();
    let options = ApplyOptions {
        partial,
        match_cod_etu: settings.match_cod_etu,
        match_ine: settings.match_ine,
    };
    let applied = state
        .db
        .write(move |c| {
            opi::apply(
                c,
                &intake,
                options,
                Actor {
                    client: Some(&client),
                    trace_id: &trace_id,
                    now: chrono::Utc::now().naive_utc(),
                },
            )
        })
        .await
        .map_err(Error::from)?;
    Ok((applied, ine))
}

/// Every warning code of an upsert (individual and vœux), for the journal.
pub fn warning_codes(applied: &Applied) -> Vec<String> {
    let mut codes: Vec<String> = applied.warnings.iter().map(|w| w.code.clone()).collect();
    for v in &applied.voeux.accepted {
        codes.extend(v.warnings.iter().map(|w| w.code.clone()));
    }
    if !applied.voeux.rejected.is_empty() {
        codes.push(format!("VOEUX_REJETES:{}", applied.voeux.rejected.len()));
    }
    codes.sort();
    codes.dedup();
    codes
}

/// The REST body of an upsert.
pub fn response(applied: Applied, ine: Option<serde_json::Value>) -> PushResponse {
    PushResponse {
        trace_id: crate::error::current_request_id().unwrap_or_default(),
        cod_ind_opi: applied.cod_ind_opi,
        created: applied.created,
        code_modifie: applied.effective_code != applied.code_sent,
        cod_opi_int_epo: applied.effective_code,
        cod_opi_int_epo_envoye: applied.code_sent,
        matched_by: applied.matched_by,
        ine: ine.unwrap_or_else(|| serde_json::json!({"check": "absent"})),
        voeux: applied.voeux,
        warnings: applied.warnings,
    }
}

/// The `_donneesOpi` element is absent or nil.
pub fn missing_payload() -> Error {
    Error::invalid_field(
        FaultKey::mandatory("_donneesOpi"),
        "CHAMP_OBLIGATOIRE",
        "_donneesOpi",
        "_donneesOpi est obligatoire",
    )
}
