/* The case desk (/desk): a change of filters empties the grid's block cache so its infinite row
   model asks the server (callbacks/desk.py) for the first block of the new view. The filters'
   store also fires once as the page opens (the tiles' callback resets the class choice) with the
   filters the grid already loaded: that is no change, and purging then made the grid load its
   first block twice, blanking the rows in between. The last filters a grid loaded are kept on
   its own API object, so a grid opened afresh starts again from the page's empty filters. */
window.dash_clientside = Object.assign({}, window.dash_clientside, {
  gridwatch_desk: {
    refresh: function (filters, gridId) {
      var wanted = JSON.stringify(filters || {});
      if (window.dash_ag_grid && window.dash_ag_grid.getApiAsync) {
        window.dash_ag_grid.getApiAsync(gridId).then(function (api) {
          if ((api.gridwatchFilters || "{}") === wanted) {
            return;
          }
          api.gridwatchFilters = wanted;
          api.ensureIndexVisible(0, "top");
          api.purgeInfiniteCache();
        });
      }
    }
  }
});
