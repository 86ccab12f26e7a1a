# Golden partial correlations from R ppcor::pcor.test, and BH q-values from p.adjust.
# Run from the repository root: Rscript tests/golden/associate/make_golden.R
# (ppcor 1.1 is pure R: R CMD INSTALL its CRAN source if it is not installed.)
suppressMessages(library(ppcor))
d <- "tests/golden/associate"
set.seed(2010)
n <- 60
z1 <- rnorm(n)
grp <- sample(c("low", "mid", "high"), n, replace = TRUE)
a <- 0.6 * z1 + 0.5 * (grp == "high") + rnorm(n)
b <- 0.5 * z1 - 0.4 * (grp == "mid") + 0.3 * a + rnorm(n)
b <- round(b, 1)  # ties for the Spearman case
a[c(3, 17)] <- NA
z1[25] <- NA
grp[40] <- NA
inp <- data.frame(sample = sprintf("P%02d", seq_len(n)), a = sprintf("%.15g", a), b = sprintf("%.15g", b), z1 = sprintf("%.15g", z1), grp = grp)
write.table(inp, file.path(d, "partial_input.tsv"), sep = "\t", quote = FALSE, row.names = FALSE, na = "NA")

ok <- complete.cases(a, b, z1, grp)
Z <- model.matrix(~ z1 + grp, data = data.frame(z1 = z1, grp = grp)[ok, ])  # complete cases; dummies with the first sorted level (high) as reference
Z <- Z[, colnames(Z) != "(Intercept)", drop = FALSE]
cases <- list(both = Z, numeric = Z[, "z1", drop = FALSE], none = NULL)
out <- NULL
for (case in names(cases)) {
  for (method in c("pearson", "spearman")) {
    zz <- cases[[case]]
    if (is.null(zz)) {
      ct <- cor.test(a[ok], b[ok], method = method, exact = FALSE)
      est <- unname(ct$estimate); gp <- 0; stat <- est * sqrt((sum(ok) - 2) / (1 - est^2)); p_pp <- NA
    } else {
      res <- pcor.test(a[ok], b[ok], zz, method = method)
      est <- res$estimate; gp <- res$gp; stat <- res$statistic; p_pp <- res$p.value
    }
    # the same by residuals of least squares (ranks of every variable for Spearman)
    tr <- if (method == "spearman") rank else identity
    if (is.null(zz)) {
      r_lm <- cor(tr(a[ok]), tr(b[ok]))
    } else {
      zr <- apply(zz, 2, tr)
      r_lm <- cor(resid(lm(tr(a[ok]) ~ zr)), resid(lm(tr(b[ok]) ~ zr)))
    }
    out <- rbind(out, data.frame(case = case, statistic = method, n = sum(ok), gp = gp, estimate = sprintf("%.15g", est), r_lm = sprintf("%.15g", r_lm),
                                 t = sprintf("%.15g", stat), p_t = sprintf("%.15g", 2 * pt(-abs(stat), sum(ok) - 2 - gp)), p_ppcor_normal = sprintf("%.15g", p_pp)))
  }
}
write.table(out, file.path(d, "partial.tsv"), sep = "\t", quote = FALSE, row.names = FALSE, na = "NA")
p <- c(0.01, 0.04, 0.03, 0.2, 0.5, NA, 0.001, 0.049, 0.049, 1)
write.table(data.frame(p = p, q = sprintf("%.15g", p.adjust(p, method = "BH"))), file.path(d, "bh.tsv"), sep = "\t", quote = FALSE, row.names = FALSE, na = "NA")
writeLines(c(paste("ppcor", packageVersion("ppcor")), R.version.string), file.path(d, "VERSIONS.txt"))
