"""Fixtures shared by the edge's tests."""

from __future__ import annotations

import pytest

from tests.edge.pty_slave import PtySlave


@pytest.fixture
def pty_slave():
    made = []

    def start(respond):
        made.append(PtySlave(respond))
        return made[-1]
    yield start
    for slave in made:
        slave.close()
