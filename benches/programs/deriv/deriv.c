/* deriv: symbolic differentiation, the shape of the Perceus/Koka `deriv`
   benchmark. Expressions are Val(n), Var(x), Add, Mul, Pow, Ln built with
   simplifying smart constructors; starting from x^x the derivative is taken
   `n` times (default 9) and the size of each result is printed.
   Nodes are allocated and never freed (subtrees are shared). */
#include <stdio.h>
#include <stdlib.h>

enum { VAL, VAR, ADD, MUL, POW, LN };
typedef struct E { long tag; long n; struct E *a, *b; } E;

static E *mk(long tag, long n, E *a, E *b) {
    E *e = malloc(sizeof *e);
    e->tag = tag; e->n = n; e->a = a; e->b = b;
    return e;
}
static E *val(long n) { return mk(VAL, n, NULL, NULL); }

static long pown(long x, long n) { return n <= 0 ? 1 : x * pown(x, n - 1); }

static E *add(E *f, E *g) {
    if (f->tag == VAL && g->tag == VAL) return val(f->n + g->n);
    if (f->tag == VAL && f->n == 0) return g;
    if (g->tag == VAL && g->n == 0) return f;
    if (g->tag == VAL) return add(g, f);
    if (f->tag == VAL && g->tag == ADD && g->a->tag == VAL) return add(val(f->n + g->a->n), g->b);
    if (g->tag == ADD && g->a->tag == VAL) return add(g->a, add(f, g->b));
    if (f->tag == ADD) return add(f->a, add(f->b, g));
    return mk(ADD, 0, f, g);
}

static E *mul(E *f, E *g) {
    if (f->tag == VAL && g->tag == VAL) return val(f->n * g->n);
    if (f->tag == VAL && f->n == 0) return val(0);
    if (g->tag == VAL && g->n == 0) return val(0);
    if (f->tag == VAL && f->n == 1) return g;
    if (g->tag == VAL && g->n == 1) return f;
    if (g->tag == VAL) return mul(g, f);
    if (f->tag == VAL && g->tag == MUL && g->a->tag == VAL) return mul(val(f->n * g->a->n), g->b);
    if (g->tag == MUL && g->a->tag == VAL) return mul(g->a, mul(f, g->b));
    if (f->tag == MUL) return mul(f->a, mul(f->b, g));
    return mk(MUL, 0, f, g);
}

static E *pw(E *f, E *g) {
    if (f->tag == VAL && g->tag == VAL) return val(pown(f->n, g->n));
    if (g->tag == VAL && g->n == 0) return val(1);
    if (g->tag == VAL && g->n == 1) return f;
    if (f->tag == VAL && f->n == 0) return val(0);
    return mk(POW, 0, f, g);
}

static E *ln(E *f) {
    if (f->tag == VAL && f->n == 1) return val(0);
    return mk(LN, 0, f, NULL);
}

/* the variable is the symbol x, represented by n == 0 */
static E *d(E *f) {
    switch (f->tag) {
    case VAL: return val(0);
    case VAR: return val(f->n == 0 ? 1 : 0);
    case ADD: return add(d(f->a), d(f->b));
    case MUL: return add(mul(f->a, d(f->b)), mul(f->b, d(f->a)));
    case POW: return mul(pw(f->a, f->b),
                         add(mul(mul(f->b, d(f->a)), pw(f->a, val(-1))),
                             mul(ln(f->a), d(f->b))));
    default: return mul(d(f->a), pw(f->a, val(-1)));
    }
}

static long count(E *f) {
    switch (f->tag) {
    case VAL: case VAR: return 1;
    case LN: return count(f->a);
    default: return count(f->a) + count(f->b);
    }
}

int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 9;
    E *x = mk(VAR, 0, NULL, NULL);
    E *f = pw(x, x);
    for (long i = 0; i < n; i++) {
        f = d(f);
        printf("%ld count: %ld\n", i + 1, count(f));
    }
    return 0;
}
