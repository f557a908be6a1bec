//! Administrative enrolment storage (issue 12): the codEtu counter, the CVEC state of a person
//! for a year, the writes of an enrolment (`INS_ADM_ANU`, `INS_ADM_ETP`) and their
//! cancellation. Runs inside the caller's transaction; the use case decides.

use crate::Actor;
use crate::conn::AnyConnection;
use crate::error::WriteError;
use crate::schema_cvec::cvec_check as cc;
use crate::schema_lp::etudiant as et;
use crate::schema_lp::{inscription_annuelle as ia, inscription_etape as ie};
use crate::schema_student::cod_etu_allocation as al;
use apogee_domain::Error;
use diesel::prelude::*;

/// Serialises the enrolments of one person on PostgreSQL (SQLite writes are serial already).
pub fn lock(conn: &mut AnyConnection, key: &str) -> QueryResult<()> {
    crate::repo::students::lock(conn, &format!("inscription|{key}"))
}

/// The next free student number of the range `first..=last`: the range's counter moves past
/// it (never handed out twice, even after a cancellation), numbers already taken (a student
/// loaded with an explicit codEtu) are skipped. The counter row is locked by the `UPDATE`, so
/// several processes allocate in turn.
pub fn allocate_cod_etu(
    conn: &mut AnyConnection,
    (first, last): (i64, i64),
    now: chrono::NaiveDateTime,
) -> Result<i64, WriteError> {
    let plage = format!("{first}-{last}");
    // The advisory lock makes the first allocation of a range (the counter row's insert) safe
    // with several processes; the row lock of the `UPDATE` below orders the others.
    lock(conn, &format!("cod_etu|{plage}"))?;
    let exists: i64 = al::table.find(&plage).count().get_result(conn)?;
    if exists == 0 {
        let seed: i64 = et::table
            .filter(et::cod_etu.between(first, last))
            .select(diesel::dsl::max(et::cod_etu))
            .get_result::<Option<i64>>(conn)?
            .map_or(first, |m| m + 1);
        diesel::insert_into(al::table)
            .values((
                al::plage.eq(&plage),
                al::next_cod_etu.eq(seed),
                al::last_cod_etu.eq(last),
                al::updated_at.eq(now),
            ))
            .execute(conn)?;
    }
    loop {
        diesel::update(al::table.find(&plage))
            .set((
                al::next_cod_etu.eq(al::next_cod_etu + 1),
                al::updated_at.eq(now),
            ))
            .execute(conn)?;
        let n: i64 = al::table
            .find(&plage)
            .select(al::next_cod_etu)
            .get_result::<i64>(conn)?
            - 1;
        if n > last {
            return Err(Error::conflict(
                apogee_domain::FaultKey::business_rule("inscription.PLAGE_COD_ETU_EPUISEE"),
                format!("La plage de numéros d'étudiant {first}–{last} est épuisée : élargir enrolment.cod_etu_last"),
            )
            .into());
        }
        let taken: i64 = et::table
            .filter(et::cod_etu.eq(n))
            .count()
            .get_result(conn)?;
        if taken == 0 {
            return Ok(n);
        }
    }
}

/// Who a CVEC check may name.
#[derive(Debug, Clone, Copy, Default)]
pub struct CvecPerson<'a> {
    /// `COD_IND_OPI`.
    pub cod_ind_opi: Option<i64>,
    /// `COD_IND`.
    pub cod_ind: Option<i64>,
    /// Normalised INE.
    pub ine: Option<&'a str>,
}

/// The CVEC checks of a person for a year: whether one is `VALIDE` (CVEC-13: the reference),
/// and the result of the last one.
pub fn cvec_state(
    conn: &mut AnyConnection,
    cod_anu: &str,
    p: CvecPerson<'_>,
) -> QueryResult<(bool, Option<String>)> {
    let mut q = cc::table.filter(cc::cod_anu.eq(cod_anu)).into_boxed();
    q = q.filter(
        cc::cod_ind_opi
            .eq(p.cod_ind_opi.unwrap_or(-1))
            .or(cc::cod_ind.eq(p.cod_ind.unwrap_or(-1)))
            .or(cc::ine.eq(p.ine.unwrap_or("\u{1}"))),
    );
    let rows: Vec<String> = q.order(cc::id.desc()).select(cc::result).load(conn)?;
    let valid = rows.iter().any(|r| r == "VALIDE");
    Ok((valid, rows.into_iter().next()))
}

/// The enrolment to write.
#[derive(Debug, Clone)]
pub struct NewEnrolment<'a> {
    /// `COD_IND`.
    pub cod_ind: i64,
    /// Year.
    pub cod_anu: &'a str,
    /// Étape.
    pub cod_etp: &'a str,
    /// Version d'étape.
    pub cod_vrs_vet: i32,
    /// Régime.
    pub cod_rgi: Option<&'a str>,
    /// Statut.
    pub cod_stu: Option<&'a str>,
    /// Fee category.
    pub cod_cat_exo_ext: Option<&'a str>,
    /// Diplôme and version.
    pub vdi: (Option<&'a str>, Option<i32>),
    /// Centre de gestion.
    pub cod_cge: Option<&'a str>,
    /// `P` or `A`.
    pub eta_pmt_iae: &'a str,
}

/// Whether the étape enrolment exists and is not cancelled.
pub fn enrolled(
    conn: &mut AnyConnection,
    cod_ind: i64,
    (anu, etp, vet): (&str, &str, i32),
) -> QueryResult<bool> {
    let n: i64 = ie::table
        .filter(ie::cod_ind.eq(cod_ind))
        .filter(ie::cod_anu.eq(anu))
        .filter(ie::cod_etp.eq(etp))
        .filter(ie::cod_vrs_vet.eq(vet))
        .filter(ie::eta_iae.ne("A"))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

/// The day of an enrolment (`DAT_CRE_IAA`, `DAT_CRE_IAE`): the server's local day (`TZ`; a
/// French university runs it with `TZ=Europe/Paris`).
fn today() -> chrono::NaiveDate {
    chrono::Local::now().date_naive()
}

/// Writes the yearly enrolment (created `E` when absent) and the étape enrolment (`E`; a
/// cancelled one of the same VET is reinstated).
pub fn write(conn: &mut AnyConnection, e: &NewEnrolment<'_>, actor: Actor<'_>) -> QueryResult<()> {
    let has_iaa: i64 = ia::table
        .filter(ia::cod_ind.eq(e.cod_ind))
        .filter(ia::cod_anu.eq(e.cod_anu))
        .count()
        .get_result(conn)?;
    if has_iaa == 0 {
        diesel::insert_into(ia::table)
            .values((
                ia::cod_ind.eq(e.cod_ind),
                ia::cod_anu.eq(e.cod_anu),
                ia::eta_iaa.eq("E"),
                ia::cod_rgi.eq(e.cod_rgi),
                ia::cod_stu.eq(e.cod_stu),
                ia::cod_cat_exo_ext.eq(e.cod_cat_exo_ext),
                ia::dat_cre_iaa.eq(Some(today())),
                ia::created_at.eq(actor.now),
                ia::updated_at.eq(actor.now),
                ia::created_by.eq(actor.client),
                ia::last_trace_id.eq(actor.trace_id),
            ))
            .execute(conn)?;
    }
    let key = ie::table
        .filter(ie::cod_ind.eq(e.cod_ind))
        .filter(ie::cod_anu.eq(e.cod_anu))
        .filter(ie::cod_etp.eq(e.cod_etp))
        .filter(ie::cod_vrs_vet.eq(e.cod_vrs_vet));
    diesel::delete(key).execute(conn)?;
    diesel::insert_into(ie::table)
        .values((
            ie::cod_ind.eq(e.cod_ind),
            ie::cod_anu.eq(e.cod_anu),
            ie::cod_etp.eq(e.cod_etp),
            ie::cod_vrs_vet.eq(e.cod_vrs_vet),
            ie::eta_iae.eq("E"),
            ie::eta_pmt_iae.eq(e.eta_pmt_iae),
            ie::cod_dip.eq(e.vdi.0),
            ie::cod_vrs_vdi.eq(e.vdi.1),
            ie::cod_cge.eq(e.cod_cge),
            ie::dat_cre_iae.eq(Some(today())),
            ie::created_at.eq(actor.now),
            ie::updated_at.eq(actor.now),
            ie::created_by.eq(actor.client),
            ie::last_trace_id.eq(actor.trace_id),
        ))
        .execute(conn)?;
    Ok(())
}

/// What a cancellation did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cancelled {
    /// Étape enrolments cancelled.
    pub etapes: usize,
    /// The yearly enrolment was cancelled too (no étape enrolment left).
    pub annuelle: bool,
}

/// Cancels the étape enrolment `vet` of the year (every one when `None`), and the yearly
/// enrolment when no étape enrolment of the year is left (`ETA_IAE`/`ETA_IAA` = `A`; rows are
/// kept, as Apogée keeps them).
pub fn cancel(
    conn: &mut AnyConnection,
    cod_ind: i64,
    cod_anu: &str,
    vet: Option<(&str, i32)>,
    actor: Actor<'_>,
) -> QueryResult<Cancelled> {
    let mut q = diesel::update(ie::table)
        .filter(ie::cod_ind.eq(cod_ind))
        .filter(ie::cod_anu.eq(cod_anu))
        .filter(ie::eta_iae.ne("A"))
        .into_boxed();
    if let Some((etp, v)) = vet {
        q = q.filter(ie::cod_etp.eq(etp)).filter(ie::cod_vrs_vet.eq(v));
    }
    let etapes = q
        .set((
            ie::eta_iae.eq("A"),
            ie::updated_at.eq(actor.now),
            ie::last_trace_id.eq(actor.trace_id),
        ))
        .execute(conn)?;
    let left: i64 = ie::table
        .filter(ie::cod_ind.eq(cod_ind))
        .filter(ie::cod_anu.eq(cod_anu))
        .filter(ie::eta_iae.ne("A"))
        .count()
        .get_result(conn)?;
    let annuelle = etapes > 0
        && left == 0
        && diesel::update(ia::table.find((cod_ind, cod_anu)))
            .filter(ia::eta_iaa.ne("A"))
            .set((
                ia::eta_iaa.eq("A"),
                ia::updated_at.eq(actor.now),
                ia::last_trace_id.eq(actor.trace_id),
            ))
            .execute(conn)?
            > 0;
    Ok(Cancelled { etapes, annuelle })
}
