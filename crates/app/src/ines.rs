//! The INES verifier (INE-8): an INES key cannot be checked offline, so a value is valid when
//! the establishment's allow-list (`pj.ines_allow_list`) holds it. Without a list there is no
//! verifier.

use crate::App;
use apogee_domain::ine;

/// What the verifier says of a normalised INES value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Known.
    Valid,
    /// Not in the list.
    Invalid,
    /// No verifier configured.
    Unavailable,
}

/// Verifies a normalised INES value.
pub fn verify(app: &App, normalized: &str) -> Verdict {
    let list = &app.settings.pj.ines_allow_list;
    if list.is_empty() {
        Verdict::Unavailable
    } else if list.iter().any(|v| ine::normalize(v) == normalized) {
        Verdict::Valid
    } else {
        Verdict::Invalid
    }
}
