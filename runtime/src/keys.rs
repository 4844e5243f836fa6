//! Key uniqueness: a record's `key` fields identify one person, so two rows with the same key
//! would pay one person twice. Before a run evaluates anything, one pass over the key columns
//! finds every key held by more than one row; all those rows go to the ledger (`V0005`), the
//! first occurrence as well as the later ones, since which of them is right cannot be known.
//!
//! Memory stays bounded whatever the row count: keys are collected in chunks of
//! [`CHUNK_ENTRIES`]; a full chunk is sorted and spilled to an anonymous temporary file (gone
//! when closed, even after SIGKILL), and the sorted runs are merged at the end. An export in
//! key order (the usual case) is recognized as it streams, needs no sort and no merge.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BinaryHeap};
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::Path;

use pol_kernel::ColumnSpec;

use crate::binding::Binding;
use crate::error::RuntimeError;
use crate::read::open_input;
use crate::validate::convert_batch;
use crate::value::format_value;

/// Code of a row whose key is also another row's.
pub const CODE_DUPLICATE_KEY: &str = "V0005";

/// Key fields a record may have.
pub const MAX_KEY_FIELDS: usize = 4;

/// Entries held in memory before a sorted run is spilled (40 bytes each: 160 MB).
const CHUNK_ENTRIES: usize = 4 << 20;

/// Rows sharing keys that are reported before the run stops: a key column that is not a key
/// at all (a constant, say) is a binding mistake, not millions of ledger rows.
const MAX_DUPLICATE_ROWS: usize = 10_000_000;

/// The messages of the rows whose key is not unique, by 1-based row number.
pub(crate) type DuplicateRows = BTreeMap<u64, String>;

type Key = [i64; MAX_KEY_FIELDS];

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Entry {
    key: Key,
    row: u64,
}

const ENTRY_BYTES: usize = 8 * (MAX_KEY_FIELDS + 1);

impl Entry {
    fn write(&self, out: &mut impl Write) -> std::io::Result<()> {
        for k in self.key {
            out.write_all(&k.to_le_bytes())?;
        }
        out.write_all(&self.row.to_le_bytes())
    }

    fn read(input: &mut impl Read) -> std::io::Result<Option<Entry>> {
        let mut buf = [0u8; ENTRY_BYTES];
        match input.read_exact(&mut buf) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
            Err(e) => return Err(e),
        }
        let word = |i: usize| {
            let mut w = [0u8; 8];
            w.copy_from_slice(&buf[8 * i..8 * i + 8]);
            w
        };
        let mut key = [0i64; MAX_KEY_FIELDS];
        for (i, k) in key.iter_mut().enumerate() {
            *k = i64::from_le_bytes(word(i));
        }
        Ok(Some(Entry { key, row: u64::from_le_bytes(word(MAX_KEY_FIELDS)) }))
    }
}

/// Collects keys in input order and finds the duplicates.
struct Collector<'a> {
    spill_dir: &'a Path,
    chunk: Vec<Entry>,
    runs: Vec<File>,
    /// Every key so far was greater than the one before.
    increasing: bool,
    last: Option<Key>,
}

impl<'a> Collector<'a> {
    fn push(&mut self, entry: Entry) -> Result<(), RuntimeError> {
        if self.increasing {
            self.increasing = self.last.is_none_or(|last| entry.key > last);
            self.last = Some(entry.key);
        }
        self.chunk.push(entry);
        if self.chunk.len() >= CHUNK_ENTRIES {
            self.spill()?;
        }
        Ok(())
    }

    fn spill(&mut self) -> Result<(), RuntimeError> {
        if !self.increasing {
            self.chunk.sort_unstable();
        }
        let io = |e| RuntimeError::io(self.spill_dir, "write the key check's temporary file in", e);
        let file = tempfile::tempfile_in(self.spill_dir).map_err(io)?;
        let mut out = BufWriter::with_capacity(1 << 20, file);
        for entry in &self.chunk {
            entry.write(&mut out).map_err(io)?;
        }
        let mut file = out.into_inner().map_err(|e| io(e.into_error()))?;
        file.seek(SeekFrom::Start(0)).map_err(io)?;
        self.runs.push(file);
        self.chunk.clear();
        Ok(())
    }

    /// Every group of entries with one key, in key order, handed to `group`.
    fn groups(mut self, mut group: impl FnMut(&[Entry]) -> Result<(), RuntimeError>) -> Result<(), RuntimeError> {
        if self.increasing {
            // Strictly increasing keys are all distinct.
            return Ok(());
        }
        self.chunk.sort_unstable();
        let io = |e| RuntimeError::io(self.spill_dir, "read the key check's temporary file in", e);
        let mut readers: Vec<BufReader<File>> = self.runs.into_iter().map(|f| BufReader::with_capacity(1 << 16, f)).collect();
        let mut memory = self.chunk.into_iter();
        // A min-heap of the next entry of each run; the in-memory chunk is source `readers.len()`.
        let mut heap = BinaryHeap::new();
        for (i, r) in readers.iter_mut().enumerate() {
            if let Some(e) = Entry::read(r).map_err(io)? {
                heap.push(std::cmp::Reverse((e, i)));
            }
        }
        let in_memory = readers.len();
        if let Some(e) = memory.next() {
            heap.push(std::cmp::Reverse((e, in_memory)));
        }
        let mut current: Vec<Entry> = Vec::new();
        while let Some(std::cmp::Reverse((entry, source))) = heap.pop() {
            let next = if source == in_memory { memory.next() } else { Entry::read(&mut readers[source]).map_err(io)? };
            if let Some(e) = next {
                heap.push(std::cmp::Reverse((e, source)));
            }
            if current.first().is_some_and(|c| c.key.cmp(&entry.key) != Ordering::Equal) {
                if current.len() > 1 {
                    group(&current)?;
                }
                current.clear();
            }
            current.push(entry);
        }
        if current.len() > 1 {
            group(&current)?;
        }
        Ok(())
    }
}

/// Reads the key columns (`is_id` inputs) of `input` and returns the rows whose key another
/// row also has, each with its ledger message. Rows whose key cell cannot be read are left to
/// the run, which sends them to the ledger with their own code.
pub(crate) fn duplicate_keys(
    input: &Path,
    inputs: &[ColumnSpec],
    binding: Option<&Binding>,
    batch_rows: usize,
    spill_dir: &Path,
    cancelled: &dyn Fn() -> bool,
) -> Result<DuplicateRows, RuntimeError> {
    let keys: Vec<ColumnSpec> = inputs.iter().filter(|s| s.is_id).cloned().collect();
    if keys.is_empty() {
        return Ok(DuplicateRows::new());
    }
    if keys.len() > MAX_KEY_FIELDS {
        return Err(RuntimeError::invalid(format!("the record has {} key fields; at most {MAX_KEY_FIELDS} are supported", keys.len())));
    }
    let key_binding = key_binding(binding, &keys);
    let mut reader = open_input(input, &keys, batch_rows, key_binding.as_ref())?;
    let mut collector = Collector { spill_dir, chunk: Vec::new(), runs: Vec::new(), increasing: true, last: None };
    let mut first_row = 1u64;
    while let Some(batch) = reader.next_batch()? {
        if cancelled() {
            return Err(RuntimeError::Interrupted);
        }
        let converted = convert_batch(&batch, &keys, &reader.bound);
        for i in 0..batch.num_rows() {
            if converted.faults.contains_key(&i) {
                continue;
            }
            let mut key = [0i64; MAX_KEY_FIELDS];
            for (k, column) in key.iter_mut().zip(&converted.columns) {
                *k = column[i];
            }
            collector.push(Entry { key, row: first_row + i as u64 })?;
        }
        first_row += batch.num_rows() as u64;
    }
    let mut duplicates = DuplicateRows::new();
    collector.groups(|group| {
        let rows: Vec<u64> = group.iter().map(|e| e.row).collect();
        add_group(&keys, &group[0].key, &rows, &mut duplicates, &format!("`{}`", input.display()))
    })?;
    Ok(duplicates)
}

/// The ledger message of `row`, one of the `rows` (in increasing order) that hold `key`.
fn duplicate_message(keys: &[ColumnSpec], key: &[i64], rows: &[u64], row: u64) -> String {
    let shown: Vec<String> = keys.iter().zip(key).map(|(spec, v)| format!("`{}` = {}", spec.name, format_value(&spec.ty, *v))).collect();
    let others: Vec<String> = rows.iter().filter(|r| **r != row).take(5).map(u64::to_string).collect();
    let all_others = rows.iter().filter(|r| **r != row).count();
    let more = if all_others > others.len() { format!(" and {} more", all_others - others.len()) } else { String::new() };
    format!("key {} is also on row {}{more}: a key identifies one record", shown.join(", "), others.join(", "))
}

/// The error for more repeated rows than [`MAX_DUPLICATE_ROWS`]; `source` names the input.
fn too_many(keys: &[ColumnSpec], source: &str) -> RuntimeError {
    RuntimeError::invalid(format!(
        "more than {MAX_DUPLICATE_ROWS} rows of {source} share their key with another row: is {} really the key?",
        keys.iter().map(|k| format!("`{}`", k.name)).collect::<Vec<_>>().join(", ")
    ))
}

/// Records every row of one group of rows sharing `key` (rows in increasing order) with its
/// ledger message; `source` names the input in the error for a key that is not one.
fn add_group(keys: &[ColumnSpec], key: &[i64], rows: &[u64], duplicates: &mut DuplicateRows, source: &str) -> Result<(), RuntimeError> {
    for row in rows {
        duplicates.insert(*row, duplicate_message(keys, key, rows, *row));
    }
    if duplicates.len() > MAX_DUPLICATE_ROWS {
        return Err(too_many(keys, source));
    }
    Ok(())
}

/// A key held by several rows of a population split into parts, as an engine that grouped the
/// parts' keys ([`batch_keys`]) found it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyGroup {
    /// The key's cells, one per key field in signature order.
    pub key: Vec<i64>,
    /// The 1-based numbers of the rows holding it.
    pub rows: Vec<u64>,
}

/// The keys that several rows of a population hold, as an engine found them by grouping the
/// parts' keys: a row of a part whose key is one of them goes to the ledger (`V0005`), as in a
/// run. Rows are recognised by their key, not their number, so a part whose rows an engine
/// numbered differently in another pass is still judged right; the messages name the rows of
/// the groups, which are a run's when the engine's numbering is the file's.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RepeatedKeys {
    keys: Vec<ColumnSpec>,
    groups: std::collections::HashMap<Key, Vec<u64>>,
    rows: usize,
}

impl RepeatedKeys {
    /// The repeated keys among `groups` (groups of one row are dropped, two groups of one key
    /// merged) for a record of `inputs`.
    pub fn new(inputs: &[ColumnSpec], groups: &[KeyGroup]) -> Result<RepeatedKeys, RuntimeError> {
        let keys: Vec<ColumnSpec> = inputs.iter().filter(|s| s.is_id).cloned().collect();
        let mut merged: std::collections::HashMap<Key, Vec<u64>> = std::collections::HashMap::new();
        for group in groups {
            if group.key.len() != keys.len() {
                return Err(RuntimeError::invalid(format!(
                    "a key group has {} cells; the record has {} key fields",
                    group.key.len(),
                    keys.len()
                )));
            }
            let mut key = [0i64; MAX_KEY_FIELDS];
            key[..keys.len()].copy_from_slice(&group.key);
            merged.entry(key).or_default().extend(&group.rows);
        }
        let mut rows = 0;
        merged.retain(|_, found| {
            found.sort_unstable();
            found.dedup();
            rows += if found.len() > 1 { found.len() } else { 0 };
            found.len() > 1
        });
        if rows > MAX_DUPLICATE_ROWS {
            return Err(too_many(&keys, "the population"));
        }
        Ok(RepeatedKeys { keys, groups: merged, rows })
    }

    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }

    /// How many rows hold a repeated key.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// The groups, in key order.
    pub fn groups(&self) -> Vec<KeyGroup> {
        let mut groups: Vec<KeyGroup> =
            self.groups.iter().map(|(key, rows)| KeyGroup { key: key[..self.keys.len()].to_vec(), rows: rows.clone() }).collect();
        groups.sort_by(|a, b| a.key.cmp(&b.key));
        groups
    }

    /// The ledger message of record `row` when its key cells `key` are repeated.
    pub(crate) fn message(&self, key: &[i64], row: u64) -> Option<String> {
        let mut cells = [0i64; MAX_KEY_FIELDS];
        cells[..key.len()].copy_from_slice(key);
        let rows = self.groups.get(&cells)?;
        Some(duplicate_message(&self.keys, key, rows, row))
    }
}

/// The key cells of a batch's rows, read as a run reads them, for an engine to group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BatchKeys {
    /// One column per key field, in signature order; a row whose key cannot be read holds 0s.
    pub columns: Vec<Vec<i64>>,
    /// Whether each row's key was read (a row whose key cannot be read goes to the ledger with
    /// its own code, and is no one's duplicate).
    pub readable: Vec<bool>,
}

/// Reads the key fields of `batch` through `binding` (see [`duplicate_rows`]).
pub fn batch_keys(
    inputs: &[ColumnSpec],
    batch: &arrow::record_batch::RecordBatch,
    binding: Option<&Binding>,
) -> Result<BatchKeys, RuntimeError> {
    let keys: Vec<ColumnSpec> = inputs.iter().filter(|s| s.is_id).cloned().collect();
    let key_binding = key_binding(binding, &keys);
    let bound = crate::schema::bind_inputs(Path::new("<record batch>"), batch.schema_ref(), &keys, key_binding.as_ref(), false)?;
    let bound = crate::read::bound_in_batch(bound);
    let converted = convert_batch(batch, &keys, &bound);
    let readable = (0..batch.num_rows()).map(|i| !converted.faults.contains_key(&i)).collect();
    Ok(BatchKeys { columns: converted.columns, readable })
}

/// The binding's entries for the key fields only (the run itself checks the rest).
fn key_binding(binding: Option<&Binding>, keys: &[ColumnSpec]) -> Option<Binding> {
    binding.map(|b| {
        let mut b = b.clone();
        b.fields.retain(|name, _| keys.iter().any(|k| &k.name == name));
        b.keep.clear();
        b
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(keys: &[i64]) -> Vec<Entry> {
        keys.iter().enumerate().map(|(i, k)| Entry { key: [*k, 0, 0, 0], row: i as u64 + 1 }).collect()
    }

    fn groups_of(keys: &[i64], spill_every: usize) -> Vec<Vec<u64>> {
        let dir = tempfile::tempdir().expect("dir");
        let mut c = Collector { spill_dir: dir.path(), chunk: Vec::new(), runs: Vec::new(), increasing: true, last: None };
        for (i, e) in entries(keys).into_iter().enumerate() {
            c.push(e).expect("push");
            if (i + 1) % spill_every == 0 {
                c.spill().expect("spill");
            }
        }
        let mut found = Vec::new();
        c.groups(|g| {
            found.push(g.iter().map(|e| e.row).collect());
            Ok(())
        })
        .expect("groups");
        found
    }

    /// Duplicates are found across spilled runs and the in-memory chunk alike, every occurrence
    /// listed, in key order; increasing keys need no sort and have none.
    #[test]
    fn duplicates_are_found_across_spilled_runs() {
        let keys = [5, 3, 9, 3, 1, 5, 7, 3];
        for spill_every in [1, 2, 3, 100] {
            assert_eq!(groups_of(&keys, spill_every), [vec![2, 4, 8], vec![1, 6]], "spilling every {spill_every}");
        }
        assert!(groups_of(&[1, 2, 3, 10, 11], 2).is_empty());
        assert_eq!(groups_of(&[1, 2, 2, 3], 2), [vec![2, 3]]);
    }
}
