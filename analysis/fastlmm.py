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
    converged = _stationary(objective, theta, diag_idx)
    if not converged and max_iter > 1:
        tried.append("Nelder-Mead")
        res3 = optimize.minimize(
            lambda t: objective(t)[0], theta, method="Nelder-Mead", bounds=bounds,
            options={"maxfev": 20 * max_iter, "xatol": 1e-10, "fatol": 1e-12},
        )
        if res3.fun <= res.fun:
            theta = np.asarray(res3.x, dtype=float)
        converged = _stationary(objective, theta, diag_idx)
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
