"""keraslab: the INFIERI 2019 lab "Introduction to Deep Learning with Keras" as installable, tested software."""

from keraslab.errors import one_line_in_notebooks

__version__ = "0.1.0"

one_line_in_notebooks()
