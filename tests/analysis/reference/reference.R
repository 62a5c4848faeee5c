# Reference numbers for tests/analysis: lme4 growth models and psych reliability.
# Run from this folder after make_data.py:  Rscript reference.R > reference.out
# lme4 1.1-31, psych 2.2.9 (Debian bookworm r-cran-* packages) produced the constants.
suppressPackageStartupMessages({ library(lme4); library(psych) })
options(digits = 12)
show <- function(label, x) { cat("##", label, "\n"); print(x, digits = 12) }

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
  show(paste0("fixef(", nm, ")"), fixef(m))
  show(paste0("sqrt(diag(vcov(", nm, ")))"), sqrt(diag(as.matrix(vcov(m)))))
  show(paste0("as.data.frame(VarCorr(", nm, "))"), as.data.frame(VarCorr(m)))
  show(paste0("logLik(", nm, ")"), logLik(m))
  show(paste0("c(AIC(", nm, "), BIC(", nm, "))"), c(AIC(m), BIC(m)))
  show(paste0("getME(", nm, ", 'theta')"), getME(m, "theta"))
}
show("anova(m_ml0, m_ml)", anova(m_ml0, m_ml))

# Three levels: team random intercept; participant intercept and slope as independent
# variance components (the structure statsmodels' MixedLM fits with vc_formula).
m_team_reml <- lmer(score ~ months * role + (1 | team) + (1 | participant) +
                      (0 + months | participant), data = d, REML = TRUE, control = tight)
m_team_ml <- update(m_team_reml, REML = FALSE)
for (nm in c("m_team_reml", "m_team_ml")) {
  m <- get(nm)
  show(paste0("fixef(", nm, ")"), fixef(m))
  show(paste0("sqrt(diag(vcov(", nm, ")))"), sqrt(diag(as.matrix(vcov(m)))))
  show(paste0("as.data.frame(VarCorr(", nm, "))"), as.data.frame(VarCorr(m)))
  show(paste0("logLik(", nm, ")"), logLik(m))
}

# Reliability of the six items at wave 1 (all roles) and wave 1 peer workers.
it <- read.csv("items.csv")
items <- paste0("i", 1:6)
w1 <- it[it$wave == 1, items]
a <- psych::alpha(w1)
show("psych::alpha(w1)$total$raw_alpha", a$total$raw_alpha)
show("psych::alpha(w1)$feldt", a$feldt)
show("psych::alpha(w1)$item.stats$r.drop", a$item.stats$r.drop)
o <- psych::omega(w1, nfactors = 1, plot = FALSE)
show("psych::omega(w1, nfactors = 1)$omega.tot", o$omega.tot)
pw <- it[it$wave == 1 & it$role == "peer_worker", items]
show("psych::alpha(pw)$total$raw_alpha", psych::alpha(pw)$total$raw_alpha)
show("psych::omega(pw, nfactors = 1)$omega.tot",
     psych::omega(pw, nfactors = 1, plot = FALSE)$omega.tot)
