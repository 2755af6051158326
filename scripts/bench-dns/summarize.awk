# summarize.awk: turns the slice lines bench-dns.sh writes into one table row
# per workload (markdown), following ../shared/BENCHMARKING.md: per round the
# queries per server CPU-second of each side (sum of completed queries over
# sum of CPU seconds of its slices), their ratio SUT/REF, and over the rounds
# the median ratio with min and max, flagged when max/min > 1.3.
#
# Input lines (one per 1 s slice):
#   wl round side sent completed lost qps runtime cpu noerror nxdomain other req resp
# side is "sut" or the reference's name. Variables: q (dnsperf -q, the
# outstanding window), expect_nx_<wl> (expected NXDOMAIN share, default 0).
function median(a, n,   i, j, t, b) {
	for (i = 1; i <= n; i++) b[i] = a[i]
	for (i = 2; i <= n; i++) { t = b[i]; for (j = i - 1; j >= 1 && b[j] > t; j--) b[j + 1] = b[j]; b[j + 1] = t }
	return (n % 2) ? b[(n + 1) / 2] : (b[n / 2] + b[n / 2 + 1]) / 2
}
function abs(x) { return x < 0 ? -x : x }
{
	wl = $1; r = $2; side = ($3 == "sut") ? "sut" : "ref"
	if (!(wl in seen)) { seen[wl] = 1; order[++nwl] = wl }
	if (side == "ref") refname[wl] = $3
	if (!((wl, r) in rseen)) { rseen[wl, r] = 1; rounds[wl, ++nr[wl]] = r }
	k = wl SUBSEP side
	Q[k, r] += $5; C[k, r] += $9; T[k, r] += $8
	sent[k] += $4; done[k] += $5; lost[k] += $6; cpu[k] += $9; rt[k] += $8
	if ($6 > maxlost[k]) maxlost[k] = $6
	nx[k] += $11; other[k] += $12; req[k] += $13 * $5; resp[k] += $14 * $5
	slices[k]++
}
END {
	print "| workload | reference | SUT/REF per server CPU-s: median [min, max] | SUT q/CPU-s | REF q/CPU-s | SUT qps | REF qps | qps ratio | server CPU SUT / REF | response bytes SUT / REF | NXDOMAIN SUT / REF | gates |"
	print "|---|---|---|---|---|---|---|---|---|---|---|---|"
	for (w = 1; w <= nwl; w++) {
		wl = order[w]; s = wl SUBSEP "sut"; f = wl SUBSEP "ref"; n = nr[wl]
		delete rc; delete rq; delete sq; delete fq; delete sc; delete fc
		for (i = 1; i <= n; i++) {
			r = rounds[wl, i]
			sc[i] = (C[s, r] > 0) ? Q[s, r] / C[s, r] : 0
			fc[i] = (C[f, r] > 0) ? Q[f, r] / C[f, r] : 0
			sq[i] = (T[s, r] > 0) ? Q[s, r] / T[s, r] : 0
			fq[i] = (T[f, r] > 0) ? Q[f, r] / T[f, r] : 0
			rc[i] = (fc[i] > 0) ? sc[i] / fc[i] : 0
			rq[i] = (fq[i] > 0) ? sq[i] / fq[i] : 0
		}
		mn = rc[1]; mx = rc[1]
		for (i = 2; i <= n; i++) { if (rc[i] < mn) mn = rc[i]; if (rc[i] > mx) mx = rc[i] }
		gates = ""
		if (mn > 0 && mx / mn > 1.3) gates = gates "FLAG spread " sprintf("%.2f", mx / mn) "; "
		for (j = 0; j < 2; j++) {
			k = j ? f : s; nm = j ? refname[wl] : "signpost"
			if (maxlost[k] > q) gates = gates "FAIL " nm " lost " maxlost[k] " in a slice; "
			if (sent[k] > 0 && lost[k] / sent[k] > 0.001) gates = gates "FAIL " nm " lost " sprintf("%.3f%%", 100 * lost[k] / sent[k]) "; "
			if (other[k] > 0) gates = gates "FAIL " nm " " other[k] " rcodes other than NOERROR/NXDOMAIN; "
			share = (done[k] > 0) ? nx[k] / done[k] : 0
			want = ENVIRON["EXPECT_NX_" toupper(wl)] + 0
			if (abs(share - want) > (want > 0 ? 0.02 : 0)) gates = gates sprintf("FAIL %s NXDOMAIN %.1f%% (want %.0f%%); ", nm, 100 * share, 100 * want)
		}
		if (done[s] > 0 && done[f] > 0 && abs(nx[s] / done[s] - nx[f] / done[f]) > 0.005) gates = gates "FAIL NXDOMAIN shares differ; "
		ucs = (rt[s] > 0) ? cpu[s] / rt[s] : 0; ucf = (rt[f] > 0) ? cpu[f] / rt[f] : 0
		if (ucs < 0.95 || ucf < 0.95) gates = gates "client-bound (server CPU < 95%): compare per CPU-second; "
		if (gates == "") gates = "pass"
		printf "| %s | %s | **%.2f** [%.2f, %.2f] (%d rounds) | %.0fK | %.0fK | %.0fK | %.0fK | %.2f | %.0f%% / %.0f%% | %.0f / %.0f | %.1f%% / %.1f%% | %s |\n", \
			wl, refname[wl], median(rc, n), mn, mx, n, median(sc, n) / 1000, median(fc, n) / 1000, \
			median(sq, n) / 1000, median(fq, n) / 1000, median(rq, n), 100 * ucs, 100 * ucf, \
			(done[s] > 0 ? resp[s] / done[s] : 0), (done[f] > 0 ? resp[f] / done[f] : 0), \
			(done[s] > 0 ? 100 * nx[s] / done[s] : 0), (done[f] > 0 ? 100 * nx[f] / done[f] : 0), gates
		# Machine-readable line for the latency phase: the slower side's median qps.
		printf "%s %.0f %.0f\n", wl, median(sq, n), median(fq, n) > ENVIRON["PEAKS"]
	}
}
