"""Intake by batch (domain.md §8): batch codes, tests at the gate, accept/refuse/pretreat."""
