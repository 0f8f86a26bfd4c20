// SPDX-License-Identifier: MIT
/*
 * Integration test program: C++ leaks through operator new and new[].
 * Widget has a user-defined destructor, so `new Widget[3]` allocates an
 * 8-byte array cookie in front of the elements (Itanium C++ ABI): 3 * 24 + 8
 * = 80 bytes. `new int[10]` has no cookie: 40 bytes. Function names in the
 * report are demangled ("make_widget()"); fn= matches the name before the
 * parameter list.
 */
/* EXPECT: direct blocks=1 bytes=24 fn=make_widget fn=main */
/* EXPECT: direct blocks=1 bytes=80 fn=make_widget_array fn=main */
/* EXPECT: direct blocks=1 bytes=40 fn=make_int_array fn=main */
/* EXPECT: exit=0 */
/* EXPECT: stdout=leak_cxx: widgets alive=4 */
/* Makefile.am puts -O0 -fno-inline in the per-program flags, but automake
 * appends the user's CFLAGS (-O2 by default) after them. Every frame and
 * every store below matters to the EXPECT lines (no sibling calls, no clones,
 * no dead-store elimination), so the file asks for -O0 itself. */
#pragma GCC optimize("O0")

#include <cstdio>
#include <cstring>

static int g_alive;

class Widget {
public:
	Widget() : id_(++g_alive), weight_(1.5), next_(nullptr) {}
	~Widget() { --g_alive; }
	long id() const { return id_; }

private:
	long id_;
	double weight_;
	Widget *next_;
};

static_assert(sizeof(Widget) == 24, "EXPECT lines assume a 24-byte Widget");

void *volatile sink;

static void scrub_stack()
{
	volatile char pad[32768];

	for (size_t i = 0; i < sizeof(pad); i++)
		pad[i] = 0;
}

void make_widget()
{
	Widget *w = new Widget;

	sink = w;
	sink = nullptr;
	w = nullptr;
}

void make_widget_array()
{
	Widget *w = new Widget[3];

	sink = w;
	sink = nullptr;
	w = nullptr;
}

void make_int_array()
{
	int *v = new int[10];

	std::memset(v, 0, 10 * sizeof(int));
	sink = v;
	sink = nullptr;
	v = nullptr;
}

/* Allocated and released correctly: must not appear in the report. */
static void balanced()
{
	Widget *w = new Widget;
	Widget *arr = new Widget[5];

	delete[] arr;
	delete w;
}

int main()
{
	make_widget();
	make_widget_array();
	make_int_array();
	balanced();
	std::printf("leak_cxx: widgets alive=%d\n", g_alive);
	scrub_stack();
	return 0;
}
