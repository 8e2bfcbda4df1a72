"""The skip deep generative model (SDGM) of Maaløe et al. (2016), for
partly labeled data: model M2 with an auxiliary variable a.

Inference model q(a|x) q(y|a, x) q(z|a, y, x), generative model
p(y) p(z) p(a|z, y) p(x|a, z, y), with Gaussians from MLPs for a and z, the
classifier q(y|a, x) a softmax (:mod:`skvae._parts.classifiers`), p(y) the class
prior pi and p(z) the prior part (N(0, I) by default).  The auxiliary
variable makes the classifier and the posterior of z richer than M2's
(their input carries a draw of a), and the decoder sees a too (the "skip").

A row's class is a one-hot row of the condition C, an all-zero row marks an
unlabeled row, as in :mod:`skvae._models.semisupervised`.  With one draw
a ~ q(a|x) per row and one draw z ~ q(z|a, c, x) per row and class, let

    E(x, c) = log p(x|a, z, c) + log p(a|z, c) - beta KL(q(z|a, c, x) || p(z))

(the KL analytic for N(0, I); log p(a|z, c) - log q(a|x) sampled).  The
per-row losses are

    labeled (x, y):  -(E(x, y) - log q(a|x)) - w log q(y|a, x)
    unlabeled x:     -(sum_c q(c|a, x) [E(x, c) + log pi_c - log q(c|a, x))
                       - log q(a|x))

their mean over the batch (weighted by sample weights) plus the L2 penalty,
w as in M2 (``classification_weight`` times N / N_labeled).  Every class of
an unlabeled row is encoded and decoded, as M2 does, so a step costs about
``n_classes`` passes of the encoder of z, of p(a|z, y) and of the decoder.

Gradients, through d loss / d E(x, c) = -r_c with r_c the row's share of
the batch times q(c|a, x) (times 1 at the label of a labeled row):

- decoder, p(a|z, y), the prior's KL and the encoder of z: each (row, class)
  pair is one row of weight r_c, z reparameterized with its own noise;
- the classifier, through g = d loss / d log q(c|a, x) as in M2, then the
  log-softmax's Jacobian, back to its input [x, a];
- a = mu_a + exp(log_var_a / 2) eps_a collects d/da from the classifier,
  the encoder of z, p(a|z, y) and the decoder; log q(a|x), written through
  its noise, adds -1/2 per dimension to d/d log_var_a.

Prediction reads the model's class posterior p(y|x), proportional to
pi_y p(x|y), log p(x|y) estimated by importance sampling over K draws of
(a, z) from q: w = p(x|a, z, y) p(a|z, y) p(z) / (q(a|x) q(z|a, y, x)).
The amortized classifier is q(y|x) = E_q(a|x) q(y|a, x), estimated over
the same draws of a.

Noise comes in as one row of ``noise_dims`` = ka + n_classes * (k + the
prior's noise) standard normal columns per row and draw: the draw of a, then
per class the draw of z (and the prior's own noise).
"""

import math

import numpy as np
from scipy.special import logsumexp

from .._nn.gaussian import (
    gaussian_log_density,
    gaussian_log_density_grads,
    posterior_log_density,
    reparameterize,
    reparameterize_backward,
)
from .._nn.mlp import bounded
from .._parts.classifiers import SoftmaxClassifier
from .._parts.decoders import DECODERS
from .._parts.encoders import GaussianEncoder
from .._parts.heads import make_head
from .._parts.priors import PRIORS
from .semisupervised import class_posterior, split_batch
from .vae import VAENetwork


def build_auxiliary_network(n_features, n_components, hidden_layer_sizes, activation,
                            likelihood, dtype, *, n_auxiliary_components,
                            n_conditions, class_log_prior, label_weight=0.0,
                            prior="normal", decoder="mlp", settings=None,
                            missing_indicator=False):
    """An :class:`AuxiliarySemiSupervisedNetwork` from an estimator's settings.

    Every network of the inference model (q(a|x), q(y|a, x), q(z|a, y, x))
    and p(a|z, y) has the hidden layers ``hidden_layer_sizes``; the decoder
    mirrors them. The prior and the decoder are the registered parts
    ``prior`` and ``decoder`` name.
    """
    settings = settings or {}
    hidden = tuple(hidden_layer_sizes)
    head = make_head(likelihood, n_features)
    # d: what the inference networks read of x (its encoder input).
    d = head.n_inputs + missing_indicator * head.n_columns
    k, ka, n_classes = n_components, n_auxiliary_components, n_conditions
    return AuxiliarySemiSupervisedNetwork(
        auxiliary_encoder=GaussianEncoder(d, ka, hidden, activation,
                                          prefix="auxiliary_encoder"),
        classifier=SoftmaxClassifier(d + ka, n_classes, hidden, activation),
        encoder=GaussianEncoder(d + ka + n_classes, k, hidden, activation),
        auxiliary_prior=GaussianEncoder(k + n_classes, ka, hidden, activation,
                                        prefix="auxiliary_prior"),
        decoder=DECODERS[decoder].from_settings(
            head.n_columns, ka + k + n_classes, tuple(reversed(hidden)), activation,
            head, settings),
        prior=PRIORS[prior].from_settings(k, activation, settings),
        dtype=dtype, class_log_prior=class_log_prior, label_weight=label_weight,
        missing_indicator=missing_indicator)


class AuxiliarySemiSupervisedNetwork(VAENetwork):
    """The skip deep generative model: M2 with an auxiliary variable a.

    Parameters
    ----------
    auxiliary_encoder : GaussianEncoder
        q(a|x), on x; its ``n_components`` is the size ka of a.
    classifier : SoftmaxClassifier
        q(y|a, x), on [x, a].
    encoder : GaussianEncoder
        q(z|a, y, x), on [x, a, onehot(y)].
    auxiliary_prior : GaussianEncoder
        p(a|z, y), on [z, onehot(y)]: a Gaussian from an MLP, as the encoders.
    decoder : MLPDecoder or AutoregressiveDecoder
        p(x|a, z, y), on [a, z, onehot(y)].
    prior : StandardNormalPrior, FlowPrior or HierarchicalPrior
        p(z).
    dtype : numpy dtype
        Dtype of the parameters and of every computation.
    class_log_prior : ndarray of shape (n_classes,)
        log pi, the class prior p(y).
    label_weight : float, default=0.0
        Weight w of -log q(y|a, x) of each labeled row in the training loss.
    missing_indicator : bool, default=False
        Whether the inference networks see which entries of x are observed.
    """

    def __init__(self, auxiliary_encoder, classifier, encoder, auxiliary_prior,
                 decoder, prior, dtype, class_log_prior, label_weight=0.0,
                 missing_indicator=False):
        self.auxiliary_encoder = auxiliary_encoder
        self.classifier = classifier
        self.auxiliary_prior = auxiliary_prior
        super().__init__(encoder, decoder, prior, dtype,
                         n_conditions=classifier.n_classes,
                         missing_indicator=missing_indicator)
        self.n_auxiliary = auxiliary_encoder.n_components
        self.noise_dims = (self.n_auxiliary
                           + self.n_conditions * (self.n_components + prior.noise_dims))
        self.class_log_prior = np.asarray(class_log_prior, dtype=np.float64)
        self.label_weight = label_weight

    @property
    def parts(self):
        return (self.encoder, self.decoder, self.prior, self.classifier,
                self.auxiliary_encoder, self.auxiliary_prior)

    def initialize(self, X, rng, var_floor_fraction=1e-3, sample_weight=None):
        """Initialize as :meth:`VAENetwork.initialize`, then the classifier, q(a|x)
        and p(a|z, y)."""
        super().initialize(X, rng, var_floor_fraction, sample_weight)
        self.classifier.initialize(rng)
        self.auxiliary_encoder.initialize(rng)
        self.auxiliary_prior.initialize(rng)

    # -- pieces --------------------------------------------------------------

    def _split_draws(self, eps):
        """The draws of a (..., ka), and per class those of z (..., n_classes,
        k) and of the prior's own noise (..., n_classes, prior.noise_dims)."""
        ka, k = self.n_auxiliary, self.n_components
        per_class = eps[..., ka:].reshape(*eps.shape[:-1], self.n_conditions, -1)
        return eps[..., :ka], per_class[..., :k], per_class[..., k:]

    def _draw_auxiliary(self, X, eps_a):
        """a from q(a|x) for scaled X; every layer's output, mu, log_var, std, a."""
        outputs, mu, log_var = self.auxiliary_encoder.forward(X)
        A, std = reparameterize(mu, log_var, eps_a)
        return outputs, mu, log_var, std, A

    @staticmethod
    def _generative_input(A, Z, Y):
        """[a, z, onehot(y)], the decoder's input (a and z bounded)."""
        return np.concatenate([bounded(A), bounded(Z), Y], axis=-1)

    def _class_terms(self, X, eps):
        """The terms of every draw and class, for scoring (no gradients).

        X is in its original units, of shape (n, n_features); ``eps`` of
        shape (K, n or 1, ``noise_dims``). Returns log q(a|x) (K, n),
        log q(y|a, x) (K, n, C), and of shape (K, n, C): log p(x|a, z, c),
        log p(a|z, c), the KL term of z and log p(z) - log q(z|a, c, x) of
        one draw; and the scaling's log-Jacobian (per row, with gaps).
        """
        X, mask, E = self.inputs(X)
        n, d = E.shape
        eps_a, eps_z, noise = self._split_draws(eps)
        K = eps.shape[0]
        eps_a = np.broadcast_to(eps_a, (K, n, self.n_auxiliary))
        mu_a, log_var_a = self.auxiliary_encoder.encode(E)
        A = reparameterize(mu_a, log_var_a, eps_a)[0].reshape(K * n, -1)
        log_qa = posterior_log_density(eps_a, log_var_a)
        E_rep = np.broadcast_to(E, (K, n, d)).reshape(K * n, d)
        X_rep = np.broadcast_to(X, (K, *X.shape)).reshape(K * n, -1)
        mask_rep = None if mask is None else np.broadcast_to(
            mask, (K, *mask.shape)).reshape(K * n, -1)
        log_q = self.classifier.log_proba(np.concatenate([E_rep, A], axis=1))
        classes = np.eye(self.n_conditions, dtype=self.dtype)
        log_px, log_pa, kl, log_ratio = [], [], [], []
        for c, onehot in enumerate(classes):
            Y = np.broadcast_to(onehot, (K * n, self.n_conditions))
            eps_c = np.broadcast_to(eps_z[..., c, :], (K, n, self.n_components)
                                    ).reshape(K * n, self.n_components)
            noise_c = np.broadcast_to(noise[..., c, :], (K, n, noise.shape[-1])
                                      ).reshape(K * n, noise.shape[-1])
            mu, log_var = self.encoder.encode(np.concatenate([E_rep, A, Y], axis=1))
            Z, _ = reparameterize(mu, log_var, eps_c)
            mu_pa, log_var_pa = self.auxiliary_prior.encode(self._decoder_input(Z, Y))
            log_pa.append(gaussian_log_density(A, mu_pa, log_var_pa))
            log_px.append(self.decoder.log_prob(X_rep, self._generative_input(A, Z, Y),
                                                mask_rep))
            kl_terms, _ = self.prior.kl_terms(mu, log_var, eps_c, Z, noise_c)
            kl.append(kl_terms.sum(axis=1))
            log_ratio.append(self.prior.log_density(Z, noise_c)
                             - posterior_log_density(eps_c, log_var))
        log_px, log_pa, kl, log_ratio = (np.stack(terms, axis=-1).reshape(K, n, -1)
                                         for terms in (log_px, log_pa, kl, log_ratio))
        return (log_qa, log_q.reshape(K, n, -1), log_px, log_pa, kl, log_ratio,
                self.log_det(mask))

    # -- forward computations ------------------------------------------------

    def encode(self, X):
        """Mean and log-variance of q(z|a, y, x) at a = the mean of q(a|x) and
        y its most probable class under q(y|a, x), each of shape (n, k)."""
        E = self.inputs(X)[2]
        mu_a, _ = self.auxiliary_encoder.encode(E)
        log_q = self.classifier.log_proba(np.concatenate([E, mu_a], axis=1))
        Y = np.eye(self.n_conditions, dtype=self.dtype)[log_q.argmax(axis=1)]
        return self.encoder.encode(np.concatenate([E, mu_a, Y], axis=1))

    def log_proba(self, X, eps):
        """log q(y|x) = log E_q(a|x) q(y|a, x) over the draws ``eps`` of shape
        (K, n_samples or 1, ``noise_dims``), of shape (n_samples, n_classes)."""
        E = self.inputs(X)[2]
        n, d = E.shape
        K = eps.shape[0]
        eps_a = np.broadcast_to(self._split_draws(eps)[0], (K, n, self.n_auxiliary))
        mu_a, log_var_a = self.auxiliary_encoder.encode(E)
        A = reparameterize(mu_a, log_var_a, eps_a)[0].reshape(K * n, -1)
        E_rep = np.broadcast_to(E, (K, n, d)).reshape(K * n, d)
        log_q = self.classifier.log_proba(np.concatenate([E_rep, A], axis=1))
        return (logsumexp(log_q.reshape(K, n, -1), axis=0)
                - math.log(K)).astype(self.dtype, copy=False)

    def posterior_log_proba(self, X, eps):
        """log p(y|x) of the generative model, of shape (n_samples, n_classes).

        p(y|x) is proportional to pi_y p(x|y), log p(x|y) the
        importance-weighted estimate over the draws ``eps`` of (a, z) from q.
        """
        log_qa, _, log_px, log_pa, _, log_ratio, _ = self._class_terms(X, eps)
        log_w = log_px + log_pa + log_ratio - log_qa[..., None]
        log_pxy = logsumexp(log_w, axis=0) - math.log(eps.shape[0])
        return class_posterior(log_pxy, self.class_log_prior, self.dtype)

    def elbo(self, X, eps, beta=1.0, C=None):
        """Per-row bound on log p(x|y) where C gives the class, on log p(x)
        where it does not (an all-zero row of C, or C None), averaged over the
        draws ``eps``.

        For a draw of a the unlabeled bound is log sum_c pi_c exp(E(x, c)),
        the class sum at its tightest, minus log q(a|x).
        """
        log_qa, _, log_px, log_pa, kl, _, log_det = self._class_terms(X, eps)
        per_class = log_px + log_pa - beta * kl  # (K, n, C)
        bound = logsumexp(per_class + self.class_log_prior, axis=-1)
        if C is not None:
            C = np.broadcast_to(C, (X.shape[0], self.n_conditions))
            labeled = per_class[:, np.arange(X.shape[0]), C.argmax(axis=1)]
            bound = np.where(C.any(axis=1), labeled, bound)
        return ((bound - log_qa).mean(axis=0)
                + log_det).astype(self.dtype, copy=False)

    def sample_prior(self, eps):
        """Codes z drawn from the prior, given standard normal noise of shape
        (n, ``noise_dims``) (the first class's columns of z and prior noise)."""
        _, eps_z, noise = self._split_draws(eps)
        return self.prior.sample(eps_z[:, 0], noise[:, 0])

    def _decoding_input(self, Z, C):
        """The decoder's input for codes Z of class C, a at the mean of p(a|z, y)."""
        Y = np.broadcast_to(C, (Z.shape[0], self.n_conditions)).astype(Z.dtype)
        mu_a, _ = self.auxiliary_prior.encode(self._decoder_input(Z, Y))
        return self._generative_input(mu_a, Z, Y)

    def decoded_mean(self, Z, C=None):
        """What the decoder makes of codes Z of class C, with a at the mean
        of p(a|z, y)."""
        return self.scaler.inverse_transform(
            self.decoder.mean(self._decoding_input(Z, C)))

    def decoded_draw(self, Z, uniform, C=None):
        """x ~ p(x | a, z, y) for codes Z of class C, a at the mean of
        p(a|z, y), given uniform(0, 1) noise."""
        return self.scaler.inverse_transform(
            self.decoder.draw(self._decoding_input(Z, C), uniform))

    def _not_defined(self, what):
        raise NotImplementedError(
            f"{what} is not defined for the auxiliary model "
            "(n_auxiliary_components > 0): its codes z depend on a and on the "
            "class. VAEClassifier scores rows with predict_proba.")

    def kl(self, X, eps):
        self._not_defined("The KL term of a row")

    def log_likelihood(self, X, eps, C=None):
        self._not_defined("log p(x) of a row")

    def reconstruction_error(self, X, C=None):
        self._not_defined("The reconstruction error of a row")

    # -- training objective --------------------------------------------------

    def loss_and_grad(self, X, eps, objective, alpha, C, sample_weight=None):
        """The SDGM's training loss on the batch X and its gradient, written
        into ``grad``.

        ``C`` holds one-hot classes, all-zero rows for unlabeled rows.
        ``objective`` is an :class:`~skvae._models.objectives.ELBO` (one draw per
        row, ``eps`` of shape (1, n_samples, ``noise_dims``)) whose beta
        (and warm-up weight) applies to the KL term of z. ``sample_weight``
        weighs the rows as in M2; None weighs them equally.
        """
        if eps.shape[0] != 1:
            raise ValueError("The auxiliary model's objective takes one noise "
                             f"draw per row, got {eps.shape[0]}.")
        if objective.free_bits:
            raise ValueError(
                "The auxiliary model (n_auxiliary_components > 0) weighs each "
                "class's KL term by q(y|a, x), which free bits would not "
                f"differentiate through: use free_bits=0 (got {objective.free_bits}).")
        eps_a, eps_z, noise = self._split_draws(eps[0])
        X, mask, E = self.inputs(X)
        n, d = E.shape
        k, ka, n_classes, dtype = (self.n_components, self.n_auxiliary,
                                   self.n_conditions, self.dtype)
        _, share, n_effective, lab, unl, y_lab = split_batch(
            C, sample_weight, dtype)
        n_lab, n_unl = lab.size, unl.size

        # q(a|x) and q(y|a, x), reading the encoder input E of x
        enc_a, mu_a, log_var_a, std_a, A = self._draw_auxiliary(E, eps_a)
        log_qa = posterior_log_density(eps_a, log_var_a)
        log_q, classifier_outputs = self.classifier.forward(
            np.concatenate([E, A], axis=1))
        q_unl = np.exp(log_q[unl])

        # (row, class) pairs: each labeled row with its class, then each
        # unlabeled row with every class, class by class; r is the weight of
        # the pair's E(x, c) in -loss.
        rows = np.concatenate([lab, np.tile(unl, n_classes)])
        pair_class = np.concatenate([y_lab, np.repeat(np.arange(n_classes), n_unl)])
        Y = np.eye(n_classes, dtype=dtype)[pair_class]
        r = np.concatenate([share[lab], (q_unl * share[unl, None]).T.ravel()])
        X_p, E_p, A_p = X[rows], E[rows], A[rows]
        mask_p = None if mask is None else mask[rows]
        eps_p, noise_p = eps_z[rows, pair_class], noise[rows, pair_class]

        # q(z|a, y, x), p(a|z, y), p(x|a, z, y) and the KL term of z
        enc_z, mu_z, log_var_z = self.encoder.forward(
            np.concatenate([E_p, A_p, Y], axis=1))
        Z, std_z = reparameterize(mu_z, log_var_z, eps_p)
        pa_outputs, mu_pa, log_var_pa = self.auxiliary_prior.forward(
            self._decoder_input(Z, Y))
        log_pa = gaussian_log_density(A_p, mu_pa, log_var_pa)
        log_px, decoder_cache = self.decoder.forward(
            X_p, self._generative_input(A_p, Z, Y), mask_p)
        kl_terms, kl_cache = self.prior.kl_terms(mu_z, log_var_z, eps_p, Z, noise_p)
        beta = objective.beta
        E = log_px + log_pa - beta * kl_terms.sum(axis=1)

        log_prior = self.class_log_prior.astype(dtype)
        gain = E[n_lab:].reshape(n_classes, n_unl).T + log_prior - log_q[unl]
        total = (share[lab] @ E[:n_lab]
                 + share[unl] @ np.sum(q_unl * gain, axis=1)
                 - share @ log_qa
                 + self.label_weight * (share[lab] @ log_q[lab, y_lab]))

        # Backward through the pairs: d loss / d E = -r.
        d_in = self.decoder.backward(decoder_cache, -r)
        d_A_p = d_in[:, :ka].copy()
        d_Z = d_in[:, ka:ka + k].copy()
        d_mu_pa, d_log_var_pa = gaussian_log_density_grads(A_p, mu_pa, log_var_pa)
        d_A_p += r[:, None] * d_mu_pa
        d_heads_pa = np.concatenate([-r[:, None] * d_mu_pa, -r[:, None] * d_log_var_pa],
                                    axis=1)
        d_Z += self.auxiliary_prior.backward(pa_outputs, d_heads_pa,
                                             input_grad=True)[:, :k]
        d_mu_kl, d_log_var_kl, d_Z_kl = self.prior.kl_backward(
            kl_cache, r[:, None], beta, mu_z, log_var_z, eps_p, Z)
        if d_Z_kl is not None:
            d_Z += d_Z_kl
        d_heads_z = np.empty((rows.size, 2 * k), dtype=dtype)
        d_heads_z[:, :k], d_heads_z[:, k:] = reparameterize_backward(d_Z, eps_p, std_z)
        if d_mu_kl is not None:
            d_heads_z[:, :k] += d_mu_kl
        d_heads_z[:, k:] += d_log_var_kl
        d_A_p += self.encoder.backward(enc_z, d_heads_z, input_grad=True)[:, d:d + ka]
        d_A = np.zeros((n, ka), dtype=dtype)
        d_A[lab] = d_A_p[:n_lab]
        d_A[unl] = d_A_p[n_lab:].reshape(n_classes, n_unl, ka).sum(axis=0)

        # The classifier, as in M2, back to its input [x, a].
        d_log_q = np.zeros((n, n_classes), dtype=dtype)
        d_log_q[unl] = q_unl * (1 - gain) * share[unl, None]
        d_log_q[lab, y_lab] = -self.label_weight * share[lab]
        d_A += self.classifier.backward(classifier_outputs, log_q, d_log_q,
                                        input_grad=True)[:, d:]

        # a = mu_a + std_a * eps_a; +log q(a|x) adds -1/2 per dimension.
        d_heads_a = np.empty((n, 2 * ka), dtype=dtype)
        d_heads_a[:, :ka], d_heads_a[:, ka:] = reparameterize_backward(d_A, eps_a,
                                                                       std_a)
        d_heads_a[:, ka:] -= 0.5 * share[:, None]
        self.auxiliary_encoder.backward(enc_a, d_heads_a)

        return (-float(total) - self._mean_log_det(mask, share)
                + self._l2_penalty_and_grad(alpha, n_effective))
