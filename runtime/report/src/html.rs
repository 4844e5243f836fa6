//! The page: one HTML file with its style and charts inline, no script, and a content security
//! policy that forbids the browser to fetch anything (government intranets have no CDN).

use crate::svg::escape;
use crate::table::{Table, Title};
use crate::{Check, Report};

const STYLE: &str = r#"
:root { color-scheme: light; }
body { font-family: "Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", "WenQuanYi Micro Hei", sans-serif;
  margin: 0; color: #1d2733; background: #f6f7f9; line-height: 1.5; }
header { background: #1d3557; color: #fff; padding: 20px 32px 16px; }
header h1 { margin: 0 0 4px; font-size: 24px; }
header .sub { opacity: .85; font-size: 14px; }
main { padding: 8px 32px 40px; max-width: 1200px; }
.verdict { margin: 16px 0 8px; padding: 12px 16px; border-radius: 6px; font-size: 17px; font-weight: 600; }
.verdict.ok { background: #e3f4e8; border-left: 6px solid #2e7d32; color: #1b5e20; }
.verdict.broken { background: #fdecea; border-left: 6px solid #c62828; color: #b71c1c; }
.verdict.warn { background: #fff4e0; border-left: 6px solid #e08a00; color: #7a4a00; }
.verdict .en { display: block; font-weight: 400; font-size: 14px; }
#table-provenance td, #table-principles td, #table-aggregates td:nth-child(2) { text-align: left; }
.cards { display: flex; flex-wrap: wrap; gap: 12px; margin: 12px 0 4px; }
.card { background: #fff; border: 1px solid #dde2e8; border-radius: 6px; padding: 10px 14px; min-width: 150px; }
.card .k { font-size: 12px; color: #5b6b7c; }
.card .v { font-size: 20px; font-weight: 600; font-variant-numeric: tabular-nums; }
nav { font-size: 13px; margin: 8px 0 0; }
nav a { margin-right: 12px; color: #1d3557; }
h2 { font-size: 20px; margin: 32px 0 8px; border-bottom: 2px solid #1d3557; padding-bottom: 4px; }
h3 { font-size: 16px; margin: 20px 0 6px; }
h2 .en, h3 .en, th .en { font-weight: 400; color: #5b6b7c; font-size: .8em; margin-left: 6px; }
th .en { display: block; margin-left: 0; }
table { border-collapse: collapse; background: #fff; font-size: 13px; margin: 4px 0; }
th, td { border: 1px solid #dde2e8; padding: 4px 8px; text-align: right; vertical-align: top; font-variant-numeric: tabular-nums; }
th { background: #eef1f5; text-align: center; }
td:first-child { text-align: left; }
td code { font-size: 11px; white-space: pre-wrap; word-break: break-all; text-align: left; display: block; max-width: 520px; }
.note { font-size: 12px; color: #5b6b7c; margin: 2px 0 8px; }
.chart { width: 100%; max-width: 760px; height: auto; background: #fff; border: 1px solid #dde2e8; margin: 6px 0; }
.chart .caption { font-size: 13px; font-weight: 600; fill: #1d2733; }
.chart .legend, .chart .label { font-size: 11px; fill: #1d2733; }
.chart .tick, .chart .value { font-size: 10px; fill: #5b6b7c; }
.chart .axis { stroke: #1d2733; stroke-width: 1; }
.check { background: #fff; border: 1px solid #dde2e8; border-radius: 6px; padding: 8px 14px; margin: 10px 0; }
.check .state { font-weight: 600; }
.check .state.ok { color: #2e7d32; } .check .state.no { color: #c62828; }
.files { font-size: 12px; }
"#;

fn heading(level: u8, title: &Title, id: &str) -> String {
    format!("<h{level} id=\"{id}\">{} <span class=\"en\">{}</span></h{level}>\n", escape(&title.zh), escape(&title.en))
}

fn table(t: &Table) -> String {
    let mut out = format!("<table id=\"table-{}\" data-table=\"{}\">\n<thead><tr>", escape(&t.id), escape(&t.id));
    for c in &t.columns {
        out.push_str(&format!("<th>{}<span class=\"en\">{}</span></th>", escape(&c.zh), escape(&c.en)));
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    let command = t.columns.iter().position(|c| c.en.starts_with("command"));
    for row in &t.rows {
        out.push_str("<tr>");
        for (i, cell) in row.iter().enumerate() {
            if Some(i) == command {
                out.push_str(&format!("<td><code>{}</code></td>", escape(cell)));
            } else {
                out.push_str(&format!("<td>{}</td>", escape(cell)));
            }
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody></table>\n");
    if let Some(note) = &t.note {
        out.push_str(&format!("<p class=\"note\">{} {}</p>\n", escape(&note.zh), escape(&note.en)));
    }
    out
}

fn check(c: &Check) -> String {
    let (class, state) = match c.holds {
        Some(true) => ("ok", "✔ 成立 holds"),
        Some(false) => ("no", "✘ 不成立 does not hold"),
        None => ("", "无法检验 not checked"),
    };
    format!(
        "<div class=\"check\">{}<p><span class=\"state {class}\">{state}</span> — {} <span class=\"en\">{}</span></p>\n{}\n</div>\n",
        heading(3, &c.title, "").replace(" id=\"\"", ""),
        escape(&c.detail.zh),
        escape(&c.detail.en),
        c.chart
    )
}

pub fn page(r: &Report) -> String {
    let s = &r.setup;
    let compare = s.base.is_some();
    let title = s.draft.title.clone().unwrap_or_else(|| s.draft.name.clone());
    let mut out = String::from("<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str(
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\n",
    );
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    let kind = if compare { "调整方案影响评估 impact of a draft" } else { "方案测算报告 scheme report" };
    out.push_str(&format!("<title>{} — {}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n", escape(&title), kind));
    out.push_str(&format!("<header><h1>{}</h1><div class=\"sub\">", escape(&title)));
    match &s.base {
        Some(b) => out.push_str(&format!(
            "{}：{} 与 {}：{} 的比较 · comparison of the {} with the {}",
            escape(&s.draft.role.zh),
            escape(&s.draft.name),
            escape(&b.role.zh),
            escape(&b.name),
            escape(&s.draft.role.en),
            escape(&b.role.en)
        )),
        None => out.push_str(&format!("{} · {}", escape(&s.draft.name), kind)),
    }
    out.push_str(&format!(" · {} 条记录 records · {}</div></header>\n<main>\n", s.rows_in, escape(&s.amount)));
    for h in &r.headline {
        let class = if h.ok { "ok" } else { "broken" };
        out.push_str(&format!(
            "<div class=\"verdict {class}\" id=\"verdict\">{}<span class=\"en\">{}</span></div>\n",
            escape(&h.text.zh),
            escape(&h.text.en)
        ));
    }
    if s.ledger_rows > 0 {
        out.push_str(&format!(
            "<div class=\"verdict warn\" id=\"ledger\">读入 {} 条记录，其中 {} 条在错误台账中，未计入本报告的任何数字（{}）<span class=\"en\">{} of the {} records read are in the error ledger and in none of these figures ({})</span></div>\n",
            s.rows_in,
            s.ledger_rows,
            escape(&s.ledger_file),
            s.ledger_rows,
            s.rows_in,
            escape(&s.ledger_file)
        ));
    }
    out.push_str("<div class=\"cards\">");
    for (k, v) in &r.cards {
        out.push_str(&format!(
            "<div class=\"card\"><div class=\"k\">{} · {}</div><div class=\"v\">{}</div></div>",
            escape(&k.zh),
            escape(&k.en),
            escape(v)
        ));
    }
    out.push_str("</div>\n<nav>");
    let mut sections = vec![("totals", "总体"), ("distribution", "分布")];
    if compare {
        sections.push(("buckets", "得失"));
    }
    sections.extend([("principles", "原则检验"), ("largest", "最大变化"), ("provenance", "制作说明")]);
    for (id, zh) in &sections {
        out.push_str(&format!("<a href=\"#{id}\">{zh}</a>"));
    }
    out.push_str("</nav>\n");

    let chart = |id: &str| r.charts.iter().find(|(c, _)| c == id).map(|(_, svg)| svg.as_str()).unwrap_or_default();
    let t = |id: &str| r.table(id).map(table).unwrap_or_default();
    out.push_str(&heading(2, &Title::new("总体", "Totals"), "totals"));
    out.push_str(&t("totals"));
    out.push_str(&heading(3, &Title::new("总体要求", "Aggregate requirements"), "aggregates"));
    out.push_str(&t("aggregates"));

    out.push_str(&heading(2, &Title::new("分布", "Distribution"), "distribution"));
    if let Some(d) = r.table("deciles") {
        out.push_str(&heading(3, &d.title, "deciles"));
        out.push_str(chart("deciles"));
        out.push_str(chart("deciles-share"));
        out.push_str(&table(d));
    }
    for g in r.tables.iter().filter(|t| t.id.starts_with("group-")) {
        out.push_str(&heading(3, &g.title, &g.id));
        out.push_str(chart(&g.id));
        out.push_str(&table(g));
    }
    if compare {
        out.push_str(&heading(2, &Title::new("得失分布", "Winners and losers"), "buckets"));
        out.push_str(chart("buckets"));
        out.push_str(&t("buckets"));
        out.push_str(&t("buckets-deciles"));
    }
    out.push_str(&heading(2, &Title::new("全国政策原则检验", "National principles, checked on the data"), "principles"));
    for c in &r.checks {
        out.push_str(&check(c));
    }
    out.push_str(&t("principles"));
    let largest = r.table("largest");
    out.push_str(&heading(2, &largest.map_or_else(|| Title::new("最大变化", "Largest changes"), |l| l.title.clone()), "largest"));
    out.push_str("<p class=\"note\">每条记录附有解释其金额的 <code>pol trace</code> 命令。 Each record comes with the <code>pol trace</code> command that explains its amount.</p>\n");
    out.push_str(&t("largest"));
    out.push_str(&heading(2, &Title::new("制作说明", "How this report was made"), "provenance"));
    out.push_str(&t("provenance"));
    out.push_str("<p class=\"files\">每张表另存为 CSV 文件与一个 xlsx 工作簿，与本页同目录。 Every table is also written as a CSV file, and all of them as one xlsx workbook, beside this page.</p>\n");
    out.push_str("</main>\n</body>\n</html>\n");
    out
}
