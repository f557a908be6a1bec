<?php
/**
 * Real-client interop test: PHP SoapClient against a live gateway's read services
 * (ReferentielMetier, GeographieMetier, ScolariteMetier, OffreFormationMetier, and EtudiantMetier,
 * AdministratifMetier, PedagogiqueMetier on the demo students).
 *
 * Usage:
 *     php php_ref.php BASE USER SECRET [CODETU INE CODOPI]
 *     e.g. php php_ref.php http://127.0.0.1:8080 admin apg_… 22512346 3251424525T JVMWT75HOJ
 *
 * CODETU INE CODOPI: a student created by the lifecycle (OPI JVMWT75HOJ pushed, LP IAPRIMO, CVEC,
 * primo enrolment in 2026 ETP01 v1: crates/gateway/tests/api/enrolment.rs); every operation is
 * then called for that student too and must answer its data.
 *
 * The gateway must run with the demo referential (crates/db/demo); USER/SECRET holds `ref:read` and `etudiant:read`.
 * Each WSDL is loaded from the server (`…/<Service>?wsdl`), its soap:address used as is. Every
 * parameter is sent, '' when unset (what PHP clients do). For every served operation: the values
 * clients read, and the items (count, codes, labels) compared with the REST twin
 * `GET /api/v1/services/<Service>/<operation>`; then typed faults for unknown codes.
 *
 * One line per check (`ok - …` / `FAIL - …`). Exit status: 0 all passed, 1 a check failed,
 * 2 usage or connection error. Needs PHP 8.2 with the soap extension only.
 */

declare(strict_types=1);

const PATH = '/apo-commun-servicesMetiers/services/';
const NS = [
    'ReferentielMetier' => 'gouv.education.apogee.commun.servicesmetiers.ReferentielMetier_21062012',
    'GeographieMetier' => 'gouv.education.apogee.commun.servicesmetiers.GeographieMetier_01082016',
    'ScolariteMetier' => 'gouv.education.apogee.commun.servicesmetiers.ScolariteMetier',
    'OffreFormationMetier' => 'gouv.education.apogee.commun.servicesmetiers.OffreFormationMetier',
    'EtudiantMetier' => 'gouv.education.apogee.commun.servicesmetiers.EtudiantMetier',
    'AdministratifMetier' => 'gouv.education.apogee.commun.servicesmetiers.AdministratifMetier',
    'PedagogiqueMetier' => 'gouv.education.apogee.commun.servicesmetiers.PedagogiqueMetier',
];

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
}

/** A return element read by SoapClient: one object, or an array of them. */
function items(mixed $ret): array
{
    if ($ret === null) {
        return [];
    }
    return is_array($ret) ? $ret : [$ret];
}

/** $data->a->b… (array indexes as digits; a container's single item unwrapped). */
function dig(mixed $data, string $path): mixed
{
    foreach (explode('.', $path) as $part) {
        if (preg_match('/^-?[0-9]+$/', $part)) {
            $list = is_array($data) ? array_values($data) : [$data];
            $index = (int) $part < 0 ? count($list) + (int) $part : (int) $part;
            if (!array_key_exists($index, $list)) {
                return '<missing>';
            }
            $data = $list[$index];
        } elseif (is_object($data) && property_exists($data, $part)) {
            $data = $data->$part;
        } else {
            return '<missing>';
        }
    }
    return $data;
}

function twin(string $base, string $secret, string $service, string $op, array $query): array
{
    $url = "$base/api/v1/services/$service/$op" . ($query ? '?' . http_build_query($query) : '');
    $ctx = stream_context_create(['http' => [
        'header' => "Authorization: Bearer $secret\r\nAccept: application/json\r\n",
        'ignore_errors' => true, 'timeout' => 30,
    ]]);
    $body = @file_get_contents($url, false, $ctx);
    $json = is_string($body) ? json_decode($body, true) : null;
    return is_array($json) ? ($json['items'] ?? []) : [];
}

if ($argc !== 4 && $argc !== 7) {
    fwrite(STDERR, "usage: php php_ref.php BASE USER SECRET [CODETU INE CODOPI]\n");
    exit(2);
}
[, $base, $user, $secret] = $argv;
$student = $argc === 7 ? array_slice($argv, 4) : null;
$base = rtrim($base, '/');
$clients = [];
try {
    foreach (NS as $service => $_) {
        $clients[$service] = new SoapClient("$base" . PATH . "$service?wsdl", [
            'login' => $user, 'password' => $secret, 'exceptions' => true,
            'cache_wsdl' => WSDL_CACHE_NONE, 'trace' => true, 'encoding' => 'UTF-8',
        ]);
    }
} catch (Throwable $e) {
    fwrite(STDERR, 'error: cannot load the WSDLs: ' . $e->getMessage() . "\n");
    exit(2);
}
echo '# php ', PHP_VERSION, "\n";

$se = ['codAnu' => '', 'codComposanteVdi' => '', 'codDip' => 'tous', 'codElp' => 'aucun', 'codEtp' => 'tous',
    'codNatureDip' => '', 'codNatureElp' => '', 'codTypDip' => '', 'codVrsVdi' => 'tous', 'codVrsVet' => 'tous',
    'temOuvertRecrutement' => ''];
$idAll = ['_codEtu' => '', '_codInd' => '', '_numINE' => '2204123456R', '_numBoursier' => '', '_codOPI' => '',
    '_nom' => '', '_prenom' => '', '_dateNaiss' => '', '_temoinRecupAnnu' => ''];
$liste = ['annee' => '2025', 'listEtapes' => ['item' => [['code' => 'ETP01', 'listVersion' => ['1']]]],
    'listComposante' => 'UFR'];
$ped = ['_codEtu' => '10000001', '_codAnu' => 'toutes', '_sourceRes' => 'Apogee', '_etatDelib' => 'T',
    '_codSes' => 'toutes', '_typeRes' => 'tous', '_codEtaIae' => 'E'];
// [service, operation, return element, parameters, code child, [path => expected], REST query
// when it is not the parameters]
$calls = [
    ['ReferentielMetier', 'recupererCGE', 'recupererCGEReturn', ['_codCge' => '', '_temoinEnService' => ''], 'codCge',
        ['0.codCge' => 'CG1', '1.libCge' => 'Centre de gestion démo 2']],
    ['ReferentielMetier', 'recupererComposante_v2', 'recupererComposante_v2Return', ['_codCmp' => '', '_sens' => ''], 'codCmp',
        ['4.codCmp' => 'UFR', '4.temEnSveCmp' => 'O', '4.codSig' => 'SIG1', '4.listeComposanteFils.composante.0.codCmp' => 'INF']],
    ['ReferentielMetier', 'recupererInformationEtabRef', 'recupererInformationEtabRefReturn', ['_codVap' => 'ETB_AD2'], 'codVap',
        ['0.parVap' => 'CS 25233']],
    ['ReferentielMetier', 'recupererRegimeInscription', 'recupererRegimeInscriptionReturn', ['_codRegIns' => '', '_temoinEnService' => 'O'], 'codRegIns',
        ['0.libRegIns' => 'Formation initiale (démo)']],
    ['ReferentielMetier', 'recupererSignataire', 'recupererSignataireReturn', ['_codSig' => 'SIG1', '_temoinEnService' => 'O'], 'codSig',
        ['0.nomSig' => 'Camille DUPRÉ (démo)']],
    ['GeographieMetier', 'recupererCommune_v2', 'recupererCommuneReturn_v2',
        ['_codePostal' => '69003', '_temoinEnServiceCom' => 'O', '_temoinEnServiceBD' => 'O', '_temoinEnServiceComBD' => 'O'], 'codeCommune',
        ['0.codeCommune' => '69123', '1.libCommune' => 'Lyon 3e Arrondissement']],
    ['GeographieMetier', 'recupererCommune', 'recupererCommuneReturn',
        ['_codePostal' => '88000', '_temoinEnServiceCom' => 'O', '_temoinEnServiceBD' => 'T'], 'codeCommune',
        ['0.libCommune' => 'Épinal']],
    ['GeographieMetier', 'recupererPays', 'recupererPaysReturn', ['_codePays' => '', '_temoinEnService' => 'O'], 'codePay',
        ['0.codePay' => '100']],
    ['GeographieMetier', 'recupererDepartement', 'recupererDepartementReturn', ['_codeDept' => '02A', '_temoinEnService' => ''], 'codeDept',
        ['0.libDept' => 'Corse-du-Sud']],
    ['ScolariteMetier', 'recupererBacOuEquWS', 'recupererBacOuEquWSReturn', ['_code' => '', '_temoinEnService' => ''], 'codBac', []],
    ['ScolariteMetier', 'recupererOptBacWS', 'recupererOptBacWSReturn', ['_code' => 'O002', '_temoinEnService' => ''], 'codOptBac',
        ['0.libOptBac' => 'Mathématiques expertes (démo)']],
    ['ScolariteMetier', 'recupererSpeBacWS', 'recupererSpeBacWSReturn', ['_code' => '', '_temoinEnService' => 'O'], 'codSpeBac', []],
    ['OffreFormationMetier', 'recupererSE_v4', 'recupererSE_v4Return', ['_seCritere' => $se], 'codDip',
        ['0.codDip' => 'DIP01', '0.listVersionDiplome.item.codVrsVdi' => 1,
         '0.listVersionDiplome.item.offreFormation.listEtape.item.2.codEtp' => 'ETP03',
         '0.listVersionDiplome.item.offreFormation.listEtape.item.2.listComposanteCentreGestion.item.codComposante' => 'LSH']],
    // The student's file and enrolments (1..1 answers are one object), as the PHP OPI bridge
    // calls them: every parameter sent, '' when unset.
    ['EtudiantMetier', 'recupererIdentifiantsEtudiant_v2', 'recupererIdentifiantsEtudiant_v2Return', $idAll, 'codEtu',
        ['0.codEtu' => 10000001, '0.numeroINE' => '2204123456R']],
    ['EtudiantMetier', 'recupererInfosAdmEtu_v4', 'recupererInfosAdmEtu_v4Return', ['_codEtu' => '10000003'], 'numEtu',
        ['0.nomPatronymique' => 'THOMAS', '0.dateNaissance' => '2004-01-20T00:00:00', '0.listeBlocages.item.codBlocage' => 'BU']],
    ['EtudiantMetier', 'recupererInfosAdmEtu_v3', 'recupererInfosAdmEtu_v3Return', ['_codEtu' => '10000002'], 'numEtu',
        ['0.prenom1' => 'HUGO', '0.numeroINE' => null]],
    ['EtudiantMetier', 'recupererAdressesEtudiant_v2', 'recupererAdressesEtudiantReturn',
        ['_codEtu' => '10000001', '_annee' => '2025', '_recupAnnuaire' => 'N'], 'annee', ['0.annee' => '2025']],
    ['AdministratifMetier', 'recupererAnneesIa', 'recupererAnneesIaReturn', ['_codEtu' => '10000004', '_etatInscriptionIA' => 'ARE'], 'annee',
        ['0' => '2025', '1' => '2026']],
    ['AdministratifMetier', 'recupererIAAnnuelles_v2', 'recupererIAAnnuellesReturn_v2',
        ['_codEtu' => '10000001', '_annee' => '2025', '_etatIAA' => 'E'], 'anneeIAA', ['0.etatIaa.codeEtatIAA' => 'E']],
    ['AdministratifMetier', 'recupererIAEtapes_v3', 'recupererIAEtapes_v3Return',
        ['_codEtu' => '10000001', '_annee' => '', '_etatIAA' => '', '_etatIAE' => ''], 'anneeIAE',
        ['0.etape.codeEtp' => 'ETP01', '0.diplome.codeDiplome' => 'DIP01', '0.inscriptionPayee' => 'Paiement effectué']],
    ['EtudiantMetier', 'recupererListeEtudiants', 'etudiant', ['_parametres' => $liste], 'codEtu',
        ['0.codEtu' => '10000001', '0.prenom' => 'ALICE', '0.dateNaissance' => '12/05/2004', '3.codEtu' => '10000004'],
        ['annee' => '2025', 'listEtapes' => 'ETP01:1', 'listComposante' => 'UFR']],
    ['EtudiantMetier', 'recupererTypeHebergement', 'recupererTypeHebergementReturn',
        ['_code' => '', '_temoinService' => '', '_temoinAD' => ''], 'codTypeHebergement',
        ['0.codTypeHebergement' => '1', '3.libWebTypeHebergement' => 'Domicile parental']],
    ['PedagogiqueMetier', 'recupererContratPedagogiqueResultatVdiVet_v2', 'recupererContratPedagogiqueResultatVdiVet_v2Return',
        $ped, 'annee',
        ['0.annee' => '2025', '0.diplome.codVrsVdi' => 1, '0.etapes.item.codAnu' => '2025',
         '0.etapes.item.etape.codEtp' => 'ETP01', '0.etapes.item.etape.codVrsVet' => 1,
         '0.etapes.item.etape.libWebVet' => 'Licence 1re année (démo)']],
];
if ($student !== null) {
    // The student the lifecycle created from the OPI (LEGRAND-RSPYC CAMILLE, born 2005-03-14 in
    // Épinal, bac S 2025), enrolled in 2026 ETP01 v1: every operation answers its data.
    [$etu, $ine, $opi] = $student;
    $ids = ['0.codEtu' => (int) $etu, '0.numeroINE' => $ine];
    $calls = array_merge($calls, [
        ['EtudiantMetier', 'recupererIdentifiantsEtudiant_v2', 'recupererIdentifiantsEtudiant_v2Return',
            array_merge($idAll, ['_numINE' => '', '_codEtu' => $etu]), 'codEtu', $ids],
        ['EtudiantMetier', 'recupererIdentifiantsEtudiant_v2', 'recupererIdentifiantsEtudiant_v2Return',
            array_merge($idAll, ['_numINE' => $ine]), 'codEtu', $ids],
        ['EtudiantMetier', 'recupererIdentifiantsEtudiant_v2', 'recupererIdentifiantsEtudiant_v2Return',
            array_merge($idAll, ['_numINE' => '', '_codOPI' => $opi]), 'codEtu', $ids],
        ['EtudiantMetier', 'recupererInfosAdmEtu_v4', 'recupererInfosAdmEtu_v4Return', ['_codEtu' => $etu], 'numEtu',
            ['0.numEtu' => (int) $etu, '0.nomPatronymique' => 'LEGRAND-RSPYC', '0.prenom1' => 'CAMILLE', '0.sexe' => 'F',
             '0.dateNaissance' => '2005-03-14T00:00:00', '0.libVilleNaissance' => 'ÉPINAL',
             '0.listeBacs.item.codBac' => 'S', '0.anneePremiereInscEtb' => '2026']],
        ['EtudiantMetier', 'recupererInfosAdmEtu_v3', 'recupererInfosAdmEtu_v3Return', ['_codEtu' => $etu], 'numEtu',
            ['0.numeroINE' => $ine, '0.prenom1' => 'CAMILLE']],
        ['EtudiantMetier', 'recupererAdressesEtudiant_v2', 'recupererAdressesEtudiantReturn',
            ['_codEtu' => $etu, '_annee' => '2026', '_recupAnnuaire' => 'N'], 'annee',
            ['0.annee' => '2026', '0.adresseFixe.libAd1' => '12 RUE DES FORGES', '0.email' => 'camille.legrand@example.org']],
        ['AdministratifMetier', 'recupererAnneesIa', 'recupererAnneesIaReturn', ['_codEtu' => $etu, '_etatInscriptionIA' => ''], 'annee',
            ['0' => '2026']],
        ['AdministratifMetier', 'recupererIAAnnuelles_v2', 'recupererIAAnnuellesReturn_v2',
            ['_codEtu' => $etu, '_annee' => 'toutes', '_etatIAA' => 'E'], 'anneeIAA',
            ['0.anneeIAA' => '2026', '0.etatIaa.codeEtatIAA' => 'E']],
        ['AdministratifMetier', 'recupererIAEtapes_v3', 'recupererIAEtapes_v3Return',
            ['_codEtu' => $etu, '_annee' => '2026', '_etatIAA' => 'E', '_etatIAE' => 'E'], 'anneeIAE',
            ['0.etape.codeEtp' => 'ETP01', '0.diplome.codeDiplome' => 'DIP01', '0.etatIae.codeEtatIAE' => 'E']],
        ['EtudiantMetier', 'recupererListeEtudiants', 'etudiant', ['_parametres' => array_merge($liste, ['annee' => '2026'])], 'codEtu',
            ['-1.codEtu' => $etu, '-1.nom' => 'LEGRAND-RSPYC', '-1.dateNaissance' => '14/03/2005', '-1.numeroIne' => $ine],
            ['annee' => '2026', 'listEtapes' => 'ETP01:1', 'listComposante' => 'UFR']],
        ['PedagogiqueMetier', 'recupererContratPedagogiqueResultatVdiVet_v2', 'recupererContratPedagogiqueResultatVdiVet_v2Return',
            array_merge($ped, ['_codEtu' => $etu]), 'annee',
            ['0.annee' => '2026', '0.diplome.codDip' => 'DIP01', '0.etapes.item.etape.codEtp' => 'ETP01']],
    ]);
}

$ck = new Checks();
foreach ($calls as $call) {
    [$service, $op, $return, $params, $code, $expected] = $call;
    $label = "$service.$op";
    try {
        $res = $clients[$service]->__soapCall($op, [$params]);
    } catch (Throwable $e) {
        $ck->check(false, "$label answers", get_class($e) . ': ' . $e->getMessage());
        continue;
    }
    $got = items($res->$return ?? null);
    $ck->check(count($got) > 0, "$label answers a non-empty list");
    foreach ($expected as $path => $want) {
        $value = dig($got, (string) $path);
        $ck->check($value === $want, "$label $path = " . json_encode($want, JSON_UNESCAPED_UNICODE),
            'got ' . json_encode($value, JSON_UNESCAPED_UNICODE));
    }
    $query = $call[6] ?? [];
    foreach (isset($call[6]) ? [] : ($op === 'recupererSE_v4' ? $se : $params) as $k => $v) {
        if ($v !== '') {
            $query[ltrim($k, '_')] = $v;
        }
    }
    $rest = twin($base, $secret, $service, $op, $query);
    $soapCodes = array_map(fn($i) => is_string($i) ? $i : ($i->$code ?? null), $got);
    $restCodes = array_map(fn($i) => $i[$code] ?? null, $rest);
    $ck->check($soapCodes === $restCodes, "$label: the same items as the REST twin",
        json_encode($soapCodes) . ' / ' . json_encode($restCodes));
    $soapFirst = is_string($got[0] ?? null) ? [$code => $got[0]] : json_decode(json_encode($got[0] ?? null), true);
    $restFirst = $rest[0] ?? null;
    $scalars = fn($o) => is_array($o) ? array_filter($o, fn($v) => !is_array($v)) : [];
    $ck->check($scalars($soapFirst) == $scalars($restFirst), "$label: the first item's values equal the REST twin's",
        json_encode($soapFirst, JSON_UNESCAPED_UNICODE) . ' / ' . json_encode($restFirst, JSON_UNESCAPED_UNICODE));
}

$faults = [
    ['ReferentielMetier', 'recupererSignataire', ['_codSig' => 'NOPE', '_temoinEnService' => ''], 'technical.data.nullretrieve.signataire'],
    ['GeographieMetier', 'recupererPays', ['_codePays' => '999', '_temoinEnService' => ''], 'technical.data.nullretrieve.pays'],
    ['ScolariteMetier', 'recupererBacOuEquWS', ['_code' => 'ZZZZ', '_temoinEnService' => ''], 'technical.data.nullretrieve.bac'],
    ['OffreFormationMetier', 'recupererSE_v4', ['_seCritere' => array_merge($se, ['codDip' => ''])],
        'technical.parameter.noncoherentinput.coddiplomeobligatoire'],
    ['EtudiantMetier', 'recupererIdentifiantsEtudiant_v2', array_merge($idAll, ['_numINE' => '', '_codOPI' => 'ZZ00000000']),
        'technical.data.nullretrieve.etudiant'],
    ['EtudiantMetier', 'recupererInfosAdmEtu_v4', ['_codEtu' => '99999999'], 'technical.data.nullretrieve.etudiant'],
    ['AdministratifMetier', 'recupererIAEtapes_v3', ['_codEtu' => '10000001', '_annee' => '2019', '_etatIAA' => '', '_etatIAE' => ''],
        'technical.data.nullretrieve.findIAE'],
    ['EtudiantMetier', 'recupererListeEtudiants', ['_parametres' => array_merge($liste, ['annee' => '2019'])],
        'technical.data.nullretrieve.etudiant'],
    ['EtudiantMetier', 'recupererTypeHebergement', ['_code' => '9', '_temoinService' => '', '_temoinAD' => ''],
        'technical.data.nullretrieve.typeHebergement'],
    ['PedagogiqueMetier', 'recupererContratPedagogiqueResultatVdiVet_v2', array_merge($ped, ['_codAnu' => '2019']),
        'technical.data.nullretrieve.codAnu'],
    ['PedagogiqueMetier', 'recupererContratPedagogiqueResultatVdiVet_v2', array_merge($ped, ['_codEtu' => '99999999']),
        'technical.data.nullretrieve.etudiant'],
];
foreach ($faults as [$service, $op, $params, $key]) {
    try {
        $clients[$service]->__soapCall($op, [$params]);
        $ck->check(false, "$service.$op fault $key", 'the call succeeded');
    } catch (SoapFault $f) {
        $ck->check($f->faultstring === $key, "$service.$op fault: faultstring $key", "got {$f->faultstring}");
        $ck->check(isset($f->detail->fault) && ($f->detail->fault->element ?? null) !== null,
            "$service.$op fault: typed detail {" . NS[$service] . '}fault', json_encode($f->detail ?? null));
    }
}
echo "# {$ck->passed} passed, {$ck->failed} failed\n";
exit($ck->failed === 0 ? 0 : 1);
