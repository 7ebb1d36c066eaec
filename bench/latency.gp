# latency.gp - pipe round trip per mode and placement: ipclab p50 bars with p50..p99
# whiskers and its mean (diamond), beside the perf bench mean bar of the same placement.
# usage: gnuplot -c bench/latency.gp data/latency_bars.tsv out.png|out.svg "title"
# input (scripts/report): 1 x  2 label  3 ipclab_p50_us  4 ipclab_p99_us  5 ipclab_mean_us
#                         6 perf_mean_us (NaN: no reference run)
if (ARGC < 2) { print "usage: gnuplot -c latency.gp IN.tsv OUT.png|OUT.svg [TITLE]"; exit status 2 }
infile = ARG1
outfile = ARG2
plottitle = (ARGC >= 3) ? ARG3 : "pipe round-trip latency"
set encoding utf8
if (outfile[strlen(outfile)-2:] eq "svg") {
	set terminal svg size 1000,560 dynamic enhanced font "Helvetica,13" background rgb "white"
} else {
	set terminal pngcairo size 1000,560 enhanced font "Helvetica,11"
}
set output outfile
set datafile separator "\t"

stats infile using 1 nooutput
n = STATS_records
stats infile using 3 nooutput
ylo = STATS_min
stats infile using 4 nooutput
yhi = STATS_max
set title plottitle
set ylabel "round-trip time (µs)"
set xlabel "mode, placement (ipclab pins each peer; perf bench is pinned only to a single CPU)"
set style fill solid 0.85 border -1
set grid ytics
set key top left box opaque
# a tail 30x above the fastest median would flatten every bar: switch to a log axis
logy = (ylo > 0 && yhi / ylo > 30)
if (logy) {
	set logscale y 10
	set yrange [10 ** floor(log10(ylo / 2)) : yhi * 3]
	set ylabel "round-trip time (µs, log scale)"
} else {
	set yrange [0:*]
	set offsets 0, 0, graph 0.12, 0
}
set xrange [0.4 : n + 0.6]
if (n > 6) { set xtics rotate by -25; set rmargin 8 }
w = 0.36
# value labels (up to 6 groups; more would overlap): the p50 above its whisker, the perf mean above its bar
plot infile using ($1 - 0.19):3:(w):xtic(2) with boxes lc rgb "#4477aa" title "ipclab p50", \
     '' using ($1 - 0.19):3:(0):($4 - $3) with vectors head size screen 0.008,90 lc rgb "#222222" lw 1.5 title "ipclab p50…p99", \
     '' using ($1 - 0.19):5 with points pt 13 ps 1.8 lc rgb "#ee6677" title "ipclab mean", \
     '' using ($1 + 0.19):6:(w) with boxes lc rgb "#ccbb44" title "perf bench sched pipe mean", \
     '' using ($1 - 0.19):4:(n <= 6 ? sprintf("p50 %.1f", $3) : "") with labels offset 0,0.8 font ",9" notitle, \
     '' using ($1 + 0.19):6:(n <= 6 ? sprintf("%.1f", $6) : "") with labels offset 0,0.8 font ",9" notitle
