"""A pretrained base model, saved as a plain Hugging Face checkpoint so every stage loads it the
way it loads the arithmetic world's tiny model."""
from __future__ import annotations

import importlib.util
import logging
from pathlib import Path

from transformers import AutoModelForCausalLM, AutoTokenizer, GgufConfig

from selfdistill.decoding.generation import DTYPES
from selfdistill.lineage import downloads
from selfdistill.training.checkpoints import save_model

PACKAGE = "package:"


def resolve(name: str) -> str:
    """The hub id or folder that `name` loads from. `package:<module>` is the folder of an
    installed Python package, found without importing it: a package may ship a model file and
    code whose own dependencies are not installed."""
    if not name.startswith(PACKAGE):
        return name
    module = name[len(PACKAGE):]
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise ValueError(f"model.name={name!r}: no installed package {module!r}; install it, or name a hub "
                         "id or a local folder")
    return spec.submodule_search_locations[0]


def save_pretrained_model(source: str, dest: str | Path, revision: str | None = None,
                          gguf_file: str | None = None, dtype: str = "auto") -> None:
    """Load model and tokenizer from `source` (see `resolve`) and save both to `dest`."""
    if dtype != "auto" and dtype not in DTYPES:
        raise ValueError(f"dtype={dtype!r}: valid are 'auto', {', '.join(map(repr, DTYPES))}")
    where = resolve(source)
    kwargs = {"revision": revision, "gguf_file": gguf_file}
    tokenizer = AutoTokenizer.from_pretrained(where, **kwargs)
    if tokenizer.chat_template is None:
        raise ValueError(f"model {source!r} has no chat template; every stage renders its prompts through one")
    if gguf_file:
        # unpacked to dense weights at load: a model left in GGUF blocks cannot be saved
        kwargs["quantization_config"] = GgufConfig(dequantize=True)
    model = AutoModelForCausalLM.from_pretrained(where, dtype=DTYPES.get(dtype, "auto"), **kwargs)
    if not Path(where).exists():  # from the hub: its snapshot is what was downloaded
        from transformers.utils import cached_file

        snapshot = Path(cached_file(where, gguf_file or "config.json", revision=revision)).parent
        downloads.note(f"hf://{source}" + (f"@{revision}" if revision else ""), downloads.is_commit(revision), snapshot)
    logging.info("%s: %s, %.1fM parameters in %s", source, type(model).__name__, model.num_parameters() / 1e6,
                 model.dtype)
    save_model(model, tokenizer, dest)
