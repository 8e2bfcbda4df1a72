import numpy as np
import pytest

from skvae._nn.layout import Layout


def test_views_tile_the_buffer_and_share_memory():
    layout = Layout([("W", (2, 3)), ("b", (3,)), ("v", (1,))])
    assert layout.size == 10
    buffer = np.arange(10.0)
    views = layout.views(buffer)
    np.testing.assert_array_equal(views["W"], [[0, 1, 2], [3, 4, 5]])
    np.testing.assert_array_equal(views["b"], [6, 7, 8])
    buffer[9] = -1
    assert views["v"][0] == -1
    views["W"][1, 2] = 42
    assert buffer[5] == 42


def test_rejects_wrong_buffer_and_duplicate_names():
    with pytest.raises(ValueError, match="layout needs"):
        Layout([("W", (2, 2))]).views(np.zeros(3))
    with pytest.raises(ValueError, match="unique"):
        Layout([("W", (1,)), ("W", (2,))])
