//! The keys met in a batch file (`LP_DOUBLON_FICHIER`): each key's 64-bit hash → the first line
//! it was met on, in a memory that does not grow with the file.
//!
//! Up to `limit` keys sit in a hash map. Past it, they are spilled to an unnamed temporary file as
//! one run sorted by hash (16 bytes per key), which keeps in memory a blocked Bloom filter
//! (10 bits per key, about 1 % false positives) and the first hash of each 4 KiB block
//! (0.03 bit per key). Runs are merged [`FANOUT`] at a time (size tiers), so a lookup probes
//! O(log n) filters and reads one block per filter hit, with `pread` (the file stays shared).
//! At 1,000,000 keys and the batch's limit the index holds ≈ 6 MB; at 10,000,000, ≈ 17 MB, where
//! a map of every key held 36 and 360 MB.

use std::collections::{BinaryHeap, HashMap};
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::FileExt;

/// Keys per block of a run (4 KiB).
const BLOCK: usize = 256;
/// Bytes per key in a run: the hash, then the line (little-endian).
const ENTRY: usize = 16;
/// Runs of one tier merged into one of the next.
const FANOUT: usize = 4;
/// Bloom filter bits per key.
const BITS_PER_KEY: u64 = 10;

/// Hash → first line, bounded in memory (see the module).
#[derive(Debug)]
pub struct DupIndex {
    limit: usize,
    mem: HashMap<u64, u64>,
    runs: Vec<Run>,
}

impl DupIndex {
    /// An empty index that keeps at most `limit` keys in its map (at least one).
    pub fn new(limit: usize) -> Self {
        Self {
            limit: limit.max(1),
            mem: HashMap::new(),
            runs: Vec::new(),
        }
    }

    /// The first line of `hash`, if it was recorded.
    pub fn get(&self, hash: u64) -> io::Result<Option<u64>> {
        if let Some(line) = self.mem.get(&hash) {
            return Ok(Some(*line));
        }
        for run in &self.runs {
            if let Some(line) = run.get(hash)? {
                return Ok(Some(line));
            }
        }
        Ok(None)
    }

    /// Records `hash` at `line` unless it was recorded before (the first line stays).
    pub fn record(&mut self, hash: u64, line: u64) -> io::Result<()> {
        if self.get(hash)?.is_some() {
            return Ok(());
        }
        self.add(hash, line)
    }

    /// Adds keys known to be absent (those a chunk met for the first time, checked by
    /// [`DupIndex::get`]).
    pub fn extend_new(&mut self, keys: impl IntoIterator<Item = (u64, u64)>) -> io::Result<()> {
        for (hash, line) in keys {
            self.add(hash, line)?;
        }
        Ok(())
    }

    /// The number of keys recorded (for the tests).
    #[cfg(test)]
    fn len(&self) -> u64 {
        self.mem.len() as u64 + self.runs.iter().map(|r| r.len).sum::<u64>()
    }

    /// The number of spilled runs (for the tests).
    #[cfg(test)]
    fn runs(&self) -> usize {
        self.runs.len()
    }

    fn add(&mut self, hash: u64, line: u64) -> io::Result<()> {
        self.mem.entry(hash).or_insert(line);
        if self.mem.len() >= self.limit {
            self.spill()?;
        }
        Ok(())
    }

    /// Writes the map as a new run (the map keeps its capacity), then merges full tiers.
    fn spill(&mut self) -> io::Result<()> {
        let mut keys: Vec<(u64, u64)> = self.mem.drain().collect();
        keys.sort_unstable();
        let mut out = RunWriter::new(keys.len() as u64)?;
        for (hash, line) in keys {
            out.push(hash, line)?;
        }
        self.runs.push(out.finish(0)?);
        while let Some(level) = self.full_tier() {
            let merged = self.runs.split_off(self.runs.len() - FANOUT);
            self.runs.push(merge(merged, level + 1)?);
        }
        Ok(())
    }

    /// The level of the last [`FANOUT`] runs when they are all of one level.
    fn full_tier(&self) -> Option<u32> {
        let tail = self.runs.get(self.runs.len().checked_sub(FANOUT)?..)?;
        let level = tail.first()?.level;
        tail.iter().all(|r| r.level == level).then_some(level)
    }
}

/// One sorted run on disk.
#[derive(Debug)]
struct Run {
    file: File,
    len: u64,
    level: u32,
    /// The first hash of each block.
    fences: Vec<u64>,
    bloom: Bloom,
}

impl Run {
    fn get(&self, hash: u64) -> io::Result<Option<u64>> {
        if !self.bloom.may_contain(hash) {
            return Ok(None);
        }
        let Some(block) = self.fences.partition_point(|f| *f <= hash).checked_sub(1) else {
            return Ok(None);
        };
        let start = (block * BLOCK) as u64;
        let n = (self.len - start).min(BLOCK as u64) as usize;
        let mut buf = [0u8; BLOCK * ENTRY];
        let buf = &mut buf[..n * ENTRY];
        self.file.read_exact_at(buf, start * ENTRY as u64)?;
        let entry = |i: usize| decode(&buf[i * ENTRY..(i + 1) * ENTRY]);
        let (mut lo, mut hi) = (0, n);
        while lo < hi {
            let mid = (lo + hi) / 2;
            let (h, line) = entry(mid);
            match h.cmp(&hash) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Ok(Some(line)),
            }
        }
        Ok(None)
    }
}

fn decode(b: &[u8]) -> (u64, u64) {
    let mut h = [0u8; 8];
    let mut l = [0u8; 8];
    h.copy_from_slice(&b[..8]);
    l.copy_from_slice(&b[8..ENTRY]);
    (u64::from_le_bytes(h), u64::from_le_bytes(l))
}

/// Writes a run in hash order, building its fences and filter.
struct RunWriter {
    out: BufWriter<File>,
    len: u64,
    last: Option<u64>,
    fences: Vec<u64>,
    bloom: Bloom,
}

impl RunWriter {
    fn new(keys: u64) -> io::Result<Self> {
        Ok(Self {
            out: BufWriter::with_capacity(64 * 1024, tempfile::tempfile()?),
            len: 0,
            last: None,
            fences: Vec::with_capacity(keys.div_ceil(BLOCK as u64) as usize),
            bloom: Bloom::for_keys(keys),
        })
    }

    /// Appends a key (hashes in increasing order; an equal hash after the first is dropped).
    fn push(&mut self, hash: u64, line: u64) -> io::Result<()> {
        if self.last.is_some_and(|last| hash <= last) {
            return Ok(());
        }
        if self.len.is_multiple_of(BLOCK as u64) {
            self.fences.push(hash);
        }
        self.bloom.insert(hash);
        self.out.write_all(&hash.to_le_bytes())?;
        self.out.write_all(&line.to_le_bytes())?;
        self.len += 1;
        self.last = Some(hash);
        Ok(())
    }

    fn finish(self, level: u32) -> io::Result<Run> {
        let file = self
            .out
            .into_inner()
            .map_err(io::IntoInnerError::into_error)?;
        Ok(Run {
            file,
            len: self.len,
            level,
            fences: self.fences,
            bloom: self.bloom,
        })
    }
}

/// Merges runs into one of `level` (their keys are disjoint: the index records a key once; on
/// an equal hash the smallest line would stay).
fn merge(runs: Vec<Run>, level: u32) -> io::Result<Run> {
    let total = runs.iter().map(|r| r.len).sum();
    let mut readers = Vec::with_capacity(runs.len());
    for run in &runs {
        let mut f = run.file.try_clone()?;
        f.seek(SeekFrom::Start(0))?;
        readers.push((BufReader::with_capacity(64 * 1024, f), run.len));
    }
    let mut next = |i: usize| -> io::Result<Option<(u64, u64)>> {
        let (reader, left) = &mut readers[i];
        if *left == 0 {
            return Ok(None);
        }
        *left -= 1;
        let mut b = [0u8; ENTRY];
        reader.read_exact(&mut b)?;
        Ok(Some(decode(&b)))
    };
    let mut heap = BinaryHeap::new();
    for i in 0..runs.len() {
        if let Some((h, line)) = next(i)? {
            heap.push(std::cmp::Reverse((h, line, i)));
        }
    }
    let mut out = RunWriter::new(total)?;
    while let Some(std::cmp::Reverse((h, line, i))) = heap.pop() {
        out.push(h, line)?;
        if let Some((h, line)) = next(i)? {
            heap.push(std::cmp::Reverse((h, line, i)));
        }
    }
    out.finish(level)
}

/// A blocked Bloom filter over hashes: each key sets 7 bits in one 512-bit block (one cache
/// line per probe).
#[derive(Debug)]
struct Bloom {
    blocks: Vec<[u64; 8]>,
}

impl Bloom {
    fn for_keys(keys: u64) -> Self {
        let blocks = (keys * BITS_PER_KEY).div_ceil(512).max(1) as usize;
        Self {
            blocks: vec![[0; 8]; blocks],
        }
    }

    /// The block of `hash` and the 7 bit positions in it (9 bits each, from a remix of the hash).
    fn probe(&self, hash: u64) -> (usize, impl Iterator<Item = usize>) {
        let block = ((u128::from(hash) * self.blocks.len() as u128) >> 64) as usize;
        let mut m = (hash ^ (hash >> 29)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        m ^= m >> 32;
        (block, (0..7).map(move |k| ((m >> (9 * k)) & 511) as usize))
    }

    fn insert(&mut self, hash: u64) {
        let (b, bits) = self.probe(hash);
        let mut set = [0u64; 8];
        for bit in bits {
            set[bit / 64] |= 1 << (bit % 64);
        }
        if let Some(block) = self.blocks.get_mut(b) {
            for (w, s) in block.iter_mut().zip(set) {
                *w |= s;
            }
        }
    }

    fn may_contain(&self, hash: u64) -> bool {
        let (b, mut bits) = self.probe(hash);
        self.blocks
            .get(b)
            .is_some_and(|block| bits.all(|bit| block[bit / 64] & (1 << (bit % 64)) != 0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Distinct pseudo-random hashes (a 64-bit mixer over a counter).
    fn hash(i: u64) -> u64 {
        let mut z = i.wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    #[test]
    fn spilled_and_merged_keys_keep_their_first_line() -> io::Result<()> {
        let mut index = DupIndex::new(100);
        let mut model = HashMap::new();
        // 5,000 keys through a 100-key map: spills, and merges over two tiers.
        for i in 0..5_000 {
            let h = hash(i % 4_000);
            index.record(h, i + 1)?;
            model.entry(h).or_insert(i + 1);
        }
        assert!(
            index.runs() > 1 && index.runs() < 40,
            "{} runs",
            index.runs()
        );
        assert!(index.runs.iter().any(|r| r.level >= 2), "no tier-2 merge");
        assert_eq!(index.len(), 4_000);
        for (h, line) in &model {
            assert_eq!(index.get(*h)?, Some(*line), "hash {h:x}");
        }
        for i in 4_000..6_000 {
            assert_eq!(index.get(hash(i))?, None);
        }
        Ok(())
    }

    #[test]
    fn a_key_already_recorded_keeps_the_line_it_was_first_met_on() -> io::Result<()> {
        let mut index = DupIndex::new(2);
        index.record(7, 1)?;
        index.record(9, 2)?; // the map spills: 7 and 9 are on disk
        assert_eq!(index.runs(), 1);
        index.record(7, 3)?;
        index.record(9, 4)?;
        assert_eq!((index.get(7)?, index.get(9)?), (Some(1), Some(2)));
        assert_eq!(index.len(), 2);
        Ok(())
    }

    #[test]
    fn the_bloom_filter_has_no_false_negative_and_few_false_positives() {
        let mut bloom = Bloom::for_keys(10_000);
        for i in 0..10_000 {
            bloom.insert(hash(i));
        }
        assert!((0..10_000).all(|i| bloom.may_contain(hash(i))));
        let false_positives = (10_000..110_000)
            .filter(|i| bloom.may_contain(hash(*i)))
            .count();
        // 10 bits per key, 7 probes in one block: about 1 %.
        assert!(false_positives < 2_000, "{false_positives} of 100,000");
    }

    #[test]
    fn the_memory_held_does_not_grow_with_the_keys_spilled() -> io::Result<()> {
        let mut index = DupIndex::new(1_000);
        for i in 0..200_000 {
            index.record(hash(i), i)?;
        }
        let held: usize = index
            .runs
            .iter()
            .map(|r| r.fences.len() * 8 + r.bloom.blocks.len() * 64)
            .sum();
        // 10 bits + 0.03 bit per spilled key (here 250 KB), never 16 bytes per key (3.2 MB).
        assert!(held < 200_000 * 2, "{held} bytes for 200,000 keys");
        assert!(index.mem.len() < 1_000);
        Ok(())
    }
}
