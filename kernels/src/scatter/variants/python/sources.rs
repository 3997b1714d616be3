//! The Python rungs' source files, built into the binary and unpacked once into a cache folder.
//!
//! The files live in `kernels/python/` where a user can read and run them;
//! `include_str!` carries them inside the executable, so `cargo install`
//! and a copied binary still have them. [`directory`] writes them into a
//! folder named by a hash of their contents (under `$XDG_CACHE_HOME`, else
//! `~/.cache`, else the temporary folder), atomically: a half-written folder
//! is never used, two processes unpacking at once both end up with the same
//! complete one, and a new build's files never mix with an old build's.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Every file of `kernels/python/`, by name.
pub const FILES: &[(&str, &str)] = &[
    (
        "compiled.py",
        include_str!("../../../../python/compiled.py"),
    ),
    ("hankel.py", include_str!("../../../../python/hankel.py")),
    ("pool.py", include_str!("../../../../python/pool.py")),
    (
        "protocol.py",
        include_str!("../../../../python/protocol.py"),
    ),
    ("pure.py", include_str!("../../../../python/pure.py")),
    ("ranks.py", include_str!("../../../../python/ranks.py")),
    ("scene.py", include_str!("../../../../python/scene.py")),
    ("serve.py", include_str!("../../../../python/serve.py")),
    (
        "vectorised.py",
        include_str!("../../../../python/vectorised.py"),
    ),
];

/// The folder holding [`FILES`], unpacked on first use in this process.
pub fn directory() -> Result<&'static Path, String> {
    static DIRECTORY: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    DIRECTORY
        .get_or_init(|| unpack(&cache_root()))
        .as_ref()
        .map(PathBuf::as_path)
        .map_err(Clone::clone)
}

fn cache_root() -> PathBuf {
    let from_env = |name| {
        std::env::var_os(name)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    from_env("XDG_CACHE_HOME")
        .or_else(|| from_env("HOME").map(|home| home.join(".cache")))
        .unwrap_or_else(std::env::temp_dir)
        .join("hpc-advisor")
}

/// FNV-1a over every file's name and contents: the folder's name.
fn content_hash() -> u64 {
    FILES
        .iter()
        .flat_map(|(name, text)| name.bytes().chain([0]).chain(text.bytes()).chain([0]))
        .fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
            (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
        })
}

/// Writes [`FILES`] into `root/python-HASH` unless a complete copy is there already.
fn unpack(root: &Path) -> Result<PathBuf, String> {
    let target = root.join(format!("python-{:016x}", content_hash()));
    if target.is_dir() {
        return Ok(target);
    }
    let failed = |what: &str, path: &Path, e: std::io::Error| {
        format!("cannot {what} {} for the Python rungs: {e}", path.display())
    };
    std::fs::create_dir_all(root).map_err(|e| failed("create", root, e))?;
    let staging = root.join(format!(
        ".python-{:016x}.partial-{}",
        content_hash(),
        std::process::id()
    ));
    std::fs::create_dir_all(&staging).map_err(|e| failed("create", &staging, e))?;
    for (name, text) in FILES {
        let path = staging.join(name);
        std::fs::write(&path, text).map_err(|e| failed("write", &path, e))?;
    }
    match std::fs::rename(&staging, &target) {
        Ok(()) => Ok(target),
        // Another process unpacked the same files first: theirs is as good as ours.
        Err(_) if target.is_dir() => {
            let _ = std::fs::remove_dir_all(&staging);
            Ok(target)
        }
        Err(e) => {
            let _ = std::fs::remove_dir_all(&staging);
            Err(failed("move into place", &target, e))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_python_file_is_built_in() {
        let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("python");
        let mut on_disk: Vec<String> = std::fs::read_dir(&folder)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|name| name.ends_with(".py"))
            .collect();
        on_disk.sort();
        let built_in: Vec<&str> = FILES.iter().map(|(name, _)| *name).collect();
        assert_eq!(on_disk, built_in, "kernels/python/*.py and FILES differ");
    }

    #[test]
    fn unpacking_twice_gives_one_complete_folder() {
        let root = std::env::temp_dir().join(format!("hpc-python-unpack-{}", std::process::id()));
        let first = unpack(&root).unwrap();
        let second = unpack(&root).unwrap();
        assert_eq!(first, second);
        for (name, text) in FILES {
            assert_eq!(std::fs::read_to_string(first.join(name)).unwrap(), *text);
        }
        let leftovers = std::fs::read_dir(&root).unwrap().count();
        std::fs::remove_dir_all(&root).unwrap();
        assert_eq!(leftovers, 1, "only the unpacked folder remains");
    }
}
