"""reportlib - the modules of scripts/report (see build.py): one converter from the JSON
results of a bench/run directory to data/*.tsv, figures drawn from those files, and
report.html."""
