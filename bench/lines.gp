# lines.gp - one line per series over a shared x axis (throughput vs message size, fork
# latency vs resident memory, speed-up vs workers, occupancy over time...).
# usage: gnuplot -c bench/lines.gp IN.tsv OUT.png|OUT.svg "title" "x label" "y label" ["options"]
# input (scripts/report): one block per series, blocks separated by two blank lines; each
#   block starts with a quoted header row "series title"<TAB>"y"[<TAB>"tic"], then rows
#   x<TAB>y[<TAB>x tic label]. '#' lines are comments.
# options, comma-separated: logx, logy (log axes), steps (step lines: a sampled time series),
#   points (markers on the lines), dash-last (the last series dashed grey: an ideal or a
#   limit), xticlabels (column 3 labels the x tics: a categorical x such as 0/16/64 KiB),
#   key-left, key-bottom (legend corner; default top right), ymin0 (y from 0), bytes (x tics
#   labelled 16 B, 64 B ... 1 MiB: powers of 4), yint, xint (a tic per integer: counts), ysi (y tics with SI
#   prefixes: 10k, 1M).
if (ARGC < 2) { print "usage: gnuplot -c lines.gp IN.tsv OUT.png|OUT.svg [TITLE] [XLABEL] [YLABEL] [OPTIONS]"; exit status 2 }
infile = ARG1
outfile = ARG2
plottitle = (ARGC >= 3) ? ARG3 : ""
xlab = (ARGC >= 4) ? ARG4 : ""
ylab = (ARGC >= 5) ? ARG5 : ""
opts = (ARGC >= 6) ? "," . ARG6 . "," : ","
has(o) = strstrt(opts, "," . o . ",") > 0
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
set title plottitle noenhanced
set xlabel xlab
set ylabel ylab
set grid xtics ytics
if (has("logx")) { set logscale x 2; set format x "%.10g" }
if (has("bytes")) { set xtics ("1 B" 1, "4 B" 4, "16 B" 16, "64 B" 64, "256 B" 256, "1 KiB" 1024, "4 KiB" 4096, \
	"16 KiB" 16384, "64 KiB" 65536, "256 KiB" 262144, "1 MiB" 1048576, "4 MiB" 4194304, "16 MiB" 16777216) }
if (has("logy")) { set logscale y 10; set format y "%.10g"; set grid mytics }
if (has("ymin0")) { set yrange [0:*] }
vpos = has("key-bottom") ? "bottom" : "top"
hpos = has("key-left") ? "left" : "right"
eval sprintf("set key %s %s box opaque noenhanced Left reverse", vpos, hpos)
set autoscale xfix
set offsets graph 0.03, graph 0.03, graph 0.06, 0
if (has("yint")) { set ytics 1 }
if (has("ysi")) { set format y "%.0s%c" }
if (has("xint")) { set xtics 1 }
array colors[8] = ["#4477aa", "#ee6677", "#228833", "#ccbb44", "#66ccee", "#aa3377", "#222255", "#bb5500"]
dl = has("dash-last") && nb > 1
nsolid = dl ? nb - 1 : nb
# the plot style of the solid series, as a macro (markers only with "points")
wsolid = has("steps") ? "steps" : (has("points") ? "linespoints pt (i % 7 + 5) ps 1.1" : "lines")
if (has("xticlabels")) {
	plot for [i=0:nsolid-1] infile index i using 1:2:xtic(3) with @wsolid lc rgb colors[i % 8 + 1] lw 2 title columnheader(1), \
	     for [i=nsolid:nb-1] infile index i using 1:2 with lines lc rgb "#777777" lw 1.5 dt 2 title columnheader(1)
} else {
	plot for [i=0:nsolid-1] infile index i using 1:2 with @wsolid lc rgb colors[i % 8 + 1] lw 2 title columnheader(1), \
	     for [i=nsolid:nb-1] infile index i using 1:2 with lines lc rgb "#777777" lw 1.5 dt 2 title columnheader(1)
}
