"""The learning cortex: which response to an incident works, learned from outcomes (ADR 0039).

``responses`` (the candidates, policy-as-code) -> ``features`` (an incident as named numbers) ->
``bandit`` (discounted LinUCB over them) -> ``cortex`` (recommend, feedback, persisted history and
model). ``simulate`` measures the loop against an oracle (``ben bench triage``).
"""
