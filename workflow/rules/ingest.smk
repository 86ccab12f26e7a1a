# Ingest: a cohort's expression, clinical table and platform annotation as one AnnData (genes mapped to symbols).


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
    threads: 1
    resources:
        mem_mb=JOB_MEM_MB,
        runtime=JOB_RUNTIME,
    params:
        settings=ingest_settings,
        collapse=config["ingest"]["collapse"],
    script:
        "../scripts/rule_ingest.py"
