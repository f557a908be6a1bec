//! Repository (filled by its issue).
