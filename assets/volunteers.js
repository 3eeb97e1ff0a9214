/* The volunteers page's map (dash-leaflet functions, {"variable": "gridwatch.volunteers.*"}):
   today's activities, filled while under way. Tooltips are built from text nodes. */
window.gridwatch = window.gridwatch || {};
window.gridwatch.volunteers = {
  point: function (feature, latlng) {
    var run = feature.properties.run;
    return L.circleMarker(latlng, {radius: run ? 8 : 6, weight: 2, color: "#f5c542",
      fillColor: "#f5c542", fillOpacity: run ? 0.9 : 0.1,
      className: run ? "gw-v-act gw-v-act-run" : "gw-v-act"});
  },
  tip: function (feature, layer) {
    var p = feature.properties, tip = document.createElement("span");
    tip.textContent = p.t + " · " + p.k + " · " + p.team + " · " + p.n + "人 · " + p.when;
    layer.bindTooltip(tip);
  }
};
