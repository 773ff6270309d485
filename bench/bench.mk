# The regression benchmark (bench/README.md), included by the top-level
# Makefile. `make bench` runs bench/suites/default.txt natively and in the
# guest into bench/results/<date-time>/, prints guest/native ratios, compares
# with bench/baseline.jsonl when there is one, and plots ns/access against
# the working set. `make bench-baseline BENCH_OUT=dir` saves a run as the
# baseline. BENCH_ARGS passes options to bench/run.sh (e.g. "-n 5 sweep").

ifndef BENCH_OUT
BENCH_OUT := bench/results/$(shell date +%Y%m%d-%H%M%S)
endif
BENCH_ARGS ?=

.PHONY: bench bench-baseline
bench: all payloads
	@bench/run.sh -o $(BENCH_OUT) $(BENCH_ARGS); rc=$$?; \
	r=$(BENCH_OUT)/results.jsonl; \
	bench/report.py ratios $$r; \
	if [ -f bench/baseline.jsonl ]; then bench/report.py compare $$r bench/baseline.jsonl || rc=1; fi; \
	for j in sweep chase prefetch; do \
		if grep -q "\"job\":\"$$j\"" $$r; then \
			w=; [ $$j = sweep ] && w="--where layout=page"; \
			[ $$j = prefetch ] && w="--by mode"; \
			bench/report.py plot $$r --job $$j $$w -o $(BENCH_OUT)/$$j.png || rc=1; \
		fi; \
	done; \
	exit $$rc

bench-baseline:
	@test -f $(BENCH_OUT)/results.jsonl || { echo "bench: set BENCH_OUT to a results directory" >&2; exit 2; }
	bench/report.py baseline $(BENCH_OUT)/results.jsonl >bench/baseline.jsonl
