//! Laissez-passer (filled by its issue).
