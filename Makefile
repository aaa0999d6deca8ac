# keraslab: `make lab` rehearses the whole lab (day one to the challenge, docs/lab.md) and writes
# report/index.html (LAB_ARGS adds options: make lab LAB_ARGS=--resume, --quick, --full, --parts ...);
# `make notebooks` writes the student and tutor notebooks, `make slides` the offline
# slideshows, both from labs/; `make test` runs the test suite. All create the environment first,
# with PYTHON if given (make PYTHON=python3.12), else the newest Python 3.11-3.13 on PATH
# (scripts/find_python.sh), and install keraslab with its extras (EXTRAS, README: Install).
PYTHON ?=
VENV ?= .venv
# keraslab[all] where every extra has wheels; pythia8mc (generate) has them only for Linux x86_64
comma := ,
EXTRAS ?= $(if $(filter Linux-x86_64,$(shell uname -s)-$(shell uname -m)),all,server$(comma)notebooks)
BIN := $(VENV)/bin

.PHONY: lab notebooks slides test wheel env clean

env: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	@python=$$(scripts/find_python.sh '$(PYTHON)') || exit 2; \
		echo "$$python -m venv $(VENV)"; "$$python" -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[$(EXTRAS),dev]'
	touch $@

LAB_ARGS ?=
lab: env
	$(BIN)/keraslab lab --out runs/lab --report report/index.html $(LAB_ARGS)

notebooks: env
	$(BIN)/python -m keraslab.editions notebooks --sources labs --out notebooks

slides: env
	$(BIN)/python -m keraslab.editions slides --sources labs --out slides

test: env
	$(BIN)/python -m pytest

# dist/keraslab-VERSION-py3-none-any.whl: the base package for a hosted Jupyter (README)
wheel: env
	$(BIN)/python -m pip wheel --quiet --no-deps --wheel-dir dist .
	@ls dist/keraslab-*.whl

clean:
	rm -rf $(VENV) runs report notebooks slides dist
