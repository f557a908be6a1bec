//! The student's file beyond identity (`etudiant_dossier`, `etudiant_bac`, `etudiant_adresse`):
//! read by `cod_ind` (the leading column of every primary key) and replaced as a whole. Runs
//! inside the caller's transaction.

use crate::Actor;
use crate::conn::AnyConnection;
use crate::schema_student::{etudiant_adresse as ad, etudiant_bac as bc, etudiant_dossier as ds};
use apogee_domain::student::{Adresse, AdresseAnnuelle, Bac, Dossier};
use diesel::prelude::*;

type DossierTuple = (
    (
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
    ),
    (
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
    ),
);

type AdresseTuple = (
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

type BacTuple = (
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

/// The file of `cod_ind` (`None`: no file stored, a student loaded without one).
pub fn find(conn: &mut AnyConnection, cod_ind: i64) -> QueryResult<Option<Dossier>> {
    let row: Option<DossierTuple> = ds::table
        .find(cod_ind)
        .select((
            (
                ds::cod_sex_etu,
                ds::lib_pr2_ind,
                ds::lib_pr3_ind,
                ds::cod_pay_nat,
                ds::cod_typ_dep_pay_nai,
                ds::cod_dep_pay_nai,
                ds::cod_com_nai,
                ds::lib_vil_nai_etu,
                ds::tem_date_nai_rel,
                ds::adr_mail,
                ds::num_tel_por,
            ),
            (
                ds::cod_fam,
                ds::cod_sim,
                ds::cod_thp,
                ds::daa_ens_sup,
                ds::daa_ent_etb,
                ds::daa_etb,
                ds::daa_etr_sup,
                ds::cod_etb_pre_univ,
                ds::tem_boursier,
                ds::cod_opi_int_epo,
            ),
        ))
        .get_result(conn)
        .optional()?;
    let Some((a, b)) = row else { return Ok(None) };
    let mut d = Dossier {
        cod_sex_etu: a.0,
        lib_pr2_ind: a.1,
        lib_pr3_ind: a.2,
        cod_pay_nat: a.3,
        cod_typ_dep_pay_nai: a.4,
        cod_dep_pay_nai: a.5,
        cod_com_nai: a.6,
        lib_vil_nai_etu: a.7,
        tem_date_nai_rel: a.8,
        adr_mail: a.9,
        num_tel_por: a.10,
        cod_fam: b.0,
        cod_sim: b.1,
        cod_thp: b.2,
        daa_ens_sup: b.3,
        daa_ent_etb: b.4,
        daa_etb: b.5,
        daa_etr_sup: b.6,
        cod_etb_pre_univ: b.7,
        tem_boursier: b.8,
        cod_opi_int_epo: b.9,
        ..Dossier::default()
    };
    let bacs: Vec<BacTuple> = bc::table
        .filter(bc::cod_ind.eq(cod_ind))
        .order(bc::cod_bac.asc())
        .select((
            bc::cod_bac,
            bc::daa_obt_bac,
            bc::cod_mnb,
            bc::cod_etb,
            bc::cod_dep,
            bc::cod_tpe,
            bc::cod_spe1_bac,
            bc::cod_spe2_bac,
            bc::cod_spe_bac_pre,
            bc::cod_opt1_bac,
            bc::cod_opt2_bac,
            bc::cod_opt3_bac,
            bc::cod_opt4_bac,
        ))
        .load(conn)?;
    d.bacs = bacs
        .into_iter()
        .map(|b| Bac {
            cod_bac: Some(b.0),
            daa_obt_bac: b.1,
            cod_mnb: b.2,
            cod_etb: b.3,
            cod_dep: b.4,
            cod_tpe: b.5,
            cod_spe1_bac: b.6,
            cod_spe2_bac: b.7,
            cod_spe_bac_pre: b.8,
            cod_opt1_bac: b.9,
            cod_opt2_bac: b.10,
            cod_opt3_bac: b.11,
            cod_opt4_bac: b.12,
        })
        .collect();
    let adresses: Vec<AdresseTuple> = ad::table
        .filter(ad::cod_ind.eq(cod_ind))
        .order((ad::typ_adr.desc(), ad::cod_anu.asc()))
        .select((
            ad::typ_adr,
            ad::cod_anu,
            ad::lib_ad1,
            ad::lib_ad2,
            ad::lib_ad3,
            ad::lib_ade,
            ad::cod_bdi,
            ad::cod_com,
            ad::cod_pay,
            ad::num_tel,
            ad::cod_thb,
        ))
        .load(conn)?;
    for a in adresses {
        let adresse = Adresse {
            lib_ad1: a.2,
            lib_ad2: a.3,
            lib_ad3: a.4,
            lib_ade: a.5,
            cod_bdi: a.6,
            cod_com: a.7,
            cod_pay: a.8,
            num_tel: a.9,
            cod_thb: a.10,
        };
        if a.0 == "F" {
            d.adresse_fixe = Some(adresse);
        } else {
            d.adresses_annuelles.push(AdresseAnnuelle {
                cod_anu: Some(a.1),
                adresse,
            });
        }
    }
    Ok(Some(d))
}

/// The student `cod_ind` of the OPI `cod_ind_opi` (a primo enrolment made it), if any.
pub fn student_of_opi(conn: &mut AnyConnection, cod_ind_opi: i64) -> QueryResult<Option<i64>> {
    ds::table
        .filter(ds::cod_ind_opi.eq(cod_ind_opi))
        .select(ds::cod_ind)
        .get_result(conn)
        .optional()
}

fn insert_adresse(
    conn: &mut AnyConnection,
    cod_ind: i64,
    (typ, anu): (&str, &str),
    a: &Adresse,
    actor: Actor<'_>,
) -> QueryResult<usize> {
    diesel::insert_into(ad::table)
        .values((
            ad::cod_ind.eq(cod_ind),
            ad::typ_adr.eq(typ),
            ad::cod_anu.eq(anu),
            ad::lib_ad1.eq(&a.lib_ad1),
            ad::lib_ad2.eq(&a.lib_ad2),
            ad::lib_ad3.eq(&a.lib_ad3),
            ad::lib_ade.eq(&a.lib_ade),
            ad::cod_bdi.eq(&a.cod_bdi),
            ad::cod_com.eq(&a.cod_com),
            ad::cod_pay.eq(&a.cod_pay),
            ad::num_tel.eq(&a.num_tel),
            ad::cod_thb.eq(&a.cod_thb),
            ad::created_at.eq(actor.now),
            ad::updated_at.eq(actor.now),
            ad::created_by.eq(actor.client),
            ad::last_trace_id.eq(actor.trace_id),
        ))
        .execute(conn)
}

/// Replaces the file of `cod_ind` by `d` (bacs and addresses included); `cod_ind_opi` links it
/// to the OPI it came from (kept when `None` and a link is stored). Returns whether anything
/// changed.
pub fn replace(
    conn: &mut AnyConnection,
    cod_ind: i64,
    d: &Dossier,
    cod_ind_opi: Option<i64>,
    actor: Actor<'_>,
) -> QueryResult<bool> {
    let old = find(conn, cod_ind)?;
    let mut sent = d.clone();
    if sent.cod_opi_int_epo.is_none() {
        sent.cod_opi_int_epo = old.as_ref().and_then(|o| o.cod_opi_int_epo.clone());
    }
    if old.as_ref() == Some(&sent) && cod_ind_opi.is_none() {
        return Ok(false);
    }
    // A first file (the common case of a load) has nothing to read back nor to delete.
    let (stored_opi, created_at) = if old.is_some() {
        let (opi, created) = ds::table
            .find(cod_ind)
            .select((ds::cod_ind_opi, ds::created_at))
            .get_result::<(Option<i64>, chrono::NaiveDateTime)>(conn)?;
        diesel::delete(ad::table.filter(ad::cod_ind.eq(cod_ind))).execute(conn)?;
        diesel::delete(bc::table.filter(bc::cod_ind.eq(cod_ind))).execute(conn)?;
        diesel::delete(ds::table.find(cod_ind)).execute(conn)?;
        (opi, created)
    } else {
        (None, actor.now)
    };
    let kept_opi = cod_ind_opi.or(stored_opi);
    diesel::insert_into(ds::table)
        .values((
            (
                ds::cod_ind.eq(cod_ind),
                ds::cod_sex_etu.eq(&sent.cod_sex_etu),
                ds::lib_pr2_ind.eq(&sent.lib_pr2_ind),
                ds::lib_pr3_ind.eq(&sent.lib_pr3_ind),
                ds::cod_pay_nat.eq(&sent.cod_pay_nat),
                ds::cod_typ_dep_pay_nai.eq(&sent.cod_typ_dep_pay_nai),
                ds::cod_dep_pay_nai.eq(&sent.cod_dep_pay_nai),
                ds::cod_com_nai.eq(&sent.cod_com_nai),
                ds::lib_vil_nai_etu.eq(&sent.lib_vil_nai_etu),
                ds::tem_date_nai_rel.eq(&sent.tem_date_nai_rel),
                ds::adr_mail.eq(&sent.adr_mail),
                ds::num_tel_por.eq(&sent.num_tel_por),
            ),
            (
                ds::cod_fam.eq(&sent.cod_fam),
                ds::cod_sim.eq(&sent.cod_sim),
                ds::cod_thp.eq(&sent.cod_thp),
                ds::daa_ens_sup.eq(&sent.daa_ens_sup),
                ds::daa_ent_etb.eq(&sent.daa_ent_etb),
                ds::daa_etb.eq(&sent.daa_etb),
                ds::daa_etr_sup.eq(&sent.daa_etr_sup),
                ds::cod_etb_pre_univ.eq(&sent.cod_etb_pre_univ),
                ds::tem_boursier.eq(&sent.tem_boursier),
                ds::cod_ind_opi.eq(kept_opi),
                ds::cod_opi_int_epo.eq(&sent.cod_opi_int_epo),
            ),
            (
                ds::created_at.eq(created_at),
                ds::updated_at.eq(actor.now),
                ds::created_by.eq(actor.client),
                ds::last_trace_id.eq(actor.trace_id),
            ),
        ))
        .execute(conn)?;
    for b in &sent.bacs {
        let Some(cod_bac) = &b.cod_bac else { continue };
        diesel::insert_into(bc::table)
            .values((
                (
                    bc::cod_ind.eq(cod_ind),
                    bc::cod_bac.eq(cod_bac),
                    bc::daa_obt_bac.eq(&b.daa_obt_bac),
                    bc::cod_mnb.eq(&b.cod_mnb),
                    bc::cod_etb.eq(&b.cod_etb),
                    bc::cod_dep.eq(&b.cod_dep),
                    bc::cod_tpe.eq(&b.cod_tpe),
                    bc::cod_spe1_bac.eq(&b.cod_spe1_bac),
                    bc::cod_spe2_bac.eq(&b.cod_spe2_bac),
                ),
                (
                    bc::cod_spe_bac_pre.eq(&b.cod_spe_bac_pre),
                    bc::cod_opt1_bac.eq(&b.cod_opt1_bac),
                    bc::cod_opt2_bac.eq(&b.cod_opt2_bac),
                    bc::cod_opt3_bac.eq(&b.cod_opt3_bac),
                    bc::cod_opt4_bac.eq(&b.cod_opt4_bac),
                    bc::created_at.eq(actor.now),
                    bc::updated_at.eq(actor.now),
                    bc::created_by.eq(actor.client),
                    bc::last_trace_id.eq(actor.trace_id),
                ),
            ))
            .execute(conn)?;
    }
    if let Some(a) = &sent.adresse_fixe {
        insert_adresse(conn, cod_ind, ("F", ""), a, actor)?;
    }
    for a in &sent.adresses_annuelles {
        if let Some(anu) = &a.cod_anu {
            insert_adresse(conn, cod_ind, ("A", anu), &a.adresse, actor)?;
        }
    }
    Ok(true)
}
