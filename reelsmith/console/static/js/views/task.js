// One task: its status and progress (read live from infobymodelid), the result beside its source,
// captions from the SRTs, downloads, the details, and the webhook deliveries with every attempt.

import { get, post } from "../api.js";
import { errorBox, h, replace } from "../dom.js";
import { PRODUCTS, STATUS, credits, duration, when } from "../format.js";
import { progressBar, statusBadge } from "./tasks.js";

const POLL_MS = 1500;
const EVENTS = { 2: "Processing", 3: "Completed", 4: "Failed" };
const AUDIO_TYPES = { 1: "Generated", 2: "Your sound track", 3: "None" };

export async function render(root, [product, id], ctx) {
  const meta = PRODUCTS[product];
  if (!meta) throw new Error(`There is no product called ${product}.`);
  ctx.setTitle(`${meta.title} task`);

  const statusArea = h("div", { class: "status-row" });
  // What a screen reader hears when the status or the progress changes.
  const statusText = h("p", { class: "visually-hidden", "aria-live": "polite", id: "task-status-text" });
  const failure = h("div");
  const result = h("div");
  const downloads = h("div");
  const details = h("div");
  const deliveries = h("div");
  const problem = h("div");
  const lede = h("p", { class: "lede mono" }, id);
  replace(
    root,
    h("p", {}, h("a", { href: "#/tasks" }, "← All tasks")),
    h("div", { class: "page-head" }, h("div", {}, h("h1", { tabindex: "-1" }, `${meta.title} task`), lede)),
    problem,
    h("section", { class: "card", "aria-labelledby": "status-title" }, h("h2", { id: "status-title", class: "visually-hidden" }, "Status"), statusArea, statusText, failure),
    h(
      "section",
      { class: "card", "aria-labelledby": "result-title" },
      h("div", { class: "card-head" }, h("h2", { id: "result-title" }, "Result"), downloads),
      result,
    ),
    h("div", { class: "grid-2" },
      h("section", { class: "card", "aria-labelledby": "details-title" }, h("h2", { id: "details-title" }, "Details"), details),
      h("section", { class: "card", "aria-labelledby": "deliveries-title" }, h("h2", { id: "deliveries-title" }, "Webhook deliveries"), deliveries),
    ),
  );

  let info = null;
  let shownStatus = null;
  let stopped = false;
  let timer = null;
  let watchDeliveries = true;
  const blobs = [];
  ctx.onCleanup(() => {
    stopped = true;
    clearTimeout(timer);
    for (const url of blobs) URL.revokeObjectURL(url);
  });

  async function loadInfo() {
    info = await get(`/api/open/v3/content/video/infobymodelid?video_model_id=${encodeURIComponent(id)}`);
    const status = info.video_status ?? info.status;
    const progress = status === 3 ? 100 : info.progress ?? 0;
    replace(
      statusArea,
      statusBadge(status),
      h("div", { class: "spacer" }, progressBar(status, progress, "Task progress")),
      h("span", { class: "small muted" }, `Cost ${credits(info.deduction_credit)}${status === 4 ? " (refunded)" : ""}`),
    );
    statusText.textContent = `${STATUS[status]?.label ?? status}${status === 2 ? `: ${progress}%` : ""}`;
    lede.textContent = `${id} · created ${when(info.create_time)}`;
    if (status !== shownStatus) {
      shownStatus = status;
      const reason = info.faceswap_fail_reason ?? info.error_reason;
      replace(failure, status === 4 ? errorBox(reason || "The task failed.") : null);
      await showResult(status);
      replace(details, facts(product, info));
      if (status === 3 || status === 4) ctx.refreshCredits();
    }
    return status;
  }

  async function showResult(status) {
    const done = status === 3;
    const waiting = h("div", { class: "placeholder" }, status === 4 ? "No result: the task failed." : "The result appears here when the task completes.");
    if (product === "image2video") {
      replace(
        result,
        h(
          "div",
          { class: "players" },
          figure("Picture", h("img", { src: info.image_url, alt: "The picture the video starts from" })),
          figure("Result", done ? video(info.video_url, { poster: info.cover_url, label: "The generated video" }) : waiting),
        ),
      );
      replace(downloads, links([["Video", info.video_url, info.file_name], ["Cover", info.cover_url]]));
    } else if (product === "character_swap") {
      const source = video(info.video_url, { label: "The source video", muted: true });
      const output = done ? video(info.video, { label: "The swapped video" }) : waiting;
      const both = done ? h("div", { class: "toolbar" }, syncButton(source, output)) : null;
      replace(result, h("div", { class: "players" }, figure("Source video", source), figure("Result", output)), both);
      replace(downloads, links([["Video", info.video, info.file_name]]));
    } else {
      const splits = info.audio_splits ?? {};
      const source = video(info.target_video, { label: "The original video" });
      if (!done) {
        replace(result, h("div", { class: "players" }, figure("Original", source), figure("Translated", waiting)));
        replace(downloads);
        return;
      }
      const output = video(info.video, { label: "The translated video" });
      const tracks = await captionTracks(splits, info);
      for (const player of [source, output]) {
        for (const track of tracks) player.append(h("track", { kind: "subtitles", src: track.src, srclang: track.lang, label: track.label }));
      }
      const controls = captionControls([source, output], tracks);
      const version = splits.no_caption_video_url ? versionControls(output, info.video, splits.no_caption_video_url) : null;
      replace(
        result,
        h("div", { class: "players" }, figure("Original", source), figure("Translated", output)),
        h("div", { class: "toolbar" }, controls, version, syncButton(source, output)),
      );
      replace(
        downloads,
        links([
          ["Video", info.video, `translated-${info.language}.mp4`],
          ["Without burned-in captions", splits.no_caption_video_url],
          ["Original captions (SRT)", splits.original_srt_url],
          ["Translated captions (SRT)", splits.translated_srt_url],
        ]),
      );
    }
  }

  /** The SRTs as WebVTT (what <track> reads), made in the browser from the task's SRT files. */
  async function captionTracks(splits, task) {
    const wanted = [
      [splits.original_srt_url, task.translation_report?.source_language || task.source_language, "Original"],
      [splits.translated_srt_url, task.language, "Translated"],
    ];
    const tracks = [];
    for (const [url, lang, label] of wanted) {
      if (!url) continue;
      try {
        const response = await fetch(url);
        if (!response.ok) continue;
        const vtt = srtToVtt(await response.text());
        const src = URL.createObjectURL(new Blob([vtt], { type: "text/vtt" }));
        blobs.push(src);
        const code = lang && lang !== "DEFAULT" ? lang : "und";
        tracks.push({ src, lang: code, label: `${label} (${code})`, kind: label.toLowerCase() });
      } catch {
        // Captions are a nicety: the video plays without them.
      }
    }
    return tracks;
  }

  async function loadDeliveries() {
    if (!info?.webhookUrl) {
      replace(deliveries, h("p", { class: "muted" }, "This task has no webhook URL: nothing is delivered."));
      return false;
    }
    const data = await get(`/api/reelsmith/v1/tasks/${id}/deliveries`);
    showDeliveries(data.result);
    return data.result.some((d) => d.state === "pending");
  }

  function showDeliveries(list) {
    if (!list.length) {
      replace(deliveries, h("p", { class: "muted" }, `Nothing sent yet to ${info.webhookUrl}; deliveries start when the task finishes.`));
      return;
    }
    const rows = list.map((d) =>
      h(
        "tr",
        { dataset: { delivery: String(d._id), state: d.state } },
        h("td", { "data-label": "Delivery" }, h("span", { class: "cell-title" }, `#${d._id}`), h("span", { class: "cell-sub" }, EVENTS[d.event] ?? `status ${d.event}`)),
        h("td", { "data-label": "State" }, h("span", { class: `badge ${d.state === "delivered" ? "ok" : d.state}` }, d.state)),
        h("td", { "data-label": "Attempts" }, attempts(d)),
        h(
          "td",
          { "data-label": "Action" },
          h("button", { type: "button", class: "small", onclick: () => redeliver(d), "aria-label": `Redeliver #${d._id}` }, "Redeliver"),
        ),
      ),
    );
    replace(
      deliveries,
      h("p", { class: "small muted mono" }, info.webhookUrl),
      h(
        "div",
        { class: "table-wrap" },
        h(
          "table",
          { class: "stack deliveries" },
          h("caption", { class: "visually-hidden" }, "Webhook deliveries of this task"),
          h("thead", {}, h("tr", {}, ["Delivery", "State", "Attempts", "Action"].map((n) => h("th", { scope: "col" }, n)))),
          h("tbody", {}, rows),
        ),
      ),
    );
  }

  async function redeliver(delivery) {
    try {
      const fresh = await post(`/api/reelsmith/v1/deliveries/${delivery._id}/redeliver`);
      ctx.flash(`Delivery #${delivery._id} is sent again as #${fresh._id}.`, "ok");
      watchDeliveries = true;
      clearTimeout(timer);
      await tick();
    } catch (error) {
      ctx.flash(error.message, "error");
    }
  }

  async function tick() {
    if (stopped) return;
    let again = false;
    try {
      const status = shownStatus === 3 || shownStatus === 4 ? shownStatus : await loadInfo();
      const final = status === 3 || status === 4;
      if (watchDeliveries) {
        const pending = await loadDeliveries();
        watchDeliveries = !final || pending;
      }
      again = !final || watchDeliveries;
      replace(problem);
    } catch (error) {
      replace(problem, errorBox(error.message));
      again = true;
    }
    if (again && !stopped) timer = setTimeout(tick, POLL_MS);
  }

  await tick();
}

function figure(caption, media) {
  return h("figure", { class: "player" }, media, h("figcaption", {}, caption));
}

function video(src, { poster = null, label, muted = false } = {}) {
  // "auto": this page is where the videos are watched, and side by side they should start together.
  return h("video", { src, poster, controls: true, preload: "auto", playsinline: true, muted, "aria-label": label });
}

function links(items) {
  const present = items.filter(([, url]) => url);
  if (!present.length) return null;
  return h(
    "ul",
    { class: "downloads", "aria-label": "Downloads" },
    present.map(([label, url, name]) =>
      h("li", {}, h("a", { class: "button small", href: url, download: name || "" }, `Download ${label[0].toLowerCase()}${label.slice(1)}`)),
    ),
  );
}

/** Plays (or pauses) the source and the result together, from the same moment. */
function syncButton(first, second) {
  const button = h("button", { type: "button", class: "small" }, "Play both together");
  button.addEventListener("click", () => {
    if (!first.paused || !second.paused) {
      first.pause();
      second.pause();
      button.textContent = "Play both together";
      return;
    }
    first.currentTime = 0;
    second.currentTime = 0;
    first.play().catch(() => {});
    second.play().catch(() => {});
    button.textContent = "Pause both";
  });
  return button;
}

/**
 * Which caption track the players show: none, the original or the translated one on both, or each
 * player its own language (the original video the original captions, the translation its own).
 */
function captionControls(players, tracks) {
  if (!tracks.length) return null;
  const kinds = tracks.map((t) => t.kind);
  const select = h(
    "select",
    { id: "captions-choice" },
    h("option", { value: "" }, "Off"),
    tracks.map((t) => h("option", { value: t.kind }, `${t.kind === "original" ? "Original" : "Translated"} captions (${t.lang})`)),
    kinds.length === 2 ? h("option", { value: "each" }, "Each video in its language") : null,
  );
  select.addEventListener("change", () => {
    players.forEach((player, playerIndex) => {
      const wanted = select.value === "each" ? kinds[playerIndex] : select.value;
      [...player.textTracks].forEach((track, index) => {
        track.mode = kinds[index] === wanted ? "showing" : "disabled";
      });
    });
  });
  return h("div", { class: "inline-field" }, h("label", { for: select.id }, "Captions"), select);
}

/** The result as made, or without its burned-in captions (then the tracks can show them). */
function versionControls(player, made, clean) {
  const select = h(
    "select",
    { id: "version-choice" },
    h("option", { value: made }, "As made"),
    h("option", { value: clean }, "Without burned-in captions"),
  );
  select.addEventListener("change", () => {
    const at = player.currentTime;
    player.src = select.value;
    player.currentTime = at;
  });
  return h("div", { class: "inline-field" }, h("label", { for: select.id }, "Version"), select);
}

function attempts(delivery) {
  const history = delivery.history ?? [];
  const summary = `${delivery.attempts} ${delivery.attempts === 1 ? "attempt" : "attempts"}${delivery.last_status ? ` · last HTTP ${delivery.last_status}` : ""}`;
  if (!history.length) {
    const next = delivery.next_attempt_at ? ` · next ${when(delivery.next_attempt_at)}` : "";
    return h("span", { class: "small" }, summary + next);
  }
  return h(
    "details",
    {},
    h("summary", { class: "small" }, summary),
    h(
      "ol",
      { class: "attempts" },
      history.map((a) =>
        h("li", {}, `${when(a.at)}: ${a.status_code ? `HTTP ${a.status_code}` : "no answer"}${a.error ? ` (${a.error})` : ""} in ${a.ms ?? "?"} ms`),
      ),
    ),
  );
}

function facts(product, info) {
  const rows = [
    ["Task ID", h("span", { class: "mono" }, info._id)],
    ["Created", when(info.create_time)],
    ["Updated", when(info.update_time)],
    ["Cost", credits(info.deduction_credit)],
  ];
  if (product === "image2video") {
    rows.push(
      ["Model", info.model_name || "—"],
      ["Effect", info.effect_name || "—"],
      ["Prompt", info.prompt || "—"],
      ["Negative prompt", info.negative_prompt || "—"],
      ["Resolution", info.resolution],
      ["Length", duration(info.video_duration)],
      ["Sound", AUDIO_TYPES[info.audio_type] ?? String(info.audio_type)],
    );
    if (info.batch_id) rows.push(["Batch", `${info.batch_id} (${info.batch_count})`]);
  } else if (product === "character_swap") {
    rows.push(
      ["Character", h("img", { src: info.image_url, alt: "The character picture", class: "thumb" })],
      ["Mode", info.mode],
      ["Resolution", info.resolution],
      ["Duration", duration(info.video_duration)],
      ["Prompt", info.prompt || "—"],
    );
  } else {
    rows.push(
      ["Languages", `${info.source_language === "DEFAULT" ? "detected" : info.source_language} → ${info.language}`],
      ["Lip-sync", info.lipsync ? "yes" : "no"],
      ["Speakers", info.speaker_num ? String(info.speaker_num) : "detected"],
      ["Source length", duration(info.video_lock_duration)],
    );
  }
  rows.push(["Webhook", info.webhookUrl || "—"]);
  return [
    h("dl", { class: "facts" }, rows.map(([name, value]) => [h("dt", {}, name), h("dd", {}, value)])),
    h("details", { class: "more" }, h("summary", {}, "Everything the API says (infobymodelid)"), h("pre", {}, JSON.stringify(info, null, 2))),
  ];
}

/** SRT to WebVTT: a header, and a dot instead of a comma before the milliseconds. */
export function srtToVtt(srt) {
  const body = srt.replace(/^\uFEFF/, "").replace(/\r/g, "").replace(/(\d{2}:\d{2}:\d{2}),(\d{3})/g, "$1.$2");
  return `WEBVTT\n\n${body}`;
}
