//! CVEC codes and register files, `formats::parse_date`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| apogee_domain::fuzzing::cvec(data));
