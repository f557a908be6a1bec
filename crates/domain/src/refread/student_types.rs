//! The DTOs of EtudiantMetier (`soap-read-services.md` §3.8), AdministratifMetier (§4.5) and
//! PedagogiqueMetier (§5.3), in XSD order, with their type namespaces. The services have types of
//! the same name with different children (`PaysDTO`, `DepartementDTO`, `EtablissementDTO`, `EtapeDTO` …): one module
//! each, never shared.

/// EtudiantMetier (`…etudiant.dto.transverse.commun.apogee.education.gouv`).
#[allow(non_upper_case_globals)]
pub mod etu {
    use crate::refread::dto::{Dto, Field, ListTy, Ty, f, many, s};
    use crate::refread::types::{dto, dto_def, list, ns, tableau};

    macro_rules! d {
        ($name:ident, [$($field:expr),* $(,)?]) => {
            dto_def!($name, "etudiant", [$($field),*]);
        };
    }

    d!(
        IdentifiantsEtudiantDTO2,
        [
            f("codEtu", Ty::Int),
            f("codInd", Ty::Int),
            s("emailAnnuaire"),
            s("loginAnnuaire"),
            s("numBoursier"),
            s("numeroINE"),
        ]
    );
    d!(DepartementCourtDTO, [s("codeDept"), s("libDept")]);
    d!(EtablissementDTO, [s("codeEtb"), s("libEtb")]);
    d!(MentionNivBacDTO, [s("codMention"), s("libMention")]);
    d!(
        TypeEtablissementDTO,
        [s("codTypeEtb"), s("libLongTpe"), s("libWebTpe")]
    );
    d!(EtapeDTO, [s("codEtp"), s("libEtp")]);
    d!(TypeBlocageDTO, [s("codTypBlocage"), s("libTypBlocage")]);
    d!(
        DepartementDTO,
        [s("codeDept"), s("libDept"), s("temEnSveDept")]
    );
    d!(
        TypHandicapCourtDTO,
        [s("codeHandicap"), s("libHandicap"), s("libThp")]
    );
    d!(NationaliteDTO, [s("codeNationalite"), s("libNationalite")]);
    d!(PaysDTO, [s("codPay"), s("libPay")]);
    d!(SitFamCourtDTO, [s("codeFam"), s("libFam"), s("libLongFam")]);
    d!(SitMilCourtDTO, [s("codeMil"), s("libMil"), s("libSim")]);
    d!(
        TypeHebergementCourtDTO,
        [
            s("codTypeHebergement"),
            s("libTypeHebergement"),
            s("libWebTypeHebergement")
        ]
    );
    d!(
        CommuneDTO2,
        [
            s("codeInsee"),
            s("codePostal"),
            s("nomCommune"),
            s("libAch")
        ]
    );

    /// The first seven children of a bac, common to v3 and v4 (§3.4).
    macro_rules! bac_head {
        () => {
            [
                s("libelleBac"),
                s("anneeObtentionBac"),
                s("codBac"),
                dto("departementBac", &DepartementCourtDTO),
                dto("etbBac", &EtablissementDTO),
                dto("mentionBac", &MentionNivBacDTO),
                dto("typeEtbBac", &TypeEtablissementDTO),
            ]
        };
    }
    const BAC_HEAD: [Field; 7] = bac_head!();
    d!(
        IndBacDTO,
        [
            BAC_HEAD[0],
            BAC_HEAD[1],
            BAC_HEAD[2],
            BAC_HEAD[3],
            BAC_HEAD[4],
            BAC_HEAD[5],
            BAC_HEAD[6],
        ]
    );
    d!(
        IndBacDTO2,
        [
            BAC_HEAD[0],
            BAC_HEAD[1],
            BAC_HEAD[2],
            BAC_HEAD[3],
            BAC_HEAD[4],
            BAC_HEAD[5],
            BAC_HEAD[6],
            s("codSpe1Bac"),
            s("licSpe1Bac"),
            s("liWebSpe1Bac"),
            s("codSpe2Bac"),
            s("licSpe2Bac"),
            s("liWebSpe2Bac"),
            s("codSpeBacPre"),
            s("licSpeBacPre"),
            s("liWebSpeBacPre"),
            s("codOpt1Bac"),
            s("licOpt1Bac"),
            s("liWebOpt1Bac"),
            s("codOpt2Bac"),
            s("licOpt2Bac"),
            s("liWebOpt2Bac"),
            s("codOpt3Bac"),
            s("licOpt3Bac"),
            s("liWebOpt3Bac"),
            s("codOpt4Bac"),
            s("licOpt4Bac"),
            s("liWebOpt4Bac"),
        ]
    );
    d!(
        BlocageDTO,
        [
            s("codBlocage"),
            dto("etapeBlocage", &EtapeDTO),
            s("libBlocage"),
            dto("typBlocage", &TypeBlocageDTO),
        ]
    );
    tableau!(
        TABLEAU_IND_BAC_DTO2,
        "TableauIndBacDTO2",
        "InfoAdmEtuDTO4",
        "etudiant",
        "item",
        IndBacDTO2
    );
    tableau!(
        TABLEAU_IND_BAC_DTO,
        "TableauIndBacDTO",
        "InfoAdmEtuDTO3",
        "etudiant",
        "item",
        IndBacDTO
    );
    tableau!(
        TABLEAU_BLOCAGES_V4,
        "TableauBlocages",
        "InfoAdmEtuDTO4",
        "etudiant",
        "item",
        BlocageDTO
    );
    tableau!(
        TABLEAU_BLOCAGES_V3,
        "TableauBlocages",
        "InfoAdmEtuDTO3",
        "etudiant",
        "item",
        BlocageDTO
    );

    /// The 28 children of `InfoAdmEtuDTO3`/`4`, given the two lists of the version (§3.4).
    const fn info_adm(bacs: &'static ListTy, blocages: &'static ListTy) -> [Field; 28] {
        [
            s("anneePremiereInscEnsSup"),
            s("anneePremiereInscEtb"),
            s("anneePremiereInscEtr"),
            s("anneePremiereInscUniv"),
            list("listeBacs", bacs),
            list("listeBlocages", blocages),
            f("dateNaissance", Ty::DateTime),
            dto("departementNaissance", &DepartementDTO),
            dto("etbPremiereInscUniv", &EtablissementDTO),
            dto("handicap", &TypHandicapCourtDTO),
            s("libVilleNaissance"),
            dto("nationaliteDTO", &NationaliteDTO),
            s("nomPatronymique"),
            s("nomUsuel"),
            s("numBoursier"),
            f("numEtu", Ty::Int),
            s("numeroINE"),
            dto("paysNaissance", &PaysDTO),
            s("prenom1"),
            s("prenom2"),
            s("prenom3"),
            s("prenomEtatCivil"),
            s("sexe"),
            s("sexEtatCivil"),
            dto("situationFamiliale", &SitFamCourtDTO),
            dto("situationMilitaire", &SitMilCourtDTO),
            s("temoinDateNaissEstimee"),
            s("temoinSitMilEnRegle"),
        ]
    }
    const INFO_V4: [Field; 28] = info_adm(&TABLEAU_IND_BAC_DTO2, &TABLEAU_BLOCAGES_V4);
    const INFO_V3: [Field; 28] = info_adm(&TABLEAU_IND_BAC_DTO, &TABLEAU_BLOCAGES_V3);

    /// `InfoAdmEtuDTO4`.
    pub static InfoAdmEtuDTO4: Dto = Dto {
        name: "InfoAdmEtuDTO4",
        ns: ns!("InfoAdmEtuDTO4", "etudiant"),
        fields: &INFO_V4,
    };
    /// `InfoAdmEtuDTO3`.
    pub static InfoAdmEtuDTO3: Dto = Dto {
        name: "InfoAdmEtuDTO3",
        ns: ns!("InfoAdmEtuDTO3", "etudiant"),
        fields: &INFO_V3,
    };

    d!(
        AdresseDTO2,
        [
            dto("commune", &CommuneDTO2),
            s("libAd1"),
            s("libAd2"),
            s("libAd3"),
            s("libAde"),
            s("numTel"),
            dto("pays", &PaysDTO),
        ]
    );
    d!(
        CoordonneesDTO2,
        [
            dto("typeHebergement", &TypeHebergementCourtDTO),
            dto("adresseAnnuelle", &AdresseDTO2),
            dto("adresseFixe", &AdresseDTO2),
            s("email"),
            s("emailAnnuaire"),
            s("loginAnnuaire"),
            s("numTelPortable"),
            s("annee"),
        ]
    );
    d!(EtudiantCritereListeDTO, [s("code"), many("listVersion")]);
    tableau!(
        TABLEAU_DIPLOMES,
        "TableauDiplomes",
        "EtudiantCritereDTO",
        "etudiant",
        "item",
        EtudiantCritereListeDTO
    );
    tableau!(
        TABLEAU_ETAPES,
        "TableauEtapes",
        "EtudiantCritereDTO",
        "etudiant",
        "item",
        EtudiantCritereListeDTO
    );
    d!(
        EtudiantCritereDTO,
        [
            s("annee"),
            list("listDiplomes", &TABLEAU_DIPLOMES),
            list("listEtapes", &TABLEAU_ETAPES),
            s("codeCollectionVET"),
            s("codeGroupeVET"),
            many("listELP"),
            s("codeCollectionELP"),
            s("codeGroupeELP"),
            many("listEPR"),
            many("listTypeHandicap"),
            many("listSportifHautNiv"),
            s("codeRegimeInscrETP"),
            many("listSitSociale"),
            s("sensEchInter"),
            s("codeEchInter"),
            many("listPaysEchInter"),
            many("listTypeEtabFreq"),
            s("maintienInscrAutreEtab"),
            many("listCentreGestion"),
            many("listComposante"),
            many("listCIP"),
            s("temValAcquisXP"),
            s("temVesCii"),
            s("temVapp"),
            s("temPartInternational"),
            s("etatThese"),
            s("typeResultat"),
            s("objetResultat"),
        ]
    );
    d!(
        EtudiantDTO2,
        [
            s("codEtu"),
            s("nom"),
            s("prenom"),
            s("dateNaissance"),
            s("numeroIne"),
        ]
    );
    d!(
        TypeHebergementDTO,
        [
            s("codTypeHebergement"),
            s("libTypeHebergement"),
            s("libWebTypeHebergement"),
            s("temEnSveTypeHebergement"),
            s("temMinTypeHebergement"),
        ]
    );
}

/// PedagogiqueMetier (`…pedagogique.dto.transverse.commun.apogee.education.gouv`, §5.3).
#[allow(non_upper_case_globals)]
pub mod ped {
    use crate::refread::dto::{Dto, ListTy, Ty, f, s};
    use crate::refread::types::{dto, dto_def, list, ns, tableau};

    macro_rules! d {
        ($name:ident, [$($field:expr),* $(,)?]) => {
            dto_def!($name, "pedagogique", [$($field),*]);
        };
    }

    d!(
        DiplomeDTO,
        [
            s("codDip"),
            f("codVrsVdi", Ty::Int),
            s("libDip"),
            s("libWebVdi"),
            s("licVdi"),
        ]
    );
    d!(
        EtapeDTO2,
        [
            s("codEtp"),
            f("codVrsVet", Ty::Int),
            s("libEtp"),
            s("libWebVet"),
            s("temDipVet"),
            s("libEtatIae"),
        ]
    );
    d!(
        GroupeVetElpDTO,
        [s("codCol"), s("codGpe"), s("libDesOrgGpo"), s("libGpe")]
    );
    d!(MentionDTO, [s("codMen"), s("libMen")]);
    d!(NatureResDTO, [s("codAdm"), s("libAdm")]);
    d!(TypResultatDTO, [s("codNegTre"), s("codTre"), s("libTre")]);
    d!(EtatDelibDTO, [s("codEtaAvc"), s("libEtaAvc")]);
    d!(SessionDTO, [s("codSes"), s("libSes")]);
    d!(
        ResultatVetDTO,
        [
            f("barNotVet", Ty::Int),
            dto("etatDelib", &EtatDelibDTO),
            dto("mention", &MentionDTO),
            dto("natureResultat", &NatureResDTO),
            f("nbrCrdVet", Ty::Decimal),
            f("nbrRngEtuVet", Ty::Int),
            f("nbrRngEtuVetTot", Ty::Int),
            f("notPntJurVet", Ty::Decimal),
            s("notVet"),
            dto("session", &SessionDTO),
            dto("typResultat", &TypResultatDTO),
        ]
    );
    d!(
        ResultatVdiDTO,
        [
            f("barNotVdi", Ty::Int),
            dto("etatDelib", &EtatDelibDTO),
            dto("mention", &MentionDTO),
            dto("natureResultat", &NatureResDTO),
            f("nbrCrdVdi", Ty::Decimal),
            f("nbrRngEtuVdi", Ty::Int),
            f("nbrRngEtuVdiTot", Ty::Int),
            f("notPntJurVdi", Ty::Decimal),
            s("notVdi"),
            dto("session", &SessionDTO),
            dto("typResultat", &TypResultatDTO),
        ]
    );
    tableau!(
        TABLEAU_GROUPE_ETP_DTO,
        "TableauGroupeEtpDto",
        "EtapeResVdiVetDTO2",
        "pedagogique",
        "item",
        GroupeVetElpDTO
    );
    tableau!(
        TABLEAU_RESULTAT_VET_DTO,
        "TableauResultatVetDto",
        "EtapeResVdiVetDTO2",
        "pedagogique",
        "item",
        ResultatVetDTO
    );
    d!(
        EtapeResVdiVetDTO2,
        [
            s("codAnu"),
            s("codTypIpe"),
            s("libTypIpe"),
            dto("etape", &EtapeDTO2),
            list("groupes", &TABLEAU_GROUPE_ETP_DTO),
            list("resultatVet", &TABLEAU_RESULTAT_VET_DTO),
        ]
    );
    tableau!(
        TABLEAU_ETAPE_RES_VDI_VET_DTO2,
        "TableauEtapeResVdiVetDto2",
        "ContratPedagogiqueResultatVdiVetDTO2",
        "pedagogique",
        "item",
        EtapeResVdiVetDTO2
    );
    tableau!(
        TABLEAU_RESULTAT_VDI_DTO,
        "TableauResultatVdiDto",
        "ContratPedagogiqueResultatVdiVetDTO2",
        "pedagogique",
        "item",
        ResultatVdiDTO
    );
    d!(
        ContratPedagogiqueResultatVdiVetDTO2,
        [
            s("annee"),
            s("datObtVdi"),
            s("datValDip"),
            dto("diplome", &DiplomeDTO),
            list("etapes", &TABLEAU_ETAPE_RES_VDI_VET_DTO2),
            list("resultatVdi", &TABLEAU_RESULTAT_VDI_DTO),
        ]
    );
}

/// AdministratifMetier (`…administratif.dto.transverse.commun.apogee.education.gouv`).
#[allow(non_upper_case_globals)]
pub mod adm {
    use crate::refread::dto::{Dto, ListTy, Ty, f, s, strict};
    use crate::refread::types::{dto, dto_def, list, ns, tableau};

    macro_rules! d {
        ($name:ident, [$($field:expr),* $(,)?]) => {
            dto_def!($name, "administratif", [$($field),*]);
        };
    }

    d!(BourseDTO, [s("codeBourse"), s("libBourse")]);
    d!(CgeDTO, [s("codeCGE"), s("libCGE")]);
    d!(ComposanteDTO, [s("codComposante"), s("libComposante")]);
    d!(
        SpecialitesDTO,
        [
            s("codeSpecialite"),
            s("libSpecialite"),
            s("libWebSpecialite")
        ]
    );
    d!(ProfilEtuDTO, [s("code"), s("libelle"), s("libelleWeb")]);
    d!(
        CatOuiSiDTO2,
        [
            strict("codCat", Ty::Str),
            strict("libCat", Ty::Str),
            s("mtfCat")
        ]
    );
    d!(
        CursusAmgDTO,
        [strict("codCurAmg", Ty::Str), strict("libCurAmg", Ty::Str)]
    );
    d!(
        AideFinanciereDTO,
        [s("codeAide"), s("libAide"), s("libWebAide")]
    );
    d!(EtablissementDTO, [s("codeEtb"), s("libEtb")]);
    d!(
        CatSocProfDTO,
        [s("codeCategorie"), s("libPcs"), s("libWebPcs")]
    );
    d!(DepartementDTO, [s("codeDept"), s("libDept")]);
    d!(
        DomaineActiviteProfDTO,
        [s("codeDomaine"), s("libDomaine"), s("libWebDomaine")]
    );
    d!(PaysDTO, [s("codePays"), s("libPays")]);
    d!(
        EtablissementEtrangerDTO,
        [s("codeEtb"), s("libEtb"), s("libWebEtb")]
    );
    d!(
        QuotiteTravDTO,
        [s("codeQuotite"), s("libQuotite"), s("libWebQuotite")]
    );
    d!(SitSocialeDTO, [s("codSitSoc"), s("libWebSitSoc")]);
    d!(
        SituationSISEDTO,
        [s("codeSitSISE"), s("libSitSISE"), s("libWebSitSISE")]
    );
    d!(
        SpoHautNivDTO,
        [s("codSportif"), s("libelle"), s("libelleWeb")]
    );
    d!(StatutEtuDTO, [s("code"), s("libelle"), s("libelleWeb")]);
    d!(CpamDTO, [s("codCpam"), s("libCpam")]);
    d!(
        TypeEtablissementDTO,
        [s("codTypeEtb"), s("libLongTpe"), s("libWebTpe")]
    );
    d!(
        TypDiplomeExtDTO,
        [s("codeTypDiplomeExt"), s("libTypDiplomeExt")]
    );
    d!(
        TypDiplomeSISEDTO,
        [s("codeTypDiplomeSise"), s("libTypDiplomeSise")]
    );
    d!(
        DiplomeDTO,
        [
            s("codeDiplome"),
            s("libLongDiplome"),
            s("libVdi"),
            s("libWebVdi"),
            s("versionDiplome"),
        ]
    );
    d!(
        EtapeDTO,
        [
            s("codeEtp"),
            s("libLongEtp"),
            s("libWebVet"),
            s("versionEtp")
        ]
    );
    d!(
        EtatIAADTO,
        [s("codeEtatIAA"), s("libEtatIAA"), s("temDosIAA")]
    );
    d!(EtatIAEDTO, [s("codeEtatIAE"), s("libEtatIAE")]);
    d!(RegimeInsDTO, [s("codRgi"), s("libRgi")]);
    d!(
        PrgEchangeDTO,
        [
            s("codPrg"),
            s("codSens"),
            dto("etablissement", &EtablissementEtrangerDTO),
            s("libLongPrg"),
            s("libSens"),
            s("libWebPrg"),
            dto("pays", &PaysDTO),
        ]
    );
    tableau!(
        TABLEAU_SPECIALITES_DTO,
        "TableauSpecialitesDto",
        "InsAdmEtpDTO3",
        "administratif",
        "item",
        SpecialitesDTO
    );
    d!(
        InsAdmEtpDTO3,
        [
            s("anneeIAE"),
            dto("bourse", &BourseDTO),
            dto("cge", &CgeDTO),
            dto("composante", &ComposanteDTO),
            f("dateIAE", Ty::DateTime),
            dto("diplome", &DiplomeDTO),
            dto("etape", &EtapeDTO),
            s("etapePremiere"),
            dto("etatIaa", &EtatIAADTO),
            dto("etatIae", &EtatIAEDTO),
            dto("regimeIns", &RegimeInsDTO),
            s("codeInscriptionPayee"),
            s("inscriptionPayee"),
            s("inscriptionTeleEnseignement"),
            list("listeSpecialiteSISE", &TABLEAU_SPECIALITES_DTO),
            s("nbrInscriptionCycle"),
            s("nbrInscriptionDiplome"),
            s("nbrInscriptionEtape"),
            s("numBoursier"),
            dto("profilEtudiant", &ProfilEtuDTO),
            s("temoinInscriptionIaWeb"),
            s("temoinPI"),
            s("temoinVes"),
            s("temoinVapp"),
            s("temoinVae"),
            dto("catOuiSi", &CatOuiSiDTO2),
            dto("cursusAmg", &CursusAmgDTO),
        ]
    );
    d!(
        InsAdmAnuDTO2,
        [
            dto("aideFinanciere", &AideFinanciereDTO),
            s("anneeDernierDiplome"),
            s("anneeDernierEtbFreq"),
            s("anneeIAA"),
            dto("autreEtbAnneeEnCours", &EtablissementDTO),
            s("maintienInscAnneeEnCours"),
            dto("catSocProfChefFamille", &CatSocProfDTO),
            dto("catSocProfEtu", &CatSocProfDTO),
            s("codeTransfertDossier"),
            f("dateIAA", Ty::DateTime),
            dto("departementDernierDiplomeExt", &DepartementDTO),
            dto("departementDernierEtbFreq", &DepartementDTO),
            dto("departementEtbAnneeEnCours", &DepartementDTO),
            dto("departementEtbAnneePrec", &DepartementDTO),
            dto("dernierEtbFreq", &EtablissementDTO),
            dto("domaineActiviteProf", &DomaineActiviteProfDTO),
            dto("etatIaa", &EtatIAADTO),
            dto("etbAnneePrec", &EtablissementDTO),
            dto("etbDernierDiplomeExt", &EtablissementDTO),
            s("libTransfertDossier"),
            dto("paysDernierDiplomeExt", &PaysDTO),
            dto("paysDernierEtbFreq", &PaysDTO),
            dto("paysEtbAnneePrec", &PaysDTO),
            dto("prgEchange", &PrgEchangeDTO),
            dto("profil", &ProfilEtuDTO),
            dto("quotiteTrav", &QuotiteTravDTO),
            dto("regimeIns", &RegimeInsDTO),
            dto("situationSociale", &SitSocialeDTO),
            dto("situationAnneePrec", &SituationSISEDTO),
            dto("sportifHautNiveau", &SpoHautNivDTO),
            dto("statut", &StatutEtuDTO),
            s("temRgmAmgEtuIAA"),
            s("temoinAffiliationSS"),
            dto("cpam", &CpamDTO),
            s("temoinAyantDroitAuto"),
            dto("typeAutreEtbAnneeEnCours", &TypeEtablissementDTO),
            dto("typeDernierDiplomeExt", &TypDiplomeExtDTO),
            dto("typeEtbDernierEtbFreq", &TypeEtablissementDTO),
            dto("typeSISEDernierDiplomeExt", &TypDiplomeSISEDTO),
        ]
    );

    /// The return of `recupererAnneesIa` is a bare `xsd:string`: this one-child shape carries
    /// each year in the answer builders and the REST twin (`{"annee": "2025"}`); the SOAP encoder
    /// and the WSDL write the string itself ([`super::super::Shape::Strings`]).
    pub static AnneeIa: Dto = Dto {
        name: "AnneeIa",
        ns: "",
        fields: &[s("annee")],
    };
}
