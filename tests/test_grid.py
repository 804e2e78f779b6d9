"""The grid's library pieces: coverage nesting, off-policy datasets, the SDPO teacher template,
the trainers' settings."""
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml
from conftest import ROOT
from test_generation import make_model_dir
from transformers import AutoModelForCausalLM, AutoTokenizer

from selfdistill.data.arith import Problem, confident_trace, shows_checks, without_checks
from selfdistill.data.coverage import LEVELS, coverage_set, distinct_problems
from selfdistill.data.templates import DOUBTFUL_INSTRUCTION, onpolicy_teacher_prompt
from selfdistill.reporting.grid_summary import step_of
from selfdistill.training.checkpoints import step_labels
from selfdistill.training.offpolicy import equal_datasets, guided_prompts, section3_datasets
from selfdistill.training.onpolicy import binary_reward, trainer_for, training_args, use_teacher_prompt

TRAIN = yaml.safe_load((Path(__file__).resolve().parents[1] / "config" / "config.yaml").read_text())["grid"]["train"]
POOL = [{"problem_id": f"p{i:04d}", "prompt": f"q{i}", "answer": str(i)} for i in range(600)]


def ids(rows):
    return [r["problem_id"] for r in rows]


def test_coverage_levels_are_nested_and_shaped_like_the_study():
    sets = {label: coverage_set(POOL, label, seed=3) for label in LEVELS}
    assert len(set(ids(sets["1x64"]))) == 1 and len(sets["1x64"]) == 64
    assert len(set(ids(sets["8x8"]))) == 8 and len(sets["8x8"]) == 64
    assert ids(sets["8x8"])[:16] == ids(sets["8x8"])[:8] * 2  # cycling, not blocks
    assert [len(set(ids(sets[k]))) for k in ("64", "128", "512", "full")] == [64, 128, 512, 600]
    order = ["1x64", "8x8", "64", "128", "512", "full"]
    for small, large in zip(order, order[1:]):
        assert set(ids(sets[small])) <= set(ids(sets[large])), (small, large)


def test_coverage_is_deterministic_from_its_seed_and_not_the_file_order():
    assert coverage_set(POOL, "64", 1) == coverage_set(list(reversed(POOL)), "64", 1)
    assert ids(coverage_set(POOL, "64", 1)) != ids(coverage_set(POOL, "64", 2))


def test_coverage_names_a_bad_level_and_a_small_pool():
    with pytest.raises(ValueError, match="'32'.*valid"):
        coverage_set(POOL, "32", 0)
    with pytest.raises(ValueError, match="512.*has 100"):
        coverage_set(POOL[:100], "512", 0)


def test_seen_split_is_each_problem_once():
    rows = coverage_set(POOL, "8x8", 0)
    assert ids(distinct_problems(rows)) == ids(rows)[:8]
    assert len(distinct_problems(rows, 3)) == 3


def test_offpolicy_datasets_pair_student_prompts_and_have_equal_sizes():
    coverage = [{"problem_id": "a", "prompt": "A?", "answer": "1"}, {"problem_id": "a", "prompt": "A?", "answer": "1"},
                {"problem_id": "b", "prompt": "B?", "answer": "2"}]
    unguided = [{"problem_id": "a", "text": "u1", "correct": True}, {"problem_id": "a", "text": "u2", "correct": True},
                {"problem_id": "b", "text": "w", "correct": False}]
    prompts = guided_prompts(coverage, unguided)
    # repeated rows see different solutions; a problem with no correct sample gets no teacher prompt
    assert [p["context"] for p in prompts] == ["u1", "u2"]
    assert prompts[0]["prompt"] == onpolicy_teacher_prompt("A?", "u1")
    guided = [{"problem_id": "a", "text": "g", "correct": True}, {"problem_id": "a", "text": "x", "correct": False}]
    data = equal_datasets(coverage, unguided, guided)
    assert data["sft_sg"] == [{"prompt": "A?", "completion": "g", "problem_id": "a"}]
    assert len(data["sft_ug"]) == len(data["sft_sg"]) == 1


def test_section4_data_as_the_study_builds_it_from_section3():
    problems = [{"problem_id": p, "prompt": f"{p}?", "answer": "1", "solution": f"s_{p}", "solution_source": src}
                for p, src in (("a", "model"), ("b", "model"), ("c", "reference"))]
    guided = [{"problem_id": "a", "text": "wrong", "correct": False}, {"problem_id": "a", "text": "g1", "correct": True},
              {"problem_id": "a", "text": "g2", "correct": True}, {"problem_id": "b", "text": "x", "correct": False},
              {"problem_id": "c", "text": "gc", "correct": True}]
    data = section3_datasets(problems, guided)
    # one example per problem, its s; a reference solution is no sample of the model
    assert data["sft_ug"] == [{"prompt": "a?", "completion": "s_a", "problem_id": "a"},
                              {"prompt": "b?", "completion": "s_b", "problem_id": "b"}]
    # the first correct teacher trace, the student prompt beside it; b has none and is skipped
    assert data["sft_sg"] == [{"prompt": "a?", "completion": "g1", "problem_id": "a"},
                              {"prompt": "c?", "completion": "gc", "problem_id": "c"}]


@pytest.mark.parametrize("demo", ["<think>\nDoubt.\n</think>\nSo \\boxed{5}.",
                                  "Doubt.\n</think>\nSo \\boxed{5}."])  # R1-Distill: bare </think>
def test_sdpo_teacher_sees_the_studys_prompt_and_strips_thinking_for_s_nothink(demo):
    trainer = SimpleNamespace()
    use_teacher_prompt(trainer, "s_nothink")
    # the hook TRL's SDPOTrainer renders every teacher prompt with (no environment feedback)
    rendered = trainer.teacher_context_builder._build_reprompt_text("PROMPT", demo, "")
    assert rendered == onpolicy_teacher_prompt("PROMPT", "So \\boxed{5}.")
    use_teacher_prompt(trainer, "s")
    assert trainer.teacher_context_builder._build_reprompt_text("PROMPT", demo, "") == \
        onpolicy_teacher_prompt("PROMPT", demo)


def test_reward_is_the_worlds_grader_on_the_boxed_answer():
    reward = binary_reward("arith")
    completions = [[{"role": "assistant", "content": "<think>x</think> \\boxed{12}"}],
                   [{"role": "assistant", "content": "\\boxed{13}"}], [{"role": "assistant", "content": "none"}]]
    assert reward(prompts=[None] * 3, completions=completions, answer=["12", "12", "12"]) == [1.0, 0.0, 0.0]


def test_math_reward_reads_the_answer_after_a_bare_think_close():
    # R1-Distill's template opens <think> in the prompt: a completion holds only the closing tag,
    # and a \boxed{} inside the thinking is not the answer
    reward = binary_reward("math")
    completions = ["Maybe \\boxed{1/3}? No.\n</think>\n\nSo $\\boxed{\\frac{1}{2}}$.",
                   "Maybe \\boxed{0.5}.\n</think>\n\nI give up.",
                   "<think>Thinking, cut short \\boxed{0.5}"]
    assert reward(prompts=[None] * 3, completions=completions, answer=["0.5"] * 3) == [1.0, 0.0, 0.0]


def test_step_labels_and_checkpoint_steps():
    assert step_labels(4, 2) == [2]
    assert step_labels(10, 3) == [3, 6, 9]
    assert step_of("step6", {}) == 6 and step_of("final", {"final_step": 10}) == 10 and step_of("base", {}) == 0
    with pytest.raises(ValueError, match="checkpoint='last'"):
        step_of("last", {})


@pytest.mark.parametrize("method", ["grpo", "sdpo_s"])
def test_rollouts_use_transformers_generate_unless_vllm_is_set(method, tmp_path):
    args = training_args(method, TRAIN[method], str(tmp_path), seed=0, use_cpu=True)
    assert args.use_vllm is False
    vllm = {"gpu_memory_utilization": 0.45, "max_model_length": 4096, "sleep_mode": True}
    args = training_args(method, {**TRAIN[method], "vllm": vllm}, str(tmp_path), seed=0, use_cpu=True)
    assert (args.use_vllm, args.vllm_mode, args.vllm_gpu_memory_utilization, args.vllm_max_model_length,
            args.vllm_enable_sleep_mode) == (True, "colocate", 0.45, 4096, True)
    args = training_args(method, {**TRAIN[method], "vllm": {"gpu_memory_utilization": 0.3}}, str(tmp_path),
                         seed=0, use_cpu=True)
    assert (args.vllm_max_model_length, args.vllm_enable_sleep_mode) == (None, False)
    assert "vllm" not in sys.modules  # building the config never loads vLLM


@pytest.mark.parametrize("method", ["grpo", "sdpo_s_nothink"])
def test_trainers_render_prompts_with_the_thinking_switch(tmp_path, method):
    model_dir = make_model_dir(tmp_path / "model")  # its template reads enable_thinking
    settings = {**yaml.safe_load((ROOT / "config" / "config.yaml").read_text())["grid"]["train"][method],
                "batch_size": 4, "num_generations": 2, "max_steps": 1, "distillation_topk": 5}
    rows = [{"problem_id": "a", "prompt": "What is 1+2?", "answer": "3"}]
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    trainer = trainer_for(method, settings, AutoModelForCausalLM.from_pretrained(model_dir), tokenizer, rows,
                          "arith", str(tmp_path / "out"), seed=0, use_cpu=True, enable_thinking=False)
    assert trainer.args.chat_template_kwargs == {"enable_thinking": False}
    if method.startswith("sdpo"):  # the student's prompt as SDPO tokenizes it, and the study's teacher prompt
        [ids] = trainer._tokenize_prompts([[{"role": "user", "content": "What is 1+2?"}]])
        assert tokenizer.decode(ids).endswith("<think>\n\n</think>\n\n")
        builder = trainer.teacher_context_builder
        assert builder._build_reprompt_text("P", "x</think> \\boxed{3}", "") == onpolicy_teacher_prompt("P", "\\boxed{3}")


def test_doubtful_teacher_sees_the_demo_without_its_checks_or_is_told_to_verify():
    problem = Problem("9:mul3,add3", 9, (("mul", 3), ("add", 3)))
    demo = ("<think>\nStart with 9.\n(1) Multiply by 3: 9 * 3 = 17. Wait, maybe I slipped. Let me check: 9 + 9 = 18, "
            "18 + 9 = 27. Not 17, it is 27.\n(2) Add 3: 27 + 3 = 30. Hmm, let me check: counting from 27: 28, 29, "
            "30. Yes, it is 30.\n(3) Report the result: 30.\n</think>\nThe answer is \\boxed{30}.")
    assert shows_checks(demo) and without_checks(demo) == confident_trace(problem)
    trainer = SimpleNamespace()
    use_teacher_prompt(trainer, "s_doubtful", world="arith")
    assert trainer.teacher_context_builder._build_reprompt_text("PROMPT", demo, "") == \
        onpolicy_teacher_prompt("PROMPT", confident_trace(problem))
    use_teacher_prompt(trainer, "s_doubtful", world="math")
    rendered = trainer.teacher_context_builder._build_reprompt_text("PROMPT", demo, "")
    assert rendered == onpolicy_teacher_prompt("PROMPT", demo) + DOUBTFUL_INSTRUCTION
