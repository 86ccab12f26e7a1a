# Score: signature coverage and QC, the scores per method, and per-cell scores of single-cell cohorts.


rule coverage:
    input:
        h5ad=cohort_file("expression"),
        signatures=SIGNATURE_FILES,
    output:
        coverage=tsv_report(
            cohort_file("coverage"),
            "../report/coverage.rst",
            "coverage and scores",
            "coverage",
        ),
        qc=tsv_report(
            cohort_file("signature_qc"),
            "../report/signature_qc.rst",
            "coverage and scores",
            "signature_qc",
        ),
        coverage_json=sidecar(cohort_file("coverage")),
        qc_json=sidecar(cohort_file("signature_qc")),
    log:
        f"{RESULTS}/logs/coverage/{{cohort}}.log",
    conda:
        "../../envs/seedsig.yaml"
    threads: job_threads("coverage")
    resources:
        **job_resources("coverage"),
    params:
        min_genes=config["scoring"]["min_genes"],
        min_fraction=config["scoring"]["min_fraction"],
    script:
        "../scripts/rule_coverage.py"


rule score:
    input:
        h5ad=cohort_file("expression"),
        signatures=SIGNATURE_FILES,
    output:
        scores=tsv_report(
            cohort_file("scores"),
            "../report/scores.rst",
            "coverage and scores",
            "scores",
            method="{method}",
        ),
        scores_json=sidecar(cohort_file("scores")),
    log:
        f"{RESULTS}/logs/score/{{cohort}}.{{method}}.log",
    conda:
        "../../envs/seedsig.yaml"
    threads: job_threads("score")
    resources:
        **job_resources("score"),
    params:
        min_genes=config["scoring"]["min_genes"],
        min_fraction=config["scoring"]["min_fraction"],
        method_params=lambda wc: dict(config["scoring"].get(wc.method, {})),
    script:
        "../scripts/rule_score.py"


rule cell_scores:
    input:
        unpack(ingest_inputs),
        signatures=SIGNATURE_FILES,
    output:
        cell_scores=cohort_file("cell_scores"),
        cell_scores_json=sidecar(cohort_file("cell_scores")),
    log:
        f"{RESULTS}/logs/cell_scores/{{cohort}}.{{method}}.log",
    conda:
        "../../envs/seedsig.yaml"
    threads: job_threads("cell_scores")
    resources:
        **job_resources("cell_scores"),
    params:
        chunk_cells=config["single_cell"]["chunk_cells"],
        row=lambda wc: dict(cohort_row(wc)),
        min_genes=config["scoring"]["min_genes"],
        min_fraction=config["scoring"]["min_fraction"],
        method_params=lambda wc: dict(config["scoring"].get(wc.method, {})),
    script:
        "../scripts/rule_cell_scores.py"
