//! Diesel tables of the attachments (migration `2026-11-23-000006_pj`; Apogée names in
//! `docs/DATA-MODEL.md`).

diesel::table! {
    /// `OPI_PJ`.
    opi_pj (cod_ind_opi, cod_tpj) {
        cod_ind_opi -> BigInt,
        cod_tpj -> Varchar,
        cod_opi_int_epo -> Varchar,
        nom_fic -> Varchar,
        cod_etu -> Nullable<BigInt>,
        storage_key -> Varchar,
        size_bytes -> BigInt,
        media_type -> Varchar,
        sha256 -> Varchar,
        received_at -> Timestamp,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        created_by -> Nullable<Varchar>,
        last_trace_id -> Nullable<Varchar>,
    }
}

diesel::table! {
    /// `TELEM_IAA_TPJ`.
    telem_iaa_tpj (cod_etu, cod_tpj, cod_anu) {
        cod_anu -> Varchar,
        cod_etu -> BigInt,
        cod_tpj -> Varchar,
        lib_tpj -> Nullable<Varchar>,
        nom_fic -> Nullable<Varchar>,
        tem_dem_pj -> Varchar,
        stu_pj -> Nullable<Varchar>,
        mtf_refus -> Nullable<Varchar>,
        cmt_mtf_refus -> Nullable<Varchar>,
        dat_dem_pj -> Nullable<Timestamp>,
        dat_rec_pj -> Nullable<Timestamp>,
        dat_refus -> Nullable<Timestamp>,
        dat_val -> Nullable<Timestamp>,
        dat_exp -> Nullable<Timestamp>,
        daa_pre_tra -> Nullable<Varchar>,
        storage_key -> Nullable<Varchar>,
        size_bytes -> Nullable<BigInt>,
        media_type -> Nullable<Varchar>,
        sha256 -> Nullable<Varchar>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        created_by -> Nullable<Varchar>,
        last_trace_id -> Nullable<Varchar>,
    }
}
