"""The hostile server fixture (tests/doctor/doctor_hostile.py) for every doctor test."""

from __future__ import annotations

from doctor_hostile import hostile  # noqa: F401  (a fixture)
