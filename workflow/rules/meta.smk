# Meta-analysis across cohorts: per-cohort correlations and hazard ratios pooled (never raw scores).


rule meta:
    input:
        correlations=[f"{RESULTS}/{c}/correlations.tsv" for c in COHORTS],
        survival=[f"{RESULTS}/{c}/survival.tsv" for c in COHORTS],
    output:
        correlations=report(
            f"{META}/correlations.tsv",
            caption="../report/meta_correlations.rst",
            category="Across cohorts",
            subcategory="meta-analysis",
            labels={"table": "correlations"},
        ),
        survival=report(
            f"{META}/survival.tsv",
            caption="../report/meta_survival.rst",
            category="Across cohorts",
            subcategory="meta-analysis",
            labels={"table": "survival"},
        ),
    log:
        f"{RESULTS}/logs/meta.log",
    conda:
        "../../envs/seedsig.yaml"
    params:
        cohorts=COHORTS,
    script:
        "../scripts/rule_meta.py"
