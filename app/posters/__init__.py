"""Posters a team takes home: "Our core task", "How we work together" and the lessons card.

`render(PosterData, paper=..., orientation=..., fmt=...)` gives PDF or PNG bytes; the caller
collects the data and translates every string. See docs/posters/README.md.
"""

from app.posters.model import Commitment, Heatmap, PosterData, PosterItem, PosterKind, PosterSection
from app.posters.render import Format, Orientation, Paper, PosterError, fit, render

__all__ = [
    "Commitment",
    "Format",
    "Heatmap",
    "Orientation",
    "Paper",
    "PosterData",
    "PosterError",
    "PosterItem",
    "PosterKind",
    "PosterSection",
    "fit",
    "render",
]
