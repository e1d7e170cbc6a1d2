"""Lanczos iteration: the extreme eigenvalues of a symmetric matrix from a few matrix-vector products."""
import numpy as np


def lanczos(A, k, seed=0):
    n = A.shape[0]
    rng = np.random.default_rng(seed)
    q = rng.standard_normal(n)
    q /= np.linalg.norm(q)
    alpha, beta = np.zeros(k), np.zeros(k - 1)
    q_prev, b = np.zeros(n), 0.0
    for j in range(k):
        w = A @ q - b * q_prev
        alpha[j] = q @ w
        w -= alpha[j] * q
        if j < k - 1:
            b = beta[j] = np.linalg.norm(w)
            q_prev, q = q, w / b
    T = np.diag(alpha) + np.diag(beta, 1) + np.diag(beta, -1)
    return np.linalg.eigvalsh(T)
