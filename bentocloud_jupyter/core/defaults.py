"""Defaults that front ends show before anything heavy is imported (parsers are built at ``%load_ext``).

The modules that use them import them from here, so a default lives in exactly one place.
"""

from __future__ import annotations

__all__ = ["DEFAULT_ENDPOINT", "DEFAULT_TAIL", "DEFAULT_TIMEOUT", "LOGIN_TIMEOUT", "STRATEGIES"]

DEFAULT_ENDPOINT = "https://cloud.bentoml.com"
DEFAULT_TIMEOUT = 3600.0
"""Seconds a watch (``wait``) lasts at most."""
DEFAULT_TAIL = 50
"""Log lines read back per container."""
LOGIN_TIMEOUT = 30.0
STRATEGIES = ("RollingUpdate", "Recreate", "RampedSlowRollout", "BestEffortControlledRollout")
"""Rollout strategies BentoCloud accepts (``bentoml deploy --strategy``)."""
