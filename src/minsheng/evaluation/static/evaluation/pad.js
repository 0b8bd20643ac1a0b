/* The window's rating tablet (评价器).
   - The device token arrives once in the address's fragment (#token=...), which browsers
     never send to the server; it is kept in localStorage and the fragment removed.
   - Every rating gets a UUID made here and goes into a queue in localStorage first, then
     is sent; the queue is retried when the browser comes back online and every few
     seconds. The server answers a resent UUID with the first answer, so a rating sent
     twice (the answer was lost) is stored once.
   - The page resets itself a few seconds after each rating. */
(function () {
  "use strict";

  var POLL_MS = 5000;
  var RESET_MS = 3000;

  function uuid4() {
    var b = new Uint8Array(16);
    window.crypto.getRandomValues(b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 0x100).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  function init() {
    var root = document.getElementById("pad");
    if (!root) { return; }
    var windowId = root.getAttribute("data-window");
    var stateUrl = root.getAttribute("data-state-url");
    var rateUrl = root.getAttribute("data-rate-url");
    var tokenKey = "minsheng.pad.token." + windowId;
    var queueKey = "minsheng.pad.queue." + windowId;
    var texts = document.getElementById("pad-texts").dataset;
    var el = function (id) { return document.getElementById(id); };

    var match = /token=([A-Za-z0-9_\-]+)/.exec(window.location.hash || "");
    if (match) {
      localStorage.setItem(tokenKey, match[1]);
      history.replaceState(null, "", window.location.pathname);
    }
    var token = localStorage.getItem(tokenKey);
    var eventId = null;
    var chosenLevel = null;
    var sending = false;
    var resetTimer = null;

    function queue() {
      try { return JSON.parse(localStorage.getItem(queueKey) || "[]"); } catch (e) { return []; }
    }
    function saveQueue(items) { localStorage.setItem(queueKey, JSON.stringify(items)); }

    function showStatus() {
      var n = queue().length;
      var line = "";
      if (!navigator.onLine) { line = texts.offline; }
      if (n) { line = (line ? line + " · " : "") + n + " " + texts.queued; }
      el("pad-status").textContent = line;
      root.setAttribute("data-queued", String(n));
    }

    function show(part) {
      el("pad-levels").hidden = part !== "levels";
      el("pad-reasons").hidden = part !== "reasons";
      el("pad-thanks").hidden = part !== "thanks";
    }

    function reset() {
      chosenLevel = null;
      root.querySelectorAll("input[name=reason]").forEach(function (box) { box.checked = false; });
      el("pad-comment").value = "";
      el("pad-reason-hint").hidden = true;
      show("levels");
    }

    function setStaff(staff) {
      el("pad-name").textContent = staff ? staff.name : texts.none;
      el("pad-no").textContent = staff && staff.staff_no ? staff.staff_no : "—";
      var photo = el("pad-photo");
      if (staff && staff.photo) {
        photo.src = staff.photo; photo.hidden = false; el("pad-initial").hidden = true;
      } else {
        photo.hidden = true; el("pad-initial").hidden = false;
        el("pad-initial").textContent = staff ? staff.initial : "?";
      }
    }

    function unbound() {
      el("pad-unbound").hidden = false;
      el("pad-levels").hidden = true;
      root.setAttribute("data-ready", "unbound");
    }

    function poll() {
      if (!token) { unbound(); return; }
      fetch(stateUrl, { headers: { "Authorization": "Pad " + token }, cache: "no-store" })
        .then(function (r) {
          if (r.status === 401) { unbound(); return null; }
          return r.ok ? r.json() : null;
        })
        .then(function (data) {
          if (!data) { return; }
          el("pad-unbound").hidden = true;
          setStaff(data.staff);
          eventId = data.event ? data.event.id : null;
          el("pad-event").textContent = data.event
            ? texts.serving + (data.event.matter ? "：" + data.event.matter : "") + "（" + data.event.number + "）"
            : texts.noEvent;
          root.setAttribute("data-event", eventId === null ? "" : String(eventId));
          root.setAttribute("data-ready", "yes");
        })
        .catch(function () { /* offline: keep what we know */ })
        .then(showStatus);
    }

    function flush() {
      if (sending || !token) { return; }
      var items = queue();
      if (!items.length) { showStatus(); return; }
      sending = true;
      var item = items[0];
      fetch(rateUrl, {
        method: "POST",
        headers: { "Authorization": "Pad " + token, "Content-Type": "application/json" },
        body: JSON.stringify(item)
      }).then(function (r) {
        sending = false;
        // Stored (201), stored before (200), or refused for good (already rated, no such
        // event, invalid): either way it leaves the queue. Network trouble and 5xx stay.
        if (r.status < 500 && r.status !== 429 && r.status !== 401) {
          saveQueue(queue().filter(function (q) { return q.uuid !== item.uuid; }));
          flush();
        }
        showStatus();
      }).catch(function () { sending = false; showStatus(); });
    }

    function submit(level, reasons, comment) {
      var items = queue();
      items.push({ uuid: uuid4(), level: level, reasons: reasons, comment: comment, event_id: eventId, at: Date.now() });
      saveQueue(items);
      eventId = null; // rated: the next rating waits for the next service event
      show("thanks");
      showStatus();
      flush();
      if (resetTimer) { clearTimeout(resetTimer); }
      resetTimer = setTimeout(function () { reset(); poll(); }, RESET_MS);
    }

    root.querySelectorAll("[data-level]").forEach(function (button) {
      button.addEventListener("click", function () {
        var level = parseInt(button.getAttribute("data-level"), 10);
        if (level <= 2) { chosenLevel = level; show("reasons"); return; }
        submit(level, [], "");
      });
    });
    el("pad-back").addEventListener("click", reset);
    el("pad-submit").addEventListener("click", function () {
      var reasons = [];
      root.querySelectorAll("input[name=reason]:checked").forEach(function (box) { reasons.push(box.value); });
      if (!reasons.length) { el("pad-reason-hint").hidden = false; return; }
      submit(chosenLevel, reasons, el("pad-comment").value);
    });

    window.addEventListener("online", function () { showStatus(); flush(); poll(); });
    window.addEventListener("offline", showStatus);
    setInterval(function () { poll(); flush(); }, POLL_MS);
    poll();
    flush();
    showStatus();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
