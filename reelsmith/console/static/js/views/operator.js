// The operator's pages: the overview (queues, workers, failures, credits; read again every five
// seconds) and the teams (create, top up, change plan, ban or unban, rotate the key), through
// the admin API with the admin token.

import { get, post } from "../api.js";
import { errorBox, field, h, replace } from "../dom.js";
import { PRODUCTS, ago, duration, number, when } from "../format.js";

const ADMIN = { auth: "admin" };
const OVERVIEW_MS = 5000;

export async function renderOverview(root, _params, ctx) {
  ctx.setTitle("Operator overview");
  const updated = h("p", { class: "lede", "aria-live": "off" });
  const content = h("div");
  replace(
    root,
    h(
      "div",
      { class: "page-head" },
      h("div", {}, h("h1", { tabindex: "-1" }, "Operator overview"), updated),
      h("a", { class: "button", href: "#/operator/teams" }, "Manage teams"),
    ),
    content,
  );
  let timer = null;
  let stopped = false;
  ctx.onCleanup(() => {
    stopped = true;
    clearTimeout(timer);
  });

  async function refresh() {
    if (stopped) return;
    if (!document.hidden) {
      try {
        const data = await get("/api/reelsmith/v1/admin/overview", ADMIN);
        if (stopped) return;
        replace(content, overview(data));
        updated.textContent = `Updated ${new Date().toLocaleTimeString()} · refreshed every ${OVERVIEW_MS / 1000} s`;
      } catch (error) {
        replace(
          content,
          h(
            "div",
            { class: "notice warn", dataset: { overview: "unavailable" } },
            h("p", {}, h("strong", {}, "No overview available"), error.status === 404 ? ": this server does not offer /api/reelsmith/v1/admin/overview yet." : `: ${error.message}`),
            h("p", {}, "Teams can still be managed: ", h("a", { href: "#/operator/teams" }, "go to the teams"), "."),
          ),
        );
        updated.textContent = "";
      }
    }
    timer = setTimeout(refresh, OVERVIEW_MS);
  }
  await refresh();
}

function overview(data) {
  const tasks = data.tasks_last_day ?? {};
  const money = data.credits ?? {};
  const queues = data.queues ?? [];
  const workers = data.workers ?? [];
  const failures = data.failures_last_day ?? [];
  return [
    h(
      "div",
      { class: "grid-2" },
      h(
        "section",
        { class: "card", "aria-labelledby": "tasks-day" },
        h("h2", { id: "tasks-day" }, "Tasks, last 24 hours"),
        stats([["Created", tasks.created], ["Completed", tasks.completed], ["Failed", tasks.failed]]),
      ),
      h(
        "section",
        { class: "card", "aria-labelledby": "credits-day" },
        h("h2", { id: "credits-day" }, "Credits, last 24 hours"),
        stats([
          ["Charged", money.charged_last_day, `${number(money.charged_total)} in all`],
          ["Refunded", money.refunded_last_day, `${number(money.refunded_total)} in all`],
        ]),
      ),
    ),
    h(
      "section",
      { class: "card", "aria-labelledby": "queues-title" },
      h("h2", { id: "queues-title" }, "Queues"),
      table(
        "Queue depth and age per engine",
        ["Engine", "Queued", "Running", "Oldest queued"],
        queues.map((q) => ({
          cells: [h("span", { class: "mono" }, q.engine), number(q.queued), number(q.running), q.queued ? `${duration(q.oldest_queued_seconds)} ago` : "—"],
          numeric: [1, 2],
          highlight: q.queued > 0,
          data: { engine: q.engine },
        })),
        "No tasks are queued or running.",
      ),
    ),
    h(
      "section",
      { class: "card", "aria-labelledby": "workers-title" },
      h("h2", { id: "workers-title" }, "Workers"),
      table(
        "Live workers and what they run",
        ["Worker", "Host", "PID", "Engines", "Running", "Last seen"],
        workers.map((w) => ({
          cells: [
            h("span", { class: "mono" }, w.id),
            w.host,
            String(w.pid ?? "—"),
            (w.engines ?? []).join(", "),
            w.running_task ? h("span", { class: "mono" }, w.running_task) : h("span", { class: "muted" }, "idle"),
            `${duration(w.last_seen_seconds)} ago`,
          ],
        })),
        "No worker has been seen lately.",
      ),
    ),
    h(
      "section",
      { class: "card", "aria-labelledby": "failures-title" },
      h("h2", { id: "failures-title" }, "Failures, last 24 hours"),
      table(
        "Failure reasons of the last day",
        ["Reason", "Product", "Tasks"],
        failures.map((f) => ({ cells: [f.reason, PRODUCTS[f.product]?.title ?? f.product, number(f.count)], numeric: [2] })),
        "No task failed in the last day.",
      ),
    ),
  ];
}

function stats(items) {
  return h(
    "dl",
    { class: "stats" },
    items.map(([label, value, sub]) =>
      h("div", { class: "stat" }, h("dt", {}, label), h("dd", {}, number(value), sub ? h("span", { class: "stat-sub" }, sub) : null)),
    ),
  );
}

function table(caption, headers, rows, emptyText) {
  if (!rows.length) return h("p", { class: "muted" }, emptyText);
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      { class: "stack" },
      h("caption", { class: "visually-hidden" }, caption),
      h("thead", {}, h("tr", {}, headers.map((name, index) => h("th", { scope: "col", class: rows[0].numeric?.includes(index) ? "num" : null }, name)))),
      h(
        "tbody",
        {},
        rows.map((row) =>
          h(
            "tr",
            { class: row.highlight ? "highlight" : null, dataset: row.data },
            row.cells.map((cell, index) => h("td", { "data-label": headers[index], class: row.numeric?.includes(index) ? "num" : null }, cell)),
          ),
        ),
      ),
    ),
  );
}

// --- teams --------------------------------------------------------------------------------

export async function renderTeams(root, _params, ctx) {
  ctx.setTitle("Teams");
  const problem = h("div", { tabindex: "-1" });
  const list = h("div");
  const createForm = newTeamForm(async (team) => {
    showSecret("Team created", team.clientId, team.apiKey);
    await load();
  }, problem);
  replace(
    root,
    h(
      "div",
      { class: "page-head" },
      h("div", {}, h("h1", { tabindex: "-1" }, "Teams"), h("p", { class: "lede" }, "Each team has a clientId and an API key, a plan and a credit balance.")),
      h("a", { class: "button", href: "#/operator" }, "Overview"),
    ),
    problem,
    h("section", { class: "card", "aria-labelledby": "teams-title" }, h("h2", { id: "teams-title" }, "All teams"), list),
    createForm,
  );

  async function act(action, done) {
    replace(problem);
    try {
      const answer = await action();
      if (done) ctx.flash(done(answer), "ok");
      await load();
      return answer;
    } catch (error) {
      replace(problem, errorBox(error.message));
      problem.focus();
      return null;
    }
  }

  function row(team) {
    const name = team.name || team.clientId;
    const amount = h("input", { type: "number", name: "credits", step: "1", value: "100", class: "topup-amount", "aria-label": `Credits to add to ${name}` });
    const topUp = h(
      "form",
      { class: "row topup", "aria-label": `Top up ${name}` },
      amount,
      h("button", { type: "submit", class: "small" }, "Top up"),
    );
    topUp.addEventListener("submit", (event) => {
      event.preventDefault();
      act(
        () => post(`/api/reelsmith/v1/admin/accounts/${team.clientId}/topup`, { credits: Number(amount.value) }, ADMIN),
        (t) => `${name} now has ${number(t.credit)} credits.`,
      );
    });
    const otherPlan = team.plan === "pro" ? "free" : "pro";
    return h(
      "tr",
      { dataset: { team: team.clientId } },
      h(
        "td",
        { "data-label": "Team" },
        h("span", { class: team.name ? "cell-title" : "cell-title mono" }, name),
        team.name ? h("span", { class: "cell-sub mono" }, team.clientId) : null,
      ),
      h("td", { "data-label": "Plan" }, h("span", { class: "badge plain" }, team.plan)),
      h("td", { "data-label": "Credits", class: "num credit" }, number(team.credit)),
      h("td", { "data-label": "State" }, team.banned ? h("span", { class: "badge failed" }, "Banned") : h("span", { class: "badge ok" }, "Active")),
      h("td", { "data-label": "Created" }, h("time", { title: when(team.create_time) }, ago(team.create_time))),
      h("td", { "data-label": "Top up" }, topUp),
      h(
        "td",
        { "data-label": "Actions" },
        h(
          "div",
          { class: "row" },
          h(
            "button",
            {
              type: "button",
              class: "small",
              "aria-label": `Move ${name} to the ${otherPlan} plan`,
              onclick: () => act(() => post(`/api/reelsmith/v1/admin/accounts/${team.clientId}/plan`, { plan: otherPlan }, ADMIN), () => `${name} is on the ${otherPlan} plan.`),
            },
            `Make ${otherPlan}`,
          ),
          h(
            "button",
            {
              type: "button",
              class: team.banned ? "small" : "small danger",
              "aria-label": `${team.banned ? "Unban" : "Ban"} ${name}`,
              onclick: () => act(() => post(`/api/reelsmith/v1/admin/accounts/${team.clientId}/${team.banned ? "unban" : "ban"}`, {}, ADMIN), () => `${name} is ${team.banned ? "unbanned" : "banned"}.`),
            },
            team.banned ? "Unban" : "Ban",
          ),
          h(
            "button",
            {
              type: "button",
              class: "small",
              "aria-label": `Rotate ${name}'s API key`,
              onclick: async () => {
                if (!window.confirm(`Rotate ${name}'s API key? The old key and its tokens stop working at once.`)) return;
                const creds = await act(() => post(`/api/reelsmith/v1/admin/accounts/${team.clientId}/rotate-key`, {}, ADMIN));
                if (creds) showSecret(`New key for ${name}`, creds.clientId, creds.apiKey);
              },
            },
            "Rotate key",
          ),
        ),
      ),
    );
  }

  async function load() {
    const data = await get("/api/reelsmith/v1/admin/accounts", ADMIN);
    if (!data.result.length) {
      replace(list, h("p", { class: "muted" }, "No teams yet: create the first one below."));
      return;
    }
    replace(
      list,
      h(
        "div",
        { class: "table-wrap" },
        h(
          "table",
          { class: "stack teams" },
          h("caption", { class: "visually-hidden" }, "Teams"),
          h("thead", {}, h("tr", {}, ["Team", "Plan", "Credits", "State", "Created", "Top up", "Actions"].map((n) => h("th", { scope: "col", class: n === "Credits" ? "num" : null }, n)))),
          h("tbody", {}, data.result.map(row)),
        ),
      ),
    );
  }

  await load();
}

function newTeamForm(created, problem) {
  const form = h(
    "form",
    { class: "card", "aria-labelledby": "new-team-title" },
    h("h2", { id: "new-team-title" }, "New team"),
    h(
      "div",
      { class: "form-grid" },
      field("Name", h("input", { type: "text", name: "name", maxlength: 200 })),
      field("Plan", h("select", { name: "plan" }, h("option", { value: "free" }, "Free"), h("option", { value: "pro" }, "Pro"))),
      field("Credits", h("input", { type: "number", name: "credits", min: 0, step: 1, value: "0" })),
    ),
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, "Create team")),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    replace(problem);
    try {
      const team = await post(
        "/api/reelsmith/v1/admin/accounts",
        { name: String(data.get("name")).trim(), plan: data.get("plan"), credits: Number(data.get("credits") || 0) },
        ADMIN,
      );
      form.reset();
      await created(team);
    } catch (error) {
      replace(problem, errorBox(error.message));
      problem.focus();
    }
  });
  return form;
}

/** The new credentials, shown once, with copy buttons. */
function showSecret(title, clientId, apiKey) {
  const copy = (value, what) =>
    h(
      "button",
      {
        type: "button",
        class: "small",
        "aria-label": `Copy the ${what}`,
        onclick: (event) => navigator.clipboard?.writeText(value).then(() => {
          event.target.textContent = "Copied";
        }),
      },
      "Copy",
    );
  const close = h("button", { type: "button", class: "primary" }, "Done");
  const dialog = h(
    "dialog",
    { "aria-labelledby": "secret-title" },
    h("h2", { id: "secret-title" }, title),
    h("p", { class: "notice warn" }, "The API key is shown only now: give it to the team through a safe channel."),
    h("p", { class: "small" }, "Client ID"),
    h("div", { class: "secret" }, h("code", { id: "new-client-id" }, clientId), copy(clientId, "client ID")),
    h("p", { class: "small" }, "API key"),
    h("div", { class: "secret" }, h("code", { id: "new-api-key" }, apiKey), copy(apiKey, "API key")),
    h("div", { class: "actions" }, close),
  );
  close.addEventListener("click", () => {
    dialog.close();
    dialog.remove();
  });
  dialog.addEventListener("close", () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
  close.focus();
}
