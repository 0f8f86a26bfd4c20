// SPDX-License-Identifier: MIT
/*
 * cxx_types: C++ cycles named by their classes, with no annotation. A
 * polymorphic object's first word points into its class's vtable; a
 * std::shared_ptr cycle built with make_shared leaks two control blocks
 * that hold the objects inline, and libstdc++'s control block class names
 * the managed type; a Parent and a Child owning each other through
 * shared_ptrs are one cycle of two classes.
 */
/* EXPECT: cycle members=2 bytes=112 type=Node fn=main */
/* EXPECT: cycle members=2 bytes=32 type=Widget fn=make_widgets */
/* EXPECT: cycle members=2 bytes=96 types=Parent,Child fn=make_family */
#pragma GCC optimize("O0")
#include <cstdio>
#include <memory>

struct Node {
	virtual ~Node() {}
	std::shared_ptr<Node> other;
	int payload[4];
};

struct Widget {
	virtual ~Widget() {}
	Widget *peer;
};

struct Child;

struct Parent {
	virtual ~Parent() {}
	std::shared_ptr<Child> child;
};

struct Child {
	virtual ~Child() {}
	std::shared_ptr<Parent> parent;	/* should have been a weak_ptr */
	int toys[4];
};

__attribute__((noinline)) static void make_family()
{
	auto p = std::make_shared<Parent>();
	auto c = std::make_shared<Child>();

	p->child = c;
	c->parent = p;
}

__attribute__((noinline)) static void make_widgets()
{
	Widget *w = new Widget, *v = new Widget;

	w->peer = v;
	v->peer = w;
	w = v = nullptr;
}

__attribute__((noinline)) static void make_nodes()
{
	auto a = std::make_shared<Node>();
	auto b = std::make_shared<Node>();

	a->other = b;
	b->other = a;	/* each keeps the other alive: a shared_ptr cycle */
}

int main()
{
	make_nodes();
	make_widgets();
	make_family();
	std::puts("done");
	return 0;
}
