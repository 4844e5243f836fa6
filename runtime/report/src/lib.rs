//! Impact reports: what a scheme pays over a population, or what a draft changes against a base
//! (the previous scheme, the same scheme at another date, or amounts the input already holds).
//!
//! The input is per-record results already computed exactly (a [`Data`]: the record's fields
//! as read, the amount under the base and under the draft, in the kernel's `i64` cells, fen for
//! money), as `pol diff` and `pol report` read them back from the rows file of their run. Every
//! figure is computed from those integers in 128-bit arithmetic and written as text once, rounded
//! half away from zero at its last place ([`figures`]); the HTML page, the CSV files and the xlsx
//! workbook show that same text. Nothing here uses a float.
//!
//! Definitions (also stated in the report):
//! - *level*: a Money field of the record the amounts are measured against (the pension before
//!   the adjustment); *income* under a scheme: level + amount.
//! - deciles: records ordered by level, ties by record order, cut into ten groups of equal size
//!   (record of rank `i` of `n`, from 0, is in decile `⌊10·i/n⌋ + 1`).
//! - the five buckets: the change of income (draft − base) relative to the base income:
//!   loses more than 5 %, loses up to 5 %, change within ±0.1 %, gains up to 5 %, gains more
//!   than 5 % (a record with base income 0 is in "within ±0.1 %" when the change is 0, else in the
//!   outer bucket of its sign).
//! - shares: sums divided by sums (the share of the pension of a decile is Σ amount / Σ level).

pub mod figures;
mod html;
mod svg;
pub mod table;

use figures::{div_round, mean_fen, percent, signed_percent, signed_yuan, yuan};
use pol_kernel::ColumnType;
use pol_kernel::cell::{civil_from_days, format_cell};
use pol_runtime::AggregateResult;
pub use table::{Table, Title};

/// One column of the records, in the kernel's representation.
#[derive(Clone, Debug)]
pub struct Field {
    pub name: String,
    /// The field's title in the framework (`缴费年限（含视同缴费年限）`).
    pub title: Option<String>,
    pub ty: ColumnType,
    pub domain: Option<(i64, i64)>,
    pub cells: Vec<i64>,
}

/// The records a report describes.
#[derive(Clone, Debug)]
pub struct Data {
    /// The record's key columns.
    pub keys: Vec<Field>,
    /// The fields the schemes read, as read.
    pub fields: Vec<Field>,
    /// The amount under the base, per record (absent for a report on one scheme).
    pub base: Option<Vec<i64>>,
    /// The amount under the draft (the scheme of a one-scheme report).
    pub draft: Vec<i64>,
}

impl Data {
    pub fn rows(&self) -> usize {
        self.draft.len()
    }

    fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }
}

/// How often the amount is paid, for the yearly figures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Period {
    Month,
    Year,
    /// A one-off amount, or a value with no period.
    None,
}

/// One of the schemes a report describes.
#[derive(Clone, Debug)]
pub struct Side {
    /// `base` or `draft` (or `scheme`).
    pub role: Title,
    /// The scheme's name and title (`guangdong_2024 广东省2024年…`), or the column read.
    pub name: String,
    pub title: Option<String>,
    /// The file and its SHA-256, when the side is a scheme.
    pub file: Option<String>,
    pub sha256: Option<String>,
    pub as_of: Option<String>,
    /// The start of the command that explains one record's amount (`pol trace FILE --rule R`),
    /// to which `--record '…'` is added.
    pub trace: Option<String>,
    /// The record fields that command's `--record` may name (the side's program inputs).
    pub fields: Vec<String>,
}

/// Everything about a report but the records.
#[derive(Clone, Debug)]
pub struct Setup {
    /// The output compared (`pension_adjustment`) and how it is called.
    pub amount: String,
    pub amount_title: Option<String>,
    pub period: Period,
    /// The Money field the amounts are measured against.
    pub level: String,
    /// The day ages are counted at (days since 1970-01-01).
    pub age_at: i64,
    pub base: Option<Side>,
    pub draft: Side,
    /// The aggregate requirements decided over the run, with the role of the side they belong to.
    pub aggregates: Vec<(Title, AggregateResult)>,
    /// The framework, when the schemes implement one: its name and SHA-256.
    pub framework: Option<(String, String)>,
    /// How the report was made: label and value.
    pub provenance: Vec<(Title, String)>,
    /// Rows read, rows in the ledger (by code), where the ledger is.
    pub rows_in: u64,
    pub ledger_rows: u64,
    pub ledger_by_code: Vec<(String, u64)>,
    pub ledger_file: String,
    /// How many of the largest changes to list.
    pub largest: usize,
}

/// A check of a national principle on the data: a statement, whether the data bear it out, why,
/// and the chart that shows it.
#[derive(Clone, Debug)]
pub struct Check {
    pub title: Title,
    pub holds: Option<bool>,
    pub detail: Title,
    pub chart: String,
}

/// A report, computed: its tables, checks and charts.
#[derive(Clone, Debug)]
pub struct Report {
    pub setup: Setup,
    pub tables: Vec<Table>,
    pub checks: Vec<Check>,
    /// Charts by the id of the table they draw.
    pub charts: Vec<(String, String)>,
    /// The verdict of the first screen: every aggregate requirement of the draft, held or broken.
    pub headline: Vec<Headline>,
    /// The key figures of the first screen.
    pub cards: Vec<(Title, String)>,
}

/// One line of the first screen.
#[derive(Clone, Debug)]
pub struct Headline {
    pub ok: bool,
    pub text: Title,
}

/// The five buckets of a change.
pub const BUCKETS: [(&str, &str); 5] = [
    ("减少超过5%", "loses more than 5%"),
    ("减少不超过5%", "loses up to 5%"),
    ("变化在±0.1%以内", "change within ±0.1%"),
    ("增加不超过5%", "gains up to 5%"),
    ("增加超过5%", "gains more than 5%"),
];

/// The bucket (index into [`BUCKETS`]) of a change of `change` on a base income of `income`.
pub fn bucket(change: i128, income: i128) -> usize {
    let base = income.abs();
    if base == 0 {
        return match change.signum() {
            -1 => 0,
            0 => 2,
            _ => 4,
        };
    }
    if 1000 * change.abs() <= base {
        2
    } else if change < 0 {
        if 20 * change.abs() > base { 0 } else { 1 }
    } else if 20 * change > base {
        4
    } else {
        3
    }
}

/// The decile (0..10) of every record: ordered by `level`, ties by record order.
pub fn deciles(level: &[i64]) -> Vec<u8> {
    let n = level.len();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by_key(|&i| (level[i], i));
    let mut decile = vec![0u8; n];
    for (rank, &i) in order.iter().enumerate() {
        decile[i] = (rank * 10 / n) as u8;
    }
    decile
}

/// A way of grouping records: a label per group and each record's group.
#[derive(Clone, Debug)]
pub struct Grouping {
    pub id: String,
    pub title: Title,
    pub labels: Vec<String>,
    pub of: Vec<u16>,
}

/// Full years from `birth` to `at` (both days since 1970-01-01).
pub fn age(birth: i64, at: i64) -> i64 {
    let ((by, bm, bd), (ay, am, ad)) = (civil_from_days(birth), civil_from_days(at));
    ay - by - i64::from((am, ad) < (bm, bd))
}

/// Age bands: under 60, then ten years each to 100 and over.
pub const AGE_BANDS: [(i64, &str); 6] =
    [(0, "60岁以下"), (60, "60–69岁"), (70, "70–79岁"), (80, "80–89岁"), (90, "90–99岁"), (100, "100岁及以上")];

/// Contribution bands in whole years: under 15 (the minimum for a monthly pension), then five
/// years each to 40 and over.
pub const YEAR_BANDS: [(i64, &str); 7] =
    [(0, "不满15年"), (15, "15–19年"), (20, "20–24年"), (25, "25–29年"), (30, "30–34年"), (35, "35–39年"), (40, "40年及以上")];

fn band(value: i64, bands: &[(i64, &str)]) -> u16 {
    bands.iter().rposition(|(lo, _)| value >= *lo).unwrap_or(0) as u16
}

/// The groupings of the records: age bands of every date field, contribution-years bands of
/// every months field, and one group per value of every enum, bool and small-domain integer
/// field (at most 20 values). Money fields and keys are not grouped by.
pub fn groupings(data: &Data, setup: &Setup) -> Vec<Grouping> {
    let mut out = Vec::new();
    for f in &data.fields {
        let label = f.title.clone().unwrap_or_else(|| f.name.clone());
        let (title, labels, of): (Title, Vec<String>, Vec<u16>) = match &f.ty {
            ColumnType::Date => (
                Title::new(
                    format!("按年龄段（{label}，计至{}）", pol_kernel::cell::format_date(setup.age_at)),
                    format!("by age band ({})", f.name),
                ),
                AGE_BANDS.iter().map(|(_, l)| l.to_string()).collect(),
                f.cells.iter().map(|&d| band(age(d, setup.age_at), &AGE_BANDS)).collect(),
            ),
            ColumnType::Months => (
                Title::new(format!("按缴费年限段（{label}）"), format!("by contribution-years band ({})", f.name)),
                YEAR_BANDS.iter().map(|(_, l)| l.to_string()).collect(),
                f.cells.iter().map(|&m| band(m.div_euclid(12), &YEAR_BANDS)).collect(),
            ),
            ColumnType::Bool => (
                Title::new(format!("按{label}"), format!("by {}", f.name)),
                vec!["否 no".into(), "是 yes".into()],
                f.cells.iter().map(|&b| u16::from(b != 0)).collect(),
            ),
            ColumnType::Enum { variants, .. } => {
                (Title::new(format!("按{label}"), format!("by {}", f.name)), variants.clone(), f.cells.iter().map(|&v| v as u16).collect())
            }
            ColumnType::Int => match f.domain {
                Some((lo, hi)) if hi >= lo && i128::from(hi) - i128::from(lo) < 20 => (
                    Title::new(format!("按{label}"), format!("by {}", f.name)),
                    (lo..=hi).map(|v| v.to_string()).collect(),
                    f.cells.iter().map(|&v| (v - lo) as u16).collect(),
                ),
                _ => continue,
            },
            ColumnType::Money | ColumnType::Decimal { .. } => continue,
        };
        out.push(Grouping { id: format!("group-{}", f.name), title, labels, of });
    }
    out
}

/// Sums over a set of records, exact.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Sums {
    pub n: u64,
    pub level: i128,
    pub base: i128,
    pub draft: i128,
    pub level_min: Option<i64>,
    pub level_max: Option<i64>,
}

impl Sums {
    fn add(&mut self, level: i64, base: i64, draft: i64) {
        self.n += 1;
        self.level += i128::from(level);
        self.base += i128::from(base);
        self.draft += i128::from(draft);
        self.level_min = Some(self.level_min.map_or(level, |m| m.min(level)));
        self.level_max = Some(self.level_max.map_or(level, |m| m.max(level)));
    }

    pub fn change(&self) -> i128 {
        self.draft - self.base
    }
}

/// Sums per group: `of[i]` is record `i`'s group, of `groups` groups.
pub fn group_sums(of: &[u16], groups: usize, level: &[i64], base: &[i64], draft: &[i64]) -> Vec<Sums> {
    let mut sums = vec![Sums::default(); groups];
    for i in 0..of.len() {
        sums[of[i] as usize].add(level[i], base[i], draft[i]);
    }
    sums
}

/// A report of the records under the setup. Fails when the level field is missing or not money.
pub fn build(data: &Data, setup: Setup) -> Result<Report, String> {
    let level_field =
        data.field(&setup.level).ok_or_else(|| format!("the level field `{}` is not among the records' fields", setup.level))?;
    if level_field.ty != ColumnType::Money {
        return Err(format!("the level field `{}` is {}, not money", setup.level, level_field.ty.describe()));
    }
    let n = data.rows();
    if n == 0 {
        return Err("no record was evaluated: there is nothing to report".into());
    }
    let level = &level_field.cells;
    let zeros;
    let base: &[i64] = match &data.base {
        Some(b) => b,
        None => {
            zeros = vec![0i64; n];
            &zeros
        }
    };
    let draft = &data.draft;
    let compare = data.base.is_some();
    let mut tables = Vec::new();
    let mut charts = Vec::new();
    let all = group_sums(&vec![0u16; n], 1, level, base, draft)[0];

    tables.push(totals(&setup, &all, compare));
    let cards = cards(&setup, &all, compare);
    let (agg_table, headline) = aggregates(&setup);
    tables.push(agg_table);

    let decile = deciles(level);
    let decile_of: Vec<u16> = decile.iter().map(|&d| u16::from(d)).collect();
    let by_decile = group_sums(&decile_of, 10, level, base, draft);
    let decile_labels: Vec<String> = (1..=10).map(|d| format!("D{d}")).collect();
    let base_role = setup.base.as_ref().map_or_else(|| Title::new("基准", "base"), |b| b.role.clone());
    let roles = (&base_role, &setup.draft.role);
    let t = distribution(
        "deciles",
        Title::new("按调整前水平十分位", "by decile of the level"),
        "十分位 / decile",
        &decile_labels,
        &by_decile,
        compare,
        true,
        roles,
    );
    charts.push(("deciles".to_string(), distribution_chart(&t.title, &decile_labels, &by_decile, compare, &setup)));
    charts.push(("deciles-share".to_string(), share_chart(&decile_labels, &by_decile, compare, &setup)));
    tables.push(t);

    let groupings = groupings(data, &setup);
    for g in &groupings {
        let sums = group_sums(&g.of, g.labels.len(), level, base, draft);
        let t = distribution(&g.id, g.title.clone(), "组 / group", &g.labels, &sums, compare, false, roles);
        charts.push((g.id.clone(), distribution_chart(&t.title, &g.labels, &sums, compare, &setup)));
        tables.push(t);
    }

    if compare {
        let (overall, by_dec, counts) = buckets(level, base, draft, &decile);
        charts.push(("buckets".to_string(), svg::stacked(&bucket_rows(&counts), &bucket_legend())));
        tables.push(overall);
        tables.push(by_dec);
    }

    let checks = principles(data, &setup, &decile_labels, &by_decile, &groupings, level, base, draft);
    tables.push(checks_table(&checks));
    tables.push(largest(data, &setup, level, base, draft));
    tables.push(provenance(&setup));
    Ok(Report { setup, tables, checks, charts, headline, cards })
}

fn amount_label(setup: &Setup) -> String {
    setup.amount_title.clone().unwrap_or_else(|| setup.amount.clone())
}

fn totals(setup: &Setup, all: &Sums, compare: bool) -> Table {
    let mut t = Table::new("totals", Title::new("总体", "totals"), vec![Title::new("项目", "item"), Title::new("数值", "value")]);
    let per = match setup.period {
        Period::Month => Some((12, Title::new("每年", "per year"), Title::new("每月", "per month"))),
        Period::Year => Some((1, Title::new("每年", "per year"), Title::new("每年", "per year"))),
        Period::None => None,
    };
    let mut row = |zh: String, en: String, value: String| t.push(vec![Title::new(zh, en).both(), value]);
    if compare {
        row("人数（参与比较的记录）".into(), "records compared".into(), all.n.to_string());
    } else {
        row("人数（参与测算的记录）".into(), "records evaluated".into(), all.n.to_string());
    }
    row("调整前水平合计（元）".into(), format!("total of {} (yuan)", setup.level), yuan(all.level));
    let amount = amount_label(setup);
    let mut sides: Vec<(String, &str, i128)> = Vec::new();
    if let Some(b) = &setup.base {
        sides.push((b.role.zh.clone(), "base", all.base));
    }
    sides.push((setup.draft.role.zh.clone(), if compare { "draft" } else { "scheme" }, all.draft));
    if compare {
        sides.push(("变化".into(), "change", all.change()));
    }
    for (zh, en, sum) in &sides {
        // The change is signed, and its share shown to a thousandth of a percent as by group.
        let is_change = *en == "change";
        let money = |v: i128| if is_change { signed_yuan(v) } else { yuan(v) };
        match &per {
            Some((k, year, month)) => {
                row(
                    format!("{zh}：{amount}{}合计（元）", month.zh),
                    format!("{en}: total {} {} (yuan)", setup.amount, month.en),
                    money(*sum),
                );
                if *k != 1 {
                    row(
                        format!("{zh}：{amount}{}合计（元）", year.zh),
                        format!("{en}: total {} {} (yuan)", setup.amount, year.en),
                        money(sum * k),
                    );
                }
            }
            None => row(format!("{zh}：{amount}合计（元）"), format!("{en}: total {} (yuan)", setup.amount), money(*sum)),
        }
        row(format!("{zh}：人均（元）"), format!("{en}: per capita (yuan)"), mean_fen(*sum, all.n).map_or("—".into(), money));
        let share = if is_change { signed_percent(*sum, all.level, 3) } else { percent(*sum, all.level, 2) };
        row(format!("{zh}：占调整前水平"), format!("{en}: share of the level"), share);
    }
    t
}

fn signed_grouped(fen: i128) -> String {
    if fen > 0 { format!("+{}", figures::yuan_grouped(fen)) } else { figures::yuan_grouped(fen) }
}

fn cards(setup: &Setup, all: &Sums, compare: bool) -> Vec<(Title, String)> {
    let per = |zh: &str, en: &str| match setup.period {
        Period::Month => Title::new(format!("{zh}（元/月）"), format!("{en} (yuan a month)")),
        Period::Year => Title::new(format!("{zh}（元/年）"), format!("{en} (yuan a year)")),
        Period::None => Title::new(format!("{zh}（元）"), format!("{en} (yuan)")),
    };
    let mean = |sum: i128| mean_fen(sum, all.n).map_or("—".into(), yuan);
    let mut cards = vec![(Title::new("人数", "records"), all.n.to_string())];
    if compare {
        cards.push((per("草案合计", "draft total"), figures::yuan_grouped(all.draft)));
        cards.push((per("比基准增加", "change against the base"), signed_grouped(all.change())));
        if setup.period == Period::Month {
            cards.push((Title::new("每年变化（元）", "change a year (yuan)"), signed_grouped(all.change() * 12)));
        }
        cards.push((per("人均变化", "change per capita"), mean_fen(all.change(), all.n).map_or("—".into(), signed_yuan)));
    } else {
        cards.push((per("合计", "total"), figures::yuan_grouped(all.draft)));
        if setup.period == Period::Month {
            cards.push((Title::new("每年合计（元）", "total a year (yuan)"), figures::yuan_grouped(all.draft * 12)));
        }
        cards.push((per("人均", "per capita"), mean(all.draft)));
    }
    cards.push((Title::new("占调整前水平", "share of the level"), percent(all.draft, all.level, 2)));
    cards
}

/// The margin of an aggregate requirement whose right side is a share of a sum
/// (`sum(result) <= 3% * sum(r.monthly_pension)`): the left side as a share of the same sum,
/// and the ceiling, both as percentages (`2.87%`, `3.00%`).
pub fn aggregate_margin(a: &AggregateResult) -> Option<(String, String)> {
    let e = &a.exact;
    // lf·L/10^ls ÷ (R/10^rs) = lf·L·10^rs / (10^ls·R).
    let (ln, ld) = e.lhs_factor;
    let num = ln.checked_mul(e.lhs_sum)?.checked_mul(10i128.checked_pow(e.rhs_scale)?)?;
    let den = ld.checked_mul(10i128.checked_pow(e.lhs_scale)?)?.checked_mul(e.rhs_sum)?;
    let (rn, rd) = e.rhs_factor;
    Some((percent(num, den, 2), percent(rn, rd, 2)))
}

/// How much of the right side the left side uses (`95.67%`).
pub fn aggregate_use(a: &AggregateResult) -> Option<String> {
    let e = &a.exact;
    let (ln, ld) = e.lhs_factor;
    let (rn, rd) = e.rhs_factor;
    let num = ln.checked_mul(e.lhs_sum)?.checked_mul(rd)?.checked_mul(10i128.checked_pow(e.rhs_scale)?)?;
    let den = rn.checked_mul(e.rhs_sum)?.checked_mul(ld)?.checked_mul(10i128.checked_pow(e.lhs_scale)?)?;
    Some(percent(num, den, 2))
}

fn aggregates(setup: &Setup) -> (Table, Vec<Headline>) {
    let mut t = Table::new(
        "aggregates",
        Title::new("总体要求（全国框架）", "aggregate requirements of the framework"),
        vec![
            Title::new("方案", "scheme"),
            Title::new("要求", "requirement"),
            Title::new("左边", "left side"),
            Title::new("右边", "right side"),
            Title::new("实际比例", "actual share"),
            Title::new("比例限值", "limit"),
            Title::new("占限值", "of the limit"),
            Title::new("结论", "verdict"),
            Title::new("依据", "citation"),
        ],
    );
    let mut headline = Vec::new();
    for (role, a) in &setup.aggregates {
        let margin = aggregate_margin(a);
        let verdict = if a.holds { "符合 holds" } else { "不符合 BROKEN" };
        t.push(vec![
            role.both(),
            a.text.trim_start_matches("aggregate ").to_string(),
            a.lhs.clone(),
            format!("{} {}", a.cmp, a.rhs),
            margin.as_ref().map_or("—".into(), |m| m.0.clone()),
            margin.as_ref().map_or("—".into(), |m| m.1.clone()),
            aggregate_use(a).unwrap_or_else(|| "—".into()),
            verdict.into(),
            a.cite.clone().unwrap_or_default(),
        ]);
        if role.en == setup.draft.role.en {
            let (share, cap) = margin.unwrap_or_else(|| (a.lhs.clone(), a.rhs.clone()));
            let what = a.cite.clone().unwrap_or_else(|| a.text.clone());
            // `<=`/`<` bound from above (a ceiling), `>=`/`>` from below (a floor).
            let (limit_zh, limit_en, beyond_zh) =
                if a.cmp.starts_with('<') { ("上限", "ceiling", "超过上限") } else { ("下限", "floor", "低于下限") };
            headline.push(Headline {
                ok: a.holds,
                text: if a.holds {
                    Title::new(
                        format!("{}符合总体要求：{share}，{limit_zh} {cap}（{what}）", role.zh),
                        format!("The {} keeps the aggregate requirement: {share} against a {limit_en} of {cap}", role.en),
                    )
                } else {
                    Title::new(
                        format!("{}不符合总体要求：{share}，{beyond_zh} {cap}（{what}）", role.zh),
                        format!("The {} BREAKS the aggregate requirement: {share} against a {limit_en} of {cap}", role.en),
                    )
                },
            });
        }
    }
    if setup.aggregates.is_empty() {
        t.note = Some(Title::new("框架对这些输出没有总体要求。", "The framework sets no aggregate requirement on these outputs."));
    }
    (t, headline)
}

#[allow(clippy::too_many_arguments)]
fn distribution(
    id: &str,
    title: Title,
    first: &str,
    labels: &[String],
    sums: &[Sums],
    compare: bool,
    ranges: bool,
    roles: (&Title, &Title),
) -> Table {
    let (fzh, fen) = first.split_once(" / ").unwrap_or((first, first));
    let mut columns = vec![Title::new(fzh, fen), Title::new("人数", "records")];
    if ranges {
        columns.push(Title::new("水平范围（元）", "level range (yuan)"));
    }
    columns.push(Title::new("人均调整前水平（元）", "mean level (yuan)"));
    if compare {
        columns.extend([
            Title::new(format!("{}人均（元）", roles.0.zh), format!("{} mean (yuan)", roles.0.en)),
            Title::new(format!("{}人均（元）", roles.1.zh), format!("{} mean (yuan)", roles.1.en)),
            Title::new("人均变化（元）", "mean change (yuan)"),
            Title::new(format!("{}占水平", roles.0.zh), format!("{} share of level", roles.0.en)),
            Title::new(format!("{}占水平", roles.1.zh), format!("{} share of level", roles.1.en)),
            Title::new("变化占水平", "change share of level"),
        ]);
    } else {
        columns.extend([
            Title::new("人均金额（元）", "mean amount (yuan)"),
            Title::new("占水平", "share of level"),
            Title::new("合计（元）", "total (yuan)"),
        ]);
    }
    let mut t = Table::new(id, title, columns);
    let mean = |sum: i128, n: u64| mean_fen(sum, n).map_or("—".into(), yuan);
    for (label, s) in labels.iter().zip(sums) {
        let mut row = vec![label.clone(), s.n.to_string()];
        if ranges {
            row.push(match (s.level_min, s.level_max) {
                (Some(lo), Some(hi)) => format!("{} – {}", yuan(i128::from(lo)), yuan(i128::from(hi))),
                _ => "—".into(),
            });
        }
        row.push(mean(s.level, s.n));
        if compare {
            row.extend([
                mean(s.base, s.n),
                mean(s.draft, s.n),
                mean_fen(s.change(), s.n).map_or("—".into(), signed_yuan),
                percent(s.base, s.level, 2),
                percent(s.draft, s.level, 2),
                signed_percent(s.change(), s.level, 3),
            ]);
        } else {
            row.extend([mean(s.draft, s.n), percent(s.draft, s.level, 2), yuan(s.draft)]);
        }
        t.push(row);
    }
    if ranges {
        t.note = Some(Title::new(
            "按调整前水平排序（相同者按记录顺序），分为人数相等的十组。",
            "Records ordered by level (ties by record order), cut into ten groups of equal size.",
        ));
    }
    t
}

fn distribution_chart(title: &Title, labels: &[String], sums: &[Sums], compare: bool, setup: &Setup) -> String {
    let means = |f: fn(&Sums) -> i128| sums.iter().map(|s| mean_fen(f(s), s.n)).collect::<Vec<Option<i128>>>();
    let mut series = Vec::new();
    if compare {
        series.push(svg::Series {
            label: setup.base.as_ref().map_or("base".into(), |b| b.role.both()),
            color: svg::BASE,
            values: means(|s| s.base),
        });
    }
    series.push(svg::Series { label: setup.draft.role.both(), color: svg::DRAFT, values: means(|s| s.draft) });
    let caption =
        Title::new(format!("{}：人均{}（元）", title.zh, amount_label(setup)), format!("{}: mean {} (yuan)", title.en, setup.amount));
    svg::bars(&caption, labels, &series, svg::Unit::Fen)
}

/// The amount as a share of the level per decile, in hundredths of a percent.
fn share_chart(labels: &[String], sums: &[Sums], compare: bool, setup: &Setup) -> String {
    let share = |f: fn(&Sums) -> i128| {
        sums.iter().map(|s| if s.level > 0 { div_round(f(s).checked_mul(10_000)?, s.level) } else { None }).collect::<Vec<Option<i128>>>()
    };
    let mut series = Vec::new();
    if compare {
        series.push(svg::Series {
            label: setup.base.as_ref().map_or("base".into(), |b| b.role.both()),
            color: svg::BASE,
            values: share(|s| s.base),
        });
    }
    series.push(svg::Series { label: setup.draft.role.both(), color: svg::DRAFT, values: share(|s| s.draft) });
    let caption = Title::new(
        format!("{}占调整前水平的比例，按十分位", amount_label(setup)),
        format!("{} as a share of the level, by decile", setup.amount),
    );
    svg::bars(&caption, labels, &series, svg::Unit::Basis)
}

fn buckets(level: &[i64], base: &[i64], draft: &[i64], decile: &[u8]) -> (Table, Table, Vec<[u64; 5]>) {
    // counts[0] overall, counts[1 + d] decile d.
    let mut counts = vec![[0u64; 5]; 11];
    let mut change = [0i128; 5];
    for i in 0..level.len() {
        let delta = i128::from(draft[i]) - i128::from(base[i]);
        let b = bucket(delta, i128::from(level[i]) + i128::from(base[i]));
        counts[0][b] += 1;
        counts[1 + decile[i] as usize][b] += 1;
        change[b] += delta;
    }
    let n = level.len() as i128;
    let mut overall = Table::new(
        "buckets",
        Title::new("得失分布（五档）", "winners and losers (five buckets)"),
        vec![
            Title::new("档次", "bucket"),
            Title::new("人数", "records"),
            Title::new("占比", "share"),
            Title::new("变化合计（元）", "total change (yuan)"),
        ],
    );
    for (k, (zh, en)) in BUCKETS.iter().enumerate() {
        overall.push(vec![
            Title::new(*zh, *en).both(),
            counts[0][k].to_string(),
            percent(i128::from(counts[0][k]), n, 2),
            signed_yuan(change[k]),
        ]);
    }
    overall.note = Some(Title::new(
        "变化 = 草案收入 − 基准收入，相对于基准收入（调整前水平 + 基准金额）。",
        "Change = draft income − base income, relative to the base income (level + base amount).",
    ));
    let mut columns = vec![Title::new("十分位", "decile"), Title::new("人数", "records")];
    columns.extend(BUCKETS.iter().map(|(zh, en)| Title::new(*zh, *en)));
    let mut by = Table::new("buckets-deciles", Title::new("得失分布，按十分位", "winners and losers by decile"), columns);
    for d in 0..10 {
        let c = &counts[1 + d];
        let total: u64 = c.iter().sum();
        let mut row = vec![format!("D{}", d + 1), total.to_string()];
        row.extend(c.iter().map(|&k| percent(i128::from(k), i128::from(total), 1)));
        by.push(row);
    }
    (overall, by, counts)
}

fn bucket_rows(counts: &[[u64; 5]]) -> Vec<(String, [u64; 5])> {
    let mut rows = vec![("全体 all".to_string(), counts[0])];
    rows.extend((0..10).map(|d| (format!("D{}", d + 1), counts[1 + d])));
    rows
}

fn bucket_legend() -> Vec<String> {
    BUCKETS.iter().map(|(zh, en)| format!("{zh} {en}")).collect()
}

/// The principles of the national notice, as questions put to the data (on the draft).
#[allow(clippy::too_many_arguments)]
fn principles(
    data: &Data,
    setup: &Setup,
    decile_labels: &[String],
    by_decile: &[Sums],
    groupings: &[Grouping],
    level: &[i64],
    base: &[i64],
    draft: &[i64],
) -> Vec<Check> {
    let mut checks = Vec::new();
    let amount = amount_label(setup);
    // 1. The increase relative to the pension falls as the pension rises: Σa/Σl per decile does
    //    not rise from one decile to the next (exact cross-multiplication), over the deciles
    //    that have records and a positive level sum; with fewer than two, nothing is checked.
    let present: Vec<usize> = (0..by_decile.len()).filter(|&d| by_decile[d].n > 0 && by_decile[d].level > 0).collect();
    let mut unchecked = present.len() < 2;
    let mut rises = Vec::new();
    for w in present.windows(2) {
        let (a, b) = (&by_decile[w[0]], &by_decile[w[1]]);
        match (b.draft.checked_mul(a.level), a.draft.checked_mul(b.level)) {
            (Some(left), Some(right)) if left > right => {
                rises.push(format!("D{}→D{} {}→{}", w[0] + 1, w[1] + 1, percent(a.draft, a.level, 2), percent(b.draft, b.level, 2)))
            }
            (Some(_), Some(_)) => {}
            _ => unchecked = true,
        }
    }
    let title =
        Title::new(format!("{amount}占调整前水平的比例随水平提高而降低"), "The increase relative to the level falls as the level rises");
    let chart = share_chart(decile_labels, by_decile, setup.base.is_some(), setup);
    checks.push(if unchecked {
        Check {
            title,
            holds: None,
            detail: Title::new(
                "有人数且水平合计为正的十分位不足两个，或乘积超出128位，无法检验。",
                "Fewer than two deciles with records and a positive level, or a product beyond 128 bits: not checked.",
            ),
            chart,
        }
    } else {
        let (first, last) = (&by_decile[present[0]], &by_decile[present[present.len() - 1]]);
        Check {
            title,
            holds: Some(rises.is_empty()),
            detail: if rises.is_empty() {
                Title::new(
                    format!(
                        "各十分位的比例依次不升：最低十分位 D{} {}，最高十分位 D{} {}。",
                        present[0] + 1,
                        percent(first.draft, first.level, 2),
                        present[present.len() - 1] + 1,
                        percent(last.draft, last.level, 2)
                    ),
                    "The share does not rise from any decile to the next.",
                )
            } else {
                Title::new(format!("比例上升之处：{}。", rises.join("；")), format!("The share rises at {}.", rises.join("; ")))
            },
            chart,
        }
    });
    // 2. and 3.: the mean increase does not fall as contribution years, and as age, rise.
    for (ty, zh, en) in [
        (
            ColumnType::Months,
            "缴费年限越长，人均调整额不低于较短者（长缴多得）",
            "The mean increase does not fall as contribution years rise",
        ),
        (ColumnType::Date, "年龄越高，人均调整额不低于较年轻者（向高龄倾斜）", "The mean increase does not fall as age rises"),
    ] {
        let Some(g) =
            data.fields.iter().filter(|f| f.ty == ty).find_map(|f| groupings.iter().find(|g| g.id == format!("group-{}", f.name)))
        else {
            continue;
        };
        let sums = group_sums(&g.of, g.labels.len(), level, base, draft);
        let present: Vec<usize> = (0..sums.len()).filter(|&k| sums[k].n > 0).collect();
        let mut unchecked = present.len() < 2;
        let mut falls = Vec::new();
        for w in present.windows(2) {
            let (a, b) = (&sums[w[0]], &sums[w[1]]);
            // Mean b < mean a, as Σb·na < Σa·nb; a product beyond 128 bits leaves it unchecked.
            match (b.draft.checked_mul(i128::from(a.n)), a.draft.checked_mul(i128::from(b.n))) {
                (Some(left), Some(right)) if left < right => {
                    let m = |s: &Sums| mean_fen(s.draft, s.n).map_or("—".into(), yuan);
                    falls.push(format!("{} {} → {} {}", g.labels[w[0]], m(a), g.labels[w[1]], m(b)));
                }
                (Some(_), Some(_)) => {}
                _ => unchecked = true,
            }
        }
        let series = vec![svg::Series {
            label: setup.draft.role.both(),
            color: svg::DRAFT,
            values: sums.iter().map(|s| mean_fen(s.draft, s.n)).collect(),
        }];
        let caption = Title::new(format!("人均{amount}，{}", g.title.zh), format!("mean {}, {}", setup.amount, g.title.en));
        checks.push(Check {
            title: Title::new(zh, en),
            holds: if unchecked { None } else { Some(falls.is_empty()) },
            detail: if unchecked {
                Title::new(
                    "有人数的组不足两个，或乘积超出128位，无法检验。",
                    "Fewer than two bands with records, or a product beyond 128 bits: not checked.",
                )
            } else if falls.is_empty() {
                Title::new(
                    format!("{}，各组人均依次不降。", g.title.zh),
                    format!("The mean does not fall from one band to the next ({}).", g.title.en),
                )
            } else {
                Title::new(format!("人均下降之处：{}。", falls.join("；")), format!("The mean falls at {}.", falls.join("; ")))
            },
            chart: svg::bars(&caption, &g.labels, &series, svg::Unit::Fen),
        });
    }
    checks
}

fn checks_table(checks: &[Check]) -> Table {
    let mut t = Table::new(
        "principles",
        Title::new("全国政策原则的数据检验", "national principles checked on the data"),
        vec![Title::new("原则", "principle"), Title::new("结论", "verdict"), Title::new("说明", "detail")],
    );
    for c in checks {
        let verdict = match c.holds {
            Some(true) => "成立 holds",
            Some(false) => "不成立 does not hold",
            None => "无法检验 not checked",
        };
        t.push(vec![c.title.both(), verdict.into(), c.detail.both()]);
    }
    t
}

/// A cell as `pol eval --record` reads it.
fn json_value(ty: &ColumnType, cell: i64) -> String {
    match ty {
        ColumnType::Int | ColumnType::Months => cell.to_string(),
        ColumnType::Bool => (cell != 0).to_string(),
        ColumnType::Enum { variants, .. } => json_string(variants.get(cell as usize).map_or("", String::as_str)),
        _ => json_string(&format_cell(ty, cell)),
    }
}

fn json_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `text` quoted for a POSIX shell.
pub fn shell_quote(text: &str) -> String {
    if !text.is_empty() && text.chars().all(|c| c.is_ascii_alphanumeric() || "-_./=:@%+,".contains(c)) {
        return text.to_string();
    }
    format!("'{}'", text.replace('\'', "'\\''"))
}

/// Record `i` as the JSON object `pol trace --record` takes, with the fields named in `fields`.
pub fn record_json(data: &Data, i: usize, fields: &[String]) -> String {
    let parts: Vec<String> = data
        .keys
        .iter()
        .chain(&data.fields)
        .filter(|f| fields.contains(&f.name))
        .map(|f| format!("{}: {}", json_string(&f.name), json_value(&f.ty, f.cells[i])))
        .collect();
    format!("{{{}}}", parts.join(", "))
}

fn largest(data: &Data, setup: &Setup, level: &[i64], base: &[i64], draft: &[i64]) -> Table {
    let compare = data.base.is_some();
    let value = |i: usize| if compare { i128::from(draft[i]) - i128::from(base[i]) } else { i128::from(draft[i]) };
    let mut order: Vec<usize> = (0..data.rows()).collect();
    // Largest |change| first (largest amount for one scheme), ties by record order: the first
    // `largest` found by selection, then sorted.
    if compare {
        // Records whose amount did not change explain no change.
        order.retain(|&i| value(i) != 0);
    }
    let key = |&i: &usize| (std::cmp::Reverse(value(i).abs()), i);
    if setup.largest < order.len() {
        order.select_nth_unstable_by_key(setup.largest, key);
        order.truncate(setup.largest);
    }
    order.sort_by_key(key);
    let mut columns = vec![Title::new("序", "rank")];
    columns.extend(data.keys.iter().map(|k| Title::new(k.title.clone().unwrap_or_else(|| k.name.clone()), k.name.clone())));
    columns.push(Title::new("调整前水平（元）", "level (yuan)"));
    if compare {
        columns.extend([
            Title::new("基准（元）", "base (yuan)"),
            Title::new("草案（元）", "draft (yuan)"),
            Title::new("变化（元）", "change (yuan)"),
        ]);
    } else {
        columns.push(Title::new("金额（元）", "amount (yuan)"));
    }
    columns.push(Title::new("解释命令", "command that explains it"));
    let mut t = Table::new(
        "largest",
        if compare {
            Title::new("变化最大的记录", "records with the largest changes")
        } else {
            Title::new("金额最大的记录", "records with the largest amounts")
        },
        columns,
    );
    for (rank, &i) in order.iter().enumerate() {
        let mut row = vec![(rank + 1).to_string()];
        row.extend(data.keys.iter().map(|k| format_cell(&k.ty, k.cells[i])));
        row.push(yuan(i128::from(level[i])));
        if compare {
            row.extend([yuan(i128::from(base[i])), yuan(i128::from(draft[i])), signed_yuan(value(i))]);
        } else {
            row.push(yuan(i128::from(draft[i])));
        }
        let commands: Vec<String> = setup
            .base
            .iter()
            .chain(std::iter::once(&setup.draft))
            .filter_map(|s| Some((s.trace.as_ref()?, &s.fields)))
            .map(|(trace, fields)| format!("{trace} --record {}", shell_quote(&record_json(data, i, fields))))
            .collect();
        row.push(commands.join("\n"));
        t.push(row);
    }
    if compare && t.rows.is_empty() {
        t.note = Some(Title::new("没有金额发生变化的记录。", "No record's amount changed."));
    }
    t
}

fn provenance(setup: &Setup) -> Table {
    let mut t = Table::new(
        "provenance",
        Title::new("制作说明", "how this report was made"),
        vec![Title::new("项目", "item"), Title::new("内容", "value")],
    );
    for side in setup.base.iter().chain(std::iter::once(&setup.draft)) {
        let mut what = side.name.clone();
        if let Some(title) = &side.title {
            what.push_str(&format!(" {title}"));
        }
        if let Some(file) = &side.file {
            what.push_str(&format!(" ({file}"));
            if let Some(h) = &side.sha256 {
                what.push_str(&format!(", sha256 {h}"));
            }
            what.push(')');
        }
        if let Some(d) = &side.as_of {
            what.push_str(&format!(", as of {d}"));
        }
        t.push(vec![side.role.both(), what]);
    }
    if let Some((name, sha)) = &setup.framework {
        t.push(vec![Title::new("全国框架", "framework").both(), format!("{name} (sha256 {sha})")]);
    }
    t.push(vec![Title::new("金额（规则输出）", "amount (rule output)").both(), setup.amount.clone()]);
    t.push(vec![Title::new("调整前水平", "level").both(), setup.level.clone()]);
    t.push(vec![Title::new("读入行数", "rows read").both(), setup.rows_in.to_string()]);
    let codes: Vec<String> = setup.ledger_by_code.iter().map(|(c, n)| format!("{c}: {n}")).collect();
    t.push(vec![
        Title::new("错误台账", "error ledger").both(),
        format!(
            "{} rows{} ({})",
            setup.ledger_rows,
            if codes.is_empty() { String::new() } else { format!(" — {}", codes.join(", ")) },
            setup.ledger_file
        ),
    ]);
    for (label, value) in &setup.provenance {
        t.push(vec![label.both(), value.clone()]);
    }
    t
}

/// The tables every report has (beside one `group-<field>` table per grouping).
pub const TABLE_IDS: [&str; 8] = ["totals", "aggregates", "deciles", "buckets", "buckets-deciles", "principles", "largest", "provenance"];

fn stem_and_dir(report: &std::path::Path) -> (String, std::path::PathBuf) {
    let stem = report.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "report".into());
    let dir = report.parent().filter(|p| !p.as_os_str().is_empty()).map_or_else(|| std::path::PathBuf::from("."), |p| p.to_path_buf());
    (stem, dir)
}

/// Whether `path` is one of the files a report at `report` writes (the page, a table's CSV, the
/// workbook).
pub fn owns(report: &std::path::Path, path: &std::path::Path) -> bool {
    let (stem, dir) = stem_and_dir(report);
    let canonical = |p: &std::path::Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    let (Some(name), Some(parent)) = (path.file_name().map(|n| n.to_string_lossy().into_owned()), path.parent()) else { return false };
    let parent = if parent.as_os_str().is_empty() { std::path::Path::new(".") } else { parent };
    if canonical(parent) != canonical(&dir) {
        return false;
    }
    let report_name = report.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    name == report_name
        || name == format!("{stem}.xlsx")
        || name.strip_prefix(&format!("{stem}.")).and_then(|r| r.strip_suffix(".csv")).is_some_and(is_table_id)
}

fn is_table_id(id: &str) -> bool {
    TABLE_IDS.contains(&id) || id.starts_with("group-")
}

/// Removes the files an earlier report at `report` wrote, so that a report that fails leaves
/// none of them and a new one no table of the old (a grouping the new data lacks).
pub fn remove_previous(report: &std::path::Path) -> Result<(), String> {
    let (_, dir) = stem_and_dir(report);
    let Ok(entries) = std::fs::read_dir(&dir) else { return Ok(()) };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_file() && owns(report, &path) {
            std::fs::remove_file(&path).map_err(|e| format!("cannot remove the earlier report file {}: {e}", path.display()))?;
        }
    }
    Ok(())
}

impl Report {
    pub fn table(&self, id: &str) -> Option<&Table> {
        self.tables.iter().find(|t| t.id == id)
    }

    /// The page: one self-contained HTML file.
    pub fn html(&self) -> String {
        html::page(self)
    }

    /// Writes `path` (the page), `<stem>.<table>.csv` for every table and `<stem>.xlsx`, each
    /// under a temporary name first, then renamed: a reader never sees half a file. Returns the
    /// files written.
    pub fn write(&self, path: &std::path::Path) -> Result<Vec<std::path::PathBuf>, String> {
        let (stem, dir) = stem_and_dir(path);
        std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let mut files: Vec<(std::path::PathBuf, Vec<u8>)> = vec![(path.to_path_buf(), self.html().into_bytes())];
        for t in &self.tables {
            files.push((dir.join(format!("{stem}.{}.csv", t.id)), t.csv()));
        }
        files.push((dir.join(format!("{stem}.xlsx")), table::xlsx(&self.tables)?));
        let mut staged = Vec::new();
        for (target, bytes) in &files {
            let tmp = target.with_file_name(format!(".{}.pol-tmp", target.file_name().map(|n| n.to_string_lossy()).unwrap_or_default()));
            if let Err(e) = std::fs::write(&tmp, bytes) {
                for (t, _) in &staged {
                    let _ = std::fs::remove_file(t);
                }
                let _ = std::fs::remove_file(&tmp);
                return Err(format!("cannot write {}: {e}", tmp.display()));
            }
            staged.push((tmp, target.clone()));
        }
        for (k, (tmp, target)) in staged.iter().enumerate() {
            if let Err(e) = std::fs::rename(tmp, target) {
                // None of this report may stay half written: what was renamed and what was not.
                for (t, done) in &staged[..k] {
                    let _ = (t, std::fs::remove_file(done));
                }
                for (t, _) in &staged[k..] {
                    let _ = std::fs::remove_file(t);
                }
                return Err(format!("cannot rename {} to {}: {e}", tmp.display(), target.display()));
            }
        }
        Ok(files.into_iter().map(|(p, _)| p).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_cut_at_a_tenth_of_a_percent_and_five_percent() {
        // Base income 10 000.00 yuan: ±10.00 is within ±0.1 %, ±500.00 is 5 %.
        let base = 1_000_000;
        assert_eq!(bucket(0, base), 2);
        assert_eq!(bucket(1_000, base), 2);
        assert_eq!(bucket(1_001, base), 3);
        assert_eq!(bucket(50_000, base), 3);
        assert_eq!(bucket(50_001, base), 4);
        assert_eq!(bucket(-1_000, base), 2);
        assert_eq!(bucket(-1_001, base), 1);
        assert_eq!(bucket(-50_000, base), 1);
        assert_eq!(bucket(-50_001, base), 0);
        assert_eq!((bucket(0, 0), bucket(1, 0), bucket(-1, 0)), (2, 4, 0));
    }

    #[test]
    fn deciles_are_equal_groups_by_level_then_record_order() {
        let level: Vec<i64> = (0..20).map(|i| 100 - i / 2).collect();
        let d = deciles(&level);
        // Records 18 and 19 hold the lowest level (91): decile 1, the two of them.
        assert_eq!((d[18], d[19]), (0, 0));
        assert_eq!((d[0], d[1]), (9, 9));
        for k in 0..10u8 {
            assert_eq!(d.iter().filter(|&&x| x == k).count(), 2);
        }
    }

    #[test]
    fn ages_count_full_years() {
        let day = |y, m, d| pol_kernel::cell::days_from_civil(y, m, d).unwrap();
        assert_eq!(age(day(1953, 12, 31), day(2023, 12, 31)), 70);
        assert_eq!(age(day(1954, 1, 1), day(2023, 12, 31)), 69);
        assert_eq!(age(day(1960, 2, 29), day(2020, 2, 28)), 59);
    }

    #[test]
    fn a_record_is_quoted_for_the_shell_and_for_json() {
        assert_eq!(shell_quote("a'b"), "'a'\\''b'");
        assert_eq!(shell_quote("plain-1.pol"), "plain-1.pol");
        assert_eq!(json_string("a\"\\"), "\"a\\\"\\\\\"");
    }
}
