/* hof: map/filter/fold pipelines over a list of n integers (default
   n = 1,000,000): for k = 1 .. 10, sum (filter (y mod 3 != 0) (map (x*k + 1) xs)).
   Linked lists with malloc/free. */
#include <stdio.h>
#include <stdlib.h>

typedef struct L { long x; struct L *next; } L;

static L *cons(long x, L *next) { L *c = malloc(sizeof *c); c->x = x; c->next = next; return c; }
static void release(L *l) { while (l) { L *n = l->next; free(l); l = n; } }

static L *range(long n) { L *l = NULL; for (long i = n - 1; i >= 0; i--) l = cons(i, l); return l; }

static L *map_affine(L *xs, long k) {          /* map (fn [x] (+ (* x k) 1)) */
    L head, *tail = &head;
    for (; xs; xs = xs->next) { tail->next = cons(xs->x * k + 1, NULL); tail = tail->next; }
    tail->next = NULL;
    return head.next;
}

static L *filter_not3(L *xs) {                 /* filter (fn [y] (!= (mod y 3) 0)) */
    L head, *tail = &head;
    for (; xs; xs = xs->next)
        if (xs->x % 3 != 0) { tail->next = cons(xs->x, NULL); tail = tail->next; }
    tail->next = NULL;
    return head.next;
}

static long sum(L *xs) { long s = 0; for (; xs; xs = xs->next) s += xs->x; return s; }

int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 1000000;
    L *xs = range(n);
    long total = 0;
    for (long k = 1; k <= 10; k++) {
        L *ys = map_affine(xs, k);
        L *zs = filter_not3(ys);
        total += sum(zs);
        release(ys); release(zs);
    }
    printf("%ld\n", total);
    release(xs);
    return 0;
}
