"""Normalize: count and value normalizations with edgeR/DESeq2/limma semantics."""
