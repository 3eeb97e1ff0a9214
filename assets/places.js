/* Gridwatch · 民生地图 (places): the public map page and the places layer of the wall.
 *
 * Everything is filtered here, in the browser, from the one GeoJSON the server sends
 * (/api/places.geojson): layers, search, facilities and "open now" never ask the server again.
 * Open spans come precomputed with the Chinese working calendar (holidays, 调休) as minutes
 * after the collection's t0, so "open now" is a comparison against the city's clock.
 * Citizen text is only ever put into the page with textContent, never as HTML.
 *
 * gridwatch.places.isOpen / nextChange   — open state of a feature at a minute
 * gridwatch.places.wallPoint/Filter/Tip  — dash-leaflet functions of the wall's places layer
 * gridwatch.places.init(config)          — the public /map page
 */
window.gridwatch = window.gridwatch || {};
(function (ns) {
  "use strict";
  var COLORS = {toilet: "#1565c0", convenience: "#00796b", culture: "#8e24aa"};
  var REPAIR = "#ef6c00";
  var FACILITY = {accessible: "a", baby: "b", family: "t"};

  function minuteOf(iso) { return Date.parse(iso + (iso.length <= 16 ? ":00Z" : "Z")) / 60000; }

  function isOpen(props, minute) {
    if (!props.o) { return null; }
    for (var i = 0; i < props.o.length; i++) {
      if (minute >= props.o[i][0] && minute < props.o[i][1]) { return true; }
    }
    return false;
  }

  function nextChange(props, minute) {
    if (!props.o) { return null; }
    for (var i = 0; i < props.o.length; i++) {
      var s = props.o[i];
      if (minute >= s[0] && minute < s[1]) { return {open: true, at: s[1]}; }
      if (s[0] > minute) { return {open: false, at: s[0]}; }
    }
    return {open: false, at: null};
  }

  /* The wall: a toilet's state (open, closed, 报修中) as a small coloured ring. */
  function wallPoint(feature, latlng, context) {
    var p = feature.properties, state = p.st || "open";
    var color = state === "repair" ? REPAIR : state === "closed" ? "#78909c" : "#29b6f6";
    return L.circleMarker(latlng, {radius: 5, weight: 2, color: color, fillColor: color,
      fillOpacity: state === "closed" ? 0.1 : 0.7, className: "gw-place gw-place-" + state});
  }

  /* The wall's layer is shown only while its switch is on (hideout.on). */
  function wallFilter(feature, context) {
    return !!(context && context.hideout && context.hideout.on);
  }

  /* A tooltip built from text nodes: a place's name is never parsed as HTML. */
  function wallTip(feature, layer) {
    var tip = document.createElement("span");
    tip.textContent = feature.properties.n;
    layer.bindTooltip(tip);
  }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") { node.textContent = attrs[k]; }
      else if (k === "cls") { node.className = attrs[k]; }
      else { node.setAttribute(k, attrs[k]); }
    });
    (children || []).forEach(function (c) { if (c) { node.appendChild(c); } });
    return node;
  }

  function clock(minuteOfDay) {
    var m = ((minuteOfDay % 1440) + 1440) % 1440;
    var h = Math.floor(m / 60), mm = m % 60;
    return (h < 10 ? "0" : "") + h + ":" + (mm < 10 ? "0" : "") + mm;
  }

  function init(cfg) {
    var W = cfg.words, loadedAt = Date.now(), cityNowAtLoad = minuteOf(cfg.now);
    var state = {layers: {}, filters: {}, q: "", place: null};
    var features = [], markers = {}, t0 = 0, here = null, windowEnd = Infinity;
    var params = new URLSearchParams(window.location.search);
    (params.get("layer") || "toilet,convenience,culture").split(",").forEach(function (l) {
      if (COLORS[l]) { state.layers[l] = true; }
    });
    (params.get("filter") || "").split(",").forEach(function (f) { if (f) { state.filters[f] = true; } });
    state.q = params.get("q") || "";
    var wanted = params.get("place");

    var big = window.innerWidth >= 2400;
    // One canvas for every marker: a phone draws 400 circles in a few ms (SVG: one node each).
    var map = L.map("pm-map", {zoomControl: true, zoomSnap: 0.25, preferCanvas: true,
      attributionControl: !!cfg.tileAttribution})
      .setView(cfg.center, cfg.zoom);
    if (cfg.tileUrl) {
      L.tileLayer(cfg.tileUrl, {attribution: cfg.tileAttribution || "", maxZoom: 19}).addTo(map);
    }
    var outline = L.layerGroup().addTo(map), shown = L.layerGroup().addTo(map);
    var hereLayer = L.layerGroup().addTo(map), pickLayer = L.layerGroup().addTo(map);

    var $ = function (id) { return document.getElementById(id); };
    var search = $("pm-search"), results = $("pm-results"), status = $("pm-status");
    var card = $("pm-card"), count = $("pm-count");

    function minuteNow() { return cityNowAtLoad + (Date.now() - loadedAt) / 60000 - t0; }

    function matches(p) {
      if (!state.layers[p.l]) { return false; }
      if (state.q) {
        var q = state.q.toLowerCase();
        if ((p.n + " " + p.a + " " + p.k).toLowerCase().indexOf(q) < 0) { return false; }
      }
      if (state.filters.open && isOpen(p, minuteNow()) !== true) { return false; }
      if (p.l === "toilet") {
        for (var f in FACILITY) {
          if (state.filters[f] && p.f.indexOf(FACILITY[f]) < 0) { return false; }
        }
        if (state.filters.free && p.fr !== 1) { return false; }
        if (state.filters.paper && p.pp !== 1) { return false; }
      }
      return true;
    }

    function style(p) {
      var open = isOpen(p, minuteNow());
      var color = p.r ? REPAIR : COLORS[p.l];
      return {radius: big ? 12 : window.innerWidth < 600 ? 6 : 8, weight: p.r ? 3 : 2, color: color, fillColor: color,
        fillOpacity: open === false ? 0.15 : 0.85,
        className: "pm-mk pm-mk-" + p.l + (p.r ? " pm-mk-repair" : "")};
    }

    function apply() {
      shown.clearLayers();
      var n = 0;
      features.forEach(function (f) {
        if (matches(f.properties)) { shown.addLayer(markers[f.properties.i]); n++; }
      });
      count.textContent = W.shown.replace("{n}", n);
      count.setAttribute("data-count", n);
      document.querySelectorAll("[data-toggle]").forEach(function (b) {
        var kind = b.getAttribute("data-kind"), key = b.getAttribute("data-toggle");
        b.setAttribute("aria-pressed", (kind === "layer" ? state.layers : state.filters)[key] ? "true" : "false");
      });
      $("pm-facilities").hidden = !state.layers.toilet;
      listResults();
      saveUrl();
    }

    function saveUrl() {
      var out = new URLSearchParams();
      if (cfg.lang !== "zh") { out.set("lang", cfg.lang); }
      var layers = Object.keys(state.layers).filter(function (k) { return state.layers[k]; });
      if (layers.length !== 3) { out.set("layer", layers.join(",")); }
      var filters = Object.keys(state.filters).filter(function (k) { return state.filters[k]; });
      if (filters.length) { out.set("filter", filters.join(",")); }
      if (state.q) { out.set("q", state.q); }
      if (state.place) { out.set("place", state.place); }
      var qs = out.toString();
      window.history.replaceState(null, "", window.location.pathname + (qs ? "?" + qs : ""));
    }

    function distance(a, b) {
      var R = 6371000, toRad = Math.PI / 180;
      var dLat = (b[0] - a[0]) * toRad, dLon = (b[1] - a[1]) * toRad;
      var h = Math.sin(dLat / 2) * Math.sin(dLat / 2) + Math.cos(a[0] * toRad) *
        Math.cos(b[0] * toRad) * Math.sin(dLon / 2) * Math.sin(dLon / 2);
      return 2 * R * Math.asin(Math.sqrt(h));
    }

    function listResults() {
      results.textContent = "";
      if (!state.q && !here) { results.hidden = true; return; }
      var hits = features.filter(function (f) { return matches(f.properties); });
      if (here) {
        hits.forEach(function (f) { f._d = distance(here, [f.geometry.coordinates[1], f.geometry.coordinates[0]]); });
        hits.sort(function (a, b) { return a._d - b._d; });
      }
      hits.slice(0, 8).forEach(function (f) {
        var p = f.properties;
        var meta = p.k + (here ? " · " + (f._d < 1000 ? Math.round(f._d) + " m" : (f._d / 1000).toFixed(1) + " km") : "");
        var item = el("button", {type: "button", cls: "pm-result", "data-place": p.i},
          [el("span", {cls: "pm-result-name", text: p.n}), el("span", {cls: "pm-result-meta", text: meta})]);
        item.addEventListener("click", function () { select(p.i, true); });
        results.appendChild(item);
      });
      if (!hits.length) { results.appendChild(el("p", {cls: "pm-empty", text: W.none})); }
      results.hidden = false;
    }

    function yesNo(value) { return value === 1 ? W.yes : value === 0 ? W.no : W.unknown; }

    function openText(p) {
      if (!p.o) { return W.hours_unknown; }
      var nc = nextChange(p, minuteNow());
      // Open to the end of the spans sent (yesterday to tomorrow): no closing time in sight.
      if (nc.open && (nc.at === null || nc.at >= windowEnd)) { return W.open_24h; }
      if (nc.open) { return W.open_until.replace("{t}", clock(nc.at)); }
      if (nc.at === null) { return W.closed; }
      var day = Math.floor(nc.at / 1440) - Math.floor(minuteNow() / 1440);
      return (day > 0 ? W.opens_tomorrow : W.opens_at).replace("{t}", clock(nc.at));
    }

    function renderCard(p) {
      card.textContent = "";
      var open = isOpen(p, minuteNow());
      var badge = p.r ? el("span", {cls: "pm-badge pm-badge-repair", text: W.repairing})
        : el("span", {cls: "pm-badge " + (open ? "pm-badge-open" : "pm-badge-closed"),
          text: open === null ? W.hours_unknown : open ? W.open : W.closed});
      var close = el("button", {type: "button", cls: "pm-close", "aria-label": W.close, text: "×"});
      close.addEventListener("click", function () { select(null); });
      var rows = [[W.kind, p.k], [W.hours, p.h], [W.now_label, openText(p)], [W.address, p.a]];
      if (p.l === "toilet") {
        rows.push([W.accessible, p.f.indexOf("a") >= 0 ? W.yes : W.no]);
        rows.push([W.baby, p.f.indexOf("b") >= 0 ? W.yes : W.no]);
        rows.push([W.family, p.f.indexOf("t") >= 0 ? W.yes : W.no]);
        rows.push([W.free, yesNo(p.fr)]);
        rows.push([W.paper, yesNo(p.pp)]);
      }
      if (p.u) { rows.push([W.unit, p.u]); }
      if (p.d) { rows.push([W.description, p.d]); }
      var dl = el("dl", {cls: "pm-facts"});
      rows.forEach(function (r) { dl.appendChild(el("dt", {text: r[0]})); dl.appendChild(el("dd", {text: r[1]})); });
      if (p.p) {
        dl.appendChild(el("dt", {text: W.phone}));
        dl.appendChild(el("dd", {}, [el("a", {href: "tel:" + p.p, text: p.p})]));
      }
      var actions = el("div", {cls: "pm-actions"});
      if (cfg.directions) {
        var c = markers[p.i].getLatLng();
        var href = cfg.directions.replace("{lat}", c.lat.toFixed(6)).replace("{lon}", c.lng.toFixed(6))
          .replace("{name}", encodeURIComponent(p.n));
        actions.appendChild(el("a", {cls: "pm-button pm-go", href: href, target: "_blank", rel: "noopener", text: W.go}));
      }
      var reportBtn = el("button", {type: "button", cls: "pm-button pm-report-open", text: W.report});
      actions.appendChild(reportBtn);
      var form = reportForm(p);
      reportBtn.addEventListener("click", function () { form.hidden = !form.hidden; });
      card.appendChild(el("div", {cls: "pm-card-head"}, [el("h2", {id: "pm-card-title", text: p.n}), badge, close]));
      card.appendChild(dl);
      card.appendChild(actions);
      card.appendChild(form);
      card.hidden = false;
    }

    function reportForm(p) {
      var form = el("form", {cls: "pm-report", hidden: "hidden"});
      var choices = el("fieldset", {cls: "pm-problems"}, [el("legend", {text: W.report_what})]);
      ["broken", "dirty", "closed"].forEach(function (k, i) {
        var input = el("input", {type: "radio", name: "problem", value: k, id: "pm-p-" + k});
        if (i === 0) { input.checked = true; }
        choices.appendChild(el("label", {"for": "pm-p-" + k}, [input, el("span", {text: W["problem_" + k]})]));
      });
      var text = el("textarea", {name: "text", maxlength: String(cfg.maxText), rows: "3",
        placeholder: W.report_placeholder, "aria-label": W.report_placeholder});
      var send = el("button", {type: "submit", cls: "pm-button pm-send", text: W.send});
      var msg = el("p", {cls: "pm-report-msg", role: "status"});
      form.appendChild(choices); form.appendChild(text); form.appendChild(send); form.appendChild(msg);
      form.addEventListener("submit", function (ev) {
        ev.preventDefault();
        send.disabled = true;
        msg.textContent = W.sending;
        var problem = form.querySelector("input[name=problem]:checked").value;
        fetch(cfg.reportUrl.replace("{id}", p.i), {method: "POST",
          headers: {"Content-Type": "application/json"},
          body: JSON.stringify({problem: problem, text: text.value})})
          .then(function (r) { return r.json().then(function (body) { return {ok: r.ok, status: r.status, body: body}; }); })
          .then(function (res) {
            send.disabled = false;
            if (!res.ok) { msg.textContent = res.body.message || W.report_failed; return; }
            p.r = 1; p.s = W.repairing;
            markers[p.i].setStyle(style(p));
            renderCard(p);
            var done = card.querySelector(".pm-actions");
            done.appendChild(el("p", {cls: "pm-report-msg pm-report-ok", role: "status",
              text: W.report_ok.replace("{case}", res.body.case)}));
          })
          .catch(function () { send.disabled = false; msg.textContent = W.report_failed; });
      });
      return form;
    }

    function select(id, fly, instant) {
      state.place = id;
      pickLayer.clearLayers();
      if (id === null || !markers[id]) { card.hidden = true; state.place = null; saveUrl(); return; }
      var f = markers[id].feature;
      renderCard(f.properties);
      // A ring around the chosen place, so it stays findable under the card.
      L.circleMarker(markers[id].getLatLng(), {radius: (big ? 12 : 8) + 7, weight: 4,
        color: "#d32f2f", fill: false, interactive: false}).addTo(pickLayer);
      if (fly) {
        map.setView(markers[id].getLatLng(), Math.max(map.getZoom(), 16), {animate: false});
        if (window.innerWidth < 900) {  // the bottom sheet covers the lower map: lift the place
          map.panBy([0, card.offsetHeight / 2], {animate: !instant});
        }
      }
      saveUrl();
    }

    document.querySelectorAll("[data-toggle]").forEach(function (b) {
      b.addEventListener("click", function () {
        var bag = b.getAttribute("data-kind") === "layer" ? state.layers : state.filters;
        var key = b.getAttribute("data-toggle");
        bag[key] = !bag[key];
        apply();
      });
    });
    search.value = state.q;
    search.addEventListener("input", function () { state.q = search.value.trim(); apply(); });

    $("pm-near").addEventListener("click", function () {
      if (!window.isSecureContext || !navigator.geolocation) { status.textContent = W.geo_insecure; return; }
      status.textContent = W.geo_asking;
      navigator.geolocation.getCurrentPosition(function (pos) {
        here = [pos.coords.latitude, pos.coords.longitude];
        hereLayer.clearLayers();
        L.circleMarker(here, {radius: 9, color: "#d32f2f", fillColor: "#fff", fillOpacity: 1,
          weight: 4, className: "pm-here"}).addTo(hereLayer);
        map.setView(here, 16);
        status.textContent = W.geo_ok;
        listResults();
      }, function (err) {
        status.textContent = err.code === 1 ? W.geo_denied : W.geo_unavailable;
      }, {enableHighAccuracy: true, timeout: 10000, maximumAge: 60000});
    });

    fetch(cfg.dataUrl).then(function (r) {
      if (!r.ok) { throw new Error(String(r.status)); }
      return r.json();
    }).then(function (data) {
      t0 = minuteOf(data.t0);
      windowEnd = data.days * 1440;
      L.geoJSON({type: "FeatureCollection", features: data.outline}, {interactive: false,
        style: {color: "#607d8b", weight: 1.5, fill: true, fillColor: "#eceff1", fillOpacity: 0.35},
        onEachFeature: function (f, layer) {  // street names: orientation when there are no tiles
          if (f.properties.n) {
            layer.bindTooltip(f.properties.n, {permanent: true, direction: "center",
              className: "pm-street", interactive: false});
          }
        }}).addTo(outline);
      features = data.features;
      features.forEach(function (f) {
        var c = f.geometry.coordinates;
        var m = L.circleMarker([c[1], c[0]], style(f.properties));
        m.feature = f;
        m.bindTooltip(f.properties.n);
        m.on("click", function () { select(f.properties.i, false); });
        markers[f.properties.i] = m;
      });
      if (data.outline.length && !(wanted && markers[wanted])) {
        map.fitBounds(L.geoJSON({type: "FeatureCollection", features: data.outline}).getBounds(),
          {padding: [8, 8], animate: false});
      }
      apply();
      if (wanted && markers[wanted]) { select(Number(wanted), true, true); }
      document.body.setAttribute("data-ready-ms", String(Math.round(performance.now())));
      document.body.setAttribute("data-ready", "1");
    }).catch(function () {
      status.textContent = W.load_failed;
      document.body.setAttribute("data-ready", "error");
    });
    ns.places.map = map;
    /* What is drawn now, by layer (read by the browser tests and handy in the console). */
    ns.places.shown = function () {
      var out = {toilet: 0, convenience: 0, culture: 0, repair: 0};
      shown.eachLayer(function (m) {
        out[m.feature.properties.l]++;
        if (m.feature.properties.r) { out.repair++; }
      });
      return out;
    };
  }

  ns.places = {isOpen: isOpen, nextChange: nextChange, wallPoint: wallPoint,
    wallFilter: wallFilter, wallTip: wallTip, init: init, minuteOf: minuteOf};
})(window.gridwatch);
