//! `processes`: the process pool rung, what `multiprocessing`/Pathos or GNU Parallel give Python.
//!
//! The parent starts N worker processes of the `hpc-advisor` binary (its
//! hidden `worker` subcommand, which calls [`serve`]), sends each the problem,
//! then hands out chunks of rows dynamically (two in flight per worker, so a
//! worker never waits for the parent) and copies the rows that come back
//! into the field. Measured against `threads`, the difference is what
//! process start-up and pipe transfer cost on this machine.
//!
//! A worker that fails, exits early, is killed or sends anything but the
//! rows it was asked for fails the whole run with an error naming the
//! worker: the other workers are killed and every worker is reaped.

pub mod protocol;
mod worker;

use std::collections::VecDeque;
use std::ffi::OsString;
use std::io::{BufReader, BufWriter, Write};
use std::ops::Range;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use num_complex::Complex32;

pub use worker::{ServeError, WorkerFault, serve};

use crate::scatter::field::Field;
use crate::scatter::geometry::Scene;
use crate::scatter::problem::Problem;
use crate::scatter::variant::{Availability, Phase, RunOutput, RunSettings, Variant, VariantError};
use crate::scatter::variants::children;
use crate::scatter::variants::rows::RowKernel;
use crate::scatter::variants::{BEST_ROWS, BEST_ROWS_INFO};
use protocol::{Message, read_message, write_message};

/// The binary whose hidden subcommand serves as a worker.
pub const WORKER_PROGRAM: &str = "hpc-advisor";
/// The hidden subcommand of [`WORKER_PROGRAM`] that runs [`serve`].
pub const WORKER_SUBCOMMAND: &str = "worker";
/// Chunk requests each worker has in flight.
const REQUESTS_IN_FLIGHT: usize = 2;
/// Chunks per worker: enough for dynamic balancing, few enough to keep frames large.
const CHUNKS_PER_WORKER: usize = 8;

const NAME: &str = "processes";

/// Rows computed by worker processes of this binary, gathered over pipes.
#[derive(Debug)]
pub struct Processes;

pub static PROCESSES: Processes = Processes;

impl Variant for Processes {
    fn name(&self) -> &'static str {
        NAME
    }
    fn summary(&self) -> &'static str {
        "rows handed out in chunks to worker processes, results sent back over pipes"
    }
    fn python_analogue(&self) -> &'static str {
        "a process pool (multiprocessing, Pathos) or GNU Parallel"
    }
    fn needs(&self) -> &'static str {
        "the hpc-advisor binary (its hidden `worker` subcommand)"
    }
    fn availability(&self) -> Availability {
        match default_worker_command() {
            Ok(_) => Availability::Available,
            Err(reason) => Availability::Unavailable {
                reason,
                hint: worker_hint(),
            },
        }
    }
    fn workers(&self, settings: &RunSettings) -> usize {
        settings.resolved_workers()
    }
    /// Each worker runs [`BEST_ROWS`]: its cost per pair.
    fn nominal_ns_per_pair(&self) -> f64 {
        BEST_ROWS_INFO.nominal_ns_per_pair
    }
    fn bytes_per_pair(&self) -> f64 {
        BEST_ROWS_INFO.bytes_per_pair
    }
    fn run(&self, problem: &Problem, settings: &RunSettings) -> Result<RunOutput, VariantError> {
        let command = match &settings.worker_command {
            Some(command) if !command.is_empty() => command.clone(),
            Some(_) => return Err(VariantError::failed(NAME, "the worker command is empty")),
            None => default_worker_command().map_err(|reason| VariantError::Unavailable {
                variant: NAME,
                reason,
                hint: worker_hint(),
            })?,
        };
        let scene = Scene::new(problem);
        let workers = settings.resolved_workers().min(scene.nodes_y());
        let chunks = row_chunks(scene.nodes_y(), workers * CHUNKS_PER_WORKER);
        let started = Instant::now();
        let mut pool = WorkerPool::start(&command, workers)
            .map_err(|message| VariantError::failed(NAME, message))?;
        let spawned = started.elapsed();
        let silence = settings.worker_timeout.unwrap_or_else(|| {
            // Generous: a loaded machine must not look like a hung worker.
            Duration::from_secs_f64(
                30.0 + 20.0
                    * problem
                        .estimate()
                        .seconds(self.nominal_ns_per_pair(), workers),
            )
        });
        let outcome = pool.compute(problem, &scene, &chunks, silence);
        let field = pool
            .finish(outcome)
            .map_err(|message| VariantError::failed(NAME, message))?;
        let mut output = RunOutput::field(field);
        output.phases = vec![
            Phase {
                name: "spawn workers",
                duration: spawned,
            },
            Phase {
                name: "compute and gather",
                duration: started.elapsed() - spawned,
            },
        ];
        if let Some(note) = BEST_ROWS.describe() {
            output = output.with_note(note);
        }
        Ok(output.with_note(format!(
            "{workers} worker processes, {} chunks of up to {} rows",
            chunks.len(),
            chunks.first().map_or(0, |c| c.len())
        )))
    }
}

fn worker_hint() -> String {
    format!(
        "run it through the `{WORKER_PROGRAM}` binary, or set `RunSettings::worker_command` to \
         `{WORKER_PROGRAM} {WORKER_SUBCOMMAND}`"
    )
}

/// This executable with the `worker` subcommand, when this executable is `hpc-advisor`.
///
/// Any other program (a test harness, a program embedding this crate) does
/// not understand the subcommand, so the variant is unavailable there unless
/// a worker command is given explicitly.
pub fn default_worker_command() -> Result<Vec<OsString>, String> {
    let exe = std::env::current_exe()
        .map_err(|e| format!("cannot find this executable to start workers: {e}"))?;
    if exe.file_stem().and_then(|s| s.to_str()) != Some(WORKER_PROGRAM) {
        return Err(format!(
            "this program ({}) is not `{WORKER_PROGRAM}`, whose hidden `{WORKER_SUBCOMMAND}` \
             subcommand the worker processes run",
            exe.display()
        ));
    }
    Ok(vec![exe.into_os_string(), WORKER_SUBCOMMAND.into()])
}

/// Splits `rows` into at most `chunks` consecutive ranges of nearly equal length.
fn row_chunks(rows: usize, chunks: usize) -> Vec<Range<usize>> {
    let size = rows.div_ceil(chunks.clamp(1, rows.max(1)));
    (0..rows)
        .step_by(size.max(1))
        .map(|start| start..(start + size).min(rows))
        .collect()
}

/// The running worker processes, owned so that they are always killed or waited for.
struct WorkerPool {
    children: Vec<Child>,
    program: String,
}

/// What a worker's driver thread reports to the collecting thread.
enum Event {
    Rows {
        first_row: usize,
        incident: Vec<Complex32>,
        scattered: Vec<Complex32>,
    },
    Finished {
        worker: usize,
        result: Result<(), String>,
    },
}

impl WorkerPool {
    fn start(command: &[OsString], workers: usize) -> Result<WorkerPool, String> {
        let mut pool = WorkerPool {
            children: Vec::with_capacity(workers),
            program: command[0].to_string_lossy().into_owned(),
        };
        for worker in 0..workers {
            let mut spawning = Command::new(&command[0]);
            children::in_own_process_group(&mut spawning);
            let spawned = spawning
                .args(&command[1..])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit())
                .spawn();
            match spawned {
                Ok(child) => pool.children.push(child),
                Err(e) => {
                    let message = format!("cannot start worker {worker} (`{}`): {e}", pool.program);
                    return Err(pool.finish(Err(message)).unwrap_err());
                }
            }
        }
        Ok(pool)
    }

    /// Drives every worker on its own thread and assembles the field.
    fn compute(
        &mut self,
        problem: &Problem,
        scene: &Scene,
        chunks: &[Range<usize>],
        silence: Duration,
    ) -> Result<Field, String> {
        let nodes_x = scene.nodes_x();
        let pipes: Vec<(ChildStdin, ChildStdout)> = self
            .children
            .iter_mut()
            .map(|child| {
                let stdin = child.stdin.take().expect("stdin is piped");
                let stdout = child.stdout.take().expect("stdout is piped");
                (stdin, stdout)
            })
            .collect();
        let next_chunk = AtomicUsize::new(0);
        let mut field = Field::zeros(nodes_x, scene.nodes_y());
        let mut rows_received = 0;
        let mut first_error: Option<String> = None;
        let (events, received) = mpsc::channel();
        std::thread::scope(|scope| {
            for (worker, (stdin, stdout)) in pipes.into_iter().enumerate() {
                let events = events.clone();
                let next_chunk = &next_chunk;
                scope.spawn(move || {
                    let driver = Driver {
                        nodes_x,
                        chunks,
                        next_chunk,
                        events: &events,
                    };
                    let result = driver.run(problem, stdin, stdout);
                    let _ = events.send(Event::Finished { worker, result });
                });
            }
            drop(events);
            let mut finished = vec![false; self.children.len()];
            loop {
                let event = match received.recv_timeout(silence) {
                    Ok(event) => event,
                    Err(mpsc::RecvTimeoutError::Disconnected) => break,
                    Err(mpsc::RecvTimeoutError::Timeout) => {
                        // Nothing from any worker for that long: the unfinished ones hang.
                        let hung = finished.iter().position(|done| !done).unwrap_or(0);
                        if first_error.is_none() {
                            first_error = Some(self.describe_failure(
                                hung,
                                &format!(
                                    "stopped answering after {:.1} s; killed",
                                    silence.as_secs_f64()
                                ),
                            ));
                        }
                        // Closing their pipes ends every driver thread, and with it the loop.
                        self.kill_all();
                        continue;
                    }
                };
                if let Event::Finished { worker, .. } = &event {
                    finished[*worker] = true;
                }
                match event {
                    Event::Rows {
                        first_row,
                        incident,
                        scattered,
                    } => {
                        let span = first_row * nodes_x..first_row * nodes_x + incident.len();
                        rows_received += incident.len() / nodes_x;
                        field.incident[span.clone()].copy_from_slice(&incident);
                        field.scattered[span].copy_from_slice(&scattered);
                    }
                    Event::Finished { result: Ok(()), .. } => {}
                    Event::Finished {
                        worker,
                        result: Err(message),
                    } => {
                        if first_error.is_none() {
                            first_error = Some(self.describe_failure(worker, &message));
                            // Unblocks every driver thread: their pipes close.
                            self.kill_all();
                        }
                    }
                }
            }
        });
        if let Some(error) = first_error {
            return Err(error);
        }
        if rows_received != scene.nodes_y() {
            return Err(format!(
                "only {rows_received} of {} rows came back from the workers",
                scene.nodes_y()
            ));
        }
        Ok(field)
    }

    /// Names the failed worker, with its exit status once it has stopped.
    fn describe_failure(&mut self, worker: usize, message: &str) -> String {
        let child = &mut self.children[worker];
        let pid = child.id();
        // A worker that closed its pipes is usually exiting: give it a moment to say how.
        let status = (0..50).find_map(|_| match child.try_wait() {
            Ok(Some(status)) => Some(format!("; it stopped with {status}")),
            Ok(None) => {
                std::thread::sleep(std::time::Duration::from_millis(10));
                None
            }
            Err(_) => Some(String::new()),
        });
        format!(
            "worker {worker} of {} (`{}`, pid {pid}) {message}{}",
            self.children.len(),
            self.program,
            status.unwrap_or_default()
        )
    }

    /// Kills every worker with what it started (a worker command may be a shell script).
    fn kill_all(&mut self) {
        for child in &mut self.children {
            children::kill_group(child);
        }
    }

    /// Reaps every worker. On error the workers are killed first; on success
    /// each must have exited cleanly after its input closed.
    fn finish(mut self, outcome: Result<Field, String>) -> Result<Field, String> {
        if outcome.is_err() {
            self.kill_all();
        }
        let mut outcome = outcome;
        for (worker, child) in self.children.iter_mut().enumerate() {
            drop(child.stdin.take());
            let status = child.wait();
            if outcome.is_ok() {
                match status {
                    Ok(status) if status.success() => {}
                    Ok(status) => {
                        outcome = Err(format!(
                            "worker {worker} (`{}`) returned every row but stopped with {status}",
                            self.program
                        ));
                    }
                    Err(e) => outcome = Err(format!("cannot wait for worker {worker}: {e}")),
                }
            }
        }
        outcome
    }
}

/// One worker's conversation: setup, then chunks until none is left.
struct Driver<'a> {
    nodes_x: usize,
    chunks: &'a [Range<usize>],
    next_chunk: &'a AtomicUsize,
    events: &'a mpsc::Sender<Event>,
}

impl Driver<'_> {
    fn run(&self, problem: &Problem, stdin: ChildStdin, stdout: ChildStdout) -> Result<(), String> {
        let mut to_worker = BufWriter::new(stdin);
        let mut from_worker = BufReader::new(stdout);
        let setup = Message::Setup {
            problem: problem.clone(),
        };
        let mut in_flight = VecDeque::with_capacity(REQUESTS_IN_FLIGHT);
        // A worker that stops reading is reported by what it sent before (a failure
        // frame, or the end of its output), so a write error waits for those replies.
        let mut send_error = write_message(&mut to_worker, &setup)
            .err()
            .map(|e| format!("could not be sent the problem: {e}"));
        for _ in 0..REQUESTS_IN_FLIGHT {
            self.request_next(&mut to_worker, &mut in_flight, &mut send_error);
        }
        while let Some(expected) = in_flight.pop_front() {
            let reply = read_message(&mut from_worker)
                .map_err(|e| format!("sent malformed data for rows {expected:?}: {e}"))?
                .ok_or_else(|| format!("closed its output before returning rows {expected:?}"))?;
            match reply {
                Message::Rows {
                    first_row: returned_row,
                    nodes_x: returned_width,
                    incident,
                    scattered,
                } => {
                    let rows = incident.len() / self.nodes_x.max(1);
                    if returned_row != expected.start as u64
                        || returned_width != self.nodes_x as u64
                        || rows != expected.len()
                    {
                        return Err(format!(
                            "returned {rows} rows of {returned_width} nodes from row {returned_row} when \
                             asked for rows {expected:?} of {} nodes",
                            self.nodes_x
                        ));
                    }
                    let event = Event::Rows {
                        first_row: expected.start,
                        incident,
                        scattered,
                    };
                    if self.events.send(event).is_err() {
                        return Ok(());
                    }
                }
                Message::Failed { message } => return Err(format!("failed: {message}")),
                other => {
                    return Err(format!(
                        "sent a {} frame where rows {expected:?} were expected",
                        other.kind_name()
                    ));
                }
            }
            self.request_next(&mut to_worker, &mut in_flight, &mut send_error);
        }
        send_error.map_or(Ok(()), Err)
    }

    /// Sends the next unclaimed chunk, if any, and records it as in flight;
    /// after a failed send nothing more is sent.
    fn request_next(
        &self,
        to_worker: &mut impl Write,
        in_flight: &mut VecDeque<Range<usize>>,
        send_error: &mut Option<String>,
    ) {
        if send_error.is_some() {
            return;
        }
        let next = self.next_chunk.fetch_add(1, Ordering::Relaxed);
        let Some(chunk) = self.chunks.get(next) else {
            return;
        };
        let request = Message::Compute {
            rows: chunk.start as u64..chunk.end as u64,
        };
        match write_message(to_worker, &request).and_then(|()| Ok(to_worker.flush()?)) {
            Ok(()) => in_flight.push_back(chunk.clone()),
            Err(e) => *send_error = Some(format!("could not be sent rows {chunk:?}: {e}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_cover_every_row_once() {
        for (rows, chunks) in [(129, 16), (5, 16), (1, 1), (257, 8), (64, 64)] {
            let ranges = row_chunks(rows, chunks);
            assert!(
                ranges.len() <= chunks,
                "{rows} rows in {chunks}: {ranges:?}"
            );
            let covered: Vec<usize> = ranges.iter().flat_map(|r| r.clone()).collect();
            assert_eq!(covered, (0..rows).collect::<Vec<_>>());
        }
    }

    #[test]
    fn a_test_harness_is_not_a_worker() {
        let reason = default_worker_command().unwrap_err();
        assert!(reason.contains("is not `hpc-advisor`"), "{reason}");
        assert!(matches!(
            PROCESSES.availability(),
            Availability::Unavailable { .. }
        ));
    }

    #[test]
    fn a_missing_worker_program_fails_cleanly() {
        let settings = RunSettings {
            worker_command: Some(vec!["/nonexistent/hpc-advisor".into(), "worker".into()]),
            workers: Some(2),
            ..RunSettings::default()
        };
        let problem = Problem::builder().cells(8, 8).segments(8).build().unwrap();
        let error = PROCESSES.run(&problem, &settings).unwrap_err();
        assert!(
            error.to_string().contains("cannot start worker 0"),
            "{error}"
        );
    }
}
