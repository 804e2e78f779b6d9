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
from typing import TYPE_CHECKING

from selfdistill.evaluation.metrics import summarize

if TYPE_CHECKING:  # only the findings use a frame; evaluation jobs need not import pandas
    import pandas as pd


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


def benchmark_markdown(changes: pd.DataFrame) -> str:
    """findings.md's per-benchmark section from grid_summary.change_frame: each cell's final
    accuracy change with its interval, per benchmark split (`<split>/<benchmark>`) beside the
    pooled split; empty where no split is broken down."""
    parts = sorted(s for s in changes["split"].unique() if "/" in s)
    if not parts:
        return ""
    pooled = sorted({p.split("/")[0] for p in parts})
    last = changes[(changes["metric"] == "accuracy") & changes["split"].isin(pooled + parts)
                   & (changes["step"] == changes.groupby(["method", "coverage"])["step"].transform("max"))]
    text = last.assign(cell=[f"{c:+.3f} [{lo:+.3f}, {hi:+.3f}]" for c, lo, hi
                             in zip(last["change"], last["low"], last["high"])])
    wide = text.pivot(index=["coverage", "method"], columns="split", values="cell")[pooled + parts]
    wide = wide.rename(columns={p: f"{p} (pooled)" for p in pooled})
    return ("\n## Accuracy per benchmark\n\nFinal checkpoint minus base, with 95% intervals. The pooled split "
            f"({', '.join(pooled)}) weighs each benchmark by its problem count; the study reports each benchmark.\n\n"
            + wide.reset_index().to_markdown(index=False) + "\n")
