"""A fast linear mixed model with one grouping factor, after lme4's formulation.

The model is ``y = X beta + Z b + e`` with ``b_i ~ N(0, sigma^2 Lambda Lambda')`` per
subject and ``e ~ N(0, sigma^2 I)``. As in lme4 (Bates, Maechler, Bolker & Walker 2015,
J Stat Softw 67(1), section 3), the deviance is profiled over ``beta`` and ``sigma`` through
penalised least squares and minimised over the relative covariance factor ``theta`` (the
lower triangle of ``Lambda``, diagonal bounded below by zero).

With a single grouping factor ``Z'Z`` is block diagonal with one ``q x q`` block per
subject, so the sparse Cholesky factor ``L`` of ``Lambda' Z'Z Lambda + I`` is a stack of
small dense factors. Every step is computed for all subjects at once from per-subject
sums (``Z_i'Z_i``, ``Z_i'X_i``, ``Z_i'y_i``) gathered once, so one evaluation of the
deviance costs a few batched ``(m, q, q)`` operations and never touches the raw rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import linalg, optimize

Array = NDArray[np.floating[Any]]

#: lme4's tolerance for calling a fit singular (a diagonal element of Lambda near zero).
SINGULAR_TOL = 1e-4
#: Largest Newton step H^-1 g on theta accepted at the optimum (lme4's relative gradient: 2e-3).
STEP_TOL = 1e-4
#: lme4's own tolerance on that step (check.conv.grad, 2e-3), for judging another engine's fit.
LME4_STEP_TOL = 2e-3


@dataclass(frozen=True)
class SufficientStats:
    """Per-subject cross-products: everything the profiled deviance needs."""

    ztz: Array  # (m, q, q)
    ztx: Array  # (m, q, p)
    zty: Array  # (m, q)
    xtx: Array  # (p, p)
    xty: Array  # (p,)
    yty: float
    n_obs: int

    @classmethod
    def from_arrays(
        cls, y: Array, x: Array, z: Array, subject_codes: NDArray[np.intp]
    ) -> SufficientStats:
        """Sum the cross-products per subject; codes are 0..m-1 with every code present."""
        order = np.argsort(subject_codes, kind="stable")
        codes = subject_codes[order]
        starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
        ys, xs, zs = y[order], x[order], z[order]
        q, p = zs.shape[1], xs.shape[1]
        ztz = np.add.reduceat(zs[:, :, None] * zs[:, None, :], starts, axis=0)
        ztx = np.add.reduceat(zs[:, :, None] * xs[:, None, :], starts, axis=0)
        zty = np.add.reduceat(zs * ys[:, None], starts, axis=0)
        assert ztz.shape[1:] == (q, q)
        assert ztx.shape[1:] == (q, p)
        return cls(ztz, ztx, zty, x.T @ x, x.T @ y, float(y @ y), len(y))


@dataclass(frozen=True)
class PLSSolution:
    """The penalised least squares solution at one theta."""

    deviance: float
    beta: Array
    sigma2: float
    rx: Array  # lower Cholesky factor of the fixed-effects block, (p, p)
    cu: Array  # (m, q)
    rzx: Array  # (m, q, p)
    chol: Array  # (m, q, q)


@dataclass(frozen=True)
class FastFit:
    """Result of :func:`fit_one_factor`, in the quantities lme4 reports."""

    beta: Array
    vcov: Array  # vcov(beta), as lme4's vcov(): sigma^2 (RX' RX)^-1
    theta: Array
    sigma: float
    cov_re: Array  # sigma^2 Lambda Lambda'
    loglik: float  # -deviance / 2 (the REML criterion for REML fits), as lme4's logLik
    ranef: Array  # conditional modes b_i, (m, q)
    converged: bool
    singular: bool
    message: str
    n_evals: int


def theta_to_lambda(theta: Array, q: int) -> Array:
    """Fill the lower triangle of Lambda column by column, as lme4 orders theta."""
    lam = np.zeros((q, q))
    lam.T[np.triu_indices(q)] = theta  # column-major lower triangle
    return lam


def _lower_bounds(q: int) -> list[tuple[float | None, float | None]]:
    """Bound the diagonal elements of Lambda below by zero, the others not at all."""
    rows, cols = np.triu_indices(q)  # transposed: (col, row) of the lower triangle
    return [(0.0, None) if r == c else (None, None) for r, c in zip(rows, cols, strict=True)]


def _cholesky(a: Array) -> Array:
    """Return the lower Cholesky factors of a stack of small SPD matrices, (m, q, q)."""
    q = a.shape[1]
    low = np.zeros_like(a)
    for j in range(q):
        d = a[:, j, j] - np.sum(low[:, j, :j] ** 2, axis=1)
        if np.any(d <= 0):
            raise np.linalg.LinAlgError("matrix not positive definite")
        low[:, j, j] = np.sqrt(d)
        for i in range(j + 1, q):
            off = a[:, i, j] - np.sum(low[:, i, :j] * low[:, j, :j], axis=1)
            low[:, i, j] = off / low[:, j, j]
    return low


def _forward(low: Array, b: Array) -> Array:
    """Solve ``low x = b`` for a stack of lower-triangular (m, q, q) and b (m, q, k)."""
    x = np.empty_like(b)
    for i in range(low.shape[1]):
        acc = b[:, i, :].copy()
        for j in range(i):
            acc -= low[:, i, j, None] * x[:, j, :]
        x[:, i, :] = acc / low[:, i, i, None]
    return x


def _left(m: Array, a: Array) -> Array:
    """Return ``m @ a_i`` for every matrix of the stack a (m, q, k), through one BLAS call."""
    return np.tensordot(a, m, axes=([1], [1])).transpose(0, 2, 1)


def _bmm(a: Array, b: Array) -> Array:
    """Return ``a_i @ b_i`` for stacks (m, r, q) and (m, q, k), summing over the small q."""
    out = a[:, :, 0, None] * b[:, None, 0, :]
    for j in range(1, a.shape[2]):
        out += a[:, :, j, None] * b[:, None, j, :]
    return out


def _cross(a: Array, b: Array) -> Array:
    """Return sum over subjects of a_i' b_i for stacks (m, q, k) and (m, q, l)."""
    return a.reshape(-1, a.shape[2]).T @ b.reshape(-1, b.shape[2])


def solve_pls(stats: SufficientStats, theta: Array, reml: bool) -> PLSSolution:
    """Solve the penalised least squares problem at theta for all subjects at once."""
    q, p = stats.ztx.shape[1], stats.ztx.shape[2]
    lam = theta_to_lambda(theta, q)
    chol = _cholesky(_left(lam.T, _left(lam.T, stats.ztz).transpose(0, 2, 1)) + np.eye(q))
    rzx = _forward(chol, _left(lam.T, stats.ztx))
    cu = _forward(chol, _left(lam.T, stats.zty[:, :, None]))[:, :, 0]
    rx = np.linalg.cholesky(stats.xtx - _cross(rzx, rzx))
    rhs = stats.xty - _cross(rzx, cu[:, :, None])[:, 0]
    cbeta = linalg.solve_triangular(rx, rhs, lower=True)
    beta = linalg.solve_triangular(rx.T, cbeta, lower=False)
    r2 = stats.yty - float(np.sum(cu * cu)) - float(cbeta @ cbeta)
    r2 = max(r2, np.finfo(float).tiny)
    logdet_l = 2.0 * float(np.sum(np.log(np.diagonal(chol, axis1=1, axis2=2))))
    n = stats.n_obs
    if reml:
        dof = n - p
        logdet_rx = 2.0 * float(np.sum(np.log(np.diag(rx))))
        dev = logdet_l + logdet_rx + dof * (1.0 + np.log(2.0 * np.pi * r2 / dof))
    else:
        dof = n
        dev = logdet_l + n * (1.0 + np.log(2.0 * np.pi * r2 / n))
    return PLSSolution(float(dev), beta, r2 / dof, rx, cu, rzx, chol)


def deviance_gradient(stats: SufficientStats, theta: Array, sol: PLSSolution, reml: bool) -> Array:
    """Return the exact gradient of the profiled deviance with respect to theta.

    With ``D = Lambda Lambda'`` and ``W_i = (I + Z_i D Z_i')^-1``, the derivative of the
    deviance is ``tr(S dD)`` with ``S = sum Z_i'W_i Z_i - (dof / r2) sum s_i s_i'``
    (``s_i = Z_i'W_i r_i``) less ``sum G_i (X'WX)^-1 G_i'`` (``G_i = Z_i'W_i X_i``) for REML;
    ``beta`` drops out because it is profiled. By Woodbury, with ``V_i = L_i^-1 Lambda' Z_i'Z_i``,
    ``Z_i'W_i Z_i = Z_i'Z_i - V_i'V_i``, ``s_i = Z_i'r_i - V_i'(cu_i - RZX_i beta)`` and
    ``G_i = Z_i'X_i - V_i' RZX_i``: the factors of :func:`solve_pls` serve again.
    """
    q, p = stats.ztx.shape[1], stats.ztx.shape[2]
    lam = theta_to_lambda(theta, q)
    v = _forward(sol.chol, _left(lam.T, stats.ztz))
    vt = np.swapaxes(v, 1, 2)
    zwz = stats.ztz.sum(axis=0) - _cross(v, v)
    w = sol.cu - sol.rzx @ sol.beta
    s = (stats.zty - stats.ztx @ sol.beta) - _bmm(vt, w[:, :, None])[:, :, 0]
    dof = stats.n_obs - p if reml else stats.n_obs
    r2 = sol.sigma2 * dof
    grad_d = zwz - (dof / r2) * (s.T @ s)
    if reml:
        g = stats.ztx - _bmm(vt, sol.rzx)
        gm = (g.reshape(-1, p) @ linalg.cho_solve((sol.rx, True), np.eye(p))).reshape(g.shape)
        grad_d -= np.tensordot(gm, g, axes=([0, 2], [0, 2]))
    grad_lam = (grad_d + grad_d.T) @ lam
    return np.asarray(grad_lam.T[np.triu_indices(q)], dtype=float)


def _stationary(
    objective: Callable[[Array], tuple[float, Array]], theta: Array, diag_idx: NDArray[np.intp]
) -> bool:
    """Tell whether theta is a minimum: the Newton step ``H^-1 g`` is below STEP_TOL.

    This is lme4's relative-gradient check (its tolerance 2e-3), with the Hessian from
    differences of the exact gradient; elements held at their bound are left out.
    """
    value, grad = objective(theta)
    if not np.isfinite(value):
        return False
    free = np.ones(len(theta), dtype=bool)
    free[diag_idx] = ~((theta[diag_idx] <= 0.0) & (grad[diag_idx] >= 0.0))
    idx = np.flatnonzero(free)
    if len(idx) == 0:
        return True
    hess = np.empty((len(idx), len(idx)))
    for col, k in enumerate(idx):
        h = 1e-5 * max(1.0, abs(theta[k]))
        step = theta.copy()
        step[k] += h
        hess[:, col] = (objective(step)[1][idx] - grad[idx]) / h
    hess = (hess + hess.T) / 2.0
    try:
        newton = np.linalg.solve(hess, grad[idx])
    except np.linalg.LinAlgError:
        return False
    return bool(np.all(np.linalg.eigvalsh(hess) > 0) and np.max(np.abs(newton)) < STEP_TOL)


def _minimise(
    objective: Callable[[Array], tuple[float, Array]],
    theta0: Array,
    bounds: list[tuple[float | None, float | None]],
    max_iter: int,
) -> optimize.OptimizeResult:
    """Run L-BFGS-B with the exact gradient from ``theta0``."""
    return optimize.minimize(
        objective,
        theta0,
        jac=True,
        method="L-BFGS-B",
        bounds=bounds,
        options={"maxiter": max_iter, "ftol": 1e-13, "gtol": 1e-8},
    )


def _optimise(
    objective: Callable[[Array], tuple[float, Array]],
    theta0: Array,
    bounds: list[tuple[float | None, float | None]],
    diag_idx: NDArray[np.intp],
    max_iter: int,
    tried: list[str],
    deviance: Callable[[Array], float],
    stationary: Callable[[Array], bool],
    maxfev: int,
) -> tuple[Array, bool]:
    """Minimise the profiled deviance, and say whether the optimum passed the check.

    L-BFGS-B from ``theta0``; when a variance ends at zero, a restart from inside the boundary
    (the better of the two is kept); when the optimum fails ``stationary``, Nelder-Mead from
    there (kept if no worse). ``tried`` gathers the steps taken, for the report.
    """
    res = _minimise(objective, theta0, bounds, max_iter)
    at_zero = np.asarray(res.x)[diag_idx] < SINGULAR_TOL
    if max_iter > 1 and at_zero.any():
        restart = np.asarray(res.x, dtype=float).copy()
        restart[diag_idx[at_zero]] = theta0[diag_idx[at_zero]]
        tried.append("a restart from inside the boundary")
        res2 = _minimise(objective, restart, bounds, max_iter)
        if res2.fun < res.fun or not res.success:
            res = res2
    theta = np.asarray(res.x, dtype=float)
    converged = stationary(theta)
    if not converged and max_iter > 1:
        tried.append("Nelder-Mead")
        res3 = optimize.minimize(
            deviance, theta, method="Nelder-Mead", bounds=bounds,
            options={"maxfev": maxfev, "xatol": 1e-10, "fatol": 1e-12},
        )
        if res3.fun <= deviance(theta):
            theta = np.asarray(res3.x, dtype=float)
        converged = stationary(theta)
    return theta, converged


def _one_blas_thread(func: Callable[..., Any]) -> Callable[..., Any]:
    """Run func with BLAS on one thread: its matrices are small, and on a busy machine
    threaded BLAS made one deviance evaluation 14 times slower (threadpoolctl)."""
    import functools

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

        with threadpool_limits(limits=1, user_api="blas"):
            return func(*args, **kwargs)

    return wrapper


@_one_blas_thread
def fit_one_factor(
    stats: SufficientStats, reml: bool = True, max_iter: int = 500
) -> FastFit:
    """Minimise the profiled deviance over theta and return lme4's estimates at the optimum.

    The start is Lambda diagonal with ``1 / rms(Z_j)`` (lme4 starts at the identity; this
    is the identity for the standardised random-effects columns, so the start does not
    depend on the unit of time). A fit that ends on the boundary is restarted once from
    the interior, since ``theta_jj = 0`` is a stationary point of the deviance.
    """
    q = stats.ztz.shape[1]
    rms = np.sqrt(np.diagonal(stats.ztz.sum(axis=0)) / stats.n_obs)
    theta0 = np.diag(1.0 / np.where(rms > 0, rms, 1.0)).T[np.triu_indices(q)]
    diag_idx = np.flatnonzero([lo == 0.0 for lo, _ in _lower_bounds(q)])
    bounds = _lower_bounds(q)
    n_evals = 0

    def objective(theta: Array) -> tuple[float, Array]:
        nonlocal n_evals
        n_evals += 1
        try:
            sol = solve_pls(stats, theta, reml)
        except np.linalg.LinAlgError:
            return np.inf, np.zeros_like(theta)
        return sol.deviance, deviance_gradient(stats, theta, sol, reml)

    tried = ["L-BFGS-B with the exact gradient of the profiled deviance"]
    theta, converged = _optimise(
        objective, theta0, bounds, diag_idx, max_iter, tried,
        deviance=lambda t: objective(t)[0],
        stationary=lambda t: _stationary(objective, t, diag_idx), maxfev=20 * max_iter,
    )
    sol = solve_pls(stats, theta, reml)
    lam = theta_to_lambda(theta, q)
    sigma2 = sol.sigma2
    rx_inv = linalg.solve_triangular(sol.rx, np.eye(len(sol.beta)), lower=True)
    vcov = sigma2 * (rx_inv.T @ rx_inv)
    u = np.linalg.solve(
        np.swapaxes(sol.chol, 1, 2), (sol.cu - sol.rzx @ sol.beta)[:, :, None]
    )[:, :, 0]
    status = "converged" if converged else "did not converge"
    return FastFit(
        beta=sol.beta,
        vcov=vcov,
        theta=theta,
        sigma=float(np.sqrt(sigma2)),
        cov_re=sigma2 * lam @ lam.T,
        loglik=-sol.deviance / 2.0,
        ranef=u @ lam.T,
        converged=converged,
        singular=bool(np.any(np.diag(lam) < SINGULAR_TOL)),
        message=f"tried {', then '.join(tried)}: {status}",
        n_evals=n_evals,
    )


# --------------------------------------------------------------------------------------------
# Several random-effect terms: participants and teams, nested or crossed (a team per occasion).
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Term:
    """One random-effect term ``(z | factor)``: level codes 0..m-1 per row and its columns.

    ``correlated=False`` makes Lambda of the term diagonal, as lme4's ``(1 | f) + (0 + t | f)``.
    """

    codes: NDArray[np.intp]
    z: Array  # (n, q)
    correlated: bool = True

    @property
    def q(self) -> int:
        return int(self.z.shape[1])

    @property
    def m(self) -> int:
        return int(self.codes.max()) + 1

    @property
    def n_theta(self) -> int:
        return self.q * (self.q + 1) // 2 if self.correlated else self.q

    def lam(self, theta: Array) -> Array:
        """Lambda of the term from its part of theta (lme4's column-major lower triangle)."""
        if self.correlated:
            return theta_to_lambda(theta, self.q)
        return np.diag(theta)

    def diag_positions(self) -> list[int]:
        """Positions within the term's theta of the diagonal of Lambda (bounded below by 0)."""
        if not self.correlated:
            return list(range(self.q))
        rows, cols = np.triu_indices(self.q)
        return [k for k, (r, c) in enumerate(zip(rows, cols, strict=True)) if r == c]


@dataclass(frozen=True)
class TermsFit:
    """Result of :func:`fit_terms`, in the quantities lme4 reports, in the units of the input."""

    beta: Array
    vcov: Array
    sigma: float
    cov_re: list[Array]  # sigma^2 Lambda_k Lambda_k' per term, in the input's units
    loglik: float
    converged: bool
    singular: bool
    message: str
    n_evals: int
    theta: Array  # at the optimum, for the scaled columns


class TermsModel:
    """The profiled deviance of ``y = X beta + sum_k Z_k b_k + e``, lme4's formulation.

    The first term (the one with most levels, e.g. participants) is block diagonal in
    ``Lambda' Z'Z Lambda + I``; the others (teams) are gathered into a small dense block.
    The Cholesky factor is taken by blocks: batched small factors for the first term, a sparse
    (scipy.sparse) coupling block with one entry per participant and team that meet, and a
    dense factor of the Schur complement for the rest. Each Z column is scaled to unit root
    mean square internally (theta refers to the scaled columns), so the optimiser sees the
    same problem whatever the unit of time, and the results are transformed back.
    """

    def __init__(self, y: Array, x: Array, terms: list[Term]) -> None:
        order = sorted(range(len(terms)), key=lambda k: -terms[k].m * terms[k].q)
        self.order = order
        scales = []
        scaled: list[Term] = []
        for k in order:
            t = terms[k]
            rms = np.sqrt(np.mean(t.z**2, axis=0))
            rms = np.where(rms > 0, rms, 1.0)
            scales.append(rms)
            scaled.append(Term(np.asarray(t.codes, dtype=np.intp), t.z / rms, t.correlated))
        self.terms = scaled
        self.scales = scales
        self.n, self.p = x.shape
        # y less its least-squares fit on X: the same deviance (beta shifts by beta0), but the
        # residual sum of squares is no longer a small difference of large sums.
        self.beta0 = np.linalg.lstsq(x, y, rcond=None)[0]
        y = y - x @ self.beta0
        first, rest = scaled[0], scaled[1:]
        self.stats1 = SufficientStats.from_arrays(y, x, first.z, first.codes)
        self.offsets = np.cumsum([0] + [t.m * t.q for t in rest])
        q2 = int(self.offsets[-1])
        self.q2 = q2
        # Columns of the dense part: term t, level l, column j -> offset_t + l * q_t + j.
        cols = [self.offsets[i] + t.codes[:, None] * t.q + np.arange(t.q) for i, t in enumerate(rest)]
        vals = [t.z for t in rest]
        if rest:
            col = np.concatenate(cols, axis=1)
            val = np.concatenate(vals, axis=1)
        else:
            col = np.zeros((self.n, 0), dtype=np.intp)
            val = np.zeros((self.n, 0))
        from scipy import sparse

        rows = np.repeat(np.arange(self.n), col.shape[1])
        z2 = sparse.csr_matrix((val.ravel(), (rows, col.ravel())), shape=(self.n, q2))
        self.z2tz2 = (z2.T @ z2).toarray()
        self.z2tx = np.asarray(z2.T @ x)
        self.z2ty = np.asarray(z2.T @ y)
        # Coupling Z1'Z2: one (q1 x 1) column block per (first-term level, dense column) pair.
        q1 = first.q
        z1 = first.z
        pair_i = np.repeat(first.codes, col.shape[1])
        pair_c = col.ravel()
        contrib = (z1[:, :, None] * val[:, None, :]).transpose(0, 2, 1).reshape(-1, q1)
        key = pair_i.astype(np.int64) * max(q2, 1) + pair_c
        uniq, inverse = np.unique(key, return_inverse=True)
        block = np.zeros((len(uniq), q1))
        np.add.at(block, inverse, contrib)
        self.pair_i = (uniq // max(q2, 1)).astype(np.intp)
        self.pair_c = (uniq % max(q2, 1)).astype(np.intp)
        self.pair_block = block  # (P, q1): the column pair_c of Z1_i'Z2
        # Which dense columns belong to which term and column j, to apply Lambda_t per level.
        self.col_term = np.concatenate(
            [np.full(t.m * t.q, i) for i, t in enumerate(rest)]).astype(np.intp) if rest else \
            np.zeros(0, dtype=np.intp)
        self.diag_lam2 = all(t.q == 1 or not t.correlated for t in rest)
        self.theta_sizes = [t.n_theta for t in scaled]
        self.theta_offsets = np.cumsum([0, *self.theta_sizes])
        self.diag_idx = np.array(
            [int(self.theta_offsets[i]) + d for i, t in enumerate(scaled) for d in t.diag_positions()],
            dtype=np.intp,
        )

    # theta ----------------------------------------------------------------------------------
    def split(self, theta: Array) -> list[Array]:
        """Lambda of each (scaled) term from theta."""
        return [t.lam(theta[self.theta_offsets[i]:self.theta_offsets[i + 1]])
                for i, t in enumerate(self.terms)]

    def start(self) -> Array:
        """lme4's start: Lambda the identity (for the scaled columns), correlations zero."""
        parts = []
        for t in self.terms:
            parts.append(np.eye(t.q).T[np.triu_indices(t.q)] if t.correlated else np.ones(t.q))
        return np.concatenate(parts)

    def bounds(self) -> list[tuple[float | None, float | None]]:
        out: list[tuple[float | None, float | None]] = [(None, None)] * int(self.theta_offsets[-1])
        for k in self.diag_idx:
            out[k] = (0.0, None)
        return out

    def _lambda2(self, lams: list[Array]) -> Array:
        """The dense block of Lambda for the terms after the first (block diagonal by level)."""
        lam2 = np.zeros((self.q2, self.q2))
        for i, t in enumerate(self.terms[1:]):
            lam_t = lams[i + 1]
            off = int(self.offsets[i])
            for level in range(t.m):
                s = off + level * t.q
                lam2[s:s + t.q, s:s + t.q] = lam_t
        return lam2

    # deviance -------------------------------------------------------------------------------
    def solve(self, theta: Array, reml: bool) -> dict[str, Any]:
        """Penalised least squares at theta; the profiled deviance and the factors."""
        st = self.stats1
        lams = self.split(theta)
        lam1 = lams[0]
        q1, p = st.ztx.shape[1], self.p
        chol1 = _cholesky(_left(lam1.T, _left(lam1.T, st.ztz).transpose(0, 2, 1)) + np.eye(q1))
        rzx1 = _forward(chol1, _left(lam1.T, st.ztx))
        cu1 = _forward(chol1, _left(lam1.T, st.zty[:, :, None]))[:, :, 0]
        logdet = 2.0 * float(np.sum(np.log(np.diagonal(chol1, axis1=1, axis2=2))))
        xtx = st.xtx - _cross(rzx1, rzx1)
        xty = st.xty - _cross(rzx1, cu1[:, :, None])[:, 0]
        yty = st.yty - float(np.sum(cu1 * cu1))
        extra: dict[str, Any] = {}
        if self.q2:
            lam2 = self._lambda2(lams)
            zt = self._z1tz2_sparse(lam1, lam2)  # (m1*q1, q2) sparse, = Lambda1' Z1'Z2 Lambda2
            r12 = self._forward_sparse(chol1, zt)  # L11^-1 A12
            a22 = lam2.T @ self.z2tz2 @ lam2 + np.eye(self.q2) - (r12.T @ r12).toarray()
            chol2 = np.linalg.cholesky(a22)
            rhs_y = lam2.T @ self.z2ty - r12.T @ cu1.ravel()
            rhs_x = lam2.T @ self.z2tx - r12.T @ rzx1.reshape(-1, p)
            # chol2.T is Fortran-ordered: LAPACK solves with it without copying.
            both = linalg.solve_triangular(chol2.T, np.column_stack([rhs_y, rhs_x]), trans="T",
                                           lower=False, check_finite=False)
            cu2, rzx2 = both[:, 0], both[:, 1:]
            logdet += 2.0 * float(np.sum(np.log(np.diag(chol2))))
            xtx = xtx - rzx2.T @ rzx2
            xty = xty - rzx2.T @ cu2
            yty -= float(cu2 @ cu2)
            extra = {"lam2": lam2, "r12": r12, "chol2": chol2, "cu2": cu2, "rzx2": rzx2}
        rx = np.linalg.cholesky(xtx)
        cbeta = linalg.solve_triangular(rx, xty, lower=True)
        beta = linalg.solve_triangular(rx.T, cbeta, lower=False)
        r2 = max(yty - float(cbeta @ cbeta), np.finfo(float).tiny)
        n = self.n
        if reml:
            dof = n - p
            dev = logdet + 2.0 * float(np.sum(np.log(np.diag(rx)))) \
                + dof * (1.0 + np.log(2.0 * np.pi * r2 / dof))
        else:
            dof = n
            dev = logdet + n * (1.0 + np.log(2.0 * np.pi * r2 / n))
        return {"deviance": float(dev), "beta": beta + self.beta0, "sigma2": r2 / dof, "rx": rx,
                "lams": lams, **extra}

    def _patterns(self) -> None:
        """Fix once the sparsity patterns (CSR order) of the matrices rebuilt at each theta."""
        from scipy import sparse

        q1 = self.stats1.ztz.shape[1]
        m1 = self.stats1.ztz.shape[0]
        rows = (self.pair_i[:, None] * q1 + np.arange(q1)).ravel()
        cols = np.repeat(self.pair_c, q1)
        tag = sparse.csr_matrix((np.arange(1, len(rows) + 1, dtype=float), (rows, cols)),
                                shape=(m1 * q1, self.q2))
        self._zt_perm = tag.data.astype(np.intp) - 1
        self._zt_index = (tag.indices.copy(), tag.indptr.copy())
        # Block diagonal L11^-1: row (i, a) holds columns i*q1 .. i*q1+q1-1, in that order.
        self._linv_index = (
            (np.arange(m1 * q1)[:, None] // q1 * q1 + np.arange(q1)).ravel(),
            np.arange(0, m1 * q1 * q1 + 1, q1),
        )

    def _z1tz2_sparse(self, lam1: Array, lam2: Array) -> Any:
        """Lambda1' Z1'Z2 Lambda2 as a sparse (m1*q1, q2) matrix."""
        from scipy import sparse

        if not hasattr(self, "_zt_perm"):
            self._patterns()
        m1q1 = self.stats1.ztz.shape[0] * lam1.shape[0]
        left = (self.pair_block @ lam1).ravel()[self._zt_perm]
        mat = sparse.csr_matrix((left, *self._zt_index), shape=(m1q1, self.q2))
        if self.diag_lam2:
            return mat.multiply(np.diag(lam2)[None, :]).tocsr()
        lam2_sparse = sparse.block_diag(
            [sparse.kron(sparse.identity(t.m), lam2[int(self.offsets[i]):int(self.offsets[i]) + t.q,
                                                    int(self.offsets[i]):int(self.offsets[i]) + t.q])
             for i, t in enumerate(self.terms[1:])], format="csr")
        return mat @ lam2_sparse

    def _forward_sparse(self, chol1: Array, a12: Any) -> Any:
        """Solve L11 R = A12 for the block-diagonal L11, keeping A12's sparsity."""
        from scipy import sparse

        m1, q1 = chol1.shape[0], chol1.shape[1]
        eye = np.broadcast_to(np.eye(q1), chol1.shape).copy()
        inv = _forward(chol1, eye)  # (m1, q1, q1): small triangular inverses
        linv = sparse.csr_matrix((inv.ravel(), *self._linv_index), shape=(m1 * q1, m1 * q1))
        return linv @ a12

    def deviance(self, theta: Array, reml: bool) -> float:
        try:
            return float(self.solve(theta, reml)["deviance"])
        except np.linalg.LinAlgError:
            return np.inf

    # results --------------------------------------------------------------------------------
    def unscale(self, lams: list[Array]) -> list[Array]:
        """Lambda of each term in the input's units, in the input's order of terms."""
        out: list[Array] = [np.zeros(0)] * len(lams)
        for pos, k in enumerate(self.order):
            out[k] = lams[pos] / self.scales[pos][:, None]
        return out

    def theta_from_cov(self, cov: list[Array], sigma2: float) -> Array:
        """Theta (for the scaled columns) of covariance matrices given in the input's units."""
        parts = []
        for pos, k in enumerate(self.order):
            s = self.scales[pos]
            c = cov[k] * np.outer(s, s) / sigma2
            t = self.terms[pos]
            if t.correlated:
                lam = linalg.cholesky(c + 1e-300 * np.eye(t.q), lower=True) \
                    if np.all(np.linalg.eigvalsh(c) > 0) else np.diag(np.sqrt(np.maximum(np.diag(c), 0)))
                parts.append(lam.T[np.triu_indices(t.q)])
            else:
                parts.append(np.sqrt(np.maximum(np.diag(c), 0.0)))
        return np.concatenate(parts)


def _numeric_objective(
    model: TermsModel, reml: bool, counter: list[int]
) -> Callable[[Array], tuple[float, Array]]:
    """The deviance and its gradient by central differences (forward ones at a bound)."""
    lower = np.full(int(model.theta_offsets[-1]), -np.inf)
    lower[model.diag_idx] = 0.0

    def objective(theta: Array) -> tuple[float, Array]:
        counter[0] += 1
        value = model.deviance(theta, reml)
        if not np.isfinite(value):
            return np.inf, np.zeros_like(theta)
        grad = np.empty_like(theta)
        for k in range(len(theta)):
            h = 1e-5 * max(1.0, abs(theta[k]))
            up = theta.copy()
            up[k] += h
            if theta[k] - h < lower[k]:
                grad[k] = (model.deviance(up, reml) - value) / h
            else:
                down = theta.copy()
                down[k] -= h
                grad[k] = (model.deviance(up, reml) - model.deviance(down, reml)) / (2 * h)
        return value, grad

    return objective


def _stationary_numeric(
    model: TermsModel, reml: bool, theta: Array, step_tol: float = STEP_TOL
) -> bool:
    """Tell whether theta passes the check of :func:`_newton_check`."""
    return _newton_check(model, reml, theta, step_tol)[0]


def _newton_check(
    model: TermsModel, reml: bool, theta: Array, step_tol: float
) -> tuple[bool, float]:
    """lme4's check on a fit of several terms: the Newton step ``H^-1 g`` below STEP_TOL and H
    positive definite, with g and H from central differences of the deviance (elements held
    at their zero bound with a non-negative forward derivative left out)."""
    f0 = model.deviance(theta, reml)
    if not np.isfinite(f0):
        return False, np.inf
    grad = _numeric_objective(model, reml, [0])(theta)[1]
    at_bound = np.zeros(len(theta), dtype=bool)
    at_bound[model.diag_idx] = (theta[model.diag_idx] <= 1e-8) & (grad[model.diag_idx] >= 0.0)
    idx = np.flatnonzero(~at_bound)
    if len(idx) == 0:
        return True, 0.0
    h = 1e-4 * np.maximum(1.0, np.abs(theta))
    hess = np.empty((len(idx), len(idx)))

    def dev(steps: dict[int, float]) -> float:
        t = theta.copy()
        for k, v in steps.items():
            t[k] += v
        return model.deviance(t, reml)

    for a, i in enumerate(idx.tolist()):
        hess[a, a] = (dev({i: h[i]}) - 2 * f0 + dev({i: -h[i]})) / h[i] ** 2
        for b in range(a):
            j = int(idx[b])
            hess[a, b] = hess[b, a] = (
                dev({i: h[i], j: h[j]}) - dev({i: h[i], j: -h[j]})
                - dev({i: -h[i], j: h[j]}) + dev({i: -h[i], j: -h[j]})
            ) / (4 * h[i] * h[j])
    try:
        eig = np.linalg.eigvalsh(hess)
        newton = np.linalg.solve(hess, grad[idx])
    except np.linalg.LinAlgError:
        return False, np.inf
    ok = bool(np.all(eig > 0) and np.max(np.abs(newton)) < step_tol)
    # The Newton model's gain in log-likelihood (deviance / 2) from theta to the optimum.
    return ok, float(grad[idx] @ newton) / 4.0 if np.all(eig > 0) else np.inf


@_one_blas_thread
def fit_terms(
    y: Array, x: Array, terms: list[Term], reml: bool = True, max_iter: int = 500
) -> TermsFit:
    """Fit a linear mixed model with several random-effect terms, as ``lme4::lmer``.

    The same checks as :func:`fit_one_factor`: L-BFGS-B on the profiled deviance, a restart
    from inside the boundary when a variance ends at zero, Nelder-Mead if the optimum fails the
    gradient-and-Hessian check; ``converged`` only when the check passes.
    """
    model = TermsModel(y, x, terms)
    counter = [0]
    objective = _numeric_objective(model, reml, counter)
    theta0 = model.start()
    bounds = model.bounds()
    diag_idx = model.diag_idx
    tried = ["L-BFGS-B on the profiled deviance"]
    theta, converged = _optimise(
        objective, theta0, bounds, diag_idx, max_iter, tried,
        deviance=lambda t: model.deviance(t, reml),
        stationary=lambda t: _stationary_numeric(model, reml, t), maxfev=40 * max_iter,
    )
    return _terms_result(model, theta, reml, converged, tried, counter[0])


def _terms_result(
    model: TermsModel, theta: Array, reml: bool, converged: bool, tried: list[str], n_evals: int
) -> TermsFit:
    sol = model.solve(theta, reml)
    sigma2 = float(sol["sigma2"])
    rx_inv = linalg.solve_triangular(sol["rx"], np.eye(model.p), lower=True)
    lams = model.unscale(sol["lams"])
    singular = bool(np.any(theta[model.diag_idx] < SINGULAR_TOL))
    status = "converged" if converged else "did not converge"
    return TermsFit(
        beta=sol["beta"],
        vcov=sigma2 * (rx_inv.T @ rx_inv),
        sigma=float(np.sqrt(sigma2)),
        cov_re=[sigma2 * lam @ lam.T for lam in lams],
        loglik=-float(sol["deviance"]) / 2.0,
        converged=converged,
        singular=singular,
        message=f"tried {', then '.join(tried)}: {status}",
        n_evals=n_evals,
        theta=theta,
    )


@_one_blas_thread
def check_optimum(
    y: Array, x: Array, terms: list[Term], cov_re: list[Array], sigma2: float, reml: bool
) -> tuple[bool, float, float]:
    """Tell whether covariances from another engine are at the optimum of the profiled deviance.

    Returns (passes lme4's gradient-and-Hessian check, the deviance there, the log-likelihood
    a Newton step would still gain): the check
    :func:`fit_terms` applies to its own fits, with lme4's tolerance (LME4_STEP_TOL) on the
    Newton step, since another optimiser's stopping point is judged.
    """
    model = TermsModel(y, x, terms)
    theta = model.theta_from_cov(cov_re, sigma2)
    ok, gain = _newton_check(model, reml, theta, LME4_STEP_TOL)
    return ok, model.deviance(theta, reml), gain
