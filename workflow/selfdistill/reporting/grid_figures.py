"""Figures of the distillation grid, drawn from the tidy table of grid_summary."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # files only; no display on compute nodes
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from selfdistill.data.coverage import LEVELS  # noqa: E402
from selfdistill.evaluation.metrics import EPISTEMIC_WORDS  # noqa: E402
from selfdistill.evaluation.per_benchmark import split_label  # noqa: E402
from selfdistill.reporting.grid_summary import final_change  # noqa: E402
from selfdistill.reporting.intervention import ARMS, REFERENCES  # noqa: E402

CURVES = (("accuracy", "accuracy change"), ("mean_length", "length change (tokens)"),
          ("mean_epistemic", "epistemic count change"))


def plot_curves(changes: pd.DataFrame, path: str) -> None:
    """Change from the base against training step, per method, with 95% intervals (over problems
    and seeds); one row per split, one line per (method, coverage)."""
    splits = list(dict.fromkeys(changes["split"]))
    fig, axes = plt.subplots(len(splits), len(CURVES), figsize=(4 * len(CURVES), 3 * len(splits)), squeeze=False)
    colors = dict(zip(sorted(changes["method"].unique()), sns.color_palette()))
    styles = dict(zip([c for c in LEVELS if c in set(changes["coverage"])], ("-", "--", ":", "-.") * 2))
    for i, split in enumerate(splits):
        for j, (metric, label) in enumerate(CURVES):
            ax = axes[i][j]
            part = changes[(changes["split"] == split) & (changes["metric"] == metric)]
            for (method, coverage), line in part.groupby(["method", "coverage"]):
                line = pd.concat([pd.DataFrame({"step": [0], "change": [0.0], "low": [0.0], "high": [0.0]}),
                                  line.sort_values("step")])
                ax.plot(line["step"], line["change"], styles[coverage], marker="o", color=colors[method],
                        label=f"{method} {coverage}")
                ax.fill_between(line["step"], line["low"], line["high"], color=colors[method], alpha=0.12)
            ax.axhline(0, color="black", linewidth=0.6)
            ax.set_xlabel("step")
            ax.set_ylabel(label)
            ax.set_title(split_label(split, splits))
    axes[0][-1].legend(fontsize=7, loc="best")
    fig.suptitle("Change from the base model per method and coverage (bands: 95% intervals)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_coverage(changes: pd.DataFrame, path: str) -> None:
    """Coverage x method heatmaps of the final accuracy change from base, in-domain, OOD and each
    OOD benchmark, each cell annotated with its 95% interval."""
    last = changes[(changes["metric"] == "accuracy")
                   & (changes["step"] == changes.groupby(["method", "coverage"])["step"].transform("max"))]
    splits = ["in_domain", "ood", *sorted(s for s in last["split"].unique() if s.startswith("ood/"))]
    fig, axes = plt.subplots(1, len(splits), figsize=(6 * len(splits), 4.2), squeeze=False)
    for ax, split in zip(axes[0], splits):
        part = last[last["split"] == split]
        columns = [c for c in LEVELS if c in set(part["coverage"])]  # narrow to broad, as in the study
        table = part.pivot(index="method", columns="coverage", values="change")[columns]
        text = part.assign(text=[f"{c:+.2f}\n[{lo:+.2f}, {hi:+.2f}]" for c, lo, hi
                                 in zip(part["change"], part["low"], part["high"])])
        annot = text.pivot(index="method", columns="coverage", values="text")[columns]
        sns.heatmap(table, annot=annot, fmt="", center=0, cmap="RdBu", ax=ax, annot_kws={"fontsize": 8})
        ax.set_title(f"{split_label(split, splits)}: accuracy change vs base [95% interval]")
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


def plot_intervention(changes: pd.DataFrame, path: str) -> None:
    """Is suppressed doubt the cause? Final change from the base of the intervention arms beside
    sdpo_s's and grpo's: OOD and in-domain accuracy and OOD epistemic count, with 95% intervals,
    one marker per coverage level."""
    methods = [m for m in (*REFERENCES, *ARMS) if m in set(changes["method"])]
    last = changes[changes["method"].isin(methods)
                   & (changes["step"] == changes.groupby(["method", "coverage"])["step"].transform("max"))]
    panels = (("accuracy", "ood", "OOD accuracy change"), ("accuracy", "in_domain", "in-domain accuracy change"),
              ("mean_epistemic", "ood", "OOD epistemic count change"))
    coverages = [c for c in LEVELS if c in set(last["coverage"])]
    colors = dict(zip(coverages, sns.color_palette()))
    fig, axes = plt.subplots(1, len(panels), figsize=(4.5 * len(panels), 3.6), squeeze=False)
    for ax, (metric, split, label) in zip(axes[0], panels):
        part = last[(last["metric"] == metric) & (last["split"] == split)]
        for k, coverage in enumerate(coverages):
            rows = part[part["coverage"] == coverage].set_index("method").reindex(methods)
            x = [i + (k - (len(coverages) - 1) / 2) * 0.15 for i in range(len(methods))]
            ax.errorbar(x, rows["change"], yerr=[rows["change"] - rows["low"], rows["high"] - rows["change"]],
                        fmt="o", capsize=3, color=colors[coverage], label=coverage)
        ax.axhline(0, color="black", linewidth=0.6)
        ax.set_xticks(range(len(methods)), methods, rotation=25, ha="right", fontsize=8)
        ax.set_ylabel(label)
        sns.despine(ax=ax)
    if coverages:
        axes[0][-1].legend(title="coverage", fontsize=7)
    fig.suptitle("Is suppressed doubt the cause? Interventions against sdpo_s and grpo (95% intervals)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
