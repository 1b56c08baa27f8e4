import os

# Let idle OpenMP threads sleep instead of spin: on a shared 2-core machine a spinning torch
# thread turned a 10 ms query embedding into 300-700 ms (measured); must be set before torch loads.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
