//! CVEC checks (filled by its issue).

use serde::{Deserialize, Serialize};

/// CVEC settings.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CvecSettings {}
