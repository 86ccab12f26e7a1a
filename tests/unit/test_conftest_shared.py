"""../shared in CI: a missing dataset fails the test there (issue 15 item 7), and is a skip on a laptop."""

import conftest
import pytest


def test_missing_shared_file_skips_locally_and_fails_in_ci(monkeypatch, tmp_path):
    monkeypatch.setattr(conftest, "DATASETS", tmp_path)
    (tmp_path / "present.tsv").write_text("x\n")
    monkeypatch.delenv("CI", raising=False)
    assert conftest.shared_file("present.tsv") == tmp_path / "present.tsv"
    with pytest.raises(pytest.skip.Exception):
        conftest.shared_file("absent.tsv")
    monkeypatch.setenv("CI", "1")
    with pytest.raises(pytest.fail.Exception, match="absent.tsv is missing: CI runs with ../shared"):
        conftest.shared_file("absent.tsv")
    monkeypatch.setenv("CI", "false")
    with pytest.raises(pytest.skip.Exception):
        conftest.shared_file("absent.tsv")
