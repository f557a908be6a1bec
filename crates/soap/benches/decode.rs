//! SOAP decode of eCandidat's captured `mettreajourDonneesOpi_v10` envelope (decode + mapping to
//! `DonneesOpiDTO10`) against its baseline measured in the same run: a bare quick-xml
//! namespace-resolving event scan of the same bytes.
//!
//! `cargo bench -p apogee-soap --bench decode -- [ITERATIONS]` (default 20,000). Under
//! `valgrind --tool=callgrind`, pass a small count: instructions, not seconds, are compared.

use quick_xml::events::Event;
use std::time::Instant;

const ENVELOPE: &str =
    include_str!("../tests/examples/captured/jaxws-mettreajourDonneesOpi_v10-create.xml");

fn decode(iterations: usize) -> f64 {
    let limits = apogee_soap::Limits::default();
    let start = Instant::now();
    for _ in 0..iterations {
        let req = apogee_soap::decode(
            ENVELOPE.as_bytes(),
            Some("text/xml; charset=utf-8"),
            &limits,
        );
        let op = req
            .ok()
            .and_then(|r| apogee_soap::ops::OpiRequest::from_request(&r));
        assert!(matches!(op, Some(Ok(ref o)) if o.donnees.is_some()));
    }
    iterations as f64 / start.elapsed().as_secs_f64()
}

fn scan(iterations: usize) -> f64 {
    let start = Instant::now();
    let mut events = 0usize;
    for _ in 0..iterations {
        let mut reader = quick_xml::reader::NsReader::from_str(ENVELOPE);
        loop {
            match reader.read_resolved_event() {
                Ok((_, Event::Eof)) | Err(_) => break,
                Ok(_) => events += 1,
            }
        }
    }
    assert!(events > 0);
    iterations as f64 / start.elapsed().as_secs_f64()
}

fn main() {
    let iterations = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(20_000);
    // Warm both paths (allocator, caches) before measuring.
    decode(iterations / 10 + 1);
    scan(iterations / 10 + 1);
    let decode = decode(iterations);
    let scan = scan(iterations);
    println!(
        "SOAP decode of the captured OPI v10 envelope: {decode:.0}/s; bare quick-xml event scan: {scan:.0}/s (x{:.2})",
        decode / scan
    );
}
