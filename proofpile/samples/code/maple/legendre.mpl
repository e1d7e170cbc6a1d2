# Legendre polynomials by Rodrigues' formula and a check of orthogonality.
P := proc(n::nonnegint, x)
    local t;
    simplify(eval(diff((t^2 - 1)^n, t $ n), t = x) / (2^n * n!));
end proc:

for n from 0 to 4 do
    print(n, expand(P(n, x)));
end do;

int(P(2, x) * P(3, x), x = -1 .. 1);   # 0
