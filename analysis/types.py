"""Light names the web layer needs without importing pandas: the growth model's choices."""

from __future__ import annotations

from typing import Literal

#: How a growth model is estimated: restricted or full maximum likelihood.
Method = Literal["REML", "ML"]
#: Which engine fits a growth model; "auto" takes the fast one whenever it applies.
Engine = Literal["auto", "fast", "statsmodels"]
