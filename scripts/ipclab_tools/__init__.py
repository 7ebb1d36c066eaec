"""ipclab_tools - the Python tooling of ipclab, one package behind thin entry points.

Entry points (each a few lines that call one module's main):
  bench/run                   runner.main      the matrix runner (one process owns matrix.json)
  scripts/report              report.main      results folder -> data/*.tsv, figures, report.html
  scripts/make-report         makereport.main  the make report / make bench pipeline
  scripts/ipclab-compare      compare.main     B vs A per metric; --run: interleaved A/B session
  scripts/ipclab-lami         lami.main        LAMI 1.0 analysis for Trace Compass
  scripts/ipclab-analyze      analyze.main     sink.ipclab.analyze with input checks
  scripts/ipclab-trace-count  tracecount.main  events by name and vpid (python3-bt2)
  scripts/collect-env         env.main         DIR/env.json
  bench/effect-rates          effects.main     how often each concurrency demo shows its effect
  bench/ref-ratios            refpairs.main    the reference pairs' ratios, printed
  bench/analyze-speed         speed.main       the trace analysis plugin against babeltrace2

Shared, written once: cli (argparse, exit codes, errors), fmt (numbers), results (result
JSON, results folders, atomic writes), hist (histogram files), placement (where runs ran),
metrics (latency summaries and throughputs inside a result), stats (the statistics),
ctf (CTF trace folders and metadata), leftovers (IPC objects a run left behind), paths.
Debian's python3 only: the standard library, python3-bt2 and python3-scipy.
"""
