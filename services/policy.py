"""The deployment's privacy rules as plain values, built by the caller from its settings."""
from __future__ import annotations

from dataclasses import dataclass

from db.class_figures import shows_individuals


@dataclass(frozen=True)
class Policy:
    """`deployment_mode`: aggregate, per-student or attention-only; `min_group`: the fewest students a shown window
    may have (unless individuals are shown); `emotion`: whether emotions are inferred at all."""

    deployment_mode: str = "aggregate"
    min_group: int = 3
    emotion: bool = True

    def individuals(self, lesson_mode: str) -> bool:
        """Whether a lesson with this mode may show individual students (never wider than the deployment)."""
        return shows_individuals(lesson_mode, self.deployment_mode)

    @property
    def per_student_lessons(self) -> bool:
        """Whether teachers may create per-student lessons."""
        return self.deployment_mode == "per-student"
