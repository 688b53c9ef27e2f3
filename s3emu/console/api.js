// The console's only way to the server: S3 calls and s3emu's admin calls
// (/_s3emu/...), signed with SigV4 by the signed-in key, as any client's are.

import { signHeaders, presignQuery, sha256Hex, uriEncode, canonicalQuery, UNSIGNED, EMPTY_SHA256 } from "./sigv4.js";

const SESSION = "s3emu-console";
export const ADMIN = "_s3emu";

// The signed-in identity: { accessKey, secretKey, region } or { anonymous: true, region }
// when the server has auth off. Kept in sessionStorage: gone when the tab closes.
export const session = {
  get() {
    try { return JSON.parse(sessionStorage.getItem(SESSION) || "null"); } catch { return null; }
  },
  set(value) { sessionStorage.setItem(SESSION, JSON.stringify(value)); },
  clear() { sessionStorage.removeItem(SESSION); },
};

// S3's <Error> (or an admin endpoint's {"error": ...}) as an exception.
export class S3Error extends Error {
  constructor(status, code, message, requestId = "", raw = "") {
    super(`${code}: ${message}`);
    this.status = status;
    this.code = code;
    this.s3message = message;
    this.requestId = requestId;
    this.raw = raw;
  }
  // 404 NoSuch... for a configuration: nothing configured; 501: the server has no such call.
  get notConfigured() { return this.status === 404 && this.code !== "NoSuchBucket"; }
  get notSupported() { return this.status === 501 || this.code === "NotImplemented"; }
}

export function parseXml(text) {
  const doc = new DOMParser().parseFromString(text, "application/xml");
  return doc.querySelector("parsererror") ? null : doc.documentElement;
}

// Direct children of `el` named `name` (namespace ignored).
export function kids(el, name) {
  return el ? Array.from(el.children).filter((c) => c.localName === name) : [];
}

// Text of the first child named `name`, or `fallback`.
export function val(el, name, fallback = "") {
  const k = kids(el, name)[0];
  return k ? k.textContent : fallback;
}

function errorFrom(status, text, headers) {
  const root = text ? parseXml(text) : null;
  if (root && root.localName === "Error") {
    return new S3Error(status, val(root, "Code"), val(root, "Message"), val(root, "RequestId"), text);
  }
  try {
    const body = JSON.parse(text);
    if (body && body.error) return new S3Error(status, `HTTP ${status}`, body.error, "", text);
  } catch { /* not JSON */ }
  const id = headers?.get?.("x-amz-request-id") || "";
  return new S3Error(status, `HTTP ${status}`, text || "(no body)", id, text);
}

export function objectPath(bucket, key) {
  if (bucket == null) return "/";
  return "/" + uriEncode(bucket) + (key != null ? "/" + uriEncode(key, true) : "");
}

function queryPairs(query) {
  return Object.entries(query || {}).filter(([, v]) => v !== undefined && v !== null).map(([k, v]) => [k, String(v)]);
}

async function payloadHash(body) {
  if (body == null) return EMPTY_SHA256;
  if (typeof body === "string" || body instanceof ArrayBuffer || ArrayBuffer.isView(body)) return sha256Hex(body);
  return UNSIGNED; // a File or Blob: streamed, not hashed in memory
}

// Headers for a request, signed unless auth is off.
export async function signedHeaders(method, path, pairs, headers, payload) {
  const who = session.get();
  if (!who || who.anonymous) return { ...headers };
  const extra = await signHeaders(who, { method, host: location.host, path, query: pairs, headers, payload });
  return { ...headers, ...extra };
}

// One S3 (or admin) call. Resolves to { status, headers, text, xml };
// rejects with S3Error for a 4xx/5xx (or a 200 carrying <Error>, as Complete may).
export async function call(method, bucket, key, { query, headers = {}, body = null, accept = [200, 204, 206] } = {}) {
  const path = objectPath(bucket, key);
  const pairs = queryPairs(query);
  const all = await signedHeaders(method, path, pairs, headers, await payloadHash(body));
  const qs = canonicalQuery(pairs);
  const response = await fetch(path + (qs ? "?" + qs : ""), { method, headers: all, body, credentials: "omit", cache: "no-store" });
  const text = method === "HEAD" ? "" : await response.text();
  if (!accept.includes(response.status)) throw errorFrom(response.status, text, response.headers);
  const xml = text && text.trimStart().startsWith("<") ? parseXml(text) : null;
  if (xml && xml.localName === "Error") throw errorFrom(response.status, text, response.headers);
  return { status: response.status, headers: response.headers, text, xml };
}

// An admin endpoint under /_s3emu/: parsed JSON (or text for `text: true`).
export async function admin(method, name, { body, query, text = false } = {}) {
  const json = body === undefined ? null : JSON.stringify(body);
  // changes are JSON and signed, as the admin endpoints require of them (even with no body)
  const headers = method === "GET" || method === "HEAD" ? {} : { "content-type": "application/json" };
  const r = await call(method, ADMIN, name, { query, headers, body: json, accept: [200, 201, 204] });
  return text ? r.text : (r.text ? JSON.parse(r.text) : null);
}

// A presigned URL anyone can use until it expires (a plain URL with auth off).
export async function presign(bucket, key, { expires = 3600, query = {} } = {}) {
  const path = objectPath(bucket, key);
  const pairs = queryPairs(query);
  const who = session.get();
  const qs = !who || who.anonymous ? canonicalQuery(pairs)
    : await presignQuery(who, { host: location.host, path, query: pairs, expires });
  return `${location.origin}${path}${qs ? "?" + qs : ""}`;
}

// The region and version, from the public health endpoint.
export async function health() {
  const r = await fetch(`/${ADMIN}/health`, { cache: "no-store" });
  if (!r.ok) throw errorFrom(r.status, await r.text(), r.headers);
  return r.json();
}

// Every page of a listing: `fetchPage(marker)` returns { items, next } (next null at the end).
export async function allPages(fetchPage, limit = 100000) {
  const items = [];
  let next;
  do {
    const page = await fetchPage(next);
    items.push(...page.items);
    next = page.next;
  } while (next && items.length < limit);
  return items;
}

// ---- uploads from the browser -------------------------------------------------

const MiB = 1024 * 1024;
export const MULTIPART_THRESHOLD = 8 * MiB;

// One PUT with upload progress (fetch has none): XMLHttpRequest, signed like any call.
async function put(path, pairs, headers, body, onProgress) {
  const all = await signedHeaders("PUT", path, pairs, headers, UNSIGNED);
  const qs = canonicalQuery(pairs);
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("PUT", path + (qs ? "?" + qs : ""));
    for (const [k, v] of Object.entries(all)) xhr.setRequestHeader(k, v);
    xhr.upload.onprogress = (e) => onProgress?.(e.loaded);
    xhr.onload = () => {
      if (xhr.status === 200) resolve(xhr);
      else reject(errorFrom(xhr.status, xhr.responseText, { get: (h) => xhr.getResponseHeader(h) }));
    };
    xhr.onerror = () => reject(new S3Error(0, "NetworkError", "the connection failed"));
    xhr.send(body);
  });
}

// Uploads a File: one PutObject up to MULTIPART_THRESHOLD, else a multipart
// upload with `concurrency` parts in flight. progress({ sent, total, partsDone,
// parts, multipart }) is called as bytes go out and as parts finish.
// Resolves to { etag, parts, multipart }. A failed multipart upload is aborted.
export async function uploadFile(bucket, key, file, { minPartSize = 5 * MiB, concurrency = 4, progress = () => {} } = {}) {
  const path = objectPath(bucket, key);
  const type = file.type || "application/octet-stream";
  if (file.size <= MULTIPART_THRESHOLD) {
    progress({ sent: 0, total: file.size, partsDone: 0, parts: 1, multipart: false });
    const xhr = await put(path, [], { "content-type": type }, file,
      (sent) => progress({ sent, total: file.size, partsDone: 0, parts: 1, multipart: false }));
    progress({ sent: file.size, total: file.size, partsDone: 1, parts: 1, multipart: false });
    return { etag: xhr.getResponseHeader("ETag"), parts: 1, multipart: false };
  }
  const partSize = Math.max(minPartSize, 5 * MiB, Math.ceil(file.size / 10000));
  const count = Math.ceil(file.size / partSize);
  const created = await call("POST", bucket, key, { query: { uploads: "" }, headers: { "content-type": type } });
  const uploadId = val(created.xml, "UploadId");
  const sent = new Array(count).fill(0);
  const etags = new Array(count);
  let partsDone = 0;
  let nextPart = 0;
  const report = () => progress({ sent: sent.reduce((a, b) => a + b, 0), total: file.size, partsDone, parts: count, multipart: true, uploadId });
  async function worker() {
    while (nextPart < count) {
      const i = nextPart++;
      const blob = file.slice(i * partSize, Math.min(file.size, (i + 1) * partSize));
      const xhr = await put(path, [["partNumber", String(i + 1)], ["uploadId", uploadId]], {}, blob,
        (n) => { sent[i] = n; report(); });
      etags[i] = xhr.getResponseHeader("ETag");
      sent[i] = blob.size;
      partsDone += 1;
      report();
    }
  }
  try {
    await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
    const xml = "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">" +
      etags.map((e, i) => `<Part><PartNumber>${i + 1}</PartNumber><ETag>${escapeXml(e)}</ETag></Part>`).join("") +
      "</CompleteMultipartUpload>";
    const done = await call("POST", bucket, key, { query: { uploadId }, headers: { "content-type": "application/xml" }, body: xml });
    return { etag: val(done.xml, "ETag"), parts: count, multipart: true };
  } catch (err) {
    await call("DELETE", bucket, key, { query: { uploadId } }).catch(() => {});
    throw err;
  }
}

export function escapeXml(text) {
  return String(text).replace(/[<>&'"]/g, (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", "'": "&apos;", '"': "&quot;" }[c]));
}
