//! Charts as inline SVG, drawn from the exact figures with integer arithmetic: no script, no
//! font or file from outside the page. Every drawn bar is a `rect` of class `mark` with a
//! `title` holding its exact value.

use crate::figures::{decimal, yuan};
use crate::table::Title;

pub const BASE: &str = "#8c9bab";
pub const DRAFT: &str = "#c0392b";
const BUCKET_COLORS: [&str; 5] = ["#b2182b", "#ef8a62", "#d9d9d9", "#67a9cf", "#2166ac"];

/// How a series' values read.
#[derive(Clone, Copy)]
pub enum Unit {
    /// Fen, shown as yuan.
    Fen,
    /// Hundredths of a percent (basis points), shown as a percentage.
    Basis,
}

impl Unit {
    fn text(self, v: i128) -> String {
        match self {
            Unit::Fen => yuan(v),
            Unit::Basis => format!("{}%", decimal(v, 2)),
        }
    }
}

pub struct Series {
    pub label: String,
    pub color: &'static str,
    /// One value per label; `None` for a group with nothing to show (no records), drawn as no bar
    /// and labelled `—`.
    pub values: Vec<Option<i128>>,
}

pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const WIDTH: i128 = 760;
const HEIGHT: i128 = 300;
const LEFT: i128 = 70;
const RIGHT: i128 = 16;
const TOP: i128 = 64;
const BOTTOM: i128 = 48;

/// Grouped vertical bars, one group per label, one bar per series; negative values hang below
/// the zero line.
pub fn bars(caption: &Title, labels: &[String], series: &[Series], unit: Unit) -> String {
    let values = series.iter().flat_map(|s| s.values.iter().flatten().copied());
    let hi = values.clone().max().unwrap_or(0).max(0);
    let lo = values.min().unwrap_or(0).min(0);
    let range = (hi - lo).max(1);
    let plot_h = HEIGHT - TOP - BOTTOM;
    let plot_w = WIDTH - LEFT - RIGHT;
    let y = |v: i128| TOP + (hi - v) * plot_h / range;
    let n = labels.len().max(1) as i128;
    let group_w = plot_w / n;
    let k = series.len().max(1) as i128;
    let bar_w = (group_w * 8 / 10 / k).max(1);
    let mut svg = format!(
        "<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" role=\"img\" aria-label=\"{}\">",
        escape(&caption.both())
    );
    svg.push_str(&format!(
        "<text class=\"caption\" x=\"{LEFT}\" y=\"16\">{}</text><text class=\"legend\" x=\"{LEFT}\" y=\"31\">{}</text>",
        escape(&caption.zh),
        escape(&caption.en)
    ));
    // Legend.
    let mut x = LEFT;
    for s in series {
        svg.push_str(&format!(
            "<rect x=\"{x}\" y=\"40\" width=\"10\" height=\"10\" fill=\"{}\"/><text class=\"legend\" x=\"{}\" y=\"49\">{}</text>",
            s.color,
            x + 14,
            escape(&s.label)
        ));
        x += 24 + 8 * s.label.chars().count() as i128;
    }
    // Axis: zero line and the extremes.
    let zero = y(0);
    svg.push_str(&format!("<line class=\"axis\" x1=\"{LEFT}\" y1=\"{zero}\" x2=\"{}\" y2=\"{zero}\"/>", WIDTH - RIGHT));
    for v in [hi, lo].into_iter().filter(|v| *v != 0) {
        svg.push_str(&format!("<text class=\"tick\" x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>", LEFT - 6, y(v) + 4, unit.text(v)));
    }
    svg.push_str(&format!("<text class=\"tick\" x=\"{}\" y=\"{}\" text-anchor=\"end\">0</text>", LEFT - 6, zero + 4));
    let label_values = labels.len() * series.len() <= 24;
    for (g, label) in labels.iter().enumerate() {
        let gx = LEFT + g as i128 * group_w + (group_w - bar_w * k) / 2;
        for (j, s) in series.iter().enumerate() {
            let bx = gx + j as i128 * bar_w;
            let Some(v) = s.values.get(g).copied().flatten() else {
                if label_values {
                    svg.push_str(&format!(
                        "<text class=\"value\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">—</text>",
                        bx + bar_w / 2,
                        zero - 4
                    ));
                }
                continue;
            };
            let (top, bottom) = (y(v.max(0)), y(v.min(0)));
            svg.push_str(&format!(
                "<rect class=\"mark\" x=\"{bx}\" y=\"{top}\" width=\"{}\" height=\"{}\" fill=\"{}\"><title>{} · {}: {}</title></rect>",
                (bar_w - 2).max(1),
                bottom - top,
                s.color,
                escape(label),
                escape(&s.label),
                unit.text(v)
            ));
            if label_values {
                let ty = if v >= 0 { top - 4 } else { bottom + 11 };
                svg.push_str(&format!(
                    "<text class=\"value\" x=\"{}\" y=\"{ty}\" text-anchor=\"middle\">{}</text>",
                    bx + bar_w / 2,
                    unit.text(v)
                ));
            }
        }
        svg.push_str(&format!(
            "<text class=\"label\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
            LEFT + g as i128 * group_w + group_w / 2,
            HEIGHT - BOTTOM + 16,
            escape(label)
        ));
    }
    svg.push_str("</svg>");
    svg
}

/// Horizontal bars of 100 %, one per row, split into the five buckets by their counts.
pub fn stacked(rows: &[(String, [u64; 5])], legend: &[String]) -> String {
    let row_h: i128 = 22;
    let top: i128 = 56;
    let left: i128 = 90;
    let width: i128 = WIDTH - left - RIGHT;
    let height = top + row_h * rows.len() as i128 + 10;
    let mut svg = format!(
        "<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {WIDTH} {height}\" role=\"img\" aria-label=\"得失分布 winners and losers\">"
    );
    svg.push_str(&format!(
        "<text class=\"caption\" x=\"{left}\" y=\"16\">得失分布（占人数） / winners and losers (share of records)</text>"
    ));
    let mut x = left;
    for (k, label) in legend.iter().enumerate() {
        svg.push_str(&format!(
            "<rect x=\"{x}\" y=\"28\" width=\"10\" height=\"10\" fill=\"{}\"/><text class=\"legend\" x=\"{}\" y=\"37\">{}</text>",
            BUCKET_COLORS[k],
            x + 13,
            escape(label.split(' ').next().unwrap_or(label))
        ));
        x += 20 + 13 * label.split(' ').next().unwrap_or(label).chars().count() as i128;
    }
    for (r, (label, counts)) in rows.iter().enumerate() {
        let total: u64 = counts.iter().sum();
        let ry = top + r as i128 * row_h;
        svg.push_str(&format!("<text class=\"label\" x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>", left - 6, ry + 15, escape(label)));
        let mut cum: u64 = 0;
        for (k, &c) in counts.iter().enumerate() {
            if total == 0 {
                break;
            }
            let x0 = left + width * i128::from(cum) / i128::from(total);
            cum += c;
            let x1 = left + width * i128::from(cum) / i128::from(total);
            if c == 0 {
                continue;
            }
            svg.push_str(&format!(
                "<rect class=\"mark\" x=\"{x0}\" y=\"{ry}\" width=\"{}\" height=\"{}\" fill=\"{}\"><title>{} · {}: {c} / {total}</title></rect>",
                x1 - x0,
                row_h - 4,
                BUCKET_COLORS[k],
                escape(label),
                escape(&legend[k])
            ));
        }
    }
    svg.push_str("</svg>");
    svg
}
