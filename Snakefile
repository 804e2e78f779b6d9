# Self-distillation study pipeline: contexts -> teacher traces -> checkpoints -> evaluations -> figures.
# Rules live in workflow/rules/<stage>.smk; library code in workflow/selfdistill/.
from snakemake.utils import min_version

from selfdistill.config import read_config_file

min_version("9.0")
DEFAULT_CONFIG = f"{workflow.basedir}/config/config.yaml"
read_config_file(
    DEFAULT_CONFIG
)  # a broken file is named with its line; Snakemake's message names neither


configfile: DEFAULT_CONFIG


report: "workflow/report/workflow.rst"


# Every rule names its conda environment (envs/); `--sdm conda apptainer` runs them in this image,
# on GPUs with `--apptainer-args "--nv"`: torch's wheels bring their own CUDA, the image only a
# conda to build the environments with.
container: "docker://condaforge/miniforge3:latest"


include: "workflow/rules/common.smk"
include: "workflow/rules/world.smk"
include: "workflow/rules/base_model.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/section3.smk"


if config["world"] == "arith":

    include: "workflow/rules/premises.smk"


include: "workflow/rules/grid.smk"
include: "workflow/rules/job_times.smk"
include: "workflow/rules/bases.smk"


# Rules marked `localrule: True` run where Snakemake runs, not as cluster jobs: the summaries
# take seconds, and the downloads (world, fetch_model) need the network that a cluster's login
# node has and its GPU nodes may lack.
rule all:
    input:
        per_base(rules.base_summary.output),
        per_base(rules.richness_table.output),
        per_base(rules.premises.output) if config["world"] == "arith" else [],
        rules.grid_summary.output,
        rules.job_times.output,
        rules.bases_summary.output if len(BASES) > 1 else [],
    localrule: True
