// The extract stage: images -> pooled CNN conv features, with OpenCV DNN.
// One header for all of it; each part has its own:
//
//   options.hpp     ExtractOptions: the settings that determine the values
//   extractor.hpp   Extractor: the network, its layers, pooling into rows
//   pipeline.hpp    extract_files: decoding ahead while the network runs
//   checkpoint.hpp  ExtractCheckpoint: <output>.partial, for --resume
//   run.hpp         a whole run to a feature table (fg-extract), and the
//                   bookkeeping of image runs that fg-score shares
#pragma once

#include "finegrain/extract/checkpoint.hpp"
#include "finegrain/extract/extractor.hpp"
#include "finegrain/extract/options.hpp"
#include "finegrain/extract/pipeline.hpp"
#include "finegrain/extract/run.hpp"
