//! MTOM: `mtom::parse`, `xop:Include` resolution, part decoding and `Base64Decoder`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| apogee_soap::fuzzing::mtom(data));
