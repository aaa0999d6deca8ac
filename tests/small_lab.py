"""A small lab source in the conventions of labs/*.py, for the editions and slides tests.

It has a title slide, a slide with a formula, a question and its hidden answer, an
exercise, its solution and its check on a subslide, a skipped cell, speaker notes and a
last slide with more code than a slide holds: SLIDES slides and subslides in all.
"""

from __future__ import annotations

from pathlib import Path

STUB = "my_model = None  # your code here"
SOLUTION = "my_model = secret_solution_network(881)"
CHECK = "check.dense_881(my_model)"
QUESTION = "**Q:** is there any structure at all?"
ANSWER = "**Answer:** a hidden sine of the summed squares."
NOTES = "Say that the sum hides the structure."
TITLE = "Part Zero: a small lab"
SLIDES = 4  # the title slide, the data slide and its exercise subslide, the last slide
LONG_CODE = "\n".join(f"x_{number} = {number}" for number in range(60))

SOURCE = f'''\
# %% [markdown] slideshow={{"slide_type": "slide"}}
# # {TITLE}

# %% tags=["parameters"] slideshow={{"slide_type": "skip"}}
SMALL = False

# %% [markdown] slideshow={{"slide_type": "slide"}}
# ## The data
#
# The target is $y = \\sin\\left(\\sum_k x_k^2\\right)$.

# %% [markdown]
# {QUESTION}

# %% [markdown] jupyter={{"source_hidden": true}}
# {ANSWER}

# %% [markdown] slideshow={{"slide_type": "notes"}}
# {NOTES}

# %% [markdown] slideshow={{"slide_type": "subslide"}}
# Build the 881-parameter network.

# %% tags=["exercise"]
{STUB}

# %% tags=["solution"] slideshow={{"slide_type": "skip"}}
{SOLUTION}

# %% tags=["check"]
{CHECK}

# %% [markdown] slideshow={{"slide_type": "slide"}}
# ## Done

# %%
{LONG_CODE}
'''


def write_small_lab(folder: Path, name: str = "00_small.py") -> Path:
    """Write the small lab source as ``folder/name`` and return its path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(SOURCE)
    return path
