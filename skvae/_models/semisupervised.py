"""Model M2 of Kingma et al. (2014): a conditional VAE and a classifier, for
partly labeled data.

The network is the conditional VAE's, encoder q(z|x), prior p(z), decoder
p(x|z, y), plus a classifier q(y|x) (:mod:`skvae._parts.classifiers`), all in one
flat buffer.  A row's class is given as a one-hot row of the condition C; an
all-zero row marks an unlabeled row.  With E(x, c) = E_q(z|x)[log p(x|z, c)]
- beta KL(q(z|x) || p(z)), the conditional ELBO, the per-row losses are

    labeled (x, y):  -E(x, y) - w log q(y|x)
    unlabeled x:     -(sum_c q(c|x) [E(x, c) + log pi_c] + H(q(.|x)))

where pi is the class prior and H the entropy; the unlabeled term sums over
every class (a bound on log p(x) for any q, tight when q is the posterior
p(y|x)), it does not sample one.  The training loss is their mean over the
batch plus the L2 penalty; ``w = label_weight`` is the estimator's
``classification_weight`` times N / N_labeled (the reference's alpha, so
that the classification term is ``classification_weight`` times the mean of
-log q(y|x) over the labeled rows).

The encoder does not see y: z is drawn once per row and decoded as every
class, so the class sum costs one encoder pass and ``n_classes`` decoder
passes, the KL term is the same for every class (and sums out of the class
weights), and encoding needs no label.  The gradients:

- decoder: each (row, class) pair is one decoder row of weight -q(c|x) / n
  (-1 / n for a labeled row and its class);
- encoder: d/dz sums over a row's classes, plus the KL term's;
- classifier, through g = d loss / d log q(c|x):
  g_c = q_c (log q_c + 1 - log p(x|z, c) - log pi_c) / n for an unlabeled
  row, and -w / n at the label of a labeled row; then the log-softmax's
  Jacobian (:func:`skvae._parts.classifiers.log_softmax_backward`).
"""

import numpy as np
from scipy.special import logsumexp

from .._nn.gaussian import reparameterize, reparameterize_backward
from .vae import VAENetwork, row_shares


def class_posterior(log_px, class_log_prior, dtype):
    """log p(y|x) in ``dtype``, from log p(x|y) of shape (n_samples, n_classes)
    and the class prior log pi: p(y|x) is proportional to pi_y p(x|y)."""
    # In float64, bounded, and relative to each row's best class: rows far
    # from the data may reach the dtype's limits, where a plain logsumexp
    # would round every class to probability one.
    huge = np.finfo(np.float64).max / 4
    log_joint = np.clip(log_px.astype(np.float64), -huge, huge)
    log_joint -= log_joint.max(axis=1, keepdims=True)
    log_joint += class_log_prior
    log_proba = log_joint - logsumexp(log_joint, axis=1, keepdims=True)
    return log_proba.astype(dtype, copy=False)


def split_batch(C, sample_weight, dtype):
    """A partly labeled batch's rows: the normalized sample weights (None
    without), each row's share of the batch (its weight over the total, 1/n
    without weights), the effective number of rows, the indices of the
    labeled and the unlabeled rows (an all-zero row of the one-hot ``C``)
    and the labeled rows' classes."""
    n = C.shape[0]
    weights, n_effective = row_shares(sample_weight, dtype, n)
    share = np.full(n, 1 / n, dtype=dtype) if weights is None else weights
    labeled = C.any(axis=1)
    lab, unl = np.flatnonzero(labeled), np.flatnonzero(~labeled)
    return weights, share, n_effective, lab, unl, C[lab].argmax(axis=1)


class SemiSupervisedNetwork(VAENetwork):
    """Encoder q(z|x), prior p(z), decoder p(x|z, y) and classifier q(y|x).

    Parameters
    ----------
    encoder, decoder, prior
        The parts of a conditional :class:`~skvae._models.vae.VAENetwork`
        whose decoder sees ``n_classes`` condition columns.
    classifier : SoftmaxClassifier
        q(y|x) over ``n_classes`` classes.
    dtype : numpy dtype
        Dtype of the parameters and of every computation.
    class_log_prior : ndarray of shape (n_classes,)
        log pi, the class prior of the unlabeled rows' bound.
    label_weight : float, default=0.0
        Weight w of -log q(y|x) of each labeled row in the training loss.
    """

    def __init__(self, encoder, decoder, prior, classifier, dtype, class_log_prior,
                 label_weight=0.0, missing_indicator=False):
        self.classifier = classifier
        super().__init__(encoder, decoder, prior, dtype,
                         n_conditions=classifier.n_classes,
                         missing_indicator=missing_indicator)
        self.class_log_prior = np.asarray(class_log_prior, dtype=np.float64)
        self.label_weight = label_weight

    @property
    def parts(self):
        return (self.encoder, self.decoder, self.prior, self.classifier)

    def initialize(self, X, rng, var_floor_fraction=1e-3, sample_weight=None):
        """Initialize the VAE as :meth:`VAENetwork.initialize`, then the classifier."""
        super().initialize(X, rng, var_floor_fraction, sample_weight)
        self.classifier.initialize(rng)

    def log_proba(self, X, eps=None):
        """log q(y|x), of shape (n_samples, n_classes).

        ``eps`` is unused: q(y|x) takes no draws (the auxiliary model's
        classifier, :mod:`skvae._models.auxiliary`, does).
        """
        return self.classifier.log_proba(self.inputs(X)[2])

    def posterior_log_proba(self, X, eps):
        """log p(y|x) of the generative model, of shape (n_samples, n_classes).

        p(y|x) is proportional to pi_y p(x|y), log p(x|y) estimated by the
        importance-weighted bound over the draws ``eps`` of q(z|x)
        (:meth:`log_likelihood` with the condition y): the class posterior
        that q(y|x) approximates, and the q that makes the unlabeled rows'
        bound tightest.
        """
        classes = np.eye(self.n_conditions, dtype=self.dtype)
        log_px = np.stack([self.log_likelihood(X, eps, c) for c in classes], axis=1)
        return class_posterior(log_px, self.class_log_prior, self.dtype)

    def class_elbos(self, X, eps, beta=1.0):
        """E(x, c) for every class c, of shape (n_classes, n_samples).

        The same codes z (from ``eps``, as in :meth:`VAENetwork.elbo`)
        decoded as each class; log p(x|z, c) averaged over the draws.
        """
        eps, noise = self._split_noise(eps)
        X, mask, encoder_input = self.inputs(X)
        mu, log_var = self.encoder.encode(encoder_input)
        Z, _ = reparameterize(mu, log_var, eps)
        kl = self.prior.kl(mu, log_var, eps, Z, noise)
        classes = np.eye(self.n_conditions, dtype=self.dtype)
        log_px = np.stack([
            self.decoder.log_prob(X, self._decoder_input(Z, c), mask).mean(axis=0)
            for c in classes])
        return log_px + self.log_det(mask) - beta * kl

    def elbo(self, X, eps, beta=1.0, C=None):
        """Per-row bound on log p(x | y) where C gives the class, on log p(x)
        where it does not.

        A row of C that is all zero (or C None) marks an unlabeled row, whose
        bound is log sum_c pi_c exp(E(x, c)), the class sum at its tightest.
        """
        if C is not None and np.all(np.any(C, axis=-1)):
            return super().elbo(X, eps, beta, C)
        per_class = self.class_elbos(X, eps, beta)
        unlabeled = logsumexp(per_class + self.class_log_prior[:, None], axis=0)
        if C is None:
            return unlabeled.astype(self.dtype, copy=False)
        C = np.broadcast_to(C, (X.shape[0], self.n_conditions))
        labeled = per_class[C.argmax(axis=1), np.arange(X.shape[0])]
        return np.where(C.any(axis=1), labeled, unlabeled).astype(self.dtype,
                                                                   copy=False)

    def loss_and_grad(self, X, eps, objective, alpha, C, sample_weight=None):
        """M2's training loss on the batch X and its gradient, written into ``grad``.

        ``C`` holds one-hot classes, all-zero rows for unlabeled rows.
        ``objective`` is an :class:`~skvae._models.objectives.ELBO` (one draw per
        row, ``eps`` of shape (1, n_samples, ``noise_dims``)): its beta,
        warm-up weight and free bits apply to the KL term. ``sample_weight``
        weighs the rows (each row's terms by its share of the batch's
        weight); None weighs them equally.
        """
        if eps.shape[0] != 1:
            raise ValueError("The semi-supervised objective takes one noise draw "
                             f"per row, got {eps.shape[0]}.")
        eps, noise = self._split_noise(eps)
        n, k = X.shape[0], self.n_components
        n_classes, dtype = self.n_conditions, self.dtype
        weights, share, n_effective, lab, unl, y_lab = split_batch(
            C, sample_weight, dtype)
        n_lab, n_unl = lab.size, unl.size
        X, mask, encoder_input = self.inputs(X)

        log_q, classifier_outputs = self.classifier.forward(encoder_input)
        enc, mu, log_var = self.encoder.forward(encoder_input)
        Z, std = reparameterize(mu, log_var, eps[0])

        # Decoder rows: each labeled row with its class, then each unlabeled
        # row with every class, class by class.
        rows = np.concatenate([lab, np.tile(unl, n_classes)])
        classes = np.concatenate([C[lab].astype(dtype, copy=False),
                                  np.repeat(np.eye(n_classes, dtype=dtype), n_unl,
                                            axis=0)])
        log_px, cache = self.decoder.forward(
            X[rows], self._decoder_input(Z[rows], classes),
            None if mask is None else mask[rows])
        q_unl = np.exp(log_q[unl])
        log_px_unl = log_px[n_lab:].reshape(n_classes, n_unl).T
        row_weights = -np.concatenate([share[lab],
                                       (q_unl * share[unl, None]).T.ravel()])
        d_Z_rows = self.decoder.backward(cache, row_weights)[:, :k]
        d_Z = np.empty((n, k), dtype=dtype)
        d_Z[lab] = d_Z_rows[:n_lab]
        d_Z[unl] = d_Z_rows[n_lab:].reshape(n_classes, n_unl, k).sum(axis=0)

        # The KL term is the ELBO objective's on a batch with no reconstruction.
        kl_loss, _, d_mu, d_log_var, d_Z_prior = objective(
            self.prior, np.zeros((1, n), dtype=dtype), mu, log_var, eps, Z[None],
            noise, weights)
        if d_Z_prior is not None:
            d_Z += d_Z_prior[0]
        d_heads = np.empty((n, 2 * k), dtype=dtype)
        d_heads[:, :k], d_heads[:, k:] = reparameterize_backward(d_Z, eps[0], std)
        if d_mu is not None:
            d_heads[:, :k] += d_mu
        d_heads[:, k:] += d_log_var
        self.encoder.backward(enc, d_heads)

        log_prior = self.class_log_prior.astype(dtype)
        gain = log_px_unl + log_prior - log_q[unl]  # E(x, c) + log pi_c - log q_c
        d_log_q = np.zeros((n, n_classes), dtype=dtype)
        d_log_q[unl] = q_unl * (1 - gain) * share[unl, None]
        d_log_q[lab, y_lab] = -self.label_weight * share[lab]
        self.classifier.backward(classifier_outputs, log_q, d_log_q)

        total = (share[lab] @ log_px[:n_lab]
                 + share[unl] @ np.sum(q_unl * gain, axis=1)
                 + self.label_weight * (share[lab] @ log_q[lab, y_lab]))
        loss = -float(total) + kl_loss
        return (loss - self._mean_log_det(mask, weights)
                + self._l2_penalty_and_grad(alpha, n_effective))
