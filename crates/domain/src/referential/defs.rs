//! The referential tables: one definition per table, used for import, storage, listing and
//! validation. Names are the REST names; columns carry the DTO (camelCase) names, the database
//! column is their snake_case form, and the Apogée table each one mirrors is recorded for the
//! mapping documented in `docs/DATA-MODEL.md`.

/// How a column's values are checked and stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnKind {
    /// A code: no white space, at most `max` characters, stored as sent.
    Code {
        /// Maximum length in characters.
        max: usize,
    },
    /// Free text (a label), at most `max` characters, no control characters.
    Text {
        /// Maximum length in characters.
        max: usize,
    },
    /// A year `yyyy`.
    Year,
    /// An integer in `min..=max`.
    Int {
        /// Smallest accepted value.
        min: i64,
        /// Largest accepted value.
        max: i64,
    },
    /// An Apogée flag, `O` (oui) or `N` (non).
    Flag,
    /// A calendar date, `YYYY-MM-DD`.
    Date,
}

/// One column of a referential table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ColumnDef {
    /// Name in JSON, CSV headers and filters (Apogée DTO spelling, camelCase).
    pub name: &'static str,
    /// Value rules.
    pub kind: ColumnKind,
    /// Part of the primary key.
    pub key: bool,
    /// A value is mandatory (keys always are).
    pub required: bool,
    /// Value used when the column is absent from the input.
    pub default: Option<&'static str>,
}

/// One referential table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableDef {
    /// REST name (`/api/v1/referential/{name}`) and demo file name (`{name}.csv`).
    pub name: &'static str,
    /// Database table.
    pub db_table: &'static str,
    /// The Apogée table it mirrors.
    pub apogee_table: &'static str,
    /// What it holds.
    pub label: &'static str,
    /// Its columns, keys first.
    pub columns: &'static [ColumnDef],
}

impl TableDef {
    /// The key columns.
    pub fn key_columns(&self) -> impl Iterator<Item = (usize, &ColumnDef)> {
        self.columns.iter().enumerate().filter(|(_, c)| c.key)
    }

    /// The column named `name` (tolerant match, see [`crate::text::fold_name`]).
    pub fn column(&self, name: &str) -> Option<(usize, &ColumnDef)> {
        let folded = crate::text::fold_name(name);
        self.columns
            .iter()
            .enumerate()
            .find(|(_, c)| crate::text::fold_name(c.name) == folded)
    }
}

/// The definition of the table named `name` (REST name).
pub fn table(name: &str) -> Option<&'static TableDef> {
    TABLES.iter().find(|t| t.name == name)
}

const fn key(name: &'static str, kind: ColumnKind) -> ColumnDef {
    ColumnDef {
        name,
        kind,
        key: true,
        required: true,
        default: None,
    }
}

const fn req(name: &'static str, kind: ColumnKind) -> ColumnDef {
    ColumnDef {
        name,
        kind,
        key: false,
        required: true,
        default: None,
    }
}

const fn opt(name: &'static str, kind: ColumnKind) -> ColumnDef {
    ColumnDef {
        name,
        kind,
        key: false,
        required: false,
        default: None,
    }
}

/// A flag column defaulting to `default` when absent.
const fn flag(name: &'static str, default: &'static str) -> ColumnDef {
    ColumnDef {
        name,
        kind: ColumnKind::Flag,
        key: false,
        required: true,
        default: Some(default),
    }
}

const fn code(max: usize) -> ColumnKind {
    ColumnKind::Code { max }
}

const fn text(max: usize) -> ColumnKind {
    ColumnKind::Text { max }
}

const VERSION: ColumnKind = ColumnKind::Int { min: 0, max: 999 };
const COUNT: ColumnKind = ColumnKind::Int {
    min: 0,
    max: 99_999,
};

/// Every referential table, in load order (parents before the link tables that name them).
pub static TABLES: &[TableDef] = &[
    TableDef {
        name: "annees",
        db_table: "ref_annee_uni",
        apogee_table: "ANNEE_UNI",
        label: "Années universitaires (ouverte aux inscriptions ou non)",
        columns: &[
            key("codAnu", ColumnKind::Year),
            req("libAnu", text(40)),
            flag("etaAnuIae", "N"),
            opt("licAnu", text(10)),
        ],
    },
    TableDef {
        name: "centres-gestion",
        db_table: "ref_centre_gestion",
        apogee_table: "CENTRE_GESTION",
        label: "Centres de gestion",
        columns: &[
            key("codCge", code(3)),
            req("libCge", text(40)),
            opt("licCge", text(10)),
            flag("temEnSveCge", "O"),
            flag("temAccesDistance", "N"),
        ],
    },
    TableDef {
        name: "diplomes",
        db_table: "ref_diplome",
        apogee_table: "DIPLOME",
        label: "Diplômes",
        columns: &[
            key("codDip", code(7)),
            req("libDip", text(60)),
            flag("temEnSveDip", "O"),
            opt("codTpdEtb", code(2)),
        ],
    },
    TableDef {
        name: "versions-diplome",
        db_table: "ref_version_diplome",
        apogee_table: "VERSION_DIPLOME",
        label: "Versions de diplôme (VDI)",
        columns: &[
            key("codDip", code(7)),
            key("codVrsVdi", VERSION),
            opt("libVdi", text(60)),
            flag("temEnSveVdi", "O"),
        ],
    },
    TableDef {
        name: "etapes",
        db_table: "ref_etape",
        apogee_table: "ETAPE",
        label: "Étapes",
        columns: &[
            key("codEtp", code(6)),
            req("libEtp", text(60)),
            opt("nbrMaxIaeAut", COUNT),
            flag("temEnSveEtp", "O"),
        ],
    },
    TableDef {
        name: "versions-etape",
        db_table: "ref_version_etape",
        apogee_table: "VERSION_ETAPE",
        label: "Versions d'étape (VET)",
        columns: &[
            key("codEtp", code(6)),
            key("codVrsVet", VERSION),
            opt("libVet", text(60)),
            flag("temEnSveVet", "O"),
            opt("libWebVet", text(120)),
        ],
    },
    TableDef {
        name: "etapes-cge",
        db_table: "ref_etp_gerer_cge",
        apogee_table: "ETP_GERER_CGE",
        label: "Centres de gestion gérant une étape (et la composante de l'étape dans ce centre)",
        columns: &[
            key("codEtp", code(6)),
            key("codCge", code(3)),
            opt("codCmp", code(3)),
        ],
    },
    TableDef {
        name: "vdi-vet",
        db_table: "ref_vdi_fractionner_vet",
        apogee_table: "VDI_FRACTIONNER_VET",
        label: "Liens version de diplôme ↔ version d'étape",
        columns: &[
            key("codDip", code(7)),
            key("codVrsVdi", VERSION),
            key("codEtp", code(6)),
            key("codVrsVet", VERSION),
            opt("daaDebRctVet", ColumnKind::Year),
            opt("daaFinRctVet", ColumnKind::Year),
        ],
    },
    TableDef {
        name: "vdi-composantes",
        db_table: "ref_cmp_habiliter_vdi",
        apogee_table: "CMP_HABILITER_VDI",
        label: "Composantes habilitées pour une version de diplôme (la première est la composante d'accueil)",
        columns: &[
            key("codDip", code(7)),
            key("codVrsVdi", VERSION),
            key("codCmp", code(3)),
        ],
    },
    TableDef {
        name: "vet-ouvertures",
        db_table: "ref_vet_ouverture",
        apogee_table: "VERSION_ETAPE (COD_CGE_MIN[P]_VET, DAT_DEB/FIN_MIN[P]_VET) par année",
        label: "Ouverture des VET à l'inscription à distance, par année (primo: MINP, réinscription: MIN)",
        columns: &[
            key("codAnu", ColumnKind::Year),
            key("codEtp", code(6)),
            key("codVrsVet", VERSION),
            opt("codCgeMinpVet", code(3)),
            opt("datDebMinpVet", ColumnKind::Date),
            opt("datFinMinpVet", ColumnKind::Date),
            opt("codCgeMinVet", code(3)),
            opt("datDebMinVet", ColumnKind::Date),
            opt("datFinMinVet", ColumnKind::Date),
        ],
    },
    TableDef {
        name: "vet-regimes",
        db_table: "ref_rgi_autoriser_vet",
        apogee_table: "RGI_AUTORISER_VET",
        label: "Régimes d'inscription autorisés sur une VET",
        columns: &[
            key("codEtp", code(6)),
            key("codVrsVet", VERSION),
            key("codRgi", code(5)),
        ],
    },
    TableDef {
        name: "regimes-bcn",
        db_table: "ref_regime_bcn",
        apogee_table: "BCN N_REGIME_INSCRIPTION (national)",
        label: "Régimes d'inscription nationaux (BCN)",
        columns: &[key("codBcn", code(2)), req("libBcn", text(100))],
    },
    TableDef {
        name: "regimes",
        db_table: "ref_regime_ins",
        apogee_table: "REGIME_INS",
        label: "Régimes d'inscription de l'établissement",
        columns: &[
            key("codRgi", code(5)),
            req("libRgi", text(65)),
            opt("licRgi", text(15)),
            opt("codBcn", code(2)),
            flag("temEnSveRgi", "O"),
        ],
    },
    TableDef {
        name: "statuts",
        db_table: "ref_statut_etu",
        apogee_table: "STATUT_ETU",
        label: "Statuts étudiant",
        columns: &[
            key("codStu", code(5)),
            req("libStu", text(65)),
            opt("licStu", text(15)),
            flag("temEnSveStu", "O"),
        ],
    },
    TableDef {
        name: "categories-oui-si",
        db_table: "ref_cat_oui_si",
        apogee_table: "(catégories « Oui si », nom Apogée non public)",
        label: "Catégories Parcoursup « Oui si »",
        columns: &[
            key("codCatOuiSi", code(5)),
            req("libCatOuiSi", text(65)),
            flag("temEnSveCatOuiSi", "O"),
        ],
    },
    TableDef {
        name: "categories-exo-ext",
        db_table: "ref_cat_exo_ext",
        apogee_table: "CAT_EXO_EXT",
        label: "Catégories d'exonération / extracommunautaires",
        columns: &[
            key("codCatExoExt", code(5)),
            req("libCatExoExt", text(65)),
            opt("licCatExoExt", text(15)),
            opt("codSisCatExoExt", code(2)),
            flag("temEnSveCatExoExt", "O"),
        ],
    },
    TableDef {
        name: "bacs",
        db_table: "ref_bac_oux_equ",
        apogee_table: "BAC_OUX_EQU",
        label: "Baccalauréats et équivalences",
        columns: &[
            key("codBac", code(4)),
            req("libBac", text(40)),
            opt("licBac", text(10)),
            opt("daaDebVldBac", ColumnKind::Year),
            opt("daaFinVldBac", ColumnKind::Year),
            flag("temNatBac", "O"),
            flag("temCtrlIne", "N"),
            opt("annCtrlIne", ColumnKind::Year),
            flag("temEnSveBac", "O"),
        ],
    },
    TableDef {
        name: "specialites-bac",
        db_table: "ref_specialite_bac",
        apogee_table: "SPECIALITE_BAC",
        label: "Spécialités du baccalauréat",
        columns: &[
            key("codSpeBac", code(4)),
            req("libSpeBac", text(65)),
            flag("temEnSveSpeBac", "O"),
            opt("licSpeBac", text(10)),
            opt("daaDebValSpeBac", ColumnKind::Year),
            opt("daaFinValSpeBac", ColumnKind::Year),
        ],
    },
    TableDef {
        name: "options-bac",
        db_table: "ref_option_bac",
        apogee_table: "OPTION_BAC",
        label: "Options du baccalauréat",
        columns: &[
            key("codOptBac", code(4)),
            req("libOptBac", text(65)),
            flag("temEnSveOptBac", "O"),
            opt("licOptBac", text(10)),
            opt("daaDebValOptBac", ColumnKind::Year),
            opt("daaFinValOptBac", ColumnKind::Year),
        ],
    },
    TableDef {
        name: "bac-specialites",
        db_table: "ref_bac_regroupe_spe",
        apogee_table: "BAC_REGROUPE_SPE_BAC",
        label: "Spécialités autorisées par baccalauréat",
        columns: &[key("codBac", code(4)), key("codSpeBac", code(4))],
    },
    TableDef {
        name: "bac-options",
        db_table: "ref_bac_regroupe_opt",
        apogee_table: "BAC_REGROUPE_OPT_BAC",
        label: "Options autorisées par baccalauréat",
        columns: &[key("codBac", code(4)), key("codOptBac", code(4))],
    },
    TableDef {
        name: "mentions-bac",
        db_table: "ref_mention_niv_bac",
        apogee_table: "MENTION_NIV_BAC",
        label: "Mentions du baccalauréat",
        columns: &[
            key("codMnb", code(2)),
            req("libMnb", text(40)),
            opt("licMnb", text(10)),
            flag("temEnSveMnb", "O"),
        ],
    },
    TableDef {
        name: "pays",
        db_table: "ref_pays",
        apogee_table: "PAYS",
        label: "Pays et nationalités (codes INSEE, France = 100)",
        columns: &[
            key("codPay", code(3)),
            req("libPay", text(40)),
            opt("licPay", text(10)),
            opt("libNat", text(40)),
            flag("temEnSvePay", "O"),
        ],
    },
    TableDef {
        name: "departements",
        db_table: "ref_departement",
        apogee_table: "DEPARTEMENT",
        label: "Départements (codes Apogée sur 3 caractères)",
        columns: &[
            key("codDep", code(3)),
            req("libDep", text(40)),
            opt("licDep", text(10)),
            flag("temEnSveDep", "O"),
        ],
    },
    TableDef {
        name: "communes",
        db_table: "ref_commune",
        apogee_table: "COMMUNE",
        label: "Communes (codes INSEE)",
        columns: &[
            key("codCom", code(5)),
            req("libCom", text(40)),
            opt("codDep", code(3)),
            flag("temEnSveCom", "O"),
        ],
    },
    TableDef {
        name: "communes-bdi",
        db_table: "ref_com_bdi",
        apogee_table: "COM_BDI",
        label: "Codes postaux des communes",
        columns: &[key("codCom", code(5)), key("codBdi", code(5))],
    },
    TableDef {
        name: "etablissements",
        db_table: "ref_etablissement",
        apogee_table: "ETABLISSEMENT",
        label: "Établissements (UAI)",
        columns: &[
            key("codEtb", code(8)),
            req("libEtb", text(60)),
            opt("codTpe", code(2)),
            opt("codDep", code(3)),
            flag("temEnSveEtb", "O"),
            opt("licEtb", text(10)),
        ],
    },
    TableDef {
        name: "types-composante",
        db_table: "ref_typ_composante",
        apogee_table: "TYP_COMPOSANTE",
        label: "Types de composante",
        columns: &[
            key("codTypCmp", code(4)),
            req("libTypCmp", text(60)),
            flag("temEnSveTypCmp", "O"),
        ],
    },
    TableDef {
        name: "composantes",
        db_table: "ref_composante",
        apogee_table: "COMPOSANTE",
        label: "Composantes (UFR, instituts, départements), avec leur adresse et leur signataire",
        columns: &[
            key("codCmp", code(3)),
            req("libCmp", text(60)),
            opt("libWebCmp", text(120)),
            opt("codSig", code(6)),
            opt("codNatCmp", code(4)),
            opt("codTypCmp", code(4)),
            opt("codRneCmp", code(8)),
            opt("libAdr1Cmp", text(32)),
            opt("libAdr2Cmp", text(32)),
            opt("libAdr3Cmp", text(32)),
            opt("codPosAdrCmp", code(5)),
            opt("codComAdrCmp", code(5)),
            flag("temElcCmp", "N"),
            flag("temEnSveCmp", "O"),
        ],
    },
    TableDef {
        name: "composantes-hierarchie",
        db_table: "ref_cmp_hierarchie",
        apogee_table: "(rattachement d'une composante à une composante mère, nom Apogée non public)",
        label: "Composantes filles rattachées à une composante mère",
        columns: &[key("codCmpPere", code(3)), key("codCmpFils", code(3))],
    },
    TableDef {
        name: "signataires",
        db_table: "ref_signataire",
        apogee_table: "SIGNATAIRE",
        label: "Signataires (nom et qualité) des composantes",
        columns: &[
            key("codSig", code(6)),
            req("nomSig", text(60)),
            opt("quaSig", text(100)),
            flag("temEnSveSig", "O"),
        ],
    },
    TableDef {
        name: "variables-appli",
        db_table: "ref_variable_appli",
        apogee_table: "VARIABLE_APPLI",
        label: "Variables d'application de l'établissement (ETB_LIB, ETB_AD1 … ETB_COM)",
        columns: &[
            key("codVap", code(10)),
            req("libVap", text(60)),
            opt("parVap", text(200)),
        ],
    },
    TableDef {
        name: "types-hebergement",
        db_table: "ref_typ_hebergement",
        apogee_table: "TYP_HEBERGEMENT",
        label: "Types d'hébergement (liste nationale SISE : 1 résidence universitaire … 7 autre mode)",
        columns: &[
            key("codThb", code(1)),
            req("libThb", text(60)),
            opt("libWebThb", text(120)),
            flag("temEnSveThb", "O"),
            opt("temMinThb", ColumnKind::Flag),
        ],
    },
    TableDef {
        name: "types-pj",
        db_table: "ref_type_pj",
        apogee_table: "(types de pièces justificatives, nom Apogée non public)",
        label: "Types de pièces justificatives",
        columns: &[
            key("codTpj", code(10)),
            req("libTpj", text(60)),
            flag("temEnSveTpj", "O"),
        ],
    },
    TableDef {
        name: "diplomes-autres-cursus",
        db_table: "ref_dip_aut_cur",
        apogee_table: "DIP_AUT_CUR",
        label: "Diplômes des autres cursus (cursus post-bac externe)",
        columns: &[
            key("codDac", code(7)),
            req("libDac", text(60)),
            opt("licDac", text(10)),
            flag("temEnSveDac", "O"),
        ],
    },
    TableDef {
        name: "mentions",
        db_table: "ref_mention",
        apogee_table: "MENTION",
        label: "Mentions de diplôme (résultats)",
        columns: &[
            key("codMen", code(2)),
            req("libMen", text(50)),
            opt("licMen", text(10)),
            flag("temEnSveMen", "O"),
        ],
    },
    TableDef {
        name: "types-diplome",
        db_table: "ref_typ_diplome",
        apogee_table: "TYP_DIPLOME",
        label: "Types de diplôme de l'établissement",
        columns: &[
            key("codTpdEtb", code(2)),
            req("libTpd", text(40)),
            opt("licTpd", text(10)),
            flag("temEnSveTpd", "O"),
        ],
    },
    TableDef {
        name: "types-resultat",
        db_table: "ref_typ_resultat",
        apogee_table: "TYP_RESULTAT",
        label: "Types de résultat (admis, ajourné…)",
        columns: &[
            key("codTre", code(4)),
            req("libTre", text(50)),
            opt("licTre", text(20)),
            flag("temEnSveTre", "O"),
        ],
    },
    TableDef {
        name: "formations-pegase",
        db_table: "ref_formation_pegase",
        apogee_table: "(gateway: code_voeu des fichiers OPI Pégase → VET Apogée, OPI-23)",
        label: "Correspondance des formations Pégase (code_voeu) vers les VET",
        columns: &[
            key("codeVoeu", code(30)),
            req("codCge", code(3)),
            req("codEtp", code(6)),
            req("codVrsVet", VERSION),
        ],
    },
    TableDef {
        name: "correspondances",
        db_table: "ref_correspondance",
        apogee_table: "(gateway: libellés et codes externes → codes Apogée, OPI-23/OPI-24)",
        label: "Correspondances de libellés ou codes externes (Parcoursup, Pégase) vers les codes Apogée",
        columns: &[
            key("domaine", code(20)),
            key("valeur", text(100)),
            req("code", code(10)),
        ],
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn definitions_are_consistent() {
        let mut names = std::collections::HashSet::new();
        for t in TABLES {
            assert!(names.insert(t.name), "duplicate table {}", t.name);
            assert!(t.key_columns().count() > 0, "{} has no key", t.name);
            let first_non_key = t.columns.iter().position(|c| !c.key);
            if let Some(pos) = first_non_key {
                assert!(
                    t.columns[pos..].iter().all(|c| !c.key),
                    "{}: keys first",
                    t.name
                );
            }
            for c in t.columns {
                assert!(!c.key || c.required, "{}.{}", t.name, c.name);
            }
        }
        assert!(table("etapes").is_some());
        assert!(table("nope").is_none());
    }
}
