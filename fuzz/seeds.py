#!/usr/bin/env python3
"""Seeds each fuzz corpus (fuzz/corpus/<target>/seed-*) from the project's real examples.

Run from anywhere: python3 fuzz/seeds.py [SPEC_DIR]  (SPEC_DIR defaults to ../shared/spec
beside the repository, where the spec's examples and vectors live). Existing seeds are
overwritten; fuzzer-found inputs are left alone. After seeding and fuzzing, minimise with
`cargo fuzz cmin <target>`.
"""

import csv
import hashlib
import json
import pathlib
import sys

FUZZ = pathlib.Path(__file__).resolve().parent
ROOT = FUZZ.parent
SPEC = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared" / "spec"
SOAP_EXAMPLES = ROOT / "crates" / "soap" / "tests" / "examples"
DEMO = ROOT / "crates" / "db" / "demo"
FIXTURES = ROOT / "crates" / "gateway" / "tests" / "fixtures"

MTOM_TYPE = (
    'multipart/related;start="<rootpart*794f24b2-dfb4-4a64-bed1-7d9bd72a3d3d@example.jaxws.sun.com>";'
    'type="application/xop+xml";boundary="uuid:794f24b2-dfb4-4a64-bed1-7d9bd72a3d3d";start-info="text/xml"'
)


def files(*globs):
    out = []
    for base, pattern in globs:
        if base.is_dir():
            out.extend(sorted(p for p in base.glob(pattern) if p.is_file()))
    return out


def write(target, data):
    if isinstance(data, str):
        data = data.encode()
    d = FUZZ / "corpus" / target
    d.mkdir(parents=True, exist_ok=True)
    (d / ("seed-" + hashlib.sha1(data).hexdigest()[:16])).write_bytes(data)


def xml_examples():
    return files(
        (SOAP_EXAMPLES, "*.xml"),
        (SOAP_EXAMPLES / "captured", "*.xml"),
        (SPEC / "examples", "*.xml"),
        (SPEC / "examples" / "captured", "*.xml"),
        (SPEC / "examples" / "captured" / "read", "*.xml"),
    )


def demo_csvs():
    return files((DEMO, "*.csv"), (FIXTURES / "spec-examples", "*.csv"))


# An OPI-20 JSON body (the unit tests' complete payload).
OPI_JSON = {
    "individu": {
        "codOpiIntEpo": " EC00000001 ",
        "codEtuOpi": "22512345",
        "etatCivil": {
            "codNneIndOpi": " 0123456789m ",
            "codSexEtuOpi": "f",
            "libNomPatIndOpi": "Le  Gall",
            "libNomUsuIndOpi": "Martin",
            "libPr1IndOpi": "Zoé",
        },
        "donneesNaissance": {
            "dateNaiIndOpi": "14032005",
            "temDateNaiRelOpi": "N",
            "codPayNat": "100",
            "codTypDepPayNai": "D",
            "codDepPayNai": "021",
            "codComNaiEtuOpi": "21231",
        },
        "donneesPersonnelles": {"codRgi": "1", "adrMailOpi": "zoe@example.org"},
    },
    "adresseFixe": {
        "codPay": "100",
        "codBdi": "21000",
        "codCom": "21231",
        "lib1": "1 rue de la Paix",
        "numTel": "03.80-00 00/00",
    },
    "bac": {"codBac": "GDEM", "daaObtBacOba": "2023", "codSpe1BacTer": "D001"},
    "voeux": {
        "item": [
            {
                "codCge": "CG1",
                "codEtp": "ETP01",
                "codVrsVet": "1",
                "numCls": "1",
                "codDemDos": "C",
                "codDecVeu": "f",
                "codDip": "DIP01",
                "codVrsVdi": "1",
            }
        ]
    },
}
OPI_MINIMAL = {"individu": {"codOpiIntEpo": "X1", "etatCivil": {"libNomPatIndOpi": "A"}}}
OPI_DELETE_ALL = {**OPI_JSON, "voeux": {"item": [{}]}}

PEGASE_CANDIDAT = (
    "numero_candidat;sexe;nom_famille;nom_usuel;prenom;prenom2;prenom3;date_naissance;code_pays_naissance;"
    "code_commune_naissance;libelle_commune_naissance;code_nationalite;ine;adresse_code_pays;adresse_ligne1_etage;"
    "adresse_ligne2_batiment;adresse_ligne3_voie;adresse_ligne4_complement;adresse_code_postal;adresse_code_commune;"
    "adresse_cp_ville_etranger;numero_telephone1;numero_telephone2;courriel\n"
    "4100001;F;DURAND;;CLARA;;;2005-06-01;100;25056;BESANCON;100;0123456789M;100;;;3 RUE DU PONT;;25000;25056;;0381000000;0612345678;clara@example.org\n"
    "4100002;H;PETIT;;NOE;;;12/07/2004;100;54395;NANCY;100;;100;;;1 PLACE STANISLAS;;54000;54395;;;;noe@example.org\n"
    "4100003;F;ROUX;;EVA;;;31/02/2004;100;;;100;;;;;;;;;;;;\n"
    "4100004;F;MULLER;;ANNA;;;2004-01-02;99109;;BERLIN;99109;;;;;;;;;;;;\n"
)
PEGASE_CANDIDATURE = (
    "numero_candidat;origine_admission;voie_admission;annee_concours;code_voeu;code_periode;"
    "code_formation_psup;code_sise;code_etablissement_affectation\n"
    "4100001;EC;;2026;L1-DEMO-1;2026;;;\n4100001;EC;;2026;L2-DEMO-1;2026;;;\n4100002;EC;;2026;INCONNU;2026;;;\n"
)
PARCOURSUP = (
    "Numéro candidat;Nom;Prénom;Civilité;Date de naissance;Numéro INE;Nationalité;Série diplôme;Mention diplôme;"
    "Pays de naissance;Ville de naissance;Adresse 1;Code postal;Commune;Pays;e-mail du candidat;Téléphone mobile\n"
    "123456;BERNARD;LUCAS;M.;03/04/2006;;Française;Générale;Très bien;France;Dijon;2 RUE VERTE;25000;25056;France;lucas@example.org;0600000000\n"
    "123457;MOREAU;INES;Mme;05/05/2006;;Lunaire;Générale;Bien;France;Metz;;;;;ines@example.org;\n"
)

LP_FILES = [
    "\ufefftypLpa,codAnu,numOPI,codEtp,codVrsVet,codDip,codVrsVdi,libCmtLpa\r\n"
    "IAPRIMO,2026,OP00014520,ETP01,1,DIP01,1,example\r\n\r\n"
    'IAPRIMO,2026,OP1,ETP02,1,,,"a, ""quoted""\r\ncomment"\r\nIAPRIMO,2017\n',
    "typLpa,codAnu,numOPI,codEtu,codEtp,codVrsVet,codDip,codVrsVdi,codRgi,codStu,libCmtLpa,codCatOuiSi,mtfCat,codCatExoExt\n"
    "REINS,2026,,22512345,ETP01,1,DIP01,1,1,01,ok,01,motif,01\nIAPRIMO,2026,OP1,,ETP02,2,,,9,,,,,09\n",
    ' TYPLPA ,codanu,codEtu,codEtp,codVrsVet\nREINS,2026,10000001,ETP01,1\n',
    '[\n {"typLpa":"REINS","codAnu":"2026","codEtu":22512345,"codEtp":"ETP01","codVrsVet":1},\n\n'
    ' {"typLpa":"IAPRIMO","codAnu":2026,"numOPI":"OP1","codEtp":"ETP02","codVrsVet":"1","codRgi":"2"}\n]',
    '{"typLpa":"REINS","codAnu":"2026","codEtu":"22512345","codEtp":"ETP01","codVrsVet":"1"}\n\n{oops\n'
    '{"typLpa":"IAPRIMO","codAnu":"2026","numOPI":"OP1","codEtp":"ETP01","codVrsVet":"1","codCatOuiSi":"01"}\n',
]

STUDENTS = [
    "codEtu;ine;libNomPatInd;libNomUsuInd;libPr1Ind;dateNaiInd;blocages\n"
    "10000001;0123456789M;MARTIN;;LEA;2004-05-12;\n\n"
    "10000002;;DURAND;;PAUL;2004-05-12;BU:A:Dette: bibliothèque|SCO:T\n"
    "10000003;0123456789A;PETIT;;ZOE;2004-05-12;\n10000004;;X\n",
    '{"codEtu":"1","libNomPatInd":"A","libPr1Ind":"B","dateNaiInd":"2005-01-01"}\n\n{oops\n'
    '{"codEtu": 10000001, "ine": " 0123456789m ", "libNomPatInd": "Le  Gall", "libPr1Ind": "Éloïse",'
    ' "dateNaiInd": "14032005", "blocages": [{"codBlo": "BU", "typBlo": "a"}],'
    ' "inscriptionsAnnuelles": [{"codAnu": "2025", "etaIaa": "E"}],'
    ' "inscriptionsEtapes": [{"codAnu": "2025", "codEtp": "ETP01", "codVrsVet": 1, "etaIae": "E", "etaPmtIae": "P"}]}\n',
]

CVEC_FILES = [
    "NUM_ATTESTATION;nom;prenom;dateNaissance;etatCode;exonerationActive;ine\n"
    "ver1abcdef12;Dupont;Marie;14/03/2005;70;;0123456789m\n\n"
    "VE1ABCDEF12;Durand;Paul;2005-02-30;71;peut-être;12\nVER1ABCDEF12;Dupont;Marie;2005-03-14;70;O;\n",
    '{"codAnu":"2026","numAttestation":"VER1ABCDEF12","nom":"Dupont","prenom":"Marie","dateNaissance":"2005-03-14",'
    '"etat":{"code":71,"libelle":"Valide boursier"},"exoneration":{"active":true,"motif":"boursier"}}\n\n'
    '{"numAttestation":"VER1ABCDEF13","nom":"Durand"}\nnot json\n',
    '[{"codAnu":"2025","numAttestation":"VER1ABCDEF12","nom":"A","prenom":"B","dateNaissance":"14032005","etatCode":"75","autre":1}]',
    "VER1 ABCDEF 12 / DUPON",
    "2005-03-14\n14/03/2005\n14032005\n2005-03-14T00:00:00Z\n",
]


def main():
    xmls = xml_examples()
    for p in xmls:
        data = p.read_bytes()
        write("soap_decode", data)
        if b"DonneesOpi" in data:
            write("opi_dto", data)
        if b"LaissezPasser" in data:
            write("lp_batch", data)
        if b"recupererPiecesJustificatives" in data:
            write("mtom", b"text/xml; charset=utf-8\n" + data)
    for p in xmls[:3]:
        write("soap_decode", b"text/xml; charset=ISO-8859-15\n" + p.read_bytes())
    for p in files((SOAP_EXAMPLES / "captured", "*.mime")):
        write("mtom", MTOM_TYPE.encode() + b"\n" + p.read_bytes())
    write(
        "mtom",
        b'multipart/related; boundary=b2; start="<r>"\n--b2\nContent-ID: <r>\n\n'
        b'<E:Envelope xmlns:E="http://schemas.xmlsoap.org/soap/envelope/"><E:Body>'
        b'<m:recupererPiecesJustificativesOPIWS xmlns:m="gouv.education.apogee.commun.servicesmetiers.PjOpiMetier">'
        b'<_pj><xop:Include xmlns:xop="http://www.w3.org/2004/08/xop/include" href="cid:a"/></_pj>'
        b"</m:recupererPiecesJustificativesOPIWS></E:Body></E:Envelope>\n"
        b"--b2\nContent-ID: <a>\nContent-Transfer-Encoding: base64\n\nJVBERi0xLjcNCi0tYm5kLW5vdC10aGUtZW5kDQoA/w0KDQo=\n--b2--\n",
    )
    for d in (OPI_JSON, OPI_MINIMAL, OPI_DELETE_ALL):
        write("opi_dto", json.dumps(d, ensure_ascii=False))
    write("opi_batch", "\n".join(json.dumps(d, ensure_ascii=False) for d in (OPI_JSON, OPI_MINIMAL)) + "\n\n{oops\n")
    write("opi_batch", PEGASE_CANDIDAT + "\n%%\n" + PEGASE_CANDIDATURE)
    write("opi_batch", PARCOURSUP)
    for text in LP_FILES:
        write("lp_batch", text)
    for text in STUDENTS:
        write("students_batch", text)
    for text in CVEC_FILES:
        write("cvec", text)
    for p in demo_csvs():
        data = p.read_bytes()
        if p.name == "etudiants.csv":
            write("students_batch", data)
        elif p.name == "cvec-attestations.csv":
            write("cvec", data)
        elif p.name in ("formations-pegase.csv", "correspondances.csv"):
            write("opi_batch", data)
        else:
            write("lp_batch", data)
    vectors = SPEC / "vectors"
    for name, target in (("ine.csv", "ine"), ("cvec-codes.csv", "cvec")):
        path = vectors / name
        if not path.exists():
            path = ROOT / "crates" / "domain" / "tests" / "vectors" / name
        with path.open(newline="", encoding="utf-8") as f:
            for row in csv.reader(f):
                if row and row[0] not in ("value", "code", "raw", "input"):
                    write(target, row[0])


if __name__ == "__main__":
    main()
