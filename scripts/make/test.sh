#!/usr/bin/env bash
# Runs every test with the race detector, then a one-iteration benchmark
# smoke run (without the race detector) so benchmarks keep compiling and
# running. Allocation tests are built with !race and run in the smoke step.
set -euo pipefail
cd "$(dirname "$0")/../.."
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go') 2>/dev/null || true)
if [ -n "$unformatted" ]; then
  echo "gofmt would change:"; echo "$unformatted"; exit 1
fi
go vet ./...
echo "== go test -race"
go test -race -shuffle=on -count=1 -timeout 30m ./...
echo "== allocation tests, build budget and benchmark smoke (no race detector)"
go test -count=1 -timeout 20m -run 'Alloc|Budget' -bench . -benchtime 1x ./...
