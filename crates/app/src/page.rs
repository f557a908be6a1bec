//! Pagination of list answers.

use serde::Serialize;

/// A page of a list: at most `limit` rows after skipping `offset`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    /// Rows per page (1–1000).
    pub limit: i64,
    /// Rows skipped.
    pub offset: i64,
}

impl Page {
    /// The page asked for, clamped: `limit` 1–1000 (default 100), `offset` ≥ 0.
    pub fn new(limit: Option<i64>, offset: Option<i64>) -> Self {
        Page {
            limit: limit.unwrap_or(100).clamp(1, 1000),
            offset: offset.unwrap_or(0).max(0),
        }
    }

    /// The `meta` of an answer listing this page of `total` rows.
    pub fn meta(self, total: i64) -> ListMeta {
        ListMeta {
            total,
            limit: self.limit,
            offset: self.offset,
        }
    }
}

impl Default for Page {
    fn default() -> Self {
        Page::new(None, None)
    }
}

/// `meta` of list answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ListMeta {
    /// Matching rows in all pages.
    pub total: i64,
    /// Page size.
    pub limit: i64,
    /// Rows skipped.
    pub offset: i64,
}
