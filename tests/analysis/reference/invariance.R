# Reference numbers for tests/analysis/test_invariance_reference.py: lavaan multi-group CFA.
# Run from this folder after make_invariance_data.py:  Rscript invariance.R > invariance.out
# lavaan 0.6-14 (Debian bookworm r-cran-lavaan) produced the constants; ML, listwise deletion.
suppressPackageStartupMessages(library(lavaan))
options(digits = 12)
# lavaan prints its own classes rounded to three decimals: drop the class to see every digit.
show <- function(label, x) {
  cat("##", label, "\n")
  print(if (is.data.frame(x)) as.data.frame(unclass(x)) else unclass(x), digits = 12)
}
measures <- c("chisq", "df", "pvalue", "cfi", "tli", "rmsea", "srmr", "baseline.chisq", "baseline.df")

d <- read.csv("invariance.csv")
steps <- function(model, group, tag) {
  fits <- list(
    configural = cfa(model, data = d, group = group),
    metric = cfa(model, data = d, group = group, group.equal = "loadings"),
    scalar = cfa(model, data = d, group = group, group.equal = c("loadings", "intercepts"))
  )
  for (nm in names(fits)) {
    fit <- fits[[nm]]
    show(paste0(tag, ": lavInspect(fit.", nm, ", 'nobs')"), lavInspect(fit, "nobs"))
    show(paste0(tag, ": fitMeasures(fit.", nm, ", measures)"), fitMeasures(fit, measures))
    pe <- parameterEstimates(fit)
    show(paste0(tag, ": parameterEstimates(fit.", nm, ")[op == '=~', est]"),
         pe[pe$op == "=~", c("lhs", "rhs", "group", "est")])
    show(paste0(tag, ": parameterEstimates(fit.", nm, ")[op == '~1', est]"),
         pe[pe$op == "~1", c("lhs", "group", "est")])
  }
  show(paste0(tag, ": lavTestLRT(fit.configural, fit.metric, fit.scalar)"),
       lavTestLRT(fits$configural, fits$metric, fits$scalar))
}

# One factor, peer workers against colleagues: lavInspect(fit, "group.label") is colleague, peer_worker.
one <- "identity =~ id1 + id2 + id3 + id4 + id5"
steps(one, "role", "role1")
# Two correlated factors across three waves.
two <- "identity =~ id1 + id2 + id3 + id4 + id5\n support =~ sp1 + sp2 + sp3 + sp4"
steps(two, "wave", "wave2")
