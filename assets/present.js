/* Presentation mode (/present): the carousel steps in the browser, never on the server.

   ``step`` advances the state every tick unless paused, and on a key; ``show`` makes one
   iframe visible and writes the indicator. Keys reach us from the page and from the pages
   inside the iframes (same origin), so the carousel answers wherever the focus is. The pages
   shown get the class gw-presented, which hides their navigation bar (assets/present.css). */
(function () {
  var KEYS_STORE = "present-keys";  /* dashboard.ids.PRESENT_KEYS */
  var ACTIONS = { ArrowRight: "next", PageDown: "next", ArrowLeft: "prev", PageUp: "prev",
                  " ": "pause", Spacebar: "pause", f: "full", F: "full" };

  function onKey(event) {
    var action = ACTIONS[event.key];
    if (!action || !document.querySelector(".gw-present")) { return; }
    if (event.target && /^(INPUT|TEXTAREA|SELECT)$/.test(event.target.tagName)) { return; }
    event.preventDefault();
    if (action === "full") {
      if (document.fullscreenElement) { document.exitFullscreen(); }
      else if (document.documentElement.requestFullscreen) {
        document.documentElement.requestFullscreen();
      }
      return;
    }
    window.dash_clientside.set_props(KEYS_STORE, { data: { action: action, at: Date.now() } });
  }

  function adopt(frame) {
    try {
      var doc = frame.contentDocument;
      doc.documentElement.classList.add("gw-presented");
      if (!frame.contentWindow.__gwPresentKeys) {
        frame.contentWindow.addEventListener("keydown", onKey);
        frame.contentWindow.__gwPresentKeys = true;
      }
    } catch (e) { /* a page from elsewhere: no keys from inside it */ }
  }

  /* The wall's size against the 1920×1080 design (the indicator's 30 px strip included),
     never below 1: the frames are drawn at the design size and scaled by it (present.css). */
  var DESIGN_W = 1920, DESIGN_H = 1080, HUD = 30;
  function fit() {
    var root = document.querySelector(".gw-present");
    if (!root) { return; }
    var s = Math.max(1, Math.min(window.innerWidth / DESIGN_W,
                                 window.innerHeight / (DESIGN_H + HUD))).toFixed(4);
    // Only a change is written: rewriting it would lay both framed pages out again.
    if (root.style.getPropertyValue("--gw-s") !== s) { root.style.setProperty("--gw-s", s); }
  }
  window.addEventListener("resize", fit);

  window.addEventListener("keydown", onKey);
  /* load does not bubble, but it can be captured: every iframe that (re)loads is adopted. */
  document.addEventListener("load", function (event) {
    if (event.target && event.target.classList &&
        event.target.classList.contains("gw-present-frame")) { adopt(event.target); }
  }, true);

  window.dash_clientside = Object.assign({}, window.dash_clientside, {
    gridwatch_present: {
      step: function (_n, keys, state) {
        var s = Object.assign({}, state);
        if (!s.n) { return window.dash_clientside.no_update; }
        /* A tick and a key can arrive in one batch: the key counts whichever is listed first. */
        var byKey = window.dash_clientside.callback_context.triggered.some(function (t) {
          return (t.prop_id || "").indexOf(KEYS_STORE) === 0;
        });
        if (byKey && keys) {
          if (keys.action === "pause") { s.paused = !s.paused; }
          else {
            s.index = (s.index + (keys.action === "next" ? 1 : s.n - 1)) % s.n;
            s.elapsed = 0;
          }
          return s;
        }
        if (s.paused) { return window.dash_clientside.no_update; }
        s.elapsed += 500;  /* dashboard.pages.present.TICK_MS */
        if (s.elapsed >= s.seconds * 1000) {
          s.index = (s.index + 1) % s.n;
          s.elapsed = 0;
        }
        return s;
      },
      show: function (state) {
        var n = state.n || 0;
        var classes = [];
        for (var i = 0; i < n; i++) {
          classes.push(i === state.index ? "gw-present-frame gw-present-active"
                                         : "gw-present-frame");
        }
        var label = n ? (state.index + 1) + " / " + n + " · " + state.titles[state.index] : "";
        if (state.paused) { label += " · ⏸ " + state.pausedWord; }
        var share = Math.min(1, state.elapsed / (state.seconds * 1000));
        document.querySelectorAll(".gw-present-frame").forEach(adopt);
        fit();
        return [classes, label, { width: (share * 100).toFixed(1) + "%" }];
      }
    }
  });
})();
