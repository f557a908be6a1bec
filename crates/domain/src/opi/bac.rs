//! The bac spécialité/option check (OPI-14, `apogee-sql-compat.md` SQL-19): one rule set for
//! the OPI validation and for the PostgreSQL function
//! `pkb_bac.verifier_specialites_et_options_bac` of the Apogée-compatible schema (migration
//! `2026-12-02-000010_apogee_compat`), which implements the same steps in PL/pgSQL. A test of
//! `apogee-db` (`tests/compat_sql.rs`) compares both over the demo bacs, spécialités and options.
//!
//! The steps, in this order:
//! 1. no bac code → not checked (`SS`);
//! 2. a bac with no row in `bac-specialites` nor in `bac-options` → not checked (`SS`);
//! 3. each chosen item, in the order spécialité 1, spécialité 2, spécialité de première, option
//!    1 … 4, of a kind the bac has regroupement rows for (spécialités and options are checked
//!    separately): not in the bac's regroupement → refused; else outside its validity years
//!    (`daaDebVal…`/`daaFinVal…`, a missing bound is no bound) for the bac's year, when the year
//!    is known → refused; else spécialité 2 equal to spécialité 1 → refused;
//! 4. nothing refused → `OK`. The answer is the message of the first refusal.

use crate::referential::{Referential, Value};

/// The choices of a candidate, as eCandidat's bac window or an OPI's `bac` block sends them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BacChoices<'a> {
    /// Year the bac was obtained (`daaObtBacOba`).
    pub year: Option<i32>,
    /// `codBac`.
    pub cod_bac: Option<&'a str>,
    /// `codSpe1BacTer`, `codSpe2BacTer`, `codSpeBacPre`.
    pub specialites: [Option<&'a str>; 3],
    /// `codOpt1Bac` … `codOpt4Bac`.
    pub options: [Option<&'a str>; 4],
}

/// One refused item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// 0–2: spécialités, 3–6: options (see [`SLOTS`]).
    pub slot: usize,
    /// French sentence shown to the candidate.
    pub message: String,
}

/// The DTO field of each slot.
pub const SLOTS: [&str; 7] = [
    "codSpe1BacTer",
    "codSpe2BacTer",
    "codSpeBacPre",
    "codOpt1Bac",
    "codOpt2Bac",
    "codOpt3Bac",
    "codOpt4Bac",
];

/// The outcome of the check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// No bac, or a bac without regroupement: nothing is checked (`SS`).
    NotChecked,
    /// Checked; the refusals in slot order (empty: `OK`).
    Checked(Vec<Refusal>),
}

impl Verdict {
    /// What `pkb_bac.verifier_specialites_et_options_bac` answers: `SS`, `OK` or the first
    /// refusal's sentence.
    pub fn answer(&self) -> String {
        match self {
            Verdict::NotChecked => "SS".to_owned(),
            Verdict::Checked(r) => r
                .first()
                .map_or_else(|| "OK".to_owned(), |r| r.message.clone()),
        }
    }
}

struct Kind {
    table: &'static str,
    group: &'static str,
    label: &'static str,
    begin: &'static str,
    end: &'static str,
    noun: &'static str,
}

const SPECIALITE: Kind = Kind {
    table: "specialites-bac",
    group: "bac-specialites",
    label: "libSpeBac",
    begin: "daaDebValSpeBac",
    end: "daaFinValSpeBac",
    noun: "La spécialité",
};

const OPTION: Kind = Kind {
    table: "options-bac",
    group: "bac-options",
    label: "libOptBac",
    begin: "daaDebValOptBac",
    end: "daaFinValOptBac",
    noun: "L'option",
};

/// Checks the spécialités and options chosen for a bac (steps in the module documentation).
pub fn check(r: &Referential, choices: &BacChoices<'_>) -> Verdict {
    let Some(bac) = choices.cod_bac.filter(|b| !b.is_empty()) else {
        return Verdict::NotChecked;
    };
    let grouped = |group: &str| {
        r.rows(group)
            .any(|row| row.key().first().map(String::as_str) == Some(bac))
    };
    let (spe, opt) = (grouped(SPECIALITE.group), grouped(OPTION.group));
    if !spe && !opt {
        return Verdict::NotChecked;
    }
    let items = choices
        .specialites
        .iter()
        .map(|v| (&SPECIALITE, spe, *v))
        .chain(choices.options.iter().map(|v| (&OPTION, opt, *v)));
    let mut refusals = Vec::new();
    for (slot, (kind, checked, value)) in items.enumerate() {
        let Some(code) = value.filter(|v| !v.is_empty()) else {
            continue;
        };
        if !checked {
            continue;
        }
        let duplicate = slot == 1 && choices.specialites[0] == Some(code);
        if let Some(message) = refusal(r, kind, bac, code, choices.year, duplicate) {
            refusals.push(Refusal { slot, message });
        }
    }
    Verdict::Checked(refusals)
}

fn refusal(
    r: &Referential,
    kind: &Kind,
    bac: &str,
    code: &str,
    year: Option<i32>,
    duplicate: bool,
) -> Option<String> {
    let row = r.get(kind.table, &[code]);
    let text = |name: &str| row.and_then(|rec| rec.get(name)).and_then(Value::as_text);
    let label = text(kind.label).unwrap_or_else(|| code.to_owned());
    let noun = kind.noun;
    if !r.contains(kind.group, &[bac, code]) {
        return Some(format!(
            "{noun} {label} n'est pas proposée pour ce baccalauréat"
        ));
    }
    let bound = |name: &str| text(name).and_then(|v| v.parse::<i32>().ok());
    if let Some(y) = year {
        let outside =
            bound(kind.begin).is_some_and(|b| y < b) || bound(kind.end).is_some_and(|e| y > e);
        if outside {
            return Some(format!(
                "{noun} {label} n'est pas valable pour un baccalauréat obtenu en {y}"
            ));
        }
    }
    duplicate.then(|| format!("{noun} {label} est choisie deux fois"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn referential() -> Result<Referential, String> {
        let files = [
            (
                "specialites-bac",
                "codSpeBac,libSpeBac,temEnSveSpeBac,daaDebValSpeBac,daaFinValSpeBac\n\
                 D001,Mathématiques,O,2021,\nD002,Physique-chimie,O,,\nD009,Ancienne,N,,2020\n",
            ),
            (
                "options-bac",
                "codOptBac,libOptBac,temEnSveOptBac\nO001,Maths expertes,O\n",
            ),
            (
                "bac-specialites",
                "codBac,codSpeBac\nGDEM,D001\nGDEM,D009\nSPE,D001\n",
            ),
            ("bac-options", "codBac,codOptBac\nGDEM,O001\n"),
        ];
        crate::referential::from_csv(&files)
    }

    fn answer(
        r: &Referential,
        year: Option<i32>,
        bac: Option<&str>,
        spe: [Option<&str>; 3],
        opt: [Option<&str>; 4],
    ) -> String {
        check(
            r,
            &BacChoices {
                year,
                cod_bac: bac,
                specialites: spe,
                options: opt,
            },
        )
        .answer()
    }

    #[test]
    fn verdicts() -> Result<(), String> {
        let r = referential()?;
        let none4 = [None; 4];
        assert_eq!(
            answer(&r, Some(2023), None, [Some("D001"), None, None], none4),
            "SS"
        );
        assert_eq!(
            answer(&r, Some(2023), Some("S"), [Some("ZZZZ"), None, None], none4),
            "SS"
        );
        assert_eq!(
            answer(
                &r,
                Some(2023),
                Some("GDEM"),
                [Some("D001"), None, None],
                [Some("O001"), None, None, None]
            ),
            "OK"
        );
        assert_eq!(answer(&r, None, Some("GDEM"), [None; 3], none4), "OK");
        assert_eq!(
            answer(
                &r,
                Some(2023),
                Some("GDEM"),
                [Some("D002"), None, None],
                none4
            ),
            "La spécialité Physique-chimie n'est pas proposée pour ce baccalauréat"
        );
        assert_eq!(
            answer(
                &r,
                Some(2019),
                Some("GDEM"),
                [Some("D001"), None, None],
                none4
            ),
            "La spécialité Mathématiques n'est pas valable pour un baccalauréat obtenu en 2019"
        );
        assert_eq!(
            answer(
                &r,
                Some(2023),
                Some("GDEM"),
                [None, Some("D009"), None],
                none4
            ),
            "La spécialité Ancienne n'est pas valable pour un baccalauréat obtenu en 2023"
        );
        assert_eq!(
            answer(&r, None, Some("GDEM"), [None, Some("D009"), None], none4),
            "OK"
        );
        assert_eq!(
            answer(
                &r,
                Some(2023),
                Some("GDEM"),
                [Some("D001"), Some("D001"), None],
                none4
            ),
            "La spécialité Mathématiques est choisie deux fois"
        );
        assert_eq!(
            answer(
                &r,
                Some(2023),
                Some("GDEM"),
                [None; 3],
                [None, None, Some("X1"), None]
            ),
            "L'option X1 n'est pas proposée pour ce baccalauréat"
        );
        // SPE has spécialités only: its options are not checked.
        assert_eq!(
            answer(
                &r,
                Some(2023),
                Some("SPE"),
                [Some("D001"), None, None],
                [Some("X1"), None, None, None]
            ),
            "OK"
        );
        // The first refusal wins; every refusal is listed.
        let v = check(
            &r,
            &BacChoices {
                year: Some(2023),
                cod_bac: Some("GDEM"),
                specialites: [Some("D002"), None, None],
                options: [Some("X1"), None, None, None],
            },
        );
        let Verdict::Checked(refusals) = &v else {
            return Err(format!("{v:?}"));
        };
        assert_eq!(refusals.iter().map(|r| r.slot).collect::<Vec<_>>(), [0, 3]);
        Ok(())
    }
}
