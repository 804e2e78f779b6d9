"""Stage: save a pretrained base model (weights, tokenizer, chat template) as a plain checkpoint.

A local folder arrives as input `source`; a hub id or `package:<module>` is resolved here.
"""
from selfdistill.models.pretrained import save_pretrained_model
from selfdistill.stages.cli import stage_run


def main(argv=None):
    with stage_run(__doc__, argv) as (params, inp, out):
        save_pretrained_model(getattr(inp, "source", params["name"]), out.model, revision=params["revision"],
                              gguf_file=params["gguf_file"], dtype=params["dtype"])


if __name__ == "__main__":
    main()
