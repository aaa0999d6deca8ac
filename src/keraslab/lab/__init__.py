"""The tutor's dress rehearsal: ``keraslab lab`` runs the whole lab, day one to the challenge, and writes one report.

``plan`` lists the parts and their sizes, ``runner`` runs them (each in its own process,
a failure never stopping the others), ``steps`` holds the rehearsal's own steps (the
comparison, the challenge dry run), ``report`` writes ``report/index.html``, and
``commands`` is ``keraslab lab`` itself. docs/lab.md tells the tutor how to read it.
"""
