# Meta-analysis across cohorts: per-cohort correlations and hazard ratios pooled (never raw scores).


rule meta:
    input:
        correlations=[f"{RESULTS}/{c}/correlations.tsv" for c in COHORTS],
        survival=[f"{RESULTS}/{c}/survival.tsv" for c in COHORTS],
    output:
        correlations=f"{META}/correlations.tsv",
        survival=f"{META}/survival.tsv",
    log:
        f"{RESULTS}/logs/meta.log",
    conda:
        "../../envs/seedsig.yaml"
    params:
        cohorts=COHORTS,
    script:
        "../scripts/rule_meta.py"
