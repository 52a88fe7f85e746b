"""Pictures of a scenario: figures of a run, coverage maps, animations.

- ``plots``: PNG figures of a run and of a parameter sweep;
- ``maps.write_map``: a coverage map (PNG or HTML), from ``coverage`` (the numbers),
  ``map_png`` and ``map_html`` (the two formats) and ``map_style`` (what they share);
- ``animate.write_animation``: one replication as a GIF or an HTML page, from ``animate_views`` and
  ``animate_map`` (where it looks, what stands still), ``animate_frames`` (what each frame shows),
  ``animate_labels`` (names), ``animate_gif`` (with ``animate_background`` and ``animate_paint``)
  and ``animate_html``; ``animate_style`` holds their colours;
- ``web``: the HTML pages' templates, CSS and JavaScript (package data in ``web/``).

Nothing is imported here, so importing one module does not load the others.
"""
