<?php
/**
 * Real-client interop test: PHP SoapClient against a live gateway's OpiMetier SOAP service.
 *
 * Usage:
 *     php php_opi.php BASE USER SECRET        e.g. php php_opi.php http://127.0.0.1:8080 ecandidat apg_…
 *
 * The gateway must run with the demo referential (crates/db/demo): CGE CG1 (remote access) and CG2
 * (no remote access), étapes ETP01/1, ETP02/1 (CG1, diplôme DIP01/1) and ETP03/1 (CG2), pays 100,
 * département 054, bac S, commune 88160 / postal code 88000. USER/SECRET is an API client allowed to
 * call OpiMetier (HTTP Basic) and to read OPIs over REST (Bearer).
 *
 * The WSDL is loaded from the server (`…/OpiMetier?wsdl`) and its soap:address is used as is. The
 * scenario (see README.md): create, read back over REST, update (replace semantics), idempotent
 * re-send, "delete every vœu", six faults (nothing half-written), wrong credentials. (The v9 step is
 * zeep's only.)
 *
 * One line per check (`ok - …` / `FAIL - …`). Exit status: 0 all checks passed, 1 a check failed,
 * 2 usage or connection error. Needs PHP 8.2 with the soap extension only (no dom/curl).
 */

declare(strict_types=1);

const SERVICE_NS = 'gouv.education.apogee.commun.servicesmetiers.OpiMetier';
const SERVICE_PATH = '/apo-commun-servicesMetiers/services/OpiMetier';
const BEA_KEYS = 'ABCDEFGHJKLMNPRSTUVWXYZ'; // INE-4: index n mod 23, no I, O, Q
const NOM = 'LEGRAND';
const PRENOM = 'CAMILLE';
const BIRTH_DATE = '14032005';
const TIMEOUT = 30;

/** Usage or connection error: exit status 2. */
final class SetupError extends RuntimeException
{
}

// ------------------------------------------------------------------------- reporting

/** Prints one line per check and counts the failures. */
final class Checks
{
    public int $passed = 0;
    public int $failed = 0;

    public function check(bool $cond, string $label, string $detail = ''): bool
    {
        if ($cond) {
            $this->passed++;
            echo "ok - $label\n";
        } else {
            $this->failed++;
            echo "FAIL - $label" . ($detail !== '' ? ": $detail" : '') . "\n";
        }
        return $cond;
    }

    public function equal(mixed $got, mixed $want, string $label): bool
    {
        return $this->check($got === $want, $label, 'got ' . show($got) . ', expected ' . show($want));
    }
}

function show(mixed $v): string
{
    return (string) json_encode($v, JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES);
}

// ------------------------------------------------------------------------- test data

/** BEA check letter of 10 digits (domain.md INE-4). */
function bea_key(string $digits): string
{
    return BEA_KEYS[((int) $digits) % 23];
}

/** A valid BEA INE: 10 random digits (not all the same) + key letter. */
function random_ine(): string
{
    do {
        $digits = '';
        for ($i = 0; $i < 10; $i++) {
            $digits .= (string) random_int(0, 9);
        }
    } while (count(array_unique(str_split($digits))) === 1);
    return $digits . bea_key($digits);
}

/** The same digits with the next key letter: a BEA INE whose key does not match. */
function wrong_key_ine(string $ine): string
{
    $i = strpos(BEA_KEYS, $ine[10]);
    return substr($ine, 0, 10) . BEA_KEYS[($i + 1) % strlen(BEA_KEYS)];
}

/** 7 base-36 characters from the current time in milliseconds (codes are `PH` + stem + 1 char). */
function make_stem(): string
{
    $ms = (string) (int) floor(microtime(true) * 1000);
    $b36 = strtoupper(base_convert($ms, 10, 36));
    return substr(str_pad($b36, 7, '0', STR_PAD_LEFT), -7);
}

/** One vœu in the style of eCandidat (numCls 1, codDemDos C, codDecVeu F); other fields nil. */
function voeu(string $codCge, string $codEtp, int $codVrsVet = 1, array $extra = []): array
{
    return array_merge(['codCge' => $codCge, 'codEtp' => $codEtp, 'codVrsVet' => $codVrsVet, 'numCls' => 1,
                        'codDemDos' => 'C', 'codDecVeu' => 'F'], $extra);
}

function voeu_etp01(): array
{
    return voeu('CG1', 'ETP01', 1, ['codDip' => 'DIP01', 'codVrsVdi' => 1, 'temValPsd' => 'N']);
}

function voeu_etp02(): array
{
    return voeu('CG1', 'ETP02', 1);
}

/** The eCandidat "delete every vœu" item: SoapClient renders an <item> whose 25 children are nil. */
function all_nil_voeu(): stdClass
{
    return new stdClass();
}

/**
 * `_donneesOpi` in the style of eCandidat. Keys left out and null values are sent as xsi:nil by
 * SoapClient (the WSDL declares every element minOccurs=1 nillable).
 */
function opi_payload(string $code, string $ine, array $voeux, ?string $libPr2 = null, ?string $nom = NOM,
                     string $prenom = PRENOM, string $birthDate = BIRTH_DATE): array
{
    return [
        'adresseAnnuelle' => null,
        'adresseFixe' => ['codBdi' => '88000', 'codCom' => '88160', 'codPay' => '100', 'lib1' => '12 RUE DES FORGES'],
        'bac' => ['codBac' => 'S', 'daaObtBacOba' => '2025'],
        'dac' => null,
        'individu' => [
            'codEtuOpi' => null,
            'codOpiIntEpo' => $code,
            'dernierDiplObt' => null,
            'dernierEtbFrequente' => null,
            'donneesNaissance' => [
                'codDepPayNai' => '054', 'codPayNat' => '100', 'codTypDepPayNai' => 'D',
                'dateNaiIndOpi' => $birthDate, 'libVilNaiEtuOpi' => 'ÉPINAL', 'temDateNaiRelOpi' => 'N',
            ],
            'donneesPersonnelles' => ['adrMailOpi' => strtolower($code) . '@example.org',
                                      'numTelPorOpi' => '0612345678'],
            'etatCivil' => [
                'codNneIndOpi' => $ine, 'codSexEtuOpi' => 'F', 'libNomPatIndOpi' => $nom,
                'libPr1IndOpi' => $prenom, 'libPr2IndOpi' => $libPr2,
            ],
            'inscriptionParallele' => null,
            'premiereInscription' => null,
            'prgEchange' => null,
            'situationAnnPre' => null,
        ],
        'voeux' => ['item' => array_values($voeux)],
        'donneesThese' => null,
    ];
}

// ------------------------------------------------------------------------- gateway access

/** SoapClient options: HTTP Basic credentials, exceptions, request/response capture, no WSDL cache. */
function soap_options(string $user, string $secret): array
{
    return ['login' => $user, 'password' => $secret, 'exceptions' => true, 'trace' => 1,
            'cache_wsdl' => WSDL_CACHE_NONE, 'connection_timeout' => TIMEOUT];
}

/** GET with the given Authorization header: [status (0 = no answer), body, headers]. */
function http_get(string $url, string $authorization): array
{
    $ctx = stream_context_create(['http' => [
        'method' => 'GET', 'ignore_errors' => true, 'timeout' => TIMEOUT,
        'header' => "Authorization: $authorization\r\nAccept: application/json\r\n",
    ]]);
    $http_response_header = [];
    $body = @file_get_contents($url, false, $ctx);
    $status = 0;
    foreach ($http_response_header as $h) { // the last status line wins (redirects)
        if (preg_match('#^HTTP/\S+\s+(\d{3})#', $h, $m)) {
            $status = (int) $m[1];
        }
    }
    return [$status, $body === false ? '' : $body, $http_response_header];
}

/** HTTP status of the last SOAP response (from the captured headers), or null. */
function last_status(SoapClient $client): ?int
{
    $headers = (string) $client->__getLastResponseHeaders();
    return preg_match('#^HTTP/\S+\s+(\d{3})#', $headers, $m) ? (int) $m[1] : null;
}

/** SoapClient's transport failures (no HTTP answer), as opposed to HTTP error statuses (faultcode HTTP too). */
function is_connection_error(SoapFault $f): bool
{
    if ($f->faultcode !== 'HTTP') {
        return false;
    }
    foreach (['Could not connect to host', 'Failed Sending HTTP', 'Error Fetching http'] as $prefix) {
        if (str_starts_with($f->getMessage(), $prefix)) {
            return true;
        }
    }
    return false;
}

final class Gateway
{
    public string $base;
    public string $wsdlUrl;
    public SoapClient $client;

    public function __construct(string $base, public string $user, public string $secret)
    {
        $this->base = rtrim($base, '/');
        $this->wsdlUrl = $this->base . SERVICE_PATH . '?wsdl';
        try {
            $this->client = new SoapClient($this->wsdlUrl, soap_options($user, $secret));
        } catch (Throwable $e) {
            throw new SetupError("cannot load the WSDL from {$this->wsdlUrl}: " . $e->getMessage());
        }
    }

    public function v10(array $donnees): mixed
    {
        return self::call($this->client, 'mettreajourDonneesOpi_v10', $donnees);
    }

    public static function call(SoapClient $client, string $op, array $donnees): mixed
    {
        try {
            return $client->__soapCall($op, [['_donneesOpi' => $donnees]]);
        } catch (SoapFault $f) {
            if (is_connection_error($f)) {
                throw new SetupError("$op: " . $f->getMessage());
            }
            throw $f;
        }
    }

    /** GET /api/v1/opi/{code}: [status, decoded JSON (array) or null]. */
    public function read(string $code): array
    {
        [$status, $body] = http_get("{$this->base}/api/v1/opi/" . rawurlencode($code), "Bearer {$this->secret}");
        if ($status === 0) {
            throw new SetupError("GET /api/v1/opi/$code: no answer");
        }
        $json = json_decode($body, true);
        return [$status, is_array($json) ? $json : null];
    }
}

/** $data['a']['b']… for the dotted path; null when a step is missing. */
function dig(mixed $data, string $path): mixed
{
    foreach (explode('.', $path) as $part) {
        if (!is_array($data) || !array_key_exists($part, $data)) {
            return null;
        }
        $data = $data[$part];
    }
    return $data;
}

/**
 * The stored vœux as sorted "codCge/codEtp/codVrsVet" strings; null if the shape is wrong.
 * `donnees.voeux` absent/null or `donnees.voeux.item` absent/null/[] all mean no vœu.
 */
function voeu_keys(array $body): ?array
{
    $voeux = dig($body, 'donnees.voeux');
    if ($voeux === null) {
        return [];
    }
    if (!is_array($voeux)) {
        return null;
    }
    $items = $voeux['item'] ?? null;
    if ($items === null) {
        return [];
    }
    if (!is_array($items) || !array_is_list($items)) {
        return null;
    }
    $keys = [];
    foreach ($items as $it) {
        if (!is_array($it)) {
            return null;
        }
        $keys[] = implode('/', array_map(fn ($k) => (string) ($it[$k] ?? ''), ['codCge', 'codEtp', 'codVrsVet']));
    }
    sort($keys);
    return array_values(array_unique($keys));
}

/**
 * Reads the OPI over REST and checks identity, INE, birth date, libPr2IndOpi and the vœu set
 * (given as "codCge/codEtp/codVrsVet"). Returns codIndOpi (or null).
 */
function check_read_back(Checks $ck, Gateway $gw, string $label, string $code, string $ine, array $voeux,
                         ?string $libPr2 = null, ?int $ind = null): ?int
{
    [$status, $body] = $gw->read($code);
    if (!$ck->check($status === 200 && $body !== null, "$label: GET /api/v1/opi/$code -> 200 JSON",
                    "status $status, body " . substr(show($body), 0, 300))) {
        return null;
    }
    $ck->equal($body['codOpiIntEpo'] ?? null, $code, "$label: codOpiIntEpo");
    $codInd = $body['codIndOpi'] ?? null;
    $ck->check(is_int($codInd), "$label: codIndOpi is an integer", 'got ' . show($codInd));
    if ($ind !== null) {
        $ck->equal($codInd, $ind, "$label: same codIndOpi as at creation (updated, not re-created)");
    }
    $ck->equal(dig($body, 'donnees.individu.etatCivil.libNomPatIndOpi'), NOM, "$label: libNomPatIndOpi");
    $ck->equal(dig($body, 'donnees.individu.etatCivil.libPr1IndOpi'), PRENOM, "$label: libPr1IndOpi");
    $ck->equal(dig($body, 'donnees.individu.etatCivil.libPr2IndOpi'), $libPr2, "$label: libPr2IndOpi");
    $ck->equal(dig($body, 'donnees.individu.etatCivil.codNneIndOpi'), $ine, "$label: codNneIndOpi (INE)");
    $ck->equal(dig($body, 'donnees.individu.donneesNaissance.dateNaiIndOpi'), BIRTH_DATE, "$label: dateNaiIndOpi");
    sort($voeux);
    $ck->equal(voeu_keys($body), $voeux, "$label: vœux " . ($voeux ? implode(', ', $voeux) : 'none'));
    return is_int($codInd) ? $codInd : null;
}

/** Calls v10, which must succeed and return nothing (null or an empty response object). */
function call_ok(Checks $ck, Gateway $gw, string $label, array $donnees): bool
{
    try {
        $result = $gw->v10($donnees);
    } catch (SoapFault $f) {
        return $ck->check(false, $label, "SoapFault {$f->faultstring} (code {$f->faultcode})");
    }
    $empty = $result === null || ($result instanceof stdClass && count(get_object_vars($result)) === 0);
    return $ck->check($empty, $label, 'returned ' . show($result));
}

/**
 * Namespace URI and local name of the first element inside <detail> of a raw SOAP response (prefix
 * resolved through the xmlns declarations of that element or of the document before it; enough for a
 * test without the dom extension). Null when there is no such element.
 */
function detail_entry_qname(string $xml): ?array
{
    if (!preg_match('#<(?:[\w.-]+:)?detail\b[^>]*>\s*<(?:([\w.-]+):)?([\w.-]+)\b([^>]*)>#s', $xml, $m,
                    PREG_OFFSET_CAPTURE)) {
        return null;
    }
    [$prefix, $local, $attrs] = [$m[1][0], $m[2][0], $m[3][0]];
    $decl = $prefix === '' ? 'xmlns' : "xmlns:$prefix";
    $pattern = '#\s' . preg_quote($decl, '#') . '\s*=\s*(["\'])(.*?)\1#s';
    if (preg_match($pattern, $attrs, $d)) {
        return [$d[2], $local];
    }
    $before = substr($xml, 0, $m[2][1]);
    if (preg_match_all($pattern, $before, $all)) {
        return [end($all[2]), $local];
    }
    return [$prefix === '' ? '' : null, $local];
}

/**
 * Calls v10; expects a SoapFault whose faultstring is $key, faultcode …Server, and whose detail holds
 * the qualified {OpiMetier}fault with type/domaine/nature/element = the key's segments.
 */
function expect_fault(Checks $ck, Gateway $gw, string $label, array $donnees, string $key): void
{
    try {
        $gw->v10($donnees);
    } catch (SoapFault $f) {
        $ck->equal($f->faultstring, $key, "fault $label: faultstring");
        $ck->equal($f->getMessage(), $key, "fault $label: getMessage()");
        $code = (string) ($f->faultcode ?? '');
        $ck->check(str_ends_with($code, 'Server'), "fault $label: faultcode ends with Server ($code)", "got $code");
        $qname = detail_entry_qname((string) $gw->client->__getLastResponse());
        $ck->equal($qname, [SERVICE_NS, 'fault'], "fault $label: detail entry is {" . SERVICE_NS . '}fault');
        $entry = isset($f->detail) && is_object($f->detail) ? ($f->detail->fault ?? null) : null;
        if (!$ck->check(is_object($entry), "fault $label: SoapFault->detail->fault decoded", show($f->detail ?? null))) {
            return;
        }
        $got = array_map(fn ($n) => $entry->$n ?? null, ['type', 'domaine', 'nature', 'element']);
        $ck->equal($got, explode('.', $key, 4), "fault $label: detail type/domaine/nature/element");
        $last = $entry->lastErrorMsg ?? null;
        $ck->check(is_string($last) && trim($last) !== '', "fault $label: lastErrorMsg non-empty (" . show($last) . ')',
                   'got ' . show($last));
        return;
    }
    $ck->check(false, "fault $label: SoapFault $key", 'the call succeeded');
}

// ------------------------------------------------------------------------- scenario steps

function step_create(Checks $ck, Gateway $gw, string $code, string $ine): void
{
    echo "# a. create $code (INE $ine) with vœux ETP01 and ETP02\n";
    call_ok($ck, $gw, 'a. mettreajourDonneesOpi_v10 create returns nothing',
            opi_payload($code, $ine, [voeu_etp01(), voeu_etp02()]));
}

function step_read_back(Checks $ck, Gateway $gw, string $code, string $ine): ?int
{
    echo "# b. read back over REST\n";
    return check_read_back($ck, $gw, 'b. read back', $code, $ine, ['CG1/ETP01/1', 'CG1/ETP02/1']);
}

function step_update(Checks $ck, Gateway $gw, string $code, string $ine, ?int $ind): void
{
    echo "# c. update: only ETP02, libPr2IndOpi ANNE (replace semantics)\n";
    call_ok($ck, $gw, 'c. mettreajourDonneesOpi_v10 update returns nothing',
            opi_payload($code, $ine, [voeu_etp02()], 'ANNE'));
    check_read_back($ck, $gw, 'c. read back', $code, $ine, ['CG1/ETP02/1'], 'ANNE', $ind);
}

function step_idempotent(Checks $ck, Gateway $gw, string $code, string $ine, ?int $ind): void
{
    echo "# d. idempotent re-send of the same payload\n";
    call_ok($ck, $gw, 'd. mettreajourDonneesOpi_v10 re-send returns nothing',
            opi_payload($code, $ine, [voeu_etp02()], 'ANNE'));
    check_read_back($ck, $gw, 'd. read back', $code, $ine, ['CG1/ETP02/1'], 'ANNE', $ind);
}

function step_empty(Checks $ck, Gateway $gw, string $code, string $ine, ?int $ind): void
{
    echo "# e. delete every vœu: voeux = one item whose children are all nil\n";
    call_ok($ck, $gw, 'e. mettreajourDonneesOpi_v10 with one all-nil item returns nothing',
            opi_payload($code, $ine, [all_nil_voeu()], 'ANNE'));
    check_read_back($ck, $gw, 'e. read back', $code, $ine, [], 'ANNE', $ind);
}

function step_faults(Checks $ck, Gateway $gw, string $code, string $ine, ?int $ind): void
{
    echo "# f. faults (each payload also changes libPr2IndOpi and adds a valid vœu: nothing may be written)\n";
    $changed = fn (array $voeux, ?string $nom = NOM, ?string $i = null, string $date = BIRTH_DATE) =>
        opi_payload($code, $i ?? $ine, $voeux, 'BEATRICE', $nom, PRENOM, $date);
    $cases = [
        ['unknown codCge ZZZ', $changed([voeu_etp01(), voeu('ZZZ', 'ETP01', 1)]),
         'technical.data.nullretrieve.codCge'],
        ['CG2 without remote access', $changed([voeu_etp01(), voeu('CG2', 'ETP03', 1)]),
         'functionnal.borules.cge.accesdistance'],
        ['libNomPatIndOpi nil', $changed([voeu_etp01()], null),
         'technical.parameter.noncoherentinput.libNomPatIndOpiobligatoire'],
        ['INE with a wrong key', $changed([voeu_etp01()], NOM, wrong_key_ine($ine)),
         'technical.parameter.noncoherentinput.codNneIndOpi'],
        ['dateNaiIndOpi 31022005', $changed([voeu_etp01()], NOM, null, '31022005'),
         'technical.parameter.noncoherentinput.dateNaiIndOpi'],
        ['libNomPatIndOpi of 31 characters', $changed([voeu_etp01()], 'LEGRANDLEGRANDLEGRANDLEGRANDLEG'),
         'technical.parameter.noncoherentinput.libNomPatIndOpi'],
    ];
    foreach ($cases as [$label, $donnees, $key]) {
        expect_fault($ck, $gw, $label, $donnees, $key);
    }
    check_read_back($ck, $gw, 'f. read back after the faults (unchanged)', $code, $ine, [], 'ANNE', $ind);
}

/**
 * Fallback for step h when the server refuses the WSDL to wrong credentials: a local copy of the
 * served WSDL (concrete document and its relative imports, fetched with the right credentials), so
 * that the call itself is what gets refused. The served soap:address is kept.
 */
function local_wsdl_copy(Gateway $gw): string
{
    $auth = 'Basic ' . base64_encode("{$gw->user}:{$gw->secret}");
    $dir = sys_get_temp_dir() . '/php_opi_' . bin2hex(random_bytes(6));
    $written = [$dir];
    register_shutdown_function(function () use (&$written) {
        foreach (array_reverse($written) as $f) {
            is_dir($f) ? @rmdir($f) : @unlink($f);
        }
    });
    [$status, $concrete] = http_get($gw->wsdlUrl, $auth);
    if ($status !== 200) {
        throw new SetupError("GET {$gw->wsdlUrl} -> $status");
    }
    mkdir($dir, 0700, true);
    file_put_contents($written[] = "$dir/OpiMetier.wsdl", $concrete);
    $baseUrl = substr($gw->wsdlUrl, 0, strrpos(strtok($gw->wsdlUrl, '?'), '/') + 1);
    preg_match_all('#<(?:[\w.-]+:)?import\b[^>]*\blocation\s*=\s*(["\'])(.*?)\1#s', $concrete, $m);
    foreach ($m[2] as $loc) {
        if (preg_match('#^[a-z][a-z0-9+.-]*:#i', $loc) || str_contains($loc, '..') || str_starts_with($loc, '/')) {
            continue; // absolute: SoapClient fetches it itself
        }
        [$status, $doc] = http_get($baseUrl . $loc, $auth);
        if ($status !== 200) {
            throw new SetupError("GET $baseUrl$loc -> $status");
        }
        if (!is_dir(dirname("$dir/$loc"))) {
            mkdir($written[] = dirname("$dir/$loc"), 0700, true);
        }
        file_put_contents($written[] = "$dir/$loc", $doc);
    }
    return "$dir/OpiMetier.wsdl";
}

function step_bad_credentials(Checks $ck, Gateway $gw, string $codeBad, string $ineBad): void
{
    echo "# h. wrong credentials ($codeBad)\n";
    $bad = $gw->secret . '-wrong';
    try {
        $client = new SoapClient($gw->wsdlUrl, soap_options($gw->user, $bad));
        $how = 'WSDL loaded with the wrong credentials';
    } catch (Throwable $e) {
        $client = new SoapClient(local_wsdl_copy($gw), soap_options($gw->user, $bad));
        $how = 'WSDL refused with the wrong credentials, local copy of the served WSDL';
    }
    $status = null;
    $outcome = 'accepted';
    try {
        $client->__soapCall('mettreajourDonneesOpi_v10',
                            [['_donneesOpi' => opi_payload($codeBad, $ineBad, [voeu_etp01()])]]);
    } catch (SoapFault $f) {
        $status = last_status($client);
        $outcome = "SoapFault {$f->faultcode} " . show($f->faultstring);
        if ($status === null && $f->faultcode === 'HTTP' && $f->faultstring === 'Unauthorized') {
            $status = 401;
        }
    }
    $ck->check($status === 401, "h. v10 with a wrong secret refused with HTTP 401 ($how; $outcome)",
               'status ' . show($status) . ", outcome $outcome");
    [$restStatus] = $gw->read($codeBad);
    $ck->equal($restStatus, 404, "h. the refused OPI $codeBad was not stored (GET -> 404)");
}

// ------------------------------------------------------------------------- main

function main(array $argv): int
{
    if (count($argv) !== 4 || !preg_match('#^https?://#', $argv[1])) {
        fwrite(STDERR, "usage: php php_opi.php BASE USER SECRET   (BASE e.g. http://127.0.0.1:8080)\n");
        return 2;
    }
    [, $base, $user, $secret] = $argv;
    try {
        $gw = new Gateway($base, $user, $secret);
    } catch (SetupError $e) {
        fwrite(STDERR, 'error: ' . $e->getMessage() . "\n");
        return 2;
    }
    echo '# PHP ' . PHP_VERSION . " SoapClient, WSDL {$gw->wsdlUrl}\n";

    $ck = new Checks();
    $stem = make_stem();
    [$code, $codeBad] = ["PH{$stem}A", "PH{$stem}X"];
    [$ine, $ineBad] = [random_ine(), random_ine()];

    $run = function (string $step, mixed ...$args) use ($ck, $gw): mixed {
        try {
            return $step($ck, $gw, ...$args);
        } catch (SetupError $e) {
            fwrite(STDERR, "error: connection problem during $step: " . $e->getMessage() . "\n");
            exit(2);
        } catch (Throwable $e) {
            $ck->check(false, "$step raised", get_class($e) . ': ' . $e->getMessage());
            return null;
        }
    };
    $run('step_create', $code, $ine);
    $ind = $run('step_read_back', $code, $ine);
    $run('step_update', $code, $ine, $ind);
    $run('step_idempotent', $code, $ine, $ind);
    $run('step_empty', $code, $ine, $ind);
    $run('step_faults', $code, $ine, $ind);
    $run('step_bad_credentials', $codeBad, $ineBad);

    echo "# {$ck->passed} passed, {$ck->failed} failed\n";
    return $ck->failed === 0 ? 0 : 1;
}

if (PHP_SAPI === 'cli' && realpath($_SERVER['SCRIPT_FILENAME'] ?? '') === __FILE__) {
    exit(main($argv));
}
