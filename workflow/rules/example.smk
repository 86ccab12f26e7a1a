# The built-in example cohort: simulated by `seedsig simulate` when the sheet names its files.


rule simulate_example:
    output:
        counts=f"{EXAMPLE_DIR}/counts.tsv.gz",
        clinical=f"{EXAMPLE_DIR}/clinical.tsv",
        truth=f"{EXAMPLE_DIR}/truth.json",
    log:
        f"{RESULTS}/logs/simulate_example.log",
    conda:
        "../../envs/seedsig.yaml"
    threads: job_threads("simulate_example")
    resources:
        **job_resources("simulate_example"),
    params:
        seed=config["example"]["seed"],
        n_samples=config["example"]["n_samples"],
        n_genes=config["example"]["n_genes"],
        signature_dir=str(ROOT / "config" / "signatures"),
    script:
        "../scripts/rule_simulate_example.py"


rule simulate_single_cell_example:
    output:
        f"{EXAMPLE_DIR}/single_cell.h5ad",
    log:
        f"{RESULTS}/logs/simulate_single_cell_example.log",
    conda:
        "../../envs/seedsig.yaml"
    threads: job_threads("simulate_single_cell_example")
    resources:
        **job_resources("simulate_single_cell_example"),
    params:
        seed=config["example"]["seed"],
    script:
        "../scripts/rule_simulate_single_cell.py"
