"""pyproject.toml lists the packages explicitly (seedsig.schemas is mapped to workflow/schemas/, the one copy of
the schemas): every package under src/seedsig/ must be listed, or `pip install .` would silently leave it out."""

import tomllib
from conftest import REPO


def test_every_package_of_the_source_tree_is_installed():
    setup = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(setup["packages"])
    src = REPO / "src"
    found = {".".join(p.parent.relative_to(src).parts) for p in (src / "seedsig").rglob("__init__.py")}
    assert found <= listed, f"add to [tool.setuptools] packages in pyproject.toml: {sorted(found - listed)}"
    assert setup["package-dir"]["seedsig.schemas"] == "workflow/schemas"
    assert (REPO / "workflow" / "schemas" / "config.schema.yaml").is_file()


def test_test_modules_have_unique_basenames():
    """pytest imports test modules by basename (rootdir-relative, no packages): two files of one name in
    tests/unit and tests/workflow stop the whole suite at collection."""
    names = [p.name for p in (REPO / "tests").rglob("test_*.py")]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    assert not duplicates, f"rename one of each: {duplicates}"
