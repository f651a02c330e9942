#!/usr/bin/env python3
"""Golden values for PrefLab's Student-t code (Sources/Pipeline/VerdictStats.swift).

Writes Tests/PipelineTests/Golden/student_t.csv: two-sided tail probabilities, CDF values and
0.975 quantiles of Student's t at integer and non-integer degrees of freedom, and Welch / paired
/ one-sample tests of fixed samples. Computed with mpmath at 50 digits (scipy is not in the
shared virtual environment; mpmath comes with torch's sympy), independently of the Swift code:
the tail probability from mpmath.betainc, the quantile by mpmath.findroot on that tail, the tests
from their textbook formulas.

Run: /work/venv-engines/bin/python scripts/verdicts_golden.py
"""
import os
import mpmath as mp

mp.mp.dps = 50
OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "PipelineTests", "Golden", "student_t.csv")


def two_sided(t, df):
    t, df = mp.mpf(t), mp.mpf(df)
    return mp.betainc(df / 2, mp.mpf(1) / 2, 0, df / (df + t * t), regularized=True)


def cdf(t, df):
    tail = two_sided(t, df) / 2
    return 1 - tail if t >= 0 else tail


def quantile(q, df):
    return mp.findroot(lambda t: cdf(t, df) - mp.mpf(q), mp.mpf(2))


def mean_var(x):
    x = [mp.mpf(v) for v in x]
    m = sum(x) / len(x)
    return m, sum((v - m) ** 2 for v in x) / (len(x) - 1)


def finish(kind, a, b, diff, se, df):
    t = diff / se
    half = quantile("0.975", df) * se
    return [kind, a, b, diff, se, t, df, two_sided(t, df), diff - half, diff + half]


def welch(a, b):
    (ma, va), (mb, vb) = mean_var(a), mean_var(b)
    qa, qb = va / len(a), vb / len(b)
    df = (qa + qb) ** 2 / (qa ** 2 / (len(a) - 1) + qb ** 2 / (len(b) - 1))
    return finish("welch", a, b, ma - mb, mp.sqrt(qa + qb), df)


def paired(a, b):
    md, vd = mean_var([x - y for x, y in zip(a, b)])
    return finish("paired", a, b, md, mp.sqrt(vd / len(a)), mp.mpf(len(a) - 1))


def one_sample(a, fixed):
    m, v = mean_var(a)
    return finish("one-sample", a, [fixed], m - mp.mpf(fixed), mp.sqrt(v / len(a)), mp.mpf(len(a) - 1))


def fmt(v):
    if isinstance(v, list):
        return " ".join(repr(float(x)) for x in v)
    return mp.nstr(v, 17, min_fixed=-30, max_fixed=30) if isinstance(v, mp.mpf) else str(v)


rows = [["# kind", "t_or_q", "df", "value"]]
for df in ["1", "2", "3", "4", "2.5", "3.7", "7.31", "10", "30", "200"]:
    for t in ["0", "0.5", "1", "2.1", "4.3", "-1.7", "12"]:
        rows.append(["two_sided_p", t, df, two_sided(t, df)])
        rows.append(["cdf", t, df, cdf(mp.mpf(t), df)])
    for q in ["0.975", "0.995", "0.9"]:
        rows.append(["quantile", q, df, quantile(q, df)])

tests = [
    welch([0.609, 0.651, 0.640], [0.632, 0.628, 0.645]),
    welch([1.0, 2.0, 3.0, 4.0], [2.5, 3.1, 5.0]),
    welch([0.61, 0.62, 0.60], [0.51, 0.55, 0.50]),
    paired([0.61, 0.65, 0.64], [0.60, 0.63, 0.65]),
    one_sample([0.648, 0.616, 0.605], 0.601),
]
with open(OUT, "w") as f:
    f.write("# Golden values for Sources/Pipeline/VerdictStats.swift, made by scripts/verdicts_golden.py (mpmath, 50 digits).\n")
    for r in rows:
        f.write(",".join(fmt(v) for v in r) + "\n")
    f.write("# test,a,b,difference,se,t,df,p,low95,high95\n")
    for r in tests:
        f.write("test," + ",".join(fmt(v) for v in r) + "\n")
print("wrote", OUT, len(rows) - 1, "distribution values,", len(tests), "tests")
