/* SPDX-License-Identifier: MIT */
/* placeholder: being written */
typedef int hc_placeholder_tools_cmd_diff_c;
