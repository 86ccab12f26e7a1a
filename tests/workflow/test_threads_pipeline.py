"""The score rule passes its threads to the code, and its scores do not depend on them (byte for byte)."""

import pytest
from conftest import new_workdir, run_snakemake, write_cohort

pytestmark = pytest.mark.slow

METHODS = ("ssgsea", "gsva", "singscore")


def test_score_rule_one_and_two_threads_write_the_same_bytes(tmp_path):
    wd = new_workdir(tmp_path)
    files = write_cohort(wd)
    files["config"].write_text(files["config"].read_text() + f"scoring: {{methods: [{', '.join(METHODS)}]}}\n")
    targets = [f"results/tiny/scores/{m}.tsv" for m in METHODS]
    runs = []
    for threads in (1, 2):
        run_snakemake(
            wd,
            "--configfile",
            str(files["config"]),
            "--set-threads",
            f"score={threads}",
            "--forcerun",
            "score",
            *targets,
        )
        runs.append({t: (wd / t).read_bytes() for t in targets})
        for m in METHODS:
            log = (wd / f"results/logs/score/tiny.{m}.log").read_text()
            assert f"on {threads} thread(s)" in log
    assert runs[0] == runs[1]
