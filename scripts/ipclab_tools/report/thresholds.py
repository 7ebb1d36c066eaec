"""thresholds.py - the limits the report judges rows by."""

NOISY = 0.05          # repeat-to-repeat relative stddev above which a row is flagged
REF_TOLERANCE = 0.05  # ipclab/perf bench ratio of means: the goal is 1 +- this
RT_TOLERANCE = 0.10   # ipclab/rt-tests ratio of means: the goal is 1 +- this
