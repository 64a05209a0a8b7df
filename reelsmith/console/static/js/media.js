// One input of a task (a picture, a video, a sound, captions): a file from this computer,
// uploaded when the form is sent, or a URL the server fetches itself.

import { upload } from "./api.js";
import { h, replace, uid } from "./dom.js";

const ACCEPT = {
  image: "image/png,image/jpeg",
  video: "video/mp4",
  audio: "audio/*",
  caption: ".srt,.ass",
};

/**
 * A fieldset with a file input and a URL input. `name` is the API field, for messages.
 * Returns {element, resolve(), onChange(fn), mediaDuration()}: resolve() uploads the chosen file
 * (once per file) and gives the URL to send, or "" when the input is empty and optional.
 */
export function mediaInput(kind, legend, { required = false, hint = "", name = "" } = {}) {
  const fileId = uid("file");
  const urlId = uid("url");
  const file = h("input", { type: "file", id: fileId, accept: ACCEPT[kind], "data-kind": kind });
  const url = h("input", { type: "url", id: urlId, placeholder: "https://…", inputmode: "url", spellcheck: "false" });
  const preview = h("div", { class: "preview" });
  const progress = h("progress", { max: "1", value: "0", hidden: true, "aria-label": `Upload of ${legend}` });
  const listeners = [];
  let uploaded = null; // {file, url}: a file is uploaded once, however often the form is sent
  let duration = null;
  let objectUrl = null;

  function showPreview(source) {
    if (objectUrl) URL.revokeObjectURL(objectUrl);
    objectUrl = null;
    duration = null;
    if (!source) {
      replace(preview);
      return;
    }
    if (kind === "image") {
      replace(preview, h("img", { src: source, alt: `Preview of the ${legend.toLowerCase()}` }));
    } else if (kind === "video") {
      const video = h("video", { src: source, controls: true, muted: true, preload: "metadata", playsinline: true, "aria-label": `Preview of the ${legend.toLowerCase()}` });
      video.addEventListener("loadedmetadata", () => {
        duration = Number.isFinite(video.duration) ? video.duration : null;
        for (const listener of listeners) listener();
      });
      replace(preview, video);
    } else if (kind === "audio") {
      replace(preview, h("audio", { src: source, controls: true, preload: "metadata" }));
    } else {
      replace(preview);
    }
  }

  file.addEventListener("change", () => {
    const chosen = file.files[0];
    if (chosen) {
      url.value = "";
      const local = URL.createObjectURL(chosen);
      showPreview(local);
      objectUrl = local;
    } else {
      showPreview(null);
    }
    for (const listener of listeners) listener();
  });
  url.addEventListener("change", () => {
    if (url.value.trim()) {
      file.value = "";
      showPreview(url.value.trim());
    }
    for (const listener of listeners) listener();
  });

  const hintNode = hint ? h("p", { class: "hint", id: uid("hint") }, hint) : null;
  const element = h(
    "fieldset",
    { class: "media-input", "aria-describedby": hintNode?.id, dataset: { field: name } },
    h("legend", {}, legend, required ? h("span", { class: "muted" }, " (required)") : h("span", { class: "muted" }, " (optional)")),
    hintNode,
    h(
      "div",
      { class: "sources" },
      h("div", { class: "field" }, h("label", { for: fileId }, "Upload a file"), file),
      h("p", { class: "or", "aria-hidden": "true" }, "or"),
      h("div", { class: "field" }, h("label", { for: urlId }, "Use a URL"), url),
    ),
    progress,
    preview,
  );

  // A file dropped anywhere on the box is taken as if chosen with the button.
  element.addEventListener("dragover", (event) => {
    event.preventDefault();
    element.classList.add("dragging");
  });
  element.addEventListener("dragleave", () => element.classList.remove("dragging"));
  element.addEventListener("drop", (event) => {
    event.preventDefault();
    element.classList.remove("dragging");
    if (!event.dataTransfer?.files.length) return;
    file.files = event.dataTransfer.files;
    file.dispatchEvent(new Event("change", { bubbles: true }));
  });

  async function resolve() {
    const chosen = file.files[0];
    if (chosen) {
      if (uploaded?.file === chosen) return uploaded.url;
      progress.hidden = false;
      progress.value = 0;
      try {
        const link = await upload(chosen, (fraction) => {
          progress.value = fraction;
        });
        uploaded = { file: chosen, url: link };
        return link;
      } finally {
        progress.hidden = true;
      }
    }
    const typed = url.value.trim();
    if (!typed && required) {
      file.focus();
      throw new Error(`${legend}: choose a file or give a URL`);
    }
    return typed;
  }

  return {
    element,
    resolve,
    onChange: (listener) => listeners.push(listener),
    mediaDuration: () => duration,
    isEmpty: () => !file.files[0] && !url.value.trim(),
  };
}
