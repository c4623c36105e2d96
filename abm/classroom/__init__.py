"""Play the firm: decision rounds for one player and a multi-team classroom.

- :mod:`abm.classroom.game`: one market whose chosen firms are played by people. The run
  pauses at each decision of a played firm (and, for rounds, at a month boundary); what a
  firm would know is read out as its own *view*; an undecided firm can be given its default
  policy's choice. Pure Python, no web code: the Solara play panel (``abm/app/play_panel.py``)
  and the classroom server both drive it.
- :mod:`abm.classroom.session`: a class session: teams, roles, one or more markets (copies of
  the case on the same seed), rounds, deadlines, the audit log, the debrief, saving to Parquet
  and reopening.
- :mod:`abm.classroom.server`: the Starlette app (JSON API and two plain HTML/JS pages) that
  ``abm classroom`` serves. See docs/CLASSROOM.md.
"""
