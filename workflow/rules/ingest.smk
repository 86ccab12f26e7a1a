# Ingest: a cohort's expression, clinical table and platform annotation as one AnnData (genes mapped to symbols).


rule ingest:
    input:
        unpack(ingest_inputs),
    output:
        h5ad=temp(cohort_file("ingested")),
        mapping=cohort_file("gene_mapping"),
        clinical=cohort_file("clinical"),
        mapping_json=sidecar(cohort_file("gene_mapping")),
        clinical_json=sidecar(cohort_file("clinical")),
    log:
        f"{RESULTS}/logs/ingest/{{cohort}}.log",
    conda:
        "../../envs/seedsig.yaml"
    threads: job_threads("ingest")
    resources:
        **job_resources("ingest"),
    params:
        settings=ingest_settings,
        collapse=config["ingest"]["collapse"],
    script:
        "../scripts/rule_ingest.py"
