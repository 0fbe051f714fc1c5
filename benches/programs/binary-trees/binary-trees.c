/* binary-trees (Benchmarks Game), malloc/free version. Size: max depth
   (default 18). Output format of the Benchmarks Game. */
#include <stdio.h>
#include <stdlib.h>

typedef struct Node { struct Node *l, *r; } Node;

static Node *make(int d) {
    Node *t = malloc(sizeof *t);
    if (d > 0) { t->l = make(d - 1); t->r = make(d - 1); }
    else t->l = t->r = NULL;
    return t;
}

static long check(const Node *t) {
    return t->l ? 1 + check(t->l) + check(t->r) : 1;
}

static void release(Node *t) {
    if (t->l) { release(t->l); release(t->r); }
    free(t);
}

int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 18;
    int min_depth = 4;
    int max_depth = n < min_depth + 2 ? min_depth + 2 : n;
    int stretch = max_depth + 1;
    Node *s = make(stretch);
    printf("stretch tree of depth %d\t check: %ld\n", stretch, check(s));
    release(s);
    Node *long_lived = make(max_depth);
    for (int d = min_depth; d <= max_depth; d += 2) {
        long iters = 1L << (max_depth - d + min_depth);
        long sum = 0;
        for (long i = 0; i < iters; i++) {
            Node *t = make(d);
            sum += check(t);
            release(t);
        }
        printf("%ld\t trees of depth %d\t check: %ld\n", iters, d, sum);
    }
    printf("long lived tree of depth %d\t check: %ld\n", max_depth, check(long_lived));
    release(long_lived);
    return 0;
}
