import pytest


@pytest.fixture
def pyplot():
    """matplotlib.pyplot on the non-interactive Agg backend; closes all figures.

    Skips the test when matplotlib is not installed, as scikit-learn's does.
    """
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.close("all")
    yield plt
    plt.close("all")
