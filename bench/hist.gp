# hist.gp - latency histograms of one run, log-log: round trip and both one-way
# directions (and the traced round trip when there is one).
# usage: gnuplot -c bench/hist.gp data/hist_ID.tsv out.png|out.svg "title"
# input (scripts/report): one block per series (blocks separated by two blank lines),
# each starting with a quoted header row "series name"<TAB>"count", then rows
# bin_edge_us<TAB>count: every bin is two rows (lower and upper edge, same count),
# NaN rows break the line at empty bins. y is a density: samples per 1/16 octave.
if (ARGC < 2) { print "usage: gnuplot -c hist.gp IN.tsv OUT.png|OUT.svg [TITLE]"; exit status 2 }
infile = ARG1
outfile = ARG2
plottitle = (ARGC >= 3) ? ARG3 : "latency histogram"
set encoding utf8
if (outfile[strlen(outfile)-2:] eq "svg") {
	set terminal svg size 1000,560 dynamic enhanced font "Helvetica,13" background rgb "white"
} else {
	set terminal pngcairo size 1000,560 enhanced font "Helvetica,11"
}
set output outfile
set datafile separator "\t"

stats infile using 1 nooutput
nb = STATS_blocks
set title plottitle
set logscale x 10
set logscale y 10
set format x "%g"
set xlabel "latency (µs, log scale)"
set ylabel "samples per 1/16 octave (log scale)"
set grid xtics ytics mxtics
set key top right box opaque
set yrange [0.8:*]
array colors[4] = ["#4477aa", "#228833", "#ccbb44", "#ee6677"]
array widths[4] = [2.0, 1.2, 1.2, 1.5]
array dashes[4] = [1, 1, 1, 2]
plot for [i=0:nb-1] infile index i using 1:2 with lines lc rgb colors[i+1] lw widths[i+1] \
     dt dashes[i+1] title columnheader(1)
