# Newton's method for a root of f, with the derivative given.
function newton(f, df, x0; tol=1e-12, maxiter=50)
    x = x0
    for _ in 1:maxiter
        dx = f(x) / df(x)
        x -= dx
        abs(dx) < tol && return x
    end
    error("no convergence")
end

sqrt2 = newton(x -> x^2 - 2, x -> 2x, 1.0)
@assert isapprox(sqrt2, √2)
