#!/usr/bin/env bash
# Rebuilds cmd/signpost/default.pgo, the CPU profile `go build` applies to
# the signpost binary (profile-guided optimization, -pgo=auto: a
# default.pgo in the main package's directory). The profile comes from the
# two hot-path benchmarks: BenchmarkProcessBatchRouted (the UDP engine's
# per-query path over the fixture CDN: routed, static and NXDOMAIN
# answers) and BenchmarkRoutingMix (the HTTP routing handler on make
# bench-http's request mix), merged with equal weight by time, 15 s each
# (PGO_BENCHTIME): profiles of 5 s moved the routed path by up to 3 % from
# one run to the next. Rerun it after changes to those paths (a profile
# finds call sites by their line in the function, so edits blunt it) and
# commit the result; docs/benchmarks-dns.md says what it buys.
set -euo pipefail
cd "$(dirname "$0")/../.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "pgo: profiling BenchmarkProcessBatchRouted (router/dnsserver)"
go test -run '^$' -bench '^BenchmarkProcessBatchRouted$' -benchtime "${PGO_BENCHTIME:-15s}" \
	-cpuprofile "$tmp/dns.pprof" -o "$tmp/dns.test" ./router/dnsserver
echo "pgo: profiling BenchmarkRoutingMix (router/httpserver)"
go test -run '^$' -bench '^BenchmarkRoutingMix$' -benchtime "${PGO_BENCHTIME:-15s}" \
	-cpuprofile "$tmp/http.pprof" -o "$tmp/http.test" ./router/httpserver
go tool pprof -proto "$tmp/dns.pprof" "$tmp/http.pprof" >"$tmp/merged.pgo"
mv "$tmp/merged.pgo" cmd/signpost/default.pgo
echo "pgo: wrote cmd/signpost/default.pgo ($(wc -c <cmd/signpost/default.pgo) bytes); rebuild with make build"
