# Reference numbers for tests/analysis/test_attrition.py: Welch intervals, stayers against leavers.
# Run from this folder:  Rscript attrition.R > attrition.out   (R 4.2.2, stats::t.test)
options(digits = 12)
show <- function(label, x) { cat("##", label, "\n"); print(x, digits = 12) }
d <- read.csv("growth.csv")
last <- max(d$wave)
stayed <- unique(d$participant[d$wave == last])
base <- d[d$wave == 1, ]
base$stayed <- base$participant %in% stayed
a <- base$score[base$stayed]; b <- base$score[!base$stayed]
show("c(length(a), length(b), mean(a), mean(b))", c(length(a), length(b), mean(a), mean(b)))
tt <- t.test(a, b, var.equal = FALSE)
show("t.test(a, b, var.equal = FALSE)$estimate", tt$estimate)
show("t.test(a, b, var.equal = FALSE)$conf.int", as.numeric(tt$conf.int))
show("t.test(a, b, var.equal = FALSE)$parameter", tt$parameter)
show("t.test(a, b, var.equal = FALSE)$p.value", tt$p.value)
# Patterns of missing waves: X answered, . missed, over waves 1..5.
waves <- sort(unique(d$wave))
pat <- tapply(d$wave, d$participant, function(w) paste(ifelse(waves %in% w, "X", "."), collapse = ""))
show("sort(table(pattern), decreasing = TRUE)", sort(table(pat), decreasing = TRUE))
