"""Deployment logs: the websocket protocol (``protocol``) and the background follower (``follow``)."""
