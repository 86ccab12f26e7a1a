"""seedsig: self-seeding and organ-specific metastasis signatures across tumour cohorts."""

__version__ = "0.1.0"
