//! Tools the advice can point to: perf (and whether it may run), py-spy, GNU parallel, compilers, the Python stack.
//!
//! Each tool is one bounded command; the Python stack is one interpreter
//! call that reports every package at once without importing them.

use std::path::Path;
use std::thread;

use serde::{Deserialize, Serialize};

use super::run::{PROBE_TIMEOUT, Runner, first_nonempty_line};
use super::{joined, read_text};
use crate::fact::Fact;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Tools {
    pub perf: Perf,
    pub py_spy: Tool,
    /// GNU parallel; a non-GNU `parallel` (moreutils) has a known path and an unknown version.
    pub gnu_parallel: Tool,
    /// `cc`, `c++`, `gfortran`, `nvcc`, in that order.
    pub compilers: Vec<Tool>,
    pub python: Python,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Tool {
    pub name: String,
    pub path: Fact<String>,
    pub version: Fact<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Perf {
    pub tool: Tool,
    /// `/proc/sys/kernel/perf_event_paranoid` (-1 … 4; above 2 blocks unprivileged users).
    pub event_paranoid: Fact<i32>,
    /// A bounded `perf stat -e task-clock,cycles true`.
    pub stat_check: Fact<PerfStatCheck>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct PerfStatCheck {
    /// perf could count a software event for a child process.
    pub permitted: bool,
    /// Hardware counters (cycles) are counted, not `<not supported>` (common in VMs).
    pub hardware_counters: bool,
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Python {
    /// The interpreter found (`python3`, else `python`).
    pub interpreter: Fact<String>,
    pub version: Fact<String>,
    /// numpy, scipy, numba, dask, mpi4py, cupy, joblib, pathos, in that order.
    pub packages: Fact<Vec<PythonPackage>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct PythonPackage {
    pub name: String,
    /// Importable by the interpreter.
    pub installed: bool,
    /// The version from the package metadata; `null` when not installed or installed without metadata.
    pub version: Option<String>,
}

pub const PYTHON_PACKAGES: [&str; 8] = [
    "numpy", "scipy", "numba", "dask", "mpi4py", "cupy", "joblib", "pathos",
];
const COMPILERS: [&str; 4] = ["cc", "c++", "gfortran", "nvcc"];

/// Prints one JSON object: version, executable and each package's version (found without
/// importing it): `null` when not importable, `""` when importable without metadata.
const PYTHON_PROBE: &str = r#"
import json, sys, importlib.util as util
try:
    import importlib.metadata as metadata
except ImportError:
    metadata = None
distributions = {}
if metadata is not None and hasattr(metadata, "packages_distributions"):
    distributions = metadata.packages_distributions()
packages = {}
for name in sys.argv[1:]:
    version = None
    if util.find_spec(name) is not None:
        version = ""
        for dist in distributions.get(name, [name]):
            try:
                version = metadata.version(dist)
                break
            except Exception:
                pass
    packages[name] = version
print(json.dumps({"version": sys.version.split()[0], "executable": sys.executable, "packages": packages}))
"#;

/// The version in a tool's `--version` output.
pub fn parse_tool_version(name: &str, text: &str) -> Result<String, String> {
    let first =
        first_nonempty_line(text).ok_or_else(|| format!("`{name} --version` printed nothing"))?;
    let prefixed = |prefix: &str| {
        first
            .strip_prefix(prefix)
            .map(|v| v.trim().to_string())
            .ok_or_else(|| format!("unexpected `{name} --version` output: {first}"))
    };
    match name {
        "perf" => prefixed("perf version "),
        "py-spy" => prefixed("py-spy "),
        "parallel" => prefixed("GNU parallel ")
            .map_err(|_| format!("`parallel` is not GNU parallel (says: {first})")),
        "nvcc" => text
            .lines()
            .find_map(|line| line.split_once(", release ").map(|(_, rest)| rest))
            .and_then(|rest| rest.split(',').next())
            .map(|v| v.trim().to_string())
            .ok_or_else(|| format!("no release in `nvcc --version` output: {first}")),
        _ => Ok(first),
    }
}

fn tool(runner: &Runner, name: &str) -> Tool {
    let Some(path) = runner.find(name) else {
        let reason = format!("`{name}` not found on PATH");
        return Tool {
            name: name.to_string(),
            path: Fact::unknown(reason.clone()),
            version: Fact::unknown(reason),
        };
    };
    let version = match runner.run(name, &["--version"], PROBE_TIMEOUT) {
        Ok(output) => parse_tool_version(name, &output.combined()).into(),
        Err(error) => Fact::unknown(error.to_string()),
    };
    Tool {
        name: name.to_string(),
        path: Fact::Known(path.display().to_string()),
        version,
    }
}

/// Reads `perf stat -x ,` output (on stderr): whether the software event and the cycles counter were counted.
pub fn parse_perf_stat(text: &str) -> Result<(bool, bool), String> {
    let counted = |event: &str| {
        text.lines().find_map(|line| {
            let fields: Vec<&str> = line.split(',').collect();
            // Unprivileged runs count user space only and name the event `task-clock:u`.
            let name = fields
                .get(2)
                .map(|f| f.trim().split(':').next().unwrap_or(""));
            (name == Some(event)).then(|| !fields[0].starts_with('<'))
        })
    };
    let task_clock = counted("task-clock").ok_or_else(|| {
        format!(
            "perf stat printed no task-clock line: {}",
            first_nonempty_line(text).unwrap_or_else(|| "(nothing)".to_string())
        )
    })?;
    Ok((task_clock, counted("cycles").unwrap_or(false)))
}

fn perf(runner: &Runner) -> Perf {
    let tool = tool(runner, "perf");
    let stat_check = match tool.path {
        Fact::Unknown(ref reason) => Fact::unknown(reason.clone()),
        Fact::Known(_) => {
            let true_path = runner.find("true").map(|p| p.display().to_string());
            match true_path {
                None => Fact::unknown("no `true` on PATH to measure"),
                Some(program) => match runner.run(
                    "perf",
                    &["stat", "-x", ",", "-e", "task-clock,cycles", &program],
                    PROBE_TIMEOUT,
                ) {
                    Err(error) => Fact::unknown(error.to_string()),
                    Ok(output) if !output.success => Fact::Known(PerfStatCheck {
                        permitted: false,
                        hardware_counters: false,
                        detail: output.outcome(),
                    }),
                    Ok(output) => parse_perf_stat(&output.stderr)
                        .map(|(permitted, hardware_counters)| PerfStatCheck {
                            permitted,
                            hardware_counters,
                            detail: if hardware_counters {
                                "software and hardware events counted".to_string()
                            } else {
                                "software events only: cycles not supported here".to_string()
                            },
                        })
                        .into(),
                },
            }
        }
    };
    Perf {
        tool,
        event_paranoid: read_text(Path::new("/proc/sys/kernel/perf_event_paranoid")).and_then(
            |text| {
                Fact::from_option(text.parse().ok(), || {
                    format!("perf_event_paranoid is `{text}`")
                })
            },
        ),
        stat_check,
    }
}

#[derive(Deserialize)]
struct PythonReport {
    version: String,
    executable: String,
    packages: std::collections::BTreeMap<String, Option<String>>,
}

/// Reads the probe's JSON into the version, the executable and the packages in [`PYTHON_PACKAGES`] order.
pub fn parse_python_report(text: &str) -> Result<(String, String, Vec<PythonPackage>), String> {
    let line = text
        .lines()
        .rev()
        .find(|l| l.trim_start().starts_with('{'))
        .ok_or("the Python probe printed no JSON")?;
    let report: PythonReport = serde_json::from_str(line)
        .map_err(|e| format!("the Python probe printed odd JSON: {e}"))?;
    let packages = PYTHON_PACKAGES
        .iter()
        .map(|name| PythonPackage {
            name: name.to_string(),
            installed: report.packages.get(*name).is_some_and(Option::is_some),
            version: report
                .packages
                .get(*name)
                .cloned()
                .flatten()
                .filter(|version| !version.is_empty()),
        })
        .collect();
    Ok((report.version, report.executable, packages))
}

fn python(runner: &Runner) -> Python {
    let Some(name) = ["python3", "python"]
        .into_iter()
        .find(|n| runner.find(n).is_some())
    else {
        let reason = "neither `python3` nor `python` found on PATH";
        return Python {
            interpreter: Fact::unknown(reason),
            version: Fact::unknown(reason),
            packages: Fact::unknown(reason),
        };
    };
    // Not `-I`: PYTHONPATH and user site-packages are where clusters and users install packages.
    let mut args = vec!["-c", PYTHON_PROBE];
    args.extend(PYTHON_PACKAGES);
    let report = runner
        .run_successfully(name, &args, PROBE_TIMEOUT)
        .and_then(|output| parse_python_report(&output.stdout));
    match report {
        Ok((version, executable, packages)) => Python {
            interpreter: Fact::Known(executable),
            version: Fact::Known(version),
            packages: Fact::Known(packages),
        },
        Err(reason) => Python {
            interpreter: Fact::from_option(
                runner.find(name).map(|p| p.display().to_string()),
                || reason.clone(),
            ),
            version: Fact::unknown(reason.clone()),
            packages: Fact::unknown(reason),
        },
    }
}

pub fn detect(runner: &Runner) -> Tools {
    thread::scope(|scope| {
        let perf = scope.spawn(|| perf(runner));
        let python = scope.spawn(|| python(runner));
        let py_spy = scope.spawn(|| tool(runner, "py-spy"));
        let parallel = scope.spawn(|| {
            let mut parallel = tool(runner, "parallel");
            parallel.name = "GNU parallel".to_string();
            parallel
        });
        let compilers: Vec<_> = COMPILERS
            .iter()
            .map(|name| scope.spawn(move || tool(runner, name)))
            .collect();
        Tools {
            perf: joined(perf),
            py_spy: joined(py_spy),
            gnu_parallel: joined(parallel),
            compilers: compilers.into_iter().map(joined).collect(),
            python: joined(python),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tool_versions() {
        assert_eq!(
            parse_tool_version("perf", "perf version 6.1.76\n").unwrap(),
            "6.1.76"
        );
        assert_eq!(
            parse_tool_version("py-spy", "py-spy 0.3.14\n").unwrap(),
            "0.3.14"
        );
        assert_eq!(
            parse_tool_version(
                "parallel",
                "GNU parallel 20221122\nCopyright (C) 2007-2022 Ole Tange\n"
            )
            .unwrap(),
            "20221122"
        );
        assert!(
            parse_tool_version("parallel", "parallel: invalid option -- '-'\n")
                .unwrap_err()
                .contains("not GNU parallel")
        );
        let nvcc = "nvcc: NVIDIA (R) Cuda compiler driver\nCopyright (c) 2005-2024 NVIDIA Corporation\nCuda compilation tools, release 12.4, V12.4.131\n";
        assert_eq!(parse_tool_version("nvcc", nvcc).unwrap(), "12.4");
        assert_eq!(
            parse_tool_version("gfortran", "GNU Fortran (Debian 12.2.0-14) 12.2.0\n").unwrap(),
            "GNU Fortran (Debian 12.2.0-14) 12.2.0"
        );
        assert!(parse_tool_version("cc", "\n").is_err());
    }

    #[test]
    fn perf_stat_software_only_and_denied() {
        let vm = "0.49,msec,task-clock,491871,100.00,0.326,CPUs utilized\n<not supported>,,cycles,0,100.00,,\n";
        assert_eq!(parse_perf_stat(vm).unwrap(), (true, false));
        let bare = "1.02,msec,task-clock,1020000,100.00,0.5,CPUs utilized\n2030400,,cycles,1020000,100.00,1.99,GHz\n";
        assert_eq!(parse_perf_stat(bare).unwrap(), (true, true));
        let unprivileged = "0.46,msec,task-clock:u,458631,100.00,0.128,CPUs utilized\n<not supported>,,cycles:u,0,100.00,,\n";
        assert_eq!(parse_perf_stat(unprivileged).unwrap(), (true, false));
        let denied =
            "Error:\nAccess to performance monitoring and observability operations is limited.\n";
        assert!(parse_perf_stat(denied).unwrap_err().contains("Error:"));
    }

    #[test]
    fn python_report_in_package_order() {
        let json = r#"{"version": "3.11.7", "executable": "/usr/bin/python3", "packages": {"numpy": "1.26.4", "scipy": null, "cupy": ""}}"#;
        let (version, executable, packages) = parse_python_report(json).unwrap();
        assert_eq!(
            (version.as_str(), executable.as_str()),
            ("3.11.7", "/usr/bin/python3")
        );
        assert_eq!(packages.len(), PYTHON_PACKAGES.len());
        assert!(packages[0].installed);
        assert_eq!(packages[0].version.as_deref(), Some("1.26.4"));
        assert!(!packages[1].installed);
        assert_eq!(packages[1].version, None);
        assert_eq!(packages[5].name, "cupy");
        assert!(packages[5].installed);
        assert_eq!(packages[5].version, None);
        assert!(
            !packages[7].installed,
            "a package the probe did not mention"
        );
        assert!(parse_python_report("Traceback (most recent call last):").is_err());
    }
}
