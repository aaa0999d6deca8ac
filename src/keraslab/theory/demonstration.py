"""What every back-up demonstration returns: checked claims and a figure."""

from __future__ import annotations

from dataclasses import dataclass, field

from matplotlib.figure import Figure


@dataclass(frozen=True)
class Claim:
    """One checked statement of the slides.

    ``metric`` is the key in ``metrics.json``; ``value`` the measured quantity;
    ``statement`` says in words what was checked and the tolerance.
    """

    metric: str
    value: float | bool
    passed: bool
    statement: str

    @classmethod
    def at_most(cls, metric: str, value: float, tolerance: float, statement: str) -> Claim:
        """A claim that a measured error is at most ``tolerance``."""
        return cls(metric, float(value), bool(value <= tolerance), f"{statement} <= {tolerance:g}")

    @classmethod
    def at_least(cls, metric: str, value: float, threshold: float, statement: str) -> Claim:
        """A claim that a measured quantity is at least ``threshold``."""
        return cls(metric, float(value), bool(value >= threshold), f"{statement} >= {threshold:g}")

    @classmethod
    def holds(cls, metric: str, value: bool, statement: str) -> Claim:
        """A yes/no claim (an exact check)."""
        return cls(metric, bool(value), bool(value), statement)


@dataclass
class Demonstration:
    """One back-up page: its claims, its figure and extra (unchecked) numbers."""

    name: str  # file stem of the figure, e.g. "linear_collapse"
    title: str
    claims: list[Claim]
    figure: Figure
    extras: dict[str, object] = field(default_factory=dict)  # JSON-serialisable

    @property
    def passed(self) -> bool:
        return all(claim.passed for claim in self.claims)
