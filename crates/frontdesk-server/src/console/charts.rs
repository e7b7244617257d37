//! Small, dependency-free charts for the reports page: grouped or stacked
//! bars and lines over labelled categories, rendered on the server as
//! inline SVG. Every text is escaped here (the SVG is inserted unescaped
//! into the page). Each chart is an image with a title and a description
//! for screen readers, visible axis labels and a legend, and every bar or
//! point has a `<title>` tooltip with its exact value; the table below the
//! chart gives the same figures.

use std::fmt::Write;

/// How the series are drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// One bar per series, side by side in each category.
    GroupedBars,
    /// The series piled up in one bar per category.
    StackedBars,
    /// One line per series (gaps where a value is missing).
    Lines,
}

/// What the values measure, for the axis and the tooltips.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unit {
    Count,
    /// A share from 0 to 1, shown as a percentage.
    Share,
    /// A duration in seconds.
    Seconds,
}

impl Unit {
    /// The value as people read it: `12`, `58.3%`, `1 min 26 s`.
    pub(crate) fn format(self, v: f64) -> String {
        if !v.is_finite() {
            return "—".to_owned();
        }
        match self {
            Unit::Count => number(v),
            Unit::Share => percent(v),
            Unit::Seconds => duration(v),
        }
    }
}

/// A whole number as is, anything else to one decimal.
pub(crate) fn number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v:.1}")
    }
}

/// A share (0..1) as a percentage, to one decimal unless it is whole.
pub(crate) fn percent(v: f64) -> String {
    let p = v * 100.0;
    if (p - p.round()).abs() < 0.05 {
        format!("{}%", p.round() as i64)
    } else {
        format!("{p:.1}%")
    }
}

/// Seconds as `42 s`, `1 min 26 s`, `5 h 3 min`, `2 d 4 h`.
pub(crate) fn duration(secs: f64) -> String {
    if secs > 0.0 && secs < 0.5 {
        return "< 1 s".to_owned();
    }
    let s = secs.max(0.0).round() as i64;
    let (d, h, m, sec) = (s / 86_400, s % 86_400 / 3600, s % 3600 / 60, s % 60);
    let pair = |a: i64, ua: &str, b: i64, ub: &str| {
        if b == 0 {
            format!("{a} {ua}")
        } else {
            format!("{a} {ua} {b} {ub}")
        }
    };
    if d > 0 {
        pair(d, "d", h, "h")
    } else if h > 0 {
        pair(h, "h", m, "min")
    } else if m > 0 {
        pair(m, "min", sec, "s")
    } else {
        format!("{sec} s")
    }
}

/// An x-axis category: a short label under the axis, a longer one in tooltips.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Category {
    pub short: String,
    pub long: String,
}

/// A labelled series: one value per category, `None` when there is none.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Series {
    pub label: String,
    pub values: Vec<Option<f64>>,
    /// A colour that carries meaning (good, bad, waiting); else the palette's.
    pub colour: Option<&'static str>,
}

/// A chart to draw.
#[derive(Debug, Clone)]
pub(crate) struct Chart {
    /// Unique on the page: the prefix of the SVG's element ids.
    pub id: String,
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub categories: Vec<Category>,
    pub series: Vec<Series>,
    pub kind: Kind,
    pub unit: Unit,
}

/// Series colours, distinguishable in light mode (brand first).
const PALETTE: [&str; 8] = ["#4f46e5", "#0891b2", "#d97706", "#059669", "#dc2626", "#7c3aed", "#475569", "#db2777"];

const WIDTH: f64 = 720.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 16.0;
const PLOT_HEIGHT: f64 = 180.0;
/// The approximate width of a character of the 11 px labels.
const CHAR_W: f64 = 6.2;

/// Escapes text for SVG (XML) content and attribute values.
pub(crate) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Control characters are not allowed in XML 1.0.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// The first `max` characters of `s`, with an ellipsis when cut.
fn cut(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
        out.push('…');
        out
    }
}

/// A round step of at least `x`: 1, 2 or 5 times a power of ten.
fn nice_step(x: f64) -> f64 {
    if x.is_nan() || x <= 0.0 || x.is_infinite() {
        return 1.0;
    }
    let exp = 10f64.powf(x.log10().floor());
    let f = x / exp;
    let nf = if f <= 1.0 {
        1.0
    } else if f <= 2.0 {
        2.0
    } else if f <= 5.0 {
        5.0
    } else {
        10.0
    };
    nf * exp
}

/// The axis: its top value and its ticks (from 0), for a largest value of `max`.
fn axis(unit: Unit, max: f64) -> (f64, Vec<f64>) {
    let max = if max.is_finite() && max > 0.0 { max } else { 0.0 };
    let step = match unit {
        // Shares span 0–100% so charts compare at a glance.
        Unit::Share if max <= 1.0 => return (1.0, vec![0.0, 0.25, 0.5, 0.75, 1.0]),
        Unit::Count => nice_step(max / 4.0).max(1.0),
        Unit::Seconds => {
            const STEPS: [f64; 17] = [
                1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1800.0, 3600.0, 7200.0, 10_800.0,
                21_600.0, 43_200.0,
            ];
            let want = max / 4.0;
            STEPS.iter().copied().find(|s| *s >= want).unwrap_or_else(|| 86_400.0 * nice_step(want / 86_400.0))
        }
        Unit::Share => nice_step(max / 4.0),
    };
    let n = ((max / step).ceil() as usize).max(1);
    let ticks: Vec<f64> = (0..=n).map(|i| i as f64 * step).collect();
    (n as f64 * step, ticks)
}

/// A finite, non-negative value, or none.
fn clean(v: Option<f64>) -> Option<f64> {
    v.filter(|x| x.is_finite()).map(|x| x.max(0.0))
}

/// Coordinates to one decimal.
fn c(v: f64) -> String {
    format!("{:.1}", v)
}

/// Lays the legend out in rows; returns each entry's (x, row) and the row count.
fn legend_layout(labels: &[String]) -> (Vec<(f64, usize)>, usize) {
    let mut out = Vec::with_capacity(labels.len());
    let (mut x, mut row) = (LEFT, 0usize);
    for l in labels {
        let w = 14.0 + cut(l, 28).chars().count() as f64 * CHAR_W + 16.0;
        if x + w > WIDTH - RIGHT && x > LEFT {
            x = LEFT;
            row += 1;
        }
        out.push((x, row));
        x += w;
    }
    (out, if labels.is_empty() { 0 } else { row + 1 })
}

impl Chart {
    fn colour(&self, i: usize) -> &'static str {
        self.series.get(i).and_then(|s| s.colour).unwrap_or(PALETTE[i % PALETTE.len()])
    }

    fn value(&self, s: usize, i: usize) -> Option<f64> {
        clean(self.series.get(s).and_then(|x| x.values.get(i).copied().flatten()))
    }

    /// The largest value the axis has to hold.
    fn max(&self) -> f64 {
        let n = self.categories.len();
        match self.kind {
            Kind::StackedBars => {
                (0..n).map(|i| (0..self.series.len()).filter_map(|s| self.value(s, i)).sum::<f64>()).fold(0.0, f64::max)
            }
            _ => (0..n).flat_map(|i| (0..self.series.len()).filter_map(move |s| self.value(s, i))).fold(0.0, f64::max),
        }
    }

    fn has_data(&self) -> bool {
        let n = self.categories.len();
        (0..self.series.len()).any(|s| (0..n).any(|i| self.value(s, i).is_some_and(|v| v > 0.0)))
            || (self.kind == Kind::Lines && (0..self.series.len()).any(|s| (0..n).any(|i| self.value(s, i).is_some())))
    }

    /// The tooltip of one value.
    fn tip(&self, s: usize, i: usize, v: Option<f64>) -> String {
        let series = self.series.get(s).map(|x| x.label.as_str()).unwrap_or("");
        let cat = self.categories.get(i).map(|x| x.long.as_str()).unwrap_or("");
        let value = v.map(|v| self.unit.format(v)).unwrap_or_else(|| "—".to_owned());
        esc(&format!("{series}, {cat}: {value}"))
    }

    /// The chart as an inline `<svg>` element.
    pub(crate) fn render(&self) -> String {
        let id = esc(&self.id);
        let labels: Vec<String> = self.series.iter().map(|s| s.label.clone()).collect();
        let (legend, rows) = legend_layout(&labels);
        let top = 34.0 + rows as f64 * 16.0 + 8.0;
        let bottom = top + PLOT_HEIGHT;
        let height = bottom + 44.0;
        let plot_w = WIDTH - LEFT - RIGHT;
        let n = self.categories.len().max(1);
        let band = plot_w / n as f64;
        let (y_top, ticks) = axis(self.unit, self.max());
        let y = |v: f64| bottom - (v / y_top) * PLOT_HEIGHT;
        let kind = match self.kind {
            Kind::GroupedBars => "Grouped bar chart",
            Kind::StackedBars => "Stacked bar chart",
            Kind::Lines => "Line chart",
        };
        let (first, last) = (
            self.categories.first().map(|c| c.long.clone()).unwrap_or_default(),
            self.categories.last().map(|c| c.long.clone()).unwrap_or_default(),
        );
        let desc = format!(
            "{kind} of {} by {}, from {first} to {last}; {} against {}. The table below gives every figure.",
            labels.join(", "),
            self.x_label.to_lowercase(),
            self.y_label,
            self.x_label.to_lowercase()
        );

        let mut o = String::with_capacity(4096);
        let _ = write!(
            o,
            r##"<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{id}" viewBox="0 0 {w} {h}" width="{w}" role="img" aria-labelledby="{id}-title {id}-desc" font-family="system-ui, -apple-system, 'Segoe UI', sans-serif" font-size="11" fill="#1d2333">"##,
            w = WIDTH,
            h = c(height),
        );
        let _ = write!(o, r#"<title id="{id}-title">{}</title>"#, esc(&self.title));
        let _ = write!(o, r#"<desc id="{id}-desc">{}</desc>"#, esc(&desc));
        let _ =
            write!(o, r#"<text x="{}" y="18" font-size="13" font-weight="600">{}</text>"#, c(LEFT), esc(&self.title));

        // Legend.
        for (i, ((x, row), label)) in legend.iter().zip(&labels).enumerate() {
            let ly = 34.0 + *row as f64 * 16.0;
            let colour = self.colour(i);
            match self.kind {
                Kind::Lines => {
                    let _ = write!(
                        o,
                        r#"<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{colour}" stroke-width="2.5"/>"#,
                        c(*x),
                        c(ly - 4.0),
                        c(x + 10.0),
                        c(ly - 4.0)
                    );
                }
                _ => {
                    let _ = write!(
                        o,
                        r#"<rect x="{}" y="{}" width="10" height="10" rx="2" fill="{colour}"/>"#,
                        c(*x),
                        c(ly - 9.0)
                    );
                }
            }
            let _ = write!(
                o,
                r#"<text x="{}" y="{}"><title>{}</title>{}</text>"#,
                c(x + 14.0),
                c(ly),
                esc(label),
                esc(&cut(label, 28))
            );
        }

        // Grid and y ticks.
        for t in &ticks {
            let ty = y(*t);
            let _ = write!(
                o,
                r##"<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{}" stroke-width="1"/>"##,
                c(LEFT),
                c(ty),
                c(WIDTH - RIGHT),
                c(ty),
                if *t == 0.0 { "#9aa1b3" } else { "#e3e5ee" }
            );
            let _ = write!(
                o,
                r##"<text x="{}" y="{}" text-anchor="end" fill="#5b6275">{}</text>"##,
                c(LEFT - 6.0),
                c(ty + 4.0),
                esc(&self.unit.format(*t))
            );
        }
        // Axis labels.
        let _ = write!(
            o,
            r##"<text transform="translate(14,{}) rotate(-90)" text-anchor="middle" fill="#5b6275">{}</text>"##,
            c(top + PLOT_HEIGHT / 2.0),
            esc(&self.y_label)
        );
        let _ = write!(
            o,
            r##"<text x="{}" y="{}" text-anchor="middle" fill="#5b6275">{}</text>"##,
            c(LEFT + plot_w / 2.0),
            c(bottom + 38.0),
            esc(&self.x_label)
        );
        // X tick labels, thinned to fit.
        let fit = ((plot_w / 58.0).floor() as usize).max(1);
        let every = n.div_ceil(fit).max(1);
        for (i, cat) in self.categories.iter().enumerate() {
            if i % every != 0 {
                continue;
            }
            let _ = write!(
                o,
                r##"<text x="{}" y="{}" text-anchor="middle" fill="#5b6275">{}</text>"##,
                c(LEFT + band * (i as f64 + 0.5)),
                c(bottom + 16.0),
                esc(&cut(&cat.short, 12))
            );
        }

        if !self.has_data() {
            let _ = write!(
                o,
                r##"<text x="{}" y="{}" text-anchor="middle" fill="#5b6275">No data in this range</text>"##,
                c(LEFT + plot_w / 2.0),
                c(top + PLOT_HEIGHT / 2.0)
            );
        }

        // The marks.
        let pad = if band > 6.0 { band * 0.2 } else { 0.0 };
        let series_n = self.series.len().max(1);
        // Bars stay slim when there are few categories; the group is centred in its band.
        let widest = match self.kind {
            Kind::GroupedBars => 28.0 * series_n as f64,
            _ => 56.0,
        };
        let group = (band - pad).min(widest);
        let pad = band - group;
        match self.kind {
            Kind::GroupedBars => {
                let w = group / series_n as f64;
                for i in 0..self.categories.len() {
                    for s in 0..self.series.len() {
                        let Some(v) = self.value(s, i) else { continue };
                        let x = LEFT + band * i as f64 + pad / 2.0 + w * s as f64;
                        let top_y = y(v);
                        let _ = write!(
                            o,
                            r#"<rect x="{}" y="{}" width="{}" height="{}" fill="{}"><title>{}</title></rect>"#,
                            c(x),
                            c(top_y),
                            c((w - if w > 4.0 { 1.0 } else { 0.0 }).max(0.5)),
                            c(bottom - top_y),
                            self.colour(s),
                            self.tip(s, i, Some(v))
                        );
                    }
                }
            }
            Kind::StackedBars => {
                for i in 0..self.categories.len() {
                    let mut base = 0.0;
                    let x = LEFT + band * i as f64 + pad / 2.0;
                    for s in 0..self.series.len() {
                        let Some(v) = self.value(s, i).filter(|v| *v > 0.0) else { continue };
                        let (y0, y1) = (y(base), y(base + v));
                        base += v;
                        let _ = write!(
                            o,
                            r#"<rect x="{}" y="{}" width="{}" height="{}" fill="{}"><title>{}</title></rect>"#,
                            c(x),
                            c(y1),
                            c(group.max(0.5)),
                            c(y0 - y1),
                            self.colour(s),
                            self.tip(s, i, Some(v))
                        );
                    }
                }
            }
            Kind::Lines => {
                let dots = self.categories.len() <= 120;
                for s in 0..self.series.len() {
                    let colour = self.colour(s);
                    let mut d = String::new();
                    let mut pen_down = false;
                    for i in 0..self.categories.len() {
                        match self.value(s, i) {
                            Some(v) => {
                                let _ = write!(
                                    d,
                                    "{}{} {} ",
                                    if pen_down { "L" } else { "M" },
                                    c(LEFT + band * (i as f64 + 0.5)),
                                    c(y(v))
                                );
                                pen_down = true;
                            }
                            None => pen_down = false,
                        }
                    }
                    if !d.is_empty() {
                        let _ = write!(
                            o,
                            r#"<path d="{}" fill="none" stroke="{colour}" stroke-width="2.5" stroke-linejoin="round" stroke-linecap="round"/>"#,
                            d.trim_end()
                        );
                    }
                    if dots {
                        for i in 0..self.categories.len() {
                            let Some(v) = self.value(s, i) else { continue };
                            let _ = write!(
                                o,
                                r##"<circle cx="{}" cy="{}" r="3.5" fill="{colour}" stroke="#fff" stroke-width="1"><title>{}</title></circle>"##,
                                c(LEFT + band * (i as f64 + 0.5)),
                                c(y(v)),
                                self.tip(s, i, Some(v))
                            );
                        }
                    }
                }
            }
        }
        o.push_str("</svg>");
        o
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cats(n: usize) -> Vec<Category> {
        (0..n).map(|i| Category { short: format!("d{i}"), long: format!("day {i}") }).collect()
    }

    fn chart(kind: Kind, unit: Unit, series: Vec<Series>, n: usize) -> Chart {
        Chart {
            id: "c1".into(),
            title: "Handled".into(),
            x_label: "Week".into(),
            y_label: "Conversations".into(),
            categories: cats(n),
            series,
            kind,
            unit,
        }
    }

    fn s(label: &str, values: &[Option<f64>]) -> Series {
        Series { label: label.into(), values: values.to_vec(), colour: None }
    }

    #[test]
    fn values_are_formatted_for_people() {
        assert_eq!(duration(86.0), "1 min 26 s");
        assert_eq!(duration(60.0), "1 min");
        assert_eq!(duration(42.4), "42 s");
        assert_eq!(duration(0.0), "0 s");
        assert_eq!(duration(0.2), "< 1 s");
        assert_eq!(duration(18_000.0), "5 h");
        assert_eq!(duration((3 * 86_400 + 2 * 3600 + 5) as f64), "3 d 2 h");
        assert_eq!(percent(7.0 / 12.0), "58.3%");
        assert_eq!(percent(1.0), "100%");
        assert_eq!(percent(0.0), "0%");
        assert_eq!(number(3.0), "3");
        assert_eq!(number(2.25), "2.2");
        assert_eq!(Unit::Seconds.format(f64::NAN), "—");
    }

    #[test]
    fn axes_are_round() {
        assert_eq!(axis(Unit::Count, 13.0), (15.0, vec![0.0, 5.0, 10.0, 15.0]));
        assert_eq!(axis(Unit::Count, 0.0), (1.0, vec![0.0, 1.0]));
        assert_eq!(axis(Unit::Count, 3.0), (3.0, vec![0.0, 1.0, 2.0, 3.0]));
        assert_eq!(axis(Unit::Share, 0.4).0, 1.0);
        assert_eq!(axis(Unit::Share, 1.0).1.len(), 5);
        assert_eq!(axis(Unit::Seconds, 86.0).0, 90.0);
        assert_eq!(axis(Unit::Seconds, 18_000.0).0, 21_600.0);
    }

    #[test]
    fn every_text_is_escaped() {
        let mut ch = chart(Kind::GroupedBars, Unit::Count, vec![s("<script>alert('x')</script>", &[Some(1.0)])], 1);
        ch.title = "A & B \"quoted\"".into();
        ch.categories[0].long = "<b>".into();
        ch.id = "x\" onload=\"alert(1)".into();
        let svg = ch.render();
        assert!(!svg.contains("<script>") && !svg.contains("<b>"), "{svg}");
        assert!(svg.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"));
        assert!(svg.contains("A &amp; B &quot;quoted&quot;"));
        assert!(!svg.contains("\" onload=\""));
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
    }

    #[test]
    fn charts_are_accessible_images_with_tooltips() {
        let svg = chart(
            Kind::StackedBars,
            Unit::Count,
            vec![s("Resolved", &[Some(2.0), Some(0.0)]), s("Pending", &[Some(1.0), None])],
            2,
        )
        .render();
        assert!(svg.contains(r#"role="img""#) && svg.contains(r#"aria-labelledby="c1-title c1-desc""#));
        assert!(svg.contains("<title id=\"c1-title\">Handled</title>"));
        assert!(svg.contains(">Conversations</text>") && svg.contains(">Week</text>"));
        assert!(svg.contains("<title>Resolved, day 0: 2</title>"));
        assert!(svg.contains("<title>Pending, day 0: 1</title>"));
        // Zero and missing segments draw nothing.
        assert_eq!(svg.matches("<rect x").count() - 2, 2, "two legend swatches, two segments: {svg}");
    }

    #[test]
    fn stacked_bars_pile_up_and_grouped_bars_sit_side_by_side() {
        let series = vec![s("a", &[Some(3.0)]), s("b", &[Some(1.0)])];
        let stacked = chart(Kind::StackedBars, Unit::Count, series.clone(), 1);
        assert_eq!(stacked.max(), 4.0);
        let grouped = chart(Kind::GroupedBars, Unit::Count, series, 1);
        assert_eq!(grouped.max(), 3.0);
    }

    #[test]
    fn lines_break_at_missing_values_and_say_when_empty() {
        let svg =
            chart(Kind::Lines, Unit::Share, vec![s("Rate", &[Some(0.5), None, Some(1.0), Some(0.25)])], 4).render();
        let d = svg.split("<path d=\"").nth(1).unwrap().split('"').next().unwrap();
        assert_eq!(d.matches('M').count(), 2, "{d}");
        assert_eq!(d.matches('L').count(), 1, "{d}");
        assert!(svg.contains("<title>Rate, day 2: 100%</title>"));
        assert!(!svg.contains("No data"));
        let empty = chart(Kind::GroupedBars, Unit::Count, vec![s("a", &[Some(0.0), None])], 2).render();
        assert!(empty.contains("No data in this range"));
        let none = chart(Kind::Lines, Unit::Count, vec![], 0).render();
        assert!(none.contains("No data in this range") && none.ends_with("</svg>"));
    }

    #[test]
    fn many_categories_thin_the_labels() {
        let ch = chart(Kind::GroupedBars, Unit::Count, vec![s("a", &vec![Some(1.0); 400])], 400);
        let svg = ch.render();
        let labels = svg.matches(">d").count();
        assert!(labels > 3 && labels <= 12, "{labels}");
        assert_eq!(svg.matches("<rect x").count(), 401);
    }
}
