"""Tables and figures of the Section 3 analysis and the base-model evaluation."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # files only; no display on compute nodes
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from selfdistill.evaluation.per_benchmark import split_label, split_out  # noqa: E402
from selfdistill.evaluation.uncertainty import LEVEL, bootstrap  # noqa: E402

BASE_KEYS = ("accuracy", "accuracy_se", "pass_at_k", "k", "mean_length", "mean_epistemic",
             "mean_epistemic_word_boundary")


def base_summary(metrics: dict[str, dict[str, dict]]) -> dict:
    """{split: {"normal": m, "banned": m}} -> {split: headline numbers}, banned-decoding accuracy
    beside the normal one and the ban's effect (banned minus normal on the same problems) with
    its interval; a split pooling several benchmarks also gives each as `<split>/<name>`."""
    normals = split_out({split: m["normal"] for split, m in metrics.items()})
    banneds = split_out({split: m["banned"] for split, m in metrics.items()})
    out = {}
    for split, normal in normals.items():
        banned = banneds[split]
        out[split] = {key: normal[key] for key in BASE_KEYS}
        out[split]["accuracy_epistemic_banned"] = banned["accuracy"]
        out[split]["mean_length_epistemic_banned"] = banned["mean_length"]
        effect = bootstrap((per_problem(banned, "accuracy") - per_problem(normal, "accuracy")).dropna().to_numpy())
        out[split]["ban_effect"] = {"estimate": effect.estimate, "low": effect.low, "high": effect.high,
                                    "level": LEVEL}
        out[split]["epistemic_per_word"] = normal["epistemic_per_word"]
    return out


def per_problem(metrics: dict, key: str) -> pd.Series:
    """An evaluation's per-problem `key`, indexed by problem id (metrics.summarize)."""
    return pd.Series(metrics["per_problem"][key], index=metrics["per_problem"]["problem_id"])


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
    """One row per richness level, in the given order (the Table 1 analog), with standard errors
    over problems."""
    return pd.DataFrame([{"richness": level, "score": m["accuracy"], "score_se": m["accuracy_se"],
                          "mean_length": m["mean_length"], "mean_length_se": m["mean_length_se"],
                          "mean_epistemic": m["mean_epistemic"], "mean_epistemic_se": m["mean_epistemic_se"],
                          "mean_epistemic_word_boundary": m["mean_epistemic_word_boundary"],
                          "num_problems": m["num_problems"], "samples_per_problem": m["samples_per_problem"]}
                         for level, m in metrics.items()])


def richness_problems(metrics: dict[str, dict]) -> pd.DataFrame:
    """One row per (richness level, problem): the problem's mean score, length and epistemic count,
    for paired comparisons between levels (they share their problems)."""
    return pd.concat([pd.DataFrame(m["per_problem"]).assign(richness=level) for level, m in metrics.items()],
                     ignore_index=True)


def plot_richness(df: pd.DataFrame, path: str) -> None:
    panels = (("score", "score (avg@k)"), ("mean_length", "length (tokens)"), ("mean_epistemic", "epistemic count"))
    fig, axes = plt.subplots(1, 3, figsize=(11, 3.5))
    for ax, (column, label) in zip(axes, panels):
        sns.barplot(df, x="richness", y=column, hue="richness", legend=False, ax=ax, palette="viridis")
        ax.errorbar(range(len(df)), df[column], yerr=1.96 * df[f"{column}_se"], fmt="none", color="black", capsize=3)
        ax.set_ylabel(label)
        ax.set_xlabel("teacher context c")
    fig.suptitle("Behaviour under richer context (Section 3; bars: 95% intervals over problems)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
