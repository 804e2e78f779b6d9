# Shared by every rule: config validation and the command line that runs a stage.
import json
import shlex

from selfdistill.config import validate_config

# stop before any job starts, naming every bad key
validate_config(config)

RESULTS = "results"
BASE_MODEL = f"{RESULTS}/base_model"
SPLITS = ("train", "in_domain", "ood")
EVAL_SPLITS = ("in_domain", "ood")


def stage(name, settings=lambda wildcards: {}):
    """Params callable giving `python -m selfdistill.stages.<name>` with the rule's named inputs
    and outputs and its settings, so each job sees only its own slice of the config."""

    def command(wildcards, input, output):
        def pairs(files):
            return " ".join(f"{k}={shlex.quote(str(v))}" for k, v in files.items())

        args = ["python -m selfdistill.stages." + name,
                "--params", shlex.quote(json.dumps(settings(wildcards), sort_keys=True))]
        if len(input):
            args += ["--in", pairs(input)]
        return " ".join(args + ["--out", pairs(output)])

    return command
