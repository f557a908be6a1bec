//! The referential read services of Apogée (`soap-read-services.md` §6–§9): ReferentielMetier,
//! GeographieMetier, ScolariteMetier and OffreFormationMetier. For each operation: its
//! parameters, its wire names, the DTO it returns ([`types`]) and the function that answers it
//! from a referential snapshot ([`answer`]). Pure: the application passes the snapshot, the
//! adapters (SOAP, REST) render the [`dto::Obj`] values.
//!
//! Every operation answers a list (1..unbounded). Nothing found is a fault
//! (`technical.data.nullretrieve.<entity>`, §10.3), never an empty success; a parameter that
//! cannot be read is `technical.parameter.noncoherentinput.<parameter>`.

pub mod answer;
pub mod dto;
pub mod pedagogique;
pub mod se;
pub mod student;
pub mod student_list;
pub mod student_types;
pub mod types;

use crate::{Error, FaultKey, Referential, Scope};
use dto::{Dto, Obj};

/// The namespace of ReferentielMetier (dated, §2.1).
pub const REFERENTIEL_NS: &str =
    "gouv.education.apogee.commun.servicesmetiers.ReferentielMetier_21062012";
/// The namespace of GeographieMetier (dated, §2.1).
pub const GEOGRAPHIE_NS: &str =
    "gouv.education.apogee.commun.servicesmetiers.GeographieMetier_01082016";
/// The namespace of ScolariteMetier.
pub const SCOLARITE_NS: &str = "gouv.education.apogee.commun.servicesmetiers.ScolariteMetier";
/// The namespace of EtudiantMetier.
pub const ETUDIANT_NS: &str = "gouv.education.apogee.commun.servicesmetiers.EtudiantMetier";
/// The namespace of AdministratifMetier.
pub const ADMINISTRATIF_NS: &str =
    "gouv.education.apogee.commun.servicesmetiers.AdministratifMetier";
/// The namespace of PedagogiqueMetier.
pub const PEDAGOGIQUE_NS: &str = "gouv.education.apogee.commun.servicesmetiers.PedagogiqueMetier";
/// The namespace of OffreFormationMetier.
pub const OFFRE_FORMATION_NS: &str =
    "gouv.education.apogee.commun.servicesmetiers.OffreFormationMetier";

/// The parameters of a call: name (without the leading `_` of the SOAP parameters) → value.
/// Absent, empty and nil are the same: not given (§13 rule 8). A parameter given twice keeps
/// its last value, except the repeated criteria ([`Operation::repeats`]), which keep them all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params(Vec<(String, String)>);

impl Params {
    /// The parameters of `op` from (name, value) pairs; a name `op` does not take is refused.
    pub fn read<'a>(
        op: &Operation,
        pairs: impl IntoIterator<Item = (&'a str, Option<&'a str>)>,
    ) -> Result<Self, Error> {
        let mut out = Vec::new();
        for (name, value) in pairs {
            let bare = name.strip_prefix('_').unwrap_or(name);
            if !op.params().any(|p| p == bare) {
                return Err(Error::bad_request(
                    bare,
                    format!("Paramètre inconnu de l'opération {} : {name}", op.name),
                ));
            }
            if let Some(v) = value.map(str::trim).filter(|v| !v.is_empty()) {
                if !op.repeats(bare) {
                    out.retain(|(n, _): &(String, String)| n != bare);
                }
                out.push((bare.to_owned(), v.to_owned()));
            }
        }
        Ok(Params(out))
    }

    /// The value of `name`, when given.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of `name`, in the order given.
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0
            .iter()
            .filter(move |(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The given parameters, for the journal.
    pub fn given(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }
}

/// How an operation answers.
#[derive(Clone, Copy)]
pub enum Answer {
    /// From the referential.
    Referential(fn(&Referential, &Params) -> Result<Vec<Obj>, Error>),
    /// From the student register: the application finds the student by the key the
    /// parameters give, then the builder answers from its file ([`student`]).
    Student(student::StudentRead),
    /// The students of the register that criteria select (`recupererListeEtudiants`,
    /// [`student_list`]).
    StudentList,
    /// Declared in the WSDL (so that JAX-WS clients built on AMUE's classes create their port,
    /// §14) but not served: a fault.
    NotServed,
}

/// How many return elements an operation answers, and of what.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// 1..unbounded items of the return DTO.
    Many,
    /// Exactly one item (`recupererInfosAdmEtu_v4` …): `maxOccurs="1"` in the WSDL.
    One,
    /// 0..unbounded bare `xsd:string` values (`recupererAnneesIa`): each item's first child.
    Strings,
}

/// One operation of a read service.
pub struct Operation {
    /// Operation name = request wrapper (`recupererCGE`).
    pub name: &'static str,
    /// WSDL request message.
    pub request_message: &'static str,
    /// WSDL response message.
    pub response_message: &'static str,
    /// Response wrapper.
    pub response_wrapper: &'static str,
    /// Return element, 1..unbounded.
    pub return_element: &'static str,
    /// SOAP parameters, in order (`_codCge` …), or the single DTO parameter.
    pub soap_params: &'static [&'static str],
    /// The DTO parameter (`_seCritere`), when the operation takes one.
    pub criteria: Option<&'static Dto>,
    /// The DTO of each returned item (`None`: not served).
    pub returns: Option<&'static Dto>,
    /// How it answers.
    pub answer: Answer,
    /// How many return elements, of what.
    pub shape: Shape,
}

impl Operation {
    /// Its parameter names without the leading `_`; for a DTO parameter, the DTO's children.
    pub fn params(&self) -> Box<dyn Iterator<Item = &'static str> + '_> {
        match self.criteria {
            Some(dto) => Box::new(dto.fields.iter().map(|f| f.name)),
            None => Box::new(
                self.soap_params
                    .iter()
                    .map(|p| p.strip_prefix('_').unwrap_or(p)),
            ),
        }
    }

    /// Whether the parameter `name` may be given several times: a list or repeated leaf of the
    /// DTO parameter (`listEtapes`, `listComposante` …).
    pub fn repeats(&self, name: &str) -> bool {
        self.criteria.is_some_and(|dto| {
            dto.fields
                .iter()
                .any(|f| f.name == name && (f.repeated || matches!(f.ty, dto::Ty::List(_))))
        })
    }

    /// Whether the gateway answers it.
    pub fn served(&self) -> bool {
        !matches!(self.answer, Answer::NotServed)
    }

    /// The answer from `referential`.
    pub fn call(&self, referential: &Referential, params: &Params) -> Result<Vec<Obj>, Error> {
        match self.answer {
            Answer::Referential(f) => f(referential, params),
            Answer::Student(_) | Answer::StudentList => Err(Error::internal(format!(
                "{} se répond depuis le registre des étudiants",
                self.name
            ))),
            Answer::NotServed => Err(Error::bad_request(
                "operation",
                format!(
                    "Opération {} déclarée pour la compatibilité des clients mais non servie par la passerelle",
                    self.name
                ),
            )),
        }
    }
}

/// A read service.
pub struct ReadService {
    /// Service and port name (`ReferentielMetier`).
    pub name: &'static str,
    /// Service namespace.
    pub namespace: &'static str,
    /// The scope a caller needs.
    pub scope: Scope,
    /// Every 6.70 operation, served or not, in WSDL order.
    pub operations: &'static [Operation],
}

impl ReadService {
    /// The operation named `name`.
    pub fn operation(&self, name: &str) -> Option<&'static Operation> {
        self.operations.iter().find(|o| o.name == name)
    }
}

/// The read service named `name`.
pub fn service(name: &str) -> Option<&'static ReadService> {
    SERVICES.iter().copied().find(|s| s.name == name)
}

/// The fault of an unknown operation name (REST twin).
pub fn unknown_operation(service: &str, op: &str) -> Error {
    Error::not_found(
        FaultKey::noncoherent("operation"),
        format!("Opération {op} inconnue du service {service}"),
    )
}

/// An operation with regular wrappers (§2.3): response wrapper = response message.
#[allow(clippy::too_many_arguments)]
const fn regular(
    name: &'static str,
    request_message: &'static str,
    response_message: &'static str,
    return_element: &'static str,
    soap_params: &'static [&'static str],
    returns: &'static Dto,
    answer: Answer,
    shape: Shape,
) -> Operation {
    Operation {
        name,
        request_message,
        response_message,
        response_wrapper: response_message,
        return_element,
        soap_params,
        criteria: None,
        returns: Some(returns),
        answer,
        shape,
    }
}

macro_rules! op {
    ($name:literal, $params:expr, $returns:expr, $f:expr) => {
        regular(
            $name,
            concat!($name, "Request"),
            concat!($name, "Response"),
            concat!($name, "Return"),
            $params,
            $returns,
            Answer::Referential($f),
            Shape::Many,
        )
    };
}

macro_rules! not_served {
    ($name:literal) => {
        not_served!($name, concat!($name, "Request"), concat!($name, "Response"))
    };
    ($name:literal, $req:expr, $resp:expr) => {
        Operation {
            name: $name,
            request_message: $req,
            response_message: $resp,
            response_wrapper: $resp,
            return_element: "",
            soap_params: &[],
            criteria: None,
            returns: None,
            answer: Answer::NotServed,
            shape: Shape::Many,
        }
    };
}

use types as t;

/// ReferentielMetier (§6): 5 operations served out of the 24 declared.
pub static REFERENTIEL: ReadService = ReadService {
    name: "ReferentielMetier",
    namespace: REFERENTIEL_NS,
    scope: Scope::RefRead,
    operations: &[
        op!(
            "recupererCGE",
            &["_codCge", "_temoinEnService"],
            &t::CentreGestionDTO2,
            answer::cge
        ),
        not_served!("recupererCentreIncompEpr"),
        not_served!("recupererCentreInscriptionPedagogique"),
        op!(
            "recupererComposante_v2",
            &["_codCmp", "_sens"],
            &t::ComposanteDTO3,
            answer::composante
        ),
        not_served!("recupererCycleSISE"),
        not_served!("recupererDiplomeSise"),
        not_served!("recupererDomaineFormation"),
        not_served!("recupererFormuleExam"),
        op!(
            "recupererInformationEtabRef",
            &["_codVap"],
            &t::VariableAppliWSEtabRefDTO,
            answer::information_etab
        ),
        not_served!("recupererNatureDiplome"),
        not_served!("recupererNatureEpreuve"),
        not_served!("recupererOrigineFinancement"),
        not_served!("recupererPeriodeEnseignementElp"),
        not_served!("recupererPeriodeExamen"),
        op!(
            "recupererRegimeInscription",
            &["_codRegIns", "_temoinEnService"],
            &t::RegimeInscDTO,
            answer::regime
        ),
        not_served!("recupererRoleJury"),
        not_served!("recupererSecteurDisciplinaire"),
        not_served!("recupererSectionCnu"),
        not_served!("recupererServiceComplementaire"),
        op!(
            "recupererSignataire",
            &["_codSig", "_temoinEnService"],
            &t::SignataireWSSignataireDTO,
            answer::signataire
        ),
        not_served!("recupererTypeDiplome"),
        not_served!("recupererTypeEpreuve"),
        not_served!("recupererUniteParcoursSISE"),
        not_served!("recupererUniteRecherche"),
    ],
};

/// GeographieMetier (§7): the four operations, `recupererCommune` (v1, esup-pstage) included.
pub static GEOGRAPHIE: ReadService = ReadService {
    name: "GeographieMetier",
    namespace: GEOGRAPHIE_NS,
    scope: Scope::RefRead,
    operations: &[
        op!(
            "recupererCommune",
            &["_codePostal", "_temoinEnServiceCom", "_temoinEnServiceBD"],
            &t::CommuneDTO,
            answer::commune_v1
        ),
        regular(
            "recupererCommune_v2",
            "recupererCommuneRequest_v2",
            "recupererCommuneResponse_v2",
            "recupererCommuneReturn_v2",
            &[
                "_codePostal",
                "_temoinEnServiceCom",
                "_temoinEnServiceBD",
                "_temoinEnServiceComBD",
            ],
            &t::CommuneDTO2,
            Answer::Referential(answer::commune_v2),
            Shape::Many,
        ),
        op!(
            "recupererDepartement",
            &["_codeDept", "_temoinEnService"],
            &t::DepartementDTO,
            answer::departement
        ),
        op!(
            "recupererPays",
            &["_codePays", "_temoinEnService"],
            &t::PaysDTO,
            answer::pays
        ),
    ],
};

/// ScolariteMetier (§8): 3 operations served out of the 8 declared.
pub static SCOLARITE: ReadService = ReadService {
    name: "ScolariteMetier",
    namespace: SCOLARITE_NS,
    scope: Scope::RefRead,
    operations: &[
        op!(
            "recupererBacOuEquWS",
            &["_code", "_temoinEnService"],
            &t::BacOuEquDTO,
            answer::bac
        ),
        not_served!(
            "recupererBacOuEquWS_v2",
            "recupererBacOuEquWS2Request",
            "recupererBacOuEquWS2Response"
        ),
        not_served!("recupererMentionNivBacWS"),
        op!(
            "recupererOptBacWS",
            &["_code", "_temoinEnService"],
            &t::OptionBacDTO2,
            answer::option_bac
        ),
        not_served!("recupererProgEchangeWS"),
        not_served!("recupererSituationSISEWS"),
        op!(
            "recupererSpeBacWS",
            &["_code", "_temoinEnService"],
            &t::SpecialiteBacDTO2,
            answer::specialite_bac
        ),
        not_served!("recupererTypeDiplomeSISEWS"),
    ],
};

/// OffreFormationMetier (§9): `recupererSE_v4` served out of the 4 declared.
pub static OFFRE_FORMATION: ReadService = ReadService {
    name: "OffreFormationMetier",
    namespace: OFFRE_FORMATION_NS,
    scope: Scope::RefRead,
    operations: &[
        not_served!("recupererEpreuves"),
        not_served!("recupererGroupe_v3"),
        not_served!("recupererSE_v3"),
        Operation {
            name: "recupererSE_v4",
            request_message: "recupererSE_v4Request",
            response_message: "recupererSE_v4Response",
            response_wrapper: "recupererSE_v4Response",
            return_element: "recupererSE_v4Return",
            soap_params: &["_seCritere"],
            criteria: Some(&t::SECritereDTO2),
            returns: Some(&t::DiplomeDTO4),
            answer: Answer::Referential(se::answer),
            shape: Shape::Many,
        },
    ],
};

macro_rules! student_op {
    ($name:literal, $return:expr, $params:expr, $returns:expr, $shape:ident, $key:expr, $f:expr) => {
        regular(
            $name,
            concat!($name, "Request"),
            concat!($name, "Response"),
            $return,
            $params,
            $returns,
            Answer::Student(student::StudentRead {
                key: $key,
                answer: $f,
            }),
            Shape::$shape,
        )
    };
}

use student as st;
use student_types::{adm, etu};

/// EtudiantMetier (§3): 6 operations served out of the 11 declared.
pub static ETUDIANT: ReadService = ReadService {
    name: "EtudiantMetier",
    namespace: ETUDIANT_NS,
    scope: Scope::EtudiantRead,
    operations: &[
        not_served!("mettreAJourAdressesEtudiant"),
        student_op!(
            "recupererAdressesEtudiant_v2",
            "recupererAdressesEtudiantReturn",
            &["_codEtu", "_annee", "_recupAnnuaire"],
            &etu::CoordonneesDTO2,
            One,
            st::by_cod_etu,
            st::adresses
        ),
        not_served!("recupererCalendriersExamenEtudiant_v3"),
        not_served!("recupererCalendriersExamenEtudiant_v4"),
        not_served!("recupererIdentifiantsEtudiant"),
        student_op!(
            "recupererIdentifiantsEtudiant_v2",
            "recupererIdentifiantsEtudiant_v2Return",
            &[
                "_codEtu",
                "_codInd",
                "_numINE",
                "_numBoursier",
                "_codOPI",
                "_nom",
                "_prenom",
                "_dateNaiss",
                "_temoinRecupAnnu",
            ],
            &etu::IdentifiantsEtudiantDTO2,
            One,
            st::by_identifier,
            st::identifiants
        ),
        student_op!(
            "recupererInfosAdmEtu_v3",
            "recupererInfosAdmEtu_v3Return",
            &["_codEtu"],
            &etu::InfoAdmEtuDTO3,
            One,
            st::by_cod_etu,
            st::infos_adm_v3
        ),
        student_op!(
            "recupererInfosAdmEtu_v4",
            "recupererInfosAdmEtu_v4Return",
            &["_codEtu"],
            &etu::InfoAdmEtuDTO4,
            One,
            st::by_cod_etu,
            st::infos_adm_v4
        ),
        Operation {
            name: "recupererListeEtudiants",
            request_message: "recupererListeEtudiantsRequest",
            response_message: "recupererListeEtudiantsResponse",
            response_wrapper: "recupererListeEtudiantsResponse",
            return_element: "etudiant",
            soap_params: &["_parametres"],
            criteria: Some(&etu::EtudiantCritereDTO),
            returns: Some(&etu::EtudiantDTO2),
            answer: Answer::StudentList,
            shape: Shape::Many,
        },
        not_served!("recupererNumeroSecuriteSociale"),
        op!(
            "recupererTypeHebergement",
            &["_code", "_temoinService", "_temoinAD"],
            &etu::TypeHebergementDTO,
            answer::type_hebergement
        ),
    ],
};

/// AdministratifMetier (§4): 3 operations served out of the 4 declared.
pub static ADMINISTRATIF: ReadService = ReadService {
    name: "AdministratifMetier",
    namespace: ADMINISTRATIF_NS,
    scope: Scope::EtudiantRead,
    operations: &[
        student_op!(
            "recupererAnneesIa",
            "recupererAnneesIaReturn",
            &["_codEtu", "_etatInscriptionIA"],
            &adm::AnneeIa,
            Strings,
            st::by_cod_etu,
            st::annees_ia
        ),
        not_served!("recupererCursusExterne"),
        regular(
            "recupererIAAnnuelles_v2",
            "recupererIAAnnuellesRequest_v2",
            "recupererIAAnnuellesResponse_v2",
            "recupererIAAnnuellesReturn_v2",
            &["_codEtu", "_annee", "_etatIAA"],
            &adm::InsAdmAnuDTO2,
            Answer::Student(student::StudentRead {
                key: st::by_cod_etu,
                answer: st::ia_annuelles,
            }),
            Shape::Many,
        ),
        student_op!(
            "recupererIAEtapes_v3",
            "recupererIAEtapes_v3Return",
            &["_codEtu", "_annee", "_etatIAA", "_etatIAE"],
            &adm::InsAdmEtpDTO3,
            Many,
            st::by_cod_etu,
            st::ia_etapes
        ),
    ],
};

/// PedagogiqueMetier (§5): `recupererContratPedagogiqueResultatVdiVet_v2` served out of the 5
/// declared.
pub static PEDAGOGIQUE: ReadService = ReadService {
    name: "PedagogiqueMetier",
    namespace: PEDAGOGIQUE_NS,
    scope: Scope::EtudiantRead,
    operations: &[
        not_served!("mettreAJourNotesResultats"),
        not_served!("recupererAnneesIPResultat"),
        not_served!("recupererContratPedagogiqueResultatElpEpr_v6"),
        student_op!(
            "recupererContratPedagogiqueResultatVdiVet_v2",
            "recupererContratPedagogiqueResultatVdiVet_v2Return",
            &[
                "_codEtu",
                "_codAnu",
                "_sourceRes",
                "_etatDelib",
                "_codSes",
                "_typeRes",
                "_codEtaIae",
            ],
            &student_types::ped::ContratPedagogiqueResultatVdiVetDTO2,
            Many,
            st::by_cod_etu,
            pedagogique::contrats
        ),
        not_served!("recupererMaquetteReleveResultat"),
    ],
};

/// The read services.
pub static SERVICES: &[&ReadService] = &[
    &REFERENTIEL,
    &GEOGRAPHIE,
    &SCOLARITE,
    &OFFRE_FORMATION,
    &ETUDIANT,
    &ADMINISTRATIF,
    &PEDAGOGIQUE,
];
