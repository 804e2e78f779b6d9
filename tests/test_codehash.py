import pytest

from selfdistill.codehash import code_hash, module_files, package_dir


def files(module):
    return {p.relative_to(package_dir()).as_posix() for p in module_files(module)}


def test_a_stage_hash_covers_what_it_imports_transitively_and_nothing_else():
    table = files("selfdistill.stages.richness_table")
    # direct imports, cli's own import of provenance, and the package __init__ files import runs
    assert {"stages/richness_table.py", "analysis.py", "templates.py", "stages/cli.py", "provenance.py",
            "__init__.py", "stages/__init__.py"} <= table
    assert "sampling.py" not in table and "arith.py" not in table


def test_relative_and_from_package_imports_are_followed():
    assert {"arith.py", "metrics.py", "templates.py"} <= files("selfdistill.arith_corpus")  # from .arith import
    assert "arith.py" in files("selfdistill.worlds")  # from . import arith


def test_stages_with_different_code_hash_differently():
    assert code_hash("selfdistill.stages.world") != code_hash("selfdistill.stages.richness_table")
    assert len(code_hash("selfdistill.stages.world")) == 64


def test_an_unknown_stage_is_named_with_the_valid_ones():
    with pytest.raises(ValueError, match=r"'selfdistill.stages.nope' is not a module.*selfdistill.stages.sample"):
        code_hash("selfdistill.stages.nope")
