/* SPDX-License-Identifier: MIT */
/* placeholder: being written */
typedef int hc_placeholder_src_report_junit_c;
