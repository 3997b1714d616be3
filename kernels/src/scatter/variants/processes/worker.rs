//! The worker side of `processes`: read a problem and row requests on stdin, answer rows on stdout.
//!
//! The `hpc-advisor worker` subcommand only calls [`serve`]. [`WorkerFault`]
//! makes every worker misbehave on purpose at its second compute request, so
//! the parent's error handling can be tested against real processes; nothing
//! but tests sets it.

use std::io::{Read, Write};
use std::str::FromStr;

use num_complex::Complex32;
use thiserror::Error;

use super::protocol::{Message, ProtocolError, read_message, write_message};
use crate::scatter::geometry::Scene;
use crate::scatter::variants::BEST_ROWS;
use crate::scatter::variants::rows::{RowKernel, run_rows};

/// A deliberate misbehaviour of a worker at its second compute request (tests only).
///
/// Every worker carries it: the parent hands out chunks to whichever worker
/// asks first, so worker 0 alone might never be asked twice on a busy
/// machine, but with more chunks than workers some worker always is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkerFault {
    /// Report a failure frame and stop with an error.
    Fail,
    /// Stop quietly with success, leaving the request unanswered.
    Exit,
    /// Write bytes that are not a frame.
    Garbage,
    /// Answer with rows shifted by one.
    WrongRow,
    /// Kill itself with SIGABRT.
    Abort,
}

impl WorkerFault {
    pub const NAMES: [&'static str; 5] = ["fail", "exit", "garbage", "wrong-row", "abort"];
}

impl FromStr for WorkerFault {
    type Err = String;
    fn from_str(text: &str) -> Result<WorkerFault, String> {
        match text {
            "fail" => Ok(WorkerFault::Fail),
            "exit" => Ok(WorkerFault::Exit),
            "garbage" => Ok(WorkerFault::Garbage),
            "wrong-row" => Ok(WorkerFault::WrongRow),
            "abort" => Ok(WorkerFault::Abort),
            other => Err(format!(
                "unknown worker fault `{other}`; known: {}",
                WorkerFault::NAMES.join(", ")
            )),
        }
    }
}

/// Why a worker stopped serving.
#[derive(Debug, Error)]
pub enum ServeError {
    #[error(transparent)]
    Protocol(#[from] ProtocolError),
    #[error("{0}")]
    Request(String),
}

/// Serves one parent until it closes `input`: a setup frame, then compute requests.
///
/// A request the worker cannot honour is answered with a failure frame
/// before the error is returned, so the parent can say why.
pub fn serve(
    mut input: impl Read,
    mut output: impl Write,
    fault: Option<WorkerFault>,
) -> Result<(), ServeError> {
    let result = serve_requests(&mut input, &mut output, fault);
    if let Err(ServeError::Request(message)) = &result {
        // Best effort: the parent may already be gone.
        let failed = Message::Failed {
            message: message.clone(),
        };
        if write_message(&mut output, &failed).is_ok() {
            let _ = output.flush();
        }
    }
    result
}

fn serve_requests(
    input: &mut impl Read,
    output: &mut impl Write,
    fault: Option<WorkerFault>,
) -> Result<(), ServeError> {
    let problem = match read_message(input)? {
        Some(Message::Setup { problem }) => problem,
        Some(other) => {
            return Err(ServeError::Request(format!(
                "expected a setup frame first, got a {} frame",
                other.kind_name()
            )));
        }
        None => return Ok(()),
    };
    let scene = Scene::new(&problem);
    let prepared = BEST_ROWS.prepare(&scene);
    let (nodes_x, nodes_y) = (scene.nodes_x(), scene.nodes_y());
    let mut requests = 0;
    while let Some(message) = read_message(input)? {
        let Message::Compute { rows } = message else {
            return Err(ServeError::Request(format!(
                "expected a compute frame, got a {} frame",
                message.kind_name()
            )));
        };
        if rows.end > nodes_y as u64 {
            return Err(ServeError::Request(format!(
                "rows {rows:?} are outside the grid's {nodes_y} rows"
            )));
        }
        requests += 1;
        let mut first_row = rows.start;
        match fault {
            Some(fault) if requests == 2 => match fault {
                WorkerFault::Fail => {
                    return Err(ServeError::Request("told to fail (test fault)".into()));
                }
                WorkerFault::Exit => return Ok(()),
                WorkerFault::Garbage => {
                    output
                        .write_all(b"this is not a frame")
                        .and_then(|()| output.flush())
                        .map_err(ProtocolError::Io)?;
                    continue;
                }
                WorkerFault::WrongRow => first_row += 1,
                WorkerFault::Abort => std::process::abort(),
            },
            _ => {}
        }
        let range = rows.start as usize..rows.end as usize;
        let nodes = range.len() * nodes_x;
        let mut incident = vec![Complex32::new(0.0, 0.0); nodes];
        let mut scattered = incident.clone();
        run_rows(
            &BEST_ROWS,
            &scene,
            &prepared,
            range,
            &mut incident,
            &mut scattered,
        );
        let answer = Message::Rows {
            first_row,
            nodes_x: nodes_x as u64,
            incident,
            scattered,
        };
        write_message(output, &answer)?;
        output.flush().map_err(ProtocolError::Io)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scatter::Problem;
    use crate::scatter::variants::rows::run_serial;

    fn frames(messages: &[Message]) -> Vec<u8> {
        let mut bytes = Vec::new();
        for message in messages {
            write_message(&mut bytes, message).unwrap();
        }
        bytes
    }

    fn replies(mut bytes: &[u8]) -> Vec<Message> {
        std::iter::from_fn(|| read_message(&mut bytes).unwrap()).collect()
    }

    #[test]
    fn serves_the_rows_it_is_asked_for() {
        let problem = Problem::builder()
            .cells(10, 6)
            .segments(12)
            .build()
            .unwrap();
        let input = frames(&[
            Message::Setup {
                problem: problem.clone(),
            },
            Message::Compute { rows: 2..5 },
            Message::Compute { rows: 0..1 },
        ]);
        let mut output = Vec::new();
        serve(input.as_slice(), &mut output, None).unwrap();
        let expected = run_serial(&BEST_ROWS, &Scene::new(&problem));
        let replies = replies(&output);
        assert_eq!(replies.len(), 2);
        for (reply, asked) in replies.iter().zip([2usize..5, 0..1]) {
            let Message::Rows {
                first_row,
                nodes_x: 11,
                incident,
                scattered,
            } = reply
            else {
                panic!("unexpected reply {reply:?}");
            };
            assert_eq!(*first_row as usize, asked.start);
            // Exactly the rows asked for: a short or long reply fails here.
            let span = asked.start * 11..asked.end * 11;
            assert_eq!(incident[..], expected.incident[span.clone()]);
            assert_eq!(scattered[..], expected.scattered[span]);
        }
    }

    #[test]
    fn bad_requests_are_answered_with_a_failure_frame() {
        let problem = Problem::builder().cells(4, 4).segments(4).build().unwrap();
        let cases = [
            vec![Message::Compute { rows: 0..1 }],
            vec![
                Message::Setup {
                    problem: problem.clone(),
                },
                Message::Compute { rows: 3..9 },
            ],
        ];
        for input in cases {
            let mut output = Vec::new();
            let error = serve(frames(&input).as_slice(), &mut output, None).unwrap_err();
            assert!(matches!(error, ServeError::Request(_)), "{error}");
            assert!(matches!(replies(&output)[..], [Message::Failed { .. }]));
        }
    }

    #[test]
    fn faults_parse_by_name() {
        for name in WorkerFault::NAMES {
            assert!(name.parse::<WorkerFault>().is_ok(), "{name}");
        }
        assert!("sometimes".parse::<WorkerFault>().is_err());
    }
}
