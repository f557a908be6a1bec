//! Laissez-passer files (CSV, NDJSON, JSON array) and SOAP requests, then `lp::validate`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| apogee_soap::fuzzing::lp_batch(data));
