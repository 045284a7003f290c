# Set-up and entry points. Every target creates the local virtual environment first.
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell sha1sum requirements.txt | cut -c1-12)

.PHONY: venv demo check deid-demo test package lock clean

venv: $(STAMP)

$(STAMP): requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -r requirements.txt
	rm -f $(VENV)/.installed-*
	touch $@

## The main job: offline policy check of every stack, then the de-identification demo.
demo: check deid-demo

check: $(STAMP)
	$(PY) -m compliance check

deid-demo: $(STAMP)
	$(PY) -m deidentify demo

## The tests.
test: $(STAMP)
	$(PY) -m pytest

## The de-identification Lambda's deployment package (also built on demand by the program).
package: $(STAMP)
	$(PY) -m components.lambda_package

## Re-pin requirements.txt from requirements.in.
lock:
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/pip install --quiet -r requirements.in
	{ echo "# Generated from requirements.in by \`make lock\`: the whole dependency tree, pinned."; \
	  .lock-venv/bin/pip freeze; } > requirements.txt
	rm -rf .lock-venv

clean:
	rm -rf $(VENV) build out demo-out .pytest_cache
