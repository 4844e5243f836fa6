//! `pol diff` and `pol report`: every figure of the report recomputed here, independently, from
//! the per-record results the run kept (integer fen, no floats), and the report's verdicts.

mod common;

use arrow::array::{Array, BooleanArray, Date32Array, Decimal128Array, Int64Array, StringArray};
use arrow::record_batch::RecordBatch;
use common::{GUANGDONG, PROFILE, pol, repo, text};
use std::collections::BTreeMap;
use std::path::Path;

const DRAFT_A: &str = "policies/provinces/guangdong/drafts/pension_adjustment_2024_draft_a.pol";
const DRAFT_B: &str = "policies/provinces/guangdong/drafts/pension_adjustment_2024_draft_b.pol";

fn population(dir: &Path, rows: u64) -> String {
    let path = dir.join("population.parquet").display().to_string();
    let rows = rows.to_string();
    let o = pol(&["gen", GUANGDONG, "--record", "Retiree", "--rows", &rows, "--seed", "5", "--profile", PROFILE, "--output", &path]);
    assert!(o.status.success(), "{}", text(&o));
    path
}

fn read_parquet(path: &Path) -> RecordBatch {
    let file = std::fs::File::open(path).expect("rows file");
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file).expect("parquet").build().expect("reader");
    let batches: Vec<RecordBatch> = reader.map(|b| b.expect("batch")).collect();
    arrow::compute::concat_batches(&batches[0].schema(), &batches).expect("concat")
}

/// A column as i64 cells: fen for decimals (scale 2), days for dates, 0/1 for bools.
fn cells(batch: &RecordBatch, name: &str) -> Vec<i64> {
    let col = batch.column_by_name(name).unwrap_or_else(|| panic!("no column {name}"));
    if let Some(a) = col.as_any().downcast_ref::<Int64Array>() {
        return a.values().to_vec();
    }
    if let Some(a) = col.as_any().downcast_ref::<Decimal128Array>() {
        assert_eq!(a.scale(), 2, "{name}");
        return a.values().iter().map(|v| i64::try_from(*v).expect("fits")).collect();
    }
    if let Some(a) = col.as_any().downcast_ref::<Date32Array>() {
        return a.values().iter().map(|v| i64::from(*v)).collect();
    }
    if let Some(a) = col.as_any().downcast_ref::<BooleanArray>() {
        return (0..a.len()).map(|i| i64::from(a.value(i))).collect();
    }
    panic!("column {name}: unexpected type {:?}", col.data_type())
}

fn strings(batch: &RecordBatch, name: &str) -> Vec<String> {
    let col = batch.column_by_name(name).unwrap_or_else(|| panic!("no column {name}"));
    let a = col.as_any().downcast_ref::<StringArray>().expect("text column");
    (0..a.len()).map(|i| a.value(i).to_string()).collect()
}

/// A CSV table the report wrote: rows of cells after the header (RFC 4180 quotes).
fn csv(path: &Path) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let text = text.strip_prefix('\u{feff}').expect("a UTF-8 byte-order mark");
    let mut rows = Vec::new();
    let (mut row, mut cell, mut quoted, mut chars) = (Vec::new(), String::new(), false, text.chars().peekable());
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                chars.next();
                cell.push('"');
            }
            ('"', _) => quoted = !quoted,
            (',', false) => row.push(std::mem::take(&mut cell)),
            ('\n', false) => {
                row.push(std::mem::take(&mut cell));
                rows.push(std::mem::take(&mut row));
            }
            (c, _) => cell.push(c),
        }
    }
    rows.remove(0);
    rows
}

// Figures written out independently of the report's own code: rounding half away from zero.
fn round_div(n: i128, d: i128) -> i128 {
    let q = n / d;
    let r = n % d;
    if 2 * r.abs() >= d.abs() { q + if (n < 0) == (d < 0) { 1 } else { -1 } } else { q }
}

fn yuan(fen: i128) -> String {
    format!("{}{}.{:02}", if fen < 0 { "-" } else { "" }, fen.abs() / 100, fen.abs() % 100)
}

fn signed(fen: i128) -> String {
    if fen > 0 { format!("+{}", yuan(fen)) } else { yuan(fen) }
}

/// `n/d` as a percentage with `places` decimals.
fn pct(n: i128, d: i128, places: u32) -> String {
    let v = round_div(n * 10i128.pow(places + 2), d);
    let p = 10i128.pow(places);
    let body = if places == 0 { format!("{}", v.abs()) } else { format!("{}.{:0w$}", v.abs() / p, v.abs() % p, w = places as usize) };
    format!("{}{body}%", if v < 0 { "-" } else { "" })
}

fn signed_pct(n: i128, d: i128, places: u32) -> String {
    let t = pct(n, d, places);
    if n.signum() * d.signum() > 0 && !t.starts_with('-') { format!("+{t}") } else { t }
}

struct Rows {
    n: usize,
    key: Vec<i64>,
    level: Vec<i64>,
    base: Vec<i64>,
    draft: Vec<i64>,
}

fn by_decile(level: &[i64]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..level.len()).collect();
    order.sort_by(|&a, &b| level[a].cmp(&level[b]).then(a.cmp(&b)));
    let mut decile = vec![0; level.len()];
    for (rank, i) in order.into_iter().enumerate() {
        decile[i] = rank * 10 / level.len();
    }
    decile
}

/// The five buckets, each bound written as its own comparison of integers.
fn bucket_of(change: i128, base_income: i128) -> usize {
    let b = base_income.abs();
    match () {
        _ if b == 0 && change == 0 => 2,
        _ if b == 0 => {
            if change < 0 {
                0
            } else {
                4
            }
        }
        _ if change * 1000 <= b && change * 1000 >= -b => 2,
        _ if change * 20 < -b => 0,
        _ if change < 0 => 1,
        _ if change * 20 > b => 4,
        _ => 3,
    }
}

/// The data cells of the HTML table `id`, unescaped.
fn html_table(html: &str, id: &str) -> Vec<Vec<String>> {
    let start = html.find(&format!("<table id=\"table-{id}\"")).unwrap_or_else(|| panic!("no table {id} in the page"));
    let end = start + html[start..].find("</table>").expect("table end");
    let body = &html[start..end];
    let body = &body[body.find("<tbody>").expect("tbody")..];
    body.split("<tr>")
        .skip(1)
        .map(|tr| {
            tr.split("<td>")
                .skip(1)
                .map(|td| {
                    let cell = &td[..td.find("</td>").expect("td end")];
                    let cell = cell.trim_start_matches("<code>").trim_end_matches("</code>");
                    cell.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&#39;", "'").replace("&amp;", "&")
                })
                .collect()
        })
        .collect()
}

fn run_diff(dir: &Path, input: &str, draft: &str, extra: &[&str]) -> std::process::Output {
    let report = dir.join("report.html").display().to_string();
    let rows = dir.join("deltas.parquet").display().to_string();
    let mut args = vec!["diff", GUANGDONG, draft, "--input", input, "--report", &report, "--rows", &rows];
    args.extend_from_slice(extra);
    pol(&args)
}

#[test]
fn every_figure_of_a_diff_agrees_with_the_per_record_results_recomputed_in_fen() {
    let dir = tempfile::tempdir().expect("tmp");
    let input = population(dir.path(), 30_000);
    let o = run_diff(dir.path(), &input, DRAFT_A, &["--threads", "2"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("30000 records compared, 0 in the ledger"), "{}", text(&o));

    let batch = read_parquet(&dir.path().join("deltas.parquet"));
    let r = Rows {
        n: batch.num_rows(),
        key: cells(&batch, "person_id"),
        level: cells(&batch, "monthly_pension"),
        base: cells(&batch, "base_pension_adjustment"),
        draft: cells(&batch, "draft_pension_adjustment"),
    };
    assert_eq!(r.n, 30_000);
    let change: Vec<i128> = (0..r.n).map(|i| i128::from(r.draft[i]) - i128::from(r.base[i])).collect();
    assert_eq!(cells(&batch, "change_pension_adjustment").iter().map(|&c| i128::from(c)).collect::<Vec<_>>(), change);
    let sum = |v: &[i64]| v.iter().map(|&x| i128::from(x)).sum::<i128>();
    let (sl, sb, sd) = (sum(&r.level), sum(&r.base), sum(&r.draft));
    let n = r.n as i128;
    let t = |name: &str| csv(&dir.path().join(format!("report.{name}.csv")));

    // Totals.
    let totals: BTreeMap<String, String> = t("totals").into_iter().map(|row| (row[0].clone(), row[1].clone())).collect();
    let get = |en: &str| {
        totals.iter().find(|(k, _)| k.ends_with(&format!("/ {en}"))).map(|(_, v)| v.clone()).unwrap_or_else(|| panic!("no total {en}"))
    };
    assert_eq!(get("records compared"), r.n.to_string());
    assert_eq!(get("total of monthly_pension (yuan)"), yuan(sl));
    assert_eq!(get("base: total pension_adjustment per month (yuan)"), yuan(sb));
    assert_eq!(get("draft: total pension_adjustment per month (yuan)"), yuan(sd));
    assert_eq!(get("change: total pension_adjustment per month (yuan)"), signed(sd - sb));
    assert_eq!(get("change: total pension_adjustment per year (yuan)"), signed(12 * (sd - sb)));
    assert_eq!(get("draft: per capita (yuan)"), yuan(round_div(sd, n)));
    assert_eq!(get("change: per capita (yuan)"), signed(round_div(sd - sb, n)));
    assert_eq!(get("change: share of the level"), signed_pct(sd - sb, sl, 3));
    assert_eq!(get("base: share of the level"), pct(sb, sl, 2));
    assert_eq!(get("draft: share of the level"), pct(sd, sl, 2));

    // The aggregate requirement and its margin: Σ adjustment / Σ pension against 3 %.
    let aggs = t("aggregates");
    assert_eq!(aggs.len(), 2);
    for (row, sum) in aggs.iter().zip([sb, sd]) {
        assert_eq!(row[2], yuan(sum));
        assert_eq!(row[4], pct(sum, sl, 2));
        assert_eq!(row[5], "3.00%");
        // Of the ceiling: Σa / (3 % of Σl).
        assert_eq!(row[6], pct(sum * 100, 3 * sl, 2));
        assert_eq!(row[7].starts_with("符合"), 100 * sum <= 3 * sl, "{row:?}");
    }

    // Deciles.
    let decile = by_decile(&r.level);
    let deciles = t("deciles");
    assert_eq!(deciles.len(), 10);
    for (d, row) in deciles.iter().enumerate() {
        let members: Vec<usize> = (0..r.n).filter(|&i| decile[i] == d).collect();
        let k = members.len() as i128;
        let s = |v: &[i64]| members.iter().map(|&i| i128::from(v[i])).sum::<i128>();
        let (l, b, dr) = (s(&r.level), s(&r.base), s(&r.draft));
        let lo = members.iter().map(|&i| r.level[i]).min().expect("members");
        let hi = members.iter().map(|&i| r.level[i]).max().expect("members");
        let expected = vec![
            format!("D{}", d + 1),
            k.to_string(),
            format!("{} – {}", yuan(lo.into()), yuan(hi.into())),
            yuan(round_div(l, k)),
            yuan(round_div(b, k)),
            yuan(round_div(dr, k)),
            signed(round_div(dr - b, k)),
            pct(b, l, 2),
            pct(dr, l, 2),
            signed_pct(dr - b, l, 3),
        ];
        assert_eq!(row, &expected, "decile {}", d + 1);
    }

    // Hardship class: one group per value of its domain 0 ..= 6.
    let hardship = cells(&batch, "hardship_class");
    let groups = t("group-hardship_class");
    assert_eq!(groups.len(), 7);
    for (v, row) in groups.iter().enumerate() {
        let members: Vec<usize> = (0..r.n).filter(|&i| hardship[i] == v as i64).collect();
        let k = members.len() as i128;
        assert_eq!(row[0], v.to_string());
        assert_eq!(row[1], k.to_string());
        if k > 0 {
            let b: i128 = members.iter().map(|&i| i128::from(r.base[i])).sum();
            let dr: i128 = members.iter().map(|&i| i128::from(r.draft[i])).sum();
            assert_eq!(row[3], yuan(round_div(b, k)));
            assert_eq!(row[4], yuan(round_div(dr, k)));
        }
    }
    // Sex, an enum the schemes do not read, is grouped by too.
    let sex = strings(&batch, "sex");
    let by_sex = t("group-sex");
    assert_eq!(by_sex.iter().map(|row| row[0].clone()).collect::<Vec<_>>(), ["Male", "Female"]);
    assert_eq!(by_sex[1][1], sex.iter().filter(|s| *s == "Female").count().to_string());

    // Five buckets, overall and per decile.
    let mut counts = [[0u64; 5]; 11];
    let mut bucket_change = [0i128; 5];
    for i in 0..r.n {
        let b = bucket_of(change[i], i128::from(r.level[i]) + i128::from(r.base[i]));
        counts[0][b] += 1;
        counts[1 + decile[i]][b] += 1;
        bucket_change[b] += change[i];
    }
    let buckets = t("buckets");
    for k in 0..5 {
        assert_eq!(buckets[k][1], counts[0][k].to_string(), "bucket {k}");
        assert_eq!(buckets[k][2], pct(counts[0][k].into(), n, 2));
        assert_eq!(buckets[k][3], signed(bucket_change[k]));
    }
    // Draft A lowers the fixed amount and raises the pension-linked rate: some lose, some gain.
    assert!(counts[0][1] > 0 && counts[0][3] > 0, "{counts:?}");
    for (d, row) in t("buckets-deciles").iter().enumerate() {
        let c = counts[1 + d];
        let total: u64 = c.iter().sum();
        assert_eq!(row[1], total.to_string());
        for k in 0..5 {
            assert_eq!(row[2 + k], pct(c[k].into(), total.into(), 1), "decile {} bucket {k}", d + 1);
        }
    }

    // The largest changes, ties by record order, each with the commands that explain it.
    let mut order: Vec<usize> = (0..r.n).collect();
    order.sort_by(|&a, &b| change[b].abs().cmp(&change[a].abs()).then(a.cmp(&b)));
    let largest = t("largest");
    assert_eq!(largest.len(), 20);
    for (rank, row) in largest.iter().enumerate() {
        let i = order[rank];
        assert_eq!(row[1], r.key[i].to_string());
        assert_eq!(row[5], signed(change[i]));
        assert!(row[6].contains(&format!("\"person_id\": {}", r.key[i])), "{}", row[6]);
    }
    // The first record's command, run as printed, gives the draft's amount.
    let command = largest[0][6].lines().nth(1).expect("the draft's command").to_string();
    let json = command.split("--record '").nth(1).expect("record").trim_end_matches('\'').replace("'\\''", "'");
    let traced = pol(&["trace", DRAFT_A, "--rule", "pension_adjustment", "--as-of", "2024-01-01", "--record", &json]);
    assert!(text(&traced).contains(&format!("pension_adjustment = {} yuan", yuan(r.draft[order[0]].into()))), "{}", text(&traced));

    // The page shows every table with the same cells (thousands separators aside).
    let html = std::fs::read_to_string(dir.path().join("report.html")).expect("page");
    for id in
        ["totals", "aggregates", "deciles", "group-hardship_class", "group-sex", "buckets", "buckets-deciles", "largest", "principles"]
    {
        assert_eq!(html_table(&html, id), t(id), "table {id} on the page and in its CSV");
    }
    // No request can leave the page: a policy forbids it and nothing names another host.
    assert!(html.contains("default-src 'none'"));
    assert!(!html.contains("<script") && !html.contains("<link") && !html.contains("src=\""));
    // The run behind it accounts for every row.
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("report.summary.json")).expect("summary")).expect("json");
    assert_eq!(summary["rows_in"], 30_000);
    assert_eq!(summary["rows_out"], 30_000);
    let verify = pol(&["verify", &dir.path().join("deltas.parquet").display().to_string()]);
    assert!(verify.status.success(), "{}", text(&verify));
    // The workbook holds a sheet per table.
    let book: calamine::Xlsx<_> = calamine::open_workbook(dir.path().join("report.xlsx")).expect("xlsx");
    use calamine::Reader as _;
    assert!(book.sheet_names().contains(&"deciles".to_string()), "{:?}", book.sheet_names());
}

#[test]
fn a_draft_that_breaks_the_national_ratio_says_so_on_its_first_screen() {
    let dir = tempfile::tempdir().expect("tmp");
    let input = population(dir.path(), 5_000);
    let o = run_diff(dir.path(), &input, DRAFT_B, &[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("BROKEN: The draft BREAKS the aggregate requirement"), "{}", text(&o));
    let html = std::fs::read_to_string(dir.path().join("report.html")).expect("the report is written");
    let verdict = html.find("<div class=\"verdict broken\"").expect("a broken verdict");
    assert!(verdict < html.find("<h2").expect("sections"), "the verdict comes before every section");
    let line = &html[verdict..verdict + html[verdict..].find("</div>").expect("end")];
    assert!(line.contains("草案不符合总体要求") && line.contains("超过上限 3.00%"), "{line}");
    // The compliant draft's page says it holds.
    let dir_a = tempfile::tempdir().expect("tmp");
    let o = run_diff(dir_a.path(), &input, DRAFT_A, &[]);
    assert!(o.status.success(), "{}", text(&o));
    let html = std::fs::read_to_string(dir_a.path().join("report.html")).expect("page");
    assert!(html.contains("<div class=\"verdict ok\"") && !html.contains("verdict broken"));
}

#[test]
fn one_scheme_at_two_dates_against_a_column_and_alone() {
    let dir = tempfile::tempdir().expect("tmp");
    let input = population(dir.path(), 4_000);
    let report = dir.path().join("dates.html").display().to_string();
    // The same amounts in 2024 and 2025, but the national ceiling falls from 3 % to 2 %.
    let o = pol(&["diff", GUANGDONG, "--base-as-of", "2024-01-01", "--draft-as-of", "2025-01-01", "--input", &input, "--report", &report]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let buckets = csv(&dir.path().join("dates.buckets.csv"));
    assert_eq!(buckets[2][1], "4000", "every record is unchanged: {buckets:?}");
    let aggs = csv(&dir.path().join("dates.aggregates.csv"));
    assert_eq!((aggs[0][5].as_str(), aggs[0][7].starts_with("符合")), ("3.00%", true), "{aggs:?}");
    assert_eq!((aggs[1][5].as_str(), aggs[1][7].starts_with("不符合")), ("2.00%", true), "{aggs:?}");

    // Against last year's amounts held in a column: this year's, less 5.00 yuan each.
    let run_out = dir.path().join("run.parquet").display().to_string();
    let o = pol(&["run", GUANGDONG, "--input", &input, "--output", &run_out]);
    assert!(o.status.success(), "{}", text(&o));
    let pop = read_parquet(Path::new(&input));
    let run = read_parquet(Path::new(&run_out));
    let adj =
        run.column_by_name("pension_adjustment").expect("adjustment").as_any().downcast_ref::<Decimal128Array>().expect("decimal").clone();
    let last: Decimal128Array =
        adj.iter().map(|v| v.map(|v| v - 500)).collect::<Decimal128Array>().with_precision_and_scale(18, 2).expect("type");
    let mut columns = pop.columns().to_vec();
    columns.push(std::sync::Arc::new(last));
    let mut fields: Vec<arrow::datatypes::Field> = pop.schema().fields().iter().map(|f| f.as_ref().clone()).collect();
    fields.push(arrow::datatypes::Field::new("last_year", arrow::datatypes::DataType::Decimal128(18, 2), true));
    let with_last = RecordBatch::try_new(std::sync::Arc::new(arrow::datatypes::Schema::new(fields)), columns).expect("batch");
    let with_path = dir.path().join("with_last.parquet");
    let mut w =
        parquet::arrow::ArrowWriter::try_new(std::fs::File::create(&with_path).expect("file"), with_last.schema(), None).expect("writer");
    w.write(&with_last).expect("write");
    w.close().expect("close");
    let report = dir.path().join("column.html").display().to_string();
    let o = pol(&["diff", GUANGDONG, "--base-column", "last_year", "--input", &with_path.display().to_string(), "--report", &report]);
    assert!(o.status.success(), "{}", text(&o));
    let totals = csv(&dir.path().join("column.totals.csv"));
    let change = totals.iter().find(|r| r[0].ends_with("change: total pension_adjustment per month (yuan)")).expect("change");
    assert_eq!(change[1], "+20000.00", "5.00 yuan × 4000 records");
    let per_capita = totals.iter().find(|r| r[0].ends_with("change: per capita (yuan)")).expect("per capita");
    assert_eq!(per_capita[1], "+5.00");
    // The draft's trace command names only the fields its rules take, not the column compared.
    let largest = csv(&dir.path().join("column.largest.csv"));
    let command = largest[0].last().expect("command").clone();
    assert!(!command.contains("last_year") && command.lines().count() == 1, "{command}");
    let json = command.split("--record '").nth(1).expect("record").trim_end_matches('\'').replace("'\\''", "'");
    let traced = pol(&["trace", GUANGDONG, "--rule", "pension_adjustment", "--record", &json]);
    assert!(traced.status.success(), "{}", text(&traced));

    // One scheme alone: its totals are pol run's aggregate, and there is nothing to compare.
    let report = dir.path().join("alone.html").display().to_string();
    let o = pol(&["report", GUANGDONG, "--input", &input, "--report", &report]);
    assert!(o.status.success(), "{}", text(&o));
    let run_summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("run.summary.json")).expect("summary")).expect("json");
    let aggs = csv(&dir.path().join("alone.aggregates.csv"));
    assert_eq!(aggs[0][2], run_summary["aggregates"][0]["lhs"].as_str().expect("lhs"));
    assert!(!dir.path().join("alone.buckets.csv").exists());
    let html = std::fs::read_to_string(dir.path().join("alone.html")).expect("page");
    assert!(html.contains("方案测算报告") && !html.contains("table-buckets"));
}

#[test]
fn a_diff_refuses_what_it_cannot_do_before_reading_a_record() {
    let dir = tempfile::tempdir().expect("tmp");
    let input = population(dir.path(), 100);
    let report = dir.path().join("r.html").display().to_string();
    let cases: [(&[&str], &str); 4] = [
        (&["diff", GUANGDONG, "--input", &input, "--report", &report], "nothing to compare"),
        (&["diff", GUANGDONG, DRAFT_A, "--input", &input, "--report", &report, "--rows", "x.csv"], "must be a .parquet file"),
        (&["diff", GUANGDONG, DRAFT_A, "--input", &input, "--report", "r.pdf"], "must be an .html file"),
        (&["diff", GUANGDONG, DRAFT_A, "--input", &input, "--report", &report, "--amount", "nothing"], "is not a Money output"),
    ];
    for (args, message) in cases {
        let o = pol(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", text(&o));
        assert!(text(&o).contains(message), "{args:?}: {}", text(&o));
    }
    assert!(!dir.path().join("r.html").exists());
    // A report never writes over its own input.
    let clash = dir.path().join("r.totals.csv");
    std::fs::copy(repo().join(&input), &clash).expect("copy");
    let o = pol(&["diff", GUANGDONG, DRAFT_A, "--input", &clash.display().to_string(), "--report", &report]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("is one of the files the report"), "{}", text(&o));
    assert!(clash.is_file());
}

#[test]
fn a_new_report_leaves_no_table_of_an_earlier_one_and_a_failed_run_no_page() {
    let dir = tempfile::tempdir().expect("tmp");
    let input = population(dir.path(), 2_000);
    let report = dir.path().join("r.html").display().to_string();
    let stale = dir.path().join("r.group-old_field.csv");
    std::fs::write(&stale, "an earlier report's table").expect("write");
    let o = pol(&["report", GUANGDONG, "--input", &input, "--report", &report]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(!stale.exists(), "the earlier table is gone");
    // An input that is not there is refused before anything is touched; a run that fails on
    // a bad cell leaves no page of an earlier run beside its ledger.
    let o = pol(&["report", GUANGDONG, "--input", &dir.path().join("missing.parquet").display().to_string(), "--report", &report]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(dir.path().join("r.html").exists(), "a usage error before the run leaves the earlier report");
    let broken = dir.path().join("broken.csv");
    std::fs::write(&broken, "person_id,birth_date\n1,not a date\n").expect("write");
    let o = pol(&["report", GUANGDONG, "--input", &broken.display().to_string(), "--report", &report]);
    assert_ne!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        !dir.path().join("r.html").exists() && !dir.path().join("r.totals.csv").exists(),
        "no report of an earlier run stays: {}",
        text(&o)
    );
}
