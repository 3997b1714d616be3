"""//! The Python rungs' server: hpc-advisor starts it once per rung and sends it one problem per line.

Each request is one JSON line on standard input: `{"variant": "py-numpy",
"workers": 2, "points": ..., "xs": ..., "ys": ..., "k": ...}` runs a rung
and answers with `protocol.write_field`; `{"probe": true}` answers with the
interpreter's and the packages' versions; `{"hankel": [x, ...],
"implementation": "pure"}` answers with (J0, Y0, J1, Y1) at each x, so the
Rust tests can check each implementation against libm. The server keeps
running until its standard input closes, so Numba compiles once per server,
as it would once per user process. A package that does not import is
answered with its name in `missing`, so hpc-advisor skips the rung and says
how to install it.
"""

import json
import os
import platform
import sys
import time
from importlib import metadata

import protocol
from scene import Scene

PACKAGES = ("numpy", "numba", "mpi4py")
NEEDS = {"py-pure": None, "py-numpy": "numpy", "py-numba": "numba",
         "py-numba-prange": "numba", "py-pool": "numpy"}


def versions():
    found = {}
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    return found


def cpu_seconds():
    """This process's CPU time and that of its reaped children (the pool's workers)."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


class Rungs:
    """Runs the rungs; remembers what Numba compiled in this process."""

    def __init__(self):
        self.compile_seconds = {}

    def run(self, name, scene, workers):
        notes = []
        if name == "py-pure":
            import pure
            return pure.field, (scene,), notes
        if name == "py-numpy":
            import vectorised
            return vectorised.field, (scene,), notes
        if name in ("py-numba", "py-numba-prange"):
            import compiled
            parallel = name == "py-numba-prange"
            if name not in self.compile_seconds:
                self.compile_seconds[name] = compiled.compile(parallel)
            notes.append(f"numba {compiled.numba.__version__}, threading layer "
                         f"{compiled.numba.config.THREADING_LAYER}" if parallel else
                         f"numba {compiled.numba.__version__}")
            if parallel:
                return compiled.field_parallel, (scene, workers), notes
            return compiled.field, (scene,), notes
        if name == "py-pool":
            import pool
            notes.append(f"{workers} worker processes, start method {pool.start_method()}")
            return pool.field, (scene, workers), notes
        raise KeyError(name)


def answer(rungs, request, out):
    if request.get("probe"):
        protocol.write_json(out, {"ok": True, "python": platform.python_version(),
                                  "implementation": platform.python_implementation(),
                                  "executable": sys.executable, "packages": versions()})
        return
    if "hankel" in request:
        xs = [float(x) for x in request["hankel"]]
        implementation = request.get("implementation", "pure")
        if implementation == "pure":
            import hankel
            values = [list(hankel.bessel01(x)) for x in xs]
        elif implementation == "numpy":
            import numpy as np
            import vectorised
            values = np.array(vectorised.bessel01(np.array(xs))).T.tolist()
        else:
            import compiled
            values = [list(compiled.bessel01(x)) for x in xs]
        protocol.write_json(out, {"ok": True, "values": values})
        return
    name = request["variant"]
    if name not in NEEDS:
        protocol.write_error(out, f"no Python rung named {name!r}; there are {', '.join(NEEDS)}")
        return
    try:
        function, args, notes = rungs.run(name, Scene.from_request(request),
                                          int(request.get("workers", 1)))
    except ImportError as error:
        protocol.write_error(out, f"{NEEDS[name]} does not import: {error}", missing=NEEDS[name])
        return
    cpu_before, started = cpu_seconds(), time.perf_counter()
    incident, scattered = function(*args)
    seconds, cpu = time.perf_counter() - started, cpu_seconds() - cpu_before
    protocol.write_field(out, {"seconds": seconds, "cpu_seconds": cpu,
                               "compile_seconds": rungs.compile_seconds.get(name),
                               "notes": notes}, incident, scattered)


def main():
    out = sys.stdout.buffer
    # What the rungs print (Numba's warnings, say) goes to standard error, never into the replies.
    sys.stdout = sys.stderr
    rungs = Rungs()
    for line in sys.stdin.buffer:
        if not line.strip():
            continue
        try:
            answer(rungs, json.loads(line), out)
        except Exception as error:  # one bad request must not end the server
            protocol.write_error(out, f"{type(error).__name__}: {error}")


if __name__ == "__main__":
    main()
