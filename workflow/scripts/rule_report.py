"""Rule report: results/report.html over every cohort, and every figure in results/figures/ (SVG + PDF)."""

from seedsig.pipeline import run_rule


def main(smk):
    from seedsig.report import build_report
    from seedsig.signatures import load_signatures

    config = dict(smk.params.config)
    methods = list(config.get("scoring", {}).get("methods", [smk.params.primary_method]))
    primary = smk.params.primary_method if smk.params.primary_method in methods else methods[0]
    signature_files = list(smk.input.signatures)
    inputs = [*map(tuple, smk.params.input_files), *(("signatures", f) for f in signature_files)]
    build_report(
        dict(smk.params.cohorts),
        smk.output.html,
        signatures=load_signatures(signature_files),
        config=config,
        focal=tuple(smk.params.focal),
        primary_method=primary,
        meta_dir=smk.params.meta,
        figures_dir=smk.output.figures,
        input_files=inputs,
    )


run_rule(snakemake, main)  # noqa: F821
