#!/usr/bin/env bash
# ResNet-20 encrypted end to end on Fashion-MNIST test images (issue 5):
# examples/run_encrypted.sh for resnet20 (compile calibrated on images
# 900..999, the original network in the clear for reference classes, then
# encrypted with --compare, --labels and --profile).
#
#   examples/resnet20/run_encrypted.sh [FIRST LAST]   # images FIRST..LAST-1, default 0 10
#
# Needs ~15 GB of memory and about 5 minutes per image on 2 cores.
exec "$(dirname "$0")/../run_encrypted.sh" resnet20 "${1:-0}" "${2:-10}"
