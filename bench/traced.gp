# traced.gp - round trip untraced vs traced (LTTng recording the four ipclab_msg events
# of every round trip): p50 bars (value printed above the whisker) with p50..p99
# whiskers and means, per run.
# usage: gnuplot -c bench/traced.gp data/traced.tsv out.png|out.svg "title"
# input (scripts/report): 1 x  2 label  3 untraced_p50_us  4 untraced_p99_us
#   5 untraced_mean_us  6 traced_p50_us  7 traced_p99_us  8 traced_mean_us
if (ARGC < 2) { print "usage: gnuplot -c traced.gp IN.tsv OUT.png|OUT.svg [TITLE]"; exit status 2 }
infile = ARG1
outfile = ARG2
plottitle = (ARGC >= 3) ? ARG3 : "round trip, untraced vs traced"
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
stats infile using 7 nooutput
yhi = STATS_max
set title plottitle
set ylabel "round-trip time (µs)"
set xlabel "run (mode, placement)"
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
plot infile using ($1 - 0.19):3:(w):xtic(2) with boxes lc rgb "#4477aa" title "untraced p50", \
     '' using ($1 - 0.19):3:(0):($4 - $3) with vectors head size screen 0.008,90 lc rgb "#222222" lw 1.5 title "p50…p99", \
     '' using ($1 + 0.19):6:(w) with boxes lc rgb "#ee6677" title "traced p50", \
     '' using ($1 + 0.19):6:(0):($7 - $6) with vectors head size screen 0.008,90 lc rgb "#222222" lw 1.5 notitle, \
     '' using ($1 - 0.19):5 with points pt 13 ps 1.6 lc rgb "#ccbb44" title "mean", \
     '' using ($1 + 0.19):8 with points pt 13 ps 1.6 lc rgb "#ccbb44" notitle, \
     '' using ($1 - 0.19):4:(n <= 6 ? sprintf("%.1f", $3) : "") with labels offset 0,0.8 font ",9" notitle, \
     '' using ($1 + 0.19):7:(n <= 6 ? sprintf("%.1f", $6) : "") with labels offset 0,0.8 font ",9" notitle
