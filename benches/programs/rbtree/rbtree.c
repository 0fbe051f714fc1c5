/* rbtree: insert keys n-1 .. 0 (default n = 1,000,000) into a red-black
   tree (Okasaki's balance, the shape of the Koka `rbtree` benchmark), the
   value of key k being (k % 10 == 0); print how many values are true and the
   height of the tree. The Lisp versions are persistent (every insert copies
   its path); this C reference updates the nodes in place, which is the limit
   that perfect reuse (Perceus/FBIP) reaches: one allocation per key. */
#include <stdio.h>
#include <stdlib.h>

enum { RED, BLACK };
typedef struct Node { long c; struct Node *l; long k; long v; struct Node *r; } Node;

static int red(const Node *t) { return t && t->c == RED; }

static Node *balance(Node *t) {
    if (t->c != BLACK) return t;
    Node *l = t->l, *r = t->r;
    if (red(l) && red(l->l)) {
        Node *ll = l->l;
        t->l = l->r; l->r = t; ll->c = BLACK; t->c = BLACK; l->c = RED;
        return l;
    }
    if (red(l) && red(l->r)) {
        Node *lr = l->r;
        l->r = lr->l; t->l = lr->r; lr->l = l; lr->r = t;
        l->c = BLACK; t->c = BLACK; lr->c = RED;
        return lr;
    }
    if (red(r) && red(r->l)) {
        Node *rl = r->l;
        t->r = rl->l; r->l = rl->r; rl->l = t; rl->r = r;
        t->c = BLACK; r->c = BLACK; rl->c = RED;
        return rl;
    }
    if (red(r) && red(r->r)) {
        Node *rr = r->r;
        t->r = r->l; r->l = t; t->c = BLACK; rr->c = BLACK; r->c = RED;
        return r;
    }
    return t;
}

static Node *ins(Node *t, long k, long v) {
    if (!t) {
        Node *n = malloc(sizeof *n);
        n->c = RED; n->l = n->r = NULL; n->k = k; n->v = v;
        return n;
    }
    if (k < t->k) { t->l = ins(t->l, k, v); return balance(t); }
    if (k > t->k) { t->r = ins(t->r, k, v); return balance(t); }
    t->v = v;
    return t;
}

static Node *insert(Node *t, long k, long v) {
    Node *n = ins(t, k, v);
    n->c = BLACK;
    return n;
}

static long count(const Node *t) {
    return t ? count(t->l) + (t->v ? 1 : 0) + count(t->r) : 0;
}

static long height(const Node *t) {
    if (!t) return 0;
    long a = height(t->l), b = height(t->r);
    return 1 + (a > b ? a : b);
}

int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 1000000;
    Node *t = NULL;
    for (long k = n - 1; k >= 0; k--) t = insert(t, k, k % 10 == 0);
    printf("%ld\n%ld\n", count(t), height(t));
    return 0;
}
