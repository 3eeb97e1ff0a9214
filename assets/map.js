/* Leaflet style and point functions for dash-leaflet, referenced as {"variable": "gridwatch.map.*"}.
   Written by hand (not dash_extensions.javascript.assign) so it works from any working directory. */
window.gridwatch = Object.assign({}, window.gridwatch, {
  map: {
    colors: { g: "#2ecc71", y: "#f5c542", r: "#ff4d4f" },
    boundaryStyle: function (feature) {
      var level = feature.properties.level;
      if (level === "street") {
        return { color: "#4fc3ff", weight: 2.5, opacity: 0.9, fillColor: "#0d2a4a", fillOpacity: 0.35 };
      }
      if (level === "community") {
        return { color: "#3a7bbf", weight: 1.2, opacity: 0.7, fillOpacity: 0.0 };
      }
      return { color: "#2d5d8f", weight: 0.6, opacity: 0.5, fillOpacity: 0.0, dashArray: "2 3" };
    },
    casePoint: function (feature, latlng) {
      var c = window.gridwatch.map.colors[feature.properties.s] || "#2ecc71";
      return L.circleMarker(latlng, { radius: 6, color: "#0b1626", weight: 1, fillColor: c, fillOpacity: 0.95 });
    },
    clusterIcon: function (feature, latlng, index, context) {
      var n = feature.properties.point_count;
      var leaves = index.getLeaves(feature.properties.cluster_id, Infinity);
      var red = 0;
      for (var i = 0; i < leaves.length; i++) { if (leaves[i].properties.s === "r") { red++; } }
      var size = n < 10 ? 34 : n < 100 ? 44 : n < 1000 ? 54 : 64;
      var cls = red > 0 ? "gw-cluster gw-cluster-red" : "gw-cluster";
      var html = "<div><span>" + feature.properties.point_count_abbreviated + "</span></div>";
      var icon = L.divIcon({ html: html, className: cls, iconSize: L.point(size, size) });
      return L.marker(latlng, { icon: icon });
    }
  }
});
