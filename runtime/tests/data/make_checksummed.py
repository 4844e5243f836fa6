"""Writes checksummed.parquet: 200 records of the runtime tests' kernel inputs, with Parquet page
CRC checksums (pyarrow's write_page_checksum), uncompressed, so a flipped bit in a data page
changes a value unless the reader verifies the checksum. arrow-rs cannot write page checksums,
so this fixture is made with pyarrow and committed.

    python3 runtime/tests/data/make_checksummed.py   # pyarrow >= 14
"""
import datetime
import decimal
import pathlib

import pyarrow as pa
import pyarrow.parquet as pq

rows = 200
table = pa.table(
    {
        "person_id": pa.array(range(1, rows + 1), pa.int64()),
        "birth_date": pa.array([datetime.date(1950, 6, 1)] * rows, pa.date32()),
        "contribution": pa.array([360] * rows, pa.int64()),
        "monthly_pension": pa.array([decimal.Decimal(3000 + i) / 1 for i in range(rows)], pa.decimal128(12, 2)),
        "category": pa.array(["Enterprise", "Institution"] * (rows // 2), pa.string()),
        "military_cadre": pa.array([False] * rows, pa.bool_()),
    }
)
out = pathlib.Path(__file__).with_name("checksummed.parquet")
pq.write_table(table, out, compression="none", use_dictionary=False, write_page_checksum=True, write_statistics=False)
print(f"wrote {out} ({out.stat().st_size} bytes)")
