"""Scenario programs for the policy pack: a compliant estate as the engine would store it, and single mistakes a
buggy or hand-edited program could declare (bypassing the program's own validation on purpose)."""
