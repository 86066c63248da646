#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Print the version of the stock kernel the rig boots: linux-image-amd64's
# (bookworm's 6.1) by default, or the newest installed of a series:
#   scripts/rig/stock-kernel.sh         6.1.0-<n>-amd64
#   scripts/rig/stock-kernel.sh 6.12    6.12.<n>+deb12-amd64
. "$(dirname "$0")/../lib/common.sh"
stock_kernel_version "$1"
