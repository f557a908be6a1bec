// Shared by `crates/soap/tests/fuzz_corpus.rs` and `crates/domain/tests/fuzz_corpus.rs`
// (`include!`d, so each test crate compiles its own copy of one source): the inputs of a fuzz
// target and their replay through its harness.

use std::path::{Path, PathBuf};

type TestResult<T = ()> = Result<T, Box<dyn std::error::Error>>;

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz")
}

/// Every input of `target` (corpus and regressions); fails when the corpus is missing or empty,
/// so that a moved corpus cannot turn the replay green.
fn inputs(target: &str) -> TestResult<Vec<(PathBuf, Vec<u8>)>> {
    let mut out = Vec::new();
    let mut corpus = 0;
    for kind in ["corpus", "regressions"] {
        let dir = fuzz_dir().join(kind).join(target);
        if !dir.is_dir() {
            continue;
        }
        let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)?
            .map(|e| e.map(|e| e.path()))
            .collect::<Result<_, _>>()?;
        paths.sort();
        for path in paths {
            if path.is_file() {
                if kind == "corpus" {
                    corpus += 1;
                }
                let data = std::fs::read(&path)?;
                out.push((path, data));
            }
        }
    }
    if corpus == 0 {
        return Err(format!("no corpus for {target} under {}", fuzz_dir().display()).into());
    }
    Ok(out)
}

/// Runs `harness` on every input of `target`, naming the input that panicked.
fn replay(target: &str, harness: fn(&[u8])) -> TestResult {
    let mut failures = Vec::new();
    let all = inputs(target)?;
    for (path, data) in &all {
        if std::panic::catch_unwind(|| harness(data)).is_err() {
            failures.push(path.display().to_string());
        }
    }
    assert!(
        failures.is_empty(),
        "{target}: {} of {} inputs panicked:\n{}",
        failures.len(),
        all.len(),
        failures.join("\n")
    );
    Ok(())
}
