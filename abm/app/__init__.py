"""The interactive app: watch, compare and teach market entry in the browser.

Start it with ``abm app`` (http://127.0.0.1:8765 by default). Views:

- **Simulate** (``/``): one run, month by month, with Play/Pause/Step/Reset;
- **Compare** (``/compare``): replications of each entry mode or candidate partner;
- **Classroom** (``/classroom``): each preset's lesson, with a predict-then-run exercise;
- **Results** (``/results``): a sweep's results folder, outcome against parameter;
- **Mesa** (``/mesa``): Mesa's own ``SolaraViz`` page on the same model.

The pure parts (a live run's history, chart options, settings, results loading) live in
``live``, ``charts``, ``settings`` and ``results_data`` and import no Solara; the pages
(``pages`` and the ``*_page`` modules) only arrange them. Everything the browser loads is
served by this machine (solara-assets): the app works offline.
"""
