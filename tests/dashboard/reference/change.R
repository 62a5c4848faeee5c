# Reference numbers for tests/dashboard/test_change_reference.py: the dashboard's change
# interval (survey/services/dashboard_stats.py) against R, on R's own `sleep` data set
# (package datasets: Cushny & Peebles' extra hours of sleep for 10 people under two drugs;
# `group` plays the wave, `ID` the person).
#   Rscript tests/dashboard/reference/change.R > tests/dashboard/reference/change.out
# R 4.2, sandwich 3.0, clubSandwich 0.5 (Debian r-cran-sandwich, r-cran-clubsandwich).
suppressPackageStartupMessages({library(sandwich); library(clubSandwich)})
options(digits = 15)
cat(R.version.string, "sandwich", as.character(packageVersion("sandwich")),
    "clubSandwich", as.character(packageVersion("clubSandwich")), "\n")

report <- function(name, d) {
  fit <- lm(extra ~ group, data = d)
  G <- length(unique(d$ID))
  # The dashboard's estimator: G/(G-1) only.
  v_hc0 <- sandwich::vcovCL(fit, cluster = ~ID, type = "HC0", cadjust = TRUE)["group2", "group2"]
  v_cr1 <- as.matrix(clubSandwich::vcovCR(fit, cluster = d$ID, type = "CR1"))["group2", "group2"]
  # Stata's vce(cluster): G/(G-1) * (N-1)/(N-K) (not what the dashboard uses).
  v_stata <- as.matrix(clubSandwich::vcovCR(fit, cluster = d$ID, type = "CR1S"))["group2", "group2"]
  est <- unname(coef(fit)["group2"])
  se <- sqrt(v_hc0)
  cat(sprintf("%s: G = %d, N = %d\n", name, G, nrow(d)))
  cat(sprintf("  estimate = coef(fit)['group2'] = %.12f\n", est))
  cat(sprintf("  se vcovCL(HC0, cadjust = TRUE) = %.12f\n", se))
  cat(sprintf("  se vcovCR(CR1)                 = %.12f\n", sqrt(v_cr1)))
  cat(sprintf("  se vcovCR(CR1S) (Stata)        = %.12f\n", sqrt(v_stata)))
  cat(sprintf("  ci = est -/+ qt(0.975, G - 1) * se = %.12f %.12f\n",
              est - qt(0.975, G - 1) * se, est + qt(0.975, G - 1) * se))
}

# 1. Everyone at both waves: equals the paired t-test.
report("sleep", sleep)
tt <- t.test(sleep$extra[sleep$group == 2], sleep$extra[sleep$group == 1], paired = TRUE)
cat(sprintf("  t.test(paired = TRUE)$conf.int = %.12f %.12f\n", tt$conf.int[1], tt$conf.int[2]))

# 2. Some people at one wave only, by a fixed rule: drop the first wave of ID 3 and 7 and
#    the second wave of ID 5 (G stays 10, N = 17).
partial <- sleep[!((sleep$group == 1 & sleep$ID %in% c(3, 7)) | (sleep$group == 2 & sleep$ID == 5)), ]
report("sleep, partial", partial)
