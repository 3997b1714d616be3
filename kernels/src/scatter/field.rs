//! The computed wave field, stored as the reference stores it, and how two fields are compared.

use num_complex::Complex32;

/// Incident and scattered waves on the `(ny + 1) x (nx + 1)` nodes, row-major `[j][i]`.
///
/// Values are single-precision complex, as the reference stores them; inside
/// nodes hold exactly zero in both arrays.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    nodes_x: usize,
    nodes_y: usize,
    pub incident: Vec<Complex32>,
    pub scattered: Vec<Complex32>,
}

/// How far one field is from another, relative to the reference's magnitude.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Agreement {
    /// Largest per-node `|a - b|` of the scattered wave over the largest `|b|`.
    pub max_relative_difference: f64,
    /// `|checksum(a) - checksum(b)| / |checksum(b)|`.
    pub checksum_relative_difference: f64,
}

impl Agreement {
    /// The ladder's tolerance: 1e-6 per node (relative to the field's maximum), 1e-7 on the checksum.
    pub const LADDER_NODE_TOLERANCE: f64 = 1e-6;
    pub const LADDER_CHECKSUM_TOLERANCE: f64 = 1e-7;

    pub fn within(&self, node_tolerance: f64, checksum_tolerance: f64) -> bool {
        self.max_relative_difference <= node_tolerance
            && self.checksum_relative_difference <= checksum_tolerance
    }
}

impl Field {
    /// A zeroed field for a grid of `nodes_x * nodes_y` nodes.
    pub fn zeros(nodes_x: usize, nodes_y: usize) -> Field {
        let n = nodes_x * nodes_y;
        Field {
            nodes_x,
            nodes_y,
            incident: vec![Complex32::new(0.0, 0.0); n],
            scattered: vec![Complex32::new(0.0, 0.0); n],
        }
    }

    pub fn nodes_x(&self) -> usize {
        self.nodes_x
    }
    pub fn nodes_y(&self) -> usize {
        self.nodes_y
    }

    /// Sum over all nodes of `|scattered|^2`, accumulated in f64 from the stored f32 values.
    pub fn checksum(&self) -> f64 {
        self.scattered
            .iter()
            .map(|s| f64::from(s.re).powi(2) + f64::from(s.im).powi(2))
            .sum()
    }

    /// Nodes outside the obstacle: the incident wave has modulus one there, zero inside.
    pub fn outside_nodes(&self) -> usize {
        self.incident
            .iter()
            .filter(|z| z.re != 0.0 || z.im != 0.0)
            .count()
    }

    /// Compares this field with a reference field of the same shape.
    pub fn agreement(&self, reference: &Field) -> Agreement {
        assert_eq!(
            (self.nodes_x, self.nodes_y),
            (reference.nodes_x, reference.nodes_y),
            "fields of different grids cannot be compared"
        );
        let scale = reference
            .scattered
            .iter()
            .map(|z| f64::from(z.norm()))
            .fold(0.0, f64::max)
            .max(f64::MIN_POSITIVE);
        let max_diff = self
            .scattered
            .iter()
            .zip(&reference.scattered)
            .map(|(a, b)| f64::from((a - b).norm()))
            .fold(0.0, |acc: f64, d| {
                if d.is_nan() {
                    f64::INFINITY
                } else {
                    acc.max(d)
                }
            });
        let (ours, theirs) = (self.checksum(), reference.checksum());
        let checksum_diff = (ours - theirs).abs() / theirs.abs().max(f64::MIN_POSITIVE);
        Agreement {
            max_relative_difference: max_diff / scale,
            checksum_relative_difference: if checksum_diff.is_nan() {
                f64::INFINITY
            } else {
                checksum_diff
            },
        }
    }
}
