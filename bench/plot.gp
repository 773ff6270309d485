# ns per access against working set, one line per environment; called by
# `bench/report.py plot` with files (space-separated .dat paths of
# "ws_bytes value" lines), out (PNG path), ttl and ylab set by -e.
set terminal png size 960,600 noenhanced
set output out
set title ttl
set logscale x 2
set logscale y 10
set format x "%.0b%B"
set xlabel "working set (bytes)"
set ylabel ylab
set grid
set key top left
plot for [f in files] f using 1:2 with linespoints title system("basename ".f." .dat")
