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

diesel::table! {
    opi_individu (cod_ind_opi) {
        cod_ind_opi -> BigInt,
        cod_opi_int_epo -> Varchar,
        cod_opi_int_epo_upper -> Varchar,
        cod_etu_opi -> Nullable<BigInt>,
        ine -> Nullable<Varchar>,
        ine_family -> Nullable<Varchar>,
        ine_check -> Nullable<Varchar>,
        lib_nom_pat_ind_opi -> Varchar,
        lib_nom_usu_ind_opi -> Nullable<Varchar>,
        lib_pr1_ind_opi -> Varchar,
        date_nai_ind_opi -> Date,
        match_key -> Varchar,
        donnees -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        created_by -> Nullable<Varchar>,
        last_trace_id -> Nullable<Varchar>,
    }
}

diesel::table! {
    opi_code_alias (alias_upper) {
        alias_upper -> Varchar,
        alias -> Varchar,
        cod_ind_opi -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    opi_voeu (cod_ind_opi, cod_cge, cod_etp, cod_vrs_vet) {
        cod_ind_opi -> BigInt,
        cod_cge -> Varchar,
        cod_etp -> Varchar,
        cod_vrs_vet -> Integer,
        num_cls -> Nullable<Integer>,
        cod_dem_dos -> Nullable<Varchar>,
        cod_dec_veu -> Nullable<Varchar>,
        cod_dip -> Nullable<Varchar>,
        cod_vrs_vdi -> Nullable<Integer>,
        cod_rge -> Nullable<Varchar>,
        cod_cat_oui_si -> Nullable<Varchar>,
        cod_cat_exo_ext -> Nullable<Varchar>,
        donnees -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        created_by -> Nullable<Varchar>,
        last_trace_id -> Nullable<Varchar>,
    }
}

diesel::joinable!(opi_voeu -> opi_individu (cod_ind_opi));
diesel::joinable!(opi_code_alias -> opi_individu (cod_ind_opi));
diesel::allow_tables_to_appear_in_same_query!(opi_individu, opi_voeu, opi_code_alias);

diesel::table! {
    /// Idempotency keys (migration `2026-12-02-000008_idempotency`).
    idempotency (client, idem_key) {
        client -> Varchar,
        idem_key -> Varchar,
        route -> Varchar,
        body_sha256 -> Varchar,
        status -> Varchar,
        owner -> Varchar,
        lease_until -> Timestamp,
        resource -> Nullable<Varchar>,
        response_status -> Nullable<Integer>,
        response_body -> Nullable<Text>,
        created_at -> Timestamp,
        finished_at -> Nullable<Timestamp>,
    }
}
