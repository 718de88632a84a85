"""bentocloud-jupyter: BentoCloud from the notebook."""

from ._version import __version__

__all__ = ["__version__"]
