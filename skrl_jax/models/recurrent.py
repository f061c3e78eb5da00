"""Recurrent layers for skrl-style recurrent models: ``GRU`` and ``LSTM`` over skrl's flat batches.

skrl's recurrent models (its PyTorch ``PPO_RNN`` examples) receive ``inputs["states"]`` as rows
``(batch * sequence_length, features)``, ``inputs["rnn"]`` as the hidden states at the start
of each sequence (``(num_layers, batch, hidden_size)`` each) and, in training,
``inputs["terminated"]`` ``(batch * sequence_length, 1)``: the episode ends inside the
sequences. Acting is the case ``sequence_length == 1``. These layers take exactly that::

    features, hidden = self.gru(inputs["states"], inputs["rnn"][0], inputs.get("terminated"))

and return ``features`` ``(batch * sequence_length, hidden_size)`` and the hidden state after
the last step. The time loop is one ``nn.scan`` per layer. After a step whose ``terminated``
is True the hidden state of that sequence is reset to zeros inside the scan, so the next step
starts a new episode (skrl resets at the same points, by splitting the sequence there).
"""

from __future__ import annotations

from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp


def _reset(carry: Any, ended: jax.Array) -> Any:
    """Zeros in place of the hidden state of the sequences whose step ended an episode, ``(batch,)``."""
    return jax.tree.map(lambda h: jnp.where(ended[:, None], jnp.zeros_like(h), h), carry)


class _ResettingStep(nn.Module):
    """One time step of one layer: zeros where the previous step ended an episode, then the cell.

    Resetting the carry on its way in (where the previous step ended), not on its way out, gives
    the same values and a cheaper gradient: XLA then applies the reset's select to the carry's
    gradient once per step instead of folding it into every weight-gradient fusion of the
    backward loop, where it is recomputed for each of their (hidden x hidden) elements.
    """

    cell_type: type
    hidden_size: int

    @nn.compact
    def __call__(self, carry: Any, step: tuple[jax.Array, jax.Array]) -> tuple[Any, jax.Array]:
        features, previous_ended = step
        return self.cell_type(self.hidden_size, name="cell")(_reset(carry, previous_ended), features)


_ScannedStep = nn.scan(_ResettingStep, variable_broadcast="params", split_rngs={"params": False}, in_axes=0, out_axes=0)


def sequences_of(rows: jax.Array, batch: int, where: str) -> jax.Array:
    """``(batch * length, ...)`` rows as time-major ``(length, batch, ...)`` sequences."""
    if rows.ndim < 1 or rows.shape[0] % batch:
        raise ValueError(
            f"{where}: the hidden state holds {batch} sequence(s) but the inputs have {rows.shape[0] if rows.ndim else 0} "
            f"rows (shape {tuple(rows.shape)}), not a multiple of {batch}: rows are (sequences * sequence_length)"
        )
    length = rows.shape[0] // batch
    return jnp.swapaxes(rows.reshape(batch, length, *rows.shape[1:]), 0, 1)


class RecurrentLayer(nn.Module):
    """Stacked recurrent layers over skrl's flat rows; ``cell_type`` is set by ``GRU`` / ``LSTM``,
    ``num_states`` is how many arrays of ``inputs["rnn"]`` it reads (GRU 1, LSTM 2: h and c)."""

    hidden_size: int
    num_layers: int = 1
    cell_type: Any = None
    num_states = 0

    def hidden_from(self, rnn: list[jax.Array]) -> Any:
        """The hidden state this layer takes, from skrl's ``inputs["rnn"]`` list."""
        return rnn[0] if self.num_states == 1 else tuple(rnn[: self.num_states])

    def rnn_list(self, hidden: Any) -> list[jax.Array]:
        """``hidden`` as skrl's ``outputs["rnn"]`` list."""
        return [hidden] if self.num_states == 1 else list(hidden)

    def sizes(self, num_envs: int) -> list[tuple[int, int, int]]:
        """The ``get_specification()["rnn"]["sizes"]`` entries of this layer."""
        return [(self.num_layers, num_envs, self.hidden_size)] * self.num_states

    def _layer_carries(self, hidden: Any) -> list[Any]:
        raise NotImplementedError

    def _hidden_of(self, carries: list[Any]) -> Any:
        raise NotImplementedError

    def _check_hidden(self, hidden: jax.Array, what: str) -> None:
        expected = (self.num_layers, "batch", self.hidden_size)
        if (
            getattr(hidden, "ndim", None) != 3
            or hidden.shape[0] != self.num_layers
            or hidden.shape[2] != self.hidden_size
        ):
            got = tuple(hidden.shape) if hasattr(hidden, "shape") else type(hidden).__name__
            raise ValueError(
                f"{type(self).__name__}: {what} must have shape (num_layers, batch, hidden_size) = {expected}, got {got}"
            )

    @nn.compact
    def __call__(self, states: jax.Array, hidden: Any, terminated: jax.Array | None = None) -> tuple[jax.Array, Any]:
        """``states`` ``(batch * L, features)``, ``hidden`` as in ``inputs["rnn"]``, ``terminated``
        ``(batch * L, 1)`` or None -> ``(outputs (batch * L, hidden_size), hidden after the last step)``."""
        carries = self._layer_carries(hidden)
        batch = jax.tree.leaves(carries[0])[0].shape[0]
        where = type(self).__name__
        sequence = sequences_of(states, batch, where)
        if terminated is None:
            ended = jnp.zeros(sequence.shape[:2], bool)
        else:
            if jnp.size(terminated) != states.shape[0]:
                raise ValueError(
                    f"{where}: terminated must hold one flag per row of the states ({states.shape[0]}), "
                    f"got shape {tuple(jnp.shape(terminated))}"
                )
            ended = sequences_of(jnp.reshape(terminated, (states.shape[0],)), batch, where)
            ended = ended.astype(bool)
        finals = []
        dtype = sequence.dtype
        for layer, carry in enumerate(carries):
            carry = jax.tree.map(lambda h: h.astype(dtype), carry)
            # the incoming carry is the state after the previous step, already reset: the first step keeps it
            previous_ended = jnp.concatenate([jnp.zeros_like(ended[:1]), ended[:-1]])
            if sequence.shape[0] == 1:  # acting: one step, no loop (the same parameters as the scan's)
                carry, output = _ResettingStep(self.cell_type, self.hidden_size, name=f"layer_{layer}")(
                    carry, (sequence[0], previous_ended[0])
                )
                sequence = output[None]
            else:
                carry, sequence = _ScannedStep(self.cell_type, self.hidden_size, name=f"layer_{layer}")(
                    carry, (sequence, previous_ended)
                )
            finals.append(_reset(carry, ended[-1]))
        outputs = jnp.swapaxes(sequence, 0, 1).reshape(states.shape[0], self.hidden_size)
        return outputs, self._hidden_of(finals)


class GRU(RecurrentLayer):
    """skrl's ``nn.GRU(..., batch_first=True)`` in flax: ``hidden`` ``(num_layers, batch, hidden_size)``.

    ``features, hidden = GRU(64)(inputs["states"], inputs["rnn"][0], inputs.get("terminated"))``;
    the model's ``get_specification()`` lists one size, ``(num_layers, num_envs, hidden_size)``.
    """

    cell_type: Any = nn.GRUCell
    num_states = 1

    def _layer_carries(self, hidden: jax.Array) -> list[jax.Array]:
        self._check_hidden(hidden, "the hidden state (inputs['rnn'][0])")
        return [hidden[layer] for layer in range(self.num_layers)]

    def _hidden_of(self, carries: list[jax.Array]) -> jax.Array:
        return jnp.stack(carries)


class LSTM(RecurrentLayer):
    """skrl's ``nn.LSTM(..., batch_first=True)`` in flax: ``hidden`` is ``(h, c)``, each
    ``(num_layers, batch, hidden_size)``, as skrl's LSTM models list them in ``inputs["rnn"]``.

    ``features, (h, c) = LSTM(64)(inputs["states"], inputs["rnn"], inputs.get("terminated"))``;
    ``get_specification()`` lists two sizes (h and c).
    """

    cell_type: Any = nn.OptimizedLSTMCell
    num_states = 2

    def _layer_carries(self, hidden: Any) -> list[tuple[jax.Array, jax.Array]]:
        if not isinstance(hidden, (tuple, list)) or len(hidden) != 2:
            raise ValueError(
                f"LSTM: the hidden state must be (h, c), two arrays of shape (num_layers, batch, hidden_size) "
                f"(inputs['rnn'] as skrl's LSTM models list it), got {type(hidden).__name__}"
            )
        h, c = hidden
        self._check_hidden(h, "h (inputs['rnn'][0])")
        self._check_hidden(c, "c (inputs['rnn'][1])")
        return [(c[layer], h[layer]) for layer in range(self.num_layers)]  # flax's LSTM carry is (c, h)

    def _hidden_of(self, carries: list[tuple[jax.Array, jax.Array]]) -> tuple[jax.Array, jax.Array]:
        return jnp.stack([h for _, h in carries]), jnp.stack([c for c, _ in carries])


class RecurrentTrunk(nn.Module):
    """``before`` (feed-forward, on rows) -> ``rnn`` (``GRU`` / ``LSTM``) -> ``after``: a recurrent
    trunk for ``shared_model``, called as the recurrent layers are."""

    rnn: RecurrentLayer
    before: nn.Module | None = None
    after: nn.Module | None = None

    def hidden_from(self, rnn: list[jax.Array]) -> Any:
        return self.rnn.hidden_from(rnn)

    def rnn_list(self, hidden: Any) -> list[jax.Array]:
        return self.rnn.rnn_list(hidden)

    def sizes(self, num_envs: int) -> list[tuple[int, int, int]]:
        return self.rnn.sizes(num_envs)

    def __call__(self, states: jax.Array, hidden: Any, terminated: jax.Array | None = None) -> tuple[jax.Array, Any]:
        features = states if self.before is None else self.before(states)
        features, hidden = self.rnn(features, hidden, terminated)
        return (features if self.after is None else self.after(features)), hidden
