#!/usr/bin/env python3
"""Real-client interop test: zeep (Python) against a live gateway's read services
(ReferentielMetier, GeographieMetier, ScolariteMetier, OffreFormationMetier, and EtudiantMetier,
AdministratifMetier, PedagogiqueMetier on the demo students).

Usage:
    python3 zeep_ref.py BASE NAME SECRET [CODETU INE CODOPI]
    e.g. python3 zeep_ref.py http://127.0.0.1:8080 admin apg_… 22512346 3251424525T JVMWT75HOJ

CODETU INE CODOPI: a student created by the lifecycle (the OPI JVMWT75HOJ of
captured/jaxws-mettreajourDonneesOpi_v10-create-with-address-and-bac.xml pushed, its LP IAPRIMO,
its CVEC, its primo enrolment in 2026 ETP01 v1: crates/gateway/tests/api/enrolment.rs); every
operation is then called for that student too and must answer its data.

The gateway must run with the demo referential (crates/db/demo). NAME/SECRET is an API client
holding `ref:read` and `etudiant:read` (SOAP over HTTP Basic, REST twins over Bearer). Each WSDL is loaded from the
server (`…/<Service>?wsdl`) and its soap:address used as is. For every served operation: a call
as a real client makes it, the values clients read (soap-read-services.md §11), and the whole
answer compared with the REST twin `GET /api/v1/services/<Service>/<operation>`; then the fault
of an unknown code (typed detail `{dated service ns}fault`).

One line per check (`ok - …` / `FAIL - …`). Exit status: 0 all checks passed, 1 a check failed,
2 usage or connection error.
"""
import argparse
import datetime
import decimal
import sys

import requests
import zeep
from zeep.exceptions import Fault
from zeep.helpers import serialize_object
from zeep.transports import Transport

PATH = "/apo-commun-servicesMetiers/services/"
NS = {
    "ReferentielMetier": "gouv.education.apogee.commun.servicesmetiers.ReferentielMetier_21062012",
    "GeographieMetier": "gouv.education.apogee.commun.servicesmetiers.GeographieMetier_01082016",
    "ScolariteMetier": "gouv.education.apogee.commun.servicesmetiers.ScolariteMetier",
    "OffreFormationMetier": "gouv.education.apogee.commun.servicesmetiers.OffreFormationMetier",
    "EtudiantMetier": "gouv.education.apogee.commun.servicesmetiers.EtudiantMetier",
    "AdministratifMetier": "gouv.education.apogee.commun.servicesmetiers.AdministratifMetier",
    "PedagogiqueMetier": "gouv.education.apogee.commun.servicesmetiers.PedagogiqueMetier",
}
# eCandidat's call of the pedagogical contracts (soap-read-services.md §5.2).
PED_ECANDIDAT = {"_codEtu": "10000001", "_codAnu": "toutes", "_sourceRes": "Apogee", "_etatDelib": "T",
                 "_codSes": "toutes", "_typeRes": "tous", "_codEtaIae": "E"}
LISTE_ETP01 = {"annee": "2025", "listEtapes": {"item": [{"code": "ETP01", "listVersion": ["1"]}]},
               "listComposante": ["UFR", "INF"]}
ID_ALL = {"_codEtu": "", "_codInd": "", "_numINE": "", "_numBoursier": "", "_codOPI": "", "_nom": "",
          "_prenom": "", "_dateNaiss": "", "_temoinRecupAnnu": ""}
SE_ALL = {"codAnu": None, "codComposanteVdi": None, "codDip": "tous", "codElp": "aucun", "codEtp": "tous",
          "codNatureDip": None, "codNatureElp": None, "codTypDip": None, "codVrsVdi": "tous",
          "codVrsVet": "tous", "temOuvertRecrutement": None}

# (service, operation, keyword arguments, [(path, expected)], REST query). Unset string
# parameters are sent as "" (the schema makes them 1..1, as AMUE's): the gateway reads "" as
# "not given". An empty container reads as None in zeep.
CALLS = [
    ("ReferentielMetier", "recupererCGE", {"_codCge": "", "_temoinEnService": ""},
     [("0.codCge", "CG1"), ("1.libCge", "Centre de gestion démo 2")], {}),
    ("ReferentielMetier", "recupererComposante_v2", {"_codCmp": "UFR", "_sens": ""},
     [("0.temEnSveCmp", "O"), ("0.codSig", "SIG1"), ("0.listeComposanteFils.composante.0.codCmp", "INF"),
      ("0.typeComposante.libTypCmp", "Unité de formation et de recherche (démo)")], {"codCmp": "UFR"}),
    ("ReferentielMetier", "recupererInformationEtabRef", {"_codVap": "ETB_LIB"},
     [("0.parVap", "Université de démonstration (démo)")], {"codVap": "ETB_LIB"}),
    ("ReferentielMetier", "recupererRegimeInscription", {"_codRegIns": "", "_temoinEnService": "O"},
     [("0.codRegIns", "1"), ("0.libRegIns", "Formation initiale (démo)")], {"temoinEnService": "O"}),
    ("ReferentielMetier", "recupererSignataire", {"_codSig": "SIG1", "_temoinEnService": "O"},
     [("0.nomSig", "Camille DUPRÉ (démo)"), ("0.quaSig", "Doyenne de l'UFR Sciences et techniques")],
     {"codSig": "SIG1", "temoinEnService": "O"}),
    ("GeographieMetier", "recupererCommune_v2",
     {"_codePostal": "88000", "_temoinEnServiceCom": "O", "_temoinEnServiceBD": "O", "_temoinEnServiceComBD": ""},
     [("0.codeCommune", "88160"), ("0.libCommune", "Épinal"), ("0.temSevBureauDis", "O")],
     {"codePostal": "88000", "temoinEnServiceCom": "O", "temoinEnServiceBD": "O"}),
    ("GeographieMetier", "recupererCommune", {"_codePostal": "054", "_temoinEnServiceCom": "O", "_temoinEnServiceBD": "T"},
     [("0.codeCommune", "54395")], {"codePostal": "054", "temoinEnServiceCom": "O", "temoinEnServiceBD": "T"}),
    ("GeographieMetier", "recupererPays", {"_codePays": "100", "_temoinEnService": "O"},
     [("0.codePay", "100"), ("0.libPay", "France"), ("0.libNat", "Française")], {"codePays": "100", "temoinEnService": "O"}),
    ("GeographieMetier", "recupererDepartement", {"_codeDept": "054", "_temoinEnService": ""},
     [("0.libDept", "Meurthe-et-Moselle")], {"codeDept": "054"}),
    ("ScolariteMetier", "recupererBacOuEquWS", {"_code": "S", "_temoinEnService": ""},
     [("0.libBac", "Scientifique")], {"code": "S"}),
    ("ScolariteMetier", "recupererOptBacWS", {"_code": "", "_temoinEnService": ""},
     [("0.codOptBac", "O001")], {}),
    ("ScolariteMetier", "recupererSpeBacWS", {"_code": "D001", "_temoinEnService": ""},
     [("0.libSpeBac", "Mathématiques (démo)")], {"code": "D001"}),
    ("OffreFormationMetier", "recupererSE_v4", {"_seCritere": SE_ALL},
     [("0.codDip", "DIP01"), ("0.listVersionDiplome.item.0.codVrsVdi", 1),
      ("0.listVersionDiplome.item.0.offreFormation.listEtape.item.0.codEtp", "ETP01"),
      ("0.listVersionDiplome.item.0.offreFormation.listEtape.item.0.listComposanteCentreGestion.item.0.codComposante", "UFR"),
      ("0.listVersionDiplome.item.0.offreFormation.listEtape.item.0.listVersionEtape.item.0.codVrsVet", 1),
      ("0.listVersionDiplome.item.0.offreFormation.listEtape.item.0.listVersionEtape.item.0.listListeElementPedagogi", None)],
     {k: v for k, v in SE_ALL.items() if v is not None}),
    # The student's file (1..1 answers: one item) and enrolments, demo student 10000001.
    ("EtudiantMetier", "recupererIdentifiantsEtudiant_v2", dict(ID_ALL, _codEtu="10000001", _temoinRecupAnnu="N"),
     [("0.codEtu", 10000001), ("0.numeroINE", "2204123456R")], {"codEtu": "10000001", "temoinRecupAnnu": "N"}),
    ("EtudiantMetier", "recupererIdentifiantsEtudiant_v2", dict(ID_ALL, _numINE="2301987654U"),
     [("0.codEtu", 10000003)], {"numINE": "2301987654U"}),
    ("EtudiantMetier", "recupererInfosAdmEtu_v4", {"_codEtu": "10000003"},
     [("0.nomPatronymique", "THOMAS"), ("0.prenom1", "INÈS"), ("0.dateNaissance", "2004-01-20T00:00:00"),
      ("0.listeBlocages.item.0.codBlocage", "BU")], {"codEtu": "10000003"}),
    ("EtudiantMetier", "recupererInfosAdmEtu_v3", {"_codEtu": "10000001"},
     [("0.numEtu", 10000001), ("0.numeroINE", "2204123456R")], {"codEtu": "10000001"}),
    ("EtudiantMetier", "recupererAdressesEtudiant_v2", {"_codEtu": "10000004", "_annee": "", "_recupAnnuaire": "N"},
     [("0.annee", "2026")], {"codEtu": "10000004", "recupAnnuaire": "N"}),
    ("AdministratifMetier", "recupererAnneesIa", {"_codEtu": "10000004", "_etatInscriptionIA": ""},
     [("0", "2025"), ("1", "2026")], {"codEtu": "10000004"}),
    ("AdministratifMetier", "recupererIAAnnuelles_v2", {"_codEtu": "10000004", "_annee": "toutes", "_etatIAA": "ARE"},
     [("0.anneeIAA", "2025"), ("1.etatIaa.codeEtatIAA", "A")], {"codEtu": "10000004", "annee": "toutes", "etatIAA": "ARE"}),
    ("AdministratifMetier", "recupererIAEtapes_v3", {"_codEtu": "10000001", "_annee": "2025", "_etatIAA": "E", "_etatIAE": "E"},
     [("0.etape.codeEtp", "ETP01"), ("0.etape.versionEtp", "1"), ("0.composante.codComposante", "UFR"),
      ("0.codeInscriptionPayee", "P"), ("0.inscriptionPayee", "Paiement effectué")],
     {"codEtu": "10000001", "annee": "2025", "etatIAA": "E", "etatIAE": "E"}),
    # The students of étape ETP01 v1 in composante UFR or INF in 2025 (esup-siscol's call).
    ("EtudiantMetier", "recupererListeEtudiants", {"_parametres": LISTE_ETP01},
     [("0.codEtu", "10000001"), ("0.nom", "DUPONT"), ("0.dateNaissance", "12/05/2004"), ("0.numeroIne", "2204123456R"),
      ("3.codEtu", "10000004")],
     {"annee": "2025", "listEtapes": "ETP01:1", "listComposante": ["UFR", "INF"]}),
    # esup-mdw: every parameter unset, the whole list.
    ("EtudiantMetier", "recupererTypeHebergement", {"_code": "", "_temoinService": "", "_temoinAD": ""},
     [("0.codTypeHebergement", "1"), ("6.libWebTypeHebergement", "Autre mode d'hébergement")], {}),
    ("PedagogiqueMetier", "recupererContratPedagogiqueResultatVdiVet_v2", PED_ECANDIDAT,
     [("0.annee", "2025"), ("0.diplome.codDip", "DIP01"), ("0.diplome.codVrsVdi", 1),
      ("0.etapes.item.0.codAnu", "2025"), ("0.etapes.item.0.etape.codEtp", "ETP01"),
      ("0.etapes.item.0.etape.codVrsVet", 1), ("0.etapes.item.0.etape.libWebVet", "Licence 1re année (démo)"),
      ("0.resultatVdi", None)],
     {k[1:]: v for k, v in PED_ECANDIDAT.items()}),
]


def lifecycle_calls(cod_etu, ine, opi):
    """Every operation for the student the lifecycle created from the OPI (its file copied from the
    OPI: LEGRAND-RSPYC CAMILLE, born 2005-03-14 in Épinal, bac S 2025; enrolled in 2026 ETP01 v1)."""
    ids = [("0.codEtu", int(cod_etu)), ("0.numeroINE", ine)]
    return [
        ("EtudiantMetier", "recupererIdentifiantsEtudiant_v2", dict(ID_ALL, _codEtu=cod_etu), ids, {"codEtu": cod_etu}),
        ("EtudiantMetier", "recupererIdentifiantsEtudiant_v2", dict(ID_ALL, _numINE=ine), ids, {"numINE": ine}),
        ("EtudiantMetier", "recupererIdentifiantsEtudiant_v2", dict(ID_ALL, _codOPI=opi), ids, {"codOPI": opi}),
        ("EtudiantMetier", "recupererIdentifiantsEtudiant_v2",
         dict(ID_ALL, _nom="LEGRAND-RSPYC", _prenom="CAMILLE", _dateNaiss="14/03/2005"), ids,
         {"nom": "LEGRAND-RSPYC", "prenom": "CAMILLE", "dateNaiss": "14/03/2005"}),
        ("EtudiantMetier", "recupererInfosAdmEtu_v4", {"_codEtu": cod_etu},
         [("0.numEtu", int(cod_etu)), ("0.nomPatronymique", "LEGRAND-RSPYC"), ("0.prenom1", "CAMILLE"), ("0.sexe", "F"),
          ("0.dateNaissance", "2005-03-14T00:00:00"), ("0.libVilleNaissance", "ÉPINAL"),
          ("0.nationaliteDTO.codeNationalite", "100"), ("0.listeBacs.item.0.codBac", "S"),
          ("0.listeBacs.item.0.anneeObtentionBac", "2025"), ("0.anneePremiereInscEtb", "2026")], {"codEtu": cod_etu}),
        ("EtudiantMetier", "recupererInfosAdmEtu_v3", {"_codEtu": cod_etu},
         [("0.numEtu", int(cod_etu)), ("0.numeroINE", ine), ("0.nomPatronymique", "LEGRAND-RSPYC")], {"codEtu": cod_etu}),
        ("EtudiantMetier", "recupererAdressesEtudiant_v2", {"_codEtu": cod_etu, "_annee": "2026", "_recupAnnuaire": "N"},
         [("0.annee", "2026"), ("0.adresseFixe.libAd1", "12 RUE DES FORGES"), ("0.adresseFixe.commune.codePostal", "88000"),
          ("0.email", "camille.legrand@example.org"), ("0.numTelPortable", "0612345678")],
         {"codEtu": cod_etu, "annee": "2026", "recupAnnuaire": "N"}),
        ("EtudiantMetier", "recupererListeEtudiants", {"_parametres": dict(LISTE_ETP01, annee="2026")},
         [("-1.codEtu", cod_etu), ("-1.nom", "LEGRAND-RSPYC"), ("-1.dateNaissance", "14/03/2005"), ("-1.numeroIne", ine)],
         {"annee": "2026", "listEtapes": "ETP01:1", "listComposante": ["UFR", "INF"]}),
        ("AdministratifMetier", "recupererAnneesIa", {"_codEtu": cod_etu, "_etatInscriptionIA": ""},
         [("0", "2026"), ("1", "<missing>")], {"codEtu": cod_etu}),
        ("AdministratifMetier", "recupererIAAnnuelles_v2", {"_codEtu": cod_etu, "_annee": "2026", "_etatIAA": "E"},
         [("0.anneeIAA", "2026"), ("0.etatIaa.codeEtatIAA", "E")], {"codEtu": cod_etu, "annee": "2026", "etatIAA": "E"}),
        ("AdministratifMetier", "recupererIAEtapes_v3", {"_codEtu": cod_etu, "_annee": "2026", "_etatIAA": "E", "_etatIAE": "E"},
         [("0.etape.codeEtp", "ETP01"), ("0.etape.versionEtp", "1"), ("0.diplome.codeDiplome", "DIP01"),
          ("0.etatIae.codeEtatIAE", "E")],
         {"codEtu": cod_etu, "annee": "2026", "etatIAA": "E", "etatIAE": "E"}),
        ("PedagogiqueMetier", "recupererContratPedagogiqueResultatVdiVet_v2", dict(PED_ECANDIDAT, _codEtu=cod_etu),
         [("0.annee", "2026"), ("0.diplome.codDip", "DIP01"), ("0.etapes.item.0.etape.codEtp", "ETP01"),
          ("0.etapes.item.0.codAnu", "2026"), ("0.resultatVdi", None)],
         {k[1:]: v for k, v in dict(PED_ECANDIDAT, _codEtu=cod_etu).items()}),
    ]


# (service, operation, keyword arguments, fault key)
FAULTS = [
    ("ReferentielMetier", "recupererCGE", {"_codCge": "ZZZ", "_temoinEnService": ""}, "technical.data.nullretrieve.cge"),
    ("GeographieMetier", "recupererCommune_v2",
     {"_codePostal": "99999", "_temoinEnServiceCom": "", "_temoinEnServiceBD": "", "_temoinEnServiceComBD": ""},
     "technical.data.nullretrieve.commune"),
    ("ScolariteMetier", "recupererSpeBacWS", {"_code": "ZZZZ", "_temoinEnService": ""}, "technical.data.nullretrieve.specialiteBac"),
    ("OffreFormationMetier", "recupererSE_v4", {"_seCritere": dict(SE_ALL, codEtp="ZZZ")}, "technical.data.nullretrieve.recupererse"),
    ("EtudiantMetier", "recupererIdentifiantsEtudiant_v2", dict(ID_ALL, _codOPI="ZZ00000000"), "technical.data.nullretrieve.etudiant"),
    ("EtudiantMetier", "recupererInfosAdmEtu_v4", {"_codEtu": "12AB"}, "technical.parameter.noncoherentinput.codEtu"),
    ("EtudiantMetier", "recupererAdressesEtudiant_v2", {"_codEtu": "10000001", "_annee": "2019", "_recupAnnuaire": "N"},
     "technical.data.nullretrieve.findIAA"),
    ("AdministratifMetier", "recupererIAAnnuelles_v2", {"_codEtu": "99999999", "_annee": "", "_etatIAA": ""},
     "technical.data.nullretrieve.etudiant"),
    ("AdministratifMetier", "recupererIAEtapes_v3", {"_codEtu": "10000001", "_annee": "2019", "_etatIAA": "", "_etatIAE": ""},
     "technical.data.nullretrieve.findIAE"),
    ("EtudiantMetier", "recupererListeEtudiants", {"_parametres": dict(LISTE_ETP01, annee="2019")},
     "technical.data.nullretrieve.etudiant"),
    ("EtudiantMetier", "recupererTypeHebergement", {"_code": "9", "_temoinService": "", "_temoinAD": ""},
     "technical.data.nullretrieve.typeHebergement"),
    ("PedagogiqueMetier", "recupererContratPedagogiqueResultatVdiVet_v2", dict(PED_ECANDIDAT, _codAnu="2019"),
     "technical.data.nullretrieve.codAnu"),
    ("PedagogiqueMetier", "recupererContratPedagogiqueResultatVdiVet_v2", dict(PED_ECANDIDAT, _codEtu="99999999"),
     "technical.data.nullretrieve.etudiant"),
]


class Checks:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, cond, label, detail=""):
        if cond:
            self.passed += 1
            print(f"ok - {label}")
        else:
            self.failed += 1
            print(f"FAIL - {label}" + (f": {detail}" if detail else ""))
        sys.stdout.flush()
        return bool(cond)


def dig(data, path):
    for part in path.split("."):
        if isinstance(data, list):
            index = int(part) if part.lstrip("-").isdigit() else None
            if index is None or not -len(data) <= index < len(data):
                return "<missing>"
            data = data[index]
        elif isinstance(data, dict):
            if part not in data:
                return "<missing>"
            data = data[part]
        else:
            return "<missing>"
    return data


def plain(value):
    """zeep's objects as the REST twin writes them: containers' repeated child as a list."""
    if isinstance(value, dict):
        if len(value) == 1 and next(iter(value)) in ("item", "composante"):
            inner = next(iter(value.values()))
            return [plain(v) for v in (inner or [])]
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    return value


def zeep_view(value):
    """The REST twin's items as zeep reads the same XML: an empty container or block is None."""
    if isinstance(value, dict):
        return {k: zeep_view(v) for k, v in value.items()} or None
    if isinstance(value, list):
        return [zeep_view(v) for v in value] or None
    return value


def squash(value):
    """zeep reads a nil complex element as an object whose fields are all None, and an empty block
    we send (every leaf nil) the same way: both sides compare as None."""
    if isinstance(value, dict):
        out = {k: squash(v) for k, v in value.items()}
        return None if all(v is None for v in out.values()) else out
    if isinstance(value, list):
        return [squash(v) for v in value]
    return value


def strings_view(items):
    """recupererAnneesIa: bare strings over SOAP, `{"annee": …}` items in the REST twin."""
    if items and all(isinstance(i, dict) and list(i) == ["annee"] for i in items):
        return [i["annee"] for i in items]
    return items


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("base", help="gateway base URL, e.g. http://127.0.0.1:8080")
    ap.add_argument("user", help="API client name (HTTP Basic user)")
    ap.add_argument("secret", help="API client secret")
    ap.add_argument("student", nargs="*", metavar="CODETU INE CODOPI", help="a student created by the lifecycle")
    args = ap.parse_args(argv)
    if len(args.student) not in (0, 3):
        ap.error("the lifecycle student is CODETU INE CODOPI")
    calls = CALLS + (lifecycle_calls(*args.student) if args.student else [])
    base = args.base.rstrip("/")
    session = requests.Session()
    session.auth = (args.user, args.secret)
    clients = {}
    try:
        for service in NS:
            clients[service] = zeep.Client(base + PATH + service + "?wsdl", transport=Transport(session=session, timeout=30))
    except Exception as exc:  # noqa: BLE001
        print(f"error: cannot load the WSDLs: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
    print(f"# zeep {zeep.__version__}")
    ck = Checks()
    for service, op, kwargs, expected, query in calls:
        label = f"{service}.{op}"
        try:
            result = serialize_object(getattr(clients[service].service, op)(**kwargs), dict)
        except Exception as exc:  # noqa: BLE001
            ck.check(False, f"{label} answers", f"{type(exc).__name__}: {exc}")
            continue
        if isinstance(result, dict):  # a 1..1 return element
            result = [result]
        ck.check(isinstance(result, list) and len(result) > 0, f"{label} answers a non-empty list", repr(result)[:200])
        for path, want in expected:
            got = dig(result, path)
            if isinstance(got, datetime.datetime):
                got = got.isoformat()
            ck.check(got == want, f"{label} {path} = {want!r}", f"got {got!r}")
        twin = requests.get(f"{base}/api/v1/services/{service}/{op}", params=query, timeout=30,
                            headers={"Authorization": f"Bearer {args.secret}"})
        items = twin.json().get("items") if twin.status_code == 200 else None
        items = strings_view(items)
        ck.check(squash(plain(result)) == squash(zeep_view(items)), f"{label}: the SOAP answer equals the REST twin's",
                 f"SOAP {str(plain(result))[:300]} / REST {twin.status_code} {str(items)[:300]}")
    for service, op, kwargs, key in FAULTS:
        label = f"{service}.{op} fault"
        try:
            getattr(clients[service].service, op)(**kwargs)
            ck.check(False, f"{label} {key}", "the call succeeded")
        except Fault as f:
            ck.check(f.message == key, f"{label}: faultstring {key}", f"got {f.message!r}")
            entry = None if f.detail is None else f.detail.find(f"{{{NS[service]}}}fault")
            ck.check(entry is not None, f"{label}: detail holds {{{NS[service]}}}fault")
        except Exception as exc:  # noqa: BLE001
            ck.check(False, f"{label} {key}", f"{type(exc).__name__}: {exc}")
    print(f"# {ck.passed} passed, {ck.failed} failed")
    return 0 if ck.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
