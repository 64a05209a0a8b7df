// Building the page from data without innerHTML: every value lands as text or an attribute,
// never as markup, so nothing a task or a team holds can inject any.

const PROPERTIES = new Set(["value", "checked", "selected", "indeterminate", "muted"]);

/**
 * h("button", {class: "primary", onclick: go}, "Create") -> <button class="primary">Create</button>.
 * Props: `class`, `dataset`, `on<event>` handlers, `text`; form state (`value`, `checked`) is set as
 * a property; `true` makes an empty attribute and `false`/null/undefined leave it out.
 */
export function h(tag, props = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(props ?? {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "class") element.className = value;
    else if (name === "dataset") Object.assign(element.dataset, value);
    else if (name === "text") element.textContent = value;
    // Through the CSSOM: the console's Content-Security-Policy refuses style attributes.
    else if (name === "style") element.style.cssText = value;
    else if (name.startsWith("on") && typeof value === "function") element.addEventListener(name.slice(2), value);
    else if (PROPERTIES.has(name)) element[name] = value;
    else element.setAttribute(name, value === true ? "" : String(value));
  }
  append(element, children);
  return element;
}

function append(parent, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    parent.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces everything inside `parent` with `children`. */
export function replace(parent, ...children) {
  parent.replaceChildren();
  append(parent, children);
  return parent;
}

let unique = 0;
/** An id for tying a label, a hint or an error to its field. */
export function uid(prefix = "f") {
  unique += 1;
  return `${prefix}-${unique}`;
}

/** A labelled field: the label, the control, an optional hint tied by aria-describedby. */
export function field(label, control, hint = "") {
  const id = control.id || uid();
  control.id = id;
  const hintNode = hint ? h("p", { class: "hint", id: `${id}-hint` }, hint) : null;
  if (hintNode) control.setAttribute("aria-describedby", hintNode.id);
  return h("div", { class: "field" }, h("label", { for: id }, label), control, hintNode);
}

/** A fieldset with a legend, for groups of radios or checkboxes. */
export function group(legend, children, { hint = "", className = "" } = {}) {
  const hintNode = hint ? h("p", { class: "hint", id: uid("hint") }, hint) : null;
  return h(
    "fieldset",
    { class: `group ${className}`.trim(), "aria-describedby": hintNode?.id },
    h("legend", {}, legend),
    hintNode,
    children,
  );
}

/** A radio or checkbox with its label, in one clickable row. */
export function choice(type, name, value, label, { checked = false, detail = "", media = null } = {}) {
  const input = h("input", { type, name, value, checked, id: uid(name) });
  return h(
    "label",
    { class: `choice${media ? " with-media" : ""}`, for: input.id },
    input,
    media,
    h("span", { class: "choice-text" }, h("span", { class: "choice-label" }, label), detail ? h("span", { class: "choice-detail" }, detail) : null),
  );
}

/** A message for assistive technology through the page's polite live region. */
export function announce(message) {
  const region = document.getElementById("announcer");
  if (!region) return;
  region.textContent = "";
  // A new text node after a tick, so that repeating the same words is read again.
  setTimeout(() => {
    region.textContent = message;
  }, 50);
}

/** An error box (role=alert) with the API's own message. */
export function errorBox(message) {
  return h("div", { class: "notice error", role: "alert" }, message);
}
