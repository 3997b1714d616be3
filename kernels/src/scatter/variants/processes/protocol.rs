//! The wire format between `processes` and its workers: validated, length-prefixed binary frames.
//!
//! Every frame is a 12-byte header followed by a payload:
//!
//! | bytes | field |
//! |---|---|
//! | 0..4 | magic `HPCW` |
//! | 4 | protocol version ([`VERSION`]) |
//! | 5 | frame kind (1 setup, 2 compute, 3 rows, 4 failed) |
//! | 6..8 | reserved, zero |
//! | 8..12 | payload length in bytes, u32 little endian |
//!
//! Numbers are little endian. A frame that breaks any rule (magic, version,
//! kind, reserved bytes, length, trailing bytes, row sizes) is an error, never
//! a guess: a worker that sends garbage fails the run instead of corrupting
//! the field.

use std::io::{self, Read, Write};
use std::ops::Range;

use num_complex::Complex32;
use thiserror::Error;

use crate::scatter::contour::Contour;
use crate::scatter::problem::{Problem, ProblemError};

pub const MAGIC: [u8; 4] = *b"HPCW";
pub const VERSION: u8 = 2;
const HEADER_BYTES: usize = 12;
/// Payloads above this are refused before any allocation (a chunk of rows is far smaller).
pub const MAX_PAYLOAD_BYTES: u32 = 1 << 30;

const KIND_SETUP: u8 = 1;
const KIND_COMPUTE: u8 = 2;
const KIND_ROWS: u8 = 3;
const KIND_FAILED: u8 = 4;

const CONTOUR_DEFAULT: u8 = 0;
const CONTOUR_CIRCLE: u8 = 1;
const CONTOUR_PARAMETRIC: u8 = 2;
const CONTOUR_POINTS: u8 = 3;

/// One frame of the worker protocol.
#[derive(Debug, Clone, PartialEq)]
pub enum Message {
    /// Parent to worker, first: the problem to compute.
    Setup { problem: Problem },
    /// Parent to worker: compute these grid rows.
    Compute { rows: Range<u64> },
    /// Worker to parent: the nodes of `rows.len()` consecutive rows starting at `first_row`,
    /// row-major, `nodes_x` per row.
    Rows {
        first_row: u64,
        nodes_x: u64,
        incident: Vec<Complex32>,
        scattered: Vec<Complex32>,
    },
    /// Worker to parent: the worker cannot go on, and why.
    Failed { message: String },
}

impl Message {
    pub fn kind_name(&self) -> &'static str {
        match self {
            Message::Setup { .. } => "setup",
            Message::Compute { .. } => "compute",
            Message::Rows { .. } => "rows",
            Message::Failed { .. } => "failed",
        }
    }
}

/// Why bytes on a worker pipe are not a valid frame.
#[derive(Debug, Error)]
pub enum ProtocolError {
    #[error("cannot read or write the worker pipe: {0}")]
    Io(#[from] io::Error),
    #[error("the stream ended inside a frame ({0})")]
    Truncated(&'static str),
    #[error("bad magic {0:02x?}: this is not an hpc-advisor worker frame")]
    BadMagic([u8; 4]),
    #[error("protocol version {found}, expected {VERSION}: parent and worker are different builds")]
    Version { found: u8 },
    #[error("unknown frame kind {0}")]
    UnknownKind(u8),
    #[error("reserved header bytes are not zero")]
    Reserved,
    #[error("a payload of {0} bytes exceeds the limit of {MAX_PAYLOAD_BYTES}")]
    TooLarge(u64),
    #[error("malformed {kind} frame: {reason}")]
    Malformed { kind: &'static str, reason: String },
    #[error("the setup frame holds an invalid problem: {0}")]
    Problem(#[from] ProblemError),
}

/// Writes one frame (the caller flushes).
pub fn write_message(w: &mut impl Write, message: &Message) -> Result<(), ProtocolError> {
    let mut payload = Vec::new();
    let kind = match message {
        Message::Setup { problem } => {
            encode_problem(&mut payload, problem);
            KIND_SETUP
        }
        Message::Compute { rows } => {
            put_u64(&mut payload, rows.start);
            put_u64(&mut payload, rows.end);
            KIND_COMPUTE
        }
        Message::Rows {
            first_row,
            nodes_x,
            incident,
            scattered,
        } => {
            put_u64(&mut payload, *first_row);
            put_u64(&mut payload, *nodes_x);
            put_u64(&mut payload, incident.len() as u64);
            payload.reserve(16 * incident.len());
            for z in incident.iter().chain(scattered) {
                payload.extend_from_slice(&z.re.to_le_bytes());
                payload.extend_from_slice(&z.im.to_le_bytes());
            }
            KIND_ROWS
        }
        Message::Failed { message } => {
            put_str(&mut payload, message);
            KIND_FAILED
        }
    };
    let length = u32::try_from(payload.len())
        .ok()
        .filter(|&n| n <= MAX_PAYLOAD_BYTES)
        .ok_or(ProtocolError::TooLarge(payload.len() as u64))?;
    let mut header = [0u8; HEADER_BYTES];
    header[..4].copy_from_slice(&MAGIC);
    header[4] = VERSION;
    header[5] = kind;
    header[8..].copy_from_slice(&length.to_le_bytes());
    w.write_all(&header)?;
    w.write_all(&payload)?;
    Ok(())
}

/// Reads one frame; `Ok(None)` when the stream ends cleanly before a header.
pub fn read_message(r: &mut impl Read) -> Result<Option<Message>, ProtocolError> {
    let mut header = [0u8; HEADER_BYTES];
    let filled = read_up_to(r, &mut header)?;
    if filled == 0 {
        return Ok(None);
    }
    if filled < HEADER_BYTES {
        return Err(ProtocolError::Truncated("header"));
    }
    let magic: [u8; 4] = header[..4].try_into().expect("four bytes");
    if magic != MAGIC {
        return Err(ProtocolError::BadMagic(magic));
    }
    if header[4] != VERSION {
        return Err(ProtocolError::Version { found: header[4] });
    }
    if header[6] != 0 || header[7] != 0 {
        return Err(ProtocolError::Reserved);
    }
    let length = u32::from_le_bytes(header[8..].try_into().expect("four bytes"));
    if length > MAX_PAYLOAD_BYTES {
        return Err(ProtocolError::TooLarge(length.into()));
    }
    let kind = header[5];
    let kind_name = match kind {
        KIND_SETUP => "setup",
        KIND_COMPUTE => "compute",
        KIND_ROWS => "rows",
        KIND_FAILED => "failed",
        other => return Err(ProtocolError::UnknownKind(other)),
    };
    let mut payload = vec![0u8; length as usize];
    if read_up_to(r, &mut payload)? < payload.len() {
        return Err(ProtocolError::Truncated(kind_name));
    }
    let mut reader = Payload {
        bytes: &payload,
        kind: kind_name,
    };
    let message = match kind {
        KIND_SETUP => Message::Setup {
            problem: decode_problem(&mut reader)?,
        },
        KIND_COMPUTE => {
            let (start, end) = (reader.u64()?, reader.u64()?);
            if start >= end {
                return Err(reader.malformed(format!("empty row range {start}..{end}")));
            }
            Message::Compute { rows: start..end }
        }
        KIND_ROWS => {
            let first_row = reader.u64()?;
            let nodes_x = reader.u64()?;
            let nodes = reader.u64()?;
            if nodes_x == 0 || nodes % nodes_x != 0 {
                return Err(reader.malformed(format!(
                    "{nodes} nodes are not whole rows of {nodes_x} nodes"
                )));
            }
            if reader.remaining() as u64 != nodes.saturating_mul(16) {
                return Err(reader.malformed(format!(
                    "{nodes} nodes need {} bytes of values, the frame holds {}",
                    nodes.saturating_mul(16),
                    reader.remaining()
                )));
            }
            let mut values = (0..2 * nodes).map(|_| reader.complex());
            let incident = values
                .by_ref()
                .take(nodes as usize)
                .collect::<Result<_, _>>()?;
            let scattered = values.collect::<Result<_, _>>()?;
            Message::Rows {
                first_row,
                nodes_x,
                incident,
                scattered,
            }
        }
        _ => Message::Failed {
            message: reader.string()?,
        },
    };
    reader.finish()?;
    Ok(Some(message))
}

/// Fills `buf` as far as the stream allows; returns the bytes read.
fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match r.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

fn put_u64(out: &mut Vec<u8>, value: u64) {
    out.extend_from_slice(&value.to_le_bytes());
}

fn put_f64(out: &mut Vec<u8>, value: f64) {
    out.extend_from_slice(&value.to_le_bytes());
}

fn put_str(out: &mut Vec<u8>, text: &str) {
    put_u64(out, text.len() as u64);
    out.extend_from_slice(text.as_bytes());
}

fn encode_problem(out: &mut Vec<u8>, problem: &Problem) {
    put_f64(out, problem.wavelength());
    put_u64(out, problem.nx() as u64);
    put_u64(out, problem.ny() as u64);
    put_u64(out, problem.nc() as u64);
    match problem.contour() {
        Contour::Default => out.push(CONTOUR_DEFAULT),
        Contour::Circle => out.push(CONTOUR_CIRCLE),
        Contour::Parametric { x, y } => {
            out.push(CONTOUR_PARAMETRIC);
            put_str(out, x);
            put_str(out, y);
        }
        Contour::Points(points) => {
            out.push(CONTOUR_POINTS);
            put_u64(out, points.len() as u64);
            for &[x, y] in points {
                put_f64(out, x);
                put_f64(out, y);
            }
        }
    }
}

fn decode_problem(reader: &mut Payload) -> Result<Problem, ProtocolError> {
    let wavelength = reader.f64()?;
    let nx = reader.usize()?;
    let ny = reader.usize()?;
    let nc = reader.usize()?;
    let contour = match reader.u8()? {
        CONTOUR_DEFAULT => Contour::Default,
        CONTOUR_CIRCLE => Contour::Circle,
        CONTOUR_PARAMETRIC => Contour::Parametric {
            x: reader.string()?,
            y: reader.string()?,
        },
        CONTOUR_POINTS => {
            let count = reader.u64()?;
            if count.saturating_mul(16) > reader.remaining() as u64 {
                return Err(reader.malformed(format!("{count} contour points do not fit")));
            }
            let points = (0..count)
                .map(|_| Ok([reader.f64()?, reader.f64()?]))
                .collect::<Result<_, ProtocolError>>()?;
            Contour::Points(points)
        }
        other => return Err(reader.malformed(format!("unknown contour tag {other}"))),
    };
    Ok(Problem::builder()
        .wavelength(wavelength)
        .cells(nx, ny)
        .segments(nc)
        .contour(contour)
        .build()?)
}

/// A bounds-checked cursor over one frame's payload.
struct Payload<'a> {
    bytes: &'a [u8],
    kind: &'static str,
}

impl Payload<'_> {
    fn malformed(&self, reason: String) -> ProtocolError {
        ProtocolError::Malformed {
            kind: self.kind,
            reason,
        }
    }

    fn remaining(&self) -> usize {
        self.bytes.len()
    }

    fn take<const N: usize>(&mut self) -> Result<[u8; N], ProtocolError> {
        if self.bytes.len() < N {
            return Err(self.malformed("the payload is shorter than its fields".into()));
        }
        let (head, tail) = self.bytes.split_at(N);
        self.bytes = tail;
        Ok(head.try_into().expect("N bytes"))
    }

    fn u8(&mut self) -> Result<u8, ProtocolError> {
        Ok(self.take::<1>()?[0])
    }

    fn u64(&mut self) -> Result<u64, ProtocolError> {
        Ok(u64::from_le_bytes(self.take()?))
    }

    fn usize(&mut self) -> Result<usize, ProtocolError> {
        let value = self.u64()?;
        usize::try_from(value).map_err(|_| self.malformed(format!("{value} does not fit a usize")))
    }

    fn f64(&mut self) -> Result<f64, ProtocolError> {
        Ok(f64::from_le_bytes(self.take()?))
    }

    fn complex(&mut self) -> Result<Complex32, ProtocolError> {
        let re = f32::from_le_bytes(self.take()?);
        let im = f32::from_le_bytes(self.take()?);
        Ok(Complex32::new(re, im))
    }

    fn string(&mut self) -> Result<String, ProtocolError> {
        let length = self.usize()?;
        if length > self.bytes.len() {
            return Err(self.malformed(format!("a string of {length} bytes does not fit")));
        }
        let (text, tail) = self.bytes.split_at(length);
        self.bytes = tail;
        String::from_utf8(text.to_vec()).map_err(|_| self.malformed("a string is not UTF-8".into()))
    }

    fn finish(&self) -> Result<(), ProtocolError> {
        if self.bytes.is_empty() {
            Ok(())
        } else {
            Err(self.malformed(format!("{} unexpected trailing bytes", self.bytes.len())))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(message: &Message) -> Message {
        let mut bytes = Vec::new();
        write_message(&mut bytes, message).unwrap();
        let mut reader = bytes.as_slice();
        let decoded = read_message(&mut reader).unwrap().unwrap();
        assert!(
            read_message(&mut reader).unwrap().is_none(),
            "one frame only"
        );
        decoded
    }

    fn encoded(message: &Message) -> Vec<u8> {
        let mut bytes = Vec::new();
        write_message(&mut bytes, message).unwrap();
        bytes
    }

    #[test]
    fn every_message_and_contour_survives_a_round_trip() {
        let contours = [
            Contour::Default,
            Contour::Circle,
            Contour::Parametric {
                x: "cos(2*pi*t)".into(),
                y: "0.5*sin(2*pi*t)".into(),
            },
            Contour::Points(vec![[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]]),
        ];
        for contour in contours {
            let problem = Problem::builder()
                .cells(12, 7)
                .segments(9)
                .wavelength(0.3)
                .contour(contour)
                .build()
                .unwrap();
            let setup = Message::Setup { problem };
            assert_eq!(round_trip(&setup), setup);
        }
        let messages = [
            Message::Compute { rows: 4..9 },
            Message::Rows {
                first_row: 2,
                nodes_x: 2,
                incident: vec![Complex32::new(1.0, -2.0), Complex32::new(0.5, 0.25)],
                scattered: vec![Complex32::new(-3.0, 4.0), Complex32::new(f32::MIN, 0.0)],
            },
            Message::Failed {
                message: "out of memory".into(),
            },
        ];
        for message in messages {
            assert_eq!(round_trip(&message), message);
        }
    }

    #[test]
    fn a_clean_end_of_stream_is_not_an_error_but_a_cut_frame_is() {
        assert!(read_message(&mut [].as_slice()).unwrap().is_none());
        let bytes = encoded(&Message::Compute { rows: 0..3 });
        for cut in [5, HEADER_BYTES, bytes.len() - 1] {
            let error = read_message(&mut &bytes[..cut]).unwrap_err();
            assert!(
                matches!(error, ProtocolError::Truncated(_)),
                "{cut}: {error}"
            );
        }
    }

    #[test]
    fn corrupted_headers_are_refused() {
        let good = encoded(&Message::Compute { rows: 0..3 });
        let corrupt = |index: usize, value: u8| {
            let mut bytes = good.clone();
            bytes[index] = value;
            read_message(&mut bytes.as_slice()).unwrap_err()
        };
        assert!(matches!(corrupt(0, b'X'), ProtocolError::BadMagic(_)));
        assert!(matches!(corrupt(4, 9), ProtocolError::Version { found: 9 }));
        assert!(matches!(corrupt(5, 77), ProtocolError::UnknownKind(77)));
        assert!(matches!(corrupt(6, 1), ProtocolError::Reserved));
        assert!(matches!(corrupt(11, 0x7f), ProtocolError::TooLarge(_)));
    }

    #[test]
    fn inconsistent_payloads_are_refused() {
        // A rows frame whose node count does not match its values.
        let mut bytes = encoded(&Message::Rows {
            first_row: 0,
            nodes_x: 1,
            incident: vec![Complex32::new(1.0, 0.0)],
            scattered: vec![Complex32::new(1.0, 0.0)],
        });
        bytes[HEADER_BYTES + 16] = 2;
        assert!(matches!(
            read_message(&mut bytes.as_slice()).unwrap_err(),
            ProtocolError::Malformed { kind: "rows", .. }
        ));
        // An empty row range.
        let mut bytes = encoded(&Message::Compute { rows: 0..3 });
        bytes[HEADER_BYTES + 8] = 0;
        assert!(matches!(
            read_message(&mut bytes.as_slice()).unwrap_err(),
            ProtocolError::Malformed {
                kind: "compute",
                ..
            }
        ));
        // Trailing bytes after the fields, with the length updated to include them.
        let mut bytes = encoded(&Message::Compute { rows: 0..3 });
        bytes.push(0);
        bytes[8] += 1;
        assert!(matches!(
            read_message(&mut bytes.as_slice()).unwrap_err(),
            ProtocolError::Malformed { .. }
        ));
        // A problem the builder rejects.
        let setup = Message::Setup {
            problem: Problem::builder().cells(4, 4).segments(4).build().unwrap(),
        };
        let mut bytes = encoded(&setup);
        // The wavelength, the payload's first field.
        bytes[HEADER_BYTES..HEADER_BYTES + 8].copy_from_slice(&(-1.0f64).to_le_bytes());
        assert!(matches!(
            read_message(&mut bytes.as_slice()).unwrap_err(),
            ProtocolError::Problem(ProblemError::Wavelength(_))
        ));
    }
}
