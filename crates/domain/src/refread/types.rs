//! The DTOs of the covered operations (`soap-read-services.md` §6.7, §7.5, §8.5, §9.3–§9.5), in
//! XSD order, with their type namespaces. Where the sheet gives only the children clients read
//! (the levels of `recupererSE_v4` below the diploma version), only those are declared, in the
//! order the sheet lists them; types whose children it does not give have none.

use super::dto::{Dto, Field, ListTy, Ty, f, s, strict};

macro_rules! ns {
    ($ty:literal, $pkg:literal) => {
        concat!(
            $ty,
            ".",
            $pkg,
            ".dto.transverse.commun.apogee.education.gouv"
        )
    };
}

macro_rules! dto {
    ($name:ident, $pkg:literal, [$($field:expr),* $(,)?]) => {
        #[doc = concat!("`", stringify!($name), "`.")]
        #[allow(non_upper_case_globals)]
        pub static $name: Dto = Dto {
            name: stringify!($name),
            ns: concat!(stringify!($name), ".", $pkg, ".dto.transverse.commun.apogee.education.gouv"),
            fields: &[$($field),*],
        };
    };
}

/// An array type, in the namespace of the DTO that uses it (§1.4).
macro_rules! tableau {
    ($static:ident, $name:literal, $owner:literal, $pkg:literal, $item:literal, $of:ident) => {
        #[doc = concat!("`", $name, "`: repeated `", $item, "` of `", stringify!($of), "`.")]
        pub static $static: ListTy = ListTy {
            name: $name,
            ns: ns!($owner, $pkg),
            item: $item,
            of: &$of,
        };
    };
}

pub(crate) use {dto as dto_def, ns, tableau};

pub(crate) const fn dto(name: &'static str, d: &'static Dto) -> Field {
    f(name, Ty::Dto(d))
}

pub(crate) const fn list(name: &'static str, l: &'static ListTy) -> Field {
    f(name, Ty::List(l))
}

// ---------------------------------------------------------------- ReferentielMetier (§6.7)

dto!(
    CentreGestionDTO2,
    "pedagogique",
    [s("codCge"), s("libCge"), s("licCge"), s("temEnSve")]
);
dto!(
    AdresseComposanteDTO,
    "pedagogique",
    [
        s("libAdr1Cmp"),
        s("libAdr2Cmp"),
        s("libAdr3Cmp"),
        s("codPosAdrCmp"),
        s("codComAdrCmp"),
    ]
);
dto!(
    TypeComposanteDTO,
    "pedagogique",
    [s("codTypCmp"), s("libTypCmp")]
);
dto!(
    ComposanteDTO3,
    "pedagogique",
    [
        s("codCmp"),
        s("libCmp"),
        s("libWebCmp"),
        s("codSig"),
        s("codNatCmp"),
        s("codRneCmp"),
        s("temElcCmp"),
        s("temEnSveCmp"),
        dto("adresseComposante", &AdresseComposanteDTO),
        dto("typeComposante", &TypeComposanteDTO),
        list("listeComposanteFils", &TABLEAU_COMPOSANTE_DTO3),
        list("listeComposantePere", &TABLEAU_COMPOSANTE_DTO3),
    ]
);
tableau!(
    TABLEAU_COMPOSANTE_DTO3,
    "TableauComposanteDTO3",
    "ComposanteDTO3",
    "pedagogique",
    "composante",
    ComposanteDTO3
);
dto!(
    VariableAppliWSEtabRefDTO,
    "recupererInformationEtabRef.WSReferentiel",
    [s("codVap"), s("libVap"), s("parVap"),]
);
dto!(
    RegimeInscDTO,
    "pedagogique",
    [
        s("codRegIns"),
        s("libRegIns"),
        s("licRegIns"),
        s("temEnSve")
    ]
);
dto!(
    SignataireWSSignataireDTO,
    "recupererSignataire.WSReferentiel",
    [s("codSig"), s("nomSig"), s("quaSig"), s("temEnSveSig"),]
);

// ---------------------------------------------------------------- GeographieMetier (§7.5)

dto!(
    CommuneDTO2,
    "geographie",
    [
        s("codeCommune"),
        s("codePostal"),
        s("libBureauDis"),
        s("libCommune"),
        s("temSevBureauDis"),
        s("temSevCommune"),
        s("temoinEnServiceComBD"),
    ]
);
dto!(
    CommuneDTO,
    "geographie",
    [
        s("codeCommune"),
        s("codePostal"),
        s("libBureauDis"),
        s("libCommune"),
        s("temSevBureauDis"),
        s("temSevCommune"),
    ]
);
dto!(
    PaysDTO,
    "geographie",
    [s("codePay"), s("libNat"), s("libPay"), s("temEnSvePay")]
);
dto!(
    DepartementDTO,
    "geographie",
    [
        s("codeAca"),
        s("codeDept"),
        s("libAca"),
        s("libDept"),
        s("temEnSveDept"),
    ]
);

// ---------------------------------------------------------------- ScolariteMetier (§8.5)

dto!(
    BacOuEquDTO,
    "scolarite",
    [s("codBac"), s("libBac"), s("temEnSveBac")]
);
dto!(
    OptionBacDTO2,
    "scolarite",
    [
        s("codOptBac"),
        s("licOptBac"),
        s("libOptBac"),
        s("temEnSveOptBac"),
        s("daaDebValOptBac"),
        s("daaFinValOptBac"),
    ]
);
dto!(
    SpecialiteBacDTO2,
    "scolarite",
    [
        s("codSpeBac"),
        s("licSpeBac"),
        s("libSpeBac"),
        s("codSisSpeBac"),
        s("temEnSveSpeBac"),
        s("daaDebValSpeBac"),
        s("daaFinValSpeBac"),
    ]
);

// ---------------------------------------------------------------- OffreFormationMetier (§9)

dto!(
    SECritereDTO2,
    "recupererse.offreformation",
    [
        s("codAnu"),
        s("codComposanteVdi"),
        s("codDip"),
        s("codElp"),
        s("codEtp"),
        s("codNatureDip"),
        s("codNatureElp"),
        s("codTypDip"),
        s("codVrsVdi"),
        s("codVrsVet"),
        s("temOuvertRecrutement"),
    ]
);

dto!(
    CycleDTO,
    "recupererse.offreformation",
    [s("codCycle"), s("libCycle"), s("temEnSve")]
);
dto!(
    GroupeDiplomeDTO,
    "recupererse.offreformation",
    [s("codGpeDip"), s("libGpeDip"), s("temEnSve")]
);
dto!(
    NatureDiplomeDTO,
    "recupererse.offreformation",
    [s("codNatureDip"), s("libNatureDip"), s("temEnSve"),]
);
dto!(
    NiveauInterministerielDTO,
    "recupererse.offreformation",
    [s("codNivIntermini"), s("libNivIntermini"), s("temEnSve"),]
);
dto!(
    SecteurDisciplinaireDTO,
    "recupererse.offreformation",
    [
        s("codSectDisc"),
        s("libDiscipline"),
        s("libSectDisc"),
        s("temEnSveSectDisc"),
    ]
);
dto!(
    EtablissementHabiliteDTO,
    "recupererse.offreformation",
    [s("codEtb"), s("temEnSveEtb"), s("libEtbHab"),]
);
dto!(
    ComposanteHabiliteDTO,
    "recupererse.offreformation",
    [
        s("codCmp"),
        strict("libCmp", Ty::Str),
        s("codRneCmp"),
        strict("temEnSveCmp", Ty::Str),
    ]
);
dto!(
    TypeDiplomeDTO,
    "recupererse.offreformation",
    [s("codTypDip"), s("libTypDip"), s("temEnSve")]
);

// Types of the diploma version whose children the sheet does not give: answered nil.
dto!(EcoleDoctoraleDTO, "recupererse.offreformation", []);
dto!(ResponsableVdiDTO, "recupererse.offreformation", []);
dto!(ComueDTO, "recupererse.offreformation", []);
/// `TableauVersionDiplomeHistoRncpDTO`, in namespace `TableauHistoRncpDTO.recupererse…` (§1.4);
/// its item type is not given by the sheet: always answered as an empty container.
#[allow(non_upper_case_globals)]
pub static TableauVersionDiplomeHistoRncpDTO: Dto = Dto {
    name: "TableauVersionDiplomeHistoRncpDTO",
    ns: ns!("TableauHistoRncpDTO", "recupererse.offreformation"),
    fields: &[],
};

dto!(
    ElementPedagogiDTO3,
    "recupererse.offreformation",
    [
        s("codElp"),
        s("libElp"),
        s("libNatureElp"),
        s("temStage"),
        s("temSusp"),
        f("credits", Ty::Decimal),
    ]
);
dto!(
    ListeElementPedagogiDTO3,
    "recupererse.offreformation",
    [list("listElementPedagogi", &TABLEAU_ELEMENT_PEDAGOGI_DTO3),]
);
tableau!(
    TABLEAU_ELEMENT_PEDAGOGI_DTO3,
    "TableauElementPedagogiDTO3",
    "ListeElementPedagogiDTO3",
    "recupererse.offreformation",
    "item",
    ElementPedagogiDTO3
);
dto!(
    ComposanteOrganisatriceDTO,
    "recupererse.offreformation",
    [s("codComposante"), s("libComposante"),]
);
dto!(
    VersionEtapeDTO4,
    "recupererse.offreformation",
    [
        f("codVrsVet", Ty::Int),
        s("libWebVet"),
        f("volume", Ty::Int),
        f("codSisDaaMin", Ty::Int),
        dto("composante", &ComposanteOrganisatriceDTO),
        list(
            "listListeElementPedagogi",
            &TABLEAU_LISTE_ELEMENT_PEDAGOGI_DTO3
        ),
    ]
);
tableau!(
    TABLEAU_LISTE_ELEMENT_PEDAGOGI_DTO3,
    "TableauListeElementPedagogiDTO3",
    "VersionEtapeDTO4",
    "recupererse.offreformation",
    "item",
    ListeElementPedagogiDTO3
);
dto!(
    ComposanteCentreGestionDTO,
    "recupererse.offreformation",
    [
        s("codComposante"),
        s("libComposante"),
        s("codCentreGestion"),
        s("libCentreGestion"),
        f("capaciteAccueil", Ty::Int),
        s("temEnSveCentreGestion"),
        s("temEnSveComposante"),
    ]
);
dto!(
    EtapeDTO4,
    "recupererse.offreformation",
    [
        s("codEtp"),
        list(
            "listComposanteCentreGestion",
            &TABLEAU_COMPOSANTE_CENTRE_GESTION_DTO
        ),
        list("listVersionEtape", &TABLEAU_VERSION_ETAPE_DTO4),
    ]
);
tableau!(
    TABLEAU_COMPOSANTE_CENTRE_GESTION_DTO,
    "TableauComposanteCentreGestionDTO",
    "EtapeDTO4",
    "recupererse.offreformation",
    "item",
    ComposanteCentreGestionDTO
);
tableau!(
    TABLEAU_VERSION_ETAPE_DTO4,
    "TableauVersionEtapeDTO4",
    "EtapeDTO4",
    "recupererse.offreformation",
    "item",
    VersionEtapeDTO4
);
dto!(
    OffreFormationDTO4,
    "recupererse.offreformation",
    [
        s("codFinalite"),
        s("libFinalite"),
        list("listEtape", &TABLEAU_ETAPE_DTO4),
    ]
);
tableau!(
    TABLEAU_ETAPE_DTO4,
    "TableauEtapeDTO4",
    "OffreFormationDTO4",
    "recupererse.offreformation",
    "item",
    EtapeDTO4
);
dto!(
    VersionDiplomeDTO4,
    "recupererse.offreformation",
    [
        s("codCursusLmd"),
        dto("listHistoRncp", &TableauVersionDiplomeHistoRncpDTO),
        f("codVrsVdi", Ty::Int),
        f("credits", Ty::Decimal),
        dto("ecoleDoctorale", &EcoleDoctoraleDTO),
        s("libCourtVdi"),
        s("libWebVdi"),
        dto("respVdi", &ResponsableVdiDTO),
        dto("comue", &ComueDTO),
        s("temOffCom"),
        s("temOffDeloc"),
        dto("offreFormation", &OffreFormationDTO4),
    ]
);
dto!(
    DiplomeDTO4,
    "recupererse.offreformation",
    [
        s("codDip"),
        dto("cycle", &CycleDTO),
        s("libDip"),
        list("listGroupeDiplome", &TABLEAU_GROUPE_DIPLOME_DTO),
        list("listVersionDiplome", &TABLEAU_VERSION_DIPLOME_DTO4),
        dto("natureDiplome", &NatureDiplomeDTO),
        dto("niveauInterministeriel", &NiveauInterministerielDTO),
        dto("secteurDisciplinaire", &SecteurDisciplinaireDTO),
        s("temOuvertRecrutement"),
        dto("etbHab", &EtablissementHabiliteDTO),
        dto("cmpAcc", &ComposanteHabiliteDTO),
        s("temOuvertValidation"),
        dto("typeDiplome", &TypeDiplomeDTO),
    ]
);
tableau!(
    TABLEAU_GROUPE_DIPLOME_DTO,
    "TableauGroupeDiplomeDTO",
    "DiplomeDTO4",
    "recupererse.offreformation",
    "item",
    GroupeDiplomeDTO
);
tableau!(
    TABLEAU_VERSION_DIPLOME_DTO4,
    "TableauVersionDiplomeDTO4",
    "DiplomeDTO4",
    "recupererse.offreformation",
    "item",
    VersionDiplomeDTO4
);
