/* CSV exports are safe to open: ag-grid's browser-side CSV export passes every cell through
   gridwatchCsvCell (csvExportParams.processCellCallback, see dashboard/exports.py csv_params).
   A text a spreadsheet would run as a formula (it starts with = + - @, a tab or a carriage
   return, OWASP's CSV-injection rule) gets a leading apostrophe; a plain number such as -1.75
   or +3% is left alone. dashboard/exports.py formula_like is the same rule for XLSX and tests. */
window.dashAgGridFunctions = window.dashAgGridFunctions || {};
(function (ns) {
  var TRIGGERS = /^[=+\-@\t\r]/;
  var NUMBER = /^(?:[+-]?(?=[\d.])\d[\d,]*(?:\.\d+)?%?|[+-]?\.\d+%?)$/;

  /* Return the text as a CSV cell: formula-like text prefixed with an apostrophe. */
  ns.gridwatchCsvSafe = function (value) {
    if (typeof value !== "string") { return value; }
    return TRIGGERS.test(value) && !NUMBER.test(value) ? "'" + value : value;
  };

  /* processCellCallback: the cell as shown on screen (its valueFormatter), made safe. */
  ns.gridwatchCsvCell = function (params) {
    var shown = params.formatValue ? params.formatValue(params.value) : params.value;
    return shown === null || shown === undefined ? "" : ns.gridwatchCsvSafe(String(shown));
  };
})(window.dashAgGridFunctions);
