# Meta-analysis across cohorts: per-cohort correlations and hazard ratios pooled (never raw scores).


rule meta:
    input:
        correlations=[cohort_file("correlations", c) for c in COHORTS],
        survival=[cohort_file("survival", c) for c in COHORTS],
        survival_json=[sidecar(cohort_file("survival", c)) for c in COHORTS],
    output:
        correlations=meta_report(
            META_OUTPUTS[0],
            "../report/meta_correlations.rst",
            "correlations",
        ),
        survival=meta_report(META_OUTPUTS[1], "../report/meta_survival.rst", "survival"),
        correlations_json=sidecar(META_OUTPUTS[0]),
        survival_json=sidecar(META_OUTPUTS[1]),
    log:
        f"{RESULTS}/logs/meta.log",
    conda:
        "../../envs/seedsig.yaml"
    threads: job_threads("meta")
    resources:
        **job_resources("meta"),
    params:
        cohorts=COHORTS,
    script:
        "../scripts/rule_meta.py"
