//! Replays the committed fuzz corpora (`fuzz/corpus/<target>/`) and the reproducers of fixed
//! fuzzer findings (`fuzz/regressions/<target>/`) through the same harnesses the cargo-fuzz
//! targets run (`apogee_soap::fuzzing`): decoding returns a request or a `SoapError`, never
//! panics, and its results stay sane. The domain-only targets are replayed by
//! `crates/domain/tests/fuzz_corpus.rs`.

include!("../../../fuzz/replay.rs");

#[test]
fn soap_decode() -> TestResult {
    replay("soap_decode", apogee_soap::fuzzing::soap_decode)
}

#[test]
fn mtom() -> TestResult {
    replay("mtom", apogee_soap::fuzzing::mtom)
}

#[test]
fn opi_dto() -> TestResult {
    replay("opi_dto", apogee_soap::fuzzing::opi_dto)
}

#[test]
fn lp_batch() -> TestResult {
    replay("lp_batch", apogee_soap::fuzzing::lp_batch)
}

/// Every example the codec's own tests use decodes without a panic (a `SoapError` is fine).
#[test]
fn examples_decode_or_fail_cleanly() -> TestResult {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/examples");
    for entry in std::fs::read_dir(&dir)? {
        let path = entry?.path();
        if path.is_file() {
            let data = std::fs::read(&path)?;
            let result = apogee_soap::fuzzing::soap_message(&data, None);
            if let Err(e) = result {
                assert!(!e.message.is_empty(), "{}", path.display());
            }
        }
    }
    Ok(())
}
