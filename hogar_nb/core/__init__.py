"""The `hogar` core: graph model, UDGL, analysis and EARG config. Pure Python."""
