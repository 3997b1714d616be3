//! hpc-advisor: which optimisation strategy pays off on this machine, proven by measurement.
