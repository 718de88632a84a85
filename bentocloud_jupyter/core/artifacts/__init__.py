"""Bentos and models: the local store, bentoml-shaped archives, push/pull transfers with progress, builds."""
