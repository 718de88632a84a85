"""The BentoCloud REST client: one request choke point, one error mapper, typed models, one client per context."""
