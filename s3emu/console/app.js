// The console's entry: sign-in, the hash router and the navigation.

import { call, health, session } from "./api.js";
import { h, render, errorSlot, setError, field } from "./ui.js";
import { bucketsPage, bucketPage } from "./buckets.js";
import { objectsPage, objectPage } from "./objects.js";
import { uploadsPage } from "./uploads.js";
import { serverPage } from "./server.js";

const routes = [
  [/^\/buckets$/, bucketsPage, "buckets"],
  [/^\/bucket\/([^/?]+)$/, bucketPage, "buckets"],
  [/^\/objects\/([^/?]+)$/, objectsPage, "buckets"],
  [/^\/object\/([^/?]+)$/, objectPage, "buckets"],
  [/^\/uploads$/, uploadsPage, "uploads"],
  [/^\/uploads\/([^/?]+)$/, uploadsPage, "uploads"],
  [/^\/server$/, serverPage, "server"],
];

let leave = null; // the current page's clean-up (timers), run before the next page

async function route() {
  if (leave) { leave(); leave = null; }
  if (!session.get()) return signIn();
  showIdentity();
  const path = location.hash.replace(/^#/, "").split("?")[0] || "/buckets";
  for (const [pattern, page, nav] of routes) {
    const m = pattern.exec(path);
    if (!m) continue;
    for (const a of document.querySelectorAll("[data-nav]")) {
      if (a.dataset.nav === nav) a.setAttribute("aria-current", "page");
      else a.removeAttribute("aria-current");
    }
    const args = m.slice(1).map(decodeURIComponent);
    document.title = `${nav[0].toUpperCase()}${nav.slice(1)} · s3emu console`;
    leave = (await page(...args)) || null;
    return;
  }
  location.hash = "#/buckets";
}

function showIdentity() {
  const who = session.get();
  document.getElementById("who").hidden = false;
  document.getElementById("who-name").textContent = who.anonymous
    ? `auth off · ${who.region}` : `${who.accessKey} · ${who.region}`;
}

async function signIn() {
  document.getElementById("who").hidden = true;
  let info = { region: "us-east-1" };
  try { info = await health(); } catch { /* keep the default region */ }
  // auth off: the server answers unsigned requests, so there is nothing to sign in with
  const probe = await fetch("/", { cache: "no-store" }).catch(() => null);
  if (probe && probe.ok) {
    session.set({ anonymous: true, region: info.region });
    return route();
  }
  const [keyField, key] = field("Access key ID", { name: "access-key", autocomplete: "username", required: true });
  const [secretField, secret] = field("Secret access key", { name: "secret-key", type: "password", autocomplete: "current-password", required: true });
  const [regionField, region] = field("Region", { name: "region", value: info.region, required: true });
  const problem = errorSlot();
  const form = h("form", { class: "card signin", "aria-labelledby": "signin-title" },
    h("h1", { id: "signin-title" }, "Sign in"),
    h("p", {}, "Use an access key configured on this server. The key stays in this tab (session storage); requests are signed in the browser with SigV4."),
    keyField, secretField, regionField, problem,
    h("button", { type: "submit", class: "primary" }, "Sign in"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    setError(problem, null);
    session.set({ accessKey: key.value.trim(), secretKey: secret.value, region: region.value.trim() });
    try {
      await call("GET", null, null);
      route();
    } catch (err) {
      session.clear();
      setError(problem, err);
    }
  });
  render(form);
  key.focus();
}

document.getElementById("sign-out").addEventListener("click", () => {
  session.clear();
  route();
});
window.addEventListener("hashchange", route);
route();
