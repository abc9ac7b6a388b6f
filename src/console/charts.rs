//! Small bar charts drawn on the server as inline SVG. The console's policy forbids inline
//! script and `style` attributes, not markup: the chart is elements with presentation
//! attributes (`fill`, `x`, `height`), so it needs neither a script nor a stylesheet rule of its
//! own, and it prints as it shows. A hidden (suppressed) value is drawn as its mark, not as a
//! bar of some size, so the picture never says more than the table.

use super::careform::esc;

/// One bar: its label under it, its value (`None`: suppressed or none) and the text above it.
pub struct Bar {
    pub label: String,
    pub value: Option<f64>,
    pub text: String,
}

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 220.0;
const LEFT: f64 = 8.0;
const TOP: f64 = 24.0;
const BOTTOM: f64 = 36.0;

/// A bar chart as an `<svg>` element, titled `title` (read by screen readers); bars scale to
/// `max`, or to the largest value when `max` is `None`.
pub fn bars(id: &str, title: &str, bars: &[Bar], max: Option<f64>) -> String {
    let top = max.unwrap_or_else(|| bars.iter().filter_map(|b| b.value).fold(0.0, f64::max));
    let n = bars.len().max(1) as f64;
    let slot = (WIDTH - LEFT * 2.0) / n;
    let width = (slot * 0.6).min(80.0);
    let base = HEIGHT - BOTTOM;
    let mut svg = format!(
        "<svg class=\"chart\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" role=\"img\" aria-labelledby=\"{id}\" \
         xmlns=\"http://www.w3.org/2000/svg\"><title id=\"{id}\">{}</title>\
         <line x1=\"{LEFT}\" y1=\"{base}\" x2=\"{}\" y2=\"{base}\" stroke=\"#4a5563\" stroke-width=\"1\"/>",
        esc(title),
        WIDTH - LEFT,
    );
    for (i, bar) in bars.iter().enumerate() {
        let centre = LEFT + slot * (i as f64 + 0.5);
        let height = match bar.value {
            Some(v) if top > 0.0 => (v / top).clamp(0.0, 1.0) * (base - TOP),
            _ => 0.0,
        };
        if bar.value.is_some() {
            svg.push_str(&format!(
                "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{width:.1}\" height=\"{height:.1}\" fill=\"#0b5cad\"/>",
                centre - width / 2.0,
                base - height,
            ));
        }
        svg.push_str(&format!(
            "<text x=\"{centre:.1}\" y=\"{:.1}\" text-anchor=\"middle\" font-size=\"13\" fill=\"#1b1f24\">{}</text>\
             <text x=\"{centre:.1}\" y=\"{:.1}\" text-anchor=\"middle\" font-size=\"12\" fill=\"#4a5563\">{}</text>",
            base - height - 6.0,
            esc(&bar.text),
            base + 20.0,
            esc(&bar.label),
        ));
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hidden_value_has_its_mark_and_no_bar() {
        let svg = bars(
            "c1",
            "在宅看取り率 <比較>",
            &[
                Bar { label: "2024年度".into(), value: Some(0.5), text: "50.0%".into() },
                Bar { label: "2025年度".into(), value: None, text: "＊".into() },
            ],
            Some(1.0),
        );
        assert_eq!(svg.matches("<rect").count(), 1, "{svg}");
        assert!(svg.contains("＊") && svg.contains("2025年度") && svg.contains("&lt;比較&gt;"), "{svg}");
        assert!(!svg.contains("style="), "{svg}");
    }
}
