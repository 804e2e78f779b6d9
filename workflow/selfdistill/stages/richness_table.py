"""Stage: the Table 1 analog (score, length, epistemic count per richness level) and its figure."""
from pathlib import Path

from selfdistill.data.templates import RICHNESS
from selfdistill.io import read_json
from selfdistill.reporting.analysis import plot_richness, richness_frame
from selfdistill.stages.cli import stage_run


def main(argv=None):
    with stage_run(__doc__, argv) as (_, inp, out):
        df = richness_frame({level: read_json(getattr(inp, level)) for level in RICHNESS})
        Path(out.table).parent.mkdir(parents=True, exist_ok=True)
        df.to_csv(out.table, index=False, float_format="%.4g")
        plot_richness(df, out.figure)


if __name__ == "__main__":
    main()
