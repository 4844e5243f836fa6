//! The ways a run could lose or corrupt data without a word, each closed: duplicate keys,
//! flipped bits, half-committed file sets, leftovers of killed runs, absurd options, codecs.

mod common;

use std::fs;
use std::path::Path;
use std::sync::Arc;

use arrow::array::{AsArray, BooleanArray, Date32Array, Decimal128Array, Int64Array, StringArray};
use arrow::datatypes::{DataType, Field, Int64Type, Schema};
use arrow::record_batch::RecordBatch;
use common::*;
use parquet::arrow::ArrowWriter;
use parquet::basic::{BrotliLevel, Compression, GzipLevel, ZstdLevel};
use parquet::file::properties::WriterProperties;
use pol_runtime::{ErrorLimit, RunOptions, RuntimeError, generate, run, verify};

fn fixture(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(name)
}

/// A person twice in the file would be paid twice: every row holding a key another row also
/// holds goes to the ledger (V0005), the first occurrence too, naming the other rows.
#[test]
fn rows_sharing_a_key_all_go_to_the_ledger() {
    let dir = temp_dir();
    let good = |id: u32| format!("{id},1950-06-01,360,3000.00,Enterprise,false,x");
    let lines: Vec<String> = [1, 2, 3, 2, 5, 2, 7, 1].into_iter().map(good).collect();
    let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
    let input = write_csv(dir.path(), "in.csv", &lines);
    let mut opts = RunOptions::new(&input, dir.path().join("out.parquet"));
    opts.max_errors = ErrorLimit::Rows(5);
    opts.batch_rows = 3;
    let summary = run(&AdjustKernel::new(1, 20), &opts).expect("run");
    assert_eq!((summary.rows_in, summary.rows_out, summary.rows_in_ledger), (8, 3, 5));
    assert_eq!(summary.ledger_by_code.get("V0005"), Some(&5));
    let ledger = parse_csv(&fs::read_to_string(dir.path().join("out.errors.csv")).expect("ledger"));
    let rows: Vec<(&str, &str)> = ledger[1..].iter().map(|l| (&l[0][..], &l[1][..])).collect();
    assert_eq!(rows, [("1", "1"), ("2", "2"), ("4", "2"), ("6", "2"), ("8", "1")]);
    assert!(ledger[2][5].contains("key `person_id` = 2 is also on row 4, 6"), "{:?}", ledger[2]);
    let out = read_parquet(&dir.path().join("out.parquet"));
    let ids: Vec<i64> = out.iter().flat_map(|b| b.column(0).as_primitive::<Int64Type>().values().to_vec()).collect();
    assert_eq!(ids, [3, 5, 7]);
}

/// A file with page checksums (written by pyarrow; arrow-rs writes none) reads as it is; one
/// flipped bit in a data page fails the run naming the file, instead of changing an amount.
#[test]
fn a_flipped_bit_in_a_checksummed_page_fails_the_run() {
    let dir = temp_dir();
    let good = fixture("checksummed.parquet");
    let mut opts = RunOptions::new(&good, dir.path().join("out.parquet"));
    opts.max_errors = ErrorLimit::Rows(u64::MAX);
    let summary = run(&AdjustKernel::new(1, 20), &opts).expect("the intact file runs");
    assert_eq!(summary.rows_in, 200);

    // Flip one bit near the end of the monthly_pension column's data page (its values).
    let bytes = fs::read(&good).expect("fixture");
    let reader = parquet::file::serialized_reader::SerializedFileReader::new(fs::File::open(&good).expect("open")).expect("parquet");
    use parquet::file::reader::FileReader;
    let chunk = reader.metadata().row_group(0).column(3);
    assert_eq!(chunk.column_descr().name(), "monthly_pension");
    let at = usize::try_from(chunk.data_page_offset() + chunk.compressed_size() - 3).expect("offset");
    let mut flipped = bytes.clone();
    flipped[at] ^= 0x04;
    let bad = dir.path().join("flipped.parquet");
    fs::write(&bad, &flipped).expect("write");
    let opts = RunOptions::new(&bad, dir.path().join("out2.parquet"));
    let err = run(&AdjustKernel::new(1, 20), &opts).expect_err("a corrupt page");
    let text = err.to_string();
    assert!(text.contains("flipped.parquet") && text.contains("CRC checksum mismatch"), "{text}");
    assert!(!dir.path().join("out2.parquet").exists());
}

fn write_parquet_with(path: &Path, compression: Compression) {
    let schema = Arc::new(Schema::new(vec![
        Field::new("person_id", DataType::Int64, false),
        Field::new("birth_date", DataType::Date32, false),
        Field::new("contribution", DataType::Int64, false),
        Field::new("monthly_pension", DataType::Decimal128(12, 2), false),
        Field::new("category", DataType::Utf8, false),
        Field::new("military_cadre", DataType::Boolean, false),
    ]));
    let n = 300;
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(Int64Array::from_iter_values(1..=n)),
            Arc::new(Date32Array::from(vec![-7154; n as usize])),
            Arc::new(Int64Array::from_iter_values((0..n).map(|i| 300 + i % 50 * 2))),
            Arc::new(
                Decimal128Array::from_iter_values((0..n).map(|i| 250_000 + i128::from(i) * 37))
                    .with_precision_and_scale(12, 2)
                    .expect("dec"),
            ),
            Arc::new(StringArray::from_iter_values((0..n).map(|i| if i % 3 == 0 { "Institution" } else { "Enterprise" }))),
            Arc::new(BooleanArray::from_iter((0..n).map(|i| Some(i % 7 == 0)))),
        ],
    )
    .expect("batch");
    let props = WriterProperties::builder().set_compression(compression).build();
    let mut w = ArrowWriter::try_new(fs::File::create(path).expect("create"), schema, Some(props)).expect("writer");
    w.write(&batch).expect("write");
    w.close().expect("close");
}

/// Every codec arrow-rs supports reads, to the same output bytes.
#[test]
fn every_parquet_codec_is_read() {
    let dir = temp_dir();
    let codecs = [
        ("none", Compression::UNCOMPRESSED),
        ("snappy", Compression::SNAPPY),
        ("gzip", Compression::GZIP(GzipLevel::default())),
        ("zstd", Compression::ZSTD(ZstdLevel::default())),
        ("lz4raw", Compression::LZ4_RAW),
        ("lz4", Compression::LZ4),
        ("brotli", Compression::BROTLI(BrotliLevel::default())),
    ];
    let mut outputs = Vec::new();
    for (name, codec) in codecs {
        let input = dir.path().join(format!("in-{name}.parquet"));
        write_parquet_with(&input, codec);
        let mut opts = RunOptions::new(&input, dir.path().join(format!("out-{name}.csv")));
        opts.max_errors = ErrorLimit::Rows(u64::MAX);
        let summary = run(&AdjustKernel::new(1, 20), &opts).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(summary.rows_in, 300, "{name}");
        outputs.push(fs::read(dir.path().join(format!("out-{name}.csv"))).expect("output"));
    }
    assert!(outputs.windows(2).all(|w| w[0] == w[1]), "every codec gives the same output");
}

/// The manifest is the commit record: `verify` accepts the files a run committed, and names any
/// file that changed, went missing, or stands beside a manifest of another run.
#[test]
fn verify_checks_every_file_against_the_manifest() {
    let dir = temp_dir();
    let input = dir.path().join("in.parquet");
    generate(&inputs(), 5_000, 3, &input).expect("generate");
    let out = dir.path().join("out.parquet");
    let mut opts = RunOptions::new(&input, &out);
    opts.max_errors = ErrorLimit::Rows(u64::MAX);
    let summary = run(&AdjustKernel::new(1, 20), &opts).expect("run");
    let v = verify(&out).expect("a manifest");
    assert!(v.ok(), "{:?}", v.problems);
    assert_eq!(v.manifest.files.iter().map(|f| f.role.as_str()).collect::<Vec<_>>(), ["output", "ledger", "summary"]);
    assert_eq!(v.manifest.files[0].rows, Some(summary.rows_out));
    assert_eq!(v.manifest.files[1].rows, Some(summary.rows_in_ledger));

    // One flipped bit in the output.
    let mut bytes = fs::read(&out).expect("read");
    let middle = bytes.len() / 2;
    bytes[middle] ^= 1;
    fs::write(&out, &bytes).expect("write");
    let v = verify(&dir.path().join("out.manifest.json")).expect("manifest");
    assert!(!v.ok() && v.problems.len() == 1 && v.problems[0].contains("SHA-256"), "{:?}", v.problems);

    // An earlier run's ledger beside this run's manifest.
    bytes[middle] ^= 1;
    fs::write(&out, &bytes).expect("write");
    fs::write(dir.path().join("out.errors.csv"), "row,person_id,code,rule,column,message\n").expect("write");
    let v = verify(&out).expect("manifest");
    assert!(v.problems.len() == 1 && v.problems[0].starts_with("ledger"), "{:?}", v.problems);

    // No manifest: the set was never committed.
    fs::remove_file(dir.path().join("out.manifest.json")).expect("remove");
    let err = verify(&out).expect_err("no manifest");
    assert!(err.to_string().contains("did not finish committing"), "{err}");
}

/// Options are checked before any work, and leave nothing behind: batch sizes and thread
/// counts within bounds, an output that is a folder.
#[test]
fn absurd_options_are_refused_before_any_work() {
    let dir = temp_dir();
    let input = write_csv(dir.path(), "in.csv", &["1,1950-06-01,360,3000,Enterprise,false,x"]);
    let k = AdjustKernel::new(1, 20);
    type Change = Box<dyn Fn(&mut RunOptions)>;
    let cases: [(Change, &str); 5] = [
        (Box::new(|o| o.batch_rows = usize::MAX), "batch rows 18446744073709551615 is outside 1 ..= 1048576"),
        (Box::new(|o| o.batch_rows = 0), "batch rows 0 is outside"),
        (Box::new(|o| o.threads = Some(0)), "threads 0 is outside 1 ..= 1024"),
        (Box::new(|o| o.threads = Some(1 << 40)), "is outside 1 ..= 1024"),
        (Box::new(|o| o.output = o.output.with_file_name("folder.csv")), "is a folder"),
    ];
    fs::create_dir(dir.path().join("folder.csv")).expect("a folder named like an output");
    for (change, expected) in cases {
        let mut opts = RunOptions::new(&input, dir.path().join("out.csv"));
        change(&mut opts);
        let err = run(&k, &opts).expect_err("refused");
        assert!(matches!(err, RuntimeError::Invalid { .. }) && err.to_string().contains(expected), "{err}");
        assert_eq!(listing(dir.path()), ["folder.csv", "in.csv"]);
    }
}

/// Temporary files that a killed run left (its process is gone) are removed by the next run,
/// which says so; a live process's temporary file is left alone.
#[test]
fn a_later_run_removes_what_a_killed_run_left() {
    let dir = temp_dir();
    let input = write_csv(dir.path(), "in.csv", &["1,1950-06-01,360,3000,Enterprise,false,x"]);
    let dead = dir.path().join(".out.parquet.4294967295.3.tmp");
    let dead_ledger = dir.path().join(".out.errors.csv.4294967295.4.tmp");
    fs::write(&dead, vec![0u8; 4096]).expect("leftover");
    fs::write(&dead_ledger, b"row").expect("leftover");
    let summary = run(&AdjustKernel::new(1, 20), &RunOptions::new(&input, dir.path().join("out.parquet"))).expect("run");
    assert_eq!(summary.stale_temporaries_removed.len(), 2, "{:?}", summary.stale_temporaries_removed);
    assert!(!dead.exists() && !dead_ledger.exists());
    assert_eq!(listing(dir.path()), ["in.csv", "out.errors.csv", "out.manifest.json", "out.parquet", "out.summary.json"]);
}
