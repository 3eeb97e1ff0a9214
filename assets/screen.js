/* Clientside callbacks of the big screen: pure UI wiring that needs no server round-trip. */
window.dash_clientside = Object.assign({}, window.dash_clientside, {
  gridwatch: {
    /* The wall's size against the 1920x1080 design, for figures sized in pixels. */
    screenScale: function () {
      return Math.max(0.5, Math.min(window.innerWidth / 1920, window.innerHeight / 1080));
    },
    /* Cluster by the same share of the screen on a 4K wall as on a 1920x1080 one. */
    clusterRadius: function (scale) {
      return { radius: 80 * Math.max(1, scale || 1) };
    },
    /* The wall's poll: every poll_ms ask /api/version whether the stamp changed. An unchanged
       wall gets an empty answer and only its 更新于 label moves, to the server's time in the
       Gridwatch-Updated header (the browser's own clock may be off); a new stamp (content, or
       the stale flag) sets screen-poll, which runs the Dash refresh. A wall layout mounted
       again restarts the loop; a page without the wall ends it. Revoked kiosk tokens answer
       403 here too (assets/auth.js). */
    pollVersion: function (wall) {
      var gw = window.dash_clientside.gridwatch;
      var generation = gw.pollGeneration = (gw.pollGeneration || 0) + 1;
      if (!wall || !wall.poll_ms) { return window.dash_clientside.no_update; }
      var stamp = wall.stamp || "";  // the version the layout was drawn from
      var url = "/api/version?area=" + encodeURIComponent(wall.area) + "&v=";
      function label(resp) {
        var at = resp.headers.get("Gridwatch-Updated");
        if (wall.as_of || !at) { return; }
        window.dash_clientside.set_props("screen-updated", { children: wall.updated + " " + at });
      }
      /* A 503 is a server that cannot read the database (a worker started during an outage
         has not seen this wall's token yet): the numbers on screen are old, so the stale
         badge shows until a poll is answered again; a new stamp's refresh sets it anyway. */
      var unreadable = false;
      function cannotRead(on) {
        if (on === unreadable) { return; }
        unreadable = on;
        if (on || !/-stale$/.test(stamp)) {
          window.dash_clientside.set_props("screen-stale", { hidden: !on });
        }
      }
      function poll() {
        if (generation !== gw.pollGeneration || !document.getElementById("screen-updated")) {
          return;
        }
        // No fetch cache option: "no-store" would add two request headers, and the answer's
        // own Cache-Control: no-store already keeps it out of the cache.
        window.fetch(url + encodeURIComponent(stamp))
          .then(function (resp) {
            if (resp.status === 503) { cannotRead(true); return; }
            if (!resp.ok) { return; }
            return resp.text().then(function (next) {
              if (next === "") {
                label(resp);
                cannotRead(false);
              } else if (next !== stamp) {
                stamp = next;
                unreadable = false;  // the refresh the new stamp runs sets the badge
                window.dash_clientside.set_props("screen-poll", { data: next });
              }
            });
          })
          .catch(function () { return null; })  // a network error: try again next time
          .then(function () { window.setTimeout(poll, wall.poll_ms); });
      }
      window.setTimeout(poll, wall.poll_ms);
      return window.dash_clientside.no_update;
    },
    /* The live clock, redrawn every second in the browser, on the server's clock (its UTC
       offset comes with the page) so it agrees with the data's times wherever the wall is. */
    clock: function (_n, wall) {
      var locale = wall && wall.lang === "en" ? "en-GB" : "zh-CN";
      // A wall looking back (GRIDWATCH_AS_OF or ?as_of=) shows that moment, standing still.
      var now = wall && wall.as_of ? new Date(wall.as_of + "Z")
        : new Date(Date.now() + ((wall && wall.utc_offset) || 0) * 60000);
      // ISO dates in both languages: 02/12/2026 reads as 2 December or 12 February.
      var iso = now.toISOString().slice(0, 10);
      var weekday = now.toLocaleDateString(locale, { timeZone: "UTC", weekday: "short" });
      var date = wall && wall.lang === "en" ? weekday + " " + iso : iso + " " + weekday;
      var time = now.toLocaleTimeString(locale, { timeZone: "UTC", hour12: false });
      return [
        { type: "Span", namespace: "dash_html_components", props: { children: date, className: "gw-clock-date" } },
        { type: "Span", namespace: "dash_html_components", props: { children: time, className: "gw-clock-time" } }
      ];
    },
    /* Count each counter (data: element id -> new value) from the value on screen to the new one. */
    countUp: function (data) {
      if (!data) { return; }
      Object.keys(data).forEach(function (id) {
        var el = document.getElementById(id);
        var to = Math.round(data[id] || 0);
        var from = el ? parseInt((el.textContent || "0").replace(/[^0-9-]/g, ""), 10) || 0 : 0;
        if (from === to) {
          window.dash_clientside.set_props(id, { children: to.toLocaleString("en-US") });
          return;
        }
        var started = null;
        var duration = 1200;
        function step(ts) {
          if (started === null) { started = ts; }
          var k = Math.min(1, (ts - started) / duration);
          var eased = 1 - Math.pow(1 - k, 3);
          var value = Math.round(from + (to - from) * eased);
          window.dash_clientside.set_props(id, { children: value.toLocaleString("en-US") });
          if (k < 1) { window.requestAnimationFrame(step); }
        }
        window.requestAnimationFrame(step);
      });
    },
    /* Hide the map's unticked classes and sources by restyling in the browser (no resend). */
    layerFilter: function (majors, sources, majorOptions, sourceOptions) {
      // An option's value is its members joined by "|" (a group such as 其他 has several).
      function hidden(options, shown) {
        return (options || []).map(function (o) { return typeof o === "object" ? o.value : o; })
          .filter(function (v) { return (shown || []).indexOf(v) < 0; })
          .reduce(function (all, v) { return all.concat(v.split("|")); }, []);
      }
      return { majors: hidden(majorOptions, majors), sources: hidden(sourceOptions, sources) };
    },
    heatToggle: function (value) {
      return { on: (value || []).indexOf("heat") >= 0 };
    }
  }
});
