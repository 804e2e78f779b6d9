"""The grid's tidy tables: one row per (cell, seed, checkpoint, split), the base model as step 0,
with each change from the base and its interval; and the changes pooled over seeds (and base
models, where there are several)."""
from __future__ import annotations

import numpy as np
import pandas as pd

from selfdistill.evaluation.metrics import EPISTEMIC_WORDS
from selfdistill.evaluation.per_benchmark import split_out
from selfdistill.evaluation.uncertainty import bootstrap, change

# what the teacher's context c reveals, per method (SFT on D_ug learns from unguided traces)
RICHNESS = {"sft_ug": "none", "sft_sg": "s", "sdpo_s": "s", "sdpo_s_nothink": "s_nothink", "sdpo_s_ema": "s",
            "sdpo_s_keepdoubt": "s", "sdpo_s_doubtful": "s_doubtful", "grpo": "none"}
METRICS = ("accuracy", "pass_at_k", "mean_length", "mean_epistemic", "mean_epistemic_word_boundary")
# the metrics kept per problem (metrics.summarize), so their changes carry intervals
PAIRED = ("accuracy", "mean_length", "mean_epistemic")


def step_of(checkpoint: str, manifest: dict) -> int:
    """Global step of a checkpoint label: 'base' is 0, 'stepN' is N, 'final' the manifest's last."""
    if checkpoint == "base":
        return 0
    if checkpoint == "final":
        return int(manifest["final_step"])
    if checkpoint.startswith("step") and checkpoint[4:].isdigit():
        return int(checkpoint[4:])
    raise ValueError(f"checkpoint={checkpoint!r}: valid are 'base', 'final' and 'step<N>'")


def row(method: str, coverage: str, seed: int, checkpoint: str, step: int, split: str, m: dict) -> dict:
    out = {"method": method, "richness": RICHNESS[method], "coverage": coverage, "seed": seed, "step": step,
           "checkpoint": checkpoint, "split": split, **{k: m[k] for k in METRICS},
           **{f"{k}_se": m[f"{k}_se"] for k in PAIRED}}
    out.update({f"epistemic_{w}": m["epistemic_per_word"][w] for w in EPISTEMIC_WORDS})
    return out


def evaluations(evals: dict[tuple, dict], manifests: dict[tuple, dict], base: dict[tuple, dict]):
    """Yields (method, coverage, seed, checkpoint, step, split, metrics) for every evaluation,
    the base model's (`base`: (coverage, split) -> metrics) repeated as every cell's step 0 so each
    curve starts at the base. `evals`: (method, coverage, seed, checkpoint, split) -> metrics;
    `manifests`: (method, coverage, seed) -> manifest. A split pooling several benchmarks also
    yields each benchmark as split `<split>/<benchmark>`."""
    for (method, coverage, seed) in manifests:
        for split in ("seen", "in_domain", "ood"):
            for name, m in split_out({split: base[coverage, split]}).items():
                yield method, coverage, seed, "base", 0, name, m
    for (method, coverage, seed, checkpoint, split), m in evals.items():
        step = step_of(checkpoint, manifests[method, coverage, seed])
        for name, part in split_out({split: m}).items():
            yield method, coverage, seed, checkpoint, step, name, part


def problem_frame(evals: dict[tuple, dict], manifests: dict[tuple, dict], base: dict[tuple, dict]) -> pd.DataFrame:
    """One row per (cell, seed, checkpoint, split, problem): the problem's mean accuracy, length and
    epistemic count, the data every interval of the grid is resampled from."""
    parts = []
    for method, coverage, seed, checkpoint, step, split, m in evaluations(evals, manifests, base):
        cell = dict(method=method, coverage=coverage, seed=seed, step=step, checkpoint=checkpoint, split=split)
        parts.append(pd.DataFrame({**cell, **m["per_problem"]}))
    return pd.concat(parts, ignore_index=True)


def grid_frame(evals: dict[tuple, dict], manifests: dict[tuple, dict], base: dict[tuple, dict],
               problems: pd.DataFrame) -> pd.DataFrame:
    """The evaluations' metrics, one row per seed, with each paired metric's change from the base
    and its 95% interval over the problems (`problems`: problem_frame of the same evaluations)."""
    df = pd.DataFrame([row(*e) for e in evaluations(evals, manifests, base)])
    # the checkpoint tells the base from a final model that trained no step (an empty SFT set)
    keys = ["method", "coverage", "seed", "checkpoint", "step", "split"]
    by_cell = problems.set_index(keys + ["problem_id"])
    for metric in PAIRED:
        cell = by_cell[metric].unstack("problem_id")
        base = cell.xs("base", level="checkpoint").droplevel("step")  # indexed (method, coverage, seed, split)
        changes = [bootstrap((cell.loc[k] - base.loc[k[:3] + k[5:]]).dropna().to_numpy()) for k in cell.index]
        found = pd.DataFrame(changes, index=cell.index,
                             columns=[f"{metric}_change", f"{metric}_change_low", f"{metric}_change_high"])
        df = df.merge(found.reset_index(), on=keys, how="left")
    return df.sort_values(["method", "coverage", "seed", "split", "step"], kind="stable")


def with_bases(frames: dict[int, pd.DataFrame]) -> pd.DataFrame:
    """One base model's frames stacked, each row marked with its base in a first column `base`."""
    return pd.concat([frame.assign(base=base)[["base", *frame.columns]] for base, frame in frames.items()],
                     ignore_index=True)


def aligned_steps(problems: pd.DataFrame) -> pd.DataFrame:
    """With several base models, each cell's k-th checkpoint labelled alike in every base: an SFT
    cell's one checkpoint comes after as many steps as its data set gives, which differs from base
    to base; each is labelled with the largest of them. On-policy cells (max_steps) already agree."""
    if "base" not in problems or problems["base"].nunique() < 2:
        return problems
    run = ["base", "method", "coverage", "seed"]
    trained = problems[problems["step"] > 0][[*run, "step"]].drop_duplicates().sort_values("step")
    trained["rank"] = trained.groupby(run).cumcount()
    trained["label"] = trained.groupby(["method", "coverage", "rank"])["step"].transform("max")
    label = trained.set_index([*run, "step"])["label"]
    keys = pd.MultiIndex.from_frame(problems[[*run, "step"]])
    new = label.reindex(keys).to_numpy()
    return problems.assign(step=np.where(np.isnan(new), problems["step"], new).astype(int))


def change_frame(problems: pd.DataFrame) -> pd.DataFrame:
    """Each (method, coverage, step, split) cell's change from the base, pooled over its seeds (and
    base models), with a 95% interval from resampling them and the problems: the figures and
    findings quote these."""
    problems = aligned_steps(problems)
    rows = []
    cells = problems[problems["step"] > 0][["method", "coverage", "step", "split"]].drop_duplicates()
    for method, coverage, step, split in cells.itertuples(index=False):
        at = problems[(problems["method"] == method) & (problems["coverage"] == coverage) & (problems["step"] == step)]
        seeds = at["seed"].nunique()
        # pooled over the bases that reached this checkpoint
        present = problems[problems["base"].isin(at["base"].unique())] if "base" in problems else problems
        bases = at["base"].nunique() if "base" in problems else 1
        for metric in PAIRED:
            c = change(present, method, coverage, split, metric, step=step)
            rows.append({"method": method, "richness": RICHNESS[method], "coverage": coverage, "step": step,
                         "split": split, "metric": metric, "change": c.estimate, "low": c.low, "high": c.high,
                         "seeds": seeds, "bases": bases})
    return pd.DataFrame(rows).sort_values(["method", "coverage", "split", "metric", "step"], kind="stable")


# TRL's log keys: GRPO logs the reward as "reward", SDPO as "self_distillation/reward_mean"
TRAINING_KEYS = {"reward": ("reward", "self_distillation/reward_mean"),
                 "completion_length": ("completions/mean_length",),
                 "reprompt_fraction": ("self_distillation/reprompt_sample_fraction",),
                 "distillation_loss": ("self_distillation/distillation_loss",), "loss": ("loss",),
                 "teacher_prompts_truncated": ("self_distillation/teacher_prompts_truncated",)}


def training_frame(manifests: dict[tuple, dict]) -> pd.DataFrame:
    """One row per logged optimizer step of each on-policy cell: the training reward, rollout
    length and, for SDPO, the share of rollouts that got a teacher and the distillation loss."""
    rows = []
    for (method, coverage, seed), manifest in manifests.items():
        for h in manifest["log_history"]:
            if "loss" not in h:  # the closing summary entry carries no per-step values
                continue
            values = {k: next((h[n] for n in names if n in h), None) for k, names in TRAINING_KEYS.items()}
            rows.append({"method": method, "richness": RICHNESS[method], "coverage": coverage, "seed": seed,
                         "step": h["step"], **values})
    columns = ["method", "richness", "coverage", "seed", "step", *TRAINING_KEYS]
    return pd.DataFrame(rows, columns=columns).sort_values(["method", "coverage", "seed", "step"], kind="stable")


def final_change(df: pd.DataFrame, column: str) -> pd.DataFrame:
    """Each cell's last checkpoint minus its base (step 0), averaged over seeds (and base models)."""
    keys = ["method", "coverage", "split"]
    runs = keys + ["seed"] + (["base"] if "base" in df else [])
    last = df.loc[df.groupby(runs)["step"].idxmax()].set_index(runs)[column]
    base = df[df["step"] == 0].drop_duplicates(runs).set_index(runs)[column]
    return (last - base).groupby(level=keys).mean().reset_index()
