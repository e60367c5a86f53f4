//! A folder of secret files that several processes share (`keys.dir`): made with mode 0700,
//! locked with `flock` on a lock file (shared to read, exclusive to change), files written
//! atomically with mode 0600. Nothing here knows what the files hold: the RSA transport key
//! (`keys`) and the ID-token signing key (`signing`) both use it.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::SystemTime;

/// The lock file of a key folder: never deleted, empty.
pub(crate) const LOCK: &str = "keys.lock";

/// What went wrong with a key folder or one of its files.
#[derive(Debug, thiserror::Error)]
pub enum KeyDirError {
    #[error("keys.dir {}: {source}", path.display())]
    CreateDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: cannot lock: {source}", path.display())]
    Lock {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Makes `keys.dir` (mode 0700 when it is made here).
pub(crate) fn create_dir(dir: &Path) -> Result<(), KeyDirError> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(dir).map_err(|source| KeyDirError::CreateDir {
        path: dir.to_path_buf(),
        source,
    })
}

/// The lock on `keys.dir/keys.lock`, released when dropped. Within one process a mutex is taken
/// too: on NFS, flock is emulated with POSIX locks, which do not exclude threads of one process.
pub(crate) struct DirLock {
    // Field order is drop order: the file (and its flock) goes first.
    _file: File,
    _local: MutexGuard<'static, ()>,
}

static LOCAL: Mutex<()> = Mutex::new(());

/// Waits for the lock of `dir`: exclusive to make or replace key files, shared to read them.
pub(crate) fn lock_dir(dir: &Path, exclusive: bool) -> Result<DirLock, KeyDirError> {
    let local = LOCAL.lock().unwrap_or_else(|e| e.into_inner());
    let path = dir.join(LOCK);
    let mut opts = std::fs::OpenOptions::new();
    opts.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let file = opts.open(&path).map_err(|source| KeyDirError::Io {
        path: path.clone(),
        source,
    })?;
    // Called through the trait: std's own `File::lock` is newer than the workspace's MSRV.
    let locked = if exclusive {
        fs4::FileExt::lock(&file)
    } else {
        fs4::FileExt::lock_shared(&file)
    };
    locked.map_err(|source| KeyDirError::Lock { path, source })?;
    Ok(DirLock {
        _file: file,
        _local: local,
    })
}

/// Writes `dir/name` atomically: a temporary file in `dir` (mode 0600), flushed to disk, with
/// the modification time `mtime` if given, then renamed over `name`.
pub(crate) fn write_atomic(
    dir: &Path,
    name: &str,
    text: &str,
    mtime: Option<SystemTime>,
) -> Result<(), KeyDirError> {
    let path = dir.join(name);
    let tmp = dir.join(format!(
        ".{name}.{}.{:016x}.tmp",
        std::process::id(),
        rand::random::<u64>()
    ));
    let written = write_then_rename(&tmp, &path, text, mtime);
    if let Err(source) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(KeyDirError::Io { path, source });
    }
    // Flush the folder too, so that the rename survives a power cut.
    #[cfg(unix)]
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

fn write_then_rename(
    tmp: &Path,
    path: &Path,
    text: &str,
    mtime: Option<SystemTime>,
) -> std::io::Result<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(tmp)?;
    f.write_all(text.as_bytes())?;
    if let Some(t) = mtime {
        f.set_modified(t)?;
    }
    f.sync_all()?;
    drop(f);
    std::fs::rename(tmp, path)
}
