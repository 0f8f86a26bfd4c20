/* SPDX-License-Identifier: MIT */
/* placeholder: being written */
int stress_dl_placeholder(void);
int stress_dl_placeholder(void) { return 0; }
