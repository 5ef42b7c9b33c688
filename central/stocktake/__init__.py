"""Stocktakes (domain.md §9): physical counts against the adjusted book, the three ledgers."""
