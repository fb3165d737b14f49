//! Writing: stdout and stderr, and the atomic output folder.

use std::fs;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use rayon::prelude::*;

use crate::error::{Error, Result};

/// The file that marks a folder as written by prolo.
pub const MARKER: &str = ".prolo-output";

/// Writes `files` (relative path, bytes) into `dir` atomically: everything goes to a temporary
/// folder beside `dir`, which then takes `dir`'s place. An existing `dir` is replaced only when
/// it is empty or marked as prolo's; a failed run leaves an earlier report untouched.
pub fn write_folder(dir: &Path, files: &[(String, Vec<u8>)]) -> Result<()> {
    // A link (`reports -> /share/reports`) stays a link: the folder it points to is written,
    // by the same rules, and replaced beside itself.
    if fs::symlink_metadata(dir).is_ok_and(|m| m.file_type().is_symlink()) {
        return match fs::canonicalize(dir) {
            Ok(target) => write_folder(&target, files),
            Err(_) => Err(Error::Usage(format!(
                "{}: is a symbolic link to nothing ({}); refusing to replace it. Point it at a folder or choose another --out",
                dir.display(),
                fs::read_link(dir).map_or_else(|_| "?".into(), |t| t.display().to_string())
            ))),
        };
    }
    if dir.exists() && !dir.is_dir() {
        return Err(Error::Usage(format!(
            "{}: exists and is a file, not a folder; refusing to replace it. Choose a new or empty folder for --out",
            dir.display()
        )));
    }
    if dir.exists() {
        let is_prolos = dir.join(MARKER).is_file();
        let empty = fs::read_dir(dir)
            .map_err(|e| Error::io(dir, e))?
            .next()
            .is_none();
        if !dir.is_dir() || !(is_prolos || empty) {
            return Err(Error::Usage(format!(
                "{}: exists and was not written by prolo (no {MARKER} in it); refusing to replace it. Choose a new or empty folder for --out",
                dir.display()
            )));
        }
        if is_prolos {
            let foreign = foreign_entries(dir)?;
            if !foreign.is_empty() {
                let more = match foreign.len() {
                    n if n > 5 => format!(" and {} more", n - 5),
                    _ => String::new(),
                };
                return Err(Error::Usage(format!(
                    "{}: holds files prolo did not write ({}{more}); refusing to replace the folder, which would lose them. Move them elsewhere, or choose another folder for --out",
                    dir.display(),
                    foreign[..foreign.len().min(5)].join(", ")
                )));
            }
        }
    }
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_else(|| "out".into());
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let pid = std::process::id();
    let tmp = parent.join(format!(".{name}.prolo-tmp-{pid}"));
    let result = fill(&tmp, files)
        .and_then(|()| swap(&tmp, dir, &parent.join(format!(".{name}.prolo-old-{pid}"))));
    if result.is_err() {
        let _ = fs::remove_dir_all(&tmp);
    }
    result
}

/// The marker's first line, then the line before the list of the files prolo wrote.
const MARKER_HEAD: &str = "This folder was written by prolo; prolo may replace it.";
const MANIFEST_HEAD: &str =
    "prolo wrote the files below; anything else put here stops prolo from replacing the folder:";

/// The entries of prolo's folder `dir` that prolo did not write (relative paths, sorted): not
/// in the marker's list, or, for a marker without one (as earlier versions wrote), not
/// named as prolo names its outputs.
fn foreign_entries(dir: &Path) -> Result<Vec<String>> {
    let marker = fs::read_to_string(dir.join(MARKER)).map_err(|e| Error::io(dir, e))?;
    let listed: Vec<&str> = (marker.lines())
        .skip_while(|l| *l != MANIFEST_HEAD)
        .skip(1)
        .collect();
    let ours = |rel: &str| match listed.is_empty() {
        false => listed.contains(&rel),
        true => {
            ["summary.json", "report.html", "report.md"].contains(&rel)
                || (rel.strip_prefix("tables/"))
                    .is_some_and(|f| !f.contains('/') && f.ends_with(".csv"))
                || (rel.strip_prefix("charts/")).is_some_and(|f| {
                    !f.contains('/') && (f.ends_with(".svg") || f.ends_with(".png"))
                })
        }
    };
    // A folder is prolo's when a file prolo wrote is in it.
    let holds_ours = |rel: &str| {
        let prefix = format!("{rel}/");
        match listed.is_empty() {
            false => listed.iter().any(|l| l.starts_with(&prefix)),
            true => rel == "tables" || rel == "charts",
        }
    };
    let mut foreign = Vec::new();
    let mut pending = vec![(dir.to_path_buf(), String::new())];
    while let Some((path, rel)) = pending.pop() {
        for entry in fs::read_dir(&path).map_err(|e| Error::io(&path, e))? {
            let entry = entry.map_err(|e| Error::io(&path, e))?;
            let name = entry.file_name().to_string_lossy().to_string();
            let rel = match rel.is_empty() {
                true => name,
                false => format!("{rel}/{name}"),
            };
            let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
            if is_dir && holds_ours(&rel) {
                pending.push((entry.path(), rel));
            } else if rel != MARKER && (is_dir || !ours(&rel)) {
                foreign.push(rel);
            }
        }
    }
    foreign.sort();
    Ok(foreign)
}

fn fill(tmp: &Path, files: &[(String, Vec<u8>)]) -> Result<()> {
    let _ = fs::remove_dir_all(tmp);
    fs::create_dir_all(tmp).map_err(|e| Error::io(tmp, e))?;
    let mut marker = format!("{MARKER_HEAD}\n{MANIFEST_HEAD}\n");
    for (rel, _) in files {
        marker.push_str(rel);
        marker.push('\n');
    }
    // The files as they are, then the marker (not a copy of every file's bytes with the
    // marker added: 190 MB on 3,000 conditions).
    let marker = [(MARKER.to_string(), marker.into_bytes())];
    for (rel, _) in files.iter().chain(&marker) {
        if let Some(p) = tmp.join(rel).parent() {
            fs::create_dir_all(p).map_err(|e| Error::io(p, e))?;
        }
    }
    let write = |(rel, bytes): &(String, Vec<u8>)| {
        let path = tmp.join(rel);
        let mut f = fs::File::create(&path).map_err(|e| Error::io(&path, e))?;
        f.write_all(bytes)
            .and_then(|()| f.sync_all())
            .map_err(|e| Error::io(&path, e))
    };
    // Each file written and flushed to the disk on every core (the waits for the disk
    // overlap), the first failure in the files' order reported (the folders are made first,
    // and after a failure the other files are still written: the folder is removed whole);
    // the marker last.
    let written: Vec<Result<()>> = files.par_iter().map(write).collect();
    written.into_iter().collect::<Result<()>>()?;
    marker.iter().try_for_each(write)
}

fn swap(tmp: &Path, dir: &Path, old: &Path) -> Result<()> {
    if dir.exists() {
        if exchange(tmp, dir) {
            // `tmp` now holds the earlier report.
            let _ = fs::remove_dir_all(tmp);
            return Ok(());
        }
        let _ = fs::remove_dir_all(old);
        fs::rename(dir, old).map_err(|e| Error::io(dir, e))?;
        if let Err(e) = fs::rename(tmp, dir) {
            let _ = fs::rename(old, dir);
            return Err(Error::io(dir, e));
        }
        let _ = fs::remove_dir_all(old);
    } else {
        fs::rename(tmp, dir).map_err(|e| Error::io(dir, e))?;
    }
    Ok(())
}

/// Swaps two folders in one step (Linux `renameat2(RENAME_EXCHANGE)`), so that no moment
/// exists at which `dir` is missing; false where the system cannot.
#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> bool {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let (Ok(a), Ok(b)) = (
        CString::new(a.as_os_str().as_bytes()),
        CString::new(b.as_os_str().as_bytes()),
    ) else {
        return false;
    };
    // SAFETY: both paths are valid NUL-terminated strings that outlive the call.
    let rc = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            a.as_ptr(),
            libc::AT_FDCWD,
            b.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    rc == 0
}

#[cfg(not(target_os = "linux"))]
fn exchange(_: &Path, _: &Path) -> bool {
    false
}

/// Writes bytes to stdout; a closed pipe is not an error.
pub fn stdout(bytes: &[u8]) -> Result<()> {
    stdout_with(|out| out.write_all(bytes))
}

/// Writes to stdout what `write` writes (buffered), as [`stdout`] does.
pub fn stdout_with(write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>) -> Result<()> {
    let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    match write(&mut out).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(Error::io("<stdout>", e)),
        _ => Ok(()),
    }
}

/// A progress line on stderr while input is read: only on a terminal, gone when dropped.
pub struct Progress {
    done: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Progress {
    /// Shows the bytes counted by `read` every half second, after the first two seconds.
    pub fn start(read: Arc<AtomicU64>) -> Progress {
        let done = Arc::new(AtomicBool::new(false));
        let thread = std::io::stderr().is_terminal().then(|| {
            let done = done.clone();
            std::thread::spawn(move || {
                let start = std::time::Instant::now();
                let mut shown = false;
                while !done.load(Ordering::Relaxed) {
                    std::thread::sleep(std::time::Duration::from_millis(100));
                    let secs = start.elapsed().as_secs_f64();
                    if secs >= 2.0 && (secs * 2.0).fract() < 0.2 {
                        let mb = read.load(Ordering::Relaxed) as f64 / 1e6;
                        eprint!("\rprolo: read {mb:.0} MB in {secs:.0} s …");
                        shown = true;
                    }
                }
                if shown {
                    eprint!("\r\x1b[2K");
                }
            })
        });
        Progress { done, thread }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.done.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Phase times on stderr when `PROLO_TIMINGS` is set (for benchmarks and profiling).
pub struct Timings {
    start: Option<std::time::Instant>,
    last: std::time::Instant,
    /// Processor time of the whole process (every thread) when the previous phase ended.
    cpu: Option<f64>,
}

/// Processor time (user and system, every thread) the process has used, in seconds, where
/// the system tells it (`/proc/self/stat`, in ticks of 1/100 s).
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The fields after the command name, which is in parentheses and may hold spaces.
    let mut fields = stat.rsplit_once(')')?.1.split_whitespace();
    let utime: u64 = fields.nth(11)?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some((utime + stime) as f64 / 100.0)
}

impl Timings {
    pub fn start() -> Timings {
        let now = std::time::Instant::now();
        let start = std::env::var_os("PROLO_TIMINGS").map(|_| now);
        Timings {
            start,
            last: now,
            cpu: start.and_then(|_| cpu_seconds()),
        }
    }

    /// Reports the time since the previous phase ended.
    pub fn phase(&mut self, name: &str) {
        if let Some(start) = self.start {
            let now = std::time::Instant::now();
            // Resident memory now and at its peak during the phase, where the system tells
            // them (the peak is reset after each phase by writing 5 to clear_refs).
            let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
            let mib = |key: &str| {
                status
                    .lines()
                    .find_map(|l| l.strip_prefix(key))
                    .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
                    .map(|kb| kb >> 10)
            };
            let peak = match (mib("VmRSS:"), mib("VmHWM:")) {
                (Some(now), Some(peak)) => format!(", memory {now} MiB, phase peak {peak} MiB"),
                _ => String::new(),
            };
            let _ = std::fs::write("/proc/self/clear_refs", "5");
            // Processor time over wall time: how many cores the phase kept busy.
            let cpu_now = cpu_seconds();
            let cpu = match (cpu_now, self.cpu) {
                (Some(now), Some(before)) => format!(", cpu {:.2} s", now - before),
                _ => String::new(),
            };
            eprintln!(
                "prolo: {name:<12} {:>8.3} s (total {:.3} s{cpu}{peak})",
                (now - self.last).as_secs_f64(),
                (now - start).as_secs_f64()
            );
            self.last = now;
            self.cpu = cpu_now;
        }
    }
}
