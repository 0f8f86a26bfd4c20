/* SPDX-License-Identifier: MIT */
/*
 * api_person: Python's classic cycle through <heapcycle.h>.
 *
 *     alice = Person("alice"); bob = Person("bob")
 *     alice.friend = bob; bob.friend = alice
 *     gc.collect()   -> 0 while the names still refer to them
 *     del alice, bob
 *     gc.collect()   -> 2
 *
 * The program checks heapcycle_collect()'s answers itself (exit 1 if one is
 * wrong); the exit report must show the cycle with its type names.
 */
/* EXPECT: cycle members=2 bytes=96 type=Person fn=person_new */
#pragma GCC optimize("O0")
#include <heapcycle.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct person {
	long refcount;
	char name[24];
	struct person *friend;
	long age;
};
_Static_assert(sizeof(struct person) == 48, "EXPECT sizes assume 48-byte Persons");

static int person_traverse(void *obj, heapcycle_visit_fn visit, void *arg)
{
	struct person *p = obj;

	return p->friend ? visit(p->friend, arg) : 0;
}

__attribute__((noinline)) static struct person *person_new(const char *name)
{
	struct person *p = calloc(1, sizeof(*p));

	p->refcount = 1;
	strncpy(p->name, name, sizeof(p->name) - 1);
	heapcycle_track(p, &p->refcount, sizeof(p->refcount), person_traverse, NULL);
	heapcycle_set_type(p, "Person");
	return p;
}

static void person_decref(struct person *p)
{
	if (--p->refcount == 0) {
		if (p->friend)
			person_decref(p->friend);
		free(p);
	}
}

static int check(long got, long want, const char *what)
{
	printf("%s: %ld\n", what, got);
	if (got != want) {
		fprintf(stderr, "api_person: %s returned %ld, expected %ld\n", what, got, want);
		return 1;
	}
	return 0;
}

__attribute__((noinline)) static int make_friends_and_drop(void)
{
	struct person *alice = person_new("alice"), *bob = person_new("bob");
	int bad = 0;

	alice->friend = bob;
	bob->refcount++;
	bob->friend = alice;
	alice->refcount++;
	bad |= check(heapcycle_collect(2), 0, "collect while referenced");
	person_decref(alice);
	person_decref(bob);
	alice = bob = NULL;
	return bad;
}

int main(void)
{
	int bad = make_friends_and_drop();

	/* Without the shim every call is a no-op that returns 0. */
	bad |= check(heapcycle_collect(2), heapcycle_isenabled() ? 2 : 0, "collect after del");
	/* Garbage stays tracked and is not found again by a young collection. */
	bad |= check(heapcycle_collect(0), 0, "young collection after that");
	return bad;
}
