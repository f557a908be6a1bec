//! Diesel tables (filled by their issue).
