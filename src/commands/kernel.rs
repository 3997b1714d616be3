//! `hpc-advisor kernel list|run`: the ladder's variants, one at a time.

use std::io::{self, Write};
use std::time::Instant;

use anyhow::Context;
use hpc_kernels::scatter::variants::gpu::tolerance_for;
use hpc_kernels::scatter::{Availability, Field, Grid, Problem, RunSettings, Variant, registry};
use tabled::settings::Style;
use tabled::{Table, Tabled};

use crate::advise::reading::{Unit, duration};
use crate::cli::{KernelCommand, KernelRunArgs, ListArgs};
use crate::error::user_error;
use crate::output::{fit_to_terminal, write_new_file};
use crate::report::kernel_run::report_line;

/// Refuse runs estimated above an hour (or fields above 8 GiB) unless forced.
const MAX_ESTIMATED_SECONDS: f64 = 3600.0;
const MAX_FIELD_BYTES: u64 = 8 << 30;

/// The checksums of `kernel-spec.md`: (nx = ny = nc, checksum), default contour and wavelength.
const SPEC_CHECKSUMS: [(usize, f64); 3] = [
    (128, 4686.339327725555),
    (64, 1187.6032737512362),
    (32, 326.47528735635234),
];

pub fn run(command: KernelCommand) -> anyhow::Result<()> {
    match command {
        KernelCommand::List(args) => list(&args),
        KernelCommand::Run(args) => run_variant(&args),
    }
}

#[derive(Tabled)]
struct VariantRow {
    variant: &'static str,
    description: &'static str,
    #[tabled(rename = "Python analogue")]
    python: &'static str,
    needs: &'static str,
    #[tabled(rename = "runs here")]
    runs_here: String,
}

fn list(args: &ListArgs) -> anyhow::Result<()> {
    let mut out = io::stdout().lock();
    writeln!(out, "The Rust ladder:")?;
    write_variant_table(&mut out, registry::all().iter().copied(), args.wide)?;
    writeln!(
        out,
        "\nThe Python ladder (kernels/python/, run by {}):",
        hpc_kernels::scatter::variants::python::interpreter::interpreter().to_string_lossy()
    )?;
    write_variant_table(&mut out, registry::python(), args.wide)?;
    Ok(())
}

fn write_variant_table(
    out: &mut impl Write,
    variants: impl Iterator<Item = &'static dyn Variant>,
    wide: bool,
) -> anyhow::Result<()> {
    let rows = variants.map(|v| VariantRow {
        variant: v.name(),
        description: v.summary(),
        python: v.python_analogue(),
        needs: v.needs(),
        runs_here: match v.availability() {
            Availability::Available => "yes".to_string(),
            Availability::Unavailable { reason, hint } => format!("no: {reason} ({hint})"),
        },
    });
    let mut table = Table::new(rows);
    table.with(Style::sharp());
    if !wide {
        // The widest columns wrap first, at word boundaries.
        fit_to_terminal(&mut table);
    }
    writeln!(out, "{table}")?;
    Ok(())
}

/// Looks a variant up by name, with the list of names in the error.
pub fn find_variant(name: &str) -> anyhow::Result<&'static dyn Variant> {
    registry::find(name).ok_or_else(|| {
        user_error(
            format!("unknown variant `{name}`"),
            format!("choose one of: {}", registry::names().join(", ")),
        )
    })
}

/// Fields a run holds at once: the variant's, and the reference it is checked against.
const FIELDS_HELD: u64 = 2;

/// Refuses a problem whose fields would not fit in the memory this process may use, even when
/// forced (it could only end in the out-of-memory killer).
fn check_memory(problem: &Problem, usable: Option<(u64, String)>) -> anyhow::Result<()> {
    let needed = problem.estimate().field_bytes.saturating_mul(FIELDS_HELD);
    match usable {
        Some((bytes, what)) if needed > bytes => Err(user_error(
            format!(
                "this problem needs about {} ({FIELDS_HELD} fields of {} grid nodes), more than the {} this process may use ({what})",
                Unit::Bytes.format(needed as f64),
                problem.estimate().nodes,
                Unit::Bytes.format(bytes as f64),
            ),
            "reduce --nx or --ny, or run where more memory is free",
        )),
        _ => Ok(()),
    }
}

/// Refuses problems that would not fit in memory, and, unless `force`, those whose estimated
/// run time or memory is absurd.
pub fn check_workload(
    problem: &Problem,
    variant: &dyn Variant,
    settings: &RunSettings,
    force: bool,
) -> anyhow::Result<()> {
    let layout = crate::detect::cgroup::current_layout();
    check_memory(
        problem,
        crate::detect::memory::usable_bytes(&crate::detect::memory::detect(&layout)),
    )?;
    let estimate = problem.estimate();
    let seconds = estimate.seconds(variant.nominal_ns_per_pair(), variant.workers(settings));
    if force || (seconds <= MAX_ESTIMATED_SECONDS && estimate.field_bytes <= MAX_FIELD_BYTES) {
        return Ok(());
    }
    Err(user_error(
        format!(
            "this problem is too large: {} pair evaluations would take about {} with `{}` and need {:.1} GiB for the field",
            estimate.max_pairs,
            duration(seconds),
            variant.name(),
            estimate.field_bytes as f64 / f64::from(1u32 << 30),
        ),
        "reduce --nx, --ny or --nc, choose a faster variant, or pass --force to run it anyway",
    ))
}

/// The variant named, if it exists, the problem is reasonable for it (or forced) and it can run here.
pub fn runnable_variant(
    name: &str,
    problem: &Problem,
    settings: &RunSettings,
    force: bool,
) -> anyhow::Result<&'static dyn Variant> {
    let variant = find_variant(name)?;
    check_workload(problem, variant, settings, force)?;
    if let Availability::Unavailable { reason, hint } = variant.availability() {
        return Err(user_error(
            format!("variant `{}` cannot run here: {reason}", variant.name()),
            hint,
        ));
    }
    Ok(variant)
}

fn run_variant(args: &KernelRunArgs) -> anyhow::Result<()> {
    let problem = args.problem.to_problem()?;
    let mut settings = args.parallel.to_settings()?;
    let variant = runnable_variant(&args.variant, &problem, &settings, args.problem.force)?;
    if variant.name() == hpc_kernels::scatter::variants::python::PY_MPI4PY.name() {
        settings.mpi_launcher =
            crate::distributed::launcher::detected_launch_prefix(args.parallel.workers);
    }
    let started = Instant::now();
    let output = variant
        .run(&problem, &settings)
        .map_err(|e| match e.hint() {
            Some(hint) => user_error(e.to_string(), hint),
            None => anyhow::Error::new(e),
        })?;
    // A Python rung times its own computation: the interpreter's start and the transfer are phases.
    let wall = output
        .own_timing
        .map_or(started.elapsed(), |timing| timing.wall)
        .as_secs_f64();
    // The spec's 1e-6, or the documented relaxed tolerance of a single-precision GPU run.
    let spec_tolerance = tolerance_for(&output).1.max(1e-6);
    // MPI ranks other than 0 hold no field and print nothing.
    let Some(field) = output.field else {
        return Ok(());
    };
    let pairs = field.outside_nodes() as u64 * problem.nc() as u64;
    let checksum = field.checksum();
    let mut out = io::stdout().lock();
    report_line(&mut out, "variant", variant.name())?;
    report_line(&mut out, "problem", &problem)?;
    if problem.was_reoriented() {
        report_line(
            &mut out,
            "note",
            "the contour ran clockwise and was reversed to run anticlockwise",
        )?;
    }
    report_line(&mut out, "checksum", format_args!("{checksum:.10}"))?;
    report_line(&mut out, "pairs", pairs)?;
    report_line(&mut out, "wall time", format_args!("{:.3} ms", wall * 1e3))?;
    let ns_per_pair = wall * 1e9 / pairs.max(1) as f64;
    report_line(&mut out, "ns per pair", format_args!("{ns_per_pair:.3}"))?;
    for phase in &output.phases {
        let ms = phase.duration.as_secs_f64() * 1e3;
        report_line(
            &mut out,
            "phase",
            format_args!("{}: {ms:.3} ms", phase.name),
        )?;
    }
    for note in &output.notes {
        report_line(&mut out, "note", note)?;
    }
    if args.checksum {
        verify_spec_checksum(&problem, checksum, spec_tolerance, &mut out)?;
    }
    drop(out);
    if let Some(path) = &args.output {
        write_new_file(path, |w| write_csv(&field, &Grid::new(&problem), w))
            .with_context(|| format!("writing the field to {}", path.display()))?;
    }
    Ok(())
}

fn verify_spec_checksum(
    problem: &Problem,
    checksum: f64,
    tolerance: f64,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    let reference = SPEC_CHECKSUMS.iter().find(|(n, _)| {
        problem.nx() == *n
            && problem.ny() == *n
            && problem.nc() == *n
            && problem.wavelength() == Problem::DEFAULT_WAVELENGTH
            && *problem.contour() == hpc_kernels::scatter::Contour::Default
    });
    let Some(&(_, expected)) = reference else {
        report_line(
            out,
            "reference",
            "none for this problem (the spec lists 32^3, 64^3 and 128^3 with the default contour)",
        )?;
        return Ok(());
    };
    let relative = (checksum - expected).abs() / expected;
    report_line(
        out,
        "reference",
        format_args!("{expected} (relative difference {relative:.1e})"),
    )?;
    if relative > tolerance {
        return Err(user_error(
            format!(
                "the checksum {checksum} differs from the reference {expected} by {relative:.1e} (more than {tolerance:.0e})"
            ),
            "this variant computes a wrong field here: do not trust its timing; please report it",
        ));
    }
    Ok(())
}

fn write_csv(field: &Field, grid: &Grid, w: &mut dyn Write) -> io::Result<()> {
    writeln!(
        w,
        "j,i,x,y,incident_re,incident_im,scattered_re,scattered_im"
    )?;
    let nodes_x = field.nodes_x();
    for (index, (inc, scat)) in field.incident.iter().zip(&field.scattered).enumerate() {
        let (j, i) = (index / nodes_x, index % nodes_x);
        writeln!(
            w,
            "{j},{i},{},{},{},{},{},{}",
            grid.x[i], grid.y[j], inc.re, inc.im, scat.re, scat.im
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_problem_beyond_the_usable_memory_is_refused_with_both_figures() {
        // 1001 x 1001 nodes of 16 bytes, two fields: about 30.6 MiB.
        let problem = Problem::builder().cells(1000, 1000).build().unwrap();
        let limit = Some((16 << 20, "the cgroup's memory limit".to_string()));
        let message = check_memory(&problem, limit).unwrap_err().to_string();
        assert!(
            message.contains("30.6 MiB (2 fields of 1002001 grid nodes)"),
            "{message}"
        );
        assert!(
            message.contains("the 16 MiB this process may use (the cgroup's memory limit)"),
            "{message}"
        );
        assert!(check_memory(&problem, Some((64 << 20, "available".into()))).is_ok());
        assert!(
            check_memory(&problem, None).is_ok(),
            "unknown memory refuses nothing"
        );
    }
}
