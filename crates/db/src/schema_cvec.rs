// Diesel tables of the CVEC register and checks (migration 2026-11-23-000004_cvec). Shared by
// both backends; `tests/cvec.rs` queries them on both engines.

diesel::table! {
    cvec_attestation (cod_anu, num_attestation) {
        cod_anu -> Varchar,
        num_attestation -> Varchar,
        nom -> Varchar,
        nom_usage -> Nullable<Varchar>,
        prenom -> Varchar,
        sexe -> Nullable<Varchar>,
        date_naissance -> Date,
        ine -> Nullable<Varchar>,
        crous -> Nullable<Varchar>,
        etat_code -> Varchar,
        etat_libelle -> Nullable<Varchar>,
        exoneration_active -> Bool,
        exoneration_motif -> Nullable<Varchar>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        created_by -> Nullable<Varchar>,
        last_trace_id -> Nullable<Varchar>,
    }
}

diesel::table! {
    cvec_check (id) {
        id -> BigInt,
        cod_ind -> Nullable<BigInt>,
        cod_ind_opi -> Nullable<BigInt>,
        cod_anu -> Varchar,
        num_attestation -> Nullable<Varchar>,
        lettres_nom -> Nullable<Varchar>,
        ine -> Nullable<Varchar>,
        identity_key -> Nullable<Varchar>,
        source -> Nullable<Varchar>,
        http_status -> Nullable<Integer>,
        etat_code -> Nullable<Varchar>,
        exoneration_active -> Nullable<Bool>,
        exoneration_motif -> Nullable<Varchar>,
        cod_cat_exo_ext -> Nullable<Varchar>,
        boursier -> Nullable<Bool>,
        result -> Varchar,
        reason -> Nullable<Varchar>,
        reasons -> Nullable<Varchar>,
        warnings -> Nullable<Varchar>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        created_by -> Nullable<Varchar>,
        last_trace_id -> Nullable<Varchar>,
    }
}
