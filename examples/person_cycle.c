/* SPDX-License-Identifier: MIT */
/*
 * person_cycle: the README's quick-start example.
 *
 * In Python, this leaks nothing for long:
 *
 *     alice = Person("alice"); bob = Person("bob")
 *     alice.friend = bob          # alice holds a reference to bob
 *     bob.friend = alice          # and bob one to alice: a cycle
 *     del alice, bob              # no name refers to either any more
 *
 * Reference counting alone never frees the pair (each still has a count of
 * one, held by the other), but CPython's cycle detector finds them. C has no
 * cycle detector: the same code leaks both objects for good. LeakSanitizer
 * calls them two "indirect" leaks with no "direct" one to start from;
 * Valgrind calls one of them "definitely lost" and the other "indirectly
 * lost". heapcycle names what happened: one leaked cycle of two Persons.
 *
 * Build and run (the project builds it for you as examples/person_cycle):
 *
 *     cc -g -o person_cycle person_cycle.c
 *     heapcycle run -- ./person_cycle
 *
 * The EXPECT line below is what the test suite checks the report against.
 */
/* EXPECT: cycle members=2 bytes=96 retained=96 fn=person_new fn=make_friends */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct Person {
	char name[32];
	struct Person *friend;	/* a reference we own, like a Python attribute */
	int age;
};	/* 48 bytes on 64-bit Linux */

static struct Person *person_new(const char *name, int age)
{
	struct Person *p = calloc(1, sizeof(*p));

	if (!p) {
		perror("calloc");
		exit(1);
	}
	strncpy(p->name, name, sizeof(p->name) - 1);
	p->age = age;
	printf("  new Person %-5s at %p (%zu bytes)\n", p->name, (void *)p, sizeof(*p));
	return p;
}

static void make_friends(void)
{
	struct Person *alice = person_new("alice", 30);
	struct Person *bob = person_new("bob", 32);

	alice->friend = bob;
	bob->friend = alice;
	printf("  alice.friend = bob; bob.friend = alice\n");

	/* del alice, bob: the last outside references go away. */
	alice = NULL;
	bob = NULL;
	printf("  del alice, bob\n");
}

int main(void)
{
	printf("person_cycle: making two friends who point at each other\n");
	make_friends();
	printf("person_cycle: both are now unreachable, but each still points at "
	       "the other:\n");
	printf("person_cycle: one leaked cycle of 2 objects (2 x %zu bytes)\n",
	       sizeof(struct Person));
	return 0;
}
