# Regenerate the edgeR golden values used by tests/test_normalize.py (needs r-bioc-edger; tests need no R).
# Also edgeR upper-quartile / filterByExpr, DESeq2 size factors / VST and limma quantile goldens (needs limma, DESeq2;
# see README.md in this folder for what each file holds).
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

# ---- helpers for the goldens below -------------------------------------------------------------------------------
f17 <- function(v) sprintf("%.17g", v)
wtsv <- function(d, name) write.table(d, file.path(out, name), sep="\t", quote=FALSE, row.names=FALSE)
wtsvgz <- function(d, name) { con <- gzfile(file.path(out, name), "w"); write.table(d, con, sep="\t", quote=FALSE, row.names=FALSE); close(con) }
# rows `rows` of matrix m as a data.frame: gene id column + %.17g columns
fmtm <- function(m, rows) { d <- as.data.frame(apply(m[rows, , drop=FALSE], 2, f17), check.names=FALSE); cbind(gene=rownames(m)[rows], d) }

# ---- 1. edgeR upper-quartile on airway ------------------------------------------------------------------------------
yuq <- calcNormFactors(DGEList(x), method="upperquartile")
wtsv(data.frame(sample=colnames(x), lib_size=yuq$samples$lib.size, norm_factor=f17(yuq$samples$norm.factors)), "airway_uq_factors.tsv")
wtsv(fmtm(cpm(yuq, log=TRUE, prior.count=2), idx), "airway_uq_logcpm.tsv")

# ---- 2. edgeR filterByExpr (airway: no group; BRCA: no group and tumour/normal) -------------------------------------
keep <- suppressWarnings(filterByExpr(DGEList(x)))   # warns "All samples appear to belong to the same group."
wtsvgz(data.frame(gene=rownames(x), keep=keep), "airway_filterbyexpr.tsv.gz")
yf <- calcNormFactors(DGEList(x)[keep, , keep.lib.sizes=FALSE], method="TMM")
wtsv(data.frame(sample=colnames(x), lib_size=yf$samples$lib.size, norm_factor=f17(yf$samples$norm.factors)), "airway_filtered_tmm_factors.tsv")
idxf <- seq(1, nrow(yf), by=50)   # every 50th gene of the filtered matrix
wtsv(fmtm(cpm(yf, log=TRUE, prior.count=2), idxf), "airway_filtered_tmm_logcpm.tsv")

brca <- as.matrix(read.delim(gzfile("../shared/datasets/tcga_brca_10samples_tcgabiolinks/dataBRCA_counts.tsv.gz"),
                             row.names=1, check.names=FALSE))
# sample type = 4th barcode field: 01A primary tumour, 11A solid tissue normal
stype <- substr(sapply(strsplit(colnames(brca), "-"), `[`, 4), 1, 2)
stopifnot(all(stype %in% c("01", "11")))
bgroup <- factor(ifelse(stype == "01", "tumour", "normal"), levels=c("tumour", "normal"))
keep_nogroup <- suppressWarnings(filterByExpr(DGEList(brca)))
keep_group <- filterByExpr(DGEList(brca), group=bgroup)
wtsvgz(data.frame(gene=rownames(brca), keep_nogroup=keep_nogroup, keep_group=keep_group), "brca_filterbyexpr.tsv.gz")

# ---- 3./4. DESeq2 size factors, normalized log counts, VST ----------------------------------------------------------
suppressMessages(library(DESeq2))
cd <- data.frame(row.names=colnames(x), c=rep(1, ncol(x)))
dds <- estimateSizeFactors(DESeqDataSetFromMatrix(x, cd, ~1))
ddsp <- estimateSizeFactors(DESeqDataSetFromMatrix(x, cd, ~1), type="poscounts")
wtsv(data.frame(sample=colnames(x), size_factor=f17(sizeFactors(dds)), size_factor_poscounts=f17(sizeFactors(ddsp))),
     "airway_deseq2_size_factors.tsv")
wtsv(fmtm(log2(counts(dds, normalized=TRUE) + 1), idx), "airway_deseq2_log.tsv")

# every gene has a zero: genes with total >= 10, then column (i mod 8) set to 0 for the i-th such gene (i from 0);
# the fixture is the first 3000 of them
z <- x[rowSums(x) >= 10, ][1:3000, ]
z[cbind(seq_len(nrow(z)), (seq_len(nrow(z)) - 1) %% ncol(z) + 1)] <- 0L
stopifnot(all(rowSums(z == 0) >= 1))
wtsvgz(cbind(gene=rownames(z), as.data.frame(z, check.names=FALSE)), "zeros_fixture_counts.tsv.gz")
ddz <- DESeqDataSetFromMatrix(z, cd, ~1)
ratio_err <- tryCatch({ estimateSizeFactors(ddz); "no error" }, error=function(e) conditionMessage(e))
stopifnot(grepl("every gene contains at least one zero", ratio_err))
ddz <- estimateSizeFactors(ddz, type="poscounts")
wtsv(data.frame(sample=colnames(z), size_factor_poscounts=f17(sizeFactors(ddz))), "zeros_fixture_poscounts.tsv")

vsd <- assay(varianceStabilizingTransformation(dds, blind=TRUE, fitType="parametric"))
ddd <- estimateDispersions(dds, fitType="parametric", quiet=TRUE)
stopifnot(attr(dispersionFunction(ddd), "fitType") == "parametric")
coefs <- attr(dispersionFunction(ddd), "coefficients")
# the VST used the same fit (estimateDispersionsGeneEst + estimateDispersionsFit on the blind ~1 design)
q <- counts(dds, normalized=TRUE)
vcheck <- log((1 + coefs["extraPois"] + 2*coefs["asymptDisp"]*q + 2*sqrt(coefs["asymptDisp"]*q*(1 + coefs["extraPois"] + coefs["asymptDisp"]*q))) /
              (4*coefs["asymptDisp"])) / log(2)
stopifnot(max(abs(vcheck - vsd)) == 0)
wtsv(fmtm(vsd, idx), "airway_deseq2_vst.tsv")
wtsv(data.frame(coefficient=names(coefs), value=f17(unname(coefs))), "airway_deseq2_vst_dispfit.tsv")
mc <- mcols(ddd)
disp <- cbind(baseMean=mc$baseMean, baseVar=mc$baseVar, dispGeneEst=mc$dispGeneEst, dispFit=mc$dispFit, dispersion=mc$dispersion)
rownames(disp) <- rownames(x)
wtsv(cbind(fmtm(disp, idx), allZero=mc$allZero[idx]), "airway_deseq2_dispersions.tsv")

# ---- 5. limma quantile normalization -------------------------------------------------------------------------------
suppressMessages(library(limma))
# (a) van 't Veer log ratios, first 2000 genes (heavily tied: values have 5 significant digits)
vdv <- as.matrix(read.delim(gzfile("../shared/datasets/vdv_vantveer2002_78_randomforestsrc/expression.tsv.gz"),
                            row.names=1, check.names=FALSE))[1:2000, ]
wtsv(fmtm(normalizeBetweenArrays(vdv, method="quantile"), seq(1, 2000, by=20)), "vdv_quantile_limma.tsv")
# (a') GSE1992 log2 ratios, first 2000 genes
g92 <- as.matrix(read.delim(gzfile("../shared/datasets/gse1992_unc_hu2006_survjamda/expression.tsv.gz"),
                            row.names=1, check.names=FALSE))[1:2000, ]
wtsv(fmtm(normalizeBetweenArrays(g92, method="quantile"), seq(1, 2000, by=40)), "gse1992_quantile_limma.tsv")
# (b) GDS507 MAS5 signal, first 5000 probes, log2
con <- gzfile("../shared/datasets/geo_geoquery_extdata_gse781_gds507/GDS507.soft.gz"); soft <- readLines(con); close(con)
tb <- read.delim(text=soft[(grep("^!dataset_table_begin", soft) + 1):(grep("^!dataset_table_end", soft) - 1)],
                 check.names=FALSE, stringsAsFactors=FALSE)
gds <- as.matrix(tb[1:5000, -(1:2)]); rownames(gds) <- tb$ID_REF[1:5000]
stopifnot(!anyNA(gds), all(gds > 0))
lg <- log2(gds)
wtsvgz(fmtm(lg, seq_len(nrow(lg))), "gds507_log2_input.tsv.gz")
wtsv(fmtm(normalizeBetweenArrays(lg, method="quantile"), seq(1, 5000, by=25)), "gds507_quantile_limma.tsv")
# (c) small matrix with many ties and 15 NAs (columns 4 and 6 complete)
set.seed(1)
a <- matrix(round(rnorm(200 * 6)) * 0.5, 200, 6, dimnames=list(sprintf("g%03d", 1:200), paste0("s", 1:6)))
na_pos <- cbind(c(5, 23, 57, 140,  5, 12, 33, 88, 150, 199,  23, 77, 181,  60, 120),
                c(1,  1,  1,   1,  2,  2,  2,  2,   2,   2,   3,  3,   3,   5,   5))
a[na_pos] <- NA
wtsv(fmtm(a, 1:200), "quantile_na_ties_input.tsv")
wtsv(fmtm(normalizeBetweenArrays(a, method="quantile"), 1:200), "quantile_na_ties_limma.tsv")

writeLines(c(paste("edgeR", packageVersion("edgeR")), paste("limma", packageVersion("limma")),
             paste("DESeq2", packageVersion("DESeq2")), R.version.string), file.path(out, "VERSIONS.txt"))

# TMM on small integer counts with many ties (input written by Python, numpy seed 11: 800 genes x 12 samples,
# Poisson with log-normal means): edgeR's tie handling in the A-value trim differs from rnanorm's
xt <- as.matrix(read.delim(file.path(out, "tmm_ties_counts.tsv"), row.names=1, check.names=FALSE))
yt <- calcNormFactors(DGEList(xt), method="TMM")
write.table(data.frame(sample=colnames(xt), norm_factor=sprintf("%.17g", yt$samples$norm.factors)),
            file.path(out, "tmm_ties_factors.tsv"), sep="\t", quote=FALSE, row.names=FALSE)
