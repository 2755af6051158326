"use strict";
// Status page: polls the monitor's own API every 2 s and renders tables.
(function () {
  const REFRESH_MS = 2000;

  function cell(tr, text, cls) {
    const td = document.createElement("td");
    td.textContent = text;
    if (cls) td.className = cls;
    tr.appendChild(td);
    return td;
  }
  function yesno(tr, v) { cell(tr, v ? "yes" : "no", v ? "up" : "down"); }
  function fill(id, rows) {
    const tbody = document.querySelector("#" + id + " tbody");
    tbody.replaceChildren(...rows);
  }
  async function get(path) {
    const r = await fetch(path, { cache: "no-store" });
    if (!r.ok) throw new Error(path + ": HTTP " + r.status);
    return r.json();
  }
  function num(v, digits) { return (typeof v === "number") ? v.toFixed(digits) : ""; }

  async function refresh() {
    try {
      const [statuses, crstates, peers, events, ds] = await Promise.all([
        get("/api/cache-statuses"),
        get("/publish/CrStates?raw"),
        get("/publish/PeerStates"),
        get("/publish/EventLog"),
        get("/publish/DsStats?stats=caches-available,error-string,total.kbps,total.tps_total,isAvailable"),
      ]);
      const names = Object.keys(statuses).sort();
      let up = 0;
      fill("caches", names.map((n) => {
        const c = statuses[n];
        const tr = document.createElement("tr");
        tr.dataset.cache = n;
        if (c.combined_available) up++;
        cell(tr, n);
        cell(tr, c.type);
        cell(tr, c.cachegroup);
        cell(tr, c.to_status);
        yesno(tr, c.combined_available);
        yesno(tr, c.ipv4_available);
        yesno(tr, c.ipv6_available);
        cell(tr, c.status, "reason");
        cell(tr, num(c.bandwidth_kbps, 0));
        cell(tr, num(c.bandwidth_capacity_kbps, 0));
        cell(tr, num(c.load_average, 2));
        cell(tr, String(c.query_time_ms));
        return tr;
      }));
      const dsAll = ds.deliveryService || {};
      const dsNames = Object.keys(crstates.deliveryServices || {}).sort();
      fill("dses", dsNames.map((n) => {
        const d = dsAll[n] || {};
        const v = (k) => (d[k] && d[k][0]) ? d[k][0].value : "";
        const tr = document.createElement("tr");
        tr.dataset.ds = n;
        cell(tr, n);
        yesno(tr, v("isAvailable") === "true");
        cell(tr, v("caches-available"));
        cell(tr, num(parseFloat(v("total.kbps")), 0));
        cell(tr, num(parseFloat(v("total.tps_total")), 1));
        cell(tr, v("error-string"), "reason");
        return tr;
      }));
      const peerNames = Object.keys(peers.peers || {}).sort();
      fill("peers", peerNames.map((n) => {
        const caches = peers.peers[n] || {};
        const keys = Object.keys(caches);
        const avail = keys.filter((k) => caches[k][0] && caches[k][0].value).length;
        const tr = document.createElement("tr");
        tr.dataset.peer = n;
        cell(tr, n);
        cell(tr, String(keys.length));
        cell(tr, String(avail));
        return tr;
      }));
      fill("events", (events.events || []).slice(0, 50).map((e) => {
        const tr = document.createElement("tr");
        cell(tr, String(e.index));
        cell(tr, new Date(e.time * 1000).toISOString());
        cell(tr, e.type);
        cell(tr, e.name);
        yesno(tr, e.isAvailable);
        cell(tr, e.description, "reason");
        return tr;
      }));
      document.getElementById("summary").textContent =
        up + " of " + names.length + " caches available, " + dsNames.length + " delivery services, " + peerNames.length + " peers";
      document.getElementById("updated").textContent = "updated " + new Date().toISOString();
      document.body.dataset.ready = "true";
    } catch (err) {
      document.getElementById("summary").textContent = "waiting for the monitor: " + err.message;
    }
  }
  refresh();
  setInterval(refresh, REFRESH_MS);
})();
