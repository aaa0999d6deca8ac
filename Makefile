# keraslab: `make lab` runs day one at the slides' sizes and writes report/index.html;
# `make notebooks` writes the student and tutor notebooks, `make slides` the offline
# slideshows, both from labs/; `make test` runs the test suite. All create the environment first.
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: lab notebooks slides test env clean

env: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "keraslab needs Python 3.11 or newer: make PYTHON=python3.12"' \
		|| { echo "error: $(PYTHON) is older than 3.11; run make PYTHON=/path/to/python3.11"; exit 2; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,lab]'
	touch $@

lab: env
	$(BIN)/keraslab lab --out runs/lab --report report/index.html

notebooks: env
	$(BIN)/python -m keraslab.editions notebooks --sources labs --out notebooks

slides: env
	$(BIN)/python -m keraslab.editions slides --sources labs --out slides

test: env
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) runs report notebooks slides
