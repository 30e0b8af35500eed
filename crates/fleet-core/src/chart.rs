//! Charts rendered with `plotters` to SVG text: the desktop app shows them as
//! images and the CLI can write them to files.

use fleet_store::SeriesPoint;
use plotters::prelude::*;

use crate::FleetError;

const LINE: RGBColor = RGBColor(0x1f, 0x6f, 0xd1);
const GRID: RGBColor = RGBColor(0xe6, 0xe9, 0xee);

/// The app's light or dark look; charts follow it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
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

/// A CPU-load-over-time chart (0–100 %) of one device's check-ins between
/// `from_ms` and `to_ms`; times are labelled in UTC.
pub fn cpu_chart_svg(
    title: &str,
    points: &[SeriesPoint],
    from_ms: i64,
    to_ms: i64,
) -> Result<String, FleetError> {
    // Short spans (one check-in, or two a few ms apart) get a readable
    // one-minute axis; plotters' tick arithmetic overflows on tiny ranges.
    const MIN_SPAN: i64 = 60_000;
    let (from, to) = if to_ms - from_ms >= MIN_SPAN {
        (from_ms, to_ms)
    } else {
        let mid = from_ms + (to_ms - from_ms) / 2;
        (mid - MIN_SPAN / 2, mid + MIN_SPAN / 2)
    };
    let span = to - from;
    // Integer time axes overflow inside plotters on some ranges; f64 does not.
    let visible: Vec<&SeriesPoint> = points
        .iter()
        .filter(|p| (from..=to).contains(&p.at))
        .collect();
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (760, 320)).into_drawing_area();
        root.fill(&WHITE).map_err(chart_error)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 18))
            .margin(14)
            .x_label_area_size(34)
            .y_label_area_size(48)
            .build_cartesian_2d(from as f64..to as f64, 0f64..100f64)
            .map_err(chart_error)?;
        chart
            .configure_mesh()
            .x_labels(6)
            .y_labels(6)
            .x_label_formatter(&|ms| clock_label(*ms as i64, span))
            .y_label_formatter(&|v| format!("{v:.0} %"))
            .x_desc("time (UTC)")
            .y_desc("CPU load")
            .light_line_style(GRID)
            .draw()
            .map_err(chart_error)?;
        chart
            .draw_series(LineSeries::new(
                visible.iter().map(|p| (p.at as f64, p.value)),
                LINE.stroke_width(2),
            ))
            .map_err(chart_error)?;
        chart
            .draw_series(
                visible
                    .iter()
                    .map(|p| Circle::new((p.at as f64, p.value), 3, LINE.filled())),
            )
            .map_err(chart_error)?;
        root.present().map_err(chart_error)?;
    }
    Ok(svg)
}

fn chart_error<E: std::fmt::Display>(e: E) -> FleetError {
    FleetError::Chart(e.to_string())
}

/// `HH:MM` (or `HH:MM:SS` for spans under ten minutes) in UTC.
fn clock_label(ms: i64, span_ms: i64) -> String {
    let secs = ms.div_euclid(1000).rem_euclid(86_400);
    let (h, m, s) = (secs / 3600, secs % 3600 / 60, secs % 60);
    if span_ms < 600_000 {
        format!("{h:02}:{m:02}:{s:02}")
    } else {
        format!("{h:02}:{m:02}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    }
}
