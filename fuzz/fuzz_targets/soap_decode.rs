//! SOAP 1.1 decoder: `decode` (default and small limits) and `decode_streaming` with a sink.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| apogee_soap::fuzzing::soap_decode(data));
