#!/usr/bin/env bash
# Runs the Go benchmarks of every package. BENCH selects (default all),
# BENCHTIME sets -benchtime, COUNT sets -count. Output goes to stdout and
# .run/bench.txt (compare runs with benchstat).
set -euo pipefail
cd "$(dirname "$0")/../.."
mkdir -p .run
go test -run '^$' -bench "${BENCH:-.}" -benchmem -benchtime "${BENCHTIME:-1s}" -count "${COUNT:-1}" ./... | tee .run/bench.txt
