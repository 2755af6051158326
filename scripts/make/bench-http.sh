#!/usr/bin/env bash
# bench-http.sh: HTTP routing throughput of `signpost route` on the fixture
# CDN, measured against a ceiling: a minimal fasthttp server answering every
# request with a fixed 302 (router/httpserver/internal/ceiling).
#
# Both servers run pinned to one core with GOMAXPROCS=1; wrk runs on another
# core with keep-alive connections and a Lua script rotating host names,
# paths and client addresses (X-MM-Client-IP). Rounds run in ABBA order
# (router, ceiling, ceiling, router) so drift hits both equally. Reported:
# median requests/s of each, their ratio (target >= 0.80), requests per
# router CPU-second, and p99 latency.
#
# Environment: DURATION (10s), ROUNDS (2), CONNS (64), ROUTER_CPU (0),
# WRK_CPU (1), BENCH_PORT_BASE (18080), ROUTER_CMD (default: bin/signpost
# route on examples/fixture-cdn; it gets the HTTP address appended as
# "--http ADDR").
set -euo pipefail
cd "$(dirname "$0")/../.."

duration=${DURATION:-10s}
rounds=${ROUNDS:-2}
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
run() { # run NAME PORT PID
	local name=$1 port=$2 pid=$3 out="$work/wrk-$1.txt" t0 t1
	t0=$(cpu_ticks "$pid")
	taskset -c "$wrk_cpu" wrk -t1 -c"$conns" -d"$duration" --latency -s "$work/rotate.lua" "http://127.0.0.1:$port/" >"$out"
	t1=$(cpu_ticks "$pid")
	local rps reqs p99 bad
	rps=$(awk '/^Requests\/sec:/ {print $2}' "$out")
	reqs=$(awk '/requests in/ {print $1}' "$out")
	p99=$(to_ms "$(awk '$1 == "99%" {print $2}' "$out")")
	bad=$(awk '/Non-2xx or 3xx responses:/ {print $5}' "$out")
	local cpu
	cpu=$(awk -v a="$t0" -v b="$t1" -v hz="$hz" 'BEGIN {print (b - a) / hz}')
	echo "$name $rps $reqs $cpu $p99 ${bad:-0}" >>"$results"
	printf '  %-8s %10.0f req/s  p99 %7.3f ms  cpu %6.2f s  non-3xx %s\n' "$name" "$rps" "$p99" "$cpu" "${bad:-0}"
}

echo "bench-http: $rounds ABBA rounds of $duration, $conns connections; servers on CPU $router_cpu (GOMAXPROCS=1), wrk on CPU $wrk_cpu"
for r in $(seq "$rounds"); do
	echo "round $r"
	run router "$router_port" "$router_pid"
	run ceiling "$ceiling_port" "$ceiling_pid"
	run ceiling "$ceiling_port" "$ceiling_pid"
	run router "$router_port" "$router_pid"
done

awk '
function median(a, n,   i, j, t) {
	for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
	return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
$1 == "router"  { nr++; rr[nr] = $2; rp[nr] = $5; reqs += $3; cpu += $4; bad += $6 }
$1 == "ceiling" { nc++; cr[nc] = $2; cp[nc] = $5 }
END {
	r = median(rr, nr); c = median(cr, nc)
	printf "router   median %.0f req/s, p99 %.3f ms, %.0f requests per router CPU-second, non-3xx %d\n", r, median(rp, nr), (cpu > 0 ? reqs / cpu : 0), bad
	printf "ceiling  median %.0f req/s, p99 %.3f ms\n", c, median(cp, nc)
	printf "ratio    %.3f of the ceiling (target 0.80)\n", r / c
}' "$results"
