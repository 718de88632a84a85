"""Credentials shared with the ``bentoml`` CLI: the ``.yatai.yaml`` contexts, env-var precedence, safe writes, login."""
