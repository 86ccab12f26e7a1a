# Per-cohort stages: ingest -> normalize -> coverage + score (per method) -> associate.


rule ingest:
    input:
        unpack(ingest_inputs),
    output:
        h5ad=temp(f"{RESULTS}/{{cohort}}/ingested.h5ad"),
        mapping=f"{RESULTS}/{{cohort}}/gene_mapping.tsv",
    params:
        row=lambda wc: dict(cohort_row(wc)),
        collapse=config["ingest"]["collapse"],
    log:
        f"{RESULTS}/logs/ingest/{{cohort}}.log",
    conda:
        "../../envs/seedsig.yaml"
    script:
        "../scripts/ingest.py"


rule normalize:
    input:
        f"{RESULTS}/{{cohort}}/ingested.h5ad",
    output:
        f"{RESULTS}/{{cohort}}/expression.h5ad",
    params:
        method=normalize_method,
        prior_count=config["normalize"]["prior_count"],
    log:
        f"{RESULTS}/logs/normalize/{{cohort}}.log",
    conda:
        "../../envs/seedsig.yaml"
    script:
        "../scripts/normalize.py"


rule coverage:
    input:
        h5ad=f"{RESULTS}/{{cohort}}/expression.h5ad",
        signatures=SIGNATURE_FILES,
    output:
        f"{RESULTS}/{{cohort}}/coverage.tsv",
    params:
        min_genes=config["scoring"]["min_genes"],
        min_fraction=config["scoring"]["min_fraction"],
    log:
        f"{RESULTS}/logs/coverage/{{cohort}}.log",
    conda:
        "../../envs/seedsig.yaml"
    script:
        "../scripts/coverage.py"


rule score:
    input:
        h5ad=f"{RESULTS}/{{cohort}}/expression.h5ad",
        signatures=SIGNATURE_FILES,
    output:
        f"{RESULTS}/{{cohort}}/scores/{{method}}.tsv",
    params:
        min_genes=config["scoring"]["min_genes"],
        min_fraction=config["scoring"]["min_fraction"],
        method_params=lambda wc: dict(config["scoring"].get(wc.method, {})),
    log:
        f"{RESULTS}/logs/score/{{cohort}}.{{method}}.log",
    conda:
        "../../envs/seedsig.yaml"
    script:
        "../scripts/score.py"


rule associate:
    input:
        unpack(score_files),
        h5ad=f"{RESULTS}/{{cohort}}/expression.h5ad",
    output:
        correlations=f"{RESULTS}/{{cohort}}/correlations.tsv",
        survival=f"{RESULTS}/{{cohort}}/survival.tsv",
    params:
        methods=METHODS,
        focal=FOCAL,
        targets=TARGETS,
    log:
        f"{RESULTS}/logs/associate/{{cohort}}.log",
    conda:
        "../../envs/seedsig.yaml"
    script:
        "../scripts/associate.py"
