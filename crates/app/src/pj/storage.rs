//! Content-addressed attachment files (PJ-7).
//!
//! Layout under the storage directory (default `<data_dir>/pj`, mode 0700):
//! `tmp/` holds files being received; `<sha256[0..2]>/<sha256>` holds the stored files. A file is
//! received into `tmp/` ([`Staging`]: hashed, sized and size-limited as it is written), fsynced,
//! then renamed to its key and the directory fsynced ([`Storage::publish`], called inside the
//! database transaction that writes its row). Identical contents share one file.

use apogee_domain::pj::SNIFF_BYTES;
use sha2::{Digest, Sha256};
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

/// Name of the directory of files being received.
const TMP: &str = "tmp";
/// Prefix of files being received.
const TMP_PREFIX: &str = ".upload-";

/// The storage directory.
#[derive(Debug, Clone)]
pub struct Storage {
    root: PathBuf,
}

/// Whether `key` is a storage key (`<2 hex>/<64 hex>`, the first two repeated): anything else is
/// never turned into a path.
pub fn valid_key(key: &str) -> bool {
    let hex = |s: &str| s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    match key.split_once('/') {
        Some((dir, name)) => {
            dir.len() == 2 && name.len() == 64 && hex(name) && name.starts_with(dir)
        }
        None => false,
    }
}

/// The storage key of a SHA-256 (hex).
pub fn key_of(sha256: &str) -> String {
    format!("{}/{sha256}", sha256.get(..2).unwrap_or("00"))
}

fn create_private_dir(path: &Path) -> io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(path)
}

/// Makes a directory entry change (create, rename) durable.
fn sync_dir(path: &Path) -> io::Result<()> {
    File::open(path)?.sync_all()
}

impl Storage {
    /// The storage rooted at `root` (nothing is created yet).
    pub fn new(root: PathBuf) -> Self {
        Storage { root }
    }

    /// The root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Directory of files being received.
    pub fn tmp_dir(&self) -> PathBuf {
        self.root.join(TMP)
    }

    /// Creates the directories (private).
    pub fn init(&self) -> io::Result<()> {
        create_private_dir(&self.tmp_dir())
    }

    /// The path of a stored file, if `key` is a valid key.
    pub fn path_of(&self, key: &str) -> Option<PathBuf> {
        valid_key(key).then(|| self.root.join(key))
    }

    /// A new file being received, refusing more than `max_bytes`.
    pub fn stage(&self, max_bytes: u64) -> io::Result<Staging> {
        let tmp = self.tmp_dir();
        if !tmp.is_dir() {
            create_private_dir(&tmp)?;
        }
        let temp = tempfile::Builder::new()
            .prefix(TMP_PREFIX)
            .tempfile_in(&tmp)?;
        Ok(Staging {
            out: BufWriter::with_capacity(128 * 1024, temp),
            hasher: Sha256::new(),
            size: 0,
            head: Vec::with_capacity(SNIFF_BYTES),
            max_bytes,
            exceeded: false,
        })
    }

    /// Moves a staged file to its key (already durable: fsynced by [`Staging::finish`]) and makes
    /// the rename durable. A file already stored under that key with the same size is kept (same
    /// content, by construction) and the staged copy dropped.
    pub fn publish(&self, staged: Staged) -> io::Result<()> {
        let key = staged.key();
        let target = self
            .path_of(&key)
            .ok_or_else(|| io::Error::other("clé de stockage invalide"))?;
        let dir = target
            .parent()
            .ok_or_else(|| io::Error::other("clé de stockage invalide"))?
            .to_path_buf();
        if !dir.is_dir() {
            create_private_dir(&dir)?;
            sync_dir(&self.root)?;
        }
        if std::fs::metadata(&target).is_ok_and(|m| m.len() == staged.size) {
            return Ok(());
        }
        staged.temp.persist(&target).map_err(|e| e.error)?;
        sync_dir(&dir)
    }

    /// Deletes a stored file (absent already: fine).
    pub fn remove(&self, key: &str) -> io::Result<()> {
        let Some(path) = self.path_of(key) else {
            return Ok(());
        };
        match std::fs::remove_file(path) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }

    /// Every stored file's key (files with other names are not ours and are left alone).
    pub fn keys(&self) -> io::Result<Vec<String>> {
        let mut keys = Vec::new();
        let entries = match std::fs::read_dir(&self.root) {
            Ok(e) => e,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(keys),
            Err(e) => return Err(e),
        };
        for dir in entries {
            let dir = dir?;
            let Some(prefix) = dir.file_name().to_str().map(str::to_owned) else {
                continue;
            };
            if prefix.len() != 2 || !dir.file_type()?.is_dir() {
                continue;
            }
            for file in std::fs::read_dir(dir.path())? {
                let file = file?;
                if let Some(name) = file.file_name().to_str() {
                    let key = format!("{prefix}/{name}");
                    if valid_key(&key) {
                        keys.push(key);
                    }
                }
            }
        }
        Ok(keys)
    }

    /// Deletes files left in `tmp/` for longer than `min_age` (interrupted uploads, crashes);
    /// returns how many.
    pub fn remove_stale_temps(&self, min_age: std::time::Duration) -> io::Result<usize> {
        let entries = match std::fs::read_dir(self.tmp_dir()) {
            Ok(e) => e,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(0),
            Err(e) => return Err(e),
        };
        let mut removed = 0;
        for entry in entries {
            let entry = entry?;
            let is_ours = entry
                .file_name()
                .to_str()
                .is_some_and(|n| n.starts_with(TMP_PREFIX));
            let age = entry.metadata()?.modified()?.elapsed().unwrap_or_default();
            if is_ours && entry.file_type()?.is_file() && age >= min_age {
                match std::fs::remove_file(entry.path()) {
                    Ok(()) => removed += 1,
                    Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(removed)
    }
}

/// A file being received: written to `tmp/`, hashed, sized, its first bytes kept for sniffing.
/// Dropped without [`Staging::finish`], the temporary file is deleted.
pub struct Staging {
    out: BufWriter<tempfile::NamedTempFile>,
    hasher: Sha256,
    size: u64,
    head: Vec<u8>,
    max_bytes: u64,
    exceeded: bool,
}

impl Staging {
    /// Whether a write was refused because the file went over the size limit.
    pub fn exceeded(&self) -> bool {
        self.exceeded
    }

    /// Bytes received so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Flushes and fsyncs the file.
    pub fn finish(self) -> io::Result<Staged> {
        let temp = self
            .out
            .into_inner()
            .map_err(io::IntoInnerError::into_error)?;
        temp.as_file().sync_all()?;
        Ok(Staged {
            temp,
            size: self.size,
            sha256: hex::encode(self.hasher.finalize()),
            head: self.head,
        })
    }
}

impl Write for Staging {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.size + buf.len() as u64 > self.max_bytes {
            self.exceeded = true;
            return Err(io::Error::new(
                io::ErrorKind::FileTooLarge,
                "taille maximale dépassée",
            ));
        }
        let n = self.out.write(buf)?;
        let taken = &buf[..n];
        self.hasher.update(taken);
        if self.head.len() < SNIFF_BYTES {
            let more = (SNIFF_BYTES - self.head.len()).min(taken.len());
            self.head.extend_from_slice(&taken[..more]);
        }
        self.size += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// A received file, durable in `tmp/`, not yet published.
pub struct Staged {
    temp: tempfile::NamedTempFile,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256, lower-case hex.
    pub sha256: String,
    /// The first bytes (sniffing).
    pub head: Vec<u8>,
}

impl Staged {
    /// Its storage key.
    pub fn key(&self) -> String {
        key_of(&self.sha256)
    }
}

impl std::fmt::Debug for Staged {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Staged")
            .field("size", &self.size)
            .field("sha256", &self.sha256)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_checked_before_becoming_paths() {
        let sha = "ab".repeat(32);
        assert!(valid_key(&key_of(&sha)));
        assert!(!valid_key(&format!("../{sha}")));
        assert!(!valid_key(&format!("cd/{sha}")));
        assert!(!valid_key(&format!("ab/{}", "AB".repeat(32))));
        assert!(!valid_key("ab/../../etc/passwd"));
    }

    #[test]
    fn stage_publish_and_limits() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let storage = Storage::new(dir.path().join("pj"));
        storage.init()?;
        let mut staging = storage.stage(10)?;
        staging.write_all(b"%PDF-1.4\n")?;
        let staged = staging.finish()?;
        assert_eq!(staged.size, 9);
        assert_eq!(staged.head, b"%PDF-1.4");
        let key = staged.key();
        storage.publish(staged)?;
        assert_eq!(std::fs::read(storage.root().join(&key))?, b"%PDF-1.4\n");
        assert_eq!(storage.keys()?, vec![key.clone()]);
        // The same content again: kept, the staged copy dropped.
        let mut staging = storage.stage(10)?;
        staging.write_all(b"%PDF-1.4\n")?;
        storage.publish(staging.finish()?)?;
        assert_eq!(std::fs::read_dir(storage.tmp_dir())?.count(), 0);
        // Over the limit: refused, and the temporary file goes away with the staging.
        let mut staging = storage.stage(4)?;
        assert!(staging.write_all(b"12345").is_err());
        assert!(staging.exceeded());
        drop(staging);
        assert_eq!(std::fs::read_dir(storage.tmp_dir())?.count(), 0);
        storage.remove(&key)?;
        storage.remove(&key)?;
        assert!(storage.keys()?.is_empty());
        Ok(())
    }
}
