import numpy as np
eigs = np.linalg.eigvalsh
