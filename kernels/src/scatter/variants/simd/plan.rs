//! Which division formulation the SIMD kernel runs with on this core: measured once per process, never assumed.
//!
//! Whether the hardware's square roots and divisions or their divide-free
//! replacements are faster depends on the core's divider, not on its
//! instruction set: on AMD Zen 4 (pipelined divider) the hardware form was
//! measured 1.11-1.16x faster, because the replacements add FMAs to a kernel already
//! bound by its FMA pipes; on Intel cores (one slow unit shared by both) the
//! divider bounds the hardware form. So, as FFTW's planner does, both are
//! timed on a small slice of a real problem and the faster one is kept for
//! the process: 0.14 ms on AVX-512 (AMD Zen 4), once per instruction set.

use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use num_complex::Complex32;

use super::SimdRows;
use super::division::Formulation;
use super::isa::Isa;
use crate::scatter::geometry::Scene;
use crate::scatter::problem::Problem;
use crate::scatter::variants::rows::RowKernel;

/// The formulation chosen for one instruction set, with the timings it was chosen by.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Plan {
    pub formulation: Formulation,
    /// Fastest time of the probe slice with [`Formulation::Hardware`] and [`Formulation::Refined`].
    pub hardware: Duration,
    pub refined: Duration,
}

impl Plan {
    /// How much slower the formulation not chosen was (at least 1).
    pub fn margin(&self) -> f64 {
        let (hardware, refined) = (self.hardware.as_secs_f64(), self.refined.as_secs_f64());
        match self.formulation {
            Formulation::Hardware => refined / hardware,
            Formulation::Refined => hardware / refined,
        }
    }
}

/// Timed rounds per formulation, alternated so a change of clock or load hits both.
const ROUNDS: usize = 7;

/// The plan for `isa`: measured at the first call for that level, then reused.
pub fn fastest(isa: Isa) -> Plan {
    static PLANS: Mutex<Vec<(&'static str, Plan)>> = Mutex::new(Vec::new());
    let mut plans = PLANS.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some((_, plan)) = plans.iter().find(|(name, _)| *name == isa.name()) {
        return *plan;
    }
    let plan = measure(isa);
    plans.push((isa.name(), plan));
    plan
}

/// Times every row of a 12 x 3-cell default problem with 64 segments (about 3000 pairs) per formulation.
fn measure(isa: Isa) -> Plan {
    let problem = Problem::builder()
        .cells(12, 3)
        .segments(64)
        .build()
        .expect("the probe problem is valid");
    let scene = Scene::new(&problem);
    let kernels = Formulation::ALL.map(|formulation| SimdRows::on(isa, formulation));
    let prepared = kernels.map(|kernel| kernel.prepare(&scene));
    let nodes = scene.grid.x.len();
    let (mut incident, mut scattered) =
        (vec![Complex32::ZERO; nodes], vec![Complex32::ZERO; nodes]);
    let mut fastest = [Duration::MAX; 2];
    for _ in 0..ROUNDS {
        for (which, (kernel, prepared)) in kernels.iter().zip(&prepared).enumerate() {
            let started = Instant::now();
            for j in 0..scene.grid.y.len() {
                incident.fill(Complex32::ZERO);
                kernel.row(&scene, prepared, j, &mut incident, &mut scattered);
            }
            fastest[which] = fastest[which].min(started.elapsed());
        }
    }
    let [hardware, refined] = fastest;
    Plan {
        formulation: if refined < hardware {
            Formulation::Refined
        } else {
            Formulation::Hardware
        },
        hardware,
        refined,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_plan_keeps_the_faster_formulation_and_is_measured_once() {
        for isa in Isa::available() {
            let plan = fastest(isa);
            let faster = plan.hardware.min(plan.refined);
            let chosen = match plan.formulation {
                Formulation::Hardware => plan.hardware,
                Formulation::Refined => plan.refined,
            };
            assert_eq!(chosen, faster, "{isa}: {plan:?}");
            assert!(plan.margin() >= 1.0, "{isa}: {plan:?}");
            assert!(faster > Duration::ZERO, "{isa}: {plan:?}");
            // Cached: the same timings, not a second measurement.
            assert_eq!(fastest(isa), plan, "{isa}");
            // What the measurement costs a process (printed: the docs quote it).
            let started = std::time::Instant::now();
            let again = measure(isa);
            eprintln!(
                "{isa}: plan measured in {:.2} ms, {} {:.2}x faster",
                started.elapsed().as_secs_f64() * 1e3,
                again.formulation.name(),
                again.margin()
            );
        }
    }
}
