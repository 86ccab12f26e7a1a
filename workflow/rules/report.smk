# The run's report: one standalone HTML file over every cohort of the sheet, and every figure of it in
# results/figures/ as SVG and PDF (registered for `snakemake --report report.zip`). The figures are declared one
# by one: their names follow from the config, the sheet and the signature files (seedsig.core.layout spells
# them); a figure the data do not allow is written as a "not drawn: why" placeholder.


rule report:
    input:
        [out for c in COHORTS for out in cohort_outputs(c)],
        signatures=SIGNATURE_FILES,
        meta=META_OUTPUTS,
        meta_json=[sidecar(m) for m in META_OUTPUTS],
    output:
        html=report(
            REPORT,
            caption="../report/figures_html_report.rst",
            category="Report",
        ),
        figures=figure_outputs(),
    log:
        f"{RESULTS}/logs/report.log",
    conda:
        "../../envs/seedsig.yaml"
    threads: job_threads("report")
    resources:
        **job_resources("report"),
    params:
        cohorts={c: f"{RESULTS}/{c}" for c in COHORTS},
        meta=lambda wc, input: str(Path(input.meta[0]).parent),
        focal=FOCAL,
        primary_method=config["report"]["primary_method"],
        figure_plan=FIGURE_PLAN,
        config=config,
        # every input file named in the sheet (sha256 in the report's Methods), then the configuration
        input_files=[
            (f"{c}: {col}", str(SHEET.loc[c, col]))
            for c in COHORTS
            for col in ("expression", "clinical", "platform_annotation")
            if col in SHEET.columns and SHEET.loc[c, col]
        ]
        + [("cohort sheet", str(config["cohorts"]))]
        + [("configuration", str(f)) for f in workflow.configfiles]
        + (
            [("gene lengths", str(config["normalize"]["gene_lengths"]))]
            if config["normalize"].get("gene_lengths")
            else []
        ),
    script:
        "../scripts/rule_report.py"
