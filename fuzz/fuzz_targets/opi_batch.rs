//! OPI uploads: NDJSON, Pégase and Parcoursup through `opi::batch::read_records`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| apogee_domain::fuzzing::opi_upload(data));
