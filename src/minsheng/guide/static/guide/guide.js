// The smart guide's page behaviour (kiosk and phone): voice input where the browser has
// SpeechRecognition, answers read aloud with speechSynthesis, and the kiosk's idle reset.
// No inline scripts (CSP); everything hangs off data- attributes.
(function () {
  "use strict";

  var root = document.querySelector("[data-guide]");
  if (!root) { return; }
  var Recognition = window.SpeechRecognition || window.webkitSpeechRecognition;
  var canSpeak = "speechSynthesis" in window && typeof window.SpeechSynthesisUtterance === "function";

  // -- voice input ------------------------------------------------------------------
  var mic = root.querySelector("[data-guide-mic]");
  var form = root.querySelector("[data-guide-ask]");
  var listening = root.querySelector("[data-guide-listening]");
  if (Recognition && mic && form) {
    mic.hidden = false;
    mic.addEventListener("click", function () {
      var rec = new Recognition();
      rec.lang = "zh-CN";
      rec.interimResults = false;
      rec.maxAlternatives = 1;
      if (listening) { listening.hidden = false; }
      rec.onresult = function (event) {
        var text = event.results[0][0].transcript;
        form.querySelector("input[name=q]").value = text;
        if (form.requestSubmit) { form.requestSubmit(); } else { form.submit(); }
      };
      rec.onend = function () { if (listening) { listening.hidden = true; } };
      rec.onerror = rec.onend;
      try { rec.start(); } catch (e) { if (listening) { listening.hidden = true; } }
    });
  }

  // -- reading the answer aloud ---------------------------------------------------------
  function speak(text) {
    if (!canSpeak || !text) { return; }
    window.speechSynthesis.cancel();
    var u = new window.SpeechSynthesisUtterance(text);
    u.lang = "zh-CN";
    window.speechSynthesis.speak(u);
  }

  function prepare(box) {
    var said = box.querySelector("[data-speak]");
    box.querySelectorAll("[data-guide-speak]").forEach(function (button) {
      if (!canSpeak || !said) { return; }
      button.hidden = false;
      button.addEventListener("click", function () { speak(said.getAttribute("data-speak")); });
    });
    if (said && root.getAttribute("data-autospeak") === "1") {
      speak(said.getAttribute("data-speak"));
    }
    if (box.firstElementChild && box.getBoundingClientRect().top > window.innerHeight / 2) {
      box.scrollIntoView({ behavior: "smooth", block: "start" });
    }
  }

  var answer = document.getElementById("guide-answer");
  if (answer) {
    if (answer.children.length) { prepare(answer); }
    document.body.addEventListener("htmx:afterSwap", function (event) {
      if (event.target === answer) { prepare(answer); }
    });
  }

  // -- full screen (a kiosk browser usually starts so; the button is for tablets) ------
  var full = root.querySelector("[data-guide-fullscreen]");
  var docEl = document.documentElement;
  if (full && docEl.requestFullscreen) {
    full.hidden = false;
    full.addEventListener("click", function () {
      if (document.fullscreenElement) { document.exitFullscreen(); } else { docEl.requestFullscreen().catch(function () {}); }
    });
  }

  // -- the kiosk goes home when nobody touches it ---------------------------------------
  var idle = parseInt(root.getAttribute("data-idle-seconds") || "0", 10);
  var home = root.getAttribute("data-home-url");
  if (idle > 0 && home) {
    var timer = null;
    var reset = function () {
      if (timer) { window.clearTimeout(timer); }
      timer = window.setTimeout(function () {
        if (canSpeak) { window.speechSynthesis.cancel(); }
        var input = root.querySelector("input[name=q]");
        if (input) { input.value = ""; }
        if (answer) { answer.innerHTML = ""; }
        if (window.location.pathname + window.location.search !== home) {
          window.location.assign(home);
        } else {
          window.scrollTo(0, 0);
        }
      }, idle * 1000);
    };
    ["pointerdown", "keydown", "input", "touchstart"].forEach(function (name) {
      document.addEventListener(name, reset, { passive: true });
    });
    reset();
  }
})();
