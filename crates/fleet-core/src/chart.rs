//! Charts rendered with `plotters` to SVG text: the desktop app shows them as
//! images and the CLI can write them to files.

use fleet_store::SeriesPoint;
use plotters::prelude::*;

use crate::FleetError;

const LINE: RGBColor = RGBColor(0x1f, 0x6f, 0xd1);
const GRID: RGBColor = RGBColor(0xe6, 0xe9, 0xee);

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
    fn clock_labels() {
        assert_eq!(clock_label(3_723_000, 60_000), "01:02:03");
        assert_eq!(clock_label(3_723_000, 3_600_000), "01:02");
    }
}
