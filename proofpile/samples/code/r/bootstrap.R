# Bootstrap confidence interval for the median.
set.seed(1)
x <- rexp(50, rate = 2)
boot_medians <- replicate(2000, median(sample(x, replace = TRUE)))
ci <- quantile(boot_medians, c(0.025, 0.975))
cat(sprintf("median %.3f, 95%% CI [%.3f, %.3f]\n", median(x), ci[1], ci[2]))
cat("true median", log(2) / 2, "\n")
