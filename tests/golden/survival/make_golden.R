# Golden Cox values from R survival (coxph, Efron ties), per SD of the covariate (R's sd(), n-1).
# Run from the repository root after make_inputs.py: Rscript tests/golden/survival/make_golden.R
#   coxph.tsv        coef, SE, HR, 95% CI and Wald p of one-covariate models (summary(coxph(...)))
#   coxph_models.tsv the score's coef, SE, HR, CI, p and coxph()$concordance["concordance"], univariate and
#                    adjusted (complete cases over time, event, score and covariates; the score / sd() over them)
#   cox_zph.tsv      cox.zph(fit) (transform = "km", terms = TRUE): chisq, df, p per term and GLOBAL
#   bh.tsv           p.adjust(method = "BH")
suppressMessages(library(survival))
d <- "tests/golden/survival"
f15 <- function(v) sprintf("%.15g", v)
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

# models with concordance, cox.zph and covariates (text columns enter coxph as factors, levels sorted)
models <- list(
  list(label = "fixture_x1", file = "fixture.tsv", score = "x1", transform = "none", covariates = character(0)),
  list(label = "fixture_x2", file = "fixture.tsv", score = "x2", transform = "none", covariates = character(0)),
  list(label = "fixture_x1_floor", file = "fixture.tsv", score = "x1", transform = "floor", covariates = character(0)),
  list(label = "fixture_x1_adjusted", file = "fixture.tsv", score = "x1", transform = "none", covariates = c("grade", "age")),
  list(label = "fixture_x2_adjusted", file = "fixture.tsv", score = "x2", transform = "none", covariates = c("grade", "age")),
  list(label = "fixture_x1_floor_adjusted", file = "fixture.tsv", score = "x1", transform = "floor", covariates = c("grade", "x2")),
  list(label = "gse1992_ss", file = "gse1992_ss.tsv", score = "ss", transform = "none", covariates = character(0)),
  list(label = "gse1992_ss_attraction", file = "gse1992_ss.tsv", score = "ss_attraction", transform = "none", covariates = character(0)),
  list(label = "gse1992_ss_adjusted", file = "gse1992_ss.tsv", score = "ss", transform = "none", covariates = c("er_positive", "age")),
  list(label = "gse1992_ss_attraction_adjusted", file = "gse1992_ss.tsv", score = "ss_attraction", transform = "none", covariates = c("er_positive", "age"))
)
rows <- list()
zrows <- list()
for (m in models) {
  dat <- read.delim(file.path(d, m$file))
  dat <- dat[complete.cases(dat[, c("time", "event", m$score, m$covariates)]), ]
  x <- dat[[m$score]]
  if (m$transform == "floor") x <- floor(x)
  dat$score <- x / sd(x)
  fml <- as.formula(paste("Surv(time, event) ~", paste(c("score", m$covariates), collapse = " + ")))
  f <- coxph(fml, data = dat, ties = "efron")
  s <- summary(f)
  ci <- exp(confint(f))["score", ]
  rows[[length(rows) + 1]] <- data.frame(label = m$label, file = m$file, score = m$score, transform = m$transform, covariates = paste(m$covariates, collapse = ";"),
                                         n = f$n, events = f$nevent, coef = f15(coef(f)[["score"]]), se = f15(sqrt(vcov(f)["score", "score"])),
                                         hr = f15(exp(coef(f)[["score"]])), ci_low = f15(ci[[1]]), ci_high = f15(ci[[2]]),
                                         p = f15(s$coefficients["score", "Pr(>|z|)"]), concordance = f15(f$concordance[["concordance"]]))
  z <- cox.zph(f)$table
  zrows[[length(zrows) + 1]] <- data.frame(label = m$label, term = rownames(z), chisq = f15(z[, "chisq"]), df = z[, "df"], p = f15(z[, "p"]))
}
write.table(do.call(rbind, rows), file.path(d, "coxph_models.tsv"), sep = "\t", quote = FALSE, row.names = FALSE)
write.table(do.call(rbind, zrows), file.path(d, "cox_zph.tsv"), sep = "\t", quote = FALSE, row.names = FALSE)

p <- c(0.01, 0.04, 0.03, 0.2, 0.5, NA, 0.001, 0.049)
write.table(data.frame(p = p, q = sprintf("%.15g", p.adjust(p, method = "BH"))), file.path(d, "bh.tsv"), sep = "\t", quote = FALSE, row.names = FALSE)
writeLines(c(paste("survival", packageVersion("survival")), R.version.string,
             "coxph.tsv, coxph_models.tsv: survival::coxph(ties = 'efron'), summary(), confint(), $concordance; cox_zph.tsv: survival::cox.zph(fit) (transform 'km', terms TRUE); bh.tsv: stats::p.adjust(method = 'BH')"),
           file.path(d, "VERSIONS.txt"))
