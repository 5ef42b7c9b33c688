"""Four-eyes approvals (domain.md §10): requests that take effect when another user approves."""
