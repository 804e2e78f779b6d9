"""A pretrained base model saved as results/base_model: weights, tokenizer and chat template."""
from pathlib import Path

import pytest
import torch
from test_generation import CHAT_TEMPLATE, make_model_dir
from transformers import AutoModelForCausalLM, AutoTokenizer

import selfdistill
from selfdistill.decoding.generation import render_chat
from selfdistill.models.pretrained import resolve, save_pretrained_model


def test_saved_model_reloads_with_its_chat_template_in_the_asked_dtype(tmp_path):
    source = make_model_dir(tmp_path / "source")
    save_pretrained_model(source, tmp_path / "base", dtype="bfloat16")
    tokenizer = AutoTokenizer.from_pretrained(tmp_path / "base")
    assert tokenizer.chat_template == CHAT_TEMPLATE
    assert render_chat(tokenizer, "Hi", enable_thinking=False).endswith("<think>\n\n</think>\n\n")
    model = AutoModelForCausalLM.from_pretrained(tmp_path / "base", dtype="auto")
    original = AutoModelForCausalLM.from_pretrained(source)
    assert model.dtype == torch.bfloat16
    for (name, saved), kept in zip(model.state_dict().items(), original.state_dict().values()):
        assert torch.equal(saved, kept.to(torch.bfloat16)), name
    assert sorted(p.name for p in tmp_path.iterdir()) == ["base", "source"]  # no temporary folder left


def test_a_model_without_chat_template_is_refused(tmp_path):
    source = Path(make_model_dir(tmp_path / "source"))
    (source / "chat_template.jinja").unlink()
    with pytest.raises(ValueError, match="has no chat template"):
        save_pretrained_model(str(source), tmp_path / "base")
    assert not (tmp_path / "base").exists()


def test_names_resolve_to_hub_ids_folders_and_installed_packages():
    assert resolve("Qwen/Qwen3-8B") == "Qwen/Qwen3-8B" and resolve("models/mine") == "models/mine"
    assert Path(resolve("package:selfdistill")) == Path(selfdistill.__file__).parent
    with pytest.raises(ValueError, match="'package:no_such_package'.*no installed package 'no_such_package'"):
        resolve("package:no_such_package")
