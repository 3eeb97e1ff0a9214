/* The case desk (/desk): a change of filters empties the grid's block cache so its infinite row
   model asks the server (callbacks/desk.py) for the first block of the new view. */
window.dash_clientside = Object.assign({}, window.dash_clientside, {
  gridwatch_desk: {
    refresh: function (_filters, gridId) {
      if (window.dash_ag_grid && window.dash_ag_grid.getApiAsync) {
        window.dash_ag_grid.getApiAsync(gridId).then(function (api) {
          api.ensureIndexVisible(0, "top");
          api.purgeInfiniteCache();
        });
      }
    }
  }
});
