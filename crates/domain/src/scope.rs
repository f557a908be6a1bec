//! Access scopes of API clients.

use serde::Serialize;
use std::fmt;
use std::str::FromStr;

/// One right an API client may hold. `admin` implies every other one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Scope {
    /// Push and delete OPIs.
    #[serde(rename = "opi:write")]
    OpiWrite,
    /// Read OPIs.
    #[serde(rename = "opi:read")]
    OpiRead,
    /// Upload and delete attachments.
    #[serde(rename = "pj:write")]
    PjWrite,
    /// Read attachments.
    #[serde(rename = "pj:read")]
    PjRead,
    /// Create and delete laissez-passer.
    #[serde(rename = "lp:write")]
    LpWrite,
    /// Read laissez-passer and admissions.
    #[serde(rename = "lp:read")]
    LpRead,
    /// Check CVEC attestations.
    #[serde(rename = "cvec:read")]
    CvecRead,
    /// Load the referential.
    #[serde(rename = "ref:write")]
    RefWrite,
    /// Read the referential through the Apogée read services (ReferentielMetier,
    /// GeographieMetier, ScolariteMetier, OffreFormationMetier) and their REST twins.
    #[serde(rename = "ref:read")]
    RefRead,
    /// Read the students' files and enrolments through EtudiantMetier and AdministratifMetier
    /// and their REST twins.
    #[serde(rename = "etudiant:read")]
    EtudiantRead,
    /// Enrol students (`POST /api/v1/inscriptions` and its batch) and cancel enrolments.
    #[serde(rename = "ia:write")]
    IaWrite,
    /// Read the call journal.
    #[serde(rename = "journal:read")]
    JournalRead,
    /// Everything, including client management.
    #[serde(rename = "admin")]
    Admin,
}

impl Scope {
    /// Every scope, in documentation order.
    pub const ALL: [Scope; 13] = [
        Scope::OpiWrite,
        Scope::OpiRead,
        Scope::PjWrite,
        Scope::PjRead,
        Scope::LpWrite,
        Scope::LpRead,
        Scope::CvecRead,
        Scope::RefWrite,
        Scope::RefRead,
        Scope::EtudiantRead,
        Scope::IaWrite,
        Scope::JournalRead,
        Scope::Admin,
    ];

    /// The scope's name, e.g. `opi:write`.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::OpiWrite => "opi:write",
            Scope::OpiRead => "opi:read",
            Scope::PjWrite => "pj:write",
            Scope::PjRead => "pj:read",
            Scope::LpWrite => "lp:write",
            Scope::LpRead => "lp:read",
            Scope::CvecRead => "cvec:read",
            Scope::RefWrite => "ref:write",
            Scope::RefRead => "ref:read",
            Scope::EtudiantRead => "etudiant:read",
            Scope::IaWrite => "ia:write",
            Scope::JournalRead => "journal:read",
            Scope::Admin => "admin",
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An unknown scope name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown scope `{0}` (known: opi:write opi:read pj:write pj:read lp:write lp:read cvec:read ref:write ref:read etudiant:read ia:write journal:read admin)"
)]
pub struct UnknownScope(pub String);

impl FromStr for Scope {
    type Err = UnknownScope;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Scope::ALL
            .into_iter()
            .find(|scope| scope.as_str() == s.trim())
            .ok_or_else(|| UnknownScope(s.trim().to_owned()))
    }
}

/// The set of scopes a client holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scopes(Vec<Scope>);

impl Scopes {
    /// Parses a list separated by spaces and/or commas; duplicates are dropped.
    pub fn parse(list: &str) -> Result<Self, UnknownScope> {
        let mut scopes = list
            .split([' ', ','])
            .filter(|s| !s.trim().is_empty())
            .map(Scope::from_str)
            .collect::<Result<Vec<_>, _>>()?;
        scopes.sort();
        scopes.dedup();
        Ok(Scopes(scopes))
    }

    /// Every scope.
    pub fn all() -> Self {
        Scopes(Scope::ALL.to_vec())
    }

    /// Whether the set grants `scope` (directly or through `admin`).
    pub fn grants(&self, scope: Scope) -> bool {
        self.0.contains(&scope) || self.0.contains(&Scope::Admin)
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The scopes, sorted.
    pub fn iter(&self) -> impl Iterator<Item = Scope> + '_ {
        self.0.iter().copied()
    }
}

impl fmt::Display for Scopes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.0.iter().map(|s| s.as_str()).collect();
        f.write_str(&names.join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_grant() -> Result<(), UnknownScope> {
        let scopes = Scopes::parse("ref:write, opi:read opi:read")?;
        assert_eq!(scopes.to_string(), "opi:read ref:write");
        assert!(scopes.grants(Scope::OpiRead));
        assert!(!scopes.grants(Scope::JournalRead));
        assert!(Scopes::parse("admin")?.grants(Scope::JournalRead));
        assert!(Scopes::parse("admin")?.grants(Scope::RefRead));
        assert!(!Scopes::parse("ref:write")?.grants(Scope::RefRead));
        assert!(Scopes::parse("opi:delete").is_err());
        Ok(())
    }
}
