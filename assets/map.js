/* Leaflet style, filter and point functions for dash-leaflet, referenced as
   {"variable": "gridwatch.map.*"}. Written by hand (not dash_extensions.javascript.assign) so
   it works from any working directory. Points carry s (light: g/y/r), m (major class) and
   src (source); the layer toggles send lists of hidden classes and sources in ``hideout``. */
window.gridwatch = Object.assign({}, window.gridwatch, {
  map: {
    colors: { g: "#2ecc71", y: "#f5c542", r: "#ff4d4f" },
    /* Marker sizes are pixels: grow them with the wall like the rest of the screen. */
    scale: function () {
      return Math.max(1, Math.min(window.innerWidth / 1920, window.innerHeight / 1080));
    },
    boundaryStyle: function (feature) {
      var level = feature.properties.level;
      if (level === "street") {
        var light = document.querySelector(".gw-theme-light") !== null;
        return { color: light ? "#2a7fd4" : "#4fc3ff", weight: 2.5, opacity: 0.9,
                 fillColor: light ? "#c9dcf0" : "#0d2a4a", fillOpacity: light ? 0.5 : 0.35 };
      }
      if (level === "community") {
        return { color: "#3a7bbf", weight: 1.2, opacity: 0.7, fillOpacity: 0.0 };
      }
      return { color: "#2d5d8f", weight: 0.6, opacity: 0.5, fillOpacity: 0.0, dashArray: "2 3" };
    },
    visible: function (props, hideout) {
      if (!hideout) { return true; }
      return (hideout.majors || []).indexOf(props.m) < 0 && (hideout.sources || []).indexOf(props.src) < 0;
    },
    caseFilter: function (feature, context) {
      // Clusters always pass: clusterIcon counts their visible leaves itself.
      if (feature.properties.cluster) { return true; }
      return window.gridwatch.map.visible(feature.properties, context && context.hideout);
    },
    caseStyle: function (feature) {
      var c = window.gridwatch.map.colors[feature.properties.s] || "#2ecc71";
      return { color: "#0b1626", weight: 1, fillColor: c, fillOpacity: 0.95 };
    },
    casePoint: function (feature, latlng) {
      var c = window.gridwatch.map.colors[feature.properties.s] || "#2ecc71";
      var red = feature.properties.s === "r";
      var k = window.gridwatch.map.scale();
      return L.circleMarker(latlng, {
        radius: (red ? 8 : 7) * k, color: "#0b1626", weight: 1.5 * k, fillColor: c, fillOpacity: 0.95,
        className: "gw-case"
      });
    },
    clusterIcon: function (feature, latlng, index, context) {
      var hideout = context && context.hideout;
      var leaves = index.getLeaves(feature.properties.cluster_id, Infinity);
      var shown = 0, red = 0, yellow = 0;
      for (var i = 0; i < leaves.length; i++) {
        var p = leaves[i].properties;
        if (!window.gridwatch.map.visible(p, hideout)) { continue; }
        shown++;
        if (p.s === "r") { red++; } else if (p.s === "y") { yellow++; }
      }
      if (shown === 0) { return L.layerGroup(); }
      var size = (shown < 10 ? 44 : shown < 100 ? 54 : shown < 1000 ? 64 : 76) * window.gridwatch.map.scale();
      var label = shown >= 10000 ? Math.round(shown / 1000) + "k" : String(shown);
      // The ring shows the mix of lights (red, yellow, green shares), not the worst member:
      // 59 overdue of 338 reads as a sixth of red, not as an all-red map.
      var ring = window.gridwatch.map.clusterRing(red, yellow, shown);
      var html = '<div class="gw-cluster-ring" style="background:' + ring + '">' +
                 "<span>" + label + "</span></div>";
      var icon = L.divIcon({ html: html, className: "gw-cluster", iconSize: L.point(size, size) });
      var green = shown - red - yellow;
      return L.marker(latlng, { icon: icon,
                                title: shown + " · " + red + " / " + yellow + " / " + green });
    },
    /* A conic gradient splitting a ring by light, clockwise from the top: red, yellow, green. */
    clusterRing: function (red, yellow, shown) {
      var c = window.gridwatch.map.colors;
      if (!shown) { return c.g; }
      var r = (100 * red / shown).toFixed(2), y = (100 * (red + yellow) / shown).toFixed(2);
      return "conic-gradient(" + c.r + " 0 " + r + "%, " + c.y + " " + r + "% " + y + "%, " +
             c.g + " " + y + "% 100%)";
    },
    /* The heat layer: one translucent disc per unit grid, sized and coloured by its open cases
       (w = count / the busiest grid's count, worked out on the server). */
    densityFilter: function (feature, context) {
      return Boolean(context && context.hideout && context.hideout.on);
    },
    densityPoint: function (feature, latlng) {
      var w = feature.properties.w;
      var color = w > 0.66 ? "#ff4d4f" : w > 0.33 ? "#ff9f43" : "#f5c542";
      return L.circleMarker(latlng, {
        radius: (6 + 26 * Math.sqrt(w)) * window.gridwatch.map.scale(), stroke: false, fillColor: color, fillOpacity: 0.18 + 0.4 * w,
        interactive: false
      });
    }
  }
});
