#!/usr/bin/env python3
"""Real-client interop test: zeep (Python) against a live gateway's OpiMetier SOAP service.

Usage:
    python3 zeep_opi.py --base http://127.0.0.1:PORT --user NAME --secret SECRET

The gateway must run with the demo referential (crates/db/demo): CGE CG1 (remote access) and CG2
(no remote access), étapes ETP01/1, ETP02/1 (CG1, diplôme DIP01/1) and ETP03/1 (CG2), pays 100,
département 054, bac S, commune 88160 / postal code 88000. NAME/SECRET is an API client allowed to
call OpiMetier (HTTP Basic) and to read OPIs over REST (Bearer).

The WSDL is loaded from the server (`…/OpiMetier?wsdl`) and its soap:address is used as is. The
scenario (see README.md): create, read back over REST, update (replace semantics), idempotent
re-send, "delete every vœu", six faults (nothing half-written), v9, wrong credentials.

One line per check (`ok - …` / `FAIL - …`). Exit status: 0 all checks passed, 1 a check failed,
2 usage or connection error. Needs only the standard library, zeep and requests.
"""
import argparse
import random
import sys
import time

import requests
import zeep
from zeep.exceptions import Fault, TransportError
from zeep.transports import Transport

SERVICE_NS = "gouv.education.apogee.commun.servicesmetiers.OpiMetier"
SERVICE_PATH = "/apo-commun-servicesMetiers/services/OpiMetier"
BEA_KEYS = "ABCDEFGHJKLMNPRSTUVWXYZ"  # INE-4: index n mod 23, no I, O, Q
BASE36 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"

NOM = "LEGRAND"
PRENOM = "CAMILLE"
BIRTH_DATE = "14032005"
TIMEOUT = 30


# --------------------------------------------------------------------------- reporting
class Checks:
    """Prints one line per check and counts the failures."""

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

    def equal(self, got, want, label):
        return self.check(got == want, label, f"got {got!r}, expected {want!r}")


# --------------------------------------------------------------------------- test data
def bea_key(digits):
    """BEA check letter of 10 digits (domain.md INE-4)."""
    return BEA_KEYS[int(digits) % 23]


def random_ine(rng):
    """A valid BEA INE: 10 random digits (not all the same) + key letter."""
    while True:
        digits = "".join(rng.choice("0123456789") for _ in range(10))
        if len(set(digits)) > 1:
            return digits + bea_key(digits)


def wrong_key_ine(ine):
    """The same digits with the next key letter: a BEA INE whose key does not match."""
    key = BEA_KEYS[(BEA_KEYS.index(ine[10]) + 1) % len(BEA_KEYS)]
    return ine[:10] + key


def make_stem():
    """7 base-36 characters from the current time in milliseconds (codes are `ZP` + stem + 1 char)."""
    n = int(time.time() * 1000)
    out = ""
    for _ in range(7):
        n, r = divmod(n, 36)
        out = BASE36[r] + out
    return out


def voeu(cod_cge, cod_etp, cod_vrs_vet=1, **extra):
    """One vœu in the style of eCandidat (numCls 1, codDemDos C, codDecVeu F); other fields nil."""
    v = {"codCge": cod_cge, "codEtp": cod_etp, "codVrsVet": cod_vrs_vet, "numCls": 1,
         "codDemDos": "C", "codDecVeu": "F"}
    v.update(extra)
    return v


def voeu_etp01():
    return voeu("CG1", "ETP01", 1, codDip="DIP01", codVrsVdi=1, temValPsd="N")


def voeu_etp02():
    return voeu("CG1", "ETP02", 1)


def all_nil_voeu():
    """The eCandidat "delete every vœu" item: zeep renders an <item> whose 25 children are nil."""
    return {}


def opi_payload(code, ine, voeux_items, lib_pr2=None, nom=NOM, prenom=PRENOM, birth_date=BIRTH_DATE):
    """`_donneesOpi` in the style of eCandidat; every element not given is sent as nil by zeep."""
    return {
        "adresseAnnuelle": None,
        "adresseFixe": {"codBdi": "88000", "codCom": "88160", "codPay": "100", "lib1": "12 RUE DES FORGES"},
        "bac": {"codBac": "S", "daaObtBacOba": "2025"},
        "dac": None,
        "individu": {
            "codEtuOpi": None,
            "codOpiIntEpo": code,
            "dernierDiplObt": None,
            "dernierEtbFrequente": None,
            "donneesNaissance": {
                "codDepPayNai": "054", "codPayNat": "100", "codTypDepPayNai": "D",
                "dateNaiIndOpi": birth_date, "libVilNaiEtuOpi": "ÉPINAL", "temDateNaiRelOpi": "N",
            },
            "donneesPersonnelles": {"adrMailOpi": f"{code.lower()}@example.org", "numTelPorOpi": "0612345678"},
            "etatCivil": {
                "codNneIndOpi": ine, "codSexEtuOpi": "F", "libNomPatIndOpi": nom,
                "libPr1IndOpi": prenom, "libPr2IndOpi": lib_pr2,
            },
            "inscriptionParallele": None,
            "premiereInscription": None,
            "prgEchange": None,
            "situationAnnPre": None,
        },
        "voeux": {"item": list(voeux_items)},
        "donneesThese": None,
    }


# --------------------------------------------------------------------------- gateway access
def make_client(wsdl_url, session):
    """A zeep client whose WSDL is loaded from the server through `session` (which also carries the
    calls). The served soap:address is used as is."""
    transport = Transport(session=session, timeout=TIMEOUT, operation_timeout=TIMEOUT)
    return zeep.Client(wsdl_url, transport=transport)


class Gateway:
    def __init__(self, base, user, secret):
        self.base = base.rstrip("/")
        self.user = user
        self.secret = secret
        self.wsdl_url = self.base + SERVICE_PATH + "?wsdl"
        session = requests.Session()
        session.auth = (user, secret)
        self.client = make_client(self.wsdl_url, session)

    def v10(self, donnees):
        return self.client.service.mettreajourDonneesOpi_v10(_donneesOpi=donnees)

    def v9(self, donnees):
        return self.client.service.mettreajourDonneesOpi_v9(_donneesOpi=donnees)

    def read(self, code):
        """GET /api/v1/opi/{code}: (status, JSON body or None)."""
        r = requests.get(f"{self.base}/api/v1/opi/{code}", timeout=TIMEOUT,
                         headers={"Authorization": f"Bearer {self.secret}", "Accept": "application/json"})
        try:
            body = r.json()
        except ValueError:
            body = None
        return r.status_code, body


def dig(data, path):
    """data["a"]["b"]… for the dotted path; None when a step is missing."""
    for part in path.split("."):
        if not isinstance(data, dict):
            return None
        data = data.get(part)
    return data


def voeu_keys(body):
    """The stored vœux as a set of (codCge, codEtp, codVrsVet) strings; None if the shape is wrong.
    `donnees.voeux` absent/null or `donnees.voeux.item` absent/null/[] all mean no vœu."""
    voeux = dig(body, "donnees.voeux")
    if voeux is None:
        return set()
    if not isinstance(voeux, dict):
        return None
    items = voeux.get("item")
    if items is None:
        return set()
    if not isinstance(items, list):
        return None
    keys = set()
    for it in items:
        if not isinstance(it, dict):
            return None
        keys.add(tuple("" if it.get(k) is None else str(it.get(k)) for k in ("codCge", "codEtp", "codVrsVet")))
    return keys


def check_read_back(ck, gw, label, code, ine, voeux, lib_pr2=None, nom=NOM, prenom=PRENOM, ind=None):
    """Reads the OPI over REST and checks identity, INE, birth date, libPr2IndOpi and the vœu set.
    Returns codIndOpi (or None)."""
    status, body = gw.read(code)
    if not ck.check(status == 200 and isinstance(body, dict), f"{label}: GET /api/v1/opi/{code} -> 200 JSON",
                    f"status {status}, body {str(body)[:300]}"):
        return None
    ck.equal(body.get("codOpiIntEpo"), code, f"{label}: codOpiIntEpo")
    cod_ind = body.get("codIndOpi")
    ck.check(isinstance(cod_ind, int) and not isinstance(cod_ind, bool), f"{label}: codIndOpi is an integer",
             f"got {cod_ind!r}")
    if ind is not None:
        ck.equal(cod_ind, ind, f"{label}: same codIndOpi as at creation (updated, not re-created)")
    ck.equal(dig(body, "donnees.individu.etatCivil.libNomPatIndOpi"), nom, f"{label}: libNomPatIndOpi")
    ck.equal(dig(body, "donnees.individu.etatCivil.libPr1IndOpi"), prenom, f"{label}: libPr1IndOpi")
    ck.equal(dig(body, "donnees.individu.etatCivil.libPr2IndOpi"), lib_pr2, f"{label}: libPr2IndOpi")
    ck.equal(dig(body, "donnees.individu.etatCivil.codNneIndOpi"), ine, f"{label}: codNneIndOpi (INE)")
    ck.equal(dig(body, "donnees.individu.donneesNaissance.dateNaiIndOpi"), BIRTH_DATE, f"{label}: dateNaiIndOpi")
    want = {(c, e, str(v)) for c, e, v in voeux}
    ck.equal(voeu_keys(body), want, f"{label}: vœux {sorted(want) if want else 'none'}")
    return cod_ind


def call_ok(ck, label, fn, donnees):
    """Calls an operation that must succeed and return nothing."""
    try:
        result = fn(donnees)
    except Fault as f:
        return ck.check(False, label, f"SOAP Fault {f.message!r} (code {f.code!r})")
    except Exception as exc:  # noqa: BLE001 - any transport error is a failed check
        return ck.check(False, label, f"{type(exc).__name__}: {exc}")
    return ck.check(result is None, label, f"returned {result!r}")


def expect_fault(ck, gw, label, donnees, key):
    """Calls v10; expects a SOAP fault whose faultstring is `key`, faultcode …Server, and whose detail
    holds the qualified {OpiMetier}fault with type/domaine/nature/element = the key's segments."""
    try:
        gw.v10(donnees)
    except Fault as f:
        ck.equal(f.message, key, f"fault {label}: faultstring")
        ck.check(isinstance(f.code, str) and f.code.endswith("Server"),
                 f"fault {label}: faultcode ends with Server ({f.code!r})", f"got {f.code!r}")
        entry = None if f.detail is None else f.detail.find(f"{{{SERVICE_NS}}}fault")
        if not ck.check(entry is not None, f"fault {label}: detail holds {{{SERVICE_NS}}}fault",
                        "detail children: " + ("none" if f.detail is None else
                                               str([c.tag for c in f.detail if isinstance(c.tag, str)]))):
            return
        segments = key.split(".", 3)
        got = [entry.findtext(name) for name in ("type", "domaine", "nature", "element")]
        ck.equal(got, segments, f"fault {label}: detail type/domaine/nature/element")
        last = entry.findtext("lastErrorMsg")
        ck.check(bool(last and last.strip()), f"fault {label}: lastErrorMsg non-empty ({last!r})",
                 f"got {last!r}")
        return
    except Exception as exc:  # noqa: BLE001
        ck.check(False, f"fault {label}: SOAP Fault {key}", f"{type(exc).__name__}: {exc}")
        return
    ck.check(False, f"fault {label}: SOAP Fault {key}", "the call succeeded")


# --------------------------------------------------------------------------- scenario steps
def step_create(ck, gw, code, ine):
    print(f"# a. create {code} (INE {ine}) with vœux ETP01 and ETP02")
    call_ok(ck, "a. mettreajourDonneesOpi_v10 create returns nothing", gw.v10,
            opi_payload(code, ine, [voeu_etp01(), voeu_etp02()]))


def step_read_back(ck, gw, code, ine):
    print("# b. read back over REST")
    return check_read_back(ck, gw, "b. read back", code, ine,
                           [("CG1", "ETP01", 1), ("CG1", "ETP02", 1)])


def step_update(ck, gw, code, ine, ind):
    print("# c. update: only ETP02, libPr2IndOpi ANNE (replace semantics)")
    call_ok(ck, "c. mettreajourDonneesOpi_v10 update returns nothing", gw.v10,
            opi_payload(code, ine, [voeu_etp02()], lib_pr2="ANNE"))
    check_read_back(ck, gw, "c. read back", code, ine, [("CG1", "ETP02", 1)], lib_pr2="ANNE", ind=ind)


def step_idempotent(ck, gw, code, ine, ind):
    print("# d. idempotent re-send of the same payload")
    call_ok(ck, "d. mettreajourDonneesOpi_v10 re-send returns nothing", gw.v10,
            opi_payload(code, ine, [voeu_etp02()], lib_pr2="ANNE"))
    check_read_back(ck, gw, "d. read back", code, ine, [("CG1", "ETP02", 1)], lib_pr2="ANNE", ind=ind)


def step_empty(ck, gw, code, ine, ind):
    print("# e. delete every vœu: voeux = one item whose children are all nil")
    call_ok(ck, "e. mettreajourDonneesOpi_v10 with one all-nil item returns nothing", gw.v10,
            opi_payload(code, ine, [all_nil_voeu()], lib_pr2="ANNE"))
    check_read_back(ck, gw, "e. read back", code, ine, [], lib_pr2="ANNE", ind=ind)


def step_faults(ck, gw, code, ine, ind):
    print("# f. faults (each payload also changes libPr2IndOpi and adds a valid vœu: nothing may be written)")

    def changed(voeux_items, **kw):
        return opi_payload(code, kw.pop("ine", ine), voeux_items, lib_pr2="BEATRICE", **kw)

    cases = [
        ("unknown codCge ZZZ", changed([voeu_etp01(), voeu("ZZZ", "ETP01", 1)]),
         "technical.data.nullretrieve.codCge"),
        ("CG2 without remote access", changed([voeu_etp01(), voeu("CG2", "ETP03", 1)]),
         "functionnal.borules.cge.accesdistance"),
        ("libNomPatIndOpi nil", changed([voeu_etp01()], nom=None),
         "technical.parameter.noncoherentinput.libNomPatIndOpiobligatoire"),
        ("INE with a wrong key", changed([voeu_etp01()], ine=wrong_key_ine(ine)),
         "technical.parameter.noncoherentinput.codNneIndOpi"),
        ("dateNaiIndOpi 31022005", changed([voeu_etp01()], birth_date="31022005"),
         "technical.parameter.noncoherentinput.dateNaiIndOpi"),
        ("libNomPatIndOpi of 31 characters", changed([voeu_etp01()], nom="LEGRANDLEGRANDLEGRANDLEGRANDLEG"),
         "technical.parameter.noncoherentinput.libNomPatIndOpi"),
    ]
    for label, donnees, key in cases:
        expect_fault(ck, gw, label, donnees, key)
    check_read_back(ck, gw, "f. read back after the faults (unchanged)", code, ine, [], lib_pr2="ANNE", ind=ind)


def step_v9(ck, gw, code9, ine9):
    print(f"# g. mettreajourDonneesOpi_v9: create {code9} with vœu ETP01")
    call_ok(ck, "g. mettreajourDonneesOpi_v9 create returns nothing", gw.v9,
            opi_payload(code9, ine9, [voeu_etp01()], prenom="LOUISE"))
    check_read_back(ck, gw, "g. read back (v9)", code9, ine9, [("CG1", "ETP01", 1)], prenom="LOUISE")


def step_bad_credentials(ck, gw, code_bad, ine_bad):
    print(f"# h. wrong credentials ({code_bad})")
    statuses = []

    def record(response, *args, **kwargs):
        statuses.append((response.request.method, response.status_code))

    session = requests.Session()
    session.auth = (gw.user, gw.secret + "-wrong")
    session.hooks["response"].append(record)
    try:
        client = make_client(gw.wsdl_url, session)
        how = "WSDL loaded with the wrong credentials"
    except Exception:  # noqa: BLE001 - the server may refuse the WSDL too; test the call itself
        good = requests.Session()
        good.auth = (gw.user, gw.secret)
        good.hooks["response"].append(record)
        client = make_client(gw.wsdl_url, good)
        good.auth = (gw.user, gw.secret + "-wrong")
        how = "WSDL refused with the wrong credentials, loaded with the right ones"
    del statuses[:]
    status, outcome = None, "accepted"
    try:
        client.service.mettreajourDonneesOpi_v10(_donneesOpi=opi_payload(code_bad, ine_bad, [voeu_etp01()]))
    except requests.exceptions.HTTPError as exc:
        status, outcome = exc.response.status_code, "HTTPError"
    except TransportError as exc:
        status, outcome = exc.status_code, "TransportError"
    except Fault as f:
        outcome = f"Fault {f.message!r}"
    except Exception as exc:  # noqa: BLE001
        outcome = f"{type(exc).__name__}: {exc}"
    posts = [s for m, s in statuses if m == "POST"]
    if status is None and posts:
        status = posts[-1]
    ck.check(status == 401 and posts == [401],
             f"h. v10 with a wrong secret refused with HTTP 401 ({how}; {outcome})",
             f"status {status}, POST statuses {posts}, outcome {outcome}")
    rest_status, _ = gw.read(code_bad)
    ck.equal(rest_status, 404, f"h. the refused OPI {code_bad} was not stored (GET -> 404)")


# --------------------------------------------------------------------------- main
def parse_args(argv):
    ap = argparse.ArgumentParser(description="zeep interop test of the gateway's OpiMetier service")
    ap.add_argument("--base", required=True, help="gateway base URL, e.g. http://127.0.0.1:8080")
    ap.add_argument("--user", required=True, help="API client name (HTTP Basic user)")
    ap.add_argument("--secret", required=True, help="API client secret")
    return ap.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)  # exits 2 on usage errors
    try:
        gw = Gateway(args.base, args.user, args.secret)
    except Exception as exc:  # noqa: BLE001 - connection refused, 404, unparsable WSDL …
        print(f"error: cannot load the WSDL from {args.base.rstrip('/')}{SERVICE_PATH}?wsdl: "
              f"{type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
    print(f"# zeep {zeep.__version__}, WSDL {gw.wsdl_url}")
    print(f"# endpoint {gw.client.service._binding_options['address']}")

    ck = Checks()
    rng = random.SystemRandom()
    stem = make_stem()
    code, code9, code_bad = "ZP" + stem + "A", "ZP" + stem + "9", "ZP" + stem + "X"
    ine, ine9, ine_bad = random_ine(rng), random_ine(rng), random_ine(rng)

    def run(step, *a):
        try:
            return step(ck, gw, *a)
        except requests.exceptions.ConnectionError as exc:
            print(f"error: connection lost during {step.__name__}: {exc}", file=sys.stderr)
            sys.exit(2)
        except Exception as exc:  # noqa: BLE001 - report and go on with the next step
            ck.check(False, f"{step.__name__} raised", f"{type(exc).__name__}: {exc}")
            return None

    run(step_create, code, ine)
    ind = run(step_read_back, code, ine)
    run(step_update, code, ine, ind)
    run(step_idempotent, code, ine, ind)
    run(step_empty, code, ine, ind)
    run(step_faults, code, ine, ind)
    run(step_v9, code9, ine9)
    run(step_bad_credentials, code_bad, ine_bad)

    print(f"# {ck.passed} passed, {ck.failed} failed")
    return 0 if ck.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
