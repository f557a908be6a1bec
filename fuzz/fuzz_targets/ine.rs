//! INE: `ine::check`, `ine::normalize`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| apogee_domain::fuzzing::ine(data));
