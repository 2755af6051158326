#!/usr/bin/env bash
# bench-http.sh: HTTP routing throughput of `signpost route` on the fixture
# CDN, measured against a ceiling: a bare fasthttp server answering every
# request with a fixed 302 (router/httpserver/internal/ceiling).
#
# Follows ../shared/BENCHMARKING.md (HTTP redirect throughput with wrk):
# both servers pinned to one core with GOMAXPROCS=1, wrk (-t1, keep-alive)
# on the other core with a Lua script rotating host names, paths and client
# addresses (X-MM-Client-IP); a 2 s warm-up of each; then ROUNDS rounds of
# SLICES ABBA groups of 1 s wrk slices (router, ceiling, ceiling, router),
# because the machine changes speed within seconds. Per round: the ratio
# of router to ceiling requests (the target metric, >= 0.80) and of
# requests per server CPU-second. Reported: the median ratios with min and
# max, each side's median rps, p50/p99 (medians of the slices), requests
# per server CPU-second, server CPU share, and the gates (no non-3xx
# responses, no socket errors).
#
# Environment: ROUNDS (5), SLICES (2), CONNS (64), ROUTER_CPU (0),
# WRK_CPU (1), BENCH_PORT_BASE (18080), ROUTER_CMD (default: bin/signpost
# route on examples/fixture-cdn; it gets the HTTP address appended as
# "--http ADDR"). Output: .run/bench-http/summary.md (also printed).
set -euo pipefail
cd "$(dirname "$0")/../.."

rounds=${ROUNDS:-5}
slices=${SLICES:-2}
conns=${CONNS:-64}
router_cpu=${ROUTER_CPU:-0}
wrk_cpu=${WRK_CPU:-1}
base=${BENCH_PORT_BASE:-18080}
router_port=$((base + 1))
ceiling_port=$((base + 2))
api_port=$((base + 3))
dns_port=$((base + 53))
work=.run/bench-http
mkdir -p "$work/state"

if ! command -v wrk >/dev/null; then
	echo "bench-http: installing wrk" >&2
	(apt-get install -y wrk || (apt-get update && apt-get install -y wrk)) >/dev/null
fi
for tool in wrk taskset curl; do
	command -v "$tool" >/dev/null || { echo "bench-http: $tool is required" >&2; exit 1; }
done
if [ "$(nproc)" -lt 2 ]; then
	echo "bench-http: needs 2 CPUs (router and wrk on separate cores)" >&2
	exit 1
fi

go build -o "$work/ceiling" ./router/httpserver/internal/ceiling
if [ -z "${ROUTER_CMD:-}" ]; then
	scripts/make/build.sh
	ROUTER_CMD="bin/signpost route --source examples/fixture-cdn --state-dir $work/state --dns 127.0.0.1:$dns_port --https= --api 127.0.0.1:$api_port"
fi

pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
}
trap cleanup EXIT

# shellcheck disable=SC2086
GOMAXPROCS=1 taskset -c "$router_cpu" $ROUTER_CMD --http "127.0.0.1:$router_port" >"$work/router.log" 2>&1 &
router_pid=$!
pids+=("$router_pid")
GOMAXPROCS=1 taskset -c "$router_cpu" "$work/ceiling" -addr "127.0.0.1:$ceiling_port" >"$work/ceiling.log" 2>&1 &
ceiling_pid=$!
pids+=("$ceiling_pid")

probe="curl -s -o /dev/null -w %{http_code} -H Host:tr.http-only-test.thecdn.example.com"
for _ in $(seq 100); do
	r=$($probe "http://127.0.0.1:$router_port/probe?fakeClientIpAddress=12.34.0.1" || true)
	c=$($probe "http://127.0.0.1:$ceiling_port/" || true)
	[ "$r" = 302 ] && [ "$c" = 302 ] && break
	sleep 0.1
done
if [ "$r" != 302 ] || [ "$c" != 302 ]; then
	echo "bench-http: servers not answering 302 (router $r, ceiling $c); router log:" >&2
	cat "$work/router.log" >&2
	exit 1
fi

cat >"$work/rotate.lua" <<'LUA'
-- Precomputed requests: 8 services x 64 paths x 16 clients, rotated.
local hosts = {
  "tr.http-only-test.thecdn.example.com", "tr.http-and-https-test.thecdn.example.com",
  "tr.http-to-https-test.thecdn.example.com", "cdn.csd-target-1.thecdn.example.com",
  "tr.steering-target-1.thecdn.example.com", "tr.csd-target-2.thecdn.example.com",
  "tr.client-steering-target-1.thecdn.example.com", "tr.federation-test.thecdn.example.com",
}
local reqs = {}
local n = 0
function init(args)
  for i = 0, 1023 do
    local host = hosts[(i % #hosts) + 1]
    local client
    if i % 16 == 15 then
      client = "192.168.42." .. (i % 250 + 1)
    else
      client = "12.34." .. (i % 10) .. "." .. (i % 250 + 1)
    end
    local path = "/video/" .. (i % 64) .. "/segment" .. i .. ".ts?session=" .. i
    reqs[i + 1] = wrk.format("GET", path, { ["Host"] = host, ["X-MM-Client-IP"] = client,
      ["User-Agent"] = "wrk" })
  end
end
function request()
  n = n + 1
  if n > #reqs then n = 1 end
  return reqs[n]
end
LUA

# cpu_ticks PID: user+system clock ticks of a process.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)

# to_ms converts a wrk latency ("812.00us", "1.20ms", "1.01s") to ms.
to_ms() {
	awk -v v="$1" 'BEGIN {
		if (v ~ /us$/) { sub(/us$/, "", v); print v / 1000 }
		else if (v ~ /ms$/) { sub(/ms$/, "", v); print v + 0 }
		else if (v ~ /s$/) { sub(/s$/, "", v); print v * 1000 }
		else print v }'
}

results="$work/results.txt"
: >"$results"
# slice NAME PORT PID ROUND SECONDS: one wrk run; appends
# "name round rps requests cpu_seconds p50_ms p99_ms bad sockerr" to $results.
slice() {
	local name=$1 port=$2 pid=$3 round=$4 secs=$5 out="$work/wrk-$1.txt" t0 t1
	t0=$(cpu_ticks "$pid")
	taskset -c "$wrk_cpu" wrk -t1 -c"$conns" -d"${secs}s" --latency -s "$work/rotate.lua" "http://127.0.0.1:$port/" >"$out"
	t1=$(cpu_ticks "$pid")
	[ "$round" = 0 ] && return
	local rps reqs p50 p99 bad sockerr cpu
	rps=$(awk '/^Requests\/sec:/ {print $2}' "$out")
	reqs=$(awk '/requests in/ {print $1}' "$out")
	p50=$(to_ms "$(awk '$1 == "50%" {print $2}' "$out")")
	p99=$(to_ms "$(awk '$1 == "99%" {print $2}' "$out")")
	bad=$(awk '/Non-2xx or 3xx responses:/ {print $5}' "$out")
	sockerr=$(grep -c "Socket errors" "$out" || true)
	cpu=$(awk -v a="$t0" -v b="$t1" -v hz="$hz" 'BEGIN {print (b - a) / hz}')
	echo "$name $round $rps $reqs $cpu $p50 $p99 ${bad:-0} $sockerr" >>"$results"
}

echo "bench-http: warm-up, then $rounds rounds x $slices ABBA groups of 1 s slices, $conns connections; servers on CPU $router_cpu (GOMAXPROCS=1), wrk on CPU $wrk_cpu"
slice router "$router_port" "$router_pid" 0 2
slice ceiling "$ceiling_port" "$ceiling_pid" 0 2
for r in $(seq "$rounds"); do
	for _ in $(seq "$slices"); do
		slice router "$router_port" "$router_pid" "$r" 1
		slice ceiling "$ceiling_port" "$ceiling_pid" "$r" 1
		slice ceiling "$ceiling_port" "$ceiling_pid" "$r" 1
		slice router "$router_port" "$router_pid" "$r" 1
	done
	echo "  round $r done"
done

summary="$work/summary.md"
{
	echo "## Run $(date -u +%Y-%m-%dT%H:%MZ)"
	echo
	echo "signpost $(git rev-parse --short HEAD 2>/dev/null || echo unknown), $(go version | awk '{print $3}'), $(nproc) CPUs; wrk -t1 -c$conns, 1 s slices, $rounds rounds x $slices ABBA groups."
	echo
	awk '
function sortn(a, n,   i, j, t) {
	for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
}
# median sorts a in place: a[1] and a[n] are then the min and max.
function median(a, n) { sortn(a, n); return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
{
	s = $1; r = $2
	req[s, r] += $4; cpu[s, r] += $5
	n[s]++; rps[s, n[s]] = $3; p50[s, n[s]] = $6; p99[s, n[s]] = $7
	treq[s] += $4; tcpu[s] += $5; tsecs[s] += 1
	bad += $8; sockerr += $9
	if (r > maxr) maxr = r
}
END {
	for (r = 1; r <= maxr; r++) {
		q[r] = req["router", r] / req["ceiling", r]
		c[r] = (req["router", r] / cpu["router", r]) / (req["ceiling", r] / cpu["ceiling", r])
	}
	mq = median(q, maxr); mc = median(c, maxr)
	printf "| metric | router / ceiling: median [min, max] |\n|---|---|\n"
	printf "| requests (rps ratio, the target >= 0.80) | **%.2f** [%.2f, %.2f] |\n", mq, q[1], q[maxr]
	printf "| requests per server CPU-second | %.2f [%.2f, %.2f] |\n\n", mc, c[1], c[maxr]
	printf "| server | median rps | p50 ms | p99 ms | requests per CPU-second | server CPU |\n|---|---|---|---|---|---|\n"
	split("router ceiling", names, " ")
	for (i = 1; i <= 2; i++) {
		s = names[i]
		for (k = 1; k <= n[s]; k++) { a[k] = rps[s, k]; b[k] = p50[s, k]; d[k] = p99[s, k] }
		printf "| %s | %.0f | %.3f | %.3f | %.0f | %.0f%% |\n", s, median(a, n[s]), median(b, n[s]), median(d, n[s]), treq[s] / tcpu[s], 100 * tcpu[s] / tsecs[s]
	}
	printf "\nGates: non-3xx responses %d, slices with socket errors %d: %s.\n", bad, sockerr, (bad == 0 && sockerr == 0 ? "pass" : "FAIL")
	if (100 * tcpu["ceiling"] / tsecs["ceiling"] < 95) printf "The ceiling used under 95%% of its core: client-bound, so the rps ratio is compressed toward 1 (BENCHMARKING.md, client saturation); compare per CPU-second too.\n"
	exit (bad == 0 && sockerr == 0 ? 0 : 1)
}' "$results"
} | tee "$summary"
