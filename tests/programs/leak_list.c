/* SPDX-License-Identifier: MIT */
/*
 * Integration test program: a 10-node singly linked list whose head pointer
 * is dropped. The head is the only block nothing points at (direct); the
 * nine others are reachable only through leaked blocks (indirect). All nodes
 * come from the same call site, so each class forms one group.
 * sizeof(struct node) is 40 on LP64.
 */
/* EXPECT: direct blocks=1 bytes=40 fn=list_push fn=build_list fn=main */
/* EXPECT: indirect blocks=9 bytes=360 fn=list_push fn=build_list */
/* EXPECT: exit=0 */
/* Makefile.am puts -O0 -fno-inline in the per-program flags, but automake
 * appends the user's CFLAGS (-O2 by default) after them. Every frame and
 * every store below matters to the EXPECT lines (no sibling calls, no clones,
 * no dead-store elimination), so the file asks for -O0 itself. */
#pragma GCC optimize("O0")

#include <stdlib.h>
#include <string.h>

struct node {
	struct node *next;
	long value;
	char payload[24];
};

_Static_assert(sizeof(struct node) == 40, "EXPECT lines assume 40-byte nodes");

static struct node *list_push(struct node *head, long value)
{
	struct node *n = malloc(sizeof(*n));

	if (!n)
		exit(1);
	n->next = head;
	n->value = value;
	memset(n->payload, 'x', sizeof(n->payload));
	return n;
}

static void build_list(void)
{
	struct node *head = NULL;

	for (long i = 0; i < 10; i++)
		head = list_push(head, i);
	/* Drop the only pointer to the list. */
	head = NULL;
}

/* Overwrite the dead stack below main's frame, so that no stale copy of a
 * dropped pointer left there by the calls above survives into the exit
 * path's frames, where a conservative scan from the stack pointer would see
 * it. */
static void scrub_stack(void)
{
	volatile char pad[32768];

	for (size_t i = 0; i < sizeof(pad); i++)
		pad[i] = 0;
}

int main(void)
{
	build_list();
	scrub_stack();
	return 0;
}
