# experiment.mk — one fine-grained experiment, list -> extract -> (pca) -> (mic)
# -> train -> predict -> eval, into an experiment folder. Incremental: each
# stage depends on a settings file that changes only when that stage's
# settings change, so a new classifier setting re-runs training onward and
# never extraction.
#
#   make -f pipelines/experiment.mk EXP=exp/flowers DATA=flowers12
#   make -f pipelines/experiment.mk EXP=exp/cub DATA=cub100 POOL=attn CLF=logreg C=10
#   make -f pipelines/experiment.mk EXP=exp/mine DATA=/path/to/root SPLIT=0.25
#
# Results: $(EXP)/metrics.txt (and .json), confusion.png, grid.png,
# predictions.tsv, bundle/ (the fitted chain for fg-score), settings.txt.

MAKEFLAGS += --no-builtin-rules
.SUFFIXES:
.DELETE_ON_ERROR:
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c

FG_ROOT := $(abspath $(dir $(lastword $(MAKEFILE_LIST)))/..)
# The programs: the source tree's build/ when there is one, else those on PATH
# (an installed finegrain).
FG_BIN ?= $(if $(wildcard $(FG_ROOT)/build/fg-list),$(FG_ROOT)/build)
FG := $(if $(FG_BIN),$(FG_BIN)/)
FINEGRAIN_ASSETS ?= $(abspath $(FG_ROOT)/../shared)
export FINEGRAIN_ASSETS

# ---- settings (override on the command line) -------------------------------
# Data: flowers12 | cub100 | an image folder root/<class>/... split by SPLIT.
EXP ?= exp/default
# Where manifests and extracted features go: experiments that differ only
# after extraction can share one FEATS folder and extract once.
FEATS ?= $(EXP)
DATA ?= flowers12
SPLIT ?= 0.25
SEED ?= 1
# Keep only the first N train and N test images of each class (0 = all).
PER_CLASS ?= 0
# Extraction (fg-extract): model spec, layers (empty = the model's default),
# pooling avg|max|avgmax|gem|attn, input side (empty = the model's), resize
# warp|crop, FLIP=1 to average with the mirrored image, SCALES e.g. 224,320,
# AUGMENT (training rows only) e.g. flip or flip,crops, NORM none|l2|power-l2.
MODEL ?= squeezenet1_1_imagenet_notop
LAYERS ?=
POOL ?= avgmax
SIZE ?=
RESIZE ?= warp
FLIP ?= 0
SCALES ?=
AUGMENT ?=
NORM ?= l2
# Any other fg-extract options, e.g. --bilinear-norm matrix-sqrt or --sketch-dim 8192.
EXTRACT_OPTS ?=
BATCH ?= 8
# Optional stages: PCA to PCA_DIM components (0 = none), MIC selection of MIC_K features (0 = none).
PCA_DIM ?= 0
WHITEN ?= 0
MIC_K ?= 0
# Classifier (fg-train): svm | logreg, kernel for svm, C, input scaling, and
# any other options. minmax scaling helps raw CNN features (+2 points on
# cub100) but stretches PCA's small components, so after PCA the default is l2.
CLF ?= svm
KERNEL ?= linear
C ?= 10
SCALE ?= $(if $(filter 0,$(PCA_DIM)),minmax,l2)
CLF_ARGS ?=
# CV=K: fg-train picks C from C_GRID by K-fold cross-validation on the training rows.
CV ?= 0
C_GRID ?= 0.01,0.1,1,10,100
TOPK ?= 5
THREADS ?= 0
QUIET ?= -q

SETTING_VARS := DATA SPLIT SEED PER_CLASS MODEL LAYERS POOL SIZE RESIZE FLIP SCALES AUGMENT NORM EXTRACT_OPTS \
                PCA_DIM WHITEN MIC_K CLF KERNEL C SCALE CLF_ARGS CV C_GRID TOPK
EXTRACT_ARGS := --model $(MODEL) --pool $(POOL) --resize $(RESIZE) --norm $(NORM) --batch $(BATCH) \
  $(if $(LAYERS),--layers $(LAYERS)) $(if $(SIZE),--size $(SIZE)) \
  $(if $(SCALES),--scales $(SCALES)) $(if $(filter 1,$(FLIP)),--flip) $(EXTRACT_OPTS)
TRAIN_EXTRA := $(if $(AUGMENT),--augment $(AUGMENT))
PCA_ARGS := --dim $(PCA_DIM) $(if $(filter 1,$(WHITEN)),--whiten)
MIC_ARGS := --k $(MIC_K)
CLF_ALL_ARGS := --type $(CLF) -c $(C) --scale $(SCALE) $(if $(filter svm,$(CLF)),--kernel $(KERNEL)) \
  $(if $(filter-out 0,$(CV)),--cv $(CV) --c-grid $(C_GRID)) $(CLF_ARGS)
THREAD_ARGS := --threads $(THREADS)

ifeq ($(DATA),flowers12)
  LIST_CMD = $(FG)fg-list $(QUIET) $(FINEGRAIN_ASSETS)/data/flowers12/train $(FEATS)/train.all.tsv && \
             $(FG)fg-list $(QUIET) $(FINEGRAIN_ASSETS)/data/flowers12/test $(FEATS)/test.all.tsv
else ifeq ($(DATA),cub100)
  LIST_CMD = $(FG)fg-list $(QUIET) $(FINEGRAIN_ASSETS)/data/cub100/images \
               --split-file $(FINEGRAIN_ASSETS)/data/cub100/train.txt \
               --train-out $(FEATS)/train.all.tsv --test-out $(FEATS)/test.all.tsv
else
  LIST_CMD = $(FG)fg-list $(QUIET) $(DATA) --split $(SPLIT) --seed $(SEED) \
               --train-out $(FEATS)/train.all.tsv --test-out $(FEATS)/test.all.tsv
endif

# Each stage's settings: rewritten only when they change (make compares times).
define settings
	@mkdir -p $(dir $(1))
	@printf '%s\n' $(2) > $(1).new
	@if cmp -s $(1).new $(1); then rm $(1).new; else mv $(1).new $(1); fi
endef

.PHONY: all force clean-results
all: $(EXP)/metrics.txt $(EXP)/grid.png $(EXP)/bundle/BUNDLE $(EXP)/settings.txt
force: ;

$(FEATS)/list.settings: force
	$(call settings,$@,'$(DATA) $(SPLIT) $(SEED) $(PER_CLASS)')
$(FEATS)/extract.settings: force
	$(call settings,$@,'$(EXTRACT_ARGS)' 'augment: $(TRAIN_EXTRA)')
$(EXP)/pca.settings: force
	$(call settings,$@,'$(PCA_ARGS)')
$(EXP)/mic.settings: force
	$(call settings,$@,'$(MIC_ARGS)')
$(EXP)/train.settings: force
	$(call settings,$@,'$(CLF_ALL_ARGS)')

$(EXP)/settings.txt: $(FEATS)/list.settings $(FEATS)/extract.settings $(EXP)/pca.settings \
                     $(EXP)/mic.settings $(EXP)/train.settings
	@printf '%s\n' $(foreach v,$(SETTING_VARS),'$(v) = $($(v))') > $@

# first N lines of each class (manifests are grouped by class)
PER_CLASS_FILTER = $(if $(filter-out 0,$(PER_CLASS)),awk -F'\t' '++n[$$2] <= $(PER_CLASS)',cat)

$(FEATS)/train.tsv $(FEATS)/test.tsv &: $(FEATS)/list.settings
	$(LIST_CMD)
	$(PER_CLASS_FILTER) $(FEATS)/train.all.tsv > $(FEATS)/train.tsv
	$(PER_CLASS_FILTER) $(FEATS)/test.all.tsv > $(FEATS)/test.tsv

$(FEATS)/train.fgt: $(FEATS)/train.tsv $(FEATS)/extract.settings
	$(FG)fg-extract $(QUIET) $(EXTRACT_ARGS) $(TRAIN_EXTRA) $(THREAD_ARGS) --skipped $(FEATS)/train.skipped $< $@
$(FEATS)/test.fgt: $(FEATS)/test.tsv $(FEATS)/extract.settings
	$(FG)fg-extract $(QUIET) $(EXTRACT_ARGS) $(THREAD_ARGS) --skipped $(FEATS)/test.skipped $< $@

# Optional PCA, then optional MIC selection: each a model fitted on the
# training features and applied unchanged to both tables.
TRAIN_IN := $(FEATS)/train.fgt
TEST_IN := $(FEATS)/test.fgt
ifneq ($(PCA_DIM),0)
$(EXP)/pca.model: $(TRAIN_IN) $(EXP)/pca.settings
	$(FG)fg-pca fit $(QUIET) $(PCA_ARGS) $(THREAD_ARGS) --table $(EXP)/pca.variance.tsv $< $@
$(EXP)/train.pca.fgt: $(TRAIN_IN) $(EXP)/pca.model
	$(FG)fg-pca apply $(QUIET) $(EXP)/pca.model $< $@
$(EXP)/test.pca.fgt: $(TEST_IN) $(EXP)/pca.model
	$(FG)fg-pca apply $(QUIET) $(EXP)/pca.model $< $@
TRAIN_IN := $(EXP)/train.pca.fgt
TEST_IN := $(EXP)/test.pca.fgt
PCA_PART := $(EXP)/pca.model
endif
ifneq ($(MIC_K),0)
$(EXP)/mic.model: $(TRAIN_IN) $(EXP)/mic.settings
	$(FG)fg-mic fit $(QUIET) $(MIC_ARGS) $(THREAD_ARGS) $< $@
$(EXP)/train.mic.fgt: $(TRAIN_IN) $(EXP)/mic.model
	$(FG)fg-mic apply $(QUIET) $(EXP)/mic.model $< $@
$(EXP)/test.mic.fgt: $(TEST_IN) $(EXP)/mic.model
	$(FG)fg-mic apply $(QUIET) $(EXP)/mic.model $< $@
TRAIN_IN := $(EXP)/train.mic.fgt
TEST_IN := $(EXP)/test.mic.fgt
MIC_PART := $(EXP)/mic.model
endif

$(EXP)/classifier.model: $(TRAIN_IN) $(EXP)/train.settings
	$(FG)fg-train $(QUIET) $(CLF_ALL_ARGS) $(THREAD_ARGS) $< $@

$(EXP)/predictions.tsv: $(EXP)/classifier.model $(TEST_IN)
	$(FG)fg-predict $(QUIET) --top-k $(TOPK) $^ $@

$(EXP)/metrics.txt: $(EXP)/predictions.tsv
	$(FG)fg-eval --json-out $(EXP)/metrics.json --confusion $(EXP)/confusion.tsv \
	  --plot $(EXP)/confusion.png $< > $@
	@head -4 $@

$(EXP)/grid.png: $(EXP)/predictions.tsv
	$(FG)fg-viz grid $(QUIET) $< $@

$(EXP)/bundle/BUNDLE: $(FEATS)/train.fgt $(PCA_PART) $(MIC_PART) $(EXP)/classifier.model
	$(FG)fg-bundle $(QUIET) --features $(FEATS)/train.fgt \
	  $(if $(PCA_PART),--pca $(PCA_PART)) $(if $(MIC_PART),--mic $(MIC_PART)) \
	  --classifier $(EXP)/classifier.model $(EXP)/bundle

clean-results:
	rm -f $(EXP)/classifier.model $(EXP)/predictions.tsv $(EXP)/metrics.* $(EXP)/*.png
