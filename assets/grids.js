/* The grid page's browser side, written by hand (not dash_extensions.javascript.assign) so it
   works from any working directory.

   gridwatch.grids.* are the choropleth's Leaflet functions, referenced from Python as
   {"variable": "gridwatch.grids.style"}. The polygons arrive once per level; the server sends
   only ``hideout`` = {classes: {code: class or -1}, colors: [...], tips: {code: html},
   selected: code or null}, and these functions colour each area from it. Class -1 (no value:
   a zero denominator) is hatched, never painted the colour of 0. */
window.gridwatch = Object.assign({}, window.gridwatch, {
  grids: {
    /* One SVG hatch pattern in the document; Leaflet's own SVG can reference it by id. */
    ensureHatch: function () {
      if (document.getElementById("gw-hatch")) { return; }
      var ns = "http://www.w3.org/2000/svg";
      var svg = document.createElementNS(ns, "svg");
      svg.setAttribute("width", "0");
      svg.setAttribute("height", "0");
      svg.setAttribute("aria-hidden", "true");
      svg.style.position = "absolute";
      svg.innerHTML = '<defs><pattern id="gw-hatch" patternUnits="userSpaceOnUse" width="8" ' +
        'height="8" patternTransform="rotate(45)"><rect width="8" height="8" fill="#16243a"/>' +
        '<line x1="0" y1="0" x2="0" y2="8" stroke="#5d7290" stroke-width="3"/></pattern></defs>';
      document.body.appendChild(svg);
    },
    classOf: function (code, hideout) {
      var classes = (hideout && hideout.classes) || {};
      var k = Object.prototype.hasOwnProperty.call(classes, code) ? classes[code] : -1;
      return (k >= 0 && hideout.colors && k < hideout.colors.length) ? k : -1;
    },
    style: function (feature, context) {
      var hideout = (context && context.hideout) || {};
      var code = feature.properties.code;
      var k = window.gridwatch.grids.classOf(code, hideout);
      var selected = hideout.selected === code;
      if (k < 0) { window.gridwatch.grids.ensureHatch(); }
      return {
        className: "gw-area gw-area-" + code + (k < 0 ? " gw-area-none" : "") +
          (selected ? " gw-area-selected" : ""),
        color: selected ? "#ffffff" : "#06101f",
        weight: selected ? 4 : 1.2,
        opacity: 1,
        fillColor: k < 0 ? "url(#gw-hatch)" : hideout.colors[k],
        fillOpacity: k < 0 ? 1 : 0.85
      };
    },
    /* Hover shows the area's name, value and numerator/denominator (built on the server). */
    bindTip: function (feature, layer, context) {
      var hideout = (context && context.hideout) || {};
      var tip = hideout.tips && hideout.tips[feature.properties.code];
      var content = tip;
      if (!content) {
        content = document.createElement("span");
        content.textContent = feature.properties.name;
      }
      layer.bindTooltip(content, { sticky: true, direction: "top", className: "gw-g-tip" });
    }
  }
});

/* ag-grid comparator: areas without a value sort last, whichever the direction. Added to the
   namespace object itself: dash-ag-grid looks functions up there. */
window.dashAgGridFunctions = window.dashAgGridFunctions || {};
window.dashAgGridFunctions.gridwatchNullsLast = function (a, b, nodeA, nodeB, isDescending) {
  var aNone = a === null || a === undefined;
  var bNone = b === null || b === undefined;
  if (aNone && bNone) { return 0; }
  if (aNone) { return isDescending ? -1 : 1; }
  if (bNone) { return isDescending ? 1 : -1; }
  return a - b;
};

window.dash_clientside = Object.assign({}, window.dash_clientside, {
  gridwatch_grids: {
    /* Ask ag-grid for its own CSV export (what is on screen, formatted as shown). */
    exportCsv: function (clicks) {
      return Boolean(clicks);
    }
  }
});
