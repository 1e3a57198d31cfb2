"""`python -m benchmarks`: every benchmark, results in benchmarks/RESULTS.md."""

from benchmarks.run_all import main

main()
