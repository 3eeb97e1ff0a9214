"""Writers of the case database: the demo city generator, the live simulator, importers."""
