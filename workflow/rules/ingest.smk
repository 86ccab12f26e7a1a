# Ingest: a cohort's expression, clinical table and platform annotation as one AnnData (genes mapped to symbols).
from seedsig.core.threads import rule_threads


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
    # big text tables are parsed on threads (pyarrow); --cores caps it
    threads: lambda wildcards, input: rule_threads(input.size_mb)
    resources:
        mem_mb=JOB_MEM_MB,
        runtime=JOB_RUNTIME,
    params:
        settings=ingest_settings,
        collapse=config["ingest"]["collapse"],
    script:
        "../scripts/rule_ingest.py"
