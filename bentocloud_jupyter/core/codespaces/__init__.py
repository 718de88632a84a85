"""Codespaces: a dev deployment that BentoCloud reloads when the project's files change (``bentoml code``),
driven from the notebook: the project's files, their md5 difference against the codespace, bounded upload
batches, and a live sync on the kernel's loop."""
