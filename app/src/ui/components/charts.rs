//! Small SVG charts drawn on the server and in the browser alike (no
//! script, no CDN): bars (stacked or side by side) and lines over labelled
//! buckets, each value with a tooltip.

use leptos::prelude::*;

/// One series: its name (for the legend and tooltips), its CSS class (its
/// colour) and a value per bucket (None: nothing to show there).
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    pub name: &'static str,
    pub class: &'static str,
    pub values: Vec<Option<f64>>,
}

const W: f64 = 640.0;
const H: f64 = 180.0;
const LEFT: f64 = 48.0;
const BOTTOM: f64 = 22.0;
const TOP: f64 = 8.0;

/// A round top for the y axis at or above `max`.
pub fn nice_max(max: f64) -> f64 {
    if !(max.is_finite() && max > 0.0) {
        return 1.0;
    }
    let p = 10f64.powf(max.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * p)
        .find(|v| *v >= max)
        .unwrap_or(10.0 * p)
}

fn frame(labels: &[String], top: f64, unit: &'static str) -> impl IntoView + use<> {
    let plot_h = H - BOTTOM - TOP;
    let grid = (0..=4)
        .map(|i| {
            let v = top * i as f64 / 4.0;
            let y = TOP + plot_h - plot_h * i as f64 / 4.0;
            let label = format!("{}{unit}", tick(v, top));
            view! {
                <line class="grid" x1=LEFT x2=W y1=y y2=y />
                <text class="axis" x=LEFT - 4.0 y=y + 4.0 text-anchor="end">{label}</text>
            }
        })
        .collect_view();
    let n = labels.len().max(1);
    let step = (n / 8).max(1);
    let slot = (W - LEFT) / n as f64;
    let xs = labels
        .iter()
        .enumerate()
        .filter(|(i, _)| i % step == 0)
        .map(|(i, l)| {
            let x = LEFT + slot * (i as f64 + 0.5);
            view! { <text class="axis" x=x y=H - 6.0 text-anchor="middle">{l.clone()}</text> }
        })
        .collect_view();
    view! { {grid} {xs} }
}

fn legend(series: &[Series]) -> impl IntoView + use<> {
    let items = series
        .iter()
        .map(|s| view! { <span class=format!("key {}", s.class)>{s.name}</span> })
        .collect_view();
    view! { <p class="legend">{items}</p> }
}

/// Bars per bucket: stacked (counts that add up) or side by side.
#[component]
pub fn BarChart(
    title: &'static str,
    labels: Vec<String>,
    series: Vec<Series>,
    #[prop(default = false)] stacked: bool,
    #[prop(default = "")] unit: &'static str,
) -> impl IntoView {
    let n = labels.len().max(1);
    let total = |i: usize| -> f64 {
        series
            .iter()
            .filter_map(|s| s.values.get(i).copied().flatten())
            .sum()
    };
    let max = if stacked {
        (0..n).map(total).fold(0.0, f64::max)
    } else {
        series
            .iter()
            .flat_map(|s| s.values.iter().flatten().copied())
            .fold(0.0, f64::max)
    };
    let top = nice_max(max);
    let plot_h = H - BOTTOM - TOP;
    let slot = (W - LEFT) / n as f64;
    let k = series.len().max(1) as f64;
    let mut bars = Vec::new();
    for i in 0..n {
        let mut base = 0.0;
        for (j, s) in series.iter().enumerate() {
            let Some(v) = s.values.get(i).copied().flatten() else {
                continue;
            };
            let h = plot_h * v / top;
            let (x, w, y) = if stacked {
                (
                    LEFT + slot * i as f64 + slot * 0.15,
                    slot * 0.7,
                    TOP + plot_h - base - h,
                )
            } else {
                let w = slot * 0.8 / k;
                (
                    LEFT + slot * i as f64 + slot * 0.1 + w * j as f64,
                    w,
                    TOP + plot_h - h,
                )
            };
            base += if stacked { h } else { 0.0 };
            let tip = format!(
                "{} · {}: {}{unit}",
                labels.get(i).cloned().unwrap_or_default(),
                s.name,
                trim(v)
            );
            bars.push(view! { <rect class=s.class x=x y=y width=w height=h.max(0.0)><title>{tip}</title></rect> });
        }
    }
    view! {
        <figure class="chart">
            <figcaption>{title}</figcaption>
            <svg viewBox=format!("0 0 {W} {H}") role="img" aria-label=title>
                {frame(&labels, top, unit)}
                {bars}
            </svg>
            {legend(&series)}
        </figure>
    }
}

/// A line per series over the buckets (gaps where a value is missing).
#[component]
pub fn LineChart(
    title: &'static str,
    labels: Vec<String>,
    series: Vec<Series>,
    #[prop(default = "")] unit: &'static str,
) -> impl IntoView {
    let n = labels.len().max(1);
    let max = series
        .iter()
        .flat_map(|s| s.values.iter().flatten().copied())
        .fold(0.0, f64::max);
    let top = nice_max(max);
    let plot_h = H - BOTTOM - TOP;
    let slot = (W - LEFT) / n as f64;
    let at = |i: usize, v: f64| {
        (
            LEFT + slot * (i as f64 + 0.5),
            TOP + plot_h - plot_h * v / top,
        )
    };
    let lines = series
        .iter()
        .map(|s| {
            let mut d = String::new();
            let mut pen_up = true;
            let mut dots = Vec::new();
            for (i, v) in s.values.iter().enumerate() {
                match v {
                    Some(v) => {
                        let (x, y) = at(i, *v);
                        d.push_str(&format!("{}{x:.1},{y:.1} ", if pen_up { "M" } else { "L" }));
                        pen_up = false;
                        let tip = format!("{} · {}: {}{unit}", labels.get(i).cloned().unwrap_or_default(), s.name, trim(*v));
                        dots.push(view! { <circle class=s.class cx=x cy=y r="3"><title>{tip}</title></circle> });
                    }
                    None => pen_up = true,
                }
            }
            view! { <path class=format!("line {}", s.class) d=d /> {dots} }
        })
        .collect_view();
    view! {
        <figure class="chart">
            <figcaption>{title}</figcaption>
            <svg viewBox=format!("0 0 {W} {H}") role="img" aria-label=title>
                {frame(&labels, top, unit)}
                {lines}
            </svg>
            {legend(&series)}
        </figure>
    }
}

/// A tick's value with as many decimals as the axis needs.
fn tick(v: f64, top: f64) -> String {
    let decimals = if top >= 40.0 || v.fract() == 0.0 {
        0
    } else if top >= 4.0 {
        1
    } else {
        (2.0 - top.log10().floor()).clamp(2.0, 6.0) as usize
    };
    let s = format!("{v:.decimals$}");
    match decimals {
        0 => s,
        _ => s.trim_end_matches('0').trim_end_matches('.').to_string(),
    }
}

fn trim(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

#[cfg(test)]
mod tests {
    use super::nice_max;

    #[test]
    fn axis_tops_are_round() {
        assert_eq!(nice_max(0.0), 1.0);
        assert_eq!(nice_max(7.0), 10.0);
        assert_eq!(nice_max(42.0), 50.0);
        assert_eq!(nice_max(100.0), 100.0);
        assert_eq!(nice_max(0.31), 0.5);
        assert_eq!(nice_max(f64::NAN), 1.0);
    }

    #[test]
    fn ticks_have_the_decimals_their_axis_needs() {
        assert_eq!(super::tick(12.5, 50.0), "12");
        assert_eq!(super::tick(2.5, 10.0), "2.5");
        assert_eq!(super::tick(0.005, 0.02), "0.005");
        assert_eq!(super::tick(0.01, 0.02), "0.01");
        assert_eq!(super::tick(0.0, 0.02), "0");
    }
}
