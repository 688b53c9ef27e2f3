// Small DOM and formatting helpers shared by the pages.

// h("a", { href: "#/x", class: "c" }, "text", child...): an element. Attributes
// starting with "on" are listeners; null/false attributes and children are skipped.
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else if (k in el && typeof v !== "string") el[k] = v;
    else el.setAttribute(k, v === true ? "" : v);
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

// Replaces the page's content; focuses its heading for screen readers and keyboards.
export function render(...children) {
  const main = document.getElementById("main");
  main.replaceChildren();
  append(main, children);
  const heading = main.querySelector("h1");
  if (heading) {
    heading.tabIndex = -1;
    heading.focus({ preventScroll: true });
  }
}

// A polite announcement in the status line, cleared after a few seconds.
let announced = null;
export function announce(text) {
  const status = document.getElementById("status");
  status.textContent = text;
  clearTimeout(announced);
  announced = setTimeout(() => { status.textContent = ""; }, 5000);
}

// An error slot: empty until setError() fills it with S3's code and message.
export function errorSlot() {
  return h("div", { class: "error", role: "alert", hidden: true });
}

// Shows `err` (an S3Error or any Error) in `slot`, or clears it for null.
export function setError(slot, err) {
  slot.replaceChildren();
  slot.hidden = !err;
  if (!err) return;
  const code = err.code ? h("strong", { class: "code" }, err.code) : null;
  append(slot, [code, code ? ": " : "", err.s3message ?? err.message,
    err.requestId ? h("span", { class: "muted" }, ` (request ${err.requestId})`) : null]);
}

// A table: columns [{ label, cell(row) -> node|string, class }], rows.
export function table(caption, columns, rows, empty = "None.") {
  if (!rows.length) return h("p", { class: "empty" }, empty);
  return h("table", {},
    h("caption", {}, caption),
    h("thead", {}, h("tr", {}, columns.map((c) => h("th", { scope: "col", class: c.class }, c.label)))),
    h("tbody", {}, rows.map((r) => h("tr", {}, columns.map((c) => h("td", { class: c.class }, c.cell(r)))))));
}

// A definition list from [[term, value], ...]; values may be nodes.
export function facts(pairs, label) {
  return h("dl", { class: "facts", "aria-label": label },
    pairs.filter(([, v]) => v !== undefined).map(([k, v]) => [h("dt", {}, k), h("dd", {}, v ?? "—")]));
}

// Raw XML/JSON, one click away.
export function raw(label, text) {
  if (!text) return null;
  return h("details", { class: "raw" }, h("summary", {}, label), h("pre", {}, h("code", {}, text)));
}

export function formatBytes(n) {
  if (n === null || n === undefined || n === "") return "—";
  n = Number(n);
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i += 1; }
  return i === 0 ? `${n} B` : `${n.toFixed(n < 10 ? 2 : 1)} ${units[i]}`;
}

export function formatTime(value) {
  if (!value) return "—";
  const d = value instanceof Date ? value : new Date(value);
  return isNaN(d) ? String(value) : d.toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z");
}

export function formatAge(from, now = Date.now()) {
  const s = Math.max(0, Math.round((now - new Date(from).getTime()) / 1000));
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  if (s < 172800) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86400)} days`;
}

// The hash route's query: #/objects/b?prefix=x -> URLSearchParams.
export function routeParams() {
  const hash = location.hash;
  const i = hash.indexOf("?");
  return new URLSearchParams(i < 0 ? "" : hash.slice(i + 1));
}

export function link(route, params = {}) {
  const qs = new URLSearchParams(Object.entries(params).filter(([, v]) => v !== undefined && v !== null && v !== "")).toString();
  return `#${route}${qs ? "?" + qs : ""}`;
}

// A button that disables itself while its async action runs.
export function action(label, run, attrs = {}) {
  const button = h("button", { type: "button", ...attrs }, label);
  button.addEventListener("click", async () => {
    button.disabled = true;
    try { await run(button); } finally { button.disabled = false; }
  });
  return button;
}

// A labelled input: returns [label+input wrapper, input].
export function field(label, attrs = {}) {
  const id = attrs.id || `f-${Math.random().toString(36).slice(2, 9)}`;
  const input = h(attrs.tag || "input", { ...attrs, tag: null, id });
  return [h("div", { class: "field" }, h("label", { for: id }, label), input), input];
}
