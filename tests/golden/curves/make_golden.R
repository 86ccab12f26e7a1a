# Golden values of seedsig.curves from R's survival package and base R (quantile type 7, cut).
# Run from the repository root, after make_inputs.py: Rscript tests/golden/curves/make_golden.R
# Inputs: tests/golden/curves/fixture.tsv (synthetic) and GSE1992 (RFS months, event) read in place from
# ../shared/datasets/gse1992_unc_hu2006_survjamda/clinical.tsv, with the SS z-score of tests/golden/survival/gse1992_ss.tsv.
suppressMessages(library(survival))
d <- "tests/golden/curves"
num <- function(x) ifelse(is.na(x), "NA", sprintf("%.17g", x))
put <- function(df, name) write.table(df, file.path(d, name), sep = "\t", quote = FALSE, row.names = FALSE, na = "NA")

fx <- read.delim(file.path(d, "fixture.tsv"), colClasses = c(sample = "character", site = "character"), na.strings = "NA")
clin <- read.delim("../shared/datasets/gse1992_unc_hu2006_survjamda/clinical.tsv", colClasses = c(sample_id = "character"))
ss <- read.delim("tests/golden/survival/gse1992_ss.tsv", colClasses = c(sample = "character"))
gs <- data.frame(sample = ss$sample, score = ss$ss, time = clin$time[match(ss$sample, clin$sample_id)], event = clin$event[match(ss$sample, clin$sample_id)])
stopifnot(!anyNA(gs$time), all(gs$time == ss$time), all(gs$event == ss$event))
data <- list(fixture = fx, gse1992 = gs)

# ---- groups at pre-set cut-points: median (low = x <= median), quantiles type 7 with cut(include.lowest = TRUE)
qcut <- function(x, probs, labels) {
  q <- quantile(x, probs, type = 7, na.rm = TRUE, names = FALSE)
  list(groups = as.character(cut(x, q, include.lowest = TRUE, labels = labels)), breaks = q[-c(1, length(q))])
}
vcut <- function(x, v, labels) list(groups = as.character(cut(x, c(-Inf, v, Inf), labels = labels)), breaks = v)
cuts <- list(
  median = list(levels = c("low", "high"), f = function(x) { m <- median(x, na.rm = TRUE); list(groups = ifelse(is.na(x), NA, ifelse(x <= m, "low", "high")), breaks = m) }),
  tertiles = list(levels = c("T1", "T2", "T3"), f = function(x) qcut(x, c(0, 1/3, 2/3, 1), c("T1", "T2", "T3"))),
  quartiles = list(levels = c("Q1", "Q2", "Q3", "Q4"), f = function(x) qcut(x, c(0, 0.25, 0.5, 0.75, 1), c("Q1", "Q2", "Q3", "Q4"))),
  values = list(levels = c("<=-0.5", "(-0.5,0.5]", ">0.5"), f = function(x) vcut(x, c(-0.5, 0.5), c("<=-0.5", "(-0.5,0.5]", ">0.5")))
)
grp_out <- NULL; brk_out <- NULL
for (ds in names(data)) {
  x <- data[[ds]]$score
  for (cn in names(cuts)) {
    r <- cuts[[cn]]$f(x)
    data[[ds]][[cn]] <- factor(r$groups, levels = cuts[[cn]]$levels)
    grp_out <- rbind(grp_out, data.frame(dataset = ds, cut = cn, sample = data[[ds]]$sample, group = ifelse(is.na(r$groups), "", r$groups)))
    brk_out <- rbind(brk_out, data.frame(dataset = ds, cut = cn, index = seq_along(r$breaks), value = num(r$breaks)))
  }
}
put(grp_out, "groups.tsv")
put(brk_out, "breaks.tsv")

# ---- Kaplan-Meier: summary(survfit(...), censored = TRUE); numbers at risk: summary(fit, times, extend = TRUE)$n.risk
km_fit <- function(df, g) if (g == "none") survfit(Surv(time, event) ~ 1, data = df) else survfit(as.formula(paste("Surv(time, event) ~", g)), data = df)
strata_names <- function(s, g) if (is.null(s$strata)) rep("all", length(s$time)) else sub(paste0("^", g, "="), "", as.character(s$strata))
risk_times <- c(0, 6, 12, 18, 24, 36, 48, 60, 120)
km_out <- NULL; ar_out <- NULL
for (ds in names(data)) {
  for (g in c("none", "median", "tertiles", "quartiles")) {
    fit <- km_fit(data[[ds]], g)
    s <- summary(fit, censored = TRUE)
    km_out <- rbind(km_out, data.frame(dataset = ds, cut = g, group = strata_names(s, g), time = num(s$time), n_risk = s$n.risk, n_event = s$n.event, n_censor = s$n.censor,
                                       survival = num(s$surv), std_err = num(s$std.err), ci_low = num(s$lower), ci_high = num(s$upper)))
    a <- summary(fit, times = risk_times, extend = TRUE)
    ar_out <- rbind(ar_out, data.frame(dataset = ds, cut = g, group = strata_names(a, g), time = num(a$time), n_risk = a$n.risk))
  }
}
put(km_out, "km.tsv")
put(ar_out, "at_risk.tsv")

# ---- log-rank: survdiff(Surv(time, event) ~ group), rho = 0
lr_out <- NULL; lrg_out <- NULL; lrv_out <- NULL
for (ds in names(data)) {
  for (g in c("median", "tertiles", "quartiles", "values")) {
    sd <- survdiff(as.formula(paste("Surv(time, event) ~", g)), data = data[[ds]])
    lv <- sub(paste0("^", g, "="), "", names(sd$n))
    lr_out <- rbind(lr_out, data.frame(dataset = ds, cut = g, n = sum(sd$n), chisq = num(sd$chisq), df = length(sd$n) - 1, p = num(sd$pvalue)))
    lrg_out <- rbind(lrg_out, data.frame(dataset = ds, cut = g, group = lv, n = as.vector(sd$n), observed = num(sd$obs), expected = num(sd$exp)))
    lrv_out <- rbind(lrv_out, data.frame(dataset = ds, cut = g, group_a = rep(lv, times = length(lv)), group_b = rep(lv, each = length(lv)), var = num(as.vector(sd$var))))
  }
}
put(lr_out, "logrank.tsv")
put(lrg_out, "logrank_groups.tsv")
put(lrv_out, "logrank_var.tsv")

# ---- cumulative incidence (Aalen-Johansen): multi-state survfit, censoring as the first level of the status factor;
# std.err is survfit's infinitesimal-jackknife standard error of pstate
causes <- sort(unique(fx$site[fx$site != ""]))
data$fixture$status <- factor(ifelse(fx$site == "", "censor", fx$site), levels = c("censor", causes))
cif_out <- NULL
for (g in c("none", "median", "tertiles")) {
  fit <- if (g == "none") survfit(Surv(time, status) ~ 1, data = data$fixture) else survfit(as.formula(paste("Surv(time, status) ~", g)), data = data$fixture)
  stopifnot(identical(fit$states, c("(s0)", causes)))
  grp <- if (is.null(fit$strata)) rep("all", length(fit$time)) else rep(sub(paste0("^", g, "="), "", names(fit$strata)), fit$strata)
  for (k in seq_along(causes)) {
    cif_out <- rbind(cif_out, data.frame(dataset = "fixture", cut = g, group = grp, time = num(fit$time), cause = causes[k], n_risk = fit$n.risk[, 1],
                                         n_event = fit$n.event[, k + 1], cif = num(fit$pstate[, k + 1]), std_err = num(fit$std.err[, k + 1])))
  }
}
put(cif_out, "cif.tsv")
writeLines(c(paste("survival", packageVersion("survival")), R.version.string), file.path(d, "VERSIONS.txt"))
