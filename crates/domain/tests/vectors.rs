//! Every row of the spec's INE vectors behaves as listed (`vectors/ine.csv`, copied from
//! `shared/spec/vectors`).

use apogee_domain::ine;

#[test]
fn ine_vectors() -> Result<(), Box<dyn std::error::Error>> {
    let mut reader = csv::Reader::from_path(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/vectors/ine.csv"
    ))?;
    let mut count = 0;
    let mut failures = Vec::new();
    for row in reader.records() {
        let row = row?;
        let (value, family, valid, reason) = (&row[0], &row[1], &row[2], &row[3]);
        let code = reason.split_whitespace().next().unwrap_or_default();
        let got = ine::check(value);
        if got.family.as_str() != family
            || got.valid.as_str() != valid
            || got.reason.as_str() != code
        {
            failures.push(format!(
                "{value:?}: expected {family}/{valid}/{code}, got {}/{}/{}",
                got.family.as_str(),
                got.valid.as_str(),
                got.reason.as_str()
            ));
        }
        count += 1;
    }
    assert!(count > 60, "only {count} vectors read");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    Ok(())
}
