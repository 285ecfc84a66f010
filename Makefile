# dslkit developer commands. `make demo` and `make test` work on a fresh machine:
# each creates .venv if missing, installs what it needs, then runs.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check
# torch only as the local CPU build: a looser spec can pull a multi-GB CUDA wheel.
TORCH := torch==2.13.0
WHEEL_VENV := .venv-wheel

.PHONY: demo test bench fuzz lint wheel-check sysdeps clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

# System libraries the render stack needs: cairo (cairosvg) and the pinned DejaVu fonts the
# compiler's text metrics come from (goldens are rasterised with them). Installed with apt-get
# when missing and we may (root); otherwise say exactly what is missing.
sysdeps:
	@missing=""; \
	ldconfig -p 2>/dev/null | grep -q 'libcairo.so.2' || missing="$$missing libcairo2"; \
	fc-list 2>/dev/null | grep -q 'DejaVu Sans Mono' || missing="$$missing fonts-dejavu-core fontconfig"; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			echo "installing system packages:$$missing"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
		else \
			echo "missing system packages:$$missing (install them, e.g. apt-get install$$missing)"; exit 1; \
		fi; \
	fi

# The stamp tracks pyproject.toml so a dependency change reinstalls.
$(VENV)/.installed: pyproject.toml | $(VENV)/bin/python sysdeps
	$(PIP) install -q --upgrade "pip>=23" "setuptools>=77" wheel
	$(PIP) install -q "$(TORCH)"
	$(PIP) install -q -e ".[all,test]"
	@touch $@

demo: $(VENV)/.installed
	$(PY) -m dslkit.train demo

test: $(VENV)/.installed
	$(PY) -m pytest -n 2 -q -p no:cacheprovider
	$(MAKE) --no-print-directory wheel-check

# Build the wheel, install it alone into a clean venv and run the CLI on a bundled example:
# a grammar or contract file missing from the package data fails here.
wheel-check: $(VENV)/.installed
	rm -rf dist $(WHEEL_VENV)
	$(PIP) wheel -q --no-deps --no-build-isolation -w dist .
	$(PYTHON) -m venv $(WHEEL_VENV)
	$(WHEEL_VENV)/bin/python -m pip install -q --disable-pip-version-check dist/dslkit-*.whl
	cd /tmp && $(CURDIR)/$(WHEEL_VENV)/bin/python -m scene_dsl check $(CURDIR)/examples/scenes/*.dsl
	cd /tmp && $(CURDIR)/$(WHEEL_VENV)/bin/python -c "import sys, scene_dsl, trace_dsl; \
		bad = {'torch', 'tokenizers', 'cairosvg'} & set(sys.modules); \
		assert not bad, bad; print('wheel ok: scene_dsl', scene_dsl.__version__, 'imports only lark')"
	cd /tmp && $(CURDIR)/$(WHEEL_VENV)/bin/python -c "import importlib.util as u; \
		top = [n for n in ('compilers', 'tokenizer', 'train') if u.find_spec(n)]; \
		assert not top, f'generic top-level names installed: {top}'; \
		import dslkit.compilers, importlib.resources as r; \
		fonts = [f.name for f in r.files('dslkit.compilers.scene_svg.fonts').iterdir() if f.name.endswith('.json')]; \
		assert fonts, 'font metrics missing from the wheel'; print('wheel ok: dslkit.* namespace with', len(fonts), 'font files')"
# without the [train] extra, dslkit.train refuses to import and names the extra to install
	cd /tmp && ! $(CURDIR)/$(WHEEL_VENV)/bin/python -c "import dslkit.train" 2> $(CURDIR)/dist/train-import.txt
	grep -q "pip install 'dslkit\[train\]'" dist/train-import.txt && echo "wheel ok: $$(tail -1 dist/train-import.txt)"

# Hypothesis fuzzing of every public entry point (tests/fuzz) for FUZZ_SECONDS in all, split
# between the targets; `make test` runs the same properties for a few seconds. A crash fails.
FUZZ_SECONDS ?= 60
fuzz: $(VENV)/.installed
	FUZZ_SECONDS=$(FUZZ_SECONDS) $(PY) -m pytest -q -p no:cacheprovider tests/fuzz

bench: $(VENV)/.installed
	@for f in benchmarks/*.py; do echo "== $$f"; $(PY) $$f || exit 1; done

# mypy cannot see setuptools' editable package-dir mapping, so it checks a tree of symlinks laid
# out as the wheel installs (dslkit/compilers -> compilers/, ...).
TYPECHECK := build/typecheck
lint: $(VENV)/.installed
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	rm -rf $(TYPECHECK) && mkdir -p $(TYPECHECK)/dslkit
	for f in dslkit/*; do ln -s $(CURDIR)/$$f $(TYPECHECK)/dslkit/; done
	for p in compilers tokenizer train; do ln -s $(CURDIR)/$$p $(TYPECHECK)/dslkit/$$p; done
	ln -s $(CURDIR)/scene_dsl $(CURDIR)/trace_dsl $(TYPECHECK)/
	cd $(TYPECHECK) && $(CURDIR)/$(PY) -m mypy --config-file $(CURDIR)/pyproject.toml

clean:
	rm -rf $(VENV) $(WHEEL_VENV) dist build *.egg-info runs
