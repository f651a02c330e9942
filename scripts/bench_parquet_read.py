#!/usr/bin/env python3
"""pyarrow's time to read the HH-RLHF Parquet export into Python rows (best of 5, file in memory), the
reference for ColumnarBenchmarkTests (PREFLAB_COLUMNAR_BENCH=1):
    .venv-engines/bin/python scripts/bench_parquet_read.py
Prints rows/s for read_table alone (columnar) and read_table + to_pylist (rows, like PrefLab's reader)."""
import io
import os
import time

import pyarrow as pa
import pyarrow.parquet as pq

pa.set_cpu_count(1)
path = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples/data/hh-rlhf-helpful-base-test.parquet")
data = open(path, "rb").read()
for label, rows_too in [("read_table", False), ("read_table + to_pylist", True)]:
    best = float("inf")
    for _ in range(5):
        t0 = time.perf_counter()
        table = pq.read_table(io.BytesIO(data), use_threads=False)
        n = len(table.to_pylist()) if rows_too else table.num_rows
        best = min(best, time.perf_counter() - t0)
    print(f"pyarrow {pa.__version__} {label}: {n} rows in {best:.4f} s = {n / best:.0f} rows/s (1 thread, best of 5)")
