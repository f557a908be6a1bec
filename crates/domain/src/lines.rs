//! Physical line numbers for streamed CSV files.
//!
//! The `csv` crate skips blank lines without counting them, but reports (line numbers in batch
//! reports, LP-20) must name the physical line. [`LineCounter`] wraps the input, remembers where
//! the newlines are in the part read ahead, and turns a record's byte offset into its line.

use std::collections::VecDeque;
use std::io::Read;
use std::sync::{Arc, Mutex, PoisonError};

#[derive(Debug, Default)]
struct State {
    /// Newlines read ahead: (offset of the `\n`, offset where its line starts, line is empty).
    newlines: VecDeque<(u64, u64, bool)>,
    passed: u64,
    line_start: u64,
    blank_so_far: bool,
}

/// Reads through `inner`, noting newline offsets.
#[derive(Debug)]
pub struct LineCounter<R> {
    inner: R,
    offset: u64,
    state: Arc<Mutex<State>>,
}

/// Answers "which physical line starts at byte N", for increasing N.
#[derive(Debug, Clone)]
pub struct LineLocator {
    state: Arc<Mutex<State>>,
}

impl<R: Read> LineCounter<R> {
    /// Wraps `inner`; the locator must be asked about non-decreasing offsets.
    pub fn new(inner: R) -> (Self, LineLocator) {
        let state = Arc::new(Mutex::new(State::default()));
        (
            LineCounter {
                inner,
                offset: 0,
                state: Arc::clone(&state),
            },
            LineLocator { state },
        )
    }
}

impl<R: Read> Read for LineCounter<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        for (i, b) in buf[..n].iter().enumerate() {
            let pos = self.offset + i as u64;
            if pos == state.line_start {
                state.blank_so_far = true;
            }
            match b {
                b'\n' => {
                    let entry = (pos, state.line_start, state.blank_so_far);
                    state.newlines.push_back(entry);
                    state.line_start = pos + 1;
                }
                b'\r' => {}
                _ => state.blank_so_far = false,
            }
        }
        self.offset += n as u64;
        Ok(n)
    }
}

impl LineLocator {
    /// The 1-based physical line holding byte `offset`.
    pub fn line_at(&self, offset: u64) -> u64 {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        while state.newlines.front().is_some_and(|nl| nl.0 < offset) {
            state.newlines.pop_front();
            state.passed += 1;
        }
        // The csv reader reports a record after blank lines at the start of those blank lines.
        let mut cursor = offset;
        while let Some(&(pos, start, true)) = state.newlines.front() {
            if start != cursor {
                break;
            }
            state.newlines.pop_front();
            state.passed += 1;
            cursor = pos + 1;
        }
        state.passed + 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_blank_lines() -> Result<(), csv::Error> {
        let data = "h1,h2\na,b\n\n\"multi\nline\",c\n\nd,e\n";
        let (reader, locator) = LineCounter::new(data.as_bytes());
        let mut csv = csv::Reader::from_reader(reader);
        let mut lines = Vec::new();
        for rec in csv.records() {
            let rec = rec?;
            let byte = rec.position().map_or(0, csv::Position::byte);
            lines.push(locator.line_at(byte));
        }
        assert_eq!(lines, vec![2, 4, 7]);
        Ok(())
    }
}
