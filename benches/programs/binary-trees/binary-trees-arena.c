/* binary-trees (Benchmarks Game), bump-arena version: every tree is
   allocated in an arena that is reset in one step when the tree dies. This
   is the practical limit for region allocation. Size: max depth (default 18). */
#include <stdio.h>
#include <stdlib.h>

typedef struct Node { struct Node *l, *r; } Node;
typedef struct Arena { char *base, *cur, *end; } Arena;

static Arena arena_new(size_t bytes) {
    Arena a; a.base = a.cur = malloc(bytes); a.end = a.base + bytes;
    if (!a.base) { perror("malloc"); exit(1); }
    return a;
}
static inline Node *alloc(Arena *a) {
    Node *n = (Node *)a->cur; a->cur += sizeof(Node); return n;
}
static size_t tree_bytes(int d) { return ((2UL << d) - 1) * sizeof(Node); }

static Node *make(Arena *a, int d) {
    Node *t = alloc(a);
    if (d > 0) { t->l = make(a, d - 1); t->r = make(a, d - 1); }
    else t->l = t->r = NULL;
    return t;
}

static long check(const Node *t) {
    return t->l ? 1 + check(t->l) + check(t->r) : 1;
}

int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 18;
    int min_depth = 4;
    int max_depth = n < min_depth + 2 ? min_depth + 2 : n;
    int stretch = max_depth + 1;
    Arena sa = arena_new(tree_bytes(stretch));
    printf("stretch tree of depth %d\t check: %ld\n", stretch, check(make(&sa, stretch)));
    free(sa.base);
    Arena la = arena_new(tree_bytes(max_depth));
    Node *long_lived = make(&la, max_depth);
    Arena ta = arena_new(tree_bytes(max_depth));
    for (int d = min_depth; d <= max_depth; d += 2) {
        long iters = 1L << (max_depth - d + min_depth);
        long sum = 0;
        for (long i = 0; i < iters; i++) {
            ta.cur = ta.base;               /* reset: the previous tree dies */
            sum += check(make(&ta, d));
        }
        printf("%ld\t trees of depth %d\t check: %ld\n", iters, d, sum);
    }
    printf("long lived tree of depth %d\t check: %ld\n", max_depth, check(long_lived));
    free(ta.base); free(la.base);
    return 0;
}
