// The emulator's clock: its time (ticking at its speed on a real clock), mode and speed, and
// on a manual clock a form that advances it.
import { getJSON, postJSON } from "./api.js";

let shown = null;

export async function refreshClock() {
  const clock = await getJSON("/_azemu/clock");
  shown = { ...clock, fetchedAt: performance.now(), base: Date.parse(clock.now) };
  document.getElementById("clock-mode").textContent =
    clock.mode === "manual" ? "manual clock" : `real clock × ${clock.speed}`;
  document.getElementById("clock-advance").hidden = clock.mode !== "manual";
  tick();
}

export function tick() {
  if (!shown) return;
  const elapsed = shown.mode === "manual" ? 0 : performance.now() - shown.fetchedAt;
  document.getElementById("clock-now").textContent = new Date(shown.base + elapsed).toISOString();
}

export function wireAdvance(onAdvanced, onError) {
  document.getElementById("clock-advance").addEventListener("submit", async (event) => {
    event.preventDefault();
    const seconds = Number(document.getElementById("clock-seconds").value);
    try {
      await postJSON("/_azemu/clock/advance", { seconds });
      await refreshClock();
      onAdvanced();
    } catch (e) {
      onError(e);
    }
  });
}
