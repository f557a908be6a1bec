//! Attachments (filled by its issue).

use serde::{Deserialize, Serialize};

/// PJ settings.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PjSettings {}
