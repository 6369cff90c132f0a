# Two entry points for a newcomer: `make run` starts the viewer on the bundled
# sample data, `make test` runs the whole suite. Both create .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
TORCH_PIN := torch==2.14.1 torchvision==0.29.1

.PHONY: venv run test bench clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/activate pyproject.toml
	$(BIN)/pip install --quiet $(TORCH_PIN) || $(BIN)/pip install --quiet torch torchvision
	$(BIN)/pip install --quiet -e '.[test]'
	# tidecv (a test extra) pulls opencv-python, whose bundled Qt clashes with PySide6: both
	# builds write cv2/, so remove it and reinstall the headless one over what it left
	$(BIN)/pip uninstall --quiet -y opencv-python
	$(BIN)/pip install --quiet --force-reinstall --no-deps opencv-python-headless
	touch $@

venv: $(VENV)/.installed

run: venv
	$(BIN)/frcnn-viewer

test: venv
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q

bench: venv
	$(BIN)/python benchmarks/bench_detector.py

clean:
	rm -rf $(VENV) build *.egg-info
