# seedsig: score the self-seeding signature and organ-specific metastasis signatures across cohorts.
# Run: snakemake --cores all   (see README.md; every config key is documented in config/README.md)
# The workflow is workflow/Snakefile (where the Snakemake workflow catalog expects it); this file only includes it,
# so `snakemake` at the repository root finds it and the workflow profile profiles/default.


include: "workflow/Snakefile"


# An included file's `default_target: True` does not carry over to the including Snakefile: name it again.
workflow.default_target = "all"
