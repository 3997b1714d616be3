//! Which Python runs the rungs, and what it has: the interpreter's and the packages' versions.
//!
//! The interpreter is `python3` from `PATH` unless the program chose another
//! ([`use_interpreter`], from `--python PATH` or `HPC_ADVISOR_PYTHON`). Its
//! versions are asked once per process, through the server's probe request
//! (package metadata, no import: asking must not cost Numba's start-up).

use std::ffi::OsString;
use std::sync::OnceLock;

use serde::Deserialize;

use super::server::Server;

/// The packages a rung may need, as the probe names them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct Packages {
    pub numpy: Option<String>,
    pub numba: Option<String>,
    pub mpi4py: Option<String>,
}

/// What the probe found.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct PythonStack {
    /// `3.11.7`
    pub python: String,
    /// `CPython`, `PyPy`
    pub implementation: String,
    pub executable: String,
    pub packages: Packages,
}

impl PythonStack {
    /// The version of `package`, if installed.
    pub fn version(&self, package: &str) -> Option<&str> {
        match package {
            "numpy" => self.packages.numpy.as_deref(),
            "numba" => self.packages.numba.as_deref(),
            "mpi4py" => self.packages.mpi4py.as_deref(),
            _ => None,
        }
        .filter(|version| !version.is_empty())
    }

    /// `CPython 3.11.7 (/usr/bin/python3)`
    pub fn describe(&self) -> String {
        format!(
            "{} {} ({})",
            self.implementation, self.python, self.executable
        )
    }
}

static CHOSEN: OnceLock<OsString> = OnceLock::new();

/// Runs the rungs with `interpreter` instead of `python3`; only the first call counts.
pub fn use_interpreter(interpreter: OsString) {
    let _ = CHOSEN.set(interpreter);
}

/// The interpreter the rungs run with.
pub fn interpreter() -> OsString {
    CHOSEN
        .get()
        .cloned()
        .or_else(|| std::env::var_os("HPC_ADVISOR_PYTHON").filter(|v| !v.is_empty()))
        .unwrap_or_else(|| OsString::from("python3"))
}

/// The interpreter's stack, probed once per process; `Err` says why there is none.
pub fn stack() -> Result<&'static PythonStack, String> {
    static STACK: OnceLock<Result<PythonStack, String>> = OnceLock::new();
    STACK
        .get_or_init(|| Server::probe(&interpreter()))
        .as_ref()
        .map_err(Clone::clone)
}
