//! Talking to `serve.py`: starting it, one request at a time with a deadline, and reading its replies.
//!
//! A reply is a JSON header line and then `bytes` bytes (`protocol.py`).
//! Every read is bounded: a header longer than [`MAX_HEADER_BYTES`], a byte
//! count that does not match the field, or a server that answers nothing
//! before the deadline is an error naming what went wrong, and a server that
//! stopped answering is killed and reaped. What the server prints on its
//! standard error is kept (the last [`KEPT_STDERR_LINES`] lines) and quoted
//! when it fails, instead of reaching the user's terminal.

use std::collections::VecDeque;
use std::ffi::OsStr;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::{Arc, Mutex, PoisonError, mpsc};
use std::time::Duration;

use num_complex::Complex32;
use serde::Deserialize;

use super::interpreter::PythonStack;
use super::sources;
use crate::scatter::field::Field;
use crate::scatter::variants::children;

/// Longest header line accepted (Hankel replies for the accuracy tests are the long ones).
const MAX_HEADER_BYTES: u64 = 64 << 20;
/// Lines of the server's standard error kept for error messages.
const KEPT_STDERR_LINES: usize = 12;
/// How long the probe may take (an interpreter start and package metadata).
const PROBE_DEADLINE: Duration = Duration::from_secs(30);

/// The header of a reply, as `protocol.py` writes it.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Header {
    pub ok: bool,
    #[serde(default)]
    pub error: Option<String>,
    /// The package whose import failed, when that is why the request failed.
    #[serde(default)]
    pub missing: Option<String>,
    #[serde(default)]
    pub seconds: Option<f64>,
    #[serde(default)]
    pub cpu_seconds: Option<f64>,
    #[serde(default)]
    pub compile_seconds: Option<f64>,
    #[serde(default)]
    pub phases: std::collections::BTreeMap<String, f64>,
    #[serde(default)]
    pub notes: Vec<String>,
    /// `(J0, Y0, J1, Y1)` per argument, for Hankel requests.
    #[serde(default)]
    pub values: Vec<[f64; 4]>,
    pub bytes: u64,
    /// Fields of other replies (the probe's versions).
    #[serde(flatten)]
    pub other: serde_json::Map<String, serde_json::Value>,
}

/// A failed request: a package to install, or anything else.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestError {
    Missing { package: String, message: String },
    Failed(String),
}

impl std::fmt::Display for RequestError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RequestError::Missing { message, .. } | RequestError::Failed(message) => {
                f.write_str(message)
            }
        }
    }
}

impl From<String> for RequestError {
    fn from(message: String) -> RequestError {
        RequestError::Failed(message)
    }
}

/// Reads one reply: the header, then its payload.
pub fn read_reply(reader: &mut impl BufRead) -> Result<(Header, Vec<u8>), String> {
    let mut line = Vec::new();
    reader
        .take(MAX_HEADER_BYTES)
        .read_until(b'\n', &mut line)
        .map_err(|e| format!("cannot read the reply: {e}"))?;
    if line.is_empty() {
        return Err("the Python server ended without replying".into());
    }
    if line.last() != Some(&b'\n') {
        return Err(format!(
            "the reply's header line is cut short or longer than {MAX_HEADER_BYTES} bytes"
        ));
    }
    let header: Header = serde_json::from_slice(&line).map_err(|e| {
        let start = String::from_utf8_lossy(&line[..line.len().min(120)]).into_owned();
        format!("the reply is not a header ({e}): {}", start.trim_end())
    })?;
    let mut payload = Vec::new();
    reader
        .take(header.bytes)
        .read_to_end(&mut payload)
        .map_err(|e| format!("cannot read the reply's field: {e}"))?;
    if payload.len() as u64 != header.bytes {
        return Err(format!(
            "the reply announced {} bytes of field but sent {}",
            header.bytes,
            payload.len()
        ));
    }
    Ok((header, payload))
}

/// The field from a reply's payload: incident then scattered, interleaved little-endian f32.
pub fn field_from_payload(payload: &[u8], nodes_x: usize, nodes_y: usize) -> Result<Field, String> {
    let nodes = nodes_x * nodes_y;
    let expected = 2 * nodes * 8;
    if payload.len() != expected {
        return Err(format!(
            "the reply's field has {} bytes; a {nodes_x} x {nodes_y} grid needs {expected}",
            payload.len()
        ));
    }
    let mut field = Field::zeros(nodes_x, nodes_y);
    let values = payload.chunks_exact(8).map(|pair| {
        let part = |at: usize| f32::from_le_bytes(pair[at..at + 4].try_into().expect("4 bytes"));
        Complex32::new(part(0), part(4))
    });
    for (slot, value) in field
        .incident
        .iter_mut()
        .chain(field.scattered.iter_mut())
        .zip(values)
    {
        *slot = value;
    }
    Ok(field)
}

/// Turns a failed header into the error it reports.
pub fn checked(header: Header) -> Result<Header, RequestError> {
    if header.ok {
        return Ok(header);
    }
    let message = header
        .error
        .unwrap_or_else(|| "the Python server reported a failure without a message".into());
    Err(match header.missing {
        Some(package) => RequestError::Missing { package, message },
        None => RequestError::Failed(message),
    })
}

/// A running `serve.py`.
pub struct Server {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: Option<BufReader<ChildStdout>>,
    stderr: Arc<Mutex<VecDeque<String>>>,
}

impl Server {
    /// Starts `interpreter serve.py` from the unpacked sources.
    pub fn start(interpreter: &OsStr) -> Result<Server, String> {
        let folder = sources::directory()?;
        let mut child = python_command(interpreter, folder)
            .arg(folder.join("serve.py"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| spawn_error(interpreter, &e))?;
        let stderr = Arc::new(Mutex::new(VecDeque::new()));
        if let Some(pipe) = child.stderr.take() {
            let kept = Arc::clone(&stderr);
            std::thread::spawn(move || {
                for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                    let mut kept = kept.lock().unwrap_or_else(PoisonError::into_inner);
                    if kept.len() == KEPT_STDERR_LINES {
                        kept.pop_front();
                    }
                    kept.push_back(line);
                }
            });
        }
        Ok(Server {
            stdin: child.stdin.take(),
            stdout: child.stdout.take().map(BufReader::new),
            child,
            stderr,
        })
    }

    /// The interpreter's versions and packages, from a server started for the purpose.
    pub fn probe(interpreter: &OsStr) -> Result<PythonStack, String> {
        let mut server = Server::start(interpreter)?;
        let (header, _) = server
            .request(&serde_json::json!({ "probe": true }), PROBE_DEADLINE)
            .map_err(|e| format!("the Python probe failed: {e}"))?;
        let header = checked(header).map_err(|e| format!("the Python probe failed: {e}"))?;
        serde_json::from_value(serde_json::Value::Object(header.other))
            .map_err(|e| format!("the Python probe's reply is odd: {e}"))
    }

    /// Sends one request and waits at most `deadline` for its reply.
    pub fn request(
        &mut self,
        request: &serde_json::Value,
        deadline: Duration,
    ) -> Result<(Header, Vec<u8>), String> {
        let line = format!("{request}\n");
        let sent = self
            .stdin
            .as_mut()
            .ok_or_else(|| "the Python server's input is closed".to_string())
            .and_then(|stdin| {
                stdin
                    .write_all(line.as_bytes())
                    .and_then(|()| stdin.flush())
                    .map_err(|e| format!("the Python server stopped reading requests: {e}"))
            });
        if let Err(message) = sent {
            return Err(self.died(message));
        }
        let mut reader = self
            .stdout
            .take()
            .ok_or_else(|| "the Python server's output is closed".to_string())?;
        let (send, receive) = mpsc::channel();
        std::thread::spawn(move || {
            let reply = read_reply(&mut reader);
            let _ = send.send((reader, reply));
        });
        match receive.recv_timeout(deadline) {
            Ok((reader, Ok(reply))) => {
                self.stdout = Some(reader);
                Ok(reply)
            }
            Ok((_, Err(message))) => Err(self.died(message)),
            Err(_) => {
                children::kill_group(&mut self.child);
                Err(format!(
                    "the Python server stopped answering after {:.1} s; killed",
                    deadline.as_secs_f64()
                ))
            }
        }
    }

    /// `message`, with how the server ended and the end of what it printed on standard error.
    fn died(&mut self, message: String) -> String {
        children::kill_group(&mut self.child);
        let status = self
            .child
            .wait()
            .map(|s| format!(" ({s})"))
            .unwrap_or_default();
        // Give the standard-error thread a moment to take the last lines.
        std::thread::sleep(Duration::from_millis(50));
        let kept = self.stderr.lock().unwrap_or_else(PoisonError::into_inner);
        if kept.is_empty() {
            format!("{message}{status}")
        } else {
            let lines: Vec<&str> = kept.iter().map(String::as_str).collect();
            format!("{message}{status}; it printed: {}", lines.join(" | "))
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // Closing its input ends the server's loop; kill it if it is stuck in a rung.
        self.stdin.take();
        if !matches!(self.child.try_wait(), Ok(Some(_))) {
            std::thread::sleep(Duration::from_millis(20));
            if !matches!(self.child.try_wait(), Ok(Some(_))) {
                children::kill_group(&mut self.child);
            }
            let _ = self.child.wait();
        }
    }
}

/// `interpreter` with the rungs' folder as its working directory and Python's own
/// buffering off, so a reply is never held back.
pub fn python_command(interpreter: &OsStr, folder: &Path) -> Command {
    let mut command = Command::new(interpreter);
    children::in_own_process_group(&mut command);
    command
        .arg("-u")
        .current_dir(folder)
        .env("PYTHONDONTWRITEBYTECODE", "1");
    command
}

/// Why `interpreter` did not start, in words that say what to do.
pub fn spawn_error(interpreter: &OsStr, error: &std::io::Error) -> String {
    let name = interpreter.to_string_lossy();
    if error.kind() == std::io::ErrorKind::NotFound {
        format!("`{name}` not found (install Python 3, or name an interpreter with --python PATH)")
    } else {
        format!("cannot start `{name}`: {error}")
    }
}
