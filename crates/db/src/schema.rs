// Diesel table definitions for the tables the repositories use through the typed DSL. The
// referential tables are reached through `crate::repo::referential` (generic SQL driven by
// `apogee_domain::referential::TABLES`). Both backends share this file; `tests/schema.rs` checks
// it against the migrated databases.

diesel::table! {
    gateway_meta (meta_key) {
        meta_key -> Varchar,
        meta_value -> Varchar,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    api_client (id) {
        id -> BigInt,
        name -> Varchar,
        secret_sha256 -> Varchar,
        scopes -> Varchar,
        created_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    call_journal (id) {
        id -> BigInt,
        at -> Timestamp,
        request_id -> Varchar,
        client_name -> Nullable<Varchar>,
        channel -> Varchar,
        operation -> Varchar,
        key_kind -> Nullable<Varchar>,
        key_value -> Nullable<Varchar>,
        outcome -> Varchar,
        http_status -> Integer,
        fault_key -> Nullable<Varchar>,
        message -> Nullable<Varchar>,
        warnings -> Nullable<Varchar>,
        duration_ms -> Integer,
    }
}
