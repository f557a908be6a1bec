//! Laissez-passer storage (`TELEM_LAISSER_PASSER` → `lp_etudiant`, `TELEM_LAISSER_PASSER_OPI` →
//! `lp_opi`): the LP-8 upsert of a validated LP (created / updated / unchanged, never a
//! duplicate; V1 keeps the V2-only attributes, LP-2), reads, filtered lists, deletion, and the
//! facts the admissions view evaluates (LP-12 … LP-15). Runs inside the caller's transaction.

use crate::conn::AnyConnection;
use crate::error::WriteError;
use crate::repo::opi::{self as opi_repo, OpiRow};
use crate::repo::referential::Actor;
use crate::repo::students::{self, StudentRow};
use crate::schema::{opi_individu as oi, opi_voeu as ov};
use crate::schema_lp::{etudiant as et, lp_etudiant as le, lp_opi as lo};
use apogee_domain::formats::rfc3339;
use apogee_domain::lp::access::{Candidate, Person, VoeuFacts, insertion_warnings};
use apogee_domain::lp::{LpAttributes, LpIntake, LpVersion, TypLpa, unknown_person};
use apogee_domain::opi::Warning;
use apogee_domain::opi::dto::{DonneesOpi, Voeu};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// Runs `$body` with `$t` bound to the LP table of `$typ` and `$p` to its person column.
macro_rules! by_table {
    ($typ:expr, |$t:ident, $p:ident| $body:expr) => {
        match $typ {
            TypLpa::Iaprimo => {
                use crate::schema_lp::lp_opi as $t;
                #[allow(unused_imports)]
                use crate::schema_lp::lp_opi::cod_ind_opi as $p;
                $body
            }
            TypLpa::Reins => {
                use crate::schema_lp::lp_etudiant as $t;
                #[allow(unused_imports)]
                use crate::schema_lp::lp_etudiant::cod_ind as $p;
                $body
            }
        }
    };
}

/// The stored columns of an LP row, in table order.
macro_rules! columns {
    ($t:ident, $p:ident) => {
        (
            $p,
            $t::cod_anu,
            $t::cod_etp,
            $t::cod_vrs_vet,
            $t::cod_dip,
            $t::cod_vrs_vdi,
            $t::cod_rgi,
            $t::cod_stu,
            $t::cod_cat_oui_si,
            $t::mtf_cat,
            $t::cod_cat_exo_ext,
            $t::lib_cmt_lpa,
            $t::dat_cre_lpa,
            $t::cod_uti_cre_lpa,
            $t::dat_mod_lpa,
            $t::cod_uti_mod_lpa,
            $t::last_trace_id,
        )
    };
}

type Tuple = (
    i64,
    String,
    String,
    i32,
    Option<String>,
    Option<i32>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    NaiveDateTime,
    Option<String>,
    Option<NaiveDateTime>,
    Option<String>,
    Option<String>,
);

/// A stored LP of either table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LpRow {
    /// Type (which table).
    pub typ: TypLpa,
    /// `COD_IND_OPI` (IAPRIMO) or `COD_IND` (REINS).
    pub person: i64,
    /// Year.
    pub cod_anu: String,
    /// Étape.
    pub cod_etp: String,
    /// Version d'étape.
    pub cod_vrs_vet: i32,
    /// Attributes.
    pub attributes: LpAttributes,
    /// `DAT_CRE_LPA`.
    pub dat_cre_lpa: NaiveDateTime,
    /// `COD_UTI_CRE_LPA`.
    pub cod_uti_cre_lpa: Option<String>,
    /// `DAT_MOD_LPA`.
    pub dat_mod_lpa: Option<NaiveDateTime>,
    /// `COD_UTI_MOD_LPA`.
    pub cod_uti_mod_lpa: Option<String>,
    /// Trace id of the last write.
    pub last_trace_id: Option<String>,
}

fn row(typ: TypLpa, t: Tuple) -> LpRow {
    LpRow {
        typ,
        person: t.0,
        cod_anu: t.1,
        cod_etp: t.2,
        cod_vrs_vet: t.3,
        attributes: LpAttributes {
            cod_dip: t.4,
            cod_vrs_vdi: t.5,
            cod_rgi: t.6,
            cod_stu: t.7,
            cod_cat_oui_si: t.8,
            mtf_cat: t.9,
            cod_cat_exo_ext: t.10,
            lib_cmt_lpa: t.11,
        },
        dat_cre_lpa: t.12,
        cod_uti_cre_lpa: t.13,
        dat_mod_lpa: t.14,
        cod_uti_mod_lpa: t.15,
        last_trace_id: t.16,
    }
}

/// The person an LP designates, resolved (LP-3).
#[derive(Debug, Clone)]
pub enum Resolved {
    /// An OPI (IAPRIMO), found by code or alias.
    Opi(OpiRow),
    /// A known student (REINS).
    Etudiant(StudentRow),
}

impl Resolved {
    /// `COD_IND_OPI` or `COD_IND`.
    pub fn id(&self) -> i64 {
        match self {
            Resolved::Opi(o) => o.cod_ind_opi,
            Resolved::Etudiant(s) => s.cod_ind,
        }
    }

    /// The LP type of this person.
    pub fn typ(&self) -> TypLpa {
        match self {
            Resolved::Opi(_) => TypLpa::Iaprimo,
            Resolved::Etudiant(_) => TypLpa::Reins,
        }
    }
}

/// Finds the person of an LP: IAPRIMO by `numOPI` (code or alias, case-insensitive, as PJ-2),
/// REINS by `codEtu`.
pub fn resolve(
    conn: &mut AnyConnection,
    typ: TypLpa,
    identifier: &str,
) -> QueryResult<Option<Resolved>> {
    match typ {
        TypLpa::Iaprimo => Ok(opi_repo::find_by_code(conn, identifier)?.map(Resolved::Opi)),
        TypLpa::Reins => match apogee_domain::formats::cod_etu(identifier) {
            Some(n) => Ok(students::find_by_cod_etu(conn, n)?.map(Resolved::Etudiant)),
            None => Ok(None),
        },
    }
}

/// The stored LP of a person on (year, VET).
pub fn get(
    conn: &mut AnyConnection,
    typ: TypLpa,
    person: i64,
    cod_anu: &str,
    cod_etp: &str,
    cod_vrs_vet: i32,
) -> QueryResult<Option<LpRow>> {
    let t: Option<Tuple> = by_table!(typ, |t, p| t::table
        .find((person, cod_anu, cod_etp, cod_vrs_vet))
        .select(columns!(t, p))
        .get_result(conn)
        .optional()?);
    Ok(t.map(|t| row(typ, t)))
}

/// Deletes an LP; returns whether it existed.
pub fn delete(
    conn: &mut AnyConnection,
    typ: TypLpa,
    person: i64,
    cod_anu: &str,
    cod_etp: &str,
    cod_vrs_vet: i32,
) -> QueryResult<bool> {
    let n = by_table!(typ, |t, _p| diesel::delete(t::table.find((
        person,
        cod_anu,
        cod_etp,
        cod_vrs_vet
    )))
    .execute(conn)?);
    Ok(n > 0)
}

/// Number of LPs referencing an OPI (OPI-21: the OPI cannot be deleted while they exist).
pub fn count_for_opi(conn: &mut AnyConnection, cod_ind_opi: i64) -> QueryResult<i64> {
    lo::table
        .filter(lo::cod_ind_opi.eq(cod_ind_opi))
        .count()
        .get_result(conn)
}

/// An LP as the REST API shows it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct LpView {
    /// Type.
    pub typ_lpa: TypLpa,
    /// OPI number (IAPRIMO): the stored code of the OPI.
    #[serde(rename = "numOPI", skip_serializing_if = "Option::is_none")]
    pub num_opi: Option<String>,
    /// `COD_IND_OPI` (IAPRIMO).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cod_ind_opi: Option<i64>,
    /// Student number (REINS).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cod_etu: Option<i64>,
    /// `COD_IND` (REINS).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cod_ind: Option<i64>,
    /// Year.
    pub cod_anu: String,
    /// Étape.
    pub cod_etp: String,
    /// Version d'étape.
    pub cod_vrs_vet: i32,
    /// Attributes.
    #[serde(flatten)]
    pub attributes: LpAttributes,
    /// Creation time (RFC 3339).
    pub dat_cre_lpa: String,
    /// Creating client.
    pub cod_uti_cre_lpa: Option<String>,
    /// Last modification (RFC 3339).
    pub dat_mod_lpa: Option<String>,
    /// Modifying client.
    pub cod_uti_mod_lpa: Option<String>,
}

/// Views of stored rows (identifiers looked up in one query per table).
pub fn views(conn: &mut AnyConnection, rows: Vec<LpRow>) -> QueryResult<Vec<LpView>> {
    let opi_ids: BTreeSet<i64> = rows
        .iter()
        .filter(|r| r.typ == TypLpa::Iaprimo)
        .map(|r| r.person)
        .collect();
    let etu_ids: BTreeSet<i64> = rows
        .iter()
        .filter(|r| r.typ == TypLpa::Reins)
        .map(|r| r.person)
        .collect();
    let codes: BTreeMap<i64, String> = if opi_ids.is_empty() {
        BTreeMap::new()
    } else {
        oi::table
            .filter(oi::cod_ind_opi.eq_any(opi_ids.into_iter().collect::<Vec<_>>()))
            .select((oi::cod_ind_opi, oi::cod_opi_int_epo))
            .load::<(i64, String)>(conn)?
            .into_iter()
            .collect()
    };
    let etus: BTreeMap<i64, i64> = if etu_ids.is_empty() {
        BTreeMap::new()
    } else {
        et::table
            .filter(et::cod_ind.eq_any(etu_ids.into_iter().collect::<Vec<_>>()))
            .select((et::cod_ind, et::cod_etu))
            .load::<(i64, i64)>(conn)?
            .into_iter()
            .collect()
    };
    Ok(rows
        .into_iter()
        .map(|r| {
            let opi = r.typ == TypLpa::Iaprimo;
            LpView {
                typ_lpa: r.typ,
                num_opi: if opi {
                    codes.get(&r.person).cloned()
                } else {
                    None
                },
                cod_ind_opi: opi.then_some(r.person),
                cod_etu: if opi {
                    None
                } else {
                    etus.get(&r.person).copied()
                },
                cod_ind: (!opi).then_some(r.person),
                cod_anu: r.cod_anu,
                cod_etp: r.cod_etp,
                cod_vrs_vet: r.cod_vrs_vet,
                attributes: r.attributes,
                dat_cre_lpa: rfc3339(r.dat_cre_lpa),
                cod_uti_cre_lpa: r.cod_uti_cre_lpa,
                dat_mod_lpa: r.dat_mod_lpa.map(rfc3339),
                cod_uti_mod_lpa: r.cod_uti_mod_lpa,
            }
        })
        .collect())
}

/// What an upsert did (LP-8).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LpApplied {
    /// `created`, `updated` or `unchanged`.
    pub status: &'static str,
    /// Warnings: validation (LP-3, LP-11), `LP_ATTRIBUT_EFFACE`, and what will block the
    /// enrolment despite the LP (LP-11).
    pub warnings: Vec<Warning>,
    /// The LP as stored after the call.
    pub laissez_passer: LpView,
}

/// Serialises writes of the same LP on PostgreSQL; SQLite writes are serial already.
fn lock(conn: &mut AnyConnection, key: &str) -> QueryResult<()> {
    if let AnyConnection::Postgresql(c) = conn {
        diesel::sql_query("SELECT pg_advisory_xact_lock(hashtext($1))")
            .bind::<diesel::sql_types::Text, _>(key)
            .execute(c)?;
    }
    Ok(())
}

/// The LP-8 upsert of one validated LP: resolves the person (LP-3 faults
/// `technical.data.nullretrieve.numOPI` / `…etudiant`), then creates, updates or leaves the row.
/// An attribute absent from the call clears the stored one (warning `LP_ATTRIBUT_EFFACE`),
/// except the V2-only attributes on a V1 call (LP-2).
pub fn upsert(
    conn: &mut AnyConnection,
    intake: &LpIntake,
    actor: Actor<'_>,
) -> Result<LpApplied, WriteError> {
    let resolved =
        resolve(conn, intake.typ, &intake.identifier())?.ok_or_else(|| unknown_person(intake))?;
    let person = resolved.id();
    let (anu, etp, vet) = (
        intake.cod_anu.as_str(),
        intake.cod_etp.as_str(),
        intake.cod_vrs_vet,
    );
    lock(
        conn,
        &format!("lp:{}:{person}:{anu}:{etp}:{vet}", intake.typ.as_str()),
    )?;
    let stored = get(conn, intake.typ, person, anu, etp, vet)?;
    let mut warnings = intake.warnings.clone();
    let mut attrs = intake.attributes.clone();
    if let (LpVersion::V1, Some(s)) = (intake.version, &stored) {
        attrs = attrs.keep_v2_only(&s.attributes);
    }
    let a = &attrs;
    let status = match &stored {
        None => {
            by_table!(intake.typ, |t, p| diesel::insert_into(t::table)
                .values((
                    p.eq(person),
                    t::cod_anu.eq(anu),
                    t::cod_etp.eq(etp),
                    t::cod_vrs_vet.eq(vet),
                    t::cod_dip.eq(&a.cod_dip),
                    t::cod_vrs_vdi.eq(a.cod_vrs_vdi),
                    t::cod_rgi.eq(&a.cod_rgi),
                    t::cod_stu.eq(&a.cod_stu),
                    t::cod_cat_oui_si.eq(&a.cod_cat_oui_si),
                    t::mtf_cat.eq(&a.mtf_cat),
                    t::cod_cat_exo_ext.eq(&a.cod_cat_exo_ext),
                    t::lib_cmt_lpa.eq(&a.lib_cmt_lpa),
                    t::dat_cre_lpa.eq(actor.now),
                    t::cod_uti_cre_lpa.eq(actor.client),
                    t::last_trace_id.eq(actor.trace_id),
                ))
                .execute(conn)?);
            "created"
        }
        Some(s) if s.attributes == attrs => "unchanged",
        Some(s) => {
            push_erased_warnings(&mut warnings, &s.attributes, &attrs);
            by_table!(intake.typ, |t, _p| diesel::update(
                t::table.find((person, anu, etp, vet))
            )
            .set((
                t::cod_dip.eq(&a.cod_dip),
                t::cod_vrs_vdi.eq(a.cod_vrs_vdi),
                t::cod_rgi.eq(&a.cod_rgi),
                t::cod_stu.eq(&a.cod_stu),
                t::cod_cat_oui_si.eq(&a.cod_cat_oui_si),
                t::mtf_cat.eq(&a.mtf_cat),
                t::cod_cat_exo_ext.eq(&a.cod_cat_exo_ext),
                t::lib_cmt_lpa.eq(&a.lib_cmt_lpa),
                t::dat_mod_lpa.eq(Some(actor.now)),
                t::cod_uti_mod_lpa.eq(actor.client),
                t::last_trace_id.eq(actor.trace_id),
            ))
            .execute(conn)?);
            "updated"
        }
    };
    let facts = person_facts(conn, &resolved, anu)?;
    push_insertion_warnings(&mut warnings, &facts, etp, vet);
    let stored =
        get(conn, intake.typ, person, anu, etp, vet)?.ok_or(diesel::result::Error::NotFound)?;
    let view = views(conn, vec![stored])?
        .into_iter()
        .next()
        .ok_or(diesel::result::Error::NotFound)?;
    Ok(LpApplied {
        status,
        warnings,
        laissez_passer: view,
    })
}

/// Filters of `GET /api/v1/laissez-passer`.
#[derive(Debug, Clone, Default)]
pub struct LpFilter {
    /// Only this type.
    pub typ: Option<TypLpa>,
    /// Only this OPI (`COD_IND_OPI`).
    pub cod_ind_opi: Option<i64>,
    /// Only this student (`COD_IND`).
    pub cod_ind: Option<i64>,
    /// Year.
    pub cod_anu: Option<String>,
    /// Étape.
    pub cod_etp: Option<String>,
    /// Version d'étape.
    pub cod_vrs_vet: Option<i32>,
}

/// LPs matching `f` (IAPRIMO first, then REINS; by year, VET and person) and their count.
pub fn list(
    conn: &mut AnyConnection,
    f: &LpFilter,
    limit: i64,
    offset: i64,
) -> QueryResult<(Vec<LpView>, i64)> {
    let mut rows = Vec::new();
    let mut total = 0;
    let mut skip = offset;
    for typ in [TypLpa::Iaprimo, TypLpa::Reins] {
        let wanted = f.typ.is_none_or(|t| t == typ)
            && (typ == TypLpa::Iaprimo || f.cod_ind_opi.is_none())
            && (typ == TypLpa::Reins || f.cod_ind.is_none());
        if !wanted {
            continue;
        }
        let person = match typ {
            TypLpa::Iaprimo => f.cod_ind_opi,
            TypLpa::Reins => f.cod_ind,
        };
        macro_rules! filtered {
            ($t:ident, $p:ident) => {{
                let mut q = $t::table.into_boxed();
                if let Some(v) = person {
                    q = q.filter($p.eq(v));
                }
                if let Some(v) = &f.cod_anu {
                    q = q.filter($t::cod_anu.eq(v.clone()));
                }
                if let Some(v) = &f.cod_etp {
                    q = q.filter($t::cod_etp.eq(v.clone()));
                }
                if let Some(v) = f.cod_vrs_vet {
                    q = q.filter($t::cod_vrs_vet.eq(v));
                }
                q
            }};
        }
        let n: i64 = by_table!(typ, |t, p| filtered!(t, p).count().get_result(conn)?);
        total += n;
        let room = limit - rows.len() as i64;
        if skip >= n {
            skip -= n;
            continue;
        }
        if room <= 0 {
            continue;
        }
        let page: Vec<Tuple> = by_table!(typ, |t, p| filtered!(t, p)
            .order((
                t::cod_anu.asc(),
                t::cod_etp.asc(),
                t::cod_vrs_vet.asc(),
                p.asc()
            ))
            .limit(room)
            .offset(skip)
            .select(columns!(t, p))
            .load(conn)?);
        skip = 0;
        rows.extend(page.into_iter().map(|t| row(typ, t)));
    }
    Ok((views(conn, rows)?, total))
}

/// Every LP of a person for a year.
fn lps_of(
    conn: &mut AnyConnection,
    typ: TypLpa,
    person: i64,
    cod_anu: &str,
) -> QueryResult<Vec<LpRow>> {
    let t: Vec<Tuple> = by_table!(typ, |t, p| t::table
        .filter(p.eq(person))
        .filter(t::cod_anu.eq(cod_anu))
        .order((t::cod_etp.asc(), t::cod_vrs_vet.asc()))
        .select(columns!(t, p))
        .load(conn)?);
    Ok(t.into_iter().map(|t| row(typ, t)).collect())
}

fn student_facts(
    conn: &mut AnyConnection,
    cod_ind: i64,
    cod_anu: &str,
    facts: &mut Person,
) -> QueryResult<()> {
    facts.bans.extend(
        students::blocages(conn, cod_ind)?
            .into_iter()
            .map(|b| b.cod_blo),
    );
    facts.iaa_annulee |= students::inscriptions_annuelles(conn, cod_ind)?
        .iter()
        .any(|i| i.cod_anu == cod_anu && i.eta_iaa == "A");
    for iae in students::inscriptions_etapes(conn, cod_ind)? {
        if iae.cod_anu == cod_anu && iae.eta_iae != "A" {
            facts.enrolled.push((iae.cod_etp.clone(), iae.cod_vrs_vet));
        }
        if iae.cod_anu.as_str() < cod_anu && iae.eta_pmt_iae.as_deref() == Some("P") {
            facts.paid_before = true;
        }
    }
    Ok(())
}

/// What the access rules need to know about a person for a year (LP-14). An OPI whose
/// `codEtuOpi` designates a known student also carries that student's enrolments and bans.
pub fn person_facts(
    conn: &mut AnyConnection,
    person: &Resolved,
    cod_anu: &str,
) -> QueryResult<Person> {
    match person {
        Resolved::Opi(o) => {
            let donnees: DonneesOpi = serde_json::from_str(&o.donnees).unwrap_or_default();
            let mut facts = opi_facts(o, &donnees);
            if let Some(etu) = o.cod_etu_opi
                && let Some(s) = students::find_by_cod_etu(conn, etu)?
            {
                student_facts(conn, s.cod_ind, cod_anu, &mut facts)?;
            }
            Ok(facts)
        }
        Resolved::Etudiant(s) => {
            let mut facts = Person {
                has_ine: s.ine.is_some(),
                ..Person::default()
            };
            student_facts(conn, s.cod_ind, cod_anu, &mut facts)?;
            Ok(facts)
        }
    }
}

/// One person of the admissions view with everything the rules evaluate.
#[derive(Debug, Clone)]
pub struct AdmissionPerson {
    /// The person.
    pub person: Resolved,
    /// Facts for the year.
    pub facts: Person,
    /// The VETs reachable through an LP or a vœu.
    pub candidates: Vec<Candidate>,
}

fn voeu_facts(v: &opi_repo::VoeuRow) -> VoeuFacts {
    let dto: Voeu = serde_json::from_str(&v.donnees).unwrap_or_default();
    VoeuFacts {
        cod_cge: v.cod_cge.clone(),
        cod_dec_veu: v.cod_dec_veu.clone(),
        num_cls: v.num_cls,
        cod_rge: v.cod_rge.clone(),
        cod_cat_oui_si: v.cod_cat_oui_si.clone(),
        mtf_cat: dto.mtf_cat,
        cod_cat_exo_ext: v.cod_cat_exo_ext.clone(),
        cod_dip: v.cod_dip.clone(),
        cod_vrs_vdi: v.cod_vrs_vdi,
    }
}

/// The admissions data of one person for a year: LP VETs ∪ (primo, current year only) vœu VETs
/// (LP-12), restricted to `vet` when given. Vœux carry no year: they count for the current
/// enrolment year (`voeux_year`).
pub fn admission_person(
    conn: &mut AnyConnection,
    person: Resolved,
    cod_anu: &str,
    voeux_year: Option<&str>,
    vet: (Option<&str>, Option<i32>),
) -> QueryResult<AdmissionPerson> {
    let facts = person_facts(conn, &person, cod_anu)?;
    let keep = |etp: &str, v: i32| vet.0.is_none_or(|e| e == etp) && vet.1.is_none_or(|x| x == v);
    let mut by_vet: BTreeMap<(String, i32), Candidate> = BTreeMap::new();
    for lp in lps_of(conn, person.typ(), person.id(), cod_anu)? {
        if keep(&lp.cod_etp, lp.cod_vrs_vet) {
            by_vet.insert(
                (lp.cod_etp.clone(), lp.cod_vrs_vet),
                Candidate {
                    cod_etp: lp.cod_etp,
                    cod_vrs_vet: lp.cod_vrs_vet,
                    lp: Some(lp.attributes),
                    voeu: None,
                },
            );
        }
    }
    if let Resolved::Opi(o) = &person
        && voeux_year == Some(cod_anu)
    {
        // Several vœux on one VET (different CGE): a favourable one wins, then the best rank.
        let mut voeux = opi_repo::voeux_of(conn, o.cod_ind_opi)?;
        voeux.sort_by_key(|v| (v.cod_dec_veu.as_deref() != Some("F"), v.num_cls));
        for v in voeux {
            if !keep(&v.cod_etp, v.cod_vrs_vet) {
                continue;
            }
            let c = by_vet
                .entry((v.cod_etp.clone(), v.cod_vrs_vet))
                .or_insert_with(|| Candidate {
                    cod_etp: v.cod_etp.clone(),
                    cod_vrs_vet: v.cod_vrs_vet,
                    lp: None,
                    voeu: None,
                });
            if c.voeu.is_none() {
                c.voeu = Some(voeu_facts(&v));
            }
        }
    }
    Ok(AdmissionPerson {
        person,
        facts,
        candidates: by_vet.into_values().collect(),
    })
}

/// The persons an admissions key designates: an OPI code or alias, a student number, or an INE
/// (OPIs and students carrying it).
pub fn persons_by_key(conn: &mut AnyConnection, key: &str) -> QueryResult<Vec<Resolved>> {
    let mut out = Vec::new();
    if let Some(o) = opi_repo::find_by_code(conn, key)? {
        out.push(Resolved::Opi(o));
    }
    if let Some(n) = apogee_domain::formats::cod_etu(key)
        && let Some(s) = students::find_by_cod_etu(conn, n)?
    {
        out.push(Resolved::Etudiant(s));
    }
    let ine = apogee_domain::ine::normalize(key);
    if ine.len() == 11 {
        let opis: Vec<OpiRow> = oi::table
            .filter(oi::ine.eq(&ine))
            .order(oi::cod_ind_opi.asc())
            .select(OpiRow::as_select())
            .load(conn)?;
        for o in opis {
            if !out
                .iter()
                .any(|r| matches!(r, Resolved::Opi(x) if x.cod_ind_opi == o.cod_ind_opi))
            {
                out.push(Resolved::Opi(o));
            }
        }
        for s in students::find_by_ine(conn, &ine)? {
            if !out
                .iter()
                .any(|r| matches!(r, Resolved::Etudiant(x) if x.cod_ind == s.cod_ind))
            {
                out.push(Resolved::Etudiant(s));
            }
        }
    }
    Ok(out)
}

/// The (person, VET) lines of the admissions list for a year, optionally one étape or VET:
/// every LP, and (current year) every OPI vœu. Returns the page of persons to evaluate, with
/// their candidates restricted to the page, and the total number of lines.
pub fn admissions(
    conn: &mut AnyConnection,
    cod_anu: &str,
    voeux_year: Option<&str>,
    cod_etp: Option<&str>,
    cod_vrs_vet: Option<i32>,
    limit: i64,
    offset: i64,
) -> QueryResult<(Vec<AdmissionPerson>, i64)> {
    let mut keys: BTreeSet<(TypLpa, i64, String, i32)> = BTreeSet::new();
    macro_rules! vet_filters {
        ($q:expr, $t:ident) => {{
            let mut q = $q;
            if let Some(e) = cod_etp {
                q = q.filter($t::cod_etp.eq(e.to_owned()));
            }
            if let Some(v) = cod_vrs_vet {
                q = q.filter($t::cod_vrs_vet.eq(v));
            }
            q
        }};
    }
    let opi_lps: Vec<(i64, String, i32)> = vet_filters!(
        lo::table
            .filter(lo::cod_anu.eq(cod_anu.to_owned()))
            .into_boxed(),
        lo
    )
    .select((lo::cod_ind_opi, lo::cod_etp, lo::cod_vrs_vet))
    .load(conn)?;
    keys.extend(
        opi_lps
            .into_iter()
            .map(|(p, e, v)| (TypLpa::Iaprimo, p, e, v)),
    );
    let etu_lps: Vec<(i64, String, i32)> = vet_filters!(
        le::table
            .filter(le::cod_anu.eq(cod_anu.to_owned()))
            .into_boxed(),
        le
    )
    .select((le::cod_ind, le::cod_etp, le::cod_vrs_vet))
    .load(conn)?;
    keys.extend(
        etu_lps
            .into_iter()
            .map(|(p, e, v)| (TypLpa::Reins, p, e, v)),
    );
    if voeux_year == Some(cod_anu) {
        let voeux: Vec<(i64, String, i32)> = vet_filters!(ov::table.into_boxed(), ov)
            .select((ov::cod_ind_opi, ov::cod_etp, ov::cod_vrs_vet))
            .load(conn)?;
        keys.extend(
            voeux
                .into_iter()
                .map(|(p, e, v)| (TypLpa::Iaprimo, p, e, v)),
        );
    }
    let total = keys.len() as i64;
    let page: Vec<_> = keys
        .into_iter()
        .skip(usize::try_from(offset).unwrap_or(usize::MAX))
        .take(usize::try_from(limit).unwrap_or(0))
        .collect();
    let mut persons: BTreeMap<(TypLpa, i64), BTreeSet<(String, i32)>> = BTreeMap::new();
    for (typ, p, e, v) in page {
        persons.entry((typ, p)).or_default().insert((e, v));
    }
    let mut out = Vec::new();
    for ((typ, id), vets) in persons {
        let person = match typ {
            TypLpa::Iaprimo => oi::table
                .find(id)
                .select(OpiRow::as_select())
                .get_result(conn)
                .optional()?
                .map(Resolved::Opi),
            TypLpa::Reins => students::find(conn, id)?.map(Resolved::Etudiant),
        };
        let Some(person) = person else { continue };
        let mut a = admission_person(conn, person, cod_anu, voeux_year, (cod_etp, cod_vrs_vet))?;
        a.candidates
            .retain(|c| vets.contains(&(c.cod_etp.clone(), c.cod_vrs_vet)));
        out.push(a);
    }
    Ok((out, total))
}

/// The LP key of a chunk row: type, person, year, étape, VET version.
pub type LpKey = (TypLpa, i64, String, String, i32);

/// What the bulk upsert did with one row of a chunk (LP-8).
#[derive(Debug, Clone)]
pub struct ChunkApplied {
    /// The row's key (person resolved).
    pub key: LpKey,
    /// `created`, `updated` or `unchanged` (what happened after the earlier rows of the chunk).
    pub status: &'static str,
    /// Warnings (validation, `LP_ATTRIBUT_EFFACE`, LP-11 blocking facts).
    pub warnings: Vec<Warning>,
}

/// The state of one key while a chunk is evaluated.
struct KeyState {
    stored: Option<LpRow>,
    attrs: Option<LpAttributes>,
    created: bool,
    modified: bool,
}

/// A VET enrolment as the access rules read it: year, étape, version, state, payment.
type IaeFacts = (String, String, i32, String, Option<String>);

/// Students of a chunk with what the access rules read about them (three queries).
#[derive(Default)]
struct StudentFacts {
    bans: BTreeMap<i64, Vec<String>>,
    iaa: BTreeMap<i64, Vec<(String, String)>>,
    iae: BTreeMap<i64, Vec<IaeFacts>>,
}

impl StudentFacts {
    fn load(conn: &mut AnyConnection, ids: Vec<i64>) -> QueryResult<Self> {
        use crate::schema_lp::{
            blocage as bl, inscription_annuelle as ia, inscription_etape as ie,
        };
        let mut f = StudentFacts::default();
        if ids.is_empty() {
            return Ok(f);
        }
        for (id, blo) in bl::table
            .filter(bl::cod_ind.eq_any(&ids))
            .order((bl::cod_ind.asc(), bl::cod_blo.asc()))
            .select((bl::cod_ind, bl::cod_blo))
            .load::<(i64, String)>(conn)?
        {
            f.bans.entry(id).or_default().push(blo);
        }
        for (id, anu, eta) in ia::table
            .filter(ia::cod_ind.eq_any(&ids))
            .select((ia::cod_ind, ia::cod_anu, ia::eta_iaa))
            .load::<(i64, String, String)>(conn)?
        {
            f.iaa.entry(id).or_default().push((anu, eta));
        }
        for (id, anu, etp, vet, eta, pmt) in ie::table
            .filter(ie::cod_ind.eq_any(&ids))
            .order((
                ie::cod_ind.asc(),
                ie::cod_anu.asc(),
                ie::cod_etp.asc(),
                ie::cod_vrs_vet.asc(),
            ))
            .select((
                ie::cod_ind,
                ie::cod_anu,
                ie::cod_etp,
                ie::cod_vrs_vet,
                ie::eta_iae,
                ie::eta_pmt_iae,
            ))
            .load::<(i64, String, String, i32, String, Option<String>)>(conn)?
        {
            f.iae.entry(id).or_default().push((anu, etp, vet, eta, pmt));
        }
        Ok(f)
    }

    /// As `student_facts`, from the loaded rows.
    fn apply(&self, cod_ind: i64, cod_anu: &str, facts: &mut Person) {
        facts
            .bans
            .extend(self.bans.get(&cod_ind).into_iter().flatten().cloned());
        facts.iaa_annulee |= self
            .iaa
            .get(&cod_ind)
            .into_iter()
            .flatten()
            .any(|(anu, eta)| anu == cod_anu && eta == "A");
        for (anu, etp, vet, eta, pmt) in self.iae.get(&cod_ind).into_iter().flatten() {
            if anu == cod_anu && eta != "A" {
                facts.enrolled.push((etp.clone(), *vet));
            }
            if anu.as_str() < cod_anu && pmt.as_deref() == Some("P") {
                facts.paid_before = true;
            }
        }
    }
}

/// The bulk LP-8 upsert of a chunk of validated LPs, for batch files (LP-16): persons are
/// resolved for the whole chunk at once (one query for the OPI codes, one for their aliases,
/// one for the student numbers), the chunk's existing LPs are read in one query per table, the
/// facts of LP-11 in three, then each row is evaluated in order against the stored state and
/// the earlier rows of the chunk (a key seen twice ends `unchanged` or `updated`), and, when
/// `write`, the final state of every created or changed key is written with multi-row
/// statements (inserts, then `INSERT … ON CONFLICT DO UPDATE` for the updates). Each row's
/// outcome is the same as [`upsert`]'s; an unknown person is that row's `Err`.
pub fn upsert_chunk(
    conn: &mut AnyConnection,
    intakes: &[&LpIntake],
    actor: Actor<'_>,
    write: bool,
) -> Result<Vec<Result<ChunkApplied, apogee_domain::Error>>, WriteError> {
    let persons = ChunkPersons::load(conn, intakes)?;
    let mut states = persons.stored_states(conn)?;
    let mut donnees_cache: BTreeMap<i64, DonneesOpi> = BTreeMap::new();
    let mut out = Vec::with_capacity(intakes.len());
    for intake in intakes {
        let Some(resolved) = persons.resolve(intake) else {
            out.push(Err(unknown_person(intake)));
            continue;
        };
        let key: LpKey = (
            intake.typ,
            resolved.id(),
            intake.cod_anu.clone(),
            intake.cod_etp.clone(),
            intake.cod_vrs_vet,
        );
        let state = states.entry(key.clone()).or_insert(KeyState {
            stored: None,
            attrs: None,
            created: false,
            modified: false,
        });
        let (status, mut warnings) = state.apply(intake);
        let facts = persons.facts(&resolved, &intake.cod_anu, &mut donnees_cache);
        push_insertion_warnings(&mut warnings, &facts, &intake.cod_etp, intake.cod_vrs_vet);
        out.push(Ok(ChunkApplied {
            key,
            status,
            warnings,
        }));
    }
    if write {
        write_states(conn, &states, actor)?;
    }
    Ok(out)
}

/// Adds a `LP_ATTRIBUT_EFFACE` warning for every attribute `stored` has and `new` clears.
fn push_erased_warnings(warnings: &mut Vec<Warning>, stored: &LpAttributes, new: &LpAttributes) {
    for ((name, old), (_, new)) in stored.fields().into_iter().zip(new.fields()) {
        if let (Some(old), None) = (old, new) {
            warnings.push(Warning {
                code: "LP_ATTRIBUT_EFFACE".into(),
                field: Some(name.into()),
                message: format!("{name} enregistré ({old}) effacé : l'appel n'en porte pas"),
            });
        }
    }
}

/// Adds the LP-11 warnings of `facts` on the VET, except those whose code is there already.
fn push_insertion_warnings(warnings: &mut Vec<Warning>, facts: &Person, etp: &str, vet: i32) {
    for w in insertion_warnings(facts, etp, vet) {
        if !warnings.iter().any(|x| x.code == w.code) {
            warnings.push(w);
        }
    }
}

/// The LP-11 facts of an OPI from its own data (the student it became adds the rest).
fn opi_facts(o: &OpiRow, donnees: &DonneesOpi) -> Person {
    Person {
        primo: true,
        has_ine: o.ine.is_some(),
        bac_present: donnees
            .bac
            .as_ref()
            .is_some_and(|b| b.cod_bac.is_some() && b.daa_obt_bac_oba.is_some()),
        cod_pay_nat: donnees
            .individu
            .as_ref()
            .and_then(|i| i.donnees_naissance.as_ref())
            .and_then(|n| n.cod_pay_nat.clone()),
        ..Person::default()
    }
}

impl KeyState {
    /// The state of a stored LP.
    fn stored(r: LpRow) -> Self {
        KeyState {
            attrs: Some(r.attributes.clone()),
            stored: Some(r),
            created: false,
            modified: false,
        }
    }

    /// Applies one row of the chunk to its key, as [`upsert`] does to the stored row (V1 keeps
    /// the V2-only attributes, a cleared attribute warns): the status and the row's warnings
    /// so far.
    fn apply(&mut self, intake: &LpIntake) -> (&'static str, Vec<Warning>) {
        let mut warnings = intake.warnings.clone();
        let mut attrs = intake.attributes.clone();
        if let (LpVersion::V1, Some(s)) = (intake.version, &self.attrs) {
            attrs = attrs.keep_v2_only(s);
        }
        let status = match &self.attrs {
            None => {
                self.created = true;
                "created"
            }
            Some(s) if *s == attrs => "unchanged",
            Some(s) => {
                push_erased_warnings(&mut warnings, s, &attrs);
                self.modified = true;
                "updated"
            }
        };
        self.attrs = Some(attrs);
        (status, warnings)
    }
}

/// The persons of a chunk, resolved at once: OPIs by upper-case code or alias, students by
/// number (the REINS rows' and those the OPIs became), with the students' LP-11 facts.
struct ChunkPersons {
    opis: BTreeMap<String, OpiRow>,
    students: BTreeMap<i64, StudentRow>,
    student_facts: StudentFacts,
}

impl ChunkPersons {
    fn load(conn: &mut AnyConnection, intakes: &[&LpIntake]) -> QueryResult<Self> {
        let opis = Self::load_opis(conn, intakes)?;
        let students = Self::load_students(conn, intakes, &opis)?;
        let student_facts =
            StudentFacts::load(conn, students.values().map(|s| s.cod_ind).collect())?;
        Ok(ChunkPersons {
            opis,
            students,
            student_facts,
        })
    }

    /// The OPIs of the IAPRIMO rows, by upper-case code: stored codes first, then aliases.
    fn load_opis(
        conn: &mut AnyConnection,
        intakes: &[&LpIntake],
    ) -> QueryResult<BTreeMap<String, OpiRow>> {
        let codes: BTreeSet<String> = intakes
            .iter()
            .filter(|i| i.typ == TypLpa::Iaprimo)
            .map(|i| i.identifier().trim().to_uppercase())
            .collect();
        let mut opis: BTreeMap<String, OpiRow> = BTreeMap::new();
        if codes.is_empty() {
            return Ok(opis);
        }
        let list: Vec<String> = codes.iter().cloned().collect();
        for o in oi::table
            .filter(oi::cod_opi_int_epo_upper.eq_any(&list))
            .select(OpiRow::as_select())
            .load::<OpiRow>(conn)?
        {
            opis.insert(o.cod_opi_int_epo_upper.clone(), o);
        }
        let missing: Vec<String> = codes
            .iter()
            .filter(|c| !opis.contains_key(*c))
            .cloned()
            .collect();
        if !missing.is_empty() {
            Self::load_aliases(conn, &missing, &mut opis)?;
        }
        Ok(opis)
    }

    /// Adds to `opis` the OPIs that the `missing` upper-case codes are aliases of.
    fn load_aliases(
        conn: &mut AnyConnection,
        missing: &[String],
        opis: &mut BTreeMap<String, OpiRow>,
    ) -> QueryResult<()> {
        use crate::schema::opi_code_alias as al;
        let aliases: Vec<(String, i64)> = al::table
            .filter(al::alias_upper.eq_any(missing))
            .select((al::alias_upper, al::cod_ind_opi))
            .load(conn)?;
        if aliases.is_empty() {
            return Ok(());
        }
        let ids: Vec<i64> = aliases.iter().map(|a| a.1).collect();
        let rows: BTreeMap<i64, OpiRow> = oi::table
            .filter(oi::cod_ind_opi.eq_any(&ids))
            .select(OpiRow::as_select())
            .load::<OpiRow>(conn)?
            .into_iter()
            .map(|o| (o.cod_ind_opi, o))
            .collect();
        for (alias, id) in aliases {
            if let Some(o) = rows.get(&id) {
                opis.insert(alias, o.clone());
            }
        }
        Ok(())
    }

    /// The students of the REINS rows and of the OPIs, by student number.
    fn load_students(
        conn: &mut AnyConnection,
        intakes: &[&LpIntake],
        opis: &BTreeMap<String, OpiRow>,
    ) -> QueryResult<BTreeMap<i64, StudentRow>> {
        let mut etus: BTreeSet<i64> = intakes
            .iter()
            .filter(|i| i.typ == TypLpa::Reins)
            .filter_map(|i| i.cod_etu)
            .collect();
        etus.extend(opis.values().filter_map(|o| o.cod_etu_opi));
        if etus.is_empty() {
            return Ok(BTreeMap::new());
        }
        Ok(et::table
            .filter(et::cod_etu.eq_any(etus.into_iter().collect::<Vec<_>>()))
            .select(StudentRow::as_select())
            .load::<StudentRow>(conn)?
            .into_iter()
            .map(|s| (s.cod_etu, s))
            .collect())
    }

    /// The stored LPs of the chunk's persons (one query per table), by key.
    fn stored_states(&self, conn: &mut AnyConnection) -> QueryResult<BTreeMap<LpKey, KeyState>> {
        let mut states: BTreeMap<LpKey, KeyState> = BTreeMap::new();
        let opi_ids: Vec<i64> = self
            .opis
            .values()
            .map(|o| o.cod_ind_opi)
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let etu_ids: Vec<i64> = self.students.values().map(|s| s.cod_ind).collect();
        for (typ, ids) in [(TypLpa::Iaprimo, opi_ids), (TypLpa::Reins, etu_ids)] {
            if ids.is_empty() {
                continue;
            }
            let rows: Vec<Tuple> = by_table!(typ, |t, p| t::table
                .filter(p.eq_any(&ids))
                .select(columns!(t, p))
                .load(conn)?);
            for r in rows {
                let r = row(typ, r);
                let key = (
                    typ,
                    r.person,
                    r.cod_anu.clone(),
                    r.cod_etp.clone(),
                    r.cod_vrs_vet,
                );
                states.insert(key, KeyState::stored(r));
            }
        }
        Ok(states)
    }

    /// The person of a row: IAPRIMO by upper-case code or alias, REINS by student number.
    fn resolve(&self, intake: &LpIntake) -> Option<Resolved> {
        match intake.typ {
            TypLpa::Iaprimo => self
                .opis
                .get(&intake.identifier().trim().to_uppercase())
                .cloned()
                .map(Resolved::Opi),
            TypLpa::Reins => intake
                .cod_etu
                .and_then(|n| self.students.get(&n))
                .cloned()
                .map(Resolved::Etudiant),
        }
    }

    /// The LP-11 facts of a person for a year, as [`person_facts`], from the loaded rows (an
    /// OPI's data parsed once per chunk, in `donnees_cache`).
    fn facts(
        &self,
        resolved: &Resolved,
        cod_anu: &str,
        donnees_cache: &mut BTreeMap<i64, DonneesOpi>,
    ) -> Person {
        match resolved {
            Resolved::Opi(o) => {
                let donnees = donnees_cache
                    .entry(o.cod_ind_opi)
                    .or_insert_with(|| serde_json::from_str(&o.donnees).unwrap_or_default());
                let mut facts = opi_facts(o, donnees);
                if let Some(s) = o.cod_etu_opi.and_then(|e| self.students.get(&e)) {
                    self.student_facts.apply(s.cod_ind, cod_anu, &mut facts);
                }
                facts
            }
            Resolved::Etudiant(s) => {
                let mut facts = Person {
                    has_ine: s.ine.is_some(),
                    ..Person::default()
                };
                self.student_facts.apply(s.cod_ind, cod_anu, &mut facts);
                facts
            }
        }
    }
}

/// Rows per multi-row statement (17 parameters each; SQLite allows 32,766).
/// Rows per multi-row statement (17 binds each: within SQLite's 32,766 and PostgreSQL's 65,535).
const ROWS_PER_STATEMENT: usize = 100;

/// Writes the final state of every created or changed key, per table: multi-row inserts of
/// the new keys, then multi-row `INSERT … ON CONFLICT DO UPDATE` of the stored ones.
fn write_states(
    conn: &mut AnyConnection,
    states: &BTreeMap<LpKey, KeyState>,
    actor: Actor<'_>,
) -> QueryResult<()> {
    for typ in [TypLpa::Iaprimo, TypLpa::Reins] {
        let (inserts, updates) = rows_to_write(states, typ, actor);
        insert_rows(conn, typ, inserts)?;
        update_rows(conn, typ, updates)?;
    }
    Ok(())
}

/// The rows of `typ` to write, in key order: created keys (inserts) and modified stored keys
/// (updates).
fn rows_to_write(
    states: &BTreeMap<LpKey, KeyState>,
    typ: TypLpa,
    actor: Actor<'_>,
) -> (Vec<Tuple>, Vec<Tuple>) {
    let mut inserts: Vec<Tuple> = Vec::new();
    let mut updates: Vec<Tuple> = Vec::new();
    for (key, s) in states.range((typ, i64::MIN, String::new(), String::new(), i32::MIN)..) {
        if key.0 != typ {
            break;
        }
        let (Some(a), true) = (&s.attrs, s.created || s.modified) else {
            continue;
        };
        let tuple = final_row(key, s, a, actor);
        if s.stored.is_some() {
            updates.push(tuple);
        } else {
            inserts.push(tuple);
        }
    }
    (inserts, updates)
}

/// The row to write for a key: its final attributes, the stored creation (else now and the
/// client), the modification when modified, and the trace id.
fn final_row(key: &LpKey, s: &KeyState, a: &LpAttributes, actor: Actor<'_>) -> Tuple {
    let (_, person, anu, etp, vet) = key;
    let modified = s.modified.then_some(actor.now);
    (
        *person,
        anu.clone(),
        etp.clone(),
        *vet,
        a.cod_dip.clone(),
        a.cod_vrs_vdi,
        a.cod_rgi.clone(),
        a.cod_stu.clone(),
        a.cod_cat_oui_si.clone(),
        a.mtf_cat.clone(),
        a.cod_cat_exo_ext.clone(),
        a.lib_cmt_lpa.clone(),
        s.stored.as_ref().map_or(actor.now, |r| r.dat_cre_lpa),
        s.stored
            .as_ref()
            .map_or(actor.client.map(str::to_owned), |r| {
                r.cod_uti_cre_lpa.clone()
            }),
        modified,
        s.modified
            .then(|| actor.client.map(str::to_owned))
            .flatten(),
        Some(actor.trace_id.to_owned()),
    )
}

/// The insertable values of `$rows` (owned `Tuple`s) for the LP table `$t` with person column
/// `$p`: owned, so that a fixed-size array of them is a cacheable statement.
macro_rules! values {
    ($t:ident, $p:ident, $rows:expr) => {
        $rows
            .into_iter()
            .map(|r| {
                (
                    $p.eq(r.0),
                    $t::cod_anu.eq(r.1),
                    $t::cod_etp.eq(r.2),
                    $t::cod_vrs_vet.eq(r.3),
                    $t::cod_dip.eq(r.4),
                    $t::cod_vrs_vdi.eq(r.5),
                    $t::cod_rgi.eq(r.6),
                    $t::cod_stu.eq(r.7),
                    $t::cod_cat_oui_si.eq(r.8),
                    $t::mtf_cat.eq(r.9),
                    $t::cod_cat_exo_ext.eq(r.10),
                    $t::lib_cmt_lpa.eq(r.11),
                    $t::dat_cre_lpa.eq(r.12),
                    $t::cod_uti_cre_lpa.eq(r.13),
                    $t::dat_mod_lpa.eq(r.14),
                    $t::cod_uti_mod_lpa.eq(r.15),
                    $t::last_trace_id.eq(r.16),
                )
            })
            .collect::<Vec<_>>()
    };
}

/// `rows` in parts of `ROWS_PER_STATEMENT`.
fn parts(rows: Vec<Tuple>) -> impl Iterator<Item = Vec<Tuple>> {
    let mut rows = rows.into_iter();
    std::iter::from_fn(move || {
        let part: Vec<Tuple> = rows.by_ref().take(ROWS_PER_STATEMENT).collect();
        (!part.is_empty()).then_some(part)
    })
}

/// Inserts new LPs of `typ`, `ROWS_PER_STATEMENT` per statement. A full part is inserted as a
/// fixed-size array, whose statement Diesel prepares once per connection and caches (a `Vec`
/// of values is parsed and planned again at every execution: 13 % of the writer's time).
///
/// On PostgreSQL the new rows go in by one `COPY … FROM STDIN (FORMAT binary)`: they are new
/// keys of this transaction (a concurrent insert of the same key fails the COPY with a unique
/// violation, and the chunk's transaction is run again, finding the key stored).
fn insert_rows(conn: &mut AnyConnection, typ: TypLpa, rows: Vec<Tuple>) -> QueryResult<()> {
    if rows.is_empty() {
        return Ok(());
    }
    if let AnyConnection::Postgresql(c) = conn {
        by_table!(typ, |t, p| diesel::copy_from(t::table)
            .from_insertable(values!(t, p, rows))
            .execute(c)?);
        return Ok(());
    }
    for part in parts(rows) {
        by_table!(typ, |t, p| crate::with_backend!(conn, |c| {
            match <[_; ROWS_PER_STATEMENT]>::try_from(values!(t, p, part)) {
                Ok(full) => diesel::insert_into(t::table).values(full).execute(c)?,
                Err(values) => diesel::insert_into(t::table).values(values).execute(c)?,
            }
        }));
    }
    Ok(())
}

/// Rewrites stored LPs of `typ` (attributes, modification and trace; the creation stays),
/// `ROWS_PER_STATEMENT` per `INSERT … ON CONFLICT DO UPDATE` (cached as the inserts are).
fn update_rows(conn: &mut AnyConnection, typ: TypLpa, rows: Vec<Tuple>) -> QueryResult<()> {
    use diesel::upsert::excluded;
    for part in parts(rows) {
        by_table!(typ, |t, p| crate::with_backend!(conn, |c| {
            let set = (
                t::cod_dip.eq(excluded(t::cod_dip)),
                t::cod_vrs_vdi.eq(excluded(t::cod_vrs_vdi)),
                t::cod_rgi.eq(excluded(t::cod_rgi)),
                t::cod_stu.eq(excluded(t::cod_stu)),
                t::cod_cat_oui_si.eq(excluded(t::cod_cat_oui_si)),
                t::mtf_cat.eq(excluded(t::mtf_cat)),
                t::cod_cat_exo_ext.eq(excluded(t::cod_cat_exo_ext)),
                t::lib_cmt_lpa.eq(excluded(t::lib_cmt_lpa)),
                t::dat_mod_lpa.eq(excluded(t::dat_mod_lpa)),
                t::cod_uti_mod_lpa.eq(excluded(t::cod_uti_mod_lpa)),
                t::last_trace_id.eq(excluded(t::last_trace_id)),
            );
            let conflict = (p, t::cod_anu, t::cod_etp, t::cod_vrs_vet);
            match <[_; ROWS_PER_STATEMENT]>::try_from(values!(t, p, part)) {
                Ok(full) => diesel::insert_into(t::table)
                    .values(full)
                    .on_conflict(conflict)
                    .do_update()
                    .set(set)
                    .execute(c)?,
                Err(values) => diesel::insert_into(t::table)
                    .values(values)
                    .on_conflict(conflict)
                    .do_update()
                    .set(set)
                    .execute(c)?,
            }
        }));
    }
    Ok(())
}
