//! The student's file as the read services (EtudiantMetier, AdministratifMetier) answer it: the
//! student found by one indexed key (`cod_etu` unique, `cod_ind` primary key, `ine` and
//! `match_key` indexes, the OPI by its unique upper-case number), then its enrolments and bans
//! by `cod_ind` (the leading column of their primary keys). No scan. The students a
//! `recupererListeEtudiants` selects: one range of the étape-enrolment index by year and étape.

use crate::conn::AnyConnection;
use crate::repo::students::{self, StudentRow};
use crate::schema::opi_individu as opi;
use crate::schema_lp::etudiant as et;
use crate::schema_student::etudiant_dossier as ds;
use apogee_domain::refread::student::{StudentFile, StudentKey};
use apogee_domain::refread::student_list::{ListQuery, ListedEnrolment};
use chrono::NaiveDate;
use diesel::prelude::*;

/// The student `key` names, with its enrolments and bans.
pub fn find(conn: &mut AnyConnection, key: &StudentKey) -> QueryResult<Option<StudentFile>> {
    let row = match key {
        StudentKey::CodEtu(n) => students::find_by_cod_etu(conn, *n)?,
        StudentKey::CodInd(n) => students::find(conn, *n)?,
        StudentKey::Ine(ine) => students::find_by_ine(conn, ine)?.into_iter().next(),
        StudentKey::Identity(k) => et::table
            .filter(et::match_key.eq(k))
            .order(et::cod_etu.asc())
            .select(StudentRow::as_select())
            .get_result(conn)
            .optional()?,
        // The student a primo enrolment made of the OPI, else the one its codEtuOpi names.
        StudentKey::CodOpi(code) => match et::table
            .filter(
                et::cod_ind.nullable().eq_any(
                    ds::table
                        .filter(
                            ds::cod_ind_opi.eq_any(
                                opi::table
                                    .filter(opi::cod_opi_int_epo_upper.eq(code))
                                    .select(opi::cod_ind_opi.nullable()),
                            ),
                        )
                        .select(ds::cod_ind.nullable()),
                ),
            )
            .select(StudentRow::as_select())
            .get_result(conn)
            .optional()?
        {
            Some(s) => Some(s),
            None => et::table
                .filter(
                    et::cod_etu.nullable().eq_any(
                        opi::table
                            .filter(opi::cod_opi_int_epo_upper.eq(code))
                            .select(opi::cod_etu_opi),
                    ),
                )
                .select(StudentRow::as_select())
                .get_result(conn)
                .optional()?,
        },
        StudentKey::Nobody => None,
    };
    let Some(row) = row else { return Ok(None) };
    let (iaa, iaa_records) = students::yearly(conn, row.cod_ind)?;
    let (iae, iae_records) = students::etapes(conn, row.cod_ind)?;
    Ok(Some(StudentFile {
        iaa,
        iaa_records,
        iae,
        iae_records,
        blocages: students::blocages(conn, row.cod_ind)?,
        dossier: crate::repo::dossier::find(conn, row.cod_ind)?,
        cod_ind: row.cod_ind,
        cod_etu: row.cod_etu,
        ine: row.ine,
        nom_pat: row.lib_nom_pat_ind,
        nom_usu: row.lib_nom_usu_ind,
        prenom1: row.lib_pr1_ind,
        date_nai: row.date_nai_ind,
        match_key: row.match_key,
    }))
}

/// (`cod_etu`, birth surname, first name, birth date, INE, étape, version).
type EnrolledRow = (i64, String, String, NaiveDate, Option<String>, String, i32);

/// `recupererListeEtudiants`: the étape enrolments in progress of year `query.annee` (in the
/// étapes `query.etapes`, or all), whose yearly enrolment that year is not cancelled nor
/// resigned, with their student, by `cod_etu` then étape and version; at most `limit` rows. One
/// range of the index `inscription_etape_vet` (`cod_anu`, `cod_etp`, …), the student by its
/// primary key, the yearly enrolment by its primary key (`cod_ind`, `cod_anu`).
pub fn enrolled(
    conn: &mut AnyConnection,
    query: &ListQuery,
    limit: usize,
) -> QueryResult<Vec<ListedEnrolment>> {
    use crate::schema_lp::{inscription_annuelle as ia, inscription_etape as ie};
    use diesel::dsl::{exists, not};
    let mut q = ie::table
        .inner_join(et::table)
        .filter(ie::cod_anu.eq(query.annee.clone()))
        .filter(ie::eta_iae.eq("E"))
        .filter(not(exists(
            ia::table
                .filter(ia::cod_ind.eq(ie::cod_ind))
                .filter(ia::cod_anu.eq(ie::cod_anu))
                .filter(ia::eta_iaa.ne("E")),
        )))
        .into_boxed();
    if let Some(etapes) = &query.etapes {
        q = q.filter(ie::cod_etp.eq_any(etapes.clone()));
    }
    let rows: Vec<EnrolledRow> = q
        .order((et::cod_etu.asc(), ie::cod_etp.asc(), ie::cod_vrs_vet.asc()))
        .select((
            et::cod_etu,
            et::lib_nom_pat_ind,
            et::lib_pr1_ind,
            et::date_nai_ind,
            et::ine,
            ie::cod_etp,
            ie::cod_vrs_vet,
        ))
        .limit(i64::try_from(limit).unwrap_or(i64::MAX))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(
            |(cod_etu, nom_pat, prenom1, date_nai, ine, cod_etp, cod_vrs_vet)| ListedEnrolment {
                cod_etu,
                nom_pat,
                prenom1,
                date_nai,
                ine,
                cod_etp,
                cod_vrs_vet,
            },
        )
        .collect())
}
