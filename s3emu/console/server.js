// Server: the configuration in effect, fault rules, request rates and latency
// from /_s3emu/metrics, the last requests, and disk usage of the data directory.

import { admin } from "./api.js";
import { h, render, table, facts, raw, errorSlot, setError, formatBytes, formatTime, action, field, announce } from "./ui.js";
import { parseMetrics, byOperation, quantile } from "./prom.js";

const REFRESH_MS = 5000;
const COMMON_OPERATIONS = ["PutObject", "GetObject", "HeadObject", "DeleteObject", "CopyObject", "ListObjectsV2",
  "CreateMultipartUpload", "UploadPart", "CompleteMultipartUpload", "AbortMultipartUpload", "ListParts",
  "ListMultipartUploads", "CreateBucket", "DeleteBucket", "HeadBucket", "ListBuckets", "DeleteObjects"];

export async function serverPage() {
  const problem = errorSlot();
  const slots = Object.fromEntries(["metrics", "requests", "faults", "disk", "config"].map((k) => [k, h("div", { id: `server-${k}` }, h("p", {}, "Loading…"))]));
  const auto = h("input", { type: "checkbox", id: "auto-refresh", checked: true });
  const section = (id, title, ...body) => h("section", { class: "card", "aria-labelledby": `h-${id}` }, h("h2", { id: `h-${id}` }, title), ...body);
  render(h("h1", {}, "Server"),
    h("div", { class: "inline" }, h("div", { class: "check" }, auto, h("label", { for: "auto-refresh" }, "Refresh every 5 seconds")),
      action("Refresh now", () => refresh())),
    problem,
    section("faults", "Fault rules", faultForm(problem, () => refreshFaults()), slots.faults),
    section("metrics", "Requests by operation", slots.metrics),
    section("requests", "Last requests", slots.requests),
    section("disk", "Disk usage", slots.disk),
    section("config", "Configuration in effect", slots.config));

  let previous = null; // the last metrics reading, for rates
  async function refreshMetrics() {
    const text = await admin("GET", "metrics", { text: true });
    const now = performance.now();
    const samples = parseMetrics(text);
    const ops = byOperation(samples);
    const rates = {};
    if (previous) {
      const seconds = (now - previous.at) / 1000;
      for (const [op, o] of Object.entries(ops)) rates[op] = (o.requests - (previous.ops[op]?.requests || 0)) / seconds;
    }
    previous = { at: now, ops };
    const gauge = (name) => samples.filter((s) => s.name === name).reduce((n, s) => n + s.value, 0);
    const ms = (v) => (Number.isFinite(v) ? `${(v * 1000).toFixed(1)} ms` : "—");
    slots.metrics.replaceChildren(
      facts([["Uploads in progress", gauge("s3emu_uploads_in_progress")], ["Stored objects", gauge("s3emu_stored_objects")],
        ["Stored bytes", formatBytes(gauge("s3emu_stored_bytes"))]], "Store"),
      table("Requests, errors and latency by S3 operation (since the server started)", [
        { label: "Operation", cell: ([op]) => op },
        { label: "Requests", class: "num", cell: ([, o]) => o.requests },
        { label: "Errors", class: "num", cell: ([, o]) => o.errors },
        { label: "Rate", class: "num", cell: ([op]) => (op in rates ? `${rates[op].toFixed(2)}/s` : "—") },
        { label: "Mean", class: "num", cell: ([, o]) => ms(o.count ? o.sum / o.count : NaN) },
        { label: "p50", class: "num", cell: ([, o]) => ms(quantile(0.5, o.buckets)) },
        { label: "p95", class: "num", cell: ([, o]) => ms(quantile(0.95, o.buckets)) },
        { label: "p99", class: "num", cell: ([, o]) => ms(quantile(0.99, o.buckets)) },
        { label: "In", class: "num", cell: ([, o]) => formatBytes(o.bytesIn) },
        { label: "Out", class: "num", cell: ([, o]) => formatBytes(o.bytesOut) },
      ], Object.entries(ops).sort((a, b) => b[1].requests - a[1].requests), "No requests yet."),
      raw("Raw metrics (Prometheus text format)", text));
  }

  async function refreshRequests() {
    const { requests } = await admin("GET", "requests", { query: { limit: 50 } });
    slots.requests.replaceChildren(table("The last 50 requests, newest first", [
      { label: "Time", cell: (r) => formatTime(r.time) },
      { label: "Operation", cell: (r) => r.operation },
      { label: "Bucket", cell: (r) => r.bucket ?? "—" },
      { label: "Key", class: "key", cell: (r) => r.key ?? "—" },
      { label: "Status", class: "num", cell: (r) => h("span", { class: r.status >= 400 ? "bad" : "" }, r.status) },
      { label: "Error", cell: (r) => r.error || "" },
      { label: "Duration", class: "num", cell: (r) => `${Number(r.duration_ms).toFixed(1)} ms` },
      { label: "In", class: "num", cell: (r) => formatBytes(r.bytes_in) },
      { label: "Out", class: "num", cell: (r) => formatBytes(r.bytes_out) },
    ], requests.slice(0, 50), "No requests yet."));
  }

  async function refreshFaults() {
    const { faults } = await admin("GET", "faults");
    slots.faults.replaceChildren(table("Fault rules in force", [
      { label: "ID", class: "num", cell: (f) => f.id },
      { label: "Matches", cell: (f) => describeMatch(f) },
      { label: "Does", cell: (f) => describeAction(f) },
      { label: "Matched", class: "num fault-matched", cell: (f) => f.matched },
      { label: "Fired", class: "num fault-fired", cell: (f) => f.fired },
      { label: "Actions", cell: (f) => action(["Remove", h("span", { class: "sr" }, ` rule ${f.id}`)], async () => {
        try {
          await admin("DELETE", `faults/${f.id}`);
          announce(`Removed fault rule ${f.id}`);
          await refreshFaults();
        } catch (err) { setError(problem, err); }
      }, { class: "danger", "data-remove": f.id }) },
    ], faults, "No fault rules: every request is answered normally."));
  }

  async function refreshDisk() {
    const usage = await admin("GET", "usage");
    const p = usage.parts;
    slots.disk.replaceChildren(facts([
      ["Data directory", usage.data_dir],
      ["Object and part data (blobs/)", `${formatBytes(p.blobs.bytes)} in ${p.blobs.files} files`],
      ["Metadata (meta.sqlite3 and its WAL)", `${formatBytes(p.metadata.bytes)} in ${p.metadata.files} files`],
      ["Writes in progress (tmp/)", `${formatBytes(p.tmp.bytes)} in ${p.tmp.files} files`],
      ["Request record (requests/)", `${formatBytes(p.requests.bytes)} in ${p.requests.files} files`],
      ["File system", `${formatBytes(usage.disk.used)} used of ${formatBytes(usage.disk.total)}, ${formatBytes(usage.disk.free)} free`],
    ], "Disk usage"));
  }

  async function refreshConfig() {
    const config = await admin("GET", "config");
    slots.config.replaceChildren(facts(Object.entries(config).map(([k, v]) => [k, describeSetting(v)]), "Configuration"),
      raw("Raw JSON", JSON.stringify(config, null, 2)));
  }

  async function guarded(fn, slot) {
    try { await fn(); } catch (err) { slot.replaceChildren(h("p", { class: "error" }, `${err.code}: ${err.s3message ?? err.message}`)); }
  }
  async function refresh(all = false) {
    await Promise.all([guarded(refreshMetrics, slots.metrics), guarded(refreshRequests, slots.requests),
      guarded(refreshFaults, slots.faults), guarded(refreshDisk, slots.disk), all ? guarded(refreshConfig, slots.config) : null]);
  }
  await refresh(true);
  const timer = setInterval(() => { if (auto.checked && !document.hidden) refresh(); }, REFRESH_MS);
  return () => clearInterval(timer);
}

function describeSetting(v) {
  if (v === null) return "—";
  if (Array.isArray(v)) return v.length ? v.map((x) => (typeof x === "object" ? JSON.stringify(x) : String(x))).join(", ") : "none";
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}

function describeMatch(f) {
  const parts = [];
  parts.push(f.operation || "any operation");
  if (f.bucket) parts.push(`bucket ${f.bucket}`);
  if (f.key_prefix) parts.push(`keys under "${f.key_prefix}"`);
  if (f.part_number != null) parts.push(`part ${f.part_number}`);
  if (f.nth > 1) parts.push(`from the ${f.nth}th match`);
  if (f.probability < 1) parts.push(`${Math.round(f.probability * 100)}% of the time`);
  if (f.times != null) parts.push(`at most ${f.times} times`);
  return parts.join(", ");
}

function describeAction(f) {
  const parts = [];
  if (f.delay_ms) parts.push(`delay ${f.delay_ms} ms`);
  if (f.reset_after_bytes != null) parts.push(`reset the connection after ${f.reset_after_bytes} bytes`);
  if (f.error) parts.push(`answer ${f.error}${f.status ? ` (${f.status})` : ""}`);
  return parts.join(", then ");
}

// The form that adds a rule: only the fields filled in are sent.
function faultForm(problem, refresh) {
  const list = h("datalist", { id: "operations" }, COMMON_OPERATIONS.map((op) => h("option", { value: op })));
  const inputs = {};
  const add = (name, label, attrs = {}) => {
    const [wrap, input] = field(label, { name, spellcheck: false, autocomplete: "off", ...attrs });
    inputs[name] = input;
    return wrap;
  };
  const form = h("form", { class: "grid", "aria-label": "Add a fault rule" }, list,
    add("operation", "Operation", { list: "operations", placeholder: "any" }),
    add("bucket", "Bucket", { placeholder: "any" }),
    add("key_prefix", "Key prefix", { placeholder: "any" }),
    add("part_number", "Part number", { type: "number", min: 1, max: 10000 }),
    add("error", "Error code", { placeholder: "e.g. SlowDown" }),
    add("status", "HTTP status", { type: "number", min: 400, max: 599 }),
    add("delay_ms", "Delay (ms)", { type: "number", min: 0 }),
    add("reset_after_bytes", "Reset after bytes", { type: "number", min: 0 }),
    add("nth", "From the nth match", { type: "number", min: 1 }),
    add("times", "At most times", { type: "number", min: 0 }),
    add("probability", "Probability", { type: "number", min: 0, max: 1, step: "any" }),
    h("div", { class: "field" }, h("button", { type: "submit", class: "primary" }, "Add fault rule")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    setError(problem, null);
    const rule = {};
    for (const [name, input] of Object.entries(inputs)) {
      const v = input.value.trim();
      if (v !== "") rule[name] = input.type === "number" ? Number(v) : v;
    }
    try {
      const { faults } = await admin("POST", "faults", { body: rule });
      announce(`Added fault rule ${faults[0].id}`);
      form.reset();
      await refresh();
    } catch (err) { setError(problem, err); }
  });
  return form;
}
