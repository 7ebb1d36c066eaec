# bars.gp - grouped bars with whiskers: one group per row, one bar per series (e.g. the p50
# round trip of every transport, process/thread x same/cross CPU, whiskers up to p99).
# usage: gnuplot -c bench/bars.gp IN.tsv OUT.png|OUT.svg "title" ["y label"] ["options"]
# input (scripts/report): '#' comment lines, a header row "x" "label" "S1" "S1 hi" ["S2"
#   "S2 hi" ...] naming the series, then one row per group: x (1..n), label, and per series
#   the bar value and its whisker top (NaN: no whisker; a NaN value: no bar).
# options, comma-separated: logy | linear (y axis; the converter decides), ymin=Y (the
#   bottom of a log axis, below the smallest bar), overlay (every
#   series at the group centre: one bar per row, the series only colour it, e.g. process
#   vs thread), values (print each bar's value above it), wide (1400 px), nowhisker (no
#   whisker at all: no legend entry for them).
if (ARGC < 2) { print "usage: gnuplot -c bars.gp IN.tsv OUT.png|OUT.svg [TITLE] [YLABEL] [OPTIONS]"; exit status 2 }
infile = ARG1
outfile = ARG2
plottitle = (ARGC >= 3) ? ARG3 : ""
ylab = (ARGC >= 4 && strlen(ARG4) > 0) ? ARG4 : "latency (µs)"
opts = (ARGC >= 5) ? "," . ARG5 . "," : ","
has(o) = strstrt(opts, "," . o . ",") > 0
width = has("wide") ? 1400 : 1100
set encoding utf8
if (outfile[strlen(outfile)-2:] eq "svg") {
	set terminal svg size width,600 dynamic enhanced font "Helvetica,13" background rgb "white"
} else {
	set terminal pngcairo size width,600 enhanced font "Helvetica,11"
}
set output outfile
set datafile separator "\t"
set datafile columnheaders

stats infile using 1 nooutput
n = STATS_records
ns = int((STATS_columns - 2) / 2)
set title plottitle noenhanced
set ylabel ylab
set style fill solid 0.85 border -1
set grid ytics
set key top left box opaque noenhanced Left reverse
if (has("logy")) {
	set logscale y 10
	set format y "%.10g"
	set offsets 0, 0, graph 0.08, 0
	# ymin=Y: boxes on a log axis grow from its bottom, so it must lie below every bar
	p = strstrt(opts, ",ymin=")
	if (p > 0) { rest = opts[p + 6:]; set yrange [real(rest[1:strstrt(rest, ",") - 1]):*] }
} else {
	set yrange [0:*]
	set offsets 0, 0, graph 0.12, 0
}
set xrange [0.4 : n + 0.6]
set xtics noenhanced
if (n > 6) { set xtics rotate by -30; set bmargin 7 }
array colors[8] = ["#4477aa", "#ee6677", "#228833", "#ccbb44", "#66ccee", "#aa3377", "#bbbbbb", "#222255"]
total = 0.8
w = has("overlay") ? 0.6 : total / ns
off(i) = has("overlay") ? 0 : -total / 2 + w * (i - 0.5)
vcol(i) = 1 + 2 * i
hcol(i) = 2 + 2 * i
top(i) = valid(hcol(i)) ? column(hcol(i)) : column(vcol(i))
plot infile using 1:(NaN):xtic(2) notitle, \
     for [i=1:ns] '' using ($1 + off(i)):(column(vcol(i))):(w) with boxes lc rgb colors[(i - 1) % 8 + 1] title columnheader(vcol(i)), \
     for [i=1:ns] '' using ($1 + off(i)):(column(vcol(i))):(0):(column(hcol(i)) - column(vcol(i))) with vectors head size screen 0.006,90 lc rgb "#222222" lw 1.2 title ((i == 1 && !has("nowhisker")) ? columnhead(hcol(1)) : ""), \
     for [i=1:ns] '' using ($1 + off(i)):(top(i)):(has("values") ? sprintf("%.3g", column(vcol(i))) : "") with labels offset 0,0.7 font ",8" notitle, \
     for [i=1:ns] '' using ($1 + off(i)):(top(i)) with points ps 0 lc rgb "white" notitle
