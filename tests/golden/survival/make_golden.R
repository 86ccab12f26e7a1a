# Golden Cox values from R survival (coxph, Efron ties), per SD of the covariate (R's sd(), n-1).
# Run from the repository root after make_inputs.py: Rscript tests/golden/survival/make_golden.R
suppressMessages(library(survival))
d <- "tests/golden/survival"
fit1 <- function(time, event, x, label) {
  z <- x / sd(x)
  f <- coxph(Surv(time, event) ~ z, ties = "efron")
  s <- summary(f)
  data.frame(label = label, n = s$n, events = s$nevent, coef = sprintf("%.15g", coef(f)), se = sprintf("%.15g", sqrt(vcov(f)[1, 1])),
             hr = sprintf("%.15g", exp(coef(f))), ci_low = sprintf("%.15g", exp(confint(f))[1]), ci_high = sprintf("%.15g", exp(confint(f))[2]),
             p = sprintf("%.15g", s$coefficients[1, "Pr(>|z|)"]))
}
fx <- read.delim(file.path(d, "fixture.tsv"))
gs <- read.delim(file.path(d, "gse1992_ss.tsv"))
out <- rbind(fit1(fx$time, fx$event, fx$x1, "fixture_x1"), fit1(fx$time, fx$event, fx$x2, "fixture_x2"),
             fit1(gs$time, gs$event, gs$ss, "gse1992_ss"), fit1(gs$time, gs$event, gs$ss_attraction, "gse1992_ss_attraction"))
write.table(out, file.path(d, "coxph.tsv"), sep = "\t", quote = FALSE, row.names = FALSE)
p <- c(0.01, 0.04, 0.03, 0.2, 0.5, NA, 0.001, 0.049)
write.table(data.frame(p = p, q = sprintf("%.15g", p.adjust(p, method = "BH"))), file.path(d, "bh.tsv"), sep = "\t", quote = FALSE, row.names = FALSE)
writeLines(c(paste("survival", packageVersion("survival")), R.version.string), file.path(d, "VERSIONS.txt"))
