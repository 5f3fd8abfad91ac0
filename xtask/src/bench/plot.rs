//! SVG plots of the figures: grouped bars (median, min–max whisker) per comparison, and
//! throughput against the number of clients for the simulators.

use std::path::Path;

use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::coord::Shift;
use plotters::prelude::*;

use super::proc::number_after;
use super::report::value;
use super::Figure;

/// Ours first in blue, then the peers.
const PALETTE: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(127, 127, 127),
    RGBColor(23, 190, 207),
];

/// The throughput comparison, drawn against the number of clients.
const THROUGHPUT: &str = "Simulator throughput (RetrievePropertiesEx)";

type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;

/// `Simulator start-up (launch to ready)` -> `simulator-start-up-launch-to-ready`.
pub fn slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').to_string()
}

/// One SVG per comparison that has a peer, into `dir`; returns the files written.
pub fn draw_all(dir: &Path, figures: &[Figure]) -> Result<Vec<String>, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut comparisons: Vec<&str> = Vec::new();
    for f in figures {
        if !comparisons.contains(&f.comparison.as_str()) {
            comparisons.push(&f.comparison);
        }
    }
    let mut written = Vec::new();
    for c in comparisons {
        let figs: Vec<&Figure> = figures.iter().filter(|f| f.comparison == c).collect();
        if figs.iter().all(|f| f.ours) {
            continue;
        }
        let name = format!("{}.svg", slug(c));
        let path = dir.join(&name);
        if c == THROUGHPUT {
            throughput(&path, c, &figs)?;
        } else {
            bars(&path, c, &figs)?;
        }
        written.push(name);
    }
    Ok(written)
}

fn unique<'a>(it: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let mut v: Vec<&str> = Vec::new();
    for s in it {
        if !v.contains(&s) {
            v.push(s);
        }
    }
    v
}

fn err<E: std::fmt::Debug>(e: E) -> String {
    format!("plot: {e:?}")
}

/// Grouped bars: one group per case, one bar per subject; log scale when values spread widely.
fn bars(path: &Path, title: &str, figs: &[&Figure]) -> Result<(), String> {
    let cases = unique(figs.iter().map(|f| f.case.as_str()));
    let width = (260 * cases.len() as u32 + 200).clamp(700, 1600);
    let root = SVGBackend::new(path, (width, 520)).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let lo = figs.iter().map(|f| f.min).fold(f64::INFINITY, f64::min);
    let hi = figs.iter().map(|f| f.max).fold(0.0, f64::max);
    let direction = if figs[0].higher_is_better {
        "higher is better"
    } else {
        "lower is better"
    };
    let title = format!("{title} ({}, {direction})", figs[0].unit);
    if lo > 0.0 && hi / lo > 30.0 {
        let (bottom, top) = (lo / 2.0, hi * 6.0);
        draw_bars(
            &root,
            &title,
            figs,
            &cases,
            (bottom..top).log_scale(),
            bottom,
            true,
        )?;
    } else {
        draw_bars(&root, &title, figs, &cases, 0.0..hi * 1.3, 0.0, false)?;
    }
    root.present().map_err(err)
}

#[allow(clippy::too_many_arguments)]
fn draw_bars<Y>(
    root: &Area<'_>,
    title: &str,
    figs: &[&Figure],
    cases: &[&str],
    y: Y,
    base: f64,
    log: bool,
) -> Result<(), String>
where
    Y: AsRangedCoord<Value = f64>,
    Y::CoordDescType: ValueFormatter<f64>,
{
    let subjects = unique(figs.iter().map(|f| f.subject.as_str()));
    let mut chart = ChartBuilder::on(root)
        .caption(title, ("sans-serif", 20))
        .margin(15)
        .x_label_area_size(60)
        .y_label_area_size(80)
        .build_cartesian_2d(0f64..cases.len() as f64, y)
        .map_err(err)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(0)
        .y_desc(if log {
            format!("{} (log scale)", figs[0].unit)
        } else {
            figs[0].unit.clone()
        })
        .y_label_formatter(&|v| value(*v))
        .draw()
        .map_err(err)?;
    let slot = 0.8 / subjects.len().max(1) as f64;
    for (j, subject) in subjects.iter().enumerate() {
        let color = PALETTE[j % PALETTE.len()];
        let mine: Vec<(usize, &&Figure)> = figs
            .iter()
            .filter(|f| f.subject == *subject)
            .filter_map(|f| cases.iter().position(|c| *c == f.case).map(|i| (i, f)))
            .collect();
        let x0 = |i: usize| i as f64 + 0.1 + j as f64 * slot;
        chart
            .draw_series(mine.iter().map(|(i, f)| {
                Rectangle::new(
                    [
                        (x0(*i) + slot * 0.08, base),
                        (x0(*i) + slot * 0.92, f.median),
                    ],
                    color.filled(),
                )
            }))
            .map_err(err)?
            .label(*subject)
            .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 12, y + 6)], color.filled()));
        chart
            .draw_series(mine.iter().filter(|(_, f)| f.n > 1).map(|(i, f)| {
                let x = x0(*i) + slot / 2.0;
                PathElement::new(vec![(x, f.min), (x, f.max)], BLACK.stroke_width(2))
            }))
            .map_err(err)?;
        chart
            .draw_series(mine.iter().map(|(i, f)| {
                Text::new(
                    value(f.median),
                    (x0(*i) + slot * 0.1, f.max),
                    ("sans-serif", 12).into_font().color(&BLACK),
                )
            }))
            .map_err(err)?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(err)?;
    // The case names under the groups, drawn on the whole area (not clipped to the plot).
    for (i, case) in cases.iter().enumerate() {
        let (px, py) = chart.backend_coord(&(i as f64 + 0.5, base));
        for (k, line) in case.splitn(2, ", ").enumerate() {
            let style = TextStyle::from(("sans-serif", 13).into_font()).pos(
                plotters::style::text_anchor::Pos::new(
                    plotters::style::text_anchor::HPos::Center,
                    plotters::style::text_anchor::VPos::Top,
                ),
            );
            root.draw(&Text::new(
                line.to_string(),
                (px, py + 8 + 16 * k as i32),
                style,
            ))
            .map_err(err)?;
        }
    }
    Ok(())
}

/// VMs/s against the number of clients, one line per server and VM count.
fn throughput(path: &Path, title: &str, figs: &[&Figure]) -> Result<(), String> {
    let root = SVGBackend::new(path, (900, 520)).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let hi = figs.iter().map(|f| f.max).fold(0.0, f64::max);
    let max_clients = figs
        .iter()
        .filter_map(|f| number_after(&f.case, "VMs, "))
        .fold(1.0, f64::max);
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!("{title} ({}, higher is better)", figs[0].unit),
            ("sans-serif", 20),
        )
        .margin(15)
        .x_label_area_size(50)
        .y_label_area_size(80)
        .build_cartesian_2d((0.8..max_clients * 1.3).log_scale(), 0.0..hi * 1.15)
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc("concurrent clients (log scale)")
        .y_desc(figs[0].unit.as_str())
        .x_label_formatter(&|v| format!("{v:.0}"))
        .y_label_formatter(&|v| value(*v))
        .draw()
        .map_err(err)?;
    // One line per subject and VM count ("1,000 VMs, 8 clients" -> "1,000 VMs").
    let lines = unique(figs.iter().map(|f| f.subject.as_str()));
    let counts = unique(figs.iter().map(|f| f.case.split(", ").next().unwrap_or("")));
    for (j, subject) in lines.iter().enumerate() {
        for (k, count) in counts.iter().enumerate() {
            let mut pts: Vec<(f64, &Figure)> = figs
                .iter()
                .filter(|f| f.subject == *subject && f.case.split(", ").next() == Some(count))
                .filter_map(|f| number_after(&f.case, "VMs, ").map(|c| (c, *f)))
                .collect();
            pts.sort_by(|a, b| a.0.total_cmp(&b.0));
            let color = PALETTE[j % PALETTE.len()];
            let style = if k == 0 {
                color.stroke_width(3)
            } else {
                color.stroke_width(1)
            };
            chart
                .draw_series(LineSeries::new(
                    pts.iter().map(|(c, f)| (*c, f.median)),
                    style,
                ))
                .map_err(err)?
                .label(format!("{subject}, {count}"))
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], style));
            chart
                .draw_series(
                    pts.iter()
                        .map(|(c, f)| Circle::new((*c, f.median), 4, color.filled())),
                )
                .map_err(err)?;
            chart
                .draw_series(pts.iter().filter(|(_, f)| f.n > 1).map(|(c, f)| {
                    PathElement::new(vec![(*c, f.min), (*c, f.max)], color.stroke_width(2))
                }))
                .map_err(err)?;
        }
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(err)?;
    root.present().map_err(err)
}
