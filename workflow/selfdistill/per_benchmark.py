"""Per-benchmark results of a pooled evaluation split.

The math world's OOD split is its benchmarks one after another, each problem id prefixed with
its benchmark (`math500/...`). Pooled, MATH500's 500 problems carry 83% of the weight against
AIME24's 30, while the study reports each benchmark: every evaluation's metrics therefore carry
a breakdown per benchmark, the tables give each its own split `<split>/<benchmark>`, and the
pooled split is labelled as pooled. The arithmetic world's ids name no benchmark, so its OOD
split stays one.
"""
from __future__ import annotations

from collections import defaultdict

import pandas as pd

from .metrics import summarize


def benchmark_of(problem_id: str) -> str | None:
    head, sep, _ = str(problem_id).partition("/")
    return head if sep else None


def with_benchmarks(rows: list[dict]) -> dict:
    """summarize(rows), with {"benchmarks": {name: summarize(its rows)}} where the rows come
    from more than one benchmark."""
    groups = defaultdict(list)
    for r in rows:
        groups[benchmark_of(r["problem_id"])].append(r)
    out = summarize(rows)
    if None not in groups and len(groups) > 1:
        out["benchmarks"] = {name: summarize(group) for name, group in groups.items()}
    return out


def split_out(metrics: dict[str, dict]) -> dict[str, dict]:
    """{split: metrics} with `<split>/<benchmark>` added for each benchmark of a pooled split."""
    out = {}
    for split, m in metrics.items():
        out[split] = m
        out.update({f"{split}/{name}": b for name, b in m.get("benchmarks", {}).items()})
    return out


def split_label(split: str, splits) -> str:
    """A figure's name for `split`: a pooled one says so, and how many benchmarks it pools."""
    parts = [s for s in splits if s.startswith(split + "/")]
    return f"{split}, pooled over {len(parts)} benchmarks" if parts else split


def benchmark_changes(df: pd.DataFrame) -> pd.DataFrame:
    """Accuracy of the base model and change at each cell's last checkpoint, per method and
    benchmark split (`<split>/<benchmark>`, pooled split beside them), averaged over coverage
    levels and seeds; empty where no split is broken down."""
    from .grid_summary import final_change

    parts = sorted(s for s in df["split"].unique() if "/" in s)
    if not parts:
        return pd.DataFrame(columns=["method", "split", "base", "change"])
    keep = df[df["split"].isin(parts + sorted({p.split("/")[0] for p in parts}))]
    change = final_change(keep, "accuracy").groupby(["method", "split"], as_index=False)["accuracy"].mean()
    base = keep[keep["step"] == 0].groupby("split")["accuracy"].mean()
    return change.assign(base=change["split"].map(base)).rename(columns={"accuracy": "change"})[
        ["method", "split", "base", "change"]]


def benchmark_markdown(df: pd.DataFrame) -> str:
    """findings.md's per-benchmark section: empty where no split is broken down."""
    table = benchmark_changes(df)
    if table.empty:
        return ""
    wide = table.pivot(index="method", columns="split", values="change")
    base = table.drop_duplicates("split").set_index("split")["base"]
    head = "| method | " + " | ".join(f"{s} (base {base[s]:.3f})" for s in wide.columns) + " |"
    lines = [head, "|" + " --- |" * (len(wide.columns) + 1)]
    lines += [f"| {m} | " + " | ".join(f"{v:+.3f}" for v in row) + " |" for m, row in wide.iterrows()]
    pooled = ", ".join(sorted({s.split("/")[0] for s in wide.columns if "/" in s}))
    return ("\n## Accuracy per benchmark\n\nFinal checkpoint minus base, mean over coverage levels and seeds. "
            f"The pooled split ({pooled}) weighs each benchmark by its problem count; the study reports "
            "each benchmark.\n\n" + "\n".join(lines) + "\n")
