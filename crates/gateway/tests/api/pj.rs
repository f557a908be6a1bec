//! Tests (filled by their issue).
