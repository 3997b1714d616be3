//! The Python ladder: the reference kernel as a Python user writes it, from plain loops to mpi4py.
//!
//! The rungs themselves are Python, in `kernels/python/` (built into the
//! binary, see [`sources`]): `py-pure` (the original's loops), `py-numpy`
//! (whole-array NumPy), `py-numba` (`@njit`), `py-numba-prange` (Numba's
//! threads), `py-pool` (a `concurrent.futures` process pool over NumPy row
//! blocks) and `py-mpi4py` (NumPy row blocks on MPI ranks, gathered with
//! `Gatherv`). Here they are [`Variant`]s like the Rust rungs, so the same
//! agreement checks and statistics apply: each run sends the problem
//! (contour points, node coordinates, wave vector) to one long-lived
//! `serve.py` of the chosen interpreter ([`interpreter`]), or to a fresh
//! `mpirun ... ranks.py` job, and reads back the field and the rung's own
//! timing of its computation ([`OwnTiming`]), so the interpreter's start and
//! the field's transfer stay out of the figure. Numba's compilation, paid
//! once per process, is a phase and a note of its own.
//!
//! A rung whose package is not installed is unavailable, with the `pip`
//! line that installs it (pinned in `kernels/python/requirements.txt`).

pub mod interpreter;
pub mod server;
pub mod sources;

use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::scatter::geometry::Scene;
use crate::scatter::problem::Problem;
use crate::scatter::variant::{
    Availability, OwnTiming, Phase, RunOutput, RunSettings, Variant, VariantError,
};
use crate::scatter::variants::children;
use server::{Header, RequestError, Server, checked, field_from_payload};

/// How a rung's runs are started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Launch {
    /// By the shared `serve.py`, on `workers` of one process.
    Server(Workers),
    /// As an MPI job of `ranks.py` through [`RunSettings::mpi_launcher`].
    MpiJob,
}

/// What a rung spreads its work over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Workers {
    One,
    Threads,
    Processes,
}

/// One Python rung.
#[derive(Debug)]
pub struct PythonRung {
    name: &'static str,
    summary: &'static str,
    python_analogue: &'static str,
    /// The package it imports beyond the standard library, if any.
    package: Option<&'static str>,
    launch: Launch,
    nominal_ns_per_pair: f64,
    bytes_per_pair: f64,
}

pub static PY_PURE: PythonRung = PythonRung {
    name: "py-pure",
    summary: "the original in plain Python: loops over nodes and segments, per-pair geometry",
    python_analogue: "the original pure-Python loops (this is them)",
    package: None,
    launch: Launch::Server(Workers::One),
    nominal_ns_per_pair: 3500.0,
    bytes_per_pair: 192.0,
};

pub static PY_NUMPY: PythonRung = PythonRung {
    name: "py-numpy",
    summary: "whole-array NumPy over blocks of rows: no Python loop over pairs",
    python_analogue: "NumPy vectorisation (this is it)",
    package: Some("numpy"),
    launch: Launch::Server(Workers::One),
    nominal_ns_per_pair: 170.0,
    // About twenty complex and real temporaries of (nodes x segments) per block.
    bytes_per_pair: 320.0,
};

pub static PY_NUMBA: PythonRung = PythonRung {
    name: "py-numba",
    summary: "the node and segment loops compiled by Numba's @njit",
    python_analogue: "Numba @njit (this is it)",
    package: Some("numba"),
    launch: Launch::Server(Workers::One),
    nominal_ns_per_pair: 40.0,
    bytes_per_pair: 64.0,
};

pub static PY_NUMBA_PRANGE: PythonRung = PythonRung {
    name: "py-numba-prange",
    summary: "the @njit loops with parallel=True, rows over numba.prange threads",
    python_analogue: "Numba parallel=True with prange (this is it)",
    package: Some("numba"),
    launch: Launch::Server(Workers::Threads),
    nominal_ns_per_pair: 40.0,
    bytes_per_pair: 64.0,
};

pub static PY_POOL: PythonRung = PythonRung {
    name: "py-pool",
    summary: "NumPy row blocks mapped over a concurrent.futures process pool started per run",
    python_analogue: "a process pool: concurrent.futures or multiprocessing (this is it)",
    package: Some("numpy"),
    launch: Launch::Server(Workers::Processes),
    nominal_ns_per_pair: 170.0,
    bytes_per_pair: 320.0,
};

pub static PY_MPI4PY: PythonRung = PythonRung {
    name: "py-mpi4py",
    summary: "NumPy row blocks dealt to MPI ranks by mpi4py, gathered on rank 0 with Gatherv",
    python_analogue: "mpi4py under mpirun or srun (this is it)",
    package: Some("mpi4py"),
    launch: Launch::MpiJob,
    nominal_ns_per_pair: 170.0,
    bytes_per_pair: 320.0,
};

/// Every Python rung, in ladder order.
pub static RUNGS: &[&PythonRung] = &[
    &PY_PURE,
    &PY_NUMPY,
    &PY_NUMBA,
    &PY_NUMBA_PRANGE,
    &PY_POOL,
    &PY_MPI4PY,
];

/// The one `serve.py` of this process, shared by the rungs (Numba compiles once in it).
static SERVER: Mutex<Option<Server>> = Mutex::new(None);

/// Seconds allowed for starting a server, importing and compiling, beyond the run itself.
const START_SLACK_SECONDS: f64 = 60.0;
/// How many times the estimated run time a run may take before it counts as hung.
const DEADLINE_FACTOR: f64 = 20.0;

/// The pip line that installs `package` at the version the project tests.
pub fn install_hint(package: &str) -> String {
    format!(
        "pip install {package}, at the version pinned in {}, or \
         name an interpreter that has it with --python PATH",
        if package == "mpi4py" {
            "tests/requirements-mpi.txt (after an MPI library)"
        } else {
            "kernels/python/requirements.txt"
        }
    )
}

impl PythonRung {
    fn deadline(&self, problem: &Problem, settings: &RunSettings) -> Duration {
        let estimate = problem
            .estimate()
            .seconds(self.nominal_ns_per_pair, self.workers(settings));
        Duration::from_secs_f64(START_SLACK_SECONDS + DEADLINE_FACTOR * estimate)
    }

    fn request(&self, scene: &Scene, settings: &RunSettings) -> serde_json::Value {
        json!({
            "variant": self.name,
            "workers": self.workers(settings),
            "points": scene.points,
            "xs": scene.grid.x,
            "ys": scene.grid.y,
            "k": scene.k,
        })
    }

    fn error(&self, error: RequestError) -> VariantError {
        match error {
            RequestError::Missing { package, message } => VariantError::Unavailable {
                variant: self.name,
                reason: message,
                hint: install_hint(&package),
            },
            RequestError::Failed(message) => VariantError::failed(self.name, message),
        }
    }

    /// One run through the shared server, restarted if an earlier run killed it.
    fn run_on_server(
        &self,
        problem: &Problem,
        settings: &RunSettings,
    ) -> Result<(Header, Vec<u8>, Duration), RequestError> {
        let scene = Scene::new(problem);
        let mut server = SERVER.lock().unwrap_or_else(PoisonError::into_inner);
        let started = Instant::now();
        if server.is_none() {
            *server = Some(Server::start(&interpreter::interpreter())?);
        }
        let reply = server.as_mut().expect("started above").request(
            &self.request(&scene, settings),
            self.deadline(problem, settings),
        );
        if reply.is_err() {
            // A server that failed mid-reply is dead or out of step: the next run starts a new one.
            *server = None;
        }
        let (header, payload) = reply?;
        Ok((checked(header)?, payload, started.elapsed()))
    }

    /// One run as an MPI job of `ranks.py`, request and reply through files.
    fn run_as_mpi_job(
        &self,
        problem: &Problem,
        settings: &RunSettings,
    ) -> Result<(Header, Vec<u8>, Duration), RequestError> {
        let launcher = settings.mpi_launcher.as_ref().filter(|l| !l.is_empty()).ok_or_else(|| {
            RequestError::Missing {
                package: "an MPI launcher".into(),
                message: "no MPI launcher was given (detect found none, or the run was not asked to use one)".into(),
            }
        })?;
        let scene = Scene::new(problem);
        let folder = sources::directory()?;
        let exchange = ExchangeFolder::create()?;
        let (request_path, reply_path) =
            (exchange.0.join("request.json"), exchange.0.join("reply"));
        std::fs::write(&request_path, self.request(&scene, settings).to_string())
            .map_err(|e| format!("cannot write {}: {e}", request_path.display()))?;
        // The interpreter by its full path: a launcher resolves a bare `python3` on its own
        // PATH (Open MPI puts its prefix first), which may find another Python.
        let executable = interpreter::stack()?.executable.clone();
        let mut command = std::process::Command::new(&launcher[0]);
        children::in_own_process_group(&mut command);
        command
            .args(&launcher[1..])
            .arg(executable)
            .arg("-u")
            .arg(folder.join("ranks.py"))
            .arg(&request_path)
            .arg(&reply_path)
            .current_dir(folder)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped());
        let started = Instant::now();
        let output = children::output_with_deadline(command, self.deadline(problem, settings))?;
        let wall = started.elapsed();
        if !output.status.success() {
            let stderr = String::from_utf8_lossy(&output.stderr);
            let lines: Vec<&str> = stderr.lines().collect();
            let last = &lines[lines.len().saturating_sub(6)..];
            if stderr.contains("No module named 'mpi4py'") {
                return Err(RequestError::Missing {
                    package: "mpi4py".into(),
                    message: "mpi4py does not import".into(),
                });
            }
            return Err(RequestError::Failed(format!(
                "the MPI job ({}) ended with {}: {}",
                launcher[0].to_string_lossy(),
                output.status,
                last.join(" | ")
            )));
        }
        let file = std::fs::File::open(&reply_path)
            .map_err(|e| format!("the MPI job wrote no reply ({}): {e}", reply_path.display()))?;
        let (header, payload) = server::read_reply(&mut std::io::BufReader::new(file))?;
        Ok((checked(header)?, payload, wall))
    }
}

impl Variant for PythonRung {
    fn name(&self) -> &'static str {
        self.name
    }
    fn summary(&self) -> &'static str {
        self.summary
    }
    fn python_analogue(&self) -> &'static str {
        self.python_analogue
    }
    fn needs(&self) -> &'static str {
        match (self.package, self.launch) {
            (_, Launch::MpiJob) => {
                "Python 3 with numpy and mpi4py, an MPI library and its launcher"
            }
            (Some("numba"), _) => "Python 3 with numpy and numba",
            (Some(_), _) => "Python 3 with numpy",
            (None, _) => "Python 3",
        }
    }
    fn availability(&self) -> Availability {
        let stack = match interpreter::stack() {
            Ok(stack) => stack,
            Err(reason) => {
                return Availability::Unavailable {
                    reason,
                    hint: "install Python 3, or name an interpreter with --python PATH".into(),
                };
            }
        };
        // Every package rung builds on NumPy's arrays.
        let needed: Vec<&str> = match self.package {
            None => vec![],
            Some("numpy") => vec!["numpy"],
            Some(package) => vec!["numpy", package],
        };
        match needed
            .into_iter()
            .find(|package| stack.version(package).is_none())
        {
            Some(package) => Availability::Unavailable {
                reason: format!("{package} not installed in {}", stack.describe()),
                hint: install_hint(package),
            },
            None => Availability::Available,
        }
    }
    fn workers(&self, settings: &RunSettings) -> usize {
        match self.launch {
            Launch::Server(Workers::One) => 1,
            Launch::Server(Workers::Threads) => settings.resolved_threads(),
            Launch::Server(Workers::Processes) | Launch::MpiJob => settings.resolved_workers(),
        }
    }
    fn nominal_ns_per_pair(&self) -> f64 {
        self.nominal_ns_per_pair
    }
    fn bytes_per_pair(&self) -> f64 {
        self.bytes_per_pair
    }
    fn run(&self, problem: &Problem, settings: &RunSettings) -> Result<RunOutput, VariantError> {
        let (header, payload, wall) = match self.launch {
            Launch::Server(_) => self.run_on_server(problem, settings),
            Launch::MpiJob => self.run_as_mpi_job(problem, settings),
        }
        .map_err(|e| self.error(e))?;
        // The grid has nx + 1 by ny + 1 nodes (kernel-spec.md): no second scene needed.
        let field = field_from_payload(&payload, problem.nx() + 1, problem.ny() + 1)
            .map_err(|e| VariantError::failed(self.name, e))?;
        let computed = header
            .seconds
            .filter(|s| s.is_finite() && *s >= 0.0)
            .ok_or_else(|| VariantError::failed(self.name, "the reply carries no timing"))?;
        let mut output = RunOutput::field(field);
        output.own_timing = Some(OwnTiming {
            wall: Duration::from_secs_f64(computed),
            cpu: header
                .cpu_seconds
                .filter(|s| s.is_finite() && *s >= 0.0)
                .map(Duration::from_secs_f64),
        });
        output.phases.push(Phase {
            name: match self.launch {
                Launch::Server(_) => "start-up (first run), request and transfer",
                Launch::MpiJob => "launch, start-up and transfer",
            },
            duration: wall.saturating_sub(Duration::from_secs_f64(computed)),
        });
        output.phases.push(Phase {
            name: "compute",
            duration: Duration::from_secs_f64(computed),
        });
        if let Some(compile) = header.compile_seconds.filter(|s| s.is_finite()) {
            output.notes.push(format!(
                "{COMPILE_NOTE} {compile:.2} s (paid once per process, not in the timings)"
            ));
        }
        if let Ok(stack) = interpreter::stack() {
            output.notes.push(stack.describe());
        }
        output.notes.extend(header.notes);
        Ok(output)
    }
}

/// How a note about Numba's compile time starts, so readers of the notes can find it.
pub const COMPILE_NOTE: &str = "numba compiled the kernel in";

/// The compile seconds a run's notes report, if any.
pub fn compile_seconds(notes: &[String]) -> Option<f64> {
    notes.iter().find_map(|note| {
        note.strip_prefix(COMPILE_NOTE)?
            .split_whitespace()
            .next()?
            .parse()
            .ok()
    })
}

/// A private folder for one MPI job's request and reply, removed when dropped.
struct ExchangeFolder(std::path::PathBuf);

impl ExchangeFolder {
    fn create() -> Result<ExchangeFolder, String> {
        static COUNT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = COUNT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let path =
            std::env::temp_dir().join(format!("hpc-advisor-mpi4py-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&path)
            .map_err(|e| format!("cannot create {}: {e}", path.display()))?;
        Ok(ExchangeFolder(path))
    }
}

impl Drop for ExchangeFolder {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
