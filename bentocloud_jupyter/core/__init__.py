"""The core: everything that talks to BentoCloud, with no Jupyter imports (usable from a plain script).

Rooms, by domain::

    api/          the verbs: the one door every front end uses (Python API, magics, widgets)
    credentials/  the .yatai.yaml contexts shared with bentoml, env precedence, locked atomic writes, login
    rest/         the httpx client: one request choke point, one error mapper, models, one client per context
    deployments/  deployment options -> request bodies, and the status watcher (plain asyncio)
    artifacts/    the local store, bentoml-shaped archives, push/pull transfers, builds
    logs/         the websocket log protocol and the background follower
    calls/        calling a deployed service (OpenAPI, requests)
    errors.py, hints.py, tokens.py   the error tree, "what to run next" as data, the masked Token
    results.py, messages.py, display.py   what verbs return: values that display themselves, escaped
"""
