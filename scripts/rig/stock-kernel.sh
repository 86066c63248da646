#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Print the version of the stock kernel the rig boots (linux-image-amd64's).
. "$(dirname "$0")/../lib/common.sh"
stock_kernel_version
