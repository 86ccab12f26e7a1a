"""Association: correlation of the self-seeding score with organ signatures, and prerank GSEA."""
