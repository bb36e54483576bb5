// The admin's settings (or the tag's data- attributes) applied to the built widget: accent colour, readable text
// on it, side of the page, greeting, longest message.
import { ATTRS, SERVER_DEFAULTS } from "./page.js";
import { state } from "./state.js";
import { ui } from "./ui.js";

const COLOUR_RE = /^#(?:[0-9a-f]{3}|[0-9a-f]{6})$/i;

function luminance(hex) {
  let digits = hex.slice(1);
  if (digits.length === 3) digits = digits.replace(/./g, "$&$&");
  const [r, g, b] = [0, 2, 4].map((i) => {
    const c = parseInt(digits.substr(i, 2), 16) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

export function applyConfig() {
  const c = state.config;
  const colour = COLOUR_RE.test(ATTRS.colour || ATTRS.color || "") ? (ATTRS.colour || ATTRS.color)
    : (COLOUR_RE.test(c.colour || "") ? c.colour : SERVER_DEFAULTS.colour);
  const lum = luminance(colour);
  const style = ui.frame.style;
  style.setProperty("--accent", colour);
  style.setProperty("--on-accent", lum > 0.45 ? "#101828" : "#fff");
  style.setProperty("--accent-ink", lum > 0.3 ? "#1d2939" : colour);
  style.setProperty("--tint", lum > 0.45 ? "rgba(16,24,40,.08)" : "rgba(255,255,255,.18)");
  // A hovered header button darkens a dark accent (lightening it would drop white text below 4.5:1).
  style.setProperty("--hover", lum > 0.45 ? "rgba(16,24,40,.1)" : "rgba(0,0,0,.2)");
  ui.frame.classList.toggle("left", ATTRS.position === "left");
  ui.greetingText.textContent = ATTRS.greeting || c.greeting || "";
}
