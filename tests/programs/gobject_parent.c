/* SPDX-License-Identifier: MIT */
/*
 * Integration test program: a GObject parent held by a global owns its
 * child (g_object_set_data_full with a reference); the child points back at
 * its parent without a reference (g_object_set_data). The parent's count is
 * 1 and so is the number of heap words that point at it (the child's
 * GData): trial deletion alone would call the pair garbage, but the global
 * reaches it. Nothing leaks (DESIGN.md, "Traps already known").
 */
#pragma GCC optimize("O0")

#include <glib-object.h>

#define MY_TYPE_NODE (my_node_get_type())
G_DECLARE_FINAL_TYPE(MyNode, my_node, MY, NODE, GObject)
struct _MyNode {
	GObject parent_instance;
	int depth;
};
G_DEFINE_TYPE(MyNode, my_node, G_TYPE_OBJECT)
static void my_node_class_init(MyNodeClass *klass) { (void)klass; }
static void my_node_init(MyNode *self) { self->depth = 0; }

MyNode *the_parent;

static __attribute__((noinline)) void make_family(void)
{
	MyNode *parent = g_object_new(MY_TYPE_NODE, NULL);
	MyNode *child = g_object_new(MY_TYPE_NODE, NULL);

	child->depth = 1;
	g_object_set_data_full(G_OBJECT(parent), "child", child, g_object_unref);
	g_object_set_data(G_OBJECT(child), "parent", parent);
	the_parent = parent;
	parent = NULL;
	child = NULL;
}

int main(void)
{
	make_family();
	return 0;
}
