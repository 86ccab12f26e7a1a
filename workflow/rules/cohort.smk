# Per-cohort stages: ingest -> normalize -> coverage + score (per method) -> associate.


rule ingest:
    input:
        unpack(ingest_inputs),
    output:
        h5ad=temp(f"{RESULTS}/{{cohort}}/ingested.h5ad"),
        mapping=f"{RESULTS}/{{cohort}}/gene_mapping.tsv",
        clinical=f"{RESULTS}/{{cohort}}/clinical.tsv",
    log:
        f"{RESULTS}/logs/ingest/{{cohort}}.log",
    conda:
        "../../envs/seedsig.yaml"
    params:
        settings=ingest_settings,
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
        coverage=report(
            f"{RESULTS}/{{cohort}}/coverage.tsv",
            caption="../report/coverage.rst",
            category="Cohort {cohort}",
            subcategory="coverage and scores",
            labels={"cohort": "{cohort}", "table": "coverage", "method": "all"},
        ),
        qc=report(
            f"{RESULTS}/{{cohort}}/signature_qc.tsv",
            caption="../report/signature_qc.rst",
            category="Cohort {cohort}",
            subcategory="coverage and scores",
            labels={"cohort": "{cohort}", "table": "signature_qc", "method": "all"},
        ),
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
        report(
            f"{RESULTS}/{{cohort}}/scores/{{method}}.tsv",
            caption="../report/scores.rst",
            category="Cohort {cohort}",
            subcategory="coverage and scores",
            labels={"cohort": "{cohort}", "table": "scores", "method": "{method}"},
        ),
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
        correlations=report(
            f"{RESULTS}/{{cohort}}/correlations.tsv",
            caption="../report/correlations.rst",
            category="Cohort {cohort}",
            subcategory="association",
            labels={"cohort": "{cohort}", "table": "correlations", "method": "all"},
        ),
        prerank=report(
            f"{RESULTS}/{{cohort}}/prerank.tsv",
            caption="../report/prerank.rst",
            category="Cohort {cohort}",
            subcategory="association",
            labels={"cohort": "{cohort}", "table": "prerank", "method": "all"},
        ),
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
        survival=report(
            f"{RESULTS}/{{cohort}}/survival.tsv",
            caption="../report/survival.rst",
            category="Cohort {cohort}",
            subcategory="survival",
            labels={"cohort": "{cohort}", "table": "survival", "method": "all"},
        ),
        km=report(
            f"{RESULTS}/{{cohort}}/km.tsv",
            caption="../report/km.rst",
            category="Cohort {cohort}",
            subcategory="survival",
            labels={"cohort": "{cohort}", "table": "km", "method": "all"},
        ),
        logrank=report(
            f"{RESULTS}/{{cohort}}/logrank.tsv",
            caption="../report/logrank.rst",
            category="Cohort {cohort}",
            subcategory="survival",
            labels={"cohort": "{cohort}", "table": "logrank", "method": "all"},
        ),
        incidence=report(
            f"{RESULTS}/{{cohort}}/cumulative_incidence.tsv",
            caption="../report/cumulative_incidence.rst",
            category="Cohort {cohort}",
            subcategory="survival",
            labels={
                "cohort": "{cohort}",
                "table": "cumulative_incidence",
                "method": "all",
            },
        ),
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
    params:
        row=lambda wc: dict(cohort_row(wc)),
        min_genes=config["scoring"]["min_genes"],
        min_fraction=config["scoring"]["min_fraction"],
        method_params=lambda wc: dict(config["scoring"].get(wc.method, {})),
    script:
        "../scripts/rule_cell_scores.py"
