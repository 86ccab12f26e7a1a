# Regenerate the edgeR golden values used by tests/test_normalize.py (needs r-bioc-edger; tests need no R).
# Run from the repository root: Rscript tests/golden/normalize/make_golden.R
suppressMessages(library(edgeR))
src <- "../shared/datasets/airway_rnaseq_counts/airway_counts.tsv.gz"
out <- "tests/golden/normalize"
x <- as.matrix(read.delim(gzfile(src), row.names=1, check.names=FALSE))
y <- calcNormFactors(DGEList(x), method="TMM")
write.table(data.frame(sample=colnames(x), lib_size=y$samples$lib.size, norm_factor=sprintf("%.17g", y$samples$norm.factors)),
            file.path(out, "airway_tmm_factors.tsv"), sep="\t", quote=FALSE, row.names=FALSE)
lc <- cpm(y, log=TRUE, prior.count=2)
lc0 <- cpm(DGEList(x), log=TRUE, prior.count=2)
# every 200th gene keeps the file small while covering zeros, low and high counts
idx <- seq(1, nrow(x), by=200)
fmt <- function(m) { d <- as.data.frame(apply(m[idx, ], 2, function(v) sprintf("%.17g", v))); cbind(gene=rownames(x)[idx], d) }
write.table(fmt(lc), file.path(out, "airway_tmm_logcpm.tsv"), sep="\t", quote=FALSE, row.names=FALSE)
write.table(fmt(lc0), file.path(out, "airway_logcpm.tsv"), sep="\t", quote=FALSE, row.names=FALSE)
writeLines(c(paste("edgeR", packageVersion("edgeR")), R.version.string), file.path(out, "VERSIONS.txt"))
