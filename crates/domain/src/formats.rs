//! The value formats every channel reads the same way: academic years, student numbers, dates.
//! One place each, so that REST parameters, batch files, SOAP payloads and facades agree.

use chrono::NaiveDate;

/// The largest `COD_ETU` (8 digits).
pub const COD_ETU_MAX: i64 = 99_999_999;

/// The largest `COD_IND` / `COD_IND_OPI` Apogée holds (8 digits).
pub const COD_IND_MAX: i64 = 99_999_999;

/// An academic year `COD_ANU`: 4 ASCII digits (`2026` = 2026/27).
pub fn is_year(value: &str) -> bool {
    value.len() == 4 && value.bytes().all(|b| b.is_ascii_digit())
}

/// A student number (`COD_ETU`): 1 to 8 digits, 1 … 99 999 999; surrounding white space is
/// ignored.
pub fn cod_etu(raw: &str) -> Option<i64> {
    let v = raw.trim();
    (!v.is_empty() && v.len() <= 8 && v.bytes().all(|b| b.is_ascii_digit()))
        .then(|| v.parse::<i64>().ok())
        .flatten()
        .filter(|n| *n >= 1)
}

/// Whether `n` is a possible student number.
pub fn is_cod_etu(n: i64) -> bool {
    (1..=COD_ETU_MAX).contains(&n)
}

/// A date as people and files write it: `yyyy-MM-dd`, `dd/MM/yyyy`, `ddMMyyyy` (Apogée's own
/// format) or an ISO date-time (its date part). Surrounding white space is ignored.
pub fn parse_date(raw: &str) -> Option<NaiveDate> {
    let raw = raw.trim();
    let date = match raw.as_bytes().get(10) {
        Some(b'T') => raw.get(..10)?,
        _ => raw,
    };
    let b = date.as_bytes();
    let digits = |range: std::ops::Range<usize>| b[range].iter().all(u8::is_ascii_digit);
    let format = match b.len() {
        10 if b[4] == b'-' && b[7] == b'-' && digits(0..4) && digits(5..7) && digits(8..10) => {
            "%Y-%m-%d"
        }
        10 if b[2] == b'/' && b[5] == b'/' && digits(0..2) && digits(3..5) && digits(6..10) => {
            "%d/%m/%Y"
        }
        8 if digits(0..8) => "%d%m%Y",
        _ => return None,
    };
    NaiveDate::parse_from_str(date, format).ok()
}

/// A date in Apogée's `ddMMyyyy` format (`dateNaiIndOpi` …).
pub fn apogee_date(date: NaiveDate) -> String {
    date.format("%d%m%Y").to_string()
}

/// A UTC time as RFC 3339 with milliseconds (`2026-11-23T10:00:00.000Z`), how every REST
/// answer writes its timestamps.
pub fn rfc3339(t: chrono::NaiveDateTime) -> String {
    t.and_utc()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn years() {
        assert!(is_year("2026"));
        for bad in ["26", "20266", "2O26", " 2026", ""] {
            assert!(!is_year(bad), "{bad}");
        }
    }

    #[test]
    fn student_numbers() {
        assert_eq!(cod_etu(" 10000001 "), Some(10_000_001));
        assert_eq!(cod_etu("1"), Some(1));
        for bad in ["0", "", "123456789", "12a", "-1"] {
            assert_eq!(cod_etu(bad), None, "{bad}");
        }
        assert!(is_cod_etu(COD_ETU_MAX) && !is_cod_etu(0) && !is_cod_etu(COD_ETU_MAX + 1));
    }

    #[test]
    fn dates() {
        let d = NaiveDate::from_ymd_opt(2005, 3, 14);
        for raw in [
            "2005-03-14",
            "14/03/2005",
            "14032005",
            "2005-03-14T00:00:00Z",
            " 14032005 ",
        ] {
            assert_eq!(parse_date(raw), d, "{raw}");
        }
        for bad in ["31022005", "2005/03/14", "14-03-2005", "", "1403205"] {
            assert_eq!(parse_date(bad), None, "{bad}");
        }
        assert_eq!(d.map(apogee_date).as_deref(), Some("14032005"));
    }
}
