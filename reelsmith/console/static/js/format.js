// How numbers, times and statuses read in the console.

export const STATUS = {
  1: { label: "Queued", tone: "queued" },
  2: { label: "Processing", tone: "running" },
  3: { label: "Completed", tone: "ok" },
  4: { label: "Failed", tone: "failed" },
};

export const PRODUCTS = {
  image2video: { title: "Image to Video", route: "image2video" },
  character_swap: { title: "Character Swap", route: "character-swap" },
  video_translation: { title: "Video Translation", route: "translation" },
};

const numbers = new Intl.NumberFormat();

export function number(value) {
  return numbers.format(value ?? 0);
}

export function credits(value) {
  return `${number(value)} ${value === 1 ? "credit" : "credits"}`;
}

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

export function when(ms) {
  return ms ? dateTime.format(new Date(ms)) : "—";
}

/** "just now", "4 min ago", "2 h ago", else the date. */
export function ago(ms) {
  if (!ms) return "—";
  const seconds = Math.max(0, (Date.now() - ms) / 1000);
  if (seconds < 45) return "just now";
  if (seconds < 3600) return `${Math.round(seconds / 60)} min ago`;
  if (seconds < 86400) return `${Math.round(seconds / 3600)} h ago`;
  return when(ms);
}

/** 75 -> "1 min 15 s"; 4.2 -> "4 s". */
export function duration(seconds) {
  if (seconds === null || seconds === undefined || Number.isNaN(seconds)) return "—";
  const whole = Math.round(seconds);
  if (whole < 60) return `${whole} s`;
  const minutes = Math.floor(whole / 60);
  if (minutes < 60) return `${minutes} min${whole % 60 ? ` ${whole % 60} s` : ""}`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

export function shortId(id) {
  return id ? `…${id.slice(-6)}` : "";
}
