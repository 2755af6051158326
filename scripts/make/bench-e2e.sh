#!/usr/bin/env bash
# bench-e2e.sh: end-to-end benchmark of `signpost route` on the generated
# medium CDN, driven by `signpost loadtest run` and by tools nobody here
# wrote (dnsperf, wrk), against baselines measured in the same run: Knot
# DNS (Debian) serving the same names with the same answers, and a bare
# fasthttp 302 server (router/httpserver/internal/ceiling). It also
# measures the load generator's own ceiling against a minimal DNS server
# and a bare fasthttp server (loadtest/internal/ceiling).
#
# Method (docs/loadtest.md, ../shared/BENCHMARKING.md): servers pinned to
# SERVER_CPU with GOMAXPROCS=1 (Knot: one UDP and one TCP worker, every
# thread re-pinned), load generators pinned to LOAD_CPU; each measurement
# has a 1 s warm-up (discarded); ROUNDS rounds in ABBA order; medians,
# min-max of the per-pair ratios; throughput per server CPU-second from
# /proc/PID/stat. Writes $OUT (default BENCHMARKS.md) and keeps raw output
# in .run/bench-e2e.
#
# Environment: DURATION (5), ROUNDS (3), SERVER_CPU (1), LOAD_CPU (0),
# PORT_BASE (19000), OUT (BENCHMARKS.md), SCALE (medium), GEN_PIPELINE (8:
# HTTP requests pipelined per connection for the generator's pipelined
# ceiling).
set -euo pipefail
cd "$(dirname "$0")/../.."

dur=${DURATION:-5}
rounds=${ROUNDS:-3}
scpu=${SERVER_CPU:-1}
lcpu=${LOAD_CPU:-0}
base=${PORT_BASE:-19000}
out=${OUT:-BENCHMARKS.md}
scale=${SCALE:-medium}
gen_pipe=${GEN_PIPELINE:-8}
work=.run/bench-e2e
rm -rf "$work"
mkdir -p "$work/state" "$work/knot/run" "$work/knot/db"

for tool in dnsperf wrk knotd taskset curl awk; do
	command -v "$tool" >/dev/null || { echo "bench-e2e: $tool is required (apt-get install -y dnsperf wrk knot)" >&2; exit 1; }
done
[ "$(nproc)" -ge 2 ] || { echo "bench-e2e: needs 2 CPUs" >&2; exit 1; }
# The machine may be shared: note its load before and after.
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
echo "bench-e2e: $(uptime)"

r_dns=$((base + 53)) r_http=$((base + 80)) r_https=$((base + 443)) r_api=$((base + 33))
k_dns=$((base + 54)) c_http=$((base + 81)) g_dns=$((base + 55)) g_http=$((base + 82))

scripts/make/build.sh >/dev/null
go build -o "$work/ceiling-http" ./router/httpserver/internal/ceiling
go build -o "$work/ceiling" ./loadtest/internal/ceiling
sp=bin/signpost
hz=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss_kb() { awk '/^VmHWM/ {print $2}' "/proc/$1/status"; }
pin_all() { for t in /proc/"$1"/task/*; do taskset -p -c "$scpu" "${t##*/}" >/dev/null; done; }
now_ms() { date +%s%3N; }

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

# 1. The CDN.
t0=$(now_ms)
"$sp" loadtest gen --scale "$scale" --out "$work/cdn" >"$work/gen.txt"
gen_ms=$(($(now_ms) - t0))
# The router honours ECS (the client population address) only with ecsEnable.
sed -i '1s/^{"config":{/{"config":{"ecsEnable":"true",/' "$work/cdn/crconfig.json"
"$work/ceiling" -snapshot "$work/cdn" -zone "$work/cdn.zone"
domain=$(awk '/^\$ORIGIN/ {sub(/\.$/, "", $2); print $2}' "$work/cdn.zone")
awk '$3 == "A" || $3 == "AAAA" {sub(/\.$/, "", $1); print $1, $3}' "$work/cdn.zone" >"$work/queries.txt"
nq=$(wc -l <"$work/queries.txt")

# 2. Servers, all pinned to the server core.
t0=$(now_ms)
GOMAXPROCS=1 taskset -c "$scpu" "$sp" route --source "$work/cdn" --state-dir "$work/state" \
	--dns "127.0.0.1:$r_dns" --http "127.0.0.1:$r_http" --https "127.0.0.1:$r_https" --api "127.0.0.1:$r_api" \
	>"$work/router.log" 2>&1 &
router=$!
pids+=("$router")
until curl -sf "http://127.0.0.1:$r_api/readyz" >/dev/null; do
	kill -0 "$router" 2>/dev/null || { cat "$work/router.log" >&2; exit 1; }
	sleep 0.02
done
ready_ms=$(($(now_ms) - t0))

cat >"$work/knot.conf" <<EOF
server:
    listen: 127.0.0.1@$k_dns
    rundir: $PWD/$work/knot/run
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
database:
    storage: $PWD/$work/knot/db
log:
  - target: stderr
    any: warning
zone:
  - domain: $domain
    file: $PWD/$work/cdn.zone
    journal-content: none
    zonefile-sync: -1
EOF
taskset -c "$scpu" knotd -c "$work/knot.conf" -s "$work/knot/run/knot.sock" >"$work/knot.log" 2>&1 &
knot=$!
pids+=("$knot")
GOMAXPROCS=1 taskset -c "$scpu" "$work/ceiling-http" -addr "127.0.0.1:$c_http" >"$work/ceiling-http.log" 2>&1 &
chttp=$!
pids+=("$chttp")
GOMAXPROCS=1 taskset -c "$scpu" "$work/ceiling" -snapshot "$work/cdn" -dns "127.0.0.1:$g_dns" -http "127.0.0.1:$g_http" >"$work/ceiling.log" 2>&1 &
gen_ceiling=$!
pids+=("$gen_ceiling")
sleep 1
for p in "$router" "$knot" "$chttp" "$gen_ceiling"; do pin_all "$p"; done
kdig_ok=$(dnsperf -s 127.0.0.1 -p "$k_dns" -d "$work/queries.txt" -l 1 -c 1 -q 10 2>&1 | awk '/Queries completed/ {print $3}')
[ "${kdig_ok:-0}" -gt 0 ] || { echo "bench-e2e: Knot does not answer" >&2; cat "$work/knot.log" >&2; exit 1; }

results="$work/results.txt"
: >"$results"

# measure NAME PID CMD...: runs CMD on the load core with a 1 s warm-up,
# records server CPU seconds and the tool's figures.
lt() { # lt NAME PID ARGS...: signpost loadtest run, JSON kept
	local name=$1 pid=$2
	shift 2
	taskset -c "$lcpu" "$sp" loadtest run --quiet --snapshot "$work/cdn" --duration 1s "$@" >/dev/null 2>&1 || true
	local c0 c1
	c0=$(cpu_ticks "$pid")
	taskset -c "$lcpu" "$sp" loadtest run --quiet --snapshot "$work/cdn" --duration "${dur}s" --json "$work/$name.json" "$@" >"$work/$name.txt" 2>&1 || true
	c1=$(cpu_ticks "$pid")
	local done rate wrong errs tos p50 p99 p999 gcpu miss
	read -r done rate wrong errs tos p50 p99 p999 gcpu miss < <(jq_total "$work/$name.json")
	echo "$name lt $rate $(awk -v a="$c0" -v b="$c1" -v hz="$hz" 'BEGIN {print (b - a) / hz}') $done $wrong $errs $tos $p50 $p99 $p999 $gcpu $miss" >>"$results"
}
# jq_total FILE: completed rate wrong errors timeouts p50 p99 p999
# generatorCPU expectedMisses (no jq needed)
jq_total() {
	awk '
		/"total": \{/ { t = 1 }
		t && /"completed":/ { gsub(/[^0-9.]/, "", $2); c = $2 }
		t && /"rate":/ { gsub(/[^0-9.e+]/, "", $2); r = $2 }
		t && /"wrong":/ { gsub(/[^0-9]/, "", $2); w = $2 }
		t && /"errors":/ { gsub(/[^0-9]/, "", $2); e = $2 }
		t && /"timeouts":/ { gsub(/[^0-9]/, "", $2); o = $2 }
		t && /"expectedMisses":/ { gsub(/[^0-9]/, "", $2); m = $2 }
		t && /"p50":/ { gsub(/[^0-9.e+-]/, "", $2); p50 = $2 }
		t && /"p99":/ { gsub(/[^0-9.e+-]/, "", $2); p99 = $2 }
		t && /"p999":/ { gsub(/[^0-9.e+-]/, "", $2); p999 = $2; t = 0 }
		/"generatorCPU":/ { g = $2; gsub(/[",]/, "", g) }
		END { print c, r, w, e, o, p50, p99, p999, g, m + 0 }' "$1"
}
dp() { # dp NAME PID PORT [dnsperf args]
	local name=$1 pid=$2 port=$3
	shift 3
	taskset -c "$lcpu" dnsperf -s 127.0.0.1 -p "$port" -d "$work/queries.txt" -l 1 -c 4 -q 100 -t 1 "$@" >/dev/null 2>&1 || true
	local c0 c1
	c0=$(cpu_ticks "$pid")
	taskset -c "$lcpu" dnsperf -s 127.0.0.1 -p "$port" -d "$work/queries.txt" -l "$dur" -c 4 -q 100 -t 1 "$@" >"$work/$name.txt" 2>&1 || true
	c1=$(cpu_ticks "$pid")
	local qps lost
	qps=$(awk '/Queries per second/ {print $4}' "$work/$name.txt")
	lost=$(awk '/Queries lost/ {print $3}' "$work/$name.txt")
	echo "$name dnsperf ${qps:-0} $(awk -v a="$c0" -v b="$c1" -v hz="$hz" 'BEGIN {print (b - a) / hz}') ${lost:-?}" >>"$results"
}
wk() { # wk NAME PID PORT
	local name=$1 pid=$2 port=$3
	taskset -c "$lcpu" wrk -t1 -c64 -d1s -s "$work/rotate.lua" "http://127.0.0.1:$port/" >/dev/null 2>&1 || true
	local c0 c1
	c0=$(cpu_ticks "$pid")
	taskset -c "$lcpu" wrk -t1 -c64 -d"${dur}s" --latency -s "$work/rotate.lua" "http://127.0.0.1:$port/" >"$work/$name.txt" 2>&1 || true
	c1=$(cpu_ticks "$pid")
	local rps p50 p99 bad
	rps=$(awk '/^Requests\/sec:/ {print $2}' "$work/$name.txt")
	p50=$(awk '$1 == "50%" {print $2}' "$work/$name.txt")
	p99=$(awk '$1 == "99%" {print $2}' "$work/$name.txt")
	bad=$(awk '/Non-2xx or 3xx/ {print $5}' "$work/$name.txt")
	echo "$name wrk ${rps:-0} $(awk -v a="$c0" -v b="$c1" -v hz="$hz" 'BEGIN {print (b - a) / hz}') $p50 $p99 ${bad:-0}" >>"$results"
}

# HTTP requests for wrk: hosts of HTTP delivery services that redirect
# plain HTTP, rotating paths and coverage-zone client addresses.
"$work/ceiling" -snapshot "$work/cdn" -hosts "$work/hosts-all.txt"
head -64 "$work/hosts-all.txt" >"$work/hosts.txt"
{
	echo 'local hosts = {'
	sed 's/.*/  "&",/' "$work/hosts.txt"
	echo '}'
	cat <<'LUA'
local reqs, n = {}, 0
function init(args)
  for i = 0, 1023 do
    local host = hosts[(i % #hosts) + 1]
    local client = "32.0." .. (i % 200) .. "." .. (i % 250 + 1)
    reqs[i + 1] = wrk.format("GET", "/lt/" .. (i % 64) .. "/seg-" .. i .. ".ts", { ["Host"] = host, ["X-MM-Client-IP"] = client })
  end
end
function request()
  n = n + 1
  if n > #reqs then n = 1 end
  return reqs[n]
end
LUA
} >"$work/rotate.lua"

echo "bench-e2e: $scale CDN ($nq DNS names), $rounds ABBA rounds of ${dur}s; servers on CPU $scpu, load on CPU $lcpu"
for r in $(seq "$rounds"); do
	echo "round $r: DNS (dnsperf)"
	dp dns-router "$router" "$r_dns"; dp dns-knot "$knot" "$k_dns"; dp dns-knot "$knot" "$k_dns"; dp dns-router "$router" "$r_dns"
	echo "round $r: DNS (signpost loadtest run, closed loop)"
	lt lt-dns-router "$router" --dns "127.0.0.1:$r_dns" --mix dns=1 --concurrency 128 --sockets 2 --clients cz=1,geo=0.3
	lt lt-dns-knot "$knot" --dns "127.0.0.1:$k_dns" --mix dns=1 --concurrency 128 --sockets 2 --clients cz=1,geo=0.3
	lt lt-dns-knot "$knot" --dns "127.0.0.1:$k_dns" --mix dns=1 --concurrency 128 --sockets 2 --clients cz=1,geo=0.3
	lt lt-dns-router "$router" --dns "127.0.0.1:$r_dns" --mix dns=1 --concurrency 128 --sockets 2 --clients cz=1,geo=0.3
	echo "round $r: DNS generator ceiling (signpost loadtest run against loadtest/internal/ceiling)"
	lt gen-dns "$gen_ceiling" --dns "127.0.0.1:$g_dns" --mix dns=1 --concurrency 512 --sockets 2
	lt gen-dns "$gen_ceiling" --dns "127.0.0.1:$g_dns" --mix dns=1 --concurrency 512 --sockets 2
	echo "round $r: HTTP (wrk)"
	wk http-router "$router" "$r_http"; wk http-ceiling "$chttp" "$c_http"; wk http-ceiling "$chttp" "$c_http"; wk http-router "$router" "$r_http"
	echo "round $r: HTTP (signpost loadtest run, closed loop, 64 connections)"
	lt lt-http-router "$router" --http "127.0.0.1:$r_http" --mix http=1 --concurrency 64
	lt lt-http-router "$router" --http "127.0.0.1:$r_http" --mix http=1 --concurrency 64
	echo "round $r: HTTP generator ceiling, and the router under pipelined load"
	lt gen-http "$gen_ceiling" --http "127.0.0.1:$g_http" --mix http=1 --concurrency 64
	lt gen-http-pipe "$gen_ceiling" --http "127.0.0.1:$g_http" --mix http=1 --concurrency 64 --pipeline "$gen_pipe"
	lt lt-http8-router "$router" --http "127.0.0.1:$r_http" --mix http=1 --concurrency 64 --pipeline "$gen_pipe"
	lt lt-http8-router "$router" --http "127.0.0.1:$r_http" --mix http=1 --concurrency 64 --pipeline "$gen_pipe"
	lt gen-http-pipe "$gen_ceiling" --http "127.0.0.1:$g_http" --mix http=1 --concurrency 64 --pipeline "$gen_pipe"
	lt gen-http "$gen_ceiling" --http "127.0.0.1:$g_http" --mix http=1 --concurrency 64
done

# Latency at a fixed rate (about half of the router's DNS and HTTP maxima).
dns_max=$(awk '$1 == "lt-dns-router" {print $3}' "$results" | sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}')
http_max=$(awk '$1 == "lt-http-router" {print $3}' "$results" | sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}')
half_dns=$(awk -v m="$dns_max" 'BEGIN {printf "%d", m / 2}')
half_http=$(awk -v m="$http_max" 'BEGIN {printf "%d", m / 2}')
echo "latency: open loop at $half_dns DNS queries/s and $half_http HTTP requests/s"
for r in $(seq "$rounds"); do
	lt lat-dns-router "$router" --dns "127.0.0.1:$r_dns" --mix dns=1 --mode open --rate "$half_dns" --sockets 2
	lt lat-dns-knot "$knot" --dns "127.0.0.1:$k_dns" --mix dns=1 --mode open --rate "$half_dns" --sockets 2
	lt lat-http-router "$router" --http "127.0.0.1:$r_http" --mix http=1 --mode open --rate "$half_http" --conns 64
	lt lat-http-ceiling "$gen_ceiling" --http "127.0.0.1:$g_http" --mix http=1 --mode open --rate "$half_http" --conns 64
done

# Reload under load: a changed crconfig.json (same content plus a newline,
# so a new hash) while the harness drives DNS and HTTP at the half rates.
gen_before=$(curl -s "http://127.0.0.1:$r_api/metrics" | awk '/^signpost_table_generation / {print $2}')
taskset -c "$lcpu" "$sp" loadtest run --quiet --snapshot "$work/cdn" --dns "127.0.0.1:$r_dns" --http "127.0.0.1:$r_http" \
	--mix dns=1,http=1 --mode open --rate "$half_dns" --duration "$((dur + 3))s" --json "$work/reload.json" >"$work/reload.txt" 2>&1 &
ltpid=$!
sleep 2
echo >>"$work/cdn/crconfig.json"
t0=$(now_ms)
until [ "$(curl -s "http://127.0.0.1:$r_api/metrics" | awk '/^signpost_table_generation / {print $2}')" != "$gen_before" ]; do
	sleep 0.01
	[ $(($(now_ms) - t0)) -lt 60000 ] || break
done
reload_ms=$(($(now_ms) - t0))
wait "$ltpid" || true
read -r rl_done rl_rate rl_wrong rl_err rl_to rl_p50 rl_p99 rl_p999 rl_g rl_miss < <(jq_total "$work/reload.json")

# The report: medians, ratios of adjacent ABBA pairs.
report_awk=$(cat <<'AWK'

function med(a, n,   i, j, t, b) {
	for (i = 1; i <= n; i++) b[i] = a[i]
	for (i = 2; i <= n; i++) { t = b[i]; for (j = i - 1; j >= 1 && b[j] > t; j--) b[j + 1] = b[j]; b[j + 1] = t }
	if (n == 0) return 0
	return (n % 2) ? b[(n + 1) / 2] : (b[n / 2] + b[n / 2 + 1]) / 2
}
function mn(a, n,   i, m) { m = a[1]; for (i = 2; i <= n; i++) if (a[i] < m) m = a[i]; return m }
function mx(a, n,   i, m) { m = a[1]; for (i = 2; i <= n; i++) if (a[i] > m) m = a[i]; return m }
function ms(v) { if (v ~ /us$/) { sub(/us$/, "", v); return v / 1000 } if (v ~ /ms$/) { sub(/ms$/, "", v); return v + 0 } if (v ~ /s$/) { sub(/s$/, "", v); return v * 1000 } return v }
{
	k = $1; n[k]++; i = n[k]
	rate[k, i] = $3; cpu[k, i] = $4; pcs[k, i] = ($4 > 0 ? $3 * dur / $4 : 0)
	if ($2 == "lt") { done[k, i] = $5; dsum[k] += $5; miss[k] += $13; wrong[k] += $6; errs[k] += $7; tos[k] += $8; p50[k, i] = $9; p99[k, i] = $10; p999[k, i] = $11; g = $12; gs[k, i] = (g ~ /ms$/ ? ms(g) / 1000 : (g ~ /s$/ ? substr(g, 1, length(g) - 1) : 0)); gps[k, i] = (gs[k, i] > 0 ? done[k, i] / gs[k, i] : 0) }
	if ($2 == "dnsperf") lost[k] = lost[k] " " $5
	if ($2 == "wrk") { p50[k, i] = ms($5); p99[k, i] = ms($6); bad[k] += $7 }
}
function col(k, f,   i, a) { for (i = 1; i <= n[k]; i++) a[i] = (f == "rate" ? rate[k, i] : f == "pcs" ? pcs[k, i] : f == "p50" ? p50[k, i] : f == "p99" ? p99[k, i] : f == "p999" ? p999[k, i] : f == "gps" ? gps[k, i] : 0); return med(a, n[k]) }
function ratios(a, b, f,   i, r, m) { m = (n[a] < n[b] ? n[a] : n[b]); for (i = 1; i <= m; i++) { r[i] = (f == "pcs" ? (pcs[b, i] > 0 ? pcs[a, i] / pcs[b, i] : 0) : (rate[b, i] > 0 ? rate[a, i] / rate[b, i] : 0)) } return sprintf("%.2f (%.2f-%.2f)", med(r, m), mn(r, m), mx(r, m)) }
function gratios(a, b,   i, r, m) { m = (n[a] < n[b] ? n[a] : n[b]); for (i = 1; i <= m; i++) r[i] = (pcs[b, i] > 0 ? gps[a, i] / pcs[b, i] : 0); return sprintf("%.2f (%.2f-%.2f)", med(r, m), mn(r, m), mx(r, m)) }
function mshare(k) { return (k in dsum && dsum[k] > 0) ? sprintf("%.1f %%", 100 * miss[k] / dsum[k]) : "—" }
function row(label, k, tool) { printf "| %s | %s | %.0f | %.0f | %s |\n", label, tool, col(k, "rate"), col(k, "pcs"), mshare(k) }
END {
	printf "# Signpost benchmarks (end to end)\n\n"
	printf "Written by `make bench-e2e` (scripts/make/bench-e2e.sh) on %s: %s CDN (%d DNS names), %d ABBA rounds of %d s after a 1 s warm-up each, servers pinned to one core (`GOMAXPROCS=1`; Knot with one UDP and one TCP worker, every thread re-pinned), load generators pinned to the other. Linux %s, %s, %s. Load average (1, 5, 15 min) at the start: %s; at the end: %s (the machine is shared: absolute numbers drift, ratios of adjacent runs are the figures to trust; see ../shared/BENCHMARKING.md). Method and tools: docs/loadtest.md.\n\n", date, scale, nq, rounds, dur, kernel, gover, knotv, load_start, loadavg
	printf "## DNS throughput (UDP, closed loop)\n\n| server | load | queries/s (median) | queries per server CPU-second (median) | expected misses |\n|---|---|---|---|---|\n"
	row("signpost route", "dns-router", "dnsperf -c 4 -q 100")
	row("Knot DNS (same names and answers)", "dns-knot", "dnsperf -c 4 -q 100")
	row("signpost route", "lt-dns-router", "signpost loadtest run, 128 outstanding")
	row("Knot DNS", "lt-dns-knot", "signpost loadtest run, 128 outstanding")
	printf "\nRatios signpost/Knot, median (min-max) of adjacent pairs: dnsperf qps %s, per CPU-second %s; loadtest qps %s, per CPU-second %s. dnsperf queries lost per run (router:%s; Knot:%s). Loadtest answers checked against the snapshot: router %d wrong, %d errors, %d timeouts, %d expected misses; Knot %d wrong, %d errors, %d timeouts. An expected miss is an answer without a cache (here NXDOMAIN) for which the routing table built from the snapshot selects no cache for the same delivery service and client either: coverage-zone clients of cache groups with `backupLocations.fallbackToClosest` false whose backups have no cache for the service get Traffic Router's MISS. Knot's zone answers every name, so it has none; dnsperf queries carry no client subnet and do not count them.\n", ratios("dns-router", "dns-knot", "rate"), ratios("dns-router", "dns-knot", "pcs"), ratios("lt-dns-router", "lt-dns-knot", "rate"), ratios("lt-dns-router", "lt-dns-knot", "pcs"), lost["dns-router"], lost["dns-knot"], wrong["lt-dns-router"], errs["lt-dns-router"], tos["lt-dns-router"], miss["lt-dns-router"], wrong["lt-dns-knot"], errs["lt-dns-knot"], tos["lt-dns-knot"]
	printf "Harness cross-check on the router (loadtest/dnsperf queries per router CPU-second): %.2f.\n\n", (col("dns-router", "pcs") > 0 ? col("lt-dns-router", "pcs") / col("dns-router", "pcs") : 0)
	printf "## HTTP 302 throughput (keep-alive, 64 connections)\n\n| server | load | requests/s (median) | requests per server CPU-second (median) | p50 ms | p99 ms | expected misses |\n|---|---|---|---|---|---|---|\n"
	printf "| signpost route | wrk -t1 -c64 | %.0f | %.0f | %.3f | %.3f | — |\n", col("http-router", "rate"), col("http-router", "pcs"), col("http-router", "p50"), col("http-router", "p99")
	printf "| bare fasthttp 302 (ceiling) | wrk -t1 -c64 | %.0f | %.0f | %.3f | %.3f | — |\n", col("http-ceiling", "rate"), col("http-ceiling", "pcs"), col("http-ceiling", "p50"), col("http-ceiling", "p99")
	printf "| signpost route | signpost loadtest run, 64 connections | %.0f | %.0f | %.3f | %.3f | %s |\n", col("lt-http-router", "rate"), col("lt-http-router", "pcs"), col("lt-http-router", "p50"), col("lt-http-router", "p99"), mshare("lt-http-router")
	printf "| signpost route | signpost loadtest run, 64 connections, pipeline %d | %.0f | %.0f | %.3f | %.3f | %s |\n", gen_pipe, col("lt-http8-router", "rate"), col("lt-http8-router", "pcs"), col("lt-http8-router", "p50"), col("lt-http8-router", "p99"), mshare("lt-http8-router")
	printf "\nRatio router/ceiling (wrk), median (min-max) of adjacent pairs: rps %s, per CPU-second %s. wrk non-3xx responses: router %d (the router's 503 misses: wrk's clients include coverage-zone clients of groups without fallback; wrk cannot tell expected ones), ceiling %d. Loadtest on the router: %d wrong, %d errors, %d timeouts, %d expected misses (HTTP 503 or the bypass redirect where the snapshot selects no cache either).\n\n", ratios("http-router", "http-ceiling", "rate"), ratios("http-router", "http-ceiling", "pcs"), bad["http-router"], bad["http-ceiling"], wrong["lt-http-router"], errs["lt-http-router"], tos["lt-http-router"], miss["lt-http-router"]
	printf "## Latency at a fixed rate (open loop, coordinated-omission corrected)\n\nDNS at %d queries/s and HTTP at %d requests/s (about half the router's closed-loop maximum above), medians of %d runs, from `signpost loadtest run` (HDR histograms, latency from each request's scheduled send time).\n\n| server | p50 ms | p99 ms | p99.9 ms |\n|---|---|---|---|\n", half_dns, half_http, rounds
	split("lat-dns-router lat-dns-knot lat-http-router lat-http-ceiling", L, " ")
	split("signpost route, DNS|Knot DNS|signpost route, HTTP|bare fasthttp 302 answering the CDN (loadtest/internal/ceiling)", N, "|")
	for (j = 1; j <= 4; j++) printf "| %s | %.3f | %.3f | %.3f |\n", N[j], col(L[j], "p50"), col(L[j], "p99"), col(L[j], "p999")
	split(rl, R, " ")
	printf "\n## Memory, build and reload\n\n| figure | value |\n|---|---|\n"
	printf "| `signpost loadtest gen --scale %s` | %d ms |\n", scale, gen_ms
	printf "| router start to ready (parse, validate, build the table, bind) | %d ms |\n", ready_ms
	printf "| reload under load: crconfig.json changed to new table serving | %d ms |\n", reload_ms
	printf "| answers during the reload run (DNS+HTTP at %d/s): completed, wrong, errors, timeouts, expected misses | %d, %d, %d, %d, %d |\n", half_dns, R[1], R[3], R[4], R[5], R[9]
	printf "| latency during the reload run p50 / p99 / p99.9 | %.3f / %.3f / %.3f ms |\n", R[6], R[7], R[8]
	printf "| peak RSS (VmHWM): signpost route / Knot / bare fasthttp | %.1f / %.1f / %.1f MiB |\n", rrss / 1024, krss / 1024, crss / 1024
	printf "\n## Load generator ceiling (one core)\n\n`signpost loadtest run` pinned to one core against minimal servers on the other (loadtest/internal/ceiling: a UDP server answering from a map with recvmmsg and segmented sendmmsg, a bare fasthttp 302), every answer checked, measured in the same rounds as the router (the router figure is the adjacent measurement of the router under the harness, or under wrk for unpipelined HTTP). Generator/router is the ratio of the medians, then the median (min-max) of the ratios of adjacent pairs.\n\n| load | requests/s (median) | requests per generator CPU-second (median) | router requests per router CPU-second (median) | generator/router | adjacent pairs |\n|---|---|---|---|---|---|\n"
	gd = col("gen-dns", "gps"); gh = col("gen-http", "gps"); gh8 = col("gen-http-pipe", "gps")
	rd = col("lt-dns-router", "pcs"); rh = col("http-router", "pcs"); rh8 = col("lt-http8-router", "pcs")
	printf "| DNS UDP, 512 outstanding, 2 sockets | %.0f | %.0f | %.0f (harness, 128 outstanding) | %.2f | %s |\n", col("gen-dns", "rate"), gd, rd, (rd > 0 ? gd / rd : 0), gratios("gen-dns", "lt-dns-router")
	printf "| HTTP, 64 connections | %.0f | %.0f | %.0f (wrk) | %.2f | %s |\n", col("gen-http", "rate"), gh, rh, (rh > 0 ? gh / rh : 0), gratios("gen-http", "http-router")
	printf "| HTTP, 64 connections, pipeline %d | %.0f | %.0f | %.0f (same load) | %.2f | %s |\n", gen_pipe, col("gen-http-pipe", "rate"), gh8, rh8, (rh8 > 0 ? gh8 / rh8 : 0), gratios("gen-http-pipe", "lt-http8-router")
	printf "\nHTTP/1.1 keep-alive without pipelining costs client and server the same two system calls (a write and a read) and a wake-up per request, as for wrk, so an unpipelined generator is ahead only by what it saves in user space, and the margin moves with the machine (1.04 in an earlier run); pipelining %d requests per write is how a generator stays clearly ahead (docs/loadtest.md).\n", gen_pipe
	printf "\nRaw output of every run: .run/bench-e2e/ (JSON results, dnsperf and wrk output).\n"
}
AWK
)

router_rss=$(rss_kb "$router")
knot_rss=$(rss_kb "$knot")
chttp_rss=$(rss_kb "$chttp")

awk -v gen_ms="$gen_ms" -v ready_ms="$ready_ms" -v reload_ms="$reload_ms" -v nq="$nq" -v scale="$scale" \
	-v rrss="$router_rss" -v krss="$knot_rss" -v crss="$chttp_rss" -v dur="$dur" -v rounds="$rounds" \
	-v rl="$rl_done $rl_rate $rl_wrong $rl_err $rl_to $rl_p50 $rl_p99 $rl_p999 $rl_miss" -v gen_pipe="$gen_pipe" -v load_start="$load_start" -v half_dns="$half_dns" -v half_http="$half_http" \
	-v date="$(date -u +%Y-%m-%d)" -v kernel="$(uname -r)" -v gover="$(go env GOVERSION)" \
	-v knotv="$(knotd --version 2>&1 | head -1)" -v dnsperfv="$(dnsperf -h 2>&1 | awk '/DNS Performance Testing Tool/ {print $NF; exit}')" \
	-v loadavg="$(cut -d' ' -f1-3 /proc/loadavg)" "$report_awk" "$results" >"$out"
echo "bench-e2e: wrote $out"
cat "$out"
