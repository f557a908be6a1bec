//! The demo referential (`crates/db/demo/*.csv`, see its README): seeded on the first start of
//! an empty database unless disabled, and used by the README examples and the tests.

use crate::conn::AnyConnection;
use crate::error::WriteError;
use crate::repo::referential::{self, Actor, UpsertCounts};
use apogee_domain::referential::{TABLES, record};
use apogee_domain::{Error, FieldError};

/// Marker stored in `gateway_meta` once the demo referential is loaded.
pub const SEEDED_KEY: &str = "demo_referential_seeded_at";

/// The demo files, one per referential table.
pub const FILES: &[(&str, &str)] = &[
    ("annees", include_str!("../demo/annees.csv")),
    (
        "centres-gestion",
        include_str!("../demo/centres-gestion.csv"),
    ),
    ("diplomes", include_str!("../demo/diplomes.csv")),
    (
        "versions-diplome",
        include_str!("../demo/versions-diplome.csv"),
    ),
    ("etapes", include_str!("../demo/etapes.csv")),
    ("versions-etape", include_str!("../demo/versions-etape.csv")),
    ("etapes-cge", include_str!("../demo/etapes-cge.csv")),
    ("vdi-vet", include_str!("../demo/vdi-vet.csv")),
    (
        "vdi-composantes",
        include_str!("../demo/vdi-composantes.csv"),
    ),
    ("vet-ouvertures", include_str!("../demo/vet-ouvertures.csv")),
    ("vet-regimes", include_str!("../demo/vet-regimes.csv")),
    ("regimes-bcn", include_str!("../demo/regimes-bcn.csv")),
    ("regimes", include_str!("../demo/regimes.csv")),
    ("statuts", include_str!("../demo/statuts.csv")),
    (
        "categories-oui-si",
        include_str!("../demo/categories-oui-si.csv"),
    ),
    (
        "categories-exo-ext",
        include_str!("../demo/categories-exo-ext.csv"),
    ),
    ("bacs", include_str!("../demo/bacs.csv")),
    (
        "specialites-bac",
        include_str!("../demo/specialites-bac.csv"),
    ),
    ("options-bac", include_str!("../demo/options-bac.csv")),
    (
        "bac-specialites",
        include_str!("../demo/bac-specialites.csv"),
    ),
    ("bac-options", include_str!("../demo/bac-options.csv")),
    ("mentions-bac", include_str!("../demo/mentions-bac.csv")),
    ("pays", include_str!("../demo/pays.csv")),
    ("departements", include_str!("../demo/departements.csv")),
    ("communes", include_str!("../demo/communes.csv")),
    ("communes-bdi", include_str!("../demo/communes-bdi.csv")),
    ("etablissements", include_str!("../demo/etablissements.csv")),
    (
        "types-composante",
        include_str!("../demo/types-composante.csv"),
    ),
    ("composantes", include_str!("../demo/composantes.csv")),
    (
        "composantes-hierarchie",
        include_str!("../demo/composantes-hierarchie.csv"),
    ),
    ("signataires", include_str!("../demo/signataires.csv")),
    (
        "variables-appli",
        include_str!("../demo/variables-appli.csv"),
    ),
    (
        "types-hebergement",
        include_str!("../demo/types-hebergement.csv"),
    ),
    ("types-pj", include_str!("../demo/types-pj.csv")),
    (
        "diplomes-autres-cursus",
        include_str!("../demo/diplomes-autres-cursus.csv"),
    ),
    ("mentions", include_str!("../demo/mentions.csv")),
    ("types-diplome", include_str!("../demo/types-diplome.csv")),
    ("types-resultat", include_str!("../demo/types-resultat.csv")),
    (
        "formations-pegase",
        include_str!("../demo/formations-pegase.csv"),
    ),
    (
        "correspondances",
        include_str!("../demo/correspondances.csv"),
    ),
];

/// Loads every demo file (upsert) in table order.
pub fn seed(conn: &mut AnyConnection, actor: Actor<'_>) -> Result<UpsertCounts, WriteError> {
    let mut total = UpsertCounts::default();
    for table in TABLES {
        let Some((_, csv)) = FILES.iter().find(|(name, _)| *name == table.name) else {
            continue;
        };
        let mut records = Vec::new();
        let mut errors: Vec<FieldError> = Vec::new();
        for row in record::read_csv(table, csv.as_bytes())? {
            match row.result {
                Ok(r) => records.push(r),
                Err(mut e) => errors.append(&mut e),
            }
        }
        if !errors.is_empty() {
            return Err(Error::validation(errors).into());
        }
        let counts = referential::upsert(conn, &records, actor)?;
        total.created += counts.created;
        total.updated += counts.updated;
        total.unchanged += counts.unchanged;
    }
    crate::repo::meta::set(
        conn,
        SEEDED_KEY,
        &actor.now.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
    )?;
    Ok(total)
}
