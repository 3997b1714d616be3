//! Writing results safely: files atomically, run folders staged and never over an earlier run.
//!
//! A run folder is filled under a hidden staging name next to its final
//! place and renamed into place only when complete, so an interrupted or
//! failed run leaves nothing half-written behind.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::error::user_error;

/// A run folder being written; becomes visible under its final name on [`StagedDir::commit`].
#[derive(Debug)]
pub struct StagedDir {
    staging: PathBuf,
    parent: PathBuf,
    name: String,
    committed: bool,
}

impl StagedDir {
    /// Starts a run folder called `name` (or `name-2`, `name-3`, ... if taken) inside `parent`.
    pub fn create(parent: &Path, name: &str) -> anyhow::Result<StagedDir> {
        fs::create_dir_all(parent).map_err(|e| unwritable(parent, e))?;
        for swept in sweep_stale_partials(parent, &host_name()) {
            eprintln!(
                "removed {}: an unfinished run folder of a run that was killed (its process is gone)",
                swept.display()
            );
        }
        let staging = parent.join(format!(".{name}.partial-{}", std::process::id()));
        fs::create_dir(&staging).map_err(|e| unwritable(parent, e))?;
        crate::interrupt::register_partial(staging.clone());
        Ok(StagedDir {
            staging,
            parent: parent.to_path_buf(),
            name: name.to_string(),
            committed: false,
        })
    }

    /// The folder to write into while the run is in progress.
    pub fn path(&self) -> &Path {
        &self.staging
    }

    /// Writes one file of the run folder.
    pub fn write(&self, relative: &str, contents: &[u8]) -> anyhow::Result<PathBuf> {
        let path = self.staging.join(relative);
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        }
        fs::write(&path, contents).with_context(|| format!("cannot write {}", path.display()))?;
        Ok(path)
    }

    /// Moves the finished folder into place under the first free name and returns it.
    pub fn commit(mut self) -> anyhow::Result<PathBuf> {
        let target = move_into_first_free(&self.staging, &self.parent, &self.name)?;
        self.committed = true;
        crate::interrupt::forget_partial(&self.staging);
        Ok(target)
    }
}

/// Renames `staging` to `parent/name`, or `name-2`, `name-3`, ... when taken, never over
/// an existing folder, even when another process commits the same name at the same moment.
fn move_into_first_free(staging: &Path, parent: &Path, name: &str) -> anyhow::Result<PathBuf> {
    for attempt in 1.. {
        let target = if attempt == 1 {
            parent.join(name)
        } else {
            parent.join(format!("{name}-{attempt}"))
        };
        match rename_no_replace(staging, &target) {
            Ok(()) => return Ok(target),
            // Taken (by an earlier run, or by one that won the race just now).
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::AlreadyExists | io::ErrorKind::DirectoryNotEmpty
                ) =>
            {
                continue;
            }
            Err(e) => {
                return Err(e)
                    .with_context(|| format!("cannot move the run into {}", target.display()));
            }
        }
    }
    unreachable!("the loop above only ends by returning")
}

/// `rename(from, to)` that fails with `AlreadyExists` instead of replacing `to`.
///
/// On Linux `renameat2(RENAME_NOREPLACE)` makes the check and the rename one step;
/// where the file system or the platform lacks it, an existence check comes first
/// (plain rename(2) would replace an existing empty directory).
fn rename_no_replace(from: &Path, to: &Path) -> io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        use std::ffi::CString;
        use std::os::unix::ffi::OsStrExt;
        let c_path = |path: &Path| {
            CString::new(path.as_os_str().as_bytes())
                .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "a path with a NUL byte"))
        };
        let (from_c, to_c) = (c_path(from)?, c_path(to)?);
        // SAFETY: both are valid NUL-terminated paths, relative to the working directory.
        let status = unsafe {
            libc::renameat2(
                libc::AT_FDCWD,
                from_c.as_ptr(),
                libc::AT_FDCWD,
                to_c.as_ptr(),
                libc::RENAME_NOREPLACE,
            )
        };
        if status == 0 {
            return Ok(());
        }
        let error = io::Error::last_os_error();
        if !matches!(error.raw_os_error(), Some(libc::EINVAL | libc::ENOSYS)) {
            return Err(error);
        }
    }
    if to.exists() {
        return Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            "the folder exists",
        ));
    }
    fs::rename(from, to)
}

impl Drop for StagedDir {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_dir_all(&self.staging);
            crate::interrupt::forget_partial(&self.staging);
        }
    }
}

/// Removes the staging folders in `parent` that runs on host `host` left when they were killed
/// (SIGKILL, a node's crash): `.HOST-TIME.partial-PID` whose process no longer exists. A
/// folder of another host (a shared file system) or of a live process is left alone.
fn sweep_stale_partials(parent: &Path, host: &str) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(parent) else {
        return Vec::new();
    };
    let prefix = format!(".{host}-");
    let mut swept = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let Some(rest) = name.strip_prefix(&prefix) else {
            continue;
        };
        let Some(pid) = rest
            .rsplit_once(".partial-")
            .and_then(|(_, pid)| pid.parse::<libc::pid_t>().ok())
        else {
            continue;
        };
        if process_is_gone(pid) && fs::remove_dir_all(entry.path()).is_ok() {
            swept.push(entry.path());
        }
    }
    swept
}

fn process_is_gone(pid: libc::pid_t) -> bool {
    // SAFETY: signal 0 only checks that the process exists.
    let result = unsafe { libc::kill(pid, 0) };
    result != 0 && io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH)
}

fn unwritable(folder: &Path, error: io::Error) -> anyhow::Error {
    user_error(
        format!("cannot write into {}: {error}", folder.display()),
        "choose a writable folder with --out, or fix the folder's permissions",
    )
}

/// Columns a table printed to stdout may take: the terminal's width, else `$COLUMNS`, else 100
/// (a file or a pipe gets lines a 100-column terminal shows whole).
pub fn terminal_width() -> usize {
    // SAFETY: an all-zero winsize is valid; TIOCGWINSZ only writes into it.
    let mut size: libc::winsize = unsafe { std::mem::zeroed() };
    // SAFETY: the request matches the argument's type.
    let on_terminal = unsafe { libc::ioctl(libc::STDOUT_FILENO, libc::TIOCGWINSZ, &mut size) } == 0;
    if on_terminal && size.ws_col > 0 {
        return usize::from(size.ws_col);
    }
    std::env::var("COLUMNS")
        .ok()
        .and_then(|columns| columns.trim().parse().ok())
        .filter(|&columns: &usize| columns >= 40)
        .unwrap_or(DEFAULT_COLUMNS)
}

/// Wraps `table`'s widest columns first, at word boundaries, so it fits [`terminal_width`].
pub fn fit_to_terminal(table: &mut tabled::Table) -> &mut tabled::Table {
    table.with(
        tabled::settings::Width::wrap(terminal_width())
            .priority(tabled::settings::peaker::PriorityMax::right())
            .keep_words(true),
    )
}

/// `text` broken at spaces into lines of at most [`terminal_width`] columns (a longer word keeps its own line).
pub fn wrap_to_terminal(text: &str) -> String {
    let width = terminal_width();
    let mut lines = vec![String::new()];
    for word in text.split_whitespace() {
        let line = lines.last_mut().expect("at least one line");
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(word.to_string());
        } else {
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
    }
    lines.join("\n")
}

/// The width a table is fitted to when stdout is not a terminal and `$COLUMNS` is not set.
pub const DEFAULT_COLUMNS: usize = 100;

/// The name of a new run folder: `<host>-<UTC timestamp>`, e.g. `node12-20261121T104300Z`.
pub fn run_folder_name() -> String {
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    format!("{}-{}", host_name(), utc_timestamp(seconds))
}

/// This machine's host name, reduced to letters, digits and `-` (`localhost` when unknown).
pub fn host_name() -> String {
    let mut buffer = [0u8; 256];
    // SAFETY: the buffer is writable for its whole length, which is passed.
    let status = unsafe { libc::gethostname(buffer.as_mut_ptr().cast(), buffer.len()) };
    let end = buffer.iter().position(|&b| b == 0).unwrap_or(buffer.len());
    let name = String::from_utf8_lossy(&buffer[..end]);
    let name: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if status != 0 || name.is_empty() {
        "localhost".to_string()
    } else {
        name
    }
}

/// `YYYYMMDDTHHMMSSZ` for seconds since the Unix epoch (proleptic Gregorian calendar).
fn utc_timestamp(seconds: u64) -> String {
    let (year, month, day, hour, minute, second) = utc_fields(seconds);
    format!("{year:04}{month:02}{day:02}T{hour:02}{minute:02}{second:02}Z")
}

/// RFC 3339 UTC time, e.g. `2026-11-21T10:43:00Z`, for seconds since the Unix epoch.
pub fn utc_rfc3339(seconds: u64) -> String {
    let (year, month, day, hour, minute, second) = utc_fields(seconds);
    format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}Z")
}

/// Year, month, day, hour, minute and second of seconds since the Unix epoch.
fn utc_fields(seconds: u64) -> (i64, i64, i64, u64, u64, u64) {
    let (days, rest) = (seconds / 86_400, seconds % 86_400);
    // Howard Hinnant's days-to-civil algorithm, shifted so that eras start on 1 March.
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day, rest / 3600, rest % 3600 / 60, rest % 60)
}

/// Writes a new file atomically (temporary file, then rename); refuses to replace an existing one.
pub fn write_new_file(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> anyhow::Result<()> {
    if path.exists() {
        return Err(user_error(
            format!("{} already exists", path.display()),
            "hpc-advisor never overwrites earlier results: remove it or give another file name",
        ));
    }
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    let temporary = dir.join(format!(".{file_name}.partial-{}", std::process::id()));
    let result = (|| {
        let file = fs::File::create(&temporary)?;
        let mut writer = io::BufWriter::new(file);
        write(&mut writer)?;
        writer
            .into_inner()
            .map_err(|e| e.into_error())?
            .sync_all()?;
        fs::rename(&temporary, path)
    })();
    if let Err(error) = result {
        let _ = fs::remove_file(&temporary);
        return Err(user_error(
            format!("cannot write {}: {error}", path.display()),
            "check that the folder exists and is writable",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_committing_one_name_at_once_all_land_in_distinct_folders() {
        let parent = tempfile::tempdir().unwrap();
        for round in 0..20 {
            let name = format!("host-{round}");
            let stagings: Vec<PathBuf> = (0..4)
                .map(|i| {
                    let staging = parent.path().join(format!(".{name}.partial-{i}"));
                    fs::create_dir(&staging).unwrap();
                    fs::write(staging.join("report.json"), format!("run {i}")).unwrap();
                    staging
                })
                .collect();
            let barrier = std::sync::Barrier::new(stagings.len());
            let targets: Vec<PathBuf> = std::thread::scope(|scope| {
                let handles: Vec<_> = stagings
                    .iter()
                    .map(|staging| {
                        let (barrier, name, parent) = (&barrier, &name, parent.path());
                        scope.spawn(move || {
                            barrier.wait();
                            move_into_first_free(staging, parent, name).unwrap()
                        })
                    })
                    .collect();
                handles.into_iter().map(|h| h.join().unwrap()).collect()
            });
            let mut names: Vec<String> = targets
                .iter()
                .map(|t| t.file_name().unwrap().to_string_lossy().into_owned())
                .collect();
            names.sort();
            let expected = [
                name.clone(),
                format!("{name}-2"),
                format!("{name}-3"),
                format!("{name}-4"),
            ];
            assert_eq!(names, expected);
            // Every run's own file, none replaced.
            let mut contents: Vec<String> = targets
                .iter()
                .map(|t| fs::read_to_string(t.join("report.json")).unwrap())
                .collect();
            contents.sort();
            assert_eq!(contents, ["run 0", "run 1", "run 2", "run 3"]);
        }
    }

    #[test]
    fn an_existing_empty_folder_is_not_replaced() {
        let parent = tempfile::tempdir().unwrap();
        fs::create_dir(parent.path().join("run")).unwrap();
        let staging = parent.path().join(".run.partial-1");
        fs::create_dir(&staging).unwrap();
        let target = move_into_first_free(&staging, parent.path(), "run").unwrap();
        assert_eq!(target, parent.path().join("run-2"));
    }

    #[test]
    fn timestamps_are_utc_calendar_dates() {
        assert_eq!(utc_timestamp(0), "19700101T000000Z");
        assert_eq!(utc_timestamp(951_782_400), "20000229T000000Z");
        assert_eq!(utc_timestamp(1_795_257_780), "20261121T104300Z");
        assert!(run_folder_name().ends_with('Z'));
    }

    #[test]
    fn staged_folders_never_replace_an_earlier_run() {
        let root = tempfile::tempdir().unwrap();
        let first = StagedDir::create(root.path(), "run").unwrap();
        first.write("a.txt", b"first").unwrap();
        let first = first.commit().unwrap();
        let second = StagedDir::create(root.path(), "run").unwrap();
        second.write("a.txt", b"second").unwrap();
        let second = second.commit().unwrap();
        assert_ne!(first, second);
        assert_eq!(fs::read_to_string(first.join("a.txt")).unwrap(), "first");
        assert_eq!(fs::read_to_string(second.join("a.txt")).unwrap(), "second");
    }

    #[test]
    fn abandoned_folders_leave_nothing_behind() {
        let root = tempfile::tempdir().unwrap();
        {
            let staged = StagedDir::create(root.path(), "run").unwrap();
            staged.write("half.txt", b"...").unwrap();
        }
        assert_eq!(fs::read_dir(root.path()).unwrap().count(), 0);
    }

    #[test]
    fn new_files_are_not_overwritten_and_failures_leave_no_file() {
        let root = tempfile::tempdir().unwrap();
        let path = root.path().join("field.csv");
        write_new_file(&path, |w| w.write_all(b"x")).unwrap();
        assert!(write_new_file(&path, |w| w.write_all(b"y")).is_err());
        assert_eq!(fs::read_to_string(&path).unwrap(), "x");
        let failing = root.path().join("failing.csv");
        assert!(write_new_file(&failing, |_| Err(io::Error::other("boom"))).is_err());
        assert_eq!(fs::read_dir(root.path()).unwrap().count(), 1);
    }
}
