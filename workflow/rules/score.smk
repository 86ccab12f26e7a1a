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
        # signature_qc.tsv's top_variance_gene: contributions under the report's summary method
        qc_method=FIGURE_PLAN["primary"],
        qc_params=dict(config["scoring"].get(FIGURE_PLAN["primary"], {})),
    script:
        "../scripts/rule_coverage.py"


rule reference:
    input:
        h5ad=lambda wc: cohort_file("expression", REFERENCE_VALUE),
        signatures=SIGNATURE_FILES,
    output:
        reference=layout.reference_file(),
        reference_json=sidecar(layout.reference_file()),
    log:
        f"{RESULTS}/logs/reference/{{method}}.log",
    conda:
        "../../envs/seedsig.yaml"
    threads: job_threads("reference")
    resources:
        **job_resources("reference"),
    params:
        cohort=REFERENCE_VALUE,
        min_genes=config["scoring"]["min_genes"],
        min_fraction=config["scoring"]["min_fraction"],
        method_params=lambda wc: dict(config["scoring"].get(wc.method, {})),
    script:
        "../scripts/rule_reference.py"


rule score:
    input:
        unpack(reference_input),
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
        reference=lambda wc: reference_input(wc).get("reference", ""),
    script:
        "../scripts/rule_score.py"


rule contributions:
    input:
        h5ad=cohort_file("expression"),
        signatures=SIGNATURE_FILES,
    output:
        contributions=tsv_report(
            cohort_file("contributions"),
            "../report/contributions.rst",
            "coverage and scores",
            "contributions",
            method="{method}",
        ),
        contributions_json=sidecar(cohort_file("contributions")),
    log:
        f"{RESULTS}/logs/contributions/{{cohort}}.{{method}}.log",
    conda:
        "../../envs/seedsig.yaml"
    threads: job_threads("contributions")
    resources:
        **job_resources("contributions"),
    params:
        min_genes=config["scoring"]["min_genes"],
        min_fraction=config["scoring"]["min_fraction"],
        method_params=lambda wc: dict(config["scoring"].get(wc.method, {})),
        select=CONTRIBUTION_SIGNATURES,
        signatures=CONTRIBUTION_SIGNATURES or "all",
    script:
        "../scripts/rule_contributions.py"


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
