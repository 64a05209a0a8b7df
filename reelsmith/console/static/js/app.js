// The console's shell: the hash router, the header (navigation, credits, sign-out) and the
// flash messages. Each page is a module under views/ with a render(root, params, ctx) function.

import { credits, session } from "./api.js";
import { announce, errorBox, h, replace } from "./dom.js";
import { credits as creditsText } from "./format.js";
import * as create from "./views/create.js";
import * as operator from "./views/operator.js";
import * as signin from "./views/signin.js";
import * as task from "./views/task.js";
import * as tasks from "./views/tasks.js";

const ROUTES = [
  { pattern: /^\/signin$/, view: signin.render, title: "Sign in" },
  { pattern: /^\/create(?:\/(image2video|character-swap|translation))?$/, view: create.render, needs: "team", nav: "/create" },
  { pattern: /^\/tasks$/, view: tasks.render, needs: "team", nav: "/tasks" },
  { pattern: /^\/tasks\/(\w+)\/([0-9a-f]{24})$/, view: task.render, needs: "team", nav: "/tasks" },
  { pattern: /^\/operator$/, view: operator.renderOverview, needs: "admin", nav: "/operator" },
  { pattern: /^\/operator\/teams$/, view: operator.renderTeams, needs: "admin", nav: "/operator/teams" },
];

const main = document.getElementById("main");
const nav = document.getElementById("nav");
const account = document.getElementById("account");
const flashArea = document.getElementById("flash");

let cleanups = [];
let firstRender = true;
let keepFlash = false;
let creditsTimer = null;
const creditsPill = h("span", { class: "pill", id: "credits", title: "Your team's credit balance" });

function parseHash() {
  const raw = location.hash.replace(/^#/, "") || "/";
  const [path, query = ""] = raw.split("?");
  return { path, query: new URLSearchParams(query) };
}

/** Goes to a console address such as "/tasks". */
export function navigate(path) {
  if (location.hash === `#${path}`) route();
  else location.hash = path;
}

function home() {
  if (session.team) return "/create";
  if (session.admin) return "/operator";
  return "/signin";
}

/**
 * A message under the header (role=status); `tone` is "ok", "warn" or "error". `persist` keeps
 * it through the next navigation (for a message said just before moving elsewhere).
 */
function flash(message, tone = "ok", persist = false) {
  replace(flashArea, h("div", { class: `notice ${tone}` }, message));
  keepFlash = persist;
}

async function refreshCredits() {
  if (!session.team) return;
  try {
    const balance = await credits();
    creditsPill.textContent = creditsText(balance);
    creditsPill.dataset.credit = String(balance);
  } catch {
    // The header is not the place for an error: the page itself shows the API's message.
  }
}

function link(path, label, current) {
  return h("a", { href: `#${path}`, "aria-current": current === path ? "page" : null }, label);
}

function renderChrome(current) {
  const links = [];
  if (session.team) links.push(link("/create", "New task", current), link("/tasks", "Tasks", current));
  if (session.admin) links.push(link("/operator", "Overview", current), link("/operator/teams", "Teams", current));
  // One sign-in per tab of each kind: offer the one that is missing.
  if (!session.team && !session.admin) links.push(link("/signin", "Sign in", current));
  else if (!session.admin) links.push(link("/signin", "Operator sign-in", current));
  else if (!session.team) links.push(link("/signin", "Team sign-in", current));
  replace(nav, links);
  const parts = [];
  if (session.team) {
    parts.push(creditsPill, h("span", { class: "mono", title: "Signed in as this team's clientId" }, session.team.clientId));
  }
  if (session.admin) parts.push(h("span", { class: "badge plain" }, "Operator"));
  if (session.team || session.admin) {
    parts.push(
      h("button", { type: "button", class: "small", onclick: signOut }, "Sign out"),
    );
  }
  replace(account, parts);
  clearInterval(creditsTimer);
  if (session.team) {
    refreshCredits();
    creditsTimer = setInterval(refreshCredits, 15000);
  }
}

function signOut() {
  session.team = null;
  session.admin = null;
  flash("Signed out. Nothing of your session is kept in this browser.", "ok", true);
  navigate("/signin");
}

async function route() {
  for (const stop of cleanups) stop();
  cleanups = [];
  const { path, query } = parseHash();
  if (path === "/") {
    location.replace(`#${home()}`);
    return;
  }
  const match = ROUTES.map((r) => ({ r, m: r.pattern.exec(path) })).find(({ m }) => m);
  if (match && match.r.needs && !session[match.r.needs]) {
    location.replace(`#/signin?next=${encodeURIComponent(path)}`);
    return;
  }
  renderChrome(match?.r.nav ?? path);
  if (!keepFlash) replace(flashArea);
  keepFlash = false;
  const root = h("div", { class: "view" });
  replace(main, root);
  main.setAttribute("aria-busy", "true");
  const ctx = {
    query,
    navigate,
    flash,
    refreshCredits,
    announce,
    onCleanup: (stop) => cleanups.push(stop),
    setTitle: (title) => {
      document.title = `${title} · reelsmith console`;
    },
  };
  try {
    if (!match) {
      ctx.setTitle("Not found");
      replace(root, h("h1", { tabindex: "-1" }, "Page not found"), h("p", {}, h("a", { href: "#/" }, "Go to the console's start")));
    } else {
      ctx.setTitle(match.r.title ?? "Console");
      await match.r.view(root, match.m.slice(1), ctx);
    }
  } catch (error) {
    root.append(errorBox(error.message));
  } finally {
    main.removeAttribute("aria-busy");
  }
  // After a navigation, focus goes to the new page's heading so that screen readers start there.
  if (!firstRender) root.querySelector("h1")?.focus();
  firstRender = false;
}

// A banned team or a rotated key ends the session: say why on the sign-in page.
window.addEventListener("reelsmith:signed-out", (event) => {
  if (event.detail.auth === "team") session.team = null;
  if (event.detail.auth === "admin") session.admin = null;
  flash(event.detail.msg, "error", true);
  navigate(`/signin`);
});

document.getElementById("skip-link").addEventListener("click", (event) => {
  // The address's hash is the router's: move focus without changing it.
  event.preventDefault();
  main.focus();
});

window.addEventListener("hashchange", route);
route();
