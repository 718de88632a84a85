"""Calling a deployed service: its OpenAPI, and requests to its endpoints with the token only where allowed."""
