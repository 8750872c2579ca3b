"""The paper's mask units, exact on any architecture.

A *masking site* is a place where a zero means "no feature": the input of a
ReLU-family nonlinearity (``nn.ReLU``, ``nn.ReLU6``, ``F.relu``, ``torch.relu``,
``Tensor.relu``, their in-place forms, ``F.relu6`` and ``F.hardtanh`` with a
lower bound of 0), however the model writes it: a module, a module called
twice, or a functional call. A tensor that no such nonlinearity reads (a
BatchNorm feeding a residual add, a linear output, an attention score) is
never a site, because zeroing it would change a value the network uses.

During the clean pass every site records which units are off (input <= the
site's threshold) at the moment the nonlinearity runs, so in-place operations
that run later (``out += identity``, an in-place ReLU) cannot change the
record. During every noisy pass the same sites, in the same order, see those
units zeroed before the nonlinearity runs: noise cannot switch on a feature
the clean input did not have. At threshold 0 this changes nothing on the clean
input (a unit with input <= 0 already outputs 0), which the tests check on
ResNet, VGG and MobileNet layouts.

Three rules say which units are off (see :data:`MaskRule`). ``"paper"``: the
unit's input is <= the site's threshold, and it is forced to zero. ``"reference"``:
beyond that, a unit is off when ``relu(input) <= relu(its input on a reference
image)`` (Captum's ``baselines``, zeros by default), and an off unit is *held at
its clean value* instead of zeroed. After a BatchNorm "no feature" is not "<= 0"
(a BN stem is positive on a blank image), so the paper's rule leaves such units
live; the reference rule silences what the clean input does not show beyond a
blank one, and holding at the clean value means masking alone never changes the
clean output, at any threshold. ``"capped"``: the reference rule, and every unit it
keeps live may fall below its clean value during a noisy pass but never rise above it
(``min(noisy, clean)`` at the ReLU's input, so at its output too): noise can only remove
what the clean input shows, never add a feature or strengthen one.

The calls are intercepted with a :class:`torch.overrides.TorchFunctionMode`
that is active only inside :meth:`MaskUnits.active` (and during the clean
recording pass), so nothing is left on the model.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal

import torch
from torch import Tensor, nn
from torch.nn import functional as F
from torch.overrides import TorchFunctionMode

from .._utils.hooks import forward_hooks, forward_pre_hooks
from .._utils.typing import Thresholds

__all__ = [
    "MaskRule",
    "MASK_RULES",
    "MaskReport",
    "MaskSite",
    "SiteReport",
    "MaskUnits",
    "resolve_thresholds",
    "check_thresholds",
    "FIRST_LAYER_THRESHOLD",
    "LATER_LAYER_THRESHOLD",
]

#: The paper's thresholds: 0.2 for the first masked layer, 0 for the others.
FIRST_LAYER_THRESHOLD = 0.2
LATER_LAYER_THRESHOLD = 0.0

#: Which units the mask units silence, and how: see the module docstring.
MaskRule = Literal["paper", "reference", "capped"]
MASK_RULES: tuple[MaskRule, ...] = ("paper", "reference", "capped")
#: The rules that compare every unit with its value on a reference input (``baselines``).
REFERENCE_RULES: tuple[MaskRule, ...] = ("reference", "capped")

#: Nonlinearities whose zero output means "feature absent"; hardtanh only with min_val 0.
_RELU_FAMILY = {
    F.relu,
    F.relu_,
    F.relu6,
    F.hardtanh,
    torch.relu,
    torch.relu_,
    Tensor.relu,
    Tensor.relu_,
}
_IN_PLACE = {F.relu_, torch.relu_, Tensor.relu_}
_NORMS = (nn.modules.batchnorm._NormBase, nn.LayerNorm, nn.GroupNorm)


def _zero_is_off(func: Callable[..., Any], args: tuple, kwargs: dict) -> bool:
    if func not in _RELU_FAMILY or not args or not isinstance(args[0], Tensor):
        return False
    if func is F.hardtanh:
        min_val = args[1] if len(args) > 1 else kwargs.get("min_val", -1.0)
        return float(min_val) == 0.0
    return True


def _in_place(func: Callable[..., Any], args: tuple, kwargs: dict) -> bool:
    if func in _IN_PLACE:
        return True
    if func in (F.relu, F.relu6):
        return bool(args[1] if len(args) > 1 else kwargs.get("inplace", False))
    if func is F.hardtanh:
        return bool(args[3] if len(args) > 3 else kwargs.get("inplace", False))
    return False


class _ReluCalls(TorchFunctionMode):
    """Hands every ReLU-family call to ``on_relu(func, args, kwargs)``."""

    def __init__(self, on_relu: Callable[[Callable[..., Any], tuple, dict], Any]) -> None:
        super().__init__()
        self.on_relu = on_relu

    def __torch_function__(
        self, func: Callable[..., Any], types: Any, args: tuple = (), kwargs: dict | None = None
    ) -> Any:
        kwargs = kwargs or {}
        if _zero_is_off(func, args, kwargs):
            return self.on_relu(func, args, kwargs)
        return func(*args, **kwargs)


def resolve_thresholds(
    model: nn.Module | None, thresholds: Thresholds
) -> dict[nn.Module, float] | float | None:
    """Turns a user's ``thresholds`` into ``{module: threshold}``, a number or ``None``.

    Args:
        model (nn.Module, optional): The model whose ``named_modules()``
                    resolve layer names; ``None`` when the forward function
                    is not a module.
        thresholds (Mapping, float or None): Layer (module or dotted name)
                    to threshold; a number for every site at that threshold;
                    ``None`` keeps the automatic rule.

    Returns:
        *dict*, *float* or *None*: the mapping, the number, or ``None``.

    Raises:
        ValueError: an unknown layer name, a name without a model, or a
                    threshold that is not a finite number >= 0.
        TypeError: ``thresholds`` is not a mapping or a key is neither a
                    module nor a string.
    """
    check_thresholds(thresholds)
    if thresholds is None:
        return None
    if not isinstance(thresholds, Mapping):
        return float(thresholds)
    named = dict(model.named_modules()) if model is not None else {}
    resolved: dict[nn.Module, float] = {}
    for layer, threshold in thresholds.items():
        if isinstance(layer, str):
            if model is None:
                raise ValueError(
                    f"layer name {layer!r} needs forward_func to be an nn.Module; "
                    "pass the module object instead"
                )
            if layer not in named or layer == "":
                valid = ", ".join(repr(n) for n in named if n)
                raise ValueError(f"unknown layer {layer!r}; valid names: {valid}")
            module = named[layer]
        else:
            module = layer
        resolved[module] = float(threshold)
    return resolved


def check_thresholds(thresholds: object) -> None:
    """Checks what can be checked of ``thresholds`` without the model (types, values).

    Raises:
        ValueError: a threshold that is not a finite number >= 0.
        TypeError: ``thresholds`` is not None, a number or a mapping, or a key
                    is neither a module nor a string.
    """
    if thresholds is None:
        return
    if isinstance(thresholds, (int, float)) and not isinstance(thresholds, bool):
        _check_threshold("thresholds", thresholds)
        return
    if not isinstance(thresholds, Mapping):
        raise TypeError(
            "thresholds must be None (the paper's automatic rule), a number (every site "
            "at that threshold), {} (no masking) or a mapping from layer to threshold, "
            f"got {type(thresholds).__name__}"
        )
    for layer, threshold in thresholds.items():
        if not isinstance(layer, (str, nn.Module)):
            raise TypeError(
                "thresholds keys must be nn.Module objects or their names from "
                f"named_modules(), got {type(layer).__name__}"
            )
        _check_threshold(f"threshold of {layer!r}", threshold)


def _check_threshold(name: str, threshold: object) -> None:
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)):
        raise TypeError(f"{name} must be a number, got {threshold!r}")
    if not math.isfinite(threshold) or threshold < 0:
        raise ValueError(
            f"{name} must be a finite number >= 0 (a unit is off when its input to the "
            f"ReLU is <= the threshold), got {threshold}"
        )


@dataclass(frozen=True)
class MaskSite:
    """One ReLU-family call of the clean forward pass.

    Attributes:
        name (str): The dotted name of the module whose output the
                    nonlinearity reads (``"layer1.0.bn1"``), or, where it
                    reads a computed tensor (a residual sum), of the module
                    that runs the nonlinearity (``"layer1.0.relu"``); a
                    repeated name gets ``#2``, ``#3``, ...
        producer (nn.Module or None): The module whose output is read.
        activation (nn.Module or None): The innermost module running the call.
        threshold (float or None): Units whose input is <= this are
                    silenced; ``None`` for a site left unmasked.
    """

    name: str
    producer: nn.Module | None
    activation: nn.Module | None
    threshold: float | None


@dataclass(frozen=True)
class SiteReport:
    """One row of :class:`MaskReport`.

    Attributes:
        name (str): The site's name (see :class:`MaskSite`).
        threshold (float): Its threshold.
        silenced (Tensor): Per example ``(B,)``, the fraction of its units
                    forced to zero in noisy passes (units already off included).
        switched_off (Tensor): Per example, the fraction that was on (above 0)
                    on the clean input yet is silenced: 0 at threshold 0.
    """

    name: str
    threshold: float
    silenced: Tensor
    switched_off: Tensor


@dataclass(frozen=True)
class MaskReport:
    """What :meth:`~captum_noisemask.NoiseMaskAttribution.inspect_masks` found.

    Attributes:
        sites (list[SiteReport]): The masked sites, in execution order.
        output_change (Tensor): Per example ``(B,)``, the largest absolute
                    change of an output when the masks alone are applied to
                    the clean input (0 when no unit that was on is silenced,
                    and always with the reference rule).
        rule (str): The mask rule (see :data:`MaskRule`).
    """

    sites: list[SiteReport]
    output_change: Tensor
    rule: MaskRule = "paper"

    def __str__(self) -> str:
        width = max([len("site"), *(len(s.name) for s in self.sites)])
        lines = [f"{'site':<{width}}  threshold  silenced  switched off"]
        for s in self.sites:
            lines.append(
                f"{s.name:<{width}}  {s.threshold:9.3g}  {float(s.silenced.mean()):8.1%}"
                f"  {float(s.switched_off.mean()):12.2%}"
            )
        change = self.output_change
        if change.numel() <= 4:
            changes = ", ".join(f"{float(c):.3g}" for c in change)
        else:
            changes = f"mean {float(change.mean()):.3g}, max {float(change.max()):.3g}"
        held = "zeroed" if self.rule == "paper" else "held at their clean values"
        lines.append(
            f"{len(self.sites)} sites, {self.rule} rule (silenced units {held}; means over "
            f"examples); output change: {changes}"
        )
        return "\n".join(lines)


@dataclass
class _Output:
    module: nn.Module
    tensor: Tensor
    version: int


class _Recorder:
    """Follows the clean pass: which module runs, which module produced which tensor."""

    def __init__(self, model: nn.Module | None, keys: list[nn.Module]) -> None:
        if model is not None:
            self.names = {m: n for n, m in model.named_modules()}
        else:  # a plain function: only the layers the caller named can be followed
            self.names = {m: type(m).__name__ for key in keys for m in key.modules()}
        self.running: list[nn.Module] = []
        self.outputs: dict[int, _Output] = {}
        self.norm_inputs: dict[nn.Module, nn.Module] = {}
        self.calls: list[tuple[nn.Module | None, nn.Module | None, Tensor]] = []
        #: Per call, whether it read one of the model's inputs itself.
        self.reads_input: list[bool] = []
        self.inputs: tuple[Tensor, ...] = ()

    @contextmanager
    def watching(self) -> Iterator[None]:
        modules = list(self.names)
        with (
            forward_pre_hooks(modules, self._enter),
            forward_hooks(modules, self._leave),
            _ReluCalls(self._relu),
        ):
            yield

    def producer_of(self, tensor: Tensor) -> nn.Module | None:
        """The first module that returned ``tensor``, unless it was changed in place since."""
        entry = self.outputs.get(id(tensor))
        if entry is None or entry.tensor is not tensor or entry.version != tensor._version:
            return None
        return entry.module

    def _enter(self, module: nn.Module, inputs: Any) -> None:
        self.running.append(module)
        if isinstance(module, _NORMS) and inputs and isinstance(inputs[0], Tensor):
            source = self.producer_of(inputs[0])
            if source is not None:
                self.norm_inputs[module] = source

    def _leave(self, module: nn.Module, inputs: Any, output: Any) -> None:
        self.running.pop()
        if isinstance(output, Tensor) and id(output) not in self.outputs:
            self.outputs[id(output)] = _Output(module, output, output._version)

    def _relu(self, func: Callable[..., Any], args: tuple, kwargs: dict) -> Any:
        x = args[0]
        activation = self.running[-1] if self.running else None
        # A copy: later in-place operations must not change what was recorded.
        self.calls.append((self.producer_of(x), activation, x.detach().clone()))
        self.reads_input.append(any(x is t for t in self.inputs))
        return func(*args, **kwargs)


class MaskUnits:
    r"""Zeroes, during noisy passes, the units that were off on the clean input.

    Build it with :meth:`record`, which runs the clean forward pass; then
    wrap every noisy forward pass in :meth:`active`.

    Args:
        sites (list[MaskSite]): Every ReLU-family call, in execution order.
        keep (list[Tensor or None]): Per site, a bool tensor of the site's
                    clean input shape ``(B, ...)`` (False marks a unit to
                    silence), or ``None`` for a site left unmasked.
        switched_off (list[Tensor or None], optional): Per site and example,
                    the fraction of on-units silenced (for the report).
        held (list[Tensor or None], optional): Per site, the input values
                    silenced units are held at (zero where kept); ``None``
                    zeroes them.
        caps (list[Tensor or None], optional): Per site, the clean input values
                    no unit may exceed during a noisy pass; ``None``: no cap.
    """

    def __init__(
        self,
        sites: list[MaskSite],
        keep: list[Tensor | None],
        switched_off: list[Tensor | None] | None = None,
        held: list[Tensor | None] | None = None,
        caps: list[Tensor | None] | None = None,
    ) -> None:
        self.all_sites = sites
        self.keep = keep
        self.switched_off = switched_off or [None] * len(keep)
        #: Per site, what silenced units are held at (clean values where masked, else 0),
        #: or None: silenced units are zeroed.
        self.held = held or [None] * len(keep)
        self.caps = caps or [None] * len(keep)
        self._examples = slice(None)
        # Row-aligned masks by (site, first example, last example, rows): built once per
        # chunk shape, reused by every step.
        self._row_masks: dict[tuple[int, int, int | None, int | None, int], Tensor] = {}

    @property
    def sites(self) -> list[MaskSite]:
        """The masked sites, in execution order."""
        return [s for s, k in zip(self.all_sites, self.keep, strict=True) if k is not None]

    @property
    def masks(self) -> list[Tensor]:
        """The bool masks of :attr:`sites` (False: silenced), same order."""
        return [k for k in self.keep if k is not None]

    @classmethod
    def record(
        cls,
        model: nn.Module | None,
        thresholds: dict[nn.Module, float] | float | None,
        clean_forward: Callable[[], Tensor],
        inputs: tuple[Tensor, ...] = (),
        rule: MaskRule = "paper",
        reference_forward: Callable[[], Any] | None = None,
    ) -> tuple[MaskUnits, Tensor]:
        """Runs ``clean_forward`` once and records which units are off.

        Args:
            model (nn.Module, optional): Names the sites; ``None`` for a
                        forward function that is not a module (sites are
                        then named ``relu:0``, ``relu:1``, ...).
            thresholds (dict, optional): ``{module: threshold}``: a site
                        takes the threshold of the module whose output it
                        reads, of the layer feeding the normalisation it
                        reads (``conv`` in conv -> BN -> ReLU), or of the
                        ReLU module running it, in that order. ``None`` is
                        the automatic rule: every site, the first at
                        :data:`FIRST_LAYER_THRESHOLD` unless it reads a
                        normalisation layer's output, all others at
                        :data:`LATER_LAYER_THRESHOLD`. A ReLU applied to the
                        model's input itself is not the first layer's
                        features: it gets :data:`LATER_LAYER_THRESHOLD` (so
                        masking leaves the input as the clean pass saw it).
                        A number puts every site at that threshold.
            clean_forward (Callable): Runs the model on the clean inputs.
            inputs (tuple[Tensor, ...], optional): The tensors
                        ``clean_forward`` hands the model, to recognise a
                        ReLU applied to an input. Default: ()
            rule (str, optional): ``"paper"``, ``"reference"`` or ``"capped"``
                        (see the module docstring); with the last two the
                        automatic rule puts every site at 0. Default: "paper"
            reference_forward (Callable, optional): Runs the model on the
                        reference inputs; needed by the last two rules.

        Returns:
            *tuple*: the mask units and the clean output of ``clean_forward``.

        Raises:
            ValueError: a module of ``thresholds`` feeds no ReLU-family call, or
                        the reference pass runs other ReLU calls than the clean one.
        """
        if isinstance(thresholds, dict) and not thresholds:
            return cls([], []), clean_forward()
        recorder = _Recorder(model, list(thresholds) if isinstance(thresholds, dict) else [])
        recorder.inputs = inputs
        with recorder.watching():
            clean_output = clean_forward()
        needs_reference = rule in REFERENCE_RULES and recorder.calls
        reference = _reference_calls(model, reference_forward) if needs_reference else None
        sites: list[MaskSite] = []
        keep: list[Tensor | None] = []
        switched_off: list[Tensor | None] = []
        used: set[nn.Module] = set()
        seen_names: dict[str, int] = {}
        first_feature = next((i for i, r in enumerate(recorder.reads_input) if not r), None)
        if reference is not None:
            _check_same_calls(recorder.calls, reference)
        held: list[Tensor | None] = []
        caps: list[Tensor | None] = []
        for index, (producer, activation, x) in enumerate(recorder.calls):
            name = _site_name(recorder, producer, activation, index, seen_names)
            threshold: float | None
            if thresholds is None:
                first = (
                    index == first_feature
                    and not isinstance(producer, _NORMS)
                    and reference is None
                )
                threshold = FIRST_LAYER_THRESHOLD if first else LATER_LAYER_THRESHOLD
            elif isinstance(thresholds, float):
                threshold = thresholds
            else:
                key = _matching_key(thresholds, producer, activation, recorder.norm_inputs)
                threshold = None if key is None else thresholds[key]
                if key is not None:
                    used.add(key)
            sites.append(MaskSite(name, producer, activation, threshold))
            if threshold is None:
                keep.append(None)
                switched_off.append(None)
                held.append(None)
                caps.append(None)
                continue
            on = x > threshold
            if reference is not None:
                on &= x > reference[index].clamp_min(0)  # relu(x) > relu(reference)
            keep.append(on)
            switched_off.append(((x > 0) & ~on).flatten(1).float().mean(1))
            held.append(None if reference is None else x * ~on)
            caps.append(x if rule == "capped" else None)
        if isinstance(thresholds, dict):
            unused = [m for m in thresholds if m not in used]
            if unused:
                found = ", ".join(s.name for s in sites) or "none"
                raise ValueError(
                    f"masked layer {_describe(recorder, unused[0])} feeds no ReLU-family "
                    "nonlinearity in the model's forward pass (or did not run); mask units "
                    f"sit at the inputs of ReLUs. This model's sites: {found}"
                )
        return cls(sites, keep, switched_off, held, caps), clean_output

    def report(self, output_change: Tensor) -> MaskReport:
        """The sites as :class:`SiteReport` rows, with ``output_change`` per example."""
        rule: MaskRule = (
            "capped"
            if any(c is not None for c in self.caps)
            else "reference"
            if any(h is not None for h in self.held)
            else "paper"
        )
        rows = [
            SiteReport(
                site.name,
                site.threshold,
                1.0 - keep.flatten(1).float().mean(1),
                off,
            )
            for site, keep, off in zip(self.all_sites, self.keep, self.switched_off, strict=True)
            if keep is not None and off is not None and site.threshold is not None
        ]
        return MaskReport(rows, output_change, rule)

    @contextmanager
    def active(self) -> Iterator[None]:
        """Applies the masks to every forward pass inside the context."""
        if not self.keep:
            yield
            return
        calls = iter(range(len(self.keep)))

        def silence(func: Callable[..., Any], args: tuple, kwargs: dict) -> Any:
            index = next(calls, None)
            if index is None:
                raise RuntimeError(
                    "the model ran more ReLU-family calls than on the clean input; mask "
                    "units need the same control flow in every pass (pass thresholds={})"
                )
            if self.keep[index] is None:
                return func(*args, **kwargs)
            x = args[0]
            keep = self._mask_for_rows(index, x, self.keep)
            held = (
                self._mask_for_rows(index, x, self.held) if self.held[index] is not None else None
            )
            cap = self._mask_for_rows(index, x, self.caps) if self.caps[index] is not None else None
            if _in_place(func, args, kwargs):
                # On x itself, not a view of it: an in-place op on a view would make
                # autograd copy the whole gradient back into x (CopySlices) every pass.
                x.mul_(keep)
                if held is not None:
                    x.add_(held)
                if cap is not None:  # x - relu(x - cap) = min(x, cap), without saving x
                    x.sub_((x - cap).clamp_min(0))
                return func(*args, **kwargs)
            masked = x * keep if held is None else x * keep + held
            if cap is not None:
                masked = torch.minimum(masked, cap)  # held units sit at their clean value
            return func(masked, *args[1:], **kwargs)

        with _ReluCalls(silence):
            yield
        if next(calls, None) is not None:
            raise RuntimeError(
                "the model ran fewer ReLU-family calls than on the clean input; mask "
                "units need the same control flow in every pass (pass thresholds={})"
            )

    def _mask_for_rows(self, index: int, x: Tensor, per_site: list[Tensor | None]) -> Tensor:
        """Site ``index``'s entry of ``per_site`` (its mask or its held values) for the rows
        of ``x`` (sample-major draws of the examples)."""
        keep = per_site[index]
        assert keep is not None
        keep = keep[self._examples]
        if x.shape[1:] != keep.shape[1:] or x.shape[0] % keep.shape[0]:
            raise RuntimeError(
                f"mask site {self.all_sites[index].name} recorded shape "
                f"{tuple(keep.shape[1:])} but the noisy pass gave {tuple(x.shape[1:])}"
            )
        if keep.shape[0] == 1:
            return keep  # broadcasts over the draws
        key = (id(per_site), index, self._examples.start, self._examples.stop, x.shape[0])
        if key not in self._row_masks:
            self._row_masks[key] = keep.repeat(x.shape[0] // keep.shape[0], *[1] * (x.dim() - 1))
        return self._row_masks[key]

    @contextmanager
    def for_examples(self, examples: slice) -> Iterator[None]:
        """Tells the masks which examples the rows of the next passes belong to.

        Rows are laid out sample-major: row ``i * n + j`` is noise draw ``i``
        of the ``j``-th example of ``examples``.
        """
        previous, self._examples = self._examples, examples
        try:
            yield
        finally:
            self._examples = previous


def _reference_calls(
    model: nn.Module | None, reference_forward: Callable[[], Any] | None
) -> list[Tensor]:
    """Every ReLU-family input of the pass on the reference, in execution order."""
    if reference_forward is None:
        raise ValueError("the reference mask rule needs the reference inputs (baselines)")
    recorder = _Recorder(model, [])
    with recorder.watching():
        reference_forward()
    return [x for _, _, x in recorder.calls]


def _check_same_calls(
    calls: list[tuple[nn.Module | None, nn.Module | None, Tensor]], reference: list[Tensor]
) -> None:
    if len(reference) != len(calls) or any(
        r.shape != x.shape for r, (_, _, x) in zip(reference, calls, strict=False)
    ):
        raise ValueError(
            f"baselines: the model ran {len(reference)} ReLU-family calls on the reference "
            f"and {len(calls)} on the inputs (or of other shapes); the reference mask rule "
            "needs the same control flow in both (pass mask_rule='paper')"
        )


def _site_name(
    recorder: _Recorder,
    producer: nn.Module | None,
    activation: nn.Module | None,
    index: int,
    seen: dict[str, int],
) -> str:
    owner = producer if producer is not None else activation
    name = recorder.names.get(owner, "") if owner is not None else ""
    if not name:
        name = f"relu:{index}"
    seen[name] = seen.get(name, 0) + 1
    return name if seen[name] == 1 else f"{name}#{seen[name]}"


def _matching_key(
    thresholds: dict[nn.Module, float],
    producer: nn.Module | None,
    activation: nn.Module | None,
    norm_inputs: dict[nn.Module, nn.Module],
) -> nn.Module | None:
    if producer is not None and producer in thresholds:
        return producer
    if producer is not None and norm_inputs.get(producer) in thresholds:
        return norm_inputs[producer]
    if activation is not None and activation in thresholds:
        return activation
    return None


def _describe(recorder: _Recorder, module: nn.Module) -> str:
    name = recorder.names.get(module)
    return repr(name) if name else str(module)
