/* SPDX-License-Identifier: MIT */
/*
 * Integration test program: allocates through every common path (malloc,
 * calloc, realloc growth and shrink, strdup, a short-lived thread, stdio)
 * and releases everything before returning from main. Nothing may be
 * reported as leaked.
 */
/* EXPECT: no-leaks */
/* EXPECT: exit=0 */
/* EXPECT: stdout=clean: sum=4950 */
/* Makefile.am puts -O0 -fno-inline in the per-program flags, but automake
 * appends the user's CFLAGS (-O2 by default) after them. Every frame and
 * every store below matters to the EXPECT lines (no sibling calls, no clones,
 * no dead-store elimination), so the file asks for -O0 itself. */
#pragma GCC optimize("O0")

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct node {
	struct node *next;
	int value;
};

static void *thread_main(void *arg)
{
	char *s = strdup((const char *)arg);

	free(s);
	return NULL;
}

static int list_sum(void)
{
	struct node *head = NULL, *n;
	int sum = 0;

	for (int i = 0; i < 100; i++) {
		n = malloc(sizeof(*n));
		if (!n)
			exit(1);
		n->value = i;
		n->next = head;
		head = n;
	}
	while (head) {
		n = head->next;
		sum += head->value;
		free(head);
		head = n;
	}
	return sum;
}

int main(void)
{
	pthread_t t;
	int *v = calloc(16, sizeof(int));
	char *buf;

	if (!v)
		return 1;
	v = realloc(v, 4096 * sizeof(int));	/* grow */
	if (!v)
		return 1;
	v = realloc(v, 8 * sizeof(int));	/* shrink */
	if (!v)
		return 1;
	free(v);

	buf = malloc(0);
	free(buf);

	if (pthread_create(&t, NULL, thread_main, "hello from a thread") != 0)
		return 1;
	pthread_join(t, NULL);

	printf("clean: sum=%d\n", list_sum());
	return 0;
}
