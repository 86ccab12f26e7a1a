# Golden scores from R GSVA (1.46 on Debian 12). Run from the repository root after make_inputs.py:
#   Rscript tests/golden/scoring/make_golden.R
suppressMessages(library(GSVA))
d <- "tests/golden/scoring"
wr <- function(m, f) { df <- data.frame(set = rownames(m), apply(m, 2, function(v) sprintf("%.15g", v)), check.names = FALSE); write.table(df, file.path(d, f), sep = "\t", quote = FALSE, row.names = FALSE) }
x <- as.matrix(read.delim(file.path(d, "fixture_expr.tsv"), row.names = 1, check.names = FALSE))
lines <- strsplit(readLines(file.path(d, "fixture_sets.gmt")), "\t")
gs <- setNames(lapply(lines, function(l) l[-(1:2)]), sapply(lines, `[`, 1))
wr(gsva(x, gs, method = "ssgsea", ssgsea.norm = FALSE, min.sz = 1, verbose = FALSE), "fixture_ssgsea.tsv")
wr(gsva(x, gs, method = "ssgsea", ssgsea.norm = TRUE, min.sz = 1, verbose = FALSE), "fixture_ssgsea_norm.tsv")
wr(gsva(x, gs, method = "zscore", min.sz = 1, verbose = FALSE), "fixture_zscore.tsv")
wr(gsva(x, gs, method = "plage", min.sz = 1, verbose = FALSE), "fixture_plage.tsv")
wr(gsva(x, gs, method = "gsva", kcdf = "Gaussian", min.sz = 1, verbose = FALSE), "fixture_gsva_gaussian.tsv")
wr(gsva(x, gs, method = "gsva", kcdf = "Gaussian", mx.diff = FALSE, min.sz = 1, verbose = FALSE), "fixture_gsva_gaussian_nomaxdiff.tsv")
wr(gsva(log2(x), gs, method = "gsva", kcdf = "none", min.sz = 1, verbose = FALSE), "fixture_gsva_none.tsv")
cnt <- as.matrix(read.delim(file.path(d, "fixture_counts.tsv"), row.names = 1, check.names = FALSE))
wr(gsva(cnt, gs, method = "gsva", kcdf = "Poisson", min.sz = 1, verbose = FALSE), "fixture_gsva_poisson.tsv")
# Real cohort: GSE1992 (log ratios, 15,528 genes, IL8 under its old symbol; no NaN)
e <- as.matrix(read.delim(gzfile("../shared/datasets/gse1992_unc_hu2006_survjamda/expression.tsv.gz"), row.names = 1, check.names = FALSE))
ss <- list(SS = c("IL6", "IL8", "FSCN1", "MMP1"), SS_attraction = c("IL6", "IL8"), SS_infiltration = c("FSCN1", "MMP1"))
wr(gsva(e, ss, method = "ssgsea", ssgsea.norm = FALSE, min.sz = 1, verbose = FALSE), "gse1992_ssgsea.tsv")
wr(gsva(e, ss, method = "zscore", min.sz = 1, verbose = FALSE), "gse1992_zscore.tsv")
wr(gsva(e, ss, method = "plage", min.sz = 1, verbose = FALSE), "gse1992_plage.tsv")
writeLines(c(paste("GSVA", packageVersion("GSVA")), R.version.string), file.path(d, "VERSIONS.txt"))
