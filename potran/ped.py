"""PED: Potential Energy Decline (Li et al., ICCV 2023); equations on the book's method page.

Classes are balls in the space standardised by a general feature set; overlapping balls repel and
move rigidly, so the simulation runs on the C x D centres and the total shift is applied once
(exact). Extra memory: O(N*D) for the output plus O(C*D + C^2), never C x C x D.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from potran.backend import as_torch, gram, is_tensor, labels_to_torch, matmul, to_numpy
from potran.params import DEVICE, FLAG, POSITIVE, Interval, Option, declare, options_of
from potran.validation import check_general, check_xy

NSIGMA = 0.6        # λ, radius coefficient (the value the paper's runs used)
TIME_STEP = 0.1     # t
CONSTANT = 1.0      # k, elastic constant (unit mass)
EXIT_RATIO = 0.5    # ρ
MAX_STEPS = 6       # hard-coded in the official PED_Score
EPS = 1e-3          # floor on the general set's standard deviation
ROW_CHUNK = 4096    # rows per chunk for the class statistics (bounds temporary memory)
PAIR_CHUNK = 4096   # close pairs recomputed at a time
CLOSE_PAIR = 1e-4   # d^2 below this fraction of |c_i|^2 + |c_j|^2 is recomputed from the difference
COINCIDENT = 1e-9   # centres closer than this fraction of their contact distance have no defined direction


@dataclass
class PEDTrace:
    """What the simulation did: ``steps`` accepted; ``displacements`` ``P = sum_{c,d} |Δ_c,d|``
    (standardised space) of each; ``rejected_displacement``: P of the step that failed the exit
    test (discarded), if any; ``energies`` before the first and after each accepted step;
    ``max_shift``: largest absolute change of any feature (raw space); ``centres``: C x D float64
    CPU arrays (standardised) before the first and after each accepted step; ``radii`` (C,):
    sqrt(sum_d Var_c[z_d]) (standardised; the balls' radii are ``nsigma * radii``).
    """

    steps: int = 0
    displacements: list[float] = field(default_factory=list)
    rejected_displacement: float | None = None
    energies: list[float] = field(default_factory=list)
    max_shift: float = 0.0
    centres: list = field(default_factory=list, repr=False)
    radii: Any = field(default=None, repr=False)

    def to_dict(self) -> dict[str, Any]:
        """The scalar summary (steps, displacements, energies, shifts), JSON-ready."""
        d = asdict(self)
        del d["centres"], d["radii"]
        return d


@dataclass
class PEDResult:
    """Moved features (same kind as the input: NumPy array or tensor, float64) and the trace."""

    features: Any
    trace: PEDTrace


def standardiser(general):
    """Per-dimension mean and population std (floored at ``EPS`` later) of the general set."""
    return general.mean(0), general.std(0, correction=0)


@dataclass(frozen=True, eq=False)
class GeneralStats:
    """All PED reads from the general set: per-dimension mean and population std (finite (D,),
    ``std >= 0``). Pass it as ``general`` when the general matrix is too big to hold (e.g. from
    :func:`potran.bench.paper_setting.general_moments`): same motion as the matrix."""

    mean: Any
    std: Any

    def __post_init__(self):
        for name in ("mean", "std"):
            value = getattr(self, name)
            try:
                arr = np.array(to_numpy(value) if is_tensor(value) else value, dtype=np.float64)
            except (TypeError, ValueError) as exc:
                raise ValueError(f"general {name} must be a numeric 1-D array: {exc}") from None
            if arr.ndim != 1 or arr.size == 0:
                raise ValueError(f"general {name} must be a non-empty 1-D array, got shape {arr.shape}")
            if not np.isfinite(arr).all():
                raise ValueError(f"general {name} contains NaN or Inf")
            arr.setflags(write=False)
            object.__setattr__(self, name, arr)
        if self.mean.shape != self.std.shape:
            raise ValueError(f"general mean and std differ in length: {self.mean.size} and {self.std.size}")
        if (self.std < 0).any():
            raise ValueError("general std must be >= 0")

    @classmethod
    def from_features(cls, general) -> GeneralStats:
        """Statistics of a general feature matrix (M x D, M >= 2), computed as PED computes them."""
        G = check_general(general, np.shape(general)[-1] if np.ndim(general) else 0)
        mean, std = standardiser(as_torch(G, "cpu"))
        return cls(mean.numpy(), std.numpy())


def _general_standardiser(general, n_features: int, device):
    """(mean, std) float64 tensors on ``device`` from a matrix or a :class:`GeneralStats`."""
    if isinstance(general, GeneralStats):
        if general.mean.size != n_features:
            raise ValueError(f"general statistics have {general.mean.size} features but X has {n_features}")
        return as_torch(general.mean.copy(), device), as_torch(general.std.copy(), device)
    return standardiser(as_torch(check_general(general, n_features), device))


def class_statistics(X, codes, n_classes, mean, scale):
    """Class centres (C x D) and radii sqrt(sum_d Var_c[z_d]) in the space z = (x - mean)/scale
    (rows go to float64 a chunk at a time)."""
    import torch

    f64 = torch.float64
    counts = torch.bincount(codes, minlength=n_classes).to(f64)
    sums = torch.zeros(n_classes, X.shape[1], dtype=f64, device=X.device)
    for rows in _chunks(X.shape[0]):
        sums.index_add_(0, codes[rows], X[rows].to(f64))
    centres_raw = sums / counts[:, None]
    spread = torch.zeros(n_classes, dtype=f64, device=X.device)
    for rows in _chunks(X.shape[0]):
        z = (X[rows].to(f64) - centres_raw[codes[rows]]) / scale
        spread.index_add_(0, codes[rows], (z * z).sum(1))
    return (centres_raw - mean) / scale, torch.sqrt(spread / counts)


def _chunks(n: int):
    return (slice(start, start + ROW_CHUNK) for start in range(0, n, ROW_CHUNK))


def pair_geometry(centres):
    """Pairwise centre distances (C x C) from Gram products; close pairs, where those lose
    accuracy, are recomputed directly (coincident centres get an exact 0)."""
    import torch

    c = centres - centres.mean(0, keepdim=True)
    sq = (c * c).sum(1)
    scale = sq[:, None] + sq[None, :]
    d2 = (scale - 2 * gram(c, rows=True)).clamp_min(0)
    close = d2 < CLOSE_PAIR * scale
    close.fill_diagonal_(False)
    rows, cols = close.nonzero(as_tuple=True)
    for start in range(0, len(rows), PAIR_CHUNK):
        i, j = rows[start:start + PAIR_CHUNK], cols[start:start + PAIR_CHUNK]
        d2[i, j] = ((c[i] - c[j]) ** 2).sum(1)
    d2.fill_diagonal_(0)
    return torch.sqrt(d2)


def overlaps(distances, contact):
    """o_ij = max(contact_ij - d_ij, 0), contact = nsigma * (r_i + r_j); zero on the diagonal."""
    o = (contact - distances).clamp_min(0)
    o.fill_diagonal_(0)
    return o


def potential_energy(o, constant):
    """U = sum_{i<j} k/2 * o_ij^2 (elastic energy of the overlaps)."""
    return float(constant / 2 * (o * o).sum() / 2)


def displacement(centres, distances, o, contact, constant, time_step):
    """Δ_c = sum_j min(k/2 t^2 o_cj, o_cj) * (μ_c - μ_j)/d_cj (the method page's force equation).

    Coincident centres (d below ``COINCIDENT`` times the contact) exert no force on each other
    (the official code divides 0 by 0: see the method page).
    """
    import torch

    step = torch.minimum(constant * time_step**2 / 2 * o, o)
    apart = distances > COINCIDENT * contact
    weight = torch.where(apart, step / torch.where(apart, distances, 1), 0)
    c = centres - centres.mean(0, keepdim=True)  # translation invariant; smaller rounding
    return weight.sum(1, keepdim=True) * c - matmul(weight, c)


@declare(
    Option("nsigma", POSITIVE, "radius coefficient λ: a ball's radius is λ times its class's spread"),
    Option("time_step", POSITIVE, "time step t of the motion"),
    Option("constant", POSITIVE, "elastic constant k of the repulsive force"),
    Option("exit_ratio", (Interval(float, 0, None),),
           "exit ratio ρ: a step not above ρ times the first is discarded and ends the motion"),
    Option("max_steps", (Interval(int, 0, None),), "maximum number of accepted steps"),
    Option("eps", POSITIVE, "floor on the general set's standard deviation"),
    Option("standardize", FLAG, "standardise by the general set (False: the raw feature space)"),
    Option("device", DEVICE, "torch device (default: the input's)"),
)
def simulate(X, y, general, *, nsigma: float = NSIGMA, time_step: float = TIME_STEP,
             constant: float = CONSTANT, exit_ratio: float = EXIT_RATIO, max_steps: int = MAX_STEPS,
             eps: float = EPS, standardize: bool = True, device=None) -> PEDResult:
    """Run PED and return the moved features and a :class:`PEDTrace` (the book's method page).

    Defaults are the paper's code's. ``general``: the general matrix (M x D) or its
    :class:`GeneralStats`; None with ``standardize=False`` (raw space, supplementary Fig. 2).
    """
    import torch

    features, labels = check_xy(X, y, keep_float32=True)  # float32 is converted chunk by chunk
    F = as_torch(features, device, keep_float32=True)
    if standardize:
        mean, std = _general_standardiser(general, features.shape[1], F.device)
        scale = std.clamp_min(eps)
    else:
        mean = torch.zeros(F.shape[1], dtype=torch.float64, device=F.device)
        scale = torch.ones_like(mean)
    codes = labels_to_torch(labels.codes, F.device)
    centres, radii = class_statistics(F, codes, labels.n_classes, mean, scale)
    contact = nsigma * (radii[:, None] + radii[None, :])

    trace = PEDTrace(radii=radii.cpu().numpy())
    shift = torch.zeros_like(centres)
    first = None
    while True:
        current = centres + shift
        trace.centres.append(current.cpu().numpy())
        distances = pair_geometry(current)
        o = overlaps(distances, contact)
        trace.energies.append(potential_energy(o, constant))
        if trace.steps >= max_steps:
            break
        delta = displacement(current, distances, o, contact, constant, time_step)
        moved = float(delta.abs().sum())
        first = moved if first is None else first
        if not (first > 0 and moved / first > exit_ratio):
            trace.rejected_displacement = moved
            break
        shift += delta
        trace.steps += 1
        trace.displacements.append(moved)

    raw_shift = shift * scale
    out = torch.empty(F.shape, dtype=torch.float64, device=F.device)
    for rows in _chunks(F.shape[0]):  # chunked: no N x D temporary besides the float64 output
        torch.add(F[rows].to(torch.float64), raw_shift[codes[rows]], out=out[rows])
    trace.max_shift = float(raw_shift.abs().max())
    return PEDResult(out if is_tensor(X) else out.cpu().numpy(), trace)


#: Keyword options of :func:`simulate` that ``potran.score`` and the CLI pass through (its
#: declared options but the device, which both take apart).
OPTIONS = tuple(o.name for o in options_of(simulate) if o.name != "device")
