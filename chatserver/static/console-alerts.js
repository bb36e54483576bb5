// Never miss a chat: a short beep (WebAudio, no file), a desktop notification once the agent allowed them, and the
// unread count in the tab title.
import { $ } from "./console-dom.js";

const BASE_TITLE = "Support console";
const SOUND_KEY = "console.sound";
let audio = null;
let soundOn = localStorage.getItem(SOUND_KEY) !== "off";

/** Browsers only let a page make sound after a user gesture: create the audio context on the first one. */
function unlockAudio() {
  try {
    audio = audio || new AudioContext();
    if (audio.state === "suspended") audio.resume();
  } catch (err) {
    audio = null;
  }
}

export function beep() {
  if (!soundOn) return;
  try {
    audio = audio || new AudioContext();
    const t = audio.currentTime;
    const gain = audio.createGain();
    gain.gain.setValueAtTime(0.0001, t);
    gain.gain.exponentialRampToValueAtTime(0.18, t + 0.015);
    gain.gain.exponentialRampToValueAtTime(0.0001, t + 0.35);
    gain.connect(audio.destination);
    for (const [frequency, start] of [[880, 0], [1320, 0.12]]) {
      const tone = audio.createOscillator();
      tone.type = "sine";
      tone.frequency.value = frequency;
      tone.connect(gain);
      tone.start(t + start);
      tone.stop(t + start + 0.22);
    }
  } catch (err) {
    // No audio device: the notification and the title still tell the agent.
  }
}

function notificationsSupported() {
  return typeof window.Notification === "function";
}

/** Show a desktop notification if allowed. onClick brings the console forward on that conversation. */
export function notify(title, body, tag, onClick) {
  if (!notificationsSupported() || Notification.permission !== "granted") return null;
  try {
    const notification = new Notification(title, { body: (body || "").slice(0, 180), tag, renotify: Boolean(tag) });
    notification.onclick = () => {
      window.focus();
      if (onClick) onClick();
      notification.close();
    };
    return notification;
  } catch (err) {
    return null;
  }
}

function showPermission() {
  const button = $("enable-notifications");
  const stateText = $("notifications-state");
  if (!notificationsSupported()) {
    button.hidden = true;
    stateText.hidden = false;
    stateText.textContent = "This browser has no desktop notifications";
    return;
  }
  const permission = Notification.permission;
  button.hidden = permission !== "default";
  stateText.hidden = permission === "default";
  stateText.textContent = permission === "granted" ? "Notifications on" : "Notifications blocked in the browser";
}

function showSound() {
  const toggle = $("sound-toggle");
  toggle.setAttribute("aria-pressed", String(soundOn));
  toggle.textContent = soundOn ? "Sound on" : "Sound off";
}

export function setUnreadTitle(unread) {
  document.title = unread > 0 ? `(${unread}) ${BASE_TITLE}` : BASE_TITLE;
}

export function setupAlerts() {
  for (const event of ["pointerdown", "keydown"]) {
    window.addEventListener(event, unlockAudio, { once: true, capture: true });
  }
  $("enable-notifications").addEventListener("click", async () => {
    unlockAudio();
    try {
      await Notification.requestPermission();
    } finally {
      showPermission();
    }
  });
  $("sound-toggle").addEventListener("click", () => {
    soundOn = !soundOn;
    localStorage.setItem(SOUND_KEY, soundOn ? "on" : "off");
    showSound();
    if (soundOn) beep();
  });
  showPermission();
  showSound();
}
