# Attune: `make lab` sets up and opens the course; `make test` runs every test.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: lab test lint exercises clean

$(BIN)/attune: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $@

lab: $(BIN)/attune
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/attune lab

test: $(BIN)/attune
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(BIN)/attune
	$(BIN)/ruff check course autograder tests benchmarks

# Rebuild solutions/ from the keys and content, then exercises/ from solutions/ (the in-sync tests fail until
# this is run and committed).
exercises: $(BIN)/attune
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/attune build
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/attune exercises

clean:
	rm -rf $(VENV) .pytest_cache gradebook.db submitted autograded feedback downloaded attune-demo report exports
