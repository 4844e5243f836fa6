//! A province's own exports run through the national framework with a binding and no other
//! tool: a GBK CSV with Chinese headers, codes, yuan as text and YYYYMMDD dates; an Excel
//! workbook with date cells and numeric codes; a Parquet export with its own names and types
//! (ids as `id`, months as int32, money as decimal(12,3), sex as M/F, no `hukou` column). Each
//! gives exactly the output of the same records in canonical Parquet, and its bad cells end in
//! the ledger with row, column and reason.

mod common;

use std::path::Path;
use std::sync::Arc;

use arrow::array::{ArrayRef, AsArray, Decimal128Array, Int8Array, Int32Array, Int64Array, StringArray};
use arrow::datatypes::{Date32Type, Decimal128Type, Int64Type};
use arrow::record_batch::RecordBatch;

#[path = "../../../runtime/tests/common/pg.rs"]
mod pg;

use common::{GUANGDONG, PROFILE, pol, text};

const ROWS: usize = 3_000;
/// Rows (1-based) given a bad cell in every export: (row, column of the export, reason fragment).
const BAD: [(usize, &str); 3] = [(7, "monthly_pension"), (100, "sex"), (2_500, "birth_date")];

/// The canonical population's columns, as the records of the export.
struct Person {
    id: i64,
    birth: (i64, u32, u32),
    months: i64,
    pension_fen: i128,
    hardship: i64,
    cadre: bool,
    male: bool,
    average_fen: i128,
}

fn read_population(path: &Path) -> Vec<Person> {
    let file = std::fs::File::open(path).expect("population");
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file).expect("parquet").build().expect("reader");
    let mut people = Vec::new();
    for batch in reader {
        let b = batch.expect("batch");
        let col = |name: &str| b.column(b.schema().index_of(name).expect(name)).clone();
        let (id, birth, months, pension) = (col("person_id"), col("birth_date"), col("contribution"), col("monthly_pension"));
        let (hardship, cadre, sex, average) = (col("hardship_class"), col("military_cadre"), col("sex"), col("local_average_pension"));
        for i in 0..b.num_rows() {
            people.push(Person {
                id: id.as_primitive::<Int64Type>().value(i),
                birth: pol_kernel::cell::civil_from_days(i64::from(birth.as_primitive::<Date32Type>().value(i))),
                months: months.as_primitive::<Int64Type>().value(i),
                pension_fen: pension.as_primitive::<Decimal128Type>().value(i),
                hardship: hardship.as_primitive::<Int64Type>().value(i),
                cadre: cadre.as_boolean().value(i),
                male: sex.as_string::<i32>().value(i) == "Male",
                average_fen: average.as_primitive::<Decimal128Type>().value(i),
            });
        }
    }
    people
}

fn yuan(fen: i128) -> String {
    pol_kernel::cell::format_decimal(fen, 2)
}

const HEADER: [&str; 10] =
    ["人员编号", "姓名", "性别", "出生日期", "缴费月数", "月养老金（元）", "艰苦地区类别", "是否军转干部", "所在地平均养老金", "备注"];

const BINDING: &str = r#"
record = "Retiree"
[source]
encoding = "gbk"
[fields]
person_id = "人员编号"
sex = { column = "性别", codes = { Male = ["男", "1"], Female = ["女", "2"] } }
birth_date = { column = "出生日期", date = ["%Y%m%d"] }
contribution = "缴费月数"
monthly_pension = { column = "月养老金（元）", unit = "yuan" }
hardship_class = "艰苦地区类别"
military_cadre = { column = "是否军转干部", true = ["是"], false = ["否"] }
local_average_pension = { column = "所在地平均养老金", unit = "yuan" }
"#;

/// The cells a text export (CSV, a database's text columns) writes for a person's amount, sex
/// and birth date, with the bad cells of [`BAD`] in their rows.
struct TextCells {
    pension: String,
    sex: &'static str,
    birth: String,
}

fn text_cells(p: &Person, row: usize) -> TextCells {
    let pension = if row == BAD[0].0 { "12.345".to_string() } else { yuan(p.pension_fen) };
    let sex = match (row == BAD[1].0, p.male) {
        (true, _) => "未知",
        (false, true) => "男",
        (false, false) => "女",
    };
    let birth = if row == BAD[2].0 { "19550230".to_string() } else { format!("{:04}{:02}{:02}", p.birth.0, p.birth.1, p.birth.2) };
    TextCells { pension, sex, birth }
}

fn write_gbk_csv(people: &[Person], path: &Path) {
    let mut out = HEADER.join(",") + "\r\n";
    for (n, p) in people.iter().enumerate() {
        let TextCells { pension, sex, birth } = text_cells(p, n + 1);
        out += &format!(
            "{},张{},{sex},{birth},{},{pension},{},{},{},\"备注, {}\"\r\n",
            p.id,
            p.id,
            p.months,
            p.hardship,
            if p.cadre { "是" } else { "否" },
            yuan(p.average_fen),
            p.id
        );
    }
    std::fs::write(path, encoding_rs::GB18030.encode(&out).0).expect("write csv");
}

fn write_xlsx(people: &[Person], path: &Path) {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    let date = rust_xlsxwriter::Format::new().set_num_format("yyyy-mm-dd");
    for (c, h) in HEADER.iter().enumerate() {
        sheet.write_string(0, c as u16, *h).expect("header");
    }
    for (n, p) in people.iter().enumerate() {
        let (row, r) = (n + 1, (n + 1) as u32);
        sheet.write_number(r, 0, p.id as f64).expect("id");
        sheet.write_string(r, 1, format!("张{}", p.id)).expect("name");
        if row == BAD[1].0 {
            sheet.write_number(r, 2, 3.0).expect("sex");
        } else {
            sheet.write_number(r, 2, if p.male { 1.0 } else { 2.0 }).expect("sex");
        }
        if row == BAD[2].0 {
            sheet.write_number_with_format(r, 3, 20149.5, &date).expect("a date and time");
        } else {
            let d = rust_xlsxwriter::ExcelDateTime::from_ymd(p.birth.0 as u16, p.birth.1 as u8, p.birth.2 as u8).expect("date");
            sheet.write_datetime_with_format(r, 3, &d, &date).expect("date");
        }
        sheet.write_number(r, 4, p.months as f64).expect("months");
        // Money as Excel holds it: a double. 12.345 yuan is not a whole number of fen.
        let pension = if row == BAD[0].0 { 12.345 } else { p.pension_fen as f64 / 100.0 };
        sheet.write_number(r, 5, pension).expect("pension");
        sheet.write_number(r, 6, p.hardship as f64).expect("hardship");
        sheet.write_string(r, 7, if p.cadre { "是" } else { "否" }).expect("cadre");
        sheet.write_number(r, 8, p.average_fen as f64 / 100.0).expect("average");
    }
    book.save(path).expect("save xlsx");
}

/// The export of the issue: its own names and types, no hukou, ids as read.
fn write_parquet_export(people: &[Person], path: &Path) {
    let n = people.len();
    let row = |i: usize| i + 1;
    let columns: Vec<(&str, ArrayRef)> = vec![
        ("id", Arc::new(Int64Array::from_iter_values(people.iter().map(|p| p.id)))),
        (
            "birth_yyyymmdd",
            Arc::new(Int32Array::from_iter_values(people.iter().enumerate().map(|(i, p)| {
                if row(i) == BAD[2].0 {
                    19_550_230
                } else {
                    (p.birth.0 * 10_000 + i64::from(p.birth.1) * 100 + i64::from(p.birth.2)) as i32
                }
            }))),
        ),
        ("contribution_months", Arc::new(Int32Array::from_iter_values(people.iter().map(|p| p.months as i32)))),
        (
            "monthly_pension",
            Arc::new(
                Decimal128Array::from_iter_values(
                    people.iter().enumerate().map(|(i, p)| if row(i) == BAD[0].0 { 12_345 } else { p.pension_fen * 10 }),
                )
                .with_precision_and_scale(12, 3)
                .expect("decimal"),
            ),
        ),
        (
            "sex",
            Arc::new(StringArray::from_iter_values((0..n).map(|i| {
                if row(i) == BAD[1].0 {
                    "X"
                } else if people[i].male {
                    "M"
                } else {
                    "F"
                }
            }))),
        ),
        ("hardship_class", Arc::new(Int8Array::from_iter_values(people.iter().map(|p| p.hardship as i8)))),
        ("military_cadre", Arc::new(Int8Array::from_iter_values(people.iter().map(|p| i8::from(p.cadre))))),
        (
            "local_average_pension",
            Arc::new(
                Decimal128Array::from_iter_values(people.iter().map(|p| p.average_fen * 10))
                    .with_precision_and_scale(12, 3)
                    .expect("decimal"),
            ),
        ),
    ];
    let batch = RecordBatch::try_from_iter(columns).expect("batch");
    let mut w = parquet::arrow::ArrowWriter::try_new(std::fs::File::create(path).expect("create"), batch.schema(), None).expect("writer");
    w.write(&batch).expect("write");
    w.close().expect("close");
}

const PARQUET_BINDING: &str = r#"
record = "Retiree"
[fields]
person_id = "id"
birth_date = { column = "birth_yyyymmdd", date = ["%Y%m%d"] }
contribution = "contribution_months"
sex = { column = "sex", codes = { Male = ["M"], Female = ["F"] } }
"#;

/// The canonical population in `dir` and the output lines every export must give (the canonical
/// run's, without the rows that are bad in the exports).
fn canonical(dir: &Path) -> (Vec<Person>, Vec<String>) {
    let p = |name: &str| dir.join(name).display().to_string();
    let rows = ROWS.to_string();
    let o = pol(&["gen", GUANGDONG, "--record", "Retiree", "--rows", &rows, "--profile", PROFILE, "--output", &p("canon.parquet")]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let o = pol(&["run", GUANGDONG, "--input", &p("canon.parquet"), "--output", &p("canon.csv")]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let canonical = std::fs::read_to_string(dir.join("canon.csv")).expect("canonical output");
    let expected = canonical
        .lines()
        .enumerate()
        .filter(|(i, _)| *i == 0 || !BAD.iter().any(|(row, _)| row == i))
        .map(|(_, l)| l.to_string())
        .collect();
    (read_population(&dir.join("canon.parquet")), expected)
}

/// Runs `input` through `binding` (as `out-<label>.csv`): three bad rows fail a default run
/// without an output; allowed, the output equals `expected` and the ledger holds those rows.
fn run_export(dir: &Path, label: &str, input: &str, binding: &str, expected: &[String]) {
    let p = |name: &str| dir.join(name).display().to_string();
    let out = format!("out-{label}.csv");
    let o = pol(&["bind", "check", GUANGDONG, "--input", input, "--binding", &p(binding)]);
    assert_eq!(o.status.code(), Some(1), "{label}: three bad rows: {}", text(&o));
    assert!(text(&o).contains(&format!("{ROWS} rows read; 3 would go to the error ledger")), "{label}: {}", text(&o));
    // Without --max-errors, three ledger rows fail the run and no output is written.
    let o = pol(&["run", GUANGDONG, "--input", input, "--binding", &p(binding), "--output", &p(&out)]);
    assert_eq!(o.status.code(), Some(1), "{label}: {}", text(&o));
    assert!(!dir.join(&out).exists());
    let o = pol(&["run", GUANGDONG, "--input", input, "--binding", &p(binding), "--output", &p(&out), "--max-errors", "3"]);
    assert_eq!(o.status.code(), Some(0), "{label}: {}", text(&o));
    let got = std::fs::read_to_string(dir.join(&out)).expect("output");
    let got: Vec<&str> = got.lines().collect();
    assert_eq!(got.len(), expected.len(), "{label}: rows out");
    for (g, e) in got.iter().zip(expected) {
        assert_eq!(g, e, "{label}: a row differs from the canonical run");
    }
    let ledger = std::fs::read_to_string(dir.join(format!("out-{label}.errors.csv"))).expect("ledger");
    let lines: Vec<&str> = ledger.lines().skip(1).collect();
    assert_eq!(lines.len(), 3, "{label}: {ledger}");
    for (line, (row, column)) in lines.iter().zip(BAD) {
        assert!(line.starts_with(&format!("{row},{row},V0003,,{column},")), "{label}: {line}");
    }
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join(format!("out-{label}.summary.json"))).expect("summary")).expect("json");
    assert_eq!(summary["rows_in"].as_u64(), Some(ROWS as u64));
    assert_eq!(summary["rows_out"].as_u64().unwrap_or(0) + summary["rows_in_ledger"].as_u64().unwrap_or(0), ROWS as u64);
}

#[test]
fn exports_in_every_format_give_the_canonical_output_and_ledger_their_bad_cells() {
    let dir = tempfile::tempdir().expect("dir");
    let p = |name: &str| dir.path().join(name).display().to_string();
    let (people, expected) = canonical(dir.path());
    write_gbk_csv(&people, &dir.path().join("export.csv"));
    write_xlsx(&people, &dir.path().join("export.xlsx"));
    write_parquet_export(&people, &dir.path().join("export.parquet"));
    std::fs::write(dir.path().join("binding.toml"), BINDING).expect("binding");
    std::fs::write(dir.path().join("parquet-binding.toml"), PARQUET_BINDING).expect("binding");
    run_export(dir.path(), "csv", &p("export.csv"), "binding.toml", &expected);
    run_export(dir.path(), "xlsx", &p("export.xlsx"), "binding.toml", &expected);
    run_export(dir.path(), "parquet", &p("export.parquet"), "parquet-binding.toml", &expected);
}

/// The same export as a PostgreSQL table of a real server (Chinese column names, codes, yuan as
/// numeric, YYYYMMDD dates as text): `pol bind init` finds its columns from the database, and the
/// run gives the canonical output.
#[test]
fn a_postgresql_table_gives_the_canonical_output() {
    let dir = tempfile::tempdir().expect("dir");
    let (people, expected) = canonical(dir.path());
    let server = pg::Server::start();
    let mut client = server.client();
    client
        .batch_execute(
            "CREATE TABLE 退休人员 (人员编号 bigint, 姓名 text, 性别 text, 出生日期 text, 缴费月数 integer, \"月养老金（元）\" numeric, \
             艰苦地区类别 smallint, 是否军转干部 text, 所在地平均养老金 numeric(12,2))",
        )
        .expect("create");
    let mut copy = client.copy_in("COPY 退休人员 FROM STDIN").expect("copy");
    for (n, person) in people.iter().enumerate() {
        let TextCells { pension, sex, birth } = text_cells(person, n + 1);
        let line = format!(
            "{}\t张{}\t{sex}\t{birth}\t{}\t{pension}\t{}\t{}\t{}\n",
            person.id,
            person.id,
            person.months,
            person.hardship,
            if person.cadre { "是" } else { "否" },
            yuan(person.average_fen)
        );
        std::io::Write::write_all(&mut copy, line.as_bytes()).expect("row");
    }
    copy.finish().expect("copy done");
    let url = server.url();
    let o = pol(&["bind", "init", GUANGDONG, "--input", &url, "--input-table", "退休人员"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let init = text(&o);
    assert!(init.contains("person_id = \"人员编号\"") && init.contains("table = \"退休人员\""), "{init}");
    assert!(init.contains("codes = { Male = [\"男\"], Female = [\"女\"] }"), "{init}");
    let binding = BINDING.replace("encoding = \"gbk\"", "table = \"退休人员\"");
    std::fs::write(dir.path().join("pg-binding.toml"), binding).expect("binding");
    run_export(dir.path(), "postgres", &url, "pg-binding.toml", &expected);
}

/// The same binding writes Excel too: the output workbook reads back as the canonical values.
#[test]
fn an_xlsx_output_reads_back_exactly() {
    let dir = tempfile::tempdir().expect("dir");
    let p = |name: &str| dir.path().join(name).display().to_string();
    let o = pol(&["gen", GUANGDONG, "--record", "Retiree", "--rows", "500", "--profile", PROFILE, "--output", &p("canon.parquet")]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    for out in ["out.csv", "out.xlsx"] {
        let o = pol(&["run", GUANGDONG, "--input", &p("canon.parquet"), "--output", &p(out)]);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    }
    assert_eq!(pol(&["verify", &p("out.xlsx")]).status.code(), Some(0));
    let csv = std::fs::read_to_string(dir.path().join("out.csv")).expect("csv");
    let header = csv.lines().next().unwrap_or_default().to_string();
    assert!(header.starts_with("person_id,"), "{header}");
    let mut book: calamine::Sheets<_> = calamine::open_workbook_auto(dir.path().join("out.xlsx")).expect("xlsx");
    use calamine::Reader;
    let range = book.worksheet_range("data").expect("sheet");
    let rows: Vec<String> = range
        .rows()
        .map(|r| {
            r.iter()
                .map(|c| match c {
                    calamine::Data::Float(f) => format!("{f}"),
                    other => other.to_string(),
                })
                .collect::<Vec<_>>()
                .join(",")
        })
        .collect();
    let columns: Vec<&str> = header.split(',').collect();
    for (line, row) in csv.lines().skip(1).zip(rows.iter().skip(1)) {
        for ((want, got), name) in line.split(',').zip(row.split(',')).zip(&columns) {
            // A money cell shows its shortest decimal (3265.4 for 3265.40): equal as decimals.
            let same = want == got || pol_kernel::cell::parse_decimal(want, 2).ok() == pol_kernel::cell::parse_decimal(got, 2).ok();
            assert!(same, "column {name}: csv {want} vs xlsx {got}");
        }
    }
    assert_eq!(rows.len(), 501);
}

/// Source columns an office wants beside each result are kept as they were read, after the
/// results, for the rows that reached the output; a column that is not there is an error
/// before any work.
#[test]
fn kept_source_columns_follow_the_results_as_read() {
    let dir = tempfile::tempdir().expect("dir");
    let p = |name: &str| dir.path().join(name).display().to_string();
    let (people, expected) = canonical(dir.path());
    write_gbk_csv(&people, &dir.path().join("export.csv"));
    std::fs::write(dir.path().join("binding.toml"), BINDING).expect("binding");
    let args = ["run", GUANGDONG, "--input", &p("export.csv"), "--binding", &p("binding.toml"), "--max-errors", "3"];
    let o = pol(&[&args[..], &["--output", &p("kept.csv"), "--keep", "姓名", "--keep", "备注"]].concat());
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let out = std::fs::read_to_string(dir.path().join("kept.csv")).expect("output");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), expected.len());
    assert_eq!(lines[0], format!("{},姓名,备注", expected[0]));
    for (line, want) in lines.iter().zip(&expected).skip(1) {
        let id = want.split(',').next().unwrap_or_default();
        assert_eq!(*line, format!("{want},张{id},\"备注, {id}\""), "the kept cells of person {id}");
    }
    let o = pol(&[&args[..], &["--output", &p("none.csv"), "--keep", "没有这一列"]].concat());
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("missing column `没有这一列` (expected a column to keep"), "{}", text(&o));
    assert!(!dir.path().join("none.csv").exists());
}
