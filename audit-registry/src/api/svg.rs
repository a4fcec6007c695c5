//! Charts as inline SVG, drawn by the server from numbers and dates it made itself: no script,
//! no library, nothing fetched by the browser (the pages' CSP forbids all of it anyway). Every
//! label still goes through `escape`.

use std::fmt::Write as _;

use crate::html::escape;

const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 200.0;
const LEFT: f64 = 48.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 12.0;
const BOTTOM: f64 = 28.0;

/// One series of a bar chart: its name, colour and one value per label.
pub struct Series<'a> {
    pub name: &'a str,
    pub colour: &'a str,
    pub values: Vec<f64>,
}

fn frame(id: &str, title: &str) -> String {
    format!(
        "<svg id=\"{}\" class=\"chart\" width=\"{WIDTH}\" height=\"{HEIGHT}\" \
         viewBox=\"0 0 {WIDTH} {HEIGHT}\" role=\"img\" aria-label=\"{}\"><title>{}</title>\
         <rect x=\"0\" y=\"0\" width=\"{WIDTH}\" height=\"{HEIGHT}\" fill=\"#fff\"/>",
        escape(id),
        escape(title),
        escape(title)
    )
}

/// Horizontal grid lines with their values, and the first and last label under the x axis.
fn axes(svg: &mut String, max: f64, unit: &str, labels: &[String]) {
    for i in 0..=4 {
        let value = max * f64::from(i) / 4.0;
        let y = TOP + (HEIGHT - TOP - BOTTOM) * (1.0 - f64::from(i) / 4.0);
        let _ = write!(
            svg,
            "<line x1=\"{LEFT}\" y1=\"{y:.1}\" x2=\"{:.1}\" y2=\"{y:.1}\" stroke=\"#ddd\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" font-size=\"10\" text-anchor=\"end\" fill=\"#555\">{}{}</text>",
            WIDTH - RIGHT,
            LEFT - 4.0,
            y + 3.0,
            round_label(value),
            escape(unit)
        );
    }
    if let (Some(first), Some(last)) = (labels.first(), labels.last()) {
        let y = HEIGHT - 8.0;
        let _ = write!(
            svg,
            "<text x=\"{LEFT}\" y=\"{y}\" font-size=\"10\" fill=\"#555\">{}</text>\
             <text x=\"{:.1}\" y=\"{y}\" font-size=\"10\" text-anchor=\"end\" fill=\"#555\">{}</text>",
            escape(first),
            WIDTH - RIGHT,
            escape(last)
        );
    }
}

fn round_label(v: f64) -> String {
    if (v - v.round()).abs() < 0.05 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

/// A nice upper bound for the y axis: at least `min`, rounded up to 1, 2 or 5 times a power of 10.
fn nice_max(max: f64, min: f64) -> f64 {
    let max = max.max(min);
    let magnitude = 10f64.powf(max.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|m| *m >= max)
        .unwrap_or(max)
}

/// A line of `(label, value)` points, with a dot (and its value as a tooltip) at each point.
pub fn line_chart(
    id: &str,
    title: &str,
    unit: &str,
    points: &[(String, f64)],
    y_max: Option<f64>,
) -> String {
    let mut svg = frame(id, title);
    let max =
        y_max.unwrap_or_else(|| nice_max(points.iter().map(|p| p.1).fold(0.0, f64::max), 1.0));
    let labels: Vec<String> = points.iter().map(|p| p.0.clone()).collect();
    axes(&mut svg, max, unit, &labels);
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let step = if points.len() > 1 {
        plot_w / (points.len() - 1) as f64
    } else {
        0.0
    };
    let xy = |i: usize, v: f64| {
        let x = if points.len() > 1 {
            LEFT + step * i as f64
        } else {
            LEFT + plot_w / 2.0
        };
        (x, TOP + plot_h * (1.0 - (v / max).clamp(0.0, 1.0)))
    };
    let path: Vec<String> = points
        .iter()
        .enumerate()
        .map(|(i, (_, v))| {
            let (x, y) = xy(i, *v);
            format!("{x:.1},{y:.1}")
        })
        .collect();
    if points.len() > 1 {
        let _ = write!(
            svg,
            "<polyline class=\"series\" fill=\"none\" stroke=\"#2e7d32\" stroke-width=\"2\" points=\"{}\"/>",
            path.join(" ")
        );
    }
    for (i, (label, v)) in points.iter().enumerate() {
        let (x, y) = xy(i, *v);
        let _ = write!(
            svg,
            "<circle class=\"point\" cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"3\" fill=\"#2e7d32\">\
             <title>{}: {}{}</title></circle>",
            escape(label),
            round_label(*v),
            escape(unit)
        );
    }
    if points.is_empty() {
        let _ = write!(
            svg,
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"12\" text-anchor=\"middle\" fill=\"#777\">no data yet</text>",
            WIDTH / 2.0,
            HEIGHT / 2.0
        );
    }
    svg.push_str("</svg>");
    svg
}

/// Bars per label, the series side by side within each label's slot.
pub fn bar_chart(id: &str, title: &str, labels: &[String], series: &[Series<'_>]) -> String {
    let mut svg = frame(id, title);
    let max = nice_max(
        series
            .iter()
            .flat_map(|s| s.values.iter().copied())
            .fold(0.0, f64::max),
        1.0,
    );
    axes(&mut svg, max, "", labels);
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let slot = plot_w / labels.len().max(1) as f64;
    let bar = (slot * 0.8 / series.len().max(1) as f64).max(0.5);
    for (i, label) in labels.iter().enumerate() {
        for (j, s) in series.iter().enumerate() {
            let v = s.values.get(i).copied().unwrap_or(0.0);
            if v <= 0.0 {
                continue;
            }
            let h = plot_h * (v / max).clamp(0.0, 1.0);
            let x = LEFT + slot * i as f64 + slot * 0.1 + bar * j as f64;
            let _ = write!(
                svg,
                "<rect class=\"bar\" x=\"{x:.1}\" y=\"{:.1}\" width=\"{bar:.1}\" height=\"{h:.1}\" \
                 fill=\"{}\"><title>{}, week of {}: {}</title></rect>",
                TOP + plot_h - h,
                escape(s.colour),
                escape(s.name),
                escape(label),
                round_label(v)
            );
        }
    }
    svg.push_str("</svg>");
    svg
}

/// A legend for the series of a bar chart.
pub fn legend(series: &[Series<'_>]) -> String {
    let mut out = String::from("<p class=\"legend\">");
    for s in series {
        let _ = write!(
            out,
            "<span><i class=\"sw\" style=\"background:{}\"></i>{}</span>",
            escape(s.colour),
            escape(s.name)
        );
    }
    out.push_str("</p>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charts_are_numbers_and_escaped_labels_only() {
        let svg = line_chart(
            "c",
            "<t>",
            "%",
            &[("<a>".into(), 10.0), ("b".into(), 50.0)],
            Some(100.0),
        );
        assert!(svg.contains("<title>&lt;t&gt;</title>"), "{svg}");
        assert!(svg.contains("<polyline"), "{svg}");
        assert_eq!(svg.matches("<circle").count(), 2);
        assert!(!svg.contains("<a>"));
        let bars = bar_chart(
            "b",
            "weekly",
            &["w1".into(), "w2".into()],
            &[Series {
                name: "sign-offs",
                colour: "#123456",
                values: vec![0.0, 3.0],
            }],
        );
        assert_eq!(bars.matches("class=\"bar\"").count(), 1, "{bars}");
        assert_eq!(nice_max(0.0, 1.0), 1.0);
        assert_eq!(nice_max(7.0, 1.0), 10.0);
        assert_eq!(nice_max(130.0, 1.0), 200.0);
    }
}
