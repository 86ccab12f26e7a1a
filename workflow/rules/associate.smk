# Associate: the focal signatures' correlations with the target signatures (random-signature null, bootstrap
# intervals) and the preranked gene-set test.


rule associate:
    input:
        unpack(score_files),
        h5ad=cohort_file("expression"),
        signatures=SIGNATURE_FILES,
    output:
        correlations=tsv_report(
            cohort_file("correlations"),
            "../report/correlations.rst",
            "association",
            "correlations",
        ),
        prerank=tsv_report(
            cohort_file("prerank"),
            "../report/prerank.rst",
            "association",
            "prerank",
        ),
        correlations_json=sidecar(cohort_file("correlations")),
        null=cohort_file("null_correlations"),
        null_json=sidecar(cohort_file("null_correlations")),
        prerank_json=sidecar(cohort_file("prerank")),
    log:
        f"{RESULTS}/logs/associate/{{cohort}}.log",
    conda:
        "../../envs/seedsig.yaml"
    threads: job_threads("associate")
    resources:
        **job_resources("associate"),
    params:
        methods=RUN_METHODS,
        focal=FOCAL,
        targets=TARGETS,
        settings=lambda wc: COHORT_SETTINGS[wc.cohort]["associate"],
        scoring=config["scoring"],
    script:
        "../scripts/rule_associate.py"
