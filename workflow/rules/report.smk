# The run's report: one standalone HTML file over every cohort of the sheet.


rule report:
    input:
        [out for c in COHORTS for out in cohort_outputs(c)],
        signatures=SIGNATURE_FILES,
        meta=META_OUTPUTS,
    output:
        REPORT,
    log:
        f"{RESULTS}/logs/report.log",
    conda:
        "../../envs/seedsig.yaml"
    params:
        cohorts={c: f"{RESULTS}/{c}" for c in COHORTS},
        meta=lambda wc, input: str(Path(input.meta[0]).parent),
        focal=FOCAL,
        primary_method=config["report"]["primary_method"],
        config=config,
    script:
        "../scripts/rule_report.py"
