"""Verbs over what the organisation offers: clusters and instance types."""

from __future__ import annotations

from bentocloud_jupyter.core.rest.session import client_for
from bentocloud_jupyter.core.results import TableView

__all__ = ["clusters", "instance_types"]


def instance_types(cluster: str | None = None, context: str | None = None) -> TableView:
    """Instance types you can pass to ``instance_type``."""
    client, _ = client_for(context)
    rows = [[t.name, t.price, t.cpu or "", t.memory or "", t.gpu or "", t.gpu_type or "", t.description]
            for t in client.list_instance_types(cluster)]
    return TableView(["name", "price", "cpu", "memory", "gpu", "gpu type", "description"], rows,
                     "No instance types.")


def clusters(context: str | None = None) -> TableView:
    """Clusters of your organisation (the first one is the default)."""
    client, _ = client_for(context)
    rows = [[c.name, "yes" if c.is_first else "", c.description] for c in client.list_clusters()]
    return TableView(["name", "default", "description"], rows, "No clusters.")
