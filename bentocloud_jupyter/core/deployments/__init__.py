"""Deployments: the options every front end shares, the request bodies they become, and the status watcher."""
