// Least-squares polynomial fit with Eigen's QR decomposition.
#include <Eigen/Dense>
#include <iostream>

Eigen::VectorXd polyfit(const Eigen::VectorXd& x, const Eigen::VectorXd& y, int degree)
{
    Eigen::MatrixXd V(x.size(), degree + 1);
    for (int i = 0; i < x.size(); ++i) {
        double p = 1.0;
        for (int j = 0; j <= degree; ++j) { V(i, j) = p; p *= x(i); }
    }
    // minimise ||V c - y||_2
    return V.colPivHouseholderQr().solve(y);
}

int main()
{
    Eigen::VectorXd x = Eigen::VectorXd::LinSpaced(20, -1.0, 1.0);
    Eigen::VectorXd y = x.array().square() * 3.0 - x.array() + 0.5;
    std::cout << polyfit(x, y, 2).transpose() << std::endl;
}
