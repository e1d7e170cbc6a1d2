% Explicit finite differences for the heat equation u_t = u_xx on [0, 1].
function u = heat1d(n, steps)
    h = 1 / (n + 1);
    dt = 0.4 * h^2;              % stable for dt/h^2 <= 1/2
    x = (1:n)' * h;
    u = sin(pi * x);
    e = ones(n, 1);
    A = spdiags([e -2*e e], -1:1, n, n) / h^2;
    for k = 1:steps
        u = u + dt * (A * u);
    end
    fprintf('max error %g\n', max(abs(u - exp(-pi^2 * dt * steps) * sin(pi * x))));
end
