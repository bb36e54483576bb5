// The events the host page hears through ChatWidget.on(name, fn) (docs/widget.md, "The JavaScript API").
const listeners = {};

export function on(name, fn) {
  (listeners[name] = listeners[name] || []).push(fn);
  return () => { listeners[name] = listeners[name].filter((f) => f !== fn); };
}

export function fire(name, detail) {
  for (const fn of (listeners[name] || []).slice()) {
    try { fn(detail); } catch (e) { console.error(e); }
  }
}
