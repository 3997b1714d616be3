//! The scatter problem's parameters, validated once so every variant can trust them.

use std::fmt;

use thiserror::Error;

use super::contour::{Contour, ContourError, Orientation, SampledContour};

/// A validated scatter problem: wavelength, grid cells, contour segments, shape.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    wavelength: f64,
    nx: usize,
    ny: usize,
    nc: usize,
    contour: Contour,
    sampled: SampledContour,
}

/// Why a problem cannot be built.
#[derive(Debug, Error, PartialEq)]
pub enum ProblemError {
    #[error("the wavelength must be a positive finite number, got {0}")]
    Wavelength(f64),
    #[error("{name} must be at least {min}, got {value}")]
    TooSmall {
        name: &'static str,
        value: usize,
        min: usize,
    },
    #[error(transparent)]
    Contour(#[from] ContourError),
}

/// Builds a [`Problem`]; unset fields take the reference defaults.
#[derive(Debug, Clone)]
pub struct ProblemBuilder {
    wavelength: f64,
    nx: usize,
    ny: usize,
    nc: usize,
    contour: Contour,
}

impl Default for ProblemBuilder {
    fn default() -> Self {
        ProblemBuilder {
            wavelength: Problem::DEFAULT_WAVELENGTH,
            nx: Problem::DEFAULT_CELLS,
            ny: Problem::DEFAULT_CELLS,
            nc: Problem::DEFAULT_CELLS,
            contour: Contour::Default,
        }
    }
}

impl ProblemBuilder {
    pub fn wavelength(mut self, wavelength: f64) -> Self {
        self.wavelength = wavelength;
        self
    }
    pub fn cells(mut self, nx: usize, ny: usize) -> Self {
        self.nx = nx;
        self.ny = ny;
        self
    }
    pub fn segments(mut self, nc: usize) -> Self {
        self.nc = nc;
        self
    }
    pub fn contour(mut self, contour: Contour) -> Self {
        self.contour = contour;
        self
    }

    /// Validates the parameters and samples the contour.
    pub fn build(self) -> Result<Problem, ProblemError> {
        if !(self.wavelength.is_finite() && self.wavelength > 0.0) {
            return Err(ProblemError::Wavelength(self.wavelength));
        }
        for (name, value) in [("nx", self.nx), ("ny", self.ny)] {
            if value < 1 {
                return Err(ProblemError::TooSmall {
                    name,
                    value,
                    min: 1,
                });
            }
        }
        let nc = self.contour.segments(self.nc);
        if nc < 3 {
            return Err(ProblemError::TooSmall {
                name: "nc (contour segments)",
                value: nc,
                min: 3,
            });
        }
        let sampled = self.contour.sample(nc)?;
        Ok(Problem {
            wavelength: self.wavelength,
            nx: self.nx,
            ny: self.ny,
            nc,
            contour: self.contour,
            sampled,
        })
    }
}

/// What a problem costs before it is run: an upper bound on the work and memory.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WorkEstimate {
    /// Grid nodes, `(nx + 1) * (ny + 1)`.
    pub nodes: u64,
    /// Pair evaluations if no node were inside: `nodes * nc`.
    pub max_pairs: u64,
    /// Bytes of the two single-precision complex fields.
    pub field_bytes: u64,
}

impl WorkEstimate {
    /// Seconds the problem takes at `ns_per_pair` spread over `workers`.
    pub fn seconds(&self, ns_per_pair: f64, workers: usize) -> f64 {
        self.max_pairs as f64 * ns_per_pair * 1e-9 / workers.max(1) as f64
    }
}

impl Problem {
    pub const DEFAULT_WAVELENGTH: f64 = 0.5;
    pub const DEFAULT_CELLS: usize = 128;

    pub fn builder() -> ProblemBuilder {
        ProblemBuilder::default()
    }

    pub fn wavelength(&self) -> f64 {
        self.wavelength
    }
    /// Grid cells along x; the grid has `nx + 1` nodes.
    pub fn nx(&self) -> usize {
        self.nx
    }
    /// Grid cells along y; the grid has `ny + 1` nodes.
    pub fn ny(&self) -> usize {
        self.ny
    }
    /// Contour segments.
    pub fn nc(&self) -> usize {
        self.nc
    }
    pub fn contour(&self) -> &Contour {
        &self.contour
    }
    /// The contour's `nc + 1` points, anticlockwise.
    pub fn contour_points(&self) -> &[[f64; 2]] {
        &self.sampled.points
    }
    /// True when the given contour ran clockwise and was reversed.
    pub fn was_reoriented(&self) -> bool {
        self.sampled.original_orientation == Orientation::Clockwise
    }

    pub fn estimate(&self) -> WorkEstimate {
        let nodes = (self.nx as u64 + 1) * (self.ny as u64 + 1);
        WorkEstimate {
            nodes,
            max_pairs: nodes * self.nc as u64,
            field_bytes: nodes * 16,
        }
    }
}

impl Default for Problem {
    fn default() -> Self {
        Problem::builder()
            .build()
            .expect("the reference problem is valid")
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}x{} cells, {} segments, lambda {}, contour {}",
            self.nx, self.ny, self.nc, self.wavelength, self.contour
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_bad_sizes_and_wavelengths() {
        assert_eq!(
            Problem::builder().wavelength(0.0).build(),
            Err(ProblemError::Wavelength(0.0))
        );
        assert!(Problem::builder().wavelength(f64::NAN).build().is_err());
        assert!(matches!(
            Problem::builder().cells(0, 4).build(),
            Err(ProblemError::TooSmall { name: "nx", .. })
        ));
        assert!(matches!(
            Problem::builder().segments(2).build(),
            Err(ProblemError::TooSmall { .. })
        ));
    }

    #[test]
    fn estimate_counts_nodes_and_pairs() {
        let estimate = Problem::default().estimate();
        assert_eq!(estimate.nodes, 129 * 129);
        assert_eq!(estimate.max_pairs, 129 * 129 * 128);
        assert!((estimate.seconds(1.0, 2) - estimate.max_pairs as f64 * 0.5e-9).abs() < 1e-12);
    }
}
