//! The OPI payload, `DonneesOpiDTO10` (and `DonneesOpiDTO9`, its subset), exactly as the SOAP
//! contract names it (`soap-contract.md` §2.5). The same structs read the REST JSON body
//! (`PUT /api/v1/opi/{codOpiIntEpo}`, camelCase DTO names) and the SOAP body (the codec turns the
//! XML tree into the same JSON shape). Every leaf is kept as received text: the rules check
//! formats and report the exact element, instead of the codec failing on a number.

use serde::{Deserialize, Deserializer, Serialize};

/// A leaf: absent, nil, JSON null, or text. JSON numbers and booleans are accepted as text.
pub type Leaf = Option<String>;

pub(crate) fn leaf<'de, D: Deserializer<'de>>(d: D) -> Result<Leaf, D::Error> {
    d.deserialize_option(LeafVisitor)
}

/// Reads a leaf without an intermediate JSON value: text as is, numbers and booleans as their
/// JSON text, null as absent; a block or a list given for a leaf as its JSON text.
struct LeafVisitor;

impl<'de> serde::de::Visitor<'de> for LeafVisitor {
    type Value = Leaf;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("un texte")
    }
    fn visit_none<E: serde::de::Error>(self) -> Result<Leaf, E> {
        Ok(None)
    }
    fn visit_unit<E: serde::de::Error>(self) -> Result<Leaf, E> {
        Ok(None)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Leaf, D::Error> {
        d.deserialize_any(LeafVisitor)
    }
    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Leaf, E> {
        Ok(Some(v.to_owned()))
    }
    fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Leaf, E> {
        Ok(Some(v))
    }
    fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<Leaf, E> {
        Ok(Some(v.to_string()))
    }
    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Leaf, E> {
        Ok(Some(v.to_string()))
    }
    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Leaf, E> {
        Ok(Some(v.to_string()))
    }
    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Leaf, E> {
        // JSON's spelling of the number (`1.0`, not `1`).
        Ok(Some(serde_json::Value::from(v).to_string()))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<Leaf, A::Error> {
        let v = serde_json::Value::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
        Ok(Some(v.to_string()))
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, seq: A) -> Result<Leaf, A::Error> {
        let v = serde_json::Value::deserialize(serde::de::value::SeqAccessDeserializer::new(seq))?;
        Ok(Some(v.to_string()))
    }
}

/// `Deserialize` from a JSON object only, for structs whose derives are declared
/// `#[serde(remote = "Self")]` (the derived code becomes inherent functions that these trait
/// impls call). A derived struct also reads a JSON array positionally: `[]` would be an empty
/// payload (for an LP, "clear every attribute"), `["IAPRIMO", …]` a payload by position. No
/// client means either: they are refused as "object expected". `serialize` forwards to the
/// derived code.
macro_rules! object_only {
    (@de $t:ty) => {
        impl<'de> serde::Deserialize<'de> for $t {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct ObjectOnly;
                impl<'de> serde::de::Visitor<'de> for ObjectOnly {
                    type Value = $t;
                    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        f.write_str(concat!("un objet JSON (", stringify!($t), ")"))
                    }
                    fn visit_map<A: serde::de::MapAccess<'de>>(
                        self,
                        map: A,
                    ) -> Result<$t, A::Error> {
                        <$t>::deserialize(serde::de::value::MapAccessDeserializer::new(map))
                    }
                }
                d.deserialize_map(ObjectOnly)
            }
        }
    };
    ($($t:ty),* $(,)?) => {
        $(
            $crate::opi::dto::object_only!(@de $t);
            impl serde::Serialize for $t {
                fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                    <$t>::serialize(self, s)
                }
            }
        )*
    };
}
pub(crate) use object_only;

macro_rules! dto {
    ($(#[$m:meta])* $name:ident { $($(#[$fm:meta])* $field:ident),* $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[serde(remote = "Self", rename_all = "camelCase", default)]
        pub struct $name {
            $(
                $(#[$fm])*
                #[serde(deserialize_with = "leaf", skip_serializing_if = "Option::is_none")]
                pub $field: Leaf,
            )*
        }
        object_only!($name);
    };
}

dto!(
    /// `MAJOpiAdresseDTO` (`adresseFixe`, `adresseAnnuelle`).
    Adresse { cod_bdi, cod_com, cod_pay, lib1, lib2, lib3, lib_ade, num_tel }
);

dto!(
    /// `MAJOpiBacDTO2` (v10; v9 has only the first six leaves).
    Bac {
        cod_bac, cod_dep, cod_etb, cod_mention, cod_tpe, daa_obt_bac_oba,
        cod_spe1_bac_ter, cod_spe2_bac_ter, cod_spe_bac_pre,
        cod_opt1_bac, cod_opt2_bac, cod_opt3_bac, cod_opt4_bac,
    }
);

dto!(
    /// `MAJOpiDacDTO` (`dac`).
    Dac {
        cod_cur_opi, cod_dac, cod_dep_pay, cod_dip_cur, cod_etb, cod_nif, cod_tpe,
        cod_typ_dep_pay, daa_uni_dac, dip_cur, lib_cmt_dac, nbr_crd_cur, tem_obt_cur_vae, tem_obt_dac,
    }
);

dto!(
    /// `MAJDernierDiplObtDTO`.
    DernierDiplObt { cod_tde_der_dip, cod_dep_pay_der_dip, cod_typ_dep_pay_der_dip, cod_etb_der_dip, cod_tds_opi, daa_etb_der_dip }
);

dto!(
    /// `MAJDernierEtbFrequenteDTO`.
    DernierEtbFrequente { cod_dep_pay_ant_iaa_opi, cod_etb_ant_iaa, cod_tpe_ant_iaa, cod_typ_dep_pay_ant_iaa_opi, daa_etb_ant_iaa_opi }
);

dto!(
    /// `MAJDonneesNaissanceDTO2`.
    DonneesNaissance { cod_dep_pay_nai, cod_pay_nat, cod_typ_dep_pay_nai, date_nai_ind_opi, cod_com_nai_etu_opi, lib_vil_nai_etu_opi, tem_date_nai_rel_opi }
);

dto!(
    /// `MAJDonneesPersonnellesDTO3`.
    DonneesPersonnelles {
        adr_mail_opi, cod_fam, cod_pcs, cod_pcs_ap, cod_sim, cod_thb_opi, cod_thp_opi,
        daa_lbt_ind_opi, dmm_lbt_ind_opi, num_tel_por_opi, cod_rgi, cod_stu,
    }
);

dto!(
    /// `MAJEtatCivilDTO2`.
    EtatCivil { cod_nne_ind_opi, cod_sex_etu_opi, lib_nom_pat_ind_opi, lib_nom_usu_ind_opi, lib_pr1_ind_opi, lib_pr2_ind_opi, lib_pr3_ind_opi }
);

dto!(
    /// `MAJInscriptionParalleleDTO2`.
    InscriptionParallele { cod_etb_ann_crt, cod_tpe_ann_crt, tem_prl_ann_crt }
);

dto!(
    /// `MAJPremiereInscriptionDTO`.
    PremiereInscription { cod_etb, daa_ens_sup_opi, daa_ent_etb_opi, daa_etb_opi, daa_etr_sup }
);

dto!(
    /// `MAJPrgEchangeDTO`.
    PrgEchange { cod_etr_opi, cod_prg_opi, tem_sns_prg_opi }
);

dto!(
    /// `MAJSituationAnnPreDTO`.
    SituationAnnPre { cod_dep_pay_ann_pre_opi, cod_etb_ann_pre_opi, cod_sis_ann_pre_opi, cod_typ_dep_pay_ann_pre_opi }
);

dto!(
    /// `MAJConvocationDTO`.
    Convocation { dat_cvc, dhh_cvc, dmn_cvc }
);

dto!(
    /// `MAJTitreAccesExterneDTO`.
    TitreAccesExterne { cod_dac_opi, cod_dep_pay_dac_opi, cod_etb_dac_opi, cod_tpe_dac_opi, cod_typ_dep_pay_dac_opi, daa_dac_opi }
);

dto!(
    /// `MAJOpiTheseDTO` (`donneesThese`).
    These {
        cod_dip, cod_vrs_vdi, cod_etp, cod_vrs_vet, cod_ths_trv, cod_dis, lib_ths, lib_ths_lng,
        cod_lng, cod_edo, cod_per_dir, cod_per_cdr, cod_per_cdr2, cod_eqr,
    }
);

/// `MAJOpiIndDTO6` (`individu`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(remote = "Self", rename_all = "camelCase", default)]
pub struct Individu {
    /// Student number, when the person is already known.
    #[serde(deserialize_with = "leaf", skip_serializing_if = "Option::is_none")]
    pub cod_etu_opi: Leaf,
    /// External OPI number: the business key.
    #[serde(deserialize_with = "leaf", skip_serializing_if = "Option::is_none")]
    pub cod_opi_int_epo: Leaf,
    /// Last diploma obtained.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dernier_dipl_obt: Option<DernierDiplObt>,
    /// Last establishment attended.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dernier_etb_frequente: Option<DernierEtbFrequente>,
    /// Birth.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub donnees_naissance: Option<DonneesNaissance>,
    /// Personal data.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub donnees_personnelles: Option<DonneesPersonnelles>,
    /// Civil status.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub etat_civil: Option<EtatCivil>,
    /// Parallel enrolment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inscription_parallele: Option<InscriptionParallele>,
    /// First enrolments.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub premiere_inscription: Option<PremiereInscription>,
    /// Exchange programme.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prg_echange: Option<PrgEchange>,
    /// Situation the year before.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub situation_ann_pre: Option<SituationAnnPre>,
}

/// `MAJOpiVoeuDTO3` (`voeux/item`): 23 leaves and two blocks.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(remote = "Self", rename_all = "camelCase", default)]
pub struct Voeu {
    #[allow(missing_docs)]
    #[serde(deserialize_with = "leaf", skip_serializing_if = "Option::is_none")]
    pub cod_att_dec: Leaf,
    /// Centre de gestion (mandatory in practice).
    #[serde(deserialize_with = "leaf", skip_serializing_if = "Option::is_none")]
    pub cod_cge: Leaf,
    #[allow(missing_docs)]
    #[serde(deserialize_with = "leaf", skip_serializing_if = "Option::is_none")]
    pub cod_cmp: Leaf,
    /// Régime of the vœu (since 6.50).
    #[serde(deserialize_with = "leaf", skip_serializing_if = "Option::is_none")]
    pub cod_rge: Leaf,
    /// Decision `F`/`D`/`A`.
    #[serde(deserialize_with = "leaf", skip_serializing_if = "Option::is_none")]
    pub cod_dec_veu: Leaf,
    #[allow(missing_docs)]
    #[serde(deserialize_with = "leaf", skip_serializing_if = "Option::is_none")]
    pub cod_cat_oui_si: Leaf,
    #[allow(missing_docs)]
    #[serde(deserialize_with = "leaf", skip_serializing_if = "Option::is_none")]
    pub mtf_cat: Leaf,
    /// `C`/`T` (mandatory in practice).
    #[serde(deserialize_with = "leaf", skip_serializing_if = "Option::is_none")]
    pub cod_dem_dos: Leaf,
    #[allow(missing_docs)]
    #[serde(deserialize_with = "leaf", skip_serializing_if = "Option::is_none")]
    pub cod_dip: Leaf,
    /// Étape (mandatory in practice).
    #[serde(deserialize_with = "leaf", skip_serializing_if = "Option::is_none")]
    pub cod_etp: Leaf,
    #[allow(missing_docs)]
    #[serde(deserialize_with = "leaf", skip_serializing_if = "Option::is_none")]
    pub cod_mfo: Leaf,
    #[allow(missing_docs)]
    #[serde(deserialize_with = "leaf", skip_serializing_if = "Option::is_none")]
    pub cod_spe1_opi: Leaf,
    #[allow(missing_docs)]
    #[serde(deserialize_with = "leaf", skip_serializing_if = "Option::is_none")]
    pub cod_spe2_opi: Leaf,
    #[allow(missing_docs)]
    #[serde(deserialize_with = "leaf", skip_serializing_if = "Option::is_none")]
    pub cod_spe3_opi: Leaf,
    #[allow(missing_docs)]
    #[serde(deserialize_with = "leaf", skip_serializing_if = "Option::is_none")]
    pub cod_tyd: Leaf,
    #[allow(missing_docs)]
    #[serde(deserialize_with = "leaf", skip_serializing_if = "Option::is_none")]
    pub cod_vrs_vdi: Leaf,
    /// Version d'étape (mandatory in practice).
    #[serde(deserialize_with = "leaf", skip_serializing_if = "Option::is_none")]
    pub cod_vrs_vet: Leaf,
    #[allow(missing_docs)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub convocation: Option<Convocation>,
    #[allow(missing_docs)]
    #[serde(deserialize_with = "leaf", skip_serializing_if = "Option::is_none")]
    pub lib_cmt_jur: Leaf,
    /// Rank (mandatory in practice).
    #[serde(deserialize_with = "leaf", skip_serializing_if = "Option::is_none")]
    pub num_cls: Leaf,
    #[allow(missing_docs)]
    #[serde(deserialize_with = "leaf", skip_serializing_if = "Option::is_none")]
    pub tem_val_psd: Leaf,
    #[allow(missing_docs)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub titre_acces_externe: Option<TitreAccesExterne>,
    #[allow(missing_docs)]
    #[serde(deserialize_with = "leaf", skip_serializing_if = "Option::is_none")]
    pub ctr_adr: Leaf,
    #[allow(missing_docs)]
    #[serde(deserialize_with = "leaf", skip_serializing_if = "Option::is_none")]
    pub cod_cat_exo_ext: Leaf,
    #[allow(missing_docs)]
    #[serde(deserialize_with = "leaf", skip_serializing_if = "Option::is_none")]
    pub com_exo_ext: Leaf,
}

/// `TableauVoeu3` (`voeux`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(remote = "Self", rename_all = "camelCase", default)]
pub struct Voeux {
    /// Meaning undocumented; accepted and ignored (OPI-15 f).
    #[serde(deserialize_with = "leaf", skip_serializing_if = "Option::is_none")]
    pub mod_env: Leaf,
    /// The vœux (`item` in the XML; `item` or `items` in JSON).
    #[serde(alias = "items")]
    pub item: Vec<Voeu>,
}

/// `DonneesOpiDTO10` (`_donneesOpi`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(remote = "Self", rename_all = "camelCase", default)]
pub struct DonneesOpi {
    /// Address during the academic year.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub adresse_annuelle: Option<Adresse>,
    /// Permanent address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub adresse_fixe: Option<Adresse>,
    /// Bac or equivalent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bac: Option<Bac>,
    /// External diploma.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dac: Option<Dac>,
    /// The candidate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub individu: Option<Individu>,
    /// The vœux.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub voeux: Option<Voeux>,
    /// Doctoral data.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub donnees_these: Option<These>,
}

object_only!(Individu, Voeu, Voeux, DonneesOpi);

/// Whether no leaf of `leaves` carries a value.
fn none_present(leaves: &[&Leaf]) -> bool {
    leaves
        .iter()
        .all(|l| crate::text::present(l.as_deref()).is_none())
}

impl DonneesOpi {
    /// The payload as a client that writes `0` for every unset number and `""` for every unset
    /// string (PHP `SoapClient`, `soap-contract.md` §10) means it: a `0` where 0 is no valid
    /// value, next to an empty partner field, is absent ([`crate::text::unset_zero`]):
    /// `codEtuOpi` 0 (no student number is 0); in a vœu and in `donneesThese`, `codVrsVdi` 0
    /// without `codDip` and (thèse) `codVrsVet` 0 without `codEtp`; a convocation without
    /// `datCvc` at 0 h 0 (the whole block); in a `dac` or `donneesThese` that carries no text at
    /// all, its numbers 0 (an unset PHP object). A zero next to a given partner stays, and the
    /// rules refuse it. Blocks left with no value count as absent, like nil ones.
    pub fn without_unset_numbers(&self) -> DonneesOpi {
        use crate::text::unset_zero;
        let mut d = self.clone();
        if let Some(i) = d.individu.as_mut() {
            unset_zero(&mut i.cod_etu_opi, None);
        }
        for v in d.voeux.iter_mut().flat_map(|v| v.item.iter_mut()) {
            v.unset_numbers();
        }
        if let Some(t) = d.donnees_these.as_mut() {
            unset_zero(&mut t.cod_vrs_vdi, t.cod_dip.as_deref());
            unset_zero(&mut t.cod_vrs_vet, t.cod_etp.as_deref());
            let texts = [
                &t.cod_dip,
                &t.cod_etp,
                &t.cod_ths_trv,
                &t.lib_ths,
                &t.lib_ths_lng,
                &t.cod_lng,
                &t.cod_edo,
                &t.cod_eqr,
            ];
            if none_present(&texts) {
                for n in [
                    &mut t.cod_dis,
                    &mut t.cod_per_dir,
                    &mut t.cod_per_cdr,
                    &mut t.cod_per_cdr2,
                ] {
                    unset_zero(n, None);
                }
            }
        }
        if let Some(a) = d.dac.as_mut() {
            let texts = [
                &a.cod_cur_opi,
                &a.cod_dac,
                &a.cod_dep_pay,
                &a.cod_dip_cur,
                &a.cod_etb,
                &a.cod_tpe,
                &a.cod_typ_dep_pay,
                &a.daa_uni_dac,
                &a.dip_cur,
                &a.lib_cmt_dac,
                &a.tem_obt_cur_vae,
                &a.tem_obt_dac,
            ];
            if none_present(&texts) {
                unset_zero(&mut a.cod_nif, None);
                unset_zero(&mut a.nbr_crd_cur, None);
            }
        }
        d
    }
}

impl Voeu {
    /// [`DonneesOpi::without_unset_numbers`] on one vœu; a convocation or external access title
    /// left with no value is removed.
    fn unset_numbers(&mut self) {
        use crate::text::unset_zero;
        unset_zero(&mut self.cod_vrs_vdi, self.cod_dip.as_deref());
        // 0 h 0 is a time, but without a date it is the unset convocation of a PHP object;
        // 14 h 0 without a date keeps its minutes (the rules judge it).
        let unset = |n: &Leaf| {
            crate::text::present(n.as_deref()).is_none() || crate::text::is_zero(n.as_deref())
        };
        if self.convocation.as_ref().is_some_and(|c| {
            crate::text::present(c.dat_cvc.as_deref()).is_none()
                && unset(&c.dhh_cvc)
                && unset(&c.dmn_cvc)
        }) {
            self.convocation = None;
        }
        if let Some(t) = &self.titre_acces_externe {
            let leaves = [
                &t.cod_dac_opi,
                &t.cod_dep_pay_dac_opi,
                &t.cod_etb_dac_opi,
                &t.cod_tpe_dac_opi,
                &t.cod_typ_dep_pay_dac_opi,
                &t.daa_dac_opi,
            ];
            if none_present(&leaves) {
                self.titre_acces_externe = None;
            }
        }
    }

    /// Whether every leaf and block is absent (the "delete every vœu" item, OPI-15 b).
    pub fn is_empty(&self) -> bool {
        let blank = |l: &Leaf| crate::text::present(l.as_deref()).is_none();
        let leaves = [
            &self.cod_att_dec,
            &self.cod_cge,
            &self.cod_cmp,
            &self.cod_rge,
            &self.cod_dec_veu,
            &self.cod_cat_oui_si,
            &self.mtf_cat,
            &self.cod_dem_dos,
            &self.cod_dip,
            &self.cod_etp,
            &self.cod_mfo,
            &self.cod_spe1_opi,
            &self.cod_spe2_opi,
            &self.cod_spe3_opi,
            &self.cod_tyd,
            &self.cod_vrs_vdi,
            &self.cod_vrs_vet,
            &self.lib_cmt_jur,
            &self.num_cls,
            &self.tem_val_psd,
            &self.ctr_adr,
            &self.cod_cat_exo_ext,
            &self.com_exo_ext,
        ];
        leaves.into_iter().all(blank)
            && self
                .convocation
                .as_ref()
                .is_none_or(|c| *c == Convocation::default())
            && self
                .titre_acces_externe
                .as_ref()
                .is_none_or(|t| *t == TitreAccesExterne::default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_leaf_reads_any_json_value_as_its_json_text() -> Result<(), serde_json::Error> {
        for (json, want) in [
            ("null", None),
            ("\"EC 1\"", Some("EC 1")),
            ("22512345", Some("22512345")),
            ("-3", Some("-3")),
            ("1.0", Some("1.0")),
            ("true", Some("true")),
            ("{\"a\":[1,null]}", Some("{\"a\":[1,null]}")),
            ("[\"x\"]", Some("[\"x\"]")),
        ] {
            let e: EtatCivil = serde_json::from_str(&format!("{{\"libPr1IndOpi\":{json}}}"))?;
            assert_eq!(e.lib_pr1_ind_opi.as_deref(), want, "{json}");
        }
        Ok(())
    }

    #[test]
    fn json_reads_numbers_as_text_and_ignores_absent() -> Result<(), serde_json::Error> {
        let d: DonneesOpi = serde_json::from_str(
            r#"{"individu":{"codOpiIntEpo":"EC1","codEtuOpi":22512345},
                "voeux":{"item":[{"codCge":"CG1","codVrsVet":1,"numCls":"1"},{}]}}"#,
        )?;
        let ind = d.individu.unwrap_or_default();
        assert_eq!(ind.cod_etu_opi.as_deref(), Some("22512345"));
        let voeux = d.voeux.unwrap_or_default();
        assert_eq!(voeux.item[0].cod_vrs_vet.as_deref(), Some("1"));
        assert!(!voeux.item[0].is_empty());
        assert!(voeux.item[1].is_empty());
        let bac: Bac = serde_json::from_str(r#"{"codSpe1BacTer":"D001","codOpt4Bac":null}"#)?;
        assert_eq!(bac.cod_spe1_bac_ter.as_deref(), Some("D001"));
        Ok(())
    }

    #[test]
    fn json_arrays_are_not_read_as_objects() {
        // A derived struct would read `[]` as an all-absent payload and `["x", …]` by position.
        assert!(serde_json::from_str::<DonneesOpi>("[]").is_err());
        assert!(serde_json::from_str::<EtatCivil>(r#"["1", "F", "LEGRAND"]"#).is_err());
        assert!(serde_json::from_str::<DonneesOpi>(r#"{"voeux": {"item": [["CG1"]]}}"#).is_err());
        let ok: Result<DonneesOpi, _> = serde_json::from_str(r#"{"individu": {}}"#);
        assert!(ok.is_ok());
    }

    /// A vœu and the blocks as a PHP `SoapClient` sends them from objects whose properties
    /// default to `0` and `""`.
    fn php(voeu: serde_json::Value) -> Result<DonneesOpi, serde_json::Error> {
        serde_json::from_value(serde_json::json!({
            "individu": {"codOpiIntEpo": "PH1", "codEtuOpi": 0},
            "voeux": {"modEnv": "", "item": [voeu]},
            "dac": {"codDac": "", "codNif": 0, "nbrCrdCur": "0.0", "libCmtDac": ""},
            "donneesThese": {"codDip": "", "codVrsVdi": 0, "codEtp": "", "codVrsVet": 0,
                             "codDis": 0, "codPerDir": 0, "libThs": ""}
        }))
    }

    #[test]
    fn php_unset_numbers_are_absent() -> Result<(), serde_json::Error> {
        let d = php(serde_json::json!({
            "codCge": "CG1", "codEtp": "ETP02", "codVrsVet": 1, "numCls": 1,
            "codDip": "", "codVrsVdi": 0,
            "convocation": {"datCvc": "", "dhhCvc": 0, "dmnCvc": 0},
            "titreAccesExterne": {"codDacOpi": "", "daaDacOpi": ""}
        }))?
        .without_unset_numbers();
        let v = &d.voeux.clone().unwrap_or_default().item[0];
        assert_eq!(
            (v.cod_dip.as_deref(), v.cod_vrs_vdi.as_deref()),
            (Some(""), None)
        );
        assert_eq!(v.convocation, None);
        assert_eq!(v.titre_acces_externe, None);
        assert_eq!(
            v.cod_vrs_vet.as_deref(),
            Some("1"),
            "a version next to its étape stays"
        );
        assert_eq!(v.num_cls.as_deref(), Some("1"));
        assert_eq!(d.individu.unwrap_or_default().cod_etu_opi, None);
        let dac = d.dac.unwrap_or_default();
        assert_eq!((dac.cod_nif, dac.nbr_crd_cur), (None, None));
        let t = d.donnees_these.unwrap_or_default();
        assert_eq!(
            (t.cod_vrs_vdi, t.cod_vrs_vet, t.cod_dis, t.cod_per_dir),
            (None, None, None, None)
        );
        Ok(())
    }

    #[test]
    fn zeros_next_to_a_given_partner_are_values() -> Result<(), serde_json::Error> {
        let d = php(serde_json::json!({
            "codCge": "CG1", "codEtp": "ETP01", "codVrsVet": 1, "numCls": 1,
            "codDip": "DIP01", "codVrsVdi": 0,
            "convocation": {"datCvc": "01092026", "dhhCvc": 0, "dmnCvc": 0}
        }))?
        .without_unset_numbers();
        let v = &d.voeux.clone().unwrap_or_default().item[0];
        assert_eq!(v.cod_vrs_vdi.as_deref(), Some("0"), "refused later by V6");
        let c = v.convocation.clone().unwrap_or_default();
        assert_eq!(
            (c.dhh_cvc.as_deref(), c.dmn_cvc.as_deref()),
            (Some("0"), Some("0"))
        );
        // A vœu version 5 without a diploma is not a zero: it stays, refused later by V6.
        let d = php(serde_json::json!({"codDip": "", "codVrsVdi": 5}))?.without_unset_numbers();
        let v = &d.voeux.unwrap_or_default().item[0];
        assert_eq!(v.cod_vrs_vdi.as_deref(), Some("5"));
        // Without a date, 14 h 0 keeps its minutes.
        let d = php(serde_json::json!({"convocation": {"datCvc": "", "dhhCvc": 14, "dmnCvc": 0}}))?
            .without_unset_numbers();
        let c = d.voeux.unwrap_or_default().item[0]
            .convocation
            .clone()
            .unwrap_or_default();
        assert_eq!(
            (c.dhh_cvc.as_deref(), c.dmn_cvc.as_deref()),
            (Some("14"), Some("0"))
        );
        // A thèse with a subject keeps its numbers.
        let mut d = php(serde_json::json!({}))?;
        if let Some(t) = d.donnees_these.as_mut() {
            t.lib_ths = Some("Sujet".into());
        }
        let t = d.without_unset_numbers().donnees_these.unwrap_or_default();
        assert_eq!(t.cod_dis.as_deref(), Some("0"));
        Ok(())
    }
}
