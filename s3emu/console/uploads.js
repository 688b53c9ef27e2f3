// Uploads in progress: per bucket, every multipart upload with its parts,
// its age and the date a lifecycle rule (or the server's upload_expiry) aborts
// it; abort one, or every upload under a prefix.

import { admin, call, kids, val, allPages } from "./api.js";
import { h, render, table, errorSlot, setError, formatBytes, formatTime, formatAge, link, routeParams, action, field, announce } from "./ui.js";

export async function uploadsPage(bucket) {
  if (!bucket) return overview();
  const prefix = routeParams().get("prefix") || "";
  const problem = errorSlot();
  const list = h("div", { id: "upload-list" }, h("p", {}, "Loading…"));
  render(h("nav", { "aria-label": "Breadcrumb", class: "crumbs" }, h("a", { href: "#/uploads" }, "Uploads in progress"), " / ", bucket),
    h("h1", {}, `Uploads in progress in ${bucket}`),
    h("p", {}, h("a", { href: link(`/objects/${bucket}`) }, "Browse objects"), " · ", h("a", { href: link(`/bucket/${bucket}`) }, "Bucket settings")),
    filterForm(bucket, prefix), abortAllForm(bucket, prefix, problem, () => fill(bucket, prefix, list, problem)), problem, list);
  await fill(bucket, prefix, list, problem);
}

async function overview() {
  const problem = errorSlot();
  const list = h("div", {}, h("p", {}, "Loading…"));
  render(h("h1", {}, "Uploads in progress"), h("p", {}, "Multipart uploads created and not yet completed or aborted, by bucket."), problem, list);
  let usage = null;
  let names = [];
  try {
    const r = await call("GET", null, null);
    names = kids(kids(r.xml, "Buckets")[0], "Bucket").map((b) => val(b, "Name"));
    usage = (await admin("GET", "usage").catch(() => null))?.buckets;
  } catch (err) {
    setError(problem, err);
  }
  list.replaceChildren(table("Buckets and their uploads in progress", [
    { label: "Bucket", cell: (b) => h("a", { href: link(`/uploads/${b}`) }, b) },
    { label: "Uploads", class: "num", cell: (b) => usage?.[b]?.uploads ?? "—" },
    { label: "Bytes in parts", class: "num", cell: (b) => formatBytes(usage?.[b]?.upload_bytes) },
  ], names, "No buckets."));
}

function filterForm(bucket, prefix) {
  const [prefixField, input] = field("Key prefix", { name: "prefix", value: prefix, spellcheck: false });
  const form = h("form", { class: "inline", "aria-label": "Filter uploads" }, prefixField, h("button", { type: "submit" }, "List"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    location.hash = link(`/uploads/${bucket}`, { prefix: input.value });
  });
  return form;
}

const PAGE = 100; // uploads shown at a time, each with its parts

// One page of ListMultipartUploads: { items, next } (next: the markers of the following page).
async function listUploadsPage(bucket, prefix, marker, max) {
  const r = await call("GET", bucket, null, { query: { uploads: "", prefix, "max-uploads": max,
    "key-marker": marker?.key, "upload-id-marker": marker?.id } });
  const items = kids(r.xml, "Upload").map((u) => ({ key: val(u, "Key"), id: val(u, "UploadId"), initiated: val(u, "Initiated"),
    storage: val(u, "StorageClass"), checksum: val(u, "ChecksumAlgorithm") }));
  const more = val(r.xml, "IsTruncated") === "true";
  return { items, next: more ? { key: val(r.xml, "NextKeyMarker"), id: val(r.xml, "NextUploadIdMarker") } : null };
}

// Every upload under `prefix` (all pages).
function listUploads(bucket, prefix) {
  return allPages((marker) => listUploadsPage(bucket, prefix, marker, 1000));
}

// An upload's parts (ListParts, all pages) and the abort date S3 reports with them.
async function listParts(bucket, upload) {
  let abort = null;
  const parts = await allPages(async (marker) => {
    const r = await call("GET", bucket, upload.key, { query: { uploadId: upload.id, "part-number-marker": marker } });
    if (r.headers.get("x-amz-abort-date")) abort = { date: r.headers.get("x-amz-abort-date"), rule: r.headers.get("x-amz-abort-rule-id") };
    const items = kids(r.xml, "Part").map((p) => ({
      number: Number(val(p, "PartNumber")), size: Number(val(p, "Size")), etag: val(p, "ETag"), modified: val(p, "LastModified"),
      checksum: Array.from(p.children).filter((c) => c.localName.startsWith("Checksum")).map((c) => `${c.localName.slice(8)} ${c.textContent}`).join(" "),
    }));
    return { items, next: val(r.xml, "IsTruncated") === "true" ? val(r.xml, "NextPartNumberMarker") : null };
  });
  return { parts, abort };
}

async function fill(bucket, prefix, list, problem) {
  const params = routeParams();
  const marker = params.get("key-marker") !== null ? { key: params.get("key-marker"), id: params.get("upload-id-marker") || "" } : null;
  let page;
  let expiry = null;
  try {
    page = await listUploadsPage(bucket, prefix, marker, PAGE);
    expiry = (await admin("GET", "config").catch(() => null))?.upload_expiry ?? null;
    await Promise.all(page.items.map(async (u) => Object.assign(u, await listParts(bucket, u).catch((err) => ({ parts: [], error: err })))));
  } catch (err) {
    setError(problem, err);
    list.replaceChildren();
    return;
  }
  const uploads = page.items;
  const total = uploads.reduce((n, u) => n + u.parts.reduce((m, p) => m + p.size, 0), 0);
  const more = page.next ? "at least " : "";
  list.replaceChildren(
    h("p", { id: "upload-count" }, `${more}${uploads.length} upload${uploads.length === 1 ? "" : "s"} in progress${prefix ? ` under "${prefix}"` : ""}${marker ? " after " + marker.key : ""}, ${formatBytes(total)} in parts.`),
    ...uploads.map((u) => uploadCard(bucket, u, expiry, problem, () => fill(bucket, prefix, list, problem))),
    page.next ? h("nav", { class: "pager", "aria-label": "Pages" }, h("a", { href: link(`/uploads/${bucket}`, { prefix,
      "key-marker": page.next.key, "upload-id-marker": page.next.id }), rel: "next" }, `Next ${PAGE} uploads →`)) : "");
}

function uploadCard(bucket, u, expiry, problem, refresh) {
  const bytes = u.parts.reduce((n, p) => n + p.size, 0);
  const serverAbort = expiry ? new Date(new Date(u.initiated).getTime() + expiry * 1000) : null;
  return h("section", { class: "card upload", "data-upload-id": u.id, "aria-label": `Upload of ${u.key}` },
    h("h2", {}, u.key),
    h("dl", { class: "facts" },
      h("dt", {}, "Upload ID"), h("dd", { class: "mono" }, u.id),
      h("dt", {}, "Initiated"), h("dd", {}, formatTime(u.initiated)),
      h("dt", {}, "Age"), h("dd", {}, formatAge(u.initiated)),
      h("dt", {}, "Lifecycle abort date"), h("dd", {}, u.abort ? `${formatTime(u.abort.date)} (rule ${u.abort.rule})` : "no lifecycle rule applies"),
      serverAbort ? [h("dt", {}, "Server upload_expiry"), h("dd", {}, formatTime(serverAbort))] : null,
      h("dt", {}, "Parts"), h("dd", { class: "parts-count" }, String(u.parts.length)),
      h("dt", {}, "Total bytes"), h("dd", { class: "total-bytes" }, `${formatBytes(bytes)} (${bytes} bytes)`),
      u.checksum ? [h("dt", {}, "Checksum algorithm"), h("dd", {}, u.checksum)] : null),
    u.error ? h("p", { class: "error" }, `${u.error.code}: ${u.error.s3message}`) : null,
    table(`Parts of ${u.key}`, [
      { label: "Part", class: "num", cell: (p) => p.number },
      { label: "Size", class: "num", cell: (p) => formatBytes(p.size) },
      { label: "ETag", class: "mono", cell: (p) => p.etag },
      { label: "Checksum", class: "mono", cell: (p) => p.checksum || "—" },
      { label: "Uploaded", cell: (p) => formatTime(p.modified) },
    ], u.parts, "No parts yet."),
    action(["Abort", h("span", { class: "sr" }, ` upload of ${u.key}`)], async () => {
      if (!confirm(`Abort the upload of ${u.key}? Its ${u.parts.length} parts are deleted.`)) return;
      try {
        await call("DELETE", bucket, u.key, { query: { uploadId: u.id } });
        announce(`Aborted the upload of ${u.key}`);
        await refresh();
      } catch (err) { setError(problem, err); }
    }, { class: "danger", "data-abort": u.id }));
}

// Hadoop's abortUploadsUnderPath: every upload whose key starts with the prefix.
function abortAllForm(bucket, prefix, problem, refresh) {
  const [prefixField, input] = field("Abort every upload under prefix", { name: "abort-prefix", value: prefix, spellcheck: false });
  const result = h("p", { id: "abort-result", role: "status" });
  const form = h("form", { class: "inline card", "aria-label": "Abort uploads under a prefix" }, prefixField,
    h("button", { type: "submit", class: "danger" }, "Abort all"), result);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    setError(problem, null);
    try {
      const uploads = await listUploads(bucket, input.value);
      if (!uploads.length) { result.textContent = "No uploads under that prefix."; return; }
      if (!confirm(`Abort ${uploads.length} upload${uploads.length === 1 ? "" : "s"} under "${input.value}"?`)) return;
      let done = 0;
      for (const u of uploads) {
        await call("DELETE", bucket, u.key, { query: { uploadId: u.id } });
        done += 1;
      }
      result.textContent = `Aborted ${done} upload${done === 1 ? "" : "s"}.`;
      await refresh();
    } catch (err) { setError(problem, err); }
  });
  return form;
}
