//! The batch runtime: runs any compiled [`Kernel`] over Parquet or CSV files of records, in
//! parallel, exactly, with every input row accounted for.
//!
//! The runtime knows nothing of the Pol language: it sees a kernel's [`KernelSignature`] (typed
//! input and output columns with declared domains, and aggregate requirements) and calls
//! [`Kernel::eval_batch`]. The interpreter and the JIT plug in alike.
//!
//! # Entry points
//! - [`run`] with [`RunOptions`]: input file → output file, error ledger, summary JSON.
//! - [`eval_record_batch`]: the same validation and evaluation over an in-memory Arrow batch.
//! - [`eval_part`], [`batch_keys`], [`RepeatedKeys`], [`check_aggregates`]: a run over a
//!   population split into parts that other engines (Spark, Ray) evaluate on their workers,
//!   with the same output, ledger and aggregate verdict as [`run`] over the whole.
//! - [`Comparison`]: two kernels over the same records in one pass, their results side by side
//!   with the exact change (what `pol diff` runs); [`ColumnKernel`] for a base read from a column.
//! - [`generate`]: a deterministic synthetic population for a list of input columns, uniform
//!   over the declared domains or, with [`generate_with_profile`], following a [`Profile`].
//! - [`read_columns`], [`measure_io_floor`]: measurements for `pol bench`.
//!
//! # Input (matched by column name; extra columns are ignored)
//! Every needed column's presence and type is checked before any work; one error lists every
//! problem. Parquet columns must have these Arrow types:
//!
//! | Pol type | accepted Arrow types | `i64` cell |
//! |---|---|---|
//! | Int, Months | any integer type | the value |
//! | Bool | Boolean | 0 / 1 |
//! | Date | Date32 | days since 1970-01-01 |
//! | Money | Decimal32/64/128 with scale ≤ 2 | fen |
//! | Decimal{s} | Decimal32/64/128 with scale ≤ s | value × 10^s |
//! | Enum | Utf8, LargeUtf8, Utf8View, or a dictionary of those, holding variant names | variant index |
//!
//! Money is never read from an integer column: whether such a column holds yuan or fen cannot
//! be known, so it is a type error (cast it to `decimal(p, 2)`). Nothing is read through floats.
//!
//! A CSV file must have a header row. Its cells are parsed as text: integers; `true`/`false`
//! (any case); dates `YYYY-MM-DD`; money and decimals as decimal text (`3265.40`, `-0.5`, at most
//! the type's scale of non-zero fraction digits, parsed exactly); enum variant names. Whitespace
//! around a cell is ignored and an empty cell is a missing value. A malformed CSV file (wrong
//! number of fields) fails the run.
//!
//! # PostgreSQL
//! An input or output given as a `postgres://` / `postgresql://` URL is a database (no TLS; a
//! password missing from the URL comes from `PGPASSWORD`, and none is ever shown or recorded).
//! Input: the binding's `[source]` `table` or `query` (exactly one); its columns are described
//! before anything is read and matched as a CSV header is; the rows stream through a text `COPY`
//! a batch at a time and every cell is parsed as a CSV cell (`numeric` as exact decimal text,
//! `t`/`f`, ISO dates, NULL a missing value); `real`, `double precision` and `money` columns
//! cannot be read as Money or Decimal. The key pass and the run read in one exported snapshot.
//! Output: [`RunOptions::output_table`] is replaced in one transaction (a new table filled by
//! `COPY`, then the earlier one dropped and the new one renamed) that commits only when the run
//! succeeds; a failed run leaves the earlier table as it was. The ledger, summary and manifest
//! are files named after the table; the manifest records the table, its rows and the SHA-256 of
//! the COPY text, and [`verify`] reconnects to count the rows.
//!
//! # Row validation and the error ledger
//! A row goes to the ledger instead of the output when a needed cell is missing (`V0001`), is
//! outside its column's declared domain (`V0002`), cannot be read or represented exactly
//! (`V0003`: unparseable text, unknown variant, money with more than 2 places, an integer
//! beyond 64 bits), when the kernel reports a fault (its own code, `R000x`, and rule), or when a
//! result cannot be written in its output type (`V0004`, e.g. money beyond Decimal128(18, 2)).
//! Only a row's first problem is recorded (input columns in signature order). The ledger format
//! is described in [`ledger`]; row numbers are 1-based record numbers. Every run checks
//! `rows_in = rows_out + rows_in_ledger` and fails if it does not hold.
//!
//! # Output
//! Parquet (`.parquet`, `.pq`) or CSV (`.csv`) by extension: the id columns (the inputs marked
//! `is_id`, values as read, written in their type's output form) then every kernel output:
//! Int/Months as Int64, Bool as Boolean, Date as Date32, Money as Decimal128(18, 2),
//! Decimal{s} as Decimal128(18, s), Enum as Utf8; no column is nullable. Rows keep the input
//! order, and the bytes are the same whatever the thread count and batch size. Parquet settings:
//! [`parquet_writer_properties`].
//!
//! # Run outcome and integrity
//! Every file (output, ledger, summary) is written under a temporary name in its directory,
//! synced, then renamed; then a manifest (`<stem>.manifest.json`, see [`verify`]) naming each
//! file with its size, SHA-256 and row count is written last, after the earlier manifest was
//! removed: a set of files is committed exactly when a manifest vouches for it. The run fails
//! (exit 1 in the CLI) without writing its output when the ledger holds more rows than
//! [`RunOptions::max_errors`] allows (default: none), when no row reached the output, or when an
//! aggregate requirement is broken and [`RunOptions::warn_aggregates`] is off; the ledger, the
//! summary (`failures` says why) and a manifest of outcome `failed` are still written, and
//! [`run`] returns [`RuntimeError::RunFailed`]. A run that fails after it has started (also
//! midway, on an IO error or a signal) leaves no output under the output's name: the earlier
//! run's files are moved to `<stem>.previous.<ext>`. Before reading any record, a run checks its
//! options (batch size, threads, writable paths that are not folders), removes temporary files
//! that killed runs left, and finds every key held by two rows (both go to the ledger, `V0005`;
//! [`MAX_KEY_FIELDS`]). Parquet page checksums are verified where the file has them, and every
//! codec arrow-rs supports is compiled in.
//!
//! # Parallelism
//! Batches are decoded by one reader thread, evaluated on a local rayon pool of
//! [`RunOptions::threads`] threads, and written in order by the calling thread; at most
//! `2 × threads + 2` batches are in flight, so memory does not grow with the row count.

mod aggregate;
mod atomic;
mod background;
mod bench;
mod binding;
mod commit;
mod compare;
mod decode;
mod error;
mod eval;
mod excel;
mod export;
mod generate;
mod inspect;
mod keys;
pub mod ledger;
mod postgres;
pub mod profile;
mod read;
mod run;
mod schema;
mod summary;
mod validate;
mod value;
mod write;

pub use aggregate::{AggregateResult, ExactSides, SideSums};
pub use bench::{ColumnsInMemory, IoFloor, measure_io_floor, read_columns};
pub use binding::{Binding, DateFormat, Encoding, FieldBinding, FieldRules, SourceOptions};
pub use commit::{MANIFEST_FORMAT, Manifest, ManifestFile, Verification, manifest_path_for, verify};
pub use compare::{BASE_PREFIX, CHANGE_PREFIX, ColumnKernel, Comparison, DRAFT_PREFIX};
pub use decode::detect_encoding;
pub use error::{RuntimeError, SchemaProblem};
pub use eval::{
    BatchEvaluation, CODE_UNWRITABLE, PartEvaluation, RowNumbers, check_aggregates, eval_part, eval_record_batch, eval_record_batch_with,
    part_schema, source_columns,
};
pub use export::{Exports, write_exports};
pub use generate::{ColumnTotal, GenerateReport, default_domain, generate, generate_with_profile};
pub use inspect::{BindingReport, ColumnProblems, SourceColumn, check_binding, columns, distinct_values};
pub use keys::{BatchKeys, CODE_DUPLICATE_KEY, KeyGroup, MAX_KEY_FIELDS, RepeatedKeys, batch_keys};
pub use ledger::RowError;
pub use pol_kernel::{ColumnSpec, ColumnType, Kernel, KernelSignature};
pub use profile::Profile;
pub use run::{DEFAULT_BATCH_ROWS, ErrorLimit, MAX_BATCH_ROWS, MAX_THREADS, RunOptions, run, run_failures};
pub use schema::{FileFormat, output_type};
pub use summary::RunSummary;
pub use validate::{CODE_BAD_VALUE, CODE_MISSING, CODE_OUT_OF_DOMAIN};
pub use write::{ROW_GROUP_ROWS, WRITE_ALIGN, parquet_writer_properties};
