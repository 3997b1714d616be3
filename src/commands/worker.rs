//! `hpc-advisor worker` (hidden): one worker process of the `processes` variant.
//!
//! Its stdout carries binary frames only, so nothing else may print there.

use std::io::{self, BufWriter};

use hpc_kernels::scatter::variants::processes::{self, WorkerFault};

use crate::cli::WorkerArgs;
use crate::error::user_error;

pub fn run(args: &WorkerArgs) -> anyhow::Result<()> {
    let fault = args
        .fault
        .as_deref()
        .map(str::parse::<WorkerFault>)
        .transpose()
        .map_err(|e| user_error(e, "this flag exists for the test suite only"))?;
    // Frames are written whole and flushed by `serve`; stdout's own buffer flushes per line.
    let output = BufWriter::new(io::stdout().lock());
    processes::serve(io::stdin().lock(), output, fault)?;
    Ok(())
}
