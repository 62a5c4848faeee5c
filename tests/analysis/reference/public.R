# Reference numbers from public data sets R ships (no one at PeerPulse wrote them):
#   psych::bfi (psych 2.2.9): 2800 respondents, items A1-A5 (agreeableness; A1 is reverse-keyed)
#   and C1-C5 (conscientiousness; C4 and C5 are reverse-keyed), 6-point answers;
#   multilevel::lq2002 (multilevel 2.7): 2042 soldiers in 49 companies (COMPID), leadership
#   items LEAD01-LEAD11 and hostility items HOSTIL01-HOSTIL05.
# Run: cd tests/analysis/reference && Rscript public.R > public.out 2>&1
# It writes bfi.csv and lq2002.csv (the data the tests read) and prints each number with the
# R call that produced it; tests/analysis/test_public_reference.py keeps them as constants.
suppressMessages({library(psych); library(multilevel)})
# each number beside the call that produced it (psych's own warnings printed once, below)
f <- function(call) {
  invisible(capture.output(v <- suppressWarnings(eval(parse(text = call)))))
  cat(sprintf("%-70s %.17g\n", call, v))
}
data(bfi, package = "psych")
write.csv(bfi[, c(paste0("A", 1:5), paste0("C", 1:5), "gender")], "bfi.csv",
          row.names = FALSE, na = "")
A <- na.omit(bfi[, paste0("A", 1:5)])
C <- na.omit(bfi[, paste0("C", 1:5)])
a <- psych::alpha(A)  # prints psych's warning naming A1
cat("\n")
cat("nrow(A) =", nrow(A), "\n")
f("psych::alpha(A)$total$raw_alpha")
f("psych::alpha(A)$total$std.alpha")
f("psych::alpha(A)$feldt$lower.ci")
f("psych::alpha(A)$feldt$upper.ci")
f("psych::alpha(A, check.keys = TRUE)$total$raw_alpha")
invisible(capture.output(c5 <- psych::alpha(C)))  # warns of C4 and C5 (below)
capture.output(psych::alpha(C), type = "output")[1]
cat("nrow(C) =", nrow(C), "\n")
f("psych::alpha(C)$total$raw_alpha")
f("psych::alpha(C)$total$std.alpha")
f("psych::alpha(C)$feldt$lower.ci")
f("psych::alpha(C)$feldt$upper.ci")
A2 <- A; A2$A1 <- 7 - A2$A1
f("psych::alpha(A2)$total$raw_alpha")
f("psych::alpha(A2)$total$std.alpha")
N <- na.omit(bfi[, c("A1", "C4", "C5")])
f("psych::alpha(N)$total$raw_alpha")

data(lq2002, package = "multilevel")
write.csv(lq2002[, c("COMPID", paste0("LEAD", sprintf("%02d", 1:11)),
                     paste0("HOSTIL", sprintf("%02d", 1:5)))], "lq2002.csv", row.names = FALSE)
lead <- lq2002[, paste0("LEAD", sprintf("%02d", 1:11))]
hostil <- lq2002[, paste0("HOSTIL", sprintf("%02d", 1:5))]
lq2002$lead_mean <- rowMeans(lead)
lq2002$hostil_mean <- rowMeans(hostil)
f("multilevel::ICC1(aov(lead_mean ~ as.factor(COMPID), data = lq2002))")
f("multilevel::ICC2(aov(lead_mean ~ as.factor(COMPID), data = lq2002))")
f("multilevel::ICC1(aov(hostil_mean ~ as.factor(COMPID), data = lq2002))")
f("multilevel::ICC2(aov(hostil_mean ~ as.factor(COMPID), data = lq2002))")
r <- multilevel::rwg.j(lead, lq2002$COMPID, ranvar = 2)
cat("rwg.j(lead, COMPID, ranvar = 2): grpid rwg.j gsize\n")
for (i in seq_len(nrow(r))) cat(sprintf("%s %.17g %d\n", r$grpid[i], r$rwg.j[i], r$gsize[i]))
h <- multilevel::rwg.j(hostil, lq2002$COMPID, ranvar = 2)
cat("rwg.j(hostil, COMPID, ranvar = 2): grpid rwg.j gsize\n")
for (i in seq_len(nrow(h))) cat(sprintf("%s %.17g %d\n", h$grpid[i], h$rwg.j[i], h$gsize[i]))
f("mean(multilevel::rwg.j(hostil, lq2002$COMPID, ranvar = 2)$rwg.j)")
f("min(multilevel::rwg.j(hostil, lq2002$COMPID, ranvar = 2)$rwg.j)")
