"""Stage: the base model's headline numbers (normal vs epistemic-banned decoding) and figure."""
from selfdistill.io import read_json, write_json
from selfdistill.reporting.analysis import base_summary, plot_base
from selfdistill.stages.cli import stage_run


def main(argv=None):
    with stage_run(__doc__, argv) as (params, inp, out):
        metrics = {split: {decoding: read_json(getattr(inp, f"{split}_{decoding}")) for decoding in ("normal", "banned")}
                   for split in params["splits"]}
        summary = base_summary(metrics)
        write_json(out.summary, summary)
        plot_base(summary, out.figure)


if __name__ == "__main__":
    main()
