//! OPI batch files (OPI-22 … OPI-24) read into OPI payloads: NDJSON of REST bodies, the Pégase
//! `candidat`/`candidature` CSV pair, and the Parcoursup admission export. Each record keeps its
//! physical line; an unreadable record is a rejected line, never a stop. No IO beyond the
//! readers handed in (the gateway spools uploads to temporary files first).

use super::dto::{
    Adresse, Bac, DonneesNaissance, DonneesOpi, DonneesPersonnelles, EtatCivil, Individu, Voeu,
    Voeux,
};
use crate::batch::LineOutcome;
use crate::referential::Value;
use crate::text::present;
use crate::{Error, FaultKey, FieldError, Referential};
use serde::Serialize;
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::sync::Arc;

/// Input format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// One OPI-20 JSON body per line.
    Ndjson,
    /// Pégase `candidat` + `candidature` files.
    Pegase,
    /// Parcoursup admission export.
    Parcoursup,
}

impl Format {
    /// `ndjson`, `pegase` or `parcoursup`.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Ndjson => "ndjson",
            Format::Pegase => "pegase",
            Format::Parcoursup => "parcoursup",
        }
    }

    /// The `format` parameter of an upload.
    pub fn parse(name: &str) -> Result<Self, Error> {
        match name {
            "ndjson" => Ok(Format::Ndjson),
            "pegase" => Ok(Format::Pegase),
            "parcoursup" => Ok(Format::Parcoursup),
            other => Err(Error::bad_request(
                "format",
                format!("Format inconnu : {other} (ndjson, pegase, parcoursup)"),
            )),
        }
    }
}

/// Target of a Parcoursup export (it names no formation, OPI-24).
#[derive(Debug, Clone, Default)]
pub struct ParcoursupTarget {
    /// Centre de gestion.
    pub cod_cge: String,
    /// Étape.
    pub cod_etp: String,
    /// Version d'étape.
    pub cod_vrs_vet: String,
    /// Prefix of the generated `codOpiIntEpo` (prefix + `Numéro candidat`, ≤ 10 characters).
    pub prefix: String,
}

impl ParcoursupTarget {
    /// An export names no formation: the target must.
    pub fn check(&self) -> Result<(), Error> {
        if self.cod_cge.is_empty() || self.cod_etp.is_empty() || self.cod_vrs_vet.is_empty() {
            return Err(Error::bad_request(
                "codCge",
                "Un export Parcoursup ne nomme pas la formation : codCge, codEtp et codVrsVet sont obligatoires",
            ));
        }
        Ok(())
    }
}

/// One line of the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct LineReport {
    /// Physical line (header = 1) of the record in its file.
    pub line: u64,
    /// `codOpiIntEpo` of the record, when readable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// What happened (in atomic mode, what would have happened).
    #[serde(flatten)]
    pub outcome: LineOutcome,
}

/// One record read from the upload.
#[derive(Debug)]
pub struct Record {
    /// Physical line (header = 1).
    pub line: u64,
    /// `codOpiIntEpo` of the record, when readable.
    pub key: Option<String>,
    /// The payload, or why the line could not be read.
    pub dto: Result<DonneesOpi, FieldError>,
}

fn file_error(code: &str, message: impl Into<String>) -> Error {
    Error::validation(vec![FieldError::new(
        FaultKey::noncoherent("fichier"),
        code,
        None,
        message,
    )])
}

fn line_error(line: u64, field: &str, message: impl Into<String>) -> FieldError {
    FieldError::new(
        FaultKey::noncoherent(field),
        "LIGNE_FORMAT",
        Some(field.to_owned()),
        message,
    )
    .at_line(line)
}

/// Upper case, no diacritics, letters and digits only: how labels and headers are compared
/// (`Très bien` = `TRES BIEN`, `prenom2` ≠ `prenom`).
pub fn fold_label(label: &str) -> String {
    label
        .split(|c: char| !c.is_alphanumeric())
        .flat_map(|w| {
            w.chars().flat_map(|c| {
                if c.is_ascii_digit() {
                    vec![c]
                } else {
                    crate::text::normalized_name(&c.to_string())
                        .chars()
                        .collect()
                }
            })
        })
        .collect()
}

/// The Apogée code a label or external code maps to in `correspondances`.
fn mapped(r: &Referential, domaine: &str, value: &str) -> Option<String> {
    let folded = fold_label(value);
    r.rows("correspondances")
        .find(|row| {
            row.get("domaine").and_then(Value::as_text).as_deref() == Some(domaine)
                && row
                    .get("valeur")
                    .and_then(Value::as_text)
                    .is_some_and(|v| fold_label(&v) == folded)
        })
        .and_then(|row| row.get("code").and_then(Value::as_text))
}

fn birth_date(raw: &str) -> Option<String> {
    crate::formats::parse_date(raw).map(crate::formats::apogee_date)
}

fn opt(v: Option<&str>) -> Option<String> {
    present(v).map(str::to_owned)
}

/// NDJSON records (blank lines skipped).
pub fn ndjson_records<R: Read>(file: R) -> impl Iterator<Item = Record> {
    BufReader::new(file)
        .lines()
        .enumerate()
        .filter_map(|(i, line)| {
            let line_no = i as u64 + 1;
            match line {
                Err(e) => Some(Record {
                    line: line_no,
                    key: None,
                    dto: Err(line_error(
                        line_no,
                        "ligne",
                        format!("Ligne illisible : {e}"),
                    )),
                }),
                Ok(text) if text.trim().is_empty() => None,
                Ok(text) => {
                    let dto =
                        serde_json::from_str::<DonneesOpi>(text.trim_start_matches('\u{feff}'))
                            .map_err(|e| {
                                line_error(line_no, "ligne", format!("JSON invalide : {e}"))
                            });
                    let key = dto
                        .as_ref()
                        .ok()
                        .and_then(|d| d.individu.as_ref())
                        .and_then(|i| opt(i.cod_opi_int_epo.as_deref()));
                    Some(Record {
                        line: line_no,
                        key,
                        dto,
                    })
                }
            }
        })
}

struct Csv<R: Read> {
    reader: csv::Reader<BufReader<crate::lines::LineCounter<R>>>,
    locator: crate::lines::LineLocator,
    columns: HashMap<String, usize>,
}

impl<R: Read> Csv<R> {
    fn open(file: R) -> Result<Self, Error> {
        let (counted, locator) = crate::lines::LineCounter::new(file);
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(b';')
            .flexible(true)
            .from_reader(BufReader::new(counted));
        let header = reader
            .headers()
            .map_err(|e| file_error("FICHIER_FORMAT", format!("En-tête illisible : {e}")))?
            .clone();
        let columns = header
            .iter()
            .enumerate()
            .map(|(i, h)| (fold_label(h.trim_start_matches('\u{feff}')), i))
            .collect();
        Ok(Csv {
            reader,
            locator,
            columns,
        })
    }

    fn require(&self, names: &[&str]) -> Result<(), Error> {
        let missing: Vec<&str> = names
            .iter()
            .copied()
            .filter(|n| !self.columns.contains_key(&fold_label(n)))
            .collect();
        if missing.is_empty() {
            Ok(())
        } else {
            Err(file_error(
                "FICHIER_FORMAT",
                format!("Colonnes manquantes : {}", missing.join(", ")),
            ))
        }
    }

    /// Rows as (line, cell getter by any of the given names).
    fn rows(self) -> impl Iterator<Item = (u64, Result<Row, FieldError>)> {
        let Csv {
            reader,
            locator,
            columns,
        } = self;
        let columns = Arc::new(columns);
        reader.into_records().map(move |rec| match rec {
            Ok(r) => {
                let line = r.position().map_or(0, |p| locator.line_at(p.byte()));
                (
                    line,
                    Ok(Row {
                        cells: r,
                        columns: Arc::clone(&columns),
                    }),
                )
            }
            Err(e) => {
                let line = e.position().map_or(0, |p| locator.line_at(p.byte()));
                (
                    line,
                    Err(line_error(line, "ligne", format!("Ligne illisible : {e}"))),
                )
            }
        })
    }
}

impl<R: Read> Csv<R> {
    /// One record per row: `map` reads a row into its key and OPI; an unreadable row is a
    /// rejected record at its line.
    fn records(
        self,
        mut map: impl FnMut(u64, &Row) -> (Option<String>, Result<DonneesOpi, FieldError>),
    ) -> Vec<Record> {
        self.rows()
            .map(|(line, row)| match row {
                Ok(row) => {
                    let (key, dto) = map(line, &row);
                    Record { line, key, dto }
                }
                Err(e) => Record {
                    line,
                    key: None,
                    dto: Err(e),
                },
            })
            .collect()
    }
}

struct Row {
    cells: csv::StringRecord,
    columns: Arc<HashMap<String, usize>>,
}

impl Row {
    fn get(&self, names: &[&str]) -> Option<String> {
        names
            .iter()
            .find_map(|n| self.columns.get(&fold_label(n)))
            .and_then(|i| self.cells.get(*i))
            .and_then(|v| opt(Some(v)))
    }
}

fn country(r: &Referential, raw: Option<String>) -> Option<String> {
    let raw = raw?;
    if let Some(code) = mapped(r, "pays", &raw) {
        return Some(code);
    }
    // INSEE country codes are 99XXX; Apogée keeps XXX.
    Some(
        raw.strip_prefix("99")
            .filter(|c| c.len() == 3)
            .map_or(raw.clone(), str::to_owned),
    )
}

/// Pégase `candidat` + `candidature` files (OPI-23). The candidatures are read first and
/// grouped by candidate (one vœu set per candidate), then the candidates are streamed.
pub fn pegase_records<R: Read>(
    r: &Referential,
    candidat: R,
    candidature: R,
) -> Result<Vec<Record>, Error> {
    let cands = Csv::open(candidature)?;
    cands.require(&["numero_candidat", "code_voeu"])?;
    let mut voeux: HashMap<String, Vec<Result<Voeu, String>>> = HashMap::new();
    for (line, row) in cands.rows() {
        let Ok(row) = row else { continue };
        let Some(num) = row.get(&["numero_candidat"]) else {
            continue;
        };
        let entry = voeux.entry(num).or_default();
        let code = row.get(&["code_voeu"]).unwrap_or_default();
        let target = r.get("formations-pegase", &[&code]).map(|f| {
            let g = |n: &str| f.get(n).and_then(Value::as_text);
            (g("codCge"), g("codEtp"), g("codVrsVet"))
        });
        entry.push(match target {
            Some((cge, etp, vet)) => Ok(Voeu {
                cod_cge: cge,
                cod_etp: etp,
                cod_vrs_vet: vet,
                num_cls: Some((entry.len() + 1).to_string()),
                cod_dem_dos: Some("C".into()),
                cod_dec_veu: Some("F".into()),
                ..Voeu::default()
            }),
            None => Err(format!("candidature ligne {line} : code_voeu « {code} » sans correspondance dans formations-pegase")),
        });
    }
    let candidats = Csv::open(candidat)?;
    candidats.require(&["numero_candidat", "nom_famille", "prenom", "date_naissance"])?;
    Ok(candidats.records(|line, row| {
        let key = row.get(&["numero_candidat"]);
        let dto = pegase_candidat(r, row, line, key.as_deref().and_then(|k| voeux.remove(k)));
        (key, dto)
    }))
}

fn pegase_candidat(
    r: &Referential,
    row: &Row,
    line: u64,
    voeux: Option<Vec<Result<Voeu, String>>>,
) -> Result<DonneesOpi, FieldError> {
    let date = row.get(&["date_naissance"]);
    let date_nai = match &date {
        Some(d) => Some(birth_date(d).ok_or_else(|| {
            line_error(
                line,
                "date_naissance",
                format!("date_naissance « {d} » : AAAA-MM-JJ, JJ/MM/AAAA ou JJMMAAAA attendu"),
            )
        })?),
        None => None,
    };
    let pays_nai = country(r, row.get(&["code_pays_naissance"]));
    let commune_nai = row.get(&["code_commune_naissance"]);
    let (typ, dep) = match (pays_nai.as_deref(), &commune_nai) {
        (Some("100") | None, Some(com)) if com.len() == 5 && com.is_ascii() => {
            let dep = if com.starts_with("97") {
                com[..3].to_owned()
            } else {
                format!("0{}", &com[..2])
            };
            (Some("D".to_owned()), Some(dep))
        }
        (Some(p), _) if p != "100" => (Some("P".to_owned()), Some(p.to_owned())),
        _ => (None, None),
    };
    let mut lib3 = row.get(&["adresse_ligne3_voie", "adresse_ligne3"]);
    if let Some(l4) = row.get(&["adresse_ligne4_complement", "adresse_ligne4"]) {
        let joined = match &lib3 {
            Some(l3) => format!("{l3} {l4}"),
            None => l4,
        };
        if joined.chars().count() > 32 {
            return Err(line_error(
                line,
                "adresse_ligne4_complement",
                "adresse_ligne4_complement ne tient pas avec la ligne 3 dans 32 caractères",
            ));
        }
        lib3 = Some(joined);
    }
    // Empty lines are skipped: the first line present becomes lib1 (Apogée requires it).
    let mut lines = [
        row.get(&["adresse_ligne1_etage", "adresse_ligne1"]),
        row.get(&["adresse_ligne2_batiment", "adresse_ligne2"]),
        lib3,
    ]
    .into_iter()
    .flatten();
    let adresse = Adresse {
        cod_bdi: row.get(&["adresse_code_postal"]),
        cod_com: row.get(&["adresse_code_commune"]),
        cod_pay: country(r, row.get(&["adresse_code_pays"])),
        lib1: lines.next(),
        lib2: lines.next(),
        lib3: lines.next(),
        lib_ade: row.get(&["adresse_cp_ville_etranger"]),
        num_tel: row.get(&["numero_telephone1"]),
    };
    let items = match voeux {
        None => None,
        Some(list) => Some(
            list.into_iter()
                .collect::<Result<Vec<Voeu>, String>>()
                .map_err(|m| line_error(line, "code_voeu", m))?,
        ),
    };
    let sexe = row
        .get(&["sexe"])
        .map(|s| match s.to_ascii_uppercase().as_str() {
            "H" => "M".to_owned(),
            other => other.to_owned(),
        });
    Ok(DonneesOpi {
        adresse_fixe: (adresse != Adresse::default()).then_some(adresse),
        individu: Some(Individu {
            cod_opi_int_epo: row.get(&["numero_candidat"]),
            donnees_naissance: Some(DonneesNaissance {
                cod_dep_pay_nai: dep,
                cod_pay_nat: country(r, row.get(&["code_nationalite"])),
                cod_typ_dep_pay_nai: typ,
                date_nai_ind_opi: date_nai,
                cod_com_nai_etu_opi: commune_nai,
                lib_vil_nai_etu_opi: row.get(&["libelle_commune_naissance"]),
                tem_date_nai_rel_opi: Some("N".into()),
            }),
            donnees_personnelles: Some(DonneesPersonnelles {
                adr_mail_opi: row.get(&["courriel"]),
                num_tel_por_opi: row.get(&["numero_telephone2"]),
                ..DonneesPersonnelles::default()
            }),
            etat_civil: Some(EtatCivil {
                cod_nne_ind_opi: row.get(&["ine"]),
                cod_sex_etu_opi: sexe,
                lib_nom_pat_ind_opi: row.get(&["nom_famille"]),
                lib_nom_usu_ind_opi: row.get(&["nom_usuel"]),
                lib_pr1_ind_opi: row.get(&["prenom"]),
                lib_pr2_ind_opi: row.get(&["prenom2"]),
                lib_pr3_ind_opi: row.get(&["prenom3"]),
            }),
            ..Individu::default()
        }),
        voeux: items.map(|item| Voeux {
            mod_env: None,
            item,
        }),
        ..DonneesOpi::default()
    })
}

/// Parcoursup admission export (OPI-24): the target formation and code prefix come with the
/// request; labels go through `correspondances`, an unmapped label rejects the record.
pub fn parcoursup_records<R: Read>(
    r: &Referential,
    file: R,
    target: &ParcoursupTarget,
) -> Result<Vec<Record>, Error> {
    let csv = Csv::open(file)?;
    csv.require(&["Nom", "Prénom"])?;
    Ok(csv.records(|line, row| {
        let numero = row.get(&["Numéro candidat", "Numéro"]);
        let key = numero.as_ref().map(|n| format!("{}{n}", target.prefix));
        let dto = parcoursup_row(r, row, line, key.clone(), target);
        (key, dto)
    }))
}

fn parcoursup_row(
    r: &Referential,
    row: &Row,
    line: u64,
    key: Option<String>,
    target: &ParcoursupTarget,
) -> Result<DonneesOpi, FieldError> {
    if key.as_ref().is_some_and(|k| k.chars().count() > 10) {
        return Err(line_error(
            line,
            "codOpiIntEpo",
            "Préfixe + numéro candidat dépasse 10 caractères",
        ));
    }
    let label = |domaine: &str, names: &[&str]| -> Result<Option<String>, FieldError> {
        match row.get(names) {
            None => Ok(None),
            Some(v) => mapped(r, domaine, &v).map(Some).ok_or_else(|| {
                line_error(
                    line,
                    names[0],
                    format!(
                        "{} : libellé « {v} » sans correspondance ({domaine})",
                        names[0]
                    ),
                )
            }),
        }
    };
    let nationalite = label("nationalite", &["Nationalité"])?;
    let pays_nai = label("pays", &["Pays de naissance"])?;
    let pays = label("pays", &["Pays"])?;
    let bac = label("bac", &["Série diplôme"])?;
    let mention = label("mention", &["Mention diplôme"])?;
    let date = match row.get(&["Date de Naissance", "Date de naissance"]) {
        Some(d) => Some(birth_date(&d).ok_or_else(|| {
            line_error(
                line,
                "Date de naissance",
                format!("Date de naissance « {d} » : JJ/MM/AAAA attendu"),
            )
        })?),
        None => None,
    };
    let civilite = row.get(&["Etat civil", "Civilité"]).map(|c| {
        if fold_label(&c).starts_with('M') && !fold_label(&c).starts_with("MME") {
            "M".to_owned()
        } else {
            "F".to_owned()
        }
    });
    let abroad = pays_nai.as_deref().filter(|p| *p != "100");
    let adresse = Adresse {
        cod_bdi: row.get(&["Code postal"]),
        cod_com: row
            .get(&["Commune"])
            .filter(|c| c.len() == 5 && c.bytes().all(|b| b.is_ascii_alphanumeric())),
        cod_pay: pays,
        lib1: row.get(&["Adresse 1"]),
        lib2: row.get(&["Adresse 2"]),
        lib3: row.get(&["Adresse 3"]),
        lib_ade: None,
        num_tel: row.get(&["Téléphone fixe"]),
    };
    Ok(DonneesOpi {
        adresse_fixe: (adresse != Adresse::default()).then_some(adresse),
        bac: bac.map(|b| Bac {
            cod_bac: Some(b),
            cod_mention: mention,
            ..Bac::default()
        }),
        individu: Some(Individu {
            cod_opi_int_epo: key,
            donnees_naissance: Some(DonneesNaissance {
                cod_typ_dep_pay_nai: abroad.map(|_| "P".to_owned()),
                cod_dep_pay_nai: abroad.map(str::to_owned),
                cod_pay_nat: nationalite,
                date_nai_ind_opi: date,
                lib_vil_nai_etu_opi: row.get(&["Ville de naissance"]),
                tem_date_nai_rel_opi: Some("N".into()),
                ..DonneesNaissance::default()
            }),
            donnees_personnelles: Some(DonneesPersonnelles {
                adr_mail_opi: row.get(&["e-mail du candidat", "Adresse mail"]),
                num_tel_por_opi: row.get(&["Téléphone mobile"]),
                ..DonneesPersonnelles::default()
            }),
            etat_civil: Some(EtatCivil {
                cod_nne_ind_opi: row.get(&["Numéro INE"]),
                cod_sex_etu_opi: civilite,
                lib_nom_pat_ind_opi: row.get(&["Nom"]),
                lib_pr1_ind_opi: row.get(&["Prénom"]),
                ..EtatCivil::default()
            }),
            ..Individu::default()
        }),
        voeux: Some(Voeux {
            mod_env: None,
            item: vec![Voeu {
                cod_cge: Some(target.cod_cge.clone()),
                cod_etp: Some(target.cod_etp.clone()),
                cod_vrs_vet: Some(target.cod_vrs_vet.clone()),
                num_cls: Some("1".into()),
                cod_dem_dos: Some("C".into()),
                cod_dec_veu: Some("F".into()),
                ..Voeu::default()
            }],
        }),
        ..DonneesOpi::default()
    })
}

/// Reads the files of an upload (`body`, or `candidat` and `candidature`) as records of `format`.
pub fn read_records<R: Read>(
    referential: &Referential,
    format: Format,
    files: &mut HashMap<String, R>,
    target: &ParcoursupTarget,
) -> Result<Vec<Record>, Error> {
    let mut take = |name: &str| {
        files
            .remove(name)
            .ok_or_else(|| file_error("FICHIER_MANQUANT", format!("Fichier « {name} » manquant")))
    };
    match format {
        Format::Ndjson => Ok(ndjson_records(take("body")?).collect()),
        Format::Pegase => {
            let candidat = take("candidat")?;
            let candidature = take("candidature")?;
            pegase_records(referential, candidat, candidature)
        }
        Format::Parcoursup => parcoursup_records(referential, take("body")?, target),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fuzzer harness finding (`fuzz/regressions/opi_batch/`): a 5-byte birth commune holding a
    /// non-ASCII character panicked (its department was cut inside the character); it now gives
    /// no department, as any commune that is not an INSEE code.
    #[test]
    fn a_non_ascii_birth_commune_is_no_panic() -> Result<(), String> {
        let r = crate::fuzzing::build_referential()?;
        let candidat = "numero_candidat;nom_famille;prenom;date_naissance;code_commune_naissance\n\
                        1;A;B;2005-01-01;2\u{e9}56\n2;C;D;2005-01-01;25056\n";
        let candidature = "numero_candidat;code_voeu\n1;L1-DEMO-1\n2;L1-DEMO-1\n";
        let records = pegase_records(&r, candidat.as_bytes(), candidature.as_bytes())
            .map_err(|e| e.message)?;
        let birth = |i: usize| {
            records[i]
                .dto
                .as_ref()
                .ok()
                .and_then(|d| d.individu.clone())
                .and_then(|i| i.donnees_naissance)
                .map(|n| (n.cod_typ_dep_pay_nai, n.cod_dep_pay_nai))
        };
        assert_eq!(birth(0), Some((None, None)));
        assert_eq!(birth(1), Some((Some("D".into()), Some("025".into()))));
        Ok(())
    }
}
