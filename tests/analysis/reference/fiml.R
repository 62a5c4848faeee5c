# Reference numbers for tests/analysis/test_invariance_fiml.py: lavaan multi-group CFA with
# full-information ML (missing = "ml") on two public data sets with missing answers:
#   bfi.csv: psych::bfi as public.R writes it (2800 people; A1-A5, C1-C5 as given, with the
#     missing answers the data set ships; group gender);
#   holzinger.csv: lavaan::HolzingerSwineford1939 (301 pupils, two schools), complete as
#     shipped, with answers deleted by the fixed rule below (this script writes the file).
# Run: cd tests/analysis/reference && Rscript fiml.R > fiml.out
suppressPackageStartupMessages(library(lavaan))
options(digits = 12)
cat(R.version.string, "lavaan", as.character(packageVersion("lavaan")), "\n")
show <- function(label, x) {
  cat("##", label, "\n")
  print(if (is.data.frame(x)) as.data.frame(unclass(x)) else unclass(x), digits = 12)
}
measures <- c("chisq", "df", "pvalue", "cfi", "tli", "rmsea", "srmr", "baseline.chisq",
              "baseline.df", "logl", "unrestricted.logl", "ntotal")

data(HolzingerSwineford1939, package = "lavaan")
hs <- HolzingerSwineford1939[, c("id", "school", paste0("x", 1:9))]
# The deletion rule: x1 where id %% 5 == 0, x4 where id %% 7 == 1, x8 where id %% 6 == 2,
# x9 where id %% 9 == 3 (and nothing else).
hs$x1[hs$id %% 5 == 0] <- NA
hs$x4[hs$id %% 7 == 1] <- NA
hs$x8[hs$id %% 6 == 2] <- NA
hs$x9[hs$id %% 9 == 3] <- NA
write.csv(hs, "holzinger.csv", row.names = FALSE, na = "")

# lavaan's defaults stop its optimiser (nlminb, rel.tol 1e-10) and its EM for the saturated
# moments (em.h1.tol 1e-5) a little early: estimates are then up to 1.3e-5 (relative) from the
# optimum, SRMR 6e-6. With BFGS at reltol 1e-14 and EM at 1e-12 both reach it (nlminb refuses
# a tighter rel.tol), and these are the numbers the tests keep.
tight <- function(...) cfa(..., missing = "ml", optim.method = "BFGS",
                           control = list(reltol = 1e-14, maxit = 10000),
                           em.h1.tol = 1e-12, em.h1.iter.max = 100000)
steps <- function(model, d, group, tag) {
  fits <- list(
    configural = tight(model, data = d, group = group),
    metric = tight(model, data = d, group = group, group.equal = "loadings"),
    scalar = tight(model, data = d, group = group, group.equal = c("loadings", "intercepts"))
  )
  show(paste0(tag, ": lavInspect(fit.configural, 'group.label')"), lavInspect(fits$configural, "group.label"))
  for (nm in names(fits)) {
    fit <- fits[[nm]]
    show(paste0(tag, ": lavInspect(fit.", nm, ", 'nobs')"), lavInspect(fit, "nobs"))
    show(paste0(tag, ": fitMeasures(fit.", nm, ", measures)"), fitMeasures(fit, measures))
    pe <- parameterEstimates(fit)
    show(paste0(tag, ": parameterEstimates(fit.", nm, ")[op == '=~', c(est, se)]"),
         pe[pe$op == "=~", c("lhs", "rhs", "group", "est", "se")])
    show(paste0(tag, ": parameterEstimates(fit.", nm, ")[op == '~1', c(est, se)]"),
         pe[pe$op == "~1", c("lhs", "group", "est", "se")])
    show(paste0(tag, ": parameterEstimates(fit.", nm, ")[op == '~~' & lhs == rhs, est]"),
         pe[pe$op == "~~" & pe$lhs == pe$rhs, c("lhs", "group", "est")])
  }
  show(paste0(tag, ": lavTestLRT(fit.configural, fit.metric, fit.scalar)"),
       lavTestLRT(fits$configural, fits$metric, fits$scalar))
}

bfi <- read.csv("bfi.csv")
# A2 first: the marker should not be the reverse-keyed A1
steps("agree =~ A2 + A3 + A4 + A5 + A1\n consc =~ C1 + C2 + C3 + C4 + C5", bfi, "gender", "bfi")
steps("visual =~ x1 + x2 + x3\n textual =~ x4 + x5 + x6\n speed =~ x7 + x8 + x9", hs, "school", "hs")
