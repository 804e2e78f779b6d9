"""What changes a stage's code hash, on a small package written for each test, and on the real one."""
import textwrap

import pytest

from selfdistill.lineage.codehash import code_hash, package_dir

# two stages: `count` uses util.count_words (which uses util.SEPARATOR), `shout` uses text.shout
PACKAGE = {
    "__init__.py": '"""A package."""\n',
    "stages/__init__.py": "",
    "stages/cli.py": "def run(step):\n    return step()\n",
    "stages/count.py": """
        '''Stage: counts words.'''
        from selfdistill.stages.cli import run
        from selfdistill.util import count_words


        def main():
            return run(lambda: count_words("a b"))


        if __name__ == "__main__":
            main()
        """,
    "stages/shout.py": """
        from selfdistill import text
        from selfdistill.stages.cli import run


        def main():
            return run(lambda: text.shout("a"))


        if __name__ == "__main__":
            main()
        """,
    "util.py": """
        import re

        SEPARATOR = r"\\s+"


        def count_words(line):
            '''How many words.'''
            return len(re.split(SEPARATOR, line))
        """,
    "text.py": "def shout(word):\n    return word.upper()\n",
}


@pytest.fixture
def package(tmp_path):
    root = tmp_path / "selfdistill"
    for name, source in PACKAGE.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(textwrap.dedent(source))
    return root


def hashes(root):
    return {stage: code_hash(f"selfdistill.stages.{stage}", root) for stage in ("count", "shout")}


def edit(path, old, new):
    source = path.read_text()
    assert old in source
    path.write_text(source.replace(old, new))


def test_comments_docstrings_and_formatting_change_nothing(package):
    before = hashes(package)
    edit(package / "util.py", "'''How many words.'''", "'''The number of words.'''  # split on whitespace")
    edit(package / "util.py", "return len(re.split(SEPARATOR, line))",
         "return len(\n        re.split(SEPARATOR,\n                 line)\n    )")
    edit(package / "stages/count.py", "'''Stage: counts words.'''", '"""Stage: the word count."""\n# a comment')
    assert hashes(package) == before


def test_moving_a_function_to_another_module_changes_nothing(package):
    before = hashes(package)
    # count_words and its constant move to text.py; count imports them from there, under an alias
    (package / "util.py").unlink()
    (package / "text.py").write_text(textwrap.dedent(PACKAGE["util.py"]) + PACKAGE["text.py"])
    edit(package / "stages/count.py", "from selfdistill.util import count_words",
         "from selfdistill.text import count_words as words")
    edit(package / "stages/count.py", 'count_words("a b")', 'words("a b")')
    assert hashes(package) == before


def test_moving_a_module_changes_nothing(package):
    before = hashes(package)
    (package / "words").mkdir()
    (package / "words/__init__.py").write_text("")
    (package / "text.py").rename(package / "words/text.py")
    edit(package / "stages/shout.py", "from selfdistill import text", "import selfdistill.words.text as text")
    assert hashes(package) == before


def test_a_changed_function_changes_the_stages_that_use_it_only(package):
    before = hashes(package)
    edit(package / "text.py", "word.upper()", "word.upper() + '!'")
    after = hashes(package)
    assert after["shout"] != before["shout"] and after["count"] == before["count"]


def test_a_changed_constant_changes_the_stages_that_use_it(package):
    before = hashes(package)
    edit(package / "util.py", r'r"\s+"', r'r"\s"')
    after = hashes(package)
    assert after["count"] != before["count"] and after["shout"] == before["shout"]


def test_a_shared_function_changes_every_stage_and_an_unused_one_none(package):
    before = hashes(package)
    (package / "text.py").write_text(PACKAGE["text.py"] + "\n\ndef unused():\n    return 1\n")
    assert hashes(package) == before
    edit(package / "stages/cli.py", "return step()", "return step() or None")
    assert all(before[stage] != now for stage, now in hashes(package).items())


def test_what_an_outside_name_means_counts(package):
    before = hashes(package)
    edit(package / "util.py", "import re", "import regex as re")
    assert hashes(package)["count"] != before["count"]


def test_the_real_stages_hash_apart():
    assert code_hash("selfdistill.stages.world") != code_hash("selfdistill.stages.richness_table")
    assert len(code_hash("selfdistill.stages.world")) == 64
    assert code_hash("selfdistill.stages.world", package_dir()) == code_hash("selfdistill.stages.world")


def test_an_unknown_stage_is_named_with_the_valid_ones():
    with pytest.raises(ValueError, match=r"'selfdistill.stages.nope' is not a module.*selfdistill.stages.sample"):
        code_hash("selfdistill.stages.nope")


def test_names_imported_through_a_star_import_are_followed(package):
    before = hashes(package)
    (package / "words").mkdir()
    (package / "words/__init__.py").write_text("from selfdistill.text import *\n")
    edit(package / "stages/shout.py", "from selfdistill import text", "import selfdistill.words as text")
    assert hashes(package) == before
    edit(package / "text.py", "word.upper()", "word.lower()")
    assert hashes(package)["shout"] != before["shout"]


def test_a_name_made_at_run_time_counts_with_its_whole_module(package):
    (package / "util.py").write_text('globals().update(count_words=lambda line: len(line.split()))\n')
    before = hashes(package)
    edit(package / "util.py", "line.split()", "line.split(' ')")
    assert hashes(package)["count"] != before["count"]
