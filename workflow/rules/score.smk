# Score: signature coverage and QC, the scores per method, and per-cell scores of single-cell cohorts.


rule coverage:
    input:
        h5ad=f"{RESULTS}/{{cohort}}/expression.h5ad",
        signatures=SIGNATURE_FILES,
    output:
        coverage=tsv_report(
            f"{RESULTS}/{{cohort}}/coverage.tsv",
            "../report/coverage.rst",
            "coverage and scores",
            "coverage",
        ),
        qc=tsv_report(
            f"{RESULTS}/{{cohort}}/signature_qc.tsv",
            "../report/signature_qc.rst",
            "coverage and scores",
            "signature_qc",
        ),
    log:
        f"{RESULTS}/logs/coverage/{{cohort}}.log",
    conda:
        "../../envs/seedsig.yaml"
    threads: 1
    resources:
        mem_mb=JOB_MEM_MB,
        runtime=JOB_RUNTIME,
    params:
        min_genes=config["scoring"]["min_genes"],
        min_fraction=config["scoring"]["min_fraction"],
    script:
        "../scripts/rule_coverage.py"


rule score:
    input:
        h5ad=f"{RESULTS}/{{cohort}}/expression.h5ad",
        signatures=SIGNATURE_FILES,
    output:
        tsv_report(
            f"{RESULTS}/{{cohort}}/scores/{{method}}.tsv",
            "../report/scores.rst",
            "coverage and scores",
            "scores",
            method="{method}",
        ),
    log:
        f"{RESULTS}/logs/score/{{cohort}}.{{method}}.log",
    conda:
        "../../envs/seedsig.yaml"
    threads: 1
    resources:
        mem_mb=JOB_MEM_MB,
        runtime=JOB_RUNTIME,
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
        f"{RESULTS}/{{cohort}}/cell_scores/{{method}}.tsv.gz",
    log:
        f"{RESULTS}/logs/cell_scores/{{cohort}}.{{method}}.log",
    conda:
        "../../envs/seedsig.yaml"
    threads: 1
    resources:
        mem_mb=JOB_MEM_MB,
        runtime=JOB_RUNTIME,
    params:
        row=lambda wc: dict(cohort_row(wc)),
        min_genes=config["scoring"]["min_genes"],
        min_fraction=config["scoring"]["min_fraction"],
        method_params=lambda wc: dict(config["scoring"].get(wc.method, {})),
    script:
        "../scripts/rule_cell_scores.py"
