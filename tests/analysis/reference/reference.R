# Reference numbers for tests/analysis: lme4 growth models and psych reliability.
# Run from this folder after make_data.py:  Rscript reference.R > reference.out 2>&1
# It prints every number (reference.out, for people) and writes the ones the tests read to
# reference.json at full double precision, keyed by the R call that produced each one.
# lme4 1.1-31, psych 2.2.9 (Debian bookworm r-cran-* packages) produced the constants.
suppressPackageStartupMessages({ library(lme4); library(psych); library(jsonlite) })
options(digits = 12)
ref <- list()
show <- function(label, x) { cat("##", label, "\n"); print(x, digits = 12) }
# Print x under its R call and keep it for reference.json (named vectors become objects).
keep <- function(label, x) {
  show(label, x)
  ref[[label]] <<- if (is.null(names(x)) || is.data.frame(x)) x else as.list(x)
}

d <- read.csv("growth.csv")
# minqa's bobyqa with a small final trust radius, so that the references are the optimum
# itself: the default nloptwrap stops early on the flat ML likelihood of the team model
# (team SD 0.27006 at logLik -504.8125625 against 0.26999 at -504.8125615).
tight <- lmerControl(optimizer = "bobyqa", optCtrl = list(rhoend = 1e-10, maxfun = 1e5))
d$role <- factor(d$role, levels = c("colleague", "peer_worker"))

# Two-level growth model: correlated random intercept and slope per participant.
m_reml <- lmer(score ~ months * role + (months | participant), data = d, REML = TRUE, control = tight)
m_ml   <- lmer(score ~ months * role + (months | participant), data = d, REML = FALSE, control = tight)
m_ml0  <- lmer(score ~ months + (months | participant), data = d, REML = FALSE, control = tight)
for (nm in c("m_reml", "m_ml", "m_ml0")) {
  m <- get(nm)
  keep(paste0("fixef(", nm, ")"), fixef(m))
  keep(paste0("sqrt(diag(vcov(", nm, ")))"), sqrt(diag(as.matrix(vcov(m)))))
  keep(paste0("as.data.frame(VarCorr(", nm, "))"), as.data.frame(VarCorr(m)))
  keep(paste0("logLik(", nm, ")"), as.numeric(logLik(m)))
  keep(paste0("c(AIC(", nm, "), BIC(", nm, "))"), c(AIC(m), BIC(m)))
  show(paste0("getME(", nm, ", 'theta')"), getME(m, "theta"))
}
show("anova(m_ml0, m_ml)", anova(m_ml0, m_ml))
lrt <- anova(m_ml0, m_ml)
keep("anova(m_ml0, m_ml)[2, c('Chisq', 'Df', 'Pr(>Chisq)')]",
     unlist(lrt[2, c("Chisq", "Df", "Pr(>Chisq)")]))

# Three levels: team random intercept; participant intercept and slope as independent
# variance components (the structure statsmodels' MixedLM fits with vc_formula).
m_team_reml <- lmer(score ~ months * role + (1 | team) + (1 | participant) +
                      (0 + months | participant), data = d, REML = TRUE, control = tight)
m_team_ml <- update(m_team_reml, REML = FALSE)
for (nm in c("m_team_reml", "m_team_ml")) {
  m <- get(nm)
  keep(paste0("fixef(", nm, ")"), fixef(m))
  keep(paste0("sqrt(diag(vcov(", nm, ")))"), sqrt(diag(as.matrix(vcov(m)))))
  keep(paste0("as.data.frame(VarCorr(", nm, "))"), as.data.frame(VarCorr(m)))
  keep(paste0("logLik(", nm, ")"), as.numeric(logLik(m)))
}

# Reliability of the six items at wave 1 (all roles) and wave 1 peer workers.
it <- read.csv("items.csv")
items <- paste0("i", 1:6)
w1 <- it[it$wave == 1, items]
a <- psych::alpha(w1)
keep("psych::alpha(w1)$total$raw_alpha", a$total$raw_alpha)
show("psych::alpha(w1)$feldt", a$feldt)
keep("psych::alpha(w1)$feldt$lower.ci", as.numeric(a$feldt$lower.ci))
keep("psych::alpha(w1)$feldt$upper.ci", as.numeric(a$feldt$upper.ci))
keep("psych::alpha(w1)$item.stats$r.drop", a$item.stats$r.drop)
keep("psych::alpha(w1)$alpha.drop$raw_alpha", a$alpha.drop$raw_alpha)
o <- psych::omega(w1, nfactors = 1, plot = FALSE)
keep("psych::omega(w1, nfactors = 1)$omega.tot", o$omega.tot)
pw <- it[it$wave == 1 & it$role == "peer_worker", items]
a_pw <- psych::alpha(pw)
keep("psych::alpha(pw)$total$raw_alpha", a_pw$total$raw_alpha)
keep("psych::alpha(pw)$feldt$lower.ci", as.numeric(a_pw$feldt$lower.ci))
keep("psych::alpha(pw)$feldt$upper.ci", as.numeric(a_pw$feldt$upper.ci))
keep("psych::omega(pw, nfactors = 1)$omega.tot",
     psych::omega(pw, nfactors = 1, plot = FALSE)$omega.tot)

# Jacobson-Truax Reliable Change Index, wave 1 to wave 2 of growth.csv, with the wave-1
# alpha above as the reliability and the SD of the wave-1 scores: written out in base R.
pre <- d[d$wave == 1, c("participant", "score")]
post <- d[d$wave == 2, c("participant", "score")]
pairs <- merge(pre, post, by = "participant", suffixes = c("_from", "_to"))
s_diff <- sqrt(2) * sd(pre$score) * sqrt(1 - a$total$raw_alpha)
keep("sd(d$score[d$wave == 1])", sd(pre$score))
keep("rci <- (score_to - score_from) / (sqrt(2) * sd * sqrt(1 - raw_alpha))",
     setNames((pairs$score_to - pairs$score_from) / s_diff, pairs$participant))

# Change per team from month 0 to 12: slope times 12 in score ~ months * team with a
# correlated random intercept and slope per participant (analysis.team_change's model).
d$team <- factor(d$team)
m_teams <- lmer(score ~ months * team + (months | participant), data = d, REML = TRUE, control = tight)
beta <- fixef(m_teams)
contrast <- t(sapply(levels(d$team), function(level) {
  row <- setNames(numeric(length(beta)), names(beta))
  row["months"] <- 12
  interaction <- paste0("months:team", level)
  if (interaction %in% names(row)) row[interaction] <- 12
  row
}))
keep("contrast %*% fixef(m_teams)", setNames(drop(contrast %*% beta), levels(d$team)))
keep("sqrt(diag(contrast %*% vcov(m_teams) %*% t(contrast)))",
     setNames(sqrt(diag(contrast %*% as.matrix(vcov(m_teams)) %*% t(contrast))), levels(d$team)))

writeLines(toJSON(ref, digits = NA, auto_unbox = TRUE, pretty = TRUE), "reference.json")
