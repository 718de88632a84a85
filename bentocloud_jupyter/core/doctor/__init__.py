"""``%bentocloud doctor``: is everything in order? One small check per concern, each a line ok, warn or fail.

Checks never raise (a check that breaks is its own ``fail`` line), never show a token, and say what to do
whenever a line is not ok. :mod:`.report` holds the lines and their display, :mod:`.local` what this process
can see by itself (versions, front end, widgets, sandbox), :mod:`.creds` where the credentials come from,
:mod:`.probe` the few GETs (headers kept, for the clock) and :mod:`.remote` what BentoCloud answers.
"""

from __future__ import annotations
