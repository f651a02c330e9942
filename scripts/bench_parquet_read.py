#!/usr/bin/env python3
"""pyarrow's time to read a Parquet file into Python rows (best of 5, file in memory, 1 thread), the
reference for ColumnarBenchmarkTests, which times PrefLab's reader on the same file:
    .venv-engines/bin/python scripts/bench_parquet_read.py [FILE]
    PREFLAB_COLUMNAR_BENCH=FILE swift test -c release -Xswiftc -enable-testing --filter ColumnarBenchmarkTests
FILE defaults to examples/data/hh-rlhf-helpful-base-test.parquet. --make-alpaca FILE first writes the
AlpacaEval GPT-4 annotations (../shared/data, 42,665 rows, 11 columns) as one Parquet file (ZSTD), a
larger input for steadier numbers. Prints rows/s for read_table alone (columnar) and read_table +
to_pylist (rows, as PrefLab's reader gives them)."""
import glob
import gzip
import io
import json
import os
import sys
import time

import pyarrow as pa
import pyarrow.parquet as pq

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def make_alpaca(path):
    rows = []
    for f in sorted(glob.glob(os.path.join(ROOT, "../shared/data/alpaca-eval-gpt4/*.json.gz"))):
        with gzip.open(f, "rt", encoding="utf-8") as h:
            rows.extend(json.load(h))
    pq.write_table(pa.Table.from_pylist(rows), path, compression="zstd")
    print(f"{path}: {len(rows)} rows, {os.path.getsize(path)} bytes")


def main():
    args = sys.argv[1:]
    if args[:1] == ["--make-alpaca"]:
        make_alpaca(args[1])
        args = args[1:]
    path = args[0] if args else os.path.join(ROOT, "examples/data/hh-rlhf-helpful-base-test.parquet")
    pa.set_cpu_count(1)
    data = open(path, "rb").read()
    for label, rows_too in [("read_table", False), ("read_table + to_pylist", True)]:
        best = float("inf")
        for _ in range(5):
            t0 = time.perf_counter()
            table = pq.read_table(io.BytesIO(data), use_threads=False)
            n = len(table.to_pylist()) if rows_too else table.num_rows
            best = min(best, time.perf_counter() - t0)
        print(f"pyarrow {pa.__version__} {label}: {n} rows in {best:.4f} s = {n / best:.0f} rows/s (1 thread, best of 5)")


if __name__ == "__main__":
    main()
