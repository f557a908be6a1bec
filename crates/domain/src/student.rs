//! The student's file beyond identity (`INDIVIDU`'s other columns, `IND_BAC`, `ADRESSE`): civil
//! status, birth, nationality, contacts, bacs, addresses, first enrolment years, scholarship and
//! the OPI it came from. One shape for the REST body, the batch files, the store and the read
//! services; [`from_opi`] is what a primo enrolment copies from the OPI (issue 12).

use crate::opi::check::Checker;
use crate::opi::dto::{self, DonneesOpi, leaf};
use crate::text::present;
use serde::{Deserialize, Serialize};

/// An address (`ADRESSE`): the fixed one, or the one of an academic year.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", default)]
pub struct Adresse {
    /// Line 1 (`LIB_AD1`).
    #[serde(deserialize_with = "leaf", skip_serializing_if = "Option::is_none")]
    pub lib_ad1: Option<String>,
    /// Line 2.
    #[serde(deserialize_with = "leaf", skip_serializing_if = "Option::is_none")]
    pub lib_ad2: Option<String>,
    /// Line 3.
    #[serde(deserialize_with = "leaf", skip_serializing_if = "Option::is_none")]
    pub lib_ad3: Option<String>,
    /// Town abroad (`LIB_ADE`).
    #[serde(deserialize_with = "leaf", skip_serializing_if = "Option::is_none")]
    pub lib_ade: Option<String>,
    /// Postal code (`COD_BDI`).
    #[serde(deserialize_with = "leaf", skip_serializing_if = "Option::is_none")]
    pub cod_bdi: Option<String>,
    /// INSEE commune code (`COD_COM`).
    #[serde(deserialize_with = "leaf", skip_serializing_if = "Option::is_none")]
    pub cod_com: Option<String>,
    /// Country (`COD_PAY`).
    #[serde(deserialize_with = "leaf", skip_serializing_if = "Option::is_none")]
    pub cod_pay: Option<String>,
    /// Phone (`NUM_TEL`).
    #[serde(deserialize_with = "leaf", skip_serializing_if = "Option::is_none")]
    pub num_tel: Option<String>,
    /// Accommodation type of the year (`COD_THB`; annual address only).
    #[serde(deserialize_with = "leaf", skip_serializing_if = "Option::is_none")]
    pub cod_thb: Option<String>,
}

/// The address of one academic year.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", default)]
pub struct AdresseAnnuelle {
    /// Year.
    #[serde(deserialize_with = "leaf", skip_serializing_if = "Option::is_none")]
    pub cod_anu: Option<String>,
    /// The address.
    #[serde(flatten)]
    pub adresse: Adresse,
}

/// A bac or equivalent (`IND_BAC`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", default)]
pub struct Bac {
    /// Bac code (`COD_BAC`).
    #[serde(deserialize_with = "leaf", skip_serializing_if = "Option::is_none")]
    pub cod_bac: Option<String>,
    /// Year obtained.
    #[serde(deserialize_with = "leaf", skip_serializing_if = "Option::is_none")]
    pub daa_obt_bac: Option<String>,
    /// Mention (`COD_MNB`).
    #[serde(deserialize_with = "leaf", skip_serializing_if = "Option::is_none")]
    pub cod_mnb: Option<String>,
    /// Establishment (UAI).
    #[serde(deserialize_with = "leaf", skip_serializing_if = "Option::is_none")]
    pub cod_etb: Option<String>,
    /// Département.
    #[serde(deserialize_with = "leaf", skip_serializing_if = "Option::is_none")]
    pub cod_dep: Option<String>,
    /// Establishment type.
    #[serde(deserialize_with = "leaf", skip_serializing_if = "Option::is_none")]
    pub cod_tpe: Option<String>,
    /// First terminal spécialité.
    #[serde(deserialize_with = "leaf", skip_serializing_if = "Option::is_none")]
    pub cod_spe1_bac: Option<String>,
    /// Second terminal spécialité.
    #[serde(deserialize_with = "leaf", skip_serializing_if = "Option::is_none")]
    pub cod_spe2_bac: Option<String>,
    /// Spécialité dropped in première.
    #[serde(deserialize_with = "leaf", skip_serializing_if = "Option::is_none")]
    pub cod_spe_bac_pre: Option<String>,
    /// Options 1 to 4.
    #[serde(deserialize_with = "leaf", skip_serializing_if = "Option::is_none")]
    pub cod_opt1_bac: Option<String>,
    /// Option 2.
    #[serde(deserialize_with = "leaf", skip_serializing_if = "Option::is_none")]
    pub cod_opt2_bac: Option<String>,
    /// Option 3.
    #[serde(deserialize_with = "leaf", skip_serializing_if = "Option::is_none")]
    pub cod_opt3_bac: Option<String>,
    /// Option 4.
    #[serde(deserialize_with = "leaf", skip_serializing_if = "Option::is_none")]
    pub cod_opt4_bac: Option<String>,
}

/// The file: everything optional (an old file without it still loads).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", default)]
pub struct Dossier {
    /// Sex (`M`, `F`; `COD_SEX_ETU`).
    #[serde(deserialize_with = "leaf", skip_serializing_if = "Option::is_none")]
    pub cod_sex_etu: Option<String>,
    /// Second first name.
    #[serde(deserialize_with = "leaf", skip_serializing_if = "Option::is_none")]
    pub lib_pr2_ind: Option<String>,
    /// Third first name.
    #[serde(deserialize_with = "leaf", skip_serializing_if = "Option::is_none")]
    pub lib_pr3_ind: Option<String>,
    /// Nationality (country code, `COD_PAY_NAT`).
    #[serde(deserialize_with = "leaf", skip_serializing_if = "Option::is_none")]
    pub cod_pay_nat: Option<String>,
    /// Birth place kind: `D` département (France) or `P` country.
    #[serde(deserialize_with = "leaf", skip_serializing_if = "Option::is_none")]
    pub cod_typ_dep_pay_nai: Option<String>,
    /// Birth département or country.
    #[serde(deserialize_with = "leaf", skip_serializing_if = "Option::is_none")]
    pub cod_dep_pay_nai: Option<String>,
    /// Birth commune (INSEE).
    #[serde(deserialize_with = "leaf", skip_serializing_if = "Option::is_none")]
    pub cod_com_nai: Option<String>,
    /// Birth town, as written.
    #[serde(deserialize_with = "leaf", skip_serializing_if = "Option::is_none")]
    pub lib_vil_nai_etu: Option<String>,
    /// `O` when the birth date is estimated.
    #[serde(deserialize_with = "leaf", skip_serializing_if = "Option::is_none")]
    pub tem_date_nai_rel: Option<String>,
    /// Personal e-mail.
    #[serde(deserialize_with = "leaf", skip_serializing_if = "Option::is_none")]
    pub adr_mail: Option<String>,
    /// Mobile phone.
    #[serde(deserialize_with = "leaf", skip_serializing_if = "Option::is_none")]
    pub num_tel_por: Option<String>,
    /// Family situation (`COD_FAM`).
    #[serde(deserialize_with = "leaf", skip_serializing_if = "Option::is_none")]
    pub cod_fam: Option<String>,
    /// Military situation (`COD_SIM`).
    #[serde(deserialize_with = "leaf", skip_serializing_if = "Option::is_none")]
    pub cod_sim: Option<String>,
    /// Handicap type (`COD_THP`).
    #[serde(deserialize_with = "leaf", skip_serializing_if = "Option::is_none")]
    pub cod_thp: Option<String>,
    /// First year in French higher education.
    #[serde(deserialize_with = "leaf", skip_serializing_if = "Option::is_none")]
    pub daa_ens_sup: Option<String>,
    /// First year in this establishment.
    #[serde(deserialize_with = "leaf", skip_serializing_if = "Option::is_none")]
    pub daa_ent_etb: Option<String>,
    /// First year in a French university.
    #[serde(deserialize_with = "leaf", skip_serializing_if = "Option::is_none")]
    pub daa_etb: Option<String>,
    /// First year in higher education abroad.
    #[serde(deserialize_with = "leaf", skip_serializing_if = "Option::is_none")]
    pub daa_etr_sup: Option<String>,
    /// University of the first enrolment (UAI).
    #[serde(deserialize_with = "leaf", skip_serializing_if = "Option::is_none")]
    pub cod_etb_pre_univ: Option<String>,
    /// `O` boursier, `N` not.
    #[serde(deserialize_with = "leaf", skip_serializing_if = "Option::is_none")]
    pub tem_boursier: Option<String>,
    /// The OPI the student came from (set by a primo enrolment; read only).
    #[serde(skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub cod_opi_int_epo: Option<String>,
    /// Bacs.
    pub bacs: Vec<Bac>,
    /// Fixed address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub adresse_fixe: Option<Adresse>,
    /// Annual addresses, one per year.
    pub adresses_annuelles: Vec<AdresseAnnuelle>,
}

fn take(v: &Option<String>) -> Option<String> {
    present(v.as_deref()).map(str::to_owned)
}

fn adresse(a: &dto::Adresse, cod_thb: Option<String>) -> Adresse {
    Adresse {
        lib_ad1: take(&a.lib1),
        lib_ad2: take(&a.lib2),
        lib_ad3: take(&a.lib3),
        lib_ade: take(&a.lib_ade),
        cod_bdi: take(&a.cod_bdi),
        cod_com: take(&a.cod_com),
        cod_pay: take(&a.cod_pay),
        num_tel: take(&a.num_tel),
        cod_thb,
    }
}

/// What a primo enrolment for `cod_anu` copies from the OPI `code`: civil status, birth,
/// nationality, contacts, the bac, the addresses (the annual one for `cod_anu`, with the
/// accommodation type), the first enrolment years; the first year in this establishment is
/// `cod_anu` when the OPI does not say.
pub fn from_opi(code: &str, d: &DonneesOpi, cod_anu: &str) -> Dossier {
    let ind = d.individu.clone().unwrap_or_default();
    let ec = ind.etat_civil.unwrap_or_default();
    let nai = ind.donnees_naissance.unwrap_or_default();
    let per = ind.donnees_personnelles.unwrap_or_default();
    let pre = ind.premiere_inscription.unwrap_or_default();
    let bacs = d
        .bac
        .iter()
        .filter(|b| present(b.cod_bac.as_deref()).is_some())
        .map(|b| Bac {
            cod_bac: take(&b.cod_bac),
            daa_obt_bac: take(&b.daa_obt_bac_oba),
            cod_mnb: take(&b.cod_mention),
            cod_etb: take(&b.cod_etb),
            cod_dep: take(&b.cod_dep),
            cod_tpe: take(&b.cod_tpe),
            cod_spe1_bac: take(&b.cod_spe1_bac_ter),
            cod_spe2_bac: take(&b.cod_spe2_bac_ter),
            cod_spe_bac_pre: take(&b.cod_spe_bac_pre),
            cod_opt1_bac: take(&b.cod_opt1_bac),
            cod_opt2_bac: take(&b.cod_opt2_bac),
            cod_opt3_bac: take(&b.cod_opt3_bac),
            cod_opt4_bac: take(&b.cod_opt4_bac),
        })
        .collect();
    Dossier {
        cod_sex_etu: take(&ec.cod_sex_etu_opi),
        lib_pr2_ind: take(&ec.lib_pr2_ind_opi),
        lib_pr3_ind: take(&ec.lib_pr3_ind_opi),
        cod_pay_nat: take(&nai.cod_pay_nat),
        cod_typ_dep_pay_nai: take(&nai.cod_typ_dep_pay_nai),
        cod_dep_pay_nai: take(&nai.cod_dep_pay_nai),
        cod_com_nai: take(&nai.cod_com_nai_etu_opi),
        lib_vil_nai_etu: take(&nai.lib_vil_nai_etu_opi),
        tem_date_nai_rel: take(&nai.tem_date_nai_rel_opi),
        adr_mail: take(&per.adr_mail_opi),
        num_tel_por: take(&per.num_tel_por_opi),
        cod_fam: take(&per.cod_fam),
        cod_sim: take(&per.cod_sim),
        cod_thp: take(&per.cod_thp_opi),
        daa_ens_sup: take(&pre.daa_ens_sup_opi),
        daa_ent_etb: take(&pre.daa_ent_etb_opi).or_else(|| Some(cod_anu.to_owned())),
        daa_etb: take(&pre.daa_etb_opi),
        daa_etr_sup: take(&pre.daa_etr_sup),
        cod_etb_pre_univ: take(&pre.cod_etb),
        tem_boursier: None,
        cod_opi_int_epo: Some(code.to_owned()),
        bacs,
        adresse_fixe: d.adresse_fixe.as_ref().map(|a| adresse(a, None)),
        adresses_annuelles: d
            .adresse_annuelle
            .as_ref()
            .map(|a| AdresseAnnuelle {
                cod_anu: Some(cod_anu.to_owned()),
                adresse: adresse(a, take(&per.cod_thb_opi)),
            })
            .into_iter()
            .collect(),
    }
}

fn check_adresse(c: &mut Checker, a: &Adresse, p: &str) -> Adresse {
    let f = |n: &str| format!("{p}.{n}");
    Adresse {
        lib_ad1: c.text(&a.lib_ad1, &f("libAd1"), 32),
        lib_ad2: c.text(&a.lib_ad2, &f("libAd2"), 32),
        lib_ad3: c.text(&a.lib_ad3, &f("libAd3"), 32),
        lib_ade: c.text(&a.lib_ade, &f("libAde"), 32),
        cod_bdi: c.text(&a.cod_bdi, &f("codBdi"), 5),
        cod_com: c.text(&a.cod_com, &f("codCom"), 5),
        cod_pay: c.text(&a.cod_pay, &f("codPay"), 3),
        num_tel: c.text(&a.num_tel, &f("numTel"), 15),
        cod_thb: c.text(&a.cod_thb, &f("codThb"), 1),
    }
}

fn check_bac(c: &mut Checker, b: &Bac, p: &str) -> Bac {
    let f = |n: &str| format!("{p}.{n}");
    Bac {
        cod_bac: c.required(&b.cod_bac, &f("codBac"), 4),
        daa_obt_bac: c.digits(&b.daa_obt_bac, &f("daaObtBac"), 4),
        cod_mnb: c.text(&b.cod_mnb, &f("codMnb"), 2),
        cod_etb: c.text(&b.cod_etb, &f("codEtb"), 8),
        cod_dep: c.text(&b.cod_dep, &f("codDep"), 3),
        cod_tpe: c.text(&b.cod_tpe, &f("codTpe"), 2),
        cod_spe1_bac: c.text(&b.cod_spe1_bac, &f("codSpe1Bac"), 4),
        cod_spe2_bac: c.text(&b.cod_spe2_bac, &f("codSpe2Bac"), 4),
        cod_spe_bac_pre: c.text(&b.cod_spe_bac_pre, &f("codSpeBacPre"), 4),
        cod_opt1_bac: c.text(&b.cod_opt1_bac, &f("codOpt1Bac"), 4),
        cod_opt2_bac: c.text(&b.cod_opt2_bac, &f("codOpt2Bac"), 4),
        cod_opt3_bac: c.text(&b.cod_opt3_bac, &f("codOpt3Bac"), 4),
        cod_opt4_bac: c.text(&b.cod_opt4_bac, &f("codOpt4Bac"), 4),
    }
}

/// Checks a file sent by a client (lengths, codes, years; one bac per code, one annual address
/// per year) under the path `p` (`dossier`); the errors go to `c`, the file returned is the
/// checked one (trimmed values).
pub fn check(c: &mut Checker, d: &Dossier, p: &str) -> Dossier {
    let f = |n: &str| format!("{p}.{n}");
    let mut out = Dossier {
        cod_sex_etu: c.one_of(&d.cod_sex_etu, &f("codSexEtu"), &["M", "F"]),
        lib_pr2_ind: c.name(&d.lib_pr2_ind, &f("libPr2Ind"), 20, false),
        lib_pr3_ind: c.name(&d.lib_pr3_ind, &f("libPr3Ind"), 20, false),
        cod_pay_nat: c.digits(&d.cod_pay_nat, &f("codPayNat"), 3),
        cod_typ_dep_pay_nai: c.one_of(&d.cod_typ_dep_pay_nai, &f("codTypDepPayNai"), &["D", "P"]),
        cod_dep_pay_nai: c.text(&d.cod_dep_pay_nai, &f("codDepPayNai"), 3),
        cod_com_nai: c.text(&d.cod_com_nai, &f("codComNai"), 5),
        lib_vil_nai_etu: c.text(&d.lib_vil_nai_etu, &f("libVilNaiEtu"), 30),
        tem_date_nai_rel: c.one_of(&d.tem_date_nai_rel, &f("temDateNaiRel"), &["O", "N"]),
        adr_mail: c.text(&d.adr_mail, &f("adrMail"), 200),
        num_tel_por: c.text(&d.num_tel_por, &f("numTelPor"), 20),
        cod_fam: c.text(&d.cod_fam, &f("codFam"), 1),
        cod_sim: c.text(&d.cod_sim, &f("codSim"), 1),
        cod_thp: c.text(&d.cod_thp, &f("codThp"), 2),
        daa_ens_sup: c.digits(&d.daa_ens_sup, &f("daaEnsSup"), 4),
        daa_ent_etb: c.digits(&d.daa_ent_etb, &f("daaEntEtb"), 4),
        daa_etb: c.digits(&d.daa_etb, &f("daaEtb"), 4),
        daa_etr_sup: c.digits(&d.daa_etr_sup, &f("daaEtrSup"), 4),
        cod_etb_pre_univ: c.text(&d.cod_etb_pre_univ, &f("codEtbPreUniv"), 8),
        tem_boursier: c.one_of(&d.tem_boursier, &f("temBoursier"), &["O", "N"]),
        cod_opi_int_epo: None,
        bacs: Vec::new(),
        adresse_fixe: d
            .adresse_fixe
            .as_ref()
            .map(|a| check_adresse(c, a, &f("adresseFixe"))),
        adresses_annuelles: Vec::new(),
    };
    if let Some(mail) = &out.adr_mail
        && !mail.contains('@')
    {
        c.invalid(
            "FORMAT",
            &f("adrMail"),
            format!("adrMail « {mail} » : adresse électronique attendue"),
        );
    }
    for (i, b) in d.bacs.iter().enumerate() {
        let bp = format!("{p}.bacs[{i}]");
        let bac = check_bac(c, b, &bp);
        if bac.cod_bac.is_some() && out.bacs.iter().any(|o| o.cod_bac == bac.cod_bac) {
            c.invalid("DOUBLON", &format!("{bp}.codBac"), "bac en double");
        } else if bac.cod_bac.is_some() {
            out.bacs.push(bac);
        }
    }
    for (i, a) in d.adresses_annuelles.iter().enumerate() {
        let ap = format!("{p}.adressesAnnuelles[{i}]");
        let anu = c.digits(&a.cod_anu, &format!("{ap}.codAnu"), 4);
        if present(a.cod_anu.as_deref()).is_none() {
            c.invalid(
                "CHAMP_OBLIGATOIRE",
                &format!("{ap}.codAnu"),
                format!("{ap}.codAnu est obligatoire"),
            );
        }
        let adresse = check_adresse(c, &a.adresse, &ap);
        if anu.is_some() && out.adresses_annuelles.iter().any(|o| o.cod_anu == anu) {
            c.invalid(
                "DOUBLON",
                &format!("{ap}.codAnu"),
                "adresse annuelle en double pour cette année",
            );
        } else if anu.is_some() {
            out.adresses_annuelles.push(AdresseAnnuelle {
                cod_anu: anu,
                adresse,
            });
        }
    }
    out
}

/// The optional CSV columns of the file in a student batch (`POST /api/v1/etudiants/batch`),
/// after the identity and enrolment columns: the scalar columns under their JSON names, one bac
/// (`bac.…`), the fixed address (`adresseFixe.…`) and one annual address (`adresseAnnuelle.…`).
/// A file without them loads as before; NDJSON carries any number of bacs and annual addresses.
pub const CSV_COLUMNS: &[&str] = &[
    "codSexEtu",
    "libPr2Ind",
    "libPr3Ind",
    "codPayNat",
    "codTypDepPayNai",
    "codDepPayNai",
    "codComNai",
    "libVilNaiEtu",
    "temDateNaiRel",
    "adrMail",
    "numTelPor",
    "codFam",
    "codSim",
    "codThp",
    "daaEnsSup",
    "daaEntEtb",
    "daaEtb",
    "daaEtrSup",
    "codEtbPreUniv",
    "temBoursier",
    "bac.codBac",
    "bac.daaObtBac",
    "bac.codMnb",
    "bac.codEtb",
    "bac.codDep",
    "bac.codTpe",
    "bac.codSpe1Bac",
    "bac.codSpe2Bac",
    "adresseFixe.libAd1",
    "adresseFixe.libAd2",
    "adresseFixe.libAd3",
    "adresseFixe.libAde",
    "adresseFixe.codBdi",
    "adresseFixe.codCom",
    "adresseFixe.codPay",
    "adresseFixe.numTel",
    "adresseAnnuelle.codAnu",
    "adresseAnnuelle.libAd1",
    "adresseAnnuelle.libAd2",
    "adresseAnnuelle.libAd3",
    "adresseAnnuelle.libAde",
    "adresseAnnuelle.codBdi",
    "adresseAnnuelle.codCom",
    "adresseAnnuelle.codPay",
    "adresseAnnuelle.numTel",
    "adresseAnnuelle.codThb",
];

/// The address of the eight (nine with `codThb`) cells from `at`, if any is set.
fn adresse_cells(cell: &impl Fn(usize) -> Option<String>, at: usize, thb: bool) -> Option<Adresse> {
    let a = Adresse {
        lib_ad1: cell(at),
        lib_ad2: cell(at + 1),
        lib_ad3: cell(at + 2),
        lib_ade: cell(at + 3),
        cod_bdi: cell(at + 4),
        cod_com: cell(at + 5),
        cod_pay: cell(at + 6),
        num_tel: cell(at + 7),
        cod_thb: if thb { cell(at + 8) } else { None },
    };
    (a != Adresse::default()).then_some(a)
}

/// The file of a CSV row's [`CSV_COLUMNS`] cells (in that order), or `None` when every cell is
/// empty: the stored file is then kept, as an absent `dossier` in JSON.
pub fn from_cells(cells: &[Option<&str>]) -> Option<Dossier> {
    if cells.iter().all(|c| present(*c).is_none()) {
        return None;
    }
    let cell = |i: usize| present(cells.get(i).copied().flatten()).map(str::to_owned);
    let bac = Bac {
        cod_bac: cell(20),
        daa_obt_bac: cell(21),
        cod_mnb: cell(22),
        cod_etb: cell(23),
        cod_dep: cell(24),
        cod_tpe: cell(25),
        cod_spe1_bac: cell(26),
        cod_spe2_bac: cell(27),
        ..Bac::default()
    };
    let annual = adresse_cells(&cell, 37, true);
    Some(Dossier {
        cod_sex_etu: cell(0),
        lib_pr2_ind: cell(1),
        lib_pr3_ind: cell(2),
        cod_pay_nat: cell(3),
        cod_typ_dep_pay_nai: cell(4),
        cod_dep_pay_nai: cell(5),
        cod_com_nai: cell(6),
        lib_vil_nai_etu: cell(7),
        tem_date_nai_rel: cell(8),
        adr_mail: cell(9),
        num_tel_por: cell(10),
        cod_fam: cell(11),
        cod_sim: cell(12),
        cod_thp: cell(13),
        daa_ens_sup: cell(14),
        daa_ent_etb: cell(15),
        daa_etb: cell(16),
        daa_etr_sup: cell(17),
        cod_etb_pre_univ: cell(18),
        tem_boursier: cell(19),
        cod_opi_int_epo: None,
        bacs: (bac != Bac::default()).then_some(bac).into_iter().collect(),
        adresse_fixe: adresse_cells(&cell, 28, false),
        adresses_annuelles: (annual.is_some() || cell(36).is_some())
            .then(|| AdresseAnnuelle {
                cod_anu: cell(36),
                adresse: annual.unwrap_or_default(),
            })
            .into_iter()
            .collect(),
    })
}

impl Dossier {
    /// The annual address of `cod_anu`, or of the latest year when `None`.
    pub fn adresse_annuelle(&self, cod_anu: Option<&str>) -> Option<&AdresseAnnuelle> {
        match cod_anu {
            Some(y) => self
                .adresses_annuelles
                .iter()
                .find(|a| a.cod_anu.as_deref() == Some(y)),
            None => self
                .adresses_annuelles
                .iter()
                .max_by(|a, b| a.cod_anu.cmp(&b.cod_anu)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_opi_copies_the_candidate() -> Result<(), serde_json::Error> {
        let d: DonneesOpi = serde_json::from_value(serde_json::json!({
            "individu": {
                "etatCivil": {"codSexEtuOpi": "F", "libPr2IndOpi": "Anne"},
                "donneesNaissance": {"codPayNat": "100", "codTypDepPayNai": "D", "codDepPayNai": "069",
                                     "libVilNaiEtuOpi": "Lyon"},
                "donneesPersonnelles": {"adrMailOpi": "a@b.fr", "numTelPorOpi": "0601020304", "codThbOpi": "1"},
                "premiereInscription": {"daaEnsSupOpi": "2025"}
            },
            "bac": {"codBac": "0031", "daaObtBacOba": "2025", "codMention": "B"},
            "adresseFixe": {"lib1": "1 rue A", "codBdi": "69001", "codPay": "100"},
            "adresseAnnuelle": {"lib1": "2 rue B", "codPay": "100"}
        }))?;
        let f = from_opi("EC-1", &d, "2026");
        assert_eq!(f.cod_sex_etu.as_deref(), Some("F"));
        assert_eq!(f.cod_pay_nat.as_deref(), Some("100"));
        assert_eq!(f.bacs.len(), 1);
        assert_eq!(f.bacs[0].cod_mnb.as_deref(), Some("B"));
        assert_eq!(f.daa_ent_etb.as_deref(), Some("2026"));
        assert_eq!(f.daa_ens_sup.as_deref(), Some("2025"));
        let a = f.adresse_annuelle(Some("2026")).map(|a| &a.adresse);
        assert_eq!(a.and_then(|a| a.cod_thb.as_deref()), Some("1"));
        assert_eq!(
            f.adresse_fixe.and_then(|a| a.lib_ad1),
            Some("1 rue A".to_owned())
        );
        Ok(())
    }

    #[test]
    fn csv_cells_make_a_file_or_none() {
        assert_eq!(
            from_cells(&[None, Some(" ")]),
            None,
            "no file: the stored one is kept"
        );
        let mut cells = vec![None; CSV_COLUMNS.len()];
        let at = |name: &str| {
            CSV_COLUMNS
                .iter()
                .position(|c| *c == name)
                .unwrap_or(usize::MAX)
        };
        cells[at("codSexEtu")] = Some("F");
        cells[at("bac.codBac")] = Some("S");
        cells[at("bac.codSpe2Bac")] = Some("D002");
        cells[at("adresseFixe.libAd1")] = Some("1 rue A");
        cells[at("adresseFixe.numTel")] = Some("0300000000");
        cells[at("adresseAnnuelle.codAnu")] = Some("2025");
        cells[at("adresseAnnuelle.codThb")] = Some("4");
        let f = from_cells(&cells).unwrap_or_default();
        assert_eq!(f.cod_sex_etu.as_deref(), Some("F"));
        assert_eq!(f.bacs[0].cod_bac.as_deref(), Some("S"));
        assert_eq!(f.bacs[0].cod_spe2_bac.as_deref(), Some("D002"));
        let fixe = f.adresse_fixe.clone().unwrap_or_default();
        assert_eq!(
            (fixe.lib_ad1.as_deref(), fixe.num_tel.as_deref()),
            (Some("1 rue A"), Some("0300000000"))
        );
        let a = f
            .adresse_annuelle(Some("2025"))
            .map(|a| a.adresse.cod_thb.clone());
        assert_eq!(a, Some(Some("4".to_owned())));
    }

    #[test]
    fn check_reports_each_bad_value() {
        let mut c = Checker::default();
        let d = Dossier {
            cod_sex_etu: Some("X".into()),
            adr_mail: Some("nope".into()),
            bacs: vec![Bac::default()],
            adresses_annuelles: vec![AdresseAnnuelle::default()],
            ..Dossier::default()
        };
        let _ = check(&mut c, &d, "dossier");
        let fields: Vec<_> = c.errors.iter().filter_map(|e| e.field.clone()).collect();
        assert!(
            fields.contains(&"dossier.codSexEtu".to_owned()),
            "{fields:?}"
        );
        assert!(fields.contains(&"dossier.adrMail".to_owned()), "{fields:?}");
        assert!(
            fields.contains(&"dossier.bacs[0].codBac".to_owned()),
            "{fields:?}"
        );
        assert!(
            fields.contains(&"dossier.adressesAnnuelles[0].codAnu".to_owned()),
            "{fields:?}"
        );
    }
}
