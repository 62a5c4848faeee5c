# Public data sets shipped with R packages, written as the CSV files beside this script, and
# the lme4 fits the tests compare with (their numbers are copied into
# tests/analysis/test_public_reference.py, each beside the R call that printed it).
# Run from this directory: Rscript make_public.R > public.out
# R 4.x, lme4 (Debian r-cran-lme4), mlmRev (r-cran-mlmrev), nlme (r-cran-nlme).
suppressPackageStartupMessages({library(lme4); library(mlmRev); library(nlme)})
options(digits = 15)
data(egsingle, package = "mlmRev")
eg <- egsingle[, c("schoolid", "childid", "year", "math")]
write.csv(eg, gzfile("egsingle.csv.gz"), row.names = FALSE)
data(star, package = "mlmRev")
st <- star[!is.na(star$math), c("id", "sch", "yrs", "math")]
write.csv(st, gzfile("star.csv.gz"), row.names = FALSE)
bw <- as.data.frame(nlme::BodyWeight)
bw <- data.frame(Rat = as.character(bw$Rat), Time = bw$Time, Diet = as.character(bw$Diet),
                 weight = bw$weight)
write.csv(bw, "bodyweight.csv", row.names = FALSE)

# Read back as the tests read them (factors from the CSV text).
eg <- read.csv(gzfile("egsingle.csv.gz")); eg$schoolid <- factor(eg$schoolid); eg$childid <- factor(eg$childid)
st <- read.csv(gzfile("star.csv.gz")); st$id <- factor(st$id); st$sch <- factor(st$sch)
bw <- read.csv("bodyweight.csv"); bw$Rat <- factor(bw$Rat); bw$Diet <- factor(bw$Diet)
cat("star participants who change school:",
    sum(tapply(st$sch, st$id, function(s) length(unique(s))) > 1), "of", nlevels(st$id), "\n")

ctrl <- lmerControl(optimizer = "bobyqa", optCtrl = list(maxfun = 1e5))
show <- function(name, m) {
  cat("\n##", name, "\n")
  cat("formula:", deparse(formula(m), width.cutoff = 500), " REML:", isREML(m), "\n")
  cat("fixef:", sprintf("%.12g", fixef(m)), "\n")
  cat("se:", sprintf("%.12g", sqrt(diag(as.matrix(vcov(m))))), "\n")
  vc <- as.data.frame(VarCorr(m))
  cat("sdcor:", paste(vc$grp, vc$var1, vc$var2, sprintf("%.12g", vc$sdcor)), sep = "\n  ")
  cat("logLik:", sprintf("%.12f", as.numeric(logLik(m))), "\n")
  cat("messages:", paste(m@optinfo$conv$lme4$messages, collapse = "; "), "\n")
}
for (reml in c(TRUE, FALSE)) {
  show("bodyweight days", lmer(weight ~ Time * Diet + (Time | Rat), bw, REML = reml, control = ctrl))
  bw$weeks <- bw$Time / 7
  show("bodyweight weeks", lmer(weight ~ weeks * Diet + (weeks | Rat), bw, REML = reml, control = ctrl))
  show("egsingle product", lmer(math ~ year + (1 | schoolid) + (1 | childid) + (0 + year | childid),
                                eg, REML = reml, control = ctrl))
  show("egsingle correlated", lmer(math ~ year + (year | schoolid) + (year | childid), eg,
                                   REML = reml, control = ctrl))
  show("star product", lmer(math ~ yrs + (1 | sch) + (1 | id) + (0 + yrs | id), st,
                            REML = reml, control = ctrl))
  show("star correlated", lmer(math ~ yrs + (1 | sch) + (yrs | id), st, REML = reml, control = ctrl))
}
