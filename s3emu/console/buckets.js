// Buckets: the list with counts and sizes, create and delete, and one
// bucket's settings (readable, with the raw XML/JSON a click away).

import { admin, call, kids, val, session, escapeXml } from "./api.js";
import { h, render, table, facts, raw, errorSlot, setError, formatBytes, formatTime, link, action, field, announce } from "./ui.js";

export async function bucketsPage() {
  const problem = errorSlot();
  const list = h("div", { id: "bucket-list" }, h("p", {}, "Loading…"));
  render(h("h1", {}, "Buckets"), createForm(problem), problem, list);
  await fillBuckets(list, problem);
}

async function fillBuckets(list, problem) {
  let buckets = [];
  let usage = {};
  try {
    const r = await call("GET", null, null);
    buckets = kids(kids(r.xml, "Buckets")[0], "Bucket").map((b) => ({ name: val(b, "Name"), created: val(b, "CreationDate") }));
  } catch (err) {
    setError(problem, err);
    list.replaceChildren();
    return;
  }
  try { usage = (await admin("GET", "usage")).buckets; } catch { /* counts need the admin endpoint */ }
  const u = (b, field) => usage[b.name]?.[field];
  list.replaceChildren(table("Buckets, with what each holds", [
    { label: "Name", cell: (b) => h("a", { href: link(`/objects/${b.name}`) }, b.name) },
    { label: "Created", cell: (b) => formatTime(b.created) },
    { label: "Objects", class: "num", cell: (b) => u(b, "objects") ?? "—" },
    { label: "Size", class: "num", cell: (b) => formatBytes(u(b, "bytes")) },
    { label: "All versions", class: "num", cell: (b) => u(b, "versions") === undefined ? "—"
      : `${u(b, "versions")} · ${formatBytes(u(b, "version_bytes"))}` },
    { label: "Delete markers", class: "num", cell: (b) => u(b, "delete_markers") ?? "—" },
    { label: "Uploads in progress", class: "num", cell: (b) => u(b, "uploads") === undefined ? "—"
      : h("a", { href: link(`/uploads/${b.name}`) }, `${u(b, "uploads")} · ${formatBytes(u(b, "upload_bytes"))}`) },
    { label: "Actions", cell: (b) => [
      h("a", { href: link(`/bucket/${b.name}`), class: "button" }, "Settings", h("span", { class: "sr" }, ` of ${b.name}`)), " ",
      action(["Delete", h("span", { class: "sr" }, ` ${b.name}`)], async () => {
        if (!confirm(`Delete bucket ${b.name}? S3 refuses while it holds any object version.`)) return;
        setError(problem, null);
        try {
          await call("DELETE", b.name, null);
          announce(`Deleted bucket ${b.name}`);
          await fillBuckets(list, problem);
        } catch (err) { setError(problem, err); }
      }, { class: "danger", "data-delete": b.name }),
    ] },
  ], buckets, "No buckets yet."));
}

function createForm(problem) {
  const [nameField, name] = field("Bucket name", { name: "bucket", required: true, autocomplete: "off", spellcheck: false });
  const versioning = h("input", { type: "checkbox", id: "new-versioning" });
  const lock = h("input", { type: "checkbox", id: "new-lock" });
  const form = h("form", { class: "inline card", "aria-label": "Create a bucket" },
    nameField,
    h("div", { class: "check" }, versioning, h("label", { for: "new-versioning" }, "Versioning")),
    h("div", { class: "check" }, lock, h("label", { for: "new-lock" }, "Object lock")),
    h("button", { type: "submit", class: "primary" }, "Create bucket"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    setError(problem, null);
    const bucket = name.value.trim();
    const region = session.get().region;
    const body = region === "us-east-1" ? null
      : `<CreateBucketConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><LocationConstraint>${escapeXml(region)}</LocationConstraint></CreateBucketConfiguration>`;
    const headers = lock.checked ? { "x-amz-bucket-object-lock-enabled": "true" } : {};
    try {
      await call("PUT", bucket, null, { headers, body });
      if (versioning.checked && !lock.checked) {
        await call("PUT", bucket, null, { query: { versioning: "" },
          body: '<VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Status>Enabled</Status></VersioningConfiguration>' });
      }
      announce(`Created bucket ${bucket}`);
      name.value = "";
      await fillBuckets(document.getElementById("bucket-list"), problem);
    } catch (err) { setError(problem, err); }
  });
  return form;
}

// ---- one bucket's settings -----------------------------------------------------

// Each setting: its sub-resource, a title, and a summary of its answer.
const SETTINGS = [
  ["versioning", "Versioning", (x) => [["Status", val(x, "Status") || "never enabled"], ["MFA delete", val(x, "MfaDelete") || undefined]]],
  ["object-lock", "Object lock", (x) => {
    const rule = kids(kids(x, "Rule")[0], "DefaultRetention")[0];
    return [["Enabled", val(x, "ObjectLockEnabled") || "no"],
      ["Default retention", rule ? `${val(rule, "Mode")} for ${val(rule, "Days") ? val(rule, "Days") + " days" : val(rule, "Years") + " years"}` : "none"]];
  }],
  ["lifecycle", "Lifecycle", (x) => kids(x, "Rule").map((r) => [val(r, "ID") || "(no id)", lifecycleRule(r)])],
  ["cors", "CORS", (x) => kids(x, "CORSRule").map((r, i) => [val(r, "ID") || `Rule ${i + 1}`,
    `${kids(r, "AllowedMethod").map((m) => m.textContent).join(", ")} from ${kids(r, "AllowedOrigin").map((m) => m.textContent).join(", ")}`])],
  ["policy", "Policy", null],
  ["notification", "Notifications", (x) => Array.from(x.children).map((c) => [c.localName, val(c, "Id") || val(c, "Event")])],
  ["tagging", "Tags", (x) => kids(kids(x, "TagSet")[0], "Tag").map((t) => [val(t, "Key"), val(t, "Value")])],
  ["encryption", "Default encryption", (x) => kids(x, "Rule").map((r) => {
    const d = kids(r, "ApplyServerSideEncryptionByDefault")[0];
    return ["Algorithm", `${val(d, "SSEAlgorithm")}${val(d, "KMSMasterKeyID") ? " " + val(d, "KMSMasterKeyID") : ""}`];
  })],
  ["acl", "Access control list", (x) => kids(kids(x, "AccessControlList")[0], "Grant").map((g) => {
    const who = kids(g, "Grantee")[0];
    return [val(who, "DisplayName") || val(who, "ID") || val(who, "URI"), val(g, "Permission")];
  })],
  ["location", "Location", (x) => [["Region", x.textContent || "us-east-1"]]],
];

function lifecycleRule(r) {
  const parts = [val(r, "Status")];
  const filter = kids(r, "Filter")[0];
  const prefix = val(filter, "Prefix", val(r, "Prefix"));
  parts.push(prefix ? `prefix "${prefix}"` : "every key");
  const exp = kids(r, "Expiration")[0];
  if (exp) parts.push(val(exp, "Days") ? `expire after ${val(exp, "Days")} days` : val(exp, "Date") ? `expire on ${val(exp, "Date")}` : "remove expired delete markers");
  const nc = kids(r, "NoncurrentVersionExpiration")[0];
  if (nc) parts.push(`noncurrent versions expire after ${val(nc, "NoncurrentDays")} days`);
  const abort = kids(r, "AbortIncompleteMultipartUpload")[0];
  if (abort) parts.push(`abort uploads after ${val(abort, "DaysAfterInitiation")} days`);
  return parts.join(" · ");
}

export async function bucketPage(bucket) {
  const sections = h("div", { class: "settings" });
  const problem = errorSlot();
  render(h("nav", { "aria-label": "Breadcrumb", class: "crumbs" }, h("a", { href: "#/buckets" }, "Buckets"), " / ", bucket),
    h("h1", {}, `Settings of ${bucket}`),
    h("p", {}, h("a", { href: link(`/objects/${bucket}`) }, "Browse objects"), " · ",
      h("a", { href: link(`/uploads/${bucket}`) }, "Uploads in progress")),
    problem, sections);
  await Promise.all(SETTINGS.map(async ([sub, title, summarise]) => {
    const section = h("section", { class: "card setting", "aria-labelledby": `s-${sub}` }, h("h2", { id: `s-${sub}` }, title), h("p", {}, "Loading…"));
    sections.append(section);
    section.replaceChildren(section.firstChild, ...(await settingBody(bucket, sub, summarise, problem)).filter(Boolean));
  }));
}

async function settingBody(bucket, sub, summarise, problem) {
  let r;
  try {
    r = await call("GET", bucket, null, { query: { [sub]: "" } });
  } catch (err) {
    if (err.notSupported) return [h("p", { class: "muted", "data-state": "not-supported" }, "Not supported by this server.")];
    if (err.notConfigured) return [h("p", { class: "muted", "data-state": "not-configured" }, "Not configured."), raw("Raw answer", err.raw)];
    if (err.code === "NoSuchBucket") setError(problem, err);
    return [h("p", { class: "error" }, `${err.code}: ${err.s3message}`)];
  }
  if (sub === "policy") {
    let pretty = r.text;
    try { pretty = JSON.stringify(JSON.parse(r.text), null, 2); } catch { /* shown as sent */ }
    return [h("pre", {}, h("code", {}, pretty))];
  }
  const rows = summarise(r.xml);
  const body = rows.length ? facts(rows, sub) : h("p", { class: "muted", "data-state": "not-configured" }, "Not configured.");
  return [body, raw("Raw XML", r.text)];
}
