//! Every row of the spec's INE vectors behaves as listed (`vectors/ine.csv`, copied from
//! `shared/spec/vectors`).

use apogee_domain::cvec;
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

/// Every row of the spec's CVEC code vectors behaves as listed (`vectors/cvec-codes.csv`, copied
/// from `shared/spec/vectors`): validity, rule code, and what the parentheses pin down (number and
/// surname letters of accepted codes, quoted characters and number parts of failures).
#[test]
fn cvec_vectors() -> Result<(), Box<dyn std::error::Error>> {
    let mut reader = csv::Reader::from_path(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/vectors/cvec-codes.csv"
    ))?;
    let mut count = 0;
    let mut failures = Vec::new();
    for row in reader.records() {
        let row = row?;
        let (value, valid, reason) = (&row[0], &row[1], &row[2]);
        let code = reason.split_whitespace().next().unwrap_or_default();
        let detail = reason
            .split_once('(')
            .and_then(|(_, rest)| rest.rsplit_once(')'))
            .map_or("", |(inside, _)| inside);
        let got = cvec::parse(value);
        let mut fail = |what: String| failures.push(format!("{value:?}: {what}"));
        if got.valid.to_string() != valid || got.reason.as_str() != code {
            fail(format!(
                "expected {valid}/{code}, got {}/{}",
                got.valid,
                got.reason.as_str()
            ));
        }
        match code {
            "OK" | "OK_UNUSUAL_LAYOUT" => {
                // "number VER1ABCDEF12 + name DUPON[; …]"
                let parts = detail
                    .split(';')
                    .next()
                    .and_then(|p| p.trim().strip_prefix("number "))
                    .and_then(|p| p.split_once(" + name "));
                match parts {
                    Some((number, letters)) => {
                        if got.number != number || got.letters != letters {
                            fail(format!(
                                "expected {number} + {letters}, got {} + {}",
                                got.number, got.letters
                            ));
                        }
                        if cvec::parse_parts(number, letters) != got {
                            fail("the number + letters form disagrees".into());
                        }
                    }
                    None => fail(format!("unreadable reason {reason:?}")),
                }
            }
            "CVEC_CODE_CHARSET" => {
                // "character(s) '-' not allowed": every quoted character is quoted in the message.
                let quoted: Vec<&str> = detail.split('\'').skip(1).step_by(2).collect();
                if quoted.is_empty() {
                    fail(format!("unreadable reason {reason:?}"));
                }
                for c in quoted {
                    if !got.message.contains(&format!("'{c}'")) {
                        fail(format!("message {:?} does not quote '{c}'", got.message));
                    }
                }
            }
            "CVEC_CODE_NUMBER" => {
                // "number part 'VE1ABCDEF12' does not match …"
                match detail.split('\'').nth(1) {
                    Some(number) if got.number != number => {
                        fail(format!(
                            "expected number part {number:?}, got {:?}",
                            got.number
                        ));
                    }
                    Some(_) => {}
                    None => fail(format!("unreadable reason {reason:?}")),
                }
            }
            "CVEC_CODE_NAME_LENGTH" => {
                // "6 surname letters; at most 5"
                let n = detail.split_whitespace().next().map(str::parse::<usize>);
                match n {
                    Some(Ok(n)) if got.letters.len() != n => {
                        fail(format!("expected {n} letters, got {:?}", got.letters));
                    }
                    Some(Ok(_)) => {}
                    _ => fail(format!("unreadable reason {reason:?}")),
                }
            }
            _ => {}
        }
        count += 1;
    }
    assert!(count >= 26, "only {count} vectors read");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    Ok(())
}
