// The emulator's clock: its time (ticking on a running clock), mode and speed; pause and
// resume, speed, advance (on a paused or manual clock) and reset after a confirmation.
import { getJSON, postJSON, send } from "./api.js";

export class Clock {
  constructor(onError, onReset) {
    this.onError = onError;
    this.onReset = onReset;
    this.shown = null;
  }

  /** The emulator's time now, in milliseconds. */
  now() {
    if (!this.shown) return Date.now();
    const elapsed = this.shown.mode === "manual" ? 0 : performance.now() - this.shown.fetchedAt;
    return this.shown.base + elapsed;
  }

  running() {
    return this.shown?.mode === "real";
  }

  /** Takes the clock from an answer of the API or a `clock` event. */
  set(clock) {
    this.shown = { ...clock, fetchedAt: performance.now(), base: Date.parse(clock.now ?? clock.time) };
    const manual = clock.mode === "manual";
    document.getElementById("clock-mode").textContent = manual ? "paused (manual clock)" : "running";
    document.getElementById("clock-toggle").textContent = manual ? "Resume" : "Pause";
    document.getElementById("clock-advance").hidden = !manual;
    const speed = document.getElementById("clock-speed");
    if (document.activeElement !== speed) speed.value = String(clock.speed);
    this.tick();
  }

  async refresh() {
    this.set(await getJSON("/_azemu/clock"));
  }

  tick() {
    if (this.shown) document.getElementById("clock-now").textContent = new Date(this.now()).toISOString();
  }

  wire() {
    const act = (work) => async (event) => {
      event?.preventDefault();
      try {
        this.set(await work());
      } catch (e) {
        this.onError(e);
      }
    };
    document.getElementById("clock-advance").addEventListener("submit", act(() => postJSON("/_azemu/clock/advance", { seconds: Number(document.getElementById("clock-seconds").value) })));
    document.getElementById("clock-toggle").addEventListener("click", act(() => send("PATCH", "/_azemu/clock", { mode: this.running() ? "manual" : "real" })));
    const speed = document.getElementById("clock-speed");
    speed.addEventListener("change", act(() => send("PATCH", "/_azemu/clock", { speed: Number(speed.value) })));
    speed.addEventListener("focus", () => (document.getElementById("speed-hint").hidden = false));
    speed.addEventListener("blur", () => (document.getElementById("speed-hint").hidden = true));
    const dialog = document.getElementById("reset-dialog");
    document.getElementById("reset").addEventListener("click", () => dialog.showModal());
    dialog.addEventListener("close", async () => {
      if (dialog.returnValue !== "reset") return;
      try {
        await postJSON("/_azemu/reset", {});
        this.onReset();
      } catch (e) {
        this.onError(e);
      }
    });
    setInterval(() => this.tick(), 250);
  }
}
