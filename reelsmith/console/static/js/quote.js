// Before every create: the quote (price, balance, expected time, what the inputs hold, warnings)
// in a modal dialog that asks to go ahead. Where the server offers no quote, the dialog says so
// and the task can still be created.

import { h } from "./dom.js";
import { credits, duration, number } from "./format.js";

/** A definition list of any JSON value, nested objects as nested lists. */
export function facts(value) {
  const list = h("dl", { class: "facts" });
  for (const [key, item] of Object.entries(value ?? {})) {
    list.append(h("dt", {}, key.replaceAll("_", " ")), h("dd", {}, describe(item)));
  }
  return list;
}

function describe(item) {
  if (item === null || item === undefined || item === "") return "—";
  if (typeof item === "boolean") return item ? "yes" : "no";
  if (typeof item === "number") return number(Math.round(item * 100) / 100);
  if (Array.isArray(item)) return item.every((v) => typeof v !== "object") ? item.join(", ") : item.map((v) => h("div", {}, describe(v)));
  if (typeof item === "object") return facts(item);
  return String(item);
}

/** Shows the quote and resolves to true when the user chooses to create the task. */
export function confirmCreate({ title, quote }) {
  return new Promise((resolve) => {
    const headingId = "quote-title";
    const create = h("button", { type: "button", class: "primary", value: "create" }, "Create task");
    const back = h("button", { type: "button", value: "back" }, "Back to the form");
    const body = [];
    if ("unavailable" in quote) {
      body.push(
        h(
          "div",
          { class: "notice warn", dataset: { quote: "unavailable" } },
          h("p", {}, h("strong", {}, "No quote available"), quote.unavailable ? `: ${quote.unavailable}` : ": this server gives no quote yet."),
          h("p", { class: "small" }, "The price is charged when the task is created and refunded if it fails."),
        ),
      );
    } else {
      const after = quote.balance - quote.credit;
      body.push(
        h(
          "dl",
          { class: "stats", dataset: { quote: "ready" } },
          h("div", { class: "stat" }, h("dt", {}, "Price"), h("dd", { id: "quote-credit" }, credits(quote.credit))),
          h("div", { class: "stat" }, h("dt", {}, "Balance after"), h("dd", {}, credits(Math.max(after, 0)))),
          h(
            "div",
            { class: "stat" },
            h("dt", {}, "Expected time"),
            h("dd", {}, `≈ ${duration(quote.expected_seconds)}`),
          ),
          h("div", { class: "stat" }, h("dt", {}, "Tasks ahead"), h("dd", {}, number(quote.queue_ahead))),
        ),
        quote.tasks > 1 ? h("p", { class: "small" }, `This makes ${number(quote.tasks)} tasks; the price and the time are for all of them.`) : null,
        h(
          "p",
          { class: "hint" },
          quote.expected_from === "history" ? "The time is measured from this server's recent tasks." : "The time is an estimate from defaults (this server has no history for it yet).",
        ),
      );
      if (!quote.affordable) {
        create.disabled = true;
        body.push(h("div", { class: "notice error", role: "alert" }, `Not enough credits: this task needs ${credits(quote.credit)} and the balance is ${credits(quote.balance)}.`));
      }
      if (quote.warnings?.length) {
        body.push(h("div", { class: "notice warn" }, h("p", {}, h("strong", {}, "Warnings")), h("ul", {}, quote.warnings.map((w) => h("li", {}, w)))));
      }
      if (quote.inputs && Object.keys(quote.inputs).length) {
        body.push(h("details", { class: "more" }, h("summary", {}, "What the inputs hold"), facts(quote.inputs)));
      }
    }
    const dialog = h(
      "dialog",
      { "aria-labelledby": headingId, class: "quote" },
      h("h2", { id: headingId }, title),
      body,
      h("div", { class: "actions" }, create, back),
    );
    function finish(answer) {
      dialog.close();
      dialog.remove();
      resolve(answer);
    }
    create.addEventListener("click", () => finish(true));
    back.addEventListener("click", () => finish(false));
    dialog.addEventListener("cancel", (event) => {
      event.preventDefault();
      finish(false);
    });
    document.body.append(dialog);
    dialog.showModal();
    (create.disabled ? back : create).focus();
  });
}
