//! PostgreSQL as a run's input and output.
//!
//! An input or output "path" that starts with `postgres://` or `postgresql://` is a connection
//! URL (libpq's URL syntax as rust-postgres reads it; no TLS: `sslmode=require` fails to
//! connect). A password missing from the URL is taken from `PGPASSWORD`, so that it need not
//! appear on a command line; it is never shown: every message, the summary and the manifest name
//! the URL without it.
//!
//! # Input
//! The binding's `[source]` names either a `table` (`retirees`, `pension.retirees`,
//! `"Retirees 2024"`: SQL's syntax, unquoted parts folded to lower case) or a `query` (any
//! `SELECT`, `WITH …`, `VALUES …`, without a trailing semicolon); exactly one. Its columns are
//! described by `PREPARE` before anything is read and matched to the record's fields as a CSV
//! file's header is (a missing column is the same [`crate::SchemaProblem::MissingColumn`]). Then
//! `COPY (SELECT <needed columns> FROM (<query>) AS src) TO STDOUT` streams the rows in text
//! form, parsed a batch at a time (memory does not grow with the row count), and every cell goes
//! through the same text conversions as a CSV cell: `numeric` prints its exact decimal text,
//! `boolean` prints `t`/`f`, `date` prints `YYYY-MM-DD` (the session runs with `DateStyle = ISO,
//! YMD` and `TimeZone = UTC`), NULL is a missing value. A few types are checked up front the way a
//! Parquet file's are: a Money or Decimal field may not be read from `real`, `double precision`
//! or `money` columns, nor Money from an integer column without the binding's `unit`. A
//! `timestamp` column read as a Date gives its date when the time is midnight (else the row goes
//! to the ledger), and a `numeric` column read as an Int its whole value.
//!
//! The run reads the source twice (the key-uniqueness pass, then the run), both times in one
//! snapshot: the first connection opens a `REPEATABLE READ READ ONLY` transaction and exports its
//! snapshot (`pg_export_snapshot()`), which the second imports (`SET TRANSACTION SNAPSHOT`), so
//! both passes see the same rows even while others write to the table. Row numbers (the ledger's,
//! and those of duplicate keys) count rows in the order they arrive, so both reads run without
//! synchronized scans (a large table's scan would otherwise start where another one stopped)
//! or parallel workers, and a table by a plain sequential scan: rows come in stored order. A
//! query's order is its own (give it an `ORDER BY` on the key); the run compares the sequence of
//! key values of both reads and fails, without writing its output, when they differ.
//!
//! # Output
//! `--output postgresql://…` with `--output-table NAME` ([`crate::RunOptions::output_table`])
//! replaces the table `NAME` with the run's output in one transaction: a new table (id columns
//! then outputs; `bigint`, `boolean`, `date`, `numeric(18, s)` for Money (s = 2) and
//! Decimal{s}, `text` for Enum; all `NOT NULL`) is created under a temporary name, filled by
//! `COPY … FROM STDIN` as the batches are written, and at the end the earlier table is dropped
//! and the new one renamed to `NAME`; the transaction commits only when the run succeeds. A run
//! that fails, for any reason, rolls it back: the earlier table keeps its contents (readers see
//! it throughout; the swap takes its exclusive lock only at the end). Indexes, grants and views
//! on the earlier table are not carried over; a view that depends on it makes the run fail
//! before any record is read (the swap is rehearsed and rolled back first). The ledger, summary
//! and manifest stay files; the manifest's output entry names the URL and the table, the rows
//! and the size and SHA-256 of the COPY text sent, and `pol verify` reconnects and checks the
//! table's row count.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::thread::JoinHandle;
use std::time::Duration;

use ::postgres::types::{Kind, Type};
use ::postgres::{Client, NoTls};
use arrow::array::{Array, ArrayRef, AsArray, StringBuilder};
use arrow::datatypes::{DataType, Date32Type, Decimal128Type, Field, Int64Type, Schema, SchemaRef};
use arrow::record_batch::{RecordBatch, RecordBatchOptions};
use pol_kernel::{ColumnSpec, ColumnType};
use sha2::{Digest, Sha256};

use crate::background::Written;
use crate::binding::{Binding, SourceOptions};
use crate::error::{RuntimeError, SchemaProblem};
use crate::read::BoundInput;
use crate::schema::{Source, bind_inputs};

/// Whether `path` is a PostgreSQL connection URL rather than a file.
pub(crate) fn is_url(path: &Path) -> bool {
    path.to_str().is_some_and(|s| s.starts_with("postgres://") || s.starts_with("postgresql://"))
}

/// The URL without its password (userinfo or `password=` parameter), for messages and records.
pub(crate) fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_string() };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let authority = match authority.rsplit_once('@') {
        Some((userinfo, hosts)) => {
            let user = userinfo.split_once(':').map_or(userinfo, |(user, _)| user);
            format!("{user}@{hosts}")
        }
        None => authority.to_string(),
    };
    let tail = match tail.split_once('?') {
        Some((path, params)) => {
            let kept: Vec<&str> = params.split('&').filter(|p| !p.to_ascii_lowercase().starts_with("password=")).collect();
            if kept.is_empty() { path.to_string() } else { format!("{path}?{}", kept.join("&")) }
        }
        None => tail.to_string(),
    };
    format!("{scheme}://{authority}{tail}")
}

/// The text of a PostgreSQL error: the server's message with its detail and hint, else the
/// client's own description.
fn describe(e: &::postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => {
            let mut text = db.message().to_string();
            if let Some(detail) = db.detail() {
                text.push_str(&format!(" ({detail})"));
            }
            if let Some(hint) = db.hint() {
                text.push_str(&format!("; hint: {hint}"));
            }
            text
        }
        None => e.to_string(),
    }
}

fn pg_error(what: &str, e: &::postgres::Error) -> RuntimeError {
    RuntimeError::invalid(format!("PostgreSQL {what}: {}", describe(e)))
}

/// An IO error of a COPY stream, which carries the PostgreSQL error inside.
fn copy_error(what: &str, e: &std::io::Error) -> RuntimeError {
    match e.get_ref().and_then(|inner| inner.downcast_ref::<::postgres::Error>()) {
        Some(pg) => pg_error(what, pg),
        None => RuntimeError::invalid(format!("PostgreSQL {what}: {e}")),
    }
}

/// Connects with the session settings every cell's text depends on.
fn connect(url: &str) -> Result<Client, RuntimeError> {
    let shown = redact(url);
    let mut config: ::postgres::Config =
        url.parse().map_err(|e: ::postgres::Error| RuntimeError::invalid(format!("`{shown}` is not a PostgreSQL connection URL: {e}")))?;
    if config.get_password().is_none()
        && let Ok(password) = std::env::var("PGPASSWORD")
    {
        config.password(password);
    }
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(Duration::from_secs(30));
    }
    if config.get_application_name().is_none() {
        config.application_name("pol");
    }
    let mut client = config.connect(NoTls).map_err(|e| pg_error(&format!("cannot connect to `{shown}`"), &e))?;
    client
        .batch_execute("SET DateStyle = 'ISO, YMD'; SET TimeZone = 'UTC'; SET IntervalStyle = 'postgres'")
        .map_err(|e| pg_error(&format!("`{shown}`"), &e))?;
    Ok(client)
}

/// `"name"` with inner quotes doubled.
fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn quote_literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// A table name as SQL writes it: `name` or `schema.name`, each part unquoted (folded to lower
/// case) or double-quoted (`""` for a quote inside).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct TableName {
    pub schema: Option<String>,
    pub name: String,
    text: String,
}

impl TableName {
    pub fn parse(text: &str) -> Result<TableName, RuntimeError> {
        let bad = |why: &str| RuntimeError::invalid(format!("table name `{text}`: {why}"));
        let mut parts: Vec<String> = Vec::new();
        let mut chars = text.trim().chars().peekable();
        loop {
            let mut part = String::new();
            if chars.peek() == Some(&'"') {
                chars.next();
                loop {
                    match chars.next() {
                        None => return Err(bad("a quote is not closed")),
                        Some('"') if chars.peek() == Some(&'"') => {
                            chars.next();
                            part.push('"');
                        }
                        Some('"') => break,
                        Some(c) => part.push(c),
                    }
                }
                if chars.peek().is_some_and(|c| *c != '.') {
                    return Err(bad("text after a closing quote"));
                }
            } else {
                while let Some(c) = chars.peek().copied().filter(|c| *c != '.') {
                    if c == '"' {
                        return Err(bad("a quote inside an unquoted name"));
                    }
                    part.push(c.to_ascii_lowercase());
                    chars.next();
                }
                part = part.trim().to_string();
            }
            if part.is_empty() {
                return Err(bad("an empty name"));
            }
            parts.push(part);
            match chars.next() {
                None => break,
                Some(_) => continue,
            }
        }
        let text = text.trim().to_string();
        match <[String; 2]>::try_from(parts) {
            Ok([schema, name]) => Ok(TableName { schema: Some(schema), name, text }),
            Err(parts) if parts.len() == 1 => Ok(TableName { schema: None, name: parts.into_iter().next().unwrap_or_default(), text }),
            Err(_) => Err(bad("give `name` or `schema.name`")),
        }
    }

    /// The quoted, qualified name.
    pub fn sql(&self) -> String {
        self.sibling_sql(&self.name)
    }

    /// Another table of the same schema, quoted.
    fn sibling_sql(&self, name: &str) -> String {
        match &self.schema {
            Some(schema) => format!("{}.{}", quote_ident(schema), quote_ident(name)),
            None => quote_ident(name),
        }
    }

    /// The name as the user wrote it.
    pub fn text(&self) -> &str {
        &self.text
    }
}

/// What a PostgreSQL source reads: a table or a query.
#[derive(Clone, Debug)]
enum Relation {
    Table(TableName),
    Query(String),
}

impl Relation {
    fn of(options: &SourceOptions) -> Result<Relation, RuntimeError> {
        match (&options.table, &options.query) {
            (Some(table), None) => Ok(Relation::Table(TableName::parse(table)?)),
            (None, Some(query)) => {
                let query = query.trim().trim_end_matches(';').trim_end();
                if query.is_empty() {
                    return Err(RuntimeError::invalid("the PostgreSQL source's query is empty"));
                }
                Ok(Relation::Query(query.to_string()))
            }
            (Some(_), Some(_)) => Err(RuntimeError::invalid(
                "a PostgreSQL source reads a table or a query, not both: give only one of `table` and `query` (--input-table, --input-query)",
            )),
            (None, None) => Err(RuntimeError::invalid(
                "a PostgreSQL input needs the table or query to read: `table = \"…\"` or `query = \"SELECT …\"` in the binding's [source], or --input-table / --input-query",
            )),
        }
    }

    fn sql(&self) -> String {
        match self {
            Relation::Table(t) => format!("TABLE {}", t.sql()),
            Relation::Query(q) => q.clone(),
        }
    }

    fn describe(&self) -> String {
        match self {
            Relation::Table(t) => format!("table {}", t.text()),
            Relation::Query(_) => "query".into(),
        }
    }
}

/// Checks a source's table/query options without connecting.
pub(crate) fn check_source(options: &SourceOptions) -> Result<(), RuntimeError> {
    Relation::of(options).map(|_| ())
}

/// How an input is named in messages: the URL without its password, and the table or query.
fn source_name(url: &str, relation: &Relation) -> PathBuf {
    PathBuf::from(format!("{} ({})", redact(url), relation.describe()))
}

/// How a source is shown in the summary.
pub(crate) fn source_display(url: &str, options: &SourceOptions) -> String {
    match Relation::of(options) {
        Ok(relation) => source_name(url, &relation).display().to_string(),
        Err(_) => redact(url),
    }
}

/// The type itself, or a domain's base type.
fn base_type(ty: &Type) -> &Type {
    match ty.kind() {
        Kind::Domain(inner) => base_type(inner),
        _ => ty,
    }
}

/// A column type that cannot carry a field exactly, found before anything is read (as a
/// Parquet file's types are): the expectation, or `None` when the type is fine.
fn type_problem(spec: &ColumnSpec, source: &Source, ty: &Type) -> Option<String> {
    let ty = base_type(ty);
    let conv = match source {
        Source::Text(conv) | Source::Names(conv) => conv,
        _ => return None,
    };
    let integer = [Type::INT2, Type::INT4, Type::INT8].contains(ty);
    match spec.ty {
        ColumnType::Money | ColumnType::Decimal { .. } if [Type::FLOAT4, Type::FLOAT8].contains(ty) => {
            Some("numeric (binary floating point cannot hold amounts exactly: cast the column to numeric)".into())
        }
        ColumnType::Money | ColumnType::Decimal { .. } if *ty == Type::MONEY => {
            Some("numeric (the money type prints by locale: cast the column to numeric)".into())
        }
        ColumnType::Money if integer && !conv.fen && !conv.yuan => {
            Some("numeric; an integer column holds yuan or fen, which only the binding can say (`unit = \"fen\"` or `\"yuan\"`)".into())
        }
        _ => None,
    }
}

/// The select-list expression of one needed column, given the fields read from it.
fn select_expr(name: &str, ty: &Type, specs: &[&ColumnSpec]) -> String {
    let c = format!("src.{}", quote_ident(name));
    let ty = base_type(ty);
    let all = |f: fn(&ColumnType) -> bool| !specs.is_empty() && specs.iter().all(|s| f(&s.ty));
    if *ty == Type::TIMESTAMP && all(|t| *t == ColumnType::Date) {
        // A timestamp at midnight is that date; any other time of day stays as it is and sends
        // its row to the ledger (as a Parquet timestamp does).
        format!("CASE WHEN {c}::time = time '00:00' THEN {c}::date::text ELSE {c}::text END")
    } else if *ty == Type::NUMERIC && all(|t| matches!(t, ColumnType::Int | ColumnType::Months)) {
        // `12.00` is the integer 12; `12.5` stays as it is (a bad cell, or 12.5 years).
        format!("CASE WHEN {c} = trunc({c}) THEN trunc({c})::text ELSE {c}::text END")
    } else {
        c
    }
}

/// A stream of the needed columns of a PostgreSQL source, as Utf8 batches.
pub(crate) struct PgReader {
    name: PathBuf,
    state: ReaderState,
    /// The exported snapshot of this reader's transaction, for a second reader of the same run.
    snapshot: Option<String>,
}

enum ReaderState {
    Ready { client: Box<Client>, sql: String, schema: SchemaRef, batch_rows: usize, keys: Vec<usize>, digest: KeyDigest },
    Streaming { batches: Receiver<Result<Option<RecordBatch>, RuntimeError>>, _thread: JoinHandle<()> },
    Done,
}

/// Opens a PostgreSQL source: connects, describes its columns, binds the inputs to them (all
/// problems at once) and prepares the COPY, which starts with the first batch asked for.
pub(crate) fn open(
    url: &str,
    inputs: &[ColumnSpec],
    batch_rows: usize,
    binding: Option<&Binding>,
) -> Result<(PgReader, Vec<BoundInput>), RuntimeError> {
    let default_options = SourceOptions::default();
    let options = binding.map_or(&default_options, |b| &b.source);
    let relation = Relation::of(options)?;
    let name = source_name(url, &relation);
    let shown = name.display().to_string();
    let mut client = connect(url)?;
    let fail = |e: ::postgres::Error| pg_error(&format!("`{shown}`"), &e);
    // Rows in the order they are stored, the same in both reads: no scan starting where another
    // left off, no parallel workers interleaving rows, and a table read by a plain scan.
    let mut settings = String::from("SET synchronize_seqscans = off; SET max_parallel_workers_per_gather = 0");
    if matches!(relation, Relation::Table(_)) {
        settings.push_str("; SET enable_indexscan = off; SET enable_indexonlyscan = off; SET enable_bitmapscan = off");
    }
    client.batch_execute(&settings).map_err(fail)?;
    let snapshot = match &options.snapshot {
        Some(id) => {
            client
                .batch_execute(&format!("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SET TRANSACTION SNAPSHOT {}", quote_literal(id)))
                .map_err(fail)?;
            None
        }
        None => {
            client.batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY").map_err(fail)?;
            let row = client.query_one("SELECT pg_export_snapshot()", &[]).map_err(fail)?;
            Some(row.try_get::<_, String>(0).map_err(fail)?)
        }
    };
    let inner = relation.sql();
    let statement = client.prepare(&format!("SELECT * FROM ({inner}) AS src")).map_err(fail)?;
    let columns = statement.columns();
    let fields: Vec<Field> = columns.iter().map(|c| Field::new(c.name(), DataType::Utf8, true)).collect();
    let text_schema = Schema::new(fields);
    let mut bindings = bind_inputs(&name, &text_schema, inputs, binding, true)?;
    let mut problems = Vec::new();
    for (spec, b) in inputs.iter().zip(bindings.iter_mut()) {
        let Some(column) = b.file_index.and_then(|i| columns.get(i)) else { continue };
        if let Some(expected) = type_problem(spec, &b.source, column.type_()) {
            problems.push(SchemaProblem::WrongType {
                column: column.name().to_string(),
                expected: format!("{expected} for {}", spec.ty.describe()),
                found: column.type_().name().to_string(),
            });
        }
        // A boolean column prints `t`/`f`, whatever words the binding gives for text.
        if let (Source::Text(conv), true) = (&mut b.source, *base_type(column.type_()) == Type::BOOL) {
            for (words, word) in [(&mut conv.true_words, "t"), (&mut conv.false_words, "f")] {
                if !words.iter().any(|w| w.eq_ignore_ascii_case(word)) {
                    words.push(word.into());
                }
            }
        }
    }
    if !problems.is_empty() {
        return Err(RuntimeError::Schema { file: name, problems });
    }
    let mut needed: Vec<usize> = bindings.iter().filter_map(|b| b.file_index).collect();
    needed.sort_unstable();
    needed.dedup();
    let mut exprs = Vec::with_capacity(needed.len());
    let mut out_fields = Vec::with_capacity(needed.len());
    for &i in &needed {
        let Some(column) = columns.get(i) else {
            return Err(RuntimeError::invalid(format!("internal error: column {i} of `{shown}`")));
        };
        let specs: Vec<&ColumnSpec> = inputs.iter().zip(&bindings).filter(|(_, b)| b.file_index == Some(i)).map(|(s, _)| s).collect();
        exprs.push(select_expr(column.name(), column.type_(), &specs));
        out_fields.push(Field::new(column.name(), DataType::Utf8, true));
    }
    // The key columns, whose sequence both reads of a run must see alike.
    let keys: Vec<usize> = needed
        .iter()
        .enumerate()
        .filter(|(_, i)| inputs.iter().zip(&bindings).any(|(s, b)| s.is_id && b.file_index == Some(**i)))
        .map(|(k, _)| k)
        .collect();
    let digest = match (&options.snapshot, &snapshot) {
        (Some(imported), _) => KeyDigest::Leave(format!("{}\n{imported}", redact(url))),
        (None, Some(exported)) => KeyDigest::Expect(format!("{}\n{exported}", redact(url))),
        (None, None) => KeyDigest::Leave(String::new()),
    };
    let bound = bindings
        .into_iter()
        .map(|b| BoundInput { column: b.file_index.and_then(|i| needed.iter().position(|n| *n == i)), source: b.source })
        .collect();
    let sql = format!("COPY (SELECT {} FROM ({inner}) AS src) TO STDOUT", exprs.join(", "));
    let schema = Arc::new(Schema::new(out_fields));
    let state = ReaderState::Ready { client: Box::new(client), sql, schema, batch_rows: batch_rows.max(1), keys, digest };
    Ok((PgReader { name, state, snapshot }, bound))
}

impl PgReader {
    /// The snapshot a second reader of the same run imports.
    pub fn snapshot(&self) -> Option<&str> {
        self.snapshot.as_deref()
    }

    pub fn name(&self) -> &Path {
        &self.name
    }

    /// The next batch, or `None` at the end of the rows.
    pub fn next_batch(&mut self) -> Result<Option<RecordBatch>, RuntimeError> {
        if matches!(self.state, ReaderState::Ready { .. }) {
            let ReaderState::Ready { client, sql, schema, batch_rows, keys, digest } =
                std::mem::replace(&mut self.state, ReaderState::Done)
            else {
                return Ok(None);
            };
            let (tx, rx) = mpsc::sync_channel(1);
            let name = self.name.display().to_string();
            let thread = std::thread::Builder::new()
                .name("pol-postgres-read".into())
                .spawn(move || copy_out(*client, &sql, &schema, batch_rows, &name, keys, &digest, &tx))
                .map_err(|e| RuntimeError::invalid(format!("cannot start the PostgreSQL reader thread: {e}")))?;
            self.state = ReaderState::Streaming { batches: rx, _thread: thread };
        }
        let ReaderState::Streaming { batches, .. } = &self.state else { return Ok(None) };
        match batches.recv() {
            Ok(Ok(Some(batch))) => Ok(Some(batch)),
            Ok(Ok(None)) => {
                self.state = ReaderState::Done;
                Ok(None)
            }
            Ok(Err(e)) => {
                self.state = ReaderState::Done;
                Err(e)
            }
            Err(_) => {
                self.state = ReaderState::Done;
                Err(RuntimeError::invalid(format!("internal error: the reader of `{}` stopped without a word", self.name.display())))
            }
        }
    }
}

type BatchSender = SyncSender<Result<Option<RecordBatch>, RuntimeError>>;

/// The digests of the key columns that a run's key check read, by server and snapshot: the
/// run's own read, in the same snapshot, must see the keys in the same order, or the row
/// numbers of duplicate keys would name other rows.
static KEY_DIGESTS: std::sync::Mutex<std::collections::BTreeMap<String, [u8; 32]>> =
    std::sync::Mutex::new(std::collections::BTreeMap::new());

/// What a reader does with the digest of its key columns at the end.
enum KeyDigest {
    /// A second read (the key check): leaves it under this name (none when empty).
    Leave(String),
    /// The first read (the run's): compares it with the one left under this name, if any.
    Expect(String),
}

/// The reader thread: runs the COPY, sends batches of `batch_rows` rows, then `None`. Stops
/// (cancelling the query) as soon as nobody receives.
#[allow(clippy::too_many_arguments)]
fn copy_out(
    mut client: Client,
    sql: &str,
    schema: &SchemaRef,
    batch_rows: usize,
    name: &str,
    keys: Vec<usize>,
    digest: &KeyDigest,
    tx: &BatchSender,
) {
    let cancel = client.cancel_token();
    let what = format!("reading `{name}`");
    let mut parser = CopyParser::new(schema.fields().len(), batch_rows);
    parser.keys = keys;
    let result = (|| -> Result<bool, RuntimeError> {
        let mut reader = client.copy_out(sql).map_err(|e| pg_error(&what, &e))?;
        let mut line = Vec::with_capacity(256);
        loop {
            line.clear();
            let n = reader.read_until(b'\n', &mut line).map_err(|e| copy_error(&what, &e))?;
            if n == 0 {
                break;
            }
            let Some(body) = line.strip_suffix(b"\n") else {
                return Err(RuntimeError::invalid(format!("{what}: the COPY data ends inside a row")));
            };
            parser.push_line(body).map_err(|e| RuntimeError::invalid(format!("{what}: {e}")))?;
            if parser.rows == batch_rows {
                let batch = parser.take(schema).map_err(|e| RuntimeError::arrow(name, e))?;
                if tx.send(Ok(Some(batch))).is_err() {
                    return Ok(false);
                }
            }
        }
        if parser.rows > 0 {
            let batch = parser.take(schema).map_err(|e| RuntimeError::arrow(name, e))?;
            if tx.send(Ok(Some(batch))).is_err() {
                return Ok(false);
            }
        }
        let mine: [u8; 32] = std::mem::take(&mut parser.digest).finalize().into();
        let mut digests = KEY_DIGESTS.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        match digest {
            KeyDigest::Leave(key) if !key.is_empty() => {
                digests.insert(key.clone(), mine);
            }
            KeyDigest::Expect(key) => {
                if digests.remove(key).is_some_and(|theirs| theirs != mine) {
                    return Err(RuntimeError::invalid(format!(
                        "{what}: the rows came in another order than in the key check, so row numbers would not match; \
                         give the query an ORDER BY on the key"
                    )));
                }
            }
            KeyDigest::Leave(_) => {}
        }
        Ok(true)
    })();
    match result {
        Ok(true) => {
            // Release the snapshot and the locks before saying the rows are over.
            let _ = client.batch_execute("COMMIT");
            drop(client.close());
            let _ = tx.send(Ok(None));
        }
        Ok(false) => {
            // Nobody reads any more: stop the server sending the rest of the rows.
            let _ = cancel.cancel_query(NoTls);
        }
        Err(e) => {
            let _ = tx.send(Err(e));
            let _ = cancel.cancel_query(NoTls);
        }
    }
}

/// An incremental parser of COPY's text format: rows end with `\n`, fields are separated by
/// tabs, `\N` is NULL, and backslash escapes stand for the bytes they name.
struct CopyParser {
    columns: usize,
    builders: Vec<StringBuilder>,
    rows: usize,
    /// Rows parsed before the current batch, for messages.
    done: u64,
    ranges: Vec<(usize, usize)>,
    scratch: Vec<u8>,
    /// The key columns' positions, and the digest of their text, row after row.
    keys: Vec<usize>,
    digest: Sha256,
}

impl CopyParser {
    fn new(columns: usize, batch_rows: usize) -> Self {
        let builders = (0..columns).map(|_| StringBuilder::with_capacity(batch_rows.min(1 << 16), 16 * batch_rows.min(1 << 16))).collect();
        CopyParser { columns, builders, rows: 0, done: 0, ranges: Vec::new(), scratch: Vec::new(), keys: Vec::new(), digest: Sha256::new() }
    }

    fn push_line(&mut self, line: &[u8]) -> Result<(), String> {
        let row = self.done + self.rows as u64 + 1;
        self.ranges.clear();
        if self.columns == 0 {
            if !line.is_empty() {
                return Err(format!("row {row} has fields where none were selected"));
            }
        } else {
            let mut start = 0;
            for (i, b) in line.iter().enumerate() {
                if *b == b'\t' {
                    self.ranges.push((start, i));
                    start = i + 1;
                }
            }
            self.ranges.push((start, line.len()));
            if self.ranges.len() != self.columns {
                return Err(format!("row {row} has {} fields, {} were selected", self.ranges.len(), self.columns));
            }
        }
        if !self.keys.is_empty() {
            for &k in &self.keys {
                if let Some(&(a, b)) = self.ranges.get(k) {
                    self.digest.update(&line[a..b]);
                }
                self.digest.update(b"\t");
            }
            self.digest.update(b"\n");
        }
        // A malformed row fails the whole read, so a row left half appended is never used.
        for (k, &(a, b)) in self.ranges.iter().enumerate() {
            let field = &line[a..b];
            if field == b"\\N" {
                self.builders[k].append_null();
                continue;
            }
            let bytes: &[u8] = if field.contains(&b'\\') {
                self.scratch.clear();
                unescape(field, &mut self.scratch).map_err(|e| format!("row {row}, column {}: {e}", k + 1))?;
                &self.scratch
            } else {
                field
            };
            let text = std::str::from_utf8(bytes).map_err(|_| format!("row {row}, column {}: the text is not valid UTF-8", k + 1))?;
            self.builders[k].append_value(text);
        }
        self.rows += 1;
        Ok(())
    }

    fn take(&mut self, schema: &SchemaRef) -> Result<RecordBatch, arrow::error::ArrowError> {
        let arrays: Vec<ArrayRef> = self.builders.iter_mut().map(|b| Arc::new(b.finish()) as ArrayRef).collect();
        let options = RecordBatchOptions::new().with_row_count(Some(self.rows));
        let batch = RecordBatch::try_new_with_options(schema.clone(), arrays, &options)?;
        self.done += self.rows as u64;
        self.rows = 0;
        Ok(batch)
    }
}

/// Decodes COPY's backslash escapes: `\b \f \n \r \t \v \\`, octal `\ooo`, hex `\xhh`; any other
/// escaped character stands for itself.
fn unescape(field: &[u8], out: &mut Vec<u8>) -> Result<(), String> {
    let mut i = 0;
    while i < field.len() {
        let b = field[i];
        if b != b'\\' {
            out.push(b);
            i += 1;
            continue;
        }
        let Some(&e) = field.get(i + 1) else { return Err("a backslash ends the field".into()) };
        i += 2;
        match e {
            b'b' => out.push(8),
            b'f' => out.push(12),
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b't' => out.push(b'\t'),
            b'v' => out.push(11),
            b'0'..=b'7' => {
                let mut value = u32::from(e - b'0');
                let mut digits = 1;
                while digits < 3 && field.get(i).is_some_and(|d| (b'0'..=b'7').contains(d)) {
                    value = value * 8 + u32::from(field[i] - b'0');
                    i += 1;
                    digits += 1;
                }
                out.push((value & 0xff) as u8);
            }
            b'x' if field.get(i).is_some_and(u8::is_ascii_hexdigit) => {
                let hex = |d: u8| (d as char).to_digit(16).unwrap_or(0);
                let mut value = hex(field[i]);
                i += 1;
                if field.get(i).is_some_and(u8::is_ascii_hexdigit) {
                    value = value * 16 + hex(field[i]);
                    i += 1;
                }
                out.push((value & 0xff) as u8);
            }
            other => out.push(other),
        }
    }
    Ok(())
}

/// The SQL type of an output column.
fn sql_type(ty: &DataType) -> Result<String, RuntimeError> {
    Ok(match ty {
        DataType::Int64 => "bigint".into(),
        DataType::Boolean => "boolean".into(),
        DataType::Date32 => "date".into(),
        DataType::Decimal128(p, s) => format!("numeric({p}, {s})"),
        DataType::Utf8 => "text".into(),
        other => return Err(RuntimeError::invalid(format!("internal error: no PostgreSQL type for output type {other}"))),
    })
}

/// The statements that create the new table under `temp`.
fn create_sql(table: &TableName, temp: &str, schema: &Schema) -> Result<String, RuntimeError> {
    let mut columns = Vec::with_capacity(schema.fields().len());
    for f in schema.fields() {
        let null = if f.is_nullable() { "" } else { " NOT NULL" };
        columns.push(format!("{} {}{null}", quote_ident(f.name()), sql_type(f.data_type())?));
    }
    Ok(format!("CREATE TABLE {} ({})", table.sibling_sql(temp), columns.join(", ")))
}

/// The statements that put the new table in the place of the earlier one.
fn swap_sql(table: &TableName, temp: &str) -> String {
    format!("DROP TABLE IF EXISTS {}; ALTER TABLE {} RENAME TO {}", table.sql(), table.sibling_sql(temp), quote_ident(&table.name))
}

fn temp_name() -> String {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("pol_new_{}_{n}", std::process::id())
}

/// How an output table is named in messages, the summary and the manifest.
pub(crate) fn table_display(url: &str, table: &str) -> String {
    format!("{} (table {table})", redact(url))
}

/// Checks before any record is read that the output table can be replaced: connects, then
/// creates the new table, drops the earlier one and renames, and rolls all of it back.
pub(crate) fn probe_table(url: &str, table: &TableName, schema: &Schema) -> Result<(), RuntimeError> {
    let shown = table_display(url, table.text());
    let mut client = connect(url)?;
    let temp = temp_name();
    let sql = format!("BEGIN; {}; {}", create_sql(table, &temp, schema)?, swap_sql(table, &temp));
    let result = client.batch_execute(&sql).map_err(|e| pg_error(&format!("cannot replace `{shown}`"), &e));
    let _ = client.batch_execute("ROLLBACK");
    drop(client.close());
    result
}

/// What the table writer's thread reports.
enum Report {
    Ready,
    Prepared { rows: u64, written: Written },
}

/// An output table being written inside one open transaction; it replaces the earlier table
/// only through [`FinishedTable::commit`].
pub(crate) struct TableWriter {
    name: String,
    table: String,
    data: Option<SyncSender<Option<RecordBatch>>>,
    reports: Receiver<Result<Report, RuntimeError>>,
    decision: Option<mpsc::Sender<bool>>,
    thread: Option<JoinHandle<Result<(), RuntimeError>>>,
    rows: u64,
}

/// A table whose rows are all sent, waiting for the run's decision; dropping it rolls back.
pub(crate) struct FinishedTable {
    pub name: String,
    /// The table's name as given.
    pub table: String,
    pub rows: u64,
    pub written: Written,
    decision: Option<mpsc::Sender<bool>>,
    thread: Option<JoinHandle<Result<(), RuntimeError>>>,
}

impl TableWriter {
    /// Connects, opens the transaction, creates the new table under a temporary name and starts
    /// the COPY.
    pub fn create(url: &str, table: &TableName, schema: SchemaRef) -> Result<Self, RuntimeError> {
        let name = table_display(url, table.text());
        let client = connect(url)?;
        let (data_tx, data_rx) = mpsc::sync_channel::<Option<RecordBatch>>(2);
        let (report_tx, report_rx) = mpsc::sync_channel(2);
        let (decision_tx, decision_rx) = mpsc::channel::<bool>();
        let text = table.text().to_string();
        let table = table.clone();
        let thread_name = name.clone();
        let thread = std::thread::Builder::new()
            .name("pol-postgres-write".into())
            .spawn(move || table_worker(client, &table, &schema, &thread_name, &data_rx, &report_tx, &decision_rx))
            .map_err(|e| RuntimeError::invalid(format!("cannot start the PostgreSQL writer thread: {e}")))?;
        let mut writer = TableWriter {
            name,
            table: text,
            data: Some(data_tx),
            reports: report_rx,
            decision: Some(decision_tx),
            thread: Some(thread),
            rows: 0,
        };
        match writer.reports.recv() {
            Ok(Ok(Report::Ready)) => Ok(writer),
            Ok(Ok(Report::Prepared { .. })) => Err(RuntimeError::invalid("internal error: the PostgreSQL writer is out of step")),
            Ok(Err(e)) => Err(e),
            Err(_) => Err(writer.stopped()),
        }
    }

    /// The worker's own error once it has stopped.
    fn stopped(&mut self) -> RuntimeError {
        self.data = None;
        self.decision = None;
        match self.thread.take().map(JoinHandle::join) {
            Some(Ok(Err(e))) => e,
            Some(Err(_)) => RuntimeError::invalid(format!("internal error: the writer of `{}` panicked", self.name)),
            _ => RuntimeError::invalid(format!("internal error: the writer of `{}` stopped without a word", self.name)),
        }
    }

    /// Sends a batch of the output schema.
    pub fn write(&mut self, batch: &RecordBatch) -> Result<(), RuntimeError> {
        if batch.num_rows() == 0 {
            return Ok(());
        }
        let sent = self.data.as_ref().is_some_and(|d| d.send(Some(batch.clone())).is_ok());
        if !sent {
            return Err(self.stopped());
        }
        self.rows += batch.num_rows() as u64;
        Ok(())
    }

    /// Ends the COPY; the transaction stays open until the run decides.
    pub fn finish(mut self) -> Result<FinishedTable, RuntimeError> {
        let sent = self.data.as_ref().is_some_and(|d| d.send(None).is_ok());
        if !sent {
            return Err(self.stopped());
        }
        match self.reports.recv() {
            Ok(Ok(Report::Prepared { rows, written })) => {
                if rows != self.rows {
                    return Err(RuntimeError::invalid(format!("`{}`: {rows} rows copied, {} sent", self.name, self.rows)));
                }
                Ok(FinishedTable {
                    name: self.name.clone(),
                    table: self.table.clone(),
                    rows,
                    written,
                    decision: self.decision.take(),
                    thread: self.thread.take(),
                })
            }
            Ok(Ok(Report::Ready)) => Err(RuntimeError::invalid("internal error: the PostgreSQL writer is out of step")),
            Ok(Err(e)) => Err(e),
            Err(_) => Err(self.stopped()),
        }
    }
}

impl Drop for TableWriter {
    /// An unfinished table is abandoned: the COPY is aborted and the transaction rolled back
    /// before this returns.
    fn drop(&mut self) {
        self.data = None;
        self.decision = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl FinishedTable {
    /// Replaces the earlier table with this one: the transaction commits.
    pub fn commit(mut self) -> Result<(), RuntimeError> {
        let sent = self.decision.take().is_some_and(|d| d.send(true).is_ok());
        let result = self.thread.take().map(JoinHandle::join);
        match result {
            Some(Ok(r)) if sent => r,
            Some(Ok(Err(e))) => Err(e),
            Some(Err(_)) => Err(RuntimeError::invalid(format!("internal error: the writer of `{}` panicked", self.name))),
            _ => Err(RuntimeError::invalid(format!("internal error: the writer of `{}` stopped before committing", self.name))),
        }
    }
}

impl Drop for FinishedTable {
    /// Not committed: rolled back before this returns.
    fn drop(&mut self) {
        if let Some(decision) = self.decision.take() {
            let _ = decision.send(false);
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The writer thread: one transaction from the new table's creation to the commit.
fn table_worker(
    mut client: Client,
    table: &TableName,
    schema: &SchemaRef,
    name: &str,
    data: &Receiver<Option<RecordBatch>>,
    reports: &SyncSender<Result<Report, RuntimeError>>,
    decision: &Receiver<bool>,
) -> Result<(), RuntimeError> {
    let what = format!("writing `{name}`");
    let result = (|| -> Result<(), RuntimeError> {
        let temp = temp_name();
        let mut tx = client.transaction().map_err(|e| pg_error(&what, &e))?;
        tx.batch_execute(&create_sql(table, &temp, schema)?).map_err(|e| pg_error(&what, &e))?;
        let columns: Vec<String> = schema.fields().iter().map(|f| quote_ident(f.name())).collect();
        let copy = format!("COPY {} ({}) FROM STDIN", table.sibling_sql(&temp), columns.join(", "));
        let mut writer = tx.copy_in(&copy).map_err(|e| pg_error(&what, &e))?;
        if reports.send(Ok(Report::Ready)).is_err() {
            return Ok(());
        }
        let mut hash = Sha256::new();
        let mut bytes = 0u64;
        let mut text = Vec::with_capacity(1 << 20);
        loop {
            match data.recv() {
                Ok(Some(batch)) => {
                    text.clear();
                    encode_batch(&batch, &mut text)?;
                    hash.update(&text);
                    bytes += text.len() as u64;
                    writer.write_all(&text).map_err(|e| copy_error(&what, &e))?;
                }
                Ok(None) => break,
                // Abandoned: dropping the writer aborts the COPY, dropping the transaction rolls
                // it back.
                Err(_) => return Ok(()),
            }
        }
        let rows = writer.finish().map_err(|e| pg_error(&what, &e))?;
        tx.batch_execute(&swap_sql(table, &temp)).map_err(|e| pg_error(&what, &e))?;
        let written = Written { bytes, sha256: hash.finalize().into() };
        if reports.send(Ok(Report::Prepared { rows, written })).is_err() {
            return Ok(());
        }
        match decision.recv() {
            Ok(true) => tx.commit().map_err(|e| pg_error(&format!("committing `{name}`"), &e)),
            _ => Ok(()),
        }
    })();
    if let Err(e) = &result {
        let _ = reports.send(Err(RuntimeError::invalid(e.to_string())));
    }
    drop(client.close());
    result
}

/// The COPY text of a batch of the output schema (ids then outputs, never null).
fn encode_batch(batch: &RecordBatch, out: &mut Vec<u8>) -> Result<(), RuntimeError> {
    let columns = batch.columns();
    for row in 0..batch.num_rows() {
        for (k, column) in columns.iter().enumerate() {
            if k > 0 {
                out.push(b'\t');
            }
            encode_cell(column.as_ref(), row, out)?;
        }
        out.push(b'\n');
    }
    Ok(())
}

fn encode_cell(column: &dyn Array, row: usize, out: &mut Vec<u8>) -> Result<(), RuntimeError> {
    if column.is_null(row) {
        out.extend_from_slice(b"\\N");
        return Ok(());
    }
    let io = |e: std::io::Error| RuntimeError::invalid(format!("internal error: {e}"));
    match column.data_type() {
        DataType::Int64 => write!(out, "{}", column.as_primitive::<Int64Type>().value(row)).map_err(io)?,
        DataType::Boolean => out.push(if column.as_boolean().value(row) { b't' } else { b'f' }),
        DataType::Date32 => {
            let (y, m, d) = crate::value::civil_from_days(i64::from(column.as_primitive::<Date32Type>().value(row)));
            if y >= 1 {
                write!(out, "{y:04}-{m:02}-{d:02}").map_err(io)?;
            } else {
                write!(out, "{:04}-{m:02}-{d:02} BC", 1 - y).map_err(io)?;
            }
        }
        DataType::Decimal128(_, scale) => {
            let value = column.as_primitive::<Decimal128Type>().value(row);
            let scale = u32::try_from(*scale).unwrap_or(0);
            let unit = 10u128.pow(scale.min(38));
            let magnitude = value.unsigned_abs();
            let sign = if value < 0 { "-" } else { "" };
            write!(out, "{sign}{}", magnitude / unit).map_err(io)?;
            if scale > 0 {
                write!(out, ".{:0width$}", magnitude % unit, width = scale as usize).map_err(io)?;
            }
        }
        DataType::Utf8 => {
            for &b in column.as_string::<i32>().value(row).as_bytes() {
                match b {
                    b'\\' => out.extend_from_slice(b"\\\\"),
                    b'\t' => out.extend_from_slice(b"\\t"),
                    b'\n' => out.extend_from_slice(b"\\n"),
                    b'\r' => out.extend_from_slice(b"\\r"),
                    8 => out.extend_from_slice(b"\\b"),
                    12 => out.extend_from_slice(b"\\f"),
                    11 => out.extend_from_slice(b"\\v"),
                    _ => out.push(b),
                }
            }
        }
        other => return Err(RuntimeError::invalid(format!("internal error: cannot write output type {other} to PostgreSQL"))),
    }
    Ok(())
}

/// `pol verify` of a table entry: reconnects and compares the table's row count.
pub(crate) fn verify_table(url: &str, table: &str, rows: Option<u64>) -> Vec<String> {
    let shown = table_display(url, table);
    let count = (|| -> Result<i64, RuntimeError> {
        let name = TableName::parse(table)?;
        let mut client = connect(url)?;
        let row =
            client.query_one(&format!("SELECT count(*) FROM {}", name.sql()), &[]).map_err(|e| pg_error(&format!("`{shown}`"), &e))?;
        let count = row.try_get::<_, i64>(0).map_err(|e| pg_error(&format!("`{shown}`"), &e))?;
        drop(client.close());
        Ok(count)
    })();
    match (count, rows) {
        (Err(e), _) => vec![format!("output {shown}: {e}")],
        (Ok(found), Some(rows)) if u64::try_from(found).ok() != Some(rows) => {
            vec![format!("output {shown}: {found} rows, the manifest says {rows}")]
        }
        _ => Vec::new(),
    }
}

/// The columns of a PostgreSQL source and their types, for `pol bind init`.
pub(crate) fn source_columns(url: &str, options: &SourceOptions) -> Result<Vec<crate::inspect::SourceColumn>, RuntimeError> {
    let relation = Relation::of(options)?;
    let shown = source_name(url, &relation).display().to_string();
    let mut client = connect(url)?;
    let statement =
        client.prepare(&format!("SELECT * FROM ({}) AS src", relation.sql())).map_err(|e| pg_error(&format!("`{shown}`"), &e))?;
    Ok(statement
        .columns()
        .iter()
        .map(|c| crate::inspect::SourceColumn { name: c.name().to_string(), ty: base_type(c.type_()).name().to_string() })
        .collect())
}

/// Up to `limit` distinct values of `column` (as text) among the first `rows` rows, with their
/// counts, in order of first appearance; an SQL NULL is the empty text.
pub(crate) fn distinct(
    url: &str,
    options: &SourceOptions,
    column: &str,
    rows: usize,
    limit: usize,
) -> Result<Vec<(String, u64)>, RuntimeError> {
    let relation = Relation::of(options)?;
    let shown = source_name(url, &relation).display().to_string();
    let mut client = connect(url)?;
    let sql = format!(
        "SELECT v, count(*) FROM (SELECT row_number() OVER () AS n, coalesce(src.{c}::text, '') AS v FROM ({r}) AS src LIMIT {rows}) s \
         GROUP BY v ORDER BY min(n) LIMIT {limit}",
        c = quote_ident(column),
        r = relation.sql(),
    );
    let found = client.query(&sql, &[]).map_err(|e| pg_error(&format!("`{shown}`"), &e))?;
    found
        .iter()
        .map(|row| {
            let value: String = row.try_get(0).map_err(|e| pg_error(&format!("`{shown}`"), &e))?;
            let count: i64 = row.try_get(1).map_err(|e| pg_error(&format!("`{shown}`"), &e))?;
            Ok((value, u64::try_from(count).unwrap_or(0)))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_never_shown() {
        assert_eq!(redact("postgresql://pol:s3cret@db.local:5432/pensions"), "postgresql://pol@db.local:5432/pensions");
        assert_eq!(redact("postgres://db/x?user=a&password=b&sslmode=disable"), "postgres://db/x?user=a&sslmode=disable");
        assert_eq!(redact("postgresql://a:b@h1,h2/db?password=c"), "postgresql://a@h1,h2/db");
        assert_eq!(redact("postgresql:///db"), "postgresql:///db");
    }

    #[test]
    fn table_names_read_as_sql_writes_them() {
        let t = TableName::parse("Pension.Retirees").expect("name");
        assert_eq!((t.schema.as_deref(), t.name.as_str()), (Some("pension"), "retirees"));
        assert_eq!(t.sql(), "\"pension\".\"retirees\"");
        let t = TableName::parse("\"退休 人员\"\"表\"").expect("name");
        assert_eq!((t.schema, t.name.as_str()), (None, "退休 人员\"表"));
        assert_eq!(TableName::parse("养老金").expect("name").sql(), "\"养老金\"");
        for bad in ["", "a..b", "\"a", "a.b.c", "\"a\"b", "a\"b"] {
            assert!(TableName::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn copy_text_is_unescaped_exactly() {
        let mut out = Vec::new();
        unescape(b"a\\tb\\\\c\\nd\\r\\b\\f\\v\\101\\x42\\.", &mut out).expect("unescape");
        assert_eq!(out, b"a\tb\\c\nd\r\x08\x0c\x0bAB.");
        assert!(unescape(b"a\\", &mut Vec::new()).is_err());
        let schema: SchemaRef = Arc::new(Schema::new(vec![Field::new("a", DataType::Utf8, true), Field::new("b", DataType::Utf8, true)]));
        let mut p = CopyParser::new(2, 10);
        p.push_line(b"1\t\\N").expect("row");
        p.push_line(b"\\\\N\t").expect("row");
        assert!(p.push_line(b"only one").is_err());
        assert!(p.push_line(b"\xff\tx").is_err());
        let batch = p.take(&schema).expect("batch");
        assert_eq!(batch.num_rows(), 2);
        let b = batch.column(1).as_string::<i32>();
        assert!(b.is_null(0) && !b.is_null(1) && b.value(1).is_empty());
        assert_eq!(batch.column(0).as_string::<i32>().value(1), "\\N");
    }

    #[test]
    fn output_cells_print_as_postgresql_reads_them() {
        use arrow::array::{BooleanArray, Date32Array, Decimal128Array, Int64Array, StringArray};
        let columns: Vec<ArrayRef> = vec![
            Arc::new(Int64Array::from(vec![-7, 12])),
            Arc::new(BooleanArray::from(vec![true, false])),
            Arc::new(Date32Array::from(vec![19_753, -719_163])),
            Arc::new(Decimal128Array::from(vec![-5, 123_456]).with_precision_and_scale(18, 2).expect("decimal")),
            Arc::new(StringArray::from(vec!["a\tb\\c", "男"])),
        ];
        let batch = RecordBatch::try_from_iter(["a", "b", "c", "d", "e"].into_iter().zip(columns)).expect("batch");
        let mut out = Vec::new();
        encode_batch(&batch, &mut out).expect("encode");
        assert_eq!(String::from_utf8(out).expect("utf-8"), "-7\tt\t2024-01-31\t-0.05\ta\\tb\\\\c\n12\tf\t0001-12-31 BC\t1234.56\t男\n");
    }
}
