# Per-cohort stages: ingest -> normalize -> coverage + score (per method) -> associate.


rule ingest:
    input:
        unpack(ingest_inputs),
    output:
        h5ad=temp(f"{RESULTS}/{{cohort}}/ingested.h5ad"),
        mapping=f"{RESULTS}/{{cohort}}/gene_mapping.tsv",
    log:
        f"{RESULTS}/logs/ingest/{{cohort}}.log",
    conda:
        "../../envs/seedsig.yaml"
    params:
        row=lambda wc: dict(cohort_row(wc)),
        collapse=config["ingest"]["collapse"],
    script:
        "../scripts/rule_ingest.py"


rule normalize:
    input:
        unpack(normalize_inputs),
    output:
        f"{RESULTS}/{{cohort}}/expression.h5ad",
    log:
        f"{RESULTS}/logs/normalize/{{cohort}}.log",
    conda:
        "../../envs/seedsig.yaml"
    params:
        method=normalize_method,
        prior_count=config["normalize"]["prior_count"],
        pseudocount=config["normalize"]["pseudocount"],
        size_factors=config["normalize"]["size_factors"],
        filter=config["normalize"]["filter"],
    script:
        "../scripts/rule_normalize.py"


rule coverage:
    input:
        h5ad=f"{RESULTS}/{{cohort}}/expression.h5ad",
        signatures=SIGNATURE_FILES,
    output:
        coverage=f"{RESULTS}/{{cohort}}/coverage.tsv",
        qc=f"{RESULTS}/{{cohort}}/signature_qc.tsv",
    log:
        f"{RESULTS}/logs/coverage/{{cohort}}.log",
    conda:
        "../../envs/seedsig.yaml"
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
        f"{RESULTS}/{{cohort}}/scores/{{method}}.tsv",
    log:
        f"{RESULTS}/logs/score/{{cohort}}.{{method}}.log",
    conda:
        "../../envs/seedsig.yaml"
    params:
        min_genes=config["scoring"]["min_genes"],
        min_fraction=config["scoring"]["min_fraction"],
        method_params=lambda wc: dict(config["scoring"].get(wc.method, {})),
    script:
        "../scripts/rule_score.py"


rule associate:
    input:
        unpack(score_files),
        h5ad=f"{RESULTS}/{{cohort}}/expression.h5ad",
        signatures=SIGNATURE_FILES,
    output:
        correlations=f"{RESULTS}/{{cohort}}/correlations.tsv",
        prerank=f"{RESULTS}/{{cohort}}/prerank.tsv",
    log:
        f"{RESULTS}/logs/associate/{{cohort}}.log",
    conda:
        "../../envs/seedsig.yaml"
    params:
        methods=METHODS,
        focal=FOCAL,
        targets=TARGETS,
        settings=lambda wc: COHORT_SETTINGS[wc.cohort]["associate"],
        scoring=config["scoring"],
    script:
        "../scripts/rule_associate.py"


rule survival:
    input:
        unpack(score_files),
        h5ad=f"{RESULTS}/{{cohort}}/expression.h5ad",
        signatures=SIGNATURE_FILES,
    output:
        survival=f"{RESULTS}/{{cohort}}/survival.tsv",
        km=f"{RESULTS}/{{cohort}}/km.tsv",
        logrank=f"{RESULTS}/{{cohort}}/logrank.tsv",
        incidence=f"{RESULTS}/{{cohort}}/cumulative_incidence.tsv",
    log:
        f"{RESULTS}/logs/survival/{{cohort}}.log",
    conda:
        "../../envs/seedsig.yaml"
    params:
        methods=METHODS,
        focal=FOCAL,
        settings=lambda wc: COHORT_SETTINGS[wc.cohort]["survival"],
        scoring=config["scoring"],
    script:
        "../scripts/rule_survival.py"
