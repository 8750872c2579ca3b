"""Never harm the caller: hooks, requires_grad, .grad, training flag and inputs survive any exit."""

from __future__ import annotations

import warnings

import pytest
import torch
from support import TinyCNN, make_tiny_cnn, steps
from torch import Tensor, nn

from captum_noisemask import DegenerateMapWarning, NoiseMaskAttribution

FAST = dict(preset=steps(4, n_samples=4), seed=0)


def _hook_count(model: nn.Module) -> int:
    return sum(
        len(m._forward_hooks) + len(m._forward_pre_hooks) + len(m._backward_hooks)
        for m in model.modules()
    )


def _state(model: nn.Module) -> dict[str, object]:
    return {
        "hooks": _hook_count(model),
        "requires_grad": [p.requires_grad for p in model.parameters()],
        "grads": [None if p.grad is None else p.grad.clone() for p in model.parameters()],
        "training": [m.training for m in model.modules()],
    }


def _assert_same_state(before: dict[str, object], after: dict[str, object]) -> None:
    assert after["hooks"] == before["hooks"]
    assert after["requires_grad"] == before["requires_grad"]
    assert after["training"] == before["training"]
    for a, b in zip(before["grads"], after["grads"], strict=True):  # type: ignore[call-overload]
        assert (a is None and b is None) or torch.equal(a, b)


def _prepared_model() -> TinyCNN:
    """Caller state worth protecting: a frozen layer, a user hook and existing gradients."""
    model = make_tiny_cnn()
    model.conv1.weight.requires_grad_(False)
    model.fc1.weight.grad = torch.full_like(model.fc1.weight, 7.0)
    model.fc2.register_forward_hook(lambda module, inputs, output: None)
    return model


def test_normal_run_leaves_model_and_inputs_untouched(images: Tensor) -> None:
    model = _prepared_model()
    before, original = _state(model), images.clone()
    NoiseMaskAttribution(model).attribute(images, target=0, return_convergence_delta=True, **FAST)
    _assert_same_state(before, _state(model))
    assert torch.equal(images, original) and not images.requires_grad


class Failing(nn.Module):
    """Wraps a model and raises ``error`` on its ``fail_at``-th call."""

    def __init__(self, model: nn.Module, fail_at: int, error: BaseException) -> None:
        super().__init__()
        self.model, self.fail_at, self.error, self.calls = model, fail_at, error, 0

    def forward(self, x: Tensor) -> Tensor:
        self.calls += 1
        if self.calls == self.fail_at:
            raise self.error
        return self.model(x)


@pytest.mark.parametrize("fail_at", [1, 3], ids=["clean-pass", "inside-loop"])
@pytest.mark.parametrize("error", [RuntimeError("boom"), KeyboardInterrupt()])
def test_failure_anywhere_removes_every_hook(
    images: Tensor, fail_at: int, error: BaseException
) -> None:
    wrapped = Failing(_prepared_model(), fail_at, error).eval()
    before = _state(wrapped)
    with pytest.raises(type(error)):
        NoiseMaskAttribution(wrapped).attribute(images, **FAST)
    _assert_same_state(before, _state(wrapped))


def test_bad_target_removes_every_hook(images: Tensor) -> None:
    model = _prepared_model()
    before = _state(model)
    with pytest.raises(ValueError, match="out of range"):
        NoiseMaskAttribution(model).attribute(images, target=3, **FAST)
    _assert_same_state(before, _state(model))


def test_training_mode_warns_and_is_kept(images: Tensor) -> None:
    model = make_tiny_cnn(batch_norm=True).train()
    before = _state(model)
    buffers = {name: b.clone() for name, b in model.named_buffers()}
    with pytest.warns(UserWarning, match=r"training mode \(bn1\)"):
        NoiseMaskAttribution(model).attribute(images, **FAST)
    _assert_same_state(before, _state(model))
    for name, b in model.named_buffers():  # running statistics and num_batches_tracked
        assert torch.equal(b, buffers[name]), name


def test_training_mode_in_a_submodule_warns(images: Tensor) -> None:
    model = nn.Sequential(nn.Flatten(), nn.Dropout(0.5), nn.Linear(64, 3)).eval()
    model[1].train()
    with pytest.warns(UserWarning, match=r"training mode \(1\)"):
        NoiseMaskAttribution(model).attribute(images, **FAST)


@pytest.mark.filterwarnings("ignore::captum_noisemask.DegenerateMapWarning")  # four steps
@pytest.mark.parametrize("wrap", [False, True], ids=["plain", "data-parallel"])
def test_parameter_free_modules_in_training_mode_do_not_warn(images: Tensor, wrap: bool) -> None:
    model: nn.Module = make_tiny_cnn().eval()
    model.relu1.train()  # a ReLU behaves the same in both modes
    if wrap:
        model = nn.DataParallel(model)  # on a CPU it runs the wrapped module
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        warnings.simplefilter("ignore", DegenerateMapWarning)
        NoiseMaskAttribution(model).attribute(images, **FAST)


def test_inputs_that_require_grad_are_not_touched(tiny_cnn: TinyCNN, images: Tensor) -> None:
    x = images.clone().requires_grad_()
    NoiseMaskAttribution(tiny_cnn).attribute(x, **FAST)
    assert x.grad is None and x.requires_grad


def test_grad_mode_of_the_caller_is_restored(tiny_cnn: TinyCNN, images: Tensor) -> None:
    with torch.no_grad():
        NoiseMaskAttribution(tiny_cnn).attribute(images, **FAST)
        assert not torch.is_grad_enabled()
    assert torch.is_grad_enabled()


def test_global_rng_is_not_consumed_with_a_seed(tiny_cnn: TinyCNN, images: Tensor) -> None:
    state = torch.random.get_rng_state()
    NoiseMaskAttribution(tiny_cnn).attribute(images, **FAST)
    assert torch.equal(state, torch.random.get_rng_state())
