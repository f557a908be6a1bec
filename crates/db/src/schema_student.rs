//! Diesel tables of the student's file (migration `2026-12-02-000014_student_file`; Apogée
//! names in `docs/DATA-MODEL.md`).

diesel::table! {
    /// `INDIVIDU`'s civil status, birth, contacts, first enrolments and OPI link.
    etudiant_dossier (cod_ind) {
        cod_ind -> BigInt,
        cod_sex_etu -> Nullable<Varchar>,
        lib_pr2_ind -> Nullable<Varchar>,
        lib_pr3_ind -> Nullable<Varchar>,
        cod_pay_nat -> Nullable<Varchar>,
        cod_typ_dep_pay_nai -> Nullable<Varchar>,
        cod_dep_pay_nai -> Nullable<Varchar>,
        cod_com_nai -> Nullable<Varchar>,
        lib_vil_nai_etu -> Nullable<Varchar>,
        tem_date_nai_rel -> Nullable<Varchar>,
        adr_mail -> Nullable<Varchar>,
        num_tel_por -> Nullable<Varchar>,
        cod_fam -> Nullable<Varchar>,
        cod_sim -> Nullable<Varchar>,
        cod_thp -> Nullable<Varchar>,
        daa_ens_sup -> Nullable<Varchar>,
        daa_ent_etb -> Nullable<Varchar>,
        daa_etb -> Nullable<Varchar>,
        daa_etr_sup -> Nullable<Varchar>,
        cod_etb_pre_univ -> Nullable<Varchar>,
        tem_boursier -> Nullable<Varchar>,
        cod_ind_opi -> Nullable<BigInt>,
        cod_opi_int_epo -> Nullable<Varchar>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        created_by -> Nullable<Varchar>,
        last_trace_id -> Nullable<Varchar>,
    }
}

diesel::table! {
    /// `IND_BAC`.
    etudiant_bac (cod_ind, cod_bac) {
        cod_ind -> BigInt,
        cod_bac -> Varchar,
        daa_obt_bac -> Nullable<Varchar>,
        cod_mnb -> Nullable<Varchar>,
        cod_etb -> Nullable<Varchar>,
        cod_dep -> Nullable<Varchar>,
        cod_tpe -> Nullable<Varchar>,
        cod_spe1_bac -> Nullable<Varchar>,
        cod_spe2_bac -> Nullable<Varchar>,
        cod_spe_bac_pre -> Nullable<Varchar>,
        cod_opt1_bac -> Nullable<Varchar>,
        cod_opt2_bac -> Nullable<Varchar>,
        cod_opt3_bac -> Nullable<Varchar>,
        cod_opt4_bac -> Nullable<Varchar>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        created_by -> Nullable<Varchar>,
        last_trace_id -> Nullable<Varchar>,
    }
}

diesel::table! {
    /// `ADRESSE`: the fixed address (`typ_adr` `F`, `cod_anu` empty) and the annual ones (`A`).
    etudiant_adresse (cod_ind, typ_adr, cod_anu) {
        cod_ind -> BigInt,
        typ_adr -> Varchar,
        cod_anu -> Varchar,
        lib_ad1 -> Nullable<Varchar>,
        lib_ad2 -> Nullable<Varchar>,
        lib_ad3 -> Nullable<Varchar>,
        lib_ade -> Nullable<Varchar>,
        cod_bdi -> Nullable<Varchar>,
        cod_com -> Nullable<Varchar>,
        cod_pay -> Nullable<Varchar>,
        num_tel -> Nullable<Varchar>,
        cod_thb -> Nullable<Varchar>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        created_by -> Nullable<Varchar>,
        last_trace_id -> Nullable<Varchar>,
    }
}

diesel::table! {
    /// The codEtu counter per configured range.
    cod_etu_allocation (plage) {
        plage -> Varchar,
        next_cod_etu -> BigInt,
        last_cod_etu -> BigInt,
        updated_at -> Timestamp,
    }
}

use crate::schema::opi_individu;
use crate::schema_lp::{etudiant, inscription_annuelle, inscription_etape};
diesel::joinable!(etudiant_dossier -> etudiant (cod_ind));
diesel::joinable!(etudiant_bac -> etudiant (cod_ind));
diesel::joinable!(etudiant_adresse -> etudiant (cod_ind));
diesel::allow_tables_to_appear_in_same_query!(etudiant_dossier, etudiant_bac, etudiant_adresse);
diesel::allow_tables_to_appear_in_same_query!(etudiant_dossier, etudiant);
diesel::allow_tables_to_appear_in_same_query!(etudiant_dossier, opi_individu);
diesel::allow_tables_to_appear_in_same_query!(etudiant_dossier, inscription_annuelle);
diesel::allow_tables_to_appear_in_same_query!(etudiant_dossier, inscription_etape);
diesel::allow_tables_to_appear_in_same_query!(etudiant_bac, etudiant);
diesel::allow_tables_to_appear_in_same_query!(etudiant_bac, opi_individu);
diesel::allow_tables_to_appear_in_same_query!(etudiant_bac, inscription_annuelle);
diesel::allow_tables_to_appear_in_same_query!(etudiant_bac, inscription_etape);
diesel::allow_tables_to_appear_in_same_query!(etudiant_adresse, etudiant);
diesel::allow_tables_to_appear_in_same_query!(etudiant_adresse, opi_individu);
diesel::allow_tables_to_appear_in_same_query!(etudiant_adresse, inscription_annuelle);
diesel::allow_tables_to_appear_in_same_query!(etudiant_adresse, inscription_etape);
