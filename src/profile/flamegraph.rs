//! Flamegraph SVGs drawn with inferno: one per profile, and a differential one between two.
//!
//! The SVGs are interactive on their own (click to zoom, Ctrl-F to search)
//! and need no server. A differential flamegraph is shaped like the baseline
//! profile and coloured by how the changed profile differs from it, after
//! both are scaled to the same sample total: blue frames shrank or vanished
//! (what an optimisation removed), red frames grew.

use std::io;

use inferno::differential;
use inferno::flamegraph::color::{MultiPalette, Palette};
use inferno::flamegraph::{self, Options};

use super::folded::FoldedStacks;

/// Draws the flamegraph of `stacks` under `title`, with `subtitle` below it.
pub fn draw(stacks: &FoldedStacks, title: &str, subtitle: &str) -> io::Result<Vec<u8>> {
    let text = stacks.to_text();
    render(&mut options(title, subtitle), text.lines())
}

/// Draws `baseline`'s flamegraph coloured by how `changed` differs from it.
///
/// inferno shapes a differential graph by its second input and colours it by
/// second minus first; giving `changed` first, normalised to the baseline's
/// total, and negating the hues makes blue "less in `changed`".
pub fn draw_differential(
    baseline: &FoldedStacks,
    changed: &FoldedStacks,
    title: &str,
    subtitle: &str,
) -> io::Result<Vec<u8>> {
    let mut merged = Vec::new();
    differential::from_readers(
        differential::Options {
            normalize: true,
            strip_hex: false,
        },
        changed.to_text().as_bytes(),
        baseline.to_text().as_bytes(),
        &mut merged,
    )?;
    let merged = String::from_utf8(merged).map_err(io::Error::other)?;
    let mut options = options(title, subtitle);
    options.negate_differentials = true;
    render(&mut options, merged.lines())
}

fn render<'a>(
    options: &mut Options,
    lines: impl IntoIterator<Item = &'a str>,
) -> io::Result<Vec<u8>> {
    let mut svg = Vec::new();
    flamegraph::from_lines(options, lines, &mut svg)?;
    Ok(svg)
}

fn options(title: &str, subtitle: &str) -> Options<'static> {
    let mut options = Options::default();
    options.title = title.to_string();
    options.subtitle = Some(subtitle.to_string());
    options.count_name = "samples".to_string();
    options.colors = Palette::Multi(MultiPalette::Rust);
    // Colour by name, so a function keeps its colour across graphs.
    options.hash = true;
    options
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stacks(lines: &str) -> FoldedStacks {
        FoldedStacks::parse(lines).unwrap()
    }

    #[test]
    fn svgs_carry_title_and_frames() {
        let svg = draw(
            &stacks("main;solve;bessel 9\nmain;solve 1\n"),
            "naive on 32x32",
            "10 samples",
        )
        .unwrap();
        let svg = String::from_utf8(svg).unwrap();
        assert!(svg.starts_with("<?xml"));
        assert!(svg.contains("naive on 32x32") && svg.contains("bessel"));
    }

    #[test]
    fn differential_graphs_are_shaped_like_the_baseline() {
        let before = stacks("main;solve;bessel 90\nmain;solve;alloc 10\n");
        let after = stacks("main;solve;bessel 3\nmain;solve;vectorised 1\n");
        let svg =
            String::from_utf8(draw_differential(&before, &after, "diff", "sub").unwrap()).unwrap();
        assert!(svg.contains("<title>bessel ("), "in both profiles");
        assert!(
            svg.contains("<title>alloc ("),
            "only in the baseline: shown, as what vanished"
        );
        assert!(
            !svg.contains("vectorised"),
            "only in the changed profile: no place in the shape"
        );
    }

    #[test]
    fn no_samples_is_an_error() {
        assert!(draw(&FoldedStacks::default(), "t", "s").is_err());
    }
}
