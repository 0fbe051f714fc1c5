/* cfold: constant folding over a big expression tree (the shape of the
   Koka `cfold` benchmark). Build mk_expr(n, 1) (default n = 20, 2^21 nodes),
   evaluate it, reassociate and constant-fold it, evaluate again and print
   both values. Nodes are allocated with malloc and never freed. The
   reassociated tree is a spine 2^n deep and every pass recurses on it, so the
   work runs on a thread with a 1 GiB stack (the Lisp systems grow theirs). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

enum { VAR, VAL, ADD, MUL };
typedef struct E { long tag; long n; struct E *a, *b; } E;

static E *mk(long tag, long n, E *a, E *b) {
    E *e = malloc(sizeof *e);
    e->tag = tag; e->n = n; e->a = a; e->b = b;
    return e;
}

static E *mk_expr(long n, long v) {
    if (n == 0) return v == 0 ? mk(VAR, 1, NULL, NULL) : mk(VAL, v, NULL, NULL);
    return mk(ADD, 0, mk_expr(n - 1, v + 1), mk_expr(n - 1, v - 1 > 0 ? v - 1 : 0));
}

static E *append_add(E *e1, E *e2) {
    if (e1->tag == ADD) return mk(ADD, 0, e1->a, append_add(e1->b, e2));
    return mk(ADD, 0, e1, e2);
}

static E *append_mul(E *e1, E *e2) {
    if (e1->tag == MUL) return mk(MUL, 0, e1->a, append_mul(e1->b, e2));
    return mk(MUL, 0, e1, e2);
}

static E *reassoc(E *e) {
    if (e->tag == ADD) return append_add(reassoc(e->a), reassoc(e->b));
    if (e->tag == MUL) return append_mul(reassoc(e->a), reassoc(e->b));
    return e;
}

static E *cfold(E *e) {
    if (e->tag == ADD || e->tag == MUL) {
        long t = e->tag;
        E *a = cfold(e->a), *b = cfold(e->b);
        if (a->tag == VAL) {
            if (b->tag == VAL)
                return mk(VAL, t == ADD ? a->n + b->n : a->n * b->n, NULL, NULL);
            if (b->tag == t && b->a->tag == VAL)
                return mk(t, 0, mk(VAL, t == ADD ? a->n + b->a->n : a->n * b->a->n, NULL, NULL), b->b);
            if (b->tag == t && b->b->tag == VAL)
                return mk(t, 0, mk(VAL, t == ADD ? a->n + b->b->n : a->n * b->b->n, NULL, NULL), b->a);
        }
        return mk(t, 0, a, b);
    }
    return e;
}

static long eval(E *e) {
    switch (e->tag) {
    case VAR: return 0;
    case VAL: return e->n;
    case ADD: return eval(e->a) + eval(e->b);
    default: return eval(e->a) * eval(e->b);
    }
}

static void *work(void *arg) {
    long n = *(long *)arg;
    E *e = mk_expr(n, 1);
    long v1 = eval(e);
    long v2 = eval(cfold(reassoc(e)));
    printf("%ld, %ld\n", v1, v2);
    return NULL;
}

int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 20;
    pthread_attr_t attr;
    pthread_t t;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 1UL << 30);
    if (pthread_create(&t, &attr, work, &n) != 0) { perror("pthread_create"); return 1; }
    pthread_join(t, NULL);
    return 0;
}
