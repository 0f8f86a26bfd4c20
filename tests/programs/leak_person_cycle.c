/* SPDX-License-Identifier: MIT */
/*
 * Integration test program: Python's classic reference cycle in C.
 *
 *     alice = Person("alice"); bob = Person("bob")
 *     alice.friend = bob; bob.friend = alice
 *     del alice, bob
 *
 * After both external pointers are dropped, the two Person blocks keep each
 * other alive: one leaked 2-member cycle, no direct leak at all (the case
 * LeakSanitizer reports as two "indirect" blocks and Valgrind as one
 * arbitrary "definitely lost"). sizeof(struct Person) is 48 on LP64.
 */
/* EXPECT: cycle members=2 bytes=96 retained=96 fn=person_new fn=make_friends */
/* EXPECT: exit=0 */
/* Makefile.am puts -O0 -fno-inline in the per-program flags, but automake
 * appends the user's CFLAGS (-O2 by default) after them. Every frame and
 * every store below matters to the EXPECT lines (no sibling calls, no clones,
 * no dead-store elimination), so the file asks for -O0 itself. */
#pragma GCC optimize("O0")

#include <stdlib.h>
#include <string.h>

struct Person {
	char name[32];
	struct Person *friend;
	int age;
};

_Static_assert(sizeof(struct Person) == 48, "EXPECT lines assume 48-byte Persons");

static struct Person *person_new(const char *name, int age)
{
	struct Person *p = malloc(sizeof(*p));

	if (!p)
		exit(1);
	memset(p, 0, sizeof(*p));
	strncpy(p->name, name, sizeof(p->name) - 1);
	p->age = age;
	return p;
}

static void make_friends(void)
{
	struct Person *alice = person_new("alice", 30);
	struct Person *bob = person_new("bob", 32);

	alice->friend = bob;
	bob->friend = alice;
	/* del alice, bob */
	alice = NULL;
	bob = NULL;
}

static void scrub_stack(void)
{
	volatile char pad[32768];

	for (size_t i = 0; i < sizeof(pad); i++)
		pad[i] = 0;
}

int main(void)
{
	make_friends();
	scrub_stack();
	return 0;
}
