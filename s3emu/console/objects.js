// Objects: browsing by prefix and delimiter, page by page; uploading; and one
// object's details, versions, download, delete and presigned URL.

import { admin, call, kids, val, presign, uploadFile, MULTIPART_THRESHOLD } from "./api.js";
import { h, render, table, facts, raw, errorSlot, setError, formatBytes, formatTime, link, routeParams, action, field, announce } from "./ui.js";

const PAGE_SIZES = [50, 200, 1000];

// Continuation tokens of the pages before the current one, per listing, so "Previous" works.
const pageTokens = new Map();

function crumbs(bucket, prefix, delimiter) {
  const parts = [h("a", { href: "#/buckets" }, "Buckets"), " / ", h("a", { href: link(`/objects/${bucket}`) }, bucket)];
  if (delimiter) {
    let sofar = "";
    for (const piece of prefix.split(delimiter).slice(0, -1)) {
      sofar += piece + delimiter;
      parts.push(" / ", h("a", { href: link(`/objects/${bucket}`, { prefix: sofar }) }, piece || "(empty)"));
    }
  }
  return h("nav", { "aria-label": "Breadcrumb", class: "crumbs" }, parts);
}

export async function objectsPage(bucket) {
  const params = routeParams();
  const prefix = params.get("prefix") || "";
  const delimiter = params.has("delimiter") ? params.get("delimiter") : "/";
  const size = Number(params.get("size")) || 200;
  const problem = errorSlot();
  const listing = h("div", { id: "listing" }, h("p", {}, "Loading…"));
  render(crumbs(bucket, prefix, delimiter), h("h1", {}, prefix ? `${bucket} / ${prefix}` : bucket),
    h("p", {}, h("a", { href: link(`/bucket/${bucket}`) }, "Bucket settings"), " · ",
      h("a", { href: link(`/uploads/${bucket}`) }, "Uploads in progress")),
    filterForm(bucket, prefix, delimiter, size), uploadForm(bucket, prefix, () => fillListing(bucket, listing, problem)), problem, listing);
  await fillListing(bucket, listing, problem);
}

async function fillListing(bucket, listing, problem) {
  const params = routeParams();
  const prefix = params.get("prefix") || "";
  const delimiter = params.has("delimiter") ? params.get("delimiter") : "/";
  const size = Number(params.get("size")) || 200;
  const token = params.get("token") || "";
  const page = Number(params.get("page")) || 1;
  const query = { "list-type": "2", prefix, delimiter: delimiter || undefined, "max-keys": size, "continuation-token": token || undefined, "fetch-owner": undefined };
  let r;
  try {
    r = await call("GET", bucket, null, { query });
  } catch (err) {
    setError(problem, err);
    listing.replaceChildren();
    return;
  }
  const folders = kids(r.xml, "CommonPrefixes").map((p) => ({ folder: val(p, "Prefix") }));
  const objects = kids(r.xml, "Contents").map((c) => ({
    key: val(c, "Key"), size: Number(val(c, "Size")), modified: val(c, "LastModified"),
    etag: val(c, "ETag"), storage: val(c, "StorageClass") || "STANDARD",
  }));
  const next = val(r.xml, "NextContinuationToken");
  const id = `${bucket}\n${prefix}\n${delimiter}\n${size}`;
  const tokens = pageTokens.get(id) || [];
  tokens[page - 1] = token; // tokens[i] opens page i + 1; "" is the first page
  tokens.length = page;
  pageTokens.set(id, tokens);
  const here = { prefix, delimiter: delimiter === "/" ? undefined : delimiter, size: size === 200 ? undefined : size };
  const prev = page > 1 && tokens[page - 2] !== undefined ? { token: tokens[page - 2] || undefined, page: page - 1 > 1 ? page - 1 : undefined } : {};
  const rel = (key) => key.slice(prefix.length) || key;
  const rows = [...folders, ...objects];
  const first = (page - 1) * size + 1;
  const pager = h("nav", { class: "pager", "aria-label": "Pages" },
    page > 1 ? h("a", { href: link(`/objects/${bucket}`, { ...here, ...prev }), rel: "prev", id: "prev-page" }, "← Previous page") : null,
    h("span", { id: "page-info" }, rows.length ? `Page ${page} · entries ${first}–${first + rows.length - 1}` : `Page ${page} · empty`),
    next ? h("a", { href: link(`/objects/${bucket}`, { ...here, token: next, page: page + 1 }), rel: "next", id: "next-page" }, "Next page →") : null);
  listing.replaceChildren(table(`Objects in ${bucket}${prefix ? " under " + prefix : ""}`, [
    { label: "Name", cell: (o) => o.folder !== undefined
      ? h("a", { href: link(`/objects/${bucket}`, { prefix: o.folder, delimiter: delimiter === "/" ? undefined : delimiter }), class: "folder" }, rel(o.folder))
      : h("a", { href: link(`/object/${bucket}`, { key: o.key }), class: "object" }, rel(o.key)) },
    { label: "Size", class: "num", cell: (o) => (o.folder !== undefined ? "folder" : formatBytes(o.size)) },
    { label: "Last modified", cell: (o) => (o.folder !== undefined ? "" : formatTime(o.modified)) },
    { label: "Storage class", cell: (o) => o.storage || "" },
  ], rows, prefix ? "Nothing under this prefix." : "This bucket is empty."), pager);
}

function filterForm(bucket, prefix, delimiter, size) {
  const [prefixField, prefixInput] = field("Prefix", { name: "prefix", value: prefix, spellcheck: false });
  const [delimField, delimInput] = field("Delimiter", { name: "delimiter", value: delimiter, size: 3, spellcheck: false });
  const [sizeField, sizeSelect] = field("Keys per page", { tag: "select", name: "size" });
  for (const n of PAGE_SIZES.includes(size) ? PAGE_SIZES : [...PAGE_SIZES, size].sort((a, b) => a - b)) {
    sizeSelect.append(h("option", { value: n, selected: n === size }, n));
  }
  const form = h("form", { class: "inline", "aria-label": "Browse" }, prefixField, delimField, sizeField,
    h("button", { type: "submit" }, "List"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    location.hash = link(`/objects/${bucket}`, { prefix: prefixInput.value, delimiter: delimInput.value === "/" ? undefined : delimInput.value || "",
      size: Number(sizeSelect.value) === 200 ? undefined : sizeSelect.value });
  });
  return form;
}

function uploadForm(bucket, prefix, uploaded) {
  const [fileField, files] = field("Files", { type: "file", name: "files", multiple: true });
  const [keyField, keyPrefix] = field("Key prefix", { name: "key-prefix", value: prefix, spellcheck: false });
  const problem = errorSlot();
  const progress = h("div", { class: "progress-list", id: "upload-progress" });
  const form = h("form", { class: "inline card", "aria-label": "Upload files" }, fileField, keyField,
    h("button", { type: "submit", class: "primary" }, "Upload"), problem, progress);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    setError(problem, null);
    let minPartSize;
    try { minPartSize = (await admin("GET", "config")).min_part_size; } catch { /* S3's 5 MiB */ }
    for (const file of files.files) {
      const key = keyPrefix.value + file.name;
      const bar = h("progress", { max: file.size || 1, value: 0, "aria-label": `Upload of ${key}` });
      const text = h("span", { class: "progress-text" }, "starting…");
      const row = h("div", { class: "progress-row", "data-key": key }, h("span", { class: "name" }, key), bar, text);
      progress.append(row);
      try {
        const result = await uploadFile(bucket, key, file, {
          minPartSize,
          progress: (p) => {
            bar.value = p.sent;
            row.dataset.updates = Number(row.dataset.updates || 0) + 1;
            row.dataset.partsDone = p.partsDone;
            row.dataset.parts = p.parts;
            text.textContent = `${formatBytes(p.sent)} of ${formatBytes(p.total)} (${p.total ? Math.floor(100 * p.sent / p.total) : 100}%)` +
              (p.multipart ? ` · ${p.partsDone} of ${p.parts} parts` : "");
          },
        });
        bar.value = bar.max;
        row.dataset.done = "true";
        text.textContent = `done · ${formatBytes(file.size)} · ` + (result.multipart ? `multipart upload, ${result.parts} parts` : "single PUT") + ` · ETag ${result.etag}`;
        announce(`Uploaded ${key}`);
      } catch (err) {
        row.dataset.failed = "true";
        text.textContent = "failed";
        setError(problem, err);
      }
    }
    await uploaded();
  });
  form.append(h("p", { class: "hint" }, `Files over ${formatBytes(MULTIPART_THRESHOLD)} go as a multipart upload, four parts at a time.`));
  return form;
}

// ---- one object ------------------------------------------------------------------

const EXPIRIES = [[60, "1 minute"], [900, "15 minutes"], [3600, "1 hour"], [43200, "12 hours"], [86400, "1 day"], [604800, "7 days (the longest S3 allows)"]];

export async function objectPage(bucket) {
  const params = routeParams();
  const key = params.get("key") || "";
  const versionId = params.get("versionId") || undefined;
  const problem = errorSlot();
  const slash = key.lastIndexOf("/");
  const folder = slash >= 0 ? key.slice(0, slash + 1) : "";
  render(crumbs(bucket, folder, "/"), h("h1", {}, key), problem,
    h("div", { id: "object-details" }, h("p", {}, "Loading…")));
  const details = document.getElementById("object-details");
  let head;
  try {
    head = await call("HEAD", bucket, key, { query: { versionId }, headers: { "x-amz-checksum-mode": "ENABLED" } });
  } catch (err) {
    if (err.status === 404 || err.status === 405) {
      // a HEAD error has no body: a delete marker answers 405 for its version, 404 as the latest
      err = Object.assign(err, { code: err.status === 405 ? "MethodNotAllowed" : "NoSuchKey",
        s3message: err.status === 405 ? "This version is a delete marker." : "The object does not exist (or its latest version is a delete marker)." });
    }
    setError(problem, err);
    details.replaceChildren(await versionsSection(bucket, key, problem));
    return;
  }
  const hd = head.headers;
  const meta = [];
  const checksums = [];
  hd.forEach((v, k) => {
    if (k.startsWith("x-amz-meta-")) meta.push([k.slice(11), v]);
    if (k.startsWith("x-amz-checksum-") && k !== "x-amz-checksum-type") checksums.push([k.slice(15).toUpperCase(), v]);
  });
  const attrs = await call("GET", bucket, key, { query: { attributes: "", versionId },
    headers: { "x-amz-object-attributes": "ETag,Checksum,ObjectParts,StorageClass,ObjectSize", "x-amz-max-parts": "1000" } }).catch(() => null);
  const parts = attrs ? kids(attrs.xml, "ObjectParts")[0] : null;
  const tags = await tagging(bucket, key, versionId);
  // GetObjectAttributes lists parts only for some checksum types; a multipart ETag always ends in -N
  const partsCount = val(parts, "TotalPartsCount") || (/-(\d+)"?$/.exec(hd.get("etag") || "") || [])[1];
  details.replaceChildren(
    h("section", { class: "card", "aria-labelledby": "o-facts" }, h("h2", { id: "o-facts" }, "Details"),
      facts([
        ["Size", `${formatBytes(hd.get("content-length"))} (${hd.get("content-length")} bytes)`],
        ["ETag", hd.get("etag")],
        ["Last modified", formatTime(hd.get("last-modified"))],
        ["Version", hd.get("x-amz-version-id") || "null (unversioned)"],
        ["Storage class", hd.get("x-amz-storage-class") || "STANDARD"],
        ["Parts", partsCount ? `${partsCount} (multipart upload)` : "1 (single upload)"],
        ["Content-Type", hd.get("content-type")],
        ["Content-Encoding", hd.get("content-encoding") || undefined],
        ["Content-Disposition", hd.get("content-disposition") || undefined],
        ["Content-Language", hd.get("content-language") || undefined],
        ["Cache-Control", hd.get("cache-control") || undefined],
        ["Expires", hd.get("expires") || undefined],
        ["Server-side encryption", hd.get("x-amz-server-side-encryption") || undefined],
        ["Object lock", hd.get("x-amz-object-lock-mode") ? `${hd.get("x-amz-object-lock-mode")} until ${hd.get("x-amz-object-lock-retain-until-date")}` : "no retention"],
        ["Legal hold", hd.get("x-amz-object-lock-legal-hold") || "OFF"],
      ], "Object details")),
    h("section", { class: "card", "aria-labelledby": "o-sums" }, h("h2", { id: "o-sums" }, "Checksums"),
      checksums.length ? facts([...checksums, ["Type", hd.get("x-amz-checksum-type") || undefined]], "Checksums")
        : h("p", { class: "muted" }, "None stored."),
      parts && kids(parts, "Part").length ? table("Parts", [
        { label: "Part", class: "num", cell: (p) => val(p, "PartNumber") },
        { label: "Size", class: "num", cell: (p) => formatBytes(val(p, "Size")) },
        { label: "Checksum", cell: (p) => Array.from(p.children).filter((c) => c.localName.startsWith("Checksum")).map((c) => `${c.localName.slice(8)} ${c.textContent}`).join(" ") || "—" },
      ], kids(parts, "Part")) : null,
      attrs ? raw("Raw GetObjectAttributes XML", attrs.text) : null),
    h("section", { class: "card", "aria-labelledby": "o-meta" }, h("h2", { id: "o-meta" }, "User metadata and tags"),
      meta.length ? facts(meta, "User metadata") : h("p", { class: "muted" }, "No user metadata."),
      h("h3", {}, "Tags"), tags),
    actionsSection(bucket, key, versionId, problem),
    await versionsSection(bucket, key, problem));
}

async function tagging(bucket, key, versionId) {
  try {
    const r = await call("GET", bucket, key, { query: { tagging: "", versionId } });
    const tags = kids(kids(r.xml, "TagSet")[0], "Tag").map((t) => [val(t, "Key"), val(t, "Value")]);
    return tags.length ? facts(tags, "Tags") : h("p", { class: "muted", "data-state": "not-configured" }, "No tags.");
  } catch (err) {
    if (err.notSupported) return h("p", { class: "muted", "data-state": "not-supported" }, "Tags are not supported by this server.");
    return h("p", { class: "muted" }, `${err.code}: ${err.s3message}`);
  }
}

function actionsSection(bucket, key, versionId, problem) {
  const [expiryField, expiry] = field("Expires in", { tag: "select", name: "expiry" });
  for (const [seconds, label] of EXPIRIES) expiry.append(h("option", { value: seconds, selected: seconds === 3600 }, label));
  const [urlField, url] = field("Presigned GET URL", { name: "presigned", readonly: true, class: "wide" });
  urlField.hidden = true;
  const copy = action("Copy", async () => {
    url.select();
    try { await navigator.clipboard.writeText(url.value); announce("Copied the URL"); } catch { announce("Select the URL and copy it"); }
  });
  copy.hidden = true;
  const name = key.split("/").pop() || "download";
  return h("section", { class: "card", "aria-labelledby": "o-actions" }, h("h2", { id: "o-actions" }, "Actions"),
    h("div", { class: "inline" },
      action("Download", async () => {
        const href = await presign(bucket, key, { expires: 300, query: { versionId,
          "response-content-disposition": `attachment; filename*=UTF-8''${encodeURIComponent(name)}` } });
        const a = h("a", { href, download: name, hidden: true });
        document.body.append(a);
        a.click();
        a.remove();
        announce(`Downloading ${name}`);
      }, { id: "download" }),
      action(versionId ? "Delete this version" : "Delete", async () => {
        const what = versionId ? `version ${versionId} of ${key} for good` : `${key} (in a versioned bucket this adds a delete marker)`;
        if (!confirm(`Delete ${what}?`)) return;
        try {
          await call("DELETE", bucket, key, { query: { versionId } });
          announce(`Deleted ${key}`);
          location.hash = link(`/objects/${bucket}`, { prefix: key.slice(0, key.lastIndexOf("/") + 1) });
        } catch (err) { setError(problem, err); }
      }, { class: "danger" })),
    h("div", { class: "inline" }, expiryField,
      action("Create presigned URL", async () => {
        url.value = await presign(bucket, key, { expires: Number(expiry.value), query: { versionId } });
        urlField.hidden = false;
        copy.hidden = false;
        url.focus();
      }), urlField, copy));
}

async function versionsSection(bucket, key, problem) {
  const versions = [];
  let keyMarker;
  let versionMarker;
  try {
    for (let pages = 0; pages < 100; pages += 1) {
      const r = await call("GET", bucket, null, { query: { versions: "", prefix: key, "key-marker": keyMarker, "version-id-marker": versionMarker } });
      const entries = Array.from(r.xml.children).filter((c) => c.localName === "Version" || c.localName === "DeleteMarker");
      for (const e of entries) {
        if (val(e, "Key") !== key) continue;
        versions.push({ marker: e.localName === "DeleteMarker", id: val(e, "VersionId"), latest: val(e, "IsLatest") === "true",
          modified: val(e, "LastModified"), size: val(e, "Size"), etag: val(e, "ETag"), storage: val(e, "StorageClass") });
      }
      const past = entries.some((e) => val(e, "Key") > key);
      if (val(r.xml, "IsTruncated") !== "true" || past) break;
      keyMarker = val(r.xml, "NextKeyMarker");
      versionMarker = val(r.xml, "NextVersionIdMarker");
    }
  } catch (err) {
    setError(problem, err);
  }
  return h("section", { class: "card", "aria-labelledby": "o-versions" }, h("h2", { id: "o-versions" }, "Versions"),
    table(`Every version of ${key}, newest first`, [
      { label: "Version", cell: (v) => v.marker ? [v.id, " ", h("span", { class: "tag" }, "delete marker")]
        : h("a", { href: link(`/object/${bucket}`, { key, versionId: v.id }) }, v.id) },
      { label: "Latest", cell: (v) => (v.latest ? "yes" : "") },
      { label: "Last modified", cell: (v) => formatTime(v.modified) },
      { label: "Size", class: "num", cell: (v) => (v.marker ? "—" : formatBytes(v.size)) },
      { label: "ETag", cell: (v) => v.etag || "—" },
      { label: "Actions", cell: (v) => action(["Delete", h("span", { class: "sr" }, ` version ${v.id}`)], async () => {
        if (!confirm(`Delete ${v.marker ? "delete marker" : "version"} ${v.id} of ${key} for good?`)) return;
        try {
          await call("DELETE", bucket, key, { query: { versionId: v.id } });
          announce(`Deleted version ${v.id}`);
          objectPage(bucket);
        } catch (err) { setError(problem, err); }
      }, { class: "danger" }) },
    ], versions, "No versions."));
}
