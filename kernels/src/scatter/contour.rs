//! Closed obstacle contours: the default shape, a circle, user expressions and point files.
//!
//! A contour is sampled into `nc + 1` points (parametric forms) or given as a
//! list of vertices (files). Sampling checks what the reference silently
//! assumes: finite values, a closed curve, anticlockwise orientation and no
//! self-intersection.

use std::f64::consts::PI;
use std::fmt;

use thiserror::Error;

/// The shape of the obstacle.
#[derive(Debug, Clone, PartialEq)]
pub enum Contour {
    /// `x = cos(2 pi t + 0.5 sin(2 pi t + 0.9))`, `y = sin(2 pi t)`: the reference shape.
    Default,
    /// The unit circle `x = cos(2 pi t)`, `y = sin(2 pi t)`.
    Circle,
    /// User expressions in `t` over `[0, 1]`; `pi` (or `PI`, `π`) is known.
    Parametric { x: String, y: String },
    /// Polygon vertices; the last vertex is joined to the first when they differ.
    Points(Vec<[f64; 2]>),
}

/// Which way a sampled contour ran before any correction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Orientation {
    Anticlockwise,
    Clockwise,
}

/// Why a contour cannot be used.
#[derive(Debug, Error, PartialEq)]
pub enum ContourError {
    #[error("cannot parse the contour expression {axis}(t) = `{expr}`: {reason}")]
    Parse {
        axis: char,
        expr: String,
        reason: String,
    },
    #[error(
        "the contour expression {axis}(t) = `{expr}` uses `{name}`; only `t` and `pi` are known"
    )]
    UnknownName {
        axis: char,
        expr: String,
        name: String,
    },
    #[error("the contour expression {axis}(t) is not finite at t = {t}")]
    NotFinite { axis: char, t: f64 },
    #[error(
        "the contour is not closed: it starts at ({:.6}, {:.6}) and ends at ({:.6}, {:.6}); \
         x(1) and y(1) must equal x(0) and y(0)", start[0], start[1], end[0], end[1]
    )]
    NotClosed { start: [f64; 2], end: [f64; 2] },
    #[error("the contour encloses no area: its points are collinear or repeated")]
    Degenerate,
    #[error("the contour crosses itself: segment {first} intersects segment {second}")]
    SelfIntersecting { first: usize, second: usize },
    #[error("a contour needs at least 3 distinct points, got {0}")]
    TooFewPoints(usize),
    #[error("contour point {index} is not finite")]
    PointNotFinite { index: usize },
}

impl fmt::Display for Contour {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Contour::Default => f.write_str("default"),
            Contour::Circle => f.write_str("circle"),
            Contour::Parametric { x, y } => write!(f, "x(t) = {x}, y(t) = {y}"),
            Contour::Points(points) => write!(f, "polygon of {} points", points.len()),
        }
    }
}

/// The sampled contour: `segments + 1` points, anticlockwise.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SampledContour {
    pub points: Vec<[f64; 2]>,
    pub original_orientation: Orientation,
}

impl Contour {
    /// Samples the contour into the points its segments join.
    ///
    /// Parametric contours give `nc + 1` points at equally spaced `t` (both
    /// ends included, as the reference does); point lists give their own
    /// vertices plus the closing point.
    pub(crate) fn sample(&self, nc: usize) -> Result<SampledContour, ContourError> {
        let points = match self {
            Contour::Default => sample_fn(nc, |t| {
                let a = 2.0 * PI * t;
                [(a + 0.5 * (a + 0.9).sin()).cos(), a.sin()]
            }),
            Contour::Circle => sample_fn(nc, |t| {
                let a = 2.0 * PI * t;
                [a.cos(), a.sin()]
            }),
            Contour::Parametric { x, y } => sample_expressions(x, y, nc)?,
            Contour::Points(vertices) => close_polygon(vertices)?,
        };
        check_closed(&points)?;
        let original_orientation = orientation(&points)?;
        let mut points = points;
        if original_orientation == Orientation::Clockwise {
            points.reverse();
        }
        check_simple(&points)?;
        Ok(SampledContour {
            points,
            original_orientation,
        })
    }

    /// Number of segments the contour has when sampled with `nc`.
    pub fn segments(&self, nc: usize) -> usize {
        match self {
            Contour::Points(vertices) => {
                let closed = vertices.len() > 1 && vertices.first() == vertices.last();
                if closed {
                    vertices.len() - 1
                } else {
                    vertices.len()
                }
            }
            _ => nc,
        }
    }

    /// Parses a points file: one `x y` (or `x,y`) pair per line; `#` starts a comment.
    pub fn parse_points(text: &str) -> Result<Contour, String> {
        let mut points = Vec::new();
        for (number, line) in text.lines().enumerate() {
            let line = line.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            let fields: Vec<&str> = line
                .split(|c: char| c == ',' || c.is_whitespace())
                .filter(|f| !f.is_empty())
                .collect();
            let [x, y] = fields[..] else {
                return Err(format!(
                    "line {}: expected two numbers `x y`, found {} field(s): `{line}`",
                    number + 1,
                    fields.len()
                ));
            };
            let parse = |s: &str| {
                s.parse::<f64>()
                    .ok()
                    .filter(|v| v.is_finite())
                    .ok_or_else(|| format!("line {}: `{s}` is not a finite number", number + 1))
            };
            points.push([parse(x)?, parse(y)?]);
        }
        if points.is_empty() {
            return Err("the file holds no points".to_string());
        }
        Ok(Contour::Points(points))
    }
}

fn sample_fn(nc: usize, f: impl Fn(f64) -> [f64; 2]) -> Vec<[f64; 2]> {
    linspace(0.0, 1.0, nc).map(f).collect()
}

/// `n + 1` values from `start` to `stop` inclusive, computed as NumPy's `linspace` does.
pub(crate) fn linspace(start: f64, stop: f64, intervals: usize) -> impl Iterator<Item = f64> {
    let step = (stop - start) / intervals as f64;
    (0..=intervals).map(move |i| {
        if i == intervals {
            stop
        } else {
            start + step * i as f64
        }
    })
}

struct Expression {
    axis: char,
    text: String,
    parsed: exmex::FlatEx<f64>,
}

impl Expression {
    fn parse(axis: char, text: &str) -> Result<Expression, ContourError> {
        use exmex::Express;
        let parsed = exmex::parse::<f64>(text).map_err(|e| ContourError::Parse {
            axis,
            expr: text.to_string(),
            reason: e.to_string(),
        })?;
        if let Some(name) = parsed
            .var_names()
            .iter()
            .find(|name| !matches!(name.as_str(), "t" | "pi"))
        {
            return Err(ContourError::UnknownName {
                axis,
                expr: text.to_string(),
                name: name.clone(),
            });
        }
        Ok(Expression {
            axis,
            text: text.to_string(),
            parsed,
        })
    }

    fn eval(&self, t: f64) -> Result<f64, ContourError> {
        use exmex::Express;
        let values: Vec<f64> = self
            .parsed
            .var_names()
            .iter()
            .map(|name| if name == "t" { t } else { PI })
            .collect();
        let value = self.parsed.eval(&values).map_err(|e| ContourError::Parse {
            axis: self.axis,
            expr: self.text.clone(),
            reason: e.to_string(),
        })?;
        if value.is_finite() {
            Ok(value)
        } else {
            Err(ContourError::NotFinite { axis: self.axis, t })
        }
    }
}

fn sample_expressions(x: &str, y: &str, nc: usize) -> Result<Vec<[f64; 2]>, ContourError> {
    let x = Expression::parse('x', x)?;
    let y = Expression::parse('y', y)?;
    linspace(0.0, 1.0, nc)
        .map(|t| Ok([x.eval(t)?, y.eval(t)?]))
        .collect()
}

fn close_polygon(vertices: &[[f64; 2]]) -> Result<Vec<[f64; 2]>, ContourError> {
    if let Some(index) = vertices
        .iter()
        .position(|p| !p[0].is_finite() || !p[1].is_finite())
    {
        return Err(ContourError::PointNotFinite { index });
    }
    let mut points = vertices.to_vec();
    if points.len() > 1 && points.first() == points.last() {
        points.pop();
    }
    if points.len() < 3 {
        return Err(ContourError::TooFewPoints(points.len()));
    }
    points.push(points[0]);
    Ok(points)
}

fn extent(points: &[[f64; 2]]) -> f64 {
    let (mut lo, mut hi) = ([f64::INFINITY; 2], [f64::NEG_INFINITY; 2]);
    for p in points {
        for axis in 0..2 {
            lo[axis] = lo[axis].min(p[axis]);
            hi[axis] = hi[axis].max(p[axis]);
        }
    }
    (hi[0] - lo[0]).max(hi[1] - lo[1])
}

fn check_closed(points: &[[f64; 2]]) -> Result<(), ContourError> {
    let (start, end) = (points[0], points[points.len() - 1]);
    let gap = (end[0] - start[0]).hypot(end[1] - start[1]);
    if gap > 1e-9 * extent(points).max(f64::MIN_POSITIVE) {
        return Err(ContourError::NotClosed { start, end });
    }
    Ok(())
}

/// Twice the signed area (shoelace) of the closed polygon.
fn signed_area2(points: &[[f64; 2]]) -> f64 {
    points
        .windows(2)
        .map(|w| w[0][0] * w[1][1] - w[1][0] * w[0][1])
        .sum()
}

fn orientation(points: &[[f64; 2]]) -> Result<Orientation, ContourError> {
    let area2 = signed_area2(points);
    let scale = extent(points);
    if area2.is_nan() || area2.abs() <= 1e-12 * scale * scale {
        return Err(ContourError::Degenerate);
    }
    Ok(if area2 > 0.0 {
        Orientation::Anticlockwise
    } else {
        Orientation::Clockwise
    })
}

/// Rejects contours whose non-adjacent segments intersect (O(n^2), run once per problem).
fn check_simple(points: &[[f64; 2]]) -> Result<(), ContourError> {
    let n = points.len() - 1;
    for a in 0..n {
        for b in a + 2..n {
            if a == 0 && b == n - 1 {
                continue; // first and last segments share the closing point
            }
            if segments_intersect(points[a], points[a + 1], points[b], points[b + 1]) {
                return Err(ContourError::SelfIntersecting {
                    first: a,
                    second: b,
                });
            }
        }
    }
    Ok(())
}

fn cross(o: [f64; 2], a: [f64; 2], b: [f64; 2]) -> f64 {
    (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])
}

fn segments_intersect(p1: [f64; 2], p2: [f64; 2], q1: [f64; 2], q2: [f64; 2]) -> bool {
    let d1 = cross(q1, q2, p1);
    let d2 = cross(q1, q2, p2);
    let d3 = cross(p1, p2, q1);
    let d4 = cross(p1, p2, q2);
    (d1 * d2 < 0.0) && (d3 * d4 < 0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_contour_is_anticlockwise_and_has_nc_plus_one_points() {
        let sampled = Contour::Default.sample(128).unwrap();
        assert_eq!(sampled.points.len(), 129);
        assert_eq!(sampled.original_orientation, Orientation::Anticlockwise);
    }

    #[test]
    fn clockwise_expression_is_reoriented() {
        let contour = Contour::Parametric {
            x: "cos(2*pi*t)".into(),
            y: "-sin(2*pi*t)".into(),
        };
        let sampled = contour.sample(16).unwrap();
        assert_eq!(sampled.original_orientation, Orientation::Clockwise);
        assert!(signed_area2(&sampled.points) > 0.0);
    }

    #[test]
    fn open_curve_is_rejected() {
        let contour = Contour::Parametric {
            x: "cos(pi*t)".into(),
            y: "sin(pi*t)".into(),
        };
        assert!(matches!(
            contour.sample(16),
            Err(ContourError::NotClosed { .. })
        ));
    }

    #[test]
    fn limacon_with_inner_loop_is_self_intersecting() {
        let contour = Contour::Parametric {
            x: "(0.5 + cos(2*pi*t)) * cos(2*pi*t)".into(),
            y: "(0.5 + cos(2*pi*t)) * sin(2*pi*t)".into(),
        };
        assert!(matches!(
            contour.sample(32),
            Err(ContourError::SelfIntersecting { .. })
        ));
    }

    #[test]
    fn bad_expressions_are_named() {
        let unknown = Contour::Parametric {
            x: "cos(2*pi*s)".into(),
            y: "sin(2*pi*t)".into(),
        };
        assert!(matches!(
            unknown.sample(8),
            Err(ContourError::UnknownName { axis: 'x', .. })
        ));
        let broken = Contour::Parametric {
            x: "cos(2*pi*t".into(),
            y: "sin(2*pi*t)".into(),
        };
        assert!(matches!(broken.sample(8), Err(ContourError::Parse { .. })));
        let infinite = Contour::Parametric {
            x: "1/t".into(),
            y: "sin(2*pi*t)".into(),
        };
        assert!(matches!(
            infinite.sample(8),
            Err(ContourError::NotFinite { axis: 'x', .. })
        ));
    }

    #[test]
    fn points_file_parses_and_closes() {
        let contour = Contour::parse_points("# square\n0 0\n1,0\n1 1\n0 1\n").unwrap();
        assert_eq!(contour.segments(0), 4);
        let sampled = contour.sample(0).unwrap();
        assert_eq!(sampled.points.len(), 5);
        assert_eq!(sampled.points[0], sampled.points[4]);
    }

    #[test]
    fn malformed_points_file_names_the_line() {
        let err = Contour::parse_points("0 0\n1 zero\n").unwrap_err();
        assert!(err.contains("line 2"), "{err}");
        let err = Contour::parse_points("0 0 0\n").unwrap_err();
        assert!(err.contains("line 1"), "{err}");
        assert!(Contour::parse_points("# nothing\n").is_err());
    }

    #[test]
    fn collinear_points_are_degenerate() {
        let contour = Contour::Points(vec![[0.0, 0.0], [1.0, 0.0], [2.0, 0.0]]);
        assert_eq!(contour.sample(0), Err(ContourError::Degenerate));
    }
}
