"""One module per data source; converters.sources assembles them."""
