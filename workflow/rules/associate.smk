# Associate: the focal signatures' correlations with the target signatures (random-signature null, bootstrap
# intervals) and the preranked gene-set test.


rule associate:
    input:
        unpack(score_files),
        h5ad=f"{RESULTS}/{{cohort}}/expression.h5ad",
        signatures=SIGNATURE_FILES,
    output:
        correlations=tsv_report(
            f"{RESULTS}/{{cohort}}/correlations.tsv",
            "../report/correlations.rst",
            "association",
            "correlations",
        ),
        prerank=tsv_report(
            f"{RESULTS}/{{cohort}}/prerank.tsv",
            "../report/prerank.rst",
            "association",
            "prerank",
        ),
    log:
        f"{RESULTS}/logs/associate/{{cohort}}.log",
    conda:
        "../../envs/seedsig.yaml"
    threads: 1
    resources:
        mem_mb=JOB_MEM_MB,
        runtime=JOB_RUNTIME,
    params:
        methods=RUN_METHODS,
        focal=FOCAL,
        targets=TARGETS,
        settings=lambda wc: COHORT_SETTINGS[wc.cohort]["associate"],
        scoring=config["scoring"],
    script:
        "../scripts/rule_associate.py"
