// Live regions: every 2 s, while the tab is visible and not paused, ask this page's URL for its
// live blocks (header X-Bookjobs-Live: 1, answered as JSON) and swap each [data-live] element's
// content. The HTML comes escaped from the same templates as the page; nothing else is evaluated.
(function () {
  "use strict";
  const EVERY_MS = 2000;
  const KEY = "bookjobs-live-paused";
  const toggle = document.getElementById("live-toggle");
  const stamp = document.getElementById("live-at");
  if (!toggle || !stamp) return;
  let paused = window.localStorage.getItem(KEY) === "1";
  let timer = null;
  let busy = false;
  const last = {};

  function show() {
    toggle.textContent = paused ? "Resume live updates" : "Pause live updates";
    toggle.setAttribute("aria-pressed", paused ? "true" : "false");
    document.body.dataset.live = paused ? "paused" : document.hidden ? "hidden" : "on";
    if (paused) stamp.textContent = "paused";
  }

  async function refresh() {
    if (busy || paused || document.hidden) return;
    busy = true;
    try {
      const answer = await fetch(window.location.href, {
        headers: { "X-Bookjobs-Live": "1", Accept: "application/json" },
        credentials: "same-origin",
        cache: "no-store",
      });
      if (!answer.ok) {
        stamp.textContent = "update failed (" + answer.status + ")";
        return;
      }
      const data = await answer.json();
      if (paused || document.hidden) return; // paused while the answer was on its way
      for (const [name, html] of Object.entries(data.regions)) {
        const element = document.querySelector('[data-live="' + name + '"]');
        if (element && last[name] !== html) {
          element.innerHTML = html;
          last[name] = html;
        }
      }
      document.body.dataset.liveUpdates = String(Number(document.body.dataset.liveUpdates || 0) + 1);
      if (!paused) stamp.textContent = "live · " + new Date().toLocaleTimeString();
    } catch (error) {
      stamp.textContent = "offline";
    } finally {
      busy = false;
    }
  }

  function stop() {
    if (timer !== null) window.clearInterval(timer);
    timer = null;
  }

  function start() {
    stop();
    if (!paused && !document.hidden) timer = window.setInterval(refresh, EVERY_MS);
  }

  toggle.addEventListener("click", function () {
    paused = !paused;
    window.localStorage.setItem(KEY, paused ? "1" : "0");
    show();
    if (paused) stop();
    else {
      refresh();
      start();
    }
  });
  document.addEventListener("visibilitychange", function () {
    show();
    if (document.hidden) stop();
    else {
      refresh();
      start();
    }
  });
  show();
  start();
})();
