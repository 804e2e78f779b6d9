"""Figures of the distillation grid, drawn from the tidy table of grid_summary."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # files only; no display on compute nodes
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from .coverage import LEVELS  # noqa: E402
from .grid_summary import final_change  # noqa: E402
from .metrics import EPISTEMIC_WORDS  # noqa: E402
from .per_benchmark import split_label  # noqa: E402

CURVES = (("accuracy", "accuracy (avg@k)"), ("mean_length", "length (tokens)"), ("mean_epistemic", "epistemic count"))


def plot_curves(df: pd.DataFrame, path: str) -> None:
    """Accuracy, length and epistemic count against training step, per method; one row per split,
    averaged over coverage levels and seeds."""
    splits = list(dict.fromkeys(df["split"]))
    fig, axes = plt.subplots(len(splits), len(CURVES), figsize=(4 * len(CURVES), 3 * len(splits)), squeeze=False)
    for i, split in enumerate(splits):
        for j, (column, label) in enumerate(CURVES):
            ax = axes[i][j]
            sns.lineplot(df[df["split"] == split], x="step", y=column, hue="method", marker="o", ax=ax,
                         errorbar=None, legend=i == 0 and j == len(CURVES) - 1)
            ax.set_ylabel(label)
            ax.set_title(split_label(split, splits))
    fig.suptitle("Training curves per method (step 0 is the base model)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_coverage(df: pd.DataFrame, path: str) -> None:
    """Coverage x method heatmaps of the accuracy change from base, in-domain, OOD and each OOD
    benchmark."""
    change = final_change(df, "accuracy")
    splits = ["in_domain", "ood", *sorted(s for s in change["split"].unique() if s.startswith("ood/"))]
    fig, axes = plt.subplots(1, len(splits), figsize=(5 * len(splits), 3.8), squeeze=False)
    for ax, split in zip(axes[0], splits):
        table = change[change["split"] == split].pivot(index="method", columns="coverage", values="accuracy")
        table = table[[c for c in LEVELS if c in table.columns]]  # narrow to broad, as in the study
        sns.heatmap(table, annot=True, fmt=".2f", center=0, cmap="RdBu", ax=ax)
        ax.set_title(f"{split_label(split, splits)}: accuracy change vs base")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_words(df: pd.DataFrame, path: str) -> None:
    """Change of each epistemic word's count per response, final checkpoint vs base, OOD."""
    rows = []
    for word in EPISTEMIC_WORDS:
        c = final_change(df, f"epistemic_{word}")
        c = c[c["split"] == "ood"].groupby("method", as_index=False)[f"epistemic_{word}"].mean()
        rows += [{"method": m, "word": word, "change": v} for m, v in zip(c["method"], c[f"epistemic_{word}"])]
    fig, ax = plt.subplots(figsize=(10, 3.8))
    sns.barplot(pd.DataFrame(rows), x="word", y="change", hue="method", ax=ax)
    ax.axhline(0, color="black", linewidth=0.8)
    ax.set_ylabel(f"count per response, final - base ({split_label('ood', df['split'].unique())})")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
