#!/usr/bin/env bash
# ab.sh: two DNS servers head to head on one bench-dns workload, for
# changes too small for `make bench-dns` to resolve (a few per cent).
#
#   scripts/bench-dns/ab.sh A B
#
# A and B are signpost binaries (for example bin/signpost and a build of
# the base commit), or the word gdnsd for the bench's gdnsd. Both run at
# once, pinned to SERVER_CPU (every thread), signpost with GOMAXPROCS=1 and
# the extra flags in A_FLAGS / B_FLAGS (for example `--dns-wait poll`),
# bound to A_HOST / B_HOST (127.0.0.1; 0.0.0.0 measures a wildcard bind);
# dnsperf runs on LOAD_CPU. Per round four slices of SLICE seconds in ABBA
# order; per slice the server's utime and stime from /proc/PID/stat. It
# prints each round's ratio of queries per server CPU-second (A over B),
# then the median, the geometric mean and the quartiles, and each side's
# user and system CPU per query.
#
# Environment: ROUNDS (12), SLICE (2), WORKLOAD (routed: the ECS queries;
# routed_tcp, static, tcp), RATE (unset: as fast as dnsperf goes; a
# number: that many queries a second, dnsperf -Q, to compare at a moderate
# load), SERVER_CPU (1), LOAD_CPU (0), PORT_A (15453), PORT_B (15454).
# The benchmark CDN is generated into .run/bench-dns/data when missing (as
# `make bench-dns` does).
set -euo pipefail
cd "$(dirname "$0")/../.."

if [ $# -ne 2 ]; then
	sed -n '2,23p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
fi
rounds=${ROUNDS:-12} slice=${SLICE:-2} workload=${WORKLOAD:-routed}
server_cpu=${SERVER_CPU:-1} load_cpu=${LOAD_CPU:-0}
port_a=${PORT_A:-15453} port_b=${PORT_B:-15454}
data=$PWD/.run/bench-dns/data
work=$PWD/.run/bench-dns-ab
hz=$(getconf CLK_TCK)

case $workload in
routed) dpargs="-B -d $data/queries-ecs.bin" ;;
routed_tcp) dpargs="-m tcp -B -d $data/queries-ecs.bin" ;;
static) dpargs="-d $data/queries-static.txt" ;;
tcp) dpargs="-m tcp -d $data/queries-static.txt" ;;
*)
	echo "ab: unknown WORKLOAD $workload (routed, routed_tcp, static, tcp)" >&2
	exit 2
	;;
esac
for tool in dnsperf taskset ss; do
	command -v "$tool" >/dev/null || { echo "ab: $tool is required (apt-get install -y dnsperf)" >&2; exit 1; }
done
for side in "A=$1" "B=$2"; do
	server=${side#*=}
	if [ "$server" = gdnsd ]; then
		command -v gdnsd >/dev/null || { echo "ab: ${side%%=*}: gdnsd is not installed (apt-get install -y gdnsd)" >&2; exit 1; }
	elif [ ! -x "$server" ]; then
		echo "ab: ${side%%=*}: $server is not an executable signpost binary (nor the word gdnsd)" >&2
		exit 2
	fi
done
if [ ! -f "$data/queries-ecs.bin" ]; then
	go run ./loadtest/dnsload/cmd/dnsload --out "$data" --knot-port 15301 --gdnsd-port "$port_b" >/dev/null
fi
busy=$(ss -Hlnu "( sport = :$port_a or sport = :$port_b )")
if [ -n "$busy" ]; then
	echo "ab: port $port_a or $port_b already in use:" >&2
	echo "$busy" >&2
	exit 1
fi

rm -rf "$work"
mkdir -p "$work"
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	# The servers were started in command substitutions, so they are not
	# this shell's children: wait for them to go (gdnsd takes a moment).
	for _ in $(seq 50); do
		alive=0
		for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
		[ "$alive" = 0 ] && break
		sleep 0.1
	done
}
trap cleanup EXIT

# start SIDE SERVER PORT FLAGS: prints the server's pid.
start() {
	local side=$1 server=$2 port=$3 flags=$4 host=$5
	if [ "$server" = gdnsd ]; then
		mkdir -p "$work/gdnsd-$side"
		cp -r "$data/gdnsd/zones" "$work/gdnsd-$side/"
		sed -e "s/127.0.0.1:[0-9]*/127.0.0.1:$port/" -e "s|run_dir => .*|run_dir => $work/gdnsd-$side/run|" \
			-e "s|state_dir => .*|state_dir => $work/gdnsd-$side/state|" "$data/gdnsd/config" >"$work/gdnsd-$side/config"
		taskset -c "$server_cpu" gdnsd -c "$work/gdnsd-$side" start >"$work/$side.log" 2>&1 &
	else
		# shellcheck disable=SC2086
		GOMAXPROCS=1 taskset -c "$server_cpu" "$server" route --source "$data/signpost" --state-dir "$work/state-$side" \
			--dns "$host:$port" --http= --https= --api= $flags >"$work/$side.log" 2>&1 &
	fi
	echo $!
}
pid_a=$(start a "$1" "$port_a" "${A_FLAGS:-}" "${A_HOST:-127.0.0.1}")
pids+=("$pid_a")
pid_b=$(start b "$2" "$port_b" "${B_FLAGS:-}" "${B_HOST:-127.0.0.1}")
pids+=("$pid_b")
for _ in $(seq 50); do
	if dig @127.0.0.1 -p "$port_a" edge.geo.cdn.test +short +time=1 +tries=1 >/dev/null 2>&1 &&
		dig @127.0.0.1 -p "$port_b" edge.geo.cdn.test +short +time=1 +tries=1 >/dev/null 2>&1; then
		break
	fi
	sleep 0.2
done
for p in "$pid_a" "$pid_b"; do taskset -a -p -c "$server_cpu" "$p" >/dev/null; done

# cpu PID: "utime stime" of the process, in clock ticks.
cpu() { sed 's/^.*) //' "/proc/$1/stat" | awk '{print $12, $13}'; }

# slice PID PORT: "queries utime stime" of one dnsperf run.
slice() {
	local pid=$1 port=$2 u0 s0 u1 s1 q
	read -r u0 s0 < <(cpu "$pid")
	# shellcheck disable=SC2086
	q=$(taskset -c "$load_cpu" dnsperf -s 127.0.0.1 -p "$port" $dpargs -l "$slice" -c 4 -q 100 -t 1 ${RATE:+-Q "$RATE"} 2>&1 |
		awk '/Queries completed:/ {print $3}')
	read -r u1 s1 < <(cpu "$pid")
	echo "${q:-0} $((u1 - u0)) $((s1 - s0))"
}

echo "ab: A=$1 ${A_FLAGS:-} (port $port_a), B=$2 ${B_FLAGS:-} (port $port_b); $workload, $rounds rounds of 4 x ${slice}s slices (ABBA), servers on CPU $server_cpu"
slice "$pid_a" "$port_a" >/dev/null
slice "$pid_b" "$port_b" >/dev/null
out=$work/rounds.txt
: >"$out"
for r in $(seq "$rounds"); do
	a1=$(slice "$pid_a" "$port_a")
	b1=$(slice "$pid_b" "$port_b")
	b2=$(slice "$pid_b" "$port_b")
	a2=$(slice "$pid_a" "$port_a")
	echo "$r $a1 $a2 $b1 $b2" | awk -v hz="$hz" '{
		qa = $2 + $5; ca = ($3 + $4 + $6 + $7) / hz
		qb = $8 + $11; cb = ($9 + $10 + $12 + $13) / hz
		if (ca <= 0 || cb <= 0 || qa <= 0 || qb <= 0) { print "ab: round " $1 ": no CPU or no answers" > "/dev/stderr"; exit 1 }
		printf "round %d: A %.0f q/CPU-s, B %.0f q/CPU-s, ratio %.3f\n", $1, qa / ca, qb / cb, (qa / ca) / (qb / cb)
		print $0 >> "'"$out"'"
	}'
done
# Each round's ratio, sorted, then the summary (POSIX awk: no asort).
awk -v hz="$hz" '{ qa = $2 + $5; ca = ($3 + $4 + $6 + $7) / hz; qb = $8 + $11; cb = ($9 + $10 + $12 + $13) / hz
	printf "%.6f\n", (qa / ca) / (qb / cb) }' "$out" | sort -n >"$work/ratios.txt"
awk '{ r[NR] = $1; lg += log($1) }
	END {
		n = NR
		med = (n % 2) ? r[(n + 1) / 2] : (r[n / 2] + r[n / 2 + 1]) / 2
		printf "A/B per server CPU-second: median %.3f, geometric mean %.3f, quartiles [%.3f, %.3f], min %.3f, max %.3f (%d rounds)\n",
			med, exp(lg / n), r[int((n + 3) / 4)], r[int((3 * n + 3) / 4)], r[1], r[n], n
	}' "$work/ratios.txt"
awk -v hz="$hz" '{ QA += $2 + $5; UA += $3 + $6; SA += $4 + $7; QB += $8 + $11; UB += $9 + $12; SB += $10 + $13 }
	END {
		printf "CPU per query (clock ticks, coarse): A user %.3f us, system %.3f us; B user %.3f us, system %.3f us\n",
			UA / hz / QA * 1e6, SA / hz / QA * 1e6, UB / hz / QB * 1e6, SB / hz / QB * 1e6
	}' "$out"
