"""vmm's benchmark harness: interleaved runs (runner), statistics with
bootstrap intervals (stats), provenance, comparisons, tables and plots."""
