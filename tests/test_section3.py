from selfdistill.data.section3 import contexts, first_correct, select_problems
from selfdistill.data.templates import analysis_teacher_prompt, onpolicy_teacher_prompt, student_prompt

SOLUTION = "<think>\nStart with 2.\n(1) Add 3: 2 + 3 = 5.\n</think>\nThe answer is \\boxed{5}."


def rows(pid, correct):
    return [{"problem_id": pid, "text": f"{pid}-{i}", "correct": c} for i, c in enumerate(correct)]


def test_templates_match_the_study():
    prompt = student_prompt("Start with 2. (1) Add 3.")
    assert prompt == "Start with 2. (1) Add 3.\nPlease reason step by step, and put your final answer within \\boxed{}."
    assert analysis_teacher_prompt(prompt, "S") == f"{prompt}\n\nCorrect solution: S\n\nCorrectly solve the original question."
    assert onpolicy_teacher_prompt(prompt, "D") == f"{prompt}\nCorrect solution:\n\nD\n\nCorrectly solve the original question."


def test_selection_keeps_middling_rates_with_their_first_correct_sample():
    items = [{"problem_id": p, "prompt": p, "answer": "1"} for p in ("a", "b", "c", "d")]
    sampled = (rows("a", [0, 0, 0, 0, 0, 0, 0, 0]) + rows("b", [0, 1, 0, 0, 1, 0, 0, 0]) +
               rows("c", [1, 1, 1, 1, 1, 0, 0, 0]) + rows("d", [0, 0, 0, 0, 0, 0, 0, 1]))
    chosen = select_problems(items, sampled, 0.125, 0.5, limit=10)
    assert [c["problem_id"] for c in chosen] == ["b", "d"]
    assert chosen[0]["solution"] == "b-1" and chosen[0]["pass_rate"] == 0.25
    assert [c["problem_id"] for c in select_problems(items, sampled, 0.125, 0.5, limit=1)] == ["b"]


def test_unsolved_problems_fall_back_to_the_reference_only_if_one_exists():
    items = [{"problem_id": "a", "prompt": "a", "answer": "1", "reference": "REF"},
             {"problem_id": "b", "prompt": "b", "answer": "1"}]
    chosen = select_problems(items, rows("a", [0, 0]) + rows("b", [0, 0]), 0.0, 1.0, limit=10)
    assert [(c["problem_id"], c["solution"], c["solution_source"]) for c in chosen] == [("a", "REF", "reference")]


def test_first_correct_prefers_a_correct_row():
    assert first_correct(rows("a", [0, 1, 1]) + rows("b", [0, 0])) == {"a": "a-1", "b": "b-0"}


def test_each_level_reveals_its_part_of_the_solution():
    selected = [{"problem_id": "p", "prompt": "Q", "answer": "5", "solution": SOLUTION}]
    levels = contexts(selected, regen={"p": "R"})
    assert list(levels) == ["none", "s_nothink", "regen", "s"]
    assert levels["none"][0]["prompt"] == "Q"
    assert levels["s_nothink"][0]["context"] == "The answer is \\boxed{5}."
    assert levels["regen"][0]["prompt"] == analysis_teacher_prompt("Q", "R")
    assert levels["s"][0]["prompt"] == analysis_teacher_prompt("Q", SOLUTION)
