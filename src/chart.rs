//! Charts: plotters draws time series to SVG, the same for every door.
//!
//! One look for every chart — transparent background, neutral axes that read on light and dark
//! themes, one palette — and every data point carries a `<title>` so hovering shows its value.
//! Rendering is pure: data in, SVG text out; no I/O here.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// The fixed palette; series take colours in order unless they bring their own.
pub const PALETTE: &[&str] = &[
    "#2563eb", "#0d9488", "#d97706", "#7c3aed", "#db2777", "#65a30d", "#0891b2", "#9333ea",
];

const AXIS: RGBColor = RGBColor(0x80, 0x88, 0x94);

#[derive(Debug, Clone)]
pub struct Series {
    pub name: String,
    /// `#rrggbb`; None takes the next palette colour.
    pub colour: Option<String>,
    /// (unix ms, value); a None value is a gap (e.g. unreachable).
    pub points: Vec<(i64, Option<f64>)>,
}

#[derive(Debug, Clone)]
pub struct TimeChart {
    pub unit: String,
    pub from_ms: i64,
    pub to_ms: i64,
    pub series: Vec<Series>,
    pub width: u32,
    pub height: u32,
    /// Draw a legend inside the plot. Off when the page draws its own.
    pub legend: bool,
    /// A target or threshold, drawn as a dashed line across the plot.
    pub target: Option<f64>,
    /// Fix the y axis to 0..100 (percentages), instead of fitting the data.
    pub percent: bool,
}

/// Tick positions on round local-time boundaries (every 5 min, every hour, midnight …), at
/// most `max` of them.
pub fn time_ticks(from_ms: i64, to_ms: i64, max: i64) -> Vec<i64> {
    const S: i64 = 1000;
    const STEPS: &[i64] = &[
        S,
        2 * S,
        5 * S,
        10 * S,
        15 * S,
        30 * S,
        60 * S,
        120 * S,
        300 * S,
        600 * S,
        900 * S,
        1800 * S,
        3600 * S,
        2 * 3600 * S,
        3 * 3600 * S,
        6 * 3600 * S,
        12 * 3600 * S,
        86_400 * S,
        2 * 86_400 * S,
        7 * 86_400 * S,
        14 * 86_400 * S,
        30 * 86_400 * S,
    ];
    let span = (to_ms - from_ms).max(1);
    let step = STEPS
        .iter()
        .copied()
        .find(|s| span <= max * s)
        .unwrap_or(30 * 86_400 * S);
    // Align to the local clock, so "every hour" means on the hour where the person is.
    let offset = {
        use chrono::{Offset, TimeZone};
        chrono::Local
            .timestamp_millis_opt(from_ms)
            .single()
            .map_or(0, |t| i64::from(t.offset().fix().local_minus_utc()) * S)
    };
    let mut t = (from_ms + offset).div_euclid(step) * step - offset;
    if t < from_ms {
        t += step;
    }
    let mut out = Vec::new();
    while t <= to_ms {
        out.push(t);
        t += step;
    }
    out
}

fn parse_hex(c: &str) -> Option<RGBColor> {
    let c = c.strip_prefix('#')?;
    if c.len() != 6 {
        return None;
    }
    let v = u32::from_str_radix(c, 16).ok()?;
    Some(RGBColor((v >> 16) as u8, (v >> 8) as u8, v as u8))
}

fn time_label(ms: i64, span_ms: i64) -> String {
    use chrono::TimeZone;
    let Some(t) = chrono::Local.timestamp_millis_opt(ms).single() else {
        return String::new();
    };
    if span_ms > 2 * 86_400_000 {
        t.format("%b %d").to_string()
    } else if span_ms > 3_600_000 {
        t.format("%H:%M").to_string()
    } else {
        t.format("%H:%M:%S").to_string()
    }
}

/// An axis label: the value with its unit while that stays short, else the bare value (the
/// chart's title names the unit). The label column is narrow and pages may enlarge its text.
pub fn axis_value(v: f64, unit: &str) -> String {
    let full = fmt_value(v, unit);
    if full.chars().count() <= 8 {
        full
    } else {
        full.trim_end_matches(unit).trim_end().to_owned()
    }
}

/// Format a value with its unit, for hover titles.
pub fn fmt_value(v: f64, unit: &str) -> String {
    if unit == "ms" && v >= 1000.0 {
        format!("{:.2} s", v / 1000.0)
    } else if unit == "%" {
        format!("{v:.1} %")
    } else if v >= 1_000_000.0 {
        format!("{:.1}M {unit}", v / 1_000_000.0)
    } else if v >= 10_000.0 {
        // Axis labels have a fixed width: keep big numbers short.
        format!("{:.0}k {unit}", v / 1000.0)
    } else if v >= 100.0 {
        format!("{v:.0} {unit}")
    } else {
        format!("{v:.2} {unit}")
    }
}

impl TimeChart {
    /// Render to a standalone SVG document.
    pub fn to_svg(&self) -> Result<String, String> {
        let mut svg = String::new();
        let span = (self.to_ms - self.from_ms).max(1);
        let max = self
            .series
            .iter()
            .flat_map(|s| s.points.iter().filter_map(|p| p.1))
            .fold(0.0_f64, f64::max);
        let max = self.target.map_or(max, |t| max.max(t));
        let y_top = if self.percent {
            100.0
        } else if max <= 0.0 {
            1.0
        } else {
            max * 1.15
        };
        let mut titles: Vec<String> = Vec::new();
        {
            let root = SVGBackend::with_string(&mut svg, (self.width, self.height)).into_drawing_area();
            let mut chart = ChartBuilder::on(&root)
                .margin(12)
                // Room for the last time label, centred on the right edge.
                .margin_right(32)
                .x_label_area_size(28)
                .y_label_area_size(64)
                .build_cartesian_2d(
                    (self.from_ms..self.to_ms).with_key_points(time_ticks(self.from_ms, self.to_ms, 7)),
                    0.0..y_top,
                )
                .map_err(|e| e.to_string())?;
            let label_style = ("sans-serif", 14).into_font().color(&AXIS);
            chart
                .configure_mesh()
                .light_line_style(AXIS.mix(0.12))
                .bold_line_style(AXIS.mix(0.25))
                .axis_style(AXIS.mix(0.6))
                .x_labels(8)
                .y_labels(5)
                .x_max_light_lines(1)
                .y_max_light_lines(1)
                .x_label_formatter(&|ms| time_label(*ms, span))
                .y_label_formatter(&|v| axis_value(*v, &self.unit))
                .label_style(label_style.clone())
                .draw()
                .map_err(|e| e.to_string())?;

            let mut palette = PALETTE.iter().cycle();
            let mut used: Vec<String> = Vec::new();
            let colours: Vec<RGBColor> = self
                .series
                .iter()
                .map(|s| {
                    let own = s.colour.as_deref().filter(|c| !used.iter().any(|u| u == *c));
                    let pick = match own {
                        Some(c) => c.to_owned(),
                        None => (*palette.next().expect("palette cycles")).to_owned(),
                    };
                    used.push(pick.clone());
                    parse_hex(&pick).unwrap_or(RGBColor(0x25, 0x63, 0xeb))
                })
                .collect();

            for (s, colour) in self.series.iter().zip(&colours) {
                // Split at gaps so an unreachable period shows as a break, not a slope.
                let mut run: Vec<(i64, f64)> = Vec::new();
                let mut runs = Vec::new();
                for (t, v) in &s.points {
                    match v {
                        Some(v) => run.push((*t, *v)),
                        None if !run.is_empty() => runs.push(std::mem::take(&mut run)),
                        None => {}
                    }
                }
                if !run.is_empty() {
                    runs.push(run);
                }
                let mut first = true;
                for r in runs {
                    let series = chart
                        .draw_series(LineSeries::new(r, colour.stroke_width(2)))
                        .map_err(|e| e.to_string())?;
                    if first {
                        let c = *colour;
                        series
                            .label(s.name.clone())
                            .legend(move |(x, y)| Rectangle::new([(x, y - 4), (x + 14, y + 4)], c.filled()));
                        first = false;
                    }
                }
            }
            if let Some(t) = self.target {
                let red = RGBColor(0xdc, 0x26, 0x26);
                chart
                    .draw_series(DashedLineSeries::new(
                        vec![(self.from_ms, t), (self.to_ms, t)],
                        6,
                        4,
                        red.mix(0.7).stroke_width(1),
                    ))
                    .map_err(|e| e.to_string())?;
                // Name the line where it starts, just above it.
                let label = format!("target {}", fmt_value(t, &self.unit));
                chart
                    .draw_series(std::iter::once(Text::new(
                        label,
                        (self.from_ms + span / 100, t),
                        ("sans-serif", 13)
                            .into_font()
                            .color(&red.mix(0.85))
                            .pos(Pos::new(HPos::Left, VPos::Bottom)),
                    )))
                    .map_err(|e| e.to_string())?;
            }
            // Points last, in a known order, so their <title>s can be attached below.
            for (s, colour) in self.series.iter().zip(&colours) {
                let pts: Vec<(i64, f64)> = s.points.iter().filter_map(|(t, v)| v.map(|v| (*t, v))).collect();
                for (t, v) in &pts {
                    titles.push(format!(
                        "{} · {} · {}",
                        s.name,
                        time_label(*t, 0),
                        fmt_value(*v, &self.unit)
                    ));
                }
                chart
                    .draw_series(pts.into_iter().map(|p| Circle::new(p, 2, colour.filled())))
                    .map_err(|e| e.to_string())?;
            }
            if self.legend && !self.series.is_empty() {
                chart
                    .configure_series_labels()
                    // Upper right: the upper left holds the target line's label.
                    .position(SeriesLabelPosition::UpperRight)
                    .background_style(RGBColor(0x80, 0x88, 0x94).mix(0.08))
                    .border_style(AXIS.mix(0.3))
                    .label_font(label_style)
                    .draw()
                    .map_err(|e| e.to_string())?;
            }
            root.present().map_err(|e| e.to_string())?;
        }
        Ok(attach_titles(&svg, &titles))
    }
}

/// Draw a chart off the async threads (plotters is CPU work); `what` names it in errors.
pub async fn render(chart: TimeChart, what: &str) -> Result<String, crate::error::ApiError> {
    use crate::error::{ApiError, ErrorCode};
    tokio::task::spawn_blocking(move || chart.to_svg())
        .await
        .map_err(|e| ApiError::new(ErrorCode::Internal, format!("chart rendering stopped: {e}")))?
        .map_err(|e| ApiError::new(ErrorCode::Internal, format!("while drawing the {what} chart: {e}")))
}

/// Give the n-th `<circle …/>` the n-th title, so hovering a point shows its value.
fn attach_titles(svg: &str, titles: &[String]) -> String {
    let mut out = String::with_capacity(svg.len() + titles.iter().map(|t| t.len() + 20).sum::<usize>());
    let mut rest = svg;
    let mut i = 0;
    while let Some(start) = rest.find("<circle") {
        let Some(end) = rest[start..].find("/>") else { break };
        let end = start + end;
        out.push_str(&rest[..end]);
        match titles.get(i) {
            Some(t) => {
                out.push_str("><title>");
                out.push_str(&xml_escape(t));
                out.push_str("</title></circle>");
            }
            None => out.push_str("/>"),
        }
        i += 1;
        rest = &rest[end + 2..];
    }
    out.push_str(rest);
    out
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Rasterise a chart for export: the SVG on a white card with its title above, drawn at
/// `scale` (2 gives a sharp image on high-density screens). Text uses the system's fonts;
/// a machine with none gets an error naming the package to install, not a picture without words.
pub fn to_png(svg: &str, title: &str, width: u32, height: u32, scale: f32) -> Result<Vec<u8>, String> {
    const TITLE_H: u32 = 36;
    let total_h = height + TITLE_H;
    let inner = svg.find("<svg").map_or(svg, |i| &svg[i..]);
    let card = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{total_h}\">\
         <rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\
         <text x=\"16\" y=\"24\" font-family=\"sans-serif\" font-size=\"16\" font-weight=\"bold\" fill=\"#1f2937\">{}</text>\
         <g transform=\"translate(0 {TITLE_H})\">{inner}</g></svg>",
        xml_escape(title)
    );
    let mut options = resvg::usvg::Options {
        fontdb: system_fonts()?,
        ..Default::default()
    };
    options.font_family = "sans-serif".into();
    let tree = resvg::usvg::Tree::from_str(&card, &options).map_err(|e| format!("the chart is not valid SVG: {e}"))?;
    let (w, h) = (
        (width as f32 * scale).ceil() as u32,
        (total_h as f32 * scale).ceil() as u32,
    );
    let mut pixmap = resvg::tiny_skia::Pixmap::new(w, h).ok_or("the chart has no area")?;
    resvg::render(
        &tree,
        resvg::tiny_skia::Transform::from_scale(scale, scale),
        &mut pixmap.as_mut(),
    );
    pixmap.encode_png().map_err(|e| format!("PNG encoding failed: {e}"))
}

/// The machine's fonts, loaded once; "sans-serif" maps to the first common family present.
fn system_fonts() -> Result<std::sync::Arc<resvg::usvg::fontdb::Database>, String> {
    static FONTS: std::sync::OnceLock<std::sync::Arc<resvg::usvg::fontdb::Database>> = std::sync::OnceLock::new();
    let db = FONTS.get_or_init(|| {
        let mut db = resvg::usvg::fontdb::Database::new();
        db.load_system_fonts();
        let families: Vec<String> = db
            .faces()
            .flat_map(|f| f.families.iter().map(|(name, _)| name.clone()))
            .collect();
        let preferred = ["DejaVu Sans", "Liberation Sans", "Noto Sans", "Arial", "Helvetica"];
        if let Some(family) = preferred
            .iter()
            .find(|p| families.iter().any(|f| f == *p))
            .map(|p| p.to_string())
            .or_else(|| families.first().cloned())
        {
            db.set_sans_serif_family(family);
        }
        std::sync::Arc::new(db)
    });
    if db.is_empty() {
        return Err(
            "no fonts are installed, so the chart's text cannot be drawn; install fonts-dejavu-core \
                    (or any TrueType font), or export SVG instead"
                .into(),
        );
    }
    Ok(db.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn svg_has_axes_legend_and_a_title_per_point() {
        let c = TimeChart {
            unit: "ms".into(),
            from_ms: 1_000_000,
            to_ms: 1_600_000,
            width: 640,
            height: 240,
            legend: true,
            target: Some(1.0),
            percent: false,
            series: vec![
                Series {
                    name: "demo".into(),
                    colour: Some("#0d9488".into()),
                    points: vec![(1_100_000, Some(0.4)), (1_200_000, None), (1_300_000, Some(0.6))],
                },
                Series {
                    name: "prod".into(),
                    colour: Some("#dc2626".into()),
                    points: vec![(1_100_000, Some(2.5))],
                },
            ],
        };
        let svg = c.to_svg().unwrap();
        assert!(svg.starts_with("<svg"), "a standalone SVG document");
        assert_eq!(svg.matches("<title>").count(), 3, "one title per non-gap point");
        assert!(
            svg.contains("stroke-dasharray") || svg.matches("<line").count() > 0,
            "the target line is drawn"
        );
        assert!(svg.contains("demo · "), "titles name their series");
        assert!(
            svg.contains("\ndemo\n") && svg.contains("\nprod\n"),
            "legend names each series"
        );
        assert!(
            svg.contains("#0D9488") || svg.contains("#0d9488"),
            "series keep their environment's colour"
        );
    }

    #[test]
    fn big_values_stay_short_on_the_axis() {
        assert_eq!(fmt_value(40_000.0, "ops/s"), "40k ops/s");
        assert_eq!(fmt_value(2_500_000.0, "ops/s"), "2.5M ops/s");
        assert_eq!(fmt_value(340.0, "tx/s"), "340 tx/s");
        assert_eq!(axis_value(40_000.0, "ops/s"), "40k", "long labels drop the unit");
        assert_eq!(axis_value(2.5, "ms"), "2.50 ms");
    }

    #[test]
    fn png_export_is_a_picture_with_the_chart_and_its_title() {
        let chart = TimeChart {
            unit: "ms".into(),
            from_ms: 0,
            to_ms: 600_000,
            series: vec![Series {
                name: "dev".into(),
                colour: None,
                points: (0..10).map(|i| (i * 60_000, Some(i as f64))).collect(),
            }],
            width: 400,
            height: 200,
            legend: true,
            target: None,
            percent: false,
        };
        let svg = chart.to_svg().unwrap();
        let png = to_png(&svg, "Latency of dev", 400, 200, 2.0).unwrap();
        assert_eq!(&png[1..4], b"PNG");
        // IHDR: width and height at twice the size, title band included.
        let w = u32::from_be_bytes(png[16..20].try_into().unwrap());
        let h = u32::from_be_bytes(png[20..24].try_into().unwrap());
        assert_eq!((w, h), (800, 472));
    }

    #[test]
    fn ticks_fall_on_round_times() {
        let from = 1_764_000_123_456; // an odd instant
        let ticks = time_ticks(from, from + 15 * 60_000, 7);
        assert!(ticks.len() >= 3 && ticks.len() <= 8, "{ticks:?}");
        let step = ticks[1] - ticks[0];
        assert_eq!(step, 300_000, "15 minutes get a tick every 5 minutes");
        assert!(ticks.iter().all(|t| t % 60_000 == 0), "on whole minutes: {ticks:?}");
        let day = time_ticks(from, from + 86_400_000, 7);
        assert_eq!(day[1] - day[0], 6 * 3_600_000, "24 h get a tick every 6 hours");
    }

    #[test]
    fn empty_chart_still_renders() {
        let c = TimeChart {
            unit: "ms".into(),
            from_ms: 0,
            to_ms: 60_000,
            width: 300,
            height: 200,
            legend: true,
            target: Some(1.0),
            percent: false,
            series: vec![],
        };
        assert!(c.to_svg().unwrap().contains("<svg"));
    }
}
