#!/usr/bin/env python3
"""Writes the Parquet and Arrow IPC fixtures PrefLab's columnar reader is checked against.

Run with the engines' Python (pyarrow 26, datasets 5):
    .venv-engines/bin/python scripts/make_parquet_fixtures.py

Writes Tests/PreferenceTests/Fixtures/data/columnar/:
  rows.jsonl            the expected rows, as pyarrow reads every file back (FLOAT columns widened to double)
  p_<codec>_<dict>_v<page>.parquet
                        pyarrow, every combination of UNCOMPRESSED/SNAPPY/GZIP/ZSTD, dictionary on/off,
                        data page v1 (format 1.0: PLAIN_DICTIONARY) / v2 (format 2.6: RLE_DICTIONARY, RLE
                        booleans); small pages (several per chunk) and row groups of 7 rows
  p_delta_snappy_v2.parquet
                        DELTA_BINARY_PACKED, DELTA_LENGTH_BYTE_ARRAY, DELTA_BYTE_ARRAY, BYTE_STREAM_SPLIT
  datasets.parquet      datasets.Dataset.to_parquet
  save_to_disk/         datasets.Dataset.save_to_disk (data-00000-of-00001.arrow: IPC stream)
  stream_zstd.arrow     pyarrow IPC stream with ZSTD-compressed buffers
  dictionary.arrow      pyarrow IPC stream with a dictionary-encoded column, its dictionary replaced per batch
  file.arrow            pyarrow IPC file format (ARROW1 magic and footer)
and, with --real, examples/data/hh-rlhf-helpful-base-test.parquet: the HH-RLHF helpful-base test split
(../shared/data) as Parquet, every row as in the JSONL original.
Every file is read back with pyarrow and compared with rows.jsonl before the script exits.
"""
import argparse
import gzip
import json
import os
import shutil
import sys

import pyarrow as pa
import pyarrow.ipc as ipc
import pyarrow.parquet as pq

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Tests/PreferenceTests/Fixtures/data/columnar")

MESSAGE = pa.struct([("role", pa.string()), ("content", pa.string())])
SCHEMA = pa.schema([
    ("prompt", pa.string()),
    ("chosen", pa.list_(MESSAGE)),
    ("rejected", pa.list_(MESSAGE)),
    ("score", pa.float64()),
    ("rating", pa.float32()),
    ("votes", pa.int32()),
    ("views", pa.int64()),
    ("flag", pa.bool_()),
    ("tags", pa.list_(pa.string())),
    ("meta", pa.struct([("source", pa.string()), ("turn", pa.int64()), ("scores", pa.list_(pa.float64()))])),
    ("label", pa.int64()),
])


def make_rows(n=40):
    """Deterministic rows covering nulls, empty lists, null list items, unicode and a long text."""
    topics = ["bread", "bikes", "tea", "taxes", "chess", "ünïcödé", "日本語", "emoji 🚀"]
    rows = []
    for i in range(n):
        t = topics[i % len(topics)]
        prompt = f"Question {i}: how do I get better at {t}?"
        if i == 5:
            prompt = "long " + "x" * 3000
        good = f"Answer about {t}, number {i}: keep it simple."
        bad = f"Answer about {t}, number {i}: it depends."
        chosen = [{"role": "user", "content": prompt}, {"role": "assistant", "content": good}]
        rejected = [{"role": "user", "content": prompt}, {"role": "assistant", "content": bad}]
        if i % 11 == 3:
            rejected = None
        if i % 13 == 4:
            chosen = []
        rows.append({
            "prompt": None if i % 17 == 9 else prompt,
            "chosen": chosen,
            "rejected": rejected,
            "score": None if i % 7 == 6 else round(i * 0.37 - 3.5, 6),
            "rating": float(i % 5) + 0.1,
            "votes": None if i % 9 == 8 else (i * 1013) % 7919 - 3000,
            "views": (i * 123456789012) % (1 << 50) - (1 << 49),
            "flag": None if i % 10 == 7 else i % 3 == 0,
            "tags": None if i % 8 == 2 else ([] if i % 8 == 5 else [t, None if i % 4 == 1 else f"tag{i}", "x"]),
            "meta": None if i % 12 == 10 else {"source": f"src{i % 3}", "turn": i, "scores": [i * 0.5, -1.25] if i % 2 else []},
            "label": i % 2,
        })
    return rows


def expected(table):
    """Rows as the reader must give them: pyarrow's Python values (FLOAT read back at float32 precision)."""
    return table.to_pylist()


def check(path, want, reader):
    got = reader(path)
    if got != want:
        sys.exit(f"{path}: pyarrow reads back different rows")


def write_parquet_grid(table, want):
    for codec in ["none", "snappy", "gzip", "zstd"]:
        for dictionary in [True, False]:
            for version in ["1.0", "2.0"]:
                name = f"p_{codec}_{'dict' if dictionary else 'plain'}_v{version[0]}.parquet"
                path = os.path.join(OUT, name)
                # Format 1.0 with v1 pages: dictionaries as PLAIN_DICTIONARY; 2.6 with v2: RLE_DICTIONARY.
                pq.write_table(table, path, compression=codec, use_dictionary=dictionary,
                               data_page_version=version, version="1.0" if version == "1.0" else "2.6", data_page_size=512, row_group_size=7,
                               write_statistics=False)
                check(path, want, lambda p: pq.read_table(p).to_pylist())


def write_delta(table, want):
    """The encodings pyarrow writes only when asked (Spark and parquet-mr v2 writers use them by default)."""
    encodings = {
        "votes": "DELTA_BINARY_PACKED", "views": "DELTA_BINARY_PACKED", "label": "DELTA_BINARY_PACKED",
        "meta.turn": "DELTA_BINARY_PACKED", "prompt": "DELTA_BYTE_ARRAY", "chosen.list.element.role": "DELTA_BYTE_ARRAY",
        "chosen.list.element.content": "DELTA_LENGTH_BYTE_ARRAY", "tags.list.element": "DELTA_LENGTH_BYTE_ARRAY",
        "score": "BYTE_STREAM_SPLIT", "rating": "BYTE_STREAM_SPLIT", "meta.scores.list.element": "BYTE_STREAM_SPLIT",
    }
    path = os.path.join(OUT, "p_delta_snappy_v2.parquet")
    pq.write_table(table, path, use_dictionary=False, column_encoding=encodings, compression="snappy",
                   data_page_version="2.0", data_page_size=512, row_group_size=7, write_statistics=False)
    check(path, want, lambda p: pq.read_table(p).to_pylist())


def write_datasets(rows, want):
    import datasets
    ds = datasets.Dataset.from_list(rows, features=datasets.Features.from_arrow_schema(SCHEMA))
    path = os.path.join(OUT, "datasets.parquet")
    ds.to_parquet(path)
    check(path, want, lambda p: pq.read_table(p).to_pylist())
    folder = os.path.join(OUT, "save_to_disk")
    shutil.rmtree(folder, ignore_errors=True)
    ds.save_to_disk(folder)
    arrow = os.path.join(folder, "data-00000-of-00001.arrow")
    check(arrow, want, lambda p: ipc.open_stream(p).read_all().to_pylist())


def dictionary_encoded(batch):
    """The batch with `prompt` dictionary-encoded."""
    columns = [c.dictionary_encode() if name == "prompt" else c for name, c in zip(batch.schema.names, batch.columns)]
    return pa.RecordBatch.from_arrays(columns, names=batch.schema.names)


def write_ipc(table, want):
    path = os.path.join(OUT, "stream_zstd.arrow")
    with ipc.new_stream(path, table.schema, options=ipc.IpcWriteOptions(compression="zstd")) as w:
        for batch in table.to_batches(max_chunksize=16):
            w.write_batch(batch)
    check(path, want, lambda p: ipc.open_stream(p).read_all().to_pylist())
    # Dictionary-encoded columns (pandas categoricals), encoded per batch: each batch replaces the dictionary.
    path = os.path.join(OUT, "dictionary.arrow")
    batches = [dictionary_encoded(b) for b in table.to_batches(max_chunksize=16)]
    with ipc.new_stream(path, batches[0].schema) as w:
        for batch in batches:
            w.write_batch(batch)
    check(path, want, lambda p: ipc.open_stream(p).read_all().to_pylist())
    path = os.path.join(OUT, "file.arrow")
    with ipc.new_file(path, table.schema) as w:
        w.write_table(table)
    check(path, want, lambda p: ipc.open_file(p).read_all().to_pylist())


def write_real():
    """HH-RLHF helpful-base test as Parquet (ZSTD, dictionary, pyarrow defaults otherwise)."""
    src = os.path.join(ROOT, "../shared/data/hh-rlhf/helpful-base-test.jsonl.gz")
    if not os.path.exists(src):
        src = os.path.join(ROOT, "../../shared/data/hh-rlhf/helpful-base-test.jsonl.gz")
    with gzip.open(src, "rt", encoding="utf-8") as f:
        rows = [json.loads(line) for line in f if line.strip()]
    table = pa.Table.from_pylist(rows, schema=pa.schema([("chosen", pa.string()), ("rejected", pa.string())]))
    os.makedirs(os.path.join(ROOT, "examples/data"), exist_ok=True)
    path = os.path.join(ROOT, "examples/data/hh-rlhf-helpful-base-test.parquet")
    pq.write_table(table, path, compression="zstd", compression_level=19)
    if pq.read_table(path).to_pylist() != rows:
        sys.exit(f"{path}: rows differ from {src}")
    print(f"{path}: {len(rows)} rows, {os.path.getsize(path)} bytes")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--real", action="store_true", help="also write examples/data/hh-rlhf-helpful-base-test.parquet")
    args = ap.parse_args()
    os.makedirs(OUT, exist_ok=True)
    rows = make_rows()
    table = pa.Table.from_pylist(rows, schema=SCHEMA)
    want = expected(table)
    with open(os.path.join(OUT, "rows.jsonl"), "w", encoding="utf-8") as f:
        for r in want:
            f.write(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n")
    write_parquet_grid(table, want)
    write_delta(table, want)
    write_datasets(rows, want)
    write_ipc(table, want)
    if args.real:
        write_real()
    print(f"{OUT}: {len(want)} rows in {len(os.listdir(OUT))} entries")


if __name__ == "__main__":
    main()
