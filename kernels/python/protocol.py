"""//! How a Python rung answers hpc-advisor: one JSON header line, then the field as raw float32 pairs.

The header says whether the run worked, how long the computation took as
the rung measured it (wall and CPU seconds, compile time apart), and how
many bytes follow: the incident then the scattered wave, each row-major
[j][i], each node a little-endian float32 real and imaginary part, the
single-precision storage of the reference (`kernel-spec.md`).
"""

import json
import sys
from array import array


def _complex64_bytes(values):
    """Interleaved float32 (re, im) of a NumPy complex array or a flat list of complex numbers."""
    if hasattr(values, "astype"):
        import numpy as np
        return np.ascontiguousarray(values, dtype="<c8").tobytes()
    flat = array("f")
    for z in values:
        flat.append(z.real)
        flat.append(z.imag)
    if sys.byteorder != "little":
        flat.byteswap()
    return flat.tobytes()


def write_field(stream, header, incident, scattered):
    """Writes the header (with the byte count added) and the two waves."""
    payload = _complex64_bytes(incident) + _complex64_bytes(scattered)
    header = dict(header, ok=True, bytes=len(payload))
    stream.write(json.dumps(header).encode() + b"\n")
    stream.write(payload)
    stream.flush()


def write_json(stream, header):
    """A reply without a field: an error, a probe or Hankel values."""
    stream.write(json.dumps(dict(header, bytes=0)).encode() + b"\n")
    stream.flush()


def write_error(stream, message, missing=None):
    write_json(stream, {"ok": False, "error": message, "missing": missing})
