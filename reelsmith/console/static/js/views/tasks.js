// The team's tasks, newest first, watched live: the list is read again every two seconds while
// the tab is visible. Rows are updated in place (a link that has focus keeps it), and changes of
// status are announced to screen readers.

import { get } from "../api.js";
import { errorBox, h, replace } from "../dom.js";
import { PRODUCTS, STATUS, ago, credits, shortId, when } from "../format.js";

const PAGE_SIZE = 20;
const POLL_MS = 2000;

/** A progress bar with its value for assistive technology. */
export function progressBar(status, progress, label) {
  const tone = status === 3 ? "ok" : status === 4 ? "failed" : "";
  const value = status === 3 ? 100 : progress;
  return h(
    "div",
    { class: "bar", role: "progressbar", "aria-valuemin": "0", "aria-valuemax": "100", "aria-valuenow": String(value), "aria-label": label },
    h("div", { class: "bar-track" }, h("div", { class: `bar-fill ${tone}`, style: `width: ${value}%` })),
    h("span", { class: "bar-value" }, `${value}%`),
  );
}

export function statusBadge(status) {
  const { label, tone } = STATUS[status] ?? { label: `Status ${status}`, tone: "" };
  return h("span", { class: `badge ${tone}`, dataset: { status: String(status) } }, label);
}

export async function render(root, _params, ctx) {
  ctx.setTitle("Tasks");
  const page = Math.max(1, Number(ctx.query.get("page") || 1));
  const body = h("tbody");
  const table = h(
    "table",
    { class: "stack tasks" },
    h("caption", { class: "visually-hidden" }, "Your tasks, newest first"),
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        ["Task", "Status", "Progress", "Cost", "Created", "Model", "Result"].map((name) => h("th", { scope: "col", class: name === "Cost" ? "num" : null }, name)),
      ),
    ),
    body,
  );
  const summary = h("p", { class: "lede" });
  const pager = h("nav", { class: "pager", "aria-label": "Pages of tasks" });
  const problem = h("div");
  const empty = h("p", { class: "empty", hidden: true }, "No tasks yet. ", h("a", { href: "#/create" }, "Create your first one"), ".");
  replace(
    root,
    h(
      "div",
      { class: "page-head" },
      h("div", {}, h("h1", { tabindex: "-1" }, "Tasks"), summary),
      h("a", { class: "button primary", href: "#/create" }, "New task"),
    ),
    problem,
    h("section", { class: "card flat-on-phone", "aria-label": "Task list" }, h("div", { class: "table-wrap" }, table), empty, pager),
  );

  const rows = new Map();
  const seen = new Map();
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
        const data = await get(`/api/reelsmith/v1/tasks?page=${page}&size=${PAGE_SIZE}`);
        if (stopped) return;
        replace(problem);
        show(data);
      } catch (error) {
        replace(problem, errorBox(error.message));
      }
    }
    timer = setTimeout(refresh, POLL_MS);
  }

  function show(data) {
    const pages = Math.max(1, Math.ceil(data.count / PAGE_SIZE));
    summary.textContent = `${data.count} ${data.count === 1 ? "task" : "tasks"} · page ${page} of ${pages} · updated live`;
    empty.hidden = data.count > 0;
    table.hidden = data.result.length === 0;
    const order = [];
    for (const task of data.result) {
      let row = rows.get(task._id);
      if (!row) {
        row = newRow(task);
        rows.set(task._id, row);
      }
      updateRow(row, task);
      order.push(row);
      const before = seen.get(task._id);
      if (before !== undefined && before !== task.status && (task.status === 3 || task.status === 4)) {
        ctx.announce(`${task.title} task ${shortId(task._id)} ${STATUS[task.status].label.toLowerCase()}`);
      }
      seen.set(task._id, task.status);
    }
    // Rows move only when the order changed: moving the row that holds focus would drop it.
    const current = [...body.children];
    if (current.length !== order.length || current.some((row, index) => row !== order[index])) replace(body, order);
    replace(
      pager,
      page > 1 ? h("a", { class: "button small", href: `#/tasks?page=${page - 1}` }, "Newer") : h("span"),
      h("span", { class: "muted small" }, `Page ${page} of ${pages}`),
      page < pages ? h("a", { class: "button small", href: `#/tasks?page=${page + 1}` }, "Older") : h("span"),
    );
  }

  function newRow(task) {
    const product = PRODUCTS[task.product];
    const link = h(
      "a",
      { href: product ? `#/tasks/${task.product}/${task._id}` : null, class: "cell-title" },
      task.title,
    );
    return h(
      "tr",
      { dataset: { task: task._id, product: task.product } },
      h("td", { "data-label": "Task" }, h("div", {}, link, h("span", { class: "cell-sub mono" }, shortId(task._id)))),
      h("td", { "data-label": "Status", class: "status" }),
      h("td", { "data-label": "Progress", class: "progress" }),
      h("td", { "data-label": "Cost", class: "num cost" }),
      h("td", { "data-label": "Created", class: "created" }),
      h("td", { "data-label": "Model", class: "model small" }),
      h("td", { "data-label": "Result", class: "result" }),
    );
  }

  function updateRow(row, task) {
    const key = `${task.status}/${task.progress}/${task.deduction_credit}`;
    const cell = (name) => row.querySelector(`td.${name}`);
    replace(cell("created"), h("time", { datetime: new Date(task.create_time).toISOString(), title: when(task.create_time) }, ago(task.create_time)));
    if (row.dataset.key === key) return;
    row.dataset.key = key;
    row.dataset.status = String(task.status);
    replace(
      cell("status"),
      h("div", {}, statusBadge(task.status), task.status === 4 ? h("span", { class: "cell-sub" }, task.error_reason) : null),
    );
    replace(cell("progress"), progressBar(task.status, task.progress, `Progress of ${task.title} task ${shortId(task._id)}`));
    replace(cell("cost"), credits(task.deduction_credit));
    replace(cell("model"), task.model_name || "—");
    const video = task.results?.video;
    replace(
      cell("result"),
      video
        ? h(
            "a",
            { href: video, download: task.info?.file_name || "", class: "button small", "aria-label": `Download the ${task.title} result ${shortId(task._id)}` },
            "Download",
          )
        : h("span", { class: "muted" }, task.status === 4 ? "Refunded" : "—"),
    );
  }

  await refresh();
}
