//! Student files: `lp::etudiant::{read_csv, read_ndjson}` and `validate`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| apogee_domain::fuzzing::students(data));
