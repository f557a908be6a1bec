//! Diesel tables of the student register and the laissez-passer (migration
//! `2026-11-23-000003_students_lp`; Apogée names in `docs/DATA-MODEL.md`).

diesel::table! {
    /// `INDIVIDU`.
    etudiant (cod_ind) {
        cod_ind -> BigInt,
        cod_etu -> BigInt,
        ine -> Nullable<Varchar>,
        lib_nom_pat_ind -> Varchar,
        lib_nom_usu_ind -> Nullable<Varchar>,
        lib_pr1_ind -> Varchar,
        date_nai_ind -> Date,
        match_key -> Varchar,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        created_by -> Nullable<Varchar>,
        last_trace_id -> Nullable<Varchar>,
    }
}

diesel::table! {
    /// `INS_ADM_ANU`.
    inscription_annuelle (cod_ind, cod_anu) {
        cod_ind -> BigInt,
        cod_anu -> Varchar,
        eta_iaa -> Varchar,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        created_by -> Nullable<Varchar>,
        last_trace_id -> Nullable<Varchar>,
        cod_rgi -> Nullable<Varchar>,
        cod_stu -> Nullable<Varchar>,
        cod_cat_exo_ext -> Nullable<Varchar>,
        dat_cre_iaa -> Nullable<Date>,
    }
}

diesel::table! {
    /// `INS_ADM_ETP`.
    inscription_etape (cod_ind, cod_anu, cod_etp, cod_vrs_vet) {
        cod_ind -> BigInt,
        cod_anu -> Varchar,
        cod_etp -> Varchar,
        cod_vrs_vet -> Integer,
        eta_iae -> Varchar,
        eta_pmt_iae -> Nullable<Varchar>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        created_by -> Nullable<Varchar>,
        last_trace_id -> Nullable<Varchar>,
        cod_dip -> Nullable<Varchar>,
        cod_vrs_vdi -> Nullable<Integer>,
        cod_cge -> Nullable<Varchar>,
        dat_cre_iae -> Nullable<Date>,
    }
}

diesel::table! {
    /// `IND_SANCTIONNE_BLO` + `BLOCAGE`.
    blocage (cod_ind, cod_blo) {
        cod_ind -> BigInt,
        cod_blo -> Varchar,
        typ_blo -> Varchar,
        lib_blo -> Nullable<Varchar>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        created_by -> Nullable<Varchar>,
        last_trace_id -> Nullable<Varchar>,
    }
}

diesel::table! {
    /// `TELEM_LAISSER_PASSER` (REINS).
    lp_etudiant (cod_ind, cod_anu, cod_etp, cod_vrs_vet) {
        cod_ind -> BigInt,
        cod_anu -> Varchar,
        cod_etp -> Varchar,
        cod_vrs_vet -> Integer,
        cod_dip -> Nullable<Varchar>,
        cod_vrs_vdi -> Nullable<Integer>,
        cod_rgi -> Nullable<Varchar>,
        cod_stu -> Nullable<Varchar>,
        cod_cat_oui_si -> Nullable<Varchar>,
        mtf_cat -> Nullable<Varchar>,
        cod_cat_exo_ext -> Nullable<Varchar>,
        lib_cmt_lpa -> Nullable<Varchar>,
        dat_cre_lpa -> Timestamp,
        cod_uti_cre_lpa -> Nullable<Varchar>,
        dat_mod_lpa -> Nullable<Timestamp>,
        cod_uti_mod_lpa -> Nullable<Varchar>,
        last_trace_id -> Nullable<Varchar>,
    }
}

diesel::table! {
    /// `TELEM_LAISSER_PASSER_OPI` (IAPRIMO).
    lp_opi (cod_ind_opi, cod_anu, cod_etp, cod_vrs_vet) {
        cod_ind_opi -> BigInt,
        cod_anu -> Varchar,
        cod_etp -> Varchar,
        cod_vrs_vet -> Integer,
        cod_dip -> Nullable<Varchar>,
        cod_vrs_vdi -> Nullable<Integer>,
        cod_rgi -> Nullable<Varchar>,
        cod_stu -> Nullable<Varchar>,
        cod_cat_oui_si -> Nullable<Varchar>,
        mtf_cat -> Nullable<Varchar>,
        cod_cat_exo_ext -> Nullable<Varchar>,
        lib_cmt_lpa -> Nullable<Varchar>,
        dat_cre_lpa -> Timestamp,
        cod_uti_cre_lpa -> Nullable<Varchar>,
        dat_mod_lpa -> Nullable<Timestamp>,
        cod_uti_mod_lpa -> Nullable<Varchar>,
        last_trace_id -> Nullable<Varchar>,
    }
}

diesel::joinable!(inscription_annuelle -> etudiant (cod_ind));
diesel::joinable!(inscription_etape -> etudiant (cod_ind));
diesel::joinable!(blocage -> etudiant (cod_ind));
diesel::joinable!(lp_etudiant -> etudiant (cod_ind));
diesel::allow_tables_to_appear_in_same_query!(
    etudiant,
    inscription_annuelle,
    inscription_etape,
    blocage,
    lp_etudiant,
    lp_opi
);

diesel::table! {
    /// Laissez-passer batch files (LP-16 … LP-20; migration `2026-11-23-000007_lp_import`).
    lp_import (id) {
        id -> Varchar,
        idempotency_key -> Nullable<Varchar>,
        client -> Varchar,
        mode -> Varchar,
        format -> Varchar,
        dry_run -> Bool,
        status -> Varchar,
        total -> BigInt,
        created -> BigInt,
        updated -> BigInt,
        unchanged -> BigInt,
        rejected -> BigInt,
        file_errors -> Nullable<Text>,
        last_line -> BigInt,
        chunks -> BigInt,
        started_at -> Timestamp,
        finished_at -> Nullable<Timestamp>,
        heartbeat_at -> Timestamp,
        last_trace_id -> Nullable<Varchar>,
    }
}

diesel::table! {
    /// The report of a batch, one row per committed chunk (NDJSON report lines).
    lp_import_report (import_id, seq) {
        import_id -> Varchar,
        seq -> BigInt,
        first_line -> BigInt,
        last_line -> BigInt,
        lines -> Text,
    }
}

diesel::joinable!(lp_import_report -> lp_import (import_id));
diesel::allow_tables_to_appear_in_same_query!(lp_import, lp_import_report);

// The OPI that names a student (`recupererIdentifiantsEtudiant_v2` by `_codOPI`).
use crate::schema::opi_individu;
diesel::allow_tables_to_appear_in_same_query!(etudiant, opi_individu);
