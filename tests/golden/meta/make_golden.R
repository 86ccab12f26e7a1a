# Golden meta-analysis values from R metafor (rma.uni): DerSimonian-Laird, Paule-Mandel and fixed effect.
# Run from the repository root: Rscript tests/golden/meta/make_golden.R   (see README.md in this folder)
suppressMessages(library(metafor))
d <- "tests/golden/meta"
g <- function(x) sprintf("%.15g", x)
rt <- function(x) as.numeric(g(x))  # inputs rounded as written, so R and Python fit the same numbers
z975 <- qnorm(0.975)

# ---- pool(): four fixtures of (yi, vi)
# (a) six Pearson correlations -> Fisher z (escalc ZCOR: yi = atanh(r), vi = 1/(n-3)); heterogeneous (tau2 > 0)
r_a <- c(0.62, 0.15, 0.48, -0.05, 0.71, 0.33)
n_a <- c(120, 85, 240, 60, 150, 300)
a <- escalc(measure = "ZCOR", ri = r_a, ni = n_a)
# (b) five log hazard ratios with standard errors
b_yi <- log(c(1.45, 1.10, 2.05, 0.92, 1.60))
b_se <- c(0.12, 0.09, 0.21, 0.15, 0.11)
# (c) homogeneous: Q < k - 1, so the DL and PM tau2 are truncated at 0
c_yi <- c(0.20, 0.22, 0.19, 0.21, 0.20)
c_vi <- c(0.010, 0.020, 0.015, 0.012, 0.018)
# (d) k = 2
d_yi <- c(0.10, 0.50)
d_vi <- c(0.010, 0.020)
fx <- list(
  zcor6 = list(yi = rt(as.numeric(a$yi)), vi = rt(as.numeric(a$vi))),
  loghr5 = list(yi = rt(b_yi), vi = rt(b_se^2)),
  homogeneous5 = list(yi = rt(c_yi), vi = rt(c_vi)),
  k2 = list(yi = rt(d_yi), vi = rt(d_vi))
)
inp <- do.call(rbind, lapply(names(fx), function(f) data.frame(fixture = f, study = seq_along(fx[[f]]$yi), yi = g(fx[[f]]$yi), vi = g(fx[[f]]$vi))))
write.table(inp, file.path(d, "pool_input.tsv"), sep = "\t", quote = FALSE, row.names = FALSE)

fit_row <- function(fixture, label, fit) {
  data.frame(fixture = fixture, method = label, k = fit$k, estimate = g(as.numeric(fit$beta)), se = g(fit$se), ci_lb = g(fit$ci.lb), ci_ub = g(fit$ci.ub),
             pval = g(fit$pval), tau2 = g(fit$tau2), I2 = g(fit$I2), QE = g(fit$QE), QEp = g(fit$QEp))
}
out <- NULL
for (f in names(fx)) {
  yi <- fx[[f]]$yi; vi <- fx[[f]]$vi
  out <- rbind(out,
    fit_row(f, "DL", rma(yi, vi, method = "DL")),
    fit_row(f, "PM", rma(yi, vi, method = "PM", control = list(tol = 1e-13, maxiter = 1000))),  # uniroot converged tightly
    fit_row(f, "PM_default", rma(yi, vi, method = "PM")),  # metafor's default uniroot tol = .Machine$double.eps^0.25
    fit_row(f, "FE", rma(yi, vi, method = "FE")))
}
write.table(out, file.path(d, "pool.tsv"), sep = "\t", quote = FALSE, row.names = FALSE)

# ---- pool_correlations(): per-cohort correlation rows, pooled on Fisher z, back-transformed with tanh
cc <- data.frame(cohort = c("C1", "C2", "C3", "C4", "C5", "C6"), r = r_a, n = n_a)
corr_in <- rbind(
  data.frame(method = "zscore", signature_a = "SS", signature_b = "LMS", statistic = "pearson", cc),
  data.frame(method = "zscore", signature_a = "SS", signature_b = "LMS", statistic = "spearman", cc),
  data.frame(method = "zscore", signature_a = "SS", signature_b = "BoMS", statistic = "spearman",
             cohort = c("C1", "C2", "C3", "C4"), r = c(0.41, 0.28, 0.35, 0.30), n = c(120, 85, 240, 60))
)
write.table(transform(corr_in, r = g(r)), file.path(d, "correlations_input.tsv"), sep = "\t", quote = FALSE, row.names = FALSE)
corr_out <- NULL
for (key in split(corr_in, interaction(corr_in$signature_b, corr_in$statistic, drop = TRUE))) {
  yi <- atanh(key$r)
  vi <- ifelse(key$statistic == "spearman", 1.06, 1) / (key$n - 3)  # Fieller, Hartley & Pearson (1957) for Spearman
  for (m in c("DL", "PM", "FE")) {
    fit <- if (m == "PM") rma(yi, vi, method = m, control = list(tol = 1e-13, maxiter = 1000)) else rma(yi, vi, method = m)
    p <- predict(fit, transf = tanh)
    corr_out <- rbind(corr_out, data.frame(signature_b = key$signature_b[1], statistic = key$statistic[1], method_re = m, k = fit$k,
      estimate = g(p$pred), ci_low = g(p$ci.lb), ci_high = g(p$ci.ub), p = g(fit$pval), tau2 = g(fit$tau2), i2 = g(fit$I2), q = g(fit$QE), q_p = g(fit$QEp)))
  }
}
write.table(corr_out, file.path(d, "correlations_pooled.tsv"), sep = "\t", quote = FALSE, row.names = FALSE)

# ---- pool_hazard_ratios(): per-cohort HR per SD with 95% Wald CI, pooled on log HR, back-transformed with exp
hr_in <- data.frame(method = "zscore", signature = "SS", endpoint = "primary", model = "univariate", cohort = c("C1", "C2", "C3", "C4", "C5"),
                    hr_per_sd = exp(b_yi), ci_low = exp(b_yi - z975 * b_se), ci_high = exp(b_yi + z975 * b_se))
write.table(transform(hr_in, hr_per_sd = g(hr_per_sd), ci_low = g(ci_low), ci_high = g(ci_high)), file.path(d, "survival_input.tsv"), sep = "\t", quote = FALSE, row.names = FALSE)
ci_lo <- rt(hr_in$ci_low); ci_hi <- rt(hr_in$ci_high)
yi <- log(rt(hr_in$hr_per_sd))
vi <- ((log(ci_hi) - log(ci_lo)) / (2 * z975))^2
hr_out <- NULL
for (m in c("DL", "PM", "FE")) {
  fit <- if (m == "PM") rma(yi, vi, method = m, control = list(tol = 1e-13, maxiter = 1000)) else rma(yi, vi, method = m)
  p <- predict(fit, transf = exp)
  hr_out <- rbind(hr_out, data.frame(method_re = m, k = fit$k, estimate = g(p$pred), ci_low = g(p$ci.lb), ci_high = g(p$ci.ub), p = g(fit$pval),
                                     tau2 = g(fit$tau2), i2 = g(fit$I2), q = g(fit$QE), q_p = g(fit$QEp)))
}
write.table(hr_out, file.path(d, "survival_pooled.tsv"), sep = "\t", quote = FALSE, row.names = FALSE)

writeLines(c(paste("metafor", packageVersion("metafor")), R.version.string), file.path(d, "VERSIONS.txt"))
