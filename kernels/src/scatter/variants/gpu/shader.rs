//! The WGSL compute shader of the GPU variant, generated from the Rust tables.
//!
//! The Hankel coefficients come from [`crate::scatter::hankel`] (the same
//! numbers the CPU variants use), and the series of the f64 elementary
//! functions are computed here, so no number is copied by hand.
//!
//! Why the shader brings its own f64 `sin`, `cos`, `log` and `sqrt`: WGSL
//! accepts them on f64 and naga emits them, but SPIR-V's GLSL.std.450 defines
//! `Sin`, `Cos` and `Log` for 16- and 32-bit floats only. Mesa's lavapipe
//! accepts the shader and returns wrong values (errors of order 1 were
//! measured for `sin` and `log`; `sqrt` was exact), other drivers may reject
//! it, and DX12 has no f64 square root. The f64 shader therefore uses only
//! `+ - * /`, comparisons and f32 conversions on f64 values:
//! - square root: an f32 `inverseSqrt` seed and two Newton steps;
//! - sine/cosine: quadrant from an f32 rounding of `x 2/pi`, a two-part
//!   (Cody-Waite) reduction by `pi/2`, Taylor series to degree 17 and 16 on
//!   `|r| <= pi/4`; accurate to about 1e-15 absolute while `|x| < 1e6`;
//! - natural log: the exponent from the f32 bit pattern, the mantissa
//!   `m` in `[0.7, 1.4]`, and `2 atanh((m - 1)/(m + 1))` to degree 21;
//!   valid for `x > 1e-37`, well beyond the problem's `kmod R`.
//!
//! The f32 shader uses the built-in functions and accumulates the segment
//! sum with Kahan's compensated summation.

use std::f64::consts::{FRAC_2_PI, FRAC_PI_2, FRAC_PI_4, LN_2};
use std::fmt::Write as _;

use crate::scatter::geometry::INSIDE_THRESHOLD;
use crate::scatter::hankel::{SWITCH, TWO_OVER_PI, large, small};

/// Floating-point type the shader computes in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum ShaderFloat {
    F64,
    F32,
}

impl ShaderFloat {
    fn wgsl(self) -> &'static str {
        match self {
            ShaderFloat::F64 => "f64",
            ShaderFloat::F32 => "f32",
        }
    }
}

/// Values per segment in the segment buffer, in this order.
pub(crate) const SEGMENT_STRIDE: usize = 8;

/// The complete shader for `float`, with `workgroup_size` invocations per workgroup.
pub(crate) fn source(float: ShaderFloat, workgroup_size: u32) -> String {
    let mut wgsl = String::new();
    let _ = write!(
        wgsl,
        "alias real = {};\nconst WORKGROUP_SIZE: u32 = {workgroup_size}u;\n\
         const SEGMENT_STRIDE: u32 = {SEGMENT_STRIDE}u;\n",
        float.wgsl()
    );
    wgsl.push_str(BINDINGS);
    for (name, value) in [
        ("SWITCH", SWITCH),
        ("TWO_OVER_PI", TWO_OVER_PI),
        ("FRAC_PI_4", FRAC_PI_4),
        ("INSIDE_THRESHOLD", INSIDE_THRESHOLD),
    ] {
        let _ = writeln!(wgsl, "const {name}: real = {};", literal(value));
    }
    for (name, coefficients) in [
        ("j0_num", &small::J0_NUM[..]),
        ("j0_den", &small::J0_DEN),
        ("y0_num", &small::Y0_NUM),
        ("y0_den", &small::Y0_DEN),
        ("j1_num", &small::J1_NUM),
        ("j1_den", &small::J1_DEN),
        ("y1_num", &small::Y1_NUM),
        ("y1_den", &small::Y1_DEN),
        ("p0", &large::P0),
        ("q0", &large::Q0),
        ("p1", &large::P1),
        ("q1", &large::Q1),
    ] {
        wgsl.push_str(&polynomial_function(name, coefficients));
    }
    match float {
        ShaderFloat::F64 => wgsl.push_str(&f64_elementary_functions()),
        ShaderFloat::F32 => wgsl.push_str(F32_ELEMENTARY_FUNCTIONS),
    }
    wgsl.push_str(BESSEL);
    wgsl.push_str(match float {
        ShaderFloat::F64 => PLAIN_SUM,
        ShaderFloat::F32 => COMPENSATED_SUM,
    });
    wgsl.push_str(KERNEL);
    wgsl
}

/// A WGSL abstract-float literal holding exactly `value` (Rust's shortest round-trip form).
fn literal(value: f64) -> String {
    let text = format!("{value:?}");
    if text.contains(['.', 'e', 'E']) {
        text
    } else {
        format!("{text}.0")
    }
}

/// `fn name(y: real) -> real`: Horner's scheme, coefficients lowest power first.
fn polynomial_function(name: &str, coefficients: &[f64]) -> String {
    let mut body = String::new();
    for (index, &c) in coefficients.iter().enumerate().rev() {
        body = if index + 1 == coefficients.len() {
            format!("real({})", literal(c))
        } else {
            format!("real({}) + y * ({body})", literal(c))
        };
    }
    format!("fn {name}(y: real) -> real {{\n    return {body};\n}}\n")
}

/// Taylor coefficients `sign * 1 / n!` for `n = first, first + 2, ...` (`count` of them).
fn factorial_series(first: u32, count: u32) -> Vec<f64> {
    (0..count)
        .map(|k| {
            let n = first + 2 * k;
            let factorial: f64 = (1..=n).map(f64::from).product();
            let sign = if (n / 2).is_multiple_of(2) { 1.0 } else { -1.0 };
            sign / factorial
        })
        .collect()
}

/// `sqrt`, `sin_cos` and `ln` on f64 from `+ - * /` and f32 helpers (see the module docs).
fn f64_elementary_functions() -> String {
    // pi/2 in two parts: the high part keeps 33 significant bits, so n * high is exact for n < 2^20.
    let high = f64::from_bits(FRAC_PI_2.to_bits() & !((1u64 << 20) - 1));
    let low = FRAC_PI_2 - high;
    let mut wgsl = String::new();
    let _ = writeln!(
        wgsl,
        "const PIO2_HIGH: real = {};\nconst PIO2_LOW: real = {};\nconst FRAC_2_PI: real = {};\nconst LN_2: real = {};",
        literal(high),
        literal(low),
        literal(FRAC_2_PI),
        literal(LN_2)
    );
    // sin r = r + r^3 (-1/3! + r^2 (1/5! ...)), cos r = 1 + r^2 (-1/2! + ...), in y = r^2.
    wgsl.push_str(&polynomial_function("sin_tail", &factorial_series(3, 8)));
    wgsl.push_str(&polynomial_function("cos_tail", &factorial_series(2, 8)));
    // atanh t = t (1 + t^2/3 + t^4/5 + ...), in y = t^2.
    let atanh: Vec<f64> = (0..=10).map(|k| 1.0 / f64::from(2 * k + 1)).collect();
    wgsl.push_str(&polynomial_function("atanh_tail", &atanh));
    wgsl.push_str(F64_ELEMENTARY_FUNCTIONS);
    wgsl
}

const BINDINGS: &str = r"
// (nodes_x, end node of this dispatch, segments, first node of this dispatch)
@group(0) @binding(0) var<uniform> dims: vec4<u32>;
@group(0) @binding(1) var<storage, read> grid_x: array<real>;
@group(0) @binding(2) var<storage, read> grid_y: array<real>;
// contour points, x and y interleaved, segments + 1 of them
@group(0) @binding(3) var<storage, read> points: array<real>;
// per segment: mid x, mid y, normal x, normal y, n.k, s kmod, weight re, weight im
@group(0) @binding(4) var<storage, read> segments: array<real>;
// (kx, ky, kmod)
@group(0) @binding(5) var<storage, read> wave: array<real>;
// per node: incident re, im, scattered re, im
@group(0) @binding(6) var<storage, read_write> field: array<vec4<f32>>;
";

const F64_ELEMENTARY_FUNCTIONS: &str = r"
// (sqrt(v), 1 / sqrt(v)) for v > 0
fn root_and_inverse(v: real) -> vec2<real> {
    var y = real(inverseSqrt(f32(v)));
    y = y * (real(1.5) - real(0.5) * v * y * y);
    y = y * (real(1.5) - real(0.5) * v * y * y);
    var s = v * y;
    s = s + real(0.5) * (v - s * s) * y;
    return vec2<real>(s, y);
}

fn square_root(v: real) -> real {
    return root_and_inverse(v).x;
}

// (sin x, cos x)
fn sin_cos(x: real) -> vec2<real> {
    let quadrant = round(f32(x * FRAC_2_PI));
    let n = real(quadrant);
    let r = (x - n * PIO2_HIGH) - n * PIO2_LOW;
    let y = r * r;
    let s = r + r * y * sin_tail(y);
    let c = real(1.0) + y * cos_tail(y);
    switch (i32(quadrant) & 3) {
        case 0: { return vec2<real>(s, c); }
        case 1: { return vec2<real>(c, -s); }
        case 2: { return vec2<real>(-s, -c); }
        default: { return vec2<real>(-c, s); }
    }
}

// natural logarithm for x > 1e-37
fn ln(x: real) -> real {
    var exponent = i32((bitcast<u32>(f32(x)) >> 23u) & 0xffu) - 127;
    var m = x * real(bitcast<f32>(u32(127 - exponent) << 23u));
    if m > real(1.4142135623730951) {
        m = m * real(0.5);
        exponent = exponent + 1;
    }
    if m < real(0.7071067811865476) {
        m = m * real(2.0);
        exponent = exponent - 1;
    }
    let t = (m - real(1.0)) / (m + real(1.0));
    return real(exponent) * LN_2 + real(2.0) * t * atanh_tail(t * t);
}
";

const F32_ELEMENTARY_FUNCTIONS: &str = r"
fn root_and_inverse(v: real) -> vec2<real> {
    let s = sqrt(v);
    return vec2<real>(s, real(1.0) / s);
}

fn square_root(v: real) -> real {
    return sqrt(v);
}

fn sin_cos(x: real) -> vec2<real> {
    return vec2<real>(sin(x), cos(x));
}

fn ln(x: real) -> real {
    return log(x);
}
";

const BESSEL: &str = r"
// (J0, Y0, J1, Y1) by the classical approximation of hankel.rs
fn bessel(x: real) -> vec4<real> {
    if x < SWITCH {
        let y = x * x;
        let j0 = j0_num(y) / j0_den(y);
        let j1 = x * j1_num(y) / j1_den(y);
        let ln_x = ln(x);
        let y0 = y0_num(y) / y0_den(y) + TWO_OVER_PI * j0 * ln_x;
        let y1 = x * y1_num(y) / y1_den(y) + TWO_OVER_PI * (j1 * ln_x - real(1.0) / x);
        return vec4<real>(j0, y0, j1, y1);
    }
    let z = SWITCH / x;
    let y = z * z;
    let amplitude = square_root(TWO_OVER_PI / x);
    // one sine/cosine of x - pi/4 serves all four; x - 3 pi/4 is a quarter turn back
    let sc = sin_cos(x - FRAC_PI_4);
    let s = sc.x;
    let c = sc.y;
    let pp0 = p0(y);
    let qq0 = z * q0(y);
    let pp1 = p1(y);
    let qq1 = z * q1(y);
    return amplitude * vec4<real>(
        c * pp0 - s * qq0,
        s * pp0 + c * qq0,
        s * pp1 + c * qq1,
        -c * pp1 + s * qq1,
    );
}
";

const PLAIN_SUM: &str = r"
struct Sum {
    value: vec2<real>,
}

fn zero_sum() -> Sum {
    return Sum(vec2<real>(real(0.0), real(0.0)));
}

fn add(sum: Sum, term: vec2<real>) -> Sum {
    return Sum(sum.value + term);
}
";

const COMPENSATED_SUM: &str = r"
struct Sum {
    value: vec2<real>,
    compensation: vec2<real>,
}

fn zero_sum() -> Sum {
    return Sum(vec2<real>(real(0.0), real(0.0)), vec2<real>(real(0.0), real(0.0)));
}

// Kahan: the compensation carries the low-order bits each addition loses.
fn add(sum: Sum, term: vec2<real>) -> Sum {
    let corrected = term - sum.compensation;
    let value = sum.value + corrected;
    return Sum(value, (value - sum.value) - corrected);
}
";

const KERNEL: &str = r"
@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
    let node = dims.w + id.x;
    if node >= dims.y {
        return;
    }
    let nodes_x = dims.x;
    let count = dims.z;
    let x = grid_x[node % nodes_x];
    let y = grid_y[node / nodes_x];

    // the reference's inside test: every cross product strictly above the threshold
    var inside = true;
    for (var k = 0u; k < count; k = k + 1u) {
        let ax = points[2u * k] - x;
        let ay = points[2u * k + 1u] - y;
        let bx = points[2u * k + 2u] - x;
        let by = points[2u * k + 3u] - y;
        if ax * by - ay * bx <= INSIDE_THRESHOLD {
            inside = false;
            break;
        }
    }
    if inside {
        field[node] = vec4<f32>(0.0, 0.0, 0.0, 0.0);
        return;
    }

    let kmod = wave[2];
    let incident = sin_cos(wave[0] * x + wave[1] * y);
    var sum = zero_sum();
    for (var k = 0u; k < count; k = k + 1u) {
        let base = SEGMENT_STRIDE * k;
        let rx = x - segments[base];
        let ry = y - segments[base + 1u];
        let root = root_and_inverse(rx * rx + ry * ry);
        let b = bessel(kmod * root.x);
        // term = nk H0 - i (s kmod (n.r) / R) H1
        let c = segments[base + 5u] * (segments[base + 2u] * rx + segments[base + 3u] * ry) * root.y;
        let nk = segments[base + 4u];
        let term_re = nk * b.x + c * b.w;
        let term_im = nk * b.y - c * b.z;
        let w_re = segments[base + 6u];
        let w_im = segments[base + 7u];
        sum = add(sum, vec2<real>(w_re * term_re - w_im * term_im, w_re * term_im + w_im * term_re));
    }
    field[node] = vec4<f32>(f32(incident.y), f32(incident.x), f32(sum.value.x), f32(sum.value.y));
}
";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_are_exact_wgsl_floats() {
        for value in [1.0, -184.9052456, 0.2093887211e-6, 57568490574.0, 1e-10] {
            let text = literal(value);
            assert!(text.contains(['.', 'e']), "{text}");
            assert_eq!(text.parse::<f64>().unwrap(), value);
        }
    }

    #[test]
    fn series_coefficients_are_signed_inverse_factorials() {
        assert_eq!(factorial_series(3, 2), vec![-1.0 / 6.0, 1.0 / 120.0]);
        assert_eq!(factorial_series(2, 2), vec![-0.5, 1.0 / 24.0]);
    }

    #[test]
    fn the_constants_shared_with_the_cpu_are_emitted_and_used() {
        let wgsl = source(ShaderFloat::F64, 64);
        assert!(wgsl.contains(&format!("const SEGMENT_STRIDE: u32 = {SEGMENT_STRIDE}u;")));
        assert!(wgsl.contains("let base = SEGMENT_STRIDE * k;"));
        let threshold = format!(
            "const INSIDE_THRESHOLD: real = {};",
            literal(INSIDE_THRESHOLD)
        );
        assert!(wgsl.contains(&threshold), "{threshold}");
        assert!(wgsl.contains("<= INSIDE_THRESHOLD"));
    }

    #[test]
    fn the_float_type_and_workgroup_size_are_substituted() {
        assert!(source(ShaderFloat::F64, 64).starts_with("alias real = f64;"));
        let f32_source = source(ShaderFloat::F32, 32);
        assert!(!f32_source.contains("f64"));
        assert!(f32_source.contains("const WORKGROUP_SIZE: u32 = 32u;"));
    }
}
