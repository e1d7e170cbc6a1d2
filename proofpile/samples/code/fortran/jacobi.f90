! Jacobi iteration for the 1-D Poisson equation -u'' = f on (0, 1), u(0) = u(1) = 0.
program jacobi
  implicit none
  integer, parameter :: n = 64
  real(8) :: u(0:n+1), unew(0:n+1), f(n), h
  integer :: i, it
  h = 1.0d0 / (n + 1)
  u = 0.0d0
  f = 1.0d0
  do it = 1, 5000
     do i = 1, n
        unew(i) = 0.5d0 * (u(i-1) + u(i+1) + h*h*f(i))
     end do
     u(1:n) = unew(1:n)
  end do
  print *, 'u(1/2) =', u(n/2), ' exact:', 0.125d0
end program jacobi
