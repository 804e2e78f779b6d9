"""The README's front page stays short, and what it and the docs point at exists: the files and
rules its commands name, and the pages and files its links name."""
import re
import shlex
from importlib.util import find_spec
from pathlib import Path

import pytest
from conftest import ROOT

FRONT_PAGE_LINES = 120
PAGES = [ROOT / "README.md", ROOT / "config/README.md", *sorted((ROOT / "docs").glob("*.md"))]
RULES = set(re.findall(r"^\s*rule (\w+):", "".join(p.read_text() for p in (ROOT / "workflow/rules").glob("*.smk")),
                       flags=re.M)) | {"all"}
# snakemake options whose next word is their value, not a target
VALUE_OPTIONS = {"--cores", "-c", "--jobs", "-j", "--report", "--profile", "--configfile", "--configfiles"}


def fenced_commands(text: str) -> list[list[str]]:
    """Each command of the page's ```bash blocks as words, `&&` chains split apart."""
    commands = []
    for block in re.findall(r"```bash\n(.*?)```", text, flags=re.S):
        for line in block.splitlines():
            words = shlex.split(line, comments=True)
            while words:
                cut = words.index("&&") if "&&" in words else len(words)
                commands.append(words[:cut])
                words = words[cut + 1:]
    return [c for c in commands if c]


def test_front_page_fits():
    lines = (ROOT / "README.md").read_text().splitlines()
    assert len(lines) <= FRONT_PAGE_LINES, f"README.md has {len(lines)} lines; the front page keeps to {FRONT_PAGE_LINES}"


def test_front_page_commands_name_what_exists():
    commands = fenced_commands((ROOT / "README.md").read_text())
    assert ["bash", "scripts/setup.sh"] in commands and ["python", "-m", "pytest", "-q"] in commands
    for words in commands:
        for word in words:
            # .venv/ is what scripts/setup.sh makes (below)
            if word.endswith((".sh", ".yaml", ".py")) or word.startswith(("scripts/", "config/")):
                assert (ROOT / word).exists(), f"README.md's command {' '.join(words)!r} names {word}, which is not there"
        if words[:2] == ["python", "-m"]:
            assert find_spec(words[2]) is not None, f"README.md runs python -m {words[2]}, which is not importable"
        if words[0] == "snakemake":
            targets = [w for prev, w in zip(words, words[1:]) if not w.startswith("-") and prev not in VALUE_OPTIONS]
            assert set(targets) <= RULES, f"README.md asks snakemake for {set(targets) - RULES}, which no rule is"


def test_setup_script_creates_the_venv_the_commands_activate():
    assert "python3 -m venv .venv" in (ROOT / "scripts/setup.sh").read_text()


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_links_reach_files(page):
    text = page.read_text()
    for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text):
        if "://" in target:
            continue
        assert (page.parent / target).exists(), f"{page.relative_to(ROOT)} links to {target}, which is not there"


def test_inline_commands_name_rules_that_exist():
    """`snakemake ... <target>` in running text: the targets are rules."""
    for page in PAGES:
        for command in re.findall(r"`(snakemake [^`]*)`", page.read_text()):
            words = shlex.split(command)
            targets = [w for prev, w in zip(words, words[1:]) if not w.startswith("-") and prev not in VALUE_OPTIONS
                       and "/" not in w and "<" not in w and not w.endswith(".yaml")]
            assert set(targets) <= RULES, f"{page.relative_to(ROOT)}: `{command}` names {set(targets) - RULES}"
