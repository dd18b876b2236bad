//! Charts: plotters draws time series to SVG, the same for every door.
//!
//! One look for every chart — transparent background, neutral axes that read on light and dark
//! themes, one palette — and every data point carries a `<title>` so hovering shows its value.
//! Rendering is pure: data in, SVG text out; no I/O here.

use plotters::prelude::*;

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

/// Format a value with its unit, for hover titles.
pub fn fmt_value(v: f64, unit: &str) -> String {
    if unit == "ms" && v >= 1000.0 {
        format!("{:.2} s", v / 1000.0)
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
        let y_top = if max <= 0.0 { 1.0 } else { max * 1.15 };
        let mut titles: Vec<String> = Vec::new();
        {
            let root = SVGBackend::with_string(&mut svg, (self.width, self.height)).into_drawing_area();
            let mut chart = ChartBuilder::on(&root)
                .margin(12)
                .x_label_area_size(28)
                .y_label_area_size(56)
                .build_cartesian_2d(self.from_ms..self.to_ms, 0.0..y_top)
                .map_err(|e| e.to_string())?;
            let label_style = ("sans-serif", 14).into_font().color(&AXIS);
            chart
                .configure_mesh()
                .light_line_style(AXIS.mix(0.12))
                .bold_line_style(AXIS.mix(0.25))
                .axis_style(AXIS.mix(0.6))
                .x_labels(6)
                .y_labels(5)
                .x_label_formatter(&|ms| time_label(*ms, span))
                .y_label_formatter(&|v| fmt_value(*v, &self.unit))
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
            if !self.series.is_empty() {
                chart
                    .configure_series_labels()
                    .position(SeriesLabelPosition::UpperLeft)
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
    fn empty_chart_still_renders() {
        let c = TimeChart {
            unit: "ms".into(),
            from_ms: 0,
            to_ms: 60_000,
            width: 300,
            height: 200,
            series: vec![],
        };
        assert!(c.to_svg().unwrap().contains("<svg"));
    }
}
