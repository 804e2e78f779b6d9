"""Tables and figures of the Section 3 analysis and the base-model evaluation."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # files only; no display on compute nodes
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from .per_benchmark import split_label, split_out  # noqa: E402

BASE_KEYS = ("accuracy", "pass_at_k", "k", "mean_length", "mean_epistemic", "mean_epistemic_word_boundary")


def base_summary(metrics: dict[str, dict[str, dict]]) -> dict:
    """{split: {"normal": m, "banned": m}} -> {split: headline numbers}, banned-decoding accuracy
    beside the normal one; a split pooling several benchmarks also gives each as `<split>/<name>`."""
    normals = split_out({split: m["normal"] for split, m in metrics.items()})
    banneds = split_out({split: m["banned"] for split, m in metrics.items()})
    out = {}
    for split, normal in normals.items():
        out[split] = {key: normal[key] for key in BASE_KEYS}
        out[split]["accuracy_epistemic_banned"] = banneds[split]["accuracy"]
        out[split]["mean_length_epistemic_banned"] = banneds[split]["mean_length"]
        out[split]["epistemic_per_word"] = normal["epistemic_per_word"]
    return out


def plot_base(summary: dict, path: str) -> None:
    rows = [{"split": split_label(split, summary), "decoding": decoding, "accuracy": m[key]}
            for split, m in summary.items()
            for decoding, key in (("normal", "accuracy"), ("epistemic words banned", "accuracy_epistemic_banned"))]
    fig, ax = plt.subplots(figsize=(2 + 1.5 * len(summary), 3.5))
    sns.barplot(pd.DataFrame(rows), x="split", y="accuracy", hue="decoding", ax=ax)
    ax.set_ylim(0, 1)
    ax.set_title("Base model: does verbalized doubt do work?")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def richness_frame(metrics: dict[str, dict]) -> pd.DataFrame:
    """One row per richness level, in the given order (the Table 1 analog)."""
    return pd.DataFrame([{"richness": level, "score": m["accuracy"], "mean_length": m["mean_length"],
                          "mean_epistemic": m["mean_epistemic"],
                          "mean_epistemic_word_boundary": m["mean_epistemic_word_boundary"],
                          "num_problems": m["num_problems"], "samples_per_problem": m["samples_per_problem"]}
                         for level, m in metrics.items()])


def plot_richness(df: pd.DataFrame, path: str) -> None:
    panels = (("score", "score (avg@k)"), ("mean_length", "length (tokens)"), ("mean_epistemic", "epistemic count"))
    fig, axes = plt.subplots(1, 3, figsize=(11, 3.5))
    for ax, (column, label) in zip(axes, panels):
        sns.barplot(df, x="richness", y=column, hue="richness", legend=False, ax=ax, palette="viridis")
        ax.set_ylabel(label)
        ax.set_xlabel("teacher context c")
    fig.suptitle("Behaviour under richer context (Section 3)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
