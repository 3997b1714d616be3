//! Which SIMD instruction set the kernel runs with: detected at run time, never assumed at build time.
//!
//! An [`Isa`] holds pulp's proof that the CPU supports the level (a token
//! obtained by feature detection), so running an operation with it can never
//! execute an instruction the CPU lacks. The levels, best first: AVX-512
//! (pulp's `x86-v4`, 8 f64 lanes), AVX2 with FMA (`x86-v3`, 4 lanes), NEON
//! (2 lanes) and a scalar fallback (1 lane) that runs everywhere.

use std::fmt;
use std::sync::OnceLock;

use pulp::{Simd, WithSimd};

/// An instruction set this CPU supports, ready to run a [`WithSimd`] operation.
#[derive(Clone, Copy)]
pub struct Isa(Level);

#[derive(Clone, Copy)]
enum Level {
    #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
    Avx512(pulp::x86::V4),
    #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
    Avx2Fma(pulp::x86::V3),
    #[cfg(target_arch = "aarch64")]
    Neon(pulp::aarch64::Neon),
    Scalar(pulp::Scalar),
}

impl Isa {
    /// The best level this CPU supports (detected once per process).
    pub fn detect() -> Isa {
        static DETECTED: OnceLock<Isa> = OnceLock::new();
        *DETECTED.get_or_init(|| Isa::available()[0])
    }

    /// Every level this CPU supports, best first; the scalar fallback is always last.
    pub fn available() -> Vec<Isa> {
        let mut levels = Vec::new();
        #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
        {
            levels.extend(pulp::x86::V4::try_new().map(|simd| Isa(Level::Avx512(simd))));
            levels.extend(pulp::x86::V3::try_new().map(|simd| Isa(Level::Avx2Fma(simd))));
        }
        #[cfg(target_arch = "aarch64")]
        levels.extend(pulp::aarch64::Neon::try_new().map(|simd| Isa(Level::Neon(simd))));
        levels.push(Isa::scalar());
        levels
    }

    /// The portable fallback: one f64 per "vector", plain scalar instructions.
    pub fn scalar() -> Isa {
        Isa(Level::Scalar(pulp::Scalar::new()))
    }

    /// Human name of the level, e.g. `AVX-512 (x86-v4)`.
    pub fn name(self) -> &'static str {
        match self.0 {
            #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
            Level::Avx512(_) => "AVX-512 (x86-v4)",
            #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
            Level::Avx2Fma(_) => "AVX2+FMA (x86-v3)",
            #[cfg(target_arch = "aarch64")]
            Level::Neon(_) => "NEON",
            Level::Scalar(_) => "scalar fallback",
        }
    }

    /// f64 values per vector register at this level.
    pub fn lanes(self) -> usize {
        struct Lanes;
        impl WithSimd for Lanes {
            type Output = usize;
            fn with_simd<S: Simd>(self, _simd: S) -> usize {
                S::F64_LANES
            }
        }
        self.run(Lanes)
    }

    /// Runs `op` compiled for this level (its code is inlined under the level's target features).
    #[inline(always)]
    pub fn run<Op: WithSimd>(self, op: Op) -> Op::Output {
        match self.0 {
            #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
            Level::Avx512(simd) => Simd::vectorize(simd, op),
            #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
            Level::Avx2Fma(simd) => Simd::vectorize(simd, op),
            #[cfg(target_arch = "aarch64")]
            Level::Neon(simd) => Simd::vectorize(simd, op),
            Level::Scalar(simd) => Simd::vectorize(simd, op),
        }
    }
}

impl fmt::Display for Isa {
    /// E.g. `AVX-512 (x86-v4), 8 f64 lanes`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lanes = self.lanes();
        let plural = if lanes == 1 { "" } else { "s" };
        write!(f, "{}, {lanes} f64 lane{plural}", self.name())
    }
}

impl fmt::Debug for Isa {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Isa({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_are_listed_widest_first_down_to_the_one_lane_fallback() {
        let levels = Isa::available();
        let last = levels.last().expect("at least the fallback");
        assert_eq!(last.lanes(), 1);
        // Best first means widest first: each level has strictly fewer lanes than the one before.
        for pair in levels.windows(2) {
            assert!(
                pair[0].lanes() > pair[1].lanes(),
                "{} before {}",
                pair[0],
                pair[1]
            );
        }
    }

    #[test]
    fn lanes_match_the_register_width() {
        for isa in Isa::available() {
            let expected = match isa.name() {
                "AVX-512 (x86-v4)" => 8,
                "AVX2+FMA (x86-v3)" => 4,
                "NEON" => 2,
                _ => 1,
            };
            assert_eq!(isa.lanes(), expected, "{isa}");
        }
    }
}
