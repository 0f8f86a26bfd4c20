/* SPDX-License-Identifier: MIT */
/*
 * Integration test program: a GObject reference cycle, with no heapcycle
 * annotation at all. A MyModel and a MyView own each other through
 * g_object_set_data_full (each holds a reference to the other, released by
 * g_object_unref when its data is destroyed); then the program drops both
 * of its own references. Each object's count is 1, held by the other's
 * GData: one leaked cycle whose members are the two instances and their
 * GData arrays. run_gobject.sh checks that the report names both types
 * (the EXPECT type= syntax cannot: the GData members have no type).
 * `heapcycle run` sets G_SLICE=always-malloc, so the instances are malloc
 * blocks the shim sees.
 */
#pragma GCC optimize("O0")

#include <glib-object.h>

#define MY_TYPE_MODEL (my_model_get_type())
G_DECLARE_FINAL_TYPE(MyModel, my_model, MY, MODEL, GObject)
struct _MyModel {
	GObject parent_instance;
	int rows;
};
G_DEFINE_TYPE(MyModel, my_model, G_TYPE_OBJECT)
static void my_model_class_init(MyModelClass *klass) { (void)klass; }
static void my_model_init(MyModel *self) { self->rows = 3; }

#define MY_TYPE_VIEW (my_view_get_type())
G_DECLARE_FINAL_TYPE(MyView, my_view, MY, VIEW, GObject)
struct _MyView {
	GObject parent_instance;
	int width;
};
G_DEFINE_TYPE(MyView, my_view, G_TYPE_OBJECT)
static void my_view_class_init(MyViewClass *klass) { (void)klass; }
static void my_view_init(MyView *self) { self->width = 80; }

static __attribute__((noinline)) void make_cycle(void)
{
	MyModel *model = g_object_new(MY_TYPE_MODEL, NULL);
	MyView *view = g_object_new(MY_TYPE_VIEW, NULL);

	g_object_set_data_full(G_OBJECT(model), "peer", g_object_ref(view), g_object_unref);
	g_object_set_data_full(G_OBJECT(view), "peer", g_object_ref(model), g_object_unref);
	g_object_unref(model);
	g_object_unref(view);
	model = NULL;
	view = NULL;
}

int main(void)
{
	make_cycle();
	return 0;
}
