//! Replays the committed fuzz corpora (`fuzz/corpus/<target>/`) and the reproducers of fixed
//! fuzzer findings (`fuzz/regressions/<target>/`) through the same harnesses the cargo-fuzz
//! targets run (`apogee_domain::fuzzing`): no panic, readers terminate, results stay sane.
//! The SOAP-side targets are replayed by `crates/soap/tests/fuzz_corpus.rs`.

include!("../../../fuzz/replay.rs");

#[test]
fn opi_dto_json() -> TestResult {
    replay("opi_dto", apogee_domain::fuzzing::opi_json)
}

#[test]
fn lp_batch_files() -> TestResult {
    replay("lp_batch", apogee_domain::fuzzing::lp_file)
}

#[test]
fn opi_batch() -> TestResult {
    replay("opi_batch", apogee_domain::fuzzing::opi_upload)
}

#[test]
fn students_batch() -> TestResult {
    replay("students_batch", apogee_domain::fuzzing::students)
}

#[test]
fn ine() -> TestResult {
    replay("ine", apogee_domain::fuzzing::ine)
}

#[test]
fn cvec() -> TestResult {
    replay("cvec", apogee_domain::fuzzing::cvec)
}
