//! Charts for the HTML report, drawn as standalone SVG with plotters (no fonts or network needed).
//!
//! Each chart takes plain inputs, so the renderers can be tested from a
//! fixture and the charts from fixed numbers: the ladder's speedups (like
//! the training's summary figure, seed `000`), thread scaling against the
//! ideal and the Amdahl fit, the roofline of the measured ceilings, and a
//! program's growth with its problem size against its expected order.

use plotters::prelude::*;
use thiserror::Error;

const WIDTH: u32 = 820;
const FONT: &str = "sans-serif";
const BAR_COLOUR: RGBColor = RGBColor(46, 109, 180);
const FAILED_COLOUR: RGBColor = RGBColor(170, 170, 170);
/// The second group of bars: the Python rungs.
const SECOND_COLOUR: RGBColor = RGBColor(232, 163, 23);
/// Published figures drawn for comparison.
const REFERENCE_COLOUR: RGBColor = RGBColor(200, 30, 45);
const FIT_COLOUR: RGBColor = RGBColor(214, 94, 40);

/// A chart could not be drawn.
#[derive(Debug, Error)]
#[error("cannot draw the {chart} chart: {message}")]
pub struct ChartError {
    chart: &'static str,
    message: String,
}

fn failed(chart: &'static str) -> impl Fn(DrawingAreaErrorKind<std::io::Error>) -> ChartError {
    move |e| ChartError {
        chart,
        message: e.to_string(),
    }
}

/// The series' legend, in a white box at `position`.
fn draw_legend<'a, CT: CoordTranslate>(
    chart: &mut ChartContext<'a, SVGBackend<'a>, CT>,
    position: SeriesLabelPosition,
    name: &'static str,
) -> Result<(), ChartError> {
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .position(position)
        .draw()
        .map_err(failed(name))
}

/// One bar of the ladder chart: a variant's speedup over the reference with its interval.
#[derive(Debug, Clone, PartialEq)]
pub struct SpeedupBar {
    pub label: String,
    pub speedup: f64,
    pub low: f64,
    pub high: f64,
    /// Failed its agreement check: drawn grey, no speedup claimed.
    pub failed: bool,
    /// Drawn in the second colour (the Python rungs beside the Rust ones).
    pub second_group: bool,
    /// A published range to compare with (seed 000's figures), drawn as a red mark.
    pub reference: Option<(f64, f64)>,
}

/// What a speedup chart measures against.
#[derive(Debug, Clone, Copy)]
pub struct SpeedupAxes<'a> {
    pub caption: &'a str,
    pub x_desc: &'a str,
}

impl SpeedupAxes<'static> {
    pub const OVER_NAIVE: SpeedupAxes<'static> = SpeedupAxes {
        caption: "Speedup over the naive port (log scale)",
        x_desc: "times faster than naive",
    };
}

/// Horizontal bars of speedup over the reference on a log axis, with interval whiskers.
pub fn speedup_chart(bars: &[SpeedupBar], axes: SpeedupAxes) -> Result<String, ChartError> {
    const NAME: &str = "speedup";
    let mut svg = String::new();
    let height = 80 + 34 * bars.len().max(1) as u32;
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, height)).into_drawing_area();
        root.fill(&WHITE).map_err(failed(NAME))?;
        let shown = bars
            .iter()
            .filter(|b| !b.failed && b.speedup.is_finite() && b.speedup > 0.0);
        let references = bars.iter().filter_map(|b| b.reference);
        let top = shown
            .clone()
            .map(|b| b.high.max(b.speedup))
            .chain(references.clone().map(|r| r.1))
            .fold(1.0, f64::max)
            * 3.0;
        let bottom = shown
            .map(|b| b.low.min(b.speedup))
            .chain(references.map(|r| r.0))
            .fold(1.0, f64::min)
            / 2.0;
        let mut chart = ChartBuilder::on(&root)
            .caption(axes.caption, (FONT, 18))
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(130)
            .build_cartesian_2d((bottom..top).log_scale(), (0..bars.len()).into_segmented())
            .map_err(failed(NAME))?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .x_desc(axes.x_desc)
            .y_labels(bars.len().max(1))
            .y_label_formatter(&|v| match v {
                SegmentValue::CenterOf(i) => {
                    bars.get(*i).map(|b| b.label.clone()).unwrap_or_default()
                }
                _ => String::new(),
            })
            .draw()
            .map_err(failed(NAME))?;
        for (i, bar) in bars.iter().enumerate() {
            let (value, colour, text) = if bar.failed {
                (bottom, FAILED_COLOUR, "failed agreement check".to_string())
            } else if bar.second_group {
                (bar.speedup, SECOND_COLOUR, format!("{:.1}x", bar.speedup))
            } else {
                (bar.speedup, BAR_COLOUR, format!("{:.1}x", bar.speedup))
            };
            let mut rect = Rectangle::new(
                [
                    (bottom, SegmentValue::Exact(i)),
                    (value.max(bottom), SegmentValue::Exact(i + 1)),
                ],
                colour.filled(),
            );
            rect.set_margin(5, 5, 0, 0);
            chart
                .draw_series(std::iter::once(rect))
                .map_err(failed(NAME))?;
            if !bar.failed && bar.high > bar.low {
                chart
                    .draw_series(std::iter::once(PathElement::new(
                        vec![
                            (bar.low, SegmentValue::CenterOf(i)),
                            (bar.high, SegmentValue::CenterOf(i)),
                        ],
                        BLACK.stroke_width(2),
                    )))
                    .map_err(failed(NAME))?;
            }
            chart
                .draw_series(std::iter::once(Text::new(
                    text,
                    (value.max(bottom) * 1.08, SegmentValue::CenterOf(i)),
                    (FONT, 13),
                )))
                .map_err(failed(NAME))?;
            if let Some((low, high)) = bar.reference {
                chart
                    .draw_series([
                        PathElement::new(
                            vec![
                                (low, SegmentValue::Exact(i)),
                                (high, SegmentValue::Exact(i)),
                            ],
                            REFERENCE_COLOUR.stroke_width(4),
                        ),
                        PathElement::new(
                            vec![
                                (low.sqrt() * high.sqrt(), SegmentValue::Exact(i)),
                                (low.sqrt() * high.sqrt(), SegmentValue::Exact(i + 1)),
                            ],
                            REFERENCE_COLOUR.stroke_width(2),
                        ),
                    ])
                    .map_err(failed(NAME))?;
            }
        }
        root.present().map_err(failed(NAME))?;
    }
    Ok(svg)
}

/// One group of a grouped bar chart: a label and one value per series (`None`: no bar).
#[derive(Debug, Clone, PartialEq)]
pub struct GroupedBars {
    pub label: String,
    pub values: Vec<Option<f64>>,
}

/// Colours of the series of a grouped bar chart, in order (then repeated).
const SERIES_COLOURS: [RGBColor; 4] = [
    BAR_COLOUR,
    SECOND_COLOUR,
    RGBColor(60, 160, 90),
    RGBColor(150, 80, 170),
];

/// Horizontal bars, one group per label and one bar per series in it, on a log axis.
pub fn grouped_bar_chart(
    caption: &str,
    groups: &[GroupedBars],
    series: &[String],
) -> Result<String, ChartError> {
    const NAME: &str = "grouped bars";
    const BAR_PX: u32 = 12;
    const GAP_PX: u32 = 14;
    let per_group = series.len().max(1) as u32;
    let segment_px = BAR_PX * per_group + GAP_PX;
    let mut svg = String::new();
    let height = 90 + segment_px * groups.len().max(1) as u32;
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, height)).into_drawing_area();
        root.fill(&WHITE).map_err(failed(NAME))?;
        let values = groups
            .iter()
            .flat_map(|g| g.values.iter().flatten().copied());
        let high = values.clone().fold(f64::MIN_POSITIVE, f64::max) * 3.0;
        let low = values.fold(f64::INFINITY, f64::min).min(high) / 2.0;
        let low = if low.is_finite() && low > 0.0 {
            low
        } else {
            0.1
        };
        let mut chart = ChartBuilder::on(&root)
            .caption(caption, (FONT, 17))
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(130)
            .build_cartesian_2d(
                (low..high.max(low * 10.0)).log_scale(),
                (0..groups.len()).into_segmented(),
            )
            .map_err(failed(NAME))?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .x_desc("ns per pair")
            .y_labels(groups.len().max(1))
            .y_label_formatter(&|v| match v {
                SegmentValue::CenterOf(i) => {
                    groups.get(*i).map(|g| g.label.clone()).unwrap_or_default()
                }
                _ => String::new(),
            })
            .draw()
            .map_err(failed(NAME))?;
        for (index, name) in series.iter().enumerate() {
            let colour = SERIES_COLOURS[index % SERIES_COLOURS.len()];
            let bars: Vec<Rectangle<(f64, SegmentValue<usize>)>> = groups
                .iter()
                .enumerate()
                .filter_map(|(group, bars)| {
                    let value = bars.values.get(index).copied().flatten()?;
                    // Each bar takes its slice of the group's height, in series order.
                    let top = GAP_PX / 2 + index as u32 * BAR_PX;
                    let mut bar = Rectangle::new(
                        [
                            (low, SegmentValue::Exact(group)),
                            (value.max(low), SegmentValue::Exact(group + 1)),
                        ],
                        colour.filled(),
                    );
                    bar.set_margin(top, segment_px.saturating_sub(top + BAR_PX), 0, 0);
                    Some(bar)
                })
                .collect();
            chart
                .draw_series(bars)
                .map_err(failed(NAME))?
                .label(name.clone())
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 16, y + 5)], colour.filled())
                });
        }
        draw_legend(&mut chart, SeriesLabelPosition::LowerRight, NAME)?;
        root.present().map_err(failed(NAME))?;
    }
    Ok(svg)
}

/// Measured speedup at a thread count.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScalingPoint {
    pub threads: usize,
    pub speedup: f64,
}

/// Speedup against threads: measured points, the ideal line and the Amdahl fit.
pub fn scaling_chart(
    label: &str,
    points: &[ScalingPoint],
    serial_fraction: Option<f64>,
) -> Result<String, ChartError> {
    const NAME: &str = "thread scaling";
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, 420)).into_drawing_area();
        root.fill(&WHITE).map_err(failed(NAME))?;
        let max_threads = points.iter().map(|p| p.threads).max().unwrap_or(1).max(2);
        let max_speedup = points
            .iter()
            .map(|p| p.speedup)
            .fold(max_threads as f64, f64::max)
            * 1.1;
        let mut chart = ChartBuilder::on(&root)
            .caption(format!("Thread scaling of {label}"), (FONT, 18))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(50)
            .build_cartesian_2d(1f64..max_threads as f64, 0f64..max_speedup)
            .map_err(failed(NAME))?;
        chart
            .configure_mesh()
            .x_desc("threads")
            .y_desc("speedup over 1 thread")
            .draw()
            .map_err(failed(NAME))?;
        chart
            .draw_series(LineSeries::new(
                [(1.0, 1.0), (max_threads as f64, max_threads as f64)],
                BLACK.stroke_width(1),
            ))
            .map_err(failed(NAME))?
            .label("ideal")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLACK));
        if let Some(f) = serial_fraction {
            let amdahl = (0..=100).map(|s| {
                let n = 1.0 + (max_threads as f64 - 1.0) * f64::from(s) / 100.0;
                (n, 1.0 / (f + (1.0 - f) / n))
            });
            chart
                .draw_series(LineSeries::new(amdahl, FIT_COLOUR.stroke_width(2)))
                .map_err(failed(NAME))?
                .label(format!("Amdahl fit, serial fraction {:.1}%", f * 100.0))
                .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], FIT_COLOUR));
        }
        chart
            .draw_series(LineSeries::new(
                points.iter().map(|p| (p.threads as f64, p.speedup)),
                BAR_COLOUR.stroke_width(2),
            ))
            .map_err(failed(NAME))?
            .label("measured")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BAR_COLOUR));
        chart
            .draw_series(
                points
                    .iter()
                    .map(|p| Circle::new((p.threads as f64, p.speedup), 4, BAR_COLOUR.filled())),
            )
            .map_err(failed(NAME))?;
        draw_legend(&mut chart, SeriesLabelPosition::UpperLeft, NAME)?;
        root.present().map_err(failed(NAME))?;
    }
    Ok(svg)
}

/// Wall time at one problem size.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GrowthPoint {
    pub size: f64,
    pub seconds: f64,
}

/// Log-log wall time against problem size: the measured points, the fitted power law and,
/// when known, the expected order drawn through the smallest size.
pub fn growth_chart(
    points: &[GrowthPoint],
    exponent: f64,
    expected: Option<f64>,
) -> Result<String, ChartError> {
    const NAME: &str = "growth";
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, 420)).into_drawing_area();
        root.fill(&WHITE).map_err(failed(NAME))?;
        let sizes = points.iter().map(|p| p.size);
        let (smallest, largest) = (
            sizes.clone().fold(f64::INFINITY, f64::min),
            sizes.fold(0.0, f64::max),
        );
        let first = points
            .iter()
            .min_by(|a, b| a.size.total_cmp(&b.size))
            .copied()
            .unwrap_or(GrowthPoint {
                size: 1.0,
                seconds: 1.0,
            });
        // The expected order is drawn from the smallest size; the least-squares fit passes
        // through the mean of the logarithms.
        let expected_at = |order: f64, size: f64| first.seconds * (size / first.size).powf(order);
        let count = points.len().max(1) as f64;
        let mean_log_size = points.iter().map(|p| p.size.ln()).sum::<f64>() / count;
        let mean_log_time = points.iter().map(|p| p.seconds.ln()).sum::<f64>() / count;
        let fitted_at = |size: f64| (mean_log_time + exponent * (size.ln() - mean_log_size)).exp();
        let mut times: Vec<f64> = points.iter().map(|p| p.seconds).collect();
        times.extend([fitted_at(smallest), fitted_at(largest)]);
        if let Some(order) = expected {
            times.push(expected_at(order, largest));
        }
        let low = times.iter().copied().fold(f64::INFINITY, f64::min) / 1.5;
        let high = times.iter().copied().fold(0.0, f64::max) * 1.5;
        let mut chart = ChartBuilder::on(&root)
            .caption("Growth of your program with the problem size", (FONT, 18))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(
                (smallest / 1.2..largest * 1.2).log_scale(),
                (low..high).log_scale(),
            )
            .map_err(failed(NAME))?;
        chart
            .configure_mesh()
            .light_line_style(WHITE)
            .x_desc("problem size")
            .y_desc("wall time (s)")
            .x_label_formatter(&|size| format!("{size:.0}"))
            .y_label_formatter(&|seconds| format!("{seconds:.3}"))
            .draw()
            .map_err(failed(NAME))?;
        let curve = |at: &dyn Fn(f64) -> f64| -> Vec<(f64, f64)> {
            (0..=50)
                .map(|step| {
                    let size = smallest * (largest / smallest).powf(f64::from(step) / 50.0);
                    (size, at(size))
                })
                .collect()
        };
        if let Some(order) = expected {
            let line = curve(&|size| expected_at(order, size));
            chart
                .draw_series(LineSeries::new(line, BLACK.stroke_width(1)))
                .map_err(failed(NAME))?
                .label(format!("expected: size^{order:.2}"))
                .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLACK));
        }
        chart
            .draw_series(LineSeries::new(
                curve(&fitted_at),
                FIT_COLOUR.stroke_width(2),
            ))
            .map_err(failed(NAME))?
            .label(format!("fit: size^{exponent:.2}"))
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], FIT_COLOUR));
        chart
            .draw_series(
                points
                    .iter()
                    .map(|p| Circle::new((p.size, p.seconds), 4, BAR_COLOUR.filled())),
            )
            .map_err(failed(NAME))?
            .label("measured")
            .legend(|(x, y)| Circle::new((x + 10, y), 4, BAR_COLOUR.filled()));
        draw_legend(&mut chart, SeriesLabelPosition::UpperLeft, NAME)?;
        root.present().map_err(failed(NAME))?;
    }
    Ok(svg)
}

/// A horizontal compute roof (GFLOP/s) or a slanted memory roof (GB/s).
#[derive(Debug, Clone, PartialEq)]
pub enum Roof {
    Compute {
        label: String,
        gflops: f64,
    },
    Memory {
        label: String,
        gbytes_per_second: f64,
    },
}

/// A variant placed on the roofline.
#[derive(Debug, Clone, PartialEq)]
pub struct RooflinePoint {
    pub label: String,
    /// Floating-point operations per byte moved.
    pub intensity: f64,
    pub gflops: f64,
}

/// Log-log roofline: attained GFLOP/s against arithmetic intensity, under the measured roofs.
pub fn roofline_chart(roofs: &[Roof], points: &[RooflinePoint]) -> Result<String, ChartError> {
    const NAME: &str = "roofline";
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, 480)).into_drawing_area();
        root.fill(&WHITE).map_err(failed(NAME))?;
        let (x_lo, x_hi) = (
            points.iter().map(|p| p.intensity).fold(0.05, f64::min) / 2.0,
            points.iter().map(|p| p.intensity).fold(20.0, f64::max) * 2.0,
        );
        let peak = roofs
            .iter()
            .map(|r| match r {
                Roof::Compute { gflops, .. } => *gflops,
                Roof::Memory {
                    gbytes_per_second, ..
                } => gbytes_per_second * x_hi,
            })
            .chain(points.iter().map(|p| p.gflops))
            .fold(1.0, f64::max);
        let floor = points
            .iter()
            .map(|p| p.gflops)
            .fold(peak, f64::min)
            .min(peak / 100.0)
            / 2.0;
        let mut chart = ChartBuilder::on(&root)
            .caption(
                "Roofline: attained performance against the measured ceilings",
                (FONT, 18),
            )
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d((x_lo..x_hi).log_scale(), (floor..peak * 2.0).log_scale())
            .map_err(failed(NAME))?;
        chart
            .configure_mesh()
            .x_desc("arithmetic intensity (flop per byte)")
            .y_desc("GFLOP/s")
            .draw()
            .map_err(failed(NAME))?;
        for (index, roof) in roofs.iter().enumerate() {
            let colour = Palette99::pick(index).to_rgba();
            let (line, label): (Vec<(f64, f64)>, &str) = match roof {
                Roof::Compute { label, gflops } => (vec![(x_lo, *gflops), (x_hi, *gflops)], label),
                Roof::Memory {
                    label,
                    gbytes_per_second,
                } => (
                    vec![
                        (x_lo, gbytes_per_second * x_lo),
                        (x_hi, gbytes_per_second * x_hi),
                    ],
                    label,
                ),
            };
            chart
                .draw_series(LineSeries::new(line, colour.stroke_width(2)))
                .map_err(failed(NAME))?
                .label(label.to_string())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], colour));
        }
        for point in points {
            chart
                .draw_series([EmptyElement::at((point.intensity, point.gflops))
                    + Circle::new((0, 0), 5, BLACK.filled())
                    + Text::new(point.label.clone(), (7, -7), (FONT, 12))])
                .map_err(failed(NAME))?;
        }
        draw_legend(&mut chart, SeriesLabelPosition::LowerRight, NAME)?;
        root.present().map_err(failed(NAME))?;
    }
    Ok(svg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_growth_chart_draws_the_points_the_fit_and_the_expected_order() {
        let points = [
            GrowthPoint {
                size: 1000.0,
                seconds: 0.1,
            },
            GrowthPoint {
                size: 2000.0,
                seconds: 0.38,
            },
            GrowthPoint {
                size: 4000.0,
                seconds: 1.6,
            },
        ];
        let svg = growth_chart(&points, 2.0, Some(1.0)).unwrap();
        assert!(svg.contains("fit: size^2.00"), "{svg}");
        assert!(svg.contains("expected: size^1.00"));
        assert_eq!(
            svg.matches("<circle").count(),
            4,
            "three points and the legend's mark"
        );
    }

    fn assert_svg_names(svg: &str, words: &[&str]) {
        assert!(
            svg.starts_with("<svg"),
            "not an SVG: {}",
            &svg[..svg.len().min(80)]
        );
        assert!(svg.trim_end().ends_with("</svg>"));
        for word in words {
            assert!(svg.contains(word), "the chart does not show `{word}`");
        }
    }

    #[test]
    fn ladder_chart_labels_every_variant_and_marks_failures() {
        let bar = |label: &str, speedup: f64, failed: bool| SpeedupBar {
            label: label.into(),
            speedup,
            low: speedup * 0.95,
            high: speedup * 1.05,
            failed,
            second_group: false,
            reference: None,
        };
        let svg = speedup_chart(
            &[
                bar("naive", 1.0, false),
                bar("fused", 5.1, false),
                bar("broken", 9.0, true),
            ],
            SpeedupAxes::OVER_NAIVE,
        )
        .unwrap();
        assert_svg_names(
            &svg,
            &["naive", "fused", "5.1x", "broken", "failed agreement check"],
        );
        assert!(
            !svg.contains("9.0x"),
            "a failed variant must not show a speedup"
        );
    }

    #[test]
    fn scaling_chart_shows_fit_and_points() {
        let points = [
            ScalingPoint {
                threads: 1,
                speedup: 1.0,
            },
            ScalingPoint {
                threads: 2,
                speedup: 1.9,
            },
        ];
        let svg = scaling_chart("threads+simd", &points, Some(0.05)).unwrap();
        assert_svg_names(
            &svg,
            &["threads+simd", "serial fraction 5.0%", "measured", "ideal"],
        );
    }

    #[test]
    fn roofline_chart_shows_roofs_and_points() {
        let roofs = [
            Roof::Compute {
                label: "FMA peak 512-bit, 1 core".into(),
                gflops: 58.7,
            },
            Roof::Memory {
                label: "DRAM triad".into(),
                gbytes_per_second: 12.0,
            },
        ];
        let points = [RooflinePoint {
            label: "simd".into(),
            intensity: 1.6,
            gflops: 35.0,
        }];
        let svg = roofline_chart(&roofs, &points).unwrap();
        assert_svg_names(&svg, &["FMA peak 512-bit", "DRAM triad", "simd"]);
    }
}
