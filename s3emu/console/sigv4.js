// AWS Signature Version 4 for S3, with the browser's WebCrypto (SubtleCrypto,
// available on http://127.0.0.1 and http://localhost, which are secure contexts).
// Reference: AWS "Signature Version 4 signing process" and "Authenticating
// Requests: Using Query Parameters (AWS Signature Version 4)".

const encoder = new TextEncoder();
export const UNSIGNED = "UNSIGNED-PAYLOAD";
export const EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

function hex(buffer) {
  return Array.from(new Uint8Array(buffer), (b) => b.toString(16).padStart(2, "0")).join("");
}

function bytes(data) {
  return typeof data === "string" ? encoder.encode(data) : data;
}

export async function sha256Hex(data) {
  return hex(await crypto.subtle.digest("SHA-256", bytes(data)));
}

async function hmac(key, message) {
  const k = await crypto.subtle.importKey("raw", bytes(key), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return crypto.subtle.sign("HMAC", k, encoder.encode(message));
}

// RFC 3986 encoding as S3 signs it: everything but A-Z a-z 0-9 - _ . ~
// (and "/" in paths) is %XX, upper case.
export function uriEncode(text, keepSlash = false) {
  const out = encodeURIComponent(text).replace(/[!'()*]/g, (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase());
  return keepSlash ? out.replace(/%2F/g, "/") : out;
}

// "k=v&k2=v2" from [[k, v], ...]: sorted by encoded name, then value, as S3 canonicalises.
export function canonicalQuery(pairs) {
  return pairs
    .map(([k, v]) => [uriEncode(k), uriEncode(v ?? "")])
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join("&");
}

function stamp(now) {
  const iso = now.toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");
  return { amzDate: iso, day: iso.slice(0, 8) };
}

const keyCache = new Map();

async function signingKey(secret, day, region) {
  const id = `${secret}\n${day}\n${region}`;
  if (!keyCache.has(id)) {
    let key = await hmac("AWS4" + secret, day);
    for (const part of [region, "s3", "aws4_request"]) key = await hmac(key, part);
    keyCache.clear();
    keyCache.set(id, key);
  }
  return keyCache.get(id);
}

async function signature(creds, day, amzDate, canonicalRequest) {
  const scope = `${day}/${creds.region}/s3/aws4_request`;
  const toSign = ["AWS4-HMAC-SHA256", amzDate, scope, await sha256Hex(canonicalRequest)].join("\n");
  return { scope, signature: hex(await hmac(await signingKey(creds.secretKey, day, creds.region), toSign)) };
}

// Headers to add to a request for `path` (already encoded) and `query` pairs:
// Authorization, x-amz-date and x-amz-content-sha256. `headers` are the
// request's own headers (lower-case names), all signed.
export async function signHeaders(creds, { method, host, path, query = [], headers = {}, payload = UNSIGNED, now = new Date() }) {
  const { amzDate, day } = stamp(now);
  const all = { ...headers, host, "x-amz-date": amzDate, "x-amz-content-sha256": payload };
  const names = Object.keys(all).map((n) => n.toLowerCase()).sort();
  const lower = Object.fromEntries(Object.entries(all).map(([k, v]) => [k.toLowerCase(), String(v).trim().replace(/\s+/g, " ")]));
  const canonicalHeaders = names.map((n) => `${n}:${lower[n]}\n`).join("");
  const signed = names.join(";");
  const request = [method, path, canonicalQuery(query), canonicalHeaders, signed, payload].join("\n");
  const { scope, signature: sig } = await signature(creds, day, amzDate, request);
  return {
    authorization: `AWS4-HMAC-SHA256 Credential=${creds.accessKey}/${scope}, SignedHeaders=${signed}, Signature=${sig}`,
    "x-amz-date": amzDate,
    "x-amz-content-sha256": payload,
  };
}

// A presigned URL's query string (pairs included), valid for `expires` seconds.
export async function presignQuery(creds, { method = "GET", host, path, query = [], expires, now = new Date() }) {
  const { amzDate, day } = stamp(now);
  const scope = `${day}/${creds.region}/s3/aws4_request`;
  const pairs = [...query,
    ["X-Amz-Algorithm", "AWS4-HMAC-SHA256"], ["X-Amz-Credential", `${creds.accessKey}/${scope}`],
    ["X-Amz-Date", amzDate], ["X-Amz-Expires", String(expires)], ["X-Amz-SignedHeaders", "host"]];
  const request = [method, path, canonicalQuery(pairs), `host:${host}\n`, "host", UNSIGNED].join("\n");
  const { signature: sig } = await signature(creds, day, amzDate, request);
  return canonicalQuery([...pairs, ["X-Amz-Signature", sig]]);
}
