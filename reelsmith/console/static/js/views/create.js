// Creating a task of each product with every option of its Akool endpoint. The inputs are files
// (uploaded through /api/reelsmith/v1/upload) or URLs; before anything is charged the quote is
// shown (quote.js), then the Akool create endpoint is called as any client would.

import { call, get, quote } from "../api.js";
import { choice, errorBox, field, group, h, replace, uid } from "../dom.js";
import { credits as creditsText } from "../format.js";
import { mediaInput } from "../media.js";
import { confirmCreate } from "../quote.js";

const PRODUCT_TABS = [
  ["image2video", "Image to Video"],
  ["character-swap", "Character Swap"],
  ["translation", "Video Translation"],
];

const I2V_SINGLE = "/api/open/v4/image2Video/createBySourcePrompt";
const I2V_BATCH = "/api/open/v4/image2Video/createBySourcePrompt/batch";
const SWAP = "/api/open/v4/characterSwap/create";
const TRANSLATE = "/api/open/v3/content/video/createbytranslate";

const STYLES = [
  "professional", "affectionate", "angry", "calm", "cheerful", "depressed", "disgruntled", "embarrassed",
  "empathetic", "excited", "fearful", "friendly", "unfriendly", "sad", "serious", "relaxed",
];

const CAPTION_TYPES = [
  [0, "No captions", ""],
  [1, "Original-language captions", "Burned into the video"],
  [2, "Translated captions", "Burned into the video"],
  [3, "Replace on-screen subtitles", "The video's own subtitles, translated"],
  [4, "Add translated captions", "Keeping the original ones"],
];

// What the API takes when a model lists no resolutions of its own (API.md section 5).
const DEFAULT_RESOLUTIONS = [
  { label: "720p", value: "720p", width: 1280, height: 720, unit_credit: 20 },
  { label: "1080p", value: "1080p", width: 1920, height: 1080, unit_credit: 25 },
  { label: "4k", value: "4k", width: 3840, height: 2160, unit_credit: 30 },
];

const reducedMotion = window.matchMedia("(prefers-reduced-motion: reduce)");

export async function render(root, [which = "image2video"], ctx) {
  const builders = { image2video: imageToVideo, "character-swap": characterSwap, translation };
  const tabs = h(
    "nav",
    { class: "tabs", "aria-label": "Products" },
    PRODUCT_TABS.map(([route, label]) => h("a", { href: `#/create/${route}`, "aria-current": route === which ? "page" : null }, label)),
  );
  const title = PRODUCT_TABS.find(([route]) => route === which)[1];
  ctx.setTitle(`New ${title} task`);
  replace(
    root,
    h("div", { class: "page-head" }, h("div", {}, h("h1", { tabindex: "-1" }, "New task"), h("p", { class: "lede" }, "Files are uploaded to this server; URLs are fetched by it."))),
    tabs,
    h("p", { class: "muted", role: "status" }, "Loading the options…"),
  );
  const spec = await builders[which](ctx);
  const status = h("div", { tabindex: "-1", class: "submit-status" });
  const submit = h("button", { type: "submit", class: "primary" }, "Review and create");
  const form = h(
    "form",
    { class: "card create-form", "aria-label": `New ${title} task`, dataset: { product: spec.product } },
    spec.sections,
    status,
    h("div", { class: "actions" }, submit, h("span", { class: "hint" }, "You see the price and the expected time before anything is charged.")),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!form.reportValidity()) return;
    submit.disabled = true;
    replace(status, h("p", { class: "muted", role: "status" }, "Uploading the inputs…"));
    try {
      const body = await spec.body();
      const endpoint = spec.endpoint(body);
      replace(status, h("p", { class: "muted", role: "status" }, "Getting a quote: the server looks into the inputs…"));
      const offer = await quote(endpoint, body);
      replace(status);
      if (!(await confirmCreate({ title: `Create this ${title} task?`, quote: offer }))) return;
      replace(status, h("p", { class: "muted", role: "status" }, "Creating…"));
      const envelope = await call(endpoint, { method: "POST", body });
      const { ids, problems } = spec.created(envelope);
      ctx.refreshCredits();
      if (problems.length) {
        replace(status, errorBox(problems.join("; ")));
        status.focus();
        if (!ids.length) return;
      }
      const count = ids.length === 1 ? "task" : `${ids.length} tasks`;
      ctx.flash(`Created the ${title} ${count}.`, "ok", true);
      ctx.navigate(ids.length === 1 ? `/tasks/${spec.product}/${ids[0]}` : "/tasks");
    } catch (error) {
      replace(status, errorBox(error.message));
      status.focus();
    } finally {
      submit.disabled = false;
    }
  });
  replace(root, root.firstChild, tabs, form);
}

// --- shared pieces ------------------------------------------------------------------------

function section(title, ...children) {
  // A plain section: a landmark for every part of the form would crowd a screen reader's list.
  return h("div", { class: "form-section" }, h("h2", {}, title), children);
}

function textArea(label, name, { max, hint = "", required = false, rows = 3 } = {}) {
  const area = h("textarea", { name, maxlength: max, rows, required });
  const counter = h("span", { class: "counter", "aria-hidden": "true" }, `0 / ${max}`);
  area.addEventListener("input", () => {
    counter.textContent = `${area.value.length} / ${max}`;
  });
  const wrapper = field(label, area, hint);
  wrapper.append(counter);
  return { wrapper, area };
}

function radios(legend, name, options, { hint = "", inline = false } = {}) {
  return group(legend, h("div", { class: `choices${inline ? " inline" : ""}` }, options.map((o) => choice("radio", name, o.value, o.label, o))), { hint });
}

function checkbox(name, label, detail = "") {
  return h("div", { class: "choices" }, choice("checkbox", name, "true", label, { detail }));
}

function webhookField() {
  return field(
    "Webhook URL",
    h("input", { type: "url", name: "webhookUrl", placeholder: "https://example.com/akool-hook", inputmode: "url", spellcheck: "false" }),
    "Optional: where the result is sent (encrypted and signed as Akool's). You can see every delivery on the task's page.",
  );
}

function checked(form, name) {
  return form.querySelector(`input[name="${name}"]:checked`)?.value ?? "";
}

function valueOf(form, name) {
  return form.querySelector(`[name="${name}"]`)?.value.trim() ?? "";
}

function flagOf(form, name) {
  return Boolean(form.querySelector(`input[name="${name}"]`)?.checked);
}

/** Lines of "term = replacement" as an object; refuses a line without "=". */
function pairs(text, what) {
  const result = {};
  for (const line of text.split("\n").map((l) => l.trim()).filter(Boolean)) {
    const at = line.indexOf("=");
    if (at < 1) throw new Error(`${what}: write each line as "word = replacement"`);
    result[line.slice(0, at).trim()] = line.slice(at + 1).trim();
  }
  return result;
}

// --- Image to Video -------------------------------------------------------------------------

async function imageToVideo() {
  const [effectList, models] = await Promise.all([
    get("/api/open/v4/image2Video/effects"),
    get("/api/open/v4/aigModel/list?types%5B%5D=1501"),
  ]);
  const image = mediaInput("image", "Picture", { required: true, name: "image_url", hint: "PNG or JPEG: the video's first frame." });
  const lastFrame = mediaInput("image", "Last frame", { name: "last_image_url", hint: "Optional: the picture the video should end on." });
  const audio = mediaInput("audio", "Your sound track", { name: "audio_url", required: true });
  const prompt = textArea("Prompt", "prompt", { max: 500, hint: "The motion you want, e.g. \"slow zoom into her face\". Required unless an effect is chosen." });
  const negative = textArea("Negative prompt", "negative_prompt", { max: 2000, hint: "Optional: what to avoid." });

  // Effects, with their thumbnails and preview clips (played on hover or keyboard focus).
  const none = h("input", { type: "radio", name: "effect_code", value: "", checked: true, id: uid("effect") });
  const effects = group(
    "Choose an effect, or keep to the prompt",
    h(
      "div",
      { class: "effects" },
      h("label", { class: "effect", for: none.id }, none, h("span", { class: "effect-media" }, h("span", { class: "effect-none" }, "No effect: follow the prompt")), h("span", { class: "effect-name" }, "Prompt only")),
      effectList.result.map(effectCard),
    ),
    { hint: `${effectList.count} effects. Hover or focus one to play its preview; with an effect the prompt is not needed.` },
  );

  const modelBox = h("div");
  const resolutionBox = h("div");
  const lengthBox = h("div");
  const countInput = h("input", { type: "number", name: "count", min: 1, max: 10, value: "1", required: true, inputmode: "numeric" });
  const lastFrameBox = h("div", {}, lastFrame.element);
  const modelRadios = radios(
    "Model",
    "model_name",
    models.map((m, index) => ({
      value: m.value,
      label: m.label + (m.isPro ? " (Pro)" : ""),
      detail: m.description,
      checked: index === 0,
    })),
  );
  replace(modelBox, modelRadios);

  const audioBox = h("div", { hidden: true }, audio.element);
  const sections = [
    section(
      "Picture and prompt",
      h(
        "div",
        { class: "form-grid" },
        image.element,
        h("div", {}, prompt.wrapper, negative.wrapper, checkbox("extend_prompt", "Extend the prompt", "Let the server enrich it")),
      ),
    ),
    section("Effects", effects),
    section(
      "Output",
      modelBox,
      h("div", { class: "form-grid" }, resolutionBox, lengthBox),
      radios(
        "Sound",
        "audio_type",
        [
          { value: "3", label: "No sound", checked: true },
          { value: "1", label: "Generated sound", detail: "Designed to match the motion; free" },
          { value: "2", label: "My sound track", detail: "An audio file or URL" },
        ],
      ),
      audioBox,
    ),
    section(
      "Batch and delivery",
      h("div", { class: "form-grid" }, field("Variations", countInput, "1 to the model's maximum; each is a task of its own."), webhookField()),
      lastFrameBox,
    ),
  ];
  const form = h("div", {}, sections);

  function selectedModel() {
    return models.find((m) => m.value === checked(form, "model_name")) ?? models[0];
  }

  function refreshModel() {
    const model = selectedModel();
    if (!model) return;
    const keepRes = checked(form, "resolution") || "720p";
    const resolutions = model.resolutionList?.length ? model.resolutionList : DEFAULT_RESOLUTIONS;
    replace(
      resolutionBox,
      radios(
        "Resolution",
        "resolution",
        resolutions.map((r) => ({
          value: r.value,
          label: r.label,
          detail: `${r.width}×${r.height} · ${creditsText(r.unit_credit)} per 5 s`,
          checked: r.value === keepRes,
        })),
      ),
    );
    if (!checked(form, "resolution")) form.querySelector('input[name="resolution"]')?.click();
    const keepLength = checked(form, "video_length") || "5";
    replace(
      lengthBox,
      radios(
        "Length",
        "video_length",
        (model.durationList?.length ? model.durationList : [5, 10]).map((seconds) => ({
          value: String(seconds),
          label: `${seconds} seconds`,
          detail: seconds > 5 ? "Pro plan" : "",
          checked: String(seconds) === keepLength,
        })),
      ),
    );
    countInput.max = String(model.maxCount);
    lastFrameBox.hidden = !model.supportedLastFrame;
  }

  form.addEventListener("change", (event) => {
    if (event.target.name === "model_name") refreshModel();
    if (event.target.name === "audio_type") audioBox.hidden = event.target.value !== "2";
    if (event.target.name === "effect_code") prompt.area.required = !event.target.value;
  });
  prompt.area.required = true;
  refreshModel();

  return {
    product: "image2video",
    sections: form,
    async body() {
      const model = selectedModel();
      const body = {
        image_url: await image.resolve(),
        prompt: prompt.area.value.trim(),
        negative_prompt: negative.area.value.trim(),
        extend_prompt: flagOf(form, "extend_prompt"),
        resolution: checked(form, "resolution"),
        video_length: Number(checked(form, "video_length")),
        audio_type: Number(checked(form, "audio_type")),
        is_premium_model: Boolean(model?.isPro),
      };
      const effect = checked(form, "effect_code");
      if (effect) body.effect_code = effect;
      if (body.audio_type === 2) body.audio_url = await audio.resolve();
      const webhook = valueOf(form, "webhookUrl");
      if (webhook) body.webhookUrl = webhook;
      const count = Number(countInput.value || 1);
      const last = model?.supportedLastFrame ? await lastFrame.resolve() : "";
      // Choosing a model, a last frame or several variations is the batch endpoint's.
      if (count > 1 || last || (model && model !== models[0])) {
        Object.assign(body, { model_name: model.value, count });
        if (last) body.last_image_url = last;
      }
      return body;
    },
    endpoint: (body) => ("model_name" in body ? I2V_BATCH : I2V_SINGLE),
    created(envelope) {
      if (envelope.data.successList) {
        return {
          ids: envelope.data.successList.map((t) => t._id),
          problems: (envelope.data.errorList ?? []).map((e) => e.msg ?? String(e)),
        };
      }
      return { ids: [envelope.data._id], problems: [] };
    },
  };
}

function effectCard(effect) {
  const input = h("input", { type: "radio", name: "effect_code", value: effect.effect_code, id: uid("effect") });
  const picture = effect.logo
    ? h("img", { src: effect.logo, alt: "", loading: "lazy", width: "180", height: "180" })
    : h("span", { class: "effect-none", "aria-hidden": "true" }, effect.name);
  const media = h("span", { class: "effect-media" }, picture);
  const description = h("span", { class: "visually-hidden" }, effect.description ? `: ${effect.description}` : "");
  const card = h(
    "label",
    { class: "effect", for: input.id, title: effect.description ?? "" },
    input,
    media,
    h("span", { class: "effect-name" }, effect.name, description, effect.category ? h("span", { class: "effect-category" }, effect.category) : null),
  );
  let clip = null;
  const play = () => {
    if (!effect.video_url || reducedMotion.matches) return;
    if (!clip) {
      clip = h("video", { src: effect.video_url, muted: true, loop: true, playsinline: true, poster: effect.logo, "aria-hidden": "true" });
      media.replaceChildren(clip);
    }
    clip.play().catch(() => {});
  };
  const pause = () => clip?.pause();
  card.addEventListener("pointerenter", play);
  card.addEventListener("pointerleave", pause);
  input.addEventListener("focus", play);
  input.addEventListener("blur", pause);
  return card;
}

// --- Character Swap -----------------------------------------------------------------------

async function characterSwap() {
  const models = (await get("/api/reelsmith/v1/models")).result.filter((m) => m.product === "character_swap");
  const image = mediaInput("image", "Character picture", { required: true, name: "image", hint: "PNG or JPEG of the character." });
  const video = mediaInput("video", "Source video", { required: true, name: "video", hint: "MP4, up to 120 seconds." });
  const durationInput = h("input", { type: "number", name: "duration", min: 1, max: 120, step: "any", inputmode: "decimal", placeholder: "The whole video" });
  video.onChange(() => {
    const seconds = video.mediaDuration();
    durationInput.placeholder = seconds ? `The whole video (${seconds.toFixed(1)} s)` : "The whole video";
  });
  const prompt = textArea("Prompt", "prompt", { max: 500, hint: "Optional." });
  const modes = [
    { value: "animate", label: "Animate", detail: "The picture moves with the video's motion: head, mouth, eyes, body" },
    { value: "replace", label: "Replace", detail: "The person in the video becomes the character; the scene is kept" },
  ];
  const modeBox = h("div");
  const form = h(
    "div",
    {},
    section("Inputs", h("div", { class: "form-grid" }, image.element, video.element)),
    section(
      "Swap",
      radios(
        "Model",
        "model_name",
        models.map((m, index) => ({ value: m.value, label: m.label, detail: m.description, checked: index === 0 })),
      ),
      modeBox,
      radios(
        "Resolution",
        "resolution",
        [
          { value: "480p", label: "480p", detail: "5 credits per 5 s" },
          { value: "720p", label: "720p", detail: "10 credits per 5 s", checked: true },
          { value: "1080p", label: "1080p", detail: "15 credits per 5 s" },
        ],
        { hint: "The short side; the source's aspect is kept." },
      ),
      h("div", { class: "form-grid" }, field("Duration (seconds)", durationInput, "1 to 120: the first seconds of the source are used. Empty: all of it."), prompt.wrapper),
    ),
    section("Delivery", webhookField()),
  );

  function refreshModes() {
    const model = models.find((m) => m.value === checked(form, "model_name")) ?? models[0];
    const allowed = model?.modes?.length ? model.modes : modes.map((m) => m.value);
    const keep = allowed.includes(checked(form, "mode")) ? checked(form, "mode") : allowed[0];
    replace(
      modeBox,
      radios(
        "Mode",
        "mode",
        modes.map((m) => ({ ...m, checked: m.value === keep })),
      ),
    );
    for (const input of modeBox.querySelectorAll("input")) input.disabled = !allowed.includes(input.value);
  }
  form.addEventListener("change", (event) => {
    if (event.target.name === "model_name") refreshModes();
  });
  refreshModes();

  return {
    product: "character_swap",
    sections: form,
    async body() {
      const body = {
        image: await image.resolve(),
        video: await video.resolve(),
        resolution: checked(form, "resolution"),
        mode: checked(form, "mode"),
      };
      if (durationInput.value) body.duration = Number(durationInput.value);
      const text = prompt.area.value.trim();
      if (text) body.prompt = text;
      const model = checked(form, "model_name");
      if (model) body.model_name = model;
      const webhook = valueOf(form, "webhookUrl");
      if (webhook) body.webhookUrl = webhook;
      return body;
    },
    endpoint: () => SWAP,
    created: (envelope) => ({ ids: [envelope.data._id], problems: [] }),
  };
}

// --- Video Translation -----------------------------------------------------------------------

async function translation(ctx) {
  const languages = (await get("/api/open/v3/language/list")).lang_list;
  const video = mediaInput("video", "Video", { required: true, name: "url", hint: "MP4 with speech, up to 60 seconds and 30 fps." });
  const captionFile = mediaInput("caption", "Transcript", { name: "caption_url", hint: "Optional SRT or ASS of what is said: it replaces speech recognition." });
  const voiceCache = new Map();
  const voicesBox = h("div", { class: "voices", "aria-live": "polite" });
  const preview = new Audio();
  let playing = null;

  const targets = group(
    "Target languages",
    h(
      "div",
      { class: "choices" },
      languages.map((lang) =>
        choice("checkbox", "language", lang.lang_code, lang.lang_name, {
          detail: lang.lang_code,
          media: h("img", { class: "flag", src: lang.flag_url, alt: "" }),
        }),
      ),
    ),
    { hint: "One task per language. Each language you tick can have its own voice." },
  );

  async function voicesOf(code) {
    if (!voiceCache.has(code)) {
      voiceCache.set(code, get(`/api/open/v4/voice/videoTranslation?language_code=${encodeURIComponent(code)}&page=1&size=100`).then((d) => d.result));
    }
    return voiceCache.get(code);
  }

  function voiceRow(code, voice) {
    const input = h("input", { type: "radio", name: `voice-${code}`, value: voice.voice_id, id: uid("voice") });
    const button = h("button", { type: "button", class: "small", "aria-pressed": "false", "aria-label": `Play ${voice.name}'s preview` }, "Play");
    button.addEventListener("click", () => {
      const wasPlaying = playing === button;
      stopPreview();
      if (wasPlaying) return;
      preview.src = voice.preview;
      preview.play().catch(stopPreview);
      playing = button;
      button.setAttribute("aria-pressed", "true");
      button.textContent = "Stop";
    });
    return h(
      "div",
      { class: "voice" },
      h("label", { for: input.id }, input, h("img", { src: voice.thumbnailUrl, alt: "" }), h("span", { class: "choice-text" }, h("span", { class: "choice-label" }, voice.name.split(" (")[0]), h("span", { class: "choice-detail" }, `${voice.gender} · ${(voice.age ?? []).join(", ")}`))),
      voice.preview ? button : null,
    );
  }

  function stopPreview() {
    preview.pause();
    if (playing) {
      playing.setAttribute("aria-pressed", "false");
      playing.textContent = "Play";
      playing = null;
    }
  }
  preview.addEventListener("ended", stopPreview);
  ctx.onCleanup(stopPreview);

  async function refreshVoices() {
    const chosen = [...form.querySelectorAll('input[name="language"]:checked')].map((i) => i.value);
    const keep = Object.fromEntries(chosen.map((code) => [code, checked(form, `voice-${code}`)]));
    const blocks = [];
    for (const code of chosen) {
      const lang = languages.find((l) => l.lang_code === code);
      if (!lang?.need_voice_id) continue;
      const voices = await voicesOf(code);
      const fallback = h("input", { type: "radio", name: `voice-${code}`, value: "", checked: !keep[code], id: uid("voice") });
      blocks.push(
        group(
          `Voice in ${lang.lang_name}`,
          h(
            "div",
            { class: "voice-list" },
            h("div", { class: "voice" }, h("label", { for: fallback.id }, fallback, h("span", { class: "choice-text" }, h("span", { class: "choice-label" }, "Default voice"), h("span", { class: "choice-detail" }, "Chosen per speaker")))),
            voices.map((v) => voiceRow(code, v)),
          ),
        ),
      );
    }
    replace(voicesBox, blocks);
    for (const [code, value] of Object.entries(keep)) {
      const input = value && voicesBox.querySelector(`input[name="voice-${code}"][value="${CSS.escape(value)}"]`);
      if (input) input.checked = true;
    }
  }

  const source = h(
    "select",
    { name: "source_language" },
    h("option", { value: "DEFAULT" }, "Detect automatically"),
    languages.map((l) => h("option", { value: l.lang_code }, l.lang_name)),
  );
  const speakers = h("input", { type: "number", name: "speaker_num", min: 0, value: "0", inputmode: "numeric" });
  const style = h("select", { name: "style" }, STYLES.map((s) => h("option", { value: s }, s)));
  const keepWords = textArea("Words to keep as they are", "no_translate_words", { max: 4000, hint: "One a line, e.g. brand names.", rows: 2 });
  const fixed = textArea("Fixed translations", "fixed_words", { max: 4000, hint: 'One a line: "term = translation".', rows: 2 });
  const pronounced = textArea("Pronunciations", "pronounced_words", { max: 4000, hint: 'One a line: "word = how to say it".', rows: 2 });

  const form = h(
    "div",
    {},
    section("Video", video.element),
    section(
      "Languages and voices",
      targets,
      voicesBox,
      h("div", { class: "form-grid" }, field("Source language", source, "The language spoken in the video."), field("Speakers", speakers, "0: detect how many people speak.")),
    ),
    section(
      "Options",
      h(
        "div",
        { class: "choices" },
        choice("checkbox", "lipsync", "true", "Lip-sync", { detail: "Move the speaker's mouth to the new speech (doubles the price)" }),
        choice("checkbox", "remove_bgm", "true", "Remove background sound", { detail: "Keep only the new speech" }),
        choice("checkbox", "dynamic_duration", "true", "Dynamic duration", { detail: "The output may be longer where the translation needs it" }),
      ),
      radios(
        "Captions",
        "caption_type",
        CAPTION_TYPES.map(([value, label, detail]) => ({ value: String(value), label, detail, checked: value === 0 })),
      ),
      captionFile.element,
      h(
        "details",
        { class: "more" },
        h("summary", {}, "Studio voice: style and words"),
        field("Speaking style", style),
        h("div", { class: "form-grid" }, keepWords.wrapper, fixed.wrapper, pronounced.wrapper),
      ),
    ),
    section("Delivery", webhookField()),
  );
  form.addEventListener("change", (event) => {
    if (event.target.name === "language") refreshVoices();
  });

  return {
    product: "video_translation",
    sections: form,
    async body() {
      const codes = [...form.querySelectorAll('input[name="language"]:checked')].map((i) => i.value);
      if (!codes.length) {
        form.querySelector('input[name="language"]')?.focus();
        throw new Error("Target languages: tick at least one");
      }
      const studio = {
        no_translate_words: keepWords.area.value.split(/[\n,]/).map((w) => w.trim()).filter(Boolean),
        fixed_words: pairs(fixed.area.value, "Fixed translations"),
        pronounced_words: pairs(pronounced.area.value, "Pronunciations"),
        style: style.value,
      };
      const body = {
        url: await video.resolve(),
        language: codes.join(","),
        source_language: source.value,
        lipsync: flagOf(form, "lipsync"),
        speaker_num: Number(speakers.value || 0),
        remove_bgm: flagOf(form, "remove_bgm"),
        caption_type: Number(checked(form, "caption_type")),
        dynamic_duration: flagOf(form, "dynamic_duration"),
        voices_map: Object.fromEntries(codes.map((code) => [code, { voice_id: checked(form, `voice-${code}`) }])),
      };
      const captions = await captionFile.resolve();
      if (captions) body.caption_url = captions;
      const customised = studio.style !== "professional" || studio.no_translate_words.length || Object.keys(studio.fixed_words).length || Object.keys(studio.pronounced_words).length;
      if (customised) body.studio_voice = studio;
      const webhook = valueOf(form, "webhookUrl");
      if (webhook) body.webhookUrl = webhook;
      return body;
    },
    endpoint: () => TRANSLATE,
    created(envelope) {
      const all = envelope.all_results ?? [{ code: 1000, data: envelope.data }];
      return {
        ids: all.filter((r) => r.code === 1000).map((r) => r.data._id),
        problems: all.filter((r) => r.code !== 1000).map((r) => r.msg),
      };
    },
  };
}
