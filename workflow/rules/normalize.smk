# Normalize: the ingested cohort -> expression.h5ad on the log scale (the method set per data type).


rule normalize:
    input:
        unpack(normalize_inputs),
    output:
        cohort_file("expression"),
    log:
        f"{RESULTS}/logs/normalize/{{cohort}}.log",
    conda:
        "../../envs/seedsig.yaml"
    threads: job_threads("normalize")
    resources:
        **job_resources("normalize"),
    params:
        method=normalize_method,
        prior_count=config["normalize"]["prior_count"],
        pseudocount=config["normalize"]["pseudocount"],
        size_factors=config["normalize"]["size_factors"],
        filter=config["normalize"]["filter"],
    script:
        "../scripts/rule_normalize.py"
