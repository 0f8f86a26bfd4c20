/* SPDX-License-Identifier: MIT */
/*
 * Integration test program: which reference of a leaked GObject was never
 * released (the interposed g_object_ref/unref of preload/shim_gref.c).
 * A MyDoc made in make_leak is lent three times to borrow(), which takes a
 * reference and gives it back (balanced pairs: never listed as unreleased);
 * keep_forever() stores one in a registry (the line marked REF-LEAK);
 * make_leak then drops its own reference, and the registry itself: a
 * direct leak. At exit the MyDoc's count is 1, held by the leaked registry:
 * an indirect leak whose one unreleased reference is keep_forever's. (A
 * count that no pointer in the heap accounts for would keep the object
 * "reachable", as an external reference does in CPython's collector.) A
 * floating MyItem (a GInitiallyUnowned) is sunk by adopt() (REF-SINK) into
 * the registry: its unreleased reference is the floating one adopt() took
 * over. A third object is lent, released and freed: it has no history
 * left. Before all that, an older MyDoc is lent twice and then freed by
 * GLib itself (g_value_unset drops the last reference inside libgobject,
 * unseen): its calls stay in the shim, and when the allocator gives its
 * address to the leaked MyDoc (the program prints both addresses) they
 * must not show up in the new object's history. run_gobject_refs.sh reads
 * the marker lines' numbers from here.
 */
#pragma GCC optimize("O0")

#include <glib-object.h>
#include <stdio.h>

#define MY_TYPE_DOC (my_doc_get_type())
G_DECLARE_FINAL_TYPE(MyDoc, my_doc, MY, DOC, GObject)
struct _MyDoc {
	GObject parent_instance;
	int pages;
};
G_DEFINE_TYPE(MyDoc, my_doc, G_TYPE_OBJECT)
static void my_doc_class_init(MyDocClass *klass) { (void)klass; }
static void my_doc_init(MyDoc *self) { self->pages = 1; }

#define MY_TYPE_ITEM (my_item_get_type())
G_DECLARE_FINAL_TYPE(MyItem, my_item, MY, ITEM, GInitiallyUnowned)
struct _MyItem {
	GInitiallyUnowned parent_instance;
	int slot;
};
G_DEFINE_TYPE(MyItem, my_item, G_TYPE_INITIALLY_UNOWNED)
static void my_item_class_init(MyItemClass *klass) { (void)klass; }
static void my_item_init(MyItem *self) { self->slot = -1; }

static __attribute__((noinline)) void borrow(MyDoc *doc)
{
	g_object_ref(doc);	/* REF-BALANCED */
	doc->pages++;
	g_object_unref(doc);
}

struct registry {
	MyDoc *doc;
	MyItem *item;
};

static __attribute__((noinline)) void keep_forever(struct registry *reg, MyDoc *doc)
{
	reg->doc = g_object_ref(doc);	/* REF-LEAK */
}

static __attribute__((noinline)) void adopt(struct registry *reg, MyItem *item)
{
	reg->item = g_object_ref_sink(item);	/* REF-SINK */
	item->slot = 0;
}

/* Lends a MyDoc and lets GLib drop its last reference; returns where it was. */
static __attribute__((noinline)) void *make_recycled(void)
{
	GValue v = G_VALUE_INIT;
	MyDoc *old = g_object_new(MY_TYPE_DOC, NULL);
	void *where = old;

	borrow(old);
	borrow(old);
	g_value_init(&v, MY_TYPE_DOC);
	g_value_take_object(&v, old);
	g_value_unset(&v);
	return where;
}

static __attribute__((noinline)) void make_leak(void)
{
	void *recycled = make_recycled();
	struct registry *reg = g_new0(struct registry, 1);
	MyDoc *doc = g_object_new(MY_TYPE_DOC, NULL);
	MyItem *item = g_object_new(MY_TYPE_ITEM, NULL);
	MyDoc *tmp = g_object_new(MY_TYPE_DOC, NULL);

	printf("recycled %p doc %p\n", recycled, (void *)doc);

	borrow(doc);
	borrow(doc);
	keep_forever(reg, doc);
	borrow(doc);
	g_object_unref(doc);
	adopt(reg, item);
	borrow(tmp);
	g_object_unref(tmp);
	reg = NULL;
	doc = NULL;
	item = NULL;
	tmp = NULL;
}

int main(void)
{
	make_leak();
	return 0;
}
