"""What a page asks of the browser, recorded for the tests to read."""

# Records what a page (the console, the supervisor view) asks of the browser: desktop notifications (permission starts undecided and is granted
# through the button) and beeps (every tone started on an oscillator).
RECORD_ALERTS = """
window.__notifications = [];
window.__beeps = 0;
class RecordedNotification {
  constructor(title, options) { window.__notifications.push({ title, body: (options || {}).body || "" }); }
  close() {}
  static requestPermission() { RecordedNotification.permission = "granted"; return Promise.resolve("granted"); }
}
RecordedNotification.permission = "default";
window.Notification = RecordedNotification;
const start = OscillatorNode.prototype.start;
OscillatorNode.prototype.start = function (...args) { window.__beeps += 1; return start.apply(this, args); };
"""
