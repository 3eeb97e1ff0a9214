/* The sections page's map (dash-leaflet functions, {"variable": "gridwatch.sections.*"}):
   each section filled by its score band (``fill`` from the server). Tooltips are text nodes. */
window.gridwatch = window.gridwatch || {};
window.gridwatch.sections = {
  style: function (feature) {
    var fill = feature.properties.fill;
    return {color: fill, weight: 2, fillColor: fill, fillOpacity: 0.75};
  },
  tip: function (feature, layer) {
    var p = feature.properties, tip = document.createElement("span");
    tip.textContent = p.name + " · " + p.leader + " · " + p.label;
    layer.bindTooltip(tip, {sticky: true});
  }
};
