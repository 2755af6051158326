#!/usr/bin/env bash
# bench-dns.sh: DNS throughput of `signpost route` against Knot DNS (static
# zone) and gdnsd (geoip plugin, a nets map of the same coverage zones), and
# against two reference points of our own that do no routing
# (router/dnsserver/internal/ceiling): the bare Go UDP responder that
# ../shared/BENCHMARKING.md calls the ceiling for Go, and signpost's own DNS
# server behind a handler with one fixed answer. All in one run, as
# BENCHMARKING.md prescribes:
#
#   * every server pinned to SERVER_CPU (all threads re-pinned after start,
#     checked), signpost with GOMAXPROCS=1, Knot and gdnsd with one UDP and
#     one TCP worker; dnsperf pinned to LOAD_CPU;
#   * per workload a 1 s warm-up of each server, then ROUNDS rounds of SLICES
#     1 s dnsperf slices per server (`-c 4 -q 100 -t 1`), alternating
#     signpost and the reference in ABBA order; server CPU (utime+stime from
#     /proc/PID/stat) over every slice;
#   * per round the ratio of queries per server CPU-second; reported: the
#     median ratio with min and max (flagged when max/min > 1.3), each side's
#     medians, server CPU share, response sizes, rcode shares, and the gates
#     (lost queries <= -q per slice and <= 0.1 %, expected rcodes);
#   * p50/p99 latency at half of the slower server's peak (dnsperf -Q -v);
#   * the ATC-compatible mode: Traffic Control's Ultimate Test Harness loop
#     (12 workers, each with a synchronous miekg/dns Exchange, UTH_SECONDS)
#     on the routed queries, signpost and gdnsd, against Traffic Router's
#     floors of 25,000 and 2,500 (CI) queries/s (loadtest/dnsload UTH);
#   * peak RSS (VmHWM) of each server.
#
# Workloads (WORKLOADS): static (2 static names, vs Knot), routed (the DNS
# routing name with a different ECS /24 in every query, vs gdnsd geo), mix
# (1,000 static names, 10 % NXDOMAIN, 10 % AAAA, vs Knot), tcp (static names
# over TCP, vs Knot), routed_tcp (routed over TCP, vs gdnsd),
# routed_ceiling (the routed queries, vs the bare Go responder: one datagram
# per system call, a fixed answer) and routed_server (the routed queries, vs
# signpost's DNS server answering one fixed A record: what is left when
# zones and routing cost nothing).
#
# Environment: BENCH_QUICK=1 (about 4 minutes: SLICES=2, LAT_SECONDS=2,
# UTH_SECONDS=5; default full run about 15 minutes: SLICES=10,
# LAT_SECONDS=5, UTH_SECONDS=15), ROUNDS (5), SLICES, LAT_SECONDS,
# UTH_SECONDS, WORKLOADS, SERVER_CPU (1), LOAD_CPU (0),
# BENCH_PORT_BASE (15300: Knot +1, gdnsd +32, signpost +53, ceiling +60,
# server-only +61), EDGE_DNS_ROUTING (false). Output:
# .run/bench-dns/summary.md (also printed).
set -euo pipefail
cd "$(dirname "$0")/../.."

quick=${BENCH_QUICK:-0}
if [ "$quick" = 1 ]; then def_slices=2 def_lat=2 def_uth=5; else def_slices=10 def_lat=5 def_uth=15; fi
rounds=${ROUNDS:-5}
slices=${SLICES:-$def_slices}
lat_secs=${LAT_SECONDS:-$def_lat}
uth_secs=${UTH_SECONDS:-$def_uth}
workloads=${WORKLOADS:-static routed mix tcp routed_tcp routed_ceiling routed_server}
server_cpu=${SERVER_CPU:-1}
load_cpu=${LOAD_CPU:-0}
base=${BENCH_PORT_BASE:-15300}
knot_port=$((base + 1)) gdnsd_port=$((base + 32)) sp_port=$((base + 53))
ceil_port=$((base + 60)) srvonly_port=$((base + 61))
edge_dns=${EDGE_DNS_ROUTING:-false}
window=100 # dnsperf -q
work=$PWD/.run/bench-dns
data=$work/data
awkdir=$PWD/scripts/bench-dns

missing=()
for tool in knotd gdnsd dnsperf; do command -v "$tool" >/dev/null || missing+=("$tool"); done
if [ ${#missing[@]} -gt 0 ]; then
	echo "bench-dns: installing knot gdnsd dnsperf (missing: ${missing[*]})" >&2
	(apt-get install -y knot gdnsd dnsperf || (apt-get update && apt-get install -y knot gdnsd dnsperf)) >/dev/null
fi
for tool in knotd gdnsd dnsperf dig taskset go; do
	command -v "$tool" >/dev/null || { echo "bench-dns: $tool is required" >&2; exit 1; }
done
if [ "$(nproc)" -lt 2 ]; then
	echo "bench-dns: needs 2 CPUs (servers and dnsperf on separate cores)" >&2
	exit 1
fi

# A server left on one of the ports (gdnsd and Knot bind with SO_REUSEPORT)
# would silently take part of the queries while the CPU of the server
# started below is measured: refuse to run instead.
busy=$(ss -Hlnu "( sport = :$knot_port or sport = :$gdnsd_port or sport = :$sp_port or sport = :$ceil_port or sport = :$srvonly_port )" 2>/dev/null || true)
if [ -n "$busy" ]; then
	echo "bench-dns: UDP ports $knot_port, $gdnsd_port, $sp_port, $ceil_port or $srvonly_port already in use (a server left running?):" >&2
	echo "$busy" >&2
	exit 1
fi

rm -rf "$work"
mkdir -p "$work/state"
scripts/make/build.sh
go build -trimpath -o "$work/ceiling" ./router/dnsserver/internal/ceiling
go build -trimpath -o "$work/dnsuth" ./loadtest/dnsload/cmd/dnsuth
go run ./loadtest/dnsload/cmd/dnsload --out "$data" --knot-port "$knot_port" --gdnsd-port "$gdnsd_port" \
	--edge-dns-routing="$edge_dns" >"$work/gen.log"

# Every server started below, by name: its pid and UDP/TCP port.
declare -A pid_of port_of
pids=()
# started NAME PORT: records the server just started in the background.
started() { pid_of[$1]=$!; port_of[$1]=$2; pids+=("$!"); }
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
}
trap cleanup EXIT

GOMAXPROCS=1 taskset -c "$server_cpu" bin/signpost route --source "$data/signpost" --state-dir "$work/state" \
	--dns "127.0.0.1:$sp_port" --http= --https= --api= >"$work/signpost.log" 2>&1 &
started signpost "$sp_port"
taskset -c "$server_cpu" knotd -c "$data/knot/knot.conf" -s "$data/knot/run/knot.sock" >"$work/knot.log" 2>&1 &
started knot "$knot_port"
taskset -c "$server_cpu" gdnsd -c "$data/gdnsd" start >"$work/gdnsd.log" 2>&1 &
started gdnsd "$gdnsd_port"
GOMAXPROCS=1 taskset -c "$server_cpu" "$work/ceiling" --mode go --addr "127.0.0.1:$ceil_port" >"$work/ceiling.log" 2>&1 &
started ceiling "$ceil_port"
GOMAXPROCS=1 taskset -c "$server_cpu" "$work/ceiling" --mode server --addr "127.0.0.1:$srvonly_port" >"$work/server-only.log" 2>&1 &
started server-only "$srvonly_port"

# answer PORT NAME [dig options]: the first answer record's data, or the rcode.
answer() {
	local port=$1 name=$2
	shift 2
	dig @127.0.0.1 -p "$port" "$name" A +norec +time=1 +tries=1 "$@" 2>/dev/null |
		awk '/status:/ {s = $6; sub(/,/, "", s)} /^[^;]/ && NF >= 5 && $4 == "A" && !a {a = $5} END {print (a != "" ? a : s)}'
}
for _ in $(seq 100); do
	[ "$(answer "$sp_port" "www.static.cdn.test")" = 192.0.2.10 ] &&
		[ "$(answer "$knot_port" "www.static.cdn.test")" = 192.0.2.10 ] &&
		[ "$(answer "$gdnsd_port" "edge.geo.cdn.test")" = 192.0.2.21 ] &&
		[ "$(answer "$ceil_port" "edge.geo.cdn.test")" = 192.0.2.20 ] &&
		[ "$(answer "$srvonly_port" "edge.geo.cdn.test")" = 192.0.2.20 ] && break
	sleep 0.2
done

# Correctness before measuring: the same answers from signpost and its peer.
bad=0
check() { # check WHAT GOT WANT
	if [ "$2" != "$3" ]; then echo "bench-dns: $1: got ${2:-nothing}, want $3" >&2; bad=1; fi
}
for port in "$sp_port" "$knot_port"; do
	check "www.static.cdn.test @$port" "$(answer "$port" www.static.cdn.test)" 192.0.2.10
	check "h7.static.cdn.test @$port over TCP" "$(answer "$port" h7.static.cdn.test +tcp)" 198.18.0.7
	check "nx1.static.cdn.test @$port" "$(answer "$port" nx1.static.cdn.test)" NXDOMAIN
done
while read -r net want; do
	check "edge.geo.cdn.test +subnet=$net @signpost" "$(answer "$sp_port" edge.geo.cdn.test +subnet="$net")" "$want"
	check "edge.geo.cdn.test +subnet=$net @gdnsd" "$(answer "$gdnsd_port" edge.geo.cdn.test +subnet="$net")" "$want"
done <"$data/ecs-checks.txt"
check "edge.geo.cdn.test @signpost over TCP" "$(answer "$sp_port" edge.geo.cdn.test +tcp +subnet="$(head -1 "$data/ecs-checks.txt" | cut -d' ' -f1)")" \
	"$(head -1 "$data/ecs-checks.txt" | cut -d' ' -f2)"
dig @127.0.0.1 -p "$sp_port" edge.geo.cdn.test A +subnet="$(head -1 "$data/ecs-checks.txt" | cut -d' ' -f1)" >"$work/dig-signpost-routed.txt"
grep -q "CLIENT-SUBNET" "$work/dig-signpost-routed.txt" || { echo "bench-dns: signpost did not echo ECS" >&2; bad=1; }
for port in "$ceil_port" "$srvonly_port"; do
	check "edge.geo.cdn.test @$port (fixed answer)" "$(answer "$port" edge.geo.cdn.test)" 192.0.2.20
done
if [ "$bad" != 0 ]; then
	echo "bench-dns: answers differ; logs in $work" >&2
	tail -5 "$work"/*.log >&2
	exit 1
fi

# Pin every thread of every server (Knot pins its UDP workers to CPU 0 by
# itself) and check the affinity of each thread.
for p in "${pids[@]}"; do
	taskset -a -p -c "$server_cpu" "$p" >/dev/null
	for t in /proc/"$p"/task/*; do
		allowed=$(awk '/^Cpus_allowed_list:/ {print $2}' "$t/status")
		if [ "$allowed" != "$server_cpu" ]; then
			echo "bench-dns: thread $t of $p allowed on CPUs $allowed" >&2
			exit 1
		fi
	done
done

hz=$(getconf CLK_TCK)
# cpu_ticks PID: utime+stime of the whole process (all threads); the fields
# after the command name, which may hold spaces.
cpu_ticks() { sed 's/^.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'; }

# cpu_pct T0 T1 SECONDS [DECIMALS]: the ticks from T0 to T1 as a share of
# one core over SECONDS, in per cent.
cpu_pct() { awk -v a="$1" -v b="$2" -v hz="$hz" -v s="$3" -v d="${4:-0}" 'BEGIN {printf "%." d "f", 100 * (b - a) / hz / s}'; }

# Idle cost of each server over 5 s (must be < 1 % of a core).
declare -A idle idle_t0
for srv in "${!pid_of[@]}"; do idle_t0[$srv]=$(cpu_ticks "${pid_of[$srv]}"); done
sleep 5
for srv in "${!pid_of[@]}"; do idle[$srv]=$(cpu_pct "${idle_t0[$srv]}" "$(cpu_ticks "${pid_of[$srv]}")" 5 1); done

# Workload table: reference, dnsperf input options.
declare -A ref_of args_of
ref_of[static]=knot args_of[static]="-d $data/queries-static.txt"
ref_of[routed]=gdnsd args_of[routed]="-B -d $data/queries-ecs.bin"
ref_of[mix]=knot args_of[mix]="-d $data/queries-mix.txt"
ref_of[tcp]=knot args_of[tcp]="-m tcp -d $data/queries-static.txt"
ref_of[routed_tcp]=gdnsd args_of[routed_tcp]="-m tcp -B -d $data/queries-ecs.bin"
ref_of[routed_ceiling]=ceiling args_of[routed_ceiling]="-B -d $data/queries-ecs.bin"
ref_of[routed_server]=server-only args_of[routed_server]="-B -d $data/queries-ecs.bin"
export EXPECT_NX_MIX=0.1

slices_out=$work/slices.txt
: >"$slices_out"
# slice WL ROUND SERVER SIDE: one 1 s dnsperf run, one line in slices.txt.
slice() {
	local wl=$1 round=$2 server=$3 side=$4 out=$work/dnsperf.txt t0 t1
	t0=$(cpu_ticks "${pid_of[$server]}")
	# shellcheck disable=SC2086
	taskset -c "$load_cpu" dnsperf -s 127.0.0.1 -p "${port_of[$server]}" ${args_of[$wl]} \
		-l 1 -c 4 -q "$window" -t 1 >"$out" 2>&1
	t1=$(cpu_ticks "${pid_of[$server]}")
	[ "$round" = 0 ] && return
	awk -v wl="$wl" -v r="$round" -v side="$side" -v cpu="$(awk -v a="$t0" -v b="$t1" -v hz="$hz" 'BEGIN {print (b - a) / hz}')" '
		/Queries sent:/ {sent = $3}
		/Queries completed:/ {done = $3}
		/Queries lost:/ {lost = $3}
		/Response codes:/ {for (i = 3; i < NF; i += 3) {c = $(i + 1); if ($i == "NOERROR") ok = c; else if ($i == "NXDOMAIN") nx = c; else other += c}}
		/Average packet size:/ {req = $5; sub(/,/, "", req); resp = $7}
		/Run time \(s\):/ {rt = $4}
		/Queries per second:/ {qps = $4}
		END {
			if (rt == "") { print "bench-dns: no statistics from dnsperf" > "/dev/stderr"; exit 1 }
			print wl, r, side, sent, done, lost + 0, qps, rt, cpu, ok + 0, nx + 0, other + 0, req + 0, resp + 0
		}' "$out" >>"$slices_out" || { cat "$out" >&2; exit 1; }
}

start=$(date +%s)
echo "bench-dns: $rounds rounds x $slices slices of 1 s per server per workload; servers on CPU $server_cpu, dnsperf on CPU $load_cpu"
for wl in $workloads; do
	ref=${ref_of[$wl]:?unknown workload $wl}
	echo "  $wl: signpost vs $ref"
	slice "$wl" 0 signpost sut
	slice "$wl" 0 "$ref" "$ref"
	n=0
	for r in $(seq "$rounds"); do
		for _ in $(seq "$slices"); do
			# ABBA over the whole sequence: S R R S S R R S ...
			if [ $((n % 2)) = 0 ]; then
				slice "$wl" "$r" signpost sut
				slice "$wl" "$r" "$ref" "$ref"
			else
				slice "$wl" "$r" "$ref" "$ref"
				slice "$wl" "$r" signpost sut
			fi
			n=$((n + 1))
		done
	done
done

peaks=$work/peaks.txt
table=$(PEAKS=$peaks awk -v q="$window" -f "$awkdir/summarize.awk" "$slices_out")

# Latency at half of the slower server's peak qps.
lat_out=$work/latency.txt
: >"$lat_out"
while read -r wl sq rq; do
	ref=${ref_of[$wl]}
	rate=$(awk -v a="$sq" -v b="$rq" 'BEGIN {m = (a < b) ? a : b; printf "%d", m / 2}')
	for server in signpost "$ref"; do
		t0=$(cpu_ticks "${pid_of[$server]}")
		# shellcheck disable=SC2086
		taskset -c "$load_cpu" dnsperf -s 127.0.0.1 -p "${port_of[$server]}" ${args_of[$wl]} \
			-l "$lat_secs" -c 4 -q "$window" -t 1 -Q "$rate" -v >"$work/lat.txt" 2>&1
		t1=$(cpu_ticks "${pid_of[$server]}")
		grep '^> ' "$work/lat.txt" | awk '{print $NF}' | sort -g >"$work/lat-sorted.txt"
		awk -v wl="$wl" -v srv="$server" -v rate="$rate" -v cpu="$(cpu_pct "$t0" "$t1" "$lat_secs")" \
			'{v[NR] = $1} END {
				if (NR == 0) { print wl, srv, rate, 0, "-", "-", cpu; exit }
				p50 = v[int(NR * 0.50 + 0.999)]; p99 = v[int(NR * 0.99 + 0.999)]
				printf "%s %s %d %d %.0f %.0f %s\n", wl, srv, rate, NR, p50 * 1e6, p99 * 1e6, cpu }' \
			"$work/lat-sorted.txt" >>"$lat_out"
	done
done <"$peaks"

# The ATC-compatible mode (BENCHMARKING.md 7): the harness's closed loop.
uth_out=$work/uth.txt
: >"$uth_out"
for server in signpost gdnsd; do
	t0=$(cpu_ticks "${pid_of[$server]}")
	line=$(taskset -c "$load_cpu" "$work/dnsuth" --addr "127.0.0.1:${port_of[$server]}" --queries "$data/queries-ecs.bin" \
		--workers 12 --duration "${uth_secs}s" 2>"$work/uth-$server.err") || {
		echo "bench-dns: ATC-compatible mode against $server failed: $line" >&2
		cat "$work/uth-$server.err" >&2
		exit 1
	}
	t1=$(cpu_ticks "${pid_of[$server]}")
	echo "$server $(cpu_pct "$t0" "$t1" "$uth_secs") $line" >>"$uth_out"
done

rss() { awk -v k="$2" '$1 == k ":" {printf "%.1f", $2 / 1024}' "/proc/$1/status"; }
elapsed=$(($(date +%s) - start))

{
	echo "## Run $(date -u +%Y-%m-%dT%H:%MZ)"
	echo
	echo "Command: \`$( [ "$quick" = 1 ] && printf 'BENCH_QUICK=1 ')make bench-dns\` (ROUNDS=$rounds SLICES=$slices LAT_SECONDS=$lat_secs, EDGE_DNS_ROUTING=$edge_dns); measuring took ${elapsed}s."
	echo
	echo "Environment: $(nproc) CPUs ($(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)), kernel $(uname -r), $(go version | awk '{print $3}'),"
	echo "signpost $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet HEAD -- router internal 2>/dev/null || echo ' (router or internal modified in the working tree)'),"
	echo "$(knotd --version 2>&1 | head -1), gdnsd $(gdnsd -V 2>&1 | awk '/version/ {print $3; exit}'), dnsperf $(dnsperf -h 2>&1 | awk '/^Version/ {print $2}')."
	echo "Servers on CPU $server_cpu (signpost GOMAXPROCS=1 and one UDP worker; Knot udp/tcp-workers 1; gdnsd udp/tcp_threads 1; ceiling and server-only GOMAXPROCS=1), dnsperf on CPU $load_cpu: \`-l 1 -c 4 -q $window -t 1\` per slice."
	echo "References of our own (router/dnsserver/internal/ceiling), both answering one fixed A record: ceiling, the bare Go UDP responder (one datagram per system call); server-only, signpost's DNS server (the same sockets, batches and parsing) with no zones and no routing."
	echo "signpost's wait mode, from its log: $(grep -o 'msg="dns: UDP workers[^"]*".*' "$work/signpost.log" | head -1)"
	echo "Idle CPU before the run: signpost ${idle[signpost]}%, Knot ${idle[knot]}%, gdnsd ${idle[gdnsd]}%, ceiling ${idle[ceiling]}%, server-only ${idle[server-only]}%."
	echo
	echo "$table"
	echo
	echo "Latency at half of the slower server's median qps (\`-Q\`, ${lat_secs}s, from \`dnsperf -v\` per-query lines):"
	echo
	echo "| workload | server | rate (qps) | answers | p50 (µs) | p99 (µs) | server CPU |"
	echo "|---|---|---|---|---|---|---|"
	awk '{printf "| %s | %s | %d | %d | %s | %s | %s%% |\n", $1, $2, $3, $4, $5, $6, $7}' "$lat_out"
	echo
	echo "ATC-compatible mode (Ultimate Test Harness loop: 12 workers, each a synchronous miekg/dns Exchange on a fresh socket, ${uth_secs}s, the routed queries; client-bound):"
	echo
	awk '{
		srv = $1; cpu = $2; $1 = ""; $2 = ""; sub(/^  /, "")
		rate = 0; if (match($0, /[0-9]+ answers\/s/)) rate = substr($0, RSTART, RLENGTH) + 0
		note = (cpu < 95 && cpu > 0) ? sprintf("; client-bound: the server was %d%% busy, %.0fK answers per server CPU-second", cpu, rate / (cpu / 100) / 1000) : ""
		printf "- %s (server CPU %s%%): %s%s\n", srv, cpu, $0, note
	}' "$uth_out"
	echo
	sp_pid=${pid_of[signpost]} knot_pid=${pid_of[knot]} gdnsd_pid=${pid_of[gdnsd]}
	echo "Peak RSS (VmHWM): signpost $(rss "$sp_pid" VmHWM) MiB, Knot $(rss "$knot_pid" VmHWM) MiB, gdnsd $(rss "$gdnsd_pid" VmHWM) MiB (current VmRSS: $(rss "$sp_pid" VmRSS) / $(rss "$knot_pid" VmRSS) / $(rss "$gdnsd_pid" VmRSS) MiB); ceiling $(rss "${pid_of[ceiling]}" VmHWM) MiB, server-only $(rss "${pid_of[server-only]}" VmHWM) MiB."
} >"$work/summary.md"
cat "$work/summary.md"
