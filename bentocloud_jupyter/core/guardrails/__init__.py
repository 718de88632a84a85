"""Guardrails for real money and real production: what this kernel started (the ledger), TTLs, protected
contexts whose changes ask for the name to be typed back, and the checks behind ``%bentocloud doctor``."""
