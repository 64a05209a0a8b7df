// Sign-in: a team with its clientId and API key, an operator with the admin token.

import { session, signInOperator, signInTeam } from "../api.js";
import { errorBox, field, h, replace } from "../dom.js";

export async function render(root, _params, ctx) {
  ctx.setTitle("Sign in");
  const next = ctx.query.get("next");

  const teamError = h("div");
  const teamForm = h(
    "form",
    { class: "card", "aria-labelledby": "team-signin-title", novalidate: false },
    h("h2", { id: "team-signin-title" }, "Team"),
    h("p", { class: "muted small" }, "Create and follow your tasks, play and download results, see credits and webhooks."),
    teamError,
    field(
      "Client ID",
      h("input", { type: "text", name: "clientId", required: true, autocomplete: "username", spellcheck: "false", minlength: 16, maxlength: 16 }),
      "16 characters, from your team's credentials.",
    ),
    field(
      "API key",
      h("input", { type: "password", name: "apiKey", required: true, autocomplete: "current-password", minlength: 32, maxlength: 32 }),
      "Exchanged for a token at once; the token is kept in this tab only.",
    ),
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, "Sign in as a team")),
  );
  teamForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(teamForm);
    const button = teamForm.querySelector("button[type=submit]");
    button.disabled = true;
    replace(teamError);
    try {
      await signInTeam(String(data.get("clientId")).trim(), String(data.get("apiKey")).trim());
      ctx.navigate(next && !next.startsWith("/operator") ? next : "/create");
    } catch (error) {
      replace(teamError, errorBox(error.message));
      teamForm.querySelector("input[name=apiKey]").focus();
    } finally {
      button.disabled = false;
    }
  });

  const adminError = h("div");
  const adminForm = h(
    "form",
    { class: "card", "aria-labelledby": "operator-signin-title" },
    h("h2", { id: "operator-signin-title" }, "Operator"),
    h("p", { class: "muted small" }, "Manage teams and watch queues, workers, failures and credits."),
    adminError,
    field(
      "Admin token",
      h("input", { type: "password", name: "adminToken", required: true, autocomplete: "off" }),
      "The server's REELSMITH_ADMIN_TOKEN.",
    ),
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, "Sign in as operator")),
  );
  adminForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = adminForm.querySelector("button[type=submit]");
    button.disabled = true;
    replace(adminError);
    try {
      await signInOperator(String(new FormData(adminForm).get("adminToken")).trim());
      ctx.navigate(next && next.startsWith("/operator") ? next : "/operator");
    } catch (error) {
      replace(adminError, errorBox(error.message));
      adminForm.querySelector("input[name=adminToken]").focus();
    } finally {
      button.disabled = false;
    }
  });

  const signedIn = [];
  if (session.team) signedIn.push(`the team ${session.team.clientId}`);
  if (session.admin) signedIn.push("the operator");

  replace(
    root,
    h(
      "div",
      { class: "signin" },
      h(
        "div",
        { class: "intro" },
        h("h1", { tabindex: "-1" }, "Sign in to reelsmith"),
        h("p", {}, "Character Swap, Video Translation and Image to Video on your own servers. Credentials stay in this browser tab and are gone when it closes."),
        signedIn.length ? h("p", { class: "small" }, `Signed in as ${signedIn.join(" and ")}.`) : null,
      ),
      h("div", { class: "grid-2" }, teamForm, adminForm),
    ),
  );
}
