//! Charts rendered with `plotters` to SVG text: the desktop app shows them as
//! images and the CLI can write them to files.

use plotters::prelude::*;

use crate::FleetError;

const LINE: RGBColor = RGBColor(0x1f, 0x6f, 0xd1);
const GRID: RGBColor = RGBColor(0xe6, 0xe9, 0xee);

/// The app's light or dark look; charts follow it.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize, ts_rs::TS,
)]
#[serde(rename_all = "lowercase")]
pub enum Theme {
    #[default]
    Light,
    Dark,
}

struct Palette {
    background: RGBColor,
    text: RGBColor,
    grid: RGBColor,
    accent: RGBColor,
}

impl Theme {
    fn palette(self) -> Palette {
        match self {
            Theme::Light => Palette {
                background: WHITE,
                text: RGBColor(0x1d, 0x27, 0x33),
                grid: GRID,
                accent: LINE,
            },
            Theme::Dark => Palette {
                background: RGBColor(0x15, 0x1c, 0x24),
                text: RGBColor(0xdd, 0xe5, 0xee),
                grid: RGBColor(0x2a, 0x36, 0x44),
                accent: RGBColor(0x4b, 0x8d, 0xf0),
            },
        }
    }
}

/// A bar per labelled count, e.g. routers per RouterOS version.
pub fn bar_chart_svg(
    title: &str,
    bars: &[(String, u64)],
    y_desc: &str,
    theme: Theme,
) -> Result<String, FleetError> {
    use plotters::coord::ranged1d::{IntoSegmentedCoord, SegmentValue};
    let p = theme.palette();
    let n = bars.len().max(1);
    let max = bars.iter().map(|b| b.1).max().unwrap_or(0).max(1) as f64;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (560, 300)).into_drawing_area();
        root.fill(&p.background).map_err(chart_error)?;
        let text = ("sans-serif", 13).into_font().color(&p.text);
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 17).into_font().color(&p.text))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(48)
            .build_cartesian_2d((0..n).into_segmented(), 0f64..max * 1.12)
            .map_err(chart_error)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(n)
            .y_labels(5)
            .x_label_formatter(&|v| match v {
                SegmentValue::CenterOf(i) => bars.get(*i).map(|b| b.0.clone()).unwrap_or_default(),
                _ => String::new(),
            })
            .y_label_formatter(&|v| format!("{v:.0}"))
            .y_desc(y_desc)
            .label_style(text.clone())
            .axis_desc_style(text)
            .axis_style(p.text)
            .light_line_style(p.grid)
            .bold_line_style(p.grid)
            .draw()
            .map_err(chart_error)?;
        chart
            .draw_series(bars.iter().enumerate().map(|(i, (_, v))| {
                let mut bar = Rectangle::new(
                    [
                        (SegmentValue::Exact(i), 0.0),
                        (SegmentValue::Exact(i + 1), *v as f64),
                    ],
                    p.accent.filled(),
                );
                bar.set_margin(0, 0, 6, 6);
                bar
            }))
            .map_err(chart_error)?;
        root.present().map_err(chart_error)?;
    }
    Ok(svg)
}

/// A value per hour (check-ins per hour) as a line over time (UTC).
pub fn hourly_chart_svg(
    title: &str,
    points: &[(i64, f64)],
    y_desc: &str,
    theme: Theme,
) -> Result<String, FleetError> {
    let p = theme.palette();
    let from = points.first().map_or(0, |x| x.0);
    let to = points
        .last()
        .map_or(3_600_000, |x| x.0)
        .max(from + 3_600_000);
    let max = points.iter().map(|x| x.1).fold(0.0, f64::max).max(1.0);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (560, 300)).into_drawing_area();
        root.fill(&p.background).map_err(chart_error)?;
        let text = ("sans-serif", 13).into_font().color(&p.text);
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 17).into_font().color(&p.text))
            .margin(12)
            .x_label_area_size(34)
            .y_label_area_size(56)
            .build_cartesian_2d(from as f64..to as f64, 0f64..max * 1.12)
            .map_err(chart_error)?;
        chart
            .configure_mesh()
            .x_labels(6)
            .y_labels(5)
            .x_label_formatter(&|ms| clock_label(*ms as i64, to - from))
            .y_label_formatter(&|v| format!("{v:.0}"))
            .x_desc("hour (UTC)")
            .y_desc(y_desc)
            .label_style(text.clone())
            .axis_desc_style(text)
            .axis_style(p.text)
            .light_line_style(p.grid)
            .bold_line_style(p.grid)
            .draw()
            .map_err(chart_error)?;
        chart
            .draw_series(LineSeries::new(
                points.iter().map(|(t, v)| (*t as f64, *v)),
                p.accent.stroke_width(2),
            ))
            .map_err(chart_error)?;
        root.present().map_err(chart_error)?;
    }
    Ok(svg)
}

/// `2026-11-29T18:00Z` for an hour's start in ms.
pub fn iso_hour(ms: i64) -> String {
    let days = ms.div_euclid(86_400_000);
    let secs = ms.div_euclid(1000).rem_euclid(86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}Z",
        secs / 3600,
        secs % 3600 / 60
    )
}

/// What a time chart's values are, which sets its scale and labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// 0–100 %.
    Percent,
    /// Bits per second, scaled to the largest value (k, M, G).
    BitsPerSecond,
}

/// One named series of `(ms, value)` points.
pub struct Line<'a> {
    pub label: &'a str,
    pub points: Vec<(i64, f64)>,
}

/// Lines over a time window (UTC). With more than one line, a legend names them.
pub struct TimeChart<'a> {
    pub title: &'a str,
    pub y_desc: &'a str,
    pub unit: Unit,
    pub lines: &'a [Line<'a>],
    pub from_ms: i64,
    pub to_ms: i64,
    pub theme: Theme,
}

/// Markers are drawn on each point while there are few enough to tell apart.
const MARKERS_UP_TO: usize = 60;

pub fn time_chart_svg(c: &TimeChart<'_>) -> Result<String, FleetError> {
    // Short spans (one check-in, or two a few ms apart) get a readable
    // one-minute axis; plotters' tick arithmetic overflows on tiny ranges.
    const MIN_SPAN: i64 = 60_000;
    let (from, to) = if c.to_ms - c.from_ms >= MIN_SPAN {
        (c.from_ms, c.to_ms)
    } else {
        let mid = c.from_ms + (c.to_ms - c.from_ms) / 2;
        (mid - MIN_SPAN / 2, mid + MIN_SPAN / 2)
    };
    let span = to - from;
    let p = c.theme.palette();
    let colors = [p.accent, RGBColor(0xe0, 0x7b, 0x1a)];
    // Integer time axes overflow inside plotters on some ranges; f64 does not.
    let visible: Vec<Vec<(f64, f64)>> = c
        .lines
        .iter()
        .map(|l| {
            l.points
                .iter()
                .filter(|(t, _)| (from..=to).contains(t))
                .map(|&(t, v)| (t as f64, v))
                .collect()
        })
        .collect();
    let y_max = match c.unit {
        Unit::Percent => 100.0,
        Unit::BitsPerSecond => {
            visible
                .iter()
                .flatten()
                .map(|x| x.1)
                .fold(0.0, f64::max)
                .max(1_000.0)
                * 1.12
        }
    };
    let unit = c.unit;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (760, 300)).into_drawing_area();
        root.fill(&p.background).map_err(chart_error)?;
        let text = ("sans-serif", 13).into_font().color(&p.text);
        let mut chart = ChartBuilder::on(&root)
            .caption(c.title, ("sans-serif", 17).into_font().color(&p.text))
            .margin(14)
            .x_label_area_size(34)
            .y_label_area_size(84)
            .build_cartesian_2d(from as f64..to as f64, 0f64..y_max)
            .map_err(chart_error)?;
        chart
            .configure_mesh()
            .x_labels(6)
            .y_labels(6)
            .x_label_formatter(&|ms| clock_label(*ms as i64, span))
            .y_label_formatter(&|v| match unit {
                Unit::Percent => format!("{v:.0} %"),
                Unit::BitsPerSecond => bits_per_second(*v),
            })
            .x_desc("time (UTC)")
            .y_desc(c.y_desc)
            .label_style(text.clone())
            .axis_desc_style(text.clone())
            .axis_style(p.text)
            .light_line_style(p.grid)
            .bold_line_style(p.grid)
            .draw()
            .map_err(chart_error)?;
        for (i, (line, pts)) in c.lines.iter().zip(&visible).enumerate() {
            let color = colors[i % colors.len()];
            let series = chart
                .draw_series(LineSeries::new(pts.iter().copied(), color.stroke_width(2)))
                .map_err(chart_error)?;
            if c.lines.len() > 1 {
                series.label(line.label).legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2))
                });
            }
            if pts.len() <= MARKERS_UP_TO {
                chart
                    .draw_series(pts.iter().map(|&pt| Circle::new(pt, 3, color.filled())))
                    .map_err(chart_error)?;
            }
        }
        if c.lines.len() > 1 {
            chart
                .configure_series_labels()
                .position(SeriesLabelPosition::UpperRight)
                .background_style(p.background.mix(0.85))
                .border_style(p.grid)
                .label_font(text)
                .draw()
                .map_err(chart_error)?;
        }
        root.present().map_err(chart_error)?;
    }
    Ok(svg)
}

/// `950 bit/s`, `12.5 Mbit/s`: decimal prefixes, as RouterOS shows rates.
pub fn bits_per_second(v: f64) -> String {
    const PREFIXES: [&str; 4] = ["", "k", "M", "G"];
    let mut v = v.max(0.0);
    let mut i = 0;
    while v >= 1000.0 && i + 1 < PREFIXES.len() {
        v /= 1000.0;
        i += 1;
    }
    let digits = if i == 0 || v >= 100.0 { 0 } else { 1 };
    format!("{v:.digits$} {}bit/s", PREFIXES[i])
}

fn chart_error<E: std::fmt::Display>(e: E) -> FleetError {
    FleetError::Chart(e.to_string())
}

/// `HH:MM` (or `HH:MM:SS` for spans under ten minutes, `MM-DD HH:MM` for
/// spans over two days) in UTC.
fn clock_label(ms: i64, span_ms: i64) -> String {
    let secs = ms.div_euclid(1000).rem_euclid(86_400);
    let (h, m, s) = (secs / 3600, secs % 3600 / 60, secs % 60);
    if span_ms > 2 * 86_400_000 {
        let iso = iso_hour(ms);
        format!("{} {h:02}:{m:02}", &iso[5..10])
    } else if span_ms < 600_000 {
        format!("{h:02}:{m:02}:{s:02}")
    } else {
        format!("{h:02}:{m:02}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fleet_store::SeriesPoint;

    /// One CPU line over a window, as the router detail draws it.
    fn cpu_chart_svg(
        title: &str,
        points: &[SeriesPoint],
        from_ms: i64,
        to_ms: i64,
    ) -> Result<String, FleetError> {
        time_chart_svg(&TimeChart {
            title,
            y_desc: "CPU load",
            unit: Unit::Percent,
            lines: &[Line {
                label: "CPU",
                points: points.iter().map(|p| (p.at, p.value)).collect(),
            }],
            from_ms,
            to_ms,
            theme: Theme::Light,
        })
    }

    fn pts() -> Vec<SeriesPoint> {
        (0..10)
            .map(|i| SeriesPoint {
                at: 1_700_000_000_000 + i * 60_000,
                value: (i * 10) as f64,
            })
            .collect()
    }

    #[test]
    fn renders_an_svg_with_title_axes_and_one_marker_per_point() {
        let p = pts();
        let svg = cpu_chart_svg("core-rtr-1", &p, p[0].at, p[9].at).unwrap();
        assert!(svg.starts_with("<svg"), "{}", &svg[..40]);
        assert!(svg.contains("core-rtr-1"));
        assert!(svg.contains("CPU load"));
        assert!(svg.contains("22:13"), "x labels are UTC clock times");
        assert_eq!(svg.matches("<circle").count(), 10);
        assert!(svg.contains("<polyline"));
    }

    #[test]
    fn a_single_point_and_no_points_still_render() {
        let p = &pts()[..1];
        let svg = cpu_chart_svg("one", p, p[0].at, p[0].at).unwrap();
        assert_eq!(svg.matches("<circle").count(), 1);
        let empty = cpu_chart_svg("none", &[], 0, 0).unwrap();
        assert_eq!(empty.matches("<circle").count(), 0);
    }

    #[test]
    fn title_markup_is_escaped() {
        let svg = cpu_chart_svg("<script>x</script>", &pts(), 0, 1).unwrap();
        assert_eq!(
            svg.matches("<circle").count(),
            0,
            "points outside the window are not drawn"
        );
        assert!(!svg.contains("<script>"));
    }

    #[test]
    fn bar_and_hourly_charts_follow_the_theme() {
        let bars = vec![("7.16.2".to_owned(), 5), ("6.49.7".to_owned(), 2)];
        let light = bar_chart_svg("Versions", &bars, "routers", Theme::Light).unwrap();
        let dark = bar_chart_svg("Versions", &bars, "routers", Theme::Dark).unwrap();
        assert!(light.contains("7.16.2") && light.contains("6.49.7"));
        assert!(dark.contains("#151C24"), "dark background");
        assert!(!light.contains("#151C24"));
        let line =
            hourly_chart_svg("Check-ins", &[(0, 3.0), (3_600_000, 9.0)], "n", Theme::Dark).unwrap();
        assert!(line.contains("<polyline"));
        assert!(bar_chart_svg("Empty", &[], "routers", Theme::Light).is_ok());
    }

    #[test]
    fn iso_hours() {
        assert_eq!(iso_hour(0), "1970-01-01T00:00Z");
        assert_eq!(iso_hour(1_795_975_200_000), "2026-11-29T18:00Z");
    }

    #[test]
    fn clock_labels() {
        assert_eq!(clock_label(3_723_000, 60_000), "01:02:03");
        assert_eq!(clock_label(3_723_000, 3_600_000), "01:02");
        assert_eq!(
            clock_label(1_795_975_200_000, 7 * 86_400_000),
            "11-29 18:00"
        );
    }

    #[test]
    fn rates_and_two_line_charts() {
        assert_eq!(bits_per_second(950.0), "950 bit/s");
        assert_eq!(bits_per_second(12_500_000.0), "12.5 Mbit/s");
        assert_eq!(bits_per_second(250_000_000.0), "250 Mbit/s");
        let at = |i: i64| 1_700_000_000_000 + i * 60_000;
        let lines = [
            Line {
                label: "received",
                points: (0..5).map(|i| (at(i), 2e6 * i as f64)).collect(),
            },
            Line {
                label: "sent",
                points: (0..5).map(|i| (at(i), 1e6)).collect(),
            },
        ];
        let svg = time_chart_svg(&TimeChart {
            title: "Traffic",
            y_desc: "rate",
            unit: Unit::BitsPerSecond,
            lines: &lines,
            from_ms: at(0),
            to_ms: at(4),
            theme: Theme::Dark,
        })
        .unwrap();
        assert!(svg.contains("received") && svg.contains("sent"), "legend");
        assert!(svg.contains("Mbit/s"), "scaled axis labels");
        assert_eq!(svg.matches("<circle").count(), 10);
        assert!(svg.contains("#151C24"), "dark background");
    }
}
