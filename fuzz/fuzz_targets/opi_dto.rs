//! OPI payloads, SOAP and JSON: `OpiRequest::from_request`, `opi::validate`, `upsert::{merge, plan_voeux}`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| apogee_soap::fuzzing::opi_dto(data));
