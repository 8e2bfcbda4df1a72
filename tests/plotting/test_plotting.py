import re
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.linear_model import LinearRegression

import skvae.plotting
from skvae import ConditionalVAE, VAEOutlierDetector, VAETransformer
from skvae.datasets import PATTERN_NAMES, make_patterns
from skvae.plotting import (
    InterpolationDisplay,
    LatentSpaceDisplay,
    LossCurveDisplay,
    PosteriorDisplay,
    ReconstructionDisplay,
    SampleGridDisplay,
)


@pytest.fixture(scope="module")
def data():
    return make_patterns(n_samples=120, random_state=0)


@pytest.fixture(scope="module")
def vae(data):
    """A small VAE with three latent dimensions, so that pairs can be chosen."""
    X, _ = data
    return VAETransformer(n_components=3, likelihood="bernoulli",
                          hidden_layer_sizes=(16,), solver="lbfgs", max_iter=200,
                          tol=1e-2,
                          random_state=0).fit(X)


def fit_quietly(estimator, X, y=None):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return estimator.fit(X) if y is None else estimator.fit(X, y)


@pytest.fixture(scope="module")
def estimators(data):
    """A tiny fitted model of each estimator class, and with a flow prior."""
    X, y = data
    tiny = {"likelihood": "bernoulli", "hidden_layer_sizes": (8,), "max_iter": 20,
            "random_state": 0}
    return {
        "transformer": fit_quietly(VAETransformer(**tiny), X),
        "transformer, flow prior": fit_quietly(VAETransformer(prior="flow", **tiny), X),
        "conditional": fit_quietly(ConditionalVAE(**tiny), X, y),
        "conditional, flow prior": fit_quietly(ConditionalVAE(prior="flow", **tiny),
                                               X, y),
        "outlier detector": fit_quietly(VAEOutlierDetector(n_estimators=1, **tiny),
                                        X),
    }


def posterior_std(vae, X):
    return vae.transform(np.atleast_2d(X), return_std=True)[1]


def image_arrays(display):
    return np.array([[im.get_array() for im in row] for row in display.images_])


# -- LatentSpaceDisplay ----------------------------------------------------------


def test_latent_space_draws_codes_coloured_by_label(pyplot, vae, data):
    X, y = data
    names = np.array(PATTERN_NAMES)[y]
    display = LatentSpaceDisplay.from_estimator(vae, X, names, components=(2, 0))
    Z = vae.transform(X)
    assert list(display.classes_) == sorted(PATTERN_NAMES)
    colors = pyplot.get_cmap("tab10").colors
    for i, (name, scatter) in enumerate(zip(display.classes_, display.scatter_,
                                            strict=True)):
        assert_allclose(scatter.get_offsets(), Z[names == name][:, [2, 0]])
        assert_allclose(scatter.get_facecolor()[0, :3], colors[i])
        assert scatter.get_label() == name
    legend = [t.get_text() for t in display.ax_.get_legend().get_texts()]
    assert legend == sorted(PATTERN_NAMES)
    assert display.ax_.get_xlabel() == "$z_{2}$"
    assert display.ax_.get_ylabel() == "$z_{0}$"
    assert display.ellipses_ is None


def test_latent_space_without_labels_and_with_kwargs(pyplot, vae, data):
    X, _ = data
    display = LatentSpaceDisplay.from_estimator(vae, X, s=30, marker="^")
    (scatter,) = display.scatter_
    assert len(scatter.get_offsets()) == len(X)
    assert_allclose(scatter.get_sizes(), [30])
    assert display.ax_.get_legend() is None


def test_latent_space_uncertainty_ellipses(pyplot, vae, data):
    X, y = data
    display = LatentSpaceDisplay.from_estimator(vae, X, y, components=(0, 1),
                                                show_uncertainty=True, n_std=2)
    std = posterior_std(vae, X)[:, :2]
    for label, ellipses in zip(display.classes_, display.ellipses_, strict=True):
        s = std[y == label]
        # Full axes of the ellipses: 2 * n_std * sigma, major axis first.
        assert_allclose(np.sort(np.c_[ellipses.get_widths(), ellipses.get_heights()]),
                        np.sort(4 * s), rtol=1e-6)
        assert_allclose(ellipses.get_offsets(), vae.transform(X[y == label])[:, :2])


def test_latent_space_pca_projection(pyplot, vae, data):
    X, y = data
    display = LatentSpaceDisplay.from_estimator(vae, X, y, projection="pca",
                                                show_uncertainty=True)
    expected = PCA(n_components=2).fit_transform(vae.transform(X))
    codes = np.vstack([s.get_offsets() for s in display.scatter_])
    order = np.concatenate([np.flatnonzero(y == c) for c in display.classes_])
    # Principal axes are defined up to sign.
    assert_allclose(np.abs(codes), np.abs(expected[order]), atol=1e-10)
    assert "principal" in display.ax_.get_xlabel()
    # Projecting diag(sigma^2) onto two orthonormal axes cannot add variance.
    total = posterior_std(vae, X) ** 2
    assert np.all(np.trace(display.covariances, axis1=1, axis2=2)
                  <= total.sum(axis=1) + 1e-12)


def test_latent_space_accepts_an_axes(pyplot, vae, data):
    X, y = data
    fig, axes = pyplot.subplots(1, 2)
    display = LatentSpaceDisplay.from_estimator(vae, X, y, ax=axes[1])
    assert display.ax_ is axes[1] and display.figure_ is fig
    assert len(axes[1].collections) == 4 and not axes[0].collections


@pytest.mark.parametrize(
    "params, match",
    [
        ({"components": (0, 3)}, "pair of two different latent dimensions in"),
        ({"components": (1, 1)}, "pair of two different"),
        ({"components": 0}, "pair of two different"),
        ({"components": (0, 1), "projection": "pca"}, "not both"),
        ({"projection": "tsne"}, "'projection' parameter .* str among {'pca'} or None"),
        ({"y": np.zeros(3)}, "one label per sample"),
    ],
)
def test_latent_space_bad_arguments(pyplot, vae, data, params, match):
    X, _ = data
    with pytest.raises(ValueError, match=match):
        LatentSpaceDisplay.from_estimator(vae, X, **params)


def test_one_latent_dimension_cannot_be_drawn_as_a_pair(pyplot, data):
    X, _ = data
    vae1 = VAETransformer(n_components=1, hidden_layer_sizes=(), max_iter=5,
                          random_state=0)
    with pytest.warns(UserWarning):
        vae1.fit(X)
    with pytest.raises(ValueError, match="n_components >= 2"):
        LatentSpaceDisplay.from_estimator(vae1, X)
    with pytest.raises(ValueError, match="n_components >= 2"):
        PosteriorDisplay.from_estimator(vae1, X[0])


@pytest.mark.parametrize(
    "make_display",
    [
        lambda est, X: LatentSpaceDisplay.from_estimator(est, X),
        lambda est, X: ReconstructionDisplay.from_estimator(est, X,
                                                            image_shape=(4, 4)),
        lambda est, X: SampleGridDisplay.from_estimator(est, image_shape=(4, 4)),
        lambda est, X: InterpolationDisplay.from_estimator(est, X[0], X[1],
                                                           image_shape=(4, 4)),
        lambda est, X: PosteriorDisplay.from_estimator(est, X[0]),
        lambda est, X: LossCurveDisplay.from_estimator(est),
    ],
)
def test_every_display_refuses_unfitted_and_foreign_estimators(pyplot, data,
                                                                 make_display):
    X, _ = data
    with pytest.raises(NotFittedError):
        make_display(VAETransformer(), X)
    with pytest.raises(TypeError, match="fitted skvae estimator"):
        make_display(LinearRegression(), X)


# -- ReconstructionDisplay -------------------------------------------------------


def test_reconstruction_draws_originals_above_reconstructions(pyplot, vae, data):
    X, _ = data
    display = ReconstructionDisplay.from_estimator(vae, X, image_shape=(4, 4),
                                                   n_images=5, cmap="viridis")
    assert display.images_.shape == (2, 5)
    assert len(display.ax_.images) == 10
    images = image_arrays(display)
    assert_allclose(images[0], X[:5].reshape(5, 4, 4))
    reconstructions = vae.inverse_transform(vae.transform(X[:5]))
    assert_allclose(images[1], reconstructions.reshape(5, 4, 4))
    # Originals sit above reconstructions.
    top = [im.get_extent()[3] for im in display.images_[:, 0]]
    assert top[0] > top[1]
    labels = [t.get_text() for t in display.ax_.get_yticklabels()]
    assert labels == ["original", "reconstruction"]
    assert display.images_[0, 0].get_cmap().name == "viridis"


def test_reconstruction_n_images_beyond_the_data(pyplot, vae, data):
    X, _ = data
    display = ReconstructionDisplay.from_estimator(vae, X[:3], image_shape=(4, 4),
                                                   n_images=8)
    assert display.images_.shape == (2, 3)


@pytest.mark.parametrize(
    "image_shape, match",
    [((4, 5), r"holds 20 pixels, but the estimator was fitted on 16 features"),
     ((16,), "pair of positive ints"),
     ((4, -4), "pair of positive ints")],
)
def test_image_shape_must_match_n_features(pyplot, vae, data, image_shape, match):
    X, _ = data
    with pytest.raises(ValueError, match=match):
        ReconstructionDisplay.from_estimator(vae, X, image_shape=image_shape)
    with pytest.raises(ValueError, match=match):
        SampleGridDisplay.from_estimator(vae, image_shape=image_shape)
    with pytest.raises(ValueError, match=match):
        InterpolationDisplay.from_estimator(vae, X[0], X[1], image_shape=image_shape)


# -- SampleGridDisplay -----------------------------------------------------------


def test_sample_grid_from_the_prior_matches_sample(pyplot, vae):
    display = SampleGridDisplay.from_estimator(vae, image_shape=(4, 4), n_rows=3,
                                               n_cols=5, random_state=7)
    assert display.images_.shape == (3, 5)
    assert len(display.ax_.images) == 15
    expected = vae.sample(15, random_state=7, mean=True).reshape(3, 5, 4, 4)
    assert_allclose(image_arrays(display), expected)


def test_sample_grid_over_two_latent_dimensions(pyplot, vae):
    display = SampleGridDisplay.from_estimator(vae, image_shape=(4, 4),
                                               method="grid", n_rows=4, n_cols=6,
                                               components=(2, 1))
    across, down = display.grid_values
    assert across.shape == (6,) and down.shape == (4,)
    assert np.all(np.diff(across) > 0) and np.all(np.diff(down) < 0)
    assert_allclose(across[[0, -1]], [-1.6448536, 1.6448536], rtol=1e-6)
    # The tile in row r, column c decodes z_2 = across[c], z_1 = down[r], z_0 = 0.
    z = np.zeros((1, 3))
    z[0, 2], z[0, 1] = across[4], down[1]
    assert_allclose(display.images_[1, 4].get_array(),
                    vae.inverse_transform(z).reshape(4, 4))
    ax = display.ax_
    assert ax.get_xlabel() == "$z_{2}$" and ax.get_ylabel() == "$z_{1}$"
    assert len(ax.get_xticklabels()) == 6 and len(ax.get_yticklabels()) == 4


@pytest.mark.parametrize(
    "params, match",
    [({"method": "posterior"}, "'method' parameter .* must be a str among"),
     ({"method": "grid", "components": (0, 5)}, "latent dimensions in"),
     ({"n_rows": 0}, r"'n_rows' parameter .* int in the range \[1, inf\)"),
     ({"n_cols": 2.0}, r"'n_cols' parameter .* int in the range \[1, inf\)")],
)
def test_sample_grid_bad_arguments(pyplot, vae, params, match):
    with pytest.raises(ValueError, match=match):
        SampleGridDisplay.from_estimator(vae, image_shape=(4, 4), **params)


# -- InterpolationDisplay --------------------------------------------------------


def test_interpolation_decodes_the_straight_line(pyplot, vae, data):
    X, y = data
    start, end = X[y == 0][0], X[y == 2][0]
    display = InterpolationDisplay.from_estimator(vae, start, end,
                                                  image_shape=(4, 4), n_steps=5)
    assert display.images_.shape == (1, 7)
    images = image_arrays(display)[0]
    assert_allclose(images[0], start.reshape(4, 4))
    assert_allclose(images[-1], end.reshape(4, 4))
    mu = vae.transform(np.vstack([start, end]))
    midpoint = vae.inverse_transform(mu.mean(axis=0, keepdims=True))
    assert_allclose(images[3], midpoint.reshape(4, 4), rtol=1e-6)
    labels = [t.get_text() for t in display.ax_.get_xticklabels()]
    assert labels == ["x_start", "t=0", "t=0.25", "t=0.5", "t=0.75", "t=1", "x_end"]
    assert len(display.ax_.patches) == 2


def test_interpolation_without_inputs_on_a_given_axes(pyplot, vae, data):
    X, _ = data
    fig, ax = pyplot.subplots()
    display = InterpolationDisplay.from_estimator(vae, X[0], X[1],
                                                  image_shape=(4, 4), n_steps=3,
                                                  show_inputs=False, ax=ax)
    assert display.ax_ is ax and display.figure_ is fig
    assert len(ax.images) == 3 and not ax.patches


@pytest.mark.parametrize(
    "params, match",
    [({"n_steps": 1}, r"'n_steps' parameter .* int in the range \[2, inf\)"),
     ({"x_end": np.ones(9)}, "x_end must be one sample with 16 features")],
)
def test_interpolation_bad_arguments(pyplot, vae, data, params, match):
    X, _ = data
    kwargs = {"x_start": X[0], "x_end": X[1], "image_shape": (4, 4), **params}
    with pytest.raises(ValueError, match=match):
        InterpolationDisplay.from_estimator(vae, **kwargs)


# -- PosteriorDisplay ------------------------------------------------------------


@pytest.mark.parametrize("components", [(0, 1), (2, 0)])
def test_posterior_ellipse_radius_is_two_sigma(pyplot, vae, data, components):
    X, _ = data
    display = PosteriorDisplay.from_estimator(vae, X[5], components=components,
                                              n_draws=20000, random_state=0)
    mu = vae.transform(X[5:6])[0, list(components)]
    sigma = posterior_std(vae, X[5])[0, list(components)]
    ellipse = display.ellipse_
    assert_allclose(ellipse.center, mu)
    assert_allclose([ellipse.width / 2, ellipse.height / 2], 2 * sigma)
    assert ellipse.angle == 0
    assert_allclose(display.mean_marker_.get_xydata(), [mu])
    draws = display.scatter_.get_offsets()
    assert draws.shape == (20000, 2)
    assert_allclose(draws.mean(axis=0), mu, atol=4 * sigma.max() / np.sqrt(20000))
    assert_allclose(draws.std(axis=0), sigma, rtol=0.03)
    # A 2-D standard normal lies within radius 2 with probability 1 - e^-2.
    inside = np.sum(((draws - mu) / sigma) ** 2, axis=1) <= 4
    assert inside.mean() == pytest.approx(1 - np.exp(-2), abs=0.01)
    ax = display.ax_
    assert ax.get_xlabel() == f"$z_{{{components[0]}}}$"
    assert ax.get_ylabel() == f"$z_{{{components[1]}}}$"


def test_posterior_prior_circle_n_std_and_axes(pyplot, vae, data):
    X, _ = data
    fig, ax = pyplot.subplots()
    display = PosteriorDisplay.from_estimator(vae, X[0], n_std=3, n_draws=10,
                                              random_state=0, ax=ax, color="green")
    assert display.ax_ is ax and display.figure_ is fig
    sigma = posterior_std(vae, X[0])[0, :2]
    assert_allclose(display.ellipse_.width, 6 * sigma[0])
    assert display.prior_ellipse_.width == 6 and display.prior_ellipse_.center == (0, 0)
    assert display.prior_scatter_ is None
    assert_allclose(display.scatter_.get_facecolor()[0, :3], [0, 0.50196, 0],
                    atol=1e-4)
    no_prior = PosteriorDisplay.from_estimator(vae, X[0], show_prior=False)
    assert no_prior.prior_ellipse_ is None and len(no_prior.ax_.patches) == 1


def test_posterior_bad_arguments(pyplot, vae, data):
    X, _ = data
    with pytest.raises(ValueError, match="latent dimensions in"):
        PosteriorDisplay.from_estimator(vae, X[0], components=(0, 3))
    with pytest.raises(ValueError, match="x must be one sample with 16 features"):
        PosteriorDisplay.from_estimator(vae, X[:2])
    with pytest.raises(ValueError, match=r"'n_draws' parameter .* \[1, inf\)"):
        PosteriorDisplay.from_estimator(vae, X[0], n_draws=0)


@pytest.mark.parametrize("model", ["transformer, flow prior",
                                   "conditional, flow prior"])
def test_posterior_draws_a_flow_prior_by_sampling_it(pyplot, data, estimators, model):
    X, _ = data
    flow = estimators[model]
    display = PosteriorDisplay.from_estimator(flow, X[0], n_draws=200, random_state=0)
    # The prior is drawn after the posterior noise, from the same generator.
    rng = np.random.RandomState(0)
    rng.standard_normal((200, 2))
    assert_allclose(display.prior_scatter_.get_offsets(),
                    flow.sample_latent(200, random_state=rng))
    assert display.prior_ellipse_ is None
    assert "prior" in display.prior_scatter_.get_label()
    hidden = PosteriorDisplay.from_estimator(flow, X[0], n_draws=10, show_prior=False)
    assert hidden.prior_scatter_ is None and hidden.prior_ellipse_ is None


# -- LossCurveDisplay ------------------------------------------------------------


def test_loss_curve_of_lbfgs(pyplot, vae):
    display = LossCurveDisplay.from_estimator(vae, color="black")
    assert_allclose(display.line_.get_ydata(), vae.loss_curve_)
    assert_allclose(display.line_.get_xdata(), np.arange(1, vae.n_iter_ + 1))
    assert display.validation_line_ is None
    assert display.ax_.get_xlabel() == "iteration"
    assert display.line_.get_color() == "black"


def test_loss_curve_with_validation_scores(pyplot, data):
    X, _ = data
    vae = VAETransformer(likelihood="bernoulli", hidden_layer_sizes=(8,),
                         solver="adam", early_stopping=True, max_iter=5,
                         learning_rate_init=1e-2, random_state=0)
    with pytest.warns(UserWarning):
        vae.fit(X)
    fig, ax = pyplot.subplots()
    display = LossCurveDisplay.from_estimator(vae, ax=ax)
    assert display.ax_ is ax
    assert_allclose(display.validation_line_.get_ydata(),
                    -np.asarray(vae.validation_scores_))
    assert display.ax_.get_xlabel() == "epoch"
    assert len(ax.get_legend().get_texts()) == 2


# -- matplotlib is optional ------------------------------------------------------


def test_import_skvae_does_not_import_matplotlib():
    code = "import sys, skvae; assert 'matplotlib' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_missing_matplotlib_names_the_plot_extra(monkeypatch, vae, data):
    X, _ = data
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ImportError, match=r"pip install skvae\[plot\]"):
        LatentSpaceDisplay.from_estimator(vae, X)
    with pytest.raises(ImportError, match=r"LossCurveDisplay.plot requires"):
        LossCurveDisplay([1.0, 0.5]).plot()


# -- input types -----------------------------------------------------------------


def test_dataframe_input_draws_without_feature_name_warnings(pyplot, data):
    pd = pytest.importorskip("pandas")
    X, y = data
    df = pd.DataFrame(X, columns=[f"pixel{i}" for i in range(16)])
    vae = VAETransformer(likelihood="bernoulli", hidden_layer_sizes=(8,),
                         max_iter=200, tol=1e-2, random_state=0).fit(df)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        latent = LatentSpaceDisplay.from_estimator(vae, df, pd.Series(y))
        ReconstructionDisplay.from_estimator(vae, df, image_shape=(4, 4))
        PosteriorDisplay.from_estimator(vae, df.iloc[0])
        InterpolationDisplay.from_estimator(vae, df.iloc[0], df.iloc[1],
                                            image_shape=(4, 4))
    assert_allclose(latent.codes, vae.transform(df))


def test_float32_codes_stay_float32(pyplot, data):
    X, y = data
    X = X.astype(np.float32)
    vae = VAETransformer(likelihood="bernoulli", hidden_layer_sizes=(8,),
                         max_iter=200, tol=1e-2, random_state=0).fit(X)
    display = LatentSpaceDisplay.from_estimator(vae, X, y, show_uncertainty=True)
    assert display.codes.dtype == np.float32
    assert display.covariances.dtype == np.float32


# -- every Display with every estimator ------------------------------------------


def draw(picture, estimator, X, labels, classes=None):
    """Draw ``picture``; ``classes`` (one per row of X) are decoded as, if given."""
    one_class = None if classes is None else classes[0]
    if picture == "latent space":
        return LatentSpaceDisplay.from_estimator(estimator, X, labels)
    if picture == "posterior":
        return PosteriorDisplay.from_estimator(estimator, X[0], n_draws=50,
                                               random_state=0)
    if picture == "reconstruction":
        return ReconstructionDisplay.from_estimator(estimator, X, classes,
                                                    image_shape=(4, 4), n_images=4)
    if picture == "prior samples":
        return SampleGridDisplay.from_estimator(estimator, image_shape=(4, 4),
                                                n_rows=2, n_cols=3, y=one_class,
                                                random_state=0)
    if picture == "latent grid":
        return SampleGridDisplay.from_estimator(estimator, image_shape=(4, 4),
                                                method="grid", n_rows=2, n_cols=3,
                                                y=one_class)
    if picture == "interpolation":
        return InterpolationDisplay.from_estimator(estimator, X[0], X[1],
                                                   image_shape=(4, 4), n_steps=3,
                                                   y=one_class)
    return LossCurveDisplay.from_estimator(estimator)


PICTURES = ["latent space", "posterior", "reconstruction", "prior samples",
            "latent grid", "interpolation", "loss curve"]

# The public method each picture needs and a VAEOutlierDetector lacks.
NEEDED_BY = {"latent space": "transform", "posterior": "transform",
             "reconstruction": "transform", "prior samples": "sample",
             "latent grid": "inverse_transform", "interpolation": "transform"}


@pytest.mark.parametrize("picture", PICTURES)
@pytest.mark.parametrize("model", ["transformer", "transformer, flow prior",
                                   "conditional", "conditional, flow prior",
                                   "outlier detector"])
def test_every_display_draws_or_refuses_every_estimator(pyplot, data, estimators,
                                                        model, picture):
    X, y = data
    estimator = estimators[model]
    classes = y if isinstance(estimator, ConditionalVAE) else None
    if isinstance(estimator, VAEOutlierDetector) and picture in NEEDED_BY:
        match = (rf"{NEEDED_BY[picture]}\b.*, which VAEOutlierDetector does not "
                 "have. Fit a VAETransformer")
        with pytest.raises(TypeError, match=match):
            draw(picture, estimator, X, y, classes)
        return
    display = draw(picture, estimator, X, y, classes)
    assert display.ax_.has_data() and display.figure_ is display.ax_.figure


def test_sample_grid_draws_what_a_flow_prior_samples(pyplot, estimators):
    flow = estimators["transformer, flow prior"]
    display = SampleGridDisplay.from_estimator(flow, image_shape=(4, 4), n_rows=2,
                                               n_cols=3, random_state=3)
    images = image_arrays(display).reshape(6, 16)
    assert_allclose(images, flow.sample(6, random_state=3, mean=True))
    # Not the decoded N(0, I) codes that the flow transforms.
    standard = np.random.RandomState(3).standard_normal((6, 2))
    assert not np.allclose(images, flow.inverse_transform(standard), atol=0.05)


def test_conditional_reconstruction_decodes_rows_as_the_given_classes(
        pyplot, data, estimators):
    X, y = data
    cvae = estimators["conditional"]
    display = ReconstructionDisplay.from_estimator(cvae, X, y, image_shape=(4, 4),
                                                   n_images=5)
    codes = cvae.transform(X[:5])
    assert_allclose(image_arrays(display)[0], X[:5].reshape(5, 4, 4))
    assert_allclose(image_arrays(display)[1],
                    cvae.inverse_transform(codes, y[:5]).reshape(5, 4, 4))
    as_two = ReconstructionDisplay.from_estimator(cvae, X, 2, image_shape=(4, 4),
                                                  n_images=5)
    assert_allclose(image_arrays(as_two)[1],
                    cvae.inverse_transform(codes, 2).reshape(5, 4, 4))


def test_conditional_grid_path_and_samples_use_the_class(pyplot, data, estimators):
    X, _ = data
    cvae = estimators["conditional"]
    grid = SampleGridDisplay.from_estimator(cvae, image_shape=(4, 4), method="grid",
                                            n_rows=2, n_cols=2, y=3)
    across, down = grid.grid_values
    assert_allclose(grid.images_[0, 1].get_array(),
                    cvae.inverse_transform([[across[1], down[0]]], 3).reshape(4, 4))
    path = InterpolationDisplay.from_estimator(cvae, X[0], X[1], image_shape=(4, 4),
                                               n_steps=3, y=1, show_inputs=False)
    midpoint = cvae.transform(X[:2]).mean(axis=0, keepdims=True)
    assert_allclose(image_arrays(path)[0, 1],
                    cvae.inverse_transform(midpoint, 1).reshape(4, 4), rtol=1e-6)
    for y in (None, 2):
        samples = SampleGridDisplay.from_estimator(cvae, image_shape=(4, 4), n_rows=2,
                                                   n_cols=3, y=y, random_state=0)
        expected, _ = cvae.sample(6, y=y, random_state=0, mean=True)
        assert_allclose(image_arrays(samples), expected.reshape(2, 3, 4, 4))


@pytest.mark.parametrize("picture", ["reconstruction", "latent grid",
                                     "interpolation"])
def test_decoding_needs_the_class_exactly_for_a_conditional_model(
        pyplot, data, estimators, picture):
    X, y = data
    with pytest.raises(ValueError, match=r"ConditionalVAE decodes a code as a "
                       r"class, p\(x \| z, y\): pass y"):
        draw(picture, estimators["conditional"], X, y, classes=None)
    with pytest.raises(ValueError, match="labels not seen in fit"):
        draw(picture, estimators["conditional"], X, y, classes=np.full(len(X), 7))
    with pytest.raises(ValueError, match="VAETransformer decodes without one. "
                       "Leave y=None"):
        draw(picture, estimators["transformer"], X, y, classes=y)


def test_conditional_reconstruction_needs_a_class_per_row(pyplot, data, estimators):
    X, y = data
    with pytest.raises(ValueError, match="y must hold one class per row of X"):
        ReconstructionDisplay.from_estimator(estimators["conditional"], X, y[:3],
                                             image_shape=(4, 4))


def test_displays_reach_estimators_through_public_methods_only():
    package = Path(skvae.plotting.__file__).parent
    for path in package.glob("*.py"):
        assert not re.search(r"estimator\._", path.read_text()), path.name


# -- argument checks ---------------------------------------------------------------


@pytest.mark.parametrize("n_std", [-1, 0, np.nan, np.inf, "2"])
def test_n_std_must_be_positive_and_finite(pyplot, vae, data, n_std):
    X, _ = data
    def match(caller):
        return (rf"'n_std' parameter of {re.escape(caller)} must be a float in "
                r"the range \(0\.0, inf\)")

    with pytest.raises(ValueError, match=match("PosteriorDisplay.from_estimator")):
        PosteriorDisplay.from_estimator(vae, X[0], n_std=n_std)
    display = PosteriorDisplay(np.zeros(2), np.ones(2), np.zeros((3, 2)),
                               n_std=n_std)
    with pytest.raises(ValueError, match=match("PosteriorDisplay")):
        display.plot()
    with pytest.raises(ValueError, match=match("LatentSpaceDisplay.from_estimator")):
        LatentSpaceDisplay.from_estimator(vae, X, show_uncertainty=True, n_std=n_std)
    latent = LatentSpaceDisplay(np.zeros((3, 2)), covariances=np.ones((3, 2, 2)))
    with pytest.raises(ValueError, match=match("LatentSpaceDisplay.plot")):
        latent.plot(show_uncertainty=True, n_std=n_std)


def test_latent_space_pca_needs_two_samples(pyplot, vae, data):
    X, _ = data
    with pytest.raises(ValueError, match="projection='pca' .* needs at least 2 "
                       "samples, got 1"):
        LatentSpaceDisplay.from_estimator(vae, X[:1], projection="pca")


@pytest.mark.parametrize(
    "make_display, match",
    [
        (lambda vae, X: ReconstructionDisplay.from_estimator(
            vae, X, image_shape=(4, 4), n_images=0), "'n_images' parameter"),
        (lambda vae, X: InterpolationDisplay.from_estimator(
            vae, X[0], X[1], image_shape=(4, 4), show_inputs="yes"),
         "'show_inputs' parameter .* must be an instance of 'bool'"),
        (lambda vae, X: PosteriorDisplay.from_estimator(vae, X[0], show_prior=None),
         "'show_prior' parameter"),
        (lambda vae, X: PosteriorDisplay(np.zeros(2), np.ones(2), np.zeros((3, 2)))
         .plot(show_prior="no"), r"'show_prior' parameter of PosteriorDisplay\.plot"),
        (lambda vae, X: SampleGridDisplay.from_estimator(
            vae, image_shape=(4, 4), random_state="seed"), "'random_state' parameter"),
    ],
)
def test_other_bad_arguments_are_named(pyplot, vae, data, make_display, match):
    X, _ = data
    with pytest.raises(ValueError, match=match):
        make_display(vae, X)
