//! The student's file as the read services (EtudiantMetier, AdministratifMetier) answer it: the
//! student found by one indexed key (`cod_etu` unique, `cod_ind` primary key, `ine` and
//! `match_key` indexes, the OPI by its unique upper-case number), then its enrolments and bans
//! by `cod_ind` (the leading column of their primary keys). No scan.

use crate::conn::AnyConnection;
use crate::repo::students::{self, StudentRow};
use crate::schema::opi_individu as opi;
use crate::schema_lp::etudiant as et;
use crate::schema_student::etudiant_dossier as ds;
use apogee_domain::refread::student::{StudentFile, StudentKey};
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
            .first(conn)
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
            .first(conn)
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
                .first(conn)
                .optional()?,
        },
        StudentKey::Nobody => None,
    };
    let Some(row) = row else { return Ok(None) };
    Ok(Some(StudentFile {
        iaa: students::inscriptions_annuelles(conn, row.cod_ind)?,
        iae: students::inscriptions_etapes(conn, row.cod_ind)?,
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
