//! Extraction under limits: a file's text is extracted in a child process with
//! a CPU-time limit (`RLIMIT_CPU`), an address-space limit (`RLIMIT_AS`) and a
//! wall-clock timeout that kills it, so a hostile file fails *its* source with
//! a message naming the limit, and never stalls the worker or the server.
//!
//! The child is the product's own binary re-executed with the hidden first
//! argument [`CHILD_ARG`] (`frontdesk` checks it at the very start of `main`,
//! before any runtime or thread exists, and calls [`child_main`]): the request
//! (file name and [`Limits`]) is its second argument, the file's bytes its
//! stdin, and it writes `Result<Document, ExtractError>` as JSON to stdout.
//! `pdftotext`, the fallback for PDFs the built-in reader cannot read, runs
//! under the same limits.
//!
//! Which binary: the setting `extract_command`, else this process's own
//! executable when it is `frontdesk`. Without one (a test harness embedding the
//! server), extraction runs in-process on a blocking thread under the wall-clock
//! limit only: the caller is freed when it passes, but that thread cannot be
//! stopped and runs to its end. The shipped binary always has the child.

use std::io::{Read, Write};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use frontdesk_knowledge::extract::{extract, ExtractError, Limits};
use frontdesk_knowledge::Document;
use serde::{Deserialize, Serialize};

/// The hidden first argument that makes `frontdesk` an extraction child.
pub const CHILD_ARG: &str = "__extract-child";

/// The limits one extraction runs under (from the settings `extract_*`).
#[derive(Debug, Clone)]
pub struct ExtractLimits {
    /// The binary that provides [`CHILD_ARG`]; `None`: in-process (wall-clock limit only).
    pub command: Option<PathBuf>,
    /// CPU seconds (`extract_cpu_seconds`).
    pub cpu_seconds: u64,
    /// Wall-clock seconds (`extract_timeout_seconds`).
    pub wall_seconds: u64,
    /// Address space in MiB (`extract_memory_mb`).
    pub memory_mb: u64,
    /// Size and text limits of the reader itself.
    pub limits: Limits,
}

impl ExtractLimits {
    /// The limits the settings ask for; the child binary is `extract_command`, else
    /// this executable when it is the `frontdesk` binary.
    pub fn from_settings(settings: &crate::config::Settings) -> ExtractLimits {
        let configured = settings.extract_command.trim();
        let command = if configured.is_empty() {
            std::env::current_exe().ok().filter(|exe| exe.file_stem().is_some_and(|s| s == "frontdesk"))
        } else {
            Some(PathBuf::from(configured))
        };
        ExtractLimits {
            command,
            cpu_seconds: settings.extract_cpu_seconds.max(1),
            wall_seconds: settings.extract_timeout_seconds.max(1),
            memory_mb: settings.extract_memory_mb.max(64),
            limits: Limits { max_text_chars: settings.extract_max_text_chars.max(1), ..Limits::default() },
        }
    }
}

/// Why a limited extraction gave no document.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ExtractFailure {
    /// The reader's own verdict (corrupt, too large, zip bomb…).
    #[error(transparent)]
    Extract(#[from] ExtractError),
    #[error("extraction stopped after {seconds} s of CPU time (limit: extract_cpu_seconds)")]
    CpuTime { seconds: u64 },
    #[error("extraction stopped after {seconds} s (limit: extract_timeout_seconds)")]
    WallTime { seconds: u64 },
    #[error("extraction stopped: it needed more than {mb} MB of memory (limit: extract_memory_mb)")]
    Memory { mb: u64 },
    /// The child could not be started or answered nonsense (a setup problem, not the file's).
    #[error("the extraction process failed: {0}")]
    Process(String),
}

/// What the parent sends the child (its second argument).
#[derive(Debug, Serialize, Deserialize)]
struct Request {
    file_name: String,
    limits: Limits,
}

/// Extracts `bytes` (named `file_name`, for its type) under `limits`.
pub async fn extract_limited(
    limits: &ExtractLimits,
    file_name: &str,
    bytes: Vec<u8>,
) -> Result<Document, ExtractFailure> {
    match &limits.command {
        Some(command) => extract_in_child(limits, command, file_name, bytes).await,
        None => extract_in_process(limits, file_name, bytes).await,
    }
}

async fn extract_in_child(
    limits: &ExtractLimits,
    command: &Path,
    file_name: &str,
    bytes: Vec<u8>,
) -> Result<Document, ExtractFailure> {
    let request = serde_json::to_string(&Request { file_name: file_name.to_owned(), limits: limits.limits.clone() })
        .map_err(|e| ExtractFailure::Process(e.to_string()))?;
    let mut cmd = tokio::process::Command::new(command);
    cmd.arg(CHILD_ARG).arg(request);
    let out = run_limited(cmd, limits, Some(bytes)).await?;
    if !out.status.success() {
        return Err(ExtractFailure::Process(format!(
            "{} exited with {}: {}",
            command.display(),
            out.status,
            last_line(&out.stderr)
        )));
    }
    let result: Result<Document, ExtractError> = serde_json::from_slice(&out.stdout)
        .map_err(|e| ExtractFailure::Process(format!("unreadable answer from {}: {e}", command.display())))?;
    Ok(result?)
}

/// No child binary: a blocking thread, awaited for at most the wall-clock limit.
async fn extract_in_process(
    limits: &ExtractLimits,
    file_name: &str,
    bytes: Vec<u8>,
) -> Result<Document, ExtractFailure> {
    let (name, reader_limits) = (file_name.to_owned(), limits.limits.clone());
    let task = tokio::task::spawn_blocking(move || extract(&name, &bytes, &reader_limits));
    match tokio::time::timeout(Duration::from_secs(limits.wall_seconds), task).await {
        Ok(Ok(result)) => Ok(result?),
        Ok(Err(_)) => Err(ExtractError::Corrupt { kind: "file", detail: "the reader crashed".into() }.into()),
        Err(_) => Err(ExtractFailure::WallTime { seconds: limits.wall_seconds }),
    }
}

/// Runs `cmd` with stdin (when given), stdout and stderr piped, under the CPU,
/// memory and wall-clock limits; a run that breaks one is the matching error.
pub async fn run_limited(
    mut cmd: tokio::process::Command,
    limits: &ExtractLimits,
    stdin: Option<Vec<u8>>,
) -> Result<std::process::Output, ExtractFailure> {
    cmd.stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    rlimits::apply(&mut cmd, limits.cpu_seconds, limits.memory_mb.saturating_mul(1024 * 1024));
    let mut child = cmd.spawn().map_err(|e| ExtractFailure::Process(format!("cannot start it: {e}")))?;
    if let (Some(bytes), Some(mut pipe)) = (stdin, child.stdin.take()) {
        // Written alongside the reads below (a child that stops reading must not block us).
        tokio::spawn(async move {
            use tokio::io::AsyncWriteExt;
            let _ = pipe.write_all(&bytes).await;
        });
    }
    let wall = Duration::from_secs(limits.wall_seconds);
    // On timeout the future (and with it the child, `kill_on_drop`) is dropped: killed.
    let out = match tokio::time::timeout(wall, child.wait_with_output()).await {
        Ok(out) => out.map_err(|e| ExtractFailure::Process(e.to_string()))?,
        Err(_) => return Err(ExtractFailure::WallTime { seconds: limits.wall_seconds }),
    };
    match out.status.signal() {
        // The soft CPU limit sends SIGXCPU; the hard one, a second later, SIGKILL
        // (nothing else here kills it: on timeout the child is dropped, not awaited).
        Some(libc::SIGXCPU | libc::SIGKILL) => Err(ExtractFailure::CpuTime { seconds: limits.cpu_seconds }),
        _ if !out.status.success() && out_of_memory(&out.stderr) => {
            Err(ExtractFailure::Memory { mb: limits.memory_mb })
        }
        _ => Ok(out),
    }
}

/// Rust's "memory allocation of N bytes failed" abort, or a C program's (pdftotext's) words for it.
fn out_of_memory(stderr: &[u8]) -> bool {
    let text = String::from_utf8_lossy(stderr);
    text.contains("memory allocation of") || text.contains("std::bad_alloc") || text.contains("Out of memory")
}

fn last_line(stderr: &[u8]) -> String {
    let text = String::from_utf8_lossy(stderr);
    text.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("no message").trim().chars().take(300).collect()
}

/// `pdftotext -enc UTF-8 FILE -` under the same limits, for PDFs the built-in
/// reader cannot read. `Ok(None)` when it is missing or fails on the file.
pub async fn pdftotext(limits: &ExtractLimits, tmp_dir: &Path, bytes: &[u8]) -> Result<Option<String>, ExtractFailure> {
    let io = |e: std::io::Error| ExtractFailure::Process(format!("cannot write a temporary file: {e}"));
    tokio::fs::create_dir_all(tmp_dir).await.map_err(io)?;
    let token = crate::tokens::random_token("");
    let path = tmp_dir.join(format!("pdf-{}.pdf", token.get(..16).unwrap_or(&token)));
    tokio::fs::write(&path, bytes).await.map_err(io)?;
    let mut cmd = tokio::process::Command::new("pdftotext");
    cmd.arg("-enc").arg("UTF-8").arg(&path).arg("-");
    let out = run_limited(cmd, limits, None).await;
    let _ = tokio::fs::remove_file(&path).await;
    match out {
        Ok(out) => Ok(out.status.success().then(|| String::from_utf8_lossy(&out.stdout).into_owned())),
        Err(ExtractFailure::Process(_)) => Ok(None), // not installed: the built-in reader's verdict stands
        Err(limit) => Err(limit),
    }
}

/// The child's side: reads the request (second argument) and the file (stdin),
/// writes the result as JSON to stdout. Returns the process's exit code. Call
/// it first thing in `main`, before a runtime starts threads.
pub fn child_main() -> i32 {
    let Some(raw) = std::env::args().nth(2) else {
        eprintln!("{CHILD_ARG}: missing the request argument");
        return 2;
    };
    let request: Request = match serde_json::from_str(&raw) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("{CHILD_ARG}: invalid request: {e}");
            return 2;
        }
    };
    let mut bytes = Vec::new();
    if let Err(e) = std::io::stdin().lock().read_to_end(&mut bytes) {
        eprintln!("{CHILD_ARG}: cannot read the file from stdin: {e}");
        return 2;
    }
    let result = extract(&request.file_name, &bytes, &request.limits);
    drop(bytes);
    let mut stdout = std::io::stdout().lock();
    match serde_json::to_writer(&mut stdout, &result).map_err(std::io::Error::from).and_then(|()| stdout.flush()) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("{CHILD_ARG}: cannot write the result: {e}");
            3
        }
    }
}

/// `setrlimit` in the child between fork and exec: the one unsafe block of the
/// engine (`pre_exec`), calling only the async-signal-safe `setrlimit`.
#[allow(unsafe_code)]
mod rlimits {
    pub(super) fn apply(cmd: &mut tokio::process::Command, cpu_seconds: u64, memory_bytes: u64) {
        let cpu = libc::rlimit { rlim_cur: cpu_seconds as libc::rlim_t, rlim_max: (cpu_seconds + 1) as libc::rlim_t };
        let memory = libc::rlimit { rlim_cur: memory_bytes as libc::rlim_t, rlim_max: memory_bytes as libc::rlim_t };
        let no_core = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
        // SAFETY: the closure runs in the forked child before exec; it only calls
        // setrlimit (async-signal-safe) on values built before the fork.
        unsafe {
            cmd.pre_exec(move || {
                for (resource, limit) in
                    [(libc::RLIMIT_CPU, &cpu), (libc::RLIMIT_AS, &memory), (libc::RLIMIT_CORE, &no_core)]
                {
                    if libc::setrlimit(resource, limit) != 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                }
                Ok(())
            });
        }
    }
}
