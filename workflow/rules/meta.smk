# Meta-analysis across cohorts: per-cohort correlations and hazard ratios pooled (never raw scores).


rule meta:
    input:
        correlations=[f"{RESULTS}/{c}/correlations.tsv" for c in COHORTS],
        survival=[f"{RESULTS}/{c}/survival.tsv" for c in COHORTS],
    output:
        correlations=meta_report(
            f"{META}/correlations.tsv",
            "../report/meta_correlations.rst",
            "correlations",
        ),
        survival=meta_report(
            f"{META}/survival.tsv", "../report/meta_survival.rst", "survival"
        ),
    log:
        f"{RESULTS}/logs/meta.log",
    conda:
        "../../envs/seedsig.yaml"
    threads: 1
    resources:
        mem_mb=JOB_MEM_MB,
        runtime=JOB_RUNTIME,
    params:
        cohorts=COHORTS,
    script:
        "../scripts/rule_meta.py"
