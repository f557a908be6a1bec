#!/usr/bin/env python3
"""Self-check of the project's WSDL documents against the wire contract's example envelopes.

Usage:  python3 wsdl/check_wsdl.py [--examples DIR] [--external]

Needs python3 with zeep (4.x) and lxml. Exits non-zero on the first failed group of checks
(every failure is printed).

What it checks (see wsdl/README.md):
  1. zeep loads each concrete WSDL from the local files (file:// URL, relative wsdl:import) and
     exposes exactly the expected service, port, binding, operations, parameters, soapAction "",
     document style and the WebBaseException fault.
  2. zeep's create_message() fed with the data of each example request envelope produces a body
     with the same element names, namespaces and order as the example (prefixes and whitespace
     ignored; an element the example omits may be produced as nil); the wrapper is qualified in
     the service namespace and everything below it is unqualified.
  3. zeep parses the example responses, and the example faults as zeep Faults whose detail
     entry is the qualified {service ns}fault.
  4. lxml validates the example payloads (request/response wrappers, fault details) against the
     inline schemas of the abstract documents: the files the contract sheet calls valid must be
     valid, the minimal request must not be.
  5. with --external: xmllint well-formedness, PHP SoapClient (WSDL mode: __getFunctions() and
     real calls whose request XML is captured and compared like in 2), and wsimport (JAX-WS)
     code generation, each skipped if the tool is not installed.
"""
import argparse
import base64
import copy
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import types

from lxml import etree
import zeep
from zeep.exceptions import Fault

HERE = pathlib.Path(__file__).resolve().parent
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
XSI_NIL = "{http://www.w3.org/2001/XMLSchema-instance}nil"
XSD_NS = "http://www.w3.org/2001/XMLSchema"
WSDL_NS = "http://schemas.xmlsoap.org/wsdl/"
BASE = "gouv.education.apogee.commun.servicesmetiers."
EXC_NS = "exception.transverse.commun.apogee.education.gouv"

LP1 = ["_typLpa", "_codAnu", "_numOPI", "_codEtu", "_codEtp", "_codVrsVet", "_codDip", "_codVrsVdi",
       "_codRgi", "_codStu", "_libCmtLpa"]
LP2 = [n[1:] for n in LP1] + ["codCatOuiSi", "mtfCat", "codCatExoExt"]
PJ = ["_codOpiIntEpo", "_libNomPatIndOpi", "_libPr1IndOpi", "_codTpj", "_nomFic", "_pj"]

SERVICES = {
    "OpiMetier": {
        "ops": {"mettreajourDonneesOpi_v10": ["_donneesOpi"], "mettreajourDonneesOpi_v9": ["_donneesOpi"]},
    },
    "PjOpiMetier": {"ops": {"recupererPiecesJustificativesOPIWS": PJ}},
    "LaissezPasserMetier": {"ops": {"mettreAJourLaissezPasserWS": LP1, "mettreAJourLaissezPasserWS_V2": LP2}},
}
BAC_DEFAULTS = {"codSpe1BacTer", "codSpe2BacTer", "codSpeBacPre", "codOpt1Bac", "codOpt2Bac", "codOpt3Bac",
                "codOpt4Bac"}

FAILURES = []


def fail(msg):
    FAILURES.append(msg)
    print("  FAIL:", msg)


def ok(msg):
    print("  ok:", msg)


def is_nil(el):
    return el.get(XSI_NIL) in ("true", "1")


def children(el):
    return [c for c in el if isinstance(c.tag, str)]


def text(el):
    return (el.text or "").strip()


# --------------------------------------------------------------------------- example -> kwargs
def to_value(el, binary=frozenset({"_pj"})):
    """Generic, schema-independent conversion of an example element to a zeep/PHP value."""
    if is_nil(el):
        return None
    kids = children(el)
    if not kids:
        if etree.QName(el).localname in binary:
            return base64.b64decode(text(el))
        return el.text or ""
    out = {}
    for k in kids:
        name = etree.QName(k).localname
        v = to_value(k, binary)
        if name == "item":  # the only repeated elements of the contract
            out.setdefault(name, []).append(v)
        else:
            out[name] = v
    return out


def wrapper_of(path):
    doc = etree.parse(str(path))
    body = doc.find(f"{{{SOAP_ENV}}}Body")
    return children(body)[0]


def kwargs_of(wrapper):
    return {etree.QName(c).localname: to_value(c) for c in children(wrapper)}


# --------------------------------------------------------------------------- tree comparison
def compare(exp, got, path="", lenient=False, errors=None):
    """Compare element trees by QName, order, nil-ness and text.

    An element absent from `exp` may be present in `got` if it is nil (or, lenient, empty);
    lenient also treats nil and empty as equal (the bac defaults, LP blanks)."""
    if errors is None:
        errors = []
    here = f"{path}/{etree.QName(got).localname}"
    if exp.tag != got.tag:
        errors.append(f"{path}: expected {exp.tag}, got {got.tag}")
        return errors
    if is_nil(exp) or is_nil(got):
        if is_nil(exp) != is_nil(got):
            empty = (not children(exp) and not text(exp)) if not is_nil(exp) else \
                (not children(got) and not text(got))
            if not (lenient and empty):
                errors.append(f"{here}: nil mismatch (expected nil={is_nil(exp)}, got nil={is_nil(got)})")
        return errors
    ek, gk = children(exp), children(got)
    etags = {c.tag for c in ek}
    gk = [c for c in gk if c.tag in etags or not (is_nil(c) or (lenient and not children(c) and not text(c)))]
    if [c.tag for c in ek] != [c.tag for c in gk]:
        errors.append(f"{here}: children differ\n      expected {[etree.QName(c).localname for c in ek]}"
                      f"\n      got      {[etree.QName(c).localname for c in gk]}")
        return errors
    if not ek and text(exp) != text(got):
        errors.append(f"{here}: text {text(exp)!r} != {text(got)!r}")
    for e, g in zip(ek, gk):
        compare(e, g, here, lenient, errors)
    return errors


def check_qualification(wrapper, service_ns):
    errs = []
    if etree.QName(wrapper).namespace != service_ns:
        errs.append(f"wrapper {wrapper.tag} not in {service_ns}")
    for d in wrapper.iterdescendants():
        if isinstance(d.tag, str) and etree.QName(d).namespace is not None:
            errs.append(f"descendant {d.tag} is qualified")
    return errs


# --------------------------------------------------------------------------- zeep
def load_client(name):
    uri = (HERE / f"{name}.wsdl").as_uri()
    return zeep.Client(uri)


def check_structure(name, client):
    spec = SERVICES[name]
    sns, ins = BASE + name, BASE + name + "-impl"
    services = list(client.wsdl.services.values())
    if [s.name for s in services] != [f"{name}ServiceInterfaceService"]:
        fail(f"{name}: services {[s.name for s in services]}")
        return
    ports = list(services[0].ports.values())
    if [p.name for p in ports] != [name]:
        fail(f"{name}: ports {[p.name for p in ports]}")
        return
    binding = ports[0].binding
    if binding.name.text != f"{{{ins}}}{name}SoapBinding":
        fail(f"{name}: binding {binding.name}")
    if binding.port_name.text != f"{{{sns}}}{name}ServiceInterface":
        fail(f"{name}: portType {binding.port_name}")
    addr = ports[0].binding_options["address"]
    if addr != f"http://localhost:8080/apo-commun-servicesMetiers/services/{name}":
        fail(f"{name}: soap:address {addr}")
    if sorted(binding._operations) != sorted(spec["ops"]):
        fail(f"{name}: operations {sorted(binding._operations)}")
    for opname, params in spec["ops"].items():
        op = binding._operations.get(opname)
        if op is None:
            continue
        problems = []
        if op.soapaction != "":
            problems.append(f"soapAction {op.soapaction!r}")
        if op.style != "document":
            problems.append(f"style {op.style}")
        in_el = op.input.body
        if in_el.qname.text != f"{{{sns}}}{opname}":
            problems.append(f"input element {in_el.qname}")
        got = [n for n, _ in in_el.type.elements]
        if got != params:
            problems.append(f"params {got}")
        if op.input.abstract.name.localname != f"{opname.replace('_V2', '')}Request" + (
                "_V2" if opname.endswith("_V2") else ""):
            problems.append(f"input message {op.input.abstract.name}")
        out_name = {"mettreAJourLaissezPasserWS_V2": "mettreAJourLaissezPasserWSResponse_V2"}.get(
            opname, f"{opname}Response")
        if op.output.body.qname.text != f"{{{sns}}}{out_name}":
            problems.append(f"output element {op.output.body.qname}")
        if op.output.abstract.name.localname != out_name:
            problems.append(f"output message {op.output.abstract.name}")
        if list(op.faults) != ["WebBaseException"]:
            problems.append(f"faults {list(op.faults)}")
        else:
            fmsg = op.faults["WebBaseException"]
            parts = list(fmsg.abstract.parts.items())
            if len(parts) != 1 or parts[0][0] != "fault" or \
                    parts[0][1].element.qname.text != f"{{{sns}}}fault" or \
                    parts[0][1].element.type.qname.text != f"{{{EXC_NS}}}WebBaseException":
                problems.append(f"fault message parts {parts}")
        if problems:
            fail(f"{name}.{opname}: " + "; ".join(problems))
        else:
            ok(f"{name}.{opname}({', '.join(params) if len(params) < 7 else str(len(params)) + ' params'})"
               f" -> {out_name}; soapAction=''; fault WebBaseException -> {{{sns}}}fault")


def check_request(client, name, opname, example_wrapper, lenient=False, label=""):
    sns = BASE + name
    kwargs = kwargs_of(example_wrapper)
    try:
        env = client.create_message(client.service, opname, **kwargs)
    except Exception as exc:  # noqa: BLE001 - report any zeep error
        fail(f"{label}: zeep create_message raised {type(exc).__name__}: {exc}")
        return None
    got = children(env.find(f"{{{SOAP_ENV}}}Body"))[0]
    errs = check_qualification(got, sns) + compare(example_wrapper, got, lenient=lenient)
    if errs:
        fail(f"{label}: " + "\n    ".join(errs[:10]))
    else:
        n = sum(1 for _ in got.iter())
        ok(f"{label}: zeep body matches the example ({n} elements, qualified wrapper, unqualified below)")
    return got


class FakeResponse:
    def __init__(self, path, status):
        self.status_code = status
        self.content = pathlib.Path(path).read_bytes()
        self.headers = {"Content-Type": "text/xml; charset=UTF-8"}
        self.encoding = "utf-8"


def parse_reply(client, opname, path, status=200):
    binding = client.service._binding
    return binding.process_reply(client, binding.get(opname), FakeResponse(path, status))


def v9_from_v10(wrapper10):
    w = copy.deepcopy(wrapper10)
    w.tag = w.tag.replace("mettreajourDonneesOpi_v10", "mettreajourDonneesOpi_v9")
    d = w.find("_donneesOpi")
    bac = d.find("bac")
    if bac is not None:
        for c in children(bac):
            if c.tag in BAC_DEFAULTS:
                bac.remove(c)
    voeux = d.find("voeux")
    if voeux is not None and voeux.find("modEnv") is not None:
        voeux.remove(voeux.find("modEnv"))
    return w


# --------------------------------------------------------------------------- lxml XSD validation
def build_validator(name, workdir):
    """Split the inline schemas of abstract/<name>.wsdl into files and compile them with lxml."""
    doc = etree.parse(str(HERE / "abstract" / f"{name}.wsdl"))
    schemas = doc.getroot().findall(f"{{{WSDL_NS}}}types/{{{XSD_NS}}}schema")
    files = {}
    for i, s in enumerate(schemas):
        files[s.get("targetNamespace")] = f"{name}-{i}.xsd"
    if len(files) != len(schemas):
        raise RuntimeError(f"{name}: two inline schemas share a namespace")
    for s in schemas:
        s2 = copy.deepcopy(s)
        for imp in s2.findall(f"{{{XSD_NS}}}import"):
            if imp.get("schemaLocation") is not None:
                raise RuntimeError(f"{name}: xsd:import with schemaLocation")
            imp.set("schemaLocation", files[imp.get("namespace")])
        if s2.get("elementFormDefault") != "unqualified":
            raise RuntimeError(f"{name}: schema {s2.get('targetNamespace')} not elementFormDefault=unqualified")
        etree.ElementTree(s2).write(os.path.join(workdir, files[s.get("targetNamespace")]))
    master = etree.Element(f"{{{XSD_NS}}}schema", nsmap={"xsd": XSD_NS})
    for ns, f in files.items():
        etree.SubElement(master, f"{{{XSD_NS}}}import", namespace=ns, schemaLocation=f)
    mpath = os.path.join(workdir, f"{name}-master.xsd")
    etree.ElementTree(master).write(mpath)
    return etree.XMLSchema(etree.parse(mpath)), len(schemas)


def payload_of(path):
    body = etree.parse(str(path)).find(f"{{{SOAP_ENV}}}Body")
    first = children(body)[0]
    if first.tag == f"{{{SOAP_ENV}}}Fault":
        detail = first.find("detail")
        return children(detail)[0]
    return first


def validate(schema, el):
    root = copy.deepcopy(el)
    okay = schema.validate(etree.ElementTree(root))
    return okay, [f"line {e.line}: {e.message}" for e in schema.error_log][:3]


# --------------------------------------------------------------------------- external tools
PHP_SCRIPT = r'''
$cfg = json_decode(file_get_contents($argv[1]), true);
class CaptureClient extends SoapClient {
    public $canned = ""; public $captured = "";
    #[\ReturnTypeWillChange]
    function __doRequest($request, $location, $action, $version, $oneWay = false) {
        $this->captured = $request; return $this->canned;
    }
}
$out = [];
foreach ($cfg as $i => $call) {
    $r = ["wsdl" => $call["wsdl"]];
    try {
        $c = new CaptureClient($call["wsdl"], ["trace" => 1, "cache_wsdl" => WSDL_CACHE_NONE,
                                              "exceptions" => true]);
        $r["functions"] = $c->__getFunctions();
        if (isset($call["op"])) {
            $c->canned = file_get_contents($call["response"]);
            $args = $call["args"];
            if (isset($args["_pj"])) { $args["_pj"] = base64_decode($args["_pj"]); }
            try {
                $res = $c->__soapCall($call["op"], [$args]);
                $r["result"] = json_encode($res);
            } catch (SoapFault $f) {
                $r["fault"] = ["faultcode" => $f->faultcode, "faultstring" => $f->faultstring,
                               "detail" => json_encode($f->detail ?? null)];
            }
            $r["request"] = $c->captured;
        }
    } catch (Throwable $e) { $r["error"] = get_class($e) . ": " . $e->getMessage(); }
    $out[] = $r;
}
echo json_encode($out);
'''


def run_php(ex, work):
    php = shutil.which("php")
    if not php:
        print("  skipped: php not installed")
        return
    mods = subprocess.run([php, "-m"], capture_output=True, text=True).stdout.split()
    if "soap" not in mods:
        print("  skipped: php has no soap extension")
        return
    calls = []
    plans = [
        ("OpiMetier", "mettreajourDonneesOpi_v10", "opi-v10-request-full.xml", "opi-v10-response.xml"),
        ("OpiMetier", "mettreajourDonneesOpi_v10", "opi-v10-request-full.xml", "opi-fault-response.xml"),
        ("PjOpiMetier", "recupererPiecesJustificativesOPIWS", "pj-request.xml", "pj-response.xml"),
        ("LaissezPasserMetier", "mettreAJourLaissezPasserWS", "lp-v1-request.xml", "lp-v1-response.xml"),
        ("LaissezPasserMetier", "mettreAJourLaissezPasserWS_V2", "lp-v2-request.xml", "lp-fault-response.xml"),
    ]
    for name, op, req, resp in plans:
        args = kwargs_of(wrapper_of(ex / req))
        if "_pj" in args:
            args["_pj"] = base64.b64encode(args["_pj"]).decode()
        calls.append({"wsdl": str(HERE / f"{name}.wsdl"), "op": op, "args": args,
                      "response": str(ex / resp), "name": name, "req": req, "resp": resp})
    cfg = os.path.join(work, "php-calls.json")
    with open(cfg, "w") as f:
        json.dump(calls, f)
    proc = subprocess.run([php, "-d", "soap.wsdl_cache_enabled=0", "-r", PHP_SCRIPT, cfg],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        fail(f"php exited {proc.returncode}: {proc.stderr.strip()[:500]}")
        return
    results = json.loads(proc.stdout)
    for call, r in zip(calls, results):
        label = f"php {call['name']}.{call['op']} ({call['req']} -> {call['resp']})"
        if "error" in r:
            fail(f"{label}: {r['error']}")
            continue
        fns = r["functions"]
        got = etree.fromstring(r["request"].encode())
        wrapper = children(got.find(f"{{{SOAP_ENV}}}Body"))[0]
        errs = check_qualification(wrapper, BASE + call["name"]) + \
            compare(wrapper_of(ex / call["req"]), wrapper, lenient=True)
        if errs:
            fail(f"{label}: request differs: " + "\n    ".join(errs[:10]))
            continue
        extra = ""
        if "fault" in r:
            fl = r["fault"]
            detail = json.loads(fl["detail"]) or {}
            if "fault" not in detail:
                fail(f"{label}: SoapFault detail without fault: {fl}")
                continue
            extra = f"; SoapFault {fl['faultstring']!r}, detail->fault->element={detail['fault'].get('element')!r}"
        else:
            extra = f"; result {r.get('result')}"
        ok(f"{label}: __getFunctions() = {fns}; request matches the example{extra}")


def run_xmllint():
    xl = shutil.which("xmllint")
    if not xl:
        print("  skipped: xmllint not installed")
        return
    files = sorted(HERE.glob("*.wsdl")) + sorted(HERE.glob("abstract/*.wsdl"))
    proc = subprocess.run([xl, "--noout"] + [str(f) for f in files], capture_output=True, text=True)
    if proc.returncode != 0:
        fail(f"xmllint: {proc.stderr.strip()}")
    else:
        ok(f"xmllint --noout: {len(files)} documents well-formed")


def run_wsimport(work):
    """Two runs per service: wsimport's default packages (one per namespace) and one package (-p),
    the layout in which JAX-WS names the fault class WebBaseException_Exception (§2.3, §4.1)."""
    ws = shutil.which("wsimport")
    if not ws:
        print("  skipped: wsimport not installed")
        return
    common = ["WebBaseException", "TableauString"]
    expect = {
        "OpiMetier": ["MettreajourDonneesOpiV10", "MettreajourDonneesOpiV10Response", "MettreajourDonneesOpiV9",
                      "MettreajourDonneesOpiV9Response", "DonneesOpiDTO10", "DonneesOpiDTO9", "TableauVoeu3",
                      "TableauVoeu32", "MAJOpiVoeuDTO3", "MAJOpiBacDTO2", "MAJOpiBacDTO", "MAJOpiTheseDTO",
                      "OpiMetierServiceInterface", "OpiMetierServiceInterfaceService"],
        "PjOpiMetier": ["RecupererPiecesJustificativesOPIWS", "RecupererPiecesJustificativesOPIWSResponse",
                        "PjOpiRetourDTO", "PjOpiDTO", "PjOpiMetierServiceInterface",
                        "PjOpiMetierServiceInterfaceService"],
        "LaissezPasserMetier": ["MettreAJourLaissezPasserWS", "MettreAJourLaissezPasserWSResponse",
                                "MettreAJourLaissezPasserWSV2", "MettreAJourLaissezPasserWSResponseV2",
                                "LaissezPasserMetierServiceInterface",
                                "LaissezPasserMetierServiceInterfaceService"],
    }
    for name, classes in expect.items():
        for mode, extra_args, extra_classes in (
                ("default packages", [], []),
                ("-p one package", ["-p", f"check.{name.lower()}"], ["WebBaseException_Exception"])):
            out = os.path.join(work, f"wsimport-{name}-{len(extra_args)}")
            os.makedirs(out)
            proc = subprocess.run([ws, "-Xnocompile", "-keep", "-d", out] + extra_args + [str(HERE / f"{name}.wsdl")],
                                  capture_output=True, text=True)
            log = proc.stdout + proc.stderr
            javas = sorted(pathlib.Path(out).rglob("*.java"))
            simple = {p.stem for p in javas}
            missing = [c for c in classes + common + extra_classes if c not in simple]
            errors = [l for l in log.splitlines() if l.startswith("[ERROR]")]
            warnings = [l for l in log.splitlines() if l.startswith("[WARNING]")]
            if proc.returncode != 0 or missing or errors:
                fail(f"wsimport {name} ({mode}): rc={proc.returncode} missing={missing}\n{log[-2000:]}")
                continue
            sig = []
            for p in javas:
                if p.stem == f"{name}ServiceInterface":
                    src = " ".join(p.read_text().split())
                    import re
                    sig = re.findall(r"public (\w+ \w+)\(.*?\) throws (\w+)", src)
            ok(f"wsimport {name} ({mode}): rc=0, {len(javas)} .java files, {len(warnings)} warnings"
               f"{' (src-resolve on inline cross-schema refs)' if warnings else ''}; SEI methods {sig}")


# --------------------------------------------------------------------------- main
def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--examples", default=None, help="examples dir (default: ../shared/spec/examples or "
                                                     "/work/shared/spec/examples)")
    ap.add_argument("--external", action="store_true", help="also run xmllint, php and wsimport checks")
    a = ap.parse_args()
    if a.examples:
        ex = pathlib.Path(a.examples)
    else:
        cands = [HERE.parent.parent / "shared/spec/examples", HERE.parent / "shared/spec/examples",
                 pathlib.Path("/work/shared/spec/examples")]
        ex = next((c for c in cands if c.is_dir()), cands[-1])
    print(f"zeep {zeep.__version__}, lxml {etree.__version__}, examples {ex}")

    print("[1] zeep loads the concrete WSDLs and their abstract imports")
    clients = {}
    for name in SERVICES:
        try:
            clients[name] = load_client(name)
        except Exception as exc:  # noqa: BLE001
            fail(f"{name}: zeep could not load: {type(exc).__name__}: {exc}")
            continue
        check_structure(name, clients[name])
    if len(clients) != len(SERVICES):
        return 1

    print("[2] zeep create_message() vs example request envelopes")
    opi, pj, lp = clients["OpiMetier"], clients["PjOpiMetier"], clients["LaissezPasserMetier"]
    full = wrapper_of(ex / "opi-v10-request-full.xml")
    check_request(opi, "OpiMetier", "mettreajourDonneesOpi_v10", full, label="opi-v10-request-full.xml")
    check_request(opi, "OpiMetier", "mettreajourDonneesOpi_v9", v9_from_v10(full),
                  label="v9 (full v10 example minus 7 bac leaves and modEnv)")
    for f in ("opi-v10-request-nil-style.xml", "opi-v10-request-delete-all-voeux.xml",
              "opi-v10-request-minimal.xml"):
        check_request(opi, "OpiMetier", "mettreajourDonneesOpi_v10", wrapper_of(ex / f), lenient=True,
                      label=f + " (nil/empty/absent tolerant)")
    check_request(pj, "PjOpiMetier", "recupererPiecesJustificativesOPIWS", wrapper_of(ex / "pj-request.xml"),
                  label="pj-request.xml")
    check_request(lp, "LaissezPasserMetier", "mettreAJourLaissezPasserWS", wrapper_of(ex / "lp-v1-request.xml"),
                  label="lp-v1-request.xml")
    check_request(lp, "LaissezPasserMetier", "mettreAJourLaissezPasserWS_V2",
                  wrapper_of(ex / "lp-v2-request.xml"), label="lp-v2-request.xml")

    print("[3] zeep parses the example responses and faults")
    for client, op, f in ((opi, "mettreajourDonneesOpi_v10", "opi-v10-response.xml"),
                          (lp, "mettreAJourLaissezPasserWS", "lp-v1-response.xml"),
                          (lp, "mettreAJourLaissezPasserWS_V2", "lp-v2-response.xml")):
        try:
            res = parse_reply(client, op, ex / f)
            if res is None:
                ok(f"{f}: parsed, result None (void operation)")
            else:
                fail(f"{f}: unexpected result {res!r}")
        except Exception as exc:  # noqa: BLE001
            fail(f"{f}: {type(exc).__name__}: {exc}")
    try:
        res = parse_reply(pj, "recupererPiecesJustificativesOPIWS", ex / "pj-response.xml")
        if res is not None and res.msg == "OK" and res.erreurDescription is None:
            ok(f"pj-response.xml: PjOpiRetourDTO(msg='OK', erreurDescription=None)")
        else:
            fail(f"pj-response.xml: unexpected result {res!r}")
    except Exception as exc:  # noqa: BLE001
        fail(f"pj-response.xml: {type(exc).__name__}: {exc}")
    for client, name, op, f in ((opi, "OpiMetier", "mettreajourDonneesOpi_v10", "opi-fault-response.xml"),
                                (lp, "LaissezPasserMetier", "mettreAJourLaissezPasserWS", "lp-fault-response.xml")):
        try:
            parse_reply(client, op, ex / f, status=500)
            fail(f"{f}: no Fault raised")
        except Fault as fault:
            entry = children(fault.detail)[0] if fault.detail is not None and len(fault.detail) else None
            want = f"{{{BASE}{name}}}fault"
            if entry is None or entry.tag != want:
                fail(f"{f}: detail entry {None if entry is None else entry.tag}, expected {want}")
                continue
            typed = client.get_element(f"{{{BASE}{name}}}fault").parse(entry, client.wsdl.types)
            kids = [etree.QName(c).localname for c in children(entry)]
            ok(f"{f}: zeep Fault message={fault.message!r} code={fault.code!r}; detail entry {want}; "
               f"children {kids}; typed lastErrorMsg={typed.lastErrorMsg!r}, "
               f"messages={None if typed.messages is None else typed.messages.item}")
        except Exception as exc:  # noqa: BLE001
            fail(f"{f}: {type(exc).__name__}: {exc}")

    print("[4] lxml XSD validation of the example payloads against the inline schemas")
    work = tempfile.mkdtemp(prefix="check_wsdl-")
    try:
        validators = {}
        for name in SERVICES:
            try:
                validators[name], n = build_validator(name, work)
                ok(f"{name}: {n} inline schemas compile (one per namespace, imports by namespace only)")
            except Exception as exc:  # noqa: BLE001
                fail(f"{name}: schema build failed: {type(exc).__name__}: {exc}")
        if len(validators) == len(SERVICES):
            valid = {
                "OpiMetier": ["opi-v10-request-full.xml", "opi-v10-request-nil-style.xml",
                              "opi-v10-request-delete-all-voeux.xml", "opi-v10-response.xml",
                              "opi-fault-response.xml"],
                "PjOpiMetier": ["pj-request.xml", "pj-response.xml"],
                "LaissezPasserMetier": ["lp-v1-request.xml", "lp-v1-response.xml", "lp-v2-request.xml",
                                        "lp-v2-response.xml", "lp-fault-response.xml"],
            }
            for name, files in valid.items():
                for f in files:
                    good, errs = validate(validators[name], payload_of(ex / f))
                    (ok if good else fail)(f"{f}: {'valid' if good else 'INVALID ' + str(errs)}")
            good, errs = validate(validators["OpiMetier"], v9_from_v10(full))
            (ok if good else fail)(f"derived v9 request: {'valid' if good else 'INVALID ' + str(errs)}")
            good, errs = validate(validators["OpiMetier"], payload_of(ex / "opi-v10-request-minimal.xml"))
            (fail if good else ok)(f"opi-v10-request-minimal.xml: "
                                   f"{'valid (should not be)' if good else 'invalid as the sheet says: ' + errs[0]}")
            cap = ex / "captured"
            for f in sorted(cap.glob("*.xml")) if cap.is_dir() else []:
                ns = etree.QName(payload_of(f)).namespace
                name = next((n for n in SERVICES if BASE + n == ns), None)
                if name is None:
                    print(f"  info: captured/{f.name}: service namespace {ns} not ours")
                    continue
                good, errs = validate(validators[name], payload_of(f))
                print(f"  info: captured/{f.name}: {'valid' if good else 'invalid: ' + errs[0]}")

        if a.external:
            print("[5] external tools")
            run_xmllint()
            run_php(ex, work)
            run_wsimport(work)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    if FAILURES:
        print(f"\n{len(FAILURES)} FAILURE(S)")
        return 1
    print("\nall checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
