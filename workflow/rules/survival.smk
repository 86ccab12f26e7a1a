# Survival: Cox models of the focal signatures per endpoint, Kaplan-Meier curves, log-rank tests and the
# cumulative incidence of relapse by site.


rule survival:
    input:
        unpack(score_files),
        h5ad=f"{RESULTS}/{{cohort}}/expression.h5ad",
        signatures=SIGNATURE_FILES,
    output:
        survival=tsv_report(
            f"{RESULTS}/{{cohort}}/survival.tsv",
            "../report/survival.rst",
            "survival",
            "survival",
        ),
        km=tsv_report(
            f"{RESULTS}/{{cohort}}/km.tsv",
            "../report/km.rst",
            "survival",
            "km",
        ),
        logrank=tsv_report(
            f"{RESULTS}/{{cohort}}/logrank.tsv",
            "../report/logrank.rst",
            "survival",
            "logrank",
        ),
        incidence=tsv_report(
            f"{RESULTS}/{{cohort}}/cumulative_incidence.tsv",
            "../report/cumulative_incidence.rst",
            "survival",
            "cumulative_incidence",
        ),
    log:
        f"{RESULTS}/logs/survival/{{cohort}}.log",
    conda:
        "../../envs/seedsig.yaml"
    threads: 1
    resources:
        mem_mb=JOB_MEM_MB,
        runtime=JOB_RUNTIME,
    params:
        methods=RUN_METHODS,
        focal=FOCAL,
        settings=lambda wc: COHORT_SETTINGS[wc.cohort]["survival"],
        scoring=config["scoring"],
    script:
        "../scripts/rule_survival.py"
