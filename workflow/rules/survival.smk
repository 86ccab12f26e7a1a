# Survival: Cox models of the focal signatures per endpoint, Kaplan-Meier curves, log-rank tests and the
# cumulative incidence of relapse by site.


rule survival:
    input:
        unpack(score_files),
        h5ad=cohort_file("expression"),
        signatures=SIGNATURE_FILES,
    output:
        survival=tsv_report(
            cohort_file("survival"),
            "../report/survival.rst",
            "survival",
            "survival",
        ),
        km=tsv_report(
            cohort_file("km"),
            "../report/km.rst",
            "survival",
            "km",
        ),
        logrank=tsv_report(
            cohort_file("logrank"),
            "../report/logrank.rst",
            "survival",
            "logrank",
        ),
        incidence=tsv_report(
            cohort_file("cumulative_incidence"),
            "../report/cumulative_incidence.rst",
            "survival",
            "cumulative_incidence",
        ),
        survival_json=sidecar(cohort_file("survival")),
        km_json=sidecar(cohort_file("km")),
        logrank_json=sidecar(cohort_file("logrank")),
        incidence_json=sidecar(cohort_file("cumulative_incidence")),
    log:
        f"{RESULTS}/logs/survival/{{cohort}}.log",
    conda:
        "../../envs/seedsig.yaml"
    threads: job_threads("survival")
    resources:
        **job_resources("survival"),
    params:
        methods=RUN_METHODS,
        focal=FOCAL,
        settings=lambda wc: COHORT_SETTINGS[wc.cohort]["survival"],
        scoring=config["scoring"],
    script:
        "../scripts/rule_survival.py"
