/* dict-count: count words in a hash table. n words (default 1,000,000) are
   generated with the Park-Miller generator (seed 42): r -> r*16807 mod
   (2^31-1); the word id is (r mod 300) * ((r / 300) mod 300) and the word is
   the id written in base 26 with the letters a..z, least significant first.
   Print the number of distinct words, the sum of the squares of the counts,
   and the counts of "a" and "b". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct { char *key; long count; } Slot;
static Slot *slots; static size_t cap = 1024, used = 0;

static unsigned long hash(const char *s) {
    unsigned long h = 1469598103934665603UL;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211UL;
    return h;
}

static Slot *find(Slot *tab, size_t c, const char *k) {
    size_t i = hash(k) & (c - 1);
    while (tab[i].key && strcmp(tab[i].key, k) != 0) i = (i + 1) & (c - 1);
    return &tab[i];
}

static void grow(void) {
    size_t nc = cap * 2;
    Slot *nt = calloc(nc, sizeof *nt);
    for (size_t i = 0; i < cap; i++)
        if (slots[i].key) *find(nt, nc, slots[i].key) = slots[i];
    free(slots); slots = nt; cap = nc;
}

static void bump(const char *w) {
    Slot *s = find(slots, cap, w);
    if (!s->key) {
        s->key = strdup(w); s->count = 0; used++;
        if (used * 2 > cap) { grow(); s = find(slots, cap, w); }
    }
    s->count++;
}

static long get(const char *w) { Slot *s = find(slots, cap, w); return s->key ? s->count : 0; }

int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 1000000;
    slots = calloc(cap, sizeof *slots);
    long r = 42;
    for (long i = 0; i < n; i++) {
        r = r * 16807 % 2147483647;
        long id = (r % 300) * ((r / 300) % 300);
        char w[16]; int m = 0;
        do { w[m++] = (char)('a' + id % 26); id /= 26; } while (id > 0);
        w[m] = 0;
        bump(w);
    }
    long sq = 0;
    for (size_t i = 0; i < cap; i++) if (slots[i].key) sq += slots[i].count * slots[i].count;
    printf("%zu\n%ld\n%ld\n%ld\n", used, sq, get("a"), get("b"));
    return 0;
}
