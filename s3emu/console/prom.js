// The Prometheus text exposition format (version 0.0.4), read in the browser:
// https://prometheus.io/docs/instrumenting/exposition_formats/

// [{ name, labels: {..}, value }] for every sample line; comments skipped.
export function parseMetrics(text) {
  const samples = [];
  for (const line of text.split("\n")) {
    if (!line || line.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    samples.push({ name: m[1], labels: parseLabels(m[3] || ""), value: parseValue(m[4]) });
  }
  return samples;
}

function parseValue(text) {
  if (text === "+Inf") return Infinity;
  if (text === "-Inf") return -Infinity;
  return Number(text);
}

function parseLabels(text) {
  const labels = {};
  const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*,?\s*/g;
  let m;
  while ((m = re.exec(text))) {
    labels[m[1]] = m[2].replace(/\\(.)/g, (_, c) => (c === "n" ? "\n" : c));
  }
  return labels;
}

// Sums samples of `name` by the value of label `by` (other labels, e.g. a
// worker's pid, added up).
export function sumBy(samples, name, by, filter = () => true) {
  const out = {};
  for (const s of samples) {
    if (s.name !== name || !filter(s.labels)) continue;
    const k = s.labels[by] ?? "";
    out[k] = (out[k] || 0) + s.value;
  }
  return out;
}

// The q-quantile of a cumulative histogram given as [[le, count], ...], by
// linear interpolation inside the bucket, as PromQL's histogram_quantile does.
export function quantile(q, buckets) {
  const sorted = [...buckets].sort((a, b) => a[0] - b[0]);
  if (!sorted.length) return NaN;
  const total = sorted[sorted.length - 1][1];
  if (!total) return NaN;
  const rank = q * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const [le, count] of sorted) {
    if (count >= rank) {
      if (le === Infinity) return prevLe;
      return prevLe + (le - prevLe) * ((rank - prevCount) / ((count - prevCount) || 1));
    }
    prevLe = le;
    prevCount = count;
  }
  return prevLe;
}

// Per operation: { requests, errors, bytesIn, bytesOut, sum, count, buckets: [[le, n]] }
// from s3emu's metric families.
export function byOperation(samples) {
  const ops = {};
  const get = (op) => (ops[op] ??= { requests: 0, errors: 0, bytesIn: 0, bytesOut: 0, sum: 0, count: 0, le: {} });
  for (const s of samples) {
    const op = s.labels.operation;
    if (op === undefined) continue;
    const o = get(op);
    if (s.name === "s3emu_requests_total") {
      o.requests += s.value;
      if (Number(s.labels.status) >= 400) o.errors += s.value;
    } else if (s.name === "s3emu_received_bytes_total") o.bytesIn += s.value;
    else if (s.name === "s3emu_sent_bytes_total") o.bytesOut += s.value;
    else if (s.name === "s3emu_request_duration_seconds_sum") o.sum += s.value;
    else if (s.name === "s3emu_request_duration_seconds_count") o.count += s.value;
    else if (s.name === "s3emu_request_duration_seconds_bucket") {
      const le = parseValue(s.labels.le);
      o.le[le] = (o.le[le] || 0) + s.value;
    }
  }
  for (const o of Object.values(ops)) o.buckets = Object.entries(o.le).map(([le, n]) => [Number(le), n]);
  return ops;
}
