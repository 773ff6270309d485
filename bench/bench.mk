# The regression benchmark (bench/README.md), included by the top-level
# Makefile. `make bench` runs `bench/run --quick` into
# bench/results/DATE-quick/ and compares it with BENCH_BASE (default: the
# previous quick run on this machine); it fails when a point regressed.
# BENCH_ARGS passes options to bench/run (e.g. "-n 9 sweep").

BENCH_ARGS ?=
BENCH_BASE ?=
ifndef BENCH_OUT
BENCH_OUT := bench/results/$(shell date +%Y%m%d-%H%M%S)-quick
endif

.PHONY: bench
bench: all payloads
	@base="$(BENCH_BASE)"; \
	if [ -z "$$base" ]; then \
		base=$$(ls -d bench/results/*-quick 2>/dev/null | sort | tail -n 1); \
	fi; \
	bench/run --quick -o $(BENCH_OUT) $(BENCH_ARGS); rc=$$?; \
	if [ -n "$$base" ] && [ -f "$$base/results.jsonl" ]; then \
		bench/compare "$$base" $(BENCH_OUT) || rc=$$?; \
	else \
		echo "bench: no earlier quick run to compare with (set BENCH_BASE=DIR)"; \
	fi; \
	exit $$rc
