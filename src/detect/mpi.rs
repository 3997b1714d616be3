//! MPI: which launchers are on PATH, which implementation and version, and whether one can really launch.
//!
//! `--version` output differs per implementation, so each format has a
//! parser tested on captured samples. The launch check runs a trivial
//! one-process job with a timeout (adding `--allow-run-as-root` for Open MPI
//! when we are root, as containers often are).

use std::thread;

use serde::{Deserialize, Serialize};

use super::joined;
use super::run::{PROBE_TIMEOUT, Runner, first_nonempty_line};
use crate::fact::Fact;

/// Launchers looked for, in order of preference for the launch check.
const LAUNCHERS: [&str; 3] = ["mpirun", "mpiexec", "srun"];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Mpi {
    /// Every launcher looked for, found or not.
    pub launchers: Vec<Launcher>,
    /// A bounded `mpirun -n 1 true` (or `mpiexec`); unknown when no launcher was found.
    pub launch_check: Fact<LaunchCheck>,
    /// Whether this binary was built with the `mpi` cargo feature.
    pub built_with_mpi: bool,
    /// What module systems say about the MPI library, e.g. `CRAY_MPICH_VERSION=8.1.25`
    /// or `module openmpi/4.1.5` (Cray and Intel MPI are often reached through `srun`).
    pub environment: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Launcher {
    /// `mpirun`, `mpiexec` or `srun`.
    pub name: String,
    pub path: Fact<String>,
    /// `Open MPI`, `MPICH`, `Intel MPI`, `MVAPICH`, `IBM Spectrum MPI`, `Slurm`, …
    pub implementation: Fact<String>,
    pub version: Fact<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct LaunchCheck {
    /// The command run, e.g. `mpirun --allow-run-as-root -n 1 /usr/bin/true`.
    pub command: String,
    pub succeeded: bool,
    /// Exit status and the first line of output when it failed.
    pub detail: String,
    /// Wall time of the one-process launch, in milliseconds (start-up cost of a process).
    pub elapsed_ms: f64,
}

impl Mpi {
    /// The first launcher found, in the order mpirun, mpiexec, srun.
    pub fn launcher(&self) -> Option<&Launcher> {
        self.launchers.iter().find(|l| l.path.known().is_some())
    }
}

/// Implementation and version from a launcher's `--version` output.
pub fn parse_mpi_version(text: &str) -> Option<(String, String)> {
    // Intel MPI: "Intel(R) MPI Library for Linux* OS, Version 2021.9 Build 20230307 (id: d82b3071db)"
    if let Some(line) = text.lines().find(|l| l.contains("Intel(R) MPI Library")) {
        let version = line.split_once("Version ")?.1.split_whitespace().next()?;
        return Some((
            "Intel MPI".to_string(),
            version.trim_end_matches(',').to_string(),
        ));
    }
    // Open MPI / Spectrum MPI: "mpirun (Open MPI) 4.1.4"
    for line in text.lines() {
        if let (Some(open), Some(close)) = (line.find('('), line.find(')')) {
            let name = &line[open + 1..close.max(open + 1)];
            // Open MPI's mpiexec names its runtime layer, OpenRTE.
            let name = if name == "OpenRTE" { "Open MPI" } else { name };
            if name.contains("MPI") {
                let version = line[close + 1..].split_whitespace().next()?;
                return Some((name.to_string(), version.to_string()));
            }
        }
    }
    // MPICH and derivatives (Hydra): "HYDRA build details:\n    Version:   4.0.2"
    if text.contains("HYDRA build details") {
        let version = text
            .lines()
            .find_map(|l| l.trim().strip_prefix("Version:"))?
            .trim()
            .to_string();
        let name = if text.to_lowercase().contains("mvapich") {
            "MVAPICH"
        } else {
            "MPICH"
        };
        return Some((name.to_string(), version));
    }
    // Slurm's srun: "slurm 23.02.7"
    let first = first_nonempty_line(text)?;
    if let Some(version) = first.strip_prefix("slurm ") {
        return Some(("Slurm".to_string(), version.trim().to_string()));
    }
    None
}

pub(crate) fn launcher(runner: &Runner, name: &str) -> Launcher {
    let missing = |reason: String| Launcher {
        name: name.to_string(),
        path: Fact::unknown(reason.clone()),
        implementation: Fact::unknown(reason.clone()),
        version: Fact::unknown(reason),
    };
    let Some(path) = runner.find(name) else {
        return missing(format!("`{name}` not found on PATH"));
    };
    let path_text = path.display().to_string();
    let parsed = match runner.run(name, &["--version"], PROBE_TIMEOUT) {
        Ok(output) => {
            let text = output.combined();
            parse_mpi_version(&text).ok_or_else(|| {
                format!(
                    "unrecognised `{name} --version` output: {}",
                    first_nonempty_line(&text).unwrap_or_else(|| "(empty)".to_string())
                )
            })
        }
        Err(error) => Err(error.to_string()),
    };
    let (implementation, version) = match parsed {
        Ok((implementation, version)) => (Fact::Known(implementation), Fact::Known(version)),
        Err(reason) => (Fact::unknown(reason.clone()), Fact::unknown(reason)),
    };
    Launcher {
        name: name.to_string(),
        path: Fact::Known(path_text),
        implementation,
        version,
    }
}

pub(crate) fn running_as_root() -> bool {
    #[cfg(unix)]
    {
        // SAFETY: geteuid has no preconditions and cannot fail.
        unsafe { libc::geteuid() == 0 }
    }
    #[cfg(not(unix))]
    {
        false
    }
}

/// The arguments of the one-process launch check for this launcher.
pub fn launch_arguments(implementation: Option<&str>, as_root: bool, program: &str) -> Vec<String> {
    let mut args = Vec::new();
    if as_root && implementation == Some("Open MPI") {
        args.push("--allow-run-as-root".to_string());
    }
    args.extend(["-n".to_string(), "1".to_string(), program.to_string()]);
    args
}

fn launch_check(runner: &Runner, launchers: &[Launcher]) -> Fact<LaunchCheck> {
    // srun outside an allocation would queue a job: only mpirun/mpiexec are tried.
    let Some(launcher) = launchers
        .iter()
        .filter(|l| l.name != "srun")
        .find(|l| l.path.known().is_some())
    else {
        return Fact::unknown("no mpirun or mpiexec on PATH");
    };
    let Some(program) = runner.find("true") else {
        return Fact::unknown("no `true` on PATH to launch");
    };
    let program = program.display().to_string();
    let args = launch_arguments(
        launcher.implementation.known().map(String::as_str),
        running_as_root(),
        &program,
    );
    let arg_refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let command = format!("{} {}", launcher.name, args.join(" "));
    match runner.run(&launcher.name, &arg_refs, PROBE_TIMEOUT) {
        Ok(output) => Fact::Known(LaunchCheck {
            command,
            succeeded: output.success,
            detail: output.outcome(),
            elapsed_ms: output.elapsed.as_secs_f64() * 1e3,
        }),
        Err(error) => Fact::unknown(format!("`{command}`: {error}")),
    }
}

/// MPI variables set by module systems, and the loaded modules whose name mentions MPI.
pub fn mpi_environment(env: &dyn Fn(&str) -> Option<String>) -> Vec<String> {
    const VARIABLES: [&str; 6] = [
        "CRAY_MPICH_VERSION",
        "CRAY_MPICH_DIR",
        "I_MPI_ROOT",
        "MPI_HOME",
        "MPI_ROOT",
        "MPICH_HOME",
    ];
    let variables = VARIABLES
        .iter()
        .filter_map(|name| Some(format!("{name}={}", env(name)?)));
    let modules = env("LOADEDMODULES")
        .unwrap_or_default()
        .split(':')
        .filter(|module| module.to_lowercase().contains("mpi"))
        .map(|module| format!("module {module}"))
        .collect::<Vec<_>>();
    variables.chain(modules).collect()
}

pub fn detect(runner: &Runner) -> Mpi {
    let launchers: Vec<Launcher> = thread::scope(|scope| {
        let handles: Vec<_> = LAUNCHERS
            .iter()
            .map(|name| scope.spawn(move || launcher(runner, name)))
            .collect();
        handles.into_iter().map(joined).collect()
    });
    Mpi {
        launch_check: launch_check(runner, &launchers),
        launchers,
        built_with_mpi: cfg!(feature = "mpi"),
        environment: mpi_environment(&|name: &str| std::env::var(name).ok()),
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    fn pair(name: &str, version: &str) -> Option<(String, String)> {
        Some((name.to_string(), version.to_string()))
    }

    #[test]
    fn open_mpi_version() {
        let text =
            "mpirun (Open MPI) 4.1.4\n\nReport bugs to http://www.open-mpi.org/community/help/\n";
        assert_eq!(parse_mpi_version(text), pair("Open MPI", "4.1.4"));
        assert_eq!(
            parse_mpi_version("mpiexec (OpenRTE) 4.1.4\n"),
            pair("Open MPI", "4.1.4")
        );
        assert_eq!(
            parse_mpi_version("mpirun (IBM Spectrum MPI) 10.4.0.3\n"),
            pair("IBM Spectrum MPI", "10.4.0.3")
        );
    }

    #[test]
    fn mpich_hydra_version() {
        let text = "HYDRA build details:\n    Version:                                 4.0.2\n    Release Date:                            Thu Apr  7 12:34:45 CDT 2022\n    CC:                              gcc\n";
        assert_eq!(parse_mpi_version(text), pair("MPICH", "4.0.2"));
        let mvapich = "HYDRA build details:\n    Version:                                 3.2.1\n    Configure options: --prefix=/opt/mvapich2\n";
        assert_eq!(parse_mpi_version(mvapich), pair("MVAPICH", "3.2.1"));
    }

    #[test]
    fn intel_mpi_version() {
        let text = "Intel(R) MPI Library for Linux* OS, Version 2021.9 Build 20230307 (id: d82b3071db)\nCopyright 2003-2023, Intel Corporation.\n";
        assert_eq!(parse_mpi_version(text), pair("Intel MPI", "2021.9"));
    }

    #[test]
    fn slurm_srun_version_and_unknown_output() {
        assert_eq!(
            parse_mpi_version("slurm 23.02.7\n"),
            pair("Slurm", "23.02.7")
        );
        assert_eq!(parse_mpi_version("usage: something else\n"), None);
        assert_eq!(parse_mpi_version(""), None);
    }

    #[test]
    fn module_system_hints() {
        let env = crate::detect::env_of(&[
            ("CRAY_MPICH_VERSION", "8.1.25"),
            (
                "LOADEDMODULES",
                "gcc/12.2:cray-mpich/8.1.25:python/3.11:OpenMPI/4.1.5",
            ),
        ]);
        assert_eq!(
            mpi_environment(&env),
            [
                "CRAY_MPICH_VERSION=8.1.25",
                "module cray-mpich/8.1.25",
                "module OpenMPI/4.1.5"
            ]
        );
        assert!(mpi_environment(&crate::detect::env_of(&[])).is_empty());
    }

    #[test]
    fn open_mpi_as_root_needs_the_override() {
        assert_eq!(
            launch_arguments(Some("Open MPI"), true, "/bin/true"),
            ["--allow-run-as-root", "-n", "1", "/bin/true"]
        );
        assert_eq!(
            launch_arguments(Some("MPICH"), true, "/bin/true"),
            ["-n", "1", "/bin/true"]
        );
        assert_eq!(
            launch_arguments(Some("Open MPI"), false, "/bin/true"),
            ["-n", "1", "/bin/true"]
        );
    }

    #[test]
    fn without_launchers_everything_is_a_clean_unknown() {
        let mpi = detect(&Runner::with_search_path(vec![PathBuf::from(
            "/nonexistent",
        )]));
        assert_eq!(mpi.launchers.len(), 3);
        assert!(mpi.launcher().is_none());
        assert_eq!(
            mpi.launchers[0].path,
            Fact::unknown("`mpirun` not found on PATH")
        );
        assert_eq!(
            mpi.launch_check,
            Fact::unknown("no mpirun or mpiexec on PATH")
        );
    }
}
